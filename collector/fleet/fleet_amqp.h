/*
 * fleet_amqp.h - the fleet's exchange (docs/amqp.md, "Fleet"): a thread
 * with its own connection to the broker (amqp_conn.h, reconnecting with
 * backoff like the consumer, amqp_link.h) that declares the fanout
 * exchange fleet.exchange and a server-named, exclusive, auto-delete
 * queue bound to it, and
 *  - publishes this collector's own check reports (vt_fleet_amqp_submit,
 *    batched into JSON arrays) and, every fleet.announce, its
 *    announcement (fleet.h), each with the headers x-vitals-origin (this
 *    collector's name) and x-vitals-kind ("checks" or "announce");
 *  - consumes what the others publish: checks go to the loop thread
 *    through the inbox (VT_INBOX_FLEET_CHECKS, body "<origin>\n<json>"),
 *    announcements to the fleet's membership. Its own messages are
 *    ignored; nothing received is published again.
 *
 * Fleet messages are transient (no confirms, no acks): a report lost to
 * a broker restart is a gap the next report of that check fills; an
 * announcement is repeated anyway. Everything received is hostile:
 * headers and bodies are checked and bounded (amqp.max_body), rejects
 * counted by reason.
 *
 * Threads: submit on the loop thread; collect on any; the rest on the
 * daemon's thread at start and stop.
 */
#ifndef VT_FLEET_AMQP_H
#define VT_FLEET_AMQP_H

#include <stddef.h>

#include "collector/base/buf.h"
#include "collector/base/prom_text.h"
#include "collector/config/config.h"
#include "collector/fleet/fleet.h"
#include "collector/health/health_check.h"
#include "collector/ingest/inbox.h"

#define VT_FLEET_ORIGIN_HEADER "x-vitals-origin"
#define VT_FLEET_KIND_HEADER "x-vitals-kind"
#define VT_FLEET_QUEUE_BYTES (4u << 20)   /* reports waiting to go out */
#define VT_FLEET_BATCH_BYTES (256u << 10) /* one published batch at most */

enum vt_fleet_reject {
	VT_FLEET_REJECT_HEADERS = 0,  /* origin or kind missing or bad */
	VT_FLEET_REJECT_TOO_LARGE,    /* body over amqp.max_body */
	VT_FLEET_REJECT_BAD_ANNOUNCE, /* announcement unusable */
	VT_FLEET_REJECT_INBOX_FULL,   /* the loop was behind */
	VT_FLEET_REJECT_FULL,         /* too many collectors */
	VT_FLEET_REJECT_COUNT
};

typedef struct vt_fleet_amqp vt_fleet_amqp;

/* fleet and inbox are borrowed and must outlive it; cfg is read during
 * the call. Starts the thread (the broker may be down). NULL with err. */
vt_fleet_amqp *vt_fleet_amqp_create(const struct vt_config *cfg,
    vt_fleet *fleet, vt_inbox *inbox, char *err, size_t errlen);

/* A check this collector applied itself, to publish (loop thread; a
 * vt_health_tap_fn, ctx the vt_fleet_amqp). Dropped and counted when
 * VT_FLEET_QUEUE_BYTES are waiting. */
void vt_fleet_amqp_submit(void *ctx, const struct vt_check *c);

/* Publish what is queued (at most a second), close, join. Idempotent. */
void vt_fleet_amqp_stop(vt_fleet_amqp *fa);
void vt_fleet_amqp_destroy(vt_fleet_amqp *fa);   /* NULL ok */

/* vt_prom_collector_fn: vitals_fleet_* families. */
void vt_fleet_amqp_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt);

#endif
