/*
 * api.c - /api/v1/services, /api/v1/services/<service> (GET, DELETE) and
 * POST /api/v1/health (api.h). JSON is written straight into the
 * response buffer from the health snapshot and the latest flush.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/base/clock.h"
#include "collector/base/json.h"
#include "collector/base/loop.h"
#include "collector/base/netaddr.h"
#include "collector/base/xmalloc.h"
#include "collector/health/health_json.h"
#include "collector/health/health_snapshot.h"
#include "dashboards/api/api.h"

/* ---- JSON helpers ---- */

static void put_num(struct vt_buf *b, double v)
{
	if (isfinite(v))
		vt_buf_put_double(b, v);
	else
		vt_buf_puts(b, "null");
}

/* A unix time, or null when unknown (0). */
static void put_time(struct vt_buf *b, double t)
{
	if (t > 0)
		put_num(b, t);
	else
		vt_buf_puts(b, "null");
}

static void put_field(struct vt_buf *b, const char *key, double v)
{
	vt_buf_printf(b, ",\"%s\":", key);
	put_num(b, v);
}

static void put_counts(struct vt_buf *b, const size_t counts[4])
{
	vt_buf_printf(b, "{\"ok\":%zu,\"warning\":%zu,\"critical\":%zu,"
	    "\"unknown\":%zu}", counts[VT_STATUS_OK], counts[VT_STATUS_WARNING],
	    counts[VT_STATUS_CRITICAL], counts[VT_STATUS_UNKNOWN]);
}

/* ---- metrics of the latest window, grouped by service ---- */

static int cmp_window(const void *a, const void *b)
{
	const struct vt_series *x =
	    (*(const struct vt_metric_window *const *)a)->series;
	const struct vt_series *y =
	    (*(const struct vt_metric_window *const *)b)->series;
	int c = strcmp(x->service, y->service);
	if (c == 0)
		c = strcmp(x->metric, y->metric);
	return c ? c : strcmp(x->key, y->key);
}

/* The flush's metrics sorted by service, metric, series (caller frees). */
static const struct vt_metric_window **sorted_metrics(
    const struct vt_flush *f, size_t *n)
{
	*n = f ? f->nmetrics : 0;
	const struct vt_metric_window **v = vt_xmalloc((*n + 1) * sizeof *v);
	for (size_t i = 0; i < *n; i++)
		v[i] = &f->metrics[i];
	qsort(v, *n, sizeof *v, cmp_window);
	return v;
}

/* ---- GET /api/v1/services ---- */

/* In a fleet: ,"owner":..,"owner_state":.. and, for a service whose owner
 * is gone, "not updated": returns 1 then (the caller says stale). */
static int put_owner(struct vt_buf *b, vt_fleet *fleet,
    const struct vt_health_service_view *sv, double now)
{
	if (fleet == NULL)
		return 0;
	const char *owner = sv && sv->owner ? sv->owner : vt_fleet_name(fleet);
	enum vt_fleet_state st = vt_fleet_state(fleet, owner, now);
	vt_buf_puts(b, ",\"owner\":");
	vt_json_string(b, owner);
	vt_buf_printf(b, ",\"owner_state\":\"%s\"", vt_fleet_state_name(st));
	return sv != NULL && sv->owner != NULL && st != VT_FLEET_UP;
}

static void put_service_entry(struct vt_buf *b, const struct vt_flush *f,
    const char *name, const struct vt_health_service_view *sv,
    size_t nmetrics, double metrics_seen, double now, vt_fleet *fleet)
{
	static const size_t none[4];
	double seen = sv && sv->last_report > metrics_seen ? sv->last_report :
	    metrics_seen;
	vt_buf_puts(b, "{\"name\":");
	vt_json_string(b, name);
	int gone = put_owner(b, fleet, sv, now);
	vt_buf_printf(b, ",\"status\":\"%s\",\"stale\":%s,\"checks\":%zu,"
	    "\"counts\":", vt_health_check_status_name(sv ? sv->status : VT_STATUS_OK),
	    (sv && sv->stale) || gone ? "true" : "false", sv ? sv->nchecks : 0);
	put_counts(b, sv ? sv->counts : none);
	vt_buf_printf(b, ",\"instances\":%zu,\"metrics\":%zu,\"idle\":%s,"
	    "\"last_seen\":", sv ? sv->nreporting : 0, nmetrics,
	    vt_latest_idle(f ? f->interval : 0, seen, now) ? "true" :
	    "false");
	put_time(b, seen);
	vt_buf_putc(b, '}');
}

static void get_services(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_api *api = ctx;
	struct vt_health_snapshot *s = vt_health_snapshot_get(api->health);
	struct vt_flush *f = vt_latest_get(api->latest);
	size_t nm, i = 0, j = 0, out = 0;
	const struct vt_metric_window **m = sorted_metrics(f, &nm);
	struct vt_buf *b = &resp->body;
	double now = vt_clock_now();
	(void)req;

	vt_buf_puts(b, "{\"services\":[");
	while (i < s->nservices || j < nm) {
		const struct vt_health_service_view *sv = i < s->nservices ?
		    &s->services[i] : NULL;
		const char *mname = j < nm ? m[j]->series->service : NULL;
		int c = sv == NULL ? 1 : mname == NULL ? -1 :
		    strcmp(sv->name, mname);
		const char *name = c <= 0 ? sv->name : mname;
		size_t count = 0;
		double seen = 0;
		for (; c >= 0 && j < nm &&
		    strcmp(m[j]->series->service, name) == 0; j++) {
			count++;
			if (m[j]->last_seen > seen)
				seen = m[j]->last_seen;
		}
		if (out++)
			vt_buf_putc(b, ',');
		put_service_entry(b, f, name, c <= 0 ? sv : NULL, count, seen,
		    now, api->fleet);
		if (c <= 0)
			i++;
	}
	vt_buf_puts(b, "],\"time\":");
	put_num(b, now);
	vt_buf_puts(b, "}\n");
	resp->no_cache = 1;
	free(m);
	vt_flush_release(f);
	vt_health_snapshot_release(s);
}

/* ---- GET /api/v1/services/<service> ---- */

static void put_check(struct vt_buf *b, const struct vt_health_check_view *c,
    double now)
{
	vt_buf_puts(b, "{\"check\":");
	vt_json_string(b, c->check);
	vt_buf_puts(b, ",\"instance\":");
	vt_json_string(b, c->instance);
	vt_buf_printf(b, ",\"status\":\"%s\",\"stale\":%s,\"output\":",
	    vt_health_check_status_name(c->status), c->stale ? "true" : "false");
	vt_json_string(b, c->output);
	put_field(b, "ttl", c->ttl);
	put_field(b, "age", now > c->last_report ? now - c->last_report : 0);
	put_field(b, "first_seen", c->first_seen);
	put_field(b, "last_report", c->last_report);
	put_field(b, "last_change", c->last_change);
	vt_buf_puts(b, ",\"timestamp\":");
	put_time(b, c->timestamp);
	if (c->origin != NULL) {
		vt_buf_puts(b, ",\"origin\":");
		vt_json_string(b, c->origin);
	}
	vt_buf_puts(b, ",\"history\":[");
	for (size_t k = 0; k < c->nhistory; k++) {
		const struct vt_health_transition *t = &c->history[k];
		vt_buf_puts(b, k ? ",{\"time\":" : "{\"time\":");
		put_num(b, t->time);
		vt_buf_printf(b, ",\"from\":\"%s\",\"to\":\"%s\",\"stale\":%s,"
		    "\"output\":", vt_health_check_status_name(t->from),
		    vt_health_check_status_name(t->to), t->stale ? "true" : "false");
		vt_json_string(b, t->output);
		vt_buf_putc(b, '}');
	}
	vt_buf_puts(b, "]}");
}

static void put_instances(struct vt_buf *b,
    const struct vt_health_service_view *sv)
{
	for (size_t k = 0; sv && k < sv->ninstances; k++) {
		const struct vt_health_instance_view *iv = &sv->instances[k];
		vt_buf_puts(b, k ? ",{\"instance\":" : "{\"instance\":");
		vt_json_string(b, iv->instance);
		vt_buf_printf(b, ",\"status\":\"%s\",\"stale\":%s,\"checks\":%zu,"
		    "\"last_report\":", vt_health_check_status_name(iv->status),
		    iv->stale ? "true" : "false", iv->nchecks);
		put_time(b, iv->last_report);
		vt_buf_putc(b, '}');
	}
}

static void put_percentiles(struct vt_buf *b, const char *key,
    const struct vt_flush *f, const double *q)
{
	vt_buf_printf(b, ",\"%s\":{", key);
	for (size_t p = 0; p < f->npercentiles; p++) {
		vt_buf_printf(b, "%s\"p%g\":", p ? "," : "", f->percentiles[p]);
		put_num(b, q ? q[p] : NAN);     /* none: an idle window */
	}
	vt_buf_putc(b, '}');
}

static void put_metric(struct vt_buf *b, const struct vt_flush *f,
    const struct vt_metric_window *w)
{
	const struct vt_series *s = w->series;
	int timer = s->kind == VT_TIMER || s->kind == VT_HISTOGRAM;
	const struct vt_timer_window *t = vt_window_timer(w);
	vt_buf_puts(b, "{\"name\":");
	vt_json_string(b, s->metric);
	vt_buf_printf(b, ",\"type\":\"%s\",\"labels\":{", vt_series_kind_name(s->kind));
	for (size_t k = 0; k < s->nlabels; k++) {
		if (k)
			vt_buf_putc(b, ',');
		vt_json_string(b, s->labels[k].key);
		vt_buf_putc(b, ':');
		vt_json_string(b, s->labels[k].value);
	}
	vt_buf_puts(b, "},\"last_seen\":");
	put_time(b, w->last_seen);
	vt_buf_printf(b, ",\"window\":{\"samples\":%llu",
	    (unsigned long long)w->samples);
	if (s->kind == VT_GAUGE || s->kind == VT_SET) {
		put_field(b, "value", w->value);
	} else {
		put_field(b, "count", w->count);
		put_field(b, "rate", w->rate);
		put_field(b, "total", w->total);
	}
	if (timer) {
		put_field(b, "sum", t->sum);
		put_field(b, "min", t->min);
		put_field(b, "max", t->max);
		put_field(b, "mean", t->mean);
		put_field(b, "stddev", t->stddev);
		for (size_t p = 0; p < f->npercentiles; p++) {
			char key[32];
			snprintf(key, sizeof key, "p%g", f->percentiles[p]);
			put_field(b, key, t->quantiles ? t->quantiles[p] : NAN);
		}
	}
	vt_buf_putc(b, '}');
	if (s->kind == VT_COUNTER || timer) {
		vt_buf_puts(b, ",\"rates\":{\"1m\":");
		put_num(b, w->rate_1m);
		put_field(b, "5m", w->rate_5m);
		put_field(b, "15m", w->rate_15m);
		vt_buf_putc(b, '}');
	}
	if (timer) {
		put_percentiles(b, "percentiles_1m", f, t->quantiles_1m);
		put_percentiles(b, "percentiles_5m", f, t->quantiles_5m);
		put_percentiles(b, "percentiles_15m", f, t->quantiles_15m);
	}
	vt_buf_putc(b, '}');
}

static void get_service(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_api *api = ctx;
	const char *name = req->subpath;
	if (name[0] == '\0') {
		get_services(ctx, req, resp);
		return;
	}
	struct vt_health_snapshot *s = vt_health_snapshot_get(api->health);
	struct vt_flush *f = vt_latest_get(api->latest);
	const struct vt_health_service_view *sv = vt_health_snapshot_find(s,
	    name);
	size_t nm, first = 0, count = 0;
	const struct vt_metric_window **m = sorted_metrics(f, &nm);
	double now = vt_clock_now(), seen = sv ? sv->last_report : 0;
	struct vt_buf *b = &resp->body;
	static const size_t none[4];

	while (first < nm && strcmp(m[first]->series->service, name) < 0)
		first++;
	while (first + count < nm &&
	    strcmp(m[first + count]->series->service, name) == 0) {
		if (m[first + count]->last_seen > seen)
			seen = m[first + count]->last_seen;
		count++;
	}
	if (sv == NULL && count == 0) {
		vt_http_error(resp, 404, "no service named %s", name);
		goto out;
	}
	vt_buf_puts(b, "{\"name\":");
	vt_json_string(b, name);
	int gone = put_owner(b, api->fleet, sv, now);
	char murl[VT_FLEET_URL_MAX + 1];
	if (api->fleet != NULL && count == 0 && vt_fleet_metrics_owner(
	    api->fleet, name, now, murl, sizeof murl)) {
		vt_buf_puts(b, ",\"metrics_at\":");
		vt_json_string(b, murl);
	}
	vt_buf_printf(b, ",\"status\":\"%s\",\"stale\":%s,\"idle\":%s,"
	    "\"last_seen\":",
	    vt_health_check_status_name(sv ? sv->status : VT_STATUS_OK),
	    (sv && sv->stale) || gone ? "true" : "false",
	    vt_latest_idle(f ? f->interval : 0, seen, now) ? "true" :
	    "false");
	put_time(b, seen);
	vt_buf_puts(b, ",\"counts\":");
	put_counts(b, sv ? sv->counts : none);
	vt_buf_puts(b, ",\"checks\":[");
	for (size_t k = 0; sv && k < sv->nchecks; k++) {
		if (k)
			vt_buf_putc(b, ',');
		put_check(b, &sv->checks[k], now);
	}
	vt_buf_puts(b, "],\"instances\":[");
	put_instances(b, sv);
	vt_buf_puts(b, "],\"metrics\":[");
	for (size_t k = 0; k < count; k++) {
		if (k)
			vt_buf_putc(b, ',');
		put_metric(b, f, m[first + k]);
	}
	vt_buf_puts(b, "],\"window\":");
	if (f) {
		vt_buf_puts(b, "{\"end\":");
		put_num(b, f->timestamp);
		put_field(b, "seconds", f->interval);
		vt_buf_putc(b, '}');
	} else {
		vt_buf_puts(b, "null");
	}
	vt_buf_puts(b, ",\"time\":");
	put_num(b, now);
	vt_buf_puts(b, "}\n");
	resp->no_cache = 1;
out:
	free(m);
	vt_flush_release(f);
	vt_health_snapshot_release(s);
}

/* ---- DELETE /api/v1/services/<service> ---- */

/* The handler waits for the loop thread to apply the forget, so a GET
 * right after the answer no longer lists the service. Two owners: the
 * handler and the inbox's done callback, which may come after the
 * handler gave up waiting. */
struct forget_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs, done, status;
};

static struct forget_wait *forget_wait_new(void)
{
	struct forget_wait *w = vt_xcalloc(1, sizeof *w);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&w->lock, NULL);
	w->refs = 2;
	return w;
}

static void forget_wait_unref(struct forget_wait *w)
{
	pthread_mutex_lock(&w->lock);
	int last = --w->refs == 0;
	pthread_mutex_unlock(&w->lock);
	if (!last)
		return;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static void forget_done(void *ctx, int status)
{
	struct forget_wait *w = ctx;
	pthread_mutex_lock(&w->lock);
	w->done = 1;
	w->status = status;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	forget_wait_unref(w);
}

/* The apply status, or -ETIMEDOUT after seconds. */
static int forget_wait_for(struct forget_wait *w, double seconds)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)seconds;
	until.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	int rc = 0;
	while (!w->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cond, &w->lock, &until);
	int status = w->done ? w->status : -ETIMEDOUT;
	pthread_mutex_unlock(&w->lock);
	return status;
}

static int service_known(struct vt_api *api, const char *name)
{
	struct vt_health_snapshot *s = vt_health_snapshot_get(api->health);
	int known = vt_health_snapshot_find(s, name) != NULL;
	vt_health_snapshot_release(s);
	struct vt_flush *f = vt_latest_get(api->latest);
	for (size_t i = 0; f && !known && i < f->nmetrics; i++)
		known = strcmp(f->metrics[i].series->service, name) == 0;
	vt_flush_release(f);
	return known;
}

static void delete_service(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_api *api = ctx;
	const char *name = req->subpath;
	if (name[0] == '\0') {
		vt_http_error(resp, 400, "service: missing from the path "
		    "(DELETE /api/v1/services/<service>)");
		return;
	}
	if (!service_known(api, name)) {
		vt_http_error(resp, 404, "no service named %s", name);
		return;
	}
	struct forget_wait *w = forget_wait_new();
	if (vt_inbox_push(api->inbox, VT_INBOX_FORGET_SERVICE, name,
	    strlen(name), req->peer, forget_done, w) < 0) {
		forget_wait_unref(w);       /* done will never run */
		forget_wait_unref(w);
		vt_http_error(resp, 503, "ingest queue full, retry later");
		return;
	}
	int status = forget_wait_for(w, VT_API_FORGET_WAIT);
	forget_wait_unref(w);
	if (status == -ECANCELED) {
		vt_http_error(resp, 503, "stopping");
		return;
	}
	/* Applied (or, past the wait, about to be): 202 either way. */
	resp->status = 202;
	vt_buf_puts(&resp->body, "{\"service\":");
	vt_json_string(&resp->body, name);
	vt_buf_puts(&resp->body, ",\"forgotten\":true}\n");
}

/* ---- POST /api/v1/health ---- */

struct post_errors {
	struct vt_buf list;          /* JSON strings, comma separated */
	size_t n;
	char first[VT_ERR_LEN];
};

static void post_on_error(void *ctx, enum vt_check_result why,
    const char *msg)
{
	struct post_errors *e = ctx;
	(void)why;
	if (e->n == 0)
		snprintf(e->first, sizeof e->first, "%s", msg);
	if (e->n < VT_API_MAX_ERRORS) {
		if (e->n)
			vt_buf_putc(&e->list, ',');
		vt_json_string(&e->list, msg);
	}
	e->n++;
}

static void post_health(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_api *api = ctx;
	struct post_errors e = { .n = 0 };
	struct vt_health_json_hooks hooks = { NULL, post_on_error, &e };
	struct vt_health_json_counts n;
	char ip[64] = "";

	if (req->body_len == 0) {
		vt_http_error(resp, 400, "body: empty; send a JSON check, an "
		    "array of checks or a batch");
		return;
	}
	if (req->peer)
		vt_netaddr_ip(req->peer, ip, sizeof ip);
	vt_buf_init(&e.list);
	vt_health_json_parse(req->body, req->body_len, ip, &hooks, &n);
	if (n.accepted > 0 && vt_inbox_push(api->inbox, VT_INBOX_CHECKS,
	    req->body, req->body_len, req->peer, NULL, NULL) < 0) {
		vt_http_error(resp, 503, "ingest queue full, retry later");
		goto out;
	}
	if (n.accepted == 0 && n.rejected == 0) {
		vt_http_error(resp, 400, "body: no checks in it");
		goto out;
	}
	resp->status = n.rejected ? 400 : 202;
	vt_buf_puts(&resp->body, "{");
	if (n.rejected) {
		vt_buf_puts(&resp->body, "\"error\":");
		vt_json_string(&resp->body, e.first);
		vt_buf_printf(&resp->body, ",\"errors\":[%s],",
		    e.list.data ? e.list.data : "");
	}
	vt_buf_printf(&resp->body, "\"accepted\":%zu,\"rejected\":%zu}\n",
	    n.accepted, n.rejected);
out:
	vt_buf_fini(&e.list);
}

void vt_api_register(vt_http *h, struct vt_api *ctx)
{
	vt_http_route(h, "GET", "/api/v1/services", 0, get_services, ctx);
	vt_http_route(h, "GET", "/api/v1/services/", 1, get_service, ctx);
	vt_http_route(h, "DELETE", "/api/v1/services/", 1, delete_service,
	    ctx);
	vt_http_route(h, "POST", "/api/v1/health", 0, post_health, ctx);
}
