/* trends.c - per-service tile figures and sparkline history (trends.h). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trends.h"
#include "xmalloc.h"

struct vt_trends {
	pthread_mutex_t lock;        /* guards snap */
	struct vt_trends_snapshot *snap;
};

static struct vt_trends_snapshot *snapshot_new(size_t n)
{
	struct vt_trends_snapshot *s = vt_xcalloc(1, sizeof *s);
	s->refs = 1;
	s->v = vt_xcalloc(n + 1, sizeof *s->v);
	return s;
}

void vt_trends_release(struct vt_trends_snapshot *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].service);
		free(s->v[i].timer);
	}
	free(s->v);
	free(s);
}

vt_trends *vt_trends_create(void)
{
	vt_trends *t = vt_xcalloc(1, sizeof *t);
	pthread_mutex_init(&t->lock, NULL);
	t->snap = snapshot_new(0);
	return t;
}

void vt_trends_destroy(vt_trends *t)
{
	if (t == NULL)
		return;
	vt_trends_release(t->snap);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

struct vt_trends_snapshot *vt_trends_get(vt_trends *t)
{
	pthread_mutex_lock(&t->lock);
	struct vt_trends_snapshot *s = t->snap;
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&t->lock);
	return s;
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

/* A flush's window and the first 8 bytes of its service, big-endian and
 * NUL-padded, so that sorting 10,000 windows by service compares integers
 * and reads no string while service names are shorter than 8 bytes. */
struct by_service {
	uint64_t prefix;
	const struct vt_metric_window *w;
};

static uint64_t service_prefix(const char *s)
{
	uint64_t p = 0;
	for (int i = 0; i < 8 && s[i]; i++)
		p |= (uint64_t)(unsigned char)s[i] << (56 - 8 * i);
	return p;
}

/* strcmp order of the two windows' services. */
static int service_order(const struct by_service *x,
    const struct by_service *y)
{
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	if ((x->prefix & 0xff) == 0)        /* both end within 8 bytes */
		return 0;
	return strcmp(x->w->series->service + 8, y->w->series->service + 8);
}

static int cmp_service(const void *a, const void *b)
{
	return service_order(a, b);
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

static double busyness(const struct vt_metric_window *w)
{
	return isfinite(w->rate_1m) ? w->rate_1m : w->rate;
}

/* Fill tr from the windows m[0..n) of one service; prev is its trend in
 * the previous snapshot, or NULL. */
static void fill(struct vt_trend *tr, const struct vt_trend *prev,
    const struct by_service *m, size_t n, size_t pi, int have_percentiles)
{
	const struct vt_metric_window *busiest = NULL;
	tr->service = vt_xstrdup(m[0].w->series->service);
	tr->nmetrics = n;
	tr->rate = tr->p99 = NAN;
	for (size_t i = 0; i < n; i++) {
		const struct vt_metric_window *w = m[i].w;
		if (w->last_seen > tr->last_seen)
			tr->last_seen = w->last_seen;
		if (w->series->kind != VT_TIMER && w->series->kind != VT_HISTOGRAM)
			continue;
		if (busiest == NULL || busyness(w) > busyness(busiest) ||
		    (busyness(w) == busyness(busiest) &&
		    strcmp(w->series->metric, busiest->series->metric) < 0))
			busiest = w;
	}
	if (busiest == NULL)
		return;
	tr->timer = vt_xstrdup(busiest->series->metric);
	/* The tile shows steady figures: the 1-minute rate and, when the
	 * last window was empty, the last full minute's p99. */
	tr->rate = isfinite(busiest->rate_1m) ? busiest->rate_1m :
	    busiest->rate;
	tr->p99 = have_percentiles && busiest->quantiles ?
	    busiest->quantiles[pi] : NAN;
	if (!isfinite(tr->p99) && have_percentiles && busiest->quantiles_1m)
		tr->p99 = busiest->quantiles_1m[pi];
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
	tr->p99_hist[keep] = have_percentiles && busiest->quantiles ?
	    busiest->quantiles[pi] : NAN;
	tr->npoints = keep + 1;
}

struct vt_trends_snapshot *vt_trends_next(
    const struct vt_trends_snapshot *prev, const struct vt_flush *f)
{
	struct by_service *m = vt_xmalloc((f->nmetrics + 1) * sizeof *m);
	size_t nservices = 0;
	for (size_t i = 0; i < f->nmetrics; i++) {
		m[i].w = &f->metrics[i];
		m[i].prefix = service_prefix(f->metrics[i].series->service);
	}
	qsort(m, f->nmetrics, sizeof *m, cmp_service);
	for (size_t i = 0; i < f->nmetrics; i++)
		if (i == 0 || service_order(&m[i], &m[i - 1]) != 0)
			nservices++;

	struct vt_trends_snapshot *s = snapshot_new(nservices);
	s->timestamp = f->timestamp;
	s->interval = f->interval;
	size_t pi = p99_index(f);
	for (size_t i = 0; i < f->nmetrics;) {
		size_t j = i + 1;
		while (j < f->nmetrics && service_order(&m[j], &m[i]) == 0)
			j++;
		const struct vt_trend *old = prev ?
		    vt_trends_find(prev, m[i].w->series->service) : NULL;
		fill(&s->v[s->n++], old, m + i, j - i, pi,
		    f->npercentiles > 0);
		i = j;
	}
	free(m);
	return s;
}

static int trends_flush(void *ctx, const struct vt_flush *f)
{
	vt_trends *t = ctx;
	/* Only the flusher thread replaces snap, so reading it unlocked
	 * here is safe; readers hold their own references. */
	struct vt_trends_snapshot *next = vt_trends_next(t->snap, f);
	pthread_mutex_lock(&t->lock);
	struct vt_trends_snapshot *old = t->snap;
	t->snap = next;
	pthread_mutex_unlock(&t->lock);
	vt_trends_release(old);
	return 0;
}

struct vt_sink vt_trends_sink(vt_trends *t)
{
	struct vt_sink s = {
		.name = "trends",
		.ctx = t,
		.flush = trends_flush,
		.destroy = NULL,
	};
	return s;
}
