/* clock.c - wall and monotonic time, monotonic deadlines (clock.h). */
#include <math.h>

#include "collector/base/clock.h"

static double seconds_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double vt_clock_now(void)
{
	return seconds_of(CLOCK_REALTIME);
}

double vt_clock_mono(void)
{
	return seconds_of(CLOCK_MONOTONIC);
}

struct timespec vt_clock_deadline(double seconds)
{
	double t = vt_clock_mono() + (seconds > 0 ? seconds : 0);
	struct timespec ts;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - floor(t)) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	return ts;
}

void vt_clock_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &ca);
	pthread_condattr_destroy(&ca);
}
