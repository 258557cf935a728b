/*
 * spfstate.c: read and write the SPF walk's state file, the last good
 * result of every domain (format in spfstate.h).
 *
 * The reader trusts nothing: a file that is not regular, too large,
 * holds a NUL byte or a line it does not understand is reported with
 * its line number and ignored as a whole; the run then starts from the
 * walks it makes itself.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/compat.h"
#include "common/log.h"
#include "common/util.h"
#include "spamd-setup/spf.h"
#include "spamd-setup/spfstate.h"

struct spfstate_dom *
spfstate_find(const struct spfstate *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->d[i].name, name) == 0)
			return &s->d[i];
	}
	return NULL;
}

void
spfstate_put(struct spfstate *s, const char *name, int64_t when,
    const struct cidr *v, size_t n)
{
	struct spfstate_dom *d;

	s->d = xreallocarray(s->d, s->n + 1, sizeof(*s->d));
	d = &s->d[s->n++];
	d->name = xstrdup(name);
	d->when = when;
	d->n = n;
	d->v = NULL;
	if (n > 0) {
		d->v = xreallocarray(NULL, n, sizeof(*v));
		memcpy(d->v, v, n * sizeof(*v));
	}
}

void
spfstate_free(struct spfstate *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->d[i].name);
		free(s->d[i].v);
	}
	free(s->d);
	s->d = NULL;
	s->n = 0;
}

/* The whole file, NUL-terminated; NULL with errno, or *why set. */
static char *
slurp(const char *path, size_t *lenp, const char **why)
{
	struct stat sb;
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd, e;

	*why = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > SPFSTATE_MAX) {
		close(fd);
		*why = !S_ISREG(sb.st_mode) ? "not a regular file" :
		    "larger than 64 MiB";
		return NULL;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (len < (size_t)sb.st_size) {
		r = read(fd, buf + len, (size_t)sb.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* One "DOMAIN WHEN CIDR" line into s; NULL, or why not. */
static const char *
parse_line(char *line, struct spfstate *s)
{
	char *f[4], *p = line, *end, name[SPF_NAME_MAX + 1];
	struct spfstate_dom *last;
	const char *e;
	struct cidr c;
	long long when;
	int nf = 0;

	while (nf < 4 && (f[nf] = strsep(&p, " \t")) != NULL) {
		if (*f[nf] != '\0')
			nf++;
	}
	if (nf != 3)
		return "not three fields: domain, time, block";
	if (spf_name(f[0], name, sizeof(name)) == -1 ||
	    strcmp(name, f[0]) != 0)
		return "not a domain name in lowercase";
	errno = 0;
	when = strtoll(f[1], &end, 10);
	if (f[1][0] < '0' || f[1][0] > '9' || *end != '\0' || errno != 0 ||
	    when < 0)
		return "not a time";
	if (strcmp(f[2], "-") == 0)
		c.plen = 0;
	else if (cidr_parse(f[2], &c, CIDR_NEED_MASK | CIDR_STRICT |
	    CIDR_NO_ZERO, &e) == -1)
		return "not a CIDR block";
	last = s->n > 0 ? &s->d[s->n - 1] : NULL;
	if (last != NULL && strcmp(last->name, name) == 0) {
		if (last->when != when)
			return "a second time for the same domain";
	} else if (spfstate_find(s, name) != NULL)
		return "a domain whose lines are not together";
	else {
		spfstate_put(s, name, when, NULL, 0);
		last = &s->d[s->n - 1];
	}
	if (c.plen == 0)
		return NULL;
	last->v = xreallocarray(last->v, last->n + 1, sizeof(*last->v));
	last->v[last->n++] = c;
	return NULL;
}

int
spfstate_load(const char *path, struct spfstate *s)
{
	char *buf, *p, *line;
	const char *why;
	size_t len, lineno = 0;

	memset(s, 0, sizeof(*s));
	if ((buf = slurp(path, &len, &why)) == NULL) {
		if (why == NULL && errno == ENOENT)
			return 0;
		log_warnx("spfwalk: state file %s: %s; ignored", path,
		    why != NULL ? why : strerror(errno));
		return -1;
	}
	why = NULL;
	if (len == 0)
		why = "empty";
	else if (strlen(buf) != len)
		why = "holds a NUL byte";
	for (p = buf; why == NULL && (line = strsep(&p, "\n")) != NULL;) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, SPFSTATE_HEADER) != 0)
				why = "the first line is not \"" SPFSTATE_HEADER
				    "\"";
			continue;
		}
		if (*line == '\0' || *line == '#')
			continue;
		why = parse_line(line, s);
	}
	free(buf);
	if (why != NULL) {
		log_warnx("spfwalk: state file %s:%zu: %s; ignoring the file "
		    "(this run's walks replace it)", path, lineno, why);
		spfstate_free(s);
		return -1;
	}
	return 0;
}

int
spfstate_save(const char *path, const struct spfstate *s)
{
	char tmp[4096], c[CIDR_STRLEN];
	size_t i, k;
	FILE *f;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    sizeof(tmp)) {
		log_warnx("spfwalk: state file %s: path too long", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		log_warn("spfwalk: state file: mkstemp %s", tmp);
		return -1;
	}
	if (fchmod(fd, 0644) == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("spfwalk: state file %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	fprintf(f, "%s\n", SPFSTATE_HEADER);
	for (i = 0; i < s->n; i++) {
		if (s->d[i].n == 0)
			fprintf(f, "%s %" PRId64 " -\n", s->d[i].name,
			    s->d[i].when);
		for (k = 0; k < s->d[i].n; k++)
			fprintf(f, "%s %" PRId64 " %s\n", s->d[i].name,
			    s->d[i].when, cidr_ntop(&s->d[i].v[k], c,
			    sizeof(c)));
	}
	if (fflush(f) == EOF || ferror(f) || fsync(fileno(f)) == -1) {
		log_warn("spfwalk: state file: write %s", tmp);
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) == EOF) {
		log_warn("spfwalk: state file: close %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		log_warn("spfwalk: state file: rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	return 0;
}
