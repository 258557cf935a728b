/*
 * conf.c: turn spamd.conf's getcap entries into the ordered list plan
 * spamd-setup executes (see conf.h for the rules).
 *
 * Like the syntax layer, the checks run to the end and report every
 * problem with the file and line of the entry at fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/compat.h"
#include "common/log.h"
#include "common/util.h"
#include "spamd-setup/conf.h"
#include "spamd-setup/getcap.h"

static const char *const method_names[] = {
	[CONF_FILE] = "file",
	[CONF_EXEC] = "exec",
	[CONF_HTTP] = "http",
	[CONF_HTTPS] = "https",
};

static const char *const known_caps[] = {
	"black", "white", "spfwalk", "msg", "method", "file", NULL,
};

struct checker {
	const char	*file;
	int		 errors;
};

static void cerr(struct checker *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void cwarn(struct checker *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void cvmsg(struct checker *, int, const char *, const char *, va_list)
    __attribute__((format(printf, 4, 0)));

static void
cvmsg(struct checker *ck, int line, const char *what, const char *fmt,
    va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_warnx("%s:%d: %s%s", ck->file, line, what, msg);
}

static void
cerr(struct checker *ck, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cvmsg(ck, line, "", fmt, ap);
	va_end(ap);
	ck->errors++;
}

static void
cwarn(struct checker *ck, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cvmsg(ck, line, "warning: ", fmt, ap);
	va_end(ap);
}

const char *
conf_method_name(enum conf_method m)
{
	return method_names[m];
}

/* Read a message file into plain text; NULL after reporting why. */
static char *
read_msgfile(struct checker *ck, const struct getcap_cap *cap,
    const char *name)
{
	char *buf, *o, *p;
	ssize_t r;
	size_t len = 0;
	int fd;

	if ((fd = open(cap->value, O_RDONLY | O_CLOEXEC)) == -1) {
		cerr(ck, cap->line, "entry %s: message file %s: %s", name,
		    cap->value, strerror(errno));
		return NULL;
	}
	buf = xmalloc(CONF_MSGFILE_MAX + 2);
	for (;;) {
		r = read(fd, buf + len, CONF_MSGFILE_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len > CONF_MSGFILE_MAX)
			break;
	}
	if (r == -1) {
		cerr(ck, cap->line, "entry %s: message file %s: %s", name,
		    cap->value, strerror(errno));
		close(fd);
		free(buf);
		return NULL;
	}
	close(fd);
	if (len > CONF_MSGFILE_MAX) {
		cerr(ck, cap->line, "entry %s: message file %s is larger "
		    "than %d bytes", name, cap->value, CONF_MSGFILE_MAX);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		cerr(ck, cap->line, "entry %s: message file %s holds a NUL "
		    "byte", name, cap->value);
		free(buf);
		return NULL;
	}
	/* CRLF -> LF, tab -> blank; other control bytes are refused below */
	for (p = o = buf; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		*o++ = *p == '\t' ? ' ' : *p;
	}
	while (o > buf && o[-1] == '\n')
		o--;
	*o = '\0';
	return buf;
}

static int
known(const char *name)
{
	size_t i;

	for (i = 0; known_caps[i] != NULL; i++) {
		if (strcmp(known_caps[i], name) == 0)
			return 1;
	}
	return 0;
}

/* Capabilities we do not know, and a URL cut at its ':'. */
static void
check_caps(struct checker *ck, const struct getcap_ent *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->ncaps; i++) {
		if (strncmp(e->caps[i].name, "//", 2) == 0)
			cerr(ck, e->caps[i].line, "entry %s: \"%s\" looks like "
			    "the rest of a URL, but ':' ends a value: give "
			    ":file=: without \"http://\"", name,
			    e->caps[i].name);
		else if (!known(e->caps[i].name))
			cwarn(ck, e->caps[i].line, "entry %s: unknown "
			    "capability \"%s\" ignored", name, e->caps[i].name);
	}
}

/* :method=: into l->method (file when absent). */
static void
check_method(struct checker *ck, const struct getcap_cap *method,
    const char *name, struct conf_list *l)
{
	size_t i;

	l->method = CONF_FILE;
	if (method == NULL)
		return;
	if (method->value == NULL || *method->value == '\0')
		cerr(ck, method->line, "entry %s: method needs a value "
		    "(file, exec, http or https)", name);
	else if (strcmp(method->value, "ftp") == 0)
		cerr(ck, method->line, "entry %s: method ftp is not "
		    "supported; use http or https", name);
	else {
		for (i = 0; i < sizeof(method_names) /
		    sizeof(method_names[0]); i++) {
			if (strcmp(method->value, method_names[i]) == 0)
				break;
		}
		if (i == sizeof(method_names) / sizeof(method_names[0]))
			cerr(ck, method->line, "entry %s: unknown "
			    "method \"%s\" (use file, exec, http or "
			    "https)", name, method->value);
		else
			l->method = (enum conf_method)i;
	}
}

/* :file=: into l->file, an http(s) URL without its scheme. */
static void
check_file(struct checker *ck, const struct getcap_ent *e,
    const struct getcap_cap *file, const char *name, struct conf_list *l)
{
	const char *url;
	char scheme[16];

	if (file == NULL || file->value == NULL || *file->value == '\0') {
		cerr(ck, e->line, "entry %s: no :file=: (a path, a command "
		    "or a URL)", name);
		return;
	}
	url = file->value;
	if ((l->method == CONF_HTTP || l->method == CONF_HTTPS) &&
	    strstr(url, "://") != NULL) {
		snprintf(scheme, sizeof(scheme), "%s://",
		    method_names[l->method]);
		if (strncmp(url, scheme, strlen(scheme)) != 0)
			cerr(ck, file->line, "entry %s: file=%s does "
			    "not match method %s", name, url,
			    method_names[l->method]);
		else
			url += strlen(scheme);
		if (*url == '\0')
			cerr(ck, file->line, "entry %s: file=%s names "
			    "no host", name, file->value);
	}
	l->file = xstrdup(url);
}

/* A black list's name and :msg=: (quoted text or a file) into l->msg. */
static void
check_black(struct checker *ck, const struct getcap_ent *e,
    const struct getcap_cap *msg, const char *name, struct conf_list *l)
{
	const char *why;
	char *line;
	size_t len;

	if ((why = cfg_tag_check(name)) != NULL)
		cerr(ck, e->line, "entry %s: unusable as a list name: %s",
		    name, why);
	if (msg == NULL || msg->value == NULL) {
		cerr(ck, e->line, "entry %s: black list without :msg=:",
		    name);
		return;
	}
	if (msg->quoted)
		l->msg = xstrdup(msg->value);
	else
		l->msg = read_msgfile(ck, msg, name);
	/* the message must survive the wire format */
	if (l->msg != NULL && (line = cfg_encode("m", l->msg, NULL, 0, &len,
	    &why)) == NULL)
		cerr(ck, msg->line, "entry %s: msg: %s", name, why);
	else if (l->msg != NULL)
		free(line);
}

/* Fill l from entry e; 0, or -1 after reporting. */
static int
check_list(struct checker *ck, const struct getcap_ent *e,
    struct conf_list *l)
{
	const struct getcap_cap *black, *white, *spf, *msg;
	const char *name = e->names[0];
	int errors = ck->errors;

	memset(l, 0, sizeof(*l));
	l->line = e->line;
	check_caps(ck, e, name);
	black = getcap_get(e, "black");
	white = getcap_get(e, "white");
	spf = getcap_get(e, "spfwalk");
	msg = getcap_get(e, "msg");
	if (black != NULL && white != NULL)
		cerr(ck, e->line, "entry %s: both :black: and :white:", name);
	else if (spf != NULL && (black != NULL || white != NULL))
		cerr(ck, e->line, "entry %s: both :spfwalk: and :%s:", name,
		    black != NULL ? "black" : "white");
	else if (black == NULL && white == NULL && spf == NULL)
		cerr(ck, e->line, "entry %s: neither :black: nor :white: "
		    "(nor :spfwalk:)", name);
	l->kind = spf != NULL ? CONF_SPFWALK : white != NULL ? CONF_WHITE :
	    CONF_BLACK;
	check_method(ck, getcap_get(e, "method"), name, l);
	check_file(ck, e, getcap_get(e, "file"), name, l);
	if (l->kind == CONF_BLACK && black != NULL)
		check_black(ck, e, msg, name, l);
	else if (l->kind != CONF_BLACK && msg != NULL)
		cwarn(ck, msg->line, "entry %s: a%s list has no message; "
		    ":msg=: ignored", name, l->kind == CONF_WHITE ? " white" :
		    "n spfwalk");
	l->name = xstrdup(name);
	return ck->errors == errors ? 0 : -1;
}

static void
free_list(struct conf_list *l)
{
	free(l->name);
	free(l->file);
	free(l->msg);
}

int
conf_from_db(const struct getcap_db *db, struct conf *c)
{
	struct checker ck = { db->file, 0 };
	const struct getcap_ent *all, *e;
	const struct getcap_cap *cap;
	struct conf_list l;
	size_t i, j;
	int seen_black = 0, dup;

	memset(c, 0, sizeof(*c));
	c->file = xstrdup(db->file);
	if ((all = getcap_find(db, "all")) == NULL) {
		log_warnx("%s: no \"all\" entry naming the lists to load",
		    db->file);
		return 1;
	}
	for (i = 0; i < all->ncaps; i++) {
		cap = &all->caps[i];
		if (cap->type != GETCAP_BOOL) {
			cerr(&ck, cap->line, "all: \"%s\" must be a plain list "
			    "name", cap->name);
			continue;
		}
		if ((e = getcap_find(db, cap->name)) == NULL) {
			cerr(&ck, cap->line, "all: no entry \"%s\"", cap->name);
			continue;
		}
		if (e == all) {
			cerr(&ck, cap->line, "all: names itself");
			continue;
		}
		if (e->broken) {
			ck.errors++;	/* reported by the parser */
			continue;
		}
		if (check_list(&ck, e, &l) == -1) {
			free_list(&l);
			continue;
		}
		for (dup = 0, j = 0; j < c->nlists; j++) {
			if (strcmp(c->lists[j].name, l.name) == 0 &&
			    l.kind != CONF_WHITE)
				dup = 1;
		}
		if (dup) {
			cerr(&ck, cap->line, "all: %s list %s named twice",
			    l.kind == CONF_BLACK ? "black" : "spfwalk", l.name);
			free_list(&l);
			continue;
		}
		if (l.kind == CONF_BLACK)
			seen_black = 1;
		else if (l.kind == CONF_WHITE && !seen_black)
			cwarn(&ck, cap->line, "all: white list %s has no black "
			    "list before it and has no effect", l.name);
		c->lists = xreallocarray(c->lists, c->nlists + 1,
		    sizeof(*c->lists));
		c->lists[c->nlists++] = l;
	}
	if (all->ncaps == 0)
		cerr(&ck, all->line, "all: names no list");
	return ck.errors;
}

int
conf_load(const char *path, struct conf *c)
{
	struct getcap_db db;
	int errors;

	memset(c, 0, sizeof(*c));
	errors = getcap_load(path, &db);
	if (db.file != NULL) {
		errors += conf_from_db(&db, c);
		getcap_free(&db);
	}
	return errors;
}

void
conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->nlists; i++)
		free_list(&c->lists[i]);
	free(c->lists);
	free(c->file);
	memset(c, 0, sizeof(*c));
}
