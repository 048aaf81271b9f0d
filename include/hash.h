/*
 * hash.h - a fast 64-bit hash for names and set members (word at a time,
 * multiply-xorshift mixing). Not cryptographic.
 */
#ifndef VT_HASH_H
#define VT_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t vt_hash(const void *data, size_t len, uint64_t seed);

#endif
