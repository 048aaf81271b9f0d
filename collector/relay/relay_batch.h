/*
 * relay_batch.h - the relay's batcher (SPEC 9): records (statsd lines, `_sc`
 * lines, JSON checks) go into one open batch per (service, kind); a batch
 * becomes an AMQP message when the next record would take it past
 * max_bytes, when its first record is max_age old (vt_relay_batch_tick), or at
 * vt_relay_batch_flush. One record larger than max_bytes travels alone.
 *
 * Bodies: statsd and `_sc` lines joined by '\n'; JSON checks as a JSON
 * array of check objects. Routing keys: "<service>.metrics" for metric
 * lines, "<service>.health" for checks (cut to 255 bytes, the AMQP limit;
 * the full service name also travels in the "service" header).
 *
 * Loop thread only; the finished message is handed to `emit`, which takes
 * ownership. At most VT_RELAY_BATCH_MAX_OPEN batches are open; a new one past
 * that emits the oldest first. Past the bound nearly every batch is cut
 * short (messages of a few lines instead of one a second per service),
 * which costs the broker far more than the open batches cost in memory (at
 * most VT_RELAY_BATCH_MAX_OPEN x max_bytes, in practice what arrives
 * within max_age); so it is set for hosts with hundreds of services. The
 * lookup is a linear scan with a last-hit shortcut.
 */
#ifndef VT_RELAY_BATCH_H
#define VT_RELAY_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "collector/base/queue.h"
#include "collector/base/vt_types.h"

#define VT_RELAY_BATCH_MAX_OPEN 1024
#define VT_RELAY_KEY_MAX 255

enum vt_relay_kind {
	VT_RELAY_METRICS = 0,      /* statsd metric lines */
	VT_RELAY_HEALTH_LINES,     /* DogStatsD `_sc` lines */
	VT_RELAY_HEALTH_JSON,      /* JSON check objects */
	VT_RELAY_KIND_COUNT
};

/* One finished batch: one AMQP message. Heap, freed with
 * vt_relay_batch_msg_free by whoever holds it last. */
struct vt_relay_msg {
	struct vt_queue_node node;     /* the publisher's queue and lists */
	enum vt_relay_kind kind;
	char service[VT_NAME_MAX + 1];
	char routing_key[VT_RELAY_KEY_MAX + 1];
	char *body;                    /* owned; NUL after len */
	size_t len;
	size_t records;                /* lines or checks in the body */
	uint64_t seq;                  /* the publisher's delivery tag */
	int returned;                  /* the broker returned it: no queue */
};

void vt_relay_batch_msg_free(struct vt_relay_msg *m);   /* NULL ok */

/* "text/plain" or "application/json". */
const char *vt_relay_batch_content_type(enum vt_relay_kind k);

typedef void (*vt_relay_emit_fn)(void *ctx, struct vt_relay_msg *m);

typedef struct vt_relay_batch vt_relay_batch;

vt_relay_batch *vt_relay_batch_create(size_t max_bytes, double max_age,
    vt_relay_emit_fn emit, void *ctx);
/* Frees open batches without emitting them. NULL ok. */
void vt_relay_batch_destroy(vt_relay_batch *b);

/* Append one record (no trailing newline) for service[0..slen) at time
 * now (seconds, any monotonic clock). */
void vt_relay_batch_add(vt_relay_batch *b, enum vt_relay_kind kind,
    const char *service, size_t slen, const char *rec, size_t len,
    double now);

/* Emit every batch whose first record is at least max_age old. */
void vt_relay_batch_tick(vt_relay_batch *b, double now);
/* Emit every open batch. */
void vt_relay_batch_flush(vt_relay_batch *b);
/* Open batches now. */
size_t vt_relay_batch_open(const vt_relay_batch *b);

#endif
