/*
 * test_health.c - the healthcheck registry as a state machine: new
 * checks, transitions and their history ring, TTL to stale critical and
 * back, worst-of service status, all-instances-stale, forget, the cap,
 * snapshots (throttled, immutable), JSON and `_sc` entry points with the
 * sender's address, restore grace, and the /metrics families (exact
 * lines, then promtool).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collector/base/line_result.h"
#include "collector/base/prom_text.h"
#include "collector/health/health.h"
#include "collector/health/health_ingest.h"
#include "collector/health/health_prom.h"
#include "collector/health/health_snapshot.h"
#include "collector/statsd/statsd.h"
#include "suites.h"
#include "test_support.h"

#define MAX_EVENTS 64

struct events {
	size_t n;
	struct vt_health_event last;
	struct vt_health_event ev[MAX_EVENTS];
	char check[MAX_EVENTS][64];
	char output[MAX_EVENTS][128];
};

static void on_event(void *ctx, const struct vt_health_event *ev)
{
	struct events *e = ctx;
	e->last = *ev;
	if (e->n < MAX_EVENTS) {
		e->ev[e->n] = *ev;
		snprintf(e->check[e->n], 64, "%s", ev->check ? ev->check : "-");
		snprintf(e->output[e->n], 128, "%s",
		    ev->output ? ev->output : "-");
	}
	e->n++;
}

static vt_health *make(size_t max_checks, struct events *ev)
{
	struct vt_health_config cfg = { .max_checks = max_checks,
	    .publish_interval = 0.25 };
	vt_health *h = vt_health_create(&cfg);
	if (ev) {
		memset(ev, 0, sizeof *ev);
		ck_assert_int_eq(vt_health_add_listener(h, on_event, ev), 0);
	}
	return h;
}

static struct vt_check chk(const char *svc, const char *inst,
    const char *name, enum vt_status st, double ttl, const char *output)
{
	struct vt_check c;
	memset(&c, 0, sizeof c);
	snprintf(c.service, sizeof c.service, "%s", svc);
	snprintf(c.instance, sizeof c.instance, "%s", inst);
	snprintf(c.check, sizeof c.check, "%s", name);
	snprintf(c.output, sizeof c.output, "%s", output);
	c.status = st;
	c.ttl = ttl;
	return c;
}

static void put(vt_health *h, const char *svc, const char *inst,
    const char *name, enum vt_status st, double ttl, double now)
{
	struct vt_check c = chk(svc, inst, name, st, ttl, "out");
	ck_assert_int_eq(vt_health_apply(h, &c, VT_CHECK_JSON, now),
	    VT_CHECK_OK);
}

/* Publish and return the snapshot (caller releases). */
static struct vt_health_snapshot *snap(vt_health *h, double now)
{
	vt_health_publish(h, now);
	return vt_health_snapshot_get(h);
}

START_TEST(new_check_and_service)
{
	struct events ev;
	vt_health *h = make(100, &ev);
	struct vt_check c = chk("payments", "pay-1", "db", VT_STATUS_OK, 30,
	    "3/3 up");
	c.timestamp = 1795000000;
	ck_assert_int_eq(vt_health_apply(h, &c, VT_CHECK_JSON, 1000),
	    VT_CHECK_OK);
	ck_assert_uint_eq(vt_health_size(h), 1);
	ck_assert_uint_eq(ev.n, 1);
	ck_assert_int_eq(ev.ev[0].previous, -1);
	ck_assert_int_eq(ev.ev[0].service_previous, -1);
	ck_assert_int_eq(ev.ev[0].status, VT_STATUS_OK);
	ck_assert_str_eq(ev.check[0], "db");

	struct vt_health_snapshot *s = snap(h, 1000);
	ck_assert_uint_eq(s->nservices, 1);
	ck_assert_uint_eq(s->nchecks, 1);
	const struct vt_health_service_view *sv =
	    vt_health_snapshot_find(s, "payments");
	ck_assert_ptr_nonnull(sv);
	ck_assert_ptr_null(vt_health_snapshot_find(s, "nope"));
	ck_assert_int_eq(sv->status, VT_STATUS_OK);
	ck_assert_int_eq(sv->stale, 0);
	ck_assert_uint_eq(sv->counts[VT_STATUS_OK], 1);
	ck_assert_uint_eq(sv->ninstances, 1);
	ck_assert_str_eq(sv->instances[0].instance, "pay-1");
	const struct vt_health_check_view *v = &sv->checks[0];
	ck_assert_str_eq(v->service, "payments");
	ck_assert_str_eq(v->output, "3/3 up");
	ck_assert_double_eq(v->ttl, 30);
	ck_assert_double_eq(v->first_seen, 1000);
	ck_assert_double_eq(v->last_report, 1000);
	ck_assert_double_eq(v->last_change, 1000);
	ck_assert_double_eq(v->timestamp, 1795000000);
	ck_assert_uint_eq(v->nhistory, 0);
	ck_assert_uint_eq(s->stats.received[VT_CHECK_JSON][VT_CHECK_OK], 1);
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

START_TEST(transitions_and_history)
{
	struct events ev;
	vt_health *h = make(100, &ev);
	put(h, "a", "i", "c", VT_STATUS_OK, 60, 10);
	put(h, "a", "i", "c", VT_STATUS_OK, 60, 11);     /* no change */
	ck_assert_uint_eq(ev.n, 1);
	put(h, "a", "i", "c", VT_STATUS_CRITICAL, 60, 12);
	ck_assert_uint_eq(ev.n, 2);
	ck_assert_int_eq(ev.ev[1].previous, VT_STATUS_OK);
	ck_assert_int_eq(ev.ev[1].status, VT_STATUS_CRITICAL);
	ck_assert_int_eq(ev.ev[1].service_previous, VT_STATUS_OK);
	ck_assert_int_eq(ev.ev[1].service_status, VT_STATUS_CRITICAL);
	put(h, "a", "i", "c", VT_STATUS_OK, 60, 13);

	struct vt_health_snapshot *s = snap(h, 13);
	const struct vt_health_check_view *v = &s->services[0].checks[0];
	ck_assert_uint_eq(v->nhistory, 2);
	ck_assert_int_eq(v->history[0].from, VT_STATUS_OK);
	ck_assert_int_eq(v->history[0].to, VT_STATUS_CRITICAL);
	ck_assert_double_eq(v->history[0].time, 12);
	ck_assert_int_eq(v->history[1].to, VT_STATUS_OK);
	ck_assert_double_eq(v->first_seen, 10);
	ck_assert_double_eq(v->last_change, 13);
	ck_assert_uint_eq(s->stats.transitions, 2);
	vt_health_snapshot_release(s);

	/* The ring keeps the last VT_HEALTH_HISTORY changes, oldest first. */
	for (int i = 0; i < 15; i++)
		put(h, "a", "i", "c", i % 2 ? VT_STATUS_OK : VT_STATUS_WARNING,
		    60, 20 + i);
	s = snap(h, 40);
	v = &s->services[0].checks[0];
	ck_assert_uint_eq(v->nhistory, VT_HEALTH_HISTORY);
	ck_assert_double_eq(v->history[0].time, 25);
	ck_assert_double_eq(v->history[VT_HEALTH_HISTORY - 1].time, 34);
	ck_assert_int_eq(v->history[VT_HEALTH_HISTORY - 1].to,
	    VT_STATUS_WARNING);
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

static const struct {
	enum vt_status a, b, c, want;
} worst[] = {
	{ VT_STATUS_OK, VT_STATUS_OK, VT_STATUS_OK, VT_STATUS_OK },
	{ VT_STATUS_OK, VT_STATUS_UNKNOWN, VT_STATUS_OK, VT_STATUS_UNKNOWN },
	{ VT_STATUS_UNKNOWN, VT_STATUS_WARNING, VT_STATUS_OK,
	  VT_STATUS_WARNING },
	{ VT_STATUS_WARNING, VT_STATUS_CRITICAL, VT_STATUS_UNKNOWN,
	  VT_STATUS_CRITICAL },
	{ VT_STATUS_CRITICAL, VT_STATUS_OK, VT_STATUS_OK, VT_STATUS_CRITICAL },
};

START_TEST(service_is_worst_of)
{
	vt_health *h = make(100, NULL);
	put(h, "svc", "i1", "a", worst[_i].a, 60, 1);
	put(h, "svc", "i1", "b", worst[_i].b, 60, 1);
	put(h, "svc", "i2", "a", worst[_i].c, 60, 1);
	struct vt_health_snapshot *s = snap(h, 1);
	const struct vt_health_service_view *sv = &s->services[0];
	ck_assert_int_eq(sv->status, worst[_i].want);
	ck_assert_uint_eq(sv->nchecks, 3);
	ck_assert_uint_eq(sv->ninstances, 2);
	ck_assert_int_eq(sv->instances[0].status,
	    vt_health_check_status_worst(worst[_i].a, worst[_i].b));
	ck_assert_int_eq(sv->instances[1].status, worst[_i].c);
	/* Sorted by check, then instance. */
	ck_assert_str_eq(sv->checks[0].check, "a");
	ck_assert_str_eq(sv->checks[0].instance, "i1");
	ck_assert_str_eq(sv->checks[1].instance, "i2");
	ck_assert_str_eq(sv->checks[2].check, "b");
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

START_TEST(ttl_goes_stale_and_recovers)
{
	struct events ev;
	vt_health *h = make(100, &ev);
	put(h, "web", "w1", "http", VT_STATUS_OK, 2, 100);
	put(h, "web", "w2", "http", VT_STATUS_OK, 5, 100);

	vt_health_tick(h, 101.99);
	ck_assert_uint_eq(ev.n, 2);
	vt_health_tick(h, 102.0);       /* exactly at the TTL */
	ck_assert_uint_eq(ev.n, 3);
	ck_assert_int_eq(ev.ev[2].stale, 1);
	ck_assert_int_eq(ev.ev[2].status, VT_STATUS_CRITICAL);
	ck_assert_int_eq(ev.ev[2].previous, VT_STATUS_OK);
	ck_assert_str_eq(ev.output[2], "stale: no report for 2s");

	struct vt_health_snapshot *s = snap(h, 102);
	const struct vt_health_service_view *sv = &s->services[0];
	ck_assert_int_eq(sv->status, VT_STATUS_CRITICAL);
	ck_assert_int_eq(sv->stale, 0);               /* w2 still fresh */
	ck_assert_int_eq(sv->instances[0].stale, 1);
	ck_assert_int_eq(sv->instances[1].stale, 0);
	ck_assert_int_eq(sv->checks[0].stale, 1);
	ck_assert_str_eq(sv->checks[0].output, "stale: no report for 2s");
	ck_assert_uint_eq(s->stats.stale, 1);
	vt_health_snapshot_release(s);

	vt_health_tick(h, 110);         /* every instance stale */
	s = snap(h, 110);
	ck_assert_int_eq(s->services[0].stale, 1);
	ck_assert_uint_eq(s->services[0].counts[VT_STATUS_CRITICAL], 2);
	vt_health_snapshot_release(s);

	/* A report clears staleness, even with the same status. */
	size_t before = ev.n;
	put(h, "web", "w1", "http", VT_STATUS_CRITICAL, 2, 111);
	ck_assert_uint_eq(ev.n, before + 1);
	ck_assert_int_eq(ev.ev[before].stale, 0);
	s = snap(h, 111);
	ck_assert_int_eq(s->services[0].stale, 0);
	ck_assert_int_eq(s->services[0].checks[0].stale, 0);
	ck_assert_str_eq(s->services[0].checks[0].output, "out");
	ck_assert_uint_eq(s->services[0].checks[0].nhistory, 2);
	vt_health_snapshot_release(s);

	/* The TTL restarts at each report. */
	put(h, "web", "w1", "http", VT_STATUS_OK, 2, 112);
	vt_health_tick(h, 113.9);
	s = snap(h, 113.9);
	ck_assert_int_eq(s->services[0].checks[0].stale, 0);
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

START_TEST(stale_output_text)
{
	char out[64];
	vt_health_stale_output(out, sizeof out, 93600);
	ck_assert_str_eq(out, "stale: no report for 93600s");
	vt_health_stale_output(out, sizeof out, 0.5);
	ck_assert_str_eq(out, "stale: no report for 0.5s");
}
END_TEST

START_TEST(forget_service)
{
	struct events ev;
	vt_health *h = make(10000, &ev);
	char svc[32], name[32];
	for (int i = 0; i < 2000; i++) {
		snprintf(svc, sizeof svc, "s%d", i % 40);
		snprintf(name, sizeof name, "c%d", i);
		put(h, svc, "i", name, VT_STATUS_OK, 60, 1);
	}
	ck_assert_uint_eq(vt_health_size(h), 2000);
	ck_assert_uint_eq(vt_health_forget_service(h, "s7", 2), 50);
	ck_assert_uint_eq(vt_health_forget_service(h, "s7", 2), 0);
	ck_assert_uint_eq(vt_health_size(h), 1950);
	ck_assert_uint_eq(ev.n, 2001);
	ck_assert_int_eq(ev.last.forgotten, 1);

	struct vt_health_snapshot *s = snap(h, 2);
	ck_assert_uint_eq(s->nservices, 39);
	ck_assert_uint_eq(s->nchecks, 1950);
	ck_assert_ptr_null(vt_health_snapshot_find(s, "s7"));
	ck_assert_ptr_nonnull(vt_health_snapshot_find(s, "s8"));
	ck_assert_uint_eq(s->stats.forgotten, 50);
	vt_health_snapshot_release(s);

	/* It can come back, and the others are intact. */
	put(h, "s7", "i", "again", VT_STATUS_WARNING, 60, 3);
	put(h, "s8", "i", "c8", VT_STATUS_CRITICAL, 60, 3);
	s = snap(h, 3);
	ck_assert_uint_eq(vt_health_snapshot_find(s, "s7")->nchecks, 1);
	ck_assert_int_eq(vt_health_snapshot_find(s, "s8")->status,
	    VT_STATUS_CRITICAL);
	ck_assert_uint_eq(s->nchecks, 1951);
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

START_TEST(cap_on_checks)
{
	vt_health *h = make(3, NULL);
	put(h, "a", "i", "1", VT_STATUS_OK, 60, 1);
	put(h, "a", "i", "2", VT_STATUS_OK, 60, 1);
	put(h, "b", "i", "3", VT_STATUS_OK, 60, 1);
	struct vt_check c = chk("c", "i", "4", VT_STATUS_OK, 60, "");
	ck_assert_int_eq(vt_health_apply(h, &c, VT_CHECK_SC, 1),
	    VT_CHECK_OVER_CAP);
	put(h, "a", "i", "1", VT_STATUS_WARNING, 60, 2);  /* known: fine */
	struct vt_health_snapshot *s = snap(h, 2);
	ck_assert_uint_eq(s->nchecks, 3);
	ck_assert_uint_eq(s->nservices, 2);
	ck_assert_uint_eq(s->stats.received[VT_CHECK_SC][VT_CHECK_OVER_CAP], 1);
	ck_assert_uint_eq(s->max_checks, 3);
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

START_TEST(snapshots_throttled_and_immutable)
{
	vt_health *h = make(100, NULL);
	struct vt_health_snapshot *s0 = vt_health_snapshot_get(h);
	ck_assert_uint_eq(s0->nchecks, 0);
	put(h, "a", "i", "c", VT_STATUS_OK, 60, 10);
	vt_health_tick(h, 10);
	struct vt_health_snapshot *s1 = vt_health_snapshot_get(h);
	ck_assert_uint_eq(s1->nchecks, 1);
	ck_assert_uint_gt(s1->version, s0->version);

	put(h, "a", "i", "c", VT_STATUS_CRITICAL, 60, 10.1);
	vt_health_tick(h, 10.1);        /* within publish_interval */
	struct vt_health_snapshot *s2 = vt_health_snapshot_get(h);
	ck_assert_ptr_eq(s2, s1);
	vt_health_tick(h, 10.3);
	struct vt_health_snapshot *s3 = vt_health_snapshot_get(h);
	ck_assert_ptr_ne(s3, s1);
	ck_assert_int_eq(s3->services[0].status, VT_STATUS_CRITICAL);
	/* The old one still reads as it was. */
	ck_assert_int_eq(s1->services[0].status, VT_STATUS_OK);
	ck_assert_uint_eq(s0->nservices, 0);
	vt_health_snapshot_release(s0);
	vt_health_snapshot_release(s1);
	vt_health_snapshot_release(s2);
	vt_health_snapshot_release(s3);
	vt_health_destroy(h);
}
END_TEST

static struct sockaddr_in peer4(const char *ip)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(40000);
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

START_TEST(entry_points_use_sender_address)
{
	vt_health *h = make(100, NULL);
	struct sockaddr_in a = peer4("192.0.2.44");
	const char *body = "[{\"service\":\"api\",\"check\":\"db\",\"status\":0},"
	    "{\"service\":\"api\",\"check\":\"x\",\"status\":9},"
	    "{\"service\":\"api\",\"check\":\"q\",\"status\":1,"
	    "\"instance\":\"api-2\"}]";
	ck_assert_int_eq(vt_health_ingest_json(h, body, strlen(body),
	    (struct sockaddr *)&a, 5), 0);
	ck_assert_int_eq(vt_health_ingest_json(h, "nope", 4, NULL, 5), -22);

	struct vt_check_report r;
	const char *line = "_sc|api.cache|2|#ttl:10s|m:evicting";
	ck_assert_int_eq(vt_statsd_parse_check(line, strlen(line), &r),
	    VT_LINE_OK);
	vt_health_ingest_report(h, &r, (struct sockaddr *)&a, 5);
	line = "_sc|api.cache|2|#ttl:never";
	ck_assert_int_eq(vt_statsd_parse_check(line, strlen(line), &r),
	    VT_LINE_OK);
	vt_health_ingest_report(h, &r, (struct sockaddr *)&a, 5);

	struct vt_health_snapshot *s = snap(h, 5);
	const struct vt_health_service_view *sv = vt_health_snapshot_find(s,
	    "api");
	ck_assert_uint_eq(sv->nchecks, 3);
	ck_assert_str_eq(sv->checks[0].check, "cache");
	ck_assert_str_eq(sv->checks[0].instance, "192.0.2.44");
	ck_assert_str_eq(sv->checks[0].output, "evicting");
	ck_assert_double_eq(sv->checks[0].ttl, 10);
	ck_assert_str_eq(sv->checks[1].instance, "192.0.2.44");
	ck_assert_str_eq(sv->checks[2].instance, "api-2");
	ck_assert_int_eq(sv->status, VT_STATUS_CRITICAL);
	const struct vt_health_stats *st = &s->stats;
	ck_assert_uint_eq(st->received[VT_CHECK_JSON][VT_CHECK_OK], 2);
	ck_assert_uint_eq(st->received[VT_CHECK_JSON][VT_CHECK_BAD_STATUS], 1);
	ck_assert_uint_eq(st->received[VT_CHECK_JSON][VT_CHECK_BAD_JSON], 1);
	ck_assert_uint_eq(st->received[VT_CHECK_SC][VT_CHECK_OK], 1);
	ck_assert_uint_eq(st->received[VT_CHECK_SC][VT_CHECK_BAD_TTL], 1);
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

START_TEST(restore_gives_a_full_ttl)
{
	struct events ev;
	vt_health *h = make(100, &ev);
	struct vt_health_transition t[1] = {
		{ .time = 50, .from = VT_STATUS_OK, .to = VT_STATUS_WARNING,
		  .output = "slow" },
	};
	struct vt_health_check_view v = {
		.service = "db", .instance = "db-1", .check = "repl",
		.output = "lag 3s", .status = VT_STATUS_WARNING, .ttl = 10,
		.first_seen = 40, .last_report = 60, .last_change = 50,
		.timestamp = 59, .nhistory = 1, .history = t,
	};
	ck_assert_int_eq(vt_health_restore(h, &v, 1000), VT_CHECK_OK);
	ck_assert_uint_eq(ev.n, 0);           /* restoring is not news */
	vt_health_tick(h, 1009.9);
	ck_assert_uint_eq(ev.n, 0);
	vt_health_tick(h, 1010);
	ck_assert_uint_eq(ev.n, 1);
	ck_assert_int_eq(ev.ev[0].stale, 1);

	struct vt_health_snapshot *s = snap(h, 1010);
	const struct vt_health_check_view *c = &s->services[0].checks[0];
	ck_assert_double_eq(c->first_seen, 40);
	ck_assert_double_eq(c->last_report, 60);
	ck_assert_uint_eq(c->nhistory, 2);
	ck_assert_str_eq(c->history[0].output, "slow");
	ck_assert_int_eq(c->history[1].to, VT_STATUS_CRITICAL);
	ck_assert_int_eq(c->history[1].stale, 1);
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

/* ---- /metrics ---- */


START_TEST(prometheus_families)
{
	vt_health *h = make(100, NULL);
	put(h, "pay\"ments", "pay-1", "db", VT_STATUS_WARNING, 60, 100);
	put(h, "web", "w\\1", "http\nx", VT_STATUS_OK, 60, 100);
	struct vt_health_snapshot *s = snap(h, 100);
	struct vt_buf out;
	vt_buf_init(&out);
	vt_health_prom_write(s, 102.5, &out, VT_PROM_TEXT);
	const char *t = out.data;
	ck_assert_ptr_nonnull(strstr(t, "# TYPE vitals_check_status gauge\n"
	    "vitals_check_status{service=\"pay\\\"ments\",instance_id=\"pay-1\","
	    "check=\"db\"} 1\nvitals_check_status{service=\"web\","
	    "instance_id=\"w\\\\1\",check=\"http\\nx\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(t, "vitals_check_age_seconds{service="
	    "\"web\",instance_id=\"w\\\\1\",check=\"http\\nx\"} 2.5\n"));
	ck_assert_ptr_nonnull(strstr(t, "vitals_service_status{service="
	    "\"pay\\\"ments\"} 1\nvitals_service_status{service=\"web\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nvitals_checks 2\n"));
	ck_assert_ptr_nonnull(strstr(t, "# TYPE vitals_checks_received_total "
	    "counter\n"));
	ck_assert_ptr_nonnull(strstr(t, "vitals_checks_received_total{format="
	    "\"json\",result=\"ok\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(t, "vitals_checks_stale_total 0\n"));

	char res[4096];
	int rc = vt_test_promtool(t, res, sizeof res);
	ck_assert_msg(rc == 0, "promtool exit %d: %s\n%s", rc, res, t);

	vt_buf_reset(&out);
	vt_health_prom_write(s, 102.5, &out, VT_PROM_OPENMETRICS);
	ck_assert_ptr_nonnull(strstr(out.data, "# TYPE vitals_checks_received "
	    "counter\n"));
	vt_buf_fini(&out);
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

Suite *vt_test_health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("registry");
	tcase_add_test(tc, new_check_and_service);
	tcase_add_test(tc, transitions_and_history);
	tcase_add_loop_test(tc, service_is_worst_of, 0, VT_N(worst));
	tcase_add_test(tc, ttl_goes_stale_and_recovers);
	tcase_add_test(tc, stale_output_text);
	tcase_add_test(tc, forget_service);
	tcase_add_test(tc, cap_on_checks);
	tcase_add_test(tc, snapshots_throttled_and_immutable);
	tcase_add_test(tc, entry_points_use_sender_address);
	tcase_add_test(tc, restore_gives_a_full_ttl);
	suite_add_tcase(s, tc);

	tc = tcase_create("prometheus");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, prometheus_families);
	suite_add_tcase(s, tc);
	return s;
}
