/*
 * t_pushed.c: unit tests for spamd-nftsync/pushed.c, the record of the
 * last push and the difference the next run sends: a round trip through
 * the file; no file; hostile files written by the database's owner
 * (another magic, truncated, a size that disagrees with the header,
 * absurd counts, a bad prefix length, a FIFO, a symlink, a second hard
 * link, a directory);
 * the difference (added, deleted, refreshed beyond the slack only,
 * IPv4 keys and network prefixes, duplicates in the old list, empty
 * lists); a million elements, to show it does not sort.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "spamd-nftsync/pushed.h"
#include "tests/unit/harness.h"

#define NOW	1700000000

static struct pushed_elem
el(const char *ip, uint8_t plen, int64_t expire)
{
	struct pushed_elem e;
	struct addr a;

	memset(&e, 0, sizeof(e));
	T_EQ_INT(addr_parse(ip, &a), 0);
	memcpy(e.key, a.u.b, addr_len(&a));
	e.plen = plen;
	e.expire = expire;
	return e;
}

static void
set_of(struct pushed_set *s, const struct pushed_elem *v, size_t n)
{
	s->n = n;
	s->e = calloc(n ? n : 1, sizeof(*s->e));
	T_ASSERT(s->e != NULL);
	if (n > 0)
		memcpy(s->e, v, n * sizeof(*v));
}

static void
write_file(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	T_ASSERT(fd != -1);
	T_EQ_INT(write(fd, p, len), (long)len);
	T_EQ_INT(close(fd), 0);
}

static int
has(const struct nft_elem *v, size_t n, const char *ip)
{
	struct addr a;
	size_t i;

	T_EQ_INT(addr_parse(ip, &a), 0);
	for (i = 0; i < n; i++)
		if (addr_cmp(&v[i].a, &a) == 0)
			return 1;
	return 0;
}

/* Saved and loaded: the same signature, time and elements. */
static void
round_trip(void)
{
	const struct pushed_elem v4[] = { el("192.0.2.1", 0, NOW + 10),
	    el("198.51.100.7", 0, NOW + 20) };
	const struct pushed_elem v6[] = { el("2001:db8::1", 0, NOW + 30) };
	const struct pushed_elem n6[] = { el("2001:db8:1::", 48, NOW + 40) };
	struct pushed p, q;
	char why[256];

	memset(&p, 0, sizeof(p));
	p.sig = 0x1122334455667788ULL;
	p.when = NOW;
	set_of(&p.set[0], v4, 2);
	set_of(&p.set[1], v6, 1);
	set_of(&p.set[3], n6, 1);
	T_EQ_INT(pushed_save(t_path("rec"), &p), 0);
	T_EQ_INT(access(t_path("rec.tmp"), F_OK), -1);
	T_EQ_INT(pushed_load(t_path("rec"), &q, p.sig, why, sizeof(why)), 0);
	T_ASSERT(q.sig == p.sig);
	T_EQ_INT(q.when, NOW);
	T_EQ_INT(q.set[0].n, 2);
	T_EQ_INT(q.set[1].n, 1);
	T_EQ_INT(q.set[2].n, 0);
	T_EQ_INT(q.set[3].n, 1);
	T_EQ_MEM(q.set[0].e, v4, sizeof(v4));
	T_EQ_INT(q.set[3].e[0].plen, 48);
	T_EQ_INT(q.set[3].e[0].expire, NOW + 40);
	pushed_free(&q);
	/* Saved over an old one (and over a stale .tmp). */
	write_file(t_path("rec.tmp"), "junk", 4);
	p.when = NOW + 1;
	T_EQ_INT(pushed_save(t_path("rec"), &p), 0);
	T_EQ_INT(pushed_load(t_path("rec"), &q, p.sig, why, sizeof(why)), 0);
	T_EQ_INT(q.when, NOW + 1);
	pushed_free(&q);
	/* Written for another table: only the header is read. */
	T_EQ_INT(pushed_load(t_path("rec"), &q, p.sig + 1, why, sizeof(why)),
	    2);
	T_EQ_INT(q.set[0].n, 0);
	T_ASSERT(q.set[0].e == NULL);
	pushed_free(&q);
	T_EQ_INT(pushed_remove(t_path("rec")), 0);
	T_EQ_INT(pushed_remove(t_path("rec")), 0);	/* gone already */
	T_EQ_INT(pushed_load(t_path("rec"), &q, p.sig, why, sizeof(why)), 1);
	pushed_free(&p);
}

/* What the owner of the directory may leave there: refused, no crash. */
static void
hostile(void)
{
	const struct pushed_elem v[] = { el("192.0.2.1", 0, NOW),
	    el("192.0.2.2", 0, NOW) };
	struct pushed p, q;
	struct stat st;
	char why[256], target[4096], *buf;
	size_t len;
	FILE *f;

	memset(&p, 0, sizeof(p));
	set_of(&p.set[0], v, 2);
	T_EQ_INT(pushed_save(t_path("good"), &p), 0);
	pushed_free(&p);
	T_EQ_INT(stat(t_path("good"), &st), 0);
	len = (size_t)st.st_size;
	T_EQ_INT(len, 64 + 2 * 25);
	buf = malloc(len);
	T_ASSERT(buf != NULL);
	f = fopen(t_path("good"), "r");
	T_ASSERT(f != NULL);
	T_EQ_INT(fread(buf, 1, len, f), len);
	fclose(f);

	write_file(t_path("h"), buf, 10);			/* short */
	T_EQ_INT(pushed_load(t_path("h"), &q, 0, why, sizeof(why)), -1);
	T_ASSERT(strstr(why, "too short") != NULL);
	write_file(t_path("h"), buf, len - 1);			/* truncated */
	T_EQ_INT(pushed_load(t_path("h"), &q, 0, why, sizeof(why)), -1);
	T_ASSERT(strstr(why, "header says") != NULL);
	buf[0] ^= 1;						/* magic */
	write_file(t_path("h"), buf, len);
	T_EQ_INT(pushed_load(t_path("h"), &q, 0, why, sizeof(why)), -1);
	T_ASSERT(strstr(why, "not a spamd-nftsync record") != NULL);
	buf[0] ^= 1;
	memset(buf + 32, 0xff, 8);				/* count */
	write_file(t_path("h"), buf, len);
	T_EQ_INT(pushed_load(t_path("h"), &q, 0, why, sizeof(why)), -1);
	T_ASSERT(strstr(why, "elements in one set") != NULL);
	memset(buf + 32, 0, 8);
	buf[39] = 2;					/* big-endian */
	buf[64 + 25 + 16] = (char)200;				/* prefix */
	write_file(t_path("h"), buf, len);
	T_EQ_INT(pushed_load(t_path("h"), &q, 0, why, sizeof(why)), -1);
	T_ASSERT(strstr(why, "prefix length 200") != NULL);
	free(buf);

	T_EQ_INT(mkfifo(t_path("fifo"), 0600), 0);		/* no hang */
	T_EQ_INT(pushed_load(t_path("fifo"), &q, 0, why, sizeof(why)), -1);
	T_ASSERT(strstr(why, "not a regular file") != NULL);
	snprintf(target, sizeof(target), "%s", t_path("good"));
	T_EQ_INT(symlink(target, t_path("link")), 0);	/* not followed */
	T_EQ_INT(pushed_load(t_path("link"), &q, 0, why, sizeof(why)), -1);
	T_ASSERT(strstr(why, "symbolic link") != NULL);
	snprintf(target, sizeof(target), "%s", t_path("good"));
	T_EQ_INT(link(target, t_path("hard")), 0);		/* a 2nd link */
	T_EQ_INT(pushed_load(t_path("hard"), &q, 0, why, sizeof(why)), -1);
	T_ASSERT(strstr(why, "hard links") != NULL);
	T_EQ_INT(mkdir(t_path("dir"), 0700), 0);
	T_EQ_INT(pushed_load(t_path("dir"), &q, 0, why, sizeof(why)), -1);
	/* A symlink where the new file is made is not followed either. */
	snprintf(target, sizeof(target), "%s", t_path("victim"));
	T_EQ_INT(symlink(target, t_path("out.tmp")), 0);
	memset(&p, 0, sizeof(p));
	T_EQ_INT(pushed_save(t_path("out"), &p), 0);
	T_EQ_INT(access(t_path("victim"), F_OK), -1);
}

/* Added, deleted, refreshed (beyond the slack only), unchanged. */
static void
diff(void)
{
	const struct pushed_elem o[] = { el("192.0.2.1", 0, NOW + 100),
	    el("192.0.2.2", 0, NOW + 100), el("192.0.2.3", 0, NOW + 100),
	    el("192.0.2.4", 0, NOW + 100), el("192.0.2.1", 0, NOW + 100) };
	const struct pushed_elem n[] = { el("192.0.2.5", 0, NOW + 3600),
	    el("192.0.2.3", 0, NOW + 160), el("192.0.2.4", 0, NOW + 161),
	    el("192.0.2.1", 0, NOW + 100) };
	struct pushed_set a, b, none = { NULL, 0 };
	struct pushed_diff d;

	set_of(&a, o, 5);	/* 192.0.2.1 twice: counts once */
	set_of(&b, n, 4);
	T_EQ_INT(pushed_diff(&a, &b, AF_INET, NOW, 60, &d), 0);
	T_EQ_INT(d.nadd, 1);
	T_ASSERT(has(d.add, d.nadd, "192.0.2.5"));
	T_EQ_INT(d.add[0].timeout_ms, 3600 * 1000);
	T_EQ_INT(d.add[0].a.af, AF_INET);
	T_EQ_INT(d.ndel, 1);
	T_ASSERT(has(d.del, d.ndel, "192.0.2.2"));
	T_EQ_INT(d.nrefresh, 1);		/* 60 s is within the slack */
	T_ASSERT(has(d.refresh, d.nrefresh, "192.0.2.4"));
	T_EQ_INT(d.refresh[0].timeout_ms, 161 * 1000);
	pushed_diff_free(&d);

	/* From nothing: all added; to nothing: all deleted. */
	T_EQ_INT(pushed_diff(&none, &b, AF_INET, NOW, 60, &d), 0);
	T_EQ_INT(d.nadd, 4);
	T_EQ_INT(d.ndel + d.nrefresh, 0);
	pushed_diff_free(&d);
	T_EQ_INT(pushed_diff(&b, &none, AF_INET, NOW, 60, &d), 0);
	T_EQ_INT(d.ndel, 4);
	T_EQ_INT(d.nadd + d.nrefresh, 0);
	pushed_diff_free(&d);
	free(a.e);
	free(b.e);
}

/* A network and the same address with another prefix are different. */
static void
networks(void)
{
	const struct pushed_elem o[] = { el("2001:db8::", 64, NOW + 100) };
	const struct pushed_elem n[] = { el("2001:db8::", 48, NOW + 100) };
	struct pushed_set a, b;
	struct pushed_diff d;

	set_of(&a, o, 1);
	set_of(&b, n, 1);
	T_EQ_INT(pushed_diff(&a, &b, AF_INET6, NOW, 60, &d), 0);
	T_EQ_INT(d.nadd, 1);
	T_EQ_INT(d.add[0].plen, 48);
	T_EQ_INT(d.ndel, 1);
	T_EQ_INT(d.del[0].plen, 64);
	pushed_diff_free(&d);
	free(a.e);
	free(b.e);
}

/* 1M elements, 1% different, in walk (unsorted) order. */
static void
million(void)
{
	struct pushed_set a, b;
	struct pushed_diff d;
	size_t i, n = 1000000;

	a.n = b.n = n;
	a.e = calloc(n, sizeof(*a.e));
	b.e = calloc(n, sizeof(*b.e));
	T_ASSERT(a.e != NULL && b.e != NULL);
	for (i = 0; i < n; i++) {
		uint32_t x = (uint32_t)(i * 2654435761u);

		a.e[i].key[0] = 0x20;
		memcpy(a.e[i].key + 8, &x, 4);
		memcpy(a.e[i].key + 12, &i, 4);
		a.e[i].expire = NOW + 1000;
		b.e[n - 1 - i] = a.e[i];
		if (i % 100 == 0)
			b.e[n - 1 - i].key[1] = 1;	/* 10,000 others */
	}
	T_EQ_INT(pushed_diff(&a, &b, AF_INET6, NOW, 60, &d), 0);
	T_EQ_INT(d.nadd, 10000);
	T_EQ_INT(d.ndel, 10000);
	T_EQ_INT(d.nrefresh, 0);
	pushed_diff_free(&d);
	free(a.e);
	free(b.e);
}

const struct t_case t_cases[] = {
	T_CASE(round_trip),
	T_CASE(hostile),
	T_CASE(diff),
	T_CASE(networks),
	T_CASE(million),
	{ NULL, NULL }
};
