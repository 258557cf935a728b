/*
 * cfg.c: apply blacklist configuration lines to spamd's lists, a whole
 * connection at once (cfg_process) or in steps between event-loop
 * iterations (cfg_job); see cfg.h. The line codec itself (cfg_parse,
 * cfg_encode, cfg_tag_check) is common/cfg.c, shared with spamd-setup.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "spamd/cfg.h"
#include "spamd/sdl.h"

int
cfg_apply(const struct cfg_line *cl)
{
	if (cl->clear)
		return sdl_clear(cl->tag) == -1 ? -1 : 0;
	return sdl_replace(cl->tag, cl->msg, cl->cidr, cl->ncidr);
}

/* ---- a connection's lines, applied in steps ---- */

enum job_state {
	JOB_LINE,		/* find and start the next line */
	JOB_PARSE,		/* its blocks */
	JOB_BUILD,		/* its ranges */
	JOB_DONE
};

struct cfg_job {
	const char		*buf, *p, *next;
	size_t			 len, lineno;
	struct cfg_bounds	 b;
	struct cfg_stats	 s;
	enum job_state		 state;
	struct cfg_parser	 ps;
	struct cfg_line		 cl;
	struct sdl_build	*build;
	char			 err[CFG_ERR_MAX];
};

struct cfg_job *
cfg_job_new(const char *buf, size_t len, const struct cfg_bounds *b)
{
	struct cfg_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->buf = j->p = buf;
	j->len = len;
	if (b != NULL)
		j->b = *b;
	else
		j->b.max_blocks = j->b.max_blocks6 = j->b.max_bytes =
		    CFG_LINE_MAX;
	return j;
}

void
cfg_job_free(struct cfg_job *j)
{
	if (j == NULL)
		return;
	sdl_build_free(j->build);
	cfg_line_free(&j->cl);
	free(j);
}

void
cfg_job_stats(const struct cfg_job *j, struct cfg_stats *st)
{
	*st = j->s;
}

static void
job_reject(struct cfg_job *j)
{
	j->s.rejected++;
	if (j->cl.tag[0] != '\0')
		log_warnx("config line %zu rejected, list %s left unchanged: "
		    "%s", j->lineno, j->cl.tag, j->err);
	else
		log_warnx("config line %zu rejected: %s", j->lineno, j->err);
	cfg_line_free(&j->cl);
	j->state = JOB_LINE;
}

/* sdl has said why */
static void
job_not_applied(struct cfg_job *j)
{
	j->s.rejected++;
	log_warnx("config line %zu not applied, list %s left unchanged",
	    j->lineno, j->cl.tag);
	sdl_build_free(j->build);
	j->build = NULL;
	cfg_line_free(&j->cl);
	j->state = JOB_LINE;
}

/* The line is parsed: clear the list at once, or start building it. */
static void
job_parsed(struct cfg_job *j)
{
	int rc;

	if (j->cl.clear) {
		rc = sdl_clear(j->cl.tag);
		if (rc == 0)
			log_info("list %s cleared", j->cl.tag);
		else if (rc == 1)
			log_info("list %s: nothing to clear, no such list",
			    j->cl.tag);
		if (rc == -1) {
			job_not_applied(j);
			return;
		}
		j->s.applied++;
		cfg_line_free(&j->cl);
		j->state = JOB_LINE;
		return;
	}
	if ((j->build = sdl_build_new(j->cl.tag, j->cl.msg, j->cl.cidr,
	    j->cl.ncidr)) == NULL) {
		job_not_applied(j);
		return;
	}
	j->state = JOB_BUILD;
}

int
cfg_job_step(struct cfg_job *j, size_t budget)
{
	const char *end = j->buf + j->len;
	size_t n;
	int rc;

	switch (j->state) {
	case JOB_LINE:
		for (;;) {
			if (j->p >= end) {
				j->state = JOB_DONE;
				return 1;
			}
			j->lineno++;
			if ((j->next = memchr(j->p, '\n', (size_t)(end -
			    j->p))) == NULL)
				j->next = end;
			n = (size_t)(j->next - j->p);
			if (n > 0 && j->p[n - 1] == '\r')
				n--;
			if (n > 0)
				break;
			j->p = j->next + 1;
		}
		j->s.lines++;
		rc = cfg_parse_begin(&j->ps, j->p, n, &j->b, &j->cl, j->err,
		    sizeof(j->err));
		j->p = j->next + 1;
		if (rc == -1)
			job_reject(j);
		else if (rc == 1)
			job_parsed(j);
		else
			j->state = JOB_PARSE;
		return 0;
	case JOB_PARSE:
		rc = cfg_parse_step(&j->ps, budget);
		if (rc == -1)
			job_reject(j);
		else if (rc == 1)
			job_parsed(j);
		return 0;
	case JOB_BUILD:
		rc = sdl_build_step(j->build, budget);
		if (j->cl.cidr != NULL && sdl_build_converted(j->build)) {
			/* the ranges hold them now: 24 bytes a block back */
			free(j->cl.cidr);
			j->cl.cidr = NULL;
		}
		if (rc == -1) {
			job_not_applied(j);
			return 0;
		}
		if (rc == 0)
			return 0;
		if (sdl_build_commit(j->build) == -1) {
			job_not_applied(j);
			return 0;
		}
		log_info("list %s: %zu IPv4 and %zu IPv6 blocks loaded",
		    j->cl.tag, j->cl.n4, j->cl.n6);
		if (j->cl.masked > 0)
			log_info("list %s: %zu blocks had host bits set; they "
			    "were cleared", j->cl.tag, j->cl.masked);
		j->s.applied++;
		sdl_build_free(j->build);
		j->build = NULL;
		cfg_line_free(&j->cl);
		j->state = JOB_LINE;
		return 0;
	case JOB_DONE:
		return 1;
	}
	return 1;
}

size_t
cfg_process(const char *buf, size_t len, struct cfg_stats *st)
{
	struct cfg_job *j;
	struct cfg_stats s = { 0, 0, 0 };

	if ((j = cfg_job_new(buf, len, NULL)) == NULL) {
		log_warnx("configuration: out of memory, nothing applied");
		if (st != NULL)
			*st = s;
		return 0;
	}
	while (cfg_job_step(j, SIZE_MAX) == 0)
		;
	cfg_job_stats(j, &s);
	cfg_job_free(j);
	if (st != NULL)
		*st = s;
	return s.rejected;
}
