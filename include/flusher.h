/*
 * flusher.h - hands each closed window to the sinks, on its own thread.
 *
 * The loop thread closes a window (vt_agg_close_window) and submits the
 * flush; the flusher thread calls every registered sink's flush() in
 * registration order, then drops its reference. If sinks fall more than
 * VT_FLUSHER_BACKLOG windows behind, the oldest pending window is dropped
 * and counted, so ingest never waits for a sink.
 */
#ifndef VT_FLUSHER_H
#define VT_FLUSHER_H

#include <stddef.h>
#include <stdint.h>

#include "flush.h"
#include "sink.h"

#define VT_FLUSHER_BACKLOG 4
#define VT_FLUSHER_MAX_SINKS 8

typedef struct vt_flusher vt_flusher;

vt_flusher *vt_flusher_create(void);

/* Register a sink before vt_flusher_start. The flusher owns it from now
 * on and calls sink.destroy(sink.ctx) (when not NULL) in
 * vt_flusher_destroy. Returns 0 or -ENOSPC. */
int vt_flusher_add_sink(vt_flusher *fl, struct vt_sink sink);

/* Start the thread. 0 or -errno. */
int vt_flusher_start(vt_flusher *fl);

/* Takes over the caller's reference to f. Thread-safe, never blocks. */
void vt_flusher_submit(vt_flusher *fl, struct vt_flush *f);

/* Windows dropped because the sinks were behind. */
uint64_t vt_flusher_dropped(vt_flusher *fl);

/* Deliver everything pending, then stop and join the thread. */
void vt_flusher_stop(vt_flusher *fl);

/* Stop if running, destroy the sinks, free. NULL ok. */
void vt_flusher_destroy(vt_flusher *fl);

#endif
