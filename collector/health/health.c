/*
 * health.c - the healthcheck registry (health.h): two chained hash tables
 * (services by name, checks by service/instance/check), each service
 * linking its checks; apply, staleness sweep, forget, listeners, and
 * publishing snapshots (built and read in health_snapshot.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/base/clock.h"
#include "collector/base/hash.h"
#include "collector/base/published.h"
#include "collector/base/xmalloc.h"
#include "collector/health/health_internal.h"
#include "collector/health/health_snapshot.h"

#define SEED 0x6865616c7468ULL     /* "health" */
#define MIN_BUCKETS 64
#define PUBLISH_GAP_MAX 1.0        /* seconds: the longest wait to publish */

static uint64_t svc_hash(const char *name)
{
	return vt_hash(name, strlen(name), SEED);
}

static uint64_t chk_hash(uint64_t sh, const char *instance, const char *check)
{
	uint64_t x = vt_hash(instance, strlen(instance), sh ^ 0x9e3779b97f4a7c15ULL);
	return vt_hash(check, strlen(check), x);
}

vt_health *vt_health_create(const struct vt_health_config *cfg)
{
	vt_health *h = vt_xcalloc(1, sizeof *h);
	h->cfg = *cfg;
	h->nsvc_buckets = h->nchk_buckets = MIN_BUCKETS;
	h->svcs = vt_xcalloc(MIN_BUCKETS, sizeof *h->svcs);
	h->chks = vt_xcalloc(MIN_BUCKETS, sizeof *h->chks);
	h->next_deadline = INFINITY;
	h->last_publish = -INFINITY;
	vt_published_init(&h->published);
	vt_published_set(&h->published, vt_health_snapshot_build(h, 0, 0));
	return h;
}

static void hist_free(struct vt_health_chk *k)
{
	if (k->hist == NULL)
		return;
	for (unsigned i = 0; i < k->hist_len; i++)
		free(k->hist[(k->hist_head + i) % VT_HEALTH_HISTORY].output);
	VT_FREE(k->hist);
	k->hist_head = k->hist_len = 0;
}

static void chk_free(struct vt_health_chk *k)
{
	hist_free(k);
	free(k->instance);
	free(k->check);
	free(k->output);
	free(k->origin);
	free(k);
}

void vt_health_destroy(vt_health *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->nsvc_buckets; i++) {
		struct vt_health_svc *s = h->svcs[i], *snext;
		for (; s; s = snext) {
			snext = s->hnext;
			struct vt_health_chk *k = s->checks, *knext;
			for (; k; k = knext) {
				knext = k->snext;
				chk_free(k);
			}
			free(s->name);
			free(s->origin);
			free(s);
		}
	}
	free(h->svcs);
	free(h->chks);
	vt_published_fini(&h->published);
	free(h);
}

int vt_health_add_listener(vt_health *h, vt_health_event_fn fn, void *ctx)
{
	if (h->nlisteners == VT_HEALTH_MAX_LISTENERS)
		return -ENOSPC;
	h->listeners[h->nlisteners].fn = fn;
	h->listeners[h->nlisteners].ctx = ctx;
	h->nlisteners++;
	return 0;
}

int vt_health_add_report_listener(vt_health *h, vt_health_event_fn fn,
    void *ctx)
{
	if (h->nreport_listeners == VT_HEALTH_MAX_LISTENERS)
		return -ENOSPC;
	h->report_listeners[h->nreport_listeners].fn = fn;
	h->report_listeners[h->nreport_listeners].ctx = ctx;
	h->nreport_listeners++;
	return 0;
}

void vt_health_set_tap(vt_health *h, vt_health_tap_fn fn, void *ctx)
{
	h->tap = fn;
	h->tap_ctx = ctx;
}

/* *dst = a copy of origin ("" and NULL: none), unless equal already. */
static void set_origin(char **dst, const char *origin)
{
	if (origin != NULL && origin[0] == '\0')
		origin = NULL;
	if (origin == NULL ? *dst == NULL :
	    (*dst != NULL && strcmp(*dst, origin) == 0))
		return;
	free(*dst);
	*dst = origin ? vt_xstrdup(origin) : NULL;
}

/* ---- tables ---- */

static struct vt_health_svc *svc_find(const vt_health *h, const char *name,
    uint64_t hash)
{
	struct vt_health_svc *s = h->svcs[hash & (h->nsvc_buckets - 1)];
	for (; s; s = s->hnext)
		if (s->hash == hash && strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static struct vt_health_chk *chk_find(const vt_health *h,
    const struct vt_health_svc *svc, const char *instance,
    const char *check, uint64_t hash)
{
	struct vt_health_chk *k = h->chks[hash & (h->nchk_buckets - 1)];
	for (; k; k = k->hnext)
		if (k->hash == hash && k->svc == svc &&
		    strcmp(k->check, check) == 0 &&
		    strcmp(k->instance, instance) == 0)
			return k;
	return NULL;
}

static void grow_services(vt_health *h)
{
	size_t n = h->nsvc_buckets * 2;
	struct vt_health_svc **b = vt_xcalloc(n, sizeof *b);
	for (size_t i = 0; i < h->nsvc_buckets; i++) {
		struct vt_health_svc *s = h->svcs[i], *next;
		for (; s; s = next) {
			next = s->hnext;
			s->hnext = b[s->hash & (n - 1)];
			b[s->hash & (n - 1)] = s;
		}
	}
	free(h->svcs);
	h->svcs = b;
	h->nsvc_buckets = n;
}

static void grow_checks(vt_health *h)
{
	size_t n = h->nchk_buckets * 2;
	struct vt_health_chk **b = vt_xcalloc(n, sizeof *b);
	for (size_t i = 0; i < h->nchk_buckets; i++) {
		struct vt_health_chk *k = h->chks[i], *next;
		for (; k; k = next) {
			next = k->hnext;
			k->hnext = b[k->hash & (n - 1)];
			b[k->hash & (n - 1)] = k;
		}
	}
	free(h->chks);
	h->chks = b;
	h->nchk_buckets = n;
}

static struct vt_health_svc *svc_create(vt_health *h, const char *name,
    uint64_t hash)
{
	if (h->nservices >= h->nsvc_buckets)
		grow_services(h);
	struct vt_health_svc *s = vt_xcalloc(1, sizeof *s);
	s->name = vt_xstrdup(name);
	s->hash = hash;
	s->status = VT_STATUS_OK;
	s->hnext = h->svcs[hash & (h->nsvc_buckets - 1)];
	h->svcs[hash & (h->nsvc_buckets - 1)] = s;
	h->nservices++;
	return s;
}

static struct vt_health_chk *chk_create(vt_health *h,
    struct vt_health_svc *svc, const char *instance, const char *check,
    uint64_t hash)
{
	if (h->nchecks >= h->nchk_buckets)
		grow_checks(h);
	struct vt_health_chk *k = vt_xcalloc(1, sizeof *k);
	k->svc = svc;
	k->hash = hash;
	k->instance = vt_xstrdup(instance);
	k->check = vt_xstrdup(check);
	k->output = vt_xstrdup("");
	k->hnext = h->chks[hash & (h->nchk_buckets - 1)];
	h->chks[hash & (h->nchk_buckets - 1)] = k;
	k->snext = svc->checks;
	svc->checks = k;
	svc->nchecks++;
	h->nchecks++;
	return k;
}

/* Worst status and all-stale flag of a service, from its checks. */
static void svc_update(struct vt_health_svc *s)
{
	enum vt_status worst = VT_STATUS_OK;
	int all_stale = s->checks != NULL;
	for (const struct vt_health_chk *k = s->checks; k; k = k->snext) {
		worst = vt_health_check_status_worst(worst, k->status);
		all_stale &= k->stale;
	}
	s->status = worst;
	s->stale = all_stale;
}

/* ---- changes ---- */

static void set_output(struct vt_health_chk *k, const char *output)
{
	if (strcmp(k->output, output) != 0) {
		free(k->output);
		k->output = vt_xstrdup(output);
	}
}

static void record(struct vt_health_chk *k, enum vt_status from, double now)
{
	if (k->hist == NULL)
		k->hist = vt_xcalloc(VT_HEALTH_HISTORY, sizeof *k->hist);
	struct vt_health_hist *t;
	if (k->hist_len < VT_HEALTH_HISTORY) {
		t = &k->hist[(k->hist_head + k->hist_len++) % VT_HEALTH_HISTORY];
	} else {
		t = &k->hist[k->hist_head];
		k->hist_head = (k->hist_head + 1) % VT_HEALTH_HISTORY;
		free(t->output);
	}
	t->time = now;
	t->from = from;
	t->to = k->status;
	t->stale = k->stale;
	t->output = vt_xstrdup(k->output);
}

static void emit(vt_health *h, const struct vt_health_event *ev)
{
	for (size_t i = 0; i < h->nlisteners; i++)
		h->listeners[i].fn(h->listeners[i].ctx, ev);
}

/* The check k changed from (previous, was_stale) to its current state:
 * record, recompute the service, announce. previous -1: k is new. */
static void changed(vt_health *h, struct vt_health_chk *k, int previous,
    int service_previous, double now)
{
	k->last_change = now;
	if (previous >= 0) {
		record(k, (enum vt_status)previous, now);
		h->stats.transitions++;
	}
	svc_update(k->svc);
	struct vt_health_event ev = {
		.service = k->svc->name,
		.instance = k->instance,
		.check = k->check,
		.output = k->output,
		.status = k->status,
		.previous = previous,
		.stale = k->stale,
		.service_status = k->svc->status,
		.service_previous = service_previous,
		.time = now,
		.origin = k->origin,
		.service_origin = k->svc->origin,
	};
	emit(h, &ev);
}

enum vt_check_result vt_health_apply(vt_health *h, const struct vt_check *c,
    enum vt_check_format format, double now)
{
	return vt_health_apply_from(h, c, format, now, NULL);
}

enum vt_check_result vt_health_apply_from(vt_health *h,
    const struct vt_check *c, enum vt_check_format format, double now,
    const char *origin)
{
	uint64_t sh = svc_hash(c->service);
	uint64_t ch = chk_hash(sh, c->instance, c->check);
	struct vt_health_svc *svc = svc_find(h, c->service, sh);
	struct vt_health_chk *k = svc ? chk_find(h, svc, c->instance,
	    c->check, ch) : NULL;
	int previous = -1, was_stale = 0, service_previous = -1;

	h->dirty = 1;
	if (k == NULL) {
		if (h->nchecks >= h->cfg.max_checks) {
			vt_health_count(h, format, VT_CHECK_OVER_CAP);
			return VT_CHECK_OVER_CAP;
		}
		if (svc == NULL)
			svc = svc_create(h, c->service, sh);
		else
			service_previous = (int)svc->status;
		k = chk_create(h, svc, c->instance, c->check, ch);
		k->first_seen = now;
	} else {
		previous = (int)k->status;
		was_stale = k->stale;
		service_previous = (int)svc->status;
	}
	k->status = c->status;
	k->stale = 0;
	k->ttl = c->ttl;
	k->last_report = k->watch_from = now;
	k->timestamp = c->timestamp;
	set_output(k, c->output);
	set_origin(&k->origin, origin);
	if (now >= svc->last_report) {
		set_origin(&svc->origin, origin);
		svc->last_report = now;
	}
	if (previous != (int)c->status || was_stale)
		changed(h, k, previous, service_previous, now);
	if (h->nreport_listeners > 0) {
		struct vt_health_event ev = {
			.service = k->svc->name, .instance = k->instance,
			.check = k->check, .output = k->output,
			.status = k->status, .previous = previous,
			.service_status = k->svc->status,
			.service_previous = service_previous, .time = now,
			.origin = k->origin,
			.service_origin = k->svc->origin,
		};
		for (size_t i = 0; i < h->nreport_listeners; i++)
			h->report_listeners[i].fn(h->report_listeners[i].ctx,
			    &ev);
	}
	if (now + k->ttl < h->next_deadline)
		h->next_deadline = now + k->ttl;
	vt_health_count(h, format, VT_CHECK_OK);
	if (k->origin == NULL && h->tap != NULL)
		h->tap(h->tap_ctx, c);
	return VT_CHECK_OK;
}

void vt_health_count(vt_health *h, enum vt_check_format format,
    enum vt_check_result why)
{
	if ((unsigned)format < VT_CHECK_FORMAT_COUNT &&
	    (unsigned)why < VT_CHECK_RESULT_COUNT) {
		h->stats.received[format][why]++;
		h->dirty = 1;
	}
}

void vt_health_stale_output(char *out, size_t outlen, double ttl)
{
	if (ttl == floor(ttl) && ttl < 1e15)
		snprintf(out, outlen, "stale: no report for %.0fs", ttl);
	else
		snprintf(out, outlen, "stale: no report for %.3gs", ttl);
}

static void go_stale(vt_health *h, struct vt_health_chk *k, double now)
{
	char text[64];
	int previous = (int)k->status;
	int service_previous = (int)k->svc->status;

	vt_health_stale_output(text, sizeof text, k->ttl);
	k->status = VT_STATUS_CRITICAL;
	k->stale = 1;
	set_output(k, text);
	h->stats.stale++;
	h->dirty = 1;
	changed(h, k, previous, service_previous, now);
}

static void sweep(vt_health *h, double now)
{
	double next = INFINITY;
	for (size_t i = 0; i < h->nsvc_buckets; i++) {
		for (struct vt_health_svc *s = h->svcs[i]; s; s = s->hnext) {
			for (struct vt_health_chk *k = s->checks; k;
			    k = k->snext) {
				if (k->stale)
					continue;
				double due = k->watch_from + k->ttl;
				if (due <= now)
					go_stale(h, k, now);
				else if (due < next)
					next = due;
			}
		}
	}
	h->next_deadline = next;
}


void vt_health_publish(vt_health *h, double now)
{
	if (!h->dirty)
		return;
	double t0 = vt_clock_mono();
	struct vt_health_snapshot *s = vt_health_snapshot_build(h,
	    ++h->version, now);
	h->publish_cost = vt_clock_mono() - t0;
	vt_published_set(&h->published, s);
	h->dirty = 0;
	h->last_publish = now;
}

void vt_health_tick(vt_health *h, double now)
{
	/* Publishing copies every check: with a large registry, space the
	 * copies out so they take at most about an eighth of the loop, but
	 * never less often than once a second. */
	double gap = 8 * h->publish_cost;
	if (gap < h->cfg.publish_interval)
		gap = h->cfg.publish_interval;
	if (gap > PUBLISH_GAP_MAX)
		gap = PUBLISH_GAP_MAX;
	if (now >= h->next_deadline)
		sweep(h, now);
	if (h->dirty && now - h->last_publish >= gap)
		vt_health_publish(h, now);
}

size_t vt_health_size(const vt_health *h)
{
	return h->nchecks;
}

/* ---- forget ---- */

static void chk_unlink(vt_health *h, struct vt_health_chk *k)
{
	struct vt_health_chk **pp = &h->chks[k->hash & (h->nchk_buckets - 1)];
	while (*pp != k)
		pp = &(*pp)->hnext;
	*pp = k->hnext;
	h->nchecks--;
}

size_t vt_health_forget_service(vt_health *h, const char *service,
    double now)
{
	uint64_t sh = svc_hash(service);
	struct vt_health_svc *s = svc_find(h, service, sh);
	if (s == NULL)
		return 0;
	size_t n = s->nchecks;
	struct vt_health_svc **pp = &h->svcs[sh & (h->nsvc_buckets - 1)];
	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	h->nservices--;

	struct vt_health_event ev = {
		.service = s->name,
		.status = s->status,
		.previous = (int)s->status,
		.service_status = s->status,
		.service_previous = (int)s->status,
		.forgotten = 1,
		.time = now,
	};
	emit(h, &ev);

	struct vt_health_chk *k = s->checks, *next;
	for (; k; k = next) {
		next = k->snext;
		chk_unlink(h, k);
		chk_free(k);
	}
	free(s->name);
	free(s->origin);
	free(s);
	h->stats.forgotten += n;
	h->dirty = 1;
	return n;
}

/* ---- restore ---- */

enum vt_check_result vt_health_restore(vt_health *h,
    const struct vt_health_check_view *v, double now)
{
	uint64_t sh = svc_hash(v->service);
	uint64_t ch = chk_hash(sh, v->instance, v->check);
	struct vt_health_svc *svc = svc_find(h, v->service, sh);
	struct vt_health_chk *k = svc ? chk_find(h, svc, v->instance,
	    v->check, ch) : NULL;

	if (k == NULL) {
		if (h->nchecks >= h->cfg.max_checks)
			return VT_CHECK_OVER_CAP;
		if (svc == NULL)
			svc = svc_create(h, v->service, sh);
		k = chk_create(h, svc, v->instance, v->check, ch);
	}
	k->status = v->status;
	k->stale = v->stale;
	k->ttl = v->ttl;
	k->first_seen = v->first_seen;
	k->last_report = v->last_report;
	k->last_change = v->last_change;
	k->timestamp = v->timestamp;
	set_origin(&k->origin, v->origin);
	if (v->last_report >= svc->last_report) {
		set_origin(&svc->origin, v->origin);
		svc->last_report = v->last_report;
	}
	k->watch_from = v->last_report > now ? v->last_report : now;
	set_output(k, v->output);
	hist_free(k);
	size_t from = v->nhistory > VT_HEALTH_HISTORY ?
	    v->nhistory - VT_HEALTH_HISTORY : 0;
	for (size_t i = from; i < v->nhistory; i++) {
		const struct vt_health_transition *t = &v->history[i];
		if (k->hist == NULL)
			k->hist = vt_xcalloc(VT_HEALTH_HISTORY, sizeof *k->hist);
		struct vt_health_hist *dst = &k->hist[k->hist_len++];
		dst->time = t->time;
		dst->from = t->from;
		dst->to = t->to;
		dst->stale = t->stale;
		dst->output = vt_xstrdup(t->output ? t->output : "");
	}
	if (!k->stale && k->watch_from + k->ttl < h->next_deadline)
		h->next_deadline = k->watch_from + k->ttl;
	svc_update(svc);
	h->dirty = 1;
	return VT_CHECK_OK;
}
