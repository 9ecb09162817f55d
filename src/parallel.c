/* A parallel for-loop over independent items (check, rekey, staple). */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "certctl/log.h"
#include "certctl/parallel.h"

#define MAX_THREADS 64

struct loop {
	size_t n;
	atomic_size_t next;
	atomic_size_t done;
	void (*fn)(size_t i, void *arg);
	void *arg;
};

static void *run(void *p)
{
	struct loop *loop = p;
	size_t i;

	while ((i = atomic_fetch_add(&loop->next, 1)) < loop->n) {
		loop->fn(i, loop->arg);
		cc_progress(atomic_fetch_add(&loop->done, 1) + 1, loop->n);
	}
	return NULL;
}

void cc_parallel(size_t n, long jobs, void (*fn)(size_t i, void *arg), void *arg)
{
	struct loop loop = { .n = n, .fn = fn, .arg = arg };
	pthread_t threads[MAX_THREADS];
	long started = 0;

	atomic_init(&loop.next, 0);
	atomic_init(&loop.done, 0);
	if (jobs <= 0)
		jobs = sysconf(_SC_NPROCESSORS_ONLN);
	if (jobs > MAX_THREADS)
		jobs = MAX_THREADS;
	if ((size_t)jobs > n)
		jobs = (long)n;
	/* Threads that cannot be started just leave more work to the others. */
	for (; started < jobs - 1; started++)
		if (pthread_create(&threads[started], NULL, run, &loop) != 0)
			break;
	run(&loop);
	for (long i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}
