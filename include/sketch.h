/*
 * sketch.h - a bounded-memory, mergeable quantile sketch.
 *
 * Log-bucketed (DDSketch-style): a value x > 0 falls into bucket
 * ceil(log(x) / log(gamma)) with gamma = (1 + a) / (1 - a), so any quantile
 * it reports is within relative error a = VT_SKETCH_RELATIVE_ERROR of a
 * value of the true rank. Negative values have their own buckets, values
 * with |x| < VT_SKETCH_MIN_VALUE count as zero. At most VT_SKETCH_MAX_BUCKETS
 * buckets are kept per sign; past that the lowest buckets are collapsed
 * (their relative error grows, the high quantiles stay exact to a).
 *
 * Weights are floats so sample rates (weight 1/rate) need no rounding.
 *
 * A struct vt_sketch is a value: embed it, vt_sketch_init it, and
 * vt_sketch_fini it. It owns its bucket array. vt_sketch_reset keeps the
 * memory, so a window that is reset and refilled allocates nothing once its
 * range has been seen.
 */
#ifndef VT_SKETCH_H
#define VT_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define VT_SKETCH_RELATIVE_ERROR 0.01
#define VT_SKETCH_MIN_VALUE 1e-9
#define VT_SKETCH_MAX_BUCKETS 2048

struct vt_sketch_store {       /* contiguous buckets [offset, offset+len) */
	float *counts;
	int32_t offset;
	uint32_t len;              /* buckets in use */
	uint32_t cap;              /* buckets allocated */
};

struct vt_sketch {
	struct vt_sketch_store pos, neg;
	double zero;               /* weight of |x| < VT_SKETCH_MIN_VALUE */
	double count;              /* total weight */
};

void vt_sketch_init(struct vt_sketch *s);
void vt_sketch_fini(struct vt_sketch *s);

/* Forget all values, keep the memory. */
void vt_sketch_reset(struct vt_sketch *s);

/* Add x (finite) with weight w > 0. */
void vt_sketch_add(struct vt_sketch *s, double x, double w);

/* dst += src. */
void vt_sketch_merge(struct vt_sketch *dst, const struct vt_sketch *src);

/*
 * The q-quantile, q in [0, 1], of the values added; NaN when empty. The
 * caller clamps the result to the exact min/max it tracks itself.
 */
double vt_sketch_quantile(const struct vt_sketch *s, double q);

/* Bytes of heap memory the sketch holds (for memory accounting). */
size_t vt_sketch_memory(const struct vt_sketch *s);

/*
 * The 1-, 5- and 15-minute history of a timer: windows are merged into a
 * minute sketch; completed minutes are kept (compactly) for 15 minutes.
 * vt_sketch_history_quantiles answers over the last 1, 5 or 15 *complete*
 * minutes (fewer while the history is younger), NaN when they hold nothing.
 */
struct vt_sketch_history;

struct vt_sketch_history *vt_sketch_history_create(void);
void vt_sketch_history_destroy(struct vt_sketch_history *h);

/*
 * Add one closed window of `seconds` length. When the minute in progress
 * reaches 60 s it is completed and the cached quantiles are recomputed for
 * the given percentiles (0-100). Returns 1 if the cache changed.
 */
int vt_sketch_history_add_window(struct vt_sketch_history *h,
    const struct vt_sketch *window, double seconds,
    const double *percentiles, size_t npercentiles);

/* Copy the cached quantiles for minutes 1, 5 or 15 into out[npercentiles]. */
void vt_sketch_history_quantiles(const struct vt_sketch_history *h,
    int minutes, double *out, size_t npercentiles);

size_t vt_sketch_history_memory(const struct vt_sketch_history *h);

#endif
