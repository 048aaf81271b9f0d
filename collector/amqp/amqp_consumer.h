/*
 * amqp_consumer.h - the collector's AMQP input (SPEC 3.3): a thread that
 * keeps a connection to the broker (reconnecting with backoff and jitter),
 * declares the topology (amqp_conn.h), consumes the queue with a prefetch
 * limit and manual acks, and hands every body to the loop thread through
 * the inbox. A message is acked only after the loop has applied it (the
 * inbox's done callback); one the loop rejects as a whole, or one that is
 * too large or compressed, is rejected without requeue and counted by
 * reason. Deliveries of a lost connection are never acked on a new one:
 * the broker redelivers them (at least once).
 *
 * Content type application/json (parameters allowed) -> VT_INBOX_CHECKS,
 * anything else -> VT_INBOX_STATSD.
 *
 * Life cycle, from the daemon: create (thread starts; broker down is not
 * an error), vt_amqp_consumer_quiesce (no more pushes), drain the inbox,
 * vt_amqp_consumer_stop (acks what was applied, closes, joins),
 * destroy the inbox, vt_amqp_consumer_destroy.
 */
#ifndef VT_AMQP_CONSUMER_H
#define VT_AMQP_CONSUMER_H

#include <stddef.h>

#include "collector/amqp/amqp_conn.h"
#include "collector/base/buf.h"
#include "collector/base/prom_text.h"
#include "collector/ingest/inbox.h"

enum vt_amqp_reject {
	VT_AMQP_REJECT_BAD_JSON = 0,   /* application/json body unusable */
	VT_AMQP_REJECT_BAD_STATSD,     /* no valid statsd line in the body */
	VT_AMQP_REJECT_TOO_LARGE,      /* body over amqp.max_body */
	VT_AMQP_REJECT_ENCODING,       /* a content-encoding (gzip, ...) */
	VT_AMQP_REJECT_COUNT
};

/* "bad_json", "bad_statsd", "too_large", "encoding". */
const char *vt_amqp_consumer_reject_name(enum vt_amqp_reject r);

typedef struct vt_amqp_consumer vt_amqp_consumer;

/* The inbox is borrowed: it must outlive the thread (see above). cfg is
 * read during the call. NULL with err (bad URL, thread). */
vt_amqp_consumer *vt_amqp_consumer_create(const struct vt_config *cfg,
    vt_inbox *inbox, char *err, size_t errlen);

/* Stop taking deliveries; returns once no push is in progress. */
void vt_amqp_consumer_quiesce(vt_amqp_consumer *c);

/* Ack what the loop applied, close the connection, join. Idempotent. */
void vt_amqp_consumer_stop(vt_amqp_consumer *c);

void vt_amqp_consumer_destroy(vt_amqp_consumer *c);   /* NULL ok */

/* The connection state now (any thread). */
enum vt_amqp_state vt_amqp_consumer_state(const vt_amqp_consumer *c);

/* vt_prom_collector_fn: the vitals_amqp_* families (any thread). */
void vt_amqp_consumer_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt);

#endif
