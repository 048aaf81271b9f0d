/* amqp_link.c - a link's state, counters, backoff and log (amqp_link.h). */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "collector/amqp/amqp_link.h"
#include "collector/base/clock.h"

void vt_amqp_link_init(struct vt_amqp_link *l, const char *subsystem,
    double min, double max)
{
	*l = (struct vt_amqp_link){ .subsystem = subsystem };
	atomic_init(&l->stats.state, VT_AMQP_DISCONNECTED);
	vt_amqp_backoff_init(&l->backoff, min, max,
	    (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
}

void vt_amqp_link_connecting(struct vt_amqp_link *l)
{
	atomic_store(&l->stats.state, VT_AMQP_CONNECTING);
}

void vt_amqp_link_up(struct vt_amqp_link *l)
{
	atomic_fetch_add(&l->stats.connects, 1);
	atomic_store(&l->stats.connected_since, vt_clock_now());
	atomic_store(&l->stats.state, VT_AMQP_CONNECTED);
	vt_amqp_backoff_reset(&l->backoff);
	vt_log_recovered(&l->complaint, l->subsystem,
	    "broker reachable again");
}

double vt_amqp_link_failed(struct vt_amqp_link *l, const char *err,
    const char *meanwhile)
{
	atomic_fetch_add(&l->stats.connect_failures, 1);
	atomic_store(&l->stats.state, VT_AMQP_DISCONNECTED);
	double delay = vt_amqp_backoff_next(&l->backoff);
	vt_log_complain(&l->complaint, VT_LOG_WARN, l->subsystem,
	    "cannot connect: %s; %s (next try in %.1fs)", err, meanwhile,
	    delay);
	return delay;
}

void vt_amqp_link_lost(struct vt_amqp_link *l)
{
	atomic_fetch_add(&l->stats.connection_losses, 1);
	atomic_store(&l->stats.state, VT_AMQP_DISCONNECTED);
	atomic_store(&l->stats.connected_since, 0.0);
}

void vt_amqp_link_stopped(struct vt_amqp_link *l)
{
	atomic_store(&l->stats.state, VT_AMQP_STOPPED);
}

enum vt_amqp_state vt_amqp_link_state(const struct vt_amqp_link *l)
{
	return (enum vt_amqp_state)atomic_load(&l->stats.state);
}
