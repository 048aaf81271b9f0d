/* latest.c - the most recent closed window, shared by reference (latest.h). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "exporters/recent/latest.h"
#include "collector/base/xmalloc.h"

struct vt_latest {
	pthread_mutex_t lock;      /* guards flush */
	struct vt_flush *flush;    /* one reference, or NULL */
};

vt_latest *vt_latest_create(void)
{
	vt_latest *l = vt_xcalloc(1, sizeof *l);
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void vt_latest_destroy(vt_latest *l)
{
	if (l == NULL)
		return;
	vt_flush_release(l->flush);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static int latest_flush(void *ctx, const struct vt_flush *f)
{
	vt_latest *l = ctx;
	/* Retaining only touches the atomic reference count; the flush stays
	 * read-only (the uintptr_t cast says so to -Wcast-qual). */
	struct vt_flush *keep = vt_flush_retain((struct vt_flush *)(uintptr_t)f);
	pthread_mutex_lock(&l->lock);
	struct vt_flush *old = l->flush;
	l->flush = keep;
	pthread_mutex_unlock(&l->lock);
	vt_flush_release(old);
	return 0;
}

struct vt_sink vt_latest_sink(vt_latest *l)
{
	struct vt_sink s = {
		.name = "latest",
		.ctx = l,
		.flush = latest_flush,
		.destroy = NULL,
	};
	return s;
}

struct vt_flush *vt_latest_get(vt_latest *l)
{
	pthread_mutex_lock(&l->lock);
	struct vt_flush *f = l->flush ? vt_flush_retain(l->flush) : NULL;
	pthread_mutex_unlock(&l->lock);
	return f;
}
