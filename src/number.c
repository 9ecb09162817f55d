/*
 * The one number grammar of options and config values (see
 * include/certctl/number.h). strtol and strtod are too lenient for input
 * that bounds a run: they take leading blanks, signs, "0x10", "1e400",
 * "nan" and "inf", and an unbounded wait is one typo away.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "certctl/number.h"

/* Decimal digits at TEXT: how many, 0 when none or with a leading zero. */
static size_t digits(const char *text)
{
	size_t n = strspn(text, "0123456789");

	return n > 1 && text[0] == '0' ? 0 : n;
}

/* The whole number in the first LEN characters of TEXT, all digits. */
static int whole_prefix(const char *text, size_t len, long hi, long *out)
{
	long v = 0;

	if (len == 0 || digits(text) != len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v > (hi - (text[i] - '0')) / 10)
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	*out = v;
	return 0;
}

int cc_number_whole(const char *text, long lo, long hi, long *out)
{
	long v;

	if (text == NULL || hi < 0 || whole_prefix(text, strlen(text), hi, &v) == -1 || v < lo)
		return -1;
	*out = v;
	return 0;
}

/* DIGITS[.DIGITS] in the first LEN characters of TEXT. */
static int decimal_prefix(const char *text, size_t len, double lo, double hi, double *out)
{
	char buf[64];
	size_t n = digits(text), frac = 0;
	double v;

	if (text == NULL || len == 0 || len >= sizeof(buf) || n == 0 || n > len)
		return -1;
	if (n < len) {
		if (text[n] != '.' || (frac = strspn(text + n + 1, "0123456789")) == 0 ||
		    n + 1 + frac != len)
			return -1;
	}
	/* Only digits and one point are left, so strtod reads exactly them
	 * (certctl never calls setlocale: the point is '.'). */
	memcpy(buf, text, len);
	buf[len] = '\0';
	v = strtod(buf, NULL);
	if (!isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int cc_number_decimal(const char *text, double lo, double hi, double *out)
{
	return text == NULL ? -1 : decimal_prefix(text, strlen(text), lo, hi, out);
}

int cc_number_percent(const char *text, double lo, double hi, double *out)
{
	size_t len = text ? strlen(text) : 0;

	if (len < 2 || text[len - 1] != '%')
		return -1;
	return decimal_prefix(text, len - 1, lo, hi, out);
}

int cc_number_duration(const char *text, long lo, long hi, long *out)
{
	static const struct { char unit; long seconds; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	size_t len = text ? strlen(text) : 0;
	long v;

	if (len < 2 || hi < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit != text[len - 1])
			continue;
		if (whole_prefix(text, len - 1, hi / units[i].seconds, &v) == -1 ||
		    v * units[i].seconds < lo)
			return -1;
		*out = v * units[i].seconds;
		return 0;
	}
	return -1;
}

int cc_number_mode(const char *text, unsigned *out)
{
	size_t len = text ? strspn(text, "01234567") : 0;
	unsigned v = 0;

	/* Up to three octal digits, with one leading zero allowed ("0640"). */
	if (len == 0 || text[len] != '\0' || len > 4 || (len == 4 && text[0] != '0'))
		return -1;
	for (size_t i = 0; i < len; i++)
		v = v * 8 + (unsigned)(text[i] - '0');
	*out = v;
	return 0;
}
