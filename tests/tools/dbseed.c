/*
 * dbseed.c: write database records with chosen fields, for tests.
 *
 *	usage: dbseed [-t now] DBFILE < lines
 *
 * Each input line is one record in spamdb's own output format, so a
 * listing can be fed straight back:
 *	GREY|ip|helo|from|to|first|pass|expire|bcount|pcount
 *	WHITE|ip|||first|pass|expire|bcount|pcount
 *	TRAPPED|ip|expire		(first = pass = 0, bcount 1, pcount 0)
 *	SPAMTRAP|address		(times 0, bcount 1, pcount 0)
 * plus forms spamdb never prints, to seed any state:
 *	TRAPPED|ip|||first|pass|expire|bcount|pcount	every field chosen
 *	SPAMTRAP|address|||first|pass|expire|bcount|pcount
 *	GREY3|ip|from|to|first|pass|expire|bcount|pcount  legacy 3-field key
 *	CORRUPT|how|LINE	LINE (any form above) stored, then damaged:
 *		how = crc (a time byte flipped, checksum left stale),
 *		size (39 bytes), version, kind, reserved (checksum fixed up,
 *		so the named check fires), shape (kind WHITE on a tuple key
 *		or GREY on an address, checksum fixed up)
 *	RAW|key|hex		any key, any value bytes ("" for none)
 *
 * Times are epoch seconds, or "now", "now+D", "now-D" where D is a
 * duration as util_parse_time takes it (90, 25m, 4h, 36d); -t fixes
 * "now" (default: the clock). Text fields take the escapes \n, \|, \\,
 * \xHH and \ooo (three octal digits, as spamdb lists escaped bytes).
 * Blank lines and lines starting with '#' are skipped.
 *
 * Keys are stored as given (addresses are not canonicalised), so a test
 * can seed exactly the state it wants. Well-formed records go through
 * common/greydb in one transaction; RAW and CORRUPT ones follow through
 * raw gdbm calls under the same lock file. Every line is parsed before
 * anything is written: a bad line ("dbseed: line N: why") writes nothing
 * and exits 1.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/clock.h"
#include "common/compat.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "common/log.h"
#include "common/util.h"

#define MAXFIELDS	12

struct field {
	char	*s;		/* unescaped, NUL-terminated */
	size_t	 len;		/* may hold NULs from \x00 */
};

struct item {
	char		*key;
	size_t		 keylen;
	struct gd_rec	 rec;
	uint8_t		*val;		/* raw value, or NULL for rec */
	size_t		 vallen;
};

static struct item *items;
static size_t nitems, capitems;
static int64_t now;
static unsigned long lineno;

static __dead void bad(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dbseed: line %lu: ", lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Split on unescaped '|' and unescape each field in place. */
static int
split(char *line, struct field *f, int max)
{
	char *r = line, *w = line;
	int n = 0;

	f[n].s = w;
	for (;;) {
		if (*r == '\0' || *r == '|') {
			f[n].len = (size_t)(w - f[n].s);
			if (*r == '\0') {
				*w = '\0';
				return n + 1;
			}
			*w++ = '\0';
			r++;
			if (++n == max)
				bad("more than %d fields", max);
			f[n].s = w;
			continue;
		}
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		r++;
		switch (*r) {
		case 'n':
			*w++ = '\n';
			r++;
			break;
		case '|':
		case '\\':
			*w++ = *r++;
			break;
		case '0': case '1': case '2': case '3':
			/* \ooo, as spamdb lists escaped bytes */
			if (r[1] < '0' || r[1] > '7' || r[2] < '0' || r[2] > '7')
				bad("bad \\ooo escape");
			*w++ = (char)((r[0] - '0') << 6 | (r[1] - '0') << 3 |
			    (r[2] - '0'));
			r += 3;
			break;
		case 'x':
			if (hexval(r[1]) < 0 || hexval(r[2]) < 0)
				bad("bad \\x escape");
			*w++ = (char)(hexval(r[1]) << 4 | hexval(r[2]));
			r += 3;
			break;
		default:
			bad("unknown escape \\%c", *r ? *r : '0');
		}
	}
}

static int64_t
num(const struct field *f, long long min, long long max, const char *what)
{
	const char *errstr;
	long long v;

	v = strtonum(f->s, min, max, &errstr);
	if (errstr != NULL)
		bad("%s \"%s\": %s", what, f->s, errstr);
	return v;
}

static int64_t
when(const struct field *f, const char *what)
{
	const char *errstr;
	int64_t d;

	if (strncmp(f->s, "now", 3) != 0)
		return num(f, INT64_MIN, INT64_MAX, what);
	if (f->s[3] == '\0')
		return now;
	if ((f->s[3] != '+' && f->s[3] != '-') ||
	    util_parse_time(f->s + 4, 1, 0, INT64_MAX / 4, &d, &errstr) == -1)
		bad("%s \"%s\": want now, now+D or now-D", what, f->s);
	return f->s[3] == '+' ? now + d : now - d;
}

static struct item *
item_new(void)
{
	if (nitems == capitems) {
		capitems = capitems ? capitems * 2 : 64;
		items = xreallocarray(items, capitems, sizeof(*items));
	}
	memset(&items[nitems], 0, sizeof(items[0]));
	return &items[nitems++];
}

static void
set_key(struct item *it, const char *k, size_t len)
{
	it->key = xmalloc(len + 1);
	memcpy(it->key, k, len);
	it->key[len] = '\0';
	it->keylen = len;
}

/* first|pass|expire|bcount|pcount starting at f[0] */
static void
times_counts(struct gd_rec *r, const struct field *f)
{
	r->first = when(&f[0], "first");
	r->pass = when(&f[1], "pass");
	r->expire = when(&f[2], "expire");
	r->bcount = (uint32_t)num(&f[3], 0, UINT32_MAX, "bcount");
	r->pcount = (uint32_t)num(&f[4], 0, UINT32_MAX, "pcount");
}

static void
need(int n, int want, const char *form)
{
	if (n != want)
		bad("%d fields, %s wants %d", n, form, want);
}

/* One record line (not RAW, not CORRUPT) into it. */
static void
parse_rec(struct item *it, struct field *f, int n)
{
	char key[GD_KEY_MAX + 1];
	struct gd_tuple t;
	int klen;

	if (strcmp(f[0].s, "GREY") == 0) {
		need(n, 10, "GREY");
		t.ip = f[1].s;
		t.helo = f[2].s;
		t.from = f[3].s;
		t.to = f[4].s;
		if ((klen = gd_key_tuple(key, sizeof(key), &t)) == -1)
			bad("tuple field too long, empty ip, or a newline");
		set_key(it, key, (size_t)klen);
		it->rec.kind = GD_GREY;
		times_counts(&it->rec, &f[5]);
	} else if (strcmp(f[0].s, "GREY3") == 0) {
		need(n, 9, "GREY3");
		klen = snprintf(key, sizeof(key), "%s\n%s\n%s", f[1].s, f[2].s,
		    f[3].s);
		if (klen < 0 || (size_t)klen >= sizeof(key))
			bad("legacy key too long");
		set_key(it, key, (size_t)klen);
		it->rec.kind = GD_GREY;
		times_counts(&it->rec, &f[4]);
	} else if (strcmp(f[0].s, "WHITE") == 0 ||
	    strcmp(f[0].s, "TRAPPED") == 0 ||
	    strcmp(f[0].s, "SPAMTRAP") == 0) {
		it->rec.kind = f[0].s[0] == 'W' ? GD_WHITE :
		    f[0].s[0] == 'T' ? GD_TRAPPED : GD_SPAMTRAP;
		set_key(it, f[1].s, f[1].len);
		if (n == 9) {
			if (f[2].len != 0 || f[3].len != 0)
				bad("fields 3 and 4 must be empty");
			times_counts(&it->rec, &f[4]);
		} else if (it->rec.kind == GD_TRAPPED && n == 3) {
			it->rec.expire = when(&f[2], "expire");
			it->rec.bcount = 1;
		} else if (it->rec.kind == GD_SPAMTRAP && n == 2)
			it->rec.bcount = 1;
		else
			bad("wrong number of fields (%d) for %s", n, f[0].s);
	} else
		bad("unknown record type \"%s\"", f[0].s);
}

static void
fix_crc(uint8_t *v)
{
	uint32_t c = (uint32_t)crc32(0L, v, GD_REC_SIZE - 4);

	v[36] = (uint8_t)(c >> 24);
	v[37] = (uint8_t)(c >> 16);
	v[38] = (uint8_t)(c >> 8);
	v[39] = (uint8_t)c;
}

static void
damage(struct item *it, const char *how)
{
	uint8_t *v = xmalloc(GD_REC_SIZE);

	gd_encode(&it->rec, v);
	it->val = v;
	it->vallen = GD_REC_SIZE;
	if (strcmp(how, "crc") == 0)
		v[20] ^= 0x40;
	else if (strcmp(how, "size") == 0)
		it->vallen = GD_REC_SIZE - 1;
	else if (strcmp(how, "version") == 0) {
		v[0] = 9;
		fix_crc(v);
	} else if (strcmp(how, "kind") == 0) {
		v[1] = 9;
		fix_crc(v);
	} else if (strcmp(how, "reserved") == 0) {
		v[2] = 1;
		fix_crc(v);
	} else if (strcmp(how, "shape") == 0) {
		v[1] = it->rec.kind == GD_GREY ? GD_WHITE : GD_GREY;
		fix_crc(v);
	} else
		bad("unknown damage \"%s\"", how);
}

static void
parse_line(char *line)
{
	struct field f[MAXFIELDS];
	struct item *it;
	int n;
	size_t i;

	n = split(line, f, MAXFIELDS);
	it = item_new();
	if (strcmp(f[0].s, "RAW") == 0) {
		need(n, 3, "RAW");
		if (f[2].len % 2 != 0)
			bad("odd number of hex digits");
		set_key(it, f[1].s, f[1].len);
		it->vallen = f[2].len / 2;
		it->val = xmalloc(it->vallen + 1);
		for (i = 0; i < it->vallen; i++) {
			int hi = hexval(f[2].s[2 * i]), lo = hexval(f[2].s[2 * i + 1]);

			if (hi < 0 || lo < 0)
				bad("bad hex value");
			it->val[i] = (uint8_t)(hi << 4 | lo);
		}
	} else if (strcmp(f[0].s, "CORRUPT") == 0) {
		if (n < 3)
			bad("CORRUPT|how|record");
		parse_rec(it, f + 2, n - 2);
		damage(it, f[1].s);
	} else
		parse_rec(it, f, n);
}

static int
write_recs(const char *path)
{
	struct greydb *db;
	size_t i;

	if ((db = greydb_open(path, GREYDB_WRITE, GREYDB_WAIT)) == NULL) {
		fprintf(stderr, "dbseed: %s\n", greydb_errstr());
		return -1;
	}
	for (i = 0; i < nitems; i++) {
		if (items[i].val != NULL)
			continue;
		if (greydb_put(db, items[i].key, items[i].keylen,
		    &items[i].rec) == -1) {
			fprintf(stderr, "dbseed: %s\n", greydb_errstr());
			greydb_close(db);
			return -1;
		}
	}
	if (greydb_close(db) == -1) {
		fprintf(stderr, "dbseed: %s\n", greydb_errstr());
		return -1;
	}
	return 0;
}

/* Values greydb would refuse to write, by raw gdbm under our lock. */
static int
write_raw(const char *path)
{
	char lockpath[4096];
	GDBM_FILE dbf;
	datum k, d;
	size_t i;
	int fd, rc = 0;

	for (i = 0; i < nitems && items[i].val == NULL; i++)
		;
	if (i == nitems)
		return 0;
	snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	if ((fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(fd, LOCK_EX) == -1) {
		fprintf(stderr, "dbseed: %s: %s\n", lockpath, strerror(errno));
		return -1;
	}
	dbf = gdbm_open(path, 0, GDBM_WRCREAT | GDBM_NOLOCK, 0600, NULL);
	if (dbf == NULL) {
		fprintf(stderr, "dbseed: %s: %s\n", path,
		    gdbm_strerror(gdbm_errno));
		close(fd);
		return -1;
	}
	for (; i < nitems; i++) {
		if (items[i].val == NULL)
			continue;
		k.dptr = items[i].key;
		k.dsize = (int)items[i].keylen;
		d.dptr = (char *)items[i].val;
		d.dsize = (int)items[i].vallen;
		if (gdbm_store(dbf, k, d, GDBM_REPLACE) != 0) {
			fprintf(stderr, "dbseed: store: %s\n",
			    gdbm_strerror(gdbm_errno));
			rc = -1;
			break;
		}
	}
	if (gdbm_close(dbf) != 0) {
		fprintf(stderr, "dbseed: close: %s\n",
		    gdbm_strerror(gdbm_errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

static __dead void
usage(void)
{
	fprintf(stderr, "usage: dbseed [-t now] DBFILE < lines\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	const char *errstr;
	int ch;

	log_init("dbseed", 1, 0);
	now = clock_now();
	while ((ch = getopt(argc, argv, "t:")) != -1) {
		switch (ch) {
		case 't':
			now = strtonum(optarg, 0, INT64_MAX, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "dbseed: -t %s: %s\n", optarg,
				    errstr);
				exit(2);
			}
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();

	while ((len = getline(&line, &cap, stdin)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if ((size_t)len != strlen(line))
			bad("NUL byte in the line");
		parse_line(line);
	}
	if (ferror(stdin)) {
		fprintf(stderr, "dbseed: stdin: %s\n", strerror(errno));
		exit(1);
	}
	free(line);
	if (write_recs(argv[optind]) == -1 || write_raw(argv[optind]) == -1)
		exit(1);
	return 0;
}
