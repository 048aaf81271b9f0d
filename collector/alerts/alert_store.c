/* alert_store.c - save and restore alert state (alert_store.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/alerts/alert_store.h"
#include "collector/base/buf.h"
#include "collector/base/json.h"
#include "collector/base/state_file.h"
#include "collector/health/health_check.h"

#define FORMAT_NAME "vitals-alerts"
#define FORMAT_VERSION 1
#define TEXT_MAX 4096               /* bytes of one saved string */

/* ---- writing ---- */

static void put_status(struct vt_buf *b, const char *key, int status)
{
	vt_json_member_string(b, key, status >= 0 ?
	    vt_health_check_status_name((enum vt_status)status) : NULL);
}

static void put_one(void *ctx, const struct vt_alert_saved *a)
{
	struct vt_buf *b = ctx;
	vt_buf_puts(b, b->data[b->len - 1] == '[' ? "\n{\"id\":" :
	    ",\n{\"id\":");
	vt_json_string(b, a->id);
	vt_json_member_string(b, "rule", a->rule);
	vt_json_member_string(b, "kind", vt_alert_config_kind_name(a->kind));
	vt_json_member_string(b, "service", a->service);
	vt_json_member_string(b, "instance", a->instance);
	vt_json_member_string(b, "check", a->check);
	vt_json_member_string(b, "metric", a->metric);
	vt_json_member_string(b, "tags", a->tags);
	vt_json_member_string(b, "output", a->output);
	if (a->origin != NULL)
		vt_json_member_string(b, "origin", a->origin);
	put_status(b, "status", a->status);
	put_status(b, "previous", a->previous);
	put_status(b, "notified_status", a->notified_status);
	vt_json_member_number(b, "value", a->value);
	vt_buf_printf(b, ",\"metric_kind\":%d", a->metric_kind);
	vt_json_member_string(b, "phase", vt_alert_state_phase_name(
	    a->st.phase));
	vt_buf_printf(b, ",\"active\":%s", a->st.active ? "true" : "false");
	vt_json_member_number(b, "since", a->st.since);
	vt_json_member_number(b, "fired", a->st.fired);
	vt_json_member_number(b, "notified_at", a->st.notified);
	vt_buf_printf(b, ",\"notified\":%s}", a->notified ? "true" : "false");
}

int vt_alert_store_save(vt_alert_engine *e, const char *dir, double now,
    char *err, size_t errlen)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_buf_printf(&b, "{\"format\":\"%s\",\"version\":%d,\"saved\":",
	    FORMAT_NAME, FORMAT_VERSION);
	vt_buf_put_double(&b, now);
	vt_buf_puts(&b, ",\"alerts\":[");
	vt_alert_engine_each_saved(e, put_one, &b);
	vt_buf_puts(&b, "]}\n");
	int rc = vt_state_file_write(dir, VT_ALERT_STORE_FILE, b.data, b.len,
	    err, errlen);
	vt_buf_fini(&b);
	return rc;
}

/* ---- reading ---- */

/* A string member, NULL when null or absent; *bad when it is something
 * else or too long. */
static const char *opt_str(const cJSON *o, const char *key, int *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v) || strlen(v->valuestring) > TEXT_MAX) {
		*bad = 1;
		return NULL;
	}
	return v->valuestring;
}

/* A number member; NaN when null or absent. */
static double opt_num(const cJSON *o, const char *key, int *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (v == NULL || cJSON_IsNull(v))
		return NAN;
	if (!cJSON_IsNumber(v)) {
		*bad = 1;
		return NAN;
	}
	return v->valuedouble;
}

static int opt_status(const cJSON *o, const char *key, int *bad)
{
	const char *s = opt_str(o, key, bad);
	enum vt_status st;
	if (s == NULL)
		return -1;
	if (vt_health_check_status_parse(s, &st) < 0) {
		*bad = 1;
		return -1;
	}
	return (int)st;
}

static int parse_kind(const char *s, enum vt_alert_kind *out)
{
	for (int k = 0; s && k < VT_ALERT_KIND_COUNT; k++) {
		if (strcmp(s, vt_alert_config_kind_name(
		    (enum vt_alert_kind)k)) == 0) {
			*out = (enum vt_alert_kind)k;
			return 0;
		}
	}
	return -1;
}

static int parse_phase(const char *s, enum vt_alert_phase *out)
{
	for (int p = VT_ALERT_INACTIVE; s && p <= VT_ALERT_FIRING; p++) {
		if (strcmp(s, vt_alert_state_phase_name(
		    (enum vt_alert_phase)p)) == 0) {
			*out = (enum vt_alert_phase)p;
			return 0;
		}
	}
	return -1;
}

/* Times are stored as numbers; an unknown one (null) reads as 0. */
static double time_or_zero(double t)
{
	return isfinite(t) ? t : 0;
}

static int parse_alert(const cJSON *o, struct vt_alert_saved *a)
{
	int bad = 0;
	const cJSON *mk = cJSON_GetObjectItemCaseSensitive(o, "metric_kind");
	memset(a, 0, sizeof *a);
	a->id = opt_str(o, "id", &bad);
	a->rule = opt_str(o, "rule", &bad);
	a->service = opt_str(o, "service", &bad);
	a->instance = opt_str(o, "instance", &bad);
	a->check = opt_str(o, "check", &bad);
	a->metric = opt_str(o, "metric", &bad);
	a->tags = opt_str(o, "tags", &bad);
	a->output = opt_str(o, "output", &bad);
	a->origin = opt_str(o, "origin", &bad);
	a->status = opt_status(o, "status", &bad);
	a->previous = opt_status(o, "previous", &bad);
	a->notified_status = opt_status(o, "notified_status", &bad);
	a->value = opt_num(o, "value", &bad);
	a->metric_kind = cJSON_IsNumber(mk) && mk->valuedouble >= -1 &&
	    mk->valuedouble < 16 ? (int)mk->valuedouble : -1;
	a->st.active = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "active"));
	a->st.since = time_or_zero(opt_num(o, "since", &bad));
	a->st.fired = time_or_zero(opt_num(o, "fired", &bad));
	a->st.notified = time_or_zero(opt_num(o, "notified_at", &bad));
	a->notified = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "notified"));
	if (bad || a->id == NULL || a->rule == NULL || a->service == NULL ||
	    parse_kind(opt_str(o, "kind", &bad), &a->kind) < 0 ||
	    parse_phase(opt_str(o, "phase", &bad), &a->st.phase) < 0 || bad)
		return -1;
	return 0;
}

int vt_alert_store_load(vt_alert_engine *e, const char *dir, double now,
    size_t *firing, size_t *skipped, char *err, size_t errlen)
{
	size_t bad = 0, fire = 0;
	int restored = 0;
	const cJSON *o, *alerts;
	cJSON *root;

	*firing = *skipped = 0;
	int rc = vt_state_file_load_json(dir, VT_ALERT_STORE_FILE,
	    VT_ALERT_STORE_MAX, FORMAT_NAME, FORMAT_VERSION, "alerts",
	    "alert state", now, &root, &alerts, err, errlen);
	if (rc <= 0)
		return rc;
	cJSON_ArrayForEach(o, alerts) {
		struct vt_alert_saved a;
		if (parse_alert(o, &a) < 0 || vt_alert_engine_restore(e, &a) < 0) {
			bad++;
			continue;
		}
		restored++;
		fire += a.st.phase == VT_ALERT_FIRING;
	}
	rc = restored;
	*firing = fire;
	*skipped = bad;
	if (bad)
		snprintf(err, errlen, "%s/%s: %zu alerts not restored (their "
		    "rule is gone, or the entry is unusable)", dir,
		    VT_ALERT_STORE_FILE, bad);
	cJSON_Delete(root);
	return rc;
}
