/*
 * addr.h: IPv4 and IPv6 addresses and CIDR blocks.
 *
 *	addr_parse(s, a)	numeric address only; "::ffff:a.b.c.d" becomes IPv4
 *	addr_ntop(a, buf, len)	canonical text (the database key form)
 *	addr_canon(s, buf, len)	parse + ntop: normalise a user-supplied address
 *	addr_from_sockaddr(sa, a, &port)	v4-mapped peers become IPv4
 *	addr_to_sockaddr(a, port, ss, &len)
 *	addr_cmp(a, b)		total order: IPv4 before IPv6, then bytes
 *	addr_len(a)		4 or 16
 *	addr_inc(a)		a + 1; returns 1 on wrap-around past the top
 *	addr_dec(a)		a - 1; returns 1 on wrap-around below zero
 *	cidr_parse(s, c, flags)	"a/m" or "a"; see CIDR_* flags
 *	cidr_ntop(c, buf, len)	"a/m"
 *	cidr_contains(c, a)	1 if a lies in c
 *	cidr_first/cidr_last(c, a)	the block's lowest and highest address
 *	addr_mask(a, plen)	clear the host bits of a
 *	cidr_of(a, plen4, plen6, c)	the block of a's family's length that
 *		holds a (a length of 0, or the whole address, gives a itself);
 *		1 if that is a network, 0 if it is the address
 *
 * struct addr is a plain value: copy it, compare it with addr_cmp, never
 * with memcmp on the whole struct (padding is not guaranteed zero unless
 * the functions here filled it).
 */
#ifndef ADDR_H
#define ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct addr {
	uint8_t		af;		/* AF_INET or AF_INET6 */
	uint8_t		pad[3];
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
		uint8_t		b[16];
	} u;
};

struct cidr {
	struct addr	a;		/* network address, host bits clear */
	uint8_t		plen;		/* 0..32 or 0..128 */
};

#define ADDR_STRLEN	INET6_ADDRSTRLEN	/* includes the NUL */
#define CIDR_STRLEN	(INET6_ADDRSTRLEN + 4)

/* cidr_parse flags */
#define CIDR_NEED_MASK	0x01	/* "a" without "/m" is an error */
#define CIDR_STRICT	0x02	/* host bits set is an error (else masked) */
#define CIDR_NO_ZERO	0x04	/* mask /0 is an error */

int	addr_parse(const char *, struct addr *);
const char *addr_ntop(const struct addr *, char *, size_t);
int	addr_canon(const char *, char *, size_t);
int	addr_from_sockaddr(const struct sockaddr *, struct addr *, uint16_t *);
int	addr_to_sockaddr(const struct addr *, uint16_t,
	    struct sockaddr_storage *, socklen_t *);
int	addr_cmp(const struct addr *, const struct addr *);
size_t	addr_len(const struct addr *);
int	addr_inc(struct addr *);
int	addr_dec(struct addr *);
void	addr_mask(struct addr *, unsigned int);
int	cidr_of(const struct addr *, unsigned int, unsigned int,
	    struct cidr *);
int	cidr_parse(const char *, struct cidr *, int, const char **);
const char *cidr_ntop(const struct cidr *, char *, size_t);
int	cidr_contains(const struct cidr *, const struct addr *);
void	cidr_first(const struct cidr *, struct addr *);
void	cidr_last(const struct cidr *, struct addr *);

#endif /* ADDR_H */
