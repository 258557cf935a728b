/*
 * dbhammer.c: drive common/greydb hard from several processes, for the
 * tests in tests/db/.
 *
 *	dbhammer writer DBFILE ID N BATCH
 *		N read-modify-write increments, BATCH per transaction. Each
 *		increment i (1..N) adds 1 to the bcount of the shared WHITE
 *		record 198.51.100.1 and of this writer's own 198.51.100.<10+ID>
 *		(ID 1..9), and stores the tuple 198.51.100.<10+ID> / w<ID> /
 *		<w<ID>@example.org> / <i<i>@example.net> with bcount i.
 *		WHITE records in 203.0.113.0/24 are left to other tools
 *		(reader and check skip them, check still counts them).
 *	dbhammer reader DBFILE STOPFILE MAXSECS
 *		walk and validate, again and again, until STOPFILE exists
 *		(then one last walk) or MAXSECS pass (a failure). Each walk
 *		is one snapshot under the shared lock, so in it every
 *		writer's counter equals its number of tuples and the shared
 *		counter is their sum; counters never go down between walks.
 *	dbhammer check DBFILE NWRITERS N
 *		the final state, exactly: every increment is there once.
 *	dbhammer crash DBFILE LOGFILE BATCH
 *		commit batches until killed: transaction k deletes batch k-3,
 *		stores BATCH tuples of batch k, sets the counter record
 *		203.0.113.1 to bcount k, and after greydb_close succeeded
 *		appends "k" to LOGFILE. Starts after the counter it finds.
 *	dbhammer verify DBFILE LOGFILE BATCH
 *		after a kill -9 of "crash": with L the last logged batch and C
 *		the counter, L <= C <= L+1; batches C-1 and C are complete
 *		and exact, C-2 and C+1 may be partial (the transaction that
 *		died), no other batch has a record, no record is corrupt.
 *	dbhammer hold DBFILE read|write
 *		take the lock, print "held", keep it until stdin reaches EOF.
 *
 * Exit 0 on success, 1 with a message on stderr on the first mismatch,
 * 2 on usage errors. Lock waits are bounded (30 s).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/compat.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "common/log.h"
#include "common/util.h"

#define WAIT_MS		30000
#define MAXWRITERS	9
#define SHARED		"198.51.100.1"
#define COUNTER		"203.0.113.1"
#define MAXBATCH	100000
#define T0		1700000000LL
#define READER_PAUSE_US	5000
#define WRITER_PAUSE_US	1000

static const char *dbpath;

static __dead void die(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dbhammer[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static long long
arg(const char *s, long long min, long long max, const char *what)
{
	const char *errstr;
	long long v = strtonum(s, min, max, &errstr);

	if (errstr != NULL) {
		fprintf(stderr, "dbhammer: %s %s: %s\n", what, s, errstr);
		exit(2);
	}
	return v;
}

static struct greydb *
db_open(enum greydb_mode mode)
{
	struct greydb *db = greydb_open(dbpath, mode, WAIT_MS);

	if (db == NULL)
		die("%s", greydb_errstr());
	return db;
}

static void
db_close(struct greydb *db)
{
	if (greydb_close(db) != 0)
		die("%s", greydb_errstr());
}

static void
own_key(char *buf, size_t len, int id)
{
	snprintf(buf, len, "198.51.100.%d", 10 + id);
}

static size_t
tuple_key(char *buf, size_t len, int id, long i)
{
	return (size_t)snprintf(buf, len,
	    "198.51.100.%d\nw%d\n<w%d@example.org>\n<i%ld@example.net>",
	    10 + id, id, id, i);
}

/* get, bcount + 1, put: the read-modify-write that must not lose updates */
static void
bump(struct greydb *db, const char *key)
{
	struct gd_rec r;

	switch (greydb_get(db, key, strlen(key), &r)) {
	case GREYDB_OK:
		break;
	case GREYDB_NOTFOUND:
		memset(&r, 0, sizeof(r));
		r.kind = GD_WHITE;
		r.first = r.pass = T0;
		r.expire = T0 + 86400;
		break;
	default:
		die("get %s: %s", key, greydb_errstr());
	}
	r.bcount++;
	if (greydb_put(db, key, strlen(key), &r) == -1)
		die("%s", greydb_errstr());
}

static int
writer(int id, long n, long batch)
{
	char own[32], k[160];
	struct gd_rec t;
	struct greydb *db;
	long i = 1, j;

	own_key(own, sizeof(own), id);
	while (i <= n) {
		db = db_open(GREYDB_WRITE);
		for (j = 0; j < batch && i <= n; j++, i++) {
			bump(db, SHARED);
			bump(db, own);
			memset(&t, 0, sizeof(t));
			t.kind = GD_GREY;
			t.first = T0 + i;
			t.pass = t.expire = T0 + i + 14400;
			t.bcount = (uint32_t)i;
			if (greydb_put(db, k, tuple_key(k, sizeof(k), id, i),
			    &t) == -1)
				die("%s", greydb_errstr());
		}
		db_close(db);
		usleep(WRITER_PAUSE_US);	/* see READER_PAUSE_US */
	}
	return 0;
}

/* What one walk saw of the writers' records. */
struct snap {
	uint32_t	shared;
	uint32_t	own[MAXWRITERS + 1];
	long		tuples[MAXWRITERS + 1];
	unsigned char	*seen[MAXWRITERS + 1];	/* tuple i seen (check) */
	long		n;			/* increments per writer */
	size_t		records;
};

static int
snap_fn(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct snap *s = arg;
	char k[200], from[64], to[64], helo[16];
	int a, b, id;
	long i;

	if (r == NULL)
		die("corrupt record: %s", why);
	if (keylen >= sizeof(k))
		die("unexpected key of %zu bytes", keylen);
	memcpy(k, key, keylen);
	k[keylen] = '\0';
	s->records++;
	if (strcmp(k, SHARED) == 0) {
		s->shared = r->bcount;
		return GREYDB_KEEP;
	}
	/* what tests add through spamdb meanwhile */
	if (r->kind == GD_WHITE && strncmp(k, "203.0.113.", 10) == 0)
		return GREYDB_KEEP;
	if (r->kind == GD_WHITE && sscanf(k, "198.51.100.%d", &a) == 1 &&
	    a > 10 && a <= 10 + MAXWRITERS) {
		s->own[a - 10] = r->bcount;
		return GREYDB_KEEP;
	}
	if (r->kind != GD_GREY ||
	    sscanf(k, "198.51.100.%d\n%15[^\n]\n%63[^\n]\n%63[^\n]", &a, helo,
	    from, to) != 4 || sscanf(helo, "w%d", &id) != 1 ||
	    id != a - 10 || id < 1 || id > MAXWRITERS ||
	    sscanf(from, "<w%d@example.org>", &b) != 1 || b != id ||
	    sscanf(to, "<i%ld@example.net>", &i) != 1)
		die("unexpected record \"%s\" (%s)", k, gd_kind_name(r->kind));
	if ((long)r->bcount != i || r->first != T0 + i ||
	    r->expire != T0 + i + 14400)
		die("tuple %s has wrong values (bcount %u)", k, r->bcount);
	s->tuples[id]++;
	if (s->seen[id] != NULL &&
	    (i < 1 || i > s->n || s->seen[id][i]++ != 0))
		die("tuple %s out of range or seen twice", k);
	return GREYDB_KEEP;
}

static void
snapshot(struct snap *s)
{
	struct greydb *db = db_open(GREYDB_READ);

	if (greydb_walk(db, snap_fn, s) == -1)
		die("%s", greydb_errstr());
	db_close(db);
}

static int
reader(const char *stopfile, long maxsecs)
{
	uint32_t last[MAXWRITERS + 1] = { 0 };
	uint64_t end = clock_mono_ms() + (uint64_t)maxsecs * 1000;
	unsigned long walks = 0;
	struct stat st;
	int stop = 0, id;

	/* the writers create the database */
	while (stat(dbpath, &st) == -1) {
		if (clock_mono_ms() > end)
			die("%s never appeared", dbpath);
		usleep(READER_PAUSE_US);
	}
	while (!stop) {
		struct snap s;
		uint32_t sum = 0;

		stop = stat(stopfile, &st) == 0;
		memset(&s, 0, sizeof(s));
		snapshot(&s);
		walks++;
		for (id = 1; id <= MAXWRITERS; id++) {
			if ((long)s.own[id] != s.tuples[id])
				die("walk %lu: writer %d counter %u but %ld "
				    "tuples: a torn transaction", walks, id,
				    s.own[id], s.tuples[id]);
			if (s.own[id] < last[id])
				die("walk %lu: writer %d counter went back "
				    "from %u to %u", walks, id, last[id],
				    s.own[id]);
			last[id] = s.own[id];
			sum += s.own[id];
		}
		if (s.shared != sum)
			die("walk %lu: shared counter %u, writers' sum %u",
			    walks, s.shared, sum);
		if (!stop && clock_mono_ms() > end)
			die("no stop file after %ld s", maxsecs);
		/*
		 * Pause between walks, as real readers do: greydb's writers
		 * poll for the lock, and a reader that re-locks at once
		 * would starve them (see the report on lock fairness).
		 */
		usleep(READER_PAUSE_US);
	}
	printf("reader: %lu consistent walks\n", walks);
	return 0;
}

static int
check(int nwriters, long n)
{
	struct snap s;
	int id;

	memset(&s, 0, sizeof(s));
	s.n = n;
	for (id = 1; id <= nwriters; id++)
		s.seen[id] = xcalloc((size_t)n + 1, 1);
	snapshot(&s);
	if (s.shared != (uint32_t)(nwriters * n))
		die("shared counter %u, want %ld: lost updates", s.shared,
		    nwriters * n);
	for (id = 1; id <= MAXWRITERS; id++) {
		long want = id <= nwriters ? n : 0;

		if (s.own[id] != want || s.tuples[id] != want)
			die("writer %d: counter %u, %ld tuples, want %ld", id,
			    s.own[id], s.tuples[id], want);
	}
	if (s.records != (size_t)(1 + nwriters + nwriters * n))
		die("%zu records, want %ld", s.records,
		    1 + nwriters + nwriters * n);
	printf("check: %zu records exact\n", s.records);
	for (id = 1; id <= nwriters; id++)
		free(s.seen[id]);
	return 0;
}

static size_t
batch_key(char *buf, size_t len, long k, long i)
{
	return (size_t)snprintf(buf, len,
	    "192.0.2.%ld\nh%ld\n<b%ld@example.org>\n<r%ld@example.net>",
	    k % 200 + 1, k, k, i);
}

static void
batch_rec(struct gd_rec *r, long k, long i)
{
	memset(r, 0, sizeof(*r));
	r->kind = GD_GREY;
	r->first = T0 + k;
	r->pass = T0 + i;
	r->expire = T0 + k * 100000 + i;
	r->bcount = (uint32_t)k;
	r->pcount = (uint32_t)i;
}

static int
crash(const char *logfile, long batch)
{
	char key[160], line[32];
	struct greydb *db;
	struct gd_rec r, c;
	long k, i;
	int fd, n;

	if ((fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		die("%s: %s", logfile, strerror(errno));
	for (;;) {
		db = db_open(GREYDB_WRITE);
		switch (greydb_get(db, COUNTER, strlen(COUNTER), &c)) {
		case GREYDB_OK:
			break;
		case GREYDB_NOTFOUND:
			memset(&c, 0, sizeof(c));
			c.kind = GD_WHITE;
			c.expire = T0;
			break;
		default:
			die("counter: %s", greydb_errstr());
		}
		k = (long)c.bcount + 1;
		if (k > MAXBATCH)
			die("%ld batches and not killed", (long)MAXBATCH);
		for (i = 0; k > 3 && i < batch; i++) {
			n = greydb_del(db, key, batch_key(key, sizeof(key),
			    k - 3, i));
			if (n == -1)
				die("%s", greydb_errstr());
		}
		for (i = 0; i < batch; i++) {
			batch_rec(&r, k, i);
			if (greydb_put(db, key, batch_key(key, sizeof(key), k,
			    i), &r) == -1)
				die("%s", greydb_errstr());
		}
		c.bcount = (uint32_t)k;
		if (greydb_put(db, COUNTER, strlen(COUNTER), &c) == -1)
			die("%s", greydb_errstr());
		db_close(db);
		n = snprintf(line, sizeof(line), "%ld\n", k);
		if (write(fd, line, (size_t)n) != n)
			die("%s: %s", logfile, strerror(errno));
	}
}

struct vstate {
	long	*count;		/* records per batch, index k */
	long	 max, batch;
	long	 counter;
};

static int
verify_fn(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct vstate *v = arg;
	char kb[200];
	struct gd_rec want;
	long k, i, k2;
	int a;

	if (r == NULL)
		die("corrupt record after the crash: %s", why);
	if (keylen >= sizeof(kb))
		die("unexpected key of %zu bytes", keylen);
	memcpy(kb, key, keylen);
	kb[keylen] = '\0';
	if (strcmp(kb, COUNTER) == 0) {
		v->counter = r->bcount;
		return GREYDB_KEEP;
	}
	if (sscanf(kb, "192.0.2.%d\nh%ld\n<b%ld@example.org>\n<r%ld@example.net>",
	    &a, &k, &k2, &i) != 4 || k != k2 || k < 1 || k > v->max ||
	    i < 0 || i >= v->batch || a != k % 200 + 1)
		die("unexpected record \"%s\"", kb);
	batch_rec(&want, k, i);
	if (r->kind != want.kind || r->first != want.first ||
	    r->pass != want.pass || r->expire != want.expire ||
	    r->bcount != want.bcount || r->pcount != want.pcount)
		die("batch %ld record %ld has wrong values", k, i);
	v->count[k]++;
	return GREYDB_KEEP;
}

static int
verify(const char *logfile, long batch)
{
	struct vstate v;
	struct greydb *db;
	long last = 0, x, k;
	FILE *f;
	char line[64];

	if ((f = fopen(logfile, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "%ld", &x) == 1)
				last = x;
		fclose(f);
	}
	memset(&v, 0, sizeof(v));
	v.max = MAXBATCH;
	v.batch = batch;
	v.count = xcalloc((size_t)MAXBATCH + 2, sizeof(*v.count));
	db = db_open(GREYDB_READ);
	if (greydb_walk(db, verify_fn, &v) == -1)
		die("%s", greydb_errstr());
	db_close(db);

	if (v.counter < last || v.counter > last + 1)
		die("counter %ld, but batch %ld was committed", v.counter,
		    last);
	for (k = 1; k <= MAXBATCH; k++) {
		if (k == v.counter - 1 || k == v.counter) {
			if (v.count[k] != batch)
				die("committed batch %ld has %ld of %ld records",
				    k, v.count[k], batch);
		} else if (k == v.counter - 2 || k == v.counter + 1) {
			/* the transaction that died may have touched these */
		} else if (v.count[k] != 0)
			die("batch %ld (counter %ld) has %ld records", k,
			    v.counter, v.count[k]);
	}
	printf("verify: logged %ld, committed %ld, batches %ld..%ld: "
	    "%ld+%ld+%ld+%ld records\n", last, v.counter, v.counter - 2,
	    v.counter + 1, v.counter > 2 ? v.count[v.counter - 2] : 0,
	    v.counter > 1 ? v.count[v.counter - 1] : 0,
	    v.counter > 0 ? v.count[v.counter] : 0, v.count[v.counter + 1]);
	free(v.count);
	return 0;
}

static int
hold(const char *how)
{
	struct greydb *db;
	char c;

	if (strcmp(how, "read") != 0 && strcmp(how, "write") != 0) {
		fprintf(stderr, "dbhammer: hold read|write\n");
		return 2;
	}
	db = db_open(how[0] == 'r' ? GREYDB_READ : GREYDB_WRITE);
	printf("held\n");
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	db_close(db);
	return 0;
}

static __dead void
usage(void)
{
	fprintf(stderr, "usage: dbhammer writer DBFILE ID N BATCH\n"
	    "       dbhammer reader DBFILE STOPFILE MAXSECS\n"
	    "       dbhammer check DBFILE NWRITERS N\n"
	    "       dbhammer crash DBFILE LOGFILE BATCH\n"
	    "       dbhammer verify DBFILE LOGFILE BATCH\n"
	    "       dbhammer hold DBFILE read|write\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	log_init("dbhammer", 1, 0);
	if (argc < 3)
		usage();
	dbpath = argv[2];
	if (strcmp(argv[1], "writer") == 0 && argc == 6)
		return writer((int)arg(argv[3], 1, MAXWRITERS, "ID"),
		    (long)arg(argv[4], 1, 1000000, "N"),
		    (long)arg(argv[5], 1, 100000, "BATCH"));
	if (strcmp(argv[1], "reader") == 0 && argc == 5)
		return reader(argv[3], (long)arg(argv[4], 1, 3600, "MAXSECS"));
	if (strcmp(argv[1], "check") == 0 && argc == 5)
		return check((int)arg(argv[3], 1, MAXWRITERS, "NWRITERS"),
		    (long)arg(argv[4], 1, 1000000, "N"));
	if (strcmp(argv[1], "crash") == 0 && argc == 5)
		return crash(argv[3], (long)arg(argv[4], 1, 100000, "BATCH"));
	if (strcmp(argv[1], "verify") == 0 && argc == 5)
		return verify(argv[3], (long)arg(argv[4], 1, 100000, "BATCH"));
	if (strcmp(argv[1], "hold") == 0 && argc == 4)
		return hold(argv[3]);
	usage();
}
