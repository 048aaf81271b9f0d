/* flush.c - closed windows as immutable, reference-counted values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/flush.h"
#include "collector/base/ref.h"
#include "collector/base/xmalloc.h"

VT_REF_FIRST(struct vt_flush);

const struct vt_timer_window vt_timer_window_none = {
	.min = NAN, .max = NAN, .mean = NAN, .stddev = NAN,
};

static void flush_destroy(void *obj)
{
	struct vt_flush *f = obj;
	for (size_t i = 0; i < f->nmetrics; i++)
		vt_series_release(f->metrics[i].series);
	for (size_t i = 0; i < f->ntimers; i++)
		vt_native_hist_release(f->timers[i].native);
	free(f->metrics);
	free(f->timers);
	free(f->quantile_store);
	free(f->bucket_store);
	free(f);
}

struct vt_flush *vt_flush_create(size_t nmetrics, size_t ntimers,
    size_t npercentiles)
{
	struct vt_flush *f = vt_xcalloc(1, sizeof *f);
	vt_ref_init(&f->ref, flush_destroy);
	f->npercentiles = npercentiles;
	f->metrics = vt_xcalloc(nmetrics ? nmetrics : 1, sizeof *f->metrics);
	f->timers = vt_xcalloc(ntimers ? ntimers : 1, sizeof *f->timers);
	f->timers_room = ntimers;
	f->quantile_store = vt_xcalloc(ntimers * 4 * npercentiles + 1,
	    sizeof(double));
	return f;
}

struct vt_timer_window *vt_flush_add_timer(struct vt_flush *f,
    struct vt_metric_window *w)
{
	if (f->ntimers >= f->timers_room) {
		fprintf(stderr, "vitalsd: flush has no room for another "
		    "timer window (%zu)\n", f->timers_room);
		abort();
	}
	struct vt_timer_window *t = &f->timers[f->ntimers++];
	w->timer = t;
	return t;
}

static const double *copy_quantiles(const double *src, double **store,
    size_t np)
{
	if (src == NULL)
		return NULL;
	double *dst = *store;
	memcpy(dst, src, np * sizeof(double));
	*store += np;
	return dst;
}

struct vt_flush *vt_flush_copy(const struct vt_flush *f,
    int (*keep)(void *ctx, const struct vt_metric_window *w), void *ctx,
    size_t extra)
{
	size_t n = 0, ntimers = 0, nbuckets = 0, np = f->npercentiles;
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *w = &f->metrics[i];
		if (keep && !keep(ctx, w))
			continue;
		n++;
		if (w->timer) {
			ntimers++;
			nbuckets += w->timer->nbuckets;
		}
	}
	struct vt_flush *c = vt_flush_create(n + extra, ntimers, np);
	double *store = c->quantile_store, *bstore = NULL;
	if (nbuckets)
		c->bucket_store = bstore = vt_xcalloc(2 * nbuckets,
		    sizeof(double));
	c->seq = f->seq;
	c->timestamp = f->timestamp;
	c->interval = f->interval;
	memcpy(c->percentiles, f->percentiles, sizeof c->percentiles);
	c->self = f->self;
	c->native_histograms = f->native_histograms;
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *w = &f->metrics[i];
		if (keep && !keep(ctx, w))
			continue;
		struct vt_metric_window *m = &c->metrics[c->nmetrics++];
		*m = *w;
		m->series = vt_series_retain(w->series);
		if (w->timer == NULL)
			continue;
		const struct vt_timer_window *wt = w->timer;
		struct vt_timer_window *t = vt_flush_add_timer(c, m);
		*t = *wt;
		if (wt->native)
			t->native = vt_native_hist_retain(wt->native);
		t->quantiles = copy_quantiles(wt->quantiles, &store, np);
		t->quantiles_1m = copy_quantiles(wt->quantiles_1m, &store, np);
		t->quantiles_5m = copy_quantiles(wt->quantiles_5m, &store, np);
		t->quantiles_15m = copy_quantiles(wt->quantiles_15m, &store,
		    np);
		if (wt->nbuckets) {
			t->bucket_le = copy_quantiles(wt->bucket_le, &bstore,
			    wt->nbuckets);
			t->bucket_counts = copy_quantiles(wt->bucket_counts,
			    &bstore, wt->nbuckets);
		}
	}
	return c;
}

struct vt_flush *vt_flush_retain(const struct vt_flush *f)
{
	return vt_ref_retain(&f->ref);
}

void vt_flush_release(struct vt_flush *f)
{
	if (f != NULL)
		vt_ref_release(&f->ref);
}
