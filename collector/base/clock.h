/*
 * clock.h - the daemon's clocks, written once: wall time for timestamps
 * users see, monotonic time for every interval, timeout and deadline, and
 * condition variables that wait on the monotonic clock (a wall-clock jump
 * must not stretch or cut a wait).
 *
 * Thread-safe; nothing here allocates.
 */
#ifndef VT_CLOCK_H
#define VT_CLOCK_H

#include <pthread.h>
#include <time.h>

/* Wall-clock time, unix seconds (CLOCK_REALTIME). */
double vt_clock_now(void);

/* Monotonic seconds (CLOCK_MONOTONIC): only differences mean anything. */
double vt_clock_mono(void);

/* The monotonic instant `seconds` from now, for pthread_cond_timedwait on
 * a condition variable made by vt_clock_cond_init. */
struct timespec vt_clock_deadline(double seconds);

/* Initialise a condition variable whose timed waits use the monotonic
 * clock. Destroy it with pthread_cond_destroy. */
void vt_clock_cond_init(pthread_cond_t *cond);

#endif
