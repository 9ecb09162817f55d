/* Run independent work items on a few threads. */
#ifndef CERTCTL_PARALLEL_H
#define CERTCTL_PARALLEL_H

#include <stddef.h>

/* Call FN(i, ARG) for every i in [0, N) on at most JOBS threads (the
 * caller's own included); returns when all are done. JOBS <= 0 means one
 * per online core. */
void cc_parallel(size_t n, long jobs, void (*fn)(size_t i, void *arg), void *arg);

#endif
