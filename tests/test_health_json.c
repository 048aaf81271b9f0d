/*
 * test_health_json.c - the two healthcheck parsers: JSON bodies (object,
 * array, batch; every field accepted and rejected, errors naming the
 * field, bad entries never disturbing good ones) and DogStatsD `_sc`
 * lines turned into checks (service attribution, ttl tag, h:, m:).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/line_result.h"
#include "collector/health/health_check.h"
#include "collector/health/health_json.h"
#include "collector/statsd/statsd.h"
#include "suites.h"

#define FFFD "\xEF\xBF\xBD"
#define MAX_SEEN 8

/* What the hooks saw. */
struct seen {
	size_t nchecks, nerrors;
	struct vt_check checks[MAX_SEEN];
	char errors[MAX_SEEN][VT_ERR_LEN];
	enum vt_check_result why[MAX_SEEN];
};

static void on_check(void *ctx, const struct vt_check *c)
{
	struct seen *s = ctx;
	if (s->nchecks < MAX_SEEN)
		s->checks[s->nchecks] = *c;
	s->nchecks++;
}

static void on_error(void *ctx, enum vt_check_result why, const char *msg)
{
	struct seen *s = ctx;
	if (s->nerrors < MAX_SEEN) {
		snprintf(s->errors[s->nerrors], VT_ERR_LEN, "%s", msg);
		s->why[s->nerrors] = why;
	}
	s->nerrors++;
}

static int parse(const char *body, const char *ip, struct seen *s,
    struct vt_health_json_counts *counts)
{
	struct vt_health_json_hooks hooks = { on_check, on_error, s };
	memset(s, 0, sizeof *s);
	return vt_health_json_parse(body, strlen(body), ip, &hooks, counts);
}

START_TEST(single_object_all_fields)
{
	struct seen s;
	struct vt_health_json_counts n;
	int rc = parse("{\"service\": \"payments\", \"instance\": \"pay-1:4001\","
	    " \"check\": \"cassandra\", \"status\": \"ok\", \"output\": "
	    "\"3/3 nodes up\", \"ttl\": 30, \"timestamp\": 1795000000}",
	    "10.0.0.7", &s, &n);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(n.accepted, 1);
	ck_assert_uint_eq(n.rejected, 0);
	ck_assert_str_eq(s.checks[0].service, "payments");
	ck_assert_str_eq(s.checks[0].instance, "pay-1:4001");
	ck_assert_str_eq(s.checks[0].check, "cassandra");
	ck_assert_int_eq(s.checks[0].status, VT_STATUS_OK);
	ck_assert_str_eq(s.checks[0].output, "3/3 nodes up");
	ck_assert_double_eq(s.checks[0].ttl, 30);
	ck_assert_double_eq(s.checks[0].timestamp, 1795000000);
}
END_TEST

START_TEST(defaults_instance_ttl_output)
{
	struct seen s;
	struct vt_health_json_counts n;
	ck_assert_int_eq(parse("{\"service\":\"a\",\"check\":\"b\","
	    "\"status\":2}", "192.0.2.1", &s, &n), 0);
	ck_assert_uint_eq(n.accepted, 1);
	ck_assert_str_eq(s.checks[0].instance, "192.0.2.1");
	ck_assert_double_eq(s.checks[0].ttl, VT_CHECK_DEFAULT_TTL);
	ck_assert_str_eq(s.checks[0].output, "");
	ck_assert_int_eq(s.checks[0].status, VT_STATUS_CRITICAL);
	ck_assert_double_eq(s.checks[0].timestamp, 0);

	/* No sender address (AMQP): the fixed placeholder. Null = absent. */
	ck_assert_int_eq(parse("{\"service\":\"a\",\"check\":\"b\","
	    "\"status\":\"warning\",\"instance\":null,\"ttl\":null}", NULL, &s,
	    &n), 0);
	ck_assert_str_eq(s.checks[0].instance, VT_CHECK_NO_INSTANCE);
	ck_assert_double_eq(s.checks[0].ttl, VT_CHECK_DEFAULT_TTL);
}
END_TEST

static const struct {
	const char *status;
	enum vt_status want;
} statuses[] = {
	{ "\"ok\"", VT_STATUS_OK },
	{ "\"OK\"", VT_STATUS_OK },
	{ "\"Warning\"", VT_STATUS_WARNING },
	{ "\"critical\"", VT_STATUS_CRITICAL },
	{ "\"unknown\"", VT_STATUS_UNKNOWN },
	{ "0", VT_STATUS_OK },
	{ "1", VT_STATUS_WARNING },
	{ "2", VT_STATUS_CRITICAL },
	{ "3", VT_STATUS_UNKNOWN },
	{ "3.0", VT_STATUS_UNKNOWN },
};

START_TEST(status_accepted)
{
	char body[256];
	struct seen s;
	snprintf(body, sizeof body, "{\"service\":\"a\",\"check\":\"b\","
	    "\"status\":%s}", statuses[_i].status);
	ck_assert_int_eq(parse(body, "ip", &s, NULL), 0);
	ck_assert_uint_eq(s.nchecks, 1);
	ck_assert_int_eq(s.checks[0].status, statuses[_i].want);
}
END_TEST

static const struct {
	const char *ttl;
	double want;
} ttls[] = {
	{ "30", 30 },
	{ "0.5", 0.5 },
	{ "\"30s\"", 30 },
	{ "\"5m\"", 300 },
	{ "\"26h\"", 93600 },
	{ "\"7d\"", 604800 },
	{ "\"45\"", 45 },
};

START_TEST(ttl_accepted)
{
	char body[256];
	struct seen s;
	snprintf(body, sizeof body, "{\"service\":\"a\",\"check\":\"b\","
	    "\"status\":0,\"ttl\":%s}", ttls[_i].ttl);
	ck_assert_int_eq(parse(body, "ip", &s, NULL), 0);
	ck_assert_uint_eq(s.nchecks, 1);
	ck_assert_double_eq_tol(s.checks[0].ttl, ttls[_i].want, 1e-9);
}
END_TEST

/* One bad entry each: the exact message and counted reason. */
static const struct {
	const char *body;
	enum vt_check_result why;
	const char *msg;
} rejected[] = {
	{ "{\"check\":\"b\",\"status\":0}", VT_CHECK_MISSING_FIELD,
	  "service: required" },
	{ "{\"service\":\"a\",\"status\":0}", VT_CHECK_MISSING_FIELD,
	  "check: required" },
	{ "{\"service\":\"a\",\"check\":\"b\"}", VT_CHECK_MISSING_FIELD,
	  "status: required" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":4}",
	  VT_CHECK_BAD_STATUS,
	  "status: expected ok, warning, critical, unknown or 0-3" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":1.5}",
	  VT_CHECK_BAD_STATUS,
	  "status: expected ok, warning, critical, unknown or 0-3" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":\"fine\"}",
	  VT_CHECK_BAD_STATUS,
	  "status: expected ok, warning, critical, unknown or 0-3" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":true}",
	  VT_CHECK_BAD_STATUS,
	  "status: expected ok, warning, critical, unknown or 0-3" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":-1}",
	  VT_CHECK_BAD_STATUS,
	  "status: expected ok, warning, critical, unknown or 0-3" },
	{ "{\"service\":5,\"check\":\"b\",\"status\":0}", VT_CHECK_BAD_NAME,
	  "service: expected a string" },
	{ "{\"service\":\"\",\"check\":\"b\",\"status\":0}", VT_CHECK_BAD_NAME,
	  "service: must not be empty" },
	{ "{\"service\":\"a\",\"check\":\"x\\ny\",\"status\":0}",
	  VT_CHECK_BAD_NAME, "check: control characters are not allowed" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":0,\"instance\":[1]}",
	  VT_CHECK_BAD_NAME, "instance: expected a string" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":0,\"ttl\":0}",
	  VT_CHECK_BAD_TTL, "ttl: expected seconds or a duration (\"30s\", "
	  "\"5m\", \"26h\") up to a year" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":0,\"ttl\":-5}",
	  VT_CHECK_BAD_TTL, "ttl: expected seconds or a duration (\"30s\", "
	  "\"5m\", \"26h\") up to a year" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":0,\"ttl\":\"soon\"}",
	  VT_CHECK_BAD_TTL, "ttl: expected seconds or a duration (\"30s\", "
	  "\"5m\", \"26h\") up to a year" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":0,\"ttl\":\"400d\"}",
	  VT_CHECK_BAD_TTL, "ttl: expected seconds or a duration (\"30s\", "
	  "\"5m\", \"26h\") up to a year" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":0,\"output\":42}",
	  VT_CHECK_BAD_FIELD, "output: expected a string" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":0,"
	  "\"timestamp\":\"now\"}", VT_CHECK_BAD_FIELD,
	  "timestamp: expected unix seconds (a number)" },
	{ "[{\"service\":\"a\",\"check\":\"b\",\"status\":0},"
	  "{\"service\":\"a\",\"check\":\"c\",\"status\":0,\"ttl\":\"x\"}]",
	  VT_CHECK_BAD_TTL, "[1].ttl: expected seconds or a duration "
	  "(\"30s\", \"5m\", \"26h\") up to a year" },
	{ "[{\"service\":\"a\",\"check\":\"b\",\"status\":0}, 7]",
	  VT_CHECK_BAD_FIELD, "[1]: expected an object" },
	{ "{\"service\":\"a\",\"checks\":[{\"check\":\"b\",\"status\":0},"
	  "{\"check\":\"c\",\"status\":0},{\"check\":\"d\",\"status\":9}]}",
	  VT_CHECK_BAD_STATUS, "checks[2].status: expected ok, warning, "
	  "critical, unknown or 0-3" },
	{ "{\"checks\":[{\"check\":\"b\",\"status\":0}]}",
	  VT_CHECK_MISSING_FIELD, "checks[0].service: required" },
	{ "{\"service\":7,\"checks\":[{\"check\":\"b\",\"status\":0}]}",
	  VT_CHECK_BAD_NAME, "service: expected a string" },
};

START_TEST(entry_rejected)
{
	struct seen s;
	struct vt_health_json_counts n;
	ck_assert_int_eq(parse(rejected[_i].body, "ip", &s, &n), 0);
	ck_assert_uint_eq(n.rejected, 1);
	ck_assert_uint_eq(s.nerrors, 1);
	ck_assert_int_eq(s.why[0], rejected[_i].why);
	ck_assert_str_eq(s.errors[0], rejected[_i].msg);
	ck_assert_uint_eq(n.accepted, s.nchecks);
}
END_TEST

static const struct {
	const char *body;
	const char *msg;
} bad_bodies[] = {
	{ "", "body: not valid JSON (at byte 0)" },
	{ "{\"service\":", "body: not valid JSON (at byte 10)" },
	{ "{\"service\":\"a\",\"check\":\"b\",\"status\":0} x",
	  "body: unexpected text after the JSON value (at byte 39)" },
	{ "\"ok\"", "body: expected a JSON object or array" },
	{ "42", "body: expected a JSON object or array" },
	{ "{\"service\":\"a\",\"checks\":{}}", "checks: expected an array" },
};

START_TEST(body_rejected)
{
	struct seen s;
	struct vt_health_json_counts n;
	ck_assert_int_eq(parse(bad_bodies[_i].body, "ip", &s, &n), -EINVAL);
	ck_assert_uint_eq(n.accepted, 0);
	ck_assert_uint_eq(n.rejected, 1);
	ck_assert_uint_eq(s.nerrors, 1);
	ck_assert_int_eq(s.why[0], VT_CHECK_BAD_JSON);
	ck_assert_str_eq(s.errors[0], bad_bodies[_i].msg);
}
END_TEST

START_TEST(array_and_trailing_newline)
{
	struct seen s;
	struct vt_health_json_counts n;
	ck_assert_int_eq(parse("[{\"service\":\"a\",\"check\":\"x\",\"status\":0},"
	    "{\"service\":\"b\",\"check\":\"y\",\"status\":\"critical\","
	    "\"instance\":\"b-1\"}]\n", "10.1.1.1", &s, &n), 0);
	ck_assert_uint_eq(n.accepted, 2);
	ck_assert_str_eq(s.checks[0].service, "a");
	ck_assert_str_eq(s.checks[0].instance, "10.1.1.1");
	ck_assert_str_eq(s.checks[1].service, "b");
	ck_assert_str_eq(s.checks[1].instance, "b-1");
	ck_assert_int_eq(s.checks[1].status, VT_STATUS_CRITICAL);

	ck_assert_int_eq(parse("[]", "ip", &s, &n), 0);
	ck_assert_uint_eq(n.accepted + n.rejected, 0);
}
END_TEST

START_TEST(batch_inherits_and_overrides)
{
	struct seen s;
	struct vt_health_json_counts n;
	ck_assert_int_eq(parse("{\"service\":\"billing\",\"instance\":\"bill-1\","
	    "\"ttl\":\"5m\",\"checks\":[{\"check\":\"db\",\"status\":\"ok\","
	    "\"output\":\"fine\"},{\"check\":\"queue\",\"status\":1,"
	    "\"instance\":\"bill-2\",\"ttl\":10},{\"check\":\"bad\"},"
	    "{\"check\":\"disk\",\"status\":\"critical\"}]}", "ip", &s, &n), 0);
	ck_assert_uint_eq(n.accepted, 3);
	ck_assert_uint_eq(n.rejected, 1);
	ck_assert_str_eq(s.errors[0], "checks[2].status: required");
	ck_assert_str_eq(s.checks[0].service, "billing");
	ck_assert_str_eq(s.checks[0].instance, "bill-1");
	ck_assert_double_eq(s.checks[0].ttl, 300);
	ck_assert_str_eq(s.checks[0].output, "fine");
	ck_assert_str_eq(s.checks[1].instance, "bill-2");
	ck_assert_double_eq(s.checks[1].ttl, 10);
	ck_assert_int_eq(s.checks[1].status, VT_STATUS_WARNING);
	ck_assert_str_eq(s.checks[2].check, "disk");
	ck_assert_int_eq(s.checks[2].status, VT_STATUS_CRITICAL);
}
END_TEST

START_TEST(text_rules)
{
	struct seen s;
	char body[8192];
	char name[VT_CHECK_TEXT_MAX + 2];

	/* Invalid UTF-8 is replaced, in names and in output. */
	ck_assert_int_eq(parse("{\"service\":\"caf\xE9\",\"check\":\"b\","
	    "\"status\":0,\"output\":\"bad \xC3 byte\\u0007bell\"}", "ip", &s,
	    NULL), 0);
	ck_assert_uint_eq(s.nchecks, 1);
	ck_assert_str_eq(s.checks[0].service, "caf" FFFD);
	ck_assert_str_eq(s.checks[0].output, "bad " FFFD " byte bell");

	/* Output is cut to VT_CHECK_OUTPUT_MAX bytes, never mid-character. */
	int n = snprintf(body, sizeof body, "{\"service\":\"a\",\"check\":"
	    "\"b\",\"status\":0,\"output\":\"x");
	for (int i = 0; i < 700; i++)
		n += snprintf(body + n, sizeof body - (size_t)n, "\xC3\xA9");
	snprintf(body + n, sizeof body - (size_t)n, "\"}");
	ck_assert_int_eq(parse(body, "ip", &s, NULL), 0);
	ck_assert_uint_eq(strlen(s.checks[0].output), VT_CHECK_OUTPUT_MAX - 1);

	/* Names: VT_CHECK_TEXT_MAX bytes is fine, one more is rejected. */
	memset(name, 'n', sizeof name);
	name[VT_CHECK_TEXT_MAX] = '\0';
	snprintf(body, sizeof body, "{\"service\":\"%s\",\"check\":\"b\","
	    "\"status\":0}", name);
	ck_assert_int_eq(parse(body, "ip", &s, NULL), 0);
	ck_assert_uint_eq(s.nchecks, 1);
	name[VT_CHECK_TEXT_MAX] = 'n';
	name[VT_CHECK_TEXT_MAX + 1] = '\0';
	snprintf(body, sizeof body, "{\"service\":\"a\",\"check\":\"%s\","
	    "\"status\":0}", name);
	ck_assert_int_eq(parse(body, "ip", &s, NULL), 0);
	ck_assert_uint_eq(s.nchecks, 0);
	ck_assert_int_eq(s.why[0], VT_CHECK_TOO_LONG);
	ck_assert_str_eq(s.errors[0], "check: longer than 512 bytes");
}
END_TEST

START_TEST(no_hooks_counts_only)
{
	struct vt_health_json_counts n;
	const char *b = "[{\"service\":\"a\",\"check\":\"b\",\"status\":0},{}]";
	ck_assert_int_eq(vt_health_json_parse(b, strlen(b), NULL, NULL, &n), 0);
	ck_assert_uint_eq(n.accepted, 1);
	ck_assert_uint_eq(n.rejected, 1);
	/* Not NUL-terminated: only len bytes are read. */
	ck_assert_int_eq(vt_health_json_parse("{}garbage", 2, NULL, NULL, &n),
	    0);
	ck_assert_uint_eq(n.rejected, 1);
}
END_TEST

/* ---- `_sc` lines ---- */

static enum vt_check_result sc(const char *line, const char *ip,
    struct vt_check *c, char *why)
{
	struct vt_check_report r;
	ck_assert_int_eq(vt_statsd_parse_check(line, strlen(line), &r),
	    VT_LINE_OK);
	why[0] = '\0';
	return vt_health_check_from_report(c, &r, ip, why, VT_ERR_LEN);
}

static const struct {
	const char *line;
	const char *service, *check, *instance, *output;
	enum vt_status status;
	double ttl;
} sc_ok[] = {
	{ "_sc|billing.broker|1", "billing", "broker", "10.0.0.9", "",
	  VT_STATUS_WARNING, 60 },
	{ "_sc|billing.broker.lag|0", "billing", "broker.lag", "10.0.0.9", "",
	  VT_STATUS_OK, 60 },
	{ "_sc|nodot|2", "default", "nodot", "10.0.0.9", "",
	  VT_STATUS_CRITICAL, 60 },
	{ "_sc|db.ping|3|#service:payments", "payments", "db.ping",
	  "10.0.0.9", "", VT_STATUS_UNKNOWN, 60 },
	{ "_sc|pay.db|0|h:pay-1|#env:prod,ttl:26h|m:all good", "pay", "db",
	  "pay-1", "all good", VT_STATUS_OK, 93600 },
	{ "_sc|pay.db|2|d:1795000000|#ttl:30|m:line1\\nline2|x", "pay", "db",
	  "10.0.0.9", "line1\nline2|x", VT_STATUS_CRITICAL, 30 },
};

START_TEST(sc_accepted)
{
	struct vt_check c;
	char why[VT_ERR_LEN];
	ck_assert_int_eq(sc(sc_ok[_i].line, "10.0.0.9", &c, why), VT_CHECK_OK);
	ck_assert_str_eq(c.service, sc_ok[_i].service);
	ck_assert_str_eq(c.check, sc_ok[_i].check);
	ck_assert_str_eq(c.instance, sc_ok[_i].instance);
	ck_assert_str_eq(c.output, sc_ok[_i].output);
	ck_assert_int_eq(c.status, sc_ok[_i].status);
	ck_assert_double_eq(c.ttl, sc_ok[_i].ttl);
}
END_TEST

START_TEST(sc_rejected)
{
	struct vt_check c;
	char why[VT_ERR_LEN];
	ck_assert_int_eq(sc("_sc|a.b|0|#ttl:forever", "ip", &c, why),
	    VT_CHECK_BAD_TTL);
	ck_assert_str_eq(why, "ttl tag: expected seconds or a duration "
	    "(\"30s\", \"5m\", \"26h\") up to a year");
	ck_assert_int_eq(sc("_sc|a.b|0|#ttl:0", "ip", &c, why),
	    VT_CHECK_BAD_TTL);
	/* An empty service tag is no service tag. */
	ck_assert_int_eq(sc("_sc|a.b|0|#service:", "ip", &c, why),
	    VT_CHECK_OK);
	ck_assert_str_eq(c.service, "a");
	ck_assert_str_eq(c.check, "b");
	/* No h: and no sender address: the placeholder instance. */
	ck_assert_int_eq(sc("_sc|a.b|0", NULL, &c, why), VT_CHECK_OK);
	ck_assert_str_eq(c.instance, VT_CHECK_NO_INSTANCE);
}
END_TEST

START_TEST(status_helpers)
{
	enum vt_status s;
	ck_assert_int_eq(vt_health_check_status_worst(VT_STATUS_OK, VT_STATUS_UNKNOWN),
	    VT_STATUS_UNKNOWN);
	ck_assert_int_eq(vt_health_check_status_worst(VT_STATUS_WARNING, VT_STATUS_UNKNOWN),
	    VT_STATUS_WARNING);
	ck_assert_int_eq(vt_health_check_status_worst(VT_STATUS_CRITICAL,
	    VT_STATUS_WARNING), VT_STATUS_CRITICAL);
	ck_assert_int_eq(vt_health_check_status_worst(VT_STATUS_OK, VT_STATUS_OK),
	    VT_STATUS_OK);
	ck_assert_int_eq(vt_health_check_status_parse("CRITICAL", &s), 0);
	ck_assert_int_eq(s, VT_STATUS_CRITICAL);
	ck_assert_int_eq(vt_health_check_status_parse("crit", &s), -1);
	ck_assert_str_eq(vt_health_check_status_name(VT_STATUS_UNKNOWN), "unknown");
	ck_assert_str_eq(vt_health_check_result_name(VT_CHECK_OVER_CAP), "over_cap");
	ck_assert_str_eq(vt_health_check_format_name(VT_CHECK_SC), "dogstatsd");
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *vt_test_health_json_suite(void)
{
	Suite *s = suite_create("health_json");
	TCase *tc = tcase_create("json");
	tcase_add_test(tc, single_object_all_fields);
	tcase_add_test(tc, defaults_instance_ttl_output);
	tcase_add_loop_test(tc, status_accepted, 0, N(statuses));
	tcase_add_loop_test(tc, ttl_accepted, 0, N(ttls));
	tcase_add_loop_test(tc, entry_rejected, 0, N(rejected));
	tcase_add_loop_test(tc, body_rejected, 0, N(bad_bodies));
	tcase_add_test(tc, array_and_trailing_newline);
	tcase_add_test(tc, batch_inherits_and_overrides);
	tcase_add_test(tc, text_rules);
	tcase_add_test(tc, no_hooks_counts_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("sc");
	tcase_add_loop_test(tc, sc_accepted, 0, N(sc_ok));
	tcase_add_test(tc, sc_rejected);
	tcase_add_test(tc, status_helpers);
	suite_add_tcase(s, tc);
	return s;
}
