/*
 * pace.h: the tarpit's pacing decision, apart from the sockets: does this
 * connection get its reply one byte per stutter interval, or at once?
 * con.c asks before every write; tests/unit/t_pace.c asks in virtual time.
 *
 *	pace_stutter(p, c, now_ms)	1 to send one byte and wait
 *		p->stutter_ms, 0 to send the rest at once
 *
 * The rules, as in OpenBSD's spamd: no stuttering at all with -s 0, nor
 * when the daemon is within 5 connections of -c maxcon (time is then
 * better spent on the others); a blacklisted client is stuttered at for
 * its whole dialogue while it is within -B maxblack (a listed client
 * beyond it gets its replies at once); a greylisted one for the first
 * -S seconds of its connection only.
 */
#ifndef PACE_H
#define PACE_H

#include <stddef.h>
#include <stdint.h>

struct pace_conf {
	uint64_t	stutter_ms;	/* -s; 0: never */
	int64_t		grey_stutter;	/* -S, seconds */
	size_t		maxcon;		/* -c */
};

struct pace_con {
	uint64_t	start_ms;	/* when it connected (monotonic) */
	int		listed;		/* on a blacklist */
	int		listed_stutter;	/* listed and within -B maxblack */
	size_t		nclients;	/* connections held now */
};

int	pace_stutter(const struct pace_conf *, const struct pace_con *,
	    uint64_t);

#endif /* PACE_H */
