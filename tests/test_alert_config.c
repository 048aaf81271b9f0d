/*
 * test_alert_config.c - the "alerts" config section: good rules and hooks
 * with their defaults, and a table of bad ones, each naming its key path;
 * the startup path (vt_config_from_args) refuses a bad rule with the
 * one-line "vitalsd: FILE: KEY: what" that main.c turns into exit 2.
 */
#include <cJSON.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/alerts/alert_config.h"
#include "collector/config/config.h"
#include "suites.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static const double pct[] = { 50, 90, 95, 99 };

static struct vt_alert_config *parse(const char *json, char *key,
    char *why)
{
	cJSON *root = cJSON_Parse(json);
	ck_assert_msg(root != NULL, "test JSON: %s", json);
	struct vt_alert_config *c = vt_alert_config_parse(root, pct, 4, key,
	    VT_ALERT_KEY_LEN, why, 200);
	cJSON_Delete(root);
	return c;
}

START_TEST(good_rules_and_defaults)
{
	char key[VT_ALERT_KEY_LEN] = "", why[200] = "";
	struct vt_alert_config *c = parse("{"
	    "\"rules\": ["
	    " {\"name\": \"down\", \"service\": \"payments\"},"
	    " {\"name\": \"db\", \"type\": \"check\", \"check\": \"db\","
	    "  \"notify\": [\"critical\"], \"for\": \"30s\", \"flap\": false},"
	    " {\"name\": \"silent\", \"type\": \"stale\", \"service\": \"*\"},"
	    " {\"name\": \"lat\", \"service\": \"payments\", \"metric\": "
	    "  \"http.get\", \"stat\": \"p99\", \"op\": \">=\", \"value\": 250,"
	    "  \"for\": \"1m\", \"severity\": \"page\", \"labels\": "
	    "  {\"team\": \"pay\"}, \"hooks\": [\"web\"], \"renotify\": 600}],"
	    "\"hooks\": ["
	    " {\"name\": \"run\", \"type\": \"exec\", \"argv\": [\"/bin/true\","
	    "  \"-x\"]},"
	    " {\"name\": \"web\", \"type\": \"webhook\", \"url\": "
	    "  \"https://hooks.example/x\", \"headers\": {\"Authorization\": "
	    "  \"Bearer t\"}, \"timeout\": \"3s\", \"retries\": 5,"
	    "  \"backoff\": \"500ms\"}],"
	    "\"renotify\": \"1h\", \"flap\": {\"window\": 11, \"high\": 40,"
	    " \"low\": 20}, \"queue\": 7}", key, why);
	ck_assert_msg(c != NULL, "%s: %s", key, why);
	ck_assert_uint_eq(c->nrules, 4);
	ck_assert_int_eq(c->implicit, 0);
	ck_assert_uint_eq(c->flap_window, 11);
	ck_assert_double_eq(c->flap_high, 40);
	ck_assert_uint_eq(c->queue, 7);
	const struct vt_alert_rule *r = &c->rules[0];
	ck_assert_int_eq(r->kind, VT_ALERT_SERVICE);
	ck_assert_str_eq(r->service, "payments");
	ck_assert_uint_eq(r->notify, (1u << 1) | (1u << 2) | (1u << 3));
	ck_assert_str_eq(r->severity, "critical");
	ck_assert_double_eq(r->renotify, 3600);   /* the section's default */
	ck_assert_int_eq(r->flap, 1);
	r = &c->rules[1];
	ck_assert_int_eq(r->kind, VT_ALERT_CHECK);
	ck_assert_ptr_null(r->service);
	ck_assert_str_eq(r->check, "db");
	ck_assert_uint_eq(r->notify, 1u << 2);
	ck_assert_double_eq(r->for_s, 30);
	ck_assert_int_eq(r->flap, 0);
	ck_assert_ptr_null(c->rules[2].service);       /* "*" = all */
	r = &c->rules[3];
	ck_assert_int_eq(r->kind, VT_ALERT_THRESHOLD);
	ck_assert_int_eq(r->stat, VT_STAT_PERCENTILE);
	ck_assert_uint_eq(r->pct_index, 3);
	ck_assert_int_eq(r->op, VT_OP_GE);
	ck_assert_double_eq(r->value, 250);
	ck_assert_double_eq(r->for_s, 60);
	ck_assert_double_eq(r->renotify, 600);
	ck_assert_str_eq(r->label_keys[0], "team");
	ck_assert_str_eq(r->label_values[0], "pay");
	const struct vt_hook_cfg *run = vt_alert_config_hook(c, "run");
	const struct vt_hook_cfg *web = vt_alert_config_hook(c, "web");
	ck_assert_int_eq(run->type, VT_HOOK_EXEC);
	ck_assert_uint_eq(run->argc, 2);
	ck_assert_ptr_null(run->argv[2]);
	ck_assert_double_eq(run->timeout, 10);
	ck_assert_str_eq(web->headers[0], "Authorization: Bearer t");
	ck_assert_uint_eq(web->retries, 5);
	ck_assert_double_eq(web->backoff, 0.5);
	ck_assert_int_eq(vt_alert_config_rule_uses_hook(r, web), 1);
	ck_assert_int_eq(vt_alert_config_rule_uses_hook(r, run), 0);
	ck_assert_int_eq(vt_alert_config_rule_uses_hook(&c->rules[0], run), 1);
	vt_alert_config_release(c);
}
END_TEST

START_TEST(hooks_without_rules_get_the_default_rule)
{
	char key[VT_ALERT_KEY_LEN], why[200];
	struct vt_alert_config *c = parse("{\"hooks\": [{\"name\": \"h\", "
	    "\"type\": \"exec\", \"argv\": [\"true\"]}]}", key, why);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->implicit, 1);
	ck_assert_uint_eq(c->nrules, 1);
	ck_assert_int_eq(c->rules[0].kind, VT_ALERT_SERVICE);
	ck_assert_ptr_null(c->rules[0].service);
	ck_assert_uint_eq(c->rules[0].notify & 1u, 0);   /* not ok */
	vt_alert_config_release(c);
	c = vt_alert_config_parse(NULL, pct, 4, key, sizeof key, why,
	    sizeof why);
	ck_assert_uint_eq(c->nrules, 0);
	ck_assert_uint_eq(c->nhooks, 0);
	vt_alert_config_release(c);
}
END_TEST

static const struct {
	const char *json;
	const char *key;
	const char *why;       /* a part of the message */
} bad[] = {
	{ "[]", "alerts", "expected an object" },
	{ "{\"rulez\": []}", "alerts.rulez", "unknown key" },
	{ "{\"rules\": {}}", "alerts.rules", "expected an array" },
	{ "{\"rules\": [{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"c\","
	  " \"metric\": \"m\", \"stat\": \"max\", \"op\": \">\", \"value\": 1,"
	  " \"for\": \"soon\"}]}", "alerts.rules[2].for", "duration" },
	{ "{\"rules\": [{\"service\": \"s\"}]}", "alerts.rules[0].name",
	  "required" },
	{ "{\"rules\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}",
	  "alerts.rules[1].name", "used twice" },
	{ "{\"rules\": [{\"name\": \"a\", \"type\": \"metric\"}]}",
	  "alerts.rules[0].type", "expected service, check" },
	{ "{\"rules\": [{\"name\": \"a\", \"metric\": \"m\"}]}",
	  "alerts.rules[0].stat", "required" },
	{ "{\"rules\": [{\"name\": \"a\", \"metric\": \"m\", \"stat\": "
	  "\"p75\", \"op\": \">\", \"value\": 1}]}", "alerts.rules[0].stat",
	  "not one of the configured percentiles" },
	{ "{\"rules\": [{\"name\": \"a\", \"metric\": \"m\", \"stat\": "
	  "\"median\", \"op\": \">\", \"value\": 1}]}", "alerts.rules[0].stat",
	  "expected count" },
	{ "{\"rules\": [{\"name\": \"a\", \"metric\": \"m\", \"stat\": "
	  "\"max\", \"op\": \"=>\", \"value\": 1}]}", "alerts.rules[0].op",
	  "expected one of" },
	{ "{\"rules\": [{\"name\": \"a\", \"metric\": \"m\", \"stat\": "
	  "\"max\", \"op\": \">\", \"value\": \"1\"}]}",
	  "alerts.rules[0].value", "expected a number" },
	{ "{\"rules\": [{\"name\": \"a\", \"notify\": [\"ok\", \"bad\"]}]}",
	  "alerts.rules[0].notify[1]", "expected ok, warning" },
	{ "{\"rules\": [{\"name\": \"a\", \"value\": 3}]}",
	  "alerts.rules[0].value", "not used by a service rule" },
	{ "{\"rules\": [{\"name\": \"a\", \"check\": \"db\"}]}",
	  "alerts.rules[0].check", "not used by a service rule" },
	{ "{\"rules\": [{\"name\": \"a\", \"type\": \"stale\", \"notify\": "
	  "[\"ok\"]}]}", "alerts.rules[0].notify", "not used by a stale" },
	{ "{\"rules\": [{\"name\": \"a\", \"hooks\": [\"x\"]}]}",
	  "alerts.rules[0].hooks[0]", "no hook is named x" },
	{ "{\"rules\": [{\"name\": \"a\", \"labels\": {\"k\": 1}}]}",
	  "alerts.rules[0].labels.k", "expected a string" },
	{ "{\"rules\": [{\"name\": \"a\", \"flap\": 1}]}",
	  "alerts.rules[0].flap", "true or false" },
	{ "{\"hooks\": [{\"name\": \"h\"}]}", "alerts.hooks[0].type",
	  "required" },
	{ "{\"hooks\": [{\"name\": \"h\", \"type\": \"shell\"}]}",
	  "alerts.hooks[0].type", "exec or webhook" },
	{ "{\"hooks\": [{\"name\": \"h\", \"type\": \"exec\"}]}",
	  "alerts.hooks[0].argv", "required" },
	{ "{\"hooks\": [{\"name\": \"h\", \"type\": \"exec\", \"argv\": []}]}",
	  "alerts.hooks[0].argv", "must name a program" },
	{ "{\"hooks\": [{\"name\": \"h\", \"type\": \"exec\", \"argv\": "
	  "[\"x\"], \"retries\": 2}]}", "alerts.hooks[0].retries",
	  "not used by an exec hook" },
	{ "{\"hooks\": [{\"name\": \"h\", \"type\": \"webhook\", \"url\": "
	  "\"ftp://x\"}]}", "alerts.hooks[0].url", "http://" },
	{ "{\"hooks\": [{\"name\": \"h\", \"type\": \"webhook\", \"url\": "
	  "\"http://x\", \"retries\": 1.5}]}", "alerts.hooks[0].retries",
	  "whole number" },
	{ "{\"hooks\": [{\"name\": \"h\", \"type\": \"webhook\", \"url\": "
	  "\"http://x\", \"timeout\": 0}]}", "alerts.hooks[0].timeout",
	  "between" },
	{ "{\"hooks\": [{\"name\": \"h\", \"type\": \"webhook\", \"url\": "
	  "\"http://x\", \"headers\": {\"X\": \"a\\nb\"}}]}",
	  "alerts.hooks[0].headers.X", "line breaks" },
	{ "{\"hooks\": [{\"name\": \"h\", \"type\": \"exec\", \"argv\": "
	  "[\"a\"]}, {\"name\": \"h\", \"type\": \"exec\", \"argv\": "
	  "[\"b\"]}]}", "alerts.hooks[1].name", "used twice" },
	{ "{\"flap\": {\"high\": 20, \"low\": 30}}", "alerts.flap.low",
	  "must not be above" },
	{ "{\"flap\": {\"window\": 100}}", "alerts.flap.window", "between" },
	{ "{\"queue\": 0}", "alerts.queue", "between" },
};

START_TEST(bad_rules_name_their_key)
{
	char key[VT_ALERT_KEY_LEN] = "", why[200] = "";
	struct vt_alert_config *c = parse(bad[_i].json, key, why);
	ck_assert_msg(c == NULL, "accepted: %s", bad[_i].json);
	ck_assert_str_eq(key, bad[_i].key);
	ck_assert_msg(strstr(why, bad[_i].why) != NULL, "%s: got \"%s\"",
	    bad[_i].json, why);
}
END_TEST

/* The startup path: one line naming file and key (main.c: exit 2). */
START_TEST(startup_refuses_a_bad_rule)
{
	char path[] = "/tmp/vitals-alert-rules-XXXXXX", err[512];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char *text = "{\n  // comments are fine here too\n"
	    "  \"alerts\": {\"rules\": [{\"name\": \"a\"}, {\"name\": \"b\"},"
	    " {\"name\": \"c\", \"type\": \"check\", \"for\": \"1x\"}]}\n}\n";
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	struct vt_config cfg;
	char *argv[] = { "vitalsd", "-c", path, "--check-config", NULL };
	/* main.c: the config loads, then the alerts section is checked */
	ck_assert_int_eq(vt_config_from_args(&cfg, 4, argv, err, sizeof err),
	    VT_CONFIG_RUN);
	ck_assert_ptr_null(vt_alert_config_load(cfg.config_file,
	    cfg.percentiles, cfg.npercentiles, err, sizeof err));
	char want[256];
	snprintf(want, sizeof want, "vitalsd: %s: alerts.rules[2].for: ",
	    path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	ck_assert_ptr_null(strchr(err, '\n'));

	/* the same file with a good rule loads, comments and all */
	FILE *f = fopen(path, "w");
	fputs("{ /* x */ \"alerts\": {\"rules\": [{\"name\": \"a\"}]} }", f);
	fclose(f);
	ck_assert_int_eq(vt_config_from_args(&cfg, 4, argv, err, sizeof err),
	    VT_CONFIG_RUN);
	struct vt_alert_config *c = vt_alert_config_load(path, pct, 4, err,
	    sizeof err);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->nrules, 1);
	vt_alert_config_release(c);
	unlink(path);
}
END_TEST

START_TEST(comparisons)
{
	ck_assert_int_eq(vt_alert_config_op_holds(VT_OP_GT, 2, 1), 1);
	ck_assert_int_eq(vt_alert_config_op_holds(VT_OP_GT, 1, 1), 0);
	ck_assert_int_eq(vt_alert_config_op_holds(VT_OP_GE, 1, 1), 1);
	ck_assert_int_eq(vt_alert_config_op_holds(VT_OP_LT, 0, 1), 1);
	ck_assert_int_eq(vt_alert_config_op_holds(VT_OP_LE, 2, 1), 0);
	ck_assert_int_eq(vt_alert_config_op_holds(VT_OP_EQ, 1, 1), 1);
	ck_assert_int_eq(vt_alert_config_op_holds(VT_OP_NE, 1, 1), 0);
	for (int op = VT_OP_GT; op <= VT_OP_NE; op++)
		ck_assert_int_eq(vt_alert_config_op_holds(op, NAN, 1), 0);
}
END_TEST

Suite *vt_test_alert_config_suite(void)
{
	Suite *s = suite_create("alert_config");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, good_rules_and_defaults);
	tcase_add_test(tc, hooks_without_rules_get_the_default_rule);
	tcase_add_loop_test(tc, bad_rules_name_their_key, 0, N(bad));
	tcase_add_test(tc, startup_refuses_a_bad_rule);
	tcase_add_test(tc, comparisons);
	suite_add_tcase(s, tc);
	return s;
}
