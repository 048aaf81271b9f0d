/* test_agg.c - the aggregation maths and the metric table (agg.h). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collector/agg/agg.h"
#include "collector/base/line_result.h"
#include "suites.h"

static struct vt_selfstats stats;

static vt_agg *make_agg(size_t max_metrics, double ttl)
{
	struct vt_agg_config cfg = {
		.max_metrics = max_metrics,
		.metric_ttl = ttl,
		.npercentiles = 4,
		.percentiles = { 50, 90, 95, 99 },
	};
	memset(&stats, 0, sizeof stats);
	return vt_agg_create(&cfg, &stats);
}

static struct vt_sample sample(const char *name, enum vt_kind kind,
    double value, double rate, const char *tags)
{
	struct vt_sample s = {
		.name = { name, strlen(name) },
		.tags = { tags ? tags : "", tags ? strlen(tags) : 0 },
		.value = value,
		.sample_rate = rate,
		.kind = kind,
	};
	return s;
}

static enum vt_line_result rec(vt_agg *a, const char *name,
    enum vt_kind kind, double value)
{
	struct vt_sample s = sample(name, kind, value, 1, NULL);
	return vt_agg_record(a, &s);
}

static const struct vt_metric_window *find(const struct vt_flush *f,
    const char *service, const char *metric)
{
	for (size_t i = 0; i < f->nmetrics; i++)
		if (strcmp(f->metrics[i].series->service, service) == 0 &&
		    strcmp(f->metrics[i].series->metric, metric) == 0)
			return &f->metrics[i];
	return NULL;
}

START_TEST(counter_rate_sample_rate_and_decrements)
{
	vt_agg *a = make_agg(100, 3600);
	struct vt_sample s = sample("pay.hits", VT_COUNTER, 1, 0.1, NULL);
	ck_assert_int_eq(vt_agg_record(a, &s), VT_LINE_OK);
	ck_assert_int_eq(rec(a, "pay.hits", VT_COUNTER, -4), VT_LINE_OK);
	struct vt_flush *f = vt_agg_close_window(a, 1000, 10);
	const struct vt_metric_window *w = find(f, "pay", "hits");
	ck_assert_ptr_nonnull(w);
	ck_assert_double_eq_tol(w->count, 6, 1e-9);
	ck_assert_double_eq_tol(w->rate, 0.6, 1e-9);
	ck_assert_double_eq_tol(w->total, 10, 1e-9);   /* only adds */
	ck_assert_uint_eq(w->samples, 2);
	vt_flush_release(f);

	f = vt_agg_close_window(a, 1010, 10);          /* empty window */
	w = find(f, "pay", "hits");
	ck_assert_double_eq(w->count, 0);
	ck_assert_double_eq_tol(w->total, 10, 1e-9);
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(gauge_set_delta_and_kept)
{
	vt_agg *a = make_agg(100, 3600);
	rec(a, "q.depth", VT_GAUGE, 7);
	struct vt_sample s = sample("q.depth", VT_GAUGE, -2, 1, NULL);
	s.gauge_delta = 1;
	vt_agg_record(a, &s);
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	ck_assert_double_eq(find(f, "q", "depth")->value, 5);
	vt_flush_release(f);
	f = vt_agg_close_window(a, 20, 10);
	ck_assert_double_eq(find(f, "q", "depth")->value, 5);
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

/* A metric of the last run comes back live without samples: in the next
 * window with its last-seen time and a gauge's value, one with the lines
 * that follow (no second series), and gone after metric_ttl from its
 * last sample. */
START_TEST(restored_metric_is_live_until_it_expires)
{
	vt_agg *a = make_agg(2, 100);
	struct vt_slice k = { "q.depth", 7 };
	struct vt_slice svc = { "q", 1 }, met = { "depth", 5 };
	struct vt_series *s = vt_series_create(VT_GAUGE, svc, met, k, 0,
	    NULL, NULL, 0);
	ck_assert_int_eq(vt_agg_restore(a, s, 950, 7), 0);
	ck_assert_int_eq(vt_agg_restore(a, s, 950, 7), -1);   /* twice */
	ck_assert_uint_eq(vt_agg_size(a), 1);
	struct vt_flush *f = vt_agg_close_window(a, 1000, 10);
	const struct vt_metric_window *w = find(f, "q", "depth");
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(w->samples, 0);
	ck_assert_double_eq(w->value, 7);
	ck_assert_double_eq(w->last_seen, 950);
	vt_flush_release(f);
	ck_assert_int_eq(rec(a, "q.depth", VT_GAUGE, 9), VT_LINE_OK);
	ck_assert_uint_eq(vt_agg_size(a), 1);
	f = vt_agg_close_window(a, 1010, 10);
	ck_assert_double_eq(find(f, "q", "depth")->value, 9);
	vt_flush_release(f);
	/* The cap counts restored metrics too. */
	struct vt_slice k2 = { "q.b", 3 }, k3 = { "q.c", 3 };
	struct vt_slice mb = { "b", 1 }, mc = { "c", 1 };
	struct vt_series *s2 = vt_series_create(VT_COUNTER, svc, mb, k2, 0,
	    NULL, NULL, 0);
	struct vt_series *s3 = vt_series_create(VT_COUNTER, svc, mc, k3, 0,
	    NULL, NULL, 0);
	ck_assert_int_eq(vt_agg_restore(a, s2, 900, NAN), 0);
	ck_assert_int_eq(vt_agg_restore(a, s3, 900, NAN), -1);
	f = vt_agg_close_window(a, 1020, 10);        /* b: 120 s > ttl */
	vt_flush_release(f);
	f = vt_agg_close_window(a, 1030, 10);
	ck_assert_ptr_null(find(f, "q", "b"));
	ck_assert_ptr_nonnull(find(f, "q", "depth"));
	vt_flush_release(f);
	vt_series_release(s);
	vt_series_release(s2);
	vt_series_release(s3);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(timer_statistics)
{
	vt_agg *a = make_agg(100, 3600);
	for (int v = 1; v <= 100; v++)
		rec(a, "api.lat", VT_TIMER, v);
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	const struct vt_metric_window *w = find(f, "api", "lat");
	const struct vt_timer_window *t = vt_window_timer(w);
	ck_assert_ptr_nonnull(w->timer);
	ck_assert_double_eq(w->count, 100);
	ck_assert_double_eq(w->rate, 10);
	ck_assert_double_eq(t->sum, 5050);
	ck_assert_double_eq(t->min, 1);
	ck_assert_double_eq(t->max, 100);
	ck_assert_double_eq_tol(t->mean, 50.5, 1e-9);
	ck_assert_double_eq_tol(t->stddev, sqrt((100.0 * 100 - 1) / 12), 1e-6);
	ck_assert_ptr_nonnull(t->quantiles);
	ck_assert_double_eq_tol(t->quantiles[0], 50, 50 * 0.02 + 1);
	ck_assert_double_eq_tol(t->quantiles[3], 99, 99 * 0.02 + 1);
	ck_assert(t->quantiles[3] <= 100);
	ck_assert(isnan(t->quantiles_1m[0]));  /* no full minute yet */
	vt_flush_release(f);

	f = vt_agg_close_window(a, 20, 10);      /* empty window */
	w = find(f, "api", "lat");
	t = vt_window_timer(w);
	ck_assert_double_eq(w->count, 0);
	ck_assert(isnan(t->quantiles[0]) && isnan(t->min) && isnan(t->mean));
	ck_assert_double_eq(w->total, 100);      /* cumulative */
	ck_assert_double_eq(t->sum_total, 5050);
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(timer_minute_quantiles_after_a_minute)
{
	vt_agg *a = make_agg(100, 3600);
	struct vt_flush *f = NULL;
	for (int win = 0; win < 6; win++) {
		for (int v = 1; v <= 10; v++)
			rec(a, "api.lat", VT_TIMER, v * 10);
		vt_flush_release(f);
		f = vt_agg_close_window(a, 10.0 * (win + 1), 10);
	}
	const struct vt_metric_window *w = find(f, "api", "lat");
	ck_assert(!isnan(vt_window_timer(w)->quantiles_1m[0]));
	ck_assert_double_eq_tol(vt_window_timer(w)->quantiles_1m[0], 50, 2);
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(set_counts_distinct_members_per_window)
{
	vt_agg *a = make_agg(100, 3600);
	const char *members[] = { "alice", "bob", "alice", "carol", "bob" };
	for (size_t i = 0; i < 5; i++) {
		struct vt_sample s = sample("site.users", VT_SET, 0, 1, NULL);
		s.set_member = (struct vt_slice){ members[i], strlen(members[i]) };
		vt_agg_record(a, &s);
	}
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	ck_assert_double_eq(find(f, "site", "users")->value, 3);
	vt_flush_release(f);
	f = vt_agg_close_window(a, 20, 10);
	ck_assert_double_eq(find(f, "site", "users")->value, 0);
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(tag_order_does_not_matter_and_service_tag_names_service)
{
	vt_agg *a = make_agg(100, 3600);
	struct vt_sample s1 = sample("http.req", VT_COUNTER, 1, 1,
	    "service:shop,route:/a,code:200");
	struct vt_sample s2 = sample("http.req", VT_COUNTER, 2, 1,
	    "code:200,route:/a,service:shop");
	ck_assert_int_eq(vt_agg_record(a, &s1), VT_LINE_OK);
	ck_assert_int_eq(vt_agg_record(a, &s2), VT_LINE_OK);
	ck_assert_uint_eq(vt_agg_size(a), 1);
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	const struct vt_metric_window *w = find(f, "shop", "http.req");
	ck_assert_ptr_nonnull(w);
	ck_assert_double_eq(w->count, 3);
	ck_assert_uint_eq(w->series->nlabels, 2);
	ck_assert_str_eq(w->series->labels[0].key, "code");
	ck_assert_str_eq(w->series->labels[1].key, "route");
	ck_assert_str_eq(w->series->labels[1].value, "/a");
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

/* A service named by a tag and the same service as the name's first
 * component are one series (vitals-send and the client library tag, a
 * plain statsd client prefixes), in both orders and in batches. */
START_TEST(service_tag_and_prefix_are_one_series)
{
	vt_agg *a = make_agg(100, 3600);
	struct vt_sample l[] = {
		sample("requests", VT_COUNTER, 1, 1, "service:pay"),
		sample("pay.requests", VT_COUNTER, 2, 1, NULL),
		sample("http.req", VT_COUNTER, 4, 1, "route:/a"),
		sample("pay.http.req", VT_COUNTER, 8, 1, "route:/a"),
		sample("http.req", VT_COUNTER, 16, 1, "service:pay,route:/a"),
		/* a service with a dot keeps its own key: "a.b" + "x" is not
		 * the untagged "a.b.x" (service a) */
		sample("x", VT_COUNTER, 1, 1, "service:a.b"),
		sample("a.b.x", VT_COUNTER, 1, 1, NULL),
	};
	for (size_t i = 0; i < sizeof l / sizeof l[0]; i++)
		ck_assert_int_eq(vt_agg_record(a, &l[i]), VT_LINE_OK);
	struct vt_sample again[2] = { l[1], l[0] };
	enum vt_line_result res[2];
	vt_agg_record_batch(a, again, 2, res);
	ck_assert_uint_eq(vt_agg_size(a), 5);
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	const struct vt_metric_window *w = find(f, "pay", "requests");
	ck_assert_ptr_nonnull(w);
	ck_assert_double_eq(w->count, 6);
	w = find(f, "pay", "http.req");
	ck_assert_ptr_nonnull(w);
	ck_assert_double_eq(w->count, 24);
	ck_assert_uint_eq(w->series->nlabels, 1);
	ck_assert_ptr_nonnull(find(f, "a.b", "x"));
	ck_assert_ptr_nonnull(find(f, "a", "b.x"));
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(duplicate_tag_keys_rejected)
{
	vt_agg *a = make_agg(100, 3600);
	struct vt_sample s = sample("x.y", VT_COUNTER, 1, 1, "a:1,a:2");
	ck_assert_int_eq(vt_agg_record(a, &s), VT_LINE_BAD_TAGS);
	ck_assert_uint_eq(vt_agg_size(a), 0);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(type_conflict_keeps_first_kind)
{
	vt_agg *a = make_agg(100, 3600);
	ck_assert_int_eq(rec(a, "s.m", VT_COUNTER, 1), VT_LINE_OK);
	ck_assert_int_eq(rec(a, "s.m", VT_GAUGE, 1), VT_LINE_TYPE_CONFLICT);
	ck_assert_int_eq(rec(a, "s.m", VT_TIMER, 1), VT_LINE_TYPE_CONFLICT);
	ck_assert_int_eq(rec(a, "s.m", VT_COUNTER, 1), VT_LINE_OK);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(cap_on_distinct_metrics)
{
	vt_agg *a = make_agg(3, 3600);
	char name[32];
	int over = 0;
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "cap.m%d", i);
		if (rec(a, name, VT_COUNTER, 1) == VT_LINE_OVER_CAP)
			over++;
	}
	ck_assert_int_eq(over, 7);
	ck_assert_uint_eq(vt_agg_size(a), 3);
	ck_assert_uint_eq(stats.metrics_live, 3);
	ck_assert_int_eq(rec(a, "cap.m0", VT_COUNTER, 1), VT_LINE_OK);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(ttl_expiry_frees_and_keeps_others_findable)
{
	vt_agg *a = make_agg(100000, 30);
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "svc.m%d", i);
		ck_assert_int_eq(rec(a, name, VT_TIMER, i), VT_LINE_OK);
	}
	vt_flush_release(vt_agg_close_window(a, 10, 10));
	/* Keep the odd ones alive for a minute; the even ones go idle. */
	for (int t = 20; t <= 70; t += 10) {
		for (int i = 1; i < 5000; i += 2) {
			snprintf(name, sizeof name, "svc.m%d", i);
			rec(a, name, VT_TIMER, i);
		}
		vt_flush_release(vt_agg_close_window(a, t, 10));
	}
	ck_assert_uint_eq(vt_agg_size(a), 2500);
	ck_assert_uint_eq(stats.metrics_expired, 2500);
	ck_assert_uint_eq(stats.metrics_live, 2500);
	/* every survivor is still found (no duplicate series created) */
	for (int i = 1; i < 5000; i += 2) {
		snprintf(name, sizeof name, "svc.m%d", i);
		rec(a, name, VT_TIMER, i);
	}
	ck_assert_uint_eq(vt_agg_size(a), 2500);
	ck_assert_uint_eq(stats.metrics_created, 5000);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(forget_service_removes_only_it)
{
	vt_agg *a = make_agg(100, 3600);
	rec(a, "gone.a", VT_COUNTER, 1);
	rec(a, "gone.b", VT_GAUGE, 1);
	rec(a, "kept.a", VT_COUNTER, 1);
	ck_assert_uint_eq(vt_agg_forget_service(a, "gone"), 2);
	ck_assert_uint_eq(vt_agg_size(a), 1);
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	ck_assert_uint_eq(f->nmetrics, 1);
	ck_assert_ptr_nonnull(find(f, "kept", "a"));
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

/* The close sizes the flush's quantile store from a running count of
 * timers and histograms, kept as metrics come and go (forgotten,
 * expired, created again). Under SANITIZE=1 a count that fell short
 * would be a heap overflow here; in any build, every timer's window must
 * hold its own quantiles. */
START_TEST(quantile_store_follows_timers_that_come_and_go)
{
	vt_agg *a = make_agg(1000, 15);
	char name[32];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "%s.t%d", i % 2 ? "gone" : "kept", i);
		rec(a, name, i % 3 ? VT_TIMER : VT_HISTOGRAM, i);
		snprintf(name, sizeof name, "kept.c%d", i);
		rec(a, name, VT_COUNTER, 1);
	}
	ck_assert_uint_eq(vt_agg_forget_service(a, "gone"), 20);
	vt_flush_release(vt_agg_close_window(a, 10, 10));
	vt_flush_release(vt_agg_close_window(a, 30, 10));  /* all expire */
	ck_assert_uint_eq(vt_agg_size(a), 0);
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof name, "new.t%d", i);
		rec(a, name, VT_TIMER, 100 + i);
	}
	struct vt_flush *f = vt_agg_close_window(a, 40, 10);
	ck_assert_uint_eq(f->nmetrics, 30);
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof name, "t%d", i);
		const struct vt_metric_window *w = find(f, "new", name);
		ck_assert_ptr_nonnull(w);
		ck_assert_ptr_nonnull(vt_window_timer(w)->quantiles);
		const double *q = vt_window_timer(w)->quantiles;
		ck_assert(fabs(q[0] - (100 + i)) <= 0.01 * (100 + i));
	}
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(flush_outlives_expired_series)
{
	vt_agg *a = make_agg(100, 1);
	rec(a, "t.x", VT_COUNTER, 1);
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	vt_flush_release(vt_agg_close_window(a, 20, 10));   /* expires t.x */
	ck_assert_uint_eq(vt_agg_size(a), 0);
	ck_assert_str_eq(f->metrics[0].series->metric, "x");  /* still valid */
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(batch_matches_one_by_one)
{
	/* The same 40 samples, twice, through vt_agg_record_batch and
	 * through vt_agg_record give the same results and the same
	 * windows. */
	vt_agg *a = make_agg(20, 3600), *b = make_agg(20, 3600);
	struct vt_sample s[40];
	enum vt_line_result ra[40], rb[40];
	char names[40][16];
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof names[i], "svc.m%d", i % 25);
		enum vt_kind k = i == 30 ? VT_GAUGE : (i % 25) % 3 == 0 ?
		    VT_TIMER : VT_COUNTER;       /* i == 30: a type conflict */
		s[i] = sample(names[i], k, i, 1, i % 7 == 0 ? "z:1,a:2" : NULL);
	}
	/* Round 1 creates the metrics, round 2 finds them (stage 2's
	 * guesses); a gauge and a set join in round 2. */
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			s[5] = sample("svc.g", VT_GAUGE, 3, 1, NULL);
			s[6] = sample("svc.s", VT_SET, 0, 1, NULL);
			s[6].set_member = (struct vt_slice){ "u1", 2 };
		}
		vt_agg_record_batch(a, s, 40, ra);
		for (int i = 0; i < 40; i++)
			rb[i] = vt_agg_record(b, &s[i]);
		int over = 0, conflicts = 0;
		for (int i = 0; i < 40; i++) {
			ck_assert_int_eq(ra[i], rb[i]);
			over += ra[i] == VT_LINE_OVER_CAP;
			conflicts += ra[i] == VT_LINE_TYPE_CONFLICT;
		}
		ck_assert_int_gt(over, 0);    /* 25+ distinct keys, cap 20 */
		ck_assert_int_eq(conflicts, 1);
	}
	struct vt_flush *fa = vt_agg_close_window(a, 10, 10);
	struct vt_flush *fb = vt_agg_close_window(b, 10, 10);
	ck_assert_uint_eq(fa->nmetrics, fb->nmetrics);
	double sum_a = 0, sum_b = 0;
	for (size_t i = 0; i < fa->nmetrics; i++) {
		sum_a += fa->metrics[i].count;
		sum_b += fb->metrics[i].count;
	}
	ck_assert_double_eq(sum_a, sum_b);
	vt_flush_release(fa);
	vt_flush_release(fb);
	vt_agg_destroy(a);
	vt_agg_destroy(b);
}
END_TEST

/* Two windows agree field by field (NaN equal to NaN). */
static void assert_same_window(const struct vt_metric_window *x,
    const struct vt_metric_window *y)
{
	const struct vt_timer_window *tx = vt_window_timer(x);
	const struct vt_timer_window *ty = vt_window_timer(y);
	const double fx[] = { x->count, x->total, tx->sum, tx->min, tx->max,
	    x->value, tx->quantiles ? tx->quantiles[0] : 0 };
	const double fy[] = { y->count, y->total, ty->sum, ty->min, ty->max,
	    y->value, ty->quantiles ? ty->quantiles[0] : 0 };
	ck_assert((x->timer == NULL) == (y->timer == NULL));
	ck_assert_uint_eq(x->samples, y->samples);
	for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++)
		ck_assert(fx[i] == fy[i] || (isnan(fx[i]) && isnan(fy[i])));
}

START_TEST(batch_groups_kinds_and_keeps_each_metrics_order)
{
	/* A full batch of mixed kinds over metrics that exist: the batch
	 * applies it a kind at a time, and must still give each metric its
	 * lines in order. The gauge's sets and deltas end at 8 only in line
	 * order, and the timer's sum (1e16 first, then ones that round away)
	 * only in line order. Every window is compared with one-by-one
	 * recording. */
	vt_agg *a = make_agg(100, 3600), *b = make_agg(100, 3600);
	static const char *const names[] = { "k.c", "k.g", "k.t", "k.s",
	    "k.h", "k.c2" };
	static const enum vt_kind kinds[] = { VT_COUNTER, VT_GAUGE, VT_TIMER,
	    VT_SET, VT_HISTOGRAM, VT_COUNTER };
	static const char *const members[] = { "m0", "m1", "m2" };
	static const double gauge[] = { 5, 3, 10, -2 };  /* set +3 set -2 */
	struct vt_sample s[VT_AGG_BATCH];
	enum vt_line_result ra[VT_AGG_BATCH], rb[VT_AGG_BATCH];
	int ngauge = 0, ntimer = 0;

	for (size_t i = 0; i < 6; i++) {    /* create them: round 1 */
		struct vt_sample c = sample(names[i], kinds[i], 1, 1, NULL);
		c.set_member = (struct vt_slice){ "m0", 2 };
		c.gauge_delta = 0;
		ck_assert_int_eq(vt_agg_record(a, &c), VT_LINE_OK);
		ck_assert_int_eq(vt_agg_record(b, &c), VT_LINE_OK);
	}
	for (size_t i = 0; i < VT_AGG_BATCH; i++) {
		size_t k = (i * 7 + i / 5) % 6;      /* kinds interleaved */
		if (k == 1 && ngauge == 4)
			k = 0;
		double v = 0.1 * (double)(i + 1) + 1e-3 * (double)(i % 3);
		s[i] = sample(names[k], kinds[k], v, i % 4 ? 1 : 0.5, NULL);
		if (k == 1) {
			s[i].value = gauge[ngauge];
			s[i].gauge_delta = ngauge % 2;
			ngauge++;
		}
		if (kinds[k] == VT_SET)
			s[i].set_member = (struct vt_slice){ members[i % 3], 2 };
		if (kinds[k] == VT_TIMER) {     /* 1e16 + 1 + 1 ... rounds */
			s[i].value = ntimer++ ? 1 : 1e16;
			s[i].sample_rate = 1;
		}
	}
	ck_assert_int_eq(ngauge, 4);
	s[9] = sample("k.g", VT_COUNTER, 1, 1, NULL);   /* a type conflict */
	s[20] = sample("k.g", VT_GAUGE, 99, 1, "env:x"); /* another metric */
	s[33] = sample("k.new", VT_COUNTER, 2, 1, NULL); /* created here... */
	s[40] = sample("k.new", VT_COUNTER, 3, 1, NULL); /* ...then found */

	vt_agg_record_batch(a, s, VT_AGG_BATCH, ra);
	for (size_t i = 0; i < VT_AGG_BATCH; i++) {
		rb[i] = vt_agg_record(b, &s[i]);
		ck_assert_int_eq(ra[i], rb[i]);
	}
	ck_assert_int_eq(ra[9], VT_LINE_TYPE_CONFLICT);
	struct vt_flush *fa = vt_agg_close_window(a, 10, 10);
	struct vt_flush *fb = vt_agg_close_window(b, 10, 10);
	ck_assert_uint_eq(fa->nmetrics, 8);
	ck_assert_uint_eq(fb->nmetrics, 8);
	for (size_t i = 0; i < fa->nmetrics; i++) {
		const struct vt_series *sr = fa->metrics[i].series;
		const struct vt_metric_window *y = NULL;
		for (size_t j = 0; j < fb->nmetrics; j++)
			if (sr->key_len == fb->metrics[j].series->key_len &&
			    memcmp(sr->key, fb->metrics[j].series->key,
			    sr->key_len) == 0)
				y = &fb->metrics[j];
		ck_assert_ptr_nonnull(y);
		assert_same_window(&fa->metrics[i], y);
	}
	ck_assert_double_eq(find(fa, "k", "g")->value, 8);
	ck_assert_double_eq(find(fa, "k", "new")->count, 5);
	vt_flush_release(fa);
	vt_flush_release(fb);
	vt_agg_destroy(a);
	vt_agg_destroy(b);
}
END_TEST

START_TEST(moving_rates_start_at_the_first_full_window)
{
	vt_agg *a = make_agg(100, 3600);
	rec(a, "r.hits", VT_COUNTER, 100);     /* partial first window */
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	const struct vt_metric_window *w = find(f, "r", "hits");
	ck_assert_double_eq(w->rate_1m, 10);  /* the window's own rate */
	vt_flush_release(f);
	rec(a, "r.hits", VT_COUNTER, 20);
	f = vt_agg_close_window(a, 20, 10);
	w = find(f, "r", "hits");
	ck_assert_double_eq(w->rate_1m, 2);   /* seeded by the full window */
	ck_assert_double_eq(w->rate_15m, 2);
	vt_flush_release(f);
	f = vt_agg_close_window(a, 30, 10);    /* then it decays */
	w = find(f, "r", "hits");
	ck_assert_double_eq_tol(w->rate_1m, 2 * exp(-10.0 / 60), 1e-9);
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

Suite *vt_test_agg_suite(void)
{
	Suite *s = suite_create("agg");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, counter_rate_sample_rate_and_decrements);
	tcase_add_test(tc, gauge_set_delta_and_kept);
	tcase_add_test(tc, restored_metric_is_live_until_it_expires);
	tcase_add_test(tc, timer_statistics);
	tcase_add_test(tc, timer_minute_quantiles_after_a_minute);
	tcase_add_test(tc, set_counts_distinct_members_per_window);
	tcase_add_test(tc, tag_order_does_not_matter_and_service_tag_names_service);
	tcase_add_test(tc, service_tag_and_prefix_are_one_series);
	tcase_add_test(tc, duplicate_tag_keys_rejected);
	tcase_add_test(tc, type_conflict_keeps_first_kind);
	tcase_add_test(tc, cap_on_distinct_metrics);
	tcase_add_test(tc, ttl_expiry_frees_and_keeps_others_findable);
	tcase_add_test(tc, forget_service_removes_only_it);
	tcase_add_test(tc, quantile_store_follows_timers_that_come_and_go);
	tcase_add_test(tc, flush_outlives_expired_series);
	tcase_add_test(tc, batch_matches_one_by_one);
	tcase_add_test(tc, batch_groups_kinds_and_keeps_each_metrics_order);
	tcase_add_test(tc, moving_rates_start_at_the_first_full_window);
	suite_add_tcase(s, tc);
	return s;
}
