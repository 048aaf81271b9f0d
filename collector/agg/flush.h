/*
 * flush.h - one closed aggregation window, as handed to every sink.
 *
 * The loop thread builds a struct vt_flush when a window closes
 * (vt_agg_close_window) and gives it to the flusher thread, which calls
 * each sink in turn. A flush is read-only after it is built and reference
 * counted: a sink that wants to keep it past its flush() callback (the
 * Prometheus exporter keeps the latest one to render on scrape) takes a
 * reference with vt_flush_retain, from the const pointer it was given,
 * and drops it with vt_flush_release.
 */
#ifndef VT_FLUSH_H
#define VT_FLUSH_H

#include <stddef.h>
#include <stdint.h>

#include "collector/agg/native_hist.h"
#include "collector/agg/selfstats.h"
#include "collector/agg/series.h"
#include "collector/base/queue.h"
#include "collector/base/ref.h"
#include "collector/base/vt_types.h"

/*
 * The closed window of a timer or histogram: what only those kinds have.
 * Kept out of struct vt_metric_window, in one array per flush
 * (vt_flush.timers), because every other kind left these fields empty
 * and two flushes are alive at each window close (the new one is built
 * while sinks still hold the previous): at 10,000 metrics, a quarter of
 * them timers, 192-byte windows were 1.92 MB per flush; now a window is
 * 88 bytes and a timer adds 112 (1.16 MB). NaN marks "no data".
 */
struct vt_timer_window {
	double sum;        /* scaled sum in the window */
	double sum_total;  /* cumulative scaled sum */
	double min, max, mean, stddev;  /* NaN when empty */
	/* One value per configured percentile (NaN when empty). Point into
	 * the flush (quantile_store). NULL: none. */
	const double *quantiles;      /* this window */
	const double *quantiles_1m;   /* last full minute */
	const double *quantiles_5m;   /* last 5 full minutes */
	const double *quantiles_15m;  /* last 15 full minutes */
	/* Exported as a classic Prometheus histogram (its mapping rule's
	 * observer_type): nbuckets upper bounds, ascending, as configured
	 * (seconds for timers), and the cumulative (across windows, like
	 * total) weight of the values <= each bound, from the window
	 * sketches (sketch.h, vt_sketch_counts_le). 0 and NULL otherwise.
	 * Point into the flush (bucket_store). */
	size_t nbuckets;
	const double *bucket_le;
	const double *bucket_counts;
	/* Its cumulative native histogram (native_hist.h), one reference
	 * held by the flush; NULL before its first value and when native
	 * histograms are off. */
	struct vt_native_hist *native;      /* read-only */
};

/*
 * The closed window of one metric. NaN marks "no data" for statistics.
 * Timers and histograms point at their struct vt_timer_window (in the
 * same flush); every other kind has timer == NULL, which reads as
 * vt_timer_window_none (sum 0, statistics NaN, no quantiles, buckets or
 * native histogram): see vt_window_timer.
 */
struct vt_metric_window {
	struct vt_series *series;  /* reference held by the flush */
	uint64_t samples;          /* lines received in the window (unscaled) */
	double count;      /* counter: sum of scaled increments (may be < 0);
	                      timer/histogram: scaled number of samples */
	double rate;       /* count / interval, per second */
	double total;      /* counter: cumulative positive increments;
	                      timer/histogram: cumulative scaled count */
	double value;      /* gauge: current value; set: distinct members;
	                      counter: count; timer/histogram: mean */
	double rate_1m, rate_5m, rate_15m; /* counters and timers: EWMA rates */
	double last_seen;  /* unix time of the window that last had a sample */
	/* timer/histogram: its fields, in the flush's timers array; NULL for
	 * other kinds. */
	const struct vt_timer_window *timer;
};

/* What a window without timer fields reads as: sum and sum_total 0, min,
 * max, mean and stddev NaN, every pointer NULL, nbuckets 0. */
extern const struct vt_timer_window vt_timer_window_none;

/* w's timer fields, or vt_timer_window_none for a window without any:
 * never NULL. */
static inline const struct vt_timer_window *vt_window_timer(
    const struct vt_metric_window *w)
{
	return w->timer ? w->timer : &vt_timer_window_none;
}

struct vt_flush {
	struct vt_ref ref;         /* first; use retain/release */
	/* Links the window in the sink thread's queue while it waits there
	 * (sinks.c, which holds the submitted reference); nothing else
	 * touches it. */
	struct vt_queue_node node;
	uint64_t seq;              /* 1, 2, 3, ... per closed window */
	double timestamp;          /* unix time the window closed */
	double interval;           /* seconds the window covered */
	size_t npercentiles;
	double percentiles[VT_MAX_PERCENTILES]; /* e.g. 50, 90, 95, 99 */
	size_t nmetrics;
	struct vt_metric_window *metrics; /* nmetrics entries, owned */
	size_t ntimers;
	struct vt_timer_window *timers; /* ntimers entries, owned: what the
	                              windows' timer pointers point at */
	size_t timers_room;        /* entries timers has room for */
	double *quantile_store;    /* backing for the quantile arrays, owned */
	double *bucket_store;      /* backing for bucket_le/counts, owned
	                              (NULL: none) */
	struct vt_selfstats self;  /* the daemon's own counters at close */
	int native_histograms;     /* timers and histograms keep native
	                              histograms (prometheus.native_histograms) */
};

/*
 * Allocate an empty flush for up to nmetrics metrics, ntimers of which
 * are timers or histograms: room for ntimers struct vt_timer_window in
 * timers (vt_flush_add_timer hands them out) and their quantile arrays (4 arrays of
 * npercentiles doubles each). One reference. Aborts on out-of-memory.
 */
struct vt_flush *vt_flush_create(size_t nmetrics, size_t ntimers,
    size_t npercentiles);

/*
 * For a builder: the next of the timer windows f has room for, zeroed,
 * with w->timer pointing at it. Aborts when there is no room left.
 */
struct vt_timer_window *vt_flush_add_timer(struct vt_flush *f,
    struct vt_metric_window *w);

/*
 * A new flush (one reference) with f's header (seq, time, interval,
 * percentiles, self) and the windows of f that keep(ctx, window) accepts
 * (all when keep is NULL), in order, each retaining its series and with
 * its own copy of its timer fields (quantiles, buckets, a reference to
 * the native histogram); with room for `extra` more windows without
 * timer fields, which the caller appends at metrics[nmetrics++].
 */
struct vt_flush *vt_flush_copy(const struct vt_flush *f,
    int (*keep)(void *ctx, const struct vt_metric_window *w), void *ctx,
    size_t extra);

/* Take another reference. Thread-safe. Returns f, non-const: the count
 * is the one mutable field of a flush (see vt_ref_retain). */
struct vt_flush *vt_flush_retain(const struct vt_flush *f);

/* Drop a reference; on the last one releases every series and frees.
 * Thread-safe. NULL ok. */
void vt_flush_release(struct vt_flush *f);

#endif
