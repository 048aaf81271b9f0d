/* test_calls.c - the service map's edges (calls.h): which series are
 * calls, rates from timers else counters, error shares, p99, idle edges,
 * the map's nodes; and the arc widths of the page (pages_map.h). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collector/base/buf.h"
#include "dashboards/pages/pages_map.h"
#include "exporters/recent/calls.h"
#include "suites.h"

static struct vt_slice sl(const char *s)
{
	struct vt_slice x = { s, strlen(s) };
	return x;
}

struct spec {
	const char *service, *metric;
	enum vt_kind kind;
	const char *tags;            /* "k=v;k2=v2" */
	double rate, p99;
	double last_seen;
};

static struct vt_series *series(const struct spec *sp, size_t i)
{
	struct vt_slice keys[8], values[8];
	char buf[256];
	size_t n = 0;
	snprintf(buf, sizeof buf, "%s", sp->tags ? sp->tags : "");
	static char store[64][256];
	char *own = store[i % 64];
	memcpy(own, buf, sizeof buf);
	for (char *t = strtok(own, ";"); t && n < 8; t = strtok(NULL, ";")) {
		char *eq = strchr(t, '=');
		if (eq) {
			*eq = '\0';
			values[n] = sl(eq + 1);
		} else {
			values[n] = sl("");
		}
		keys[n++] = sl(t);
	}
	char key[300];
	snprintf(key, sizeof key, "%s.%s|%s", sp->service, sp->metric,
	    sp->tags ? sp->tags : "");
	return vt_series_create(sp->kind, sl(sp->service), sl(sp->metric),
	    sl(key), i, keys, values, n);
}

/* A flush at t with percentiles 50 and 99 holding the given windows. */
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
		w->series = series(&sp[i], i);
		w->rate = sp[i].rate * 2;      /* the 1-minute rate wins */
		w->rate_1m = sp[i].rate;
		w->last_seen = sp[i].last_seen ? sp[i].last_seen : t;
		if (sp[i].kind == VT_TIMER) {
			double *q = f->quantile_store + i * 8;
			q[0] = sp[i].p99 / 2;
			q[1] = sp[i].p99;
			q[2] = q[3] = NAN;
			struct vt_timer_window *tw = vt_flush_add_timer(f, w);
			tw->quantiles = q;
			tw->quantiles_1m = q + 2;
		}
	}
	return f;
}

START_TEST(edges_from_peer_tags)
{
	const struct spec sp[] = {
		{ "web", "http.client", VT_TIMER,
		  "peer.service=payments;status=200", 70, 40, 0 },
		{ "web", "http.client", VT_TIMER,
		  "peer.service=payments;status=503", 10, 300, 0 },
		/* a counter of the same edge: the timers count the calls */
		{ "web", "client.requests", VT_COUNTER,
		  "peer.service=payments", 500, 0, 0 },
		{ "checkout", "rpc", VT_COUNTER, "peer_service=ledger", 30, 0, 0 },
		{ "checkout", "rpc", VT_COUNTER,
		  "error;peer_service=ledger", 10, 0, 0 },
		{ "checkout", "rpc", VT_COUNTER,
		  "error=true;peer_service=inventory", 5, 0, 0 },
		{ "web", "http.get", VT_TIMER, "route=/", 99, 9, 0 },
		{ "web", "conns", VT_GAUGE, "peer.service=db", 4, 0, 0 },
		{ "web", "old", VT_COUNTER, "peer.service=gone", 0, 0, 100 },
	};
	struct vt_flush *f = make_flush(sp, sizeof sp / sizeof sp[0], 1000);
	struct vt_calls_snapshot *s = vt_calls_next(NULL, f);
	ck_assert_uint_eq(s->n, 3);
	ck_assert_str_eq(s->v[0].from, "checkout");
	ck_assert_str_eq(s->v[0].to, "inventory");
	ck_assert(s->v[0].rate == 5 && s->v[0].error_share == 1);
	const struct vt_call_edge *cl = vt_calls_find(s, "checkout", "ledger");
	ck_assert_ptr_nonnull(cl);
	ck_assert(cl->rate == 40 && cl->errors == 10);
	ck_assert(fabs(cl->error_share - 0.25) < 1e-9);
	ck_assert(!cl->timed && isnan(cl->p99));
	const struct vt_call_edge *wp = vt_calls_find(s, "web", "payments");
	ck_assert_ptr_nonnull(wp);
	ck_assert(wp->timed && wp->rate == 80 && wp->errors == 10);
	ck_assert(fabs(wp->error_share - 0.125) < 1e-9);
	ck_assert(wp->p99 == 300);             /* the slowest series' p99 */
	ck_assert_uint_eq(wp->nseries, 3);
	ck_assert_ptr_null(vt_calls_find(s, "web", "db"));     /* a gauge */
	ck_assert_ptr_null(vt_calls_find(s, "web", "gone"));   /* idle */

	/* the next window has no samples: the last p99 stays */
	struct vt_flush *g = make_flush(sp, 2, 1010);
	double *q = g->quantile_store;
	q[1] = q[9] = NAN;
	struct vt_calls_snapshot *s2 = vt_calls_next(s, g);
	wp = vt_calls_find(s2, "web", "payments");
	ck_assert(wp && wp->p99 == 300);
	vt_calls_release(s2);
	vt_flush_release(g);
	vt_calls_release(s);
	vt_flush_release(f);
}
END_TEST

START_TEST(error_tags)
{
	static const struct { const char *tags; int err; } cases[] = {
		{ "status=500", 1 }, { "status=599", 1 }, { "code=502", 1 },
		{ "status_code=ERROR", 1 }, { "status=5xx", 1 },
		{ "error=true", 1 }, { "error=1", 1 }, { "error", 1 },
		{ "status=200", 0 }, { "status=404", 0 }, { "status=5000", 0 },
		{ "error=false", 0 }, { "code=50", 0 }, { "", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct spec sp = { "a", "m", VT_COUNTER, cases[i].tags, 1, 0, 0 };
		struct vt_series *se = series(&sp, i);
		ck_assert_msg(vt_calls_is_error(se) == cases[i].err, "%s",
		    cases[i].tags);
		vt_series_release(se);
	}
	struct spec sp = { "a", "m", VT_COUNTER, "peer.service=;peer_service=b",
	    1, 0, 0 };
	struct vt_series *se = series(&sp, 0);
	ck_assert_str_eq(vt_calls_peer(se), "b");
	vt_series_release(se);
}
END_TEST

START_TEST(map_nodes_and_widths)
{
	const struct spec sp[] = {
		{ "web", "c", VT_COUNTER, "peer.service=payments", 100, 0, 0 },
		{ "web", "c", VT_COUNTER, "peer.service=<x>", 25, 0, 0 },
		{ "payments", "c", VT_COUNTER, "peer.service=web", 1, 0, 0 },
	};
	struct vt_flush *f = make_flush(sp, 3, 1000);
	struct vt_calls_snapshot *s = vt_calls_next(NULL, f);
	struct vt_map m;
	vt_calls_map(&m, NULL, NULL, s);
	ck_assert_uint_eq(m.nnodes, 3);
	ck_assert_str_eq(m.nodes[0].service, "<x>");
	ck_assert(m.max_rate == 100);
	const struct vt_map_node *web = vt_calls_map_node(&m, "web");
	ck_assert(web && web->rate_out == 125 && web->rate_in == 1);
	ck_assert(!web->has_checks);

	/* widths: sqrt of the share of the busiest, within [WMIN, wmax] */
	ck_assert(vt_pages_map_width(100, 100, 14) == 14);
	ck_assert(fabs(vt_pages_map_width(25, 100, 14) - (1.2 + 12.8 * 0.5))
	    < 1e-9);
	ck_assert(vt_pages_map_width(0, 100, 14) == VT_PAGES_MAP_WMIN);
	ck_assert(vt_pages_map_width(5, 0, 14) == VT_PAGES_MAP_WMIN);

	/* the page: every edge an arc, names escaped, no script */
	struct vt_buf b;
	vt_buf_init(&b);
	struct vt_map_opts o = { 0, 1 };
	vt_pages_map(&m, s, &o, 1000, &b);
	vt_buf_putc(&b, '\0');
	ck_assert_ptr_null(strstr(b.data, "<x>"));
	ck_assert_ptr_nonnull(strstr(b.data, "data-to=\"&lt;x&gt;\""));
	ck_assert_ptr_null(strstr(b.data, "<script"));
	size_t arcs = 0;
	for (const char *p = b.data; (p = strstr(p, "<path class=\"edge "));
	    p++)
		arcs++;
	ck_assert_uint_eq(arcs, 3);
	ck_assert_ptr_nonnull(strstr(b.data, "data-from=\"web\" "
	    "data-to=\"payments\" data-rate=\"100\""));
	vt_buf_fini(&b);
	vt_calls_map_free(&m);
	vt_calls_release(s);
	vt_flush_release(f);
}
END_TEST

START_TEST(sink_publishes)
{
	vt_calls *c = vt_calls_create();
	struct vt_calls_snapshot *s = vt_calls_get(c);
	ck_assert_uint_eq(s->n, 0);
	vt_calls_release(s);
	const struct spec sp[] = {
		{ "a", "c", VT_COUNTER, "peer.service=b", 3, 0, 0 },
	};
	struct vt_flush *f = make_flush(sp, 1, 50);
	struct vt_sink k = vt_calls_sink(c);
	ck_assert_int_eq(k.flush(k.ctx, f), 0);
	s = vt_calls_get(c);
	ck_assert_uint_eq(s->n, 1);
	ck_assert(s->timestamp == 50);
	vt_calls_release(s);
	vt_flush_release(f);
	vt_calls_destroy(c);
}
END_TEST

Suite *vt_test_calls_suite(void)
{
	Suite *s = suite_create("calls");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, edges_from_peer_tags);
	tcase_add_test(tc, error_tags);
	tcase_add_test(tc, map_nodes_and_widths);
	tcase_add_test(tc, sink_publishes);
	suite_add_tcase(s, tc);
	return s;
}
