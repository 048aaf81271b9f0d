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

/* The last 1..7 bytes as one word, without a variable-length memcpy. */
static inline uint64_t load_tail(const unsigned char *p, size_t n)
{
	if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		return (uint64_t)a << 32 | b;
	}
	return (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
}

uint64_t vt_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ K0 ^ (uint64_t)len * K2;
	size_t n = len;

	while (n > 16) {
		h = fold(load64(p) ^ K1, load64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	/* 0..16 bytes left: two (possibly overlapping) words cover them. */
	uint64_t a = 0, b = 0;
	if (n >= 8) {
		a = load64(p);
		b = load64(p + n - 8);
	} else if (n > 0) {
		a = load_tail(p, n);
	}
	h = fold(a ^ K1, b ^ h ^ K2);
	return fold(h ^ K0, (uint64_t)len ^ K1);
}
