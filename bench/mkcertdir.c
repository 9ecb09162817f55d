/*
 * bench/mkcertdir.c - make a certdir of N names quickly, for the benches.
 *
 *   mkcertdir OUTDIR N [OCSP-URL]
 *
 * Writes
 *   OUTDIR/trust.pem         the root (EC P-256, self-signed)
 *   OUTDIR/certctl.conf      certdir: + trust: keys
 *   OUTDIR/certdir/          the layout of DESIGN.md section 3:
 *       .live/NAME.g0001/{privkey,cert,chain,fullchain}.pem
 *       NAME -> .live/NAME.g0001
 * with NAME = nameNNNNN.example (N up to 100000). With OCSP-URL the leaves
 * name it as their OCSP responder (AIA), and OUTDIR also gets what
 * `openssl ocsp -index ... -CA inter.pem -rsigner inter.pem -rkey inter.key`
 * needs to answer for them: inter.pem, inter.key and index.txt (every
 * leaf valid).
 *
 * Speed comes from doing all the expensive work once: one root, one
 * intermediate and one leaf key shared by every leaf, so each name costs a
 * single ECDSA signature plus a handful of small writes. Nothing is
 * fsync'd: this is throwaway data. OpenSSL 3 EVP/X509 APIs only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY 86400L

static const char *ocsp_url;    /* for the leaves' AIA, or NULL */

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("mkcertdir: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static EVP_PKEY *p256_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	if (k == NULL)
		die("P-256 key generation failed");
	return k;
}

/*
 * Put PUB into CERT as raw SubjectPublicKeyInfo fields. X509_set_pubkey()
 * would do the same through OpenSSL 3.0's encoder machinery, which costs
 * about 0.2 ms a call and would dominate the whole run; every key here is
 * P-256, so the algorithm and the encoded point are all there is.
 */
static void set_p256_pubkey(X509 *cert, EVP_PKEY *pub)
{
	unsigned char *point = NULL;
	size_t len = EVP_PKEY_get1_encoded_public_key(pub, &point);

	if (len == 0 || !X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert),
	    OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
	    OBJ_nid2obj(NID_X9_62_prime256v1), point, (int)len))
		die("setting the public key failed");
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	/* The issuer is needed for authorityKeyIdentifier, the subject for
	 * subjectKeyIdentifier. */
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL || !X509_add_ext(cert, ext, -1))
		die("extension %s=%s failed", OBJ_nid2sn(nid), value);
	X509_EXTENSION_free(ext);
}

/*
 * A certificate for PUB named CN, signed by ISSUER_KEY (and named after
 * ISSUER, or self-signed when ISSUER is NULL). Validity starts an hour ago
 * so clock skew between here and the checker never matters.
 */
static X509 *make_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *issuer_key,
    long days, int ca)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = BN_new();
	char san[300];

	if (cert == NULL || name == NULL || bn == NULL)
		die("out of memory");
	/* 127-bit random serial: positive and unique enough for a bench. */
	if (!X509_set_version(cert, X509_VERSION_3) ||
	    !BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
	    -1, -1, 0) ||
	    !X509_set_subject_name(cert, name) ||
	    !X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), days * DAY) == NULL)
		die("building certificate %s failed", cn);
	set_p256_pubkey(cert, pub);
	if (issuer == NULL)
		issuer = cert;
	if (ca) {
		add_ext(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		snprintf(san, sizeof(san), "DNS:%s", cn);
		add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature");
		add_ext(cert, issuer, NID_ext_key_usage, "serverAuth");
		add_ext(cert, issuer, NID_subject_alt_name, san);
		if (ocsp_url != NULL) {
			snprintf(san, sizeof(san), "OCSP;URI:%s", ocsp_url);
			add_ext(cert, issuer, NID_info_access, san);
		}
	}
	add_ext(cert, issuer, NID_subject_key_identifier, "hash");
	if (issuer != cert)
		add_ext(cert, issuer, NID_authority_key_identifier, "keyid");
	if (!X509_sign(cert, issuer_key, EVP_sha256()))
		die("signing %s failed", cn);
	BN_free(bn);
	X509_NAME_free(name);
	return cert;
}

/* PEM text of CERT (or of KEY when CERT is NULL), appended to OUT. */
static void pem_append(BIO *out, X509 *cert, EVP_PKEY *key)
{
	int ok = cert ? PEM_write_bio_X509(out, cert)
	    : PEM_write_bio_PrivateKey(out, key, NULL, NULL, 0, NULL, NULL);

	if (!ok)
		die("PEM encoding failed");
}

/* One line of an `openssl ca` index: LEAF is valid. */
static void index_add(FILE *index, X509 *leaf, const char *cn)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL, expiry[32];
	struct tm tm;

	if (hex == NULL || !ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) ||
	    strftime(expiry, sizeof(expiry), "%y%m%d%H%M%SZ", &tm) == 0 ||
	    fprintf(index, "V\t%s\t\t%s\tunknown\t/CN=%s\n", expiry, hex, cn) < 0)
		die("cannot write index.txt");
	OPENSSL_free(hex);
	BN_free(bn);
}

static size_t bio_data(BIO *b, const char **data)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	*data = p;
	return (size_t)n;
}

/* Create PATH (relative to DIRFD) with its final MODE and write the parts. */
static void write_at(int dirfd, const char *path, mode_t mode, const char *a, size_t alen,
    const char *b, size_t blen)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd == -1)
		die("cannot create %s: %s", path, strerror(errno));
	if (write(fd, a, alen) != (ssize_t)alen || (blen && write(fd, b, blen) != (ssize_t)blen))
		die("cannot write %s: %s", path, strerror(errno));
	if (close(fd) == -1)
		die("cannot close %s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	EVP_PKEY *root_key, *int_key, *leaf_key;
	X509 *root, *inter;
	BIO *key_pem, *chain_pem, *root_pem, *leaf_pem;
	const char *keyp, *chainp, *rootp, *leafp;
	size_t keylen, chainlen, rootlen, leaflen;
	char *end, path[4096], name[64], gen[96], target[128];
	int outfd, certfd, livefd, genfd, conffd;
	unsigned long n;
	FILE *conf, *index = NULL;

	if (argc != 3 && argc != 4)
		die("usage: mkcertdir OUTDIR N [OCSP-URL]");
	ocsp_url = argc == 4 ? argv[3] : NULL;
	n = strtoul(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0' || n == 0 || n > 100000)
		die("N must be 1..100000, not '%s'", argv[2]);
	umask(022);

	root_key = p256_key();
	int_key = p256_key();
	leaf_key = p256_key();
	root = make_cert("certctl bench root", root_key, NULL, root_key, 3650, 1);
	inter = make_cert("certctl bench intermediate", int_key, root, root_key, 1825, 1);

	/* Everything except cert.pem is the same for every name: encode once. */
	key_pem = BIO_new(BIO_s_mem());
	chain_pem = BIO_new(BIO_s_mem());
	root_pem = BIO_new(BIO_s_mem());
	leaf_pem = BIO_new(BIO_s_mem());
	if (key_pem == NULL || chain_pem == NULL || root_pem == NULL || leaf_pem == NULL)
		die("out of memory");
	pem_append(key_pem, NULL, leaf_key);
	pem_append(chain_pem, inter, NULL);
	pem_append(root_pem, root, NULL);
	keylen = bio_data(key_pem, &keyp);
	chainlen = bio_data(chain_pem, &chainp);
	rootlen = bio_data(root_pem, &rootp);

	if (mkdir(argv[1], 0755) == -1 && errno != EEXIST)
		die("cannot create %s: %s", argv[1], strerror(errno));
	if ((outfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		die("cannot open %s: %s", argv[1], strerror(errno));
	/* certctl refuses a group/world writable certdir; 0755 explicitly. */
	if (mkdirat(outfd, "certdir", 0755) == -1 ||
	    (certfd = openat(outfd, "certdir", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    mkdirat(certfd, ".live", 0755) == -1 ||
	    (livefd = openat(certfd, ".live", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		die("cannot create %s/certdir/.live (must not exist yet): %s", argv[1],
		    strerror(errno));
	write_at(outfd, "trust.pem", 0644, rootp, rootlen, NULL, 0);
	if (ocsp_url != NULL) {
		BIO *int_key_pem = BIO_new(BIO_s_mem());
		const char *p;
		size_t len;
		int fd;

		if (int_key_pem == NULL)
			die("out of memory");
		pem_append(int_key_pem, NULL, int_key);
		len = bio_data(int_key_pem, &p);
		write_at(outfd, "inter.key", 0600, p, len, NULL, 0);
		write_at(outfd, "inter.pem", 0644, chainp, chainlen, NULL, 0);
		BIO_free(int_key_pem);
		if ((fd = openat(outfd, "index.txt", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644)) == -1 || (index = fdopen(fd, "w")) == NULL)
			die("cannot create index.txt: %s", strerror(errno));
	}

	for (unsigned long i = 0; i < n; i++) {
		X509 *leaf;

		snprintf(name, sizeof(name), "name%05lu.example", i);
		snprintf(gen, sizeof(gen), "%s.g0001", name);
		snprintf(target, sizeof(target), ".live/%s", gen);
		leaf = make_cert(name, leaf_key, inter, int_key, 90, 0);
		if (index != NULL)
			index_add(index, leaf, name);
		(void)BIO_reset(leaf_pem);
		pem_append(leaf_pem, leaf, NULL);
		leaflen = bio_data(leaf_pem, &leafp);
		if (mkdirat(livefd, gen, 0755) == -1 ||
		    (genfd = openat(livefd, gen, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			die("cannot create .live/%s: %s", gen, strerror(errno));
		/* The key is born 0600: O_CREAT with its final mode. */
		write_at(genfd, "privkey.pem", 0600, keyp, keylen, NULL, 0);
		write_at(genfd, "cert.pem", 0644, leafp, leaflen, NULL, 0);
		write_at(genfd, "chain.pem", 0644, chainp, chainlen, NULL, 0);
		write_at(genfd, "fullchain.pem", 0644, leafp, leaflen, chainp, chainlen);
		close(genfd);
		if (symlinkat(target, certfd, name) == -1)
			die("cannot link %s: %s", name, strerror(errno));
		X509_free(leaf);
	}

	/* Absolute paths so the config works from any working directory. */
	if (realpath(argv[1], path) == NULL)
		die("realpath %s: %s", argv[1], strerror(errno));
	if ((conffd = openat(outfd, "certctl.conf", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1 || (conf = fdopen(conffd, "w")) == NULL)
		die("cannot create %s/certctl.conf: %s", path, strerror(errno));
	fprintf(conf, "# made by bench/mkcertdir\ncertdir: %s/certdir\ntrust: %s/trust.pem\n",
	    path, path);
	if (fclose(conf) != 0)
		die("cannot write %s/certctl.conf: %s", path, strerror(errno));

	if (index != NULL && fclose(index) != 0)
		die("cannot write index.txt: %s", strerror(errno));
	close(livefd);
	close(certfd);
	close(outfd);
	BIO_free(key_pem);
	BIO_free(chain_pem);
	BIO_free(root_pem);
	BIO_free(leaf_pem);
	X509_free(root);
	X509_free(inter);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(leaf_key);
	return 0;
}
