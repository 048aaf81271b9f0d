/*
 * agg_kind.c - what each statsd kind does with a sample and at the close of
 * a window (SPEC 4). Indexed by enum vt_kind through vt_kind_ops[].
 *
 *   counter   count += v/rate; total adds only positive increments
 *   gauge     +N/-N adds, N sets; kept across windows
 *   timer     weighted count, sum, min, max, stddev, sketch quantiles
 *   histogram as timer (the exporter decides the unit)
 *   set       distinct members of the window
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/agg_kind.h"
#include "collector/base/hash.h"
#include "collector/base/xmalloc.h"

#define SET_MEMBER_SEED 0x5e7u

static void no_init(struct vt_metric *m)
{
	(void)m;
}

static void no_fini(struct vt_metric *m)
{
	(void)m;
}

static void empty_stats(struct vt_timer_window *t)
{
	t->min = t->max = t->mean = t->stddev = NAN;
}

/*
 * The 1/5/15-minute moving rates. A metric's first window is partial (it
 * was created somewhere inside it), so it would seed the averages with a
 * rate that is off by the fraction of the window it saw: they start at the
 * first full window, and until then report the window's own rate.
 */
static void update_rates(struct vt_metric *m, struct vt_metric_window *w,
    const struct vt_window_ctx *ctx)
{
	struct vt_ewma *e = &vt_metric_cold(m)->ewma;
	if (m->windows++ == 0) {
		w->rate_1m = w->rate_5m = w->rate_15m = w->rate;
		return;
	}
	vt_ewma_update(e, m->count, ctx->interval);
	w->rate_1m = e->rate_1m;
	w->rate_5m = e->rate_5m;
	w->rate_15m = e->rate_15m;
}

/* ---- counter (recorded by vt_counter_record, agg_kind.h) --------------- */

static void counter_close(struct vt_metric *m, struct vt_metric_window *w,
    const struct vt_window_ctx *ctx)
{
	w->count = m->count;
	w->rate = m->count / ctx->interval;
	w->total = m->total;
	update_rates(m, w, ctx);
	w->value = m->count;
	m->count = 0;
}

/* ---- gauge (recorded by vt_gauge_record, agg_kind.h) ------------------- */

static void gauge_close(struct vt_metric *m, struct vt_metric_window *w,
    const struct vt_window_ctx *ctx)
{
	(void)ctx;
	w->value = m->u.gauge;
	w->count = (double)m->samples;
	w->rate = NAN;
	w->rate_1m = w->rate_5m = w->rate_15m = NAN;
}

/* ---- timer and histogram ---------------------------------------------- */

/* The state lives inside the metric's allocation (agg_kind.h), zeroed. */
static void timer_init(struct vt_metric *m)
{
	struct vt_timer_state *t = vt_metric_state(m);
	vt_sketch_init(&t->window);
	t->history = vt_sketch_history_create();
	t->min = INFINITY;
	t->max = -INFINITY;
	m->u.timer = t;
}

static void timer_fini(struct vt_metric *m)
{
	struct vt_timer_state *t = m->u.timer;
	vt_sketch_fini(&t->window);
	vt_sketch_history_destroy(t->history);
	vt_native_hist_release(t->native);
	m->u.timer = NULL;
}

void vt_agg_kind_timer_record(struct vt_metric *m, const struct vt_sample *s)
{
	struct vt_timer_state *t = m->u.timer;
	double v = s->value, w = 1.0 / s->sample_rate;
	m->count += w;
	t->sum += v * w;
	t->sumsq += v * v * w;
	if (v < t->min)
		t->min = v;
	if (v > t->max)
		t->max = v;
	vt_sketch_add(&t->window, v, w);
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void timer_close(struct vt_metric *m, struct vt_metric_window *w,
    const struct vt_window_ctx *ctx)
{
	struct vt_timer_state *t = m->u.timer;
	struct vt_timer_window *tw = ctx->timer;
	size_t np = ctx->npercentiles;
	double *q = ctx->quantiles;

	w->count = m->count;
	w->rate = m->count / ctx->interval;
	tw->sum = t->sum;
	m->total += m->count;
	t->sum_total += t->sum;
	w->total = m->total;
	tw->sum_total = t->sum_total;
	if (m->count > 0) {
		double mean = t->sum / m->count;
		double var = t->sumsq / m->count - mean * mean;
		tw->min = t->min;
		tw->max = t->max;
		tw->mean = clamp(mean, t->min, t->max);
		tw->stddev = var > 0 ? sqrt(var) : 0;
		double qs[VT_MAX_PERCENTILES];
		for (size_t i = 0; i < np; i++)
			qs[i] = ctx->percentiles[i] / 100.0;
		vt_sketch_quantiles(&t->window, qs, np, q);
		for (size_t i = 0; i < np; i++)
			q[i] = clamp(q[i], t->min, t->max);
	} else {
		empty_stats(tw);
		for (size_t i = 0; i < np; i++)
			q[i] = NAN;
	}
	if (ctx->native_histograms) {
		/* Only a window with values builds a new one; the flush
		 * shares it (native_hist.h). Timers go out in seconds. */
		t->native = vt_native_hist_add(t->native, &t->window,
		    m->kind == VT_TIMER ? 1000 : 1);
		if (t->native)
			tw->native = vt_native_hist_retain(t->native);
	}
	vt_sketch_history_add_window(t->history, &t->window, ctx->interval,
	    ctx->percentiles, np);
	vt_sketch_history_quantiles(t->history, 1, q + np, np);
	vt_sketch_history_quantiles(t->history, 5, q + 2 * np, np);
	vt_sketch_history_quantiles(t->history, 15, q + 3 * np, np);
	tw->quantiles = q;
	tw->quantiles_1m = q + np;
	tw->quantiles_5m = q + 2 * np;
	tw->quantiles_15m = q + 3 * np;

	update_rates(m, w, ctx);
	w->value = tw->mean;

	m->count = 0;
	t->sum = t->sumsq = 0;
	t->min = INFINITY;
	t->max = -INFINITY;
	vt_sketch_reset(&t->window);
}

/* ---- set -------------------------------------------------------------- */

static void set_init(struct vt_metric *m)
{
	m->u.set = vt_metric_state(m);
	vt_cardinality_init(m->u.set);
}

static void set_fini(struct vt_metric *m)
{
	vt_cardinality_fini(m->u.set);
	m->u.set = NULL;
}

uint64_t vt_agg_kind_set_member_hash(const struct vt_sample *s)
{
	return vt_hash(s->set_member.ptr, s->set_member.len, SET_MEMBER_SEED);
}

static void set_record(struct vt_metric *m, const struct vt_sample *s)
{
	vt_cardinality_add(m->u.set, vt_agg_kind_set_member_hash(s));
}

static void set_close(struct vt_metric *m, struct vt_metric_window *w,
    const struct vt_window_ctx *ctx)
{
	(void)ctx;
	w->value = vt_cardinality_count(m->u.set);
	w->count = (double)m->samples;
	w->rate = NAN;
	w->rate_1m = w->rate_5m = w->rate_15m = NAN;
	vt_cardinality_reset(m->u.set);
}

const struct vt_kind_ops vt_kind_ops[VT_KIND_COUNT] = {
	[VT_COUNTER] = { no_init, vt_counter_record, counter_close, no_fini, 0 },
	[VT_GAUGE] = { no_init, vt_gauge_record, gauge_close, no_fini, 0 },
	[VT_TIMER] = { timer_init, vt_agg_kind_timer_record, timer_close, timer_fini, 1 },
	[VT_HISTOGRAM] = { timer_init, vt_agg_kind_timer_record, timer_close, timer_fini, 1 },
	[VT_SET] = { set_init, set_record, set_close, set_fini, 0 },
};
