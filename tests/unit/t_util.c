/*
 * t_util.c: unit tests for common/util.c (durations, sizes, waiting for
 * input) and common/compat.c.
 */
#include <stdint.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/compat.h"
#include "common/util.h"
#include "tests/unit/harness.h"

static const struct {
	const char	*in;
	int64_t		 unit, min, max;
	int64_t		 out;
	const char	*err;		/* NULL: accepted */
} time_cases[] = {
	{ "25", 60, 0, INT32_MAX, 1500, NULL },
	{ "5s", 60, 0, INT32_MAX, 5, NULL },
	{ "4h", 3600, 0, INT32_MAX, 14400, NULL },
	{ "864", 3600, 0, INT32_MAX, 3110400, NULL },
	{ "36d", 3600, 0, INT32_MAX, 3110400, NULL },
	{ "2m", 1, 0, INT32_MAX, 120, NULL },
	{ "0", 1, 0, 90, 0, NULL },
	{ "91", 1, 0, 90, 0, "too large" },
	{ "2m", 1, 0, 90, 0, "too large" },
	{ "-1", 1, 0, 90, 0, "invalid" },
	{ "+1", 1, 0, 90, 0, "invalid" },
	{ "", 1, 0, 90, 0, "invalid" },
	{ "s", 1, 0, 90, 0, "invalid" },
	{ "5x", 1, 0, 90, 0, "invalid" },
	{ "5 s", 1, 0, 90, 0, "invalid" },
	{ "99999999999999999999", 1, 0, INT64_MAX, 0, "too large" },
	{ "1s", 1, 2, 90, 0, "too small" },
};

static void
parse_time(void)
{
	size_t i;

	for (i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]); i++) {
		int64_t v = -7;
		const char *err;
		int rc = util_parse_time(time_cases[i].in, time_cases[i].unit,
		    time_cases[i].min, time_cases[i].max, &v, &err);

		if (time_cases[i].err == NULL) {
			if (rc != 0)
				t_fail("\"%s\" rejected: %s", time_cases[i].in,
				    err);
			T_EQ_INT(v, time_cases[i].out);
		} else {
			if (rc == 0)
				t_fail("\"%s\" accepted", time_cases[i].in);
			T_EQ_STR(err, time_cases[i].err);
			T_EQ_INT(v, -7);	/* untouched on error */
		}
	}
}

static void
fmt_time(void)
{
	char buf[32];

	T_EQ_STR(util_fmt_time(3110400, buf, sizeof(buf)), "36d");
	T_EQ_STR(util_fmt_time(5400, buf, sizeof(buf)), "1h30m");
	T_EQ_STR(util_fmt_time(5, buf, sizeof(buf)), "5s");
	T_EQ_STR(util_fmt_time(0, buf, sizeof(buf)), "0s");
}

static void
compat_strl(void)
{
	char buf[8];

	T_EQ_INT(strlcpy(buf, "spamd", sizeof(buf)), 5);
	T_EQ_STR(buf, "spamd");
	T_EQ_INT(strlcpy(buf, "greylisting", sizeof(buf)), 11);
	T_EQ_STR(buf, "greylis");
	T_EQ_INT(strlcpy(buf, "x", 0), 1);
	strlcpy(buf, "ab", sizeof(buf));
	T_EQ_INT(strlcat(buf, "cdefghij", sizeof(buf)), 10);
	T_EQ_STR(buf, "abcdefg");
}

static void
compat_strtonum(void)
{
	const char *e;

	T_EQ_INT(strtonum("10", 0, 10, &e), 10);
	T_ASSERT(e == NULL);
	T_EQ_INT(strtonum("11", 0, 10, &e), 0);
	T_EQ_STR(e, "too large");
	T_EQ_INT(strtonum("-1", 0, 10, &e), 0);
	T_EQ_STR(e, "too small");
	T_EQ_INT(strtonum("1a", 0, 10, &e), 0);
	T_EQ_STR(e, "invalid");
	T_EQ_INT(strtonum("", 0, 10, &e), 0);
	T_EQ_STR(e, "invalid");
	T_EQ_INT(strtonum("5", 10, 0, &e), 0);
	T_EQ_STR(e, "invalid");
}

/* The on-disk byte order: big-endian, whatever the host's. */
static void
byte_order(void)
{
	static const uint8_t want[12] = { 0x12, 0x34, 0x56, 0x78, 0x80, 0x00,
	    0x00, 0x01, 0xff, 0xff, 0xff, 0xfe };
	uint8_t b[12];

	util_put32(b, 0x12345678U);
	util_put64(b + 4, 0x80000001fffffffeULL);
	T_EQ_MEM(b, want, sizeof(want));
	T_EQ_INT(util_get32(b), 0x12345678U);
	T_ASSERT(util_get64(b + 4) == 0x80000001fffffffeULL);
	/* a negative time survives the round trip through the cast */
	util_put64(b, (uint64_t)(int64_t)-2);
	T_EQ_INT((int64_t)util_get64(b), -2);
}

static void
parse_size(void)
{
	static const struct {
		const char *in;
		int64_t out;	/* -1: refused */
	} c[] = {
		{ "0", 0 }, { "4096", 4096 }, { "64k", 65536 },
		{ "512M", 512LL << 20 }, { "2G", 2LL << 30 }, { "1m", 1 << 20 },
		{ "", -1 }, { "M", -1 }, { "-1M", -1 }, { "1T", -1 },
		{ "1.5M", -1 }, { "9999999999G", -1 },
	};
	char buf[16];
	const char *errstr;
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int rc = util_parse_size(c[i].in, 0, INT64_MAX / 2, &v,
		    &errstr);

		if (c[i].out == -1) {
			if (rc != -1 || errstr == NULL)
				t_fail("%s: accepted", c[i].in);
		} else if (rc != 0 || v != c[i].out)
			t_fail("%s: rc %d, %lld", c[i].in, rc, (long long)v);
	}
	T_EQ_INT(util_parse_size("10", 64, 100, &v, &errstr), -1);
	T_EQ_STR(errstr, "too small");
	T_EQ_STR(util_fmt_size(1000, buf, sizeof(buf)), "1000");
	T_EQ_STR(util_fmt_size(1536, buf, sizeof(buf)), "1.5k");
	T_EQ_STR(util_fmt_size(512LL << 20, buf, sizeof(buf)), "512.0M");
}

/* util_wait_in: data, the deadline, a hang-up, a deadline already gone. */
static void
wait_in(void)
{
	int p[2];
	uint64_t t0;

	T_ASSERT(pipe(p) == 0);
	t0 = clock_mono_ms();
	T_EQ_INT(util_wait_in(p[0], t0 + 60), 0);
	T_ASSERT(clock_mono_ms() - t0 >= 60);
	T_ASSERT(clock_mono_ms() - t0 < 5000);
	T_EQ_INT(util_wait_in(p[0], 0), 0);
	T_ASSERT(write(p[1], "x", 1) == 1);
	T_EQ_INT(util_wait_in(p[0], clock_mono_ms() + 5000), 1);
	T_ASSERT(read(p[0], &t0, 1) == 1);
	T_ASSERT(close(p[1]) == 0);
	t0 = clock_mono_ms();
	T_EQ_INT(util_wait_in(p[0], t0 + 5000), 1);	/* EOF is readable */
	T_ASSERT(clock_mono_ms() - t0 < 1000);
	T_ASSERT(close(p[0]) == 0);
}

const struct t_case t_cases[] = {
	T_CASE(parse_time),
	T_CASE(fmt_time),
	T_CASE(parse_size),
	T_CASE(compat_strl),
	T_CASE(compat_strtonum),
	T_CASE(byte_order),
	T_CASE(wait_in),
	{ NULL, NULL },
};
