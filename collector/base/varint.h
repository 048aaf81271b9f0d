/*
 * varint.h - LEB128 varints and zigzag, the one copy: the sketch's
 * compact form (agg/sketch.c), the native histograms' buckets
 * (agg/native_hist.c) and the protobuf exposition (prom/prom_proto.c)
 * all write and read them.
 *
 * A varint is 7 bits a byte, least significant first, the high bit set
 * on every byte but the last: at most VT_VARINT_MAX bytes for 64 bits.
 * Zigzag maps signed to unsigned so small magnitudes stay short:
 * 0, -1, 1, -2, ... -> 0, 1, 2, 3, ...
 */
#ifndef VT_VARINT_H
#define VT_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VT_VARINT_MAX 10

/* Write v at p (room for VT_VARINT_MAX bytes); returns the bytes. */
static inline size_t vt_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* The bytes vt_varint_put writes for v. */
static inline size_t vt_varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Read one varint at *pp, never past end, and advance *pp. A truncated
 * or overlong one yields what was read (callers read bytes they wrote
 * themselves, or bound what they accept). */
static inline uint64_t vt_varint_get(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	for (unsigned shift = 0; p < end && shift < 64; shift += 7) {
		uint8_t b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	*pp = p;
	return v;
}

static inline uint64_t vt_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t vt_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif
