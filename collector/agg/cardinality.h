/*
 * cardinality.h - distinct members of a statsd set within one window, in
 * bounded memory: exact (a small open-addressing table of 64-bit member
 * hashes) up to VT_CARDINALITY_EXACT_MAX members, then a HyperLogLog with
 * 2^VT_CARDINALITY_HLL_BITS registers (relative error about 1.04/sqrt(2^bits)).
 *
 * A value: init/fini, reset keeps memory (the table and, once allocated,
 * the registers) and returns to exact mode. Callers pass hashes that are
 * already well mixed (vt_hash): the table probes from the low bits, the
 * HyperLogLog takes its register index from the top VT_CARDINALITY_HLL_BITS bits
 * and the rank from the leading zeros of the rest. Small HyperLogLog
 * estimates (up to 3 * 2^bits) use linear counting over empty registers.
 *
 * Memory: at most 16 KiB of table (2048 slots at load <= 3/4 for 1024
 * members) plus 4 KiB of registers once a window has overflowed.
 */
#ifndef VT_CARDINALITY_H
#define VT_CARDINALITY_H

#include <stddef.h>
#include <stdint.h>

#define VT_CARDINALITY_EXACT_MAX 1024
#define VT_CARDINALITY_HLL_BITS 12

struct vt_cardinality {
	uint64_t *table;     /* exact mode: hashes, 0 = empty slot */
	uint32_t cap, used;
	uint8_t *registers;  /* 2^VT_CARDINALITY_HLL_BITS, allocated on first use */
	int hll;             /* 1: HyperLogLog mode (registers in use) */
	int has_zero;        /* exact mode: the member whose hash is 0 was seen */
};

void vt_cardinality_init(struct vt_cardinality *c);
void vt_cardinality_fini(struct vt_cardinality *c);
void vt_cardinality_reset(struct vt_cardinality *c);
/* Hint the cache about where member_hash will be looked up. */
void vt_cardinality_prefetch(const struct vt_cardinality *c, uint64_t member_hash);
void vt_cardinality_add(struct vt_cardinality *c, uint64_t member_hash);
/* Distinct members added since init/reset: exact up to VT_CARDINALITY_EXACT_MAX,
 * then an estimate (about 1.6 % standard error). */
double vt_cardinality_count(const struct vt_cardinality *c);
/* Bytes of heap memory held. */
size_t vt_cardinality_memory(const struct vt_cardinality *c);

#endif
