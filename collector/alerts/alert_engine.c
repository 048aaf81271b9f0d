/*
 * alert_engine.c - rules against reports, staleness and windows; alerts
 * in a chained hash table keyed by "rule|subject" (alert_engine.h).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/alerts/alert_engine.h"
#include "collector/alerts/alert_flap.h"
#include "collector/alerts/alert_state.h"
#include "collector/base/clock.h"
#include "collector/base/hash.h"
#include "collector/base/json.h"
#include "collector/base/log.h"
#include "collector/base/loop.h"
#include "collector/base/prom_text.h"
#include "collector/base/xmalloc.h"
#include "collector/health/health_check.h"

struct alert {
	struct alert *next;          /* hash chain */
	char *id;
	uint64_t hash;
	size_t rule;                 /* index into cfg->rules */
	char *service, *instance, *check, *metric, *tags, *output;
	int status, previous;        /* -1: not a status alert */
	int notified_status;
	double value;
	int metric_kind;             /* threshold: enum vt_kind, -1 unknown */
	struct vt_alert_state st;
	struct vt_flap flap;
	int notified;                /* a firing notification is out */
	char *origin;                /* owner of its service (fleet); NULL:
	                                this collector */
	uint64_t seen;               /* threshold: last flush it was in */
};

enum { N_FIRING, N_RESOLVED, N_FLAPPING, N_COUNT };

struct vt_alert_engine {
	pthread_mutex_t lock;
	struct vt_alert_config *cfg;
	vt_alert_notify_fn notify;
	void *notify_ctx;
	vt_alert_owner_fn owner;     /* NULL: every alert notifies */
	void *owner_ctx;
	unsigned long long skipped;  /* recorded, another collector notifies */
	struct alert **buckets;
	size_t nbuckets, count;
	uint64_t flush_seq;
	unsigned long long changes;  /* since the last save */
	unsigned long long sent[N_COUNT], over_cap, reloads[2];
};

/* ---- the table ---- */

static void alert_free(struct alert *a)
{
	free(a->id);
	free(a->service);
	free(a->instance);
	free(a->check);
	free(a->metric);
	free(a->tags);
	free(a->output);
	free(a->origin);
	free(a);
}

static struct alert *find(vt_alert_engine *e, const char *id, uint64_t h)
{
	for (struct alert *a = e->buckets[h & (e->nbuckets - 1)]; a;
	    a = a->next)
		if (a->hash == h && strcmp(a->id, id) == 0)
			return a;
	return NULL;
}

static void grow(vt_alert_engine *e)
{
	size_t n = e->nbuckets * 2;
	struct alert **b = vt_xcalloc(n, sizeof *b);
	for (size_t i = 0; i < e->nbuckets; i++) {
		while (e->buckets[i]) {
			struct alert *a = e->buckets[i];
			e->buckets[i] = a->next;
			a->next = b[a->hash & (n - 1)];
			b[a->hash & (n - 1)] = a;
		}
	}
	free(e->buckets);
	e->buckets = b;
	e->nbuckets = n;
}

/* A new alert, or NULL past max_alerts. */
static struct alert *create(vt_alert_engine *e, const char *id, uint64_t h,
    size_t rule)
{
	if (e->count >= e->cfg->max_alerts) {
		e->over_cap++;
		return NULL;
	}
	if (e->count >= e->nbuckets)
		grow(e);
	struct alert *a = vt_xcalloc(1, sizeof *a);
	a->id = vt_xstrdup(id);
	a->hash = h;
	a->rule = rule;
	a->status = a->previous = a->notified_status = -1;
	a->metric_kind = -1;
	a->value = NAN;
	a->next = e->buckets[h & (e->nbuckets - 1)];
	e->buckets[h & (e->nbuckets - 1)] = a;
	e->count++;
	return a;
}

static void set_str(char **dst, const char *s)
{
	if (s == NULL || (*dst && strcmp(*dst, s) == 0))
		return;
	free(*dst);
	*dst = vt_xstrdup(s);
}

/* Remove alerts for which keep(a, arg) is 0. */
static void sweep(vt_alert_engine *e, int (*keep)(vt_alert_engine *,
    struct alert *, const void *), const void *arg)
{
	for (size_t i = 0; i < e->nbuckets; i++) {
		struct alert **pp = &e->buckets[i];
		while (*pp) {
			struct alert *a = *pp;
			if (keep(e, a, arg)) {
				pp = &a->next;
				continue;
			}
			*pp = a->next;
			if (a->st.phase != VT_ALERT_INACTIVE || a->notified)
				e->changes++;
			alert_free(a);
			e->count--;
		}
	}
}

/* ---- notifications ---- */

static void announce(vt_alert_engine *e, struct alert *a, const char *state,
    int reminder, double now)
{
	const struct vt_alert_rule *r = &e->cfg->rules[a->rule];
	struct vt_alert_event ev = {
		.state = state,
		.reminder = reminder,
		.rule = r,
		.id = a->id,
		.service = a->service,
		.instance = a->instance,
		.check = a->check,
		.output = a->output,
		.status = a->status,
		.previous = a->previous,
		.metric = a->metric,
		.labels = a->tags,
		.value = a->value,
		.unit = vt_alert_event_unit(a->metric_kind, r->stat),
		.since = a->st.since,
		.time = now,
		.flap_percent = strcmp(state, "flapping") == 0 ?
		    a->flap.percent : NAN,
	};
	struct vt_buf sum;
	vt_buf_init(&sum);
	vt_alert_event_summary(&ev, &sum);
	if (e->owner != NULL && r->kind != VT_ALERT_THRESHOLD &&
	    !e->owner(e->owner_ctx, a->origin)) {
		vt_log_info("alerts", "%s %s%s: %s (recorded; collector %s "
		    "notifies)", r->name, state, reminder ? " (reminder)" : "",
		    sum.data ? sum.data : "", a->origin ? a->origin : "?");
		vt_buf_fini(&sum);
		e->skipped++;
		return;
	}
	vt_log_info("alerts", "%s %s%s: %s", r->name, state,
	    reminder ? " (reminder)" : "", sum.data ? sum.data : "");
	vt_buf_fini(&sum);
	e->sent[strcmp(state, "firing") == 0 ? N_FIRING :
	    strcmp(state, "resolved") == 0 ? N_RESOLVED : N_FLAPPING]++;
	if (e->notify)
		e->notify(e->notify_ctx, e->cfg, &ev);
}

/* Bring what was notified in line with the state; reminders. */
static void reconcile(vt_alert_engine *e, struct alert *a,
    enum vt_alert_action action, double now)
{
	const struct vt_alert_rule *r = &e->cfg->rules[a->rule];
	int firing = a->st.phase == VT_ALERT_FIRING;
	if (a->flap.flapping)
		return;
	if (firing && !a->notified) {
		a->notified = 1;
		a->notified_status = a->status;
		announce(e, a, "firing", 0, now);
	} else if (!firing && a->notified) {
		a->notified = 0;
		announce(e, a, "resolved", 0, now);
	} else if (firing && action == VT_ALERT_RENOTIFY) {
		announce(e, a, "firing", 1, now);
	} else if (firing && (r->kind == VT_ALERT_SERVICE ||
	    r->kind == VT_ALERT_CHECK) && a->status != a->notified_status) {
		a->notified_status = a->status;
		announce(e, a, "firing", 0, now);
	}
}

/* One observation of the alert's condition. */
static void step(vt_alert_engine *e, struct alert *a, int active,
    double now, int record_flap)
{
	const struct vt_alert_rule *r = &e->cfg->rules[a->rule];
	if (record_flap) {
		int was = a->flap.flapping;
		enum vt_alert_flap_change ch = vt_alert_flap_record(&a->flap, active,
		    e->cfg->flap_window, e->cfg->flap_high, e->cfg->flap_low);
		if (ch == VT_FLAP_START && !was)
			announce(e, a, "flapping", 0, now);
		else if (ch == VT_FLAP_STOP)
			vt_log_info("alerts", "%s: %s no longer flapping "
			    "(%.0f%% state change)", r->name, a->id,
			    a->flap.percent);
	}
	struct vt_alert_state was = a->st;
	int notified = a->notified;
	enum vt_alert_action action = vt_alert_state_step(&a->st, active, now,
	    r->for_s, r->renotify);
	reconcile(e, a, action, now);
	if (a->st.phase != was.phase || a->st.since != was.since ||
	    a->st.fired != was.fired || a->st.notified != was.notified ||
	    a->notified != notified)
		e->changes++;
}

/* ---- healthchecks ---- */

static int rule_matches(const struct vt_alert_rule *r,
    const struct vt_health_event *ev)
{
	if (r->kind == VT_ALERT_THRESHOLD)
		return 0;
	if (r->service && strcmp(r->service, ev->service) != 0)
		return 0;
	if (r->kind != VT_ALERT_SERVICE && r->check &&
	    strcmp(r->check, ev->check) != 0)
		return 0;
	return 1;
}

static void apply_status(vt_alert_engine *e, const struct vt_health_event *ev)
{
	struct vt_buf id;
	vt_buf_init(&id);
	for (size_t i = 0; i < e->cfg->nrules; i++) {
		const struct vt_alert_rule *r = &e->cfg->rules[i];
		if (!rule_matches(r, ev))
			continue;
		int svc = r->kind == VT_ALERT_SERVICE;
		int status = svc ? (int)ev->service_status : (int)ev->status;
		int active = r->kind == VT_ALERT_STALE ? ev->stale :
		    (int)((r->notify >> status) & 1u);
		vt_buf_reset(&id);
		vt_buf_printf(&id, "%s|%s", r->name, ev->service);
		if (!svc)
			vt_buf_printf(&id, "|%s|%s", ev->instance, ev->check);
		uint64_t h = vt_hash(id.data, id.len, 7);
		struct alert *a = find(e, id.data, h);
		if (a == NULL && !active)
			continue;
		if (a == NULL && (a = create(e, id.data, h, i)) == NULL)
			continue;
		set_str(&a->service, ev->service);
		if ((a->origin == NULL) != (ev->service_origin == NULL) ||
		    (a->origin && strcmp(a->origin, ev->service_origin)))
			e->changes++;          /* the owner is saved too */
		if (ev->service_origin == NULL)
			VT_FREE(a->origin);
		else
			set_str(&a->origin, ev->service_origin);
		if (!svc) {
			set_str(&a->instance, ev->instance);
			set_str(&a->check, ev->check);
			set_str(&a->output, ev->output);
		}
		if (a->status != status) {
			a->previous = a->status >= 0 ? a->status :
			    (svc ? ev->service_previous : ev->previous);
			a->status = status;
		}
		step(e, a, active, ev->time,
		    r->flap && r->kind != VT_ALERT_STALE);
	}
	vt_buf_fini(&id);
}

void vt_alert_engine_set_owner(vt_alert_engine *e, vt_alert_owner_fn fn,
    void *ctx)
{
	pthread_mutex_lock(&e->lock);
	e->owner = fn;
	e->owner_ctx = ctx;
	pthread_mutex_unlock(&e->lock);
}

void vt_alert_engine_on_report(void *ctx, const struct vt_health_event *ev)
{
	vt_alert_engine *e = ctx;
	pthread_mutex_lock(&e->lock);
	apply_status(e, ev);
	pthread_mutex_unlock(&e->lock);
}

static int keep_not_service(vt_alert_engine *e, struct alert *a,
    const void *service)
{
	if (a->service == NULL || strcmp(a->service, service) != 0 ||
	    e->cfg->rules[a->rule].kind == VT_ALERT_THRESHOLD)
		return 1;
	if (a->notified && !a->flap.flapping) {
		set_str(&a->output, "service forgotten");
		announce(e, a, "resolved", 0, vt_clock_now());
	}
	return 0;
}

void vt_alert_engine_on_change(void *ctx, const struct vt_health_event *ev)
{
	vt_alert_engine *e = ctx;
	pthread_mutex_lock(&e->lock);
	if (ev->forgotten)
		sweep(e, keep_not_service, ev->service);
	else if (ev->stale)
		apply_status(e, ev);
	pthread_mutex_unlock(&e->lock);
}

/* ---- thresholds ---- */

static void put_tags(struct vt_buf *b, const struct vt_series *s)
{
	for (size_t i = 0; i < s->nlabels; i++)
		vt_buf_printf(b, "%s%s%s%s", i ? "," : "", s->labels[i].key,
		    s->labels[i].value[0] ? "=" : "", s->labels[i].value);
}

static void apply_window(vt_alert_engine *e, size_t rule,
    const struct vt_metric_window *m, const struct vt_flush *f,
    struct vt_buf *id)
{
	const struct vt_alert_rule *r = &e->cfg->rules[rule];
	const struct vt_series *s = m->series;
	if (strcmp(s->metric, r->metric) != 0 ||
	    (r->service && strcmp(s->service, r->service) != 0))
		return;
	/* No data in the window (NaN) counts as the condition not holding:
	 * a single spike never stays pending across quiet windows. */
	double v = vt_alert_config_stat_of(r, m, f);
	int active = vt_alert_config_op_holds(r->op, v, r->value);
	vt_buf_reset(id);
	vt_buf_printf(id, "%s|%s|%s", r->name, s->service, s->metric);
	if (s->nlabels > 0)
		vt_buf_putc(id, '|');
	put_tags(id, s);
	uint64_t h = vt_hash(id->data, id->len, 7);
	struct alert *a = find(e, id->data, h);
	if (a == NULL && !active)
		return;
	if (a == NULL && (a = create(e, id->data, h, rule)) == NULL)
		return;
	if (a->service == NULL) {
		struct vt_buf tags;
		vt_buf_init(&tags);
		put_tags(&tags, s);
		a->service = vt_xstrdup(s->service);
		a->metric = vt_xstrdup(s->metric);
		if (tags.len)
			a->tags = vt_buf_steal(&tags, NULL);
		vt_buf_fini(&tags);
	}
	a->value = v;
	a->metric_kind = (int)s->kind;
	a->seen = e->flush_seq;
	step(e, a, active, f->timestamp, 0);
}

struct gone {
	uint64_t seq;
	double now;
};

/* Threshold alerts whose series was not in this window: not holding. */
static int keep_gone(vt_alert_engine *e, struct alert *a, const void *arg)
{
	const struct gone *g = arg;
	if (e->cfg->rules[a->rule].kind != VT_ALERT_THRESHOLD ||
	    a->seen == g->seq)
		return 1;
	a->value = NAN;
	step(e, a, 0, g->now, 0);
	return a->st.phase != VT_ALERT_INACTIVE || a->notified;
}

int vt_alert_engine_flush(void *ctx, const struct vt_flush *f)
{
	vt_alert_engine *e = ctx;
	struct vt_buf id;
	vt_buf_init(&id);
	pthread_mutex_lock(&e->lock);
	e->flush_seq++;
	for (size_t i = 0; i < e->cfg->nrules; i++) {
		if (e->cfg->rules[i].kind != VT_ALERT_THRESHOLD)
			continue;
		for (size_t j = 0; j < f->nmetrics; j++)
			apply_window(e, i, &f->metrics[j], f, &id);
	}
	struct gone g = { e->flush_seq, f->timestamp };
	sweep(e, keep_gone, &g);
	pthread_mutex_unlock(&e->lock);
	vt_buf_fini(&id);
	return 0;
}

struct vt_sink vt_alert_engine_sink(vt_alert_engine *e)
{
	return (struct vt_sink){ .name = "alerts", .ctx = e,
	    .flush = vt_alert_engine_flush };
}

/* ---- tick, life ---- */

static int keep_ticked(vt_alert_engine *e, struct alert *a, const void *arg)
{
	const double *now = arg;
	if (e->cfg->rules[a->rule].kind != VT_ALERT_THRESHOLD &&
	    a->st.phase != VT_ALERT_INACTIVE)
		step(e, a, a->st.active, *now, 0);
	return a->st.phase != VT_ALERT_INACTIVE || a->notified ||
	    !vt_alert_flap_quiet(&a->flap, e->cfg->flap_window);
}

void vt_alert_engine_tick(vt_alert_engine *e, double now)
{
	pthread_mutex_lock(&e->lock);
	sweep(e, keep_ticked, &now);
	pthread_mutex_unlock(&e->lock);
}

vt_alert_engine *vt_alert_engine_create(struct vt_alert_config *cfg,
    vt_alert_notify_fn notify, void *ctx)
{
	vt_alert_engine *e = vt_xcalloc(1, sizeof *e);
	pthread_mutex_init(&e->lock, NULL);
	e->cfg = cfg;
	e->notify = notify;
	e->notify_ctx = ctx;
	e->nbuckets = 64;
	e->buckets = vt_xcalloc(e->nbuckets, sizeof *e->buckets);
	return e;
}

static int drop_all(vt_alert_engine *e, struct alert *a, const void *arg)
{
	(void)e;
	(void)a;
	(void)arg;
	return 0;
}

void vt_alert_engine_destroy(vt_alert_engine *e)
{
	if (e == NULL)
		return;
	sweep(e, drop_all, NULL);
	free(e->buckets);
	vt_alert_config_release(e->cfg);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

/* Re-point an alert at its rule in the new config, or drop it. */
static int keep_remapped(vt_alert_engine *e, struct alert *a,
    const void *arg)
{
	const struct vt_alert_config *nc = arg;
	const struct vt_alert_rule *old = &e->cfg->rules[a->rule];
	for (size_t i = 0; i < nc->nrules; i++) {
		if (strcmp(nc->rules[i].name, old->name) == 0 &&
		    nc->rules[i].kind == old->kind) {
			a->rule = i;
			return 1;
		}
	}
	return 0;
}

void vt_alert_engine_set_config(vt_alert_engine *e,
    struct vt_alert_config *cfg)
{
	pthread_mutex_lock(&e->lock);
	size_t before = e->count;
	sweep(e, keep_remapped, cfg);
	if (e->count < before)
		vt_log_info("alerts", "%zu alerts of removed rules dropped",
		    before - e->count);
	struct vt_alert_config *old = e->cfg;
	e->cfg = cfg;
	pthread_mutex_unlock(&e->lock);
	vt_alert_config_release(old);
}

/* ---- saving and restoring ---- */

void vt_alert_engine_each_saved(vt_alert_engine *e,
    void (*fn)(void *ctx, const struct vt_alert_saved *a), void *ctx)
{
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->nbuckets; i++) {
		for (const struct alert *a = e->buckets[i]; a; a = a->next) {
			if (a->st.phase == VT_ALERT_INACTIVE && !a->notified)
				continue;
			const struct vt_alert_rule *r = &e->cfg->rules[a->rule];
			struct vt_alert_saved v = {
				.id = a->id, .rule = r->name, .kind = r->kind,
				.service = a->service, .instance = a->instance,
				.check = a->check, .metric = a->metric,
				.tags = a->tags, .output = a->output,
				.origin = a->origin,
				.status = a->status, .previous = a->previous,
				.notified_status = a->notified_status,
				.value = a->value, .metric_kind = a->metric_kind,
				.st = a->st, .notified = a->notified,
			};
			fn(ctx, &v);
		}
	}
	e->changes = 0;
	pthread_mutex_unlock(&e->lock);
}

unsigned long long vt_alert_engine_changes(vt_alert_engine *e)
{
	pthread_mutex_lock(&e->lock);
	unsigned long long n = e->changes;
	pthread_mutex_unlock(&e->lock);
	return n;
}

static char *dup_or_null(const char *s)
{
	return s ? vt_xstrdup(s) : NULL;
}

int vt_alert_engine_restore(vt_alert_engine *e,
    const struct vt_alert_saved *v)
{
	int rc = -1;
	pthread_mutex_lock(&e->lock);
	size_t rule = e->cfg->nrules;
	for (size_t i = 0; i < e->cfg->nrules; i++)
		if (strcmp(e->cfg->rules[i].name, v->rule) == 0 &&
		    e->cfg->rules[i].kind == v->kind)
			rule = i;
	uint64_t h = vt_hash(v->id, strlen(v->id), 7);
	struct alert *a;
	if (rule == e->cfg->nrules || find(e, v->id, h) != NULL ||
	    (a = create(e, v->id, h, rule)) == NULL)
		goto out;
	a->service = dup_or_null(v->service);
	a->instance = dup_or_null(v->instance);
	a->check = dup_or_null(v->check);
	a->metric = dup_or_null(v->metric);
	a->tags = dup_or_null(v->tags);
	a->output = dup_or_null(v->output);
	a->origin = dup_or_null(v->origin);
	a->status = v->status;
	a->previous = v->previous;
	a->notified_status = v->notified_status;
	a->value = v->value;
	a->metric_kind = v->metric_kind;
	a->st = v->st;
	a->notified = v->notified;
	rc = 0;
out:
	pthread_mutex_unlock(&e->lock);
	return rc;
}

void vt_alert_engine_count_reload(vt_alert_engine *e, int ok)
{
	pthread_mutex_lock(&e->lock);
	e->reloads[ok ? 1 : 0]++;
	pthread_mutex_unlock(&e->lock);
}

/* ---- readers ---- */

static int cmp_alert(const void *x, const void *y)
{
	return strcmp((*(const struct alert *const *)x)->id,
	    (*(const struct alert *const *)y)->id);
}

static void put_alert(vt_alert_engine *e, struct alert *a, struct vt_buf *b)
{
	const struct vt_alert_rule *r = &e->cfg->rules[a->rule];
	struct vt_alert_event ev = {
		.state = "firing", .rule = r, .id = a->id,
		.service = a->service, .instance = a->instance,
		.check = a->check, .output = a->output, .status = a->status,
		.previous = a->previous, .metric = a->metric,
		.labels = a->tags, .value = a->value, .since = a->st.since,
		.unit = vt_alert_event_unit(a->metric_kind, r->stat),
		.flap_percent = NAN,
	};
	struct vt_buf sum;
	vt_buf_puts(b, "{\"id\":");
	vt_json_string(b, a->id);
	vt_json_member_string(b, "alert", r->name);
	vt_json_member_string(b, "kind", vt_alert_config_kind_name(r->kind));
	vt_json_member_string(b, "state", vt_alert_state_phase_name(a->st.phase));
	vt_json_member_string(b, "severity", r->severity);
	vt_buf_puts(b, ",\"labels\":{");
	for (size_t i = 0; i < r->nlabels; i++) {
		vt_buf_puts(b, i ? "," : "");
		vt_json_string(b, r->label_keys[i]);
		vt_buf_putc(b, ':');
		vt_json_string(b, r->label_values[i]);
	}
	vt_buf_putc(b, '}');
	vt_buf_init(&sum);
	vt_alert_event_summary(&ev, &sum);
	vt_json_member_string(b, "summary", sum.data ? sum.data : "");
	vt_buf_fini(&sum);
	vt_json_member_string(b, "service", a->service);
	vt_json_member_string(b, "instance", a->instance);
	vt_json_member_string(b, "check", a->check);
	vt_json_member_string(b, "status", a->status >= 0 ?
	    vt_health_check_status_name((enum vt_status)a->status) : NULL);
	vt_json_member_string(b, "output", a->output);
	vt_json_member_string(b, "metric", a->metric);
	vt_json_member_string(b, "tags", a->tags);
	vt_json_member_number(b, "value", a->value);
	vt_json_member_number(b, "since", a->st.since);
	vt_json_member_number(b, "fired_at", a->st.phase == VT_ALERT_FIRING ?
	    a->st.fired : NAN);
	vt_buf_printf(b, ",\"flapping\":%s,\"notified\":%s}",
	    a->flap.flapping ? "true" : "false",
	    a->notified ? "true" : "false");
}

void vt_alert_engine_json(vt_alert_engine *e, struct vt_buf *out)
{
	pthread_mutex_lock(&e->lock);
	struct alert **v = vt_xmalloc((e->count + 1) * sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < e->nbuckets; i++)
		for (struct alert *a = e->buckets[i]; a; a = a->next)
			if (a->st.phase != VT_ALERT_INACTIVE)
				v[n++] = a;
	qsort(v, n, sizeof *v, cmp_alert);
	vt_buf_puts(out, "{\"alerts\":[");
	for (size_t i = 0; i < n; i++) {
		vt_buf_puts(out, i ? ",\n" : "\n");
		put_alert(e, v[i], out);
	}
	vt_buf_puts(out, n ? "\n]}\n" : "]}\n");
	pthread_mutex_unlock(&e->lock);
	free(v);
}

void vt_alert_engine_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt)
{
	static const char *const sent[N_COUNT] = { "firing", "resolved",
	    "flapping" };
	vt_alert_engine *e = ctx;
	size_t phase[3] = { 0, 0, 0 }, flapping = 0;
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->nbuckets; i++) {
		for (struct alert *a = e->buckets[i]; a; a = a->next) {
			phase[a->st.phase]++;
			flapping += a->flap.flapping != 0;
		}
	}
	vt_prom_text_head(out, "vitals_alerts", 13, VT_PROM_GAUGE, "Alerts "
	    "by state: pending (condition holding, waiting for its for) "
	    "and firing.", fmt);
	vt_buf_printf(out, "vitals_alerts{state=\"pending\"} %zu\n"
	    "vitals_alerts{state=\"firing\"} %zu\n",
	    phase[VT_ALERT_PENDING], phase[VT_ALERT_FIRING]);
	vt_prom_text_head(out, "vitals_alert_flapping", 21, VT_PROM_GAUGE,
	    "Alerts whose notifications are paused by flap damping.", fmt);
	vt_buf_printf(out, "vitals_alert_flapping %zu\n", flapping);
	vt_prom_text_head(out, "vitals_alert_notifications", 26,
	    VT_PROM_COUNTER, "Alert notifications sent to the hooks, by "
	    "state.", fmt);
	for (int i = 0; i < N_COUNT; i++)
		vt_buf_printf(out, "vitals_alert_notifications_total{state="
		    "\"%s\"} %llu\n", sent[i], e->sent[i]);
	vt_prom_text_head(out, "vitals_alert_notifications_skipped", 34,
	    VT_PROM_COUNTER, "Alert notifications recorded but not sent: "
	    "another collector of the fleet owns the service.", fmt);
	vt_buf_printf(out, "vitals_alert_notifications_skipped_total %llu\n",
	    e->skipped);
	vt_prom_text_head(out, "vitals_alert_over_cap", 21, VT_PROM_COUNTER,
	    "New alerts ignored because alerts.max_alerts were tracked.",
	    fmt);
	vt_buf_printf(out, "vitals_alert_over_cap_total %llu\n", e->over_cap);
	vt_prom_text_head(out, "vitals_alert_reloads", 20, VT_PROM_COUNTER,
	    "Reloads of the alert rules on SIGHUP, by result.", fmt);
	vt_buf_printf(out, "vitals_alert_reloads_total{result=\"ok\"} %llu\n"
	    "vitals_alert_reloads_total{result=\"failed\"} %llu\n",
	    e->reloads[1], e->reloads[0]);
	pthread_mutex_unlock(&e->lock);
}
