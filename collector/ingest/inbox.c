/* inbox.c - bounded multi-producer queue into the loop thread (inbox.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "collector/base/queue.h"
#include "collector/base/xmalloc.h"
#include "collector/ingest/inbox.h"

struct queued {
	struct vt_queue_node node;   /* size: len */
	enum vt_inbox_kind kind;
	size_t len;
	int has_peer;
	struct sockaddr_storage peer;
	vt_inbox_done_fn done;
	void *done_ctx;
	char body[];                 /* len bytes + NUL */
};

struct vt_inbox {
	vt_loop *loop;               /* borrowed */
	vt_inbox_apply_fn apply;
	void *ctx;
	struct vt_selfstats *stats;  /* borrowed; written on the loop thread */
	struct vt_queue q;           /* bound: max_bytes of bodies */
};

static void inbox_on_wake(void *ctx, int fd, uint32_t events);

vt_inbox *vt_inbox_create(vt_loop *loop, size_t max_bytes,
    vt_inbox_apply_fn apply, void *ctx, struct vt_selfstats *stats,
    char *err, size_t errlen)
{
	vt_inbox *ib = vt_xcalloc(1, sizeof *ib);
	ib->loop = loop;
	ib->apply = apply;
	ib->ctx = ctx;
	ib->stats = stats;
	int rc = vt_queue_init(&ib->q, 0, max_bytes, VT_QUEUE_EVENTFD);
	if (rc < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(-rc));
		goto fail;
	}
	rc = vt_loop_add_fd(loop, vt_queue_fd(&ib->q), EPOLLIN, inbox_on_wake,
	    ib);
	if (rc < 0) {
		snprintf(err, errlen, "inbox: %s", strerror(-rc));
		goto fail;
	}
	return ib;
fail:
	vt_inbox_destroy(ib);
	return NULL;
}

int vt_inbox_push(vt_inbox *ib, enum vt_inbox_kind kind, const char *body,
    size_t len, const struct sockaddr *peer, vt_inbox_done_fn done,
    void *done_ctx)
{
	int rc = vt_queue_admit(&ib->q, len);   /* before copying the body */
	if (rc < 0)
		return -ENOBUFS;

	struct queued *q = vt_xmalloc(sizeof *q + len + 1);
	q->kind = kind;
	q->len = len;
	memcpy(q->body, body, len);
	q->body[len] = '\0';
	q->has_peer = peer != NULL;
	if (peer) {
		size_t plen = peer->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		memcpy(&q->peer, peer, plen);
	}
	q->done = done;
	q->done_ctx = done_ctx;
	rc = vt_queue_push(&ib->q, &q->node, len, NULL);
	if (rc < 0) {                 /* another producer filled it first */
		free(q);
		return -ENOBUFS;
	}
	return 0;
}

void vt_inbox_drain(vt_inbox *ib)
{
	struct vt_queue_node *n = vt_queue_take(&ib->q, 0);
	ib->stats->inbox_dropped = vt_queue_dropped(&ib->q);

	while (n) {
		struct queued *q = VT_QUEUE_ITEM(n, struct queued, node);
		n = n->next;
		struct vt_inbox_msg m = {
			.kind = q->kind,
			.body = q->body,
			.len = q->len,
			.peer = q->has_peer ? (struct sockaddr *)&q->peer : NULL,
		};
		int status = ib->apply(ib->ctx, &m);
		ib->stats->inbox_messages++;
		if (q->done)
			q->done(q->done_ctx, status);
		free(q);
	}
}

static void inbox_on_wake(void *ctx, int fd, uint32_t events)
{
	vt_inbox *ib = ctx;
	(void)fd;
	(void)events;
	vt_queue_fd_clear(&ib->q);
	vt_inbox_drain(ib);
}

void vt_inbox_destroy(vt_inbox *ib)
{
	if (ib == NULL)
		return;
	struct vt_queue_node *n = vt_queue_take(&ib->q, 0);
	while (n) {
		struct queued *q = VT_QUEUE_ITEM(n, struct queued, node);
		n = n->next;
		if (q->done)
			q->done(q->done_ctx, -ECANCELED);
		free(q);
	}
	if (vt_queue_fd(&ib->q) >= 0)
		vt_loop_del_fd(ib->loop, vt_queue_fd(&ib->q));
	vt_queue_fini(&ib->q);
	free(ib);
}
