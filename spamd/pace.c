/*
 * pace.c: whether the tarpit stutters a reply (pace.h).
 */
#include "spamd/pace.h"

#define PACE_MAXCON_SLACK	5	/* no stutter this close to maxcon */

int
pace_stutter(const struct pace_conf *p, const struct pace_con *c,
    uint64_t now_ms)
{
	if (p->stutter_ms == 0 || c->nclients + PACE_MAXCON_SLACK >= p->maxcon)
		return 0;
	if (c->listed)
		return c->listed_stutter;
	return now_ms - c->start_ms < (uint64_t)p->grey_stutter * 1000;
}
