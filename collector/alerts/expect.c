/*
 * expect.c - expectations: the "expectations" section, and each closed
 * window turned into one healthcheck per expectation (expect.h).
 */
#include <cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/flush.h"
#include "collector/alerts/alert_event.h"
#include "collector/alerts/alert_parse.h"
#include "collector/alerts/expect.h"
#include "collector/base/buf.h"
#include "collector/base/json.h"
#include "collector/base/parse.h"
#include "collector/base/ref.h"
#include "collector/base/xmalloc.h"
#include "collector/config/config_json.h"
#include "collector/config/config_keys.h"
#include "collector/health/health_check.h"

#define NAME_MAX_LEN (VT_NAME_MAX - (sizeof VT_EXPECT_CHECK_PREFIX - 1))
#define FOR_MAX (366 * 86400.0)

/* ---- the section ---- */

static int parse_entry(struct vt_alert_parse *p, const cJSON *o,
    const char *path, struct vt_expectation *x)
{
	static const char *const allowed[] = { "name", "service", "metric",
	    "stat", "op", "value", "for", "severity", NULL };
	struct vt_alert_rule *r = &x->rule;

	r->kind = VT_ALERT_THRESHOLD;
	x->severity = VT_STATUS_WARNING;
	if (vt_alert_parse_object(p, o, path, allowed) < 0 ||
	    vt_alert_parse_require(p, o, path, "name", "required") < 0 ||
	    vt_alert_parse_require(p, o, path, "service", "required") < 0 ||
	    vt_alert_parse_string(p, o, path, "name", NAME_MAX_LEN,
	    &r->name) < 0 ||
	    vt_alert_parse_string(p, o, path, "service", VT_NAME_MAX,
	    &r->service) < 0 ||
	    vt_alert_config_parse_threshold(o, path, p->pct, p->npct, r,
	    p->key, p->keylen, p->why, p->whylen) < 0 ||
	    vt_alert_parse_duration(p, o, path, "for", 0, FOR_MAX,
	    &r->for_s) < 0 ||
	    vt_alert_parse_string(p, o, path, "severity", 16,
	    &r->severity) < 0)
		return -1;
	if (r->severity == NULL) {
		r->severity = vt_xstrdup("warning");
	} else if (strcmp(r->severity, "warning") == 0) {
		x->severity = VT_STATUS_WARNING;
	} else if (strcmp(r->severity, "critical") == 0) {
		x->severity = VT_STATUS_CRITICAL;
	} else {
		char key[VT_ALERT_KEY_LEN];
		vt_alert_parse_keyf(key, sizeof key, "%s.severity", path);
		return vt_alert_parse_fail(p, key,
		    "expected warning or critical");
	}
	snprintf(x->check, sizeof x->check, "%s%s", VT_EXPECT_CHECK_PREFIX,
	    r->name);
	return 0;
}

VT_REF_FIRST(struct vt_expect_config);

static void config_free(void *obj)
{
	struct vt_expect_config *c = obj;
	for (size_t i = 0; i < c->n; i++) {
		struct vt_alert_rule *r = &c->e[i].rule;
		free(r->name);
		free(r->service);
		free(r->metric);
		free(r->stat_name);
		free(r->severity);
	}
	free(c->e);
	free(c);
}

void vt_expect_config_release(struct vt_expect_config *c)
{
	if (c)
		vt_ref_release(&c->ref);
}

struct vt_expect_config *vt_expect_config_parse(const cJSON *arr,
    const double *percentiles, size_t npercentiles, char *key,
    size_t keylen, char *why, size_t whylen)
{
	struct vt_alert_parse p = { key, keylen, why, whylen, percentiles,
	    npercentiles };
	struct vt_expect_config *c = vt_xcalloc(1, sizeof *c);
	const cJSON *it;
	size_t n;

	vt_ref_init(&c->ref, config_free);
	if (arr == NULL)
		return c;
	if (!cJSON_IsArray(arr)) {
		vt_alert_parse_fail(&p, "expectations", "expected an array of expectations, "
		    "got %s", vt_config_keys_json_type(arr));
		goto fail;
	}
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > VT_EXPECT_MAX) {
		vt_alert_parse_fail(&p, "expectations", "at most %d expectations",
		    VT_EXPECT_MAX);
		goto fail;
	}
	c->e = vt_xcalloc(n + 1, sizeof *c->e);
	cJSON_ArrayForEach(it, arr) {
		char path[VT_ALERT_KEY_LEN];
		vt_alert_parse_keyf(path, sizeof path, "expectations[%zu]",
		    c->n);
		struct vt_expectation *x = &c->e[c->n++];
		if (parse_entry(&p, it, path, x) < 0)
			goto fail;
		for (size_t j = 0; j + 1 < c->n; j++) {
			if (strcmp(c->e[j].rule.name, x->rule.name) == 0 &&
			    strcmp(c->e[j].rule.service,
			    x->rule.service) == 0) {
				vt_alert_parse_keyf(path, sizeof path,
				    "expectations[%zu].name", c->n - 1);
				vt_alert_parse_fail(&p, path, "%s is used twice for %s",
				    x->rule.name, x->rule.service);
				goto fail;
			}
		}
	}
	return c;
fail:
	vt_expect_config_release(c);
	return NULL;
}

struct vt_expect_config *vt_expect_config_load(const char *path,
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
	struct vt_expect_config *c = vt_expect_config_parse(root ?
	    cJSON_GetObjectItemCaseSensitive(root, "expectations") : NULL,
	    percentiles, npercentiles, key, sizeof key, why, sizeof why);
	if (c == NULL)
		vt_config_keys_error(err, errlen, path, key, "%s", why);
	cJSON_Delete(root);
	return c;
}

/* ---- evaluation ---- */

enum phase { FRESH = 0, HOLDING, FAILING, QUIET };

struct state {
	enum phase phase;
	double since;              /* FAILING/QUIET: start of the first window */
	enum vt_status settled;    /* the status once `for` has passed */
	int kind;                  /* the series' enum vt_kind; -1 unseen */
	int reported;
};

struct vt_expect {
	pthread_mutex_t lock;
	struct vt_expect_config *cfg;
	struct state *st;          /* cfg->n */
	vt_expect_report_fn report;
	void *report_ctx;
};

vt_expect *vt_expect_create(struct vt_expect_config *c)
{
	vt_expect *x = vt_xcalloc(1, sizeof *x);
	pthread_mutex_init(&x->lock, NULL);
	x->cfg = c;
	x->st = vt_xcalloc(c->n + 1, sizeof *x->st);
	for (size_t i = 0; i < c->n; i++) {
		x->st[i].settled = VT_STATUS_UNKNOWN;
		x->st[i].kind = -1;
	}
	return x;
}

void vt_expect_set_report(vt_expect *x, vt_expect_report_fn fn, void *ctx)
{
	pthread_mutex_lock(&x->lock);
	x->report = fn;
	x->report_ctx = ctx;
	pthread_mutex_unlock(&x->lock);
}

void vt_expect_destroy(vt_expect *x)
{
	if (x == NULL)
		return;
	vt_expect_config_release(x->cfg);
	free(x->st);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

size_t vt_expect_count(vt_expect *x)
{
	pthread_mutex_lock(&x->lock);
	size_t n = x->cfg->n;
	pthread_mutex_unlock(&x->lock);
	return n;
}

static int same(const struct vt_alert_rule *a, const struct vt_alert_rule *b)
{
	return strcmp(a->name, b->name) == 0 &&
	    strcmp(a->service, b->service) == 0 &&
	    strcmp(a->metric, b->metric) == 0 &&
	    strcmp(a->stat_name, b->stat_name) == 0 && a->op == b->op &&
	    a->value == b->value && a->for_s == b->for_s;
}

static void put_check(struct vt_buf *b, const char *service,
    const char *check, enum vt_status status, const char *output,
    double ttl)
{
	vt_buf_puts(b, b->len > 1 ? ",\n{\"service\":" : "\n{\"service\":");
	vt_json_string(b, service);
	vt_json_member_string(b, "instance", VT_EXPECT_INSTANCE);
	vt_json_member_string(b, "check", check);
	vt_json_member_string(b, "status", vt_health_check_status_name(status));
	vt_json_member_string(b, "output", output);
	vt_json_member_number(b, "ttl", ttl);
	vt_buf_putc(b, '}');
}

/* Hand a body "[...]" to the report callback, outside the lock. */
static void send_body(vt_expect_report_fn fn, void *ctx, struct vt_buf *b)
{
	if (fn != NULL && b->len > 1) {
		vt_buf_puts(b, "\n]");
		fn(ctx, b->data, b->len);
	}
}

void vt_expect_set_config(vt_expect *x, struct vt_expect_config *c,
    double now)
{
	struct state *st = vt_xcalloc(c->n + 1, sizeof *st);
	struct vt_buf body;
	(void)now;
	vt_buf_init(&body);
	vt_buf_putc(&body, '[');
	pthread_mutex_lock(&x->lock);
	struct vt_expect_config *old = x->cfg;
	for (size_t i = 0; i < c->n; i++) {
		st[i].settled = VT_STATUS_UNKNOWN;
		st[i].kind = -1;
		for (size_t j = 0; j < old->n; j++)
			if (same(&c->e[i].rule, &old->e[j].rule))
				st[i] = x->st[j];
	}
	for (size_t j = 0; j < old->n; j++) {
		const struct vt_expectation *e = &old->e[j];
		int kept = 0;
		for (size_t i = 0; i < c->n && !kept; i++)
			kept = strcmp(c->e[i].rule.service, e->rule.service) ==
			    0 && strcmp(c->e[i].check, e->check) == 0;
		if (!kept && x->st[j].reported)
			put_check(&body, e->rule.service, e->check,
			    VT_STATUS_OK, "expectation removed from the "
			    "config", VT_CHECK_TTL_MAX);
	}
	free(x->st);
	x->st = st;
	x->cfg = c;
	vt_expect_report_fn fn = x->report;
	void *ctx = x->report_ctx;
	pthread_mutex_unlock(&x->lock);
	vt_expect_config_release(old);
	send_body(fn, ctx, &body);
	vt_buf_fini(&body);
}

/* Whether the window m counts as traffic for the statistic v. */
static int has_data(const struct vt_metric_window *m, double v)
{
	if (isnan(v))
		return 0;
	return m->series->kind == VT_GAUGE || m->samples > 0;
}

/* Whether a is worse than b for op: further past (or closer to) the
 * limit. For == and != the first one found stays. */
static int worse(enum vt_alert_op op, double a, double b)
{
	switch (op) {
	case VT_OP_LT: case VT_OP_LE: return a > b;
	case VT_OP_GT: case VT_OP_GE: return a < b;
	case VT_OP_EQ: case VT_OP_NE: break;
	}
	return 0;
}

struct verdict {
	int nseries;               /* series with data */
	int failing;               /* the worst one fails */
	double value;              /* the worst one's statistic */
	const struct vt_series *series;
};

static struct verdict judge(const struct vt_expectation *e,
    const struct vt_flush *f)
{
	const struct vt_alert_rule *r = &e->rule;
	struct verdict v = { 0, 0, NAN, NULL };
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *m = &f->metrics[i];
		const struct vt_series *s = m->series;
		if (strcmp(s->metric, r->metric) != 0 ||
		    strcmp(s->service, r->service) != 0)
			continue;
		double x = vt_alert_config_stat_of(r, m, f);
		if (!has_data(m, x))
			continue;
		int fails = !vt_alert_config_op_holds(r->op, x, r->value);
		if (v.nseries++ == 0 || (fails && !v.failing) ||
		    (fails == v.failing && worse(r->op, x, v.value))) {
			v.failing = fails;
			v.value = x;
			v.series = s;
		}
	}
	return v;
}

static void put_seconds(struct vt_buf *b, double s)
{
	vt_parse_format_duration(s < 1 ? 0 : floor(s + 0.5), b);
}

/* "expected < 250 ms", or with the statistic "expected p99 < 250 ms" */
static void put_expected(struct vt_buf *b, const struct vt_alert_rule *r,
    const char *unit, int with_stat)
{
	vt_buf_printf(b, ", expected %s%s%s ", with_stat ? r->stat_name : "",
	    with_stat ? " " : "", vt_alert_config_op_name(r->op));
	vt_alert_event_put_number(b, r->value);
	vt_buf_puts(b, unit);
}

/* One expectation on window f: its state moves on, its check is added to
 * body. */
static void evaluate(const struct vt_expectation *e, struct state *st,
    const struct vt_flush *f, double ttl, struct vt_buf *body,
    struct vt_buf *out)
{
	const struct vt_alert_rule *r = &e->rule;
	struct verdict v = judge(e, f);
	double start = f->timestamp - f->interval;
	/* a window's close jitters: "for" passes within a tenth of one */
	double slack = f->interval * 0.1;
	enum vt_status status;
	if (v.series != NULL)
		st->kind = (int)v.series->kind;
	const char *unit = vt_alert_event_unit(st->kind, r->stat);

	vt_buf_reset(out);
	if (v.nseries > 0) {
		vt_buf_printf(out, "%s ", r->stat_name);
		vt_alert_event_put_number(out, v.value);
		vt_buf_puts(out, unit);
		if (v.series->nlabels > 0) {
			vt_buf_puts(out, " (");
			for (size_t i = 0; i < v.series->nlabels; i++) {
				const struct vt_label *l = &v.series->labels[i];
				vt_buf_printf(out, "%s%s%s%s", i ? "," : "",
				    l->key, l->value[0] ? "=" : "", l->value);
			}
			vt_buf_puts(out, v.nseries > 1 ? ", the worst of " :
			    ")");
			if (v.nseries > 1)
				vt_buf_printf(out, "%d tag sets)", v.nseries);
		}
		put_expected(out, r, unit, 0);
	}
	if (v.nseries > 0 && !v.failing) {
		st->phase = HOLDING;
		st->settled = VT_STATUS_OK;
		status = VT_STATUS_OK;
	} else if (v.nseries > 0) {
		if (st->phase != FAILING) {
			st->phase = FAILING;
			st->since = start;
		}
		double held = f->timestamp - st->since;
		if (held + slack >= r->for_s)
			st->settled = e->severity;
		status = st->settled;
		vt_buf_puts(out, "; failing for ");
		put_seconds(out, held);
		if (status != e->severity) {
			vt_buf_printf(out, ", %s after ",
			    vt_health_check_status_name(e->severity));
			vt_parse_format_duration(r->for_s, out);
		}
	} else {
		int fresh = st->phase == FRESH;
		if (st->phase != QUIET) {
			st->phase = QUIET;
			st->since = start;
		}
		double quiet = f->timestamp - st->since;
		if (fresh || quiet + slack >= r->for_s)
			st->settled = VT_STATUS_UNKNOWN;
		status = st->settled;
		vt_buf_printf(out, "no %s traffic ", r->metric);
		if (fresh) {
			vt_buf_puts(out, "yet");
		} else {
			vt_buf_puts(out, "for ");
			put_seconds(out, quiet);
		}
		put_expected(out, r, unit, 1);
		if (status != VT_STATUS_UNKNOWN) {
			vt_buf_puts(out, "; unknown after ");
			vt_parse_format_duration(r->for_s, out);
		}
	}
	st->reported = 1;
	put_check(body, r->service, e->check, status, out->data, ttl);
}

int vt_expect_flush(void *ctx, const struct vt_flush *f)
{
	vt_expect *x = ctx;
	struct vt_buf body, out;
	double ttl = f->interval * VT_EXPECT_TTL_WINDOWS;
	if (!(ttl >= VT_EXPECT_TTL_MIN))
		ttl = VT_EXPECT_TTL_MIN;
	vt_buf_init(&body);
	vt_buf_init(&out);
	vt_buf_putc(&body, '[');
	pthread_mutex_lock(&x->lock);
	for (size_t i = 0; i < x->cfg->n; i++)
		evaluate(&x->cfg->e[i], &x->st[i], f, ttl, &body, &out);
	vt_expect_report_fn fn = x->report;
	void *rctx = x->report_ctx;
	pthread_mutex_unlock(&x->lock);
	send_body(fn, rctx, &body);
	vt_buf_fini(&out);
	vt_buf_fini(&body);
	return 0;
}

struct vt_sink vt_expect_sink(vt_expect *x)
{
	return (struct vt_sink){ .name = "expectations", .ctx = x,
	    .flush = vt_expect_flush };
}
