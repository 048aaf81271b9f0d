/* latest.c - the most recent closed window, shared by reference (latest.h). */
#include <stdlib.h>

#include "collector/base/published.h"
#include "collector/base/xmalloc.h"
#include "exporters/recent/latest.h"

struct vt_latest {
	struct vt_published flush;   /* struct vt_flush, or NULL */
};

vt_latest *vt_latest_create(void)
{
	vt_latest *l = vt_xcalloc(1, sizeof *l);
	vt_published_init(&l->flush);
	return l;
}

void vt_latest_destroy(vt_latest *l)
{
	if (l == NULL)
		return;
	vt_published_fini(&l->flush);
	free(l);
}

static int latest_flush(void *ctx, const struct vt_flush *f)
{
	vt_latest *l = ctx;
	vt_published_set(&l->flush, vt_flush_retain(f));
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
