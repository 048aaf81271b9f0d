/*
 * sinks.h - hands each closed window to the sinks, on its own thread.
 *
 * The loop thread closes a window (vt_agg_close_window) and submits the
 * flush; the flusher thread calls every registered sink's flush() in
 * registration order, then drops its reference. If sinks fall more than
 * VT_SINKS_BACKLOG windows behind, the oldest pending window is dropped
 * and counted, so ingest never waits for a sink.
 */
#ifndef VT_SINKS_H
#define VT_SINKS_H

#include <stddef.h>
#include <stdint.h>

#include "collector/agg/flush.h"
#include "collector/agg/sink.h"

#define VT_SINKS_BACKLOG 4
#define VT_SINKS_MAX_SINKS 8

typedef struct vt_sinks vt_sinks;

vt_sinks *vt_sinks_create(void);

/* Register a sink before vt_sinks_start. The flusher owns it from now
 * on and calls sink.destroy(sink.ctx) (when not NULL) in
 * vt_sinks_destroy. Returns 0 or -ENOSPC. */
int vt_sinks_add_sink(vt_sinks *fl, struct vt_sink sink);

/* Start the thread. 0 or -errno. */
int vt_sinks_start(vt_sinks *fl);

/* Takes over the caller's reference to f. Thread-safe, never blocks. */
void vt_sinks_submit(vt_sinks *fl, struct vt_flush *f);

/* Windows dropped because the sinks were behind. */
uint64_t vt_sinks_dropped(vt_sinks *fl);

/* Deliver everything pending, then stop and join the thread. */
void vt_sinks_stop(vt_sinks *fl);

/* Stop if running, destroy the sinks, free. NULL ok. */
void vt_sinks_destroy(vt_sinks *fl);

#endif
