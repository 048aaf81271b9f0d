/*
 * rrdw.h - the RRD update worker: a helper process that runs librrd's
 * direct updates for the RRD writer (rrd_files.c).
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
 * with the daemon, and serves one update
 * at a time: requests and answers are messages on a SOCK_SEQPACKET pair,
 * answered in order, so the writer can keep a window of requests in
 * flight. When the worker dies, the requests in flight fail (-EPIPE) and
 * the next request starts a new one.
 *
 * One owner thread; nothing here is locked.
 */
#ifndef VT_RRDW_H
#define VT_RRDW_H

#include <stddef.h>

struct vt_rrdw;

/* Fork the worker. NULL with err set when it cannot start. */
struct vt_rrdw *vt_rrdw_start(char *err, size_t errlen);
/* Close the socket (the worker finishes what it has and exits), reap it,
 * free. NULL ok. */
void vt_rrdw_stop(struct vt_rrdw *w);

/* Send an update of path with argc "<time>:<v>..." strings (as
 * vt_rrdlib_update). 0, or a negative errno when it cannot be sent (too
 * large: -EMSGSIZE; worker gone: -EPIPE, after which the worker is
 * restarted on the next call). */
int vt_rrdw_send(struct vt_rrdw *w, const char *path, int argc,
    const char *const *argv);

/* The result of the oldest request in flight (blocks until it is in):
 * 0 or a negative errno as vt_rrdlib_update returns, with err set. */
int vt_rrdw_result(struct vt_rrdw *w, char *err, size_t errlen);

/* Requests sent and not yet collected. */
size_t vt_rrdw_pending(const struct vt_rrdw *w);

/* CPU seconds used by the worker processes so far (live and past). */
double vt_rrdw_cpu_seconds(const struct vt_rrdw *w);

#endif
