/* test_trends.c - tile figures: busiest timer, sparkline history; a
 * forgotten service leaving the tiles and the latest window at once. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exporters/recent/latest.h"
#include "exporters/recent/trends.h"
#include "suites.h"

static struct vt_slice sl(const char *s)
{
	struct vt_slice x = { s, strlen(s) };
	return x;
}

struct spec {
	const char *service, *metric;
	enum vt_kind kind;
	double rate, p99;
	double last_seen;
};

/* A flush with percentiles 50 and 99 holding the given windows. */
static struct vt_flush *make_flush(const struct spec *sp, size_t n, double t)
{
	struct vt_flush *f = vt_flush_create(n, n, 2);
	f->timestamp = t;
	f->interval = 10;
	f->npercentiles = 2;
	f->percentiles[0] = 50;
	f->percentiles[1] = 99;
	f->nmetrics = n;
	for (size_t i = 0; i < n; i++) {
		struct vt_metric_window *w = &f->metrics[i];
		char key[128];
		snprintf(key, sizeof key, "%s.%s", sp[i].service, sp[i].metric);
		w->series = vt_series_create(sp[i].kind, sl(sp[i].service),
		    sl(sp[i].metric), sl(key), i, NULL, NULL, 0);
		w->rate = sp[i].rate;
		w->rate_1m = NAN;
		w->last_seen = sp[i].last_seen;
		if (sp[i].kind == VT_TIMER) {
			double *q = f->quantile_store + i * 8;
			q[0] = sp[i].p99 / 2;
			q[1] = sp[i].p99;
			struct vt_timer_window *tw = vt_flush_add_timer(f, w);
			tw->quantiles = q;
			tw->quantiles_1m = q + 2;
			q[2] = q[3] = NAN;
		}
	}
	return f;
}

START_TEST(busiest_timer_and_sorted_services)
{
	const struct spec sp[] = {
		{ "web", "requests", VT_COUNTER, 500, 0, 100 },
		{ "web", "http.get", VT_TIMER, 50, 80, 110 },
		{ "web", "db.query", VT_TIMER, 120, 9, 105 },
		{ "api", "queue", VT_GAUGE, 0, 0, 90 },
	};
	struct vt_flush *f = make_flush(sp, 4, 200);
	struct vt_trends_snapshot *s = vt_trends_next(NULL, f);
	ck_assert_uint_eq(s->n, 2);
	ck_assert_str_eq(s->v[0].service, "api");
	ck_assert_ptr_null(s->v[0].timer);
	ck_assert_uint_eq(s->v[0].nmetrics, 1);
	const struct vt_trend *web = vt_trends_find(s, "web");
	ck_assert_ptr_nonnull(web);
	ck_assert_str_eq(web->timer, "db.query");
	ck_assert(web->rate == 120 && web->p99 == 9);
	ck_assert(web->last_seen == 110);
	ck_assert_uint_eq(web->nmetrics, 3);
	ck_assert_ptr_null(vt_trends_find(s, "nope"));
	vt_trends_release(s);
	vt_flush_release(f);
}
END_TEST

/* Services come out in strcmp order and grouped: long names sharing a
 * prefix, a name that is a prefix of another, a byte above 0x7f, and
 * repeats far apart in the flush. */
START_TEST(services_sort_as_strcmp_does)
{
	const char *names[] = {
		"checkout-us", "checkout", "web", "checkout-eu", "checkouts",
		"caf\xc3\xa9", "checkout-eu", "a", "checkout", "cafe",
		"checkout-us-west", "zz", "web",
	};
	const char *sorted[] = {
		"a", "cafe", "caf\xc3\xa9", "checkout", "checkout-eu",
		"checkout-us", "checkout-us-west", "checkouts", "web", "zz",
	};
	const size_t counts[] = { 1, 1, 1, 2, 2, 1, 1, 1, 2, 1 };
	size_t n = sizeof names / sizeof names[0];
	struct spec sp[sizeof names / sizeof names[0]];
	for (size_t i = 0; i < n; i++)
		sp[i] = (struct spec){ names[i], "m", VT_COUNTER, 1, 0, 1 };
	struct vt_flush *f = make_flush(sp, n, 10);
	struct vt_trends_snapshot *s = vt_trends_next(NULL, f);
	ck_assert_uint_eq(s->n, 10);
	for (size_t i = 0; i < 10; i++) {
		ck_assert_str_eq(s->v[i].service, sorted[i]);
		ck_assert_uint_eq(s->v[i].nmetrics, counts[i]);
		ck_assert_ptr_eq(vt_trends_find(s, sorted[i]), &s->v[i]);
	}
	vt_trends_release(s);
	vt_flush_release(f);
}
END_TEST

/* 300 services, their windows interleaved (each service's three windows
 * 300 apart): every service is one tile with its own count, latest time
 * and busiest timer, and the tiles are in strcmp order. */
START_TEST(many_interleaved_services_group_and_sort)
{
	enum { NSVC = 300, PER = 3 };
	static char svc[NSVC][16];
	static struct spec sp[NSVC * PER];
	for (int i = 0; i < NSVC; i++)
		snprintf(svc[i], sizeof svc[i], "svc%03d", (i * 7) % NSVC);
	for (int r = 0; r < PER; r++)
		for (int i = 0; i < NSVC; i++) {
			struct spec *x = &sp[r * NSVC + i];
			x->service = svc[i];
			x->metric = r == 0 ? "requests" : r == 1 ? "slow" : "fast";
			x->kind = r == 0 ? VT_COUNTER : VT_TIMER;
			x->rate = r == 2 ? 2.0 * i + 1 : i;
			x->p99 = r;
			x->last_seen = 1000 + 10 * r + i;
		}
	struct vt_flush *f = make_flush(sp, NSVC * PER, 10);
	struct vt_trends_snapshot *s = vt_trends_next(NULL, f);
	ck_assert_uint_eq(s->n, NSVC);
	for (size_t k = 0; k < NSVC; k++) {
		const struct vt_trend *t = &s->v[k];
		char want[16];
		snprintf(want, sizeof want, "svc%03zu", k);
		ck_assert_str_eq(t->service, want);
		ck_assert_uint_eq(t->nmetrics, PER);
		ck_assert_str_eq(t->timer, "fast");
		int i = 0;          /* the position whose service is svc<k> */
		while ((i * 7) % NSVC != (int)k)
			i++;
		ck_assert(t->rate == 2.0 * i + 1);
		ck_assert(t->last_seen == 1000 + 10 * (PER - 1) + i);
	}
	vt_trends_release(s);
	vt_flush_release(f);
}
END_TEST

START_TEST(history_is_bounded_and_follows_the_timer)
{
	struct vt_trends_snapshot *s = NULL;
	for (int i = 0; i < VT_TRENDS_POINTS + 5; i++) {
		const struct spec sp[] = {
			{ "web", "http.get", VT_TIMER, i, 10.0 * i, i },
		};
		struct vt_flush *f = make_flush(sp, 1, i);
		struct vt_trends_snapshot *next = vt_trends_next(s, f);
		vt_trends_release(s);
		vt_flush_release(f);
		s = next;
	}
	const struct vt_trend *t = &s->v[0];
	ck_assert_uint_eq(t->npoints, VT_TRENDS_POINTS);
	ck_assert(t->rate_hist[VT_TRENDS_POINTS - 1] == VT_TRENDS_POINTS + 4);
	ck_assert(t->rate_hist[0] == 5);
	ck_assert(t->p99_hist[0] == 50);
	/* another timer becomes the busiest: its history starts afresh */
	const struct spec sp[] = {
		{ "web", "http.get", VT_TIMER, 1, 1, 1 },
		{ "web", "http.post", VT_TIMER, 1000, 2, 1 },
	};
	struct vt_flush *f = make_flush(sp, 2, 99);
	struct vt_trends_snapshot *next = vt_trends_next(s, f);
	ck_assert_str_eq(next->v[0].timer, "http.post");
	ck_assert_uint_eq(next->v[0].npoints, 1);
	vt_trends_release(next);
	vt_trends_release(s);
	vt_flush_release(f);
}
END_TEST

START_TEST(sink_publishes_snapshots)
{
	vt_trends *t = vt_trends_create();
	struct vt_trends_snapshot *empty = vt_trends_get(t);
	ck_assert_uint_eq(empty->n, 0);
	const struct spec sp[] = { { "web", "http.get", VT_TIMER, 3, 4, 5 } };
	struct vt_flush *f = make_flush(sp, 1, 10);
	struct vt_sink sink = vt_trends_sink(t);
	ck_assert_int_eq(sink.flush(sink.ctx, f), 0);
	vt_flush_release(f);
	struct vt_trends_snapshot *s = vt_trends_get(t);
	ck_assert_uint_eq(s->n, 1);
	ck_assert_uint_eq(empty->n, 0);       /* old readers unaffected */
	vt_trends_release(empty);
	vt_trends_release(s);
	vt_trends_destroy(t);
}
END_TEST

static int window_has(const struct vt_flush *f, const char *service)
{
	for (size_t i = 0; f && i < f->nmetrics; i++)
		if (strcmp(f->metrics[i].series->service, service) == 0)
			return 1;
	return 0;
}

/* DELETE: the service leaves the published tiles and window at once; a
 * window that closed before the forget (still on its way to the sinks)
 * does not bring it back; one that closed after it may. */
START_TEST(forget_leaves_tiles_and_latest_at_once)
{
	const struct spec sp[] = {
		{ "gone", "http.get", VT_TIMER, 5, 80, 100 },
		{ "gone", "requests", VT_COUNTER, 1, 0, 100 },
		{ "web", "http.get", VT_TIMER, 50, 9, 100 },
	};
	vt_trends *t = vt_trends_create();
	struct vt_latest_config lc = { .retire_after = 7 * 86400 };
	vt_latest *l = vt_latest_create(&lc);
	struct vt_sink ts = vt_trends_sink(t), ls = vt_latest_sink(l);
	struct vt_flush *f = make_flush(sp, 3, 200);
	ts.flush(ts.ctx, f);
	ls.flush(ls.ctx, f);

	vt_trends_forget(t, "gone", 205);
	vt_latest_forget(l, "gone", 205);
	struct vt_trends_snapshot *s = vt_trends_get(t);
	ck_assert_ptr_null(vt_trends_find(s, "gone"));
	ck_assert_ptr_nonnull(vt_trends_find(s, "web"));
	ck_assert_uint_eq(s->n, 1);
	vt_trends_release(s);
	struct vt_flush *got = vt_latest_get(l);
	ck_assert(!window_has(got, "gone") && window_has(got, "web"));
	ck_assert_uint_eq(got->nmetrics, 1);
	/* copied with it */
	ck_assert(vt_window_timer(&got->metrics[0])->quantiles[1] == 9);
	ck_assert(got->timestamp == 200);
	vt_flush_release(got);

	struct vt_flush *older = make_flush(sp, 3, 204);   /* in flight */
	ts.flush(ts.ctx, older);
	ls.flush(ls.ctx, older);
	s = vt_trends_get(t);
	ck_assert_ptr_null(vt_trends_find(s, "gone"));
	vt_trends_release(s);
	got = vt_latest_get(l);
	ck_assert(!window_has(got, "gone") && window_has(got, "web"));
	vt_flush_release(got);

	struct vt_flush *newer = make_flush(sp, 3, 210);   /* sent again */
	ts.flush(ts.ctx, newer);
	ls.flush(ls.ctx, newer);
	s = vt_trends_get(t);
	ck_assert_ptr_nonnull(vt_trends_find(s, "gone"));
	vt_trends_release(s);
	got = vt_latest_get(l);
	ck_assert(window_has(got, "gone"));
	vt_flush_release(got);

	vt_flush_release(f);
	vt_flush_release(older);
	vt_flush_release(newer);
	vt_latest_destroy(l);
	vt_trends_destroy(t);
}
END_TEST

Suite *vt_test_trends_suite(void)
{
	Suite *s = suite_create("trends");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, busiest_timer_and_sorted_services);
	tcase_add_test(tc, services_sort_as_strcmp_does);
	tcase_add_test(tc, many_interleaved_services_group_and_sort);
	tcase_add_test(tc, history_is_bounded_and_follows_the_timer);
	tcase_add_test(tc, sink_publishes_snapshots);
	tcase_add_test(tc, forget_leaves_tiles_and_latest_at_once);
	suite_add_tcase(s, tc);
	return s;
}
