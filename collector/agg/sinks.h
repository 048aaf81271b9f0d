/*
 * sinks.h - the interface every consumer of closed windows implements,
 * and the thread that hands each closed window to them.
 *
 * Sinks are peers: the Prometheus exporter, the RRD store, the alert
 * engine and the in-memory views each fill one struct vt_sink, registered
 * here in the order they are called. The loop thread closes a window
 * (vt_agg_close_window) and submits the flush; the sink thread calls every
 * sink's flush() in registration order, then drops its reference. If the
 * sinks fall more than VT_SINKS_BACKLOG windows behind, the oldest pending
 * window is dropped and counted (vitals_flushes_dropped_total), so ingest
 * never waits for a sink. Callbacks must not block for long; slow work
 * goes to the sink's own worker behind a bounded queue (queue.h).
 */
#ifndef VT_SINKS_H
#define VT_SINKS_H

#include <stddef.h>
#include <stdint.h>

#include "collector/agg/flush.h"

#define VT_SINKS_BACKLOG 4
#define VT_SINKS_MAX_SINKS 8

struct vt_sink {
	const char *name;   /* for logs: "prometheus", "rrd", "alerts" */
	/* Borrowed: the module that made the sink owns ctx and destroys it
	 * after vt_sinks_stop (the daemon's stop order). */
	void *ctx;
	/* A window closed. f is borrowed for the call; vt_flush_retain it to
	 * keep it. Returns 0 or a negative errno (logged, never fatal). */
	int (*flush)(void *ctx, const struct vt_flush *f);
};

typedef struct vt_sinks vt_sinks;

vt_sinks *vt_sinks_create(void);

/* Register a sink before vt_sinks_start; ctx must outlive vt_sinks_stop.
 * Returns 0, or -ENOSPC when VT_SINKS_MAX_SINKS are registered already
 * (the daemon then refuses to start). */
int vt_sinks_add(vt_sinks *fl, struct vt_sink sink);

/* Start the thread. 0 or -errno. */
int vt_sinks_start(vt_sinks *fl);

/* Takes over the caller's reference to f. Thread-safe, never blocks. */
void vt_sinks_submit(vt_sinks *fl, struct vt_flush *f);

/* Windows dropped because the sinks were behind. */
uint64_t vt_sinks_dropped(vt_sinks *fl);

/* Deliver everything pending, then stop and join the thread. */
void vt_sinks_stop(vt_sinks *fl);

/* Stop if running, drop pending windows, free. NULL ok. */
void vt_sinks_destroy(vt_sinks *fl);

#endif
