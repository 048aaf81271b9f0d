/* inbox.c - bounded multi-producer queue into the loop thread (inbox.h). */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "collector/ingest/inbox.h"
#include "collector/base/xmalloc.h"

struct queued {
	struct queued *next;
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
	int efd;
	vt_inbox_apply_fn apply;
	void *ctx;
	struct vt_selfstats *stats;  /* borrowed; written on the loop thread */
	pthread_mutex_t lock;        /* guards head, tail, bytes, dropped */
	struct queued *head, *tail;
	size_t bytes, max_bytes;
	uint64_t dropped;
};

static void inbox_on_wake(void *ctx, int fd, uint32_t events);

vt_inbox *vt_inbox_create(vt_loop *loop, size_t max_bytes,
    vt_inbox_apply_fn apply, void *ctx, struct vt_selfstats *stats,
    char *err, size_t errlen)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return NULL;
	}
	vt_inbox *ib = vt_xcalloc(1, sizeof *ib);
	ib->loop = loop;
	ib->efd = efd;
	ib->apply = apply;
	ib->ctx = ctx;
	ib->stats = stats;
	ib->max_bytes = max_bytes;
	pthread_mutex_init(&ib->lock, NULL);
	int rc = vt_loop_add_fd(loop, efd, EPOLLIN, inbox_on_wake, ib);
	if (rc < 0) {
		snprintf(err, errlen, "inbox: %s", strerror(-rc));
		vt_inbox_destroy(ib);
		return NULL;
	}
	return ib;
}

int vt_inbox_push(vt_inbox *ib, enum vt_inbox_kind kind, const char *body,
    size_t len, const struct sockaddr *peer, vt_inbox_done_fn done,
    void *done_ctx)
{
	pthread_mutex_lock(&ib->lock);
	int full = ib->bytes + len > ib->max_bytes;
	if (full)
		ib->dropped++;
	else
		ib->bytes += len;
	pthread_mutex_unlock(&ib->lock);
	if (full)
		return -ENOBUFS;

	struct queued *q = vt_xmalloc(sizeof *q + len + 1);
	q->next = NULL;
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

	pthread_mutex_lock(&ib->lock);
	if (ib->tail)
		ib->tail->next = q;
	else
		ib->head = q;
	ib->tail = q;
	pthread_mutex_unlock(&ib->lock);

	uint64_t one = 1;
	if (write(ib->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

void vt_inbox_drain(vt_inbox *ib)
{
	pthread_mutex_lock(&ib->lock);
	struct queued *q = ib->head;
	ib->head = ib->tail = NULL;
	ib->bytes = 0;
	ib->stats->inbox_dropped = ib->dropped;
	pthread_mutex_unlock(&ib->lock);

	while (q) {
		struct queued *next = q->next;
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
		q = next;
	}
}

static void inbox_on_wake(void *ctx, int fd, uint32_t events)
{
	vt_inbox *ib = ctx;
	uint64_t n;
	(void)events;
	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
		return;
	vt_inbox_drain(ib);
}

void vt_inbox_destroy(vt_inbox *ib)
{
	if (ib == NULL)
		return;
	struct queued *q = ib->head;
	while (q) {
		struct queued *next = q->next;
		if (q->done)
			q->done(q->done_ctx, -ECANCELED);
		free(q);
		q = next;
	}
	vt_loop_del_fd(ib->loop, ib->efd);
	close(ib->efd);
	pthread_mutex_destroy(&ib->lock);
	free(ib);
}
