/*
 * test_expect.c - expectations (collector/alerts/expect.h): the section's
 * good entries and defaults, a table of bad ones each naming its key; and
 * windows in, check reports out: an expectation that holds, one that fails
 * for its `for` (and not before), recovers, sees no traffic (unknown after
 * `for`, "no traffic yet" at first), the worst of several tag sets, a gauge
 * without samples, and a reload that keeps state or reports a removal.
 */
#include <cJSON.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/agg/flush.h"
#include "collector/agg/series.h"
#include "collector/alerts/expect.h"
#include "collector/config/config.h"
#include "suites.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static const double pct[] = { 50, 99 };

static struct vt_expect_config *parse(const char *json, char *key,
    char *why)
{
	cJSON *root = cJSON_Parse(json);
	ck_assert_msg(root != NULL, "test JSON: %s", json);
	struct vt_expect_config *c = vt_expect_config_parse(root, pct, 2, key,
	    VT_ALERT_KEY_LEN, why, 200);
	cJSON_Delete(root);
	return c;
}

#define OK_ENTRY "\"service\": \"s\", \"metric\": \"m\", \"stat\": " \
    "\"mean\", \"op\": \"<\", \"value\": 1"

START_TEST(good_entries_and_defaults)
{
	char key[VT_ALERT_KEY_LEN] = "", why[200] = "";
	struct vt_expect_config *c = parse("["
	    "{\"name\": \"fast\", \"service\": \"pay\", \"metric\": "
	    " \"http.get\", \"stat\": \"p99\", \"op\": \"<\", \"value\": 250},"
	    "{\"name\": \"busy\", \"service\": \"pay\", \"metric\": \"req\", "
	    " \"stat\": \"rate_1m\", \"op\": \">=\", \"value\": 1.5, "
	    " \"for\": \"5m\", \"severity\": \"critical\"}]", key, why);
	ck_assert_msg(c != NULL, "%s: %s", key, why);
	ck_assert_uint_eq(c->n, 2);
	const struct vt_expectation *a = &c->e[0], *b = &c->e[1];
	ck_assert_str_eq(a->check, "expect:fast");
	ck_assert_str_eq(a->rule.service, "pay");
	ck_assert_str_eq(a->rule.metric, "http.get");
	ck_assert_int_eq(a->rule.stat, VT_STAT_PERCENTILE);
	ck_assert_uint_eq(a->rule.pct_index, 1);
	ck_assert_int_eq(a->rule.op, VT_OP_LT);
	ck_assert_double_eq(a->rule.value, 250);
	ck_assert_double_eq(a->rule.for_s, 0);
	ck_assert_int_eq(a->severity, VT_STATUS_WARNING);
	ck_assert_int_eq(b->rule.stat, VT_STAT_RATE_1M);
	ck_assert_int_eq(b->rule.op, VT_OP_GE);
	ck_assert_double_eq(b->rule.for_s, 300);
	ck_assert_int_eq(b->severity, VT_STATUS_CRITICAL);
	vt_expect_config_release(c);
	/* a name is unique per service: each service's check */
	c = parse("[{\"name\": \"lat\", " OK_ENTRY "}, {\"name\": \"lat\", "
	    "\"service\": \"t\", \"metric\": \"m\", \"stat\": \"mean\", "
	    "\"op\": \"<\", \"value\": 1}]", key, why);
	ck_assert_msg(c != NULL, "%s: %s", key, why);
	ck_assert_uint_eq(c->n, 2);
	vt_expect_config_release(c);
	c = parse("[]", key, why);
	ck_assert_uint_eq(c->n, 0);
	vt_expect_config_release(c);
	c = vt_expect_config_parse(NULL, pct, 2, key, VT_ALERT_KEY_LEN, why,
	    200);
	ck_assert_uint_eq(c->n, 0);
	vt_expect_config_release(c);
}
END_TEST

START_TEST(bad_entries_name_their_key)
{
	static const struct { const char *json, *key, *why; } bad[] = {
		{ "{}", "expectations", "expected an array" },
		{ "[3]", "expectations[0]", "expected an object" },
		{ "[{" OK_ENTRY "}]", "expectations[0].name", "required" },
		{ "[{\"name\": \"x\", \"metric\": \"m\", \"stat\": \"mean\", "
		  "\"op\": \"<\", \"value\": 1}]", "expectations[0].service",
		  "required" },
		{ "[{\"name\": \"x\", \"service\": \"s\", \"stat\": \"mean\", "
		  "\"op\": \"<\", \"value\": 1}]", "expectations[0].metric",
		  "required" },
		{ "[{\"name\": \"x\", \"service\": \"s\", \"metric\": \"m\", "
		  "\"stat\": \"mean\", \"op\": \"<\"}]",
		  "expectations[0].value", "required" },
		{ "[{\"name\": \"x\", " OK_ENTRY ", \"colour\": 1}]",
		  "expectations[0].colour", "unknown key" },
		{ "[{\"name\": \"x\", \"service\": \"s\", \"metric\": \"m\", "
		  "\"stat\": \"p95\", \"op\": \"<\", \"value\": 1}]",
		  "expectations[0].stat", "p95 is not one of the configured" },
		{ "[{\"name\": \"x\", \"service\": \"s\", \"metric\": \"m\", "
		  "\"stat\": \"median\", \"op\": \"<\", \"value\": 1}]",
		  "expectations[0].stat", "expected count, rate" },
		{ "[{\"name\": \"x\", \"service\": \"s\", \"metric\": \"m\", "
		  "\"stat\": \"mean\", \"op\": \"=<\", \"value\": 1}]",
		  "expectations[0].op", "expected one of" },
		{ "[{\"name\": \"x\", " OK_ENTRY ", \"for\": \"soon\"}]",
		  "expectations[0].for", "expected a duration" },
		{ "[{\"name\": \"x\", " OK_ENTRY ", \"for\": -1}]",
		  "expectations[0].for", "must be between" },
		{ "[{\"name\": \"x\", " OK_ENTRY ", \"severity\": \"ok\"}]",
		  "expectations[0].severity", "expected warning or critical" },
		{ "[{\"name\": \"x\", " OK_ENTRY "}, {\"name\": \"x\", "
		  OK_ENTRY "}]", "expectations[1].name", "x is used twice for s" },
		{ "[{\"name\": \"a\\nb\", " OK_ENTRY "}]",
		  "expectations[0].name", "control character" },
		{ "[{\"name\": \"\", " OK_ENTRY "}]", "expectations[0].name",
		  "must be 1 to" },
		{ "[{\"name\": 7, " OK_ENTRY "}]", "expectations[0].name",
		  "expected a string" },
	};
	for (size_t i = 0; i < N(bad); i++) {
		char key[VT_ALERT_KEY_LEN] = "", why[200] = "";
		struct vt_expect_config *c = parse(bad[i].json, key, why);
		ck_assert_msg(c == NULL, "accepted %s", bad[i].json);
		ck_assert_msg(strcmp(key, bad[i].key) == 0, "%s: key %s, "
		    "want %s", bad[i].json, key, bad[i].key);
		ck_assert_msg(strstr(why, bad[i].why) != NULL, "%s: %s, want "
		    "%s", bad[i].json, why, bad[i].why);
	}
	/* A name that leaves no room for "expect:" in a check name. */
	char json[VT_NAME_MAX + 256], key[VT_ALERT_KEY_LEN], why[200];
	char name[VT_NAME_MAX + 1];
	memset(name, 'n', VT_NAME_MAX);
	name[VT_NAME_MAX] = '\0';
	snprintf(json, sizeof json, "[{\"name\": \"%s\", " OK_ENTRY "}]",
	    name);
	ck_assert_ptr_null(parse(json, key, why));
	ck_assert_str_eq(key, "expectations[0].name");
}
END_TEST

/* The config file: the main parser leaves the section alone, the loader
 * names the file and the key. */
START_TEST(config_file_section)
{
	char path[] = "/tmp/vt-test-expect-XXXXXX", err[600];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *fp = fdopen(fd, "w");
	fputs("{ // comments are allowed\n \"expectations\": [{\"name\": "
	    "\"x\", \"service\": \"s\", \"metric\": \"m\", \"stat\": \"p99\", "
	    "\"op\": \"<\", \"value\": 1, \"for\": \"1h\"}]}\n", fp);
	fclose(fp);
	struct vt_config cfg;
	char *argv[] = { "vitalsd", "-c", path, NULL };
	ck_assert_int_eq(vt_config_from_args(&cfg, 3, argv, err, sizeof err),
	    VT_CONFIG_RUN);
	struct vt_expect_config *c = vt_expect_config_load(path,
	    cfg.percentiles, cfg.npercentiles, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(c->n, 1);
	vt_expect_config_release(c);
	fp = fopen(path, "w");
	fputs("{\"expectations\": [{\"name\": \"x\", \"service\": \"s\"}]}",
	    fp);
	fclose(fp);
	ck_assert_ptr_null(vt_expect_config_load(path, pct, 2, err,
	    sizeof err));
	ck_assert_msg(strstr(err, path) && strstr(err,
	    "expectations[0].metric: required"), "%s", err);
	unlink(path);
}
END_TEST

/* ---- evaluation ---- */

#define MAX_REPORTS 64

struct got {
	size_t n;
	char status[MAX_REPORTS][16], output[MAX_REPORTS][1100];
	char check[MAX_REPORTS][64], service[MAX_REPORTS][64];
	char instance[MAX_REPORTS][64];
	double ttl[MAX_REPORTS];
};

static void copy(char *dst, size_t len, const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);
	ck_assert_msg(cJSON_IsString(v), "%s", name);
	ck_assert_uint_lt(strlen(v->valuestring), len);
	strcpy(dst, v->valuestring);
}

static void on_report(void *ctx, const char *body, size_t len)
{
	struct got *g = ctx;
	cJSON *arr = cJSON_ParseWithLength(body, len), *it;
	ck_assert_msg(cJSON_IsArray(arr), "%.*s", (int)len, body);
	cJSON_ArrayForEach(it, arr) {
		ck_assert_uint_lt(g->n, MAX_REPORTS);
#define COPY(f) copy(g->f[g->n], sizeof g->f[g->n], it, #f)
		COPY(status);
		COPY(output);
		COPY(check);
		COPY(service);
		COPY(instance);
#undef COPY
		g->ttl[g->n] = cJSON_GetObjectItem(it, "ttl")->valuedouble;
		g->n++;
	}
	cJSON_Delete(arr);
}

static vt_expect *make(const char *json, struct got *g)
{
	char key[VT_ALERT_KEY_LEN], why[200];
	struct vt_expect_config *c = parse(json, key, why);
	ck_assert_msg(c != NULL, "%s: %s", key, why);
	vt_expect *x = vt_expect_create(c);
	memset(g, 0, sizeof *g);
	vt_expect_set_report(x, on_report, g);
	return x;
}

static struct vt_series *series(enum vt_kind kind, const char *svc,
    const char *met, const char *tag)
{
	struct vt_slice s = { svc, strlen(svc) }, m = { met, strlen(met) };
	char key[128];
	snprintf(key, sizeof key, "%s.%s|%s", svc, met, tag ? tag : "");
	struct vt_slice k = { key, strlen(key) };
	struct vt_slice lk = { "route", 5 }, lv = { tag, tag ? strlen(tag) : 0 };
	return vt_series_create(kind, s, m, k, 1, tag ? &lk : NULL,
	    tag ? &lv : NULL, tag ? 1 : 0);
}

/* Quantiles per window: p50, p99 (the flush's percentiles). */
static double quantiles[8][2];

/* A window closing at t (1 s long) with the series given; p99s[i] is the
 * p99 of ser[i] (NaN: no samples). */
static void window(vt_expect *x, double t, size_t n,
    struct vt_series **ser, const double *p99s)
{
	struct vt_flush *f = vt_flush_create(n, n, 2);
	f->nmetrics = n;
	f->timestamp = t;
	f->interval = 1;
	f->npercentiles = 2;
	f->percentiles[0] = 50;
	f->percentiles[1] = 99;
	for (size_t i = 0; i < n; i++) {
		struct vt_metric_window *m = &f->metrics[i];
		m->series = vt_series_retain(ser[i]);
		int empty = isnan(p99s[i]);
		m->samples = empty ? 0 : 3;
		m->count = m->rate = empty ? 0 : 3;
		struct vt_timer_window *tw = vt_flush_add_timer(f, m);
		tw->min = tw->max = tw->mean = tw->stddev = tw->sum = NAN;
		m->value = ser[i]->kind == VT_GAUGE ? p99s[i] : NAN;
		quantiles[i][0] = quantiles[i][1] = p99s[i];
		tw->quantiles = ser[i]->kind == VT_TIMER ? quantiles[i] : NULL;
	}
	vt_expect_flush(x, f);
	vt_flush_release(f);
}

static const char *const FAST = "[{\"name\": \"fast\", \"service\": "
    "\"pay\", \"metric\": \"http.get\", \"stat\": \"p99\", \"op\": \"<\", "
    "\"value\": 250, \"for\": \"3s\"}]";

START_TEST(holds)
{
	struct got g;
	vt_expect *x = make(FAST, &g);
	struct vt_series *s = series(VT_TIMER, "pay", "http.get", NULL);
	struct vt_series *other = series(VT_TIMER, "shop", "http.get", NULL);
	struct vt_series *both[] = { other, s };
	window(x, 100, 2, both, (double[]){ 999, 120.456 });
	ck_assert_uint_eq(g.n, 1);
	ck_assert_str_eq(g.service[0], "pay");
	ck_assert_str_eq(g.check[0], "expect:fast");
	ck_assert_str_eq(g.instance[0], "vitalsd");
	ck_assert_str_eq(g.status[0], "ok");
	ck_assert_str_eq(g.output[0], "p99 120 ms, expected < 250 ms");
	ck_assert_double_eq(g.ttl[0], VT_EXPECT_TTL_MIN);
	vt_series_release(s);
	vt_series_release(other);
	vt_expect_destroy(x);
}
END_TEST

START_TEST(fails_for_its_for_then_recovers)
{
	struct got g;
	vt_expect *x = make(FAST, &g);
	struct vt_series *s = series(VT_TIMER, "pay", "http.get", NULL);
	window(x, 100, 1, &s, (double[]){ 100 });
	window(x, 101, 1, &s, (double[]){ 312 });       /* failing from 100 */
	window(x, 102, 1, &s, (double[]){ 312 });
	ck_assert_str_eq(g.status[1], "ok");
	ck_assert_str_eq(g.output[1], "p99 312 ms, expected < 250 ms; "
	    "failing for 1s, warning after 3s");
	ck_assert_str_eq(g.status[2], "ok");
	window(x, 103, 1, &s, (double[]){ 312 });       /* 3 s */
	ck_assert_str_eq(g.status[3], "warning");
	ck_assert_str_eq(g.output[3], "p99 312 ms, expected < 250 ms; "
	    "failing for 3s");
	window(x, 104, 1, &s, (double[]){ 400 });
	ck_assert_str_eq(g.status[4], "warning");
	window(x, 105, 1, &s, (double[]){ 249 });       /* recovers at once */
	ck_assert_str_eq(g.status[5], "ok");
	ck_assert_str_eq(g.output[5], "p99 249 ms, expected < 250 ms");
	/* a single bad window is not a failure for 3s */
	window(x, 106, 1, &s, (double[]){ 900 });
	window(x, 107, 1, &s, (double[]){ 100 });
	window(x, 108, 1, &s, (double[]){ 900 });
	window(x, 109, 1, &s, (double[]){ 900 });
	for (size_t i = 6; i < 10; i++)
		ck_assert_str_eq(g.status[i], "ok");
	vt_series_release(s);
	vt_expect_destroy(x);
}
END_TEST

START_TEST(critical_severity_and_for_zero)
{
	struct got g;
	vt_expect *x = make("[{\"name\": \"busy\", \"service\": \"pay\", "
	    "\"metric\": \"req\", \"stat\": \"rate\", \"op\": \">\", "
	    "\"value\": 5, \"severity\": \"critical\"}]", &g);
	struct vt_series *s = series(VT_COUNTER, "pay", "req", NULL);
	window(x, 100, 1, &s, (double[]){ 1 });          /* rate 3 */
	ck_assert_str_eq(g.status[0], "critical");
	ck_assert_str_eq(g.output[0], "rate 3/s, expected > 5/s; failing "
	    "for 1s");
	vt_series_release(s);
	vt_expect_destroy(x);
}
END_TEST

START_TEST(no_traffic_is_unknown_after_for)
{
	struct got g;
	vt_expect *x = make(FAST, &g);
	struct vt_series *s = series(VT_TIMER, "pay", "http.get", NULL);
	/* nothing at all yet: unknown at once, not passing */
	window(x, 100, 0, NULL, NULL);
	ck_assert_str_eq(g.status[0], "unknown");
	ck_assert_str_eq(g.output[0], "no http.get traffic yet, expected "
	    "p99 < 250");
	window(x, 101, 1, &s, (double[]){ 100 });
	ck_assert_str_eq(g.status[1], "ok");
	/* the series is still there, without samples */
	window(x, 102, 1, &s, (double[]){ NAN });
	ck_assert_str_eq(g.status[2], "ok");
	ck_assert_str_eq(g.output[2], "no http.get traffic for 1s, expected "
	    "p99 < 250 ms; unknown after 3s");
	window(x, 103, 0, NULL, NULL);                  /* gone from it */
	ck_assert_str_eq(g.status[3], "ok");
	window(x, 104, 1, &s, (double[]){ NAN });
	ck_assert_str_eq(g.status[4], "unknown");
	ck_assert_str_eq(g.output[4], "no http.get traffic for 3s, expected "
	    "p99 < 250 ms");
	window(x, 105, 1, &s, (double[]){ 100 });
	ck_assert_str_eq(g.status[5], "ok");
	/* failing, then quiet: it stays warning until unknown */
	for (double t = 106; t <= 108; t++)
		window(x, t, 1, &s, (double[]){ 300 });
	ck_assert_str_eq(g.status[8], "warning");
	window(x, 109, 1, &s, (double[]){ NAN });
	ck_assert_str_eq(g.status[9], "warning");
	window(x, 110, 1, &s, (double[]){ NAN });
	window(x, 111, 1, &s, (double[]){ NAN });
	ck_assert_str_eq(g.status[11], "unknown");
	vt_series_release(s);
	vt_expect_destroy(x);
}
END_TEST

START_TEST(worst_of_tag_sets_and_gauges)
{
	struct got g;
	vt_expect *x = make("[{\"name\": \"fast\", \"service\": \"pay\", "
	    "\"metric\": \"http.get\", \"stat\": \"p99\", \"op\": \"<\", "
	    "\"value\": 250}, {\"name\": \"disk\", \"service\": \"pay\", "
	    "\"metric\": \"disk\", \"stat\": \"value\", \"op\": \"<=\", "
	    "\"value\": 90}]", &g);
	struct vt_series *a = series(VT_TIMER, "pay", "http.get", "/a");
	struct vt_series *b = series(VT_TIMER, "pay", "http.get", "/b");
	struct vt_series *c = series(VT_TIMER, "pay", "http.get", "/c");
	struct vt_series *d = series(VT_GAUGE, "pay", "disk", NULL);
	struct vt_series *all[] = { a, b, c, d };
	window(x, 100, 4, all, (double[]){ 100, 200, NAN, 42 });
	ck_assert_str_eq(g.output[0], "p99 200 ms (route=/b, the worst of 2 "
	    "tag sets), expected < 250 ms");
	ck_assert_str_eq(g.status[0], "ok");
	ck_assert_str_eq(g.output[1], "value 42, expected <= 90");
	window(x, 101, 4, all, (double[]){ 300, 200, 260, 95 });
	ck_assert_str_eq(g.status[2], "warning");
	ck_assert_str_eq(g.output[2], "p99 300 ms (route=/a, the worst of 3 "
	    "tag sets), expected < 250 ms; failing for 1s");
	ck_assert_str_eq(g.status[3], "warning");
	ck_assert_str_eq(g.output[3], "value 95, expected <= 90; failing "
	    "for 1s");
	vt_series_release(a);
	vt_series_release(b);
	vt_series_release(c);
	vt_series_release(d);
	vt_expect_destroy(x);
}
END_TEST

START_TEST(reload_keeps_state_and_reports_removals)
{
	struct got g;
	char key[VT_ALERT_KEY_LEN], why[200];
	vt_expect *x = make("[{\"name\": \"fast\", \"service\": \"pay\", "
	    "\"metric\": \"http.get\", \"stat\": \"p99\", \"op\": \"<\", "
	    "\"value\": 250, \"for\": \"2s\"}, {\"name\": \"old\", "
	    "\"service\": \"pay\", \"metric\": \"x\", \"stat\": \"count\", "
	    "\"op\": \">\", \"value\": 0}]", &g);
	struct vt_series *s = series(VT_TIMER, "pay", "http.get", NULL);
	window(x, 100, 1, &s, (double[]){ 300 });
	ck_assert_uint_eq(g.n, 2);
	/* "fast" unchanged keeps its failing-since; "old" is gone */
	vt_expect_set_config(x, parse("[{\"name\": \"fast\", \"service\": "
	    "\"pay\", \"metric\": \"http.get\", \"stat\": \"p99\", \"op\": "
	    "\"<\", \"value\": 250, \"for\": \"2s\"}]", key, why), 100.5);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_str_eq(g.check[2], "expect:old");
	ck_assert_str_eq(g.status[2], "ok");
	ck_assert_str_eq(g.output[2], "expectation removed from the config");
	ck_assert_uint_eq(vt_expect_count(x), 1);
	window(x, 101, 1, &s, (double[]){ 300 });
	ck_assert_uint_eq(g.n, 4);
	ck_assert_str_eq(g.status[3], "warning");
	/* a changed value starts afresh */
	vt_expect_set_config(x, parse("[{\"name\": \"fast\", \"service\": "
	    "\"pay\", \"metric\": \"http.get\", \"stat\": \"p99\", \"op\": "
	    "\"<\", \"value\": 200, \"for\": \"2s\"}]", key, why), 101.5);
	ck_assert_uint_eq(g.n, 4);
	window(x, 102, 1, &s, (double[]){ 300 });
	ck_assert_str_eq(g.status[4], "unknown");
	ck_assert_str_eq(g.output[4], "p99 300 ms, expected < 200 ms; "
	    "failing for 1s, warning after 2s");
	vt_series_release(s);
	vt_expect_destroy(x);
}
END_TEST

Suite *vt_test_expect_suite(void)
{
	Suite *s = suite_create("expect");
	TCase *tc = tcase_create("expect");
	tcase_add_test(tc, good_entries_and_defaults);
	tcase_add_test(tc, bad_entries_name_their_key);
	tcase_add_test(tc, config_file_section);
	tcase_add_test(tc, holds);
	tcase_add_test(tc, fails_for_its_for_then_recovers);
	tcase_add_test(tc, critical_severity_and_for_zero);
	tcase_add_test(tc, no_traffic_is_unknown_after_for);
	tcase_add_test(tc, worst_of_tag_sets_and_gauges);
	tcase_add_test(tc, reload_keeps_state_and_reports_removals);
	suite_add_tcase(s, tc);
	return s;
}
