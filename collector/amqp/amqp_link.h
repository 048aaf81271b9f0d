/*
 * amqp_link.h - one thread's link to the broker, kept the same way by the
 * collector's consumer (amqp_consumer.h) and the relay's publisher
 * (relay_pub.h): its state and counters for /metrics and /healthz, the
 * reconnect delay (exponential with jitter, amqp_backoff.h), and the log
 * of failures (complained about once, then backed off) and recoveries.
 *
 * Threads: the owning thread calls the verbs; the counters in stats are
 * atomics that HTTP threads read (vt_amqp_conn_stats_write).
 */
#ifndef VT_AMQP_LINK_H
#define VT_AMQP_LINK_H

#include "collector/amqp/amqp_backoff.h"
#include "collector/amqp/amqp_conn.h"
#include "collector/base/log.h"

struct vt_amqp_link {
	struct vt_amqp_link_stats stats;
	struct vt_amqp_backoff backoff;
	struct vt_complaint complaint;
	const char *subsystem;       /* log subsystem ("amqp"); borrowed */
};

/* Zero counters, state disconnected, delays from min to max seconds
 * (seeded from the time and the pid, so a fleet spreads its retries). */
void vt_amqp_link_init(struct vt_amqp_link *l, const char *subsystem,
    double min, double max);

/* A connection attempt starts. */
void vt_amqp_link_connecting(struct vt_amqp_link *l);

/* The attempt succeeded: counted, the delay reset, and "broker reachable
 * again" logged when failures were reported before. */
void vt_amqp_link_up(struct vt_amqp_link *l);

/* The attempt failed with err: counted and logged (repeats backed off),
 * with `meanwhile` saying what happens until the next try ("retrying
 * with backoff"). Returns the seconds to wait before that try. */
double vt_amqp_link_failed(struct vt_amqp_link *l, const char *err,
    const char *meanwhile);

/* A live connection was lost (the caller logs why). */
void vt_amqp_link_lost(struct vt_amqp_link *l);

/* The thread stopped for good. */
void vt_amqp_link_stopped(struct vt_amqp_link *l);

/* The state now; any thread. */
enum vt_amqp_state vt_amqp_link_state(const struct vt_amqp_link *l);

#endif
