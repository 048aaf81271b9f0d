/*
 * native_hist.h - the cumulative native (exponential) histogram of a timer
 * or histogram series, built from its window sketches, for Prometheus'
 * native histograms (exported in the protobuf exposition, prom_proto.h).
 *
 * Buckets: schema VT_NATIVE_HIST_SCHEMA (5), i.e. base 2^(1/32): native
 * bucket j holds |v| in (2^((j-1)/32), 2^(j/32)], in the exported unit
 * (seconds for timers, whose values arrive in ms: the caller passes
 * scale 1000). Negative values go to the mirror buckets, keyed by |v|;
 * |v| below VT_SKETCH_MIN_VALUE / scale is the zero bucket.
 *
 * Re-bucketing: the sketch (sketch.h, 35 buckets per doubling) does not
 * keep raw values, so each sketch bucket's weight goes whole to the native
 * bucket holding the sketch bucket's representative value
 * 2 gamma^k / (gamma + 1). A value v then lands in a native bucket whose
 * bounds lie within a factor b * (gamma + 1) / 2 of v on either side
 * (b = 2^(1/32)), so any estimate taken inside that bucket (which is what
 * histogram_quantile returns) is within
 *     b (gamma + 1) / 2 - 1 = 3.22 %, stated as 3.3 %,
 * of the value of the rank it estimates, against 1 % (0.99 %) for the
 * sketch's own quantiles. Two estimates of one rank, one from the native
 * histogram, one from the sketch, therefore differ by at most
 * 1.0322 * 1.0099 - 1 = 4.3 %. (Schema 6 would bring 2.1 %, but a sketch
 * bucket is then wider than a native one, so every other native bucket
 * stays empty: twice the spans for less than honest resolution.)
 *
 * Counts are integers, as Prometheus' integer histograms want: each window
 * adds round(weight) per native bucket, so unsampled timings are counted
 * exactly and a sampled one (|@rate) within half a count per bucket and
 * window.
 *
 * Storage: immutable and reference counted, so a closed window (flush.h)
 * shares it without a copy; a window without values keeps the old one as
 * is. The buckets are varint byte strings (deltas between neighbours,
 * runs of empty buckets), about 1.5 bytes per bucket: a timer spread over
 * 1-200 ms (245 buckets) takes 356 bytes flat, 560 at most with the two
 * levels below (5-55 ms, 112 buckets: 202 and 347).
 * Two levels keep a close proportional to the buckets the window touched
 * rather than to all the series has: a histogram is a shared base plus
 * its own buckets (the counts since the base), so a window with values
 * rebuilds only the small part; once that part outgrows a quarter of the
 * base, the next window folds both into a new base (amortised: each
 * bucket of the base is rewritten once per base/4 bytes of new buckets).
 */
#ifndef VT_NATIVE_HIST_H
#define VT_NATIVE_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "collector/agg/sketch.h"
#include "collector/base/ref.h"

#define VT_NATIVE_HIST_SCHEMA 5
#define VT_NATIVE_HIST_PER_OCTAVE 32        /* 2^schema */

struct vt_native_hist {
	struct vt_ref ref;         /* first; use retain/release */
	struct vt_native_hist *base;  /* one reference, or NULL; a base has
	                              no base of its own */
	uint64_t count;            /* zero + every bucket, base included */
	uint64_t zero;             /* the zero bucket */
	double zero_threshold;     /* VT_SKETCH_MIN_VALUE / scale */
	uint32_t neg_off;          /* where the negative buckets start */
	uint32_t len;              /* bytes of data */
	uint8_t data[];            /* own positive buckets, then negative:
	                              counts added to the base's */
};

/*
 * A new histogram (one reference): old's counts (NULL: none) plus the
 * values of window, in the unit value / scale. Takes over the caller's
 * reference to old (it is released, or returned when window is empty).
 * Returns NULL only when both are empty.
 */
struct vt_native_hist *vt_native_hist_add(struct vt_native_hist *old,
    const struct vt_sketch *window, double scale);

/* Another reference; returns h, non-const (see vt_ref_retain). */
struct vt_native_hist *vt_native_hist_retain(const struct vt_native_hist *h);
void vt_native_hist_release(struct vt_native_hist *h);   /* NULL ok */

/* Bytes of heap memory h holds, its base included (0 for NULL). */
size_t vt_native_hist_memory(const struct vt_native_hist *h);

/*
 * Walk the non-empty buckets of one sign in ascending index:
 *     struct vt_native_hist_iter it;
 *     vt_native_hist_iter_init(&it, h, negative);
 *     while (vt_native_hist_next(&it)) use it.index, it.count;
 * h NULL ok (no buckets). The base's and h's own buckets are added up.
 */
struct vt_native_hist_cursor {     /* one byte string */
	const uint8_t *p, *end;
	int32_t index;
	uint64_t count;
	int started;
};
struct vt_native_hist_iter {
	struct vt_native_hist_cursor base, own;
	int has_base, has_own;
	int32_t index;             /* of the current bucket */
	uint64_t count;            /* of the current bucket, > 0 */
};
void vt_native_hist_iter_init(struct vt_native_hist_iter *it,
    const struct vt_native_hist *h, int negative);
int vt_native_hist_next(struct vt_native_hist_iter *it);

/* The native bucket index of sketch key k (sketch bucket
 * (gamma^(k-1), gamma^k]) for values divided by scale: the bucket that
 * holds its representative value. Exposed for the tests. */
int32_t vt_native_hist_index(int32_t k, double scale);

#endif
