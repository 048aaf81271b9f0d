/*
 * agg_kind.h - per-kind behaviour of the aggregator (internal to agg.c and
 * agg_kind.c): one table indexed by enum vt_kind instead of a switch in
 * every function.
 */
#ifndef VT_AGG_KIND_H
#define VT_AGG_KIND_H

#include <stdint.h>

#include "collector/agg/cardinality.h"
#include "collector/agg/ewma.h"
#include "collector/agg/flush.h"
#include "collector/agg/sketch.h"

/* Timer and histogram state: inside the metric's allocation (below). */
struct vt_timer_state {   /* what a line touches is the first 64 bytes */
	double sum, sumsq, min, max;      /* this window, weighted */
	struct vt_sketch window;          /* this window's values */
	struct vt_sketch_history *history;
	double sum_total;                 /* cumulative scaled sum */
	struct vt_native_hist *native;    /* cumulative; NULL: none yet */
};

/*
 * One live metric, owned by the aggregator's table. The hot part is 64
 * bytes: everything vt_agg_record reads or writes for a line. It is
 * allocated in one plain block together with its key (right after it, so
 * the key compare reads on from the header), its kind's state (a timer's
 * running stats and sketch, a set's member table: right after the key, so
 * the batch can prefetch it with the header instead of a miss later) and
 * the cold part (read only when a window closes). In this order:
 *     [struct vt_metric][key + NUL, padded to 8][kind state][cold]
 * Rounding each up to a 64-byte aligned block cost about 1 MB per 10,000
 * metrics and no measurable time (docs/benchmarks.md).
 */
struct vt_metric {
	uint64_t hash;              /* of the key */
	struct vt_series *series;   /* one reference, owned */
	uint32_t key_len;
	uint32_t last_window;       /* window sequence of the last sample */
	uint32_t kind;              /* enum vt_kind */
	uint32_t windows;           /* windows closed since it was created */
	uint64_t samples;           /* lines this window */
	double count;               /* this window: counter sum / timer weight */
	double total;               /* cumulative (see struct vt_metric_window) */
	union {
		double gauge;
		struct vt_timer_state *timer;   /* vt_metric_state(m) */
		struct vt_cardinality *set;     /* vt_metric_state(m) */
	} u;
};

struct vt_metric_cold {
	double last_seen;           /* unix time of the last window with data */
	struct vt_ewma ewma;
};

static inline const char *vt_metric_key(const struct vt_metric *m)
{
	return (const char *)(m + 1);
}

/* Timers, histograms and sets carry state behind the key; counters and
 * gauges keep all theirs in the header. */
static inline int vt_kind_has_state(uint32_t kind)
{
	return kind - VT_TIMER <= (uint32_t)(VT_SET - VT_TIMER);
}

/* Bytes of kind state a metric of this kind carries. */
static inline size_t vt_kind_state_size(uint32_t kind)
{
	return !vt_kind_has_state(kind) ? 0 : kind == VT_SET ?
	    sizeof(struct vt_cardinality) : sizeof(struct vt_timer_state);
}

/* Where the kind state of a metric whose key is key_len bytes starts,
 * from the metric's address: known before the header is read. */
static inline size_t vt_metric_state_offset(size_t key_len)
{
	return sizeof(struct vt_metric) + ((key_len + 8) & ~(size_t)7);
}

static inline void *vt_metric_state(struct vt_metric *m)
{
	return (char *)m + vt_metric_state_offset(m->key_len);
}

static inline struct vt_metric_cold *vt_metric_cold(struct vt_metric *m)
{
	return (struct vt_metric_cold *)((char *)vt_metric_state(m) +
	    vt_kind_state_size(m->kind));
}

/* Bytes to allocate for a metric of this kind whose key is key_len bytes. */
static inline size_t vt_metric_size(uint32_t kind, size_t key_len)
{
	return vt_metric_state_offset(key_len) + vt_kind_state_size(kind) +
	    sizeof(struct vt_metric_cold);
}

struct vt_window_ctx {          /* what a close needs besides the metric */
	double interval;
	size_t npercentiles;
	const double *percentiles;
	double *quantiles;          /* 4 * npercentiles slots, for timers */
	struct vt_timer_window *timer; /* a timer's fields in the flush,
	                              which w->timer points at (close_hist
	                              may have filled its buckets) */
	int native_histograms;      /* timers keep native histograms */
};

struct vt_kind_ops {
	void (*init)(struct vt_metric *m);
	void (*record)(struct vt_metric *m, const struct vt_sample *s);
	/* Fill w from the open window, then reset the window. */
	void (*close)(struct vt_metric *m, struct vt_metric_window *w,
	    const struct vt_window_ctx *ctx);
	void (*fini)(struct vt_metric *m);
	int needs_quantiles;        /* close uses ctx->quantiles and
	                               ctx->timer */
};

extern const struct vt_kind_ops vt_kind_ops[VT_KIND_COUNT];

/* Counters and gauges, the bulk of traffic, recorded inline by the
 * aggregator rather than through vt_kind_ops (which points at these). */
static inline void vt_counter_record(struct vt_metric *m,
    const struct vt_sample *s)
{
	double inc = s->sample_rate == 1 ? s->value : s->value / s->sample_rate;
	m->count += inc;
	if (inc > 0)
		m->total += inc;
}

static inline void vt_gauge_record(struct vt_metric *m,
    const struct vt_sample *s)
{
	if (s->gauge_delta)
		m->u.gauge += s->value;
	else
		m->u.gauge = s->value;
}

/* Apply s to m (of s's kind). */
static inline void vt_kind_record(struct vt_metric *m,
    const struct vt_sample *s)
{
	if (s->kind == VT_COUNTER)
		vt_counter_record(m, s);
	else if (s->kind == VT_GAUGE)
		vt_gauge_record(m, s);
	else
		vt_kind_ops[s->kind].record(m, s);
}

/* Timers and histograms (vt_kind_ops points at it); the batch calls it
 * directly for a group of timer lines. */
void vt_agg_kind_timer_record(struct vt_metric *m, const struct vt_sample *s);

/* The hash of a set member, as set_record computes it. */
uint64_t vt_agg_kind_set_member_hash(const struct vt_sample *s);

#endif
