/*
 * crc.h: CRC-32 (the polynomial and result of zlib's crc32) for short
 * buffers, such as a database record's 36 bytes.
 *
 *	crc_ieee(p, len)	zlib's crc32(0, p, len)
 *
 * zlib takes a byte at a time below 64 bytes or so, each step waiting
 * for the last: 54 ns for a record. Eight bytes per step through eight
 * tables (slicing-by-8) take 13 ns, which the walk over a million
 * records and every greylisted tuple's record pay. Long buffers (the
 * journal) stay with zlib. The tables are built at the first call.
 */
#ifndef CRC_H
#define CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t	crc_ieee(const void *, size_t);

#endif
