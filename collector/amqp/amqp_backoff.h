/*
 * amqp_backoff.h - reconnect delays: exponential with jitter, so a fleet of
 * relays and collectors does not hammer a broker that just came back.
 *
 * The n-th delay after a success is drawn uniformly from [c/2, c] where
 * c = min(max, min * 2^n) ("equal jitter"): never shorter than half the
 * step, never above max. A value type: embed it, no allocation. The
 * random state is a seed the caller picks (tests pass a fixed one).
 */
#ifndef VT_AMQP_BACKOFF_H
#define VT_AMQP_BACKOFF_H

#include <stdint.h>

struct vt_amqp_backoff {
	double min, max;    /* seconds, 0 < min <= max */
	double step;        /* the current ceiling c */
	uint64_t rng;       /* xorshift state, never 0 */
};

void vt_amqp_backoff_init(struct vt_amqp_backoff *b, double min, double max,
    uint64_t seed);
/* The delay to wait before the next attempt, in seconds; grows the step. */
double vt_amqp_backoff_next(struct vt_amqp_backoff *b);
/* After a success: the next failure waits about min again. */
void vt_amqp_backoff_reset(struct vt_amqp_backoff *b);

#endif
