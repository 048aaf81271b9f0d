/*
 * ewma.c - 1-, 5- and 15-minute moving rates, updated once per closed
 * window like the Unix load averages (see ewma.h).
 *
 * alpha depends on the window length, so windows of any (measured) length
 * decay the rates by the right amount: after t seconds of silence a rate
 * has shrunk by exp(-t / N min) however t was split into windows.
 */
#include <math.h>

#include "ewma.h"

void vt_ewma_init(struct vt_ewma *e)
{
	e->rate_1m = e->rate_5m = e->rate_15m = 0;
	e->started = 0;
}

static double ewma_step(double rate, double sample, double seconds,
    double minutes)
{
	double alpha = 1 - exp(-seconds / (minutes * 60));
	return rate + alpha * (sample - rate);
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
	e->rate_1m = ewma_step(e->rate_1m, rate, seconds, 1);
	e->rate_5m = ewma_step(e->rate_5m, rate, seconds, 5);
	e->rate_15m = ewma_step(e->rate_15m, rate, seconds, 15);
}
