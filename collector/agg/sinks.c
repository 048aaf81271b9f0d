/* sinks.c - the sink-calling thread (sinks.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/sinks.h"
#include "collector/base/log.h"
#include "collector/base/xmalloc.h"

struct vt_sinks {
	struct vt_sink sinks[VT_SINKS_MAX_SINKS];
	size_t nsinks;
	pthread_t thread;
	int running;
	pthread_mutex_t lock;       /* guards the ring, stopping, dropped */
	pthread_cond_t wake;
	struct vt_flush *ring[VT_SINKS_BACKLOG];
	size_t head, count;
	int stopping;
	uint64_t dropped;
};

vt_sinks *vt_sinks_create(void)
{
	vt_sinks *fl = vt_xcalloc(1, sizeof *fl);
	pthread_mutex_init(&fl->lock, NULL);
	pthread_cond_init(&fl->wake, NULL);
	return fl;
}

int vt_sinks_add_sink(vt_sinks *fl, struct vt_sink sink)
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

static void *flusher_main(void *arg)
{
	vt_sinks *fl = arg;
	pthread_mutex_lock(&fl->lock);
	for (;;) {
		while (fl->count == 0 && !fl->stopping)
			pthread_cond_wait(&fl->wake, &fl->lock);
		if (fl->count == 0)
			break;   /* stopping and drained */
		struct vt_flush *f = fl->ring[fl->head];
		fl->head = (fl->head + 1) % VT_SINKS_BACKLOG;
		fl->count--;
		pthread_mutex_unlock(&fl->lock);
		deliver(fl, f);
		pthread_mutex_lock(&fl->lock);
	}
	pthread_mutex_unlock(&fl->lock);
	return NULL;
}

int vt_sinks_start(vt_sinks *fl)
{
	int rc = pthread_create(&fl->thread, NULL, flusher_main, fl);
	if (rc != 0)
		return -rc;
	fl->running = 1;
	return 0;
}

void vt_sinks_submit(vt_sinks *fl, struct vt_flush *f)
{
	struct vt_flush *victim = NULL;
	pthread_mutex_lock(&fl->lock);
	if (fl->count == VT_SINKS_BACKLOG) {
		victim = fl->ring[fl->head];
		fl->head = (fl->head + 1) % VT_SINKS_BACKLOG;
		fl->count--;
		fl->dropped++;
	}
	fl->ring[(fl->head + fl->count) % VT_SINKS_BACKLOG] = f;
	fl->count++;
	pthread_cond_signal(&fl->wake);
	pthread_mutex_unlock(&fl->lock);
	if (victim) {
		vt_log_warn("flush", "sinks are behind: dropped window %llu",
		    (unsigned long long)victim->seq);
		vt_flush_release(victim);
	}
	if (!fl->running) {   /* no thread (tests, or after stop): inline */
		pthread_mutex_lock(&fl->lock);
		while (fl->count) {
			struct vt_flush *g = fl->ring[fl->head];
			fl->head = (fl->head + 1) % VT_SINKS_BACKLOG;
			fl->count--;
			pthread_mutex_unlock(&fl->lock);
			deliver(fl, g);
			pthread_mutex_lock(&fl->lock);
		}
		pthread_mutex_unlock(&fl->lock);
	}
}

uint64_t vt_sinks_dropped(vt_sinks *fl)
{
	pthread_mutex_lock(&fl->lock);
	uint64_t d = fl->dropped;
	pthread_mutex_unlock(&fl->lock);
	return d;
}

void vt_sinks_stop(vt_sinks *fl)
{
	if (!fl->running)
		return;
	pthread_mutex_lock(&fl->lock);
	fl->stopping = 1;
	pthread_cond_signal(&fl->wake);
	pthread_mutex_unlock(&fl->lock);
	pthread_join(fl->thread, NULL);
	fl->running = 0;
}

void vt_sinks_destroy(vt_sinks *fl)
{
	if (fl == NULL)
		return;
	vt_sinks_stop(fl);
	while (fl->count) {
		vt_flush_release(fl->ring[fl->head]);
		fl->head = (fl->head + 1) % VT_SINKS_BACKLOG;
		fl->count--;
	}
	for (size_t i = 0; i < fl->nsinks; i++)
		if (fl->sinks[i].destroy)
			fl->sinks[i].destroy(fl->sinks[i].ctx);
	pthread_mutex_destroy(&fl->lock);
	pthread_cond_destroy(&fl->wake);
	free(fl);
}
