/*
 * test_prom.c - the Prometheus exporter: exact exposition lines for every
 * kind, label escaping and renaming, conflicts and their gauge, ordering,
 * the vitals_* self families, OpenMetrics, collectors, speed, and the real
 * `promtool check metrics` on a full exposition.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/agg/flush.h"
#include "collector/agg/series.h"
#include "collector/base/line_result.h"
#include "collector/base/prom_text.h"
#include "collector/base/xmalloc.h"
#include "exporters/prom/prom.h"
#include "exporters/prom/prom_labels.h"
#include "suites.h"
#include "test_support.h"

#ifndef VT_VERSION
#define VT_VERSION "dev"
#endif

#define MAX_TEST_LABELS 16

/* ---- building flushes by hand ---- */

static struct vt_slice sl(const char *s)
{
	struct vt_slice r = { s, strlen(s) };
	return r;
}

static struct vt_flush *new_flush(size_t cap)
{
	static const double pct[] = { 50, 90, 99, 99.9 };
	struct vt_flush *f = vt_flush_create(cap, cap, 4);
	f->npercentiles = 4;
	memcpy(f->percentiles, pct, sizeof pct);
	f->seq = 1;
	f->interval = 10;
	return f;
}

/* Add a series; kv is NULL or key, value, key, value, ..., NULL. */
static struct vt_metric_window *add(struct vt_flush *f, enum vt_kind kind,
    const char *service, const char *metric, uint64_t id,
    const char *const *kv)
{
	struct vt_slice keys[MAX_TEST_LABELS], values[MAX_TEST_LABELS];
	size_t n = 0;
	char key[1200];

	for (; kv && kv[2 * n]; n++) {
		keys[n] = sl(kv[2 * n]);
		values[n] = sl(kv[2 * n + 1]);
	}
	snprintf(key, sizeof key, "%s.%s", service, metric);
	struct vt_series *s = vt_series_create(kind, sl(service), sl(metric),
	    sl(key), 0, keys, values, n);
	s->id = id;
	struct vt_metric_window *w = &f->metrics[f->nmetrics];
	w->series = s;
	if (kind == VT_TIMER || kind == VT_HISTOGRAM) {
		double *q = f->quantile_store + f->nmetrics * 4 * 4;
		for (int i = 0; i < 4; i++)
			q[i] = NAN;
		vt_flush_add_timer(f, w)->quantiles = q;
	}
	f->nmetrics++;
	return w;
}

/* The timer fields of a window add made, to fill in. */
static struct vt_timer_window *tw_of(struct vt_metric_window *w)
{
	ck_assert_ptr_nonnull(w->timer);
	return (struct vt_timer_window *)(uintptr_t)w->timer;
}

static void set_quantiles(struct vt_metric_window *w, double a, double b,
    double c, double d)
{
	double *q = (double *)(uintptr_t)w->timer->quantiles;
	q[0] = a;
	q[1] = b;
	q[2] = c;
	q[3] = d;
}

/* Hand f to a fresh exporter as its sink would be, render, free all. */
static char *render(struct vt_flush *f, enum vt_prom_format fmt)
{
	struct vt_prom *p = vt_prom_create();
	struct vt_sink sink = vt_prom_sink(p);
	struct vt_buf out;

	if (f) {
		ck_assert_int_eq(sink.flush(sink.ctx, f), 0);
		vt_flush_release(f);     /* the exporter keeps its own ref */
	}
	vt_buf_init(&out);
	vt_prom_render(p, &out, fmt);
	vt_prom_destroy(p);
	return vt_buf_steal(&out, NULL);
}

/* ---- looking at expositions ---- */

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	}
	return 0;
}

#define ck_assert_line(text, line) \
	ck_assert_msg(has_line(text, line), "missing line: %s\nin:\n%.3000s", \
	    line, text)
#define ck_assert_no_line(text, line) \
	ck_assert_msg(!has_line(text, line), "unexpected line: %s", line)

static size_t count_prefix(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
		if (strncmp(p, prefix, len) == 0)
			n++;
		if (strchr(p, '\n') == NULL)
			break;
	}
	return n;
}

static const char *conflicts_line(size_t n)
{
	static char line[64];
	snprintf(line, sizeof line, "vitals_prometheus_conflicts %zu", n);
	return line;
}

/*
 * Structure promtool and the OpenMetrics parser need: every family has
 * HELP then TYPE, appears once, its samples follow it contiguously, and
 * (OpenMetrics TYPE names being base names) families are in name order.
 */
static void check_structure(const char *text, int check_order)
{
	char family[1024] = "", prev[1024] = "";
	char seen[256][128];
	size_t nseen = 0;
	const char *p = text;

	while (*p) {
		const char *end = strchr(p, '\n');
		ck_assert_ptr_nonnull(end);
		size_t len = (size_t)(end - p);
		char line[2048];
		ck_assert_uint_lt(len, sizeof line);
		memcpy(line, p, len);
		line[len] = '\0';
		if (strncmp(line, "# HELP ", 7) == 0) {
			char *sp = strchr(line + 7, ' ');
			ck_assert_ptr_nonnull(sp);
			*sp = '\0';
			strcpy(family, line + 7);
			const char *t = end + 1;
			ck_assert_int_eq(strncmp(t, "# TYPE ", 7), 0);
			ck_assert_int_eq(strncmp(t + 7, family, strlen(family)),
			    0);
			ck_assert_int_eq(t[7 + strlen(family)], ' ');
			for (size_t i = 0; i < nseen; i++)
				ck_assert_str_ne(seen[i], family);
			if (nseen < 256 && strlen(family) < 128)
				strcpy(seen[nseen++], family);
			if (check_order)
				ck_assert_msg(strcmp(prev, family) < 0,
				    "%s after %s", family, prev);
			strcpy(prev, family);
		} else if (line[0] != '#') {
			ck_assert_msg(family[0] != '\0' &&
			    strncmp(line, family, strlen(family)) == 0,
			    "sample %s outside family %s", line, family);
		}
		p = end + 1;
	}
}

/* ---- each kind ---- */

START_TEST(counter_renders_cumulative_total)
{
	struct vt_flush *f = new_flush(4);
	struct vt_metric_window *w = add(f, VT_COUNTER, "payments",
	    "http.get", 1, NULL);
	w->count = -3;          /* window count may be negative */
	w->total = 12.5;
	add(f, VT_COUNTER, "payments", "requests_total", 2, NULL)->total = 7;
	char *t = render(f, VT_PROM_TEXT);

	ck_assert_line(t, "# HELP http_get_total statsd counter http.get");
	ck_assert_line(t, "# TYPE http_get_total counter");
	ck_assert_line(t, "http_get_total{service=\"payments\"} 12.5");
	ck_assert_line(t, "# TYPE requests_total counter");
	ck_assert_line(t, "requests_total{service=\"payments\"} 7");
	ck_assert_ptr_null(strstr(t, "requests_total_total"));
	ck_assert_line(t, conflicts_line(0));
	check_structure(t, 0);
	free(t);
}
END_TEST

START_TEST(gauge_and_set_render_value)
{
	static const char *const host[] = { "host", "a", NULL };
	struct vt_flush *f = new_flush(4);
	add(f, VT_GAUGE, "queue", "depth", 1, host)->value = -3.25;
	add(f, VT_SET, "web", "users.unique", 2, NULL)->value = 42;
	char *t = render(f, VT_PROM_TEXT);

	ck_assert_line(t, "# HELP depth statsd gauge depth");
	ck_assert_line(t, "# TYPE depth gauge");
	ck_assert_line(t, "depth{service=\"queue\",host=\"a\"} -3.25");
	ck_assert_line(t, "# HELP users_unique statsd set users.unique "
	    "(distinct values in the last window)");
	ck_assert_line(t, "# TYPE users_unique gauge");
	ck_assert_line(t, "users_unique{service=\"web\"} 42");
	free(t);
}
END_TEST

START_TEST(timer_is_summary_in_seconds)
{
	struct vt_flush *f = new_flush(4);
	struct vt_metric_window *w = add(f, VT_TIMER, "payments", "http.get",
	    1, NULL);
	set_quantiles(w, 12, 30, 100, 250);
	tw_of(w)->sum = 99;            /* the window's sum is not exported */
	tw_of(w)->sum_total = 5000;
	w->count = 3;
	w->total = 100;
	w = add(f, VT_TIMER, "idle", "poll", 2, NULL);   /* no samples yet */
	char *t = render(f, VT_PROM_TEXT);

	ck_assert_line(t, "# HELP http_get_seconds statsd timer http.get "
	    "(sent in milliseconds)");
	ck_assert_line(t, "# TYPE http_get_seconds summary");
	ck_assert_line(t,
	    "http_get_seconds{service=\"payments\",quantile=\"0.5\"} 0.012");
	ck_assert_line(t,
	    "http_get_seconds{service=\"payments\",quantile=\"0.9\"} 0.03");
	ck_assert_line(t,
	    "http_get_seconds{service=\"payments\",quantile=\"0.99\"} 0.1");
	ck_assert_line(t,
	    "http_get_seconds{service=\"payments\",quantile=\"0.999\"} 0.25");
	ck_assert_line(t, "http_get_seconds_sum{service=\"payments\"} 5");
	ck_assert_line(t, "http_get_seconds_count{service=\"payments\"} 100");
	ck_assert_line(t, "poll_seconds{service=\"idle\",quantile=\"0.5\"} NaN");
	ck_assert_line(t, "poll_seconds_count{service=\"idle\"} 0");
	check_structure(t, 0);
	free(t);
}
END_TEST

START_TEST(histogram_is_summary_in_unit_sent)
{
	struct vt_flush *f = new_flush(2);
	struct vt_metric_window *w = add(f, VT_HISTOGRAM, "api",
	    "payload.bytes", 1, NULL);
	set_quantiles(w, 512, 1024, 4096, 65536);
	tw_of(w)->sum_total = 1.5e6;
	w->total = 2000;
	add(f, VT_TIMER, "api", "rt_seconds", 2, NULL)->total = 1;
	char *t = render(f, VT_PROM_TEXT);

	ck_assert_line(t, "# TYPE payload_bytes summary");
	ck_assert_line(t,
	    "payload_bytes{service=\"api\",quantile=\"0.5\"} 512");
	ck_assert_line(t,
	    "payload_bytes{service=\"api\",quantile=\"0.999\"} 65536");
	ck_assert_line(t, "payload_bytes_sum{service=\"api\"} 1500000");
	ck_assert_line(t, "payload_bytes_count{service=\"api\"} 2000");
	/* "_seconds" is not doubled. */
	ck_assert_line(t, "# TYPE rt_seconds summary");
	ck_assert_line(t, "rt_seconds_count{service=\"api\"} 1");
	free(t);
}
END_TEST

/* ---- labels and escaping ---- */

START_TEST(label_values_are_escaped_and_utf8)
{
	static const char *const kv[] = {
		"path", "a\"b\\c\nd\xFF" "e", "city", "Z\xC3\xBCrich", NULL,
	};
	struct vt_flush *f = new_flush(2);
	add(f, VT_GAUGE, "we\"b", "g", 1, kv)->value = 1;
	char *t = render(f, VT_PROM_TEXT);

	ck_assert_line(t, "g{service=\"we\\\"b\",city=\"Z\xC3\xBCrich\","
	    "path=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD" "e\"} 1");
	free(t);
}
END_TEST

static const struct {
	const char *in;
	const char *label;      /* vt_prom_text_escape_label */
	const char *help;       /* vt_prom_text_escape_help (text format) */
	const char *help_om;    /* vt_prom_text_escape_help_fmt, OpenMetrics */
} escapes[] = {
	{ "plain", "plain", "plain", "plain" },
	{ "a\"b", "a\\\"b", "a\"b", "a\\\"b" },
	{ "a\\b", "a\\\\b", "a\\\\b", "a\\\\b" },
	{ "a\nb", "a\\nb", "a\\nb", "a\\nb" },
	{ "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
	  "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
	  "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
	{ "x\xE2\x82", "x\xEF\xBF\xBD", "x\xEF\xBF\xBD", "x\xEF\xBF\xBD" },
	{ "\xE2\x82\xAC\\", "\xE2\x82\xAC\\\\", "\xE2\x82\xAC\\\\",
	  "\xE2\x82\xAC\\\\" },
	{ "", "", "", "" },
};

START_TEST(escape_helpers)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_prom_text_escape_label(&b, escapes[_i].in);
	ck_assert_str_eq(b.data ? b.data : "", escapes[_i].label);
	vt_buf_reset(&b);
	vt_prom_text_escape_help(&b, escapes[_i].in);
	ck_assert_str_eq(b.data ? b.data : "", escapes[_i].help);
	vt_buf_reset(&b);
	vt_prom_text_escape_help_fmt(&b, escapes[_i].in, VT_PROM_OPENMETRICS);
	ck_assert_str_eq(b.data ? b.data : "", escapes[_i].help_om);
	vt_buf_reset(&b);
	vt_prom_text_escape_help_fmt(&b, escapes[_i].in, VT_PROM_TEXT);
	ck_assert_str_eq(b.data ? b.data : "", escapes[_i].help);
	vt_buf_fini(&b);
}
END_TEST

START_TEST(help_is_escaped_and_names_sanitised)
{
	struct vt_flush *f = new_flush(2);
	add(f, VT_GAUGE, "s", "we\\ird\"name\xFF", 1, NULL)->value = 1;
	char *t = render(f, VT_PROM_TEXT);
	ck_assert_line(t, "# HELP we_ird_name_ statsd gauge "
	    "we\\\\ird\"name\xEF\xBF\xBD");
	ck_assert_line(t, "we_ird_name_{service=\"s\"} 1");
	free(t);

	f = new_flush(2);
	add(f, VT_GAUGE, "s", "we\\ird\"name\xFF", 1, NULL)->value = 1;
	t = render(f, VT_PROM_OPENMETRICS);
	ck_assert_line(t, "# HELP we_ird_name_ statsd gauge "
	    "we\\\\ird\\\"name\xEF\xBF\xBD");
	free(t);
}
END_TEST

START_TEST(reserved_labels_are_renamed)
{
	static const char *const kv[] = {
		"instance", "i", "job", "j", "le", "l", "quantile", "q",
		"service", "s", "__meta", "m", "a-b", "ab", "9x", "nine",
		"exported_x", "x", NULL,
	};
	struct vt_flush *f = new_flush(2);
	add(f, VT_GAUGE, "svc", "g", 1, kv)->value = 2;
	char *t = render(f, VT_PROM_TEXT);

	ck_assert_line(t, "g{service=\"svc\",_9x=\"nine\",a_b=\"ab\","
	    "exported___meta=\"m\",exported_instance=\"i\","
	    "exported_job=\"j\",exported_le=\"l\",exported_quantile=\"q\","
	    "exported_service=\"s\",exported_x=\"x\"} 2");
	ck_assert_line(t, conflicts_line(0));
	free(t);
}
END_TEST

static const struct {
	double v;
	const char *text;
} values[] = {
	{ 0, "0" }, { -0.0, "0" }, { 42, "42" }, { -7, "-7" },
	{ 9007199254740991.0, "9007199254740991" },
	{ 0.012, "0.012" }, { 1.5, "1.5" }, { -2.25, "-2.25" },
	{ 0.1, "0.1" }, { 0.0001, "0.0001" }, { 12345.678, "12345.678" },
	{ 0.3 + 0.6, "0.8999999999999999" },
	{ 1.0 / 3, "0.3333333333333333" }, { 1e-9, "1e-09" },
	{ 1e20, "1e+20" }, { 1.5e300, "1.5e+300" },
	{ NAN, "NaN" }, { INFINITY, "+Inf" }, { -INFINITY, "-Inf" },
};

START_TEST(value_formatting)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_prom_text_value(&b, values[_i].v);
	ck_assert_str_eq(b.data, values[_i].text);
	vt_buf_fini(&b);
}
END_TEST

/* Whatever path formats it, every finite value reads back exactly. */
START_TEST(values_round_trip)
{
	unsigned seed = 99;
	struct vt_buf b;
	vt_buf_init(&b);
	for (int i = 0; i < 200000; i++) {
		double v;
		switch (i % 4) {
		case 0:     /* ms timings turned into seconds */
			v = (double)(rand_r(&seed) % 100000) / 1000.0 / 1000.0;
			break;
		case 1:     /* short decimals */
			v = (double)(rand_r(&seed) % 1000000) / 100.0;
			break;
		case 2:     /* anything in a wide range */
			v = ldexp((double)rand_r(&seed) / RAND_MAX,
			    rand_r(&seed) % 120 - 60);
			break;
		default:
			v = -(double)rand_r(&seed) / 7.0;
			break;
		}
		vt_buf_reset(&b);
		vt_prom_text_value(&b, v);
		ck_assert_msg(strtod(b.data, NULL) == v, "%.17g printed as %s",
		    v, b.data);
	}
	vt_buf_fini(&b);
}
END_TEST

static const struct {
	const char *kv[7];
	const char *text;
	int rc;
} label_sets[] = {
	{ { NULL }, "service=\"svc\"", 0 },
	{ { "b", "2", "a", "1", NULL }, "service=\"svc\",a=\"1\",b=\"2\"", 0 },
	{ { "a.b", "", NULL }, "service=\"svc\",a_b=\"\"", 0 },
	{ { "job", "j", "le", "0.1", NULL },
	  "service=\"svc\",exported_job=\"j\",exported_le=\"0.1\"", 0 },
	{ { "x-y", "1", "x_y", "2", NULL },
	  "service=\"svc\",x_y=\"1\",x_y=\"2\"", -1 },
	{ { "__", "u", NULL }, "service=\"svc\",exported___=\"u\"", 0 },
};

START_TEST(label_text_table)
{
	struct vt_flush *f = new_flush(1);
	add(f, VT_GAUGE, "svc", "g", 1, label_sets[_i].kv);
	struct vt_prom_labels *sc = vt_prom_labels_create();
	struct vt_buf b;
	vt_buf_init(&b);
	int rc = vt_prom_labels_put(sc, &b, f->metrics[0].series);
	ck_assert_int_eq(rc, label_sets[_i].rc);
	ck_assert_str_eq(b.data, label_sets[_i].text);
	vt_buf_fini(&b);
	vt_prom_labels_destroy(sc);
	vt_flush_release(f);
}
END_TEST

/* ---- conflicts ---- */

START_TEST(two_names_one_series_older_wins)
{
	struct vt_flush *f = new_flush(4);
	/* The newer one comes first in the flush: id decides, not order. */
	add(f, VT_COUNTER, "s", "a-b", 2, NULL)->total = 222;
	add(f, VT_COUNTER, "s", "a.b", 1, NULL)->total = 111;
	add(f, VT_COUNTER, "t", "a.b", 3, NULL)->total = 333;
	char *t = render(f, VT_PROM_TEXT);

	ck_assert_line(t, "a_b_total{service=\"s\"} 111");
	ck_assert_ptr_null(strstr(t, "222"));
	ck_assert_line(t, "a_b_total{service=\"t\"} 333");
	ck_assert_uint_eq(count_prefix(t, "# TYPE a_b_total "), 1);
	ck_assert_line(t, conflicts_line(1));
	check_structure(t, 0);
	free(t);
}
END_TEST

START_TEST(counter_and_gauge_clash)
{
	struct vt_flush *f = new_flush(6);
	add(f, VT_GAUGE, "s", "hits_total", 1, NULL)->value = 5;
	add(f, VT_COUNTER, "s", "hits", 2, NULL)->total = 6;     /* out */
	add(f, VT_COUNTER, "s", "x", 3, NULL)->total = 7;
	add(f, VT_GAUGE, "t", "x", 4, NULL)->value = 8;          /* out */
	add(f, VT_GAUGE, "s", "g", 5, NULL)->value = 9;
	add(f, VT_SET, "t", "g", 6, NULL)->value = 10;           /* out */
	char *t = render(f, VT_PROM_TEXT);

	ck_assert_line(t, "# TYPE hits_total gauge");
	ck_assert_line(t, "hits_total{service=\"s\"} 5");
	ck_assert_no_line(t, "hits_total{service=\"s\"} 6");
	ck_assert_line(t, "x_total{service=\"s\"} 7");
	ck_assert_no_line(t, "x{service=\"t\"} 8");
	ck_assert_line(t, "g{service=\"s\"} 9");
	ck_assert_no_line(t, "g{service=\"t\"} 10");
	ck_assert_line(t, conflicts_line(3));
	check_structure(t, 0);
	free(t);
}
END_TEST

START_TEST(vitals_namespace_is_reserved)
{
	struct vt_flush *f = new_flush(4);
	f->self.metrics_live = 77;
	add(f, VT_GAUGE, "s", "vitals.metrics", 1, NULL)->value = 5;
	add(f, VT_COUNTER, "vitals", "vitals_flushes", 2, NULL)->total = 5;
	add(f, VT_GAUGE, "s", "vitals", 3, NULL)->value = 6;     /* fine */
	char *t = render(f, VT_PROM_TEXT);

	ck_assert_uint_eq(count_prefix(t, "# TYPE vitals_metrics "), 1);
	ck_assert_uint_eq(count_prefix(t, "vitals_metrics{"), 0);
	ck_assert_line(t, "vitals_metrics 77");
	ck_assert_uint_eq(count_prefix(t, "vitals_flushes_total"), 1);
	ck_assert_line(t, "vitals{service=\"s\"} 6");
	ck_assert_line(t, conflicts_line(2));
	check_structure(t, 0);
	free(t);
}
END_TEST

START_TEST(summary_suffix_clash)
{
	struct vt_flush *f = new_flush(8);
	add(f, VT_TIMER, "s", "rt", 1, NULL)->total = 1;
	add(f, VT_GAUGE, "s", "rt.seconds.count", 2, NULL)->value = 2; /* out */
	add(f, VT_GAUGE, "s", "size_sum", 3, NULL)->value = 3;
	add(f, VT_HISTOGRAM, "t", "size", 4, NULL)->total = 4;         /* out */
	add(f, VT_COUNTER, "s", "req", 5, NULL)->total = 5;
	add(f, VT_GAUGE, "s", "req_created", 6, NULL)->value = 6;      /* out */
	add(f, VT_HISTOGRAM, "s", "lat_bucket", 7, NULL)->total = 7;
	add(f, VT_HISTOGRAM, "s", "lat", 8, NULL)->total = 8;          /* out */
	char *t = render(f, VT_PROM_TEXT);

	ck_assert_line(t, "# TYPE rt_seconds summary");
	ck_assert_line(t, "rt_seconds_count{service=\"s\"} 1");
	ck_assert_uint_eq(count_prefix(t, "# TYPE rt_seconds_count"), 0);
	ck_assert_line(t, "# TYPE size_sum gauge");
	ck_assert_uint_eq(count_prefix(t, "# TYPE size "), 0);
	ck_assert_line(t, "req_total{service=\"s\"} 5");
	ck_assert_uint_eq(count_prefix(t, "# TYPE req_created"), 0);
	ck_assert_line(t, "lat_bucket_count{service=\"s\"} 7");
	ck_assert_uint_eq(count_prefix(t, "# TYPE lat "), 0);
	ck_assert_line(t, conflicts_line(4));
	check_structure(t, 0);
	free(t);
}
END_TEST

START_TEST(duplicate_label_names_are_a_conflict)
{
	static const char *const kv[] = { "a-b", "1", "a_b", "2", NULL };
	static const char *const kv2[] = { "a-b", "1", NULL };
	struct vt_flush *f = new_flush(2);
	add(f, VT_GAUGE, "s", "g", 1, kv)->value = 1;
	add(f, VT_GAUGE, "s", "g", 2, kv2)->value = 2;
	char *t = render(f, VT_PROM_TEXT);
	ck_assert_uint_eq(count_prefix(t, "g{"), 1);
	ck_assert_line(t, "g{service=\"s\",a_b=\"1\"} 2");
	ck_assert_line(t, conflicts_line(1));
	free(t);
}
END_TEST

/* Label sets that only match after sanitising and sorting are one. */
START_TEST(label_sets_compare_after_sanitising)
{
	static const char *const k1[] = { "a.b", "1", "a_a", "2", NULL };
	static const char *const k2[] = { "a_a", "2", "a_b", "1", NULL };
	struct vt_flush *f = new_flush(2);
	add(f, VT_GAUGE, "s", "g", 1, k1)->value = 1;
	add(f, VT_GAUGE, "s", "g", 2, k2)->value = 2;
	char *t = render(f, VT_PROM_TEXT);
	ck_assert_line(t, "g{service=\"s\",a_a=\"2\",a_b=\"1\"} 1");
	ck_assert_line(t, conflicts_line(1));
	free(t);
}
END_TEST

/* ---- ordering ---- */

START_TEST(families_sorted_and_contiguous)
{
	struct vt_flush *f = new_flush(8);
	add(f, VT_COUNTER, "b", "zeta", 1, NULL)->total = 1;
	add(f, VT_GAUGE, "a", "alpha", 2, NULL)->value = 1;
	add(f, VT_COUNTER, "a", "zeta", 3, NULL)->total = 2;
	add(f, VT_TIMER, "a", "mid", 4, NULL)->total = 1;
	add(f, VT_GAUGE, "c", "alpha", 5, NULL)->value = 3;
	add(f, VT_GAUGE, "c", "vitalsx", 6, NULL)->value = 3;
	add(f, VT_GAUGE, "c", "VITALS", 7, NULL)->value = 3;
	char *t = render(f, VT_PROM_OPENMETRICS);
	check_structure(t, 1);
	/* Within a family, series are ordered by label text. */
	const char *a = strstr(t, "zeta_total{service=\"a\"}");
	const char *b = strstr(t, "zeta_total{service=\"b\"}");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert(a < b);
	const char *self = strstr(t, "# TYPE vitals_udp_truncated");
	const char *after = strstr(t, "# TYPE vitalsx");
	ck_assert_ptr_nonnull(self);
	ck_assert_ptr_nonnull(after);
	ck_assert(self < after);
	free(t);
	t = render(NULL, VT_PROM_OPENMETRICS);
	check_structure(t, 1);
	free(t);
}
END_TEST

/* ---- self families ---- */

START_TEST(self_families_before_first_flush)
{
	char *t = render(NULL, VT_PROM_TEXT);
	char line[128];

	ck_assert_uint_eq(count_prefix(t, "# TYPE "), 24);
	ck_assert_uint_eq(count_prefix(t, "# HELP "), 24);
	ck_assert_uint_eq(count_prefix(t, "# TYPE vitals_"), 24);
	ck_assert_line(t, "vitals_udp_packets_total 0");
	ck_assert_line(t, "vitals_start_time_seconds 0");
	ck_assert_line(t, "vitals_lines_total{result=\"ok\"} 0");
	ck_assert_uint_eq(count_prefix(t, "vitals_lines_total{result=\""),
	    VT_LINE_RESULT_COUNT);
	snprintf(line, sizeof line, "vitals_build_info{version=\"%s\"} 1",
	    VT_VERSION);
	ck_assert_line(t, line);
	ck_assert_line(t, conflicts_line(0));
	ck_assert_ptr_null(strstr(t, "# EOF"));
	check_structure(t, 0);
	free(t);
}
END_TEST

START_TEST(self_families_values)
{
	struct vt_flush *f = new_flush(1);
	struct vt_selfstats *s = &f->self;
	s->start_time = 1795000000.5;
	s->udp_packets = 1;
	s->udp_bytes = 2;
	s->udp_truncated = 3;
	s->udp_kernel_drops = 4;
	s->tcp_connections = 5;
	s->tcp_refused = 6;
	s->tcp_open = 7;
	s->tcp_bytes = 8;
	s->tcp_lines_too_long = 9;
	s->tcp_idle_closed = 19;
	s->inbox_messages = 10;
	s->inbox_dropped = 11;
	s->lines[VT_LINE_OK] = 12;
	s->service_checks = 13;
	s->metrics_live = 14;
	s->metrics_created = 15;
	s->metrics_expired = 16;
	s->flushes = 17;
	s->flushes_dropped = 21;
	s->last_flush_seconds = 0.0125;
	s->max_metrics = 100000;
	s->udp_bytes = UINT64_MAX;
	char *t = render(f, VT_PROM_TEXT);

	static const char *const lines[] = {
		"# TYPE vitals_udp_packets_total counter",
		"vitals_udp_packets_total 1",
		"vitals_udp_bytes_total 18446744073709551615",
		"vitals_udp_truncated_total 3",
		"vitals_udp_kernel_drops_total 4",
		"vitals_tcp_connections_total 5",
		"vitals_tcp_refused_total 6",
		"# TYPE vitals_tcp_open_connections gauge",
		"vitals_tcp_open_connections 7",
		"vitals_tcp_bytes_total 8",
		"vitals_tcp_lines_too_long_total 9",
		"vitals_tcp_idle_closed_total 19",
		"vitals_inbox_messages_total 10",
		"vitals_inbox_dropped_total 11",
		"vitals_lines_total{result=\"ok\"} 12",
		"vitals_service_checks_total 13",
		"# TYPE vitals_metrics gauge",
		"vitals_metrics 14",
		"vitals_metrics_created_total 15",
		"vitals_metrics_expired_total 16",
		"vitals_flushes_total 17",
		"vitals_flushes_dropped_total 21",
		"# TYPE vitals_flush_duration_seconds gauge",
		"vitals_flush_duration_seconds 0.0125",
		"# TYPE vitals_metrics_max gauge",
		"vitals_metrics_max 100000",
		"# TYPE vitals_start_time_seconds gauge",
		"vitals_start_time_seconds 1795000000.5",
		"# TYPE vitals_prometheus_conflicts gauge",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		ck_assert_line(t, lines[i]);
	free(t);
}
END_TEST

/* ---- OpenMetrics, negotiation, collectors, the latest flush ---- */

START_TEST(openmetrics_format)
{
	struct vt_flush *f = new_flush(4);
	add(f, VT_COUNTER, "payments", "http.get", 1, NULL)->total = 3;
	add(f, VT_COUNTER, "payments", "done_total", 2, NULL)->total = 4;
	add(f, VT_TIMER, "payments", "rt", 3, NULL)->total = 0;
	char *t = render(f, VT_PROM_OPENMETRICS);

	ck_assert_line(t, "# HELP http_get statsd counter http.get");
	ck_assert_line(t, "# TYPE http_get counter");
	ck_assert_line(t, "http_get_total{service=\"payments\"} 3");
	ck_assert_line(t, "# TYPE done counter");
	ck_assert_line(t, "done_total{service=\"payments\"} 4");
	ck_assert_line(t, "# TYPE rt_seconds summary");
	ck_assert_line(t, "rt_seconds{service=\"payments\",quantile=\"0.5\"} NaN");
	ck_assert_line(t, "# TYPE vitals_flushes counter");
	ck_assert_line(t, "vitals_flushes_total 0");
	ck_assert_line(t, "# TYPE vitals_metrics gauge");
	size_t len = strlen(t);
	ck_assert_uint_ge(len, 6);
	ck_assert_str_eq(t + len - 6, "# EOF\n");
	ck_assert_uint_eq(count_prefix(t, "# EOF"), 1);
	check_structure(t, 1);
	free(t);
}
END_TEST

/* A window its mapping rule made a classic histogram: bounds and
 * cumulative counts in the flush's bucket store (as agg.c fills it). */
static void make_histogram(struct vt_flush *f, struct vt_metric_window *w,
    const double *le, const double *counts, size_t n)
{
	double *b = vt_xcalloc(2 * n, sizeof(double));
	memcpy(b, le, n * sizeof(double));
	memcpy(b + n, counts, n * sizeof(double));
	ck_assert_ptr_null(f->bucket_store);     /* one per test flush */
	f->bucket_store = b;
	struct vt_timer_window *tw = tw_of(w);
	tw->nbuckets = n;
	tw->bucket_le = b;
	tw->bucket_counts = b + n;
}

START_TEST(timer_as_classic_histogram)
{
	static const double le[] = { 0.005, 0.01, 0.25, 1, 2.5 };
	/* 3.4 is float rounding above the next bucket: kept monotone;
	 * 101 above _count: kept at _count */
	static const double counts[] = { 2, 5, 3.4, 90, 101 };
	struct vt_flush *f = new_flush(4);
	struct vt_metric_window *w = add(f, VT_TIMER, "payments", "http.get",
	    1, NULL);
	set_quantiles(w, 12, 30, 100, 250);
	tw_of(w)->sum_total = 5000;      /* ms */
	w->total = 100;
	make_histogram(f, w, le, counts, 5);
	/* a summary of the same family name is a conflict (the newer) */
	add(f, VT_TIMER, "billing", "http.get", 2, NULL)->total = 1;
	for (int om = 0; om < 2; om++) {
		char *t = render(vt_flush_retain(f), om ? VT_PROM_OPENMETRICS :
		    VT_PROM_TEXT);
		ck_assert_line(t, "# TYPE http_get_seconds histogram");
		ck_assert_line(t, "# HELP http_get_seconds statsd timer "
		    "http.get (sent in milliseconds)");
		ck_assert_line(t, "http_get_seconds_bucket{service=\"payments\","
		    "le=\"0.005\"} 2");
		ck_assert_line(t, "http_get_seconds_bucket{service=\"payments\","
		    "le=\"0.01\"} 5");
		ck_assert_line(t, "http_get_seconds_bucket{service=\"payments\","
		    "le=\"0.25\"} 5");
		ck_assert_line(t, "http_get_seconds_bucket{service=\"payments\","
		    "le=\"1\"} 90");
		ck_assert_line(t, "http_get_seconds_bucket{service=\"payments\","
		    "le=\"2.5\"} 100");
		ck_assert_line(t, "http_get_seconds_bucket{service=\"payments\","
		    "le=\"+Inf\"} 100");
		ck_assert_line(t, "http_get_seconds_sum{service=\"payments\"} 5");
		ck_assert_line(t,
		    "http_get_seconds_count{service=\"payments\"} 100");
		ck_assert_ptr_null(strstr(t, "quantile="));
		ck_assert_ptr_null(strstr(t, "billing"));
		ck_assert_line(t, conflicts_line(1));
		check_structure(t, om);
		free(t);
	}
	vt_flush_release(f);
}
END_TEST

START_TEST(histogram_kind_as_classic_histogram_in_unit_sent)
{
	static const double le[] = { 10, 100, 1000 };
	static const double counts[] = { 1, 3, 4 };
	struct vt_flush *f = new_flush(2);
	struct vt_metric_window *w = add(f, VT_HISTOGRAM, "api",
	    "payload.size", 1, NULL);
	tw_of(w)->sum_total = 1234;
	w->total = 5;
	make_histogram(f, w, le, counts, 3);
	char *t = render(f, VT_PROM_TEXT);
	ck_assert_line(t, "# TYPE payload_size histogram");
	ck_assert_line(t, "payload_size_bucket{service=\"api\",le=\"10\"} 1");
	ck_assert_line(t, "payload_size_bucket{service=\"api\",le=\"1000\"} 4");
	ck_assert_line(t, "payload_size_bucket{service=\"api\",le=\"+Inf\"} 5");
	ck_assert_line(t, "payload_size_sum{service=\"api\"} 1234");
	ck_assert_line(t, "payload_size_count{service=\"api\"} 5");
	if (access(VT_PROMTOOL, X_OK) == 0) {
		char out[8192];
		int rc = vt_test_promtool(t, out, sizeof out);
		ck_assert_msg(rc == 0, "promtool exit %d: %s\n%s", rc, out, t);
		ck_assert_str_eq(out, "");
	}
	free(t);
}
END_TEST

static const struct {
	const char *accept;
	enum vt_prom_format fmt;
} accepts[] = {
	{ NULL, VT_PROM_TEXT },
	{ "", VT_PROM_TEXT },
	{ "*/*", VT_PROM_TEXT },
	{ "text/plain;version=0.0.4;q=0.3,*/*;q=0.2", VT_PROM_TEXT },
	{ "application/openmetrics-text;version=1.0.0,"
	  "application/openmetrics-text;version=0.0.1;q=0.75,"
	  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", VT_PROM_OPENMETRICS },
	{ "Application/OpenMetrics-Text", VT_PROM_OPENMETRICS },
};

START_TEST(negotiate_table)
{
	enum vt_prom_format fmt = vt_prom_negotiate(accepts[_i].accept);
	ck_assert_int_eq(fmt, accepts[_i].fmt);
	const char *ct = vt_prom_text_content_type(fmt);
	if (fmt == VT_PROM_TEXT)
		ck_assert_str_eq(ct, "text/plain; version=0.0.4; charset=utf-8");
	else
		ck_assert_str_eq(ct, "application/openmetrics-text; "
		    "version=1.0.0; charset=utf-8");
}
END_TEST

static void collector_fn(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt)
{
	int *calls = ctx;
	(*calls)++;
	vt_buf_printf(out, "# HELP vitals_test_%d t\n# TYPE vitals_test_%d "
	    "gauge\nvitals_test_%d %d\n", *calls, *calls, *calls,
	    fmt == VT_PROM_OPENMETRICS);
}

START_TEST(collectors_run_after_builtins)
{
	struct vt_prom *p = vt_prom_create();
	int calls = 0;
	struct vt_buf out;

	for (int i = 0; i < VT_PROM_MAX_COLLECTORS + 1; i++)
		vt_prom_add_collector(p, collector_fn, &calls);
	vt_buf_init(&out);
	vt_prom_render(p, &out, VT_PROM_OPENMETRICS);
	ck_assert_int_eq(calls, VT_PROM_MAX_COLLECTORS);
	const char *c1 = strstr(out.data, "vitals_test_1 1\n");
	ck_assert_ptr_nonnull(c1);
	const char *self = strstr(out.data, "vitals_udp_truncated_total");
	ck_assert_ptr_nonnull(self);
	ck_assert(c1 > self);
	ck_assert_str_eq(out.data + out.len - 23, "vitals_test_16 1\n# EOF\n");
	vt_buf_fini(&out);
	vt_prom_destroy(p);
}
END_TEST

static char *render_p(struct vt_prom *p)
{
	struct vt_buf out;
	vt_buf_init(&out);
	vt_prom_render(p, &out, VT_PROM_TEXT);
	return vt_buf_steal(&out, NULL);
}

START_TEST(latest_flush_replaces_previous)
{
	struct vt_prom *p = vt_prom_create();
	struct vt_sink sink = vt_prom_sink(p);

	ck_assert_str_eq(sink.name, "prometheus");
	ck_assert_ptr_eq(sink.ctx, p);
	for (int i = 1; i <= 3; i++) {
		struct vt_flush *f = new_flush(1);
		f->self.flushes = (uint64_t)i;
		add(f, VT_COUNTER, "s", "c", 1, NULL)->total = 10.0 * i;
		ck_assert_int_eq(sink.flush(sink.ctx, f), 0);
		vt_flush_release(f);
		/* Twice per flush: the second scrape reuses the cached
		 * model and must say the same. */
		char *a = render_p(p);
		char *b = render_p(p);
		char line[64];
		snprintf(line, sizeof line, "c_total{service=\"s\"} %d",
		    10 * i);
		ck_assert_line(a, line);
		snprintf(line, sizeof line, "vitals_flushes_total %d", i);
		ck_assert_line(a, line);
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
	}
	vt_prom_destroy(p);     /* ASan: every flush and model freed */
}
END_TEST

struct race {
	struct vt_prom *p;
	int renders;
};

static void *render_thread(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < 40; i++) {
		char *t = render_p(r->p);
		if (strstr(t, "vitals_prometheus_conflicts 1\n") != NULL)
			r->renders++;
		free(t);
	}
	return NULL;
}

/* Scrapes while windows close: no use-after-free (ASan), every render
 * consistent (each flush has exactly one conflict). */
START_TEST(concurrent_scrapes_and_flushes)
{
	struct vt_prom *p = vt_prom_create();
	struct vt_sink sink = vt_prom_sink(p);
	struct race r[3];
	pthread_t th[3];

	struct vt_flush *f0 = new_flush(2);
	add(f0, VT_GAUGE, "s", "g", 1, NULL);
	add(f0, VT_GAUGE, "s", "g", 2, NULL);
	sink.flush(sink.ctx, f0);
	vt_flush_release(f0);
	for (int i = 0; i < 3; i++) {
		r[i].p = p;
		r[i].renders = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, render_thread,
		    &r[i]), 0);
	}
	for (int i = 0; i < 40; i++) {
		struct vt_flush *f = new_flush(2);
		add(f, VT_GAUGE, "s", "g", 1, NULL)->value = i;
		add(f, VT_GAUGE, "s", "g", 2, NULL)->value = -i;
		sink.flush(sink.ctx, f);
		vt_flush_release(f);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(r[i].renders, 40);
	}
	vt_prom_destroy(p);
}
END_TEST

/* ---- scale ---- */

#define BIG 100000

START_TEST(renders_100k_series_fast)
{
	struct vt_flush *f = new_flush(BIG);
	char metric[64], host[32];
	for (size_t i = 0; i < BIG; i++) {
		const char *kv[] = { "host", host, "region", "eu-west-1",
			NULL };
		enum vt_kind kind = (enum vt_kind)(i / 50 % VT_KIND_COUNT);
		snprintf(metric, sizeof metric, "app.requests.m%zu", i / 50);
		snprintf(host, sizeof host, "host-%zu", i % 50);
		struct vt_metric_window *w = add(f, kind, "svc", metric,
		    (uint64_t)(BIG - i), kv);
		w->total = (double)i;
		w->value = (double)i * 0.25;
		if (w->timer) {
			tw_of(w)->sum_total = (double)i * 3.5;
			set_quantiles(w, 1.5, 2.25, 10, 12.125);
		}
	}
	struct vt_prom *p = vt_prom_create();
	struct vt_sink sink = vt_prom_sink(p);
	sink.flush(sink.ctx, f);
	vt_flush_release(f);
	struct vt_buf out;
	vt_buf_init(&out);

	struct timespec t0, t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vt_prom_render(p, &out, VT_PROM_TEXT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	size_t len = out.len;
	vt_buf_reset(&out);
	vt_prom_render(p, &out, VT_PROM_TEXT);     /* cached model */
	clock_gettime(CLOCK_MONOTONIC, &t2);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	double ms2 = (double)(t2.tv_sec - t1.tv_sec) * 1e3 +
	    (double)(t2.tv_nsec - t1.tv_nsec) / 1e6;
	fprintf(stderr, "prom: rendered %d series (%zu bytes) in %.1f ms, "
	    "again in %.1f ms\n", BIG, out.len, ms, ms2);
	ck_assert_uint_eq(out.len, len);
	/* Every series kept: different hosts, no conflicts. */
	ck_assert_line(out.data, conflicts_line(0));
	ck_assert_uint_eq(count_prefix(out.data, "# TYPE app_requests_m"),
	    BIG / 50);
	/* The times are printed for people; tests never assert on them. */
	vt_buf_fini(&out);
	vt_prom_destroy(p);
}
END_TEST

/* A collector's family, to see where the stream puts it. */
static void tail_collector(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt)
{
	(void)ctx;
	(void)fmt;
	vt_buf_puts(out, "# TYPE zz_collected gauge\nzz_collected 1\n");
}

/* /metrics is streamed: pieces of about VT_PROM_CHUNK bytes (a piece ends
 * after a whole family), in the same order as a whole render: client
 * families around the vitals_ block, collectors, then "# EOF". */
START_TEST(streams_in_bounded_pieces)
{
	enum { FAMILIES = 2000, PER = 20 };
	struct vt_flush *f = new_flush(FAMILIES * PER + 2);
	char metric[64], host[32];
	for (size_t i = 0; i < FAMILIES * PER; i++) {
		const char *kv[] = { "host", host, NULL };
		snprintf(metric, sizeof metric, "%s.m%zu", i % 2 ? "zeta" :
		    "alpha", i / PER);
		snprintf(host, sizeof host, "host-%zu", i % PER);
		add(f, VT_COUNTER, "svc", metric, i + 1, kv)->total = (double)i;
	}
	struct vt_prom *p = vt_prom_create();
	vt_prom_add_collector(p, tail_collector, NULL);
	struct vt_sink sink = vt_prom_sink(p);
	sink.flush(sink.ctx, f);
	vt_flush_release(f);

	struct vt_buf whole, piece, joined;
	vt_buf_init(&whole);
	vt_buf_init(&piece);
	vt_buf_init(&joined);
	vt_prom_render(p, &whole, VT_PROM_OPENMETRICS);
	struct vt_prom_stream *st = vt_prom_stream_open(p,
	    VT_PROM_OPENMETRICS);
	size_t n, pieces = 0, largest = 0;
	while ((n = vt_prom_stream_next(st, &piece)) > 0) {
		ck_assert_uint_eq(n, piece.len);
		pieces++;
		if (n > largest)
			largest = n;
		vt_buf_append(&joined, piece.data, piece.len);
		vt_buf_reset(&piece);
	}
	ck_assert_uint_eq(vt_prom_stream_next(st, &piece), 0);   /* stays done */
	vt_prom_stream_close(st);

	ck_assert_uint_gt(whole.len, 10 * VT_PROM_CHUNK);
	ck_assert_uint_gt(pieces, whole.len / (2 * VT_PROM_CHUNK));
	ck_assert_uint_lt(largest, VT_PROM_CHUNK + 4096);
	ck_assert_uint_eq(joined.len, whole.len);
	ck_assert_int_eq(memcmp(joined.data, whole.data, whole.len), 0);
	ck_assert_uint_eq(count_prefix(joined.data, "# TYPE alpha_m"),
	    FAMILIES);
	ck_assert_uint_eq(count_prefix(joined.data, "# TYPE zeta_m"),
	    FAMILIES);
	const char *self = strstr(joined.data, "# TYPE vitals_");
	const char *zeta = strstr(joined.data, "# TYPE zeta_m");
	const char *alpha = strstr(joined.data, "# TYPE alpha_m");
	const char *coll = strstr(joined.data, "# TYPE zz_collected");
	ck_assert(alpha && self && zeta && coll);
	ck_assert(alpha < self && self < zeta && zeta < coll);
	ck_assert_uint_eq(count_prefix(joined.data, "# EOF"), 1);
	ck_assert_str_eq(joined.data + joined.len - 6, "# EOF\n");
	vt_buf_fini(&whole);
	vt_buf_fini(&piece);
	vt_buf_fini(&joined);
	vt_prom_destroy(p);
}
END_TEST

/* ---- the real promtool ---- */


static struct vt_flush *everything(void)
{
	static const char *const tags[] = {
		"instance", "pay-1:4001", "region", "eu \"west\"\\1\n\xFF",
		"le", "0.5", "__x", "y", "zone-id", "b", NULL,
	};
	struct vt_flush *f = new_flush(16);
	f->self.udp_packets = 1000;
	f->self.lines[VT_LINE_OK] = 990;
	f->self.lines[VT_LINE_BAD_VALUE] = 10;
	f->self.start_time = 1795000000;
	f->self.last_flush_seconds = 0.003;
	add(f, VT_COUNTER, "payments", "http.requests", 1, tags)->total = 5;
	add(f, VT_COUNTER, "billing", "http.requests", 2, NULL)->total = 6;
	add(f, VT_COUNTER, "payments", "http-requests", 3, tags)->total = 7;
	add(f, VT_GAUGE, "payments", "queue.depth", 4, tags)->value = 3;
	add(f, VT_GAUGE, "payments", "http.requests_total", 5, NULL);
	add(f, VT_SET, "web", "users.unique", 6, NULL)->value = 12;
	struct vt_metric_window *w = add(f, VT_TIMER, "payments",
	    "http.latency", 7, tags);
	set_quantiles(w, 12, 30, 100, NAN);
	tw_of(w)->sum_total = 4000;
	w->total = 90;
	add(f, VT_GAUGE, "payments", "http.latency.seconds.sum", 8, NULL);
	w = add(f, VT_HISTOGRAM, "api", "payload.size", 9, NULL);
	set_quantiles(w, 1, 2, 3, 4);
	tw_of(w)->sum_total = 10;
	w->total = 4;
	add(f, VT_GAUGE, "api", "payload.size_count", 10, NULL);
	add(f, VT_GAUGE, "s", "vitals.udp.packets", 11, NULL);
	add(f, VT_GAUGE, "s", "9lives", 12, NULL)->value = 9;
	return f;
}

START_TEST(promtool_accepts_full_exposition)
{
	ck_assert_msg(access(VT_PROMTOOL, X_OK) == 0, VT_PROMTOOL " not installed");
	char out[8192];
	char *t = render(everything(), VT_PROM_TEXT);
	ck_assert_line(t, conflicts_line(5));
	int rc = vt_test_promtool(t, out, sizeof out);
	ck_assert_msg(rc == 0, "promtool exit %d: %s\n%s", rc, out, t);
	ck_assert_ptr_null(strcasestr(out, "error"));
	ck_assert_str_eq(out, "");
	free(t);
}
END_TEST

/* A client's camelCase is only a lint remark, about that name only. */
START_TEST(promtool_lints_only_client_names)
{
	ck_assert_msg(access(VT_PROMTOOL, X_OK) == 0, VT_PROMTOOL " not installed");
	char out[8192];
	struct vt_flush *f = everything();
	add(f, VT_GAUGE, "s", "queueDepth", 13, NULL);
	char *t = render(f, VT_PROM_TEXT);
	int rc = vt_test_promtool(t, out, sizeof out);
	ck_assert_msg(rc == 3, "promtool exit %d: %s", rc, out);
	ck_assert_ptr_null(strcasestr(out, "error"));
	ck_assert_ptr_nonnull(strstr(out, "queueDepth"));
	ck_assert_ptr_null(strstr(out, "vitals_"));
	free(t);
}
END_TEST

Suite *vt_test_prom_suite(void)
{
	Suite *s = suite_create("prom");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, counter_renders_cumulative_total);
	tcase_add_test(tc, gauge_and_set_render_value);
	tcase_add_test(tc, timer_is_summary_in_seconds);
	tcase_add_test(tc, histogram_is_summary_in_unit_sent);
	tcase_add_test(tc, timer_as_classic_histogram);
	tcase_add_test(tc, histogram_kind_as_classic_histogram_in_unit_sent);
	tcase_add_test(tc, label_values_are_escaped_and_utf8);
	tcase_add_loop_test(tc, escape_helpers, 0,
	    (int)(sizeof escapes / sizeof escapes[0]));
	tcase_add_test(tc, help_is_escaped_and_names_sanitised);
	tcase_add_test(tc, reserved_labels_are_renamed);
	tcase_add_loop_test(tc, value_formatting, 0,
	    (int)(sizeof values / sizeof values[0]));
	tcase_add_test(tc, values_round_trip);
	tcase_add_loop_test(tc, label_text_table, 0,
	    (int)(sizeof label_sets / sizeof label_sets[0]));
	tcase_add_test(tc, two_names_one_series_older_wins);
	tcase_add_test(tc, counter_and_gauge_clash);
	tcase_add_test(tc, vitals_namespace_is_reserved);
	tcase_add_test(tc, summary_suffix_clash);
	tcase_add_test(tc, duplicate_label_names_are_a_conflict);
	tcase_add_test(tc, label_sets_compare_after_sanitising);
	tcase_add_test(tc, families_sorted_and_contiguous);
	tcase_add_test(tc, self_families_before_first_flush);
	tcase_add_test(tc, self_families_values);
	tcase_add_test(tc, openmetrics_format);
	tcase_add_loop_test(tc, negotiate_table, 0,
	    (int)(sizeof accepts / sizeof accepts[0]));
	tcase_add_test(tc, collectors_run_after_builtins);
	tcase_add_test(tc, latest_flush_replaces_previous);
	tcase_add_test(tc, concurrent_scrapes_and_flushes);
	suite_add_tcase(s, tc);

	TCase *slow = tcase_create("slow");
	tcase_set_timeout(slow, 60);
	tcase_add_test(slow, renders_100k_series_fast);
	tcase_add_test(slow, streams_in_bounded_pieces);
	tcase_add_test(slow, promtool_accepts_full_exposition);
	tcase_add_test(slow, promtool_lints_only_client_names);
	suite_add_tcase(s, slow);
	return s;
}
