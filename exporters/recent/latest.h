/*
 * latest.h - a sink that keeps the most recent closed window, so readers
 * on other threads (the JSON API, the service pages: a service's metrics
 * with their latest window values and 1/5/15-minute rates) can look at
 * it.
 *
 * The window published is the closed one plus an idle window for every
 * metric the catalogue remembers (catalogue.h): metrics the aggregator
 * expired, and after a restart every metric seen before it, until they
 * retire. So the views list what existed before, with its last-seen
 * time, before any new traffic; the catalogue is loaded at create and
 * saved from the flusher thread and at vt_latest_save.
 *
 * The flusher thread publishes each struct vt_flush in a struct
 * vt_published slot; readers take their own reference with vt_latest_get
 * and release it with vt_flush_release. Other views fed from the same
 * windows (the overview's trends, the map's calls) are attached with
 * vt_latest_feed.
 * Nothing here touches the ingest path.
 */
#ifndef VT_LATEST_H
#define VT_LATEST_H

#include "collector/agg/flush.h"
#include "collector/agg/sinks.h"
#include "exporters/recent/catalogue.h"
#include "exporters/recent/catalogue.h"

typedef struct vt_latest vt_latest;

struct vt_latest_config {
	const char *data_dir;        /* where catalogue.json lives; copied;
	                                NULL: nothing saved or loaded */
	double retire_after;         /* seconds idle before a metric leaves */
	size_t max_metrics;          /* metrics remembered at most; 0 = any */
	double flush_interval;       /* seconds (the window before the first) */
	size_t npercentiles;
	double percentiles[VT_MAX_PERCENTILES];
};

/* Loads the catalogue (a problem with the file is logged, never fatal)
 * and, when it remembers anything, publishes it at once. */
vt_latest *vt_latest_create(const struct vt_latest_config *cfg);
/* Drops the retained flush and frees. NULL ok. */
void vt_latest_destroy(vt_latest *l);

/* A sink whose ctx is l and whose destroy is NULL: l stays the caller's,
 * destroyed after the flusher and the HTTP server are stopped. */
struct vt_sink vt_latest_sink(vt_latest *l);

/* Hand every window published from now on (and the one published now,
 * if any) to sink.flush, on the flusher thread, after latest has it.
 * Call before the flusher starts. sink.destroy is not called. Up to
 * VT_LATEST_MAX_FEEDS views (the tiles' trends, the map's calls) may be
 * fed, each in the order attached; one more aborts. */
#define VT_LATEST_MAX_FEEDS 4
void vt_latest_feed(vt_latest *l, struct vt_sink sink);

/* vt_catalogue_each over the remembered metrics (at start: the daemon
 * brings the recent ones back into the aggregator). Thread-safe. */
void vt_latest_each(vt_latest *l, vt_catalogue_each_fn fn, void *ctx);

/* SIGHUP: a new retire_after and cap, from the next window on.
 * Thread-safe. */
void vt_latest_set_limits(vt_latest *l, double retire_after,
    size_t max_metrics);

/* Save the catalogue now (at shutdown, after the last window). 0 or
 * -errno, logged. */
int vt_latest_save(vt_latest *l);

/* The latest flush with a reference for the caller (vt_flush_release),
 * or NULL before the first window closed. Thread-safe. */
struct vt_flush *vt_latest_get(vt_latest *l);

/* For the windows w[0..n) (of the published flush): what the catalogue
 * kept of each series (catalogue.h: first seen, last window with
 * samples). Thread-safe. */
void vt_latest_kept(vt_latest *l, const struct vt_metric_window *const *w,
    size_t n, struct vt_catalogue_kept *out);

/* Idle: nothing came from it (a service, a metric) for
 * VT_LATEST_IDLE_WINDOWS windows of `interval` seconds and at least
 * VT_LATEST_IDLE_MIN seconds before now; the pages and the API say so.
 * interval 0 (unknown): only the minimum counts. */
#define VT_LATEST_IDLE_WINDOWS 3
#define VT_LATEST_IDLE_MIN 60.0
int vt_latest_idle(double interval, double last_seen, double now);

/* Forget a service (DELETE /api/v1/services/<s>, after the aggregator
 * dropped its metrics at unix time now): the published window is
 * replaced at once by a copy without its metrics, and a window that
 * closed at or before now and is still on its way to the sinks loses them
 * too, and the catalogue forgets it. A later window shows the service
 * again only if it sent again.
 * Thread-safe (the loop thread calls it). service is copied. */
void vt_latest_forget(vt_latest *l, const char *service, double now);

#endif
