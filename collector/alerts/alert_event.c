/*
 * alert_event.c - a notification as JSON and as VITALS_* variables
 * (alert_event.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/alerts/alert_event.h"
#include "collector/base/json.h"
#include "collector/base/parse.h"
#include "collector/base/xmalloc.h"
#include "collector/health/health_check.h"

static const char *status_or_null(int s)
{
	return s >= 0 ? vt_health_check_status_name((enum vt_status)s) : NULL;
}

const char *vt_alert_event_unit(int kind, enum vt_alert_stat stat)
{
	switch (stat) {
	case VT_STAT_RATE:
	case VT_STAT_RATE_1M:
	case VT_STAT_RATE_5M:
	case VT_STAT_RATE_15M:
		return "/s";
	case VT_STAT_COUNT:
		return "";
	case VT_STAT_SUM:
	case VT_STAT_MEAN:
	case VT_STAT_MIN:
	case VT_STAT_MAX:
	case VT_STAT_STDDEV:
	case VT_STAT_VALUE:
	case VT_STAT_PERCENTILE:
		break;
	}
	return kind == VT_TIMER ? " ms" : "";
}

/* Trailing zeros of a fraction, then a bare '.', go. */
static void trim_fraction(char *s)
{
	if (strchr(s, '.') == NULL)
		return;
	char *end = s + strlen(s);
	while (end > s && end[-1] == '0')
		*--end = '\0';
	if (end > s && end[-1] == '.')
		*--end = '\0';
}

void vt_alert_event_put_number(struct vt_buf *out, double v)
{
	char num[64];

	if (isnan(v)) {
		vt_buf_puts(out, "nan");
		return;
	}
	if (isinf(v)) {
		vt_buf_puts(out, v < 0 ? "-inf" : "inf");
		return;
	}
	if (v == 0) {
		vt_buf_puts(out, "0");
		return;
	}
	/* The decimal exponent after rounding to 3 digits: 999.7 is 1.00e+03. */
	snprintf(num, sizeof num, "%.2e", v);
	int exp10 = atoi(strchr(num, 'e') + 1);
	if (exp10 >= 3 && exp10 < 15) {
		snprintf(num, sizeof num, "%.0f", v);
	} else if (exp10 >= -4 && exp10 < 3) {
		snprintf(num, sizeof num, "%.*f", 2 - exp10, v);
		trim_fraction(num);
	} else {
		char mant[64];
		snprintf(num, sizeof num, "%.2e", v);
		char *e = strchr(num, 'e');
		snprintf(mant, sizeof mant, "%.*s", (int)(e - num), num);
		trim_fraction(mant);
		vt_buf_printf(out, "%s%s", mant, e);
		return;
	}
	vt_buf_puts(out, num);
}

void vt_alert_event_summary(const struct vt_alert_event *ev,
    struct vt_buf *out)
{
	const struct vt_alert_rule *r = ev->rule;
	int resolved = strcmp(ev->state, "resolved") == 0;
	const char *who = ev->service ? ev->service : "?";

	if (r->kind == VT_ALERT_THRESHOLD) {
		const char *unit = ev->unit ? ev->unit : "";
		vt_buf_printf(out, "%s %s %s ", who, ev->metric, r->stat_name);
		if (isnan(ev->value)) {
			vt_buf_puts(out, "has no data");
		} else {
			vt_buf_puts(out, "= ");
			vt_alert_event_put_number(out, ev->value);
			vt_buf_puts(out, unit);
		}
		vt_buf_printf(out, " (%s%s ", resolved ? "no longer " : "",
		    vt_alert_config_op_name(r->op));
		vt_alert_event_put_number(out, r->value);
		vt_buf_puts(out, unit);
		vt_buf_puts(out, ")");
		if (!resolved && r->for_s > 0) {
			vt_buf_puts(out, " for ");
			vt_parse_format_duration(r->for_s, out);
		}
	} else if (r->kind == VT_ALERT_SERVICE) {
		vt_buf_printf(out, "%s is %s", who,
		    ev->status >= 0 ? vt_health_check_status_name(ev->status) : "?");
	} else {
		vt_buf_printf(out, "%s/%s on %s", who, ev->check ?
		    ev->check : "?", ev->instance ? ev->instance : "?");
		if (r->kind == VT_ALERT_STALE && resolved)
			vt_buf_puts(out, " reports again");
		else if (r->kind != VT_ALERT_STALE)
			vt_buf_printf(out, " is %s", ev->status >= 0 ?
			    vt_health_check_status_name(ev->status) : "?");
		/* a stale check's output says "stale: no report for 30s" */
		if (ev->output && ev->output[0] && !(resolved &&
		    r->kind == VT_ALERT_STALE))
			vt_buf_printf(out, ": %s", ev->output);
	}
	if (strcmp(ev->state, "flapping") == 0)
		vt_buf_printf(out, "; flapping (%.0f%% state change), "
		    "notifications paused", ev->flap_percent);
}

void vt_alert_event_json(const struct vt_alert_event *ev,
    struct vt_buf *out)
{
	const struct vt_alert_rule *r = ev->rule;
	int thr = r->kind == VT_ALERT_THRESHOLD;
	struct vt_buf sum;

	vt_buf_printf(out, "{\"version\":%d", VT_ALERT_EVENT_VERSION);
	vt_json_member_string(out, "state", ev->state);
	vt_buf_printf(out, ",\"reminder\":%s", ev->reminder ? "true" : "false");
	vt_json_member_string(out, "alert", r->name);
	vt_json_member_string(out, "id", ev->id);
	vt_json_member_string(out, "kind", vt_alert_config_kind_name(r->kind));
	vt_json_member_string(out, "severity", r->severity);
	vt_buf_puts(out, ",\"labels\":{");
	for (size_t i = 0; i < r->nlabels; i++) {
		if (i)
			vt_buf_putc(out, ',');
		vt_json_string(out, r->label_keys[i]);
		vt_buf_putc(out, ':');
		vt_json_string(out, r->label_values[i]);
	}
	vt_buf_putc(out, '}');
	vt_buf_init(&sum);
	vt_alert_event_summary(ev, &sum);
	vt_json_member_string(out, "summary", sum.data ? sum.data : "");
	vt_buf_fini(&sum);
	vt_json_member_string(out, "service", ev->service);
	vt_json_member_string(out, "instance", ev->instance);
	vt_json_member_string(out, "check", ev->check);
	vt_json_member_string(out, "status", status_or_null(ev->status));
	vt_json_member_string(out, "previous", status_or_null(ev->previous));
	vt_json_member_string(out, "output", ev->output);
	vt_json_member_string(out, "metric", ev->metric);
	vt_json_member_string(out, "tags", ev->labels);
	vt_json_member_string(out, "stat", thr ? r->stat_name : NULL);
	vt_json_member_string(out, "op", thr ? vt_alert_config_op_name(r->op) : NULL);
	vt_json_member_number(out, "threshold", thr ? r->value : NAN);
	vt_json_member_number(out, "value", ev->value);
	vt_json_member_number(out, "for", r->for_s);
	vt_json_member_number(out, "since", ev->since);
	vt_json_member_number(out, "time", ev->time);
	vt_json_member_number(out, "flap_percent", ev->flap_percent);
	vt_buf_puts(out, "}");
}

static void add(char ***env, size_t *n, const char *name, const char *v)
{
	if (v == NULL)
		return;
	size_t len = strlen(name) + strlen(v) + 9;
	char *s = vt_xmalloc(len);
	snprintf(s, len, "VITALS_%s=%s", name, v);
	*env = vt_xrealloc(*env, (*n + 2) * sizeof **env);
	(*env)[(*n)++] = s;
	(*env)[*n] = NULL;
}

static void add_num(char ***env, size_t *n, const char *name, double v)
{
	char num[64];
	if (!isfinite(v))
		return;
	snprintf(num, sizeof num, "%.17g", v);
	add(env, n, name, num);
}

char **vt_alert_event_env(const struct vt_alert_event *ev)
{
	const struct vt_alert_rule *r = ev->rule;
	char **env = vt_xcalloc(1, sizeof *env);
	size_t n = 0;
	struct vt_buf b;

	vt_buf_init(&b);
	vt_alert_event_summary(ev, &b);
	add(&env, &n, "STATE", ev->state);
	add(&env, &n, "REMINDER", ev->reminder ? "1" : "0");
	add(&env, &n, "ALERT", r->name);
	add(&env, &n, "ID", ev->id);
	add(&env, &n, "KIND", vt_alert_config_kind_name(r->kind));
	add(&env, &n, "SEVERITY", r->severity);
	add(&env, &n, "SUMMARY", b.data ? b.data : "");
	add(&env, &n, "SERVICE", ev->service);
	add(&env, &n, "INSTANCE", ev->instance);
	add(&env, &n, "CHECK", ev->check);
	add(&env, &n, "STATUS", status_or_null(ev->status));
	add(&env, &n, "PREVIOUS", status_or_null(ev->previous));
	add(&env, &n, "OUTPUT", ev->output);
	add(&env, &n, "METRIC", ev->metric);
	if (r->kind == VT_ALERT_THRESHOLD) {
		add(&env, &n, "STAT", r->stat_name);
		add(&env, &n, "OP", vt_alert_config_op_name(r->op));
		add_num(&env, &n, "THRESHOLD", r->value);
	}
	add_num(&env, &n, "VALUE", ev->value);
	add_num(&env, &n, "SINCE", ev->since);
	add_num(&env, &n, "TIME", ev->time);
	vt_buf_reset(&b);
	for (size_t i = 0; i < r->nlabels; i++)
		vt_buf_printf(&b, "%s%s=%s", i ? "," : "", r->label_keys[i],
		    r->label_values[i]);
	add(&env, &n, "LABELS", b.data ? b.data : "");
	vt_buf_fini(&b);
	return env;
}

void vt_alert_event_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}
