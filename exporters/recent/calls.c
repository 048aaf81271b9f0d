/* calls.c - the service map's edges from each closed window (calls.h). */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collector/base/published.h"
#include "collector/base/xmalloc.h"
#include "exporters/recent/calls.h"
#include "exporters/recent/latest.h"

VT_REF_FIRST(struct vt_calls_snapshot);

struct vt_calls {
	struct vt_published snap;    /* struct vt_calls_snapshot */
	pthread_mutex_t lock;        /* publishers: the flusher and forget */
};

static void snapshot_destroy(void *obj)
{
	struct vt_calls_snapshot *s = obj;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].from);
		free(s->v[i].to);
	}
	free(s->v);
	free(s);
}

static struct vt_calls_snapshot *snapshot_new(size_t n)
{
	struct vt_calls_snapshot *s = vt_xcalloc(1, sizeof *s);
	vt_ref_init(&s->ref, snapshot_destroy);
	s->v = vt_xcalloc(n + 1, sizeof *s->v);
	return s;
}

void vt_calls_release(struct vt_calls_snapshot *s)
{
	if (s != NULL)
		vt_ref_release(&s->ref);
}

vt_calls *vt_calls_create(void)
{
	vt_calls *c = vt_xcalloc(1, sizeof *c);
	vt_published_init(&c->snap);
	pthread_mutex_init(&c->lock, NULL);
	vt_published_set(&c->snap, snapshot_new(0));
	return c;
}

void vt_calls_destroy(vt_calls *c)
{
	if (c == NULL)
		return;
	vt_published_fini(&c->snap);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct vt_calls_snapshot *vt_calls_get(vt_calls *c)
{
	return vt_published_get(&c->snap);
}

static const char *label(const struct vt_series *s, const char *key)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].key, key) == 0)
			return s->labels[i].value;
	return NULL;
}

const char *vt_calls_peer(const struct vt_series *s)
{
	const char *p = label(s, VT_CALLS_PEER_TAG);
	if (p == NULL || p[0] == '\0')
		p = label(s, VT_CALLS_PEER_TAG_ALT);
	return p != NULL && p[0] != '\0' ? p : NULL;
}

/* "500".."599", "5xx", "5XX", "error". */
static int error_code(const char *v)
{
	if (v == NULL)
		return 0;
	if (strcasecmp(v, "error") == 0 || strcasecmp(v, "5xx") == 0)
		return 1;
	return v[0] == '5' && isdigit((unsigned char)v[1]) &&
	    isdigit((unsigned char)v[2]) && v[3] == '\0';
}

int vt_calls_is_error(const struct vt_series *s)
{
	const char *e = label(s, "error");
	if (e != NULL && (e[0] == '\0' || strcasecmp(e, "true") == 0 ||
	    strcmp(e, "1") == 0))
		return 1;
	return error_code(label(s, "status")) || error_code(label(s, "code"))
	    || error_code(label(s, "status_code"));
}

/* ---- building a snapshot ---- */

struct call {
	const char *from, *to;
	const struct vt_metric_window *w;
};

static int call_order(const void *a, const void *b)
{
	const struct call *x = a, *y = b;
	int c = strcmp(x->from, y->from);
	return c ? c : strcmp(x->to, y->to);
}

static size_t p99_index(const struct vt_flush *f)
{
	size_t best = 0;
	for (size_t i = 0; i < f->npercentiles; i++) {
		if (f->percentiles[i] == 99)
			return i;
		if (f->percentiles[i] > f->percentiles[best])
			best = i;
	}
	return best;
}

/* The 1-minute moving rate; the window's own until the moving one has
 * a value (its first tick comes a few seconds after the first sample). */
static double rate_of(const struct vt_metric_window *w)
{
	double r = isfinite(w->rate_1m) && w->rate_1m > 0 ? w->rate_1m :
	    w->rate;
	return isfinite(r) && r > 0 ? r : 0;
}

/* Fill e from calls v[0..n) of one edge. */
static void fill(struct vt_call_edge *e, const struct call *v, size_t n,
    const struct vt_flush *f)
{
	double rate[2] = { 0, 0 }, err[2] = { 0, 0 };   /* [timed] */
	int timers = 0;
	size_t pi = p99_index(f);
	e->from = vt_xstrdup(v[0].from);
	e->to = vt_xstrdup(v[0].to);
	e->p99 = NAN;
	e->nseries = n;
	for (size_t i = 0; i < n; i++) {
		const struct vt_metric_window *w = v[i].w;
		int timed = w->series->kind == VT_TIMER ||
		    w->series->kind == VT_HISTOGRAM;
		double r = rate_of(w);
		timers |= timed;
		rate[timed] += r;
		if (vt_calls_is_error(w->series))
			err[timed] += r;
		if (w->last_seen > e->last_seen)
			e->last_seen = w->last_seen;
		if (!timed || f->npercentiles == 0)
			continue;
		const struct vt_timer_window *t = vt_window_timer(w);
		double q = t->quantiles ? t->quantiles[pi] : NAN;
		if (!isfinite(q) && t->quantiles_1m)
			q = t->quantiles_1m[pi];
		if (isfinite(q) && !(q <= e->p99))
			e->p99 = q;
	}
	e->timed = timers;
	e->rate = rate[timers];
	e->errors = err[timers];
	e->error_share = e->rate > 0 ? e->errors / e->rate : NAN;
}

static int edge_order(const void *a, const void *b)
{
	const struct vt_call_edge *x = a, *y = b;
	int c = strcmp(x->from, y->from);
	return c ? c : strcmp(x->to, y->to);
}

const struct vt_call_edge *vt_calls_find(const struct vt_calls_snapshot *s,
    const char *from, const char *to)
{
	struct vt_call_edge key = { .from = (char *)(uintptr_t)from,
	    .to = (char *)(uintptr_t)to };
	return s ? bsearch(&key, s->v, s->n, sizeof key, edge_order) : NULL;
}

struct vt_calls_snapshot *vt_calls_next(const struct vt_calls_snapshot *prev,
    const struct vt_flush *f)
{
	size_t n = 0, cap = 16;
	struct call *v = vt_xmalloc(cap * sizeof *v);
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *w = &f->metrics[i];
		const struct vt_series *s = w->series;
		if (s->nlabels == 0 || (s->kind != VT_COUNTER &&
		    s->kind != VT_TIMER && s->kind != VT_HISTOGRAM))
			continue;
		const char *peer = vt_calls_peer(s);
		if (peer == NULL || vt_latest_idle(f->interval, w->last_seen,
		    f->timestamp))
			continue;
		if (n == cap) {
			cap *= 2;
			v = vt_xrealloc(v, cap * sizeof *v);
		}
		v[n++] = (struct call){ s->service, peer, w };
	}
	qsort(v, n, sizeof *v, call_order);
	size_t edges = 0;
	for (size_t i = 0; i < n; i++)
		edges += i == 0 || call_order(&v[i - 1], &v[i]) != 0;
	struct vt_calls_snapshot *s = snapshot_new(edges);
	s->timestamp = f->timestamp;
	s->interval = f->interval;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && call_order(&v[i], &v[j]) == 0)
			j++;
		struct vt_call_edge *e = &s->v[s->n++];
		fill(e, v + i, j - i, f);
		/* a window without samples keeps the last p99 seen */
		const struct vt_call_edge *old = isfinite(e->p99) ? NULL :
		    vt_calls_find(prev, e->from, e->to);
		if (old != NULL)
			e->p99 = old->p99;
		i = j;
	}
	free(v);
	return s;
}

static int calls_flush(void *ctx, const struct vt_flush *f)
{
	vt_calls *c = ctx;
	pthread_mutex_lock(&c->lock);
	struct vt_calls_snapshot *prev = vt_calls_get(c);
	vt_published_set(&c->snap, vt_calls_next(prev, f));
	vt_calls_release(prev);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void vt_calls_forget(vt_calls *c, const char *service)
{
	pthread_mutex_lock(&c->lock);
	struct vt_calls_snapshot *s = vt_calls_get(c);
	struct vt_calls_snapshot *n = snapshot_new(s->n);
	n->timestamp = s->timestamp;
	n->interval = s->interval;
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].from, service) == 0)
			continue;
		struct vt_call_edge *e = &n->v[n->n++];
		*e = s->v[i];
		e->from = vt_xstrdup(s->v[i].from);
		e->to = vt_xstrdup(s->v[i].to);
	}
	vt_published_set(&c->snap, n);
	vt_calls_release(s);
	pthread_mutex_unlock(&c->lock);
}

struct vt_sink vt_calls_sink(vt_calls *c)
{
	return (struct vt_sink){ .name = "calls", .ctx = c,
	    .flush = calls_flush };
}

/* ---- the map ---- */

static int node_order(const void *a, const void *b)
{
	return strcmp(((const struct vt_map_node *)a)->service,
	    ((const struct vt_map_node *)b)->service);
}

const struct vt_map_node *vt_calls_map_node(const struct vt_map *m,
    const char *service)
{
	struct vt_map_node key = { .service = service };
	return bsearch(&key, m->nodes, m->nnodes, sizeof key, node_order);
}

void vt_calls_map(struct vt_map *m, const struct vt_health_snapshot *hs,
    const struct vt_trends_snapshot *ts, const struct vt_calls_snapshot *cs)
{
	size_t nh = hs ? hs->nservices : 0, nt = ts ? ts->n : 0;
	size_t ne = cs ? cs->n : 0;
	size_t cap = nh + nt + 2 * ne + 1, n = 0;
	struct vt_map_node *v = vt_xcalloc(cap, sizeof *v);
	for (size_t i = 0; i < nh; i++) {
		const struct vt_health_service_view *sv = &hs->services[i];
		v[n++] = (struct vt_map_node){ .service = sv->name,
		    .has_checks = sv->nchecks > 0, .status = sv->nchecks ?
		    sv->status : VT_STATUS_OK, .stale = sv->stale };
	}
	for (size_t i = 0; i < nt; i++)
		v[n++] = (struct vt_map_node){ .service = ts->v[i].service };
	for (size_t i = 0; i < ne; i++) {
		v[n++] = (struct vt_map_node){ .service = cs->v[i].from };
		v[n++] = (struct vt_map_node){ .service = cs->v[i].to };
	}
	/* Sorted with the health registry's entry first among equals (it is
	 * first in v and the merge keeps the one with checks). */
	qsort(v, n, sizeof *v, node_order);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && strcmp(v[k - 1].service, v[i].service) == 0) {
			if (v[i].has_checks && !v[k - 1].has_checks)
				v[k - 1] = v[i];
			continue;
		}
		v[k++] = v[i];
	}
	*m = (struct vt_map){ .nnodes = k, .nodes = v, .nedges = ne,
	    .edges = cs ? cs->v : NULL };
	for (size_t i = 0; i < ne; i++) {
		const struct vt_call_edge *e = &cs->v[i];
		struct vt_map_node kf = { .service = e->from };
		struct vt_map_node kt = { .service = e->to };
		struct vt_map_node *from = bsearch(&kf, v, k, sizeof kf,
		    node_order);
		struct vt_map_node *to = bsearch(&kt, v, k, sizeof kt,
		    node_order);
		from->rate_out += e->rate;
		to->rate_in += e->rate;
		if (e->rate > m->max_rate)
			m->max_rate = e->rate;
	}
}

void vt_calls_map_free(struct vt_map *m)
{
	free(m->nodes);
	m->nodes = NULL;
	m->nnodes = 0;
}
