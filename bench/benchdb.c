/*
 * benchdb.c: database helpers for the benchmarks, over common/greydb so
 * that what they write is what spamd writes.
 *
 *	benchdb white DBFILE N		store N live WHITE records in one
 *		transaction: the first 768 are IPv4 (192.0.2.0/24,
 *		198.51.100.0/24, 203.0.113.0/24, the only IPv4 space the
 *		project may use), the rest IPv6 in 2001:db8::/32. Each expires
 *		between 1 and 36 days from now.
 *	benchdb addrs FIRST COUNT	print addresses FIRST.. of that same
 *		sequence, one per line (indices >= N are not in the database:
 *		use them for a set that differs from it)
 *	benchdb churn DBFILE DEL ADD COUNT MOVE	what a day does to a
 *		whitelist: delete the records of addresses DEL..DEL+COUNT-1,
 *		store live WHITE records for ADD..ADD+COUNT-1, and give the
 *		MOVE records after the deleted ones an expiry 2 days later
 *		(as spamlogd's refresh does), in one transaction
 *	benchdb count DBFILE		one line: records=.. grey=.. white=..
 *		trapped=.. spamtrap=.. corrupt=.. (a walk under the shared
 *		lock, like spamdb)
 *	benchdb grey DBFILE N		the database's share of N first
 *		contacts: per new tuple (shaped as smtpload's) a lookup that
 *		misses and a GREY record stored, in transactions of 16 as
 *		spamd's greylister commits them, an fsync once a second.
 *		One line: tuples=N us_per_tuple=.. user_us=.. sys_us=..
 *		(CPU time of the loop; the floor under the greylister's CPU
 *		per first contact, measured on the machine of the run)
 *
 * Exit 0, 1 on a database error (greydb_errstr() on stderr), 2 on usage.
 */
#include <sys/resource.h>

#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "common/log.h"

#define V4_COUNT	768

struct counts {
	size_t	records, kind[5], corrupt;
};

/* The i-th address of the sequence, in canonical (key) form. */
static void
addr_at(uint64_t i, char *buf, size_t len)
{
	char raw[ADDR_STRLEN];

	static const char *const v4net[3] = { "192.0.2", "198.51.100",
	    "203.0.113" };

	if (i < V4_COUNT) {
		snprintf(buf, len, "%s.%u", v4net[i / 256], (unsigned)(i % 256));
		return;
	}
	/* 2001:db8:HHHH:HHHH::LLLL:LLLL, spread over the /32 */
	i -= V4_COUNT;
	snprintf(raw, sizeof(raw), "2001:db8:%x:%x::%x:%x",
	    (unsigned)((i * 2654435761u) >> 16 & 0xffff),
	    (unsigned)(i >> 32 & 0xffff), (unsigned)(i >> 16 & 0xffff),
	    (unsigned)(i & 0xffff));
	if (addr_canon(raw, buf, len) == -1) {
		fprintf(stderr, "benchdb: %s: not an address\n", raw);
		exit(1);
	}
}

/* A live WHITE record, one block and one pass, as spamd writes them. */
static void
white_rec(struct gd_rec *r, int64_t first, int64_t pass, int64_t expire)
{
	memset(r, 0, sizeof(*r));
	r->kind = GD_WHITE;
	r->bcount = 1;
	r->pcount = 1;
	r->first = first;
	r->pass = pass;
	r->expire = expire;
}

static int
seed_white(const char *path, uint64_t n)
{
	struct greydb *db;
	struct gd_rec r;
	char a[ADDR_STRLEN];
	int64_t now = clock_now();
	uint64_t i;

	if ((db = greydb_open(path, GREYDB_WRITE, GREYDB_WAIT)) == NULL) {
		fprintf(stderr, "benchdb: %s\n", greydb_errstr());
		return 1;
	}
	for (i = 0; i < n; i++) {
		addr_at(i, a, sizeof(a));
		white_rec(&r, now - 3600, now - 1800,
		    now + 86400 + (int64_t)(i % (35 * 86400)));
		if (greydb_put(db, a, strlen(a), &r) == -1) {
			fprintf(stderr, "benchdb: %s\n", greydb_errstr());
			greydb_close(db);
			return 1;
		}
	}
	if (greydb_close(db) == -1) {
		fprintf(stderr, "benchdb: %s\n", greydb_errstr());
		return 1;
	}
	return 0;
}

static int
churn(const char *path, uint64_t del, uint64_t add, uint64_t n, uint64_t move)
{
	struct greydb *db;
	struct gd_rec r;
	char a[ADDR_STRLEN];
	int64_t now = clock_now();
	uint64_t i;
	int rc;

	if ((db = greydb_open(path, GREYDB_WRITE, GREYDB_WAIT)) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		addr_at(del + i, a, sizeof(a));
		if (greydb_del(db, a, strlen(a)) == -1)
			goto fail;
		addr_at(add + i, a, sizeof(a));
		white_rec(&r, now - 60, now - 30, now + 36 * 86400);
		if (greydb_put(db, a, strlen(a), &r) == -1)
			goto fail;
	}
	for (i = 0; i < move; i++) {
		addr_at(del + n + i, a, sizeof(a));
		if ((rc = greydb_get(db, a, strlen(a), &r)) == -1)
			goto fail;
		if (rc != GREYDB_OK)
			continue;
		r.expire += 2 * 86400;
		if (greydb_put(db, a, strlen(a), &r) == -1)
			goto fail;
	}
	if (greydb_close(db) == -1) {
		db = NULL;
		goto fail;
	}
	return 0;
 fail:
	fprintf(stderr, "benchdb: %s\n", greydb_errstr());
	if (db != NULL)
		greydb_close(db);
	return 1;
}

static int
count_cb(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct counts *c = arg;

	(void)key;
	(void)keylen;
	(void)why;
	c->records++;
	if (r == NULL)
		c->corrupt++;
	else if ((int)r->kind >= 1 && (int)r->kind <= 4)
		c->kind[r->kind]++;
	return GREYDB_KEEP;
}

static int
count(const char *path)
{
	struct greydb *db;
	struct counts c;

	memset(&c, 0, sizeof(c));
	if ((db = greydb_open(path, GREYDB_READ, GREYDB_WAIT)) == NULL ||
	    greydb_walk(db, count_cb, &c) == -1) {
		fprintf(stderr, "benchdb: %s\n", greydb_errstr());
		if (db != NULL)
			greydb_close(db);
		return 1;
	}
	if (greydb_close(db) == -1) {
		fprintf(stderr, "benchdb: %s\n", greydb_errstr());
		return 1;
	}
	printf("records=%zu grey=%zu white=%zu trapped=%zu spamtrap=%zu "
	    "corrupt=%zu\n", c.records, c.kind[GD_GREY], c.kind[GD_WHITE],
	    c.kind[GD_TRAPPED], c.kind[GD_SPAMTRAP], c.corrupt);
	return 0;
}

#define GREY_BATCH	16	/* tuples per transaction, as in the bench */

static void usage(void) __attribute__((noreturn));

static double
cpu_us(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

/*
 * N new tuples into the writer, as spamd's greylister records a first
 * sighting: lookup (a miss), store, commit per batch, fsync per second.
 */
static int
grey_floor(const char *path, uint64_t n)
{
	struct greydb *db;
	struct gd_rec r, old;
	struct gd_tuple t;
	struct rusage a, b;
	char key[GD_KEY_MAX], ip[32], to[64];
	int64_t now = clock_now();
	uint64_t i, sync_ms;
	int klen;

	if (n == 0)
		usage();
	if ((db = greydb_open(path, GREYDB_WRITE, GREYDB_WAIT)) == NULL)
		goto fail;
	memset(&r, 0, sizeof(r));
	r.kind = GD_GREY;
	r.bcount = 1;
	r.first = now;
	r.pass = now + 1500;
	r.expire = now + 4 * 3600;
	t.ip = ip;
	t.helo = "load.example";
	t.from = "<sender@example.com>";
	t.to = to;
	sync_ms = clock_mono_ms() + 1000;
	if (getrusage(RUSAGE_SELF, &a) == -1) {
		perror("benchdb: getrusage");
		greydb_close(db);
		return 1;
	}
	for (i = 0; i < n; i++) {
		snprintf(ip, sizeof(ip), "127.0.0.%u", (unsigned)(i % 200 + 1));
		snprintf(to, sizeof(to), "<rfloor-%llu@example.org>",
		    (unsigned long long)i);
		if ((klen = gd_key_tuple(key, sizeof(key), &t)) == -1) {
			fprintf(stderr, "benchdb: tuple %llu: no key\n",
			    (unsigned long long)i);
			greydb_close(db);
			return 1;
		}
		if (greydb_get(db, key, (size_t)klen, &old) == -1 ||
		    greydb_put(db, key, (size_t)klen, &r) == -1)
			goto fail;
		if (i % GREY_BATCH == GREY_BATCH - 1 || i == n - 1) {
			int how = GREYDB_LAZY;

			if (clock_mono_ms() >= sync_ms) {
				how = GREYDB_FSYNC;
				sync_ms = clock_mono_ms() + 1000;
			}
			if (greydb_commit(db, how) == -1 ||
			    (i < n - 1 && greydb_resume(db, GREYDB_WAIT) == -1))
				goto fail;
		}
	}
	if (getrusage(RUSAGE_SELF, &b) == -1) {
		perror("benchdb: getrusage");
		greydb_close(db);
		return 1;
	}
	if (greydb_close(db) == -1) {
		db = NULL;
		goto fail;
	}
	printf("tuples=%llu us_per_tuple=%.2f user_us=%.2f sys_us=%.2f\n",
	    (unsigned long long)n,
	    (cpu_us(&b.ru_utime) + cpu_us(&b.ru_stime) -
	    cpu_us(&a.ru_utime) - cpu_us(&a.ru_stime)) / (double)n,
	    (cpu_us(&b.ru_utime) - cpu_us(&a.ru_utime)) / (double)n,
	    (cpu_us(&b.ru_stime) - cpu_us(&a.ru_stime)) / (double)n);
	return fflush(stdout) == EOF;
 fail:
	fprintf(stderr, "benchdb: %s\n", greydb_errstr());
	if (db != NULL)
		greydb_close(db);
	return 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: benchdb white DBFILE N\n"
	    "       benchdb addrs FIRST COUNT\n"
	    "       benchdb churn DBFILE DEL ADD COUNT MOVE\n"
	    "       benchdb count DBFILE\n"
	    "       benchdb grey DBFILE N\n");
	exit(2);
}

static uint64_t
number(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > 100000000ULL)
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	char a[ADDR_STRLEN];
	uint64_t i, first, n;

	log_init("benchdb", 1, 0);
	if (argc == 4 && strcmp(argv[1], "white") == 0)
		return seed_white(argv[2], number(argv[3]));
	if (argc == 4 && strcmp(argv[1], "addrs") == 0) {
		first = number(argv[2]);
		n = number(argv[3]);
		for (i = first; i < first + n; i++) {
			addr_at(i, a, sizeof(a));
			if (puts(a) == EOF) {
				perror("benchdb: stdout");
				return 1;
			}
		}
		return fflush(stdout) == EOF;
	}
	if (argc == 7 && strcmp(argv[1], "churn") == 0)
		return churn(argv[2], number(argv[3]), number(argv[4]),
		    number(argv[5]), number(argv[6]));
	if (argc == 3 && strcmp(argv[1], "count") == 0)
		return count(argv[2]);
	if (argc == 4 && strcmp(argv[1], "grey") == 0)
		return grey_floor(argv[2], number(argv[3]));
	usage();
}
