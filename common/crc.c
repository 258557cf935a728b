/*
 * crc.c: CRC-32 of short buffers, slicing by eight bytes (see crc.h).
 *
 * tab[0] is the byte-at-a-time table of the reflected polynomial
 * 0xEDB88320; tab[k][b] is the CRC of byte b followed by k zero bytes,
 * so eight bytes are folded by eight independent lookups. Words are read
 * a byte at a time, so the result does not depend on the byte order of
 * the machine or on alignment.
 */
#include <pthread.h>

#include "common/crc.h"

#define CRC_POLY	0xEDB88320u

static uint32_t		tab[8][256];
static pthread_once_t	tab_once = PTHREAD_ONCE_INIT;

static void
tab_build(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC_POLY : c >> 1;
		tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			tab[k][i] = (tab[k - 1][i] >> 8) ^
			    tab[0][tab[k - 1][i] & 0xff];
}

static inline uint32_t
get32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

uint32_t
crc_ieee(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = 0xffffffffu, lo, hi;

	(void)pthread_once(&tab_once, tab_build);
	for (; len >= 8; p += 8, len -= 8) {
		lo = c ^ get32le(p);
		hi = get32le(p + 4);
		c = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^
		    tab[5][(lo >> 16) & 0xff] ^ tab[4][lo >> 24] ^
		    tab[3][hi & 0xff] ^ tab[2][(hi >> 8) & 0xff] ^
		    tab[1][(hi >> 16) & 0xff] ^ tab[0][hi >> 24];
	}
	for (; len > 0; p++, len--)
		c = (c >> 8) ^ tab[0][(c ^ *p) & 0xff];
	return ~c;
}
