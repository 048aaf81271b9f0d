/*
 * alert_config.c - the "alerts" config section into a struct
 * vt_alert_config (alert_config.h). Every member is checked against a
 * small table of what each object may hold; the first problem found is
 * reported with its key path and nothing is half-applied.
 */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/flush.h"
#include "collector/alerts/alert_config.h"
#include "collector/alerts/alert_parse.h"
#include "collector/base/parse.h"
#include "collector/base/ref.h"
#include "collector/base/xmalloc.h"
#include "collector/config/config.h"
#include "collector/config/config_json.h"
#include "collector/config/config_keys.h"
#include "collector/health/health_check.h"

#define DEFAULT_NOTIFY ((1u << VT_STATUS_WARNING) | \
    (1u << VT_STATUS_CRITICAL) | (1u << VT_STATUS_UNKNOWN))
#define TIMEOUT_MAX 3600.0
#define RETRIES_MAX 20

static const cJSON *member(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

static const char *const kind_names[VT_ALERT_KIND_COUNT] = {
	"service", "check", "stale", "threshold"
};

static const char *const op_names[] = { ">", ">=", "<", "<=", "==", "!=" };

static const struct {
	const char *name;
	enum vt_alert_stat stat;
} stat_names[] = {
	{ "count", VT_STAT_COUNT }, { "rate", VT_STAT_RATE },
	{ "sum", VT_STAT_SUM }, { "mean", VT_STAT_MEAN },
	{ "min", VT_STAT_MIN }, { "max", VT_STAT_MAX },
	{ "stddev", VT_STAT_STDDEV }, { "value", VT_STAT_VALUE },
	{ "rate_1m", VT_STAT_RATE_1M }, { "rate_5m", VT_STAT_RATE_5M },
	{ "rate_15m", VT_STAT_RATE_15M },
};

const char *vt_alert_config_kind_name(enum vt_alert_kind k)
{
	return (unsigned)k < VT_ALERT_KIND_COUNT ? kind_names[k] : "?";
}

const char *vt_alert_config_op_name(enum vt_alert_op op)
{
	return (unsigned)op < sizeof op_names / sizeof op_names[0] ?
	    op_names[op] : "?";
}

int vt_alert_config_op_holds(enum vt_alert_op op, double v, double value)
{
	if (isnan(v))
		return 0;
	switch (op) {
	case VT_OP_GT: return v > value;
	case VT_OP_GE: return v >= value;
	case VT_OP_LT: return v < value;
	case VT_OP_LE: return v <= value;
	case VT_OP_EQ: return v == value;
	case VT_OP_NE: return v != value;
	}
	return 0;
}

static int parse_stat(struct vt_alert_parse *p, struct vt_alert_rule *r,
    const char *key)
{
	const char *s = r->stat_name;
	for (size_t i = 0; i < sizeof stat_names / sizeof stat_names[0]; i++) {
		if (strcmp(s, stat_names[i].name) == 0) {
			r->stat = stat_names[i].stat;
			return 0;
		}
	}
	if (s[0] == 'p') {
		char *end;
		double q = strtod(s + 1, &end);
		if (end != s + 1 && *end == '\0') {
			for (size_t i = 0; i < p->npct; i++) {
				if (p->pct[i] == q) {
					r->stat = VT_STAT_PERCENTILE;
					r->percentile = q;
					r->pct_index = i;
					return 0;
				}
			}
			return vt_alert_parse_fail(p, key,
			    "%s is not one of the configured "
			    "percentiles", s);
		}
	}
	return vt_alert_parse_fail(p, key,
	    "expected count, rate, sum, mean, min, max, "
	    "stddev, value, rate_1m, rate_5m, rate_15m or a configured "
	    "percentile such as p99");
}

static int parse_threshold(struct vt_alert_parse *p, const cJSON *o,
    const char *path, struct vt_alert_rule *r, const char *required)
{
	static const char *const need[] = { "metric", "stat", "op", "value" };
	char key[VT_ALERT_KEY_LEN];
	for (size_t i = 0; i < 4; i++)
		if (vt_alert_parse_require(p, o, path, need[i], required) < 0)
			return -1;
	if (vt_alert_parse_string(p, o, path, "metric", VT_NAME_MAX,
	    &r->metric) < 0 ||
	    vt_alert_parse_string(p, o, path, "stat", 32, &r->stat_name) < 0 ||
	    vt_alert_parse_number(p, o, path, "value", -INFINITY, INFINITY, 0,
	    &r->value) < 0)
		return -1;
	vt_alert_parse_keyf(key, sizeof key, "%s.stat", path);
	if (parse_stat(p, r, key) < 0)
		return -1;
	char *op = NULL;
	if (vt_alert_parse_string(p, o, path, "op", 4, &op) < 0)
		return -1;
	size_t i = 0;
	while (i < 6 && strcmp(op, op_names[i]) != 0)
		i++;
	free(op);
	vt_alert_parse_keyf(key, sizeof key, "%s.op", path);
	if (i == 6)
		return vt_alert_parse_fail(p, key,
		    "expected one of >, >=, <, <=, ==, !=");
	r->op = (enum vt_alert_op)i;
	return 0;
}

static int parse_notify(struct vt_alert_parse *p, const cJSON *o,
    const char *path,
    struct vt_alert_rule *r)
{
	size_t n = 0;
	char **names = NULL, key[VT_ALERT_KEY_LEN];
	int rc = 0;
	if (vt_alert_parse_strings(p, o, path, "notify", 0, &n, NULL,
	    &names) < 0)
		rc = -1;
	if (rc == 0 && names != NULL) {
		r->notify = 0;
		for (size_t i = 0; i < n; i++) {
			enum vt_status st;
			vt_alert_parse_keyf(key, sizeof key, "%s.notify[%zu]",
			    path, i);
			if (vt_health_check_status_parse(names[i], &st) < 0) {
				rc = vt_alert_parse_fail(p, key,
				    "expected ok, warning, "
				    "critical or unknown");
				break;
			}
			r->notify |= 1u << st;
		}
		if (rc == 0 && r->notify == 0)
			rc = vt_alert_parse_fail(p, key,
			    "must name at least one status");
	}
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int parse_rule(struct vt_alert_parse *p, const cJSON *o,
    const char *path,
    struct vt_alert_rule *r, double renotify)
{
	static const char *const allowed[] = { "name", "type", "service",
	    "check", "notify", "metric", "stat", "op", "value", "for",
	    "renotify", "flap", "severity", "labels", "hooks", NULL };
	char key[VT_ALERT_KEY_LEN], *type = NULL;

	r->notify = DEFAULT_NOTIFY;
	r->renotify = renotify;
	r->flap = 1;
	if (vt_alert_parse_object(p, o, path, allowed) < 0)
		return -1;
	if (vt_alert_parse_require(p, o, path, "name", "required") < 0)
		return -1;
	if (vt_alert_parse_string(p, o, path, "name", VT_ALERT_NAME_MAX,
	    &r->name) < 0 ||
	    vt_alert_parse_string(p, o, path, "type", 16, &type) < 0)
		return -1;
	if (type == NULL) {
		r->kind = member(o, "metric") ? VT_ALERT_THRESHOLD :
		    VT_ALERT_SERVICE;
	} else {
		size_t k = 0;
		while (k < VT_ALERT_KIND_COUNT && strcmp(type, kind_names[k]))
			k++;
		free(type);
		vt_alert_parse_keyf(key, sizeof key, "%s.type", path);
		if (k == VT_ALERT_KIND_COUNT)
			return vt_alert_parse_fail(p, key,
			    "expected service, check, stale "
			    "or threshold");
		r->kind = (enum vt_alert_kind)k;
	}
	static const char *const threshold_only[] = { "metric", "stat", "op",
	    "value", NULL };
	const char *misplaced = NULL;
	for (size_t i = 0; r->kind != VT_ALERT_THRESHOLD && threshold_only[i];
	    i++)
		if (member(o, threshold_only[i]) && misplaced == NULL)
			misplaced = threshold_only[i];
	if (r->kind != VT_ALERT_CHECK && r->kind != VT_ALERT_STALE &&
	    member(o, "check"))
		misplaced = "check";
	if ((r->kind == VT_ALERT_THRESHOLD || r->kind == VT_ALERT_STALE) &&
	    (member(o, "notify") || member(o, "flap")))
		misplaced = member(o, "notify") ? "notify" : "flap";
	if (misplaced) {
		vt_alert_parse_keyf(key, sizeof key, "%s.%s", path, misplaced);
		return vt_alert_parse_fail(p, key, "not used by a %s rule",
		    kind_names[r->kind]);
	}
	if (vt_alert_parse_string(p, o, path, "service", VT_NAME_MAX,
	    &r->service) < 0 ||
	    vt_alert_parse_string(p, o, path, "check", VT_NAME_MAX,
	    &r->check) < 0 ||
	    vt_alert_parse_string(p, o, path, "severity", 32,
	    &r->severity) < 0 ||
	    vt_alert_parse_duration(p, o, path, "for", 0, 366 * 86400.0,
	    &r->for_s) < 0 ||
	    vt_alert_parse_duration(p, o, path, "renotify", 0, 366 * 86400.0,
	    &r->renotify) < 0 ||
	    vt_alert_parse_bool(p, o, path, "flap", &r->flap) < 0 ||
	    vt_alert_parse_strings(p, o, path, "labels", 1, &r->nlabels,
	    &r->label_keys,
	    &r->label_values) < 0 ||
	    vt_alert_parse_strings(p, o, path, "hooks", 0, &r->nhooks, NULL,
	    &r->hooks) < 0 ||
	    parse_notify(p, o, path, r) < 0)
		return -1;
	if (r->service && strcmp(r->service, "*") == 0)
		VT_FREE(r->service);
	if (r->check && strcmp(r->check, "*") == 0)
		VT_FREE(r->check);
	if (r->severity == NULL)
		r->severity = vt_xstrdup(r->kind == VT_ALERT_THRESHOLD ?
		    "warning" : "critical");
	if (r->kind == VT_ALERT_THRESHOLD)
		return parse_threshold(p, o, path, r,
		    "required for a threshold rule");
	return 0;
}

int vt_alert_config_parse_threshold(const cJSON *o, const char *path,
    const double *percentiles, size_t npercentiles,
    struct vt_alert_rule *r, char *key, size_t keylen, char *why,
    size_t whylen)
{
	struct vt_alert_parse p = { key, keylen, why, whylen, percentiles,
	    npercentiles };
	return parse_threshold(&p, o, path, r, "required");
}

double vt_alert_config_stat_of(const struct vt_alert_rule *r,
    const struct vt_metric_window *m, const struct vt_flush *f)
{
	const struct vt_timer_window *t = vt_window_timer(m);
	switch (r->stat) {
	case VT_STAT_COUNT: return m->count;
	case VT_STAT_RATE: return m->rate;
	case VT_STAT_SUM: return t->sum;
	case VT_STAT_MEAN: return t->mean;
	case VT_STAT_MIN: return t->min;
	case VT_STAT_MAX: return t->max;
	case VT_STAT_STDDEV: return t->stddev;
	case VT_STAT_VALUE: return m->value;
	case VT_STAT_RATE_1M: return m->rate_1m;
	case VT_STAT_RATE_5M: return m->rate_5m;
	case VT_STAT_RATE_15M: return m->rate_15m;
	case VT_STAT_PERCENTILE:
		if (t->quantiles == NULL || r->pct_index >= f->npercentiles ||
		    f->percentiles[r->pct_index] != r->percentile)
			return NAN;
		return t->quantiles[r->pct_index];
	}
	return NAN;
}

static int parse_hook(struct vt_alert_parse *p, const cJSON *o,
    const char *path,
    struct vt_hook_cfg *h)
{
	static const char *const allowed[] = { "name", "type", "argv", "url",
	    "headers", "timeout", "retries", "backoff", NULL };
	char key[VT_ALERT_KEY_LEN], *type = NULL, **hk = NULL, **hv = NULL;
	size_t nh = 0;
	double retries = 3;
	int rc = -1;

	h->timeout = 10;
	h->backoff = 1;
	if (vt_alert_parse_object(p, o, path, allowed) < 0)
		return -1;
	if (vt_alert_parse_require(p, o, path, "name", "required") < 0 ||
	    vt_alert_parse_require(p, o, path, "type",
	    "required: exec or webhook") < 0)
		return -1;
	if (vt_alert_parse_string(p, o, path, "name", VT_ALERT_NAME_MAX,
	    &h->name) < 0 ||
	    vt_alert_parse_string(p, o, path, "type", 16, &type) < 0)
		return -1;
	if (strcmp(type, "exec") == 0) {
		h->type = VT_HOOK_EXEC;
	} else if (strcmp(type, "webhook") == 0) {
		h->type = VT_HOOK_WEBHOOK;
	} else {
		vt_alert_parse_keyf(key, sizeof key, "%s.type", path);
		vt_alert_parse_fail(p, key, "expected exec or webhook");
		goto out;
	}
	static const char *const exec_only[] = { "argv", NULL };
	static const char *const webhook_only[] = { "url", "headers",
	    "retries", "backoff", NULL };
	const char *const *other = h->type == VT_HOOK_EXEC ? webhook_only :
	    exec_only;
	for (size_t i = 0; other[i]; i++) {
		if (member(o, other[i]) == NULL)
			continue;
		vt_alert_parse_keyf(key, sizeof key, "%s.%s", path, other[i]);
		vt_alert_parse_fail(p, key, "not used by %s %s hook", h->type ==
		    VT_HOOK_EXEC ? "an" : "a", type);
		goto out;
	}
	if (vt_alert_parse_require(p, o, path,
	    h->type == VT_HOOK_EXEC ? "argv" : "url",
	    h->type == VT_HOOK_EXEC ? "required for an exec hook" :
	    "required for a webhook hook") < 0)
		goto out;
	if (vt_alert_parse_duration(p, o, path, "timeout", 0.001, TIMEOUT_MAX,
	    &h->timeout) < 0 ||
	    vt_alert_parse_duration(p, o, path, "backoff", 0.001, TIMEOUT_MAX,
	    &h->backoff) < 0 ||
	    vt_alert_parse_number(p, o, path, "retries", 0, RETRIES_MAX, 1,
	    &retries) < 0)
		goto out;
	h->retries = (unsigned)retries;
	if (h->type == VT_HOOK_EXEC) {
		if (vt_alert_parse_strings(p, o, path, "argv", 0, &h->argc,
		    NULL,
		    &h->argv) < 0)
			goto out;
		vt_alert_parse_keyf(key, sizeof key, "%s.argv", path);
		if (h->argc == 0 || h->argv[0][0] == '\0') {
			vt_alert_parse_fail(p, key, "must name a program");
			goto out;
		}
	} else {
		if (vt_alert_parse_string(p, o, path, "url", 4096,
		    &h->url) < 0 ||
		    vt_alert_parse_strings(p, o, path, "headers", 1, &nh, &hk,
		    &hv) < 0)
			goto out;
		vt_alert_parse_keyf(key, sizeof key, "%s.url", path);
		if (strncmp(h->url, "http://", 7) != 0 &&
		    strncmp(h->url, "https://", 8) != 0) {
			vt_alert_parse_fail(p, key,
			    "expected an http:// or https:// URL");
			goto out;
		}
		h->headers = vt_xcalloc(nh + 1, sizeof *h->headers);
		h->nheaders = nh;
		for (size_t i = 0; i < nh; i++) {
			size_t len = strlen(hk[i]) + strlen(hv[i]) + 3;
			h->headers[i] = vt_xmalloc(len);
			snprintf(h->headers[i], len, "%s: %s", hk[i], hv[i]);
		}
	}
	rc = 0;
out:
	for (size_t i = 0; hk && hk[i]; i++)
		free(hk[i]);
	for (size_t i = 0; hv && hv[i]; i++)
		free(hv[i]);
	free(hk);
	free(hv);
	free(type);
	return rc;
}

static int parse_flap(struct vt_alert_parse *p, const cJSON *alerts,
    struct vt_alert_config *c)
{
	static const char *const allowed[] = { "window", "high", "low", NULL };
	const cJSON *f = member(alerts, "flap");
	double w = c->flap_window;
	if (f == NULL)
		return 0;
	if (vt_alert_parse_object(p, f, "alerts.flap", allowed) < 0 ||
	    vt_alert_parse_number(p, f, "alerts.flap", "window", 3, 64, 1,
	    &w) < 0 ||
	    vt_alert_parse_number(p, f, "alerts.flap", "high", 0, 100, 0,
	    &c->flap_high) < 0 ||
	    vt_alert_parse_number(p, f, "alerts.flap", "low", 0, 100, 0,
	    &c->flap_low) < 0)
		return -1;
	c->flap_window = (unsigned)w;
	if (c->flap_low > c->flap_high)
		return vt_alert_parse_fail(p, "alerts.flap.low",
		    "must not be above "
		    "alerts.flap.high (%g)", c->flap_high);
	return 0;
}

static int parse_array(struct vt_alert_parse *p, const cJSON *alerts,
    const char *name, const cJSON **arr, size_t *n)
{
	char key[VT_ALERT_KEY_LEN];
	*arr = member(alerts, name);
	*n = 0;
	if (*arr == NULL)
		return 0;
	vt_alert_parse_keyf(key, sizeof key, "alerts.%s", name);
	if (!cJSON_IsArray(*arr))
		return vt_alert_parse_fail(p, key, "expected an array, got %s",
		    vt_config_keys_json_type(*arr));
	*n = (size_t)cJSON_GetArraySize(*arr);
	return 0;
}

/* Names unique; every hook a rule names exists. */
static int cross_check(struct vt_alert_parse *p,
    const struct vt_alert_config *c)
{
	char key[VT_ALERT_KEY_LEN];
	for (size_t i = 0; i < c->nhooks; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->hooks[i].name, c->hooks[j].name) == 0) {
				snprintf(key, sizeof key,
				    "alerts.hooks[%zu].name", i);
				return vt_alert_parse_fail(p, key,
				    "%s is used twice",
				    c->hooks[i].name);
			}
	for (size_t i = 0; i < c->nrules; i++) {
		const struct vt_alert_rule *r = &c->rules[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->name, c->rules[j].name) == 0) {
				snprintf(key, sizeof key,
				    "alerts.rules[%zu].name", i);
				return vt_alert_parse_fail(p, key,
				    "%s is used twice",
				    r->name);
			}
		for (size_t k = 0; k < r->nhooks; k++)
			if (vt_alert_config_hook(c, r->hooks[k]) == NULL) {
				snprintf(key, sizeof key,
				    "alerts.rules[%zu].hooks[%zu]", i, k);
				return vt_alert_parse_fail(p, key,
				    "no hook is named %s",
				    r->hooks[k]);
			}
	}
	return 0;
}

VT_REF_FIRST(struct vt_alert_config);

static void config_free(void *obj);

struct vt_alert_config *vt_alert_config_parse(const cJSON *alerts,
    const double *percentiles, size_t npercentiles, char *key,
    size_t keylen, char *why, size_t whylen)
{
	static const char *const allowed[] = { "rules", "hooks", "renotify",
	    "flap", "queue", "max_alerts", NULL };
	struct vt_alert_parse p = { key, keylen, why, whylen, percentiles,
	    npercentiles };
	struct vt_alert_config *c = vt_xcalloc(1, sizeof *c);
	const cJSON *rules = NULL, *hooks = NULL, *it;
	double queue = 100, max_alerts = 10000;

	vt_ref_init(&c->ref, config_free);
	c->flap_window = 21;
	c->flap_high = 50;
	c->flap_low = 25;
	if (alerts == NULL)
		goto done;
	if (!cJSON_IsObject(alerts)) {
		vt_alert_parse_fail(&p, "alerts",
		    "expected an object of rules and hooks, "
		    "got %s", vt_config_keys_json_type(alerts));
		goto fail;
	}
	if (vt_alert_parse_object(&p, alerts, "alerts", allowed) < 0 ||
	    vt_alert_parse_duration(&p, alerts, "alerts", "renotify", 0,
	    366 * 86400.0,
	    &c->renotify) < 0 ||
	    vt_alert_parse_number(&p, alerts, "alerts", "queue", 1, 1e6, 1,
	    &queue) < 0 ||
	    vt_alert_parse_number(&p, alerts, "alerts", "max_alerts", 1, 1e7, 1,
	    &max_alerts) < 0 ||
	    parse_flap(&p, alerts, c) < 0 ||
	    parse_array(&p, alerts, "rules", &rules, &c->nrules) < 0 ||
	    parse_array(&p, alerts, "hooks", &hooks, &c->nhooks) < 0)
		goto fail;
	c->rules = vt_xcalloc(c->nrules + 1, sizeof *c->rules);
	c->hooks = vt_xcalloc(c->nhooks + 1, sizeof *c->hooks);
	size_t i = 0;
	cJSON_ArrayForEach(it, hooks) {
		char path[VT_ALERT_KEY_LEN];
		vt_alert_parse_keyf(path, sizeof path, "alerts.hooks[%zu]", i);
		if (parse_hook(&p, it, path, &c->hooks[i++]) < 0)
			goto fail;
	}
	i = 0;
	cJSON_ArrayForEach(it, rules) {
		char path[VT_ALERT_KEY_LEN];
		vt_alert_parse_keyf(path, sizeof path, "alerts.rules[%zu]", i);
		if (parse_rule(&p, it, path, &c->rules[i++], c->renotify) < 0)
			goto fail;
	}
	if (cross_check(&p, c) < 0)
		goto fail;
done:
	c->queue = (size_t)queue;
	c->max_alerts = (size_t)max_alerts;
	c->implicit = c->nrules == 0 && c->nhooks > 0;
	if (c->implicit) {
		/* SPEC 8: hooks and no rules - every service status change. */
		c->rules = vt_xrealloc(c->rules, 2 * sizeof *c->rules);
		memset(c->rules, 0, sizeof *c->rules);
		c->nrules = 1;
		c->rules[0].name = vt_xstrdup("service-status");
		c->rules[0].kind = VT_ALERT_SERVICE;
		c->rules[0].notify = DEFAULT_NOTIFY;
		c->rules[0].renotify = c->renotify;
		c->rules[0].flap = 1;
		c->rules[0].severity = vt_xstrdup("critical");
	}
	return c;
fail:
	vt_alert_config_release(c);
	return NULL;
}

struct vt_alert_config *vt_alert_config_load(const char *path,
    const double *percentiles, size_t npercentiles, char *err,
    size_t errlen)
{
	char key[VT_ALERT_KEY_LEN], why[VT_CFG_WHY_LEN];
	cJSON *root = NULL;
	if (path != NULL && path[0] != '\0') {
		root = vt_config_json_read(path, err, errlen);
		if (root == NULL)
			return NULL;
	}
	struct vt_alert_config *c = vt_alert_config_parse(
	    root ? member(root, "alerts") : NULL, percentiles, npercentiles,
	    key, sizeof key, why, sizeof why);
	if (c == NULL)
		vt_config_keys_error(err, errlen, path, key, "%s", why);
	cJSON_Delete(root);
	return c;
}



struct vt_alert_config *vt_alert_config_retain(
    const struct vt_alert_config *c)
{
	return vt_ref_retain(&c->ref);
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void vt_alert_config_release(struct vt_alert_config *c)
{
	if (c)
		vt_ref_release(&c->ref);
}

static void config_free(void *obj)
{
	struct vt_alert_config *c = obj;
	for (size_t i = 0; c->rules && i < c->nrules; i++) {
		struct vt_alert_rule *r = &c->rules[i];
		free(r->name);
		free(r->service);
		free(r->check);
		free(r->metric);
		free(r->stat_name);
		free(r->severity);
		free_strv(r->label_keys);
		free_strv(r->label_values);
		free_strv(r->hooks);
	}
	for (size_t i = 0; c->hooks && i < c->nhooks; i++) {
		struct vt_hook_cfg *h = &c->hooks[i];
		free(h->name);
		free_strv(h->argv);
		free(h->url);
		free_strv(h->headers);
	}
	free(c->rules);
	free(c->hooks);
	free(c);
}

const struct vt_hook_cfg *vt_alert_config_hook(
    const struct vt_alert_config *c, const char *name)
{
	for (size_t i = 0; i < c->nhooks; i++)
		if (strcmp(c->hooks[i].name, name) == 0)
			return &c->hooks[i];
	return NULL;
}

int vt_alert_config_rule_uses_hook(const struct vt_alert_rule *r,
    const struct vt_hook_cfg *h)
{
	if (r->nhooks == 0)
		return 1;
	for (size_t i = 0; i < r->nhooks; i++)
		if (strcmp(r->hooks[i], h->name) == 0)
			return 1;
	return 0;
}
