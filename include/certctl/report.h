/* Rendering `check` results: text, JSON, Nagios, Prometheus. */
#ifndef CERTCTL_REPORT_H
#define CERTCTL_REPORT_H

#include <stddef.h>
#include <time.h>

#include "certctl/buf.h"
#include "certctl/health.h"

enum cc_format { CC_FORMAT_TEXT, CC_FORMAT_JSON, CC_FORMAT_NAGIOS, CC_FORMAT_PROMETHEUS };

int cc_format_parse(const char *text, enum cc_format *out);

/* Sort LIST worst first (then by name) and render it into OUT.
 * VERBOSE adds every finding and the facts to the text format. */
int cc_report_check(enum cc_format format, struct cc_health *list, size_t n, int verbose,
    time_t now, struct cc_buf *out);

enum cc_severity cc_report_worst(const struct cc_health *list, size_t n);

#endif
