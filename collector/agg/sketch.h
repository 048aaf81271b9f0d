/*
 * sketch.h - a bounded-memory, mergeable quantile sketch.
 *
 * Log-bucketed (DDSketch-style). A value x > 0 falls into bucket
 *     i = ceil(log_gamma(x)),  gamma = 2^(1/35) = 1.020001...,
 * i.e. the bucket (gamma^(i-1), gamma^i], whose representative value is
 * 2 * gamma^i / (gamma + 1). gamma is the largest power-of-two root not
 * above (1 + a) / (1 - a) for a = VT_SKETCH_RELATIVE_ERROR, so 35 buckets
 * cover each doubling and the index is computed exactly from the bits of
 * the double (exponent, plus a 64-entry table and one compare on the
 * mantissa): no log() on the hot path.
 *
 * Error guarantee (copied into the README):
 *   Treat a value added with weight w as w copies, let n be the total
 *   weight and x_(0) <= ... <= x_(n-1) the values in order. For q in [0, 1]
 *   vt_sketch_quantile returns an estimate v of x_(r), r = floor(q * (n-1))
 *   (the value of 0-based rank r; DDSketch's rank rule), with
 *       |v - x_(r)| <= a' * |x_(r)|,   a' = (gamma-1)/(gamma+1) = 0.990 %
 *   which is within the 1 % of VT_SKETCH_RELATIVE_ERROR. Values with
 *   |x| < VT_SKETCH_MIN_VALUE count as exactly 0; negative values use a
 *   mirror store keyed by |x|, so the same bound holds for them. The bound
 *   holds for any data and any number of merges, as long as neither store
 *   has collapsed: a store keeps at most VT_SKETCH_MAX_BUCKETS buckets
 *   (values spanning more than 2^58.5 : 1, about 4e17 : 1), past that its
 *   buckets of smallest |x| are folded into the lowest kept one; quantiles
 *   landing in those folded buckets lose the bound, all others keep it.
 *   Bucket weights are floats: exact for integer weights while one bucket
 *   holds less than 2^24 (16.7 million) within one sketch.
 *
 * A struct vt_sketch is a value: embed it, vt_sketch_init it, and
 * vt_sketch_fini it. It owns its bucket arrays. vt_sketch_reset keeps the
 * memory and the covered range, so a window that is reset and refilled
 * allocates nothing once its range has been seen.
 */
#ifndef VT_SKETCH_H
#define VT_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define VT_SKETCH_RELATIVE_ERROR 0.01
#define VT_SKETCH_MIN_VALUE 1e-9
#define VT_SKETCH_MAX_BUCKETS 2048
#define VT_SKETCH_BUCKETS_PER_OCTAVE 35   /* gamma = 2^(1/35) */

struct vt_sketch_store {       /* contiguous buckets [offset, offset+len) */
	float *counts;             /* owned; counts[i] is bucket offset+i */
	int32_t offset;
	uint32_t len;              /* buckets covered (some may be 0) */
	uint32_t cap;              /* buckets allocated */
};

struct vt_sketch {             /* what an add of x > 0 touches comes first */
	struct vt_sketch_store pos;
	double count;              /* total weight */
	double zero;               /* weight of |x| < VT_SKETCH_MIN_VALUE */
	struct vt_sketch_store neg;   /* keyed by |x| */
};

void vt_sketch_init(struct vt_sketch *s);
void vt_sketch_fini(struct vt_sketch *s);

/* Forget all values, keep the memory (and the covered bucket range). */
void vt_sketch_reset(struct vt_sketch *s);

/* Add x (finite) with weight w > 0. Allocates only to widen the range. */
void vt_sketch_add(struct vt_sketch *s, double x, double w);

/* Hint the cache about the bucket x would land in, so a batch of adds
 * can overlap its memory latency. Changes nothing. */
void vt_sketch_prefetch(const struct vt_sketch *s, double x);

/* dst += src (bucket-wise sums: exact). src is only read. */
void vt_sketch_merge(struct vt_sketch *dst, const struct vt_sketch *src);

/*
 * The q-quantile, q in [0, 1], of the values added; NaN when empty. The
 * caller clamps the result to the exact min/max it tracks itself.
 */
double vt_sketch_quantile(const struct vt_sketch *s, double q);

/* Several quantiles in one walk over the buckets: qs ascending, at most
 * VT_SKETCH_MAX_QUANTILES of them; out[i] is vt_sketch_quantile(qs[i]). */
#define VT_SKETCH_MAX_QUANTILES 16
void vt_sketch_quantiles(const struct vt_sketch *s, const double *qs,
    size_t nq, double *out);

/*
 * Cumulative counts for histogram buckets: out[i] is the weight of the
 * values <= bounds[i] (bounds ascending, n of them), read from the
 * buckets, so exact up to one sketch bucket: every value <= bounds[i] is
 * counted, and a value above it is counted too when it shares the bound's
 * sketch bucket, i.e. lies less than gamma - 1 = 2.0 % above it (mirrored
 * for negative bounds: values up to 2.0 % of |bound| above it). Values
 * counted as 0 (|x| < VT_SKETCH_MIN_VALUE) are <= every bound >= 0.
 */
void vt_sketch_counts_le(const struct vt_sketch *s, const double *bounds,
    size_t n, double *out);

/* Bytes of heap memory the sketch holds (for memory accounting). */
size_t vt_sketch_memory(const struct vt_sketch *s);

/*
 * The 1-, 5- and 15-minute history of a timer: windows are merged into a
 * minute sketch; completed minutes are kept (compactly) for 15 minutes.
 * vt_sketch_history_quantiles answers over the last 1, 5 or 15 *complete*
 * minutes (fewer while the history is younger), NaN when they hold nothing.
 *
 * Storage: completed minutes are immutable, so each is kept as one exact
 * byte string: per store a varint start key and span, then one varint token
 * per bucket (integer weight, run of empty buckets, or a raw float weight
 * for fractional ones). A minute of a timer with ~600 latencies over a
 * 1-200 ms range takes about 200 bytes. The minute in progress is kept in
 * the same encoding (each window is decoded-merged-encoded), so a history
 * never holds a float array between windows. Quantiles are recomputed by
 * decoding minutes into a temporary sketch only when a minute completes.
 * A minute completes with the window that brings the seconds added since
 * the previous minute nearest to 60; the surplus or shortfall (at most
 * 30 s) carries over, so measured windows of 9.99 s complete a minute every
 * 6, windows of 7 s every 9 or 8 (60 s on average), and windows of 60 s or
 * more complete one each.
 */
struct vt_sketch_history;

/* Returns a new empty history; free it with vt_sketch_history_destroy. */
struct vt_sketch_history *vt_sketch_history_create(void);
void vt_sketch_history_destroy(struct vt_sketch_history *h);

/*
 * Add one closed window of `seconds` length (window is only read; it may be
 * reset afterwards). When the minute in progress reaches 60 s it is
 * completed and the cached quantiles are recomputed for the given
 * percentiles (0-100; the first VT_MAX_PERCENTILES are kept). Returns 1 if
 * the cache changed.
 */
int vt_sketch_history_add_window(struct vt_sketch_history *h,
    const struct vt_sketch *window, double seconds,
    const double *percentiles, size_t npercentiles);

/*
 * Copy the cached quantiles for minutes 1, 5 or 15 (other values pick the
 * next of these at or above, capped at 15) into out[npercentiles]; NaN for
 * percentiles not cached.
 */
void vt_sketch_history_quantiles(const struct vt_sketch_history *h,
    int minutes, double *out, size_t npercentiles);

/* Bytes of heap memory the history holds (requested sizes). */
size_t vt_sketch_history_memory(const struct vt_sketch_history *h);

#endif
