/*
 * agg_kind.h - per-kind behaviour of the aggregator (internal to agg.c and
 * agg_kind.c): one table indexed by enum vt_kind instead of a switch in
 * every function.
 */
#ifndef VT_AGG_KIND_H
#define VT_AGG_KIND_H

#include <stdint.h>

#include "cardinality.h"
#include "ewma.h"
#include "flush.h"
#include "sketch.h"

/* Timer and histogram state, heap-allocated per metric (it is large). */
struct vt_timer_state {
	struct vt_sketch window;          /* this window's values */
	struct vt_sketch_history *history;
	double sum, sumsq, min, max;      /* this window, weighted */
	double sum_total;                 /* cumulative scaled sum */
};

/* One live metric. Owned by the aggregator's table. */
struct vt_metric {
	struct vt_series *series;   /* one reference, owned */
	uint64_t hash;              /* of series->key */
	uint64_t last_window;       /* window sequence of the last sample */
	double last_seen;           /* unix time of that window's close */
	uint64_t samples;           /* lines this window */
	double count;               /* this window: counter sum / timer weight */
	double total;               /* cumulative (see struct vt_metric_window) */
	struct vt_ewma ewma;
	union {
		double gauge;
		struct vt_timer_state *timer;
		struct vt_cardinality set;
	} u;
};

struct vt_window_ctx {          /* what a close needs besides the metric */
	double interval;
	size_t npercentiles;
	const double *percentiles;
	double *quantiles;          /* 4 * npercentiles slots, for timers */
};

struct vt_kind_ops {
	void (*init)(struct vt_metric *m);
	void (*record)(struct vt_metric *m, const struct vt_sample *s);
	/* Fill w from the open window, then reset the window. */
	void (*close)(struct vt_metric *m, struct vt_metric_window *w,
	    const struct vt_window_ctx *ctx);
	void (*fini)(struct vt_metric *m);
	int needs_quantiles;        /* close uses ctx->quantiles */
};

extern const struct vt_kind_ops vt_kind_ops[VT_KIND_COUNT];

#endif
