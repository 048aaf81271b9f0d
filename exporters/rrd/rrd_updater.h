/*
 * rrd_updater.h - the RRD update worker: a helper process that makes librrd's
 * calls for the RRD writer (rrd_files.c).
 *
 * Why a process: librrd maps the whole file into memory and unmaps it on
 * every update, and in a multi-threaded process each munmap must shoot
 * down the TLB of every other CPU running one of its threads. In vitalsd
 * (ingest, flusher, HTTP threads) that makes an update about half again
 * as expensive as in a single-threaded process; the worker is one.
 *
 * The worker is a child of the fork server (forkserver.h), started from
 * a process with one thread, so it holds only the server's few
 * descriptors (stdio and its socket); it dies with the server, which dies
 * with the daemon, and serves one request at a time: requests and answers
 * are messages on a SOCK_SEQPACKET pair, answered in order, so the writer
 * can keep a window of updates in flight. When the worker dies, the
 * requests in flight fail (-EPIPE) and the next request starts a new one.
 *
 * Every librrd call of the writer goes through the worker: creating
 * files, reading a file's last update, updates through rrdcached (when
 * the worker was started with its address) and of files the in-place
 * writer does not handle (rrd_direct.h, which makes the direct updates
 * in the writer's own thread), asking rrdcached to flush a file. So
 * librrd and the ~40 libraries it pulls in are never loaded by the
 * daemon itself (dynlib.h).
 *
 * One owner thread; nothing here is locked, but for
 * vt_rrd_updater_abort, which any thread may call.
 */
#ifndef VT_RRD_UPDATER_H
#define VT_RRD_UPDATER_H

#include <stddef.h>
#include <time.h>

#include "exporters/rrd/rrd_layout.h"

struct vt_rrd_updater;

/* Fork the worker; cached is the rrdcached address updates go through
 * (NULL or "": direct). NULL with err set when it cannot start. */
struct vt_rrd_updater *vt_rrd_updater_start(const char *cached, char *err, size_t errlen);
/* Close the socket (the worker finishes what it has and exits), reap it,
 * free. NULL ok. */
void vt_rrd_updater_stop(struct vt_rrd_updater *w);

/* From any thread (shutdown past its deadline): kill the worker, wake the
 * owner if it waits on it, and start no new one: every call fails at once
 * (-EPIPE) from now on. */
void vt_rrd_updater_abort(struct vt_rrd_updater *w);

/* Send an update of path with argc "<time>:<v>..." strings (as
 * vt_rrd_lib_update; path as rrdcached wants it when one is used). 0, or
 * a negative errno when it cannot be sent (too large: -EMSGSIZE; worker
 * gone: -EPIPE, after which the worker is restarted on the next call). */
int vt_rrd_updater_send(struct vt_rrd_updater *w, const char *path, int argc,
    const char *const *argv);

/* The result of the oldest request in flight (blocks until it is in):
 * 0 or a negative errno as vt_rrd_lib_update returns, with err set. */
int vt_rrd_updater_result(struct vt_rrd_updater *w, char *err, size_t errlen);

/* Requests sent and not yet collected. */
size_t vt_rrd_updater_pending(const struct vt_rrd_updater *w);

/* Synchronous calls, as the vt_rrd_lib_ functions of the same name; only
 * with no update in flight (else -EBUSY). flush is a no-op without
 * rrdcached. */
int vt_rrd_updater_create(struct vt_rrd_updater *w, const char *path, unsigned long step,
    time_t last_up, const struct vt_rrd_create_args *args, char *err,
    size_t errlen);
int vt_rrd_updater_lastupdate(struct vt_rrd_updater *w, const char *path, time_t *last,
    struct vt_rrd_ds_list *ds, char *err, size_t errlen);
int vt_rrd_updater_flush(struct vt_rrd_updater *w, const char *path, char *err,
    size_t errlen);

/* CPU seconds used by the worker processes so far (live and past). */
double vt_rrd_updater_cpu_seconds(const struct vt_rrd_updater *w);

#endif
