/*
 * clock.h: the one time seam of the suite.
 *
 *	clock_now()		wall-clock seconds since the epoch (record times)
 *	clock_mono_ms()		monotonic milliseconds (pacing, timeouts)
 *	clock_ms_until(when)	ms from clock_mono_ms() to the deadline when:
 *				0 if it has passed, -1 if it is CLOCK_NEVER
 *				(the answer of a module's *_timeout())
 *	clock_fake_set(t)	tests: freeze clock_now() at t (and mono at t*1000)
 *	clock_fake_advance(s)	tests: move the frozen clock by s seconds
 *	clock_fake_off()	tests: back to the real clocks
 *
 * Programs never call time(2) or clock_gettime(2) directly, so a unit test
 * can replace time without sleeping.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

#define CLOCK_NEVER	UINT64_MAX	/* a deadline that is not set */

int64_t		clock_now(void);
uint64_t	clock_mono_ms(void);
int64_t		clock_ms_until(uint64_t);
void		clock_fake_set(int64_t);
void		clock_fake_advance(int64_t);
void		clock_fake_off(void);

#endif /* CLOCK_H */
