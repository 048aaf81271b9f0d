/* flush.c - closed windows as immutable, reference-counted values. */
#include <math.h>
#include <stdlib.h>

#include "collector/agg/flush.h"
#include "collector/base/xmalloc.h"

struct vt_flush *vt_flush_create(size_t nmetrics, size_t ntimers,
    size_t npercentiles)
{
	struct vt_flush *f = vt_xcalloc(1, sizeof *f);
	f->refs = 1;
	f->npercentiles = npercentiles;
	f->metrics = vt_xcalloc(nmetrics ? nmetrics : 1, sizeof *f->metrics);
	f->quantile_store = vt_xcalloc(ntimers * 4 * npercentiles + 1,
	    sizeof(double));
	return f;
}

struct vt_flush *vt_flush_retain(struct vt_flush *f)
{
	__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
	return f;
}

void vt_flush_release(struct vt_flush *f)
{
	if (f == NULL || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (size_t i = 0; i < f->nmetrics; i++)
		vt_series_release(f->metrics[i].series);
	free(f->metrics);
	free(f->quantile_store);
	free(f);
}
