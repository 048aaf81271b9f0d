/*
 * cardinality.h - distinct members of a statsd set within one window, in
 * bounded memory: exact (a small open-addressing table of 64-bit member
 * hashes) up to VT_CARD_EXACT_MAX members, then a HyperLogLog with
 * 2^VT_CARD_HLL_BITS registers (relative error about 1.04/sqrt(2^bits)).
 *
 * A value: init/fini, reset keeps memory.
 */
#ifndef VT_CARDINALITY_H
#define VT_CARDINALITY_H

#include <stddef.h>
#include <stdint.h>

#define VT_CARD_EXACT_MAX 1024
#define VT_CARD_HLL_BITS 12

struct vt_cardinality {
	uint64_t *table;     /* exact mode: hashes, 0 = empty slot */
	uint32_t cap, used;
	uint8_t *registers;  /* HLL mode when non-NULL */
	int has_zero;        /* the member whose hash is 0 was seen */
};

void vt_card_init(struct vt_cardinality *c);
void vt_card_fini(struct vt_cardinality *c);
void vt_card_reset(struct vt_cardinality *c);
void vt_card_add(struct vt_cardinality *c, uint64_t member_hash);
double vt_card_count(const struct vt_cardinality *c);
size_t vt_card_memory(const struct vt_cardinality *c);

#endif
