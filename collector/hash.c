/*
 * hash.c - 64-bit hash, eight bytes at a time. Each word is mixed with a
 * 128-bit multiply fold (as in wyhash-style hashes, written from the idea,
 * not the code): fast on names of 10-60 bytes, good avalanche.
 */
#include <string.h>

#include "hash.h"

#define K0 0xa0761d6478bd642full
#define K1 0xe7037ed1a0b428dbull
#define K2 0x8ebc6af09c88c6e3ull

static inline uint64_t fold(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

uint64_t vt_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ K0 ^ (uint64_t)len * K2;
	size_t n = len;

	while (n >= 16) {
		h = fold(load64(p) ^ K1, load64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	if (n >= 8) {
		h = fold(load64(p) ^ K1, h ^ K2);
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		uint64_t tail = 0;
		memcpy(&tail, p, n);
		h = fold(tail ^ K2, h ^ K1);
	}
	return fold(h ^ K0, (uint64_t)len ^ K1);
}
