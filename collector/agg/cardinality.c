/*
 * cardinality.c - distinct set members per window: an exact open-addressing
 * table of member hashes up to VT_CARDINALITY_EXACT_MAX, then HyperLogLog.
 *
 * Exact mode: linear probing on a power-of-two table, load kept <= 3/4;
 * 0 marks an empty slot, so the member hashing to 0 is a flag. When a
 * member beyond VT_CARDINALITY_EXACT_MAX arrives, every stored hash is replayed
 * into the registers and the set stays in HyperLogLog mode until reset.
 *
 * HyperLogLog (Flajolet et al. 2007): register = top p bits, value = 1 +
 * leading zeros of the remaining 64 - p bits (64 - p + 1 when they are all
 * zero). Estimate alpha_m m^2 / sum 2^-M[j], except for small sets: while
 * registers are empty (V of them) and linear counting m ln(m / V) gives at
 * most 3 m, that is used instead. (The classic switch, raw estimate <=
 * 2.5 m, leaves a +1.5 % bias around 2.5 m; switching on the linear count
 * at 3 m measured unbiased within 0.5 % from 1,025 to 10^6 members, 1.1-2 %
 * standard error.) 64-bit hashes need no large-range correction.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/cardinality.h"
#include "collector/base/xmalloc.h"

#define HLL_M (1u << VT_CARDINALITY_HLL_BITS)
#define TABLE_MIN 16

void vt_cardinality_init(struct vt_cardinality *c)
{
	memset(c, 0, sizeof *c);
}

void vt_cardinality_fini(struct vt_cardinality *c)
{
	VT_FREE(c->table);
	VT_FREE(c->registers);
	memset(c, 0, sizeof *c);
}

void vt_cardinality_reset(struct vt_cardinality *c)
{
	if (c->used)
		memset(c->table, 0, c->cap * sizeof *c->table);
	c->used = 0;
	c->has_zero = 0;
	c->hll = 0;
}

static void hll_add(uint8_t *reg, uint64_t h)
{
	uint32_t idx = (uint32_t)(h >> (64 - VT_CARDINALITY_HLL_BITS));
	uint64_t rest = h << VT_CARDINALITY_HLL_BITS;
	uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) :
	    (uint8_t)(64 - VT_CARDINALITY_HLL_BITS + 1);
	if (rank > reg[idx])
		reg[idx] = rank;
}

/* Insert a non-zero hash; 1 if it was new. The table has a free slot. */
static int table_insert(uint64_t *table, uint32_t cap, uint64_t h)
{
	uint32_t mask = cap - 1;
	for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
		if (table[i] == h)
			return 0;
		if (table[i] == 0) {
			table[i] = h;
			return 1;
		}
	}
}

static void table_grow(struct vt_cardinality *c)
{
	uint32_t ncap = c->cap ? c->cap * 2 : TABLE_MIN;
	uint64_t *nt = vt_xcalloc(ncap, sizeof *nt);
	for (uint32_t i = 0; i < c->cap; i++)
		if (c->table[i])
			table_insert(nt, ncap, c->table[i]);
	free(c->table);
	c->table = nt;
	c->cap = ncap;
}

static void to_hll(struct vt_cardinality *c)
{
	if (c->registers == NULL)
		c->registers = vt_xcalloc(HLL_M, 1);
	else
		memset(c->registers, 0, HLL_M);
	for (uint32_t i = 0; i < c->cap; i++)
		if (c->table[i])
			hll_add(c->registers, c->table[i]);
	if (c->has_zero)
		hll_add(c->registers, 0);
	c->hll = 1;
}

static int table_contains(const struct vt_cardinality *c, uint64_t h)
{
	uint32_t mask = c->cap - 1;
	for (uint32_t i = (uint32_t)h & mask; c->table[i]; i = (i + 1) & mask)
		if (c->table[i] == h)
			return 1;
	return 0;
}

void vt_cardinality_prefetch(const struct vt_cardinality *c, uint64_t h)
{
	if (c->hll)
		__builtin_prefetch(&c->registers[h >> (64 - VT_CARDINALITY_HLL_BITS)], 1);
	else if (c->cap)
		__builtin_prefetch(&c->table[(uint32_t)h & (c->cap - 1)], 1);
}

void vt_cardinality_add(struct vt_cardinality *c, uint64_t h)
{
	if (c->hll) {
		hll_add(c->registers, h);
		return;
	}
	if (h == 0) {
		if (!c->has_zero && c->used + 1u > VT_CARDINALITY_EXACT_MAX) {
			to_hll(c);
			hll_add(c->registers, h);
			return;
		}
		c->has_zero = 1;
		return;
	}
	if (c->cap && table_contains(c, h))
		return;
	if (c->used + (uint32_t)c->has_zero + 1u > VT_CARDINALITY_EXACT_MAX) {
		to_hll(c);
		hll_add(c->registers, h);
		return;
	}
	if ((c->used + 1) * 4 > c->cap * 3)
		table_grow(c);
	c->used += (uint32_t)table_insert(c->table, c->cap, h);
}

double vt_cardinality_count(const struct vt_cardinality *c)
{
	if (!c->hll)
		return (double)c->used + c->has_zero;

	const double m = HLL_M;
	double sum = 0;
	uint32_t zeros = 0;
	for (uint32_t i = 0; i < HLL_M; i++) {
		sum += ldexp(1.0, -(int)c->registers[i]);
		zeros += c->registers[i] == 0;
	}
	if (zeros > 0) {
		double lc = m * log(m / zeros);
		if (lc <= 3 * m)
			return lc;
	}
	double alpha = 0.7213 / (1 + 1.079 / m);
	return alpha * m * m / sum;
}

size_t vt_cardinality_memory(const struct vt_cardinality *c)
{
	return (size_t)c->cap * sizeof *c->table +
	    (c->registers ? HLL_M : 0);
}
