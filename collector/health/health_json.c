/*
 * health_json.c - JSON check bodies (object, array, batch) to struct
 * vt_check, one entry at a time, errors naming the field (health_json.h).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collector/health/health_json.h"

#define STATUS_EXPECTED "expected ok, warning, critical, unknown or 0-3"
#define TTL_EXPECTED "expected seconds or a duration (\"30s\", \"5m\", " \
    "\"26h\") up to a year"

/* One entry being parsed: where its fields come from, where errors go. */
struct entry {
	const cJSON *obj;          /* the entry */
	const cJSON *parent;       /* batch: the outer object; else NULL */
	const char *prefix;        /* "", "[3].", "checks[3]." */
	const char *default_instance;
	char msg[VT_ERR_LEN];
};

/* Fields an entry may inherit from the batch's outer object. */
static int inheritable(const char *name)
{
	return strcmp(name, "service") == 0 || strcmp(name, "instance") == 0 ||
	    strcmp(name, "ttl") == 0 || strcmp(name, "timestamp") == 0;
}

/* The field's value (NULL when absent or null) and the path naming it. */
static const cJSON *field(const struct entry *e, const char *name,
    char *path, size_t pathlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e->obj, name);
	if (v != NULL && !cJSON_IsNull(v)) {
		snprintf(path, pathlen, "%s%s", e->prefix, name);
		return v;
	}
	if (e->parent != NULL && inheritable(name)) {
		v = cJSON_GetObjectItemCaseSensitive(e->parent, name);
		if (v != NULL && !cJSON_IsNull(v)) {
			snprintf(path, pathlen, "%s", name);
			return v;
		}
	}
	snprintf(path, pathlen, "%s%s", e->prefix, name);
	return NULL;
}

static enum vt_check_result fail(struct entry *e, enum vt_check_result why,
    const char *path, const char *what)
{
	snprintf(e->msg, sizeof e->msg, "%s: %s", path, what);
	return why;
}

static enum vt_check_result name_of(struct entry *e, const char *name,
    char *dst, int required)
{
	char path[64];
	const cJSON *v = field(e, name, path, sizeof path);
	if (v == NULL) {
		if (required)
			return fail(e, VT_CHECK_MISSING_FIELD, path, "required");
		const char *ip = e->default_instance;
		if (ip == NULL || ip[0] == '\0')
			ip = VT_CHECK_NO_INSTANCE;
		return vt_health_check_set_name(dst, ip, strlen(ip)) == VT_CHECK_OK ?
		    VT_CHECK_OK : fail(e, VT_CHECK_BAD_NAME, path,
		    "the sender's address is not a usable instance");
	}
	if (!cJSON_IsString(v))
		return fail(e, VT_CHECK_BAD_NAME, path, "expected a string");
	enum vt_check_result res = vt_health_check_set_name(dst, v->valuestring,
	    strlen(v->valuestring));
	if (res == VT_CHECK_TOO_LONG) {
		char what[64];
		snprintf(what, sizeof what, "longer than %d bytes",
		    VT_CHECK_TEXT_MAX);
		return fail(e, res, path, what);
	}
	if (res != VT_CHECK_OK)
		return fail(e, res, path, v->valuestring[0] ? "control "
		    "characters are not allowed" : "must not be empty");
	return VT_CHECK_OK;
}

static enum vt_check_result status_of(struct entry *e, enum vt_status *out)
{
	char path[64];
	const cJSON *v = field(e, "status", path, sizeof path);
	if (v == NULL)
		return fail(e, VT_CHECK_MISSING_FIELD, path, "required");
	if (cJSON_IsString(v) && vt_health_check_status_parse(v->valuestring, out) == 0)
		return VT_CHECK_OK;
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d >= 0 && d <= 3 && d == floor(d)) {
			*out = (enum vt_status)(int)d;
			return VT_CHECK_OK;
		}
	}
	return fail(e, VT_CHECK_BAD_STATUS, path, STATUS_EXPECTED);
}

static enum vt_check_result ttl_of(struct entry *e, double *out)
{
	char path[64];
	const cJSON *v = field(e, "ttl", path, sizeof path);
	*out = VT_CHECK_DEFAULT_TTL;
	if (v == NULL)
		return VT_CHECK_OK;
	if (cJSON_IsNumber(v) && vt_health_check_ttl_ok(v->valuedouble)) {
		*out = v->valuedouble;
		return VT_CHECK_OK;
	}
	if (cJSON_IsString(v) && vt_health_check_parse_ttl(v->valuestring, out) == 0)
		return VT_CHECK_OK;
	*out = VT_CHECK_DEFAULT_TTL;
	return fail(e, VT_CHECK_BAD_TTL, path, TTL_EXPECTED);
}

static enum vt_check_result output_of(struct entry *e, char *dst)
{
	char path[64];
	const cJSON *v = field(e, "output", path, sizeof path);
	dst[0] = '\0';
	if (v == NULL)
		return VT_CHECK_OK;
	if (!cJSON_IsString(v))
		return fail(e, VT_CHECK_BAD_FIELD, path, "expected a string");
	vt_health_check_set_output(dst, v->valuestring, strlen(v->valuestring));
	return VT_CHECK_OK;
}

static enum vt_check_result timestamp_of(struct entry *e, double *out)
{
	char path[64];
	const cJSON *v = field(e, "timestamp", path, sizeof path);
	*out = 0;
	if (v == NULL)
		return VT_CHECK_OK;
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	    v->valuedouble >= 0 && v->valuedouble < 1e11) {
		*out = v->valuedouble;
		return VT_CHECK_OK;
	}
	return fail(e, VT_CHECK_BAD_FIELD, path,
	    "expected unix seconds (a number)");
}

/* Fill c from one entry; the first problem wins. */
static enum vt_check_result parse_entry(struct entry *e, struct vt_check *c)
{
	enum vt_check_result res;

	memset(c, 0, sizeof *c);
	if (!cJSON_IsObject(e->obj)) {
		char path[32];
		snprintf(path, sizeof path, "%.*s", (int)strlen(e->prefix) - 1,
		    e->prefix);
		return fail(e, VT_CHECK_BAD_FIELD, path, "expected an object");
	}
	if ((res = name_of(e, "service", c->service, 1)) != VT_CHECK_OK ||
	    (res = name_of(e, "check", c->check, 1)) != VT_CHECK_OK ||
	    (res = status_of(e, &c->status)) != VT_CHECK_OK ||
	    (res = name_of(e, "instance", c->instance, 0)) != VT_CHECK_OK ||
	    (res = ttl_of(e, &c->ttl)) != VT_CHECK_OK ||
	    (res = output_of(e, c->output)) != VT_CHECK_OK ||
	    (res = timestamp_of(e, &c->timestamp)) != VT_CHECK_OK)
		return res;
	return VT_CHECK_OK;
}

static void deliver(struct entry *e, const struct vt_health_json_hooks *h,
    struct vt_health_json_counts *counts)
{
	struct vt_check c;
	enum vt_check_result res = parse_entry(e, &c);
	if (res == VT_CHECK_OK) {
		counts->accepted++;
		if (h && h->on_check)
			h->on_check(h->ctx, &c);
	} else {
		counts->rejected++;
		if (h && h->on_error)
			h->on_error(h->ctx, res, e->msg);
	}
}

static void each_entry(const cJSON *array, const cJSON *parent,
    const char *name, struct entry *e, const struct vt_health_json_hooks *h,
    struct vt_health_json_counts *counts)
{
	char prefix[64];
	size_t i = 0;
	const cJSON *item;

	e->parent = parent;
	e->prefix = prefix;
	cJSON_ArrayForEach(item, array) {
		snprintf(prefix, sizeof prefix, "%s[%zu].", name, i++);
		e->obj = item;
		deliver(e, h, counts);
	}
}

static int body_error(const struct vt_health_json_hooks *h,
    struct vt_health_json_counts *counts, const char *msg)
{
	counts->rejected++;
	if (h && h->on_error)
		h->on_error(h->ctx, VT_CHECK_BAD_JSON, msg);
	return -EINVAL;
}

int vt_health_json_parse(const char *body, size_t len,
    const char *default_instance, const struct vt_health_json_hooks *hooks,
    struct vt_health_json_counts *counts)
{
	struct vt_health_json_counts local;
	struct entry e = { .default_instance = default_instance };
	const char *end = NULL;
	char msg[VT_ERR_LEN];

	if (counts == NULL)
		counts = &local;
	counts->accepted = counts->rejected = 0;
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (root == NULL) {
		snprintf(msg, sizeof msg, "body: not valid JSON (at byte %zu)",
		    end ? (size_t)(end - body) : 0);
		return body_error(hooks, counts, msg);
	}
	for (const char *p = end; p < body + len; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
			cJSON_Delete(root);
			snprintf(msg, sizeof msg, "body: unexpected text after "
			    "the JSON value (at byte %zu)", (size_t)(p - body));
			return body_error(hooks, counts, msg);
		}
	}

	int rc = 0;
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(root, "checks");
	if (cJSON_IsArray(root)) {
		each_entry(root, NULL, "", &e, hooks, counts);
	} else if (!cJSON_IsObject(root)) {
		rc = body_error(hooks, counts,
		    "body: expected a JSON object or array");
	} else if (checks != NULL && !cJSON_IsNull(checks)) {
		if (cJSON_IsArray(checks))
			each_entry(checks, root, "checks", &e, hooks, counts);
		else
			rc = body_error(hooks, counts,
			    "checks: expected an array");
	} else {
		e.obj = root;
		e.prefix = "";
		deliver(&e, hooks, counts);
	}
	cJSON_Delete(root);
	return rc;
}
