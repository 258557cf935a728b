/*
 * spamdb.c: list, look up, add and delete records of the spamd database.
 *
 *	usage: spamdb [-adGTt] [-f dbfile] [keys ...]
 *	       spamdb -s [-f dbfile]
 *
 * Options, output lines, messages and exit codes are OpenBSD's spamdb(8);
 * the deliberate differences are listed in man/spamdb.8. Each run is one
 * greydb transaction (DESIGN.md §4.3): listing and lookups under the
 * shared lock, so they never wait for other readers; -a and -d under the
 * exclusive lock, so a change of several keys lands as one batch. The
 * record rules are common/greylist.c's greylist_spamdb_*(), so spamdb ages
 * records exactly like spamd.
 *
 * Static helpers, one per action:
 *	list_db		print every record; corrupt ones are reported, skipped
 *	show_keys	print the named records, count the missing ones
 *	add_key		-a, -t -a, -T -a
 *	del_key		-d, -t -d, -T -d
 *	del_grey	-G -d: delete every GREY tuple of the given addresses
 *	summary		-s: records per kind, and the wait before pass
 *			(median, 90th percentile) over the passed tuples
 *
 * Output is spooled to an unlinked temporary file while the lock is held
 * and copied to stdout after it is released, so that a slow consumer
 * (a pager) never holds up spamd's greylister.
 * Messages go to stderr as "spamdb: ..." through common/log.c, which
 * escapes control bytes that keys may carry.
 *
 * Listed fields escape '|', '\\' and control bytes as \ooo (put_field),
 * and key arguments are decoded the same way (key_unescape), so a line
 * always has its documented fields and a key can be copied from it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/compat.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "common/greylist.h"
#include "common/log.h"
#include "common/pathnames.h"
#include "common/statedir.h"
#include "common/util.h"

enum action {
	ACT_SHOW,		/* list everything, or look up the keys */
	ACT_SUMMARY,		/* -s */
	ACT_ADD,
	ACT_DEL,
};

enum ktype {
	KT_WHITE,
	KT_TRAPPED,
	KT_SPAMTRAP,
	KT_GREY,
};

#define EXIT_USAGE	1
#define EXIT_NOKEYS	2	/* "no addresses specified", "cannot add GREY" */
#define EXIT_NOTEMAIL	255	/* OpenBSD's errx(-1, "not an email address") */
#define EXIT_MAXCOUNT	255	/* failure counts saturate instead of wrapping */

/* The lock wait, from the environment: a duration with a unit suffix. */
#define ENV_LOCKWAIT	"SPAMDB_LOCKWAIT"
#define LOCKWAIT_MAX	3600	/* seconds */

static __dead void usage(void);

static void
usage(void)
{
	fprintf(stderr, "usage: spamdb [-adGTt] [-f dbfile] [keys ...]\n"
	    "       spamdb -s [-f dbfile]\n");
	exit(EXIT_USAGE);
}

static int
lock_wait_ms(void)
{
	const char *s = getenv(ENV_LOCKWAIT), *errstr;
	int64_t secs;

	if (s == NULL || *s == '\0')
		return GREYDB_WAIT;
	if (util_parse_time(s, 1, 0, LOCKWAIT_MAX, &secs, &errstr) == -1) {
		log_warnx("%s=%s: %s (want 0 to %ds, or with a unit: 10s, 1m)",
		    ENV_LOCKWAIT, s, errstr, LOCKWAIT_MAX);
		exit(EXIT_USAGE);
	}
	return (int)(secs * 1000);
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/*
 * The database key for a command-line argument: an address in canonical
 * form (so 2001:DB8::1 and ::ffff:192.0.2.1 find what spamd stored), an
 * e-mail address lower-cased as SPAMTRAP keys are stored, anything else
 * (a tuple typed with newlines, the key of a damaged record) as given.
 * -1 if no record can have such a key (empty or too long).
 */
/*
 * A network as spamd -g keys it ("192.0.2.0/24", host bits clear,
 * shorter than one address), in canonical form; -1 if arg is not one.
 */
static int
net_canon(const char *arg, char *buf, size_t len)
{
	struct cidr c;
	const char *err;

	if (strchr(arg, '/') == NULL || strchr(arg, '\n') != NULL ||
	    cidr_parse(arg, &c, CIDR_NEED_MASK | CIDR_STRICT | CIDR_NO_ZERO,
	    &err) == -1 || c.plen >= 8 * addr_len(&c.a) || len < CIDR_STRLEN)
		return -1;
	cidr_ntop(&c, buf, len);
	return 0;
}

static int
key_norm(const char *arg, char *buf, size_t len)
{
	size_t n = strlen(arg);

	if (n == 0 || n > GD_KEY_MAX || n >= len)
		return -1;
	if (strchr(arg, '\n') == NULL && (addr_canon(arg, buf, len) == 0 ||
	    net_canon(arg, buf, len) == 0))
		return 0;
	memcpy(buf, arg, n + 1);
	if (strchr(buf, '\n') == NULL && strchr(buf, '@') != NULL)
		lower(buf);
	return 0;
}

/*
 * What OpenBSD asks of a spamtrap ("user@domain": an "@"), plus what our
 * key format needs: one line of printable bytes, no longer than a mail
 * path may be.
 */
static int
spamtrap_ok(const char *s)
{
	const unsigned char *p;

	if (strchr(s, '@') == NULL || strlen(s) > GD_FIELD_MAX)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * One output field. helo, from and to come from SMTP clients, so a byte
 * that would add a field ('|'), fake an escape ('\\'), split the line or
 * drive a terminal (0x00-0x1f, 0x7f, and the C1 controls 0x80-0x9f) is
 * written as a backslash and three octal digits; everything else is
 * printed as stored, as OpenBSD does. A backslash in the output thus
 * always starts such an escape: every line has exactly its fields, and
 * key_unescape() (or dbseed) turns it back into the stored bytes.
 */
static void
put_field(FILE *out, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && *p <= 0x9f) ||
		    *p == '|' || *p == '\\')
			fprintf(out, "\\%03o", *p);
		else
			putc(*p, out);
	}
}

/*
 * A key argument as spamdb prints it: decode each \ooo escape (first
 * digit 0-3) in place, so that a field copied from a listing finds its
 * record. \000 (no key holds a NUL) and a backslash that starts no
 * escape are kept as typed.
 */
static void
key_unescape(char *s)
{
	char *r = s, *w = s;
	int v;

	while (*r != '\0') {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
		    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7' &&
		    (v = (r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0')) != 0) {
			*w++ = (char)v;
			r += 4;
		} else
			*w++ = *r++;
	}
	*w = '\0';
}

static void
print_rec(FILE *out, const char *key, size_t keylen, const struct gd_rec *r)
{
	char buf[GD_KEY_MAX + 1];
	struct gd_tuple t;

	/* greydb_get/walk ran gd_check: the key fits and suits the kind. */
	if (keylen > GD_KEY_MAX)
		fatalx("%s: key of %zu bytes", __func__, keylen);
	memcpy(buf, key, keylen);
	buf[keylen] = '\0';

	switch (r->kind) {
	case GD_GREY:
		if (gd_key_split(buf, &t) < 3)
			fatalx("%s: GREY record without a tuple key", __func__);
		fputs("GREY|", out);
		put_field(out, t.ip);
		putc('|', out);
		put_field(out, t.helo);
		putc('|', out);
		put_field(out, t.from);
		putc('|', out);
		put_field(out, t.to);
		fprintf(out, "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRIu32
		    "|%" PRIu32 "\n", r->first, r->pass, r->expire, r->bcount,
		    r->pcount);
		break;
	case GD_WHITE:
		fputs("WHITE|", out);
		put_field(out, buf);
		fprintf(out, "|||%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRIu32
		    "|%" PRIu32 "\n", r->first, r->pass, r->expire, r->bcount,
		    r->pcount);
		break;
	case GD_TRAPPED:
		fputs("TRAPPED|", out);
		put_field(out, buf);
		fprintf(out, "|%" PRId64 "\n", r->expire);
		break;
	case GD_SPAMTRAP:
		fputs("SPAMTRAP|", out);
		put_field(out, buf);
		putc('\n', out);
		break;
	default:
		fatalx("%s: record kind %d", __func__, (int)r->kind);
	}
}

struct list_state {
	FILE	*out;
	size_t	 corrupt;
};

static int
list_one(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct list_state *ls = arg;

	(void)why;		/* greydb has logged key and reason */
	if (r == NULL)
		ls->corrupt++;
	else
		print_rec(ls->out, key, keylen, r);
	return GREYDB_KEEP;
}

/*
 * Print every record. OpenBSD stops at the first bad record; we report
 * each one and list the rest, so that one torn record does not hide the
 * database. Returns the exit status: 0, or 1 if anything was skipped.
 */
static int
list_db(struct greydb *db, const char *path, FILE *out)
{
	struct list_state ls = { out, 0 };

	if (greydb_walk(db, list_one, &ls) == -1) {
		log_warnx("%s", greydb_errstr());
		return 1;
	}
	if (ls.corrupt > 0) {
		log_warnx("%s: %zu corrupt record%s not listed", path,
		    ls.corrupt, ls.corrupt == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

/* -s: what the walk counts. */
struct summary {
	size_t	 kinds[5];		/* by enum gd_kind; 0: other */
	size_t	 nets;			/* WHITE networks (spamd -g) */
	size_t	 corrupt;
	int64_t	*wait;			/* pass - first, passed tuples */
	size_t	 nwait, capwait;
	int	 nomem;
};

static int
sum_one(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct summary *sm = arg;

	(void)why;
	if (r == NULL) {
		sm->corrupt++;
		return GREYDB_KEEP;
	}
	sm->kinds[r->kind >= 1 && r->kind <= 4 ? r->kind : 0]++;
	if (r->kind == GD_WHITE && memchr(key, '/', keylen) != NULL)
		sm->nets++;
	/* A passed tuple keeps its pass time below its expiry. */
	if (r->kind == GD_GREY && r->pass < r->expire && r->pass >= r->first) {
		if (sm->nwait == sm->capwait) {
			size_t cap = sm->capwait ? sm->capwait * 2 : 1024;
			int64_t *w = reallocarray(sm->wait, cap,
			    sizeof(*w));

			if (w == NULL) {
				sm->nomem = 1;
				return GREYDB_KEEP;
			}
			sm->wait = w;
			sm->capwait = cap;
		}
		sm->wait[sm->nwait++] = r->pass - r->first;
	}
	return GREYDB_KEEP;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile p (0-100) of sorted v[0..n), n > 0. */
static int64_t
percentile(const int64_t *v, size_t n, unsigned int p)
{
	size_t k = (n * p + 99) / 100;

	return v[k > 0 ? k - 1 : 0];
}

/*
 * Records per kind, then the wait before pass over the passed tuples
 * the database still holds. 0, or 1 if a record was skipped.
 */
static int
summary(struct greydb *db, const char *path, FILE *out)
{
	struct summary sm;
	int rc = 0;

	memset(&sm, 0, sizeof(sm));
	if (greydb_walk(db, sum_one, &sm) == -1) {
		log_warnx("%s", greydb_errstr());
		free(sm.wait);
		return 1;
	}
	fprintf(out, "WHITE %zu\nGREY %zu\nTRAPPED %zu\nSPAMTRAP %zu\n",
	    sm.kinds[GD_WHITE], sm.kinds[GD_GREY], sm.kinds[GD_TRAPPED],
	    sm.kinds[GD_SPAMTRAP]);
	if (sm.nets > 0)
		fprintf(out, "WHITE networks %zu (spamd -g)\n", sm.nets);
	fprintf(out, "passed tuples %zu\n", sm.nwait);
	if (sm.nwait > 0) {
		qsort(sm.wait, sm.nwait, sizeof(*sm.wait), cmp_i64);
		fprintf(out, "wait before pass: median %" PRId64 " s, 90th "
		    "percentile %" PRId64 " s\n",
		    percentile(sm.wait, sm.nwait, 50),
		    percentile(sm.wait, sm.nwait, 90));
	}
	if (sm.nomem) {
		log_warnx("out of memory: the waits are of part of the "
		    "passed tuples only");
		rc = 1;
	}
	if (sm.corrupt > 0) {
		log_warnx("%s: %zu corrupt record%s not counted", path,
		    sm.corrupt, sm.corrupt == 1 ? "" : "s");
		rc = 1;
	}
	free(sm.wait);
	return rc;
}

/* Print the named records; returns how many were not found. */
static int
show_keys(struct greydb *db, char **keys, int nkeys, FILE *out)
{
	char buf[GD_KEY_MAX + 1];
	struct gd_rec r;
	int i, missing = 0;

	for (i = 0; i < nkeys; i++) {
		if (key_norm(keys[i], buf, sizeof(buf)) == -1) {
			missing++;
			continue;
		}
		switch (greydb_get(db, buf, strlen(buf), &r)) {
		case GREYDB_OK:
			print_rec(out, buf, strlen(buf), &r);
			break;
		case GREYDB_NOTFOUND:
		case GREYDB_CORRUPT:		/* logged by greydb */
			missing++;
			break;
		default:
			log_warnx("%s", greydb_errstr());
			missing++;
			break;
		}
	}
	return missing;
}

/* -a: add or update one key. Returns 0, or 1 on failure (logged). */
static int
add_key(struct greydb *db, const char *arg, enum ktype type, int64_t now)
{
	char buf[GD_KEY_MAX + 1];
	struct gd_rec r;
	size_t klen;
	int found;

	if (type == KT_SPAMTRAP) {
		/* main() ran spamtrap_ok(): it fits */
		strlcpy(buf, arg, sizeof(buf));
		lower(buf);
	} else if (strchr(arg, '\n') != NULL ||
	    (addr_canon(arg, buf, sizeof(buf)) == -1 &&
	    (type != KT_WHITE || net_canon(arg, buf, sizeof(buf)) == -1))) {
		/* A network (spamd -g) may be WHITE, never TRAPPED. */
		log_warnx("invalid ip address %s", arg);
		return 1;
	}
	klen = strlen(buf);

	if ((found = greydb_found(db, buf, klen, &r)) == -1) {
		log_warnx("%s", greydb_errstr());
		return 1;
	}

	switch (type) {
	case KT_WHITE:
		greylist_spamdb_white(&r, found, now, GREYLIST_WHITEEXP);
		break;
	case KT_TRAPPED:
		greylist_spamdb_trapped(&r, found, now, GREYLIST_TRAPEXP);
		break;
	case KT_SPAMTRAP:
		greylist_spamdb_spamtrap(&r, found, now);
		break;
	default:
		fatalx("%s: key type %d", __func__, (int)type);
	}
	if (greydb_put(db, buf, klen, &r) == -1) {
		log_warnx("%s", greydb_errstr());
		return 1;
	}
	return 0;
}

/* -d, -t -d, -T -d: delete one key, whatever its kind, as OpenBSD does. */
static int
del_key(struct greydb *db, const char *arg)
{
	char buf[GD_KEY_MAX + 1];

	if (key_norm(arg, buf, sizeof(buf)) == -1) {
		log_warnx("no entry for %s", arg);
		return 1;
	}
	switch (greydb_del(db, buf, strlen(buf))) {
	case GREYDB_OK:
		return 0;
	case GREYDB_NOTFOUND:
		log_warnx("no entry for %s", arg);
		return 1;
	default:
		log_warnx("%s", greydb_errstr());
		return 1;
	}
}

struct grey_del {
	struct cidr	*want;		/* an address: its full length */
	size_t		*hits;
	int		 n;
};

static int
grey_match(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct grey_del *gd = arg;
	struct cidr a;
	int i, hit = 0;

	(void)why;
	if (r == NULL || r->kind != GD_GREY ||
	    gd_key_cidr(key, keylen, &a) == -1)
		return GREYDB_KEEP;
	for (i = 0; i < gd->n; i++)
		if (addr_cmp(&a.a, &gd->want[i].a) == 0 &&
		    a.plen == gd->want[i].plen) {
			gd->hits[i]++;
			hit = 1;
		}
	return hit ? GREYDB_DELETE : GREYDB_KEEP;
}

/*
 * -G -d: delete every GREY tuple whose client is one of the addresses, in
 * one walk. OpenBSD deletes only the first tuple it meets per argument,
 * so a script had to loop; deleting them all serves the same scripts.
 * Returns the number of failed arguments.
 */
static int
del_grey(struct greydb *db, char **keys, int nkeys)
{
	struct grey_del gd;
	char buf[CIDR_STRLEN];
	const char *err;
	int i, failed = 0;
	char **arg;

	gd.want = xreallocarray(NULL, (size_t)nkeys, sizeof(*gd.want));
	gd.hits = xcalloc((size_t)nkeys, sizeof(*gd.hits));
	arg = xreallocarray(NULL, (size_t)nkeys, sizeof(*arg));
	gd.n = 0;
	for (i = 0; i < nkeys; i++) {
		if (keys[i][0] == '\0')
			continue;
		if (addr_parse(keys[i], &gd.want[gd.n].a) == 0)
			gd.want[gd.n].plen =
			    (uint8_t)(8 * addr_len(&gd.want[gd.n].a));
		else if (net_canon(keys[i], buf, sizeof(buf)) == -1 ||
		    cidr_parse(buf, &gd.want[gd.n], CIDR_NEED_MASK, &err) ==
		    -1) {
			log_warnx("invalid ip address %s", keys[i]);
			failed++;
			continue;
		}
		arg[gd.n++] = keys[i];
	}
	if (gd.n > 0 && greydb_walk(db, grey_match, &gd) == -1) {
		log_warnx("%s", greydb_errstr());
		failed += gd.n;
	} else {
		for (i = 0; i < gd.n; i++)
			if (gd.hits[i] == 0) {
				log_warnx("no entry for %s", arg[i]);
				failed++;
			}
	}
	free(gd.want);
	free(gd.hits);
	free(arg);
	return failed;
}

/* Copy the spooled output to stdout; 0 or -1 (logged). */
static int
flush_spool(FILE *spool)
{
	char buf[8192];
	size_t n;

	if (spool != stdout) {
		if (fflush(spool) == EOF || fseek(spool, 0, SEEK_SET) == -1) {
			log_warn("temporary output file");
			return -1;
		}
		while ((n = fread(buf, 1, sizeof(buf), spool)) > 0)
			if (fwrite(buf, 1, n, stdout) != n)
				break;
		if (ferror(spool)) {
			log_warn("temporary output file");
			return -1;
		}
		fclose(spool);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		return -1;
	}
	return 0;
}

/* What the command line asks for. */
struct request {
	enum action	 act;
	enum ktype	 type;
	const char	*path;
};

/* The options; returns the index of the first key. */
static int
parse_options(int argc, char *argv[], struct request *rq)
{
	int ch;

	opterr = 0;
	/* "+": stop at the first key, as BSD getopt does */
	while ((ch = getopt(argc, argv, "+:adf:GsTt")) != -1) {
		switch (ch) {
		case 'a':
			rq->act = ACT_ADD;
			break;
		case 'd':
			rq->act = ACT_DEL;
			break;
		case 'f':
			rq->path = optarg;
			break;
		case 'G':
			rq->type = KT_GREY;
			break;
		case 's':
			rq->act = ACT_SUMMARY;
			break;
		case 'T':
			rq->type = KT_SPAMTRAP;
			break;
		case 't':
			rq->type = KT_TRAPPED;
			break;
		case ':':
			log_warnx("option requires an argument -- %c", optopt);
			usage();
		default:
			log_warnx("unknown option -- %c", optopt);
			usage();
		}
	}
	if ((rq->act == ACT_SHOW || rq->act == ACT_SUMMARY) &&
	    rq->type != KT_WHITE)
		usage();
	if (*rq->path == '\0') {
		log_warnx("-f needs a database file name");
		usage();
	}
	return optind;
}

/*
 * Refuse bad requests before the database is opened or created; decodes
 * the keys (as listed) in place.
 */
static void
check_request(const struct request *rq, char *argv[], int argc)
{
	int i, nkeys = 0;

	if (rq->act == ACT_ADD && rq->type == KT_GREY) {
		log_warnx("cannot add GREY entries");
		exit(EXIT_NOKEYS);
	}
	for (i = 0; i < argc; i++) {
		key_unescape(argv[i]);
		if (argv[i][0] != '\0')
			nkeys++;
	}
	if (rq->act == ACT_SUMMARY && argc > 0)
		usage();
	if (rq->act != ACT_SHOW && rq->act != ACT_SUMMARY && nkeys == 0) {
		log_warnx("no addresses specified");
		exit(EXIT_NOKEYS);
	}
	if (rq->act == ACT_ADD && rq->type == KT_SPAMTRAP)
		for (i = 0; i < argc; i++)
			if (argv[i][0] != '\0' && !spamtrap_ok(argv[i])) {
				log_warnx("not an email address: %s", argv[i]);
				exit(EXIT_NOTEMAIL);
			}
}

/* Carry out the request; the sum of the failures. A listing goes to *out. */
static int
run(struct greydb *db, const struct request *rq, char *argv[], int argc,
    int64_t now, FILE **out)
{
	int i, rc = 0;

	switch (rq->act) {
	case ACT_SHOW:
		if ((*out = tmpfile()) == NULL)
			*out = stdout;	/* no spool: print under the lock */
		if (argc > 0)
			rc = show_keys(db, argv, argc, *out);
		else
			rc = list_db(db, rq->path, *out);
		break;
	case ACT_SUMMARY:
		if ((*out = tmpfile()) == NULL)
			*out = stdout;
		rc = summary(db, rq->path, *out);
		break;
	case ACT_ADD:
		for (i = 0; i < argc; i++)
			if (argv[i][0] != '\0')
				rc += add_key(db, argv[i], rq->type, now);
		break;
	case ACT_DEL:
		if (rq->type == KT_GREY)
			rc = del_grey(db, argv, argc);
		else
			for (i = 0; i < argc; i++)
				if (argv[i][0] != '\0')
					rc += del_key(db, argv[i]);
		break;
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	struct request rq = { ACT_SHOW, KT_WHITE, PATH_SPAMD_DB };
	struct greydb *db;
	struct stat st;
	FILE *out = stdout;
	int n, wait_ms, rc;

	log_init("spamdb", 1, 0);
	n = parse_options(argc, argv, &rq);
	argc -= n;
	argv += n;
	check_request(&rq, argv, argc);
	wait_ms = lock_wait_ms();

	/*
	 * Root works in the database's directory only as its owner, for
	 * good: that user may have planted symlinks there (DESIGN.md §4.3).
	 */
	if (statedir_enter(rq.path, STATEDIR_FOR_GOOD) == -1)
		exit(1);

	/* A reader would leave a stray lock file beside a missing database. */
	if ((rq.act == ACT_SHOW || rq.act == ACT_SUMMARY) &&
	    stat(rq.path, &st) == -1) {
		log_warn("cannot open %s for reading", rq.path);
		exit(1);
	}
	db = greydb_open(rq.path, rq.act == ACT_SHOW ||
	    rq.act == ACT_SUMMARY ? GREYDB_READ : GREYDB_WRITE, wait_ms);
	if (db == NULL) {
		log_warnx("%s", greydb_errstr());
		exit(1);
	}

	rc = run(db, &rq, argv, argc, clock_now(), &out);
	if (greydb_close(db) == -1) {
		log_warnx("%s", greydb_errstr());
		if (rc == 0)
			rc = 1;
	}
	if (flush_spool(out) == -1 && rc == 0)
		rc = 1;
	return rc > EXIT_MAXCOUNT ? EXIT_MAXCOUNT : rc;
}
