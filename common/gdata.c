/*
 * gdata.c: encode and decode database values and keys (see gdata.h).
 *
 * Pure functions: no I/O, no logging. Decoders say why they refused
 * through *errstr; callers log it with the key.
 */
#include <string.h>

#include "common/addr.h"
#include "common/crc.h"
#include "common/gdata.h"
#include "common/util.h"

static uint32_t
rec_crc(const uint8_t *p)
{
	return crc_ieee(p, GD_REC_SIZE - 4);
}

void
gd_encode(const struct gd_rec *r, uint8_t *buf)
{
	memset(buf, 0, GD_REC_SIZE);
	buf[0] = GD_REC_VERSION;
	buf[1] = (uint8_t)r->kind;
	util_put32(buf + 4, r->bcount);
	util_put32(buf + 8, r->pcount);
	util_put64(buf + 12, (uint64_t)r->first);
	util_put64(buf + 20, (uint64_t)r->pass);
	util_put64(buf + 28, (uint64_t)r->expire);
	util_put32(buf + 36, rec_crc(buf));
}

int
gd_decode(const void *data, size_t len, struct gd_rec *r, const char **errstr)
{
	const uint8_t *p = data;

	if (len != GD_REC_SIZE) {
		*errstr = "wrong record size";
		return -1;
	}
	if (p[0] != GD_REC_VERSION) {
		*errstr = "unknown record version";
		return -1;
	}
	if (util_get32(p + 36) != rec_crc(p)) {
		*errstr = "record checksum mismatch";
		return -1;
	}
	if (p[1] < GD_GREY || p[1] > GD_SPAMTRAP) {
		*errstr = "unknown record kind";
		return -1;
	}
	if (p[2] != 0 || p[3] != 0) {
		*errstr = "reserved bytes set";
		return -1;
	}
	r->kind = (enum gd_kind)p[1];
	r->bcount = util_get32(p + 4);
	r->pcount = util_get32(p + 8);
	r->first = (int64_t)util_get64(p + 12);
	r->pass = (int64_t)util_get64(p + 20);
	r->expire = (int64_t)util_get64(p + 28);
	*errstr = NULL;
	return 0;
}

const char *
gd_kind_name(enum gd_kind k)
{
	switch (k) {
	case GD_GREY:
		return "GREY";
	case GD_WHITE:
		return "WHITE";
	case GD_TRAPPED:
		return "TRAPPED";
	case GD_SPAMTRAP:
		return "SPAMTRAP";
	}
	return "UNKNOWN";
}

static int
field_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	return n <= max && memchr(s, '\n', n) == NULL;
}

/*
 * Build the GREY key into buf. Returns its length (no NUL counted, though
 * one is written), or -1 if a field is too long, holds a newline, or the
 * buffer is too small.
 */
int
gd_key_tuple(char *buf, size_t len, const struct gd_tuple *t)
{
	size_t n[4], i, o = 0;
	const char *f[4] = { t->ip, t->helo, t->from, t->to };

	for (i = 0; i < 4; i++) {
		if (f[i] == NULL || !field_ok(f[i],
		    i == 0 ? ADDR_STRLEN - 1 : GD_FIELD_MAX))
			return -1;
		n[i] = strlen(f[i]);
	}
	if (n[0] == 0 || n[0] + n[1] + n[2] + n[3] + 4 > len)
		return -1;
	for (i = 0; i < 4; i++) {
		memcpy(buf + o, f[i], n[i]);
		o += n[i];
		buf[o++] = i < 3 ? '\n' : '\0';
	}
	return (int)(o - 1);
}

/*
 * Split a NUL-terminated key in place. Returns the number of fields: 1 (an
 * address or a spamtrap), 4 (a tuple) or 3 (a legacy ip/from/to tuple,
 * reported with an empty helo); -1 for any other shape.
 */
int
gd_key_split(char *key, struct gd_tuple *t)
{
	char *f[5];
	int n = 0;
	char *p = key;

	f[n++] = p;
	while ((p = strchr(p, '\n')) != NULL) {
		if (n == 5)
			return -1;
		*p++ = '\0';
		f[n++] = p;
	}
	switch (n) {
	case 1:
		t->ip = f[0];
		t->helo = t->from = t->to = NULL;
		return 1;
	case 3:
		t->ip = f[0];
		t->helo = "";
		t->from = f[1];
		t->to = f[2];
		return 3;
	case 4:
		t->ip = f[0];
		t->helo = f[1];
		t->from = f[2];
		t->to = f[3];
		return 4;
	}
	return -1;
}

/*
 * Check that a key (not NUL-terminated, keylen bytes) has the shape its
 * record kind demands. Returns 0, or -1 with *errstr set.
 */
/*
 * A network key (spamd -g): "a/m" exactly as cidr_ntop writes it, host
 * bits clear, shorter than one address; so one network has one key.
 */
static int
is_net(const char *s)
{
	char canon[CIDR_STRLEN];
	struct cidr c;
	const char *err;

	if (strchr(s, '/') == NULL ||
	    cidr_parse(s, &c, CIDR_NEED_MASK | CIDR_STRICT | CIDR_NO_ZERO,
	    &err) == -1 || c.plen >= 8 * addr_len(&c.a))
		return 0;
	return strcmp(cidr_ntop(&c, canon, sizeof(canon)), s) == 0;
}

int
gd_check(const char *key, size_t keylen, const struct gd_rec *r,
    const char **errstr)
{
	char buf[GD_KEY_MAX + 1];
	struct gd_tuple t;
	struct addr a;
	int n;

	if (keylen == 0 || keylen > GD_KEY_MAX || memchr(key, '\0', keylen)) {
		*errstr = "malformed key";
		return -1;
	}
	memcpy(buf, key, keylen);
	buf[keylen] = '\0';
	n = gd_key_split(buf, &t);
	switch (r->kind) {
	case GD_GREY:
		if (n != 3 && n != 4) {
			*errstr = "GREY record without a tuple key";
			return -1;
		}
		if (addr_parse(t.ip, &a) == -1 && !is_net(t.ip)) {
			*errstr = "GREY tuple with a bad address";
			return -1;
		}
		break;
	case GD_WHITE:
		if (n != 1 || (addr_parse(t.ip, &a) == -1 && !is_net(t.ip))) {
			*errstr = "address record with a bad key";
			return -1;
		}
		break;
	case GD_TRAPPED:
		if (n != 1 || addr_parse(t.ip, &a) == -1) {
			*errstr = "address record with a bad key";
			return -1;
		}
		break;
	case GD_SPAMTRAP:
		if (n != 1 || strchr(t.ip, '@') == NULL) {
			*errstr = "SPAMTRAP record with a bad key";
			return -1;
		}
		break;
	default:
		*errstr = "unknown record kind";
		return -1;
	}
	*errstr = NULL;
	return 0;
}

int
gd_key_cidr(const char *key, size_t keylen, struct cidr *c)
{
	char s[CIDR_STRLEN];
	const char *nl = memchr(key, '\n', keylen);
	size_t n = nl != NULL ? (size_t)(nl - key) : keylen;

	if (n >= sizeof(s))
		return -1;
	memcpy(s, key, n);
	s[n] = '\0';
	if (addr_parse(s, &c->a) == 0) {
		c->plen = (uint8_t)(8 * addr_len(&c->a));
		return 0;
	}
	if (!is_net(s))
		return -1;
	{
		const char *err;

		return cidr_parse(s, c, CIDR_NEED_MASK | CIDR_STRICT, &err);
	}
}

int
gd_key_addr(const char *key, size_t keylen, struct addr *a)
{
	char ip[ADDR_STRLEN];
	const char *nl = memchr(key, '\n', keylen);
	size_t n = nl != NULL ? (size_t)(nl - key) : keylen;

	if (n >= sizeof(ip))
		return -1;
	memcpy(ip, key, n);
	ip[n] = '\0';
	return addr_parse(ip, a);
}
