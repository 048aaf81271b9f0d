/*
 * test_alert_engine.c - the engine between health events, windows and
 * notifications: one firing and one resolved per episode, `for` on the
 * tick, escalation, staleness, one flapping notice then silence and a
 * catch-up when it calms down, thresholds over windows (a spike is not
 * enough), forgotten services, reloads and the cap; the summary's
 * numbers at the precision a person reads, with their unit.
 */
#include <check.h>
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/flush.h"
#include "collector/agg/series.h"
#include "collector/alerts/alert_engine.h"
#include "collector/alerts/alert_store.h"
#include "collector/base/prom_text.h"
#include "suites.h"

#define MAX_SENT 64

struct sent {
	size_t n;
	char what[MAX_SENT][96];    /* "alert state status" */
	char summary[MAX_SENT][160];
};

static void capture(void *ctx, struct vt_alert_config *cfg,
    const struct vt_alert_event *ev)
{
	struct sent *s = ctx;
	(void)cfg;
	if (s->n < MAX_SENT)
		snprintf(s->what[s->n], sizeof s->what[0], "%s %s%s %s",
		    ev->rule->name, ev->state, ev->reminder ? "+" : "",
		    ev->status >= 0 ? vt_health_check_status_name(ev->status) : "-");
	if (s->n < MAX_SENT) {
		struct vt_buf b;
		vt_buf_init(&b);
		vt_alert_event_summary(ev, &b);
		snprintf(s->summary[s->n], sizeof s->summary[0], "%s",
		    b.data ? b.data : "");
		vt_buf_fini(&b);
	}
	s->n++;
}

static vt_alert_engine *engine(const char *json, struct sent *s)
{
	static const double pct[] = { 50, 99 };
	char key[VT_ALERT_KEY_LEN], why[200];
	cJSON *root = cJSON_Parse(json);
	struct vt_alert_config *c = vt_alert_config_parse(root, pct, 2, key,
	    sizeof key, why, sizeof why);
	cJSON_Delete(root);
	ck_assert_msg(c != NULL, "%s: %s", key, why);
	memset(s, 0, sizeof *s);
	return vt_alert_engine_create(c, capture, s);
}

static void report(vt_alert_engine *e, const char *svc, const char *check,
    enum vt_status st, int prev, enum vt_status svc_st, int svc_prev,
    double t)
{
	struct vt_health_event ev = {
		.service = svc, .instance = "i-1", .check = check,
		.output = "out", .status = st, .previous = prev,
		.service_status = svc_st, .service_previous = svc_prev,
		.time = t,
	};
	vt_alert_engine_on_report(e, &ev);
}

#define OK VT_STATUS_OK
#define WARN VT_STATUS_WARNING
#define CRIT VT_STATUS_CRITICAL

START_TEST(service_fires_once_and_resolves_once)
{
	struct sent s;
	vt_alert_engine *e = engine("{\"rules\": [{\"name\": \"down\", "
	    "\"service\": \"pay\"}]}", &s);
	report(e, "pay", "db", OK, -1, OK, -1, 1);       /* new, ok: quiet */
	report(e, "other", "db", CRIT, -1, CRIT, -1, 1); /* not its service */
	ck_assert_uint_eq(s.n, 0);
	report(e, "pay", "db", WARN, OK, WARN, OK, 2);
	report(e, "pay", "db", WARN, WARN, WARN, WARN, 3);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.what[0], "down firing warning");
	report(e, "pay", "db", CRIT, WARN, CRIT, WARN, 4);   /* escalation */
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.what[1], "down firing critical");
	struct vt_buf b;
	vt_buf_init(&b);
	vt_alert_engine_json(e, &b);
	ck_assert_ptr_nonnull(strstr(b.data, "\"id\":\"down|pay\""));
	ck_assert_ptr_nonnull(strstr(b.data, "\"state\":\"firing\""));
	report(e, "pay", "db", OK, CRIT, OK, CRIT, 5);
	report(e, "pay", "db", OK, OK, OK, OK, 6);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.what[2], "down resolved ok");
	vt_buf_reset(&b);
	vt_alert_engine_json(e, &b);
	ck_assert_str_eq(b.data, "{\"alerts\":[]}\n");
	vt_buf_fini(&b);
	vt_alert_engine_destroy(e);
}
END_TEST

START_TEST(for_is_counted_on_the_tick_and_reminders)
{
	struct sent s;
	vt_alert_engine *e = engine("{\"rules\": [{\"name\": \"db\", "
	    "\"type\": \"check\", \"notify\": [\"critical\"], \"for\": 5, "
	    "\"renotify\": 60}]}", &s);
	report(e, "pay", "db", CRIT, OK, CRIT, OK, 100);
	vt_alert_engine_tick(e, 103);
	ck_assert_uint_eq(s.n, 0);
	vt_alert_engine_tick(e, 105);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.what[0], "db firing critical");
	vt_alert_engine_tick(e, 164);
	ck_assert_uint_eq(s.n, 1);
	vt_alert_engine_tick(e, 165);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.what[1], "db firing+ critical");
	/* back to ok before `for` passes: nothing at all */
	report(e, "pay", "db", OK, CRIT, OK, CRIT, 170);
	report(e, "pay", "db2", CRIT, OK, CRIT, OK, 171);
	report(e, "pay", "db2", OK, CRIT, OK, CRIT, 173);
	vt_alert_engine_tick(e, 180);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.what[2], "db resolved ok");
	vt_alert_engine_destroy(e);
}
END_TEST

START_TEST(staleness_fires_and_resolves)
{
	struct sent s;
	vt_alert_engine *e = engine("{\"rules\": [{\"name\": \"silent\", "
	    "\"type\": \"stale\"}]}", &s);
	report(e, "pay", "db", OK, -1, OK, -1, 1);
	struct vt_health_event ev = {
		.service = "pay", .instance = "i-1", .check = "db",
		.output = "stale: no report for 30s", .status = CRIT,
		.previous = OK, .stale = 1, .service_status = CRIT,
		.service_previous = OK, .time = 31,
	};
	vt_alert_engine_on_change(e, &ev);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.what[0], "silent firing critical");
	ev.stale = 0;
	vt_alert_engine_on_change(e, &ev);   /* plain changes: reports do */
	ck_assert_uint_eq(s.n, 1);
	report(e, "pay", "db", OK, CRIT, OK, CRIT, 40);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.what[1], "silent resolved ok");
	vt_alert_engine_destroy(e);
}
END_TEST

START_TEST(flapping_sends_one_notice_then_catches_up)
{
	struct sent s;
	vt_alert_engine *e = engine("{\"rules\": [{\"name\": \"db\", "
	    "\"type\": \"check\", \"notify\": [\"critical\"]}]}", &s);
	double t = 0;
	enum vt_status prev = OK;
	report(e, "pay", "db", OK, -1, OK, -1, t++);
	for (int i = 1; i < 40; i++) {
		enum vt_status st = i % 2 ? CRIT : OK;
		report(e, "pay", "db", st, prev, st, prev, t++);
		prev = st;
	}
	size_t flapping = 0, at = 0;
	for (size_t i = 0; i < s.n; i++)
		if (strstr(s.what[i], " flapping ")) {
			flapping++;
			at = i;
		}
	ck_assert_uint_eq(flapping, 1);
	ck_assert_uint_eq(at, s.n - 1);      /* silence after it */
	ck_assert_uint_lt(s.n, 12);
	/* it ends on ok: when it calms down the world learns once */
	size_t before = s.n;
	int firing_out = strstr(s.what[at - 1], "firing") != NULL;
	for (int i = 0; i < 40; i++)
		report(e, "pay", "db", OK, OK, OK, OK, t++);
	ck_assert_uint_eq(s.n, before + (firing_out ? 1 : 0));
	if (firing_out)
		ck_assert_str_eq(s.what[before], "db resolved ok");
	vt_alert_engine_destroy(e);
}
END_TEST

static struct vt_flush *window(struct vt_series *ser, double value,
    double t)
{
	struct vt_flush *f = vt_flush_create(1, 1, 2);
	f->nmetrics = 1;
	f->timestamp = t;
	f->interval = 1;
	f->npercentiles = 2;
	f->percentiles[0] = 50;
	f->percentiles[1] = 99;
	struct vt_metric_window *m = &f->metrics[0];
	m->series = vt_series_retain(ser);
	m->value = value;
	m->count = m->rate = NAN;
	struct vt_timer_window *tw = vt_flush_add_timer(f, m);
	tw->sum = tw->min = tw->max = tw->mean = NAN;
	return f;
}

static void flush_value(vt_alert_engine *e, struct vt_series *ser,
    double value, double t)
{
	struct vt_flush *f = window(ser, value, t);
	vt_alert_engine_flush(e, f);
	vt_flush_release(f);
}

START_TEST(threshold_held_for_its_duration)
{
	struct sent s;
	vt_alert_engine *e = engine("{\"rules\": [{\"name\": \"hot\", "
	    "\"service\": \"pay\", \"metric\": \"temp\", \"stat\": \"value\", "
	    "\"op\": \">\", \"value\": 100, \"for\": \"3s\"}]}", &s);
	struct vt_slice svc = { "pay", 3 }, met = { "temp", 4 },
	    key = { "pay.temp", 8 };
	struct vt_series *ser = vt_series_create(VT_GAUGE, svc, met, key, 1,
	    NULL, NULL, 0);
	flush_value(e, ser, 500, 10);     /* a spike */
	flush_value(e, ser, 10, 11);
	flush_value(e, ser, NAN, 12);
	flush_value(e, ser, 500, 13);
	flush_value(e, ser, NAN, 14);     /* no data: not holding */
	flush_value(e, ser, 500, 15);
	ck_assert_uint_eq(s.n, 0);
	flush_value(e, ser, 500, 16);
	flush_value(e, ser, 500, 17);
	ck_assert_uint_eq(s.n, 0);
	flush_value(e, ser, 500, 18);     /* held from 15 to 18 */
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.what[0], "hot firing -");
	flush_value(e, ser, 500, 19);
	ck_assert_uint_eq(s.n, 1);
	/* the series gone from the window: resolved */
	struct vt_flush *f = vt_flush_create(0, 0, 2);
	f->timestamp = 20;
	vt_alert_engine_flush(e, f);
	vt_flush_release(f);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.what[1], "hot resolved -");
	vt_series_release(ser);
	vt_alert_engine_destroy(e);
}
END_TEST

START_TEST(forgotten_reload_and_cap)
{
	struct sent s;
	vt_alert_engine *e = engine("{\"max_alerts\": 2, \"rules\": ["
	    "{\"name\": \"a\", \"type\": \"check\"},"
	    "{\"name\": \"b\", \"type\": \"check\"}]}", &s);
	report(e, "pay", "x", CRIT, OK, CRIT, OK, 1);   /* a and b fire */
	report(e, "pay", "y", CRIT, OK, CRIT, CRIT, 1); /* 2 over the cap */
	ck_assert_uint_eq(s.n, 2);
	/* reload: rule b goes, a stays (no notifications either way) */
	char key[VT_ALERT_KEY_LEN], why[200];
	cJSON *root = cJSON_Parse("{\"rules\": [{\"name\": \"a\", "
	    "\"type\": \"check\"}]}");
	struct vt_alert_config *c = vt_alert_config_parse(root, NULL, 0, key,
	    sizeof key, why, sizeof why);
	cJSON_Delete(root);
	vt_alert_engine_set_config(e, c);
	ck_assert_uint_eq(s.n, 2);
	report(e, "pay", "x", CRIT, CRIT, CRIT, CRIT, 2);
	ck_assert_uint_eq(s.n, 2);                      /* still firing */
	struct vt_health_event gone = { .service = "pay", .forgotten = 1,
	    .time = 3 };
	vt_alert_engine_on_change(e, &gone);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.what[2], "a resolved critical");
	struct vt_buf b;
	vt_buf_init(&b);
	vt_alert_engine_collect(e, &b, VT_PROM_TEXT);
	ck_assert_ptr_nonnull(strstr(b.data, "vitals_alert_over_cap_total 2"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "vitals_alert_notifications_total{state=\"firing\"} 2"));
	vt_buf_fini(&b);
	vt_alert_engine_destroy(e);
}
END_TEST

static const struct {
	double v;
	const char *want;
} numbers[] = {
	{ 848.34113061904191, "848" }, { 400, "400" }, { 12.345, "12.3" },
	{ 0.012345, "0.0123" }, { 2.5, "2.5" }, { 1, "1" }, { 0, "0" },
	{ -0.0, "0" }, { -1.2345, "-1.23" }, { 999.4, "999" },
	{ 999.7, "1000" }, { 1000, "1000" }, { 12345.6, "12346" },
	{ 0.1, "0.1" }, { 0.099996, "0.1" }, { 0.00012345, "0.000123" },
	{ 0.000012345, "1.23e-05" }, { 1e15, "1e+15" }, { 3e9, "3000000000" },
	{ 99.95, "100" }, { 1.005, "1" },
};

START_TEST(numbers_round_to_three_significant_digits)
{
	struct vt_buf b;
	vt_buf_init(&b);
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
		vt_buf_reset(&b);
		vt_alert_event_put_number(&b, numbers[i].v);
		ck_assert_msg(strcmp(b.data, numbers[i].want) == 0,
		    "%.17g: got \"%s\", want \"%s\"", numbers[i].v, b.data,
		    numbers[i].want);
	}
	vt_buf_reset(&b);
	vt_alert_event_put_number(&b, NAN);
	ck_assert_str_eq(b.data, "nan");
	vt_buf_reset(&b);
	vt_alert_event_put_number(&b, -INFINITY);
	ck_assert_str_eq(b.data, "-inf");
	vt_buf_fini(&b);
}
END_TEST

static const struct {
	enum vt_kind kind;
	const char *stat;
	const char *want;
} summaries[] = {
	{ VT_TIMER, "p99", "pay lat p99 = 848 ms (> 400 ms) for 3s" },
	{ VT_TIMER, "mean", "pay lat mean = 848 ms (> 400 ms) for 3s" },
	{ VT_TIMER, "count", "pay lat count = 848 (> 400) for 3s" },
	{ VT_TIMER, "rate", "pay lat rate = 848/s (> 400/s) for 3s" },
	{ VT_HISTOGRAM, "p99", "pay lat p99 = 848 (> 400) for 3s" },
	{ VT_COUNTER, "rate_1m", "pay lat rate_1m = 848/s (> 400/s) for 3s" },
	{ VT_GAUGE, "value", "pay lat value = 848 (> 400) for 3s" },
};

/* The summary of a threshold alert through the engine: the statistic and
 * the threshold rounded, each with the unit of the series' kind. */
START_TEST(threshold_summary_has_rounded_numbers_and_units)
{
	static const double q[2] = { 1, 848.34113061904191 };
	for (size_t i = 0; i < sizeof summaries / sizeof summaries[0]; i++) {
		struct sent s;
		char rule[300];
		snprintf(rule, sizeof rule, "{\"rules\": [{\"name\": \"slow\", "
		    "\"service\": \"pay\", \"metric\": \"lat\", "
		    "\"stat\": \"%s\", \"op\": \">\", \"value\": 400, "
		    "\"for\": \"3s\"}]}", summaries[i].stat);
		vt_alert_engine *e = engine(rule, &s);
		struct vt_slice svc = { "pay", 3 }, met = { "lat", 3 },
		    key = { "pay.lat", 7 };
		struct vt_series *ser = vt_series_create(summaries[i].kind,
		    svc, met, key, 1, NULL, NULL, 0);
		for (int t = 10; t <= 13; t++) {
			struct vt_flush *f = window(ser, 848.34113061904191, t);
			struct vt_metric_window *m = &f->metrics[0];
			struct vt_timer_window *tw =
			    (struct vt_timer_window *)(uintptr_t)m->timer;
			m->count = m->rate = tw->mean = m->rate_1m =
			    848.34113061904191;
			tw->quantiles = q;
			vt_alert_engine_flush(e, f);
			vt_flush_release(f);
		}
		ck_assert_uint_eq(s.n, 1);
		ck_assert_str_eq(s.summary[0], summaries[i].want);
		vt_series_release(ser);
		vt_alert_engine_destroy(e);
	}
}
END_TEST

/* Saved to alerts.json and restored by a new engine (a restart): a
 * firing alert is not announced again and resolves once; one whose rule
 * is gone is dropped; a corrupt file is set aside. */
START_TEST(state_survives_a_restart)
{
	static const char *rules = "{\"rules\": [{\"name\": \"down\", "
	    "\"service\": \"pay\"}, {\"name\": \"slow\", \"service\": \"web\", "
	    "\"for\": \"10s\"}]}";
	char dir[] = "/tmp/vt_alert_store_XXXXXX", err[256], path[64];
	size_t firing, skipped;
	struct sent s, s2;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	vt_alert_engine *e = engine(rules, &s);
	report(e, "pay", "db", CRIT, OK, CRIT, OK, 10);
	report(e, "web", "db", CRIT, OK, CRIT, OK, 11);   /* pending */
	ck_assert_uint_eq(s.n, 1);
	ck_assert(vt_alert_engine_changes(e) > 0);
	ck_assert_int_eq(vt_alert_store_save(e, dir, 12, err, sizeof err), 0);
	ck_assert(vt_alert_engine_changes(e) == 0);
	vt_alert_engine_destroy(e);

	e = engine(rules, &s2);
	ck_assert_int_eq(vt_alert_store_load(e, dir, 20, &firing, &skipped,
	    err, sizeof err), 2);
	ck_assert_uint_eq(firing, 1);
	ck_assert_uint_eq(skipped, 0);
	report(e, "pay", "db", CRIT, CRIT, CRIT, CRIT, 21);
	ck_assert_uint_eq(s2.n, 0);                 /* not announced twice */
	vt_alert_engine_tick(e, 21.5);              /* `for` from 11: 21 */
	ck_assert_uint_eq(s2.n, 1);
	ck_assert_str_eq(s2.what[0], "slow firing critical");
	report(e, "pay", "db", OK, CRIT, OK, CRIT, 22);
	ck_assert_uint_eq(s2.n, 2);
	ck_assert_str_eq(s2.what[1], "down resolved ok");
	vt_alert_engine_destroy(e);

	/* The rule "down" is gone: its alert is not restored. */
	e = engine(rules, &s);
	report(e, "pay", "db", CRIT, OK, CRIT, OK, 30);
	ck_assert_int_eq(vt_alert_store_save(e, dir, 31, err, sizeof err), 0);
	vt_alert_engine_destroy(e);
	e = engine("{\"rules\": [{\"name\": \"other\"}]}", &s);
	ck_assert_int_eq(vt_alert_store_load(e, dir, 40, &firing, &skipped,
	    err, sizeof err), 0);
	ck_assert_uint_eq(skipped, 1);
	vt_alert_engine_destroy(e);

	snprintf(path, sizeof path, "%s/alerts.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"format\": \"vitals-alerts\", \"vers", f);
	fclose(f);
	e = engine(rules, &s);
	ck_assert_int_eq(vt_alert_store_load(e, dir, 50, &firing, &skipped,
	    err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "moved to"));
	vt_alert_engine_destroy(e);
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Page once in a fleet: the collector named by ctx owns what it applied
 * itself (origin NULL) and nothing else. */
static int owns(void *ctx, const char *origin)
{
	(void)ctx;
	return origin == NULL;
}

static void report_from(vt_alert_engine *e, const char *origin,
    enum vt_status st, int prev, double t)
{
	struct vt_health_event ev = {
		.service = "pay", .instance = "i-1", .check = "db",
		.output = "out", .status = st, .previous = prev,
		.service_status = st, .service_previous = prev, .time = t,
		.origin = origin, .service_origin = origin,
	};
	vt_alert_engine_on_report(e, &ev);
}

START_TEST(only_the_owner_notifies_and_the_others_record)
{
	static const char *rules = "{\"rules\": [{\"name\": \"down\", "
	    "\"service\": \"pay\", \"renotify\": \"10s\"}]}";
	char dir[] = "/tmp/vt_alert_owner_XXXXXX", err[256];
	size_t firing, skipped;
	struct sent sa, sb, sb2;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	vt_alert_engine *a = engine(rules, &sa), *b = engine(rules, &sb);
	vt_alert_engine_set_owner(a, owns, NULL);
	vt_alert_engine_set_owner(b, owns, NULL);
	/* a applied the report first: b sees it with origin a */
	report_from(a, NULL, CRIT, OK, 10);
	report_from(b, "a", CRIT, OK, 10);
	ck_assert_uint_eq(sa.n, 1);
	ck_assert_uint_eq(sb.n, 0);
	struct vt_buf m;
	vt_buf_init(&m);
	vt_alert_engine_collect(b, &m, VT_PROM_TEXT);
	ck_assert_ptr_nonnull(strstr(m.data,
	    "vitals_alert_notifications_skipped_total 1\n"));
	vt_buf_fini(&m);
	/* b restarts: its alert comes back as a's, announced */
	ck_assert_int_eq(vt_alert_store_save(b, dir, 11, err, sizeof err), 0);
	vt_alert_engine_destroy(b);
	b = engine(rules, &sb2);
	vt_alert_engine_set_owner(b, owns, NULL);
	ck_assert_int_eq(vt_alert_store_load(b, dir, 12, &firing, &skipped,
	    err, sizeof err), 1);
	vt_alert_engine_tick(a, 21);               /* a reminds ... */
	vt_alert_engine_tick(b, 21);               /* ... b does not */
	ck_assert_uint_eq(sa.n, 2);
	ck_assert_str_eq(sa.what[1], "down firing+ critical");
	ck_assert_uint_eq(sb2.n, 0);
	/* ownership moves to b with the resolving report: b resolves once,
	 * a records it */
	report_from(b, NULL, OK, CRIT, 22);
	report_from(a, "b", OK, CRIT, 22);
	ck_assert_uint_eq(sb2.n, 1);
	ck_assert_str_eq(sb2.what[0], "down resolved ok");
	ck_assert_uint_eq(sa.n, 2);
	vt_alert_engine_destroy(a);
	vt_alert_engine_destroy(b);
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *vt_test_alert_engine_suite(void)
{
	Suite *s = suite_create("alert_engine");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, service_fires_once_and_resolves_once);
	tcase_add_test(tc, for_is_counted_on_the_tick_and_reminders);
	tcase_add_test(tc, staleness_fires_and_resolves);
	tcase_add_test(tc, flapping_sends_one_notice_then_catches_up);
	tcase_add_test(tc, threshold_held_for_its_duration);
	tcase_add_test(tc, forgotten_reload_and_cap);
	tcase_add_test(tc, numbers_round_to_three_significant_digits);
	tcase_add_test(tc, threshold_summary_has_rounded_numbers_and_units);
	tcase_add_test(tc, state_survives_a_restart);
	tcase_add_test(tc, only_the_owner_notifies_and_the_others_record);
	suite_add_tcase(s, tc);
	return s;
}
