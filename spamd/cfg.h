/*
 * cfg.h: apply blacklist configuration lines (the format and the codec
 * are common/cfg.h) to spamd's lists.
 *
 *	cfg_apply(cl)		sdl_replace or sdl_clear; 0 or -1
 *	cfg_process(buf, len, st)	everything one config connection sent:
 *		split into lines (LF, an optional CR before it is dropped,
 *		empty lines skipped, a last line without LF counts), parse and
 *		apply each; every rejected line is logged at WARNING with its
 *		number and reason and leaves that list as it was; every
 *		applied line is logged at INFO. Returns the number rejected.
 *	cfg_job_new(buf, len, bounds)	cfg_process in steps and within
 *		bounds (NULL: none): the SMTP loop calls cfg_job_step(j,
 *		budget) once per loop iteration until it returns 1 (about
 *		budget blocks parsed or ranges sorted per call), then
 *		cfg_job_stats and cfg_job_free. buf must stay valid until
 *		then. NULL on no memory.
 */
#ifndef CFG_H
#define CFG_H

#include <stddef.h>

#include "common/cfg.h"

struct cfg_job;

struct cfg_stats {
	size_t		 lines;		/* non-empty lines seen */
	size_t		 applied;
	size_t		 rejected;
};

int	cfg_apply(const struct cfg_line *);
size_t	cfg_process(const char *, size_t, struct cfg_stats *);
struct cfg_job *cfg_job_new(const char *, size_t, const struct cfg_bounds *);
int	cfg_job_step(struct cfg_job *, size_t);
void	cfg_job_stats(const struct cfg_job *, struct cfg_stats *);
void	cfg_job_free(struct cfg_job *);

#endif /* CFG_H */
