/*
 * rrd_store.h - the RRD sink (SPEC 5): every closed window goes to disk in
 * round-robin files, one per metric (rrd_layout.h says where and how), one
 * per check for its status history.
 *
 * Threads: the sink's flush() runs on the flusher thread. It copies the
 * window's values (and, when a health registry is given, every check's
 * status from its latest snapshot) into a batch, appends it to a bounded
 * queue and returns at once; it never waits for the disk. One writer
 * thread takes everything queued (so a writer that fell behind writes
 * several windows to a file in one call: coalescing), creates files when a
 * series first has data and updates them. Ingest never waits for storage.
 *
 * Bounds and counts (/metrics via vt_rrd_store_collect):
 * - the queue holds at most queue_max updates (one update = one window of
 *   one file); a window that does not fit is skipped whole and counted
 *   (reason "queue_full"), except that an empty queue always takes one.
 * - a window is never written twice to a file: a timestamp not after the
 *   file's last update is skipped and counted ("late"), not an error. The
 *   timestamp is the window's close time rounded to the second; when the
 *   final window closes within the same second as the previous one, it is
 *   written one second later.
 * - two series that map to one file (a tagged and an untagged name with
 *   the same service and metric) or a file whose data sources no longer
 *   match (a name that changed kind, changed percentiles): the older series
 *   keeps the file, the rest is skipped and counted ("conflict").
 * - errors (unwritable directory, disk full, rrdcached away) are counted,
 *   logged once with backoff (log.h complaints) and retried with the next
 *   window; recovery is logged.
 * - shutdown is bounded (vt_rrd_store_stop): a writer stalled past the
 *   bound (stopped worker, hung disk) is aborted; what it did not write is
 *   skipped and counted ("shutdown") and logged.
 *
 * Safety: names are mapped by rrd_layout (never outside the data
 * directory); the data directory is resolved once (realpath); service and
 * instance directories are created 0755 and must be real directories, and
 * a symbolic link where a directory or file should be is refused and
 * counted as an error.
 *
 * Direct updates are written in place by the writer thread (rrd_direct.h:
 * pread/pwrite, the bytes librrd would write, about 20 us where librrd
 * took 350). Every librrd call of the writer (creating files, reading a
 * file's last update, updates through rrdcached, files rrd_direct does
 * not write) runs in a worker process (rrd_updater.h), started at create:
 * librrd maps and unmaps the file on every call, which costs much more in
 * a multi-threaded process, and the daemon itself never loads librrd.
 *
 * Write-behind (direct mode, write_delay > 0; rrd_files.h): the writer
 * holds each file's windows up to write_delay and writes them in one
 * call, files coming due spread over the delay. A reader asks for the
 * file first (vt_rrd_store_sync), so graphs and series see every closed
 * window; stop writes everything held. A kill -9 loses what is held: at
 * most write_delay (plus the window in progress). New files are made at
 * most create_rate a second; files waiting hold their windows (counted:
 * vitals_storage_files_waiting, skipped reason "create_backlog").
 *
 * rrdcached: with `cached` set, files are still created directly (so the
 * data directory must be the one rrdcached serves, its -b), updates go
 * through rrdcached. Unix socket addresses get absolute paths; TCP
 * addresses get paths relative to the data directory.
 */
#ifndef VT_RRD_STORE_H
#define VT_RRD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "collector/agg/sinks.h"
#include "collector/base/buf.h"
#include "collector/base/prom_text.h"
#include "collector/health/health.h"
#include "exporters/rrd/rrd_layout.h"

struct vt_rrd_store_config {
	const char *data_dir;       /* must exist; copied (resolved) */
	const char *cached;         /* rrdcached address; NULL or "" = direct */
	double flush_interval;      /* seconds: the RRD step (rounded) */
	size_t points;              /* rows per archive range (~1000) */
	size_t queue_max;           /* updates queued at most */
	double write_delay;         /* seconds windows are held (direct mode;
	                               rrdcached has its own -w); 0: none */
	double create_rate;         /* new files a second at most; 0: no bound */
	vt_health *health;          /* borrowed, must outlive the store; NULL:
	                               no check files */
};

/* Reasons an update was skipped (label of vitals_storage_skipped_total). */
enum vt_rrd_store_skip {
	VT_RRD_SKIP_QUEUE_FULL = 0,
	VT_RRD_SKIP_LATE,
	VT_RRD_SKIP_CONFLICT,
	VT_RRD_SKIP_SHUTDOWN,       /* dropped when shutdown ran out of time */
	VT_RRD_SKIP_CREATE_BACKLOG, /* its file waited for create_rate with
	                               VT_RRD_WAIT_ROWS windows held */
	VT_RRD_SKIP_COUNT
};

/* A copy of the counters. */
struct vt_rrd_store_stats {
	uint64_t queued;            /* gauge: updates waiting for the writer */
	uint64_t queue_max;         /* gauge: the bound */
	uint64_t windows;           /* windows fully handled by the writer */
	uint64_t updates;           /* updates written (one file, one window) */
	uint64_t calls;             /* librrd/rrdcached update calls made */
	uint64_t skipped[VT_RRD_SKIP_COUNT];
	uint64_t folded;            /* check windows folded (rrd_files.h) */
	uint64_t errors;            /* updates lost to errors */
	uint64_t files;             /* gauge: files being written */
	uint64_t files_created;
	double last_round_seconds;  /* gauge: wall time of the last round */
	double round_running_seconds; /* gauge: age of the round in progress
	                               (0 between rounds) */
	double last_window;         /* gauge: unix time of the last window
	                               written (0 before the first) */
	double writer_cpu_seconds;  /* CPU time of the writer thread */
	uint64_t held_rows;         /* gauge: windows held (write-behind) */
	uint64_t held_bytes;        /* gauge: memory holding them */
	double held_oldest;         /* gauge: close time of the oldest held
	                               window (0: none) */
	uint64_t files_waiting;     /* gauge: files waiting to be created */
	uint64_t syncs;             /* reads that had held windows written */
	uint64_t sync_timeouts;     /* reads that gave up waiting for that */
};

typedef struct vt_rrd_store vt_rrd_store;

/* Resolve the data directory and start the writer thread. NULL with err
 * set when the directory cannot be resolved or the thread not started. */
vt_rrd_store *vt_rrd_store_create(const struct vt_rrd_store_config *cfg,
    char *err, size_t errlen);

/* The sink: ctx is st, destroy is NULL (the caller destroys st after the
 * flusher has stopped, so the final window is in the queue). */
struct vt_sink vt_rrd_store_sink(vt_rrd_store *st);

/* The sink's flush (also callable directly, e.g. by tests): queue one
 * window. Thread-safe; never blocks on I/O. Returns 0. */
int vt_rrd_store_flush(void *st, const struct vt_flush *f);

/* While hold is set the writer takes nothing from the queue (tests use it
 * to fill the queue deterministically); clearing it lets the writer go.
 * Destroy still writes what a held store queued; drain would wait forever. */
void vt_rrd_store_hold(vt_rrd_store *st, int hold);

/* Wait until everything queued so far is written (or failed). */
void vt_rrd_store_drain(vt_rrd_store *st);

/* Shutdown: drain for at most timeout seconds. 0 when everything was
 * written; -ETIMEDOUT when the writer did not finish (stalled worker,
 * hung disk): the worker is then killed, what is left is dropped, counted
 * (skipped, reason "shutdown") and logged, and destroy waits no longer
 * than the same deadline (plus 2 s). NULL ok. */
int vt_rrd_store_stop(vt_rrd_store *st, double timeout);

/* Drain (bounded after vt_rrd_store_stop), stop the writer, free. A
 * writer stuck in the kernel past the bound is left behind, with the
 * store (logged). NULL ok. */
void vt_rrd_store_destroy(vt_rrd_store *st);

void vt_rrd_store_get_stats(vt_rrd_store *st, struct vt_rrd_store_stats *out);

/* A prom collector (vt_prom_add_collector) for the vitals_storage_*
 * families; ctx is the store. Thread-safe. */
void vt_rrd_store_collect(void *st, struct vt_buf *out,
    enum vt_prom_format fmt);

/* Before a read of the file at rel (relative path): have the writer
 * write what it holds for it, waiting at most timeout seconds. 0 (also
 * when nothing is held, or without write-behind), -ETIMEDOUT (the read
 * goes on with what is on disk). Any thread but the writer's. NULL ok. */
int vt_rrd_store_sync(vt_rrd_store *st, const char *rel, double timeout);

/* The kind of the series written to rel (a relative path from
 * rrd_layout) since start, or -1 when unknown. Thread-safe. */
int vt_rrd_store_kind_of(vt_rrd_store *st, const char *rel);

#endif
