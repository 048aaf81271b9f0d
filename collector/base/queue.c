/* queue.c - the bounded intrusive FIFO with wake-ups (queue.h). */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "collector/base/clock.h"
#include "collector/base/queue.h"

int vt_queue_init(struct vt_queue *q, size_t max_len, size_t max_size,
    unsigned flags)
{
	q->head = q->tail = NULL;
	q->max_len = max_len;
	q->max_size = max_size;
	q->inflight = 0;
	q->flags = flags;
	q->held = q->closed = 0;
	atomic_init(&q->len, 0);
	atomic_init(&q->size, 0);
	atomic_init(&q->dropped, 0);
	pthread_mutex_init(&q->lock, NULL);
	vt_clock_cond_init(&q->cond);
	q->efd = -1;
	if (flags & VT_QUEUE_EVENTFD) {
		q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (q->efd < 0)
			return -errno;
	}
	return 0;
}

void vt_queue_fini(struct vt_queue *q)
{
	if (q->efd >= 0)
		close(q->efd);
	q->efd = -1;
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
}

void vt_queue_set_max(struct vt_queue *q, size_t max_len, size_t max_size)
{
	pthread_mutex_lock(&q->lock);
	q->max_len = max_len;
	q->max_size = max_size;
	pthread_mutex_unlock(&q->lock);
}

/* Under lock: 0, or why a push of size is refused (not counted). */
static int refuse(const struct vt_queue *q, size_t size)
{
	size_t len = atomic_load(&q->len), charged = atomic_load(&q->size);
	if (q->closed)
		return -EPIPE;
	if (q->max_len && len >= q->max_len && !(q->flags & VT_QUEUE_EVICT))
		return -ENOBUFS;
	if (q->max_size && charged + size > q->max_size &&
	    !(len == 0 && (q->flags & VT_QUEUE_ONE_OVER)))
		return -ENOBUFS;
	return 0;
}

int vt_queue_admit(struct vt_queue *q, size_t size)
{
	pthread_mutex_lock(&q->lock);
	int rc = refuse(q, size);
	if (rc < 0)
		atomic_fetch_add(&q->dropped, 1);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* Under lock: unlink the oldest (there is one). */
static struct vt_queue_node *unlink_head(struct vt_queue *q)
{
	struct vt_queue_node *n = q->head;
	q->head = n->next;
	if (q->head == NULL)
		q->tail = NULL;
	n->next = NULL;
	atomic_fetch_sub(&q->len, 1);
	return n;
}

/* Under lock: n of size went to the consumer (in flight with KEEP). */
static void hand_out(struct vt_queue *q, size_t n, size_t size)
{
	if (q->flags & VT_QUEUE_KEEP)
		q->inflight += n;
	else
		atomic_fetch_sub(&q->size, size);
	if (q->head == NULL && q->inflight == 0)
		pthread_cond_broadcast(&q->cond);    /* idle */
}

int vt_queue_push(struct vt_queue *q, struct vt_queue_node *n, size_t size,
    struct vt_queue_node **evicted)
{
	struct vt_queue_node *victim = NULL;
	pthread_mutex_lock(&q->lock);
	int rc = refuse(q, size);
	if (rc < 0) {
		atomic_fetch_add(&q->dropped, 1);
		pthread_mutex_unlock(&q->lock);
		goto out;
	}
	if (q->max_len && atomic_load(&q->len) >= q->max_len) {
		victim = unlink_head(q);             /* VT_QUEUE_EVICT */
		atomic_fetch_sub(&q->size, victim->size);
		atomic_fetch_add(&q->dropped, 1);
	}
	n->next = NULL;
	n->size = size;
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	atomic_fetch_add(&q->len, 1);
	atomic_fetch_add(&q->size, size);
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	vt_queue_kick(q);
out:
	if (evicted)
		*evicted = victim;
	return rc;
}

/* Under lock: wait until there is something to hand out, or closed, or
 * the deadline; 1 when there is something. */
static int wait_ready(struct vt_queue *q, double timeout)
{
	struct timespec ts = vt_clock_deadline(timeout);
	while (!q->closed && (q->head == NULL || q->held)) {
		if (timeout == 0)
			return 0;
		if (timeout < 0)
			pthread_cond_wait(&q->cond, &q->lock);
		else if (pthread_cond_timedwait(&q->cond, &q->lock, &ts) ==
		    ETIMEDOUT)
			return 0;
	}
	return q->head != NULL;
}

struct vt_queue_node *vt_queue_pop(struct vt_queue *q, double timeout)
{
	struct vt_queue_node *n = NULL;
	pthread_mutex_lock(&q->lock);
	if (wait_ready(q, timeout) && !q->closed) {
		n = unlink_head(q);
		hand_out(q, 1, n->size);
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}

struct vt_queue_node *vt_queue_take(struct vt_queue *q, double timeout)
{
	struct vt_queue_node *list = NULL;
	pthread_mutex_lock(&q->lock);
	if (wait_ready(q, timeout)) {
		list = q->head;
		q->head = q->tail = NULL;
		/* without KEEP, all that is charged is what was queued */
		hand_out(q, atomic_exchange(&q->len, 0),
		    atomic_load(&q->size));
	}
	pthread_mutex_unlock(&q->lock);
	return list;
}

void vt_queue_requeue(struct vt_queue *q, struct vt_queue_node *chain)
{
	if (chain == NULL)
		return;
	struct vt_queue_node *last = chain;
	size_t n = 1, size = chain->size;
	for (; last->next; last = last->next, n++)
		size += last->next->size;
	pthread_mutex_lock(&q->lock);
	last->next = q->head;
	q->head = chain;
	if (q->tail == NULL)
		q->tail = last;
	atomic_fetch_add(&q->len, n);
	if (q->flags & VT_QUEUE_KEEP)
		q->inflight -= n;
	else
		atomic_fetch_add(&q->size, size);
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void vt_queue_release(struct vt_queue *q, size_t n, size_t size)
{
	pthread_mutex_lock(&q->lock);
	q->inflight -= n;
	atomic_fetch_sub(&q->size, size);
	if (q->inflight == 0 && q->head == NULL)
		pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void vt_queue_wait_idle(struct vt_queue *q)
{
	pthread_mutex_lock(&q->lock);
	while (q->head != NULL || q->inflight > 0)
		pthread_cond_wait(&q->cond, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

void vt_queue_hold(struct vt_queue *q, int hold)
{
	pthread_mutex_lock(&q->lock);
	q->held = hold;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void vt_queue_close(struct vt_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	vt_queue_kick(q);
}

int vt_queue_fd(const struct vt_queue *q)
{
	return q->efd;
}

/* A failed write is EAGAIN (the counter is already readable) or a bad
 * descriptor: neither loses a wake-up that could be delivered. */
void vt_queue_kick(struct vt_queue *q)
{
	uint64_t one = 1;
	if (q->efd >= 0 && write(q->efd, &one, sizeof one) < 0)
		return;
}

void vt_queue_fd_clear(struct vt_queue *q)
{
	uint64_t n;
	if (q->efd >= 0 && read(q->efd, &n, sizeof n) < 0)
		return;                  /* EAGAIN: nothing to clear */
}

int vt_queue_fd_wait(struct vt_queue *q, int ms)
{
	struct pollfd p = { .fd = q->efd, .events = POLLIN };
	int ready = poll(&p, 1, ms) > 0 && (p.revents & POLLIN);
	if (ready)
		vt_queue_fd_clear(q);
	return ready;
}

size_t vt_queue_len(const struct vt_queue *q)
{
	return atomic_load(&q->len);
}

size_t vt_queue_size(const struct vt_queue *q)
{
	return atomic_load(&q->size);
}

uint64_t vt_queue_dropped(const struct vt_queue *q)
{
	return atomic_load(&q->dropped);
}
