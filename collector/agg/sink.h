/*
 * sink.h - the interface every consumer of closed windows implements.
 *
 * Sinks are peers: the Prometheus exporter, the RRD store and the alert
 * engine each fill one struct vt_sink and are registered with the flusher
 * (vt_sinks_add_sink), which calls them in order on its own thread.
 * Callbacks must not block for long; slow work goes to the sink's own
 * worker behind a bounded queue.
 */
#ifndef VT_SINK_H
#define VT_SINK_H

#include "collector/agg/flush.h"

struct vt_sink {
	const char *name;   /* for logs: "prometheus", "rrd", "alerts" */
	void *ctx;          /* owned by the sink; freed by destroy */
	/* A window closed. f is borrowed for the call; vt_flush_retain it to
	 * keep it. Returns 0 or a negative errno (logged, never fatal). */
	int (*flush)(void *ctx, const struct vt_flush *f);
	/* Release ctx and everything the sink owns. May be NULL. */
	void (*destroy)(void *ctx);
};

#endif
