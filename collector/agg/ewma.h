/*
 * ewma.h - 1-, 5- and 15-minute exponentially weighted moving rates, as
 * Unix load averages: after each window of `seconds` with `count` events,
 * rate_N += alpha * (count/seconds - rate_N), alpha = 1 - exp(-seconds/N min).
 * The first window sets all three rates to its own rate. A window of
 * seconds <= 0 (or NaN) is ignored. A value: embed it, no heap memory.
 */
#ifndef VT_EWMA_H
#define VT_EWMA_H

struct vt_ewma {
	double rate_1m, rate_5m, rate_15m;   /* per second */
	int started;
};

void vt_ewma_init(struct vt_ewma *e);
/* Fold in one closed window holding `count` events over `seconds`. */
void vt_ewma_update(struct vt_ewma *e, double count, double seconds);

#endif
