/*
 * Numbers from the command line and the config file, one strict grammar
 * for both (issue 16): plain decimal digits, no sign, no whitespace, no
 * hex, no exponent, no "nan" or "inf", no leading zero before another
 * digit (an "010" could mean 8 or 10). Each parser returns 0 with *OUT set,
 * or -1 when TEXT is malformed or outside [LO, HI]; *OUT is then untouched.
 */
#ifndef CERTCTL_NUMBER_H
#define CERTCTL_NUMBER_H

/* "0", "42": a whole number. */
int cc_number_whole(const char *text, long lo, long hi, long *out);

/* "42", "0.5", "42.8": a decimal number, a fraction allowed. */
int cc_number_decimal(const char *text, double lo, double hi, double *out);

/* "33%", "42.8%": a decimal number and a percent sign. */
int cc_number_percent(const char *text, double lo, double hi, double *out);

/* "30d", "12h", "90m", "45s", "2w": a whole number and one unit, in seconds. */
int cc_number_duration(const char *text, long lo, long hi, long *out);

/* "0640", "640": a file mode in octal digits, at most 0777. */
int cc_number_mode(const char *text, unsigned *out);

#endif
