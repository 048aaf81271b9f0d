/* test_fleet.c - membership, ownership, announcements and discovery of a
 * fleet of collectors (fleet.h), and the origin the health registry keeps
 * for a report from another collector (health.h). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/buf.h"
#include "collector/fleet/fleet.h"
#include "collector/health/health.h"
#include "dashboards/api/fleet_api.h"
#include "suites.h"

/* An announcement of name at url with services (NULL-terminated). */
static struct vt_fleet_announce announcement(const char *name,
    const char *url, const char *const *services)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_buf_printf(&b, "{\"name\":\"%s\",\"url\":\"%s\",\"started\":1000,"
	    "\"announce\":5,\"services\":[", name, url);
	for (size_t i = 0; services && services[i]; i++)
		vt_buf_printf(&b, "%s\"%s\"", i ? "," : "", services[i]);
	vt_buf_puts(&b, "]}");
	struct vt_fleet_announce a;
	char why[128];
	ck_assert_int_eq(vt_fleet_announce_parse(b.data, b.len, &a, why,
	    sizeof why), 0);
	vt_buf_fini(&b);
	return a;
}

static void hear(vt_fleet *f, const char *name, const char *url,
    const char *const *services, double now)
{
	struct vt_fleet_announce a = announcement(name, url, services);
	ck_assert_int_eq(vt_fleet_heard(f, &a, now), 0);
	vt_fleet_announce_fini(&a);
}

START_TEST(names_and_urls)
{
	static const struct { const char *s; int ok; } names[] = {
		{ "a", 1 }, { "collector-1.dc_2", 1 }, { "", 0 }, { "a b", 0 },
		{ "a/b", 0 }, { "\xc3\xa9", 0 },
		{ "0123456789012345678901234567890123456789012345678901234567890123",
		  1 },
		{ "01234567890123456789012345678901234567890123456789012345678901234",
		  0 },
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		ck_assert_msg(vt_fleet_name_ok(names[i].s) == names[i].ok,
		    "%s", names[i].s);
	static const struct { const char *u; int ok; } urls[] = {
		{ "http://a:8080", 1 }, { "https://a.example/vitals", 1 },
		{ "http://[::1]:80", 1 }, { "ftp://a", 0 }, { "http://", 0 },
		{ "http://a b", 0 }, { "http://a\"", 0 }, { "http://u@a", 0 },
		{ "javascript:alert(1)", 0 },
	};
	for (size_t i = 0; i < sizeof urls / sizeof *urls; i++)
		ck_assert_msg(vt_fleet_url_ok(urls[i].u) == urls[i].ok, "%s",
		    urls[i].u);
	char t[64];
	ck_assert_int_eq(vt_fleet_url_target("http://b:9/x", t, sizeof t), 0);
	ck_assert_str_eq(t, "b:9");
	ck_assert_int_eq(vt_fleet_url_target("https://b/x", t, sizeof t), 0);
	ck_assert_str_eq(t, "b:443");
	ck_assert_int_eq(vt_fleet_url_target("http://[::1]", t, sizeof t), 0);
	ck_assert_str_eq(t, "[::1]:80");
	ck_assert_int_eq(vt_fleet_url_target("http://[::1]:81/", t, sizeof t),
	    0);
	ck_assert_str_eq(t, "[::1]:81");
}
END_TEST

START_TEST(hostile_announcements_refused)
{
	static const char *const bad[] = {
		"", "[]", "{", "null",
		"{\"url\":\"http://a:1\",\"started\":1,\"announce\":5,"
		"\"services\":[]}",
		"{\"name\":\"a b\",\"url\":\"http://a:1\",\"started\":1,"
		"\"announce\":5,\"services\":[]}",
		"{\"name\":\"a\",\"url\":\"file:///etc\",\"started\":1,"
		"\"announce\":5,\"services\":[]}",
		"{\"name\":\"a\",\"url\":\"http://a:1\",\"started\":-1,"
		"\"announce\":5,\"services\":[]}",
		"{\"name\":\"a\",\"url\":\"http://a:1\",\"started\":1,"
		"\"announce\":0,\"services\":[]}",
		"{\"name\":\"a\",\"url\":\"http://a:1\",\"started\":1,"
		"\"announce\":1e9,\"services\":[]}",
		"{\"name\":\"a\",\"url\":\"http://a:1\",\"started\":1,"
		"\"announce\":5,\"services\":{}}",
		"{\"name\":\"a\",\"url\":\"http://a:1\",\"started\":1,"
		"\"announce\":5,\"services\":[1]}",
		"{\"name\":\"a\",\"url\":\"http://a:1\",\"started\":1,"
		"\"announce\":5,\"services\":[\"\"]}",
		"{\"name\":\"a\",\"url\":\"http://a:1\",\"started\":1,"
		"\"announce\":5,\"services\":[\"a\\nb\"]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct vt_fleet_announce a;
		char why[128] = "";
		ck_assert_msg(vt_fleet_announce_parse(bad[i], strlen(bad[i]),
		    &a, why, sizeof why) == -1, "accepted %s", bad[i]);
		ck_assert(why[0] != '\0');
		ck_assert_uint_eq(a.nservices, 0);
		vt_fleet_announce_fini(&a);
	}
	/* one service too many */
	struct vt_buf b;
	vt_buf_init(&b);
	vt_buf_puts(&b, "{\"name\":\"a\",\"url\":\"http://a:1\",\"started\":1,"
	    "\"announce\":5,\"services\":[");
	for (int i = 0; i <= VT_FLEET_MAX_SERVICES; i++)
		vt_buf_printf(&b, "%s\"s%d\"", i ? "," : "", i);
	vt_buf_puts(&b, "]}");
	struct vt_fleet_announce a;
	char why[128];
	ck_assert_int_eq(vt_fleet_announce_parse(b.data, b.len, &a, why,
	    sizeof why), -1);
	vt_buf_fini(&b);
}
END_TEST

START_TEST(announcement_round_trip)
{
	vt_fleet *f = vt_fleet_create("a", "http://a:8080", 5, 1234.5);
	const char *const mine[] = { "pay", "shop", "pay" };
	vt_fleet_set_services(f, mine, 3);
	struct vt_buf b;
	vt_buf_init(&b);
	vt_fleet_announce_json(f, &b);
	struct vt_fleet_announce a;
	char why[128];
	ck_assert_int_eq(vt_fleet_announce_parse(b.data, b.len, &a, why,
	    sizeof why), 0);
	ck_assert_str_eq(a.name, "a");
	ck_assert_str_eq(a.url, "http://a:8080");
	ck_assert(a.started == 1234.5 && a.announce == 5);
	ck_assert_uint_eq(a.nservices, 2);           /* sorted, unique */
	ck_assert_str_eq(a.services[0], "pay");
	ck_assert_str_eq(a.services[1], "shop");
	/* our own name is not a member */
	ck_assert_int_eq(vt_fleet_heard(f, &a, 2000), -EEXIST);
	ck_assert_uint_eq(vt_fleet_size(f), 1);
	vt_fleet_announce_fini(&a);
	vt_buf_fini(&b);
	vt_fleet_destroy(f);
}
END_TEST

START_TEST(up_then_gone_after_three_intervals)
{
	vt_fleet *f = vt_fleet_create("a", "http://a:1", 5, 0);
	ck_assert_int_eq(vt_fleet_state(f, "a", 100), VT_FLEET_UP);
	ck_assert_int_eq(vt_fleet_state(f, NULL, 100), VT_FLEET_UP);
	ck_assert_int_eq(vt_fleet_state(f, "b", 100), VT_FLEET_UNKNOWN);
	hear(f, "b", "http://b:1", NULL, 100);
	ck_assert_int_eq(vt_fleet_state(f, "b", 114.9), VT_FLEET_UP);
	ck_assert_int_eq(vt_fleet_state(f, "b", 115), VT_FLEET_GONE);
	hear(f, "b", "http://b:1", NULL, 120);       /* back */
	ck_assert_int_eq(vt_fleet_state(f, "b", 121), VT_FLEET_UP);
	ck_assert_uint_eq(vt_fleet_size(f), 2);
	vt_fleet_destroy(f);
}
END_TEST

START_TEST(metrics_owner_is_an_up_collector_that_announced_it)
{
	vt_fleet *f = vt_fleet_create("a", "http://a:1", 5, 0);
	const char *const mine[] = { "pay" };
	const char *const bs[] = { "shop", "pay", NULL };
	vt_fleet_set_services(f, mine, 1);
	hear(f, "b", "http://b:2", bs, 100);
	char url[VT_FLEET_URL_MAX + 1] = "";
	ck_assert_int_eq(vt_fleet_metrics_owner(f, "shop", 101, url,
	    sizeof url), 1);
	ck_assert_str_eq(url, "http://b:2");
	ck_assert(vt_fleet_holds(f, "pay"));
	ck_assert(!vt_fleet_holds(f, "shop"));
	/* held here: never sent away */
	ck_assert_int_eq(vt_fleet_metrics_owner(f, "pay", 101, url,
	    sizeof url), 0);
	ck_assert_int_eq(vt_fleet_metrics_owner(f, "nobody", 101, url,
	    sizeof url), 0);
	/* b gone: its services are served here (not updated) */
	ck_assert_int_eq(vt_fleet_metrics_owner(f, "shop", 200, url,
	    sizeof url), 0);
	vt_fleet_destroy(f);
}
END_TEST

START_TEST(notifier_is_the_origin_or_the_smallest_up_name)
{
	vt_fleet *b = vt_fleet_create("b", "http://b:1", 5, 0);
	vt_fleet *c = vt_fleet_create("c", "http://c:1", 5, 0);
	/* own reports */
	ck_assert(vt_fleet_notifies(b, NULL, 100));
	ck_assert(vt_fleet_notifies(b, "", 100));
	ck_assert(vt_fleet_notifies(b, "b", 100));
	/* a is up: a notifies, nobody else */
	hear(b, "a", "http://a:1", NULL, 100);
	hear(b, "c", "http://c:1", NULL, 100);
	hear(c, "a", "http://a:1", NULL, 100);
	hear(c, "b", "http://b:1", NULL, 100);
	ck_assert(!vt_fleet_notifies(b, "a", 101));
	ck_assert(!vt_fleet_notifies(c, "a", 101));
	ck_assert(!vt_fleet_notifies(c, "b", 101));
	/* a gone (b and c still hear each other): b, the smallest, only */
	hear(b, "c", "http://c:1", NULL, 114);
	hear(c, "b", "http://b:1", NULL, 114);
	ck_assert(vt_fleet_notifies(b, "a", 116));
	ck_assert(!vt_fleet_notifies(c, "a", 116));
	/* an origin never heard of is like one gone */
	ck_assert(vt_fleet_notifies(b, "zz", 116));
	ck_assert(!vt_fleet_notifies(c, "zz", 116));
	vt_fleet_destroy(b);
	vt_fleet_destroy(c);
}
END_TEST

START_TEST(full_fleet_evicts_the_longest_gone)
{
	vt_fleet *f = vt_fleet_create("self", "http://s:1", 5, 0);
	char name[32];
	for (int i = 0; i < VT_FLEET_MAX_MEMBERS; i++) {
		snprintf(name, sizeof name, "m%d", i);
		hear(f, name, "http://m:1", NULL, 100 + i * 0.01);
	}
	struct vt_fleet_announce a = announcement("new", "http://n:1", NULL);
	/* everyone up: refused */
	ck_assert_int_eq(vt_fleet_heard(f, &a, 105), -ENOSPC);
	/* later all are gone, m0 longest: it makes room */
	ck_assert_int_eq(vt_fleet_heard(f, &a, 200), 0);
	ck_assert_int_eq(vt_fleet_state(f, "new", 201), VT_FLEET_UP);
	ck_assert_int_eq(vt_fleet_state(f, "m0", 201), VT_FLEET_UNKNOWN);
	ck_assert_int_eq(vt_fleet_state(f, "m1", 201), VT_FLEET_GONE);
	ck_assert_uint_eq(vt_fleet_size(f), VT_FLEET_MAX_MEMBERS + 1);
	vt_fleet_announce_fini(&a);
	vt_fleet_destroy(f);
}
END_TEST

START_TEST(collectors_and_service_discovery)
{
	vt_fleet *f = vt_fleet_create("b", "http://b:8080", 5, 50);
	hear(f, "a", "https://a.example/vitals", NULL, 100);
	hear(f, "c", "http://c:9", NULL, 90);          /* gone at 105 */
	struct vt_buf out;
	vt_buf_init(&out);
	vt_fleet_sd_json(f, &out, 105);
	ck_assert_str_eq(out.data, "[{\"targets\":[\"a.example:443\"],"
	    "\"labels\":{\"collector\":\"a\",\"__scheme__\":\"https\"}},"
	    "{\"targets\":[\"b:8080\"],\"labels\":{\"collector\":\"b\"}}]");
	vt_buf_reset(&out);
	vt_fleet_collectors_json(f, &out, 105);
	ck_assert_ptr_nonnull(strstr(out.data, "{\"self\":\"b\","));
	ck_assert_ptr_nonnull(strstr(out.data, "\"name\":\"c\",\"url\":"
	    "\"http://c:9\",\"state\":\"gone\""));
	ck_assert_ptr_nonnull(strstr(out.data, "\"name\":\"b\",\"url\":"
	    "\"http://b:8080\",\"state\":\"up\",\"self\":true"));
	ck_assert(strstr(out.data, "\"a\"") < strstr(out.data, "\"c\""));
	vt_buf_fini(&out);
	vt_fleet_destroy(f);
}
END_TEST

START_TEST(forwarded_paths_name_their_service)
{
	static const struct { const char *path, *svc; } t[] = {
		{ "/services/pay", "pay" }, { "/services/pay/", "pay" },
		{ "/graph/pay/http.get.svg", "pay" },
		{ "/api/v1/series/pay/x", "pay" },
		{ "/", NULL }, { "/services/", NULL }, { "/api/v1/services/p",
		  NULL }, { "/map", NULL },
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		char out[64];
		int rc = vt_fleet_api_service_of(t[i].path, out, sizeof out);
		if (t[i].svc == NULL) {
			ck_assert_msg(rc == -1, "%s", t[i].path);
		} else {
			ck_assert_msg(rc == 0, "%s", t[i].path);
			ck_assert_str_eq(out, t[i].svc);
		}
	}
}
END_TEST

static int taps;
static void count_tap(void *ctx, const struct vt_check *c)
{
	(void)ctx;
	(void)c;
	taps++;
}

struct seen {
	const char *origin, *service_origin;
	int n;
};
static void on_report(void *ctx, const struct vt_health_event *ev)
{
	struct seen *s = ctx;
	s->origin = ev->origin;
	s->service_origin = ev->service_origin;
	s->n++;
}

START_TEST(registry_keeps_the_origin_and_taps_only_its_own)
{
	struct vt_health_config hc = { .max_checks = 100,
	    .publish_interval = 0 };
	vt_health *h = vt_health_create(&hc);
	struct seen seen = { 0 };
	vt_health_add_report_listener(h, on_report, &seen);
	vt_health_set_tap(h, count_tap, NULL);
	taps = 0;
	struct vt_check c = { .service = "pay", .instance = "i",
	    .check = "db", .status = VT_STATUS_CRITICAL, .ttl = 60 };
	vt_health_apply_from(h, &c, VT_CHECK_JSON, 100, "b");
	ck_assert_int_eq(taps, 0);                   /* not republished */
	ck_assert_str_eq(seen.origin, "b");
	ck_assert_str_eq(seen.service_origin, "b");
	vt_health_publish(h, 100);
	struct vt_health_snapshot *s = vt_health_snapshot_get(h);
	const struct vt_health_service_view *sv = vt_health_snapshot_find(s,
	    "pay");
	ck_assert_str_eq(sv->owner, "b");
	ck_assert_str_eq(sv->checks[0].origin, "b");
	vt_health_snapshot_release(s);

	/* a report of our own for another check: we own the service now */
	strcpy(c.check, "disk");
	vt_health_apply(h, &c, VT_CHECK_JSON, 101);
	ck_assert_int_eq(taps, 1);
	ck_assert_ptr_null(seen.origin);
	ck_assert_ptr_null(seen.service_origin);
	vt_health_publish(h, 101);
	s = vt_health_snapshot_get(h);
	sv = vt_health_snapshot_find(s, "pay");
	ck_assert_ptr_null(sv->owner);
	ck_assert_str_eq(sv->checks[0].check, "db");
	ck_assert_str_eq(sv->checks[0].origin, "b");  /* db still b's */
	ck_assert_ptr_null(sv->checks[1].origin);
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

Suite *vt_test_fleet_suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, names_and_urls);
	tcase_add_test(tc, hostile_announcements_refused);
	tcase_add_test(tc, announcement_round_trip);
	tcase_add_test(tc, up_then_gone_after_three_intervals);
	tcase_add_test(tc, metrics_owner_is_an_up_collector_that_announced_it);
	tcase_add_test(tc, notifier_is_the_origin_or_the_smallest_up_name);
	tcase_add_test(tc, full_fleet_evicts_the_longest_gone);
	tcase_add_test(tc, collectors_and_service_discovery);
	tcase_add_test(tc, forwarded_paths_name_their_service);
	tcase_add_test(tc, registry_keeps_the_origin_and_taps_only_its_own);
	suite_add_tcase(s, tc);
	return s;
}
