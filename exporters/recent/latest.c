/* latest.c - the most recent closed window, shared by reference (latest.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/published.h"
#include "collector/base/xmalloc.h"
#include "exporters/recent/forgotten.h"
#include "exporters/recent/latest.h"

struct vt_latest {
	struct vt_published flush;   /* struct vt_flush, or NULL */
	pthread_mutex_t lock;        /* publishers: the flusher and forget;
	                                guards gone */
	struct vt_forgotten gone;
};

vt_latest *vt_latest_create(void)
{
	vt_latest *l = vt_xcalloc(1, sizeof *l);
	vt_published_init(&l->flush);
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void vt_latest_destroy(vt_latest *l)
{
	if (l == NULL)
		return;
	vt_published_fini(&l->flush);
	vt_forgotten_fini(&l->gone);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void copy_quantiles(const double **dst, const double *src,
    double **store, size_t np)
{
	if (src == NULL)
		return;
	memcpy(*store, src, np * sizeof(double));
	*dst = *store;
	*store += np;
}

/* f without the windows of forgotten services, with one reference: f
 * itself retained when nothing goes. */
static struct vt_flush *without_gone(const vt_latest *l,
    const struct vt_flush *f)
{
	size_t keep = 0, ntimers = 0;
	for (size_t i = 0; i < f->nmetrics; i++) {
		if (vt_forgotten_hides(&l->gone, f->metrics[i].series->service,
		    f->timestamp))
			continue;
		keep++;
		const struct vt_metric_window *w = &f->metrics[i];
		ntimers += w->quantiles || w->quantiles_1m ||
		    w->quantiles_5m || w->quantiles_15m;
	}
	if (keep == f->nmetrics)
		return vt_flush_retain(f);
	struct vt_flush *c = vt_flush_create(keep, ntimers, f->npercentiles);
	double *store = c->quantile_store;
	c->seq = f->seq;
	c->timestamp = f->timestamp;
	c->interval = f->interval;
	memcpy(c->percentiles, f->percentiles, sizeof c->percentiles);
	c->self = f->self;
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *w = &f->metrics[i];
		if (vt_forgotten_hides(&l->gone, w->series->service,
		    f->timestamp))
			continue;
		struct vt_metric_window *m = &c->metrics[c->nmetrics++];
		*m = *w;
		m->series = vt_series_retain(w->series);
		m->quantiles = m->quantiles_1m = m->quantiles_5m =
		    m->quantiles_15m = NULL;
		copy_quantiles(&m->quantiles, w->quantiles, &store,
		    f->npercentiles);
		copy_quantiles(&m->quantiles_1m, w->quantiles_1m, &store,
		    f->npercentiles);
		copy_quantiles(&m->quantiles_5m, w->quantiles_5m, &store,
		    f->npercentiles);
		copy_quantiles(&m->quantiles_15m, w->quantiles_15m, &store,
		    f->npercentiles);
	}
	return c;
}

static int latest_flush(void *ctx, const struct vt_flush *f)
{
	vt_latest *l = ctx;
	pthread_mutex_lock(&l->lock);
	vt_published_set(&l->flush, without_gone(l, f));
	vt_forgotten_prune(&l->gone, f->timestamp);
	pthread_mutex_unlock(&l->lock);
	return 0;
}

struct vt_sink vt_latest_sink(vt_latest *l)
{
	return (struct vt_sink){ .name = "latest", .ctx = l,
	    .flush = latest_flush };
}

struct vt_flush *vt_latest_get(vt_latest *l)
{
	return vt_published_get(&l->flush);
}

void vt_latest_forget(vt_latest *l, const char *service, double now)
{
	pthread_mutex_lock(&l->lock);
	vt_forgotten_add(&l->gone, service, now);
	struct vt_flush *f = vt_published_get(&l->flush);
	if (f != NULL) {
		struct vt_flush *c = without_gone(l, f);
		if (c != f)
			vt_published_set(&l->flush, c);
		else
			vt_flush_release(c);
		vt_flush_release(f);
	}
	pthread_mutex_unlock(&l->lock);
}
