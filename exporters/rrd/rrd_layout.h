/*
 * rrd_layout.h - what the round-robin files look like (SPEC 5): where a
 * series lives on disk, its data sources (DS), its archives (RRA) and how
 * big it is. Pure functions over caller memory: nothing here allocates,
 * touches the disk or calls librrd, so all of it is unit-tested.
 *
 * Paths (relative to the data directory):
 *   metric   <service>/<metric>[,<key>=<value>...].rrd
 *   check    <service>/checks/<instance>/<check>.rrd
 * Each component is sanitised to [A-Za-z0-9._-] by vt_names_file (so it is
 * never empty, ".", ".." or a dot-file, and never holds '/' or NUL) and
 * gets the suffix "-<12 hex digits>" (48 bits of a hash of the raw text)
 * whenever the sanitised text differs from the raw text, labels are present
 * (',' and '=' are not in the file alphabet), the text is longer than the
 * component cap (it is then cut), or the clean text itself ends in
 * something shaped like such a suffix. So a name without a suffix is the
 * name as sent, and two distinct names share a file only if their 48-bit
 * hashes collide while their sanitised stems are equal. Metric files always
 * end in ".rrd", so the "checks" directory of a service never clashes with
 * a metric. Component caps keep every name under NAME_MAX and a relative
 * path under VT_RRD_REL_MAX.
 *
 * Data sources, all GAUGE (the daemon writes window results, RRDtool never
 * differentiates), heartbeat 2 x step (check files: 2 x step +
 * VT_RRD_CHECK_REFRESH, see below), no min/max. The heartbeat only lets a
 * window closed a little late join up; it never stands for a window that
 * was not closed: the writer stores those as unknown (rrd_files.c,
 * hole_before), in files of this layout and of older ones alike.
 *
 * Every statistic a window has (vt_rrd_layout_ds, the order of
 * vt_rrd_layout_values):
 *   counter          count, rate
 *   gauge, set       value
 *   timer, histogram count, rate, sum, mean, min, max, stddev, then one per
 *                    configured percentile: p50, p90, p95, p99 (99.9 ->
 *                    p99_9; DS names allow only [A-Za-z0-9_])
 *   check            status (0 ok, 1 warning, 2 critical, 3 unknown)
 * Layout 1 (files made before issue 19) stores all of them. A new file
 * stores what the pages and the API read (vt_rrd_layout_stored_ds, with
 * struct vt_rrd_layout_opts, config rrd.timer_stats and
 * rrd.counter_stats): by default a timer keeps count, rate and its
 * percentiles (sum, mean, min, max and stddev only when configured; mean
 * always when no percentile is configured, the pages draw it then), a
 * counter count and rate. The writer writes each file the data sources
 * that file has, so files of both layouts live side by side.
 *
 * Archives: for each range the dashboards offer (1 hour, 1 day, 1 week,
 * 31 days, 366 days) one AVERAGE archive with about `points` rows
 * (default 500, about one per pixel of a page's 520 px graph):
 *   pdp_per_row = max(1, ceil(range / (step * points)))
 *   rows        = ceil(range / (step * pdp_per_row))
 * so a range never has more rows than primary points (1 hour at a 10 s
 * step is 360 rows). The 1-hour range is the exception: its pdp_per_row
 * is always 1, one row per window (3600 rows at a 1 s step, 1800 at 2 s,
 * 1200 at 3 s), so a lost window shows as an unknown row instead of being
 * averaged with a real one. A range whose pdp_per_row equals the
 * previous one's is merged into it (large steps).
 * rrd.retention (struct vt_rrd_layout_opts) moves the last range: the
 * ranges shorter than it, then one of its length.
 * MAX archives (enum vt_rrd_max): layout 1 has one per range; a new file
 * has one for every range whose rows hold more than one window
 * (VT_RRD_MAX_COARSE): at one row per window the maximum of a row is its
 * average, so the 1-hour MAX archive only doubled the hour. rrd.max_archives
 * false drops them all (VT_RRD_MAX_NONE). Readers asking for MAX over a
 * range the one-row-per-window archive covers read AVERAGE (graph.c).
 *
 * File size in bytes (RRDtool 1.7 format on 64-bit Linux), D data sources,
 * R archives, ROWS the sum of rows over the archives:
 *   144 + 232 D + 128 R + 80 D R + 8 D ROWS
 * With the defaults (10 s step, 500 points) the ranges get 360, 480, 500,
 * 500 and 500 rows (steps of 10 s, 3 min, 20 min, 89 min, 17.6 h), ROWS
 * = 2340 AVERAGE + 1980 MAX = 4320, R = 9: a counter takes 72 KB, a
 * gauge, set or check 36 KB, and a timer with 4 percentiles (6 data
 * sources) 214 KB. Layout 1 (11 data sources, 1000 points, 10 archives)
 * took 141 KB, 71 KB and 772 KB. At a 1 s step the hour alone is 3600
 * rows: a counter takes 124 KB, a gauge 63 KB, a timer 371 KB (layout
 * 1: 246 KB, 123 KB and 1349 KB).
 */
#ifndef VT_RRD_LAYOUT_H
#define VT_RRD_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "collector/agg/flush.h"
#include "collector/agg/series.h"
#include "collector/base/vt_types.h"

#define VT_RRD_DS_NAME_MAX 20       /* bytes of a DS name with its NUL */
#define VT_RRD_MAX_DS (7 + VT_MAX_PERCENTILES)
#define VT_RRD_RANGES 5
#define VT_RRD_MAX_RRA (2 * VT_RRD_RANGES)
#define VT_RRD_REL_MAX 640          /* bytes of a relative path with NUL */
#define VT_RRD_SERVICE_CAP 120      /* sanitised service bytes kept */
#define VT_RRD_NAME_CAP 200         /* sanitised metric/check bytes kept */
#define VT_RRD_HASH_HEX 12          /* hex digits of the suffix */
#define VT_RRD_DEFAULT_POINTS 500
/* A check's status rarely changes, and every update of a file costs the
 * same system calls whatever it carries, so a check file is
 * written when the status changes and otherwise at least this often
 * (seconds): unchanged windows are folded into the next write. Its
 * heartbeat covers the gap, so RRDtool sees the status held throughout;
 * the time no daemon ran is not such a gap: the writer stores it as
 * unknown (rrd_files.c, hole_before). */
#define VT_RRD_CHECK_REFRESH 300

/* What a file holds: the statsd kinds, plus check status history. */
enum vt_rrd_kind {
	VT_RRD_COUNTER = VT_COUNTER,
	VT_RRD_GAUGE = VT_GAUGE,
	VT_RRD_TIMER = VT_TIMER,
	VT_RRD_HISTOGRAM = VT_HISTOGRAM,
	VT_RRD_SET = VT_SET,
	VT_RRD_CHECK = VT_KIND_COUNT,
	VT_RRD_KIND_COUNT
};

/* The statistics a new file may store besides percentiles (bit masks of
 * struct vt_rrd_layout_opts), in the file order of vt_rrd_layout_ds. */
#define VT_RRD_STAT_COUNT   0x01u
#define VT_RRD_STAT_RATE    0x02u
#define VT_RRD_STAT_SUM     0x04u
#define VT_RRD_STAT_MEAN    0x08u
#define VT_RRD_STAT_MIN     0x10u
#define VT_RRD_STAT_MAX     0x20u
#define VT_RRD_STAT_STDDEV  0x40u
#define VT_RRD_STAT_ALL     0x7fu

/* Which ranges get a MAX archive beside the AVERAGE one. */
enum vt_rrd_max {
	VT_RRD_MAX_COARSE = 0,   /* ranges with several windows a row */
	VT_RRD_MAX_ALL,          /* every range (layout 1) */
	VT_RRD_MAX_NONE          /* none */
};

/* What new files store (config rrd.timer_stats, rrd.counter_stats,
 * rrd.max_archives). A value. */
struct vt_rrd_layout_opts {
	unsigned timer_stats;    /* VT_RRD_STAT_* of timers and histograms */
	unsigned counter_stats;  /* VT_RRD_STAT_COUNT and/or _RATE */
	enum vt_rrd_max max;
	unsigned long retention; /* seconds the longest archive covers (rrd.
	                            retention); 0 = 366 days. The ranges
	                            shorter than it are kept, then one of
	                            its length: 31 days keeps 1 h, 1 d, 1 w,
	                            31 d; 2 years 1 h, 1 d, 1 w, 31 d, 2 y */
};
#define VT_RRD_RETENTION_MIN 3600UL
#define VT_RRD_RETENTION_MAX (10UL * 366UL * 86400UL)

/* A list of DS names, in file order. A value, embeddable. */
struct vt_rrd_ds_list {
	size_t n;
	char name[VT_RRD_MAX_DS][VT_RRD_DS_NAME_MAX];
};

/* One archive range. */
struct vt_rrd_archive {
	unsigned long range;         /* seconds covered */
	unsigned long pdp_per_row;   /* steps per row */
	unsigned long rows;
};

/* The arguments of rrd_create: "DS:..." then "RRA:..." strings. argv points
 * into text; the struct is a value (copying it breaks argv: fill it where
 * it is used). */
struct vt_rrd_create_args {
	int argc;
	const char *argv[VT_RRD_MAX_DS + VT_RRD_MAX_RRA];
	char text[(VT_RRD_MAX_DS + VT_RRD_MAX_RRA) * 48];
};

/* The RRD step for a flush interval: whole seconds, at least 1. */
unsigned long vt_rrd_layout_step(double flush_interval);

/* "p50", "p99_9", "p0_1": the DS name of a percentile in (0, 100). */
void vt_rrd_layout_percentile_name(double p, char *out, size_t outlen);

/* The defaults: timers count and rate, counters count and rate, MAX
 * archives past the finest range. */
void vt_rrd_layout_default_opts(struct vt_rrd_layout_opts *o);

/* The options new files are made with in this process (the defaults until
 * set). Set once at start, before any writer or reader runs. */
void vt_rrd_layout_set_opts(const struct vt_rrd_layout_opts *o);
const struct vt_rrd_layout_opts *vt_rrd_layout_opts(void);

/* Parse "count,rate,mean" (names of VT_RRD_STAT_*, comma separated,
 * spaces allowed) into a mask. counters take only count and rate. 0, or
 * -1 with err naming the bad word; an empty list is an error. */
int vt_rrd_layout_parse_stats(const char *text, enum vt_rrd_kind kind,
    unsigned *mask, char *err, size_t errlen);

/*
 * Overrides per service or metric pattern (config rrd.overrides): the
 * first whose service and metric globs (fnmatch; "" = any) both match a
 * new file decides its options and points per range; a file no override
 * matches gets the options set above and the configured points. Checks
 * match by service, with their check name as the metric.
 */
#define VT_RRD_OVERRIDES_MAX 32
#define VT_RRD_PATTERN_MAX 128
struct vt_rrd_override {
	char service[VT_RRD_PATTERN_MAX];
	char metric[VT_RRD_PATTERN_MAX];
	struct vt_rrd_layout_opts opts;   /* complete, not a difference */
	size_t points;                    /* 0 = rrd.points_per_range */
};

/* Set the overrides (copied; n at most VT_RRD_OVERRIDES_MAX). Once at
 * start, before any writer runs. */
void vt_rrd_layout_set_overrides(const struct vt_rrd_override *o, size_t n);

/* The i-th override, or NULL past the last. */
const struct vt_rrd_override *vt_rrd_layout_override_at(size_t i);

/* The override for a file of service and metric, or NULL. */
const struct vt_rrd_override *vt_rrd_layout_override_for(const char *service,
    const char *metric);

/* The options from the config keys (rrd.timer_stats, rrd.counter_stats,
 * rrd.max_archives). 0, or -1 with err naming the key. */
int vt_rrd_layout_opts_from_config(const char *timer_stats,
    const char *counter_stats, int max_archives, double retention,
    struct vt_rrd_layout_opts *o, char *err, size_t errlen);

/* Every statistic a window of the kind has, in file order (the order of
 * vt_rrd_layout_values; what layout 1 stores). percentiles are ignored
 * except for timers and histograms. */
void vt_rrd_layout_ds(enum vt_rrd_kind kind, const double *percentiles,
    size_t npercentiles, struct vt_rrd_ds_list *out);

/* The DS names a new file of the kind gets under opts: a subset of
 * vt_rrd_layout_ds, in the same order. */
void vt_rrd_layout_stored_ds(enum vt_rrd_kind kind, const double *percentiles,
    size_t npercentiles, const struct vt_rrd_layout_opts *opts,
    struct vt_rrd_ds_list *out);

/* The values of one closed window, in the order of vt_rrd_layout_ds (NaN
 * = unknown). npercentiles is the flush's. Returns how many were written
 * (at most VT_RRD_MAX_DS). */
size_t vt_rrd_layout_values(enum vt_kind kind, const struct vt_metric_window *w,
    size_t npercentiles, double *out);

/* The archives for a step and points per range (see above); returns how
 * many ranges remain after merging (1..VT_RRD_RANGES).
 * vt_rrd_layout_archives_for takes a retention (0 = 366 days). */
size_t vt_rrd_layout_archives(unsigned long step, size_t points,
    struct vt_rrd_archive out[VT_RRD_RANGES]);
size_t vt_rrd_layout_archives_for(unsigned long step, size_t points,
    unsigned long retention, struct vt_rrd_archive out[VT_RRD_RANGES]);

/* Fill the rrd_create arguments for a DS list, step, points and MAX
 * archives; vt_rrd_layout_create_args takes max from vt_rrd_layout_opts. */
void vt_rrd_layout_create_args_max(const struct vt_rrd_ds_list *ds,
    unsigned long step, size_t points, enum vt_rrd_max max,
    struct vt_rrd_create_args *out);
void vt_rrd_layout_create_args(const struct vt_rrd_ds_list *ds,
    unsigned long step, size_t points, struct vt_rrd_create_args *out);
/* The same with the MAX archives and retention of opts. */
void vt_rrd_layout_create_args_opts(const struct vt_rrd_ds_list *ds,
    unsigned long step, size_t points, const struct vt_rrd_layout_opts *opts,
    struct vt_rrd_create_args *out);

/* The size in bytes of a file with nds data sources (formula above);
 * vt_rrd_layout_file_size takes max from vt_rrd_layout_opts. */
uint64_t vt_rrd_layout_file_size_max(size_t nds, unsigned long step,
    size_t points, enum vt_rrd_max max);
uint64_t vt_rrd_layout_file_size(size_t nds, unsigned long step,
    size_t points);
uint64_t vt_rrd_layout_file_size_opts(size_t nds, unsigned long step,
    size_t points, const struct vt_rrd_layout_opts *opts);

/*
 * The relative path of a metric series: "<service>/<metric>.rrd".
 * labels must be sorted by key (as in struct vt_series); nlabels may be 0.
 * Returns the length written (always < VT_RRD_REL_MAX), never fails when
 * outlen >= VT_RRD_REL_MAX; returns -1 (out = "") when outlen is smaller
 * and the path does not fit.
 */
int vt_rrd_layout_series_path(char *out, size_t outlen, const char *service,
    const char *metric, const struct vt_label *labels, size_t nlabels);

/* The relative path of a check's status history:
 * "<service>/checks/<instance>/<check>.rrd". Same return. */
int vt_rrd_layout_check_path(char *out, size_t outlen, const char *service,
    const char *instance, const char *check);

/* The kind a DS list says a file holds: VT_RRD_TIMER (a percentile,
 * sum, mean, min, max or stddev; timers and histograms share a layout),
 * VT_RRD_COUNTER (count and/or rate only), VT_RRD_GAUGE (value),
 * VT_RRD_CHECK (status), or -1 when none fits. */
int vt_rrd_layout_guess_kind(const struct vt_rrd_ds_list *ds);

/* The stat a graph or series shows by default for a kind and DS list:
 * rate (counters; count when the file has no rate), value (gauges,
 * sets), p99 or else the highest percentile or else mean or else rate
 * (timers), status (checks). */
const char *vt_rrd_layout_default_stat(const struct vt_rrd_ds_list *ds);

/* Index of a DS name in the list, or -1. */
int vt_rrd_layout_ds_index(const struct vt_rrd_ds_list *ds, const char *name);

#endif
