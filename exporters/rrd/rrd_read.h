/*
 * rrd_read.h - reading the round-robin files back, for the graph and
 * series endpoints (SPEC 6). Thread-safe: HTTP threads share one reader.
 *
 * A series is named as the client named it: service and metric text (and
 * optionally labels), or service, instance and check. The reader maps the
 * names with the writer's own functions (rrd_layout.h), so it can only
 * ever open a file the writer could have written, inside the data
 * directory, and refuses anything but a regular file (no symbolic links).
 *
 * With rrdcached, a file is made current (its pending updates written)
 * before a graph reads it, and fetches go through rrdcached.
 * Direct, with write-behind: finding a file (vt_rrd_read_metric, _check)
 * first has the store write the windows it holds for it
 * (vt_rrd_store_sync, waiting at most 2 s), so every reader (graphs,
 * series, the pages and alert history built on them) sees them.
 */
#ifndef VT_RRD_READ_H
#define VT_RRD_READ_H

#include <limits.h>
#include <stddef.h>
#include <time.h>

#include "exporters/rrd/rrd_layout.h"
#include "exporters/rrd/rrd_lib.h"
#include "exporters/rrd/rrd_store.h"

#define VT_RRD_READ_MAX_RANGE (2 * 366 * 86400L)  /* longest from..until */

struct vt_rrd_read_config {
	const char *data_dir;     /* copied (resolved) */
	const char *cached;       /* rrdcached address; NULL or "" = direct */
	vt_rrd_store *store;       /* borrowed, may be NULL: kinds of files */
};

/* One file found: where it is and what it holds. A value. */
struct vt_rrd_file {
	char rel[VT_RRD_REL_MAX];     /* relative to the data directory */
	char path[PATH_MAX];          /* absolute */
	struct vt_rrd_ds_list ds;
	int kind;                     /* enum vt_rrd_kind: what the writer
	                                 wrote, else a guess from the data
	                                 sources (timers and histograms look
	                                 alike: VT_RRD_TIMER); -1 unknown */
	int kind_known;               /* kind came from the writer */
	time_t last;                  /* last update on disk */
};

typedef struct vt_rrd_read vt_rrd_read;

/* NULL with err set when the data directory cannot be resolved. */
vt_rrd_read *vt_rrd_read_create(const struct vt_rrd_read_config *cfg,
    char *err, size_t errlen);
void vt_rrd_read_destroy(vt_rrd_read *rd);   /* NULL ok */

/*
 * Find a metric's file. labels is NULL, "" or "key:value,key:value"
 * (a key without ':' has the value ""); order does not matter. Returns 0,
 * -EINVAL for malformed labels, -ENOENT when there is no such file, or
 * another negative errno; err says what.
 */
int vt_rrd_read_metric(vt_rrd_read *rd, const char *service,
    const char *metric, const char *labels, struct vt_rrd_file *f,
    char *err, size_t errlen);

/* Find a check's status history. Same returns. */
int vt_rrd_read_check(vt_rrd_read *rd, const char *service,
    const char *instance, const char *check, struct vt_rrd_file *f,
    char *err, size_t errlen);

/* Write what rrdcached holds for f (no-op when direct). */
int vt_rrd_read_sync(vt_rrd_read *rd, const struct vt_rrd_file *f, char *err,
    size_t errlen);

/* Fetch cf ("AVERAGE" or "MAX") between start and end at the finest
 * resolution that covers the range. Free out with vt_rrd_lib_data_fini. */
int vt_rrd_read_fetch(vt_rrd_read *rd, const struct vt_rrd_file *f,
    const char *cf, time_t start, time_t end, struct vt_rrd_data *out,
    char *err, size_t errlen);

/*
 * A time as the endpoints take it: "now", unix seconds ("1795000000"), or
 * an offset from now: "-6h", "now-6h", "+30m", "-300" (seconds), with
 * units s, m (or min), h, d, w, mon (30 days), y (365 days). Returns 0
 * and sets *out, or -1.
 */
int vt_rrd_read_parse_time(const char *text, time_t now, time_t *out);

/*
 * The DS of f that a `stat` parameter names: a DS name, or a percentile
 * written with a dot ("p99.9" for p99_9); NULL or "" picks the kind's
 * default (vt_rrd_layout_default_stat). Returns its index and copies the
 * DS name into name, or -1 when f has no such stat.
 */
int vt_rrd_read_stat(const struct vt_rrd_file *f, const char *stat,
    char *name, size_t namelen);

/* The unit of a stat of f for labels: "ms" (timer statistics), "/s"
 * (rates), "" when unitless or unknown. Static string. */
const char *vt_rrd_read_unit(const struct vt_rrd_file *f, const char *ds);

/* "counter", "gauge", "timer", "histogram", "set", "check", or "timer or
 * histogram" when a file's layout cannot tell them apart; "unknown". */
const char *vt_rrd_read_kind_name(const struct vt_rrd_file *f);

#endif
