/*
 * relay_pub.h - the relay's publisher (SPEC 9): a thread that keeps a
 * connection to the broker (backoff with jitter, like the consumer),
 * declares the exchange (and, without a hash exchange, the collector's
 * durable queue and bindings, so batches published before any collector
 * ever ran are kept), puts channel 1 in confirm mode and publishes each
 * batch persistent, with content type, routing key and a "service" header.
 *
 * A batch is forgotten only when the broker confirms it (basic.ack). A
 * basic.nack, or a connection lost before the confirm, puts it back at
 * the head of the queue to be published again (at least once). Batches
 * are published mandatory: one the broker returns (no queue bound yet,
 * e.g. no collector on the hash ring) is parked and published again
 * VT_RELAY_RETURN_RETRY seconds later instead of being lost. Batches
 * submitted and not yet confirmed are bounded by relay.buffer bytes; a
 * batch that does not fit is dropped and counted (batches and lines).
 *
 * vt_relay_pub_submit runs on the loop thread; stats may be read anywhere.
 */
#ifndef VT_RELAY_PUB_H
#define VT_RELAY_PUB_H

#include <stddef.h>

#include "collector/amqp/amqp_conn.h"
#include "collector/base/buf.h"
#include "collector/base/prom_text.h"
#include "collector/config/config.h"
#include "collector/relay/relay_batch.h"

#define VT_RELAY_STOP_GRACE 5.0   /* seconds to get the last confirms */
#define VT_RELAY_RETURN_RETRY 1.0 /* seconds before a returned batch */
#define VT_RELAY_SEQ_HEADER "x-vitals-seq"  /* matches returns to batches */

typedef struct vt_relay_pub vt_relay_pub;

/* Starts the thread; the broker may be down. NULL with err. */
vt_relay_pub *vt_relay_pub_create(const struct vt_config *cfg, char *err,
    size_t errlen);

/* Takes ownership of m. 0, or -ENOBUFS when the buffer is full (m was
 * dropped and counted). */
int vt_relay_pub_submit(vt_relay_pub *p, struct vt_relay_msg *m);

/* Publish what is queued and wait for its confirms, at most
 * VT_RELAY_STOP_GRACE seconds, then close and join; what is still
 * unconfirmed is logged as lost. Idempotent. */
void vt_relay_pub_stop(vt_relay_pub *p);

void vt_relay_pub_destroy(vt_relay_pub *p);   /* NULL ok */

enum vt_amqp_state vt_relay_pub_state(const vt_relay_pub *p);
/* Bytes waiting (queued + unconfirmed). */
size_t vt_relay_pub_buffered(const vt_relay_pub *p);

/* vt_prom_collector_fn: vitals_amqp_* connection and vitals_relay_*
 * families. */
void vt_relay_pub_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt);

#endif
