/*
 * t_crc.c: unit tests for common/crc.c: crc_ieee gives zlib's crc32 for
 * every length from 0 to 300 at every alignment, for the known check
 * value, for all-zero and all-one bytes, and for a database record as
 * gd_encode writes it (so records written before crc.c still decode).
 */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "common/crc.h"
#include "common/gdata.h"
#include "common/util.h"
#include "tests/unit/harness.h"

static void
check_value(void)
{
	/* The CRC-32 check value of the nine digits. */
	T_ASSERT(crc_ieee("123456789", 9) == 0xCBF43926u);
	T_ASSERT(crc_ieee("", 0) == 0);
	T_ASSERT(crc_ieee(NULL, 0) == 0);
}

static void
like_zlib(void)
{
	uint8_t buf[320];
	uint32_t x = 2463534242u;
	size_t i, off, len;
	int fill;

	for (fill = 0; fill < 3; fill++) {
		for (i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = fill == 0 ? (uint8_t)x : fill == 1 ? 0 :
			    0xff;
		}
		for (off = 0; off < 8; off++)
			for (len = 0; off + len <= 300; len++)
				if (crc_ieee(buf + off, len) != (uint32_t)crc32(
				    0L, buf + off, (uInt)len))
					t_fail("fill %d, offset %zu, length "
					    "%zu: %08x, zlib %08lx", fill, off,
					    len, crc_ieee(buf + off, len),
					    crc32(0L, buf + off, (uInt)len));
	}
}

static void
record_as_before(void)
{
	struct gd_rec r, back;
	uint8_t buf[GD_REC_SIZE];
	const char *why = NULL;

	memset(&r, 0, sizeof(r));
	r.kind = GD_WHITE;
	r.bcount = 3;
	r.pcount = 7;
	r.first = 1700000000;
	r.pass = 1700001500;
	r.expire = 1703110000;
	gd_encode(&r, buf);
	/* What gd_encode wrote with zlib's crc32, before crc.c. */
	T_ASSERT(util_get32(buf + GD_REC_SIZE - 4) ==
	    (uint32_t)crc32(0L, buf, GD_REC_SIZE - 4));
	T_ASSERT(gd_decode(buf, sizeof(buf), &back, &why) == 0);
	T_EQ_INT(back.pcount, 7);
	buf[5] ^= 1;
	T_ASSERT(gd_decode(buf, sizeof(buf), &back, &why) == -1);
	T_ASSERT(why != NULL);
}

const struct t_case t_cases[] = {
	T_CASE(check_value),
	T_CASE(like_zlib),
	T_CASE(record_as_before),
	{ NULL, NULL }
};
