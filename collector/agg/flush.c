/* flush.c - closed windows as immutable, reference-counted values. */
#include <math.h>
#include <stdlib.h>

#include "collector/agg/flush.h"
#include "collector/base/ref.h"
#include "collector/base/xmalloc.h"

VT_REF_FIRST(struct vt_flush);

static void flush_destroy(void *obj)
{
	struct vt_flush *f = obj;
	for (size_t i = 0; i < f->nmetrics; i++)
		vt_series_release(f->metrics[i].series);
	free(f->metrics);
	free(f->quantile_store);
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

struct vt_flush *vt_flush_retain(const struct vt_flush *f)
{
	return vt_ref_retain(&f->ref);
}

void vt_flush_release(struct vt_flush *f)
{
	if (f != NULL)
		vt_ref_release(&f->ref);
}
