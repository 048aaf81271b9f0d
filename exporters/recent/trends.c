/* trends.c - per-service tile figures and sparkline history (trends.h). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/hash.h"
#include "collector/base/published.h"
#include "collector/base/ref.h"
#include "collector/base/xmalloc.h"
#include "exporters/recent/forgotten.h"
#include "exporters/recent/trends.h"

VT_REF_FIRST(struct vt_trends_snapshot);

struct vt_trends {
	struct vt_published snap;    /* struct vt_trends_snapshot */
	pthread_mutex_t lock;        /* publishers: the flusher and forget;
	                                guards gone */
	struct vt_forgotten gone;
};

static void snapshot_destroy(void *obj)
{
	struct vt_trends_snapshot *s = obj;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].service);
		free(s->v[i].timer);
	}
	free(s->v);
	free(s);
}

static struct vt_trends_snapshot *snapshot_new(size_t n)
{
	struct vt_trends_snapshot *s = vt_xcalloc(1, sizeof *s);
	vt_ref_init(&s->ref, snapshot_destroy);
	s->v = vt_xcalloc(n + 1, sizeof *s->v);
	return s;
}

void vt_trends_release(struct vt_trends_snapshot *s)
{
	if (s != NULL)
		vt_ref_release(&s->ref);
}

vt_trends *vt_trends_create(void)
{
	vt_trends *t = vt_xcalloc(1, sizeof *t);
	vt_published_init(&t->snap);
	pthread_mutex_init(&t->lock, NULL);
	vt_published_set(&t->snap, snapshot_new(0));
	return t;
}

void vt_trends_destroy(vt_trends *t)
{
	if (t == NULL)
		return;
	vt_published_fini(&t->snap);
	vt_forgotten_fini(&t->gone);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

struct vt_trends_snapshot *vt_trends_get(vt_trends *t)
{
	return vt_published_get(&t->snap);
}

const struct vt_trend *vt_trends_find(const struct vt_trends_snapshot *s,
    const char *service)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->v[mid].service, service);
		if (c == 0)
			return &s->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* One service's windows in a flush, gathered in one pass: a hash table
 * keyed by service (10,000 windows of a few dozen services cost one
 * lookup each, where sorting them cost ~20 string compares each). */
struct service_group {
	uint64_t hash;
	const char *service;         /* borrowed from a window's series */
	size_t nmetrics;
	double last_seen;
	const struct vt_metric_window *busiest;   /* NULL: no timer */
};

struct groups {
	struct service_group *v;     /* in order of first appearance */
	size_t n, cap;
	uint32_t *slot;              /* index + 1 into v; 0: empty */
	size_t mask;
};

static double busyness(const struct vt_metric_window *w)
{
	return isfinite(w->rate_1m) ? w->rate_1m : w->rate;
}

/* Is w busier than the timer chosen so far (ties: the first metric name)? */
static int busier(const struct vt_metric_window *w,
    const struct vt_metric_window *best)
{
	return best == NULL || busyness(w) > busyness(best) ||
	    (busyness(w) == busyness(best) &&
	    strcmp(w->series->metric, best->series->metric) < 0);
}

static void groups_rehash(struct groups *g, size_t nslots)
{
	free(g->slot);
	g->slot = vt_xcalloc(nslots, sizeof *g->slot);
	g->mask = nslots - 1;
	for (size_t i = 0; i < g->n; i++) {
		size_t j = g->v[i].hash & g->mask;
		while (g->slot[j])
			j = (j + 1) & g->mask;
		g->slot[j] = (uint32_t)(i + 1);
	}
}

static struct service_group *group_of(struct groups *g, const char *service)
{
	size_t len = strlen(service);
	uint64_t h = vt_hash(service, len, 0);
	size_t j = h & g->mask;
	for (; g->slot[j]; j = (j + 1) & g->mask) {
		struct service_group *x = &g->v[g->slot[j] - 1];
		if (x->hash == h && strcmp(x->service, service) == 0)
			return x;
	}
	if (g->n == g->cap) {
		g->cap *= 2;
		g->v = vt_xrealloc(g->v, g->cap * sizeof *g->v);
	}
	struct service_group *x = &g->v[g->n++];
	*x = (struct service_group){ .hash = h, .service = service };
	g->slot[j] = (uint32_t)g->n;
	if (g->n * 2 > g->mask + 1)
		groups_rehash(g, (g->mask + 1) * 2);
	return x;
}

static int group_order(const void *a, const void *b)
{
	return strcmp(((const struct service_group *)a)->service,
	    ((const struct service_group *)b)->service);
}

/* The index of p99 among the flush's percentiles, else the highest. */
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

/* Fill tr from one service's group; prev is its trend in the previous
 * snapshot, or NULL. */
static void fill(struct vt_trend *tr, const struct vt_trend *prev,
    const struct service_group *g, size_t pi, int have_percentiles)
{
	const struct vt_metric_window *busiest = g->busiest;
	tr->service = vt_xstrdup(g->service);
	tr->nmetrics = g->nmetrics;
	tr->last_seen = g->last_seen;
	tr->rate = tr->p99 = NAN;
	if (busiest == NULL)
		return;
	tr->timer = vt_xstrdup(busiest->series->metric);
	const struct vt_timer_window *t = vt_window_timer(busiest);
	/* The tile shows steady figures: the 1-minute rate and, when the
	 * last window was empty, the last full minute's p99. */
	tr->rate = isfinite(busiest->rate_1m) ? busiest->rate_1m :
	    busiest->rate;
	tr->p99 = have_percentiles && t->quantiles ?
	    t->quantiles[pi] : NAN;
	if (!isfinite(tr->p99) && have_percentiles && t->quantiles_1m)
		tr->p99 = t->quantiles_1m[pi];
	size_t keep = 0;
	if (prev && prev->timer && strcmp(prev->timer, tr->timer) == 0) {
		keep = prev->npoints < VT_TRENDS_POINTS ? prev->npoints :
		    VT_TRENDS_POINTS - 1;
		size_t skip = prev->npoints - keep;
		memcpy(tr->rate_hist, prev->rate_hist + skip,
		    keep * sizeof(double));
		memcpy(tr->p99_hist, prev->p99_hist + skip,
		    keep * sizeof(double));
	}
	tr->rate_hist[keep] = busiest->rate;
	tr->p99_hist[keep] = have_percentiles && t->quantiles ?
	    t->quantiles[pi] : NAN;
	tr->npoints = keep + 1;
}

struct vt_trends_snapshot *vt_trends_next(
    const struct vt_trends_snapshot *prev, const struct vt_flush *f)
{
	struct groups g = { .cap = 16 };
	g.v = vt_xmalloc(g.cap * sizeof *g.v);
	groups_rehash(&g, 64);
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *w = &f->metrics[i];
		/* Each window's series and its service string are two
		 * dependent cache misses: start them 16 and 8 windows ahead. */
		if (i + 16 < f->nmetrics)
			__builtin_prefetch(f->metrics[i + 16].series);
		if (i + 8 < f->nmetrics)
			__builtin_prefetch(f->metrics[i + 8].series->service);
		struct service_group *x = group_of(&g, w->series->service);
		x->nmetrics++;
		if (w->last_seen > x->last_seen)
			x->last_seen = w->last_seen;
		if ((w->series->kind == VT_TIMER ||
		    w->series->kind == VT_HISTOGRAM) && busier(w, x->busiest))
			x->busiest = w;
	}
	if (g.n > 1)
		qsort(g.v, g.n, sizeof *g.v, group_order);

	struct vt_trends_snapshot *s = snapshot_new(g.n);
	s->timestamp = f->timestamp;
	s->interval = f->interval;
	size_t pi = p99_index(f);
	for (size_t i = 0; i < g.n; i++) {
		const struct vt_trend *old = prev ?
		    vt_trends_find(prev, g.v[i].service) : NULL;
		fill(&s->v[s->n++], old, &g.v[i], pi, f->npercentiles > 0);
	}
	free(g.slot);
	free(g.v);
	return s;
}

/* s without forgotten services, with one reference (s itself retained
 * when nothing goes). */
static struct vt_trends_snapshot *without_gone(const vt_trends *t,
    struct vt_trends_snapshot *s)
{
	size_t keep = 0;
	for (size_t i = 0; i < s->n; i++)
		keep += !vt_forgotten_hides(&t->gone, s->v[i].service,
		    s->timestamp);
	if (keep == s->n)
		return vt_ref_retain(&s->ref);
	struct vt_trends_snapshot *c = snapshot_new(keep);
	c->timestamp = s->timestamp;
	c->interval = s->interval;
	for (size_t i = 0; i < s->n; i++) {
		const struct vt_trend *tr = &s->v[i];
		if (vt_forgotten_hides(&t->gone, tr->service, s->timestamp))
			continue;
		struct vt_trend *d = &c->v[c->n++];
		*d = *tr;
		d->service = vt_xstrdup(tr->service);
		d->timer = tr->timer ? vt_xstrdup(tr->timer) : NULL;
	}
	return c;
}

static int trends_flush(void *ctx, const struct vt_flush *f)
{
	vt_trends *t = ctx;
	pthread_mutex_lock(&t->lock);
	struct vt_trends_snapshot *prev = vt_trends_get(t);
	struct vt_trends_snapshot *next = vt_trends_next(prev, f);
	vt_published_set(&t->snap, without_gone(t, next));
	vt_trends_release(next);
	vt_trends_release(prev);
	vt_forgotten_prune(&t->gone, f->timestamp);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void vt_trends_forget(vt_trends *t, const char *service, double now)
{
	pthread_mutex_lock(&t->lock);
	vt_forgotten_add(&t->gone, service, now);
	struct vt_trends_snapshot *s = vt_trends_get(t);
	struct vt_trends_snapshot *c = without_gone(t, s);
	if (c != s)
		vt_published_set(&t->snap, c);
	else
		vt_trends_release(c);
	vt_trends_release(s);
	pthread_mutex_unlock(&t->lock);
}

struct vt_sink vt_trends_sink(vt_trends *t)
{
	return (struct vt_sink){ .name = "trends", .ctx = t,
	    .flush = trends_flush };
}
