/*
 * clock.c: real and fake clocks (see clock.h).
 *
 * The fake clock is process-wide state used only by tests; production code
 * never turns it on.
 */
#include <time.h>

#include "common/clock.h"
#include "common/log.h"

static int	fake_on;
static int64_t	fake_now;

int64_t
clock_now(void)
{
	struct timespec ts;

	if (fake_on)
		return fake_now;
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime(CLOCK_REALTIME)");
	return (int64_t)ts.tv_sec;
}

uint64_t
clock_mono_ms(void)
{
	struct timespec ts;

	if (fake_on)
		return (uint64_t)fake_now * 1000;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime(CLOCK_MONOTONIC)");
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
clock_ms_until(uint64_t when)
{
	uint64_t now;

	if (when == CLOCK_NEVER)
		return -1;
	now = clock_mono_ms();
	return when > now ? (int64_t)(when - now) : 0;
}

void
clock_fake_set(int64_t t)
{
	fake_on = 1;
	fake_now = t;
}

void
clock_fake_advance(int64_t secs)
{
	fake_now += secs;
}

void
clock_fake_off(void)
{
	fake_on = 0;
}
