/*
 * getcap.c: a getcap(3)-syntax reader for spamd.conf (see getcap.h).
 *
 * Written rather than borrowed: glibc has no cgetent, and libbsd's copy
 * neither knows the quoted-':' extension nor says which line is wrong.
 * Parsing runs to the end of the file and reports every error, like
 * OpenSMTPD's parser, so one run shows all mistakes.
 *
 * Physical lines are joined into one entry text; a table of (offset,
 * line) break points maps any byte of the entry back to its line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/compat.h"
#include "common/log.h"
#include "common/util.h"
#include "spamd-setup/getcap.h"

struct brk {
	size_t		off;		/* entry text from here on ... */
	int		line;		/* ... came from this line */
};

struct parser {
	const char	*file;
	struct getcap_db *db;
	int		 errors;
	char		*text;		/* the entry being assembled */
	size_t		 len, cap;
	struct brk	*brk;
	size_t		 nbrk, brkcap;
};

static void perr(struct parser *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
perr(struct parser *p, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%d: %s", p->file, line, msg);
	p->errors++;
}

static int
line_of(const struct parser *p, size_t off)
{
	size_t i;
	int line = p->nbrk > 0 ? p->brk[0].line : 0;

	for (i = 0; i < p->nbrk && p->brk[i].off <= off; i++)
		line = p->brk[i].line;
	return line;
}

static void
text_append(struct parser *p, const char *s, size_t n, int line)
{
	if (p->nbrk == p->brkcap) {
		p->brkcap = p->brkcap ? p->brkcap * 2 : 8;
		p->brk = xreallocarray(p->brk, p->brkcap, sizeof(*p->brk));
	}
	p->brk[p->nbrk].off = p->len;
	p->brk[p->nbrk++].line = line;
	if (p->len + n + 1 > p->cap) {
		p->cap = (p->len + n + 1) * 2;
		p->text = xreallocarray(p->text, p->cap, 1);
	}
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->text[p->len] = '\0';
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Decode one escape at s[*i] == '\\' into *out; -1 if unknown. */
static int
unescape(struct parser *p, size_t *i, char *out)
{
	char c = p->text[*i + 1];

	switch (c) {
	case '\\': case ':': case '"': case '^':
		*out = c;
		break;
	case 'n':
		*out = '\n';
		break;
	case 't':
		*out = '\t';
		break;
	case 'r':
		*out = '\r';
		break;
	case '\0':
		perr(p, line_of(p, *i), "'\\' at the end of the entry");
		return -1;
	default:
		perr(p, line_of(p, *i), "unknown escape \"\\%c\"", c);
		return -1;
	}
	*i += 2;
	return 0;
}

/*
 * Copy the value character at text[*i] to v[*o], decoding an escape; a
 * bad escape is reported, skipped and marks the value bad.
 */
static void
take_char(struct parser *p, size_t *i, char *v, size_t *o, int *bad)
{
	char c;

	if (p->text[*i] != '\\') {
		v[(*o)++] = p->text[(*i)++];
		return;
	}
	if (unescape(p, i, &c) == -1) {
		*bad = 1;
		*i += p->text[*i + 1] == '\0' ? 1 : 2;
		return;
	}
	v[(*o)++] = c;
}

/*
 * Read a value starting at text[*i], up to ':' or the end (or, quoted, to
 * the closing quote). Returns a malloc'd decoded string, or NULL after an
 * error was reported; *i is left at the ':' or the end.
 */
static char *
read_value(struct parser *p, size_t *i, int *quoted)
{
	char *v = xmalloc(p->len - *i + 1);
	size_t o = 0, start = *i;
	int bad = 0;

	*quoted = p->text[*i] == '"';
	if (*quoted) {
		(*i)++;
		while (p->text[*i] != '"') {
			if (p->text[*i] == '\0') {
				perr(p, line_of(p, start), "quoted string "
				    "without its closing '\"'");
				free(v);
				return NULL;
			}
			take_char(p, i, v, &o, &bad);
		}
		(*i)++;
		while (is_blank(p->text[*i]))
			(*i)++;
		if (p->text[*i] != ':' && p->text[*i] != '\0') {
			perr(p, line_of(p, *i), "text after the closing quote "
			    "where ':' belongs");
			bad = 1;
			while (p->text[*i] != ':' && p->text[*i] != '\0')
				(*i)++;
		}
	} else {
		while (p->text[*i] != ':' && p->text[*i] != '\0') {
			take_char(p, i, v, &o, &bad);
		}
		while (o > 0 && is_blank(v[o - 1]))
			o--;
	}
	v[o] = '\0';
	if (bad) {
		free(v);
		return NULL;
	}
	return v;
}

static void
add_cap(struct getcap_ent *e, char *name, enum getcap_type t, char *value,
    int quoted, int line)
{
	struct getcap_cap *c;

	e->caps = xreallocarray(e->caps, e->ncaps + 1, sizeof(*e->caps));
	c = &e->caps[e->ncaps++];
	c->name = name;
	c->type = t;
	c->value = value;
	c->quoted = quoted;
	c->line = line;
}

static void
free_ent(struct getcap_ent *e)
{
	size_t i;

	for (i = 0; i < e->nnames; i++)
		free(e->names[i]);
	free(e->names);
	for (i = 0; i < e->ncaps; i++) {
		free(e->caps[i].name);
		free(e->caps[i].value);
	}
	free(e->caps);
}

/* Split the names field text[0..end) on '|'. */
static int
read_names(struct parser *p, size_t end, struct getcap_ent *e)
{
	size_t i = 0, s, t;
	const struct getcap_ent *prev;
	int ok = 1;

	while (i <= end) {
		s = i;
		while (i < end && p->text[i] != '|')
			i++;
		t = i;
		while (s < t && is_blank(p->text[s]))
			s++;
		while (t > s && is_blank(p->text[t - 1]))
			t--;
		if (s == t && end == 0) {
			perr(p, line_of(p, s), "entry without a name (is a "
			    "'\\' missing at the end of the line before?)");
			ok = 0;
		} else if (s == t) {
			perr(p, line_of(p, s), "empty entry name");
			ok = 0;
		} else {
			char *n = xmalloc(t - s + 1);

			memcpy(n, p->text + s, t - s);
			n[t - s] = '\0';
			if (strpbrk(n, " \t\"\\") != NULL) {
				perr(p, line_of(p, s), "entry name \"%s\" "
				    "holds a blank, '\"' or '\\'", n);
				ok = 0;
			} else if ((prev = getcap_find(p->db, n)) != NULL) {
				perr(p, line_of(p, s), "entry \"%s\" is "
				    "already defined at line %d", n,
				    prev->line);
				ok = 0;
			}
			e->names = xreallocarray(e->names, e->nnames + 1,
			    sizeof(*e->names));
			e->names[e->nnames++] = n;
		}
		i++;
	}
	return ok;
}

/* After a broken field: skip to its end. */
static void
skip_field(const struct parser *p, size_t *i)
{
	while (p->text[*i] != ':' && p->text[*i] != '\0')
		(*i)++;
}

/* "#digits" at *i: a number capability's value, or NULL (reported). */
static char *
read_number(struct parser *p, size_t *i, const char *name, int line)
{
	size_t s = ++*i;
	char *value;

	while (p->text[*i] >= '0' && p->text[*i] <= '9')
		(*i)++;
	if (*i == s || (p->text[*i] != ':' && p->text[*i] != '\0')) {
		perr(p, line, "capability %s: invalid number", name);
		skip_field(p, i);
		return NULL;
	}
	value = xmalloc(*i - s + 1);
	memcpy(value, p->text + s, *i - s);
	value[*i - s] = '\0';
	return value;
}

/* "@" at *i: a cancelled capability; 0 if text follows it (reported). */
static int
read_cancel(struct parser *p, size_t *i, const char *name, int line)
{
	(*i)++;
	while (is_blank(p->text[*i]))
		(*i)++;
	if (p->text[*i] == ':' || p->text[*i] == '\0')
		return 1;
	perr(p, line, "capability %s: text after '@'", name);
	skip_field(p, i);
	return 0;
}

/*
 * One field at *i (after its ':' and blanks): "name", "name=value",
 * "name#number" or "name@", added to e. 0 if it is broken (reported).
 */
static int
read_field(struct parser *p, size_t *i, struct getcap_ent *e)
{
	enum getcap_type type = GETCAP_BOOL;
	int line = line_of(p, *i), quoted = 0, ok = 1;
	size_t s = *i, t;
	char *name, *value = NULL;

	while (p->text[*i] != '\0' && strchr(":=#@", p->text[*i]) == NULL)
		(*i)++;
	for (t = *i; t > s && is_blank(p->text[t - 1]); t--)
		;
	if (s == t) {
		perr(p, line, "capability without a name");
		skip_field(p, i);
		return 0;
	}
	name = xmalloc(t - s + 1);
	memcpy(name, p->text + s, t - s);
	name[t - s] = '\0';
	if (p->text[*i] == '=') {
		for ((*i)++; is_blank(p->text[*i]); (*i)++)
			;
		type = GETCAP_STR;
		if (strcmp(name, "tc") == 0) {
			perr(p, line, "tc= (including another entry) is not "
			    "supported");
			ok = 0;
		}
		if ((value = read_value(p, i, &quoted)) == NULL)
			ok = 0;
	} else if (p->text[*i] == '#') {
		type = GETCAP_NUM;
		if ((value = read_number(p, i, name, line)) == NULL)
			ok = 0;
	} else if (p->text[*i] == '@') {
		type = GETCAP_CANCEL;
		ok = read_cancel(p, i, name, line);
	}
	add_cap(e, name, type, value, quoted, line);
	return ok;
}

static void
finish_entry(struct parser *p)
{
	struct getcap_ent e;
	size_t i;
	int ok;

	if (p->len == 0)
		goto done;
	memset(&e, 0, sizeof(e));
	e.line = line_of(p, 0);
	for (i = 0; p->text[i] != ':' && p->text[i] != '\0'; i++)
		;
	ok = read_names(p, i, &e);
	while (p->text[i] == ':') {
		i++;
		while (is_blank(p->text[i]))
			i++;
		if (p->text[i] == ':' || p->text[i] == '\0')
			continue;		/* empty field */
		if (!read_field(p, &i, &e))
			ok = 0;
	}
	e.broken = !ok;
	if (e.nnames > 0) {
		p->db->ents = xreallocarray(p->db->ents, p->db->nents + 1,
		    sizeof(*p->db->ents));
		p->db->ents[p->db->nents++] = e;
	} else
		free_ent(&e);
done:
	p->len = 0;
	p->nbrk = 0;
	if (p->text != NULL)
		p->text[0] = '\0';
}

int
getcap_parse(const char *file, const char *buf, size_t len,
    struct getcap_db *db)
{
	struct parser p;
	const char *s = buf, *nl, *t;
	size_t n, nbs;
	int line = 0, cont = 0;

	memset(&p, 0, sizeof(p));
	memset(db, 0, sizeof(*db));
	db->file = xstrdup(file);
	p.file = file;
	p.db = db;
	while (s < buf + len) {
		line++;
		if ((nl = memchr(s, '\n', (size_t)(buf + len - s))) == NULL)
			nl = buf + len;
		n = (size_t)(nl - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		t = s;
		s = nl + 1;
		if (memchr(t, '\0', n) != NULL) {
			perr(&p, line, "NUL byte in the line");
			continue;
		}
		while (n > 0 && is_blank(*t)) {
			t++;
			n--;
		}
		if (n > 0 && *t == '#')
			continue;
		if (n == 0) {
			if (cont) {
				perr(&p, line - 1, "'\\' at the end of the line "
				    "continues the entry into a blank line");
				finish_entry(&p);
				cont = 0;
			}
			continue;
		}
		/* an odd number of trailing backslashes continues the line */
		for (nbs = 0; nbs < n && t[n - 1 - nbs] == '\\'; nbs++)
			;
		cont = nbs % 2 == 1;
		text_append(&p, t, cont ? n - 1 : n, line);
		if (!cont)
			finish_entry(&p);
	}
	if (cont) {
		perr(&p, line, "'\\' at the end of the file");
		finish_entry(&p);
	}
	free(p.text);
	free(p.brk);
	return p.errors;
}

int
getcap_load(const char *path, struct getcap_db *db)
{
	struct stat st;
	char *buf;
	ssize_t r;
	size_t len = 0;
	int fd, errors;

	memset(db, 0, sizeof(*db));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return 1;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("%s: fstat", path);
		close(fd);
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
		close(fd);
		return 1;
	}
	buf = xmalloc(GETCAP_FILE_MAX + 1);
	while (len <= GETCAP_FILE_MAX) {
		r = read(fd, buf + len, GETCAP_FILE_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_warn("%s: read", path);
			free(buf);
			close(fd);
			return 1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len > GETCAP_FILE_MAX) {
		log_warnx("%s: larger than %d bytes", path, GETCAP_FILE_MAX);
		free(buf);
		return 1;
	}
	errors = getcap_parse(path, buf, len, db);
	free(buf);
	return errors;
}

const struct getcap_ent *
getcap_find(const struct getcap_db *db, const char *name)
{
	size_t i, j;

	for (i = 0; i < db->nents; i++) {
		for (j = 0; j < db->ents[i].nnames; j++) {
			if (strcmp(db->ents[i].names[j], name) == 0)
				return &db->ents[i];
		}
	}
	return NULL;
}

const struct getcap_cap *
getcap_get(const struct getcap_ent *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->ncaps; i++) {
		if (strcmp(e->caps[i].name, name) == 0)
			return e->caps[i].type == GETCAP_CANCEL ? NULL :
			    &e->caps[i];
	}
	return NULL;
}

void
getcap_free(struct getcap_db *db)
{
	size_t i;

	for (i = 0; i < db->nents; i++)
		free_ent(&db->ents[i]);
	free(db->ents);
	free(db->file);
	memset(db, 0, sizeof(*db));
}
