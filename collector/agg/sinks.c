/* sinks.c - the sink-calling thread (sinks.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/sinks.h"
#include "collector/base/log.h"
#include "collector/base/queue.h"
#include "collector/base/xmalloc.h"

struct vt_sinks {
	struct vt_sink sinks[VT_SINKS_MAX_SINKS];
	size_t nsinks;
	pthread_t thread;
	int running;
	struct vt_queue q;          /* VT_SINKS_BACKLOG; evicts the oldest */
};

vt_sinks *vt_sinks_create(void)
{
	vt_sinks *fl = vt_xcalloc(1, sizeof *fl);
	vt_queue_init(&fl->q, VT_SINKS_BACKLOG, 0, VT_QUEUE_EVICT);
	return fl;
}

int vt_sinks_add(vt_sinks *fl, struct vt_sink sink)
{
	if (fl->nsinks == VT_SINKS_MAX_SINKS)
		return -ENOSPC;
	fl->sinks[fl->nsinks++] = sink;
	return 0;
}

static void deliver(vt_sinks *fl, struct vt_flush *f)
{
	for (size_t i = 0; i < fl->nsinks; i++) {
		int rc = fl->sinks[i].flush(fl->sinks[i].ctx, f);
		if (rc < 0)
			vt_log_warn("flush", "sink %s: %s", fl->sinks[i].name,
			    strerror(-rc));
	}
	vt_flush_release(f);
}

/* The window of a queued node, with the reference submit took over. */
static struct vt_flush *unwrap(struct vt_queue_node *n)
{
	return VT_QUEUE_ITEM(n, struct vt_flush, node);
}

static void *flusher_main(void *arg)
{
	vt_sinks *fl = arg;
	struct vt_queue_node *n;
	while ((n = vt_queue_pop(&fl->q, -1)) != NULL)
		deliver(fl, unwrap(n));
	/* Stopping: deliver what is still pending, oldest first. */
	n = vt_queue_take(&fl->q, 0);
	while (n) {
		struct vt_queue_node *next = n->next;
		deliver(fl, unwrap(n));
		n = next;
	}
	return NULL;
}

int vt_sinks_start(vt_sinks *fl)
{
	int rc = pthread_create(&fl->thread, NULL, flusher_main, fl);
	if (rc != 0)
		return -rc;
	pthread_setname_np(fl->thread, "vitals-flush");   /* for top, benches */
	fl->running = 1;
	return 0;
}

void vt_sinks_submit(vt_sinks *fl, struct vt_flush *f)
{
	if (!fl->running) {   /* no thread (tests, or after stop): inline */
		deliver(fl, f);
		return;
	}
	struct vt_queue_node *victim;
	if (vt_queue_push(&fl->q, &f->node, 0, &victim) < 0)
		victim = &f->node;   /* closed: stop runs on this thread */
	if (victim) {
		struct vt_flush *old = unwrap(victim);
		vt_log_warn("flush", "sinks are behind: dropped window %llu",
		    (unsigned long long)old->seq);
		vt_flush_release(old);
	}
}

uint64_t vt_sinks_dropped(vt_sinks *fl)
{
	return vt_queue_dropped(&fl->q);
}

void vt_sinks_stop(vt_sinks *fl)
{
	if (!fl->running)
		return;
	vt_queue_close(&fl->q);
	pthread_join(fl->thread, NULL);
	fl->running = 0;
}

void vt_sinks_destroy(vt_sinks *fl)
{
	if (fl == NULL)
		return;
	vt_sinks_stop(fl);   /* the queue is empty now: the thread drained
	                        it, and without one submit delivers inline */
	vt_queue_fini(&fl->q);
	free(fl);
}
