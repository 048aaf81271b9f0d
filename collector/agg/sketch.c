/*
 * sketch.c - the log-bucketed quantile sketch and the 1/5/15-minute
 * history of timers (see sketch.h for the error guarantee).
 *
 * Bucket index: x = (1 + m / 2^52) * 2^e for a normal double, so
 * ceil(log_gamma(x)) with gamma = 2^(1/35) is 35 * e + j, where j is the
 * smallest j with 2^(j/35) >= 1 + m / 2^52. The top 6 mantissa bits pick a
 * slot of width 1/64; the buckets are wider than that (at least 0.0200 in
 * mantissa), so a slot holds at most one bucket boundary: one table read
 * gives j for the slot's start, one compare against the boundary decides
 * j or j + 1. mant_limit[j] is the mantissa of the largest double not above
 * 2^(j/35) (irrational for 0 < j < 35), so the compare is exact.
 *
 * A store covers a contiguous key range [offset, offset + len), counts[i]
 * being key offset + i; empty buckets inside the range cost 4 bytes each.
 * The range only grows (with some slack, so growth is amortised) until it
 * would exceed VT_SKETCH_MAX_BUCKETS; then the lowest keys are folded into
 * the lowest kept bucket ("collapsed"). Reset zeroes the counts and keeps
 * the range, so the hot path of a reused window never allocates.
 *
 * History encoding of one sketch (all varints are LEB128):
 *   <zero weight token> <pos store> <neg store>
 *   store = varint(zigzag(first key)) varint(span) token...
 *   token = varint t, by t & 3:
 *     0  integer weight t >> 2, one key
 *     1  run of (t >> 2) + 1 empty keys
 *     2  one key, weight in the next 4 bytes (float)
 *     3  one key, weight in the next 8 bytes (double; only the zero bucket)
 * Raw weights are in native byte order: the bytes never leave the process.
 * An empty sketch encodes as nothing (NULL, length 0).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/sketch.h"
#include "collector/base/varint.h"
#include "collector/base/vt_types.h"
#include "collector/base/xmalloc.h"

#define OCTAVE VT_SKETCH_BUCKETS_PER_OCTAVE
#define MANT_BITS 52
#define MANT_MASK ((UINT64_C(1) << MANT_BITS) - 1)
#define GAMMA 1.0200016094211991   /* 2^(1/35) */
#define HISTORY_MINUTES 15

/* Smallest j with 2^(j/35) >= 1 + slot/64. */
static const uint8_t slot_first[64] = {
	0, 1, 2, 3, 4, 4, 5, 6, 6, 7, 8, 9, 9, 10, 10, 11,
	12, 12, 13, 14, 14, 15, 15, 16, 17, 17, 18, 18, 19, 19, 20, 20,
	21, 21, 22, 23, 23, 24, 24, 25, 25, 25, 26, 26, 27, 27, 28, 28,
	29, 29, 30, 30, 31, 31, 31, 32, 32, 33, 33, 33, 34, 34, 35, 35,
};

/* Mantissa bits of the largest double <= 2^(j/35); 2^52 for j = 35. */
static const uint64_t mant_limit[OCTAVE + 1] = {
	0x0000000000000u, 0x051ed35254d7au, 0x0a57de9c16bc7u,
	0x0faba81d4e5dfu, 0x151ab8c56eea2u, 0x1aa59c4115e7du,
	0x204ce10811781u, 0x2611186bae674u, 0x2bf2d6a54f7dau,
	0x31f2b2e54f85cu, 0x381147622f886u, 0x3e4f316812c2fu,
	0x44ad116889e7bu, 0x4b2b8b0aaf3c7u, 0x51cb453b9536cu,
	0x588cea3f093bdu, 0x5f7127c0ac329u, 0x6678aee5629f7u,
	0x6da4345d1e0adu, 0x74f470750179fu, 0x7c6a1f29e2ce6u,
	0x8406003b2ae5cu, 0x8bc8d73e1660fu, 0x93b36bb158ffeu,
	0x9bc68911258bfu, 0xa402feeb9c532u, 0xac69a0f5a241cu,
	0xb4fb472022b1au, 0xbdb8cdadbe120u, 0xc6a31548e794du,
	0xcfbb031a741a4u, 0xd90180e09c9e3u, 0xe2777d0676770u,
	0xec1deabbe3c14u, 0xf5f5c20dfe5f2u, 0x10000000000000u,
};

/* ceil(log_gamma(x)) for x >= VT_SKETCH_MIN_VALUE (a positive normal). */
static inline int32_t sketch_key(double x)
{
	uint64_t bits;
	memcpy(&bits, &x, sizeof bits);
	uint64_t mant = bits & MANT_MASK;
	int32_t e = (int32_t)(bits >> MANT_BITS) - 1023;
	uint32_t j = slot_first[mant >> (MANT_BITS - 6)];
	j += mant > mant_limit[j];
	return e * OCTAVE + (int32_t)j;
}

/* The representative 2 gamma^i / (gamma + 1) of bucket i. */
static double bucket_value(int32_t key)
{
	return exp2((double)key / OCTAVE) * (2.0 / (1.0 + GAMMA));
}

/* ---- stores ----------------------------------------------------------- */

static void store_fini(struct vt_sketch_store *st)
{
	VT_FREE(st->counts);
	st->offset = 0;
	st->len = st->cap = 0;
}

/* Lowest and highest non-empty key; 0 when the store is empty. */
static int store_extent(const struct vt_sketch_store *st, int32_t *lo,
    int32_t *hi)
{
	uint32_t a = 0, b = st->len;
	while (a < b && st->counts[a] == 0)
		a++;
	if (a == b)
		return 0;
	while (st->counts[b - 1] == 0)
		b--;
	*lo = st->offset + (int32_t)a;
	*hi = st->offset + (int32_t)b - 1;
	return 1;
}

/*
 * Make the store cover [lo, hi] plus up to slack_lo/slack_hi spare keys
 * below/above. Every non-empty bucket must already lie in [lo, hi]. When
 * hi - lo + 1 exceeds VT_SKETCH_MAX_BUCKETS, keys below the top
 * VT_SKETCH_MAX_BUCKETS are folded into the lowest kept bucket.
 */
static void store_fit(struct vt_sketch_store *st, int32_t lo, int32_t hi,
    uint32_t slack_lo, uint32_t slack_hi)
{
	uint32_t span = (uint32_t)(hi - lo) + 1;
	float folded = 0;
	int32_t end = st->offset + (int32_t)st->len;

	if (span > VT_SKETCH_MAX_BUCKETS) {
		lo = hi - (VT_SKETCH_MAX_BUCKETS - 1);
		for (int32_t k = st->offset; k < end && k < lo; k++) {
			folded += st->counts[k - st->offset];
			st->counts[k - st->offset] = 0;
		}
		span = VT_SKETCH_MAX_BUCKETS;
		slack_lo = slack_hi = 0;
	}
	uint32_t room = VT_SKETCH_MAX_BUCKETS - span;
	if (slack_hi > room)
		slack_hi = room;
	if (slack_lo > room - slack_hi)
		slack_lo = room - slack_hi;

	int32_t nlo = lo - (int32_t)slack_lo;
	uint32_t nlen = span + slack_lo + slack_hi;
	if (nlen > st->cap) {
		st->counts = vt_xrealloc(st->counts, nlen * sizeof *st->counts);
		st->cap = nlen;
	}
	/* Move the overlap of the old and new ranges, zero the rest. */
	int32_t a = st->offset > nlo ? st->offset : nlo;
	int32_t b = end < nlo + (int32_t)nlen ? end : nlo + (int32_t)nlen;
	if (st->len == 0 || a >= b)
		a = b = nlo;
	else
		memmove(st->counts + (a - nlo), st->counts + (a - st->offset),
		    (size_t)(b - a) * sizeof *st->counts);
	memset(st->counts, 0, (size_t)(a - nlo) * sizeof *st->counts);
	memset(st->counts + (b - nlo), 0,
	    (size_t)(nlo + (int32_t)nlen - b) * sizeof *st->counts);
	st->offset = nlo;
	st->len = nlen;
	st->counts[lo - nlo] += folded;
}

/* The bucket of key in a store that covers it (or has folded it). */
static inline float *store_slot(struct vt_sketch_store *st, int32_t key)
{
	return st->counts + (key < st->offset ? 0 : key - st->offset);
}

static void store_add_slow(struct vt_sketch_store *st, int32_t key, float w)
{
	int32_t lo, hi;

	/* A collapsed store whose top bucket is in use: fold, no scan. */
	if (st->len == VT_SKETCH_MAX_BUCKETS && key < st->offset &&
	    st->counts[st->len - 1] != 0) {
		st->counts[0] += w;
		return;
	}
	int grow_lo = st->len == 0 || key < st->offset;
	int grow_hi = st->len == 0 || key >= st->offset + (int32_t)st->len;
	if (store_extent(st, &lo, &hi)) {
		lo = key < lo ? key : lo;
		hi = key > hi ? key : hi;
	} else {
		lo = hi = key;
	}
	uint32_t slack = 16 + (uint32_t)(hi - lo) / 4;
	store_fit(st, lo, hi, grow_lo ? slack : 0, grow_hi ? slack : 0);
	*store_slot(st, key) += w;
}

static inline void store_add(struct vt_sketch_store *st, int32_t key, float w)
{
	uint32_t i = (uint32_t)key - (uint32_t)st->offset;
	if (i < st->len)
		st->counts[i] += w;
	else
		store_add_slow(st, key, w);
}

/* Make dst cover [lo, hi] exactly (no slack) unless it already does. */
static void store_cover(struct vt_sketch_store *dst, int32_t lo, int32_t hi)
{
	int32_t dlo, dhi;

	if (dst->len > 0 && lo >= dst->offset &&
	    hi < dst->offset + (int32_t)dst->len)
		return;
	if (store_extent(dst, &dlo, &dhi)) {
		lo = dlo < lo ? dlo : lo;
		hi = dhi > hi ? dhi : hi;
	}
	store_fit(dst, lo, hi, 0, 0);
}

static void store_merge(struct vt_sketch_store *dst,
    const struct vt_sketch_store *src)
{
	int32_t lo, hi;

	if (!store_extent(src, &lo, &hi))
		return;
	store_cover(dst, lo, hi);
	for (int32_t k = lo; k <= hi; k++) {
		float c = src->counts[k - src->offset];
		if (c != 0)
			*store_slot(dst, k) += c;
	}
}

static double store_total(const struct vt_sketch_store *st)
{
	double t = 0;
	for (uint32_t i = 0; i < st->len; i++)
		t += st->counts[i];
	return t;
}

/* ---- sketch ----------------------------------------------------------- */

void vt_sketch_init(struct vt_sketch *s)
{
	memset(s, 0, sizeof *s);
}

void vt_sketch_fini(struct vt_sketch *s)
{
	store_fini(&s->pos);
	store_fini(&s->neg);
	s->zero = s->count = 0;
}

void vt_sketch_reset(struct vt_sketch *s)
{
	if (s->pos.len)
		memset(s->pos.counts, 0, s->pos.len * sizeof *s->pos.counts);
	if (s->neg.len)
		memset(s->neg.counts, 0, s->neg.len * sizeof *s->neg.counts);
	s->zero = s->count = 0;
}

void vt_sketch_add(struct vt_sketch *s, double x, double w)
{
	s->count += w;
	if (x >= VT_SKETCH_MIN_VALUE)
		store_add(&s->pos, sketch_key(x), (float)w);
	else if (x <= -VT_SKETCH_MIN_VALUE)
		store_add(&s->neg, sketch_key(-x), (float)w);
	else
		s->zero += w;
}

void vt_sketch_prefetch(const struct vt_sketch *s, double x)
{
	const struct vt_sketch_store *st = x >= VT_SKETCH_MIN_VALUE ? &s->pos :
	    x <= -VT_SKETCH_MIN_VALUE ? &s->neg : NULL;
	if (st == NULL || st->counts == NULL)
		return;
	int64_t i = (int64_t)sketch_key(x < 0 ? -x : x) - st->offset;
	if (i >= 0 && i < (int64_t)st->len)
		__builtin_prefetch(&st->counts[i], 1);
}

void vt_sketch_merge(struct vt_sketch *dst, const struct vt_sketch *src)
{
	store_merge(&dst->pos, &src->pos);
	store_merge(&dst->neg, &src->neg);
	dst->zero += src->zero;
	dst->count += src->count;
}

/*
 * Walk buckets from the most negative value up; the answer is the first
 * bucket whose cumulative weight exceeds q * (n - 1). n is summed from the
 * buckets themselves so float rounding cannot push the rank off the end.
 */
/* One walk from the smallest bucket up answers every quantile: qs are
 * ascending, so each rank is met after the one before it. */
void vt_sketch_quantiles(const struct vt_sketch *s, const double *qs,
    size_t nq, double *out)
{
	const struct vt_sketch_store *neg = &s->neg, *pos = &s->pos;
	double n = s->zero + store_total(neg) + store_total(pos);
	double last = NAN, cum = 0;
	double rank[VT_SKETCH_MAX_QUANTILES];
	size_t k = 0;

	if (nq > VT_SKETCH_MAX_QUANTILES)
		nq = VT_SKETCH_MAX_QUANTILES;
	if (!(n > 0)) {
		for (size_t i = 0; i < nq; i++)
			out[i] = NAN;
		return;
	}
	for (size_t i = 0; i < nq; i++) {
		double q = qs[i] < 0 ? 0 : qs[i] > 1 ? 1 : qs[i];
		rank[i] = q * (n - 1);
	}
/* Take a bucket of count c and value v: answer every rank it covers. */
#define TAKE(c, v) do { \
		last = (v); \
		cum += (c); \
		while (k < nq && cum > rank[k]) \
			out[k++] = last; \
	} while (0)
	for (uint32_t i = neg->len; i-- > 0 && k < nq;)
		if (neg->counts[i] != 0)
			TAKE(neg->counts[i], -bucket_value(neg->offset +
			    (int32_t)i));
	if (s->zero > 0 && k < nq)
		TAKE(s->zero, 0.0);
	for (uint32_t i = 0; i < pos->len && k < nq; i++)
		if (pos->counts[i] != 0)
			TAKE(pos->counts[i], bucket_value(pos->offset +
			    (int32_t)i));
#undef TAKE
	while (k < nq)
		out[k++] = last;
}

double vt_sketch_quantile(const struct vt_sketch *s, double q)
{
	double v;
	vt_sketch_quantiles(s, &q, 1, &v);
	return v;
}

/* Weight of the store's buckets with key <= hi (key >= lo for the
 * mirrored store: pass lo and hi as the range to sum). */
static double store_range(const struct vt_sketch_store *st, int64_t lo,
    int64_t hi)
{
	double t = 0;
	for (uint32_t i = 0; i < st->len; i++) {
		int64_t k = (int64_t)st->offset + i;
		if (k >= lo && k <= hi)
			t += st->counts[i];
	}
	return t;
}

void vt_sketch_counts_le(const struct vt_sketch *s, const double *bounds,
    size_t n, double *out)
{
	double neg_all = store_total(&s->neg);
	for (size_t i = 0; i < n; i++) {
		double b = bounds[i];
		if (isnan(b)) {
			out[i] = 0;
		} else if (b >= VT_SKETCH_MIN_VALUE) {
			double hi = isinf(b) ? (double)INT32_MAX : sketch_key(b);
			out[i] = neg_all + s->zero +
			    store_range(&s->pos, INT32_MIN, (int64_t)hi);
		} else if (b >= 0) {
			out[i] = neg_all + s->zero;
		} else if (b > -VT_SKETCH_MIN_VALUE) {
			out[i] = neg_all;
		} else if (isinf(b)) {
			out[i] = 0;
		} else {            /* -|v| <= b  <=>  |v| >= |b| */
			out[i] = store_range(&s->neg, sketch_key(-b),
			    INT32_MAX);
		}
	}
}

size_t vt_sketch_memory(const struct vt_sketch *s)
{
	return ((size_t)s->pos.cap + s->neg.cap) * sizeof(float);
}

/* ---- encoding --------------------------------------------------------- */

enum { TOK_INT = 0, TOK_SKIP = 1, TOK_FLOAT = 2, TOK_DOUBLE = 3 };

/* At most 5 bytes for a float weight, 9 for a double one. */
static size_t put_weight(uint8_t *p, double w)
{
	if (w >= 0 && w < 67108864.0 && w == floor(w))   /* < 2^26 */
		return vt_varint_put(p, (uint64_t)w << 2 | TOK_INT);
	float f = (float)w;
	if ((double)f == w) {
		p[0] = TOK_FLOAT;
		memcpy(p + 1, &f, sizeof f);
		return 1 + sizeof f;
	}
	p[0] = TOK_DOUBLE;
	memcpy(p + 1, &w, sizeof w);
	return 1 + sizeof w;
}

static size_t put_store(uint8_t *p, const struct vt_sketch_store *st)
{
	int32_t lo, hi;
	size_t n = 0;

	if (!store_extent(st, &lo, &hi)) {
		p[0] = p[1] = 0;
		return 2;
	}
	uint32_t zz = (uint32_t)vt_zigzag(lo);
	n += vt_varint_put(p + n, zz);
	n += vt_varint_put(p + n, (uint64_t)(hi - lo) + 1);
	for (int32_t k = lo; k <= hi;) {
		float c = st->counts[k - st->offset];
		if (c != 0) {
			n += put_weight(p + n, c);
			k++;
			continue;
		}
		uint64_t run = 0;
		while (st->counts[k - st->offset] == 0) {
			run++;
			k++;
		}
		n += vt_varint_put(p + n, (run - 1) << 2 | TOK_SKIP);
	}
	return n;
}

/* A malloc'd exact encoding of s (caller frees), NULL when s is empty. */
static uint8_t *sketch_encode(const struct vt_sketch *s, uint16_t *len)
{
	int32_t lo, hi;

	*len = 0;
	if (s->zero == 0 && !store_extent(&s->pos, &lo, &hi) &&
	    !store_extent(&s->neg, &lo, &hi))
		return NULL;
	size_t bound = 9 + 2 * (10 + 10 + 5 * (size_t)VT_SKETCH_MAX_BUCKETS);
	uint8_t *p = vt_xmalloc(bound);
	size_t n = put_weight(p, s->zero);
	n += put_store(p + n, &s->pos);
	n += put_store(p + n, &s->neg);
	*len = (uint16_t)n;
	return vt_xrealloc(p, n);
}

struct reader {
	const uint8_t *p;
	size_t len, pos;
};

static uint64_t get_varint(struct reader *r)
{
	const uint8_t *p = r->p + r->pos;
	uint64_t v = vt_varint_get(&p, r->p + r->len);
	r->pos = (size_t)(p - r->p);
	return v;
}

/* Read one token: returns the weight, or sets *skip to the empty run. */
static double get_token(struct reader *r, uint64_t *skip)
{
	uint64_t t = get_varint(r);
	float f;
	double d;

	*skip = 0;
	switch (t & 3) {
	case TOK_INT:
		return (double)(t >> 2);
	case TOK_SKIP:
		*skip = (t >> 2) + 1;
		return 0;
	case TOK_FLOAT:
		if (r->len - r->pos < sizeof f)
			break;
		memcpy(&f, r->p + r->pos, sizeof f);
		r->pos += sizeof f;
		return f;
	default:
		if (r->len - r->pos < sizeof d)
			break;
		memcpy(&d, r->p + r->pos, sizeof d);
		r->pos += sizeof d;
		return d;
	}
	r->pos = r->len;
	return 0;
}

static void get_store(struct reader *r, struct vt_sketch_store *st,
    double *count)
{
	uint32_t zz = (uint32_t)get_varint(r);
	int32_t lo = (int32_t)vt_unzigzag(zz);
	uint64_t span = get_varint(r);
	uint64_t skip;

	if (span == 0 || span > VT_SKETCH_MAX_BUCKETS)
		return;
	int32_t hi = lo + (int32_t)span - 1;
	store_cover(st, lo, hi);
	for (int32_t k = lo; k <= hi && r->pos < r->len;) {
		double w = get_token(r, &skip);
		if (skip) {
			k += (int32_t)skip;
			continue;
		}
		*store_slot(st, k) += (float)w;
		*count += w;
		k++;
	}
}

/* s += the sketch encoded in p[0..len). */
static void sketch_decode_add(struct vt_sketch *s, const uint8_t *p,
    size_t len)
{
	struct reader r = { .p = p, .len = len, .pos = 0 };
	uint64_t skip;

	if (len == 0)
		return;
	double z = get_token(&r, &skip);
	s->zero += z;
	s->count += z;
	get_store(&r, &s->pos, &s->count);
	get_store(&r, &s->neg, &s->count);
}

/* ---- history ---------------------------------------------------------- */

struct vt_sketch_history {
	uint8_t *progress;                    /* encoded minute in progress */
	uint8_t *minute[HISTORY_MINUTES];     /* ring of encoded minutes */
	uint16_t minute_len[HISTORY_MINUTES];
	uint16_t progress_len;
	uint8_t newest, nminutes, ncached;
	double progress_seconds;
	double cache[3][VT_MAX_PERCENTILES];  /* 1, 5, 15 minutes */
};

struct vt_sketch_history *vt_sketch_history_create(void)
{
	struct vt_sketch_history *h = vt_xcalloc(1, sizeof *h);
	for (int m = 0; m < 3; m++)
		for (int i = 0; i < VT_MAX_PERCENTILES; i++)
			h->cache[m][i] = NAN;
	return h;
}

void vt_sketch_history_destroy(struct vt_sketch_history *h)
{
	if (h == NULL)
		return;
	free(h->progress);
	for (int i = 0; i < HISTORY_MINUTES; i++)
		free(h->minute[i]);
	free(h);
}

static void history_fill(struct vt_sketch_history *h, int slot,
    const struct vt_sketch *acc, const double *percentiles)
{
	double qs[VT_SKETCH_MAX_QUANTILES];
	for (size_t i = 0; i < h->ncached; i++)
		qs[i] = percentiles[i] / 100.0;
	vt_sketch_quantiles(acc, qs, h->ncached, h->cache[slot]);
}

/* Recompute the cache: merge minutes newest first, sample at 1, 5, 15. */
static void history_recompute(struct vt_sketch_history *h,
    const double *percentiles, size_t npercentiles)
{
	struct vt_sketch acc;
	int n = h->nminutes;

	h->ncached = (uint8_t)(npercentiles < VT_MAX_PERCENTILES ?
	    npercentiles : VT_MAX_PERCENTILES);
	vt_sketch_init(&acc);
	for (int c = 1; c <= n; c++) {
		int idx = (h->newest + HISTORY_MINUTES - (c - 1)) %
		    HISTORY_MINUTES;
		sketch_decode_add(&acc, h->minute[idx], h->minute_len[idx]);
		if (c == 1)
			history_fill(h, 0, &acc, percentiles);
		if (c == (n < 5 ? n : 5))
			history_fill(h, 1, &acc, percentiles);
		if (c == n)
			history_fill(h, 2, &acc, percentiles);
	}
	vt_sketch_fini(&acc);
}

int vt_sketch_history_add_window(struct vt_sketch_history *h,
    const struct vt_sketch *window, double seconds,
    const double *percentiles, size_t npercentiles)
{
	struct vt_sketch acc;
	uint16_t len;

	if (h->progress_len == 0) {
		h->progress = sketch_encode(window, &h->progress_len);
	} else if (window->count > 0) {
		vt_sketch_init(&acc);
		sketch_decode_add(&acc, h->progress, h->progress_len);
		vt_sketch_merge(&acc, window);
		uint8_t *p = sketch_encode(&acc, &len);
		vt_sketch_fini(&acc);
		free(h->progress);
		h->progress = p;
		h->progress_len = len;
	}
	if (!(seconds > 0))
		seconds = 0;
	h->progress_seconds += seconds;
	if (h->progress_seconds + 0.5 * seconds < 60)
		return 0;
	/* Nearest to 60 s: carry the surplus or shortfall (at most 30 s). */
	double carry = h->progress_seconds - 60;
	h->progress_seconds = carry > 30 ? 30 : carry < -30 ? -30 : carry;

	/* Complete the minute: it replaces the oldest in the ring. */
	h->newest = (uint8_t)((h->newest + 1) % HISTORY_MINUTES);
	free(h->minute[h->newest]);
	h->minute[h->newest] = h->progress;
	h->minute_len[h->newest] = h->progress_len;
	h->progress = NULL;
	h->progress_len = 0;
	if (h->nminutes < HISTORY_MINUTES)
		h->nminutes++;
	history_recompute(h, percentiles, npercentiles);
	return 1;
}

void vt_sketch_history_quantiles(const struct vt_sketch_history *h,
    int minutes, double *out, size_t npercentiles)
{
	int slot = minutes <= 1 ? 0 : minutes <= 5 ? 1 : 2;
	for (size_t i = 0; i < npercentiles; i++)
		out[i] = i < h->ncached ? h->cache[slot][i] : NAN;
}

size_t vt_sketch_history_memory(const struct vt_sketch_history *h)
{
	size_t n = sizeof *h + h->progress_len;
	for (int i = 0; i < HISTORY_MINUTES; i++)
		n += h->minute_len[i];
	return n;
}
