/*
 * inbox.h - the bounded queue that carries bodies from other threads
 * (HTTP POSTs, the AMQP consumer) to the loop thread, which applies them.
 *
 * Producers copy the body in (vt_inbox_push is thread-safe and never
 * blocks); an eventfd wakes the loop, which takes the whole queue at once
 * and calls the apply function for each message, then its `done` callback
 * (so AMQP can ack only what was applied). When the queued bytes would
 * exceed the bound, the push is refused with -ENOBUFS and counted.
 */
#ifndef VT_INBOX_H
#define VT_INBOX_H

#include <stddef.h>
#include <sys/socket.h>

#include "collector/agg/selfstats.h"
#include "collector/base/loop.h"

enum vt_inbox_kind {
	VT_INBOX_STATSD,     /* statsd lines */
	VT_INBOX_CHECKS,     /* a JSON healthcheck body */
	VT_INBOX_FORGET_SERVICE, /* body: a service name (DELETE) */
	VT_INBOX_FLEET_CHECKS    /* body: "<origin>\n" and a JSON check body
	                            another collector of the fleet applied */
};

struct vt_inbox_msg {
	enum vt_inbox_kind kind;
	const char *body;            /* owned by the inbox during apply */
	size_t len;
	const struct sockaddr *peer; /* NULL when unknown */
};

/* Runs on the loop thread once the message has been applied. status is 0,
 * or -EINVAL when the body was rejected as a whole. */
typedef void (*vt_inbox_done_fn)(void *done_ctx, int status);

/* Applies one message on the loop thread; returns 0 or -EINVAL. */
typedef int (*vt_inbox_apply_fn)(void *ctx, const struct vt_inbox_msg *m);

typedef struct vt_inbox vt_inbox;

/* stats is borrowed (inbox_* counters). NULL with err on failure. */
vt_inbox *vt_inbox_create(vt_loop *loop, size_t max_bytes,
    vt_inbox_apply_fn apply, void *ctx, struct vt_selfstats *stats,
    char *err, size_t errlen);

/* Thread-safe. Copies body. 0 or -ENOBUFS (full). done may be NULL. */
int vt_inbox_push(vt_inbox *ib, enum vt_inbox_kind kind, const char *body,
    size_t len, const struct sockaddr *peer, vt_inbox_done_fn done,
    void *done_ctx);

/* Apply everything queued now (loop thread; used at shutdown). */
void vt_inbox_drain(vt_inbox *ib);

/* Frees queued messages without applying them (their done gets -ECANCELED). */
void vt_inbox_destroy(vt_inbox *ib);

#endif
