/* Renewal margins, backoff delays and Retry-After (see certctl/renewal.h). */
#define _DEFAULT_SOURCE /* timegm */
#define _XOPEN_SOURCE 700 /* strptime */
#include <string.h>
#include <time.h>

#include "certctl/number.h"
#include "certctl/renewal.h"

long cc_renew_margin(long lifetime, const struct cc_lifetime_share *rb)
{
	if (lifetime <= 0)
		return 0;
	if (rb->percent > 0)
		return (long)((double)lifetime * rb->percent / 100);
	if (rb->seconds > 0)
		return rb->seconds;
	return lifetime < CC_SHORT_LIFETIME ? lifetime / 2 : lifetime / 3;
}

/* An HTTP-date in any of the three forms RFC 9110 section 5.6.7 makes a
 * recipient accept, always GMT. */
static int http_date(const char *text, time_t *out)
{
	static const char *const forms[] = {
		"%a, %d %b %Y %H:%M:%S GMT",    /* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT",    /* RFC 850 */
		"%a %b %e %H:%M:%S %Y",         /* asctime */
	};
	const char *end;
	struct tm tm;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(text, forms[i], &tm)) != NULL && *end == '\0') {
			*out = timegm(&tm);
			return *out == (time_t)-1 ? -1 : 0;
		}
	}
	return -1;
}

int cc_retry_after(const char *text, time_t now, long *seconds)
{
	time_t when;
	long v;

	if (text == NULL)
		return -1;
	/* Digits alone: delta-seconds (leading zeros allowed, as RFC 9110's
	 * 1*DIGIT has them); more than the cap is the cap. */
	if (*text != '\0' && strspn(text, "0123456789") == strlen(text)) {
		while (text[0] == '0' && text[1] != '\0')
			text++;
		if (cc_number_whole(text, 0, CC_RETRY_AFTER_MAX, &v) == -1)
			v = CC_RETRY_AFTER_MAX;
		*seconds = v;
		return 0;
	}
	if (http_date(text, &when) == -1)
		return -1;
	*seconds = when <= now ? 0 : when - now > CC_RETRY_AFTER_MAX ? CC_RETRY_AFTER_MAX :
	    (long)(when - now);
	return 0;
}

void cc_format_minute(time_t t, char *buf, size_t len)
{
	struct tm tm;

	strftime(buf, len, "%Y-%m-%d %H:%M UTC", gmtime_r(&t, &tm));
}

long cc_backoff_delay(long failures, long retry_after)
{
	long delay = CC_BACKOFF_FIRST;

	for (long i = 1; i < failures && delay < CC_BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > CC_BACKOFF_MAX)
		delay = CC_BACKOFF_MAX;
	if (retry_after > CC_RETRY_AFTER_MAX)
		retry_after = CC_RETRY_AFTER_MAX;
	return retry_after > delay ? retry_after : delay;
}
