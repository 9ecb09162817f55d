/* Identifiers of a certificate: DNS names, wildcards, IP addresses. */
#include <arpa/inet.h>
#include <string.h>

#include "certctl/domain.h"

/* A canonical IP address, or 0 when TEXT is none. */
static int ip_text(const char *text, char *out, size_t outlen)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, text, addr) == 1)
		return inet_ntop(AF_INET, addr, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return inet_ntop(AF_INET6, addr, out, (socklen_t)outlen) != NULL;
	return 0;
}

/* One LDH label of LEN characters at P (RFC 1035, 1123). */
static int check_label(const char *p, size_t len, struct cc_err *err)
{
	if (len == 0)
		return cc_err_set(err, "it has an empty label");
	if (len > 63)
		return cc_err_set(err, "a label is longer than 63 characters");
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '*')
			return cc_err_set(err, "'*' is allowed only as the whole leftmost "
			    "label ('*.example.com')");
		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '-')
			return ch > 0x20 && ch < 0x7f ?
			    cc_err_set(err, "'%c' is not allowed in a DNS name (letters, "
			    "digits, '-' and '.')", ch) :
			    cc_err_set(err, "a DNS name holds letters, digits, '-' and '.' "
			    "only (punycode for others)");
	}
	if (p[0] == '-' || p[len - 1] == '-')
		return cc_err_set(err, "a label starts or ends with '-'");
	return 0;
}

int cc_domain_normalize(const char *text, char *out, size_t outlen, struct cc_err *err)
{
	const char *name = text, *label, *dot;
	size_t len = strlen(text), lastlen = 0;
	int wildcard = 0;

	if (outlen < CC_DOMAIN_MAX + 1)
		return cc_err_set(err, "no room for a domain");
	if (len == 0)
		return cc_err_set(err, "it is empty");
	if (ip_text(text, out, outlen))
		return CC_DOMAIN_IP;
	if (strncmp(text, "*.", 2) == 0) {
		wildcard = 1;
		name = text + 2;
		if (ip_text(name, out, outlen))
			return cc_err_set(err, "an IP address cannot have a wildcard");
	}
	if (len > CC_DOMAIN_MAX)
		return cc_err_set(err, "it is longer than %d characters", CC_DOMAIN_MAX);
	if (text[len - 1] == '.')
		return cc_err_set(err, "write it without the trailing dot");
	for (label = name; ; label = dot + 1) {
		dot = strchr(label, '.');
		lastlen = dot ? (size_t)(dot - label) : strlen(label);
		if (check_label(label, lastlen, err) == -1)
			return -1;
		if (dot == NULL)
			break;
	}
	/* "10.1.2" or "1.2.3.4.5" is neither an address nor a host name. */
	if (strspn(label, "0123456789") == lastlen)
		return cc_err_set(err, "it is not an IP address, and a DNS name cannot end "
		    "in an all-digit label");
	for (size_t i = 0; i <= len; i++)
		out[i] = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] - 'A' + 'a') : text[i];
	return wildcard ? CC_DOMAIN_WILDCARD : CC_DOMAIN_DNS;
}
