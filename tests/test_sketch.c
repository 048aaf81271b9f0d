/*
 * test_sketch.c - the quantile sketch against exactly sorted samples, and
 * the 1/5/15-minute history.
 *
 * The guarantee tested (sketch.h): with n the total weight and x_(r) the
 * value of 0-based rank r = floor(q * (n-1)) among the samples in order,
 * |estimate - x_(r)| <= a' |x_(r)| with a' = (gamma-1)/(gamma+1), gamma =
 * 2^(1/35) (a' = 0.99 %, within the advertised 1 %). Only a 1e-12 relative
 * slack for the floating-point evaluation of the representative is added.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/agg/sketch.h"
#include "collector/base/vt_types.h"
#include "suites.h"

#define GAMMA_T exp2(1.0 / VT_SKETCH_BUCKETS_PER_OCTAVE)
#define ALPHA_T ((GAMMA_T - 1) / (GAMMA_T + 1))

/* ---- deterministic random numbers (splitmix64) ------------------------ */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static double rng_unit(struct rng *r)          /* (0, 1) */
{
	return ((double)(rng_next(r) >> 11) + 0.5) * 0x1p-53;
}

static double rng_normal(struct rng *r)
{
	return sqrt(-2 * log(rng_unit(r))) * cos(2 * M_PI * rng_unit(r));
}

static double gen_uniform(struct rng *r, size_t i)
{
	(void)i;
	return 1 + 999 * rng_unit(r);
}

static double gen_exponential(struct rng *r, size_t i)
{
	(void)i;
	return -50 * log(rng_unit(r));
}

static double gen_lognormal(struct rng *r, size_t i)
{
	(void)i;
	return exp(log(20) + 1.2 * rng_normal(r));
}

static double gen_bimodal(struct rng *r, size_t i)
{
	(void)i;
	double mode = rng_unit(r) < 0.7 ? 1.0 : 500.0;
	return mode * exp(0.05 * rng_normal(r));
}

static double gen_single(struct rng *r, size_t i)
{
	(void)r;
	(void)i;
	return 42.4242;
}

static double gen_wide(struct rng *r, size_t i)   /* log-uniform 1e-3..1e6 */
{
	(void)i;
	return pow(10, -3 + 9 * rng_unit(r));
}

static double gen_signed(struct rng *r, size_t i)
{
	(void)i;
	double v = pow(10, -2 + 5 * rng_unit(r));
	return rng_unit(r) < 0.4 ? -v : v;
}

static double gen_with_zeros(struct rng *r, size_t i)
{
	return i % 5 == 0 ? 0.0 : i % 5 == 1 ? -1e-12 : gen_signed(r, i);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static const double qs[] = {
	0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1
};
#define NQS (sizeof qs / sizeof qs[0])

/* Assert the guarantee for q; sorted[] holds every copy of every sample. */
static void check_q(const struct vt_sketch *s, const double *sorted,
    size_t n, double q, const char *what)
{
	size_t r = (size_t)floor(q * (double)(n - 1));
	double exact = sorted[r];
	if (fabs(exact) < VT_SKETCH_MIN_VALUE)
		exact = 0;     /* the sketch's zero bucket, by definition */
	double est = vt_sketch_quantile(s, q);
	double tol = ALPHA_T * fabs(exact) * (1 + 1e-12);
	if (exact == 0)
		ck_assert_msg(est == 0, "%s q=%g: %.17g for exact 0", what, q,
		    est);
	ck_assert_msg(fabs(est - exact) <= tol,
	    "%s q=%g: estimate %.17g exact %.17g (rank %zu of %zu)", what, q,
	    est, exact, r, n);
}

/* ---- distributions, table-driven -------------------------------------- */

struct dist_case {
	const char *name;
	double (*gen)(struct rng *, size_t);
	size_t n;
	unsigned weight;     /* integer weight: sample rate 1/weight */
};

static const struct dist_case dist_cases[] = {
	{ .name = "uniform", .gen = gen_uniform, .n = 20000, .weight = 1 },
	{ .name = "exponential", .gen = gen_exponential, .n = 20000,
	  .weight = 1 },
	{ .name = "lognormal", .gen = gen_lognormal, .n = 50000, .weight = 1 },
	{ .name = "bimodal", .gen = gen_bimodal, .n = 20000, .weight = 1 },
	{ .name = "single", .gen = gen_single, .n = 1, .weight = 1 },
	{ .name = "single x100", .gen = gen_single, .n = 100, .weight = 1 },
	{ .name = "two", .gen = gen_uniform, .n = 2, .weight = 1 },
	{ .name = "wide 1e-3..1e6", .gen = gen_wide, .n = 30000, .weight = 1 },
	{ .name = "negative", .gen = gen_signed, .n = 20000, .weight = 1 },
	{ .name = "zeros", .gen = gen_with_zeros, .n = 5000, .weight = 1 },
	{ .name = "rate 0.1", .gen = gen_lognormal, .n = 5000, .weight = 10 },
	{ .name = "rate 0.5 signed", .gen = gen_signed, .n = 3001,
	  .weight = 2 },
};

START_TEST(distribution_within_error)
{
	const struct dist_case *c = &dist_cases[_i];
	struct rng r = { .s = 12345 + (uint64_t)_i };
	struct vt_sketch s;
	size_t total = c->n * c->weight;
	double *all = malloc(total * sizeof *all);

	ck_assert_ptr_nonnull(all);
	vt_sketch_init(&s);
	ck_assert(isnan(vt_sketch_quantile(&s, 0.5)));
	for (size_t i = 0; i < c->n; i++) {
		double v = c->gen(&r, i);
		vt_sketch_add(&s, v, 1.0 / (1.0 / c->weight));
		for (unsigned k = 0; k < c->weight; k++)
			all[i * c->weight + k] = v;
	}
	ck_assert_double_eq_tol(s.count, (double)total, 1e-9 * total);
	qsort(all, total, sizeof *all, cmp_double);
	for (size_t k = 0; k < NQS; k++)
		check_q(&s, all, total, qs[k], c->name);
	vt_sketch_fini(&s);
	free(all);
}
END_TEST

/* Every percent 0..100 on a 7-sample set: the rank rule, not just tails. */
START_TEST(rank_rule_small_sets)
{
	static const double v[] = { 3, 1, 4, 1.5, 9, 2.6, 5.35 };
	double sorted[7];
	struct vt_sketch s;

	vt_sketch_init(&s);
	for (size_t i = 0; i < 7; i++) {
		vt_sketch_add(&s, v[i], 1);
		sorted[i] = v[i];
	}
	qsort(sorted, 7, sizeof *sorted, cmp_double);
	for (int p = 0; p <= 100; p++)
		check_q(&s, sorted, 7, p / 100.0, "seven");
	/* p50 of 7 values is the 4th (rank 3): 3, not its neighbours. */
	ck_assert_double_eq_tol(vt_sketch_quantile(&s, 0.5), 3, 0.03);
	vt_sketch_fini(&s);
}
END_TEST

/*
 * Single values all over the double range, and right at bucket boundaries:
 * the bucket is ceil(log_gamma x) (checked against long-double log2 away
 * from boundaries) and its representative is within a' of x.
 */
START_TEST(single_values_and_boundaries)
{
	struct rng r = { .s = 99 };
	struct vt_sketch s;

	vt_sketch_init(&s);
	for (int i = 0; i < 200000; i++) {
		double x;
		if (i < 3 * 2200) {
			/* boundaries 2^(k/35) and their neighbours */
			int k = i / 3 - 1000;
			x = exp2((double)k / VT_SKETCH_BUCKETS_PER_OCTAVE);
			if (i % 3 == 1)
				x = nextafter(x, INFINITY);
			else if (i % 3 == 2)
				x = nextafter(x, 0);
		} else {
			x = pow(2, -29 + 1050 * rng_unit(&r));
		}
		vt_sketch_reset(&s);
		vt_sketch_add(&s, x, 1);
		double est = vt_sketch_quantile(&s, 0.5);
		ck_assert_msg(fabs(est - x) <= ALPHA_T * x * (1 + 1e-12),
		    "x=%.17g est=%.17g", x, est);
		/* the key of the one non-empty bucket */
		int32_t key = INT32_MIN;
		for (uint32_t j = 0; j < s.pos.len; j++)
			if (s.pos.counts[j] != 0)
				key = s.pos.offset + (int32_t)j;
		long double exact = log2l(x) * VT_SKETCH_BUCKETS_PER_OCTAVE;
		if (fabsl(exact - roundl(exact)) > 1e-9L)
			ck_assert_int_eq(key, (int32_t)ceill(exact));
	}
	/* exact powers of two are the top of their bucket */
	vt_sketch_reset(&s);
	vt_sketch_add(&s, 1.0, 1);
	ck_assert_int_eq(s.pos.counts[0 - s.pos.offset], 1);
	vt_sketch_reset(&s);
	vt_sketch_add(&s, 1024.0, 1);
	ck_assert_int_eq(s.pos.counts[10 * 35 - s.pos.offset], 1);
	vt_sketch_add(&s, nextafter(1024.0, INFINITY), 1);
	ck_assert_int_eq(s.pos.counts[10 * 35 + 1 - s.pos.offset], 1);
	vt_sketch_fini(&s);
}
END_TEST

START_TEST(zero_and_tiny_values)
{
	struct vt_sketch s;
	vt_sketch_init(&s);
	vt_sketch_add(&s, 0, 1);
	vt_sketch_add(&s, 5e-10, 1);
	vt_sketch_add(&s, -5e-10, 1);
	ck_assert_double_eq(s.zero, 3);
	ck_assert_double_eq(vt_sketch_quantile(&s, 0), 0);
	ck_assert_double_eq(vt_sketch_quantile(&s, 1), 0);
	ck_assert_uint_eq(vt_sketch_memory(&s), 0);
	vt_sketch_add(&s, -7, 1);
	ck_assert_double_eq_tol(vt_sketch_quantile(&s, 0), -7, 0.07);
	vt_sketch_fini(&s);
}
END_TEST

/* Many quantiles in one walk answer what one walk per quantile does,
 * with negative, zero and positive values, ties at a bucket and ranks
 * clamped at both ends; an empty sketch answers NaN for each. */
START_TEST(quantiles_in_one_walk_match_one_at_a_time)
{
	static const double qv[] = { -0.5, 0, 0.001, 0.25, 0.5, 0.5, 0.9, 0.95,
	    0.99, 0.999, 1, 2 };
	size_t nq = sizeof qv / sizeof qv[0];
	double out[sizeof qv / sizeof qv[0]];
	struct vt_sketch s;
	vt_sketch_init(&s);
	vt_sketch_quantiles(&s, qv, nq, out);
	for (size_t i = 0; i < nq; i++)
		ck_assert(isnan(out[i]));
	unsigned seed = 7;
	for (int i = 0; i < 5000; i++) {
		double x = (double)(rand_r(&seed) % 20000) / 7.0 - 300;
		vt_sketch_add(&s, i % 50 == 0 ? 0 : x, 1 + i % 3);
	}
	vt_sketch_add(&s, 12.5, 400);   /* a tall bucket holds several ranks */
	vt_sketch_quantiles(&s, qv, nq, out);
	for (size_t i = 0; i < nq; i++) {
		double one;
		vt_sketch_quantiles(&s, &qv[i], 1, &one);
		ck_assert_msg(out[i] == one, "q=%g: %g in one walk, %g alone",
		    qv[i], out[i], one);
		if (i > 0)
			ck_assert(out[i] >= out[i - 1]);
	}
	ck_assert_double_eq_tol(out[1], -300, 300 * 0.02);
	ck_assert_double_eq_tol(out[nq - 1], 20000 / 7.0 - 300, 2557 * 0.02);
	vt_sketch_fini(&s);
}
END_TEST

static float bucket_weight(const struct vt_sketch_store *st, int32_t key)
{
	if (key < st->offset || key >= st->offset + (int32_t)st->len)
		return 0;
	return st->counts[key - st->offset];
}

/* Merging the windows of a stream equals one sketch fed the whole stream. */
START_TEST(merge_equals_feeding_all)
{
	struct rng r = { .s = 7 };
	struct vt_sketch all, merged, part[6];

	vt_sketch_init(&all);
	vt_sketch_init(&merged);
	for (int p = 0; p < 6; p++) {
		vt_sketch_init(&part[p]);
		for (int i = 0; i < 3000; i++) {
			/* each part sees a different range and sign mix */
			double v = p == 3 ? -gen_lognormal(&r, 0) :
			    gen_lognormal(&r, 0) * pow(10, p - 2);
			if (i % 50 == 0)
				v = 0;
			double w = (i % 4 == 0) ? 10 : 1;
			vt_sketch_add(&part[p], v, w);
			vt_sketch_add(&all, v, w);
		}
	}
	for (int p = 5; p >= 0; p--)
		vt_sketch_merge(&merged, &part[p]);
	ck_assert_double_eq(merged.count, all.count);
	for (int sign = 0; sign < 2; sign++) {
		const struct vt_sketch_store *a = sign ? &all.neg : &all.pos;
		const struct vt_sketch_store *m = sign ? &merged.neg : &merged.pos;
		for (uint32_t i = 0; i < a->len; i++)
			ck_assert_float_eq(a->counts[i],
			    bucket_weight(m, a->offset + (int32_t)i));
		for (uint32_t i = 0; i < m->len; i++)
			ck_assert_float_eq(m->counts[i],
			    bucket_weight(a, m->offset + (int32_t)i));
	}
	ck_assert_double_eq(merged.zero, all.zero);
	for (int k = 0; k <= 1000; k++) {
		double q = k / 1000.0;
		ck_assert_double_eq(vt_sketch_quantile(&merged, q),
		    vt_sketch_quantile(&all, q));
	}
	/* merging an empty sketch changes nothing */
	struct vt_sketch empty;
	vt_sketch_init(&empty);
	vt_sketch_merge(&merged, &empty);
	ck_assert_double_eq(vt_sketch_quantile(&merged, 0.99),
	    vt_sketch_quantile(&all, 0.99));
	vt_sketch_fini(&empty);
	for (int p = 0; p < 6; p++)
		vt_sketch_fini(&part[p]);
	vt_sketch_fini(&all);
	vt_sketch_fini(&merged);
}
END_TEST

/* Reset keeps the arrays: refilling the same range allocates nothing. */
START_TEST(reset_keeps_memory)
{
	struct rng r = { .s = 3 };
	struct vt_sketch s;

	vt_sketch_init(&s);
	for (int i = 0; i < 10000; i++)
		vt_sketch_add(&s, (i % 2 ? 1 : -1) * gen_lognormal(&r, 0), 1);
	size_t mem = vt_sketch_memory(&s);
	const float *pos = s.pos.counts, *neg = s.neg.counts;
	uint32_t poscap = s.pos.cap, negcap = s.neg.cap;
	double p99 = vt_sketch_quantile(&s, 0.99);
	ck_assert_uint_gt(mem, 0);

	vt_sketch_reset(&s);
	ck_assert_double_eq(s.count, 0);
	ck_assert(isnan(vt_sketch_quantile(&s, 0.5)));
	ck_assert_uint_eq(vt_sketch_memory(&s), mem);

	r.s = 3;
	for (int i = 0; i < 10000; i++)
		vt_sketch_add(&s, (i % 2 ? 1 : -1) * gen_lognormal(&r, 0), 1);
	ck_assert_ptr_eq(s.pos.counts, pos);
	ck_assert_ptr_eq(s.neg.counts, neg);
	ck_assert_uint_eq(s.pos.cap, poscap);
	ck_assert_uint_eq(s.neg.cap, negcap);
	ck_assert_uint_eq(vt_sketch_memory(&s), mem);
	ck_assert_double_eq(vt_sketch_quantile(&s, 0.99), p99);
	vt_sketch_fini(&s);
}
END_TEST

/*
 * Values 1e-8 .. 1e12 (about 2330 buckets) overflow VT_SKETCH_MAX_BUCKETS:
 * the store stays at the cap, the lowest buckets are folded, quantiles
 * whose exact value lies above the folded range keep the error bound.
 */
START_TEST(collapse_keeps_high_quantiles)
{
	struct rng r = { .s = 11 };
	struct vt_sketch s;
	size_t n = 40000;
	double *all = malloc(n * sizeof *all);

	ck_assert_ptr_nonnull(all);
	vt_sketch_init(&s);
	for (size_t i = 0; i < n; i++) {
		all[i] = pow(10, -8 + 20 * rng_unit(&r));
		vt_sketch_add(&s, all[i], 1);
	}
	qsort(all, n, sizeof *all, cmp_double);
	ck_assert_uint_eq(s.pos.len, VT_SKETCH_MAX_BUCKETS);
	ck_assert_uint_le(vt_sketch_memory(&s),
	    VT_SKETCH_MAX_BUCKETS * sizeof(float));
	double lowest = exp2((double)s.pos.offset / VT_SKETCH_BUCKETS_PER_OCTAVE);
	ck_assert_double_gt(lowest, 1e-8 * 100);  /* really collapsed */
	for (size_t k = 0; k < NQS; k++) {
		size_t rk = (size_t)floor(qs[k] * (double)(n - 1));
		if (all[rk] > lowest)
			check_q(&s, all, n, qs[k], "collapsed");
	}
	check_q(&s, all, n, 0.5, "collapsed median");
	/* the folded weight is all there: the minimum maps to the lowest
	 * kept bucket, and the count is exact */
	ck_assert_double_eq_tol(vt_sketch_quantile(&s, 0), lowest, lowest * 0.02);
	ck_assert_double_eq(s.count, (double)n);

	/* merging into a collapsed sketch folds the same way */
	struct vt_sketch t;
	vt_sketch_init(&t);
	vt_sketch_add(&t, 1e-15, 5);
	vt_sketch_merge(&s, &t);
	ck_assert_uint_eq(s.pos.len, VT_SKETCH_MAX_BUCKETS);
	ck_assert_double_eq(s.count, (double)n + 5);
	vt_sketch_fini(&t);
	vt_sketch_fini(&s);
	free(all);
}
END_TEST

/* Not an assertion: ns per vt_sketch_add (meaningful without sanitizers). */
START_TEST(add_speed)
{
	struct rng r = { .s = 5 };
	size_t n = 1 << 16;
	double *v = malloc(n * sizeof *v);
	struct vt_sketch s;
	struct timespec t0, t1;

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < n; i++)
		v[i] = gen_lognormal(&r, 0);
	vt_sketch_init(&s);
	for (size_t i = 0; i < n; i++)
		vt_sketch_add(&s, v[i], 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int rep = 0; rep < 64; rep++)
		for (size_t i = 0; i < n; i++)
			vt_sketch_add(&s, v[i], 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / (64.0 * (double)n);
	printf("sketch: vt_sketch_add %.2f ns/value (this build)\n", ns);
	ck_assert_double_eq(s.count, 65.0 * (double)n);
	vt_sketch_fini(&s);
	free(v);
}
END_TEST

/* ---- history ---------------------------------------------------------- */

static const double pcts[] = { 0, 50, 90, 99, 100 };
#define NP (sizeof pcts / sizeof pcts[0])

/* Add one 10 s window holding n copies of v (none when n = 0). */
static int add_window(struct vt_sketch_history *h, struct vt_sketch *w,
    double v, int n)
{
	vt_sketch_reset(w);
	for (int i = 0; i < n; i++)
		vt_sketch_add(w, v, 1);
	return vt_sketch_history_add_window(h, w, 10, pcts, NP);
}

START_TEST(history_first_minute)
{
	struct vt_sketch_history *h = vt_sketch_history_create();
	struct vt_sketch w, all;
	struct rng r = { .s = 17 };
	double out[NP + 1];

	vt_sketch_init(&w);
	vt_sketch_init(&all);
	for (int win = 0; win < 6; win++) {
		vt_sketch_history_quantiles(h, 1, out, NP);
		for (size_t i = 0; i < NP; i++)
			ck_assert(isnan(out[i]));
		vt_sketch_reset(&w);
		for (int i = 0; i < 100; i++) {
			double v = gen_lognormal(&r, 0);
			vt_sketch_add(&w, v, 1);
			vt_sketch_add(&all, v, 1);
		}
		int changed = vt_sketch_history_add_window(h, &w, 10, pcts, NP);
		ck_assert_int_eq(changed, win == 5);
	}
	for (int m = 1; m <= 15; m += (m == 1 ? 4 : 10)) {
		vt_sketch_history_quantiles(h, m, out, NP + 1);
		for (size_t i = 0; i < NP; i++)
			ck_assert_double_eq(out[i],
			    vt_sketch_quantile(&all, pcts[i] / 100));
		ck_assert(isnan(out[NP]));  /* not a cached percentile */
	}
	vt_sketch_fini(&w);
	vt_sketch_fini(&all);
	vt_sketch_history_destroy(h);
}
END_TEST

/* Minute k holds only the value k: windows are easy to read off p0/p100. */
START_TEST(history_windows_slide)
{
	struct vt_sketch_history *h = vt_sketch_history_create();
	struct vt_sketch w;
	double o1[NP], o5[NP], o15[NP];

	vt_sketch_init(&w);
	for (int minute = 1; minute <= 20; minute++) {
		for (int win = 0; win < 6; win++)
			add_window(h, &w, minute, 10);
		vt_sketch_history_quantiles(h, 1, o1, NP);
		vt_sketch_history_quantiles(h, 5, o5, NP);
		vt_sketch_history_quantiles(h, 15, o15, NP);
		int lo5 = minute > 5 ? minute - 4 : 1;
		int lo15 = minute > 15 ? minute - 14 : 1;
		ck_assert_double_eq_tol(o1[0], minute, 0.01 * minute);
		ck_assert_double_eq_tol(o1[4], minute, 0.01 * minute);
		ck_assert_double_eq_tol(o5[0], lo5, 0.01 * lo5);
		ck_assert_double_eq_tol(o5[4], minute, 0.01 * minute);
		ck_assert_double_eq_tol(o15[0], lo15, 0.01 * lo15);
		ck_assert_double_eq_tol(o15[4], minute, 0.01 * minute);
		/* the median of the 15 minutes is the middle minute */
		int mid15 = lo15 + (minute - lo15) / 2;
		ck_assert_double_eq_tol(o15[1], mid15, 0.01 * mid15);
	}
	/* an empty minute: 1 m is NaN, 5 m still sees minutes 17..20 */
	for (int win = 0; win < 6; win++)
		add_window(h, &w, 0, 0);
	vt_sketch_history_quantiles(h, 1, o1, NP);
	vt_sketch_history_quantiles(h, 5, o5, NP);
	ck_assert(isnan(o1[1]));
	ck_assert_double_eq_tol(o5[0], 17, 0.17);
	ck_assert_double_eq_tol(o5[4], 20, 0.2);
	/* fifteen empty minutes: everything NaN again */
	for (int i = 0; i < 14 * 6; i++)
		add_window(h, &w, 0, 0);
	vt_sketch_history_quantiles(h, 15, o15, NP);
	for (size_t i = 0; i < NP; i++)
		ck_assert(isnan(o15[i]));
	vt_sketch_fini(&w);
	vt_sketch_history_destroy(h);
}
END_TEST

/* Window lengths: a minute completes at the window nearest to 60 s. */
START_TEST(history_window_lengths)
{
	struct vt_sketch_history *h = vt_sketch_history_create();
	struct vt_sketch w;

	vt_sketch_init(&w);
	vt_sketch_add(&w, 3, 1);
	for (int i = 1; i <= 8; i++)
		ck_assert_int_eq(vt_sketch_history_add_window(h, &w, 15, pcts,
		    NP), i % 4 == 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(vt_sketch_history_add_window(h, &w, 60, pcts,
		    NP), 1);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(vt_sketch_history_add_window(h, &w, 300, pcts,
		    NP), 1);
	vt_sketch_history_destroy(h);

	/* measured intervals jitter around 10 s: still every 6th window */
	h = vt_sketch_history_create();
	for (int i = 1; i <= 60; i++) {
		double secs = i % 2 ? 9.98 : 10.01;
		ck_assert_int_eq(vt_sketch_history_add_window(h, &w, secs, pcts,
		    NP), i % 6 == 0);
	}
	vt_sketch_history_destroy(h);

	/* 7 s windows: minutes of 63, 56 and 63 s (carry 3, -1, 2) */
	h = vt_sketch_history_create();
	for (int i = 1; i <= 26; i++)
		ck_assert_int_eq(vt_sketch_history_add_window(h, &w, 7, pcts,
		    NP), i == 9 || i == 17 || i == 26);
	vt_sketch_fini(&w);
	vt_sketch_history_destroy(h);
}
END_TEST

/*
 * Memory of a realistic timer: ~100 latencies per 10 s window, lognormal
 * between 1 and 200 ms (median 20 ms). The history holds 15 encoded
 * minutes plus the minute in progress; the figure is printed.
 */
START_TEST(history_memory_realistic)
{
	struct vt_sketch_history *h = vt_sketch_history_create();
	struct vt_sketch w, last15;
	struct rng r = { .s = 23 };
	double out[NP];
	size_t peak = 0;

	vt_sketch_init(&w);
	vt_sketch_init(&last15);
	for (int minute = 0; minute < 30; minute++) {
		for (int win = 0; win < 6; win++) {
			vt_sketch_reset(&w);
			for (int i = 0; i < 100; i++) {
				double v = exp(log(20) + 0.9 * rng_normal(&r));
				v = v < 1 ? 1 : v > 200 ? 200 : v;
				vt_sketch_add(&w, v, 1);
				if (minute >= 15)
					vt_sketch_add(&last15, v, 1);
			}
			vt_sketch_history_add_window(h, &w, 10, pcts, NP);
			size_t m = vt_sketch_history_memory(h);
			peak = m > peak ? m : peak;
		}
	}
	/* the 15 m quantiles are those of the last 15 minutes, exactly */
	vt_sketch_history_quantiles(h, 15, out, NP);
	for (size_t i = 0; i < NP; i++)
		ck_assert_double_eq(out[i],
		    vt_sketch_quantile(&last15, pcts[i] / 100));
	printf("sketch: history of a 100-sample/10 s timer: %zu bytes peak, "
	    "window sketch %zu bytes\n", peak, vt_sketch_memory(&w));
	/* the budget: about 4 KB per timer history */
	ck_assert_uint_le(peak, 4096);
	vt_sketch_fini(&w);
	vt_sketch_fini(&last15);
	vt_sketch_history_destroy(h);
}
END_TEST

/* Histogram bucket counts from the bins: every value <= a bound is
 * counted, and no value more than one bucket (2.0 %) above it. */
START_TEST(counts_le_within_one_bucket)
{
	struct vt_sketch s;
	vt_sketch_init(&s);
	enum { N = 5000 };
	static double v[N];
	uint64_t seed = 42;
	for (size_t i = 0; i < N; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		double u = (double)(seed >> 11) / 9007199254740992.0;
		v[i] = (i % 10 == 0) ? -u * 50 : (i % 17 == 0) ? 0 :
		    exp(u * 12 - 4);   /* 0.018 .. 2981 */
		if (i % 7 == 0)
			v[i] = floor(v[i]);   /* values right on the bounds */
		vt_sketch_add(&s, v[i], 1);
	}
	const double bounds[] = { -INFINITY, -20, -1, 0, 0.5, 1, 5, 10, 25,
	    100, 250, 1000, INFINITY };
	size_t nb = sizeof bounds / sizeof bounds[0];
	double out[sizeof bounds / sizeof bounds[0]];
	vt_sketch_counts_le(&s, bounds, nb, out);
	for (size_t b = 0; b < nb; b++) {
		double lo = 0, hi = 0, x = bounds[b];
		double slack = x < 0 ? -x * 0.0201 : x * 0.0201;
		for (size_t i = 0; i < N; i++) {
			lo += v[i] <= x;
			hi += v[i] <= x + slack;
		}
		ck_assert_msg(out[b] >= lo && out[b] <= hi,
		    "bound %g: %g not in [%g, %g]", x, out[b], lo, hi);
		if (b > 0)
			ck_assert(out[b] >= out[b - 1]);
	}
	ck_assert_double_eq(out[nb - 1], N);
	ck_assert_double_eq(out[0], 0);
	/* exact on values that are the bounds themselves */
	struct vt_sketch t;
	vt_sketch_init(&t);
	vt_sketch_add(&t, 5, 1);
	vt_sketch_add(&t, 10, 2);
	vt_sketch_add(&t, 10.5, 4);
	const double b2[] = { 4.8, 5, 9.7, 10, 11 };
	double o2[5];
	vt_sketch_counts_le(&t, b2, 5, o2);
	ck_assert_double_eq(o2[0], 0);
	ck_assert_double_eq(o2[1], 1);
	ck_assert_double_eq(o2[2], 1);
	ck_assert_double_eq(o2[3], 3);
	ck_assert_double_eq(o2[4], 7);
	vt_sketch_fini(&t);
	vt_sketch_fini(&s);
}
END_TEST

Suite *vt_test_sketch_suite(void)
{
	Suite *s = suite_create("sketch");
	TCase *tc = tcase_create("sketch");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, distribution_within_error, 0,
	    (int)(sizeof dist_cases / sizeof dist_cases[0]));
	tcase_add_test(tc, rank_rule_small_sets);
	tcase_add_test(tc, single_values_and_boundaries);
	tcase_add_test(tc, zero_and_tiny_values);
	tcase_add_test(tc, quantiles_in_one_walk_match_one_at_a_time);
	tcase_add_test(tc, merge_equals_feeding_all);
	tcase_add_test(tc, reset_keeps_memory);
	tcase_add_test(tc, collapse_keeps_high_quantiles);
	tcase_add_test(tc, add_speed);
	tcase_add_test(tc, counts_le_within_one_bucket);
	suite_add_tcase(s, tc);

	TCase *th = tcase_create("history");
	tcase_add_test(th, history_first_minute);
	tcase_add_test(th, history_windows_slide);
	tcase_add_test(th, history_window_lengths);
	tcase_add_test(th, history_memory_realistic);
	suite_add_tcase(s, th);
	return s;
}
