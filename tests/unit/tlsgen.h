/*
 * tlsgen.h: keys and certificates made with OpenSSL for the unit tests
 * that need PEM bytes (t_tls, t_tlsload), so no test ships a fixed
 * certificate that expires. Every function fails the case (T_ASSERT)
 * rather than return an error.
 *
 *	struct tlsgen_pem	PEM bytes, NUL-terminated, malloc'd
 *	tlsgen_free(m)		free them (m is left empty)
 *	tlsgen_bio(bio)		the contents of a memory BIO, which is freed
 *	tlsgen_cat(a, b)	a then b in a new buffer; a and b are freed
 *	tlsgen_dup(s)		a copy of the string s
 *	tlsgen_cert_pem(x), tlsgen_key_pem(k)	an X509 or a key as PEM
 *	tlsgen_ec_key()		a new P-256 key
 *	tlsgen_cert(key, cn, nb, na, ca, cakey, isca)	a certificate for
 *		key, subject CN=cn, valid from nb to na, signed by ca/cakey
 *		(NULL: self-signed); isca marks a CA certificate
 *	tlsgen_pair(cn, nb, na, &cert, &key)	a self-signed P-256
 *		certificate and its key
 *	tlsgen_chain(cn, nb, na, n, &cert, &key)	a P-256 leaf CN=cn,
 *		then the n CA certificates above it ("Test CA 1" signed the
 *		leaf, "Test CA 2" signed it, ...), and the leaf's key
 *	tlsgen_write(path, s)	write the string s to a new file (0600)
 */
#ifndef TLSGEN_H
#define TLSGEN_H

#include <stddef.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

struct tlsgen_pem {
	char	*p;
	size_t	 n;
};

void			 tlsgen_free(struct tlsgen_pem *);
struct tlsgen_pem	 tlsgen_bio(BIO *);
struct tlsgen_pem	 tlsgen_cat(struct tlsgen_pem, struct tlsgen_pem);
struct tlsgen_pem	 tlsgen_dup(const char *);
struct tlsgen_pem	 tlsgen_cert_pem(X509 *);
struct tlsgen_pem	 tlsgen_key_pem(EVP_PKEY *);
EVP_PKEY		*tlsgen_ec_key(void);
X509			*tlsgen_cert(EVP_PKEY *, const char *, time_t, time_t,
			    X509 *, EVP_PKEY *, int);
void			 tlsgen_pair(const char *, time_t, time_t,
			    struct tlsgen_pem *, struct tlsgen_pem *);
void			 tlsgen_chain(const char *, time_t, time_t, int,
			    struct tlsgen_pem *, struct tlsgen_pem *);
void			 tlsgen_write(const char *, const char *);

#endif /* TLSGEN_H */
