/*
 * latest.h - a sink that keeps the most recent closed window, so readers
 * on other threads (the JSON API: a service's metrics with their latest
 * window values and 1/5/15-minute rates) can look at it.
 *
 * The flusher thread publishes each struct vt_flush in a struct
 * vt_published slot; readers take their own reference with vt_latest_get
 * and release it with vt_flush_release. Nothing here touches the ingest
 * path.
 */
#ifndef VT_LATEST_H
#define VT_LATEST_H

#include "collector/agg/flush.h"
#include "collector/agg/sinks.h"

typedef struct vt_latest vt_latest;

vt_latest *vt_latest_create(void);
/* Drops the retained flush and frees. NULL ok. */
void vt_latest_destroy(vt_latest *l);

/* A sink whose ctx is l and whose destroy is NULL: l stays the caller's,
 * destroyed after the flusher and the HTTP server are stopped. */
struct vt_sink vt_latest_sink(vt_latest *l);

/* The latest flush with a reference for the caller (vt_flush_release),
 * or NULL before the first window closed. Thread-safe. */
struct vt_flush *vt_latest_get(vt_latest *l);

/* Forget a service (DELETE /api/v1/services/<s>, after the aggregator
 * dropped its metrics at unix time now): the published window is
 * replaced at once by a copy without its metrics, and a window that
 * closed at or before now and is still on its way to the sinks loses them
 * too. A later window shows the service again only if it sent again.
 * Thread-safe (the loop thread calls it). service is copied. */
void vt_latest_forget(vt_latest *l, const char *service, double now);

#endif
