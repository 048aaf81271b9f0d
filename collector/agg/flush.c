/* flush.c - closed windows as immutable, reference-counted values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/flush.h"
#include "collector/base/ref.h"
#include "collector/base/xmalloc.h"

VT_REF_FIRST(struct vt_flush);

static void flush_destroy(void *obj)
{
	struct vt_flush *f = obj;
	for (size_t i = 0; i < f->nmetrics; i++) {
		vt_series_release(f->metrics[i].series);
		vt_native_hist_release(f->metrics[i].native);
	}
	free(f->metrics);
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
	f->quantile_store = vt_xcalloc(ntimers * 4 * npercentiles + 1,
	    sizeof(double));
	return f;
}

static int has_quantiles(const struct vt_metric_window *w)
{
	return w->quantiles || w->quantiles_1m || w->quantiles_5m ||
	    w->quantiles_15m;
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
		if (keep && !keep(ctx, &f->metrics[i]))
			continue;
		n++;
		ntimers += (size_t)has_quantiles(&f->metrics[i]);
		nbuckets += f->metrics[i].nbuckets;
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
		if (w->native)
			m->native = vt_native_hist_retain(w->native);
		m->quantiles = copy_quantiles(w->quantiles, &store, np);
		m->quantiles_1m = copy_quantiles(w->quantiles_1m, &store, np);
		m->quantiles_5m = copy_quantiles(w->quantiles_5m, &store, np);
		m->quantiles_15m = copy_quantiles(w->quantiles_15m, &store, np);
		if (w->nbuckets) {
			m->bucket_le = copy_quantiles(w->bucket_le, &bstore,
			    w->nbuckets);
			m->bucket_counts = copy_quantiles(w->bucket_counts,
			    &bstore, w->nbuckets);
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
