/*
 * hash.h - a fast 64-bit hash for names and set members, eight bytes at a
 * time. Each word is mixed with a 128-bit multiply fold (as in
 * wyhash-style hashes, written from the idea, not the code): fast on names
 * of 10-60 bytes, good avalanche. Not cryptographic.
 *
 * Inline: the aggregator hashes every received line, and the call cost
 * as much as the hash of a short name.
 */
#ifndef VT_HASH_H
#define VT_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VT_HASH_K0 0xa0761d6478bd642full
#define VT_HASH_K1 0xe7037ed1a0b428dbull
#define VT_HASH_K2 0x8ebc6af09c88c6e3ull

static inline uint64_t vt_hash_fold_(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t vt_hash_load64_(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* The last 1..7 bytes as one word, without a variable-length memcpy. */
static inline uint64_t vt_hash_tail_(const unsigned char *p, size_t n)
{
	if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		return (uint64_t)a << 32 | b;
	}
	return (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
}

static inline uint64_t vt_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ VT_HASH_K0 ^ (uint64_t)len * VT_HASH_K2;
	size_t n = len;

	if (n > 16 && n <= 32) {    /* most names: no loop */
		h = vt_hash_fold_(vt_hash_load64_(p) ^ VT_HASH_K1,
		    vt_hash_load64_(p + 8) ^ h);
		p += n - 16;
		n = 16;
	}
	while (n > 16) {
		h = vt_hash_fold_(vt_hash_load64_(p) ^ VT_HASH_K1,
		    vt_hash_load64_(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	/* 0..16 bytes left: two (possibly overlapping) words cover them. */
	uint64_t a = 0, b = 0;
	if (n >= 8) {
		a = vt_hash_load64_(p);
		b = vt_hash_load64_(p + n - 8);
	} else if (n > 0) {
		a = vt_hash_tail_(p, n);
	}
	h = vt_hash_fold_(a ^ VT_HASH_K1, b ^ h ^ VT_HASH_K2);
	return vt_hash_fold_(h ^ VT_HASH_K0, (uint64_t)len ^ VT_HASH_K1);
}

#endif
