/*
 * proto.c: encode and decode spamd's inter-process messages (see proto.h).
 *
 * Layout: an 8-byte header (type, 3 zero bytes, a 32-bit count or length)
 * then the body. A tuple body is the address entry (af + 16 bytes), a flag
 * byte, then three strings each as a 16-bit length and the bytes (no NUL).
 * An entry list is count x (af, 16 bytes, 64-bit expire); a verdict list
 * count x (32-bit id, verdict byte, 64-bit seconds).
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "spamd/proto.h"

#define HDR	8

static void
put_hdr(uint8_t *p, enum proto_type t, uint32_t n)
{
	p[0] = (uint8_t)t;
	p[1] = p[2] = p[3] = 0;
	memcpy(p + 4, &n, 4);
}

int
proto_type(const uint8_t *p, size_t len)
{
	if (len < HDR || p[1] != 0 || p[2] != 0 || p[3] != 0)
		return -1;
	return p[0];
}

static void
put_addr(uint8_t *p, const struct addr *a)
{
	p[0] = a->af;
	memset(p + 1, 0, 16);
	memcpy(p + 1, a->u.b, addr_len(a));
}

static int
get_addr(const uint8_t *p, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (p[0] != AF_INET && p[0] != AF_INET6)
		return -1;
	a->af = p[0];
	memcpy(a->u.b, p + 1, addr_len(a));
	return 0;
}

static size_t
put_str(uint8_t *p, size_t room, const char *s)
{
	size_t n = strlen(s);
	uint16_t n16;

	if (n > GD_FIELD_MAX || n + 2 > room)
		return 0;
	n16 = (uint16_t)n;
	memcpy(p, &n16, 2);
	memcpy(p + 2, s, n);
	return n + 2;
}

static int
get_str(const uint8_t *p, size_t len, size_t *off, char *out)
{
	uint16_t n;

	if (*off + 2 > len)
		return -1;
	memcpy(&n, p + *off, 2);
	*off += 2;
	if (n > GD_FIELD_MAX || *off + n > len || memchr(p + *off, '\0', n))
		return -1;
	memcpy(out, p + *off, n);
	out[n] = '\0';
	*off += n;
	return 0;
}

static size_t
enc_tuple(uint8_t *buf, size_t len, enum proto_type type, uint32_t id,
    const struct addr *ip, int flags, const char *helo, const char *from,
    const char *to)
{
	size_t off = HDR + 18, n;
	const char *s[3] = { helo, from, to };
	int i;

	if (len < off)
		return 0;
	put_hdr(buf, type, id);
	put_addr(buf + HDR, ip);
	buf[HDR + 17] = (uint8_t)(flags & (PROTO_T_LOWMX | PROTO_T_NETLISTED));
	for (i = 0; i < 3; i++) {
		if ((n = put_str(buf + off, len - off, s[i])) == 0)
			return 0;
		off += n;
	}
	return off;
}

size_t
proto_enc_tuple(uint8_t *buf, size_t len, const struct addr *ip, int flags,
    const char *helo, const char *from, const char *to)
{
	return enc_tuple(buf, len, PROTO_TUPLE, 0, ip, flags, helo, from, to);
}

size_t
proto_enc_policy(uint8_t *buf, size_t len, uint32_t id, const struct addr *ip,
    int flags, const char *helo, const char *from, const char *to)
{
	return enc_tuple(buf, len, PROTO_POLICY, id, ip,
	    flags & PROTO_T_NETLISTED, helo, from, to);
}

/* A PROTO_TUPLE or a PROTO_POLICY. */
int
proto_dec_tuple(const uint8_t *buf, size_t len, struct proto_tuple *t)
{
	size_t off = HDR + 18;
	int type = proto_type(buf, len);

	if (len < off || (type != PROTO_TUPLE && type != PROTO_POLICY))
		return -1;
	if (get_addr(buf + HDR, &t->ip) == -1 ||
	    (buf[HDR + 17] & ~(PROTO_T_LOWMX | PROTO_T_NETLISTED)) != 0)
		return -1;
	t->policy = type == PROTO_POLICY;
	memcpy(&t->id, buf + 4, 4);
	if (!t->policy && t->id != 0)
		return -1;
	t->sync = 0;			/* sync entries never cross the IPC */
	t->stamp = t->expire = 0;
	t->lowmx = (buf[HDR + 17] & PROTO_T_LOWMX) != 0;
	t->netlisted = (buf[HDR + 17] & PROTO_T_NETLISTED) != 0;
	if (t->policy && t->lowmx)
		return -1;
	if (get_str(buf, len, &off, t->helo) == -1 ||
	    get_str(buf, len, &off, t->from) == -1 ||
	    get_str(buf, len, &off, t->to) == -1)
		return -1;
	return off == len ? 0 : -1;
}

size_t
proto_enc_verdicts(uint8_t *buf, size_t len, const struct proto_verdict *v,
    size_t n)
{
	size_t i, need = HDR + n * PROTO_VERDICT_SIZE;

	if (n > PROTO_VERDICTS_MAX || len < need)
		return 0;
	put_hdr(buf, PROTO_VERDICT, (uint32_t)n);
	for (i = 0; i < n; i++) {
		uint8_t *p = buf + HDR + i * PROTO_VERDICT_SIZE;

		memcpy(p, &v[i].id, 4);
		p[4] = v[i].v;
		memcpy(p + 5, &v[i].secs, 8);
	}
	return need;
}

int
proto_dec_verdicts(const uint8_t *buf, size_t len, struct proto_verdict *v,
    size_t max, size_t *np)
{
	uint32_t n;
	size_t i;

	if (proto_type(buf, len) != PROTO_VERDICT)
		return -1;
	memcpy(&n, buf + 4, 4);
	if (n > max || len != HDR + (size_t)n * PROTO_VERDICT_SIZE)
		return -1;
	for (i = 0; i < n; i++) {
		const uint8_t *p = buf + HDR + i * PROTO_VERDICT_SIZE;

		memcpy(&v[i].id, p, 4);
		v[i].v = p[4];
		memcpy(&v[i].secs, p + 5, 8);
	}
	*np = n;
	return 0;
}

size_t
proto_enc_entries(uint8_t *buf, size_t len, enum proto_type type,
    const struct proto_entry *e, size_t n)
{
	size_t i, need = HDR + n * PROTO_ENTRY_SIZE;

	if (n > PROTO_ENTRIES_MAX || len < need)
		return 0;
	put_hdr(buf, type, (uint32_t)n);
	for (i = 0; i < n; i++) {
		uint8_t *p = buf + HDR + i * PROTO_ENTRY_SIZE;

		put_addr(p, &e[i].a);
		memcpy(p + 17, &e[i].expire, 8);
		p[25] = e[i].plen;
	}
	return need;
}

int
proto_dec_entries(const uint8_t *buf, size_t len, struct proto_entry *e,
    size_t max, size_t *np)
{
	uint32_t n;
	size_t i;
	int t = proto_type(buf, len);

	if (t != PROTO_TRAP && t != PROTO_WHITE && t != PROTO_REPLACE &&
	    t != PROTO_BLCHECK && t != PROTO_BLLISTED && t != PROTO_NOSPAMD)
		return -1;
	memcpy(&n, buf + 4, 4);
	if (n > max || n > PROTO_ENTRIES_MAX ||
	    len != HDR + (size_t)n * PROTO_ENTRY_SIZE)
		return -1;
	for (i = 0; i < n; i++) {
		const uint8_t *p = buf + HDR + i * PROTO_ENTRY_SIZE;

		if (get_addr(p, &e[i].a) == -1 ||
		    p[25] >= 8 * addr_len(&e[i].a))
			return -1;
		memcpy(&e[i].expire, p + 17, 8);
		e[i].plen = p[25];
	}
	*np = n;
	return 0;
}

size_t
proto_enc_bare(uint8_t *buf, size_t len, enum proto_type type)
{
	if (len < HDR)
		return 0;
	put_hdr(buf, type, 0);
	return HDR;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct proto_entry *x = a, *y = b;
	int c = addr_cmp(&x->a, &y->a);

	return c != 0 ? c : (int)x->plen - (int)y->plen;
}

size_t
proto_entries_uniq(struct proto_entry *e, size_t n)
{
	size_t i, k = 0;

	if (n < 2)
		return n;
	qsort(e, n, sizeof(*e), cmp_entry);
	for (i = 1; i < n; i++) {
		if (cmp_entry(&e[k], &e[i]) == 0) {
			if (e[i].expire > e[k].expire)
				e[k].expire = e[i].expire;
		} else
			e[++k] = e[i];
	}
	return k + 1;
}

/* A log line: the priority in the header, then the line (cut to fit). */
size_t
proto_enc_log(uint8_t *buf, size_t len, int pri, const char *line)
{
	size_t n = strlen(line);

	if (len < HDR + 1 || pri < 0 || pri > 7)
		return 0;
	if (n > PROTO_LOG_MAX)
		n = PROTO_LOG_MAX;
	if (n > len - HDR)
		n = len - HDR;
	put_hdr(buf, PROTO_LOG, (uint32_t)pri);
	memcpy(buf + HDR, line, n);
	return HDR + n;
}

/* line gets a NUL-terminated copy; no NUL inside, a priority 0..7. */
int
proto_dec_log(const uint8_t *buf, size_t len, int *pri, char *line,
    size_t size)
{
	uint32_t p;

	if (len < HDR || len - HDR > PROTO_LOG_MAX || len - HDR >= size ||
	    proto_type(buf, len) != PROTO_LOG)
		return -1;
	memcpy(&p, buf + 4, 4);
	if (p > 7 || memchr(buf + HDR, '\0', len - HDR) != NULL)
		return -1;
	*pri = (int)p;
	memcpy(line, buf + HDR, len - HDR);
	line[len - HDR] = '\0';
	return 0;
}

/* A chunk of bytes: the header's count is their number. */
size_t
proto_enc_chunk(uint8_t *buf, size_t len, enum proto_type t,
    const void *data, size_t n)
{
	if (n > PROTO_CHUNK_MAX || len < HDR + n)
		return 0;
	put_hdr(buf, t, (uint32_t)n);
	memcpy(buf + HDR, data, n);
	return HDR + n;
}

int
proto_dec_chunk(const uint8_t *buf, size_t len, const uint8_t **data,
    size_t *n)
{
	uint32_t c;

	if (len < HDR || proto_type(buf, len) == -1)
		return -1;
	memcpy(&c, buf + 4, 4);
	if (c != len - HDR)
		return -1;
	*data = buf + HDR;
	*n = c;
	return 0;
}
