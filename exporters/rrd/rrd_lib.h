/*
 * rrd_lib.h - the one wrapper around librrd (STYLE 20): every call into
 * librrd in vitalsd goes through here.
 *
 * Direct calls use the thread-safe _r variants; librrd keeps its error
 * text per thread, which is cleared before and copied out after each call.
 * Graphs are drawn in short-lived children of a fork server (forkserver.h)
 * that the daemon starts before its first thread; the image comes back
 * through a socket, never a file. rrd_graph_v is not thread-safe (Pango,
 * fontconfig), librrd 1.7 leaks a little memory on every call, which a
 * child contains, and a child forked straight from the threaded daemon
 * could inherit a lock held by another thread and hang; a renderer that
 * takes over 30 s is killed.
 *
 * librrd is opened on first use (dynlib.h), and the daemon never uses it
 * itself: once a process has started the fork server, its lastupdate,
 * fetch and rrdcached flush calls run in one short-lived server child
 * each (answers come back as bytes), and the RRD writer makes its librrd
 * calls (its direct updates are rrd_direct.h's, without librrd) through
 * the update worker (rrd_updater.h), also a server child. So librrd and
 * the ~40 libraries it brings (about 6 MB resident) live only in the
 * helpers. A process without a fork server (tests) calls librrd here.
 *
 * rrdcached is reached through a struct vt_rrdc, which names the daemon.
 * librrd exports only its simple client interface (rrdc_*), one
 * connection per process, so every rrdcached call of every thread is
 * serialised here under one process-wide mutex and (re)connects on demand:
 * a vitalsd talks to one rrdcached. librrd sends absolute paths over a
 * unix socket and refuses them over TCP, where paths must be relative to
 * rrdcached's base directory (-b): callers pass the path that suits
 * vt_rrd_lib_cached_is_unix().
 *
 * Errors: 0 or a negative errno (-ENOENT, -EEXIST, -ENOSPC, -EACCES,
 * -EROFS, -EDQUOT, -ENOTCONN for rrdcached being away, -EIO for anything
 * else), with librrd's message copied into the caller's err buffer.
 */
#ifndef VT_RRD_LIB_H
#define VT_RRD_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "collector/base/buf.h"
#include "exporters/rrd/rrd_layout.h"

struct vt_rrdc;

/* Connect to rrdcached at addr ("unix:/path", "/path", "host:port",
 * "host"). Returns a handle even when the daemon is not reachable now
 * (calls then reconnect); NULL only when addr is empty. */
struct vt_rrdc *vt_rrd_lib_cached_create(const char *addr);
void vt_rrd_lib_cached_destroy(struct vt_rrdc *c);   /* NULL ok */
/* 1 when addr is a unix socket (absolute paths), 0 for TCP. */
int vt_rrd_lib_cached_is_unix(const struct vt_rrdc *c);
const char *vt_rrd_lib_cached_addr(const struct vt_rrdc *c);

/* Create a file (never overwriting one: -EEXIST) with the step, the time
 * before the first update, and "DS:..." / "RRA:..." arguments. Always
 * direct: rrdcached only ever updates files that exist. */
int vt_rrd_lib_create(const char *path, unsigned long step, time_t last_up,
    const struct vt_rrd_create_args *args, char *err, size_t errlen);

/* Update path with argc "<time>:<v>:<v>..." strings (oldest first).
 * c NULL: direct; else through rrdcached with `path` as it must be sent. */
int vt_rrd_lib_update(struct vt_rrdc *c, const char *path, int argc,
    const char *const *argv, char *err, size_t errlen);

/* Ask rrdcached to write its pending updates of path now (a no-op
 * returning 0 for c == NULL). */
int vt_rrd_lib_flush(struct vt_rrdc *c, const char *path, char *err,
    size_t errlen);

/* The last update time, DS names and last values (NaN when unknown) of
 * a file, read directly (flush it through rrdcached first when one is
 * used). ds and values (VT_RRD_MAX_DS entries) may be NULL. */
int vt_rrd_lib_lastupdate(const char *path, time_t *last,
    struct vt_rrd_ds_list *ds, double *values, char *err, size_t errlen);

/* A file's last update as one value: what a helper process sends back
 * for a lastupdate (the worker, or a fork server child). */
struct vt_rrd_last {
	int64_t last;
	struct vt_rrd_ds_list ds;
	double values[VT_RRD_MAX_DS];   /* NaN when unknown */
};

/* One fetched series: rows of nds values, row i at start + (i+1) * step. */
struct vt_rrd_data {
	time_t start, end;
	unsigned long step;
	size_t nds, rows;
	struct vt_rrd_ds_list ds;
	double *values;     /* rows * nds, owned: vt_rrd_lib_data_fini */
};

/* Fetch cf ("AVERAGE", "MAX") between start and end; c NULL: direct,
 * else through rrdcached (which writes pending updates first). On
 * success fills out (free with vt_rrd_lib_data_fini). */
int vt_rrd_lib_fetch(struct vt_rrdc *c, const char *path, const char *cf,
    time_t start, time_t end, struct vt_rrd_data *out, char *err,
    size_t errlen);
void vt_rrd_lib_data_fini(struct vt_rrd_data *d);

/* Start the fork server (forkserver.h) whose children draw graphs, read
 * files and run the update worker (rrd_updater.h); call before the process
 * starts threads (else the first graph or worker starts it, by exec). From
 * then on this process reads files through it; while no server runs (both
 * helpers killed, a fresh one starting) reads and graphs fail at once
 * (-EPIPE). 0, or -1 with err set. Stop: reads are made here again. */
int vt_rrd_lib_forkserver_start(char *err, size_t errlen);
void vt_rrd_lib_forkserver_stop(void);

/* Render a graph in memory: argv are rrd_graph arguments after the
 * file name (which is "-"). The image (PNG or SVG bytes) is appended to
 * image. Thread-safe; graphs may render in parallel. */
int vt_rrd_lib_graph(int argc, const char *const *argv, struct vt_buf *image,
    char *err, size_t errlen);

#endif
