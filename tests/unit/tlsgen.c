/*
 * tlsgen.c: keys and certificates made with OpenSSL for the unit tests
 * (see tlsgen.h). Linked into every unit test as a helper; only the TLS
 * tests call it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tests/unit/harness.h"
#include "tests/unit/tlsgen.h"

#define CHAIN_MAX	1000	/* bound on tlsgen_chain's n */

void
tlsgen_free(struct tlsgen_pem *m)
{
	free(m->p);
	m->p = NULL;
	m->n = 0;
}

struct tlsgen_pem
tlsgen_bio(BIO *bio)
{
	struct tlsgen_pem m;
	char *p;
	long n = BIO_get_mem_data(bio, &p);

	T_ASSERT(n >= 0);
	m.n = (size_t)n;
	T_ASSERT((m.p = malloc(m.n + 1)) != NULL);
	memcpy(m.p, p, m.n);
	m.p[m.n] = '\0';
	BIO_free(bio);
	return m;
}

struct tlsgen_pem
tlsgen_cat(struct tlsgen_pem a, struct tlsgen_pem b)
{
	struct tlsgen_pem m;

	m.n = a.n + b.n;
	T_ASSERT((m.p = malloc(m.n + 1)) != NULL);
	memcpy(m.p, a.p, a.n);
	memcpy(m.p + a.n, b.p, b.n);
	m.p[m.n] = '\0';
	tlsgen_free(&a);
	tlsgen_free(&b);
	return m;
}

struct tlsgen_pem
tlsgen_dup(const char *s)
{
	struct tlsgen_pem m;

	m.n = strlen(s);
	T_ASSERT((m.p = strdup(s)) != NULL);
	return m;
}

struct tlsgen_pem
tlsgen_cert_pem(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());

	T_ASSERT(bio != NULL);
	T_ASSERT(PEM_write_bio_X509(bio, x) == 1);
	return tlsgen_bio(bio);
}

struct tlsgen_pem
tlsgen_key_pem(EVP_PKEY *k)
{
	BIO *bio = BIO_new(BIO_s_mem());

	T_ASSERT(bio != NULL);
	T_ASSERT(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL,
	    NULL) == 1);
	return tlsgen_bio(bio);
}

EVP_PKEY *
tlsgen_ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	T_ASSERT(k != NULL);
	return k;
}

X509 *
tlsgen_cert(EVP_PKEY *key, const char *cn, time_t nb, time_t na, X509 *ca,
    EVP_PKEY *cakey, int isca)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX v3;

	T_ASSERT(x != NULL);
	T_ASSERT(X509_set_version(x, X509_VERSION_3) == 1);
	T_ASSERT(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1);
	T_ASSERT(ASN1_TIME_set(X509_getm_notBefore(x), nb) != NULL);
	T_ASSERT(ASN1_TIME_set(X509_getm_notAfter(x), na) != NULL);
	T_ASSERT(X509_set_pubkey(x, key) == 1);
	name = X509_get_subject_name(x);
	T_ASSERT(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) == 1);
	T_ASSERT(X509_set_issuer_name(x, ca != NULL ?
	    X509_get_subject_name(ca) : name) == 1);
	X509V3_set_ctx(&v3, ca != NULL ? ca : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    isca ? "critical,CA:TRUE" : "CA:FALSE");
	T_ASSERT(ext != NULL);
	T_ASSERT(X509_add_ext(x, ext, -1) == 1);
	X509_EXTENSION_free(ext);
	T_ASSERT(X509_sign(x, cakey != NULL ? cakey : key, EVP_sha256()) > 0);
	return x;
}

void
tlsgen_pair(const char *cn, time_t nb, time_t na, struct tlsgen_pem *cert,
    struct tlsgen_pem *key)
{
	EVP_PKEY *k = tlsgen_ec_key();
	X509 *x = tlsgen_cert(k, cn, nb, na, NULL, NULL, 0);

	*cert = tlsgen_cert_pem(x);
	*key = tlsgen_key_pem(k);
	X509_free(x);
	EVP_PKEY_free(k);
}

/*
 * Built from the top: CA n is self-signed, CA i is signed by CA i+1, the
 * leaf by CA 1; the PEM goes leaf first, as a server sends it.
 */
void
tlsgen_chain(const char *cn, time_t nb, time_t na, int n,
    struct tlsgen_pem *cert, struct tlsgen_pem *key)
{
	EVP_PKEY *k, *cak = NULL, *up = NULL;
	X509 *x, *ca = NULL, *upca = NULL;
	struct tlsgen_pem chain = tlsgen_dup("");
	char name[64];
	int i;

	T_ASSERT(n >= 0 && n <= CHAIN_MAX);
	for (i = n; i >= 1; i--) {
		cak = tlsgen_ec_key();
		(void)snprintf(name, sizeof(name), "Test CA %d", i);
		ca = tlsgen_cert(cak, name, nb, na, upca, up, 1);
		chain = tlsgen_cat(tlsgen_cert_pem(ca), chain);
		X509_free(upca);
		EVP_PKEY_free(up);
		upca = ca;
		up = cak;
	}
	k = tlsgen_ec_key();
	x = tlsgen_cert(k, cn, nb, na, ca, cak, 0);
	*cert = tlsgen_cat(tlsgen_cert_pem(x), chain);
	*key = tlsgen_key_pem(k);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(k);
}

void
tlsgen_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	T_ASSERT(fd != -1);
	T_EQ_INT(write(fd, s, strlen(s)), strlen(s));
	T_ASSERT(close(fd) == 0);
}
