/* amqp_backoff.c - exponential backoff with equal jitter (amqp_backoff.h). */
#include "collector/amqp/amqp_backoff.h"

void vt_amqp_backoff_init(struct vt_amqp_backoff *b, double min, double max,
    uint64_t seed)
{
	b->min = min > 0 ? min : 0.001;
	b->max = max >= b->min ? max : b->min;
	b->step = b->min;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

/* xorshift64*: a uniform double in [0, 1). */
static double uniform(struct vt_amqp_backoff *b)
{
	uint64_t x = b->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	b->rng = x;
	return (double)((x * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

double vt_amqp_backoff_next(struct vt_amqp_backoff *b)
{
	double c = b->step;
	double d = c / 2 + uniform(b) * (c / 2);
	b->step = c * 2 < b->max ? c * 2 : b->max;
	return d;
}

void vt_amqp_backoff_reset(struct vt_amqp_backoff *b)
{
	b->step = b->min;
}
