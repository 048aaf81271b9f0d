/* test_html.c - what services send reaches pages only as text. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collector/agg/flush.h"
#include "collector/health/health_snapshot.h"
#include "dashboards/pages/html.h"
#include "dashboards/pages/page_layout.h"
#include "exporters/recent/catalogue.h"
#include "suites.h"

static const struct {
	const char *in, *out;
} texts[] = {
	{ "plain", "plain" },
	{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ "<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;" },
	{ "\"'><svg onload=1>", "&quot;&#39;&gt;&lt;svg onload=1&gt;" },
	{ "a & b", "a &amp; b" },
	{ "caf\xC3\xA9 \xE2\x9C\x94", "caf\xC3\xA9 \xE2\x9C\x94" },   /* kept */
	{ "bad \xC3( \xFF end", "bad \xEF\xBF\xBD( \xEF\xBF\xBD end" },
	{ "ctl\x01\x7f\tok\n", "ctl\tok\n" },
	{ "", "" },
};

START_TEST(text_is_escaped)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_html_text(&b, texts[_i].in);
	ck_assert_str_eq(b.data ? b.data : "", texts[_i].out);
	vt_buf_fini(&b);
}
END_TEST

START_TEST(path_segments_are_percent_encoded)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_html_path(&b, "a b/c?d\"<e>.f_g-h~");
	ck_assert_str_eq(b.data, "a%20b%2Fc%3Fd%22%3Ce%3E.f_g-h~");
	vt_buf_fini(&b);
}
END_TEST

static const struct {
	double v;
	const char *num, *ms;
} figures[] = {
	{ 0, "0", "0 µs" }, { 0.5, "0.5", "500 µs" }, { 12.25, "12.2", "12.2 ms" },
	{ 1234, "1234", "1.23 s" }, { 56789, "56.8k", "56.8 s" },
	{ 2.5e6, "2.5M", "2.5e+03 s" }, { NAN, "-", "-" },
};

START_TEST(figures_read_well)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_html_num(&b, figures[_i].v);
	ck_assert_str_eq(b.data, figures[_i].num);
	vt_buf_reset(&b);
	vt_html_ms(&b, figures[_i].v);
	ck_assert_str_eq(b.data, figures[_i].ms);
	vt_buf_fini(&b);
}
END_TEST

START_TEST(ages)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_html_age(&b, 1000, 1030);
	vt_buf_putc(&b, ' ');
	vt_html_age(&b, 1000, 1000 + 600);
	vt_buf_putc(&b, ' ');
	vt_html_age(&b, 1000, 1000 + 7200);
	vt_buf_putc(&b, ' ');
	vt_html_age(&b, 1000, 1000 + 3 * 86400);
	vt_buf_putc(&b, ' ');
	vt_html_age(&b, 0, 1000);
	ck_assert_str_eq(b.data, "30s 10m 2h 3d never");
	vt_buf_fini(&b);
}
END_TEST

/* ---- the collector's verdict (page_layout.h) and what the catalogue
 * keeps for the service pages ---- */

static struct vt_slice sl(const char *s)
{
	struct vt_slice x = { s, strlen(s) };
	return x;
}

/* A flush closed at t with the self-metrics of the service vitals given
 * as name, kind, 5-minute rate (counters) or value (gauges) or max
 * (timers). */
struct self { const char *name; enum vt_kind kind; double v; };

static struct vt_flush *self_flush(const struct self *m, size_t n, double t)
{
	struct vt_flush *f = vt_flush_create(n, n, 0);
	f->seq = 1;
	f->timestamp = t;
	f->interval = 10;
	for (size_t i = 0; i < n; i++) {
		char key[64];
		snprintf(key, sizeof key, "vitals.%s", m[i].name);
		struct vt_metric_window *w = &f->metrics[f->nmetrics++];
		memset(w, 0, sizeof *w);
		w->series = vt_series_create(m[i].kind, sl("vitals"),
		    sl(m[i].name), sl(key), 0, NULL, NULL, 0);
		w->samples = 1;
		w->rate_5m = m[i].kind == VT_COUNTER ? m[i].v : NAN;
		w->value = m[i].kind == VT_GAUGE ? m[i].v : NAN;
		if (m[i].kind == VT_TIMER) {
			struct vt_timer_window *tw = vt_flush_add_timer(f, w);
			tw->max = m[i].v;
			tw->min = tw->mean = tw->stddev = NAN;
		}
	}
	return f;
}

static const struct self healthy[] = {
	{ "udp.packets", VT_COUNTER, 1000 }, { "udp.kernel_drops", VT_COUNTER, 0 },
	{ "lines.ok", VT_COUNTER, 1000 }, { "lines.invalid", VT_COUNTER, 0.5 },
	{ "storage.queue", VT_GAUGE, 10 }, { "metrics.live", VT_GAUGE, 500 },
	{ "storage.round_time", VT_TIMER, 40 }, { "flush.time", VT_TIMER, 2 },
	{ "storage.errors", VT_COUNTER, 0.001 },   /* decayed: below 0.01/s */
};

START_TEST(collector_verdict)
{
	struct vt_collector_health h;
	/* Nothing known: ok. */
	vt_page_layout_collector(NULL, NULL, 1000, &h);
	ck_assert_int_eq(h.verdict, VT_COLLECTOR_OK);
	ck_assert_uint_eq(h.nreasons, 0);

	struct vt_flush *f = self_flush(healthy,
	    sizeof healthy / sizeof healthy[0], 1000);
	vt_page_layout_collector(NULL, f, 1001, &h);
	ck_assert_int_eq(h.verdict, VT_COLLECTOR_OK);
	ck_assert_uint_gt(h.nfigures, 5);
	/* No window for 3 intervals + 5 s: failing. */
	vt_page_layout_collector(NULL, f, 1036, &h);
	ck_assert_int_eq(h.verdict, VT_COLLECTOR_FAILING);
	ck_assert_ptr_nonnull(strstr(h.reasons[0].text, "no window closed"));
	vt_flush_release(f);

	/* Drops under 1%: degraded; 1% or more: failing. Lag over 3
	 * windows: failing; a slow round: degraded. */
	struct self m[sizeof healthy / sizeof healthy[0]];
	memcpy(m, healthy, sizeof m);
	m[1].v = 2;                              /* 0.2% dropped */
	f = self_flush(m, sizeof m / sizeof m[0], 1000);
	vt_page_layout_collector(NULL, f, 1001, &h);
	ck_assert_int_eq(h.verdict, VT_COLLECTOR_DEGRADED);
	ck_assert_ptr_nonnull(strstr(h.reasons[0].text, "kernel dropped"));
	vt_flush_release(f);
	m[1].v = 50;                             /* 4.8% */
	m[4].v = 2000;                           /* 4 windows behind */
	m[6].v = 15000;                          /* a round of 15 s */
	f = self_flush(m, sizeof m / sizeof m[0], 1000);
	vt_page_layout_collector(NULL, f, 1001, &h);
	ck_assert_int_eq(h.verdict, VT_COLLECTOR_FAILING);
	ck_assert_uint_eq(h.nreasons, 3);
	ck_assert_int_eq(h.reasons[0].level, VT_COLLECTOR_FAILING);
	ck_assert_int_eq(h.reasons[1].level, VT_COLLECTOR_FAILING);
	ck_assert_int_eq(h.reasons[2].level, VT_COLLECTOR_DEGRADED);
	ck_assert_ptr_nonnull(strstr(h.reasons[2].text, "storage round"));
	vt_flush_release(f);

	/* Parse errors: 5% and 0.1/s. */
	memcpy(m, healthy, sizeof m);
	m[3].v = 100;
	f = self_flush(m, sizeof m / sizeof m[0], 1000);
	vt_page_layout_collector(NULL, f, 1001, &h);
	ck_assert_int_eq(h.verdict, VT_COLLECTOR_DEGRADED);
	ck_assert_ptr_nonnull(strstr(h.reasons[0].text, "lines invalid"));
	vt_flush_release(f);

	/* Checks about the collector: critical fails, warning or all stale
	 * degrade; an OK one that is fresh changes nothing. */
	struct vt_health_check_view c = { .check = "probe", .instance = "p1",
	    .output = "no answer", .status = VT_STATUS_CRITICAL };
	struct vt_health_service_view sv = { .name = "vitals", .checks = &c,
	    .nchecks = 1, .status = VT_STATUS_CRITICAL };
	vt_page_layout_collector(&sv, NULL, 1000, &h);
	ck_assert_int_eq(h.verdict, VT_COLLECTOR_FAILING);
	ck_assert_ptr_nonnull(strstr(h.reasons[0].text, "no answer"));
	c.status = VT_STATUS_WARNING;
	vt_page_layout_collector(&sv, NULL, 1000, &h);
	ck_assert_int_eq(h.verdict, VT_COLLECTOR_DEGRADED);
	c.status = VT_STATUS_OK;
	vt_page_layout_collector(&sv, NULL, 1000, &h);
	ck_assert_int_eq(h.verdict, VT_COLLECTOR_OK);
	c.stale = 1;
	vt_page_layout_collector(&sv, NULL, 1000, &h);
	ck_assert_int_eq(h.verdict, VT_COLLECTOR_DEGRADED);
}
END_TEST

/* The catalogue keeps a metric's first data and its last window with
 * samples; an idle window does not replace them. */
START_TEST(catalogue_keeps_the_last_window_with_data)
{
	vt_catalogue *c = vt_catalogue_create(86400, 0);
	struct vt_flush *f = vt_flush_create(1, 1, 2);
	f->seq = 1;
	f->timestamp = 1010;
	f->interval = 10;
	f->npercentiles = 2;
	f->percentiles[0] = 50;
	f->percentiles[1] = 99;
	struct vt_metric_window *w = &f->metrics[f->nmetrics++];
	w->series = vt_series_create(VT_TIMER, sl("api"), sl("get"),
	    sl("api.get"), 0, NULL, NULL, 0);
	w->samples = 4;
	w->count = 4;
	w->rate = 0.4;
	double *q = f->quantile_store;
	q[0] = 12;
	q[1] = 80;
	vt_flush_add_timer(f, w)->quantiles = q;
	vt_catalogue_note(c, f);

	const struct vt_series *s = w->series;
	struct vt_catalogue_kept k;
	vt_catalogue_kept(c, &s, 1, &k);
	ck_assert(k.first_seen == 1000);
	ck_assert(k.at == 1010);
	ck_assert(k.count == 4);
	ck_assert_uint_eq(k.nquantiles, 2);
	ck_assert(k.quantiles[1] == 80);

	/* The next window is idle: what was kept stays. */
	f->seq = 2;
	f->timestamp = 1020;
	w->samples = 0;
	w->count = 0;
	q[0] = q[1] = NAN;
	vt_catalogue_note(c, f);
	vt_catalogue_kept(c, &s, 1, &k);
	ck_assert(k.at == 1010 && k.count == 4 && k.quantiles[1] == 80);
	ck_assert(k.first_seen == 1000);

	/* An unknown series: zeroes. */
	struct vt_series *other = vt_series_create(VT_COUNTER, sl("api"),
	    sl("x"), sl("api.x"), 0, NULL, NULL, 0);
	const struct vt_series *o = other;
	vt_catalogue_kept(c, &o, 1, &k);
	ck_assert(k.at == 0 && k.first_seen == 0);
	vt_series_release(other);
	vt_flush_release(f);
	vt_catalogue_destroy(c);
}
END_TEST

Suite *vt_test_html_suite(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, text_is_escaped, 0, sizeof texts / sizeof texts[0]);
	tcase_add_test(tc, path_segments_are_percent_encoded);
	tcase_add_loop_test(tc, figures_read_well, 0,
	    sizeof figures / sizeof figures[0]);
	tcase_add_test(tc, ages);
	tcase_add_test(tc, collector_verdict);
	tcase_add_test(tc, catalogue_keeps_the_last_window_with_data);
	suite_add_tcase(s, tc);
	return s;
}
