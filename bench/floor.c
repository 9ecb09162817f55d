/*
 * bench/floor.c - the least work any checker must do per name: read
 * NAME/cert.pem and NAME/chain.pem, parse both, verify the leaf's signature
 * with the intermediate's public key. One process, one thread, nothing
 * else (no key match, no path building, no policy). bench/check.sh uses
 * it as the single-core floor that certctl check --all is measured against.
 *
 *   floor CERTDIR
 *
 * Prints one human line and one key=value line for the script:
 *   floor names=N per_cert_ms=T parse_ms=P verify_ms=V
 * Exits 1 if any name fails to read, parse or verify (the numbers would
 * then be meaningless).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first certificate of a PEM file, or NULL. */
static X509 *read_pem(const char *path)
{
	BIO *in = BIO_new_file(path, "r");
	X509 *cert = NULL;

	if (in != NULL)
		cert = PEM_read_bio_X509(in, NULL, NULL, NULL);
	BIO_free(in);
	return cert;
}

int main(int argc, char **argv)
{
	double t0, t1, parse = 0, verify = 0;
	char path[4096], target[16];
	unsigned long names = 0, bad = 0;
	struct dirent *de;
	DIR *d;

	if (argc != 2) {
		fputs("usage: floor CERTDIR\n", stderr);
		return 2;
	}
	if ((d = opendir(argv[1])) == NULL) {
		perror(argv[1]);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		X509 *leaf, *issuer;
		EVP_PKEY *pub;
		ssize_t n;

		/* Live sets only: NAME -> .live/..., as certctl lists them. */
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		n = readlink(path, target, sizeof(target));
		if (de->d_name[0] == '.' || n < 6 || memcmp(target, ".live/", 6) != 0)
			continue;
		names++;

		t0 = now();
		snprintf(path, sizeof(path), "%s/%s/cert.pem", argv[1], de->d_name);
		leaf = read_pem(path);
		snprintf(path, sizeof(path), "%s/%s/chain.pem", argv[1], de->d_name);
		issuer = read_pem(path);
		t1 = now();
		parse += t1 - t0;

		/* X509_verify: 1 good, 0 bad signature, -1 error. */
		pub = issuer ? X509_get0_pubkey(issuer) : NULL;
		if (leaf == NULL || pub == NULL || X509_verify(leaf, pub) != 1) {
			fprintf(stderr, "floor: %s does not parse or verify\n", de->d_name);
			ERR_print_errors_fp(stderr);
			bad++;
		}
		verify += now() - t1;
		X509_free(leaf);
		X509_free(issuer);
	}
	closedir(d);
	if (names == 0) {
		fprintf(stderr, "floor: no names in %s\n", argv[1]);
		return 1;
	}
	printf("%lu names in %.3f s: %.4f ms per name (parse %.4f ms, verify %.4f ms)\n",
	    names, parse + verify, (parse + verify) * 1e3 / (double)names,
	    parse * 1e3 / (double)names, verify * 1e3 / (double)names);
	printf("floor names=%lu per_cert_ms=%.4f parse_ms=%.4f verify_ms=%.4f\n", names,
	    (parse + verify) * 1e3 / (double)names, parse * 1e3 / (double)names,
	    verify * 1e3 / (double)names);
	return bad ? 1 : 0;
}
