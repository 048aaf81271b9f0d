/*
 * trends.h - the figures an overview tile shows for each service, kept
 * from window to window by a sink: how many metrics the service has, when
 * it last sent one, and its busiest timer (the timer or histogram with
 * the highest 1-minute rate) with the request rate and p99 of the last
 * VT_TRENDS_POINTS windows, for the tile's sparkline.
 *
 * Reading RRD files for 1,000 tiles would cost far more than the 100 ms a
 * page may take, so this keeps the short history in memory: about
 * 0.5 KiB per service.
 *
 * Threads: the sink's flush runs on the flusher thread and builds a new
 * immutable snapshot from the previous one and the window, published in a
 * struct vt_published slot; HTTP threads take a reference with
 * vt_trends_get and drop it with vt_trends_release.
 */
#ifndef VT_TRENDS_H
#define VT_TRENDS_H

#include <stddef.h>

#include "collector/agg/flush.h"
#include "collector/agg/sinks.h"
#include "collector/base/ref.h"

#define VT_TRENDS_POINTS 30          /* windows kept for sparklines */

struct vt_trend {
	char *service;               /* owned by the snapshot */
	char *timer;                 /* busiest timer's metric, or NULL */
	double rate;                 /* its 1-minute rate (EWMA), /s */
	double p99;                  /* p99 (or highest percentile) of the last
	                                window, else of the last minute; ms */
	size_t npoints;              /* valid history points, oldest first */
	double rate_hist[VT_TRENDS_POINTS];
	double p99_hist[VT_TRENDS_POINTS];   /* NaN: no samples that window */
	size_t nmetrics;             /* series of the service in the window */
	double last_seen;            /* unix time of its latest sample */
};

struct vt_trends_snapshot {
	struct vt_ref ref;           /* first; use get/release */
	double timestamp;            /* end of the window (0: none yet) */
	double interval;             /* seconds per window */
	size_t n;                    /* sorted by service */
	struct vt_trend *v;
};

typedef struct vt_trends vt_trends;

vt_trends *vt_trends_create(void);
/* Frees the latest snapshot; snapshots still referenced live on. NULL ok. */
void vt_trends_destroy(vt_trends *t);

/* A sink whose ctx is t and whose destroy is NULL: t stays the caller's,
 * destroyed after the flusher and the HTTP server are stopped. */
struct vt_sink vt_trends_sink(vt_trends *t);

/* Build the next snapshot from prev (may be NULL) and window f. Exposed
 * for tests; the sink calls it. Returns a snapshot with one reference. */
struct vt_trends_snapshot *vt_trends_next(
    const struct vt_trends_snapshot *prev, const struct vt_flush *f);

/* The latest snapshot with a reference for the caller (never NULL).
 * Thread-safe. */
struct vt_trends_snapshot *vt_trends_get(vt_trends *t);
/* Drop a reference. Thread-safe. NULL ok. */
void vt_trends_release(struct vt_trends_snapshot *s);

/* Forget a service (DELETE /api/v1/services/<s>, after the aggregator
 * dropped its metrics at unix time now): the published snapshot is
 * replaced at once by one without its tile, and a window that closed at
 * or before now and is still on its way to the sinks does not bring it
 * back. Thread-safe (the loop thread calls it). service is copied. */
void vt_trends_forget(vt_trends *t, const char *service, double now);

/* The trend of service in s, or NULL (binary search). */
const struct vt_trend *vt_trends_find(const struct vt_trends_snapshot *s,
    const char *service);

#endif
