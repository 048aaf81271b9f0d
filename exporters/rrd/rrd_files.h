/*
 * rrd_files.h - the RRD writer's table of files (internal to rrd_store.c
 * and its tests): for every series or check it has seen, the relative
 * path, whether the file is ready, and the last timestamp written.
 *
 * Used by the writer thread only, one round at a time:
 *   vt_rrd_files_begin       a round starts
 *   vt_rrd_files_add ...     one update per file and window, oldest window
 *                            first (files are created or checked here);
 *                            windows no daemon closed before it (missing
 *                            ones, the one a crash cut) are written as
 *                            unknown, never left for librrd to fill in
 *   vt_rrd_files_commit      the files that are due go out, several
 *                            windows of a file in one call; files not seen
 *                            in the round (expired series) are written and
 *                            forgotten
 * Between rounds, vt_rrd_files_sync writes one file's held rows at once
 * (a reader is about to read it). The one exception is
 * vt_rrd_files_kind_of, which any thread may call.
 *
 * Write-behind (write_delay > 0): a file's windows are held in memory,
 * compactly (rrd_held.h: a byte for an idle window, a few for a busy
 * counter's; freed when written), and written in one update when the file is
 * due: at most write_delay after its oldest held window, at a phase taken
 * from a hash of its path, so files come due spread over the delay rather
 * than all in one window. A kill -9 loses what is held: at most the write
 * delay. Files that must be created wait for a token of create_rate
 * (files a second; and a round spends at most half a window creating
 * files) and hold their windows meanwhile, at most
 * VT_RRD_WAIT_ROWS each; later windows are dropped and counted
 * (r->backlog) until the file exists.
 */
#ifndef VT_RRD_FILES_H
#define VT_RRD_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "collector/agg/series.h"
#include "exporters/rrd/rrd_layout.h"
#include "exporters/rrd/rrd_lib.h"
#include "exporters/rrd/rrd_updater.h"

struct vt_rrd_files_config {
	const char *data_dir;       /* resolved, absolute; borrowed */
	struct vt_rrdc *rrdc;       /* borrowed; NULL = direct (names the
	                               rrdcached the worker talks to) */
	struct vt_rrd_updater *rrdw;       /* borrowed; every librrd call
	                               (create, lastupdate, updates through
	                               rrdcached or of files rrd_direct does
	                               not write, rrdcached flush) goes
	                               through this worker process */
	unsigned long step;
	size_t points;
	double write_delay;         /* seconds windows are held; 0: none */
	double create_rate;         /* files created a second at most; 0: no
	                               bound */
};

#define VT_RRD_WAIT_ROWS 256     /* windows a file waiting to be created
                                    holds at most */

/* What a round did; the caller adds these to its counters. */
struct vt_rrd_round {
	uint64_t updates;           /* written */
	uint64_t calls;             /* update calls made */
	uint64_t late;              /* skipped: not after the last update */
	uint64_t conflict;          /* skipped: file owned by another series
	                               or with other data sources */
	uint64_t errors;            /* lost to errors */
	uint64_t created;           /* files created */
	uint64_t folded;            /* check windows with an unchanged status,
	                               held for a later write
	                               (VT_RRD_CHECK_REFRESH) */
	uint64_t backlog;           /* skipped: the file waited for creation
	                               with VT_RRD_WAIT_ROWS windows held */
};

/* One update: a window of a metric series, or of a check (series NULL,
 * rel its path from vt_rrd_layout_check_path). */
struct vt_rrd_update {
	struct vt_series *series;   /* borrowed; retained by the table */
	const char *rel;            /* checks only; copied */
	enum vt_rrd_kind kind;
	const double *values;       /* in DS order (vt_rrd_layout_values) */
	size_t nvalues;
	double timestamp;           /* window close, unix seconds */
	const double *percentiles;  /* of the window's flush */
	size_t npercentiles;
};

struct vt_rrd_files;

struct vt_rrd_files *vt_rrd_files_create(const struct vt_rrd_files_config
    *cfg);
/* Releases every series held. NULL ok. */
void vt_rrd_files_destroy(struct vt_rrd_files *t);

void vt_rrd_files_begin(struct vt_rrd_files *t);
void vt_rrd_files_add(struct vt_rrd_files *t, const struct vt_rrd_update *u,
    struct vt_rrd_round *r);
void vt_rrd_files_commit(struct vt_rrd_files *t, struct vt_rrd_round *r);

/* Write everything held (the last unchanged status of every check file,
 * the windows write-behind holds, files waiting to be created whatever
 * the rate), as one round of its own: before the writer stops. */
void vt_rrd_files_write_held(struct vt_rrd_files *t, struct vt_rrd_round *r);

/* Between rounds: write the windows held for the file at rel (relative
 * path) now, so a reader sees them. Returns the windows written (0 when
 * none were held or no such file is known). */
size_t vt_rrd_files_sync(struct vt_rrd_files *t, const char *rel,
    struct vt_rrd_round *r);

/* What write-behind holds now: windows, their bytes (arrays allocated),
 * the close time of the oldest (0 when none), files waiting for
 * creation. */
struct vt_rrd_files_held {
	uint64_t rows;
	uint64_t bytes;
	double oldest;
	uint64_t waiting;
};
void vt_rrd_files_held(const struct vt_rrd_files *t,
    struct vt_rrd_files_held *out);

/* The time the file with this path hash comes due when its oldest held
 * window closed at first (for the tests of the spreading). */
time_t vt_rrd_files_due(unsigned long delay, uint64_t path_hash,
    time_t first);

/* Files the table is writing (ready). */
size_t vt_rrd_files_ready(const struct vt_rrd_files *t);

/* The kind of the file at rel, when this table has written it since it
 * was created; -1 otherwise. Thread-safe. */
int vt_rrd_files_kind_of(struct vt_rrd_files *t, const char *rel);

/* Files whose step is not the flush interval's, found since the table was
 * made (they are not written: see prepare in rrd_files.c). */
size_t vt_rrd_files_step_mismatches(const struct vt_rrd_files *t);

/*
 * The header of an RRD file, read with a plain read (no librrd, no
 * rrdcached: the step, data sources and archives never change after the
 * file is made). Any thread. RRDtool's format 0003/0004 on this
 * platform's word size; archives past VT_RRD_HEADER_RRA_MAX are not kept.
 */
#define VT_RRD_HEADER_RRA_MAX 32
struct vt_rrd_header {
	unsigned long step;
	struct vt_rrd_ds_list ds;
	size_t nrra;                  /* kept in rra[] */
	struct {
		char cf[VT_RRD_DS_NAME_MAX];
		unsigned long rows;
		unsigned long pdp_per_row;
	} rra[VT_RRD_HEADER_RRA_MAX];
	time_t last;                  /* last update when the file was read */
};

/* 0, or a negative errno with err set (-EINVAL: not an RRD file). */
int vt_rrd_files_read_header(const char *path, struct vt_rrd_header *h,
    char *err, size_t errlen);

/*
 * rrd.overrides from the config file at path (read again, comments
 * allowed; "" or no such key: none): a list of objects with "service"
 * and/or "metric" (globs), and any of "timer_stats", "counter_stats",
 * "max_archives", "points_per_range" (what is not given comes from base
 * and the global points). Sets them (vt_rrd_layout_set_overrides).
 * Returns how many, or -1 with err naming the entry and the key.
 */
int vt_rrd_files_load_overrides(const char *path,
    const struct vt_rrd_layout_opts *base, char *err, size_t errlen);

/* For --check-config: the bytes a new file of each kind takes with the
 * options set (vt_rrd_layout_set_opts), and the disk for 10,000 and
 * 100,000 metrics of an even mix of counters, gauges, sets and timers,
 * as text lines on out. */
void vt_rrd_files_print_sizes(FILE *out, double flush_interval,
    size_t points, const double *percentiles, size_t npercentiles);

/*
 * The consolidation function to read for cf at path from `from` on (the
 * graphs and the series API). AVERAGE stays AVERAGE. MAX is read from the
 * MAX archives, but files made since issue 19 have none where a row is
 * one window (the maximum of one window is its average), and with
 * rrd.max_archives false none at all: when the one-row-per-window
 * archive covers the range, or the file has no MAX archive, "AVERAGE"
 * is returned, which holds the same values there (rrd_layout.h).
 */
const char *vt_rrd_files_cf(const char *path, const char *cf, time_t from);

/* Whether h has an archive of cf with pdp_per_row rows a step (0: any). */
int vt_rrd_header_has(const struct vt_rrd_header *h, const char *cf,
    unsigned long pdp_per_row);

#endif
