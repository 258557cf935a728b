/*
 * t_clock.c: unit tests for common/clock.c: the fake clock, and
 * clock_ms_until, the answer of every module's *_timeout().
 */
#include "common/clock.h"
#include "tests/unit/harness.h"

static void
fake_and_until(void)
{
	uint64_t now;

	clock_fake_set(1700000000);
	T_EQ_INT(clock_now(), 1700000000);
	now = clock_mono_ms();
	T_EQ_INT(now, 1700000000ull * 1000);
	T_EQ_INT(clock_ms_until(CLOCK_NEVER), -1);
	T_EQ_INT(clock_ms_until(now + 2500), 2500);
	T_EQ_INT(clock_ms_until(now), 0);
	T_EQ_INT(clock_ms_until(now - 1), 0);
	T_EQ_INT(clock_ms_until(0), 0);
	clock_fake_advance(2);
	T_EQ_INT(clock_ms_until(now + 2500), 500);
	clock_fake_off();
	T_ASSERT(clock_mono_ms() != now + 2000);
}

const struct t_case t_cases[] = {
	T_CASE(fake_and_until),
	{ NULL, NULL }
};
