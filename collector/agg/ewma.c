/*
 * ewma.c - 1-, 5- and 15-minute moving rates, updated once per closed
 * window like the Unix load averages (see ewma.h).
 *
 * alpha depends on the window length, so windows of any (measured) length
 * decay the rates by the right amount: after t seconds of silence a rate
 * has shrunk by exp(-t / N min) however t was split into windows.
 */
#include <math.h>

#include "collector/agg/ewma.h"

void vt_ewma_init(struct vt_ewma *e)
{
	e->rate_1m = e->rate_5m = e->rate_15m = 0;
	e->started = 0;
}

/* The three alphas for windows of `seconds`. Every metric of a flush
 * has the same window, so each thread keeps the last ones it computed:
 * three exp() per flush instead of three per metric. */
struct alphas {
	double seconds, a1, a5, a15;
};

static const struct alphas *alphas_for(double seconds)
{
	static _Thread_local struct alphas last;
	if (last.seconds != seconds) {
		last.a1 = 1 - exp(-seconds / 60);
		last.a5 = 1 - exp(-seconds / 300);
		last.a15 = 1 - exp(-seconds / 900);
		last.seconds = seconds;
	}
	return &last;
}

void vt_ewma_update(struct vt_ewma *e, double count, double seconds)
{
	if (!(seconds > 0))
		return;
	double rate = count / seconds;
	if (!e->started) {
		e->rate_1m = e->rate_5m = e->rate_15m = rate;
		e->started = 1;
		return;
	}
	const struct alphas *a = alphas_for(seconds);
	e->rate_1m += a->a1 * (rate - e->rate_1m);
	e->rate_5m += a->a5 * (rate - e->rate_5m);
	e->rate_15m += a->a15 * (rate - e->rate_15m);
}
