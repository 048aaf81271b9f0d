/*
 * queue.h - the one bounded FIFO that carries work between threads: an
 * intrusive list under a mutex, a wake-up (a condition variable for
 * worker threads, optionally an eventfd the event loop or a poll(2) can
 * watch), bounds by items and by size, and a count of what it dropped.
 *
 * Intrusive: embed a struct vt_queue_node in each item and get the item
 * back with VT_QUEUE_ITEM. The queue never allocates, copies or frees an
 * item; it links the nodes it is given.
 *
 * Ownership: a pushed node belongs to the queue until a pop or take hands
 * it to the consumer. A refused push leaves it with the producer; an
 * evicted node goes back to the producer through *evicted. Nodes still
 * queued at vt_queue_fini are not touched: take them first.
 *
 * Bounds (0 = none), checked by push:
 * - max_len: items queued. Full: the push is refused (-ENOBUFS), or with
 *   VT_QUEUE_EVICT the oldest item is evicted to make room.
 * - max_size: the sum of the sizes given to push (bytes, updates, ...).
 *   A push that would pass it is refused (-ENOBUFS). With VT_QUEUE_KEEP a
 *   taken item stays charged ("in flight") until vt_queue_release, so the
 *   bound spans what is queued and what the consumer still holds. With
 *   VT_QUEUE_ONE_OVER a queue with nothing queued takes any one item.
 * Every refused push and every eviction counts in vt_queue_dropped.
 *
 * Close: pushes are refused (-EPIPE, counted as dropped), waiters wake,
 * pop returns NULL at once, and take returns what is left (even while
 * held), then NULL. A consumer that must deliver everything at stop pops
 * until NULL, then takes the rest.
 *
 * Threads: every function but init and fini may be called from any
 * thread; the counters (len, size, dropped) are read without the lock.
 */
#ifndef VT_QUEUE_H
#define VT_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct vt_queue_node {
	struct vt_queue_node *next;  /* the queue's while queued; chains of
	                                pop/take are linked by it */
	size_t size;                 /* set by push */
};

/* The item that embeds node as member. */
#define VT_QUEUE_ITEM(node, type, member) \
	((type *)(void *)((char *)(node) - offsetof(type, member)))

enum vt_queue_flag {
	VT_QUEUE_EVICT = 1,      /* a full max_len evicts the oldest */
	VT_QUEUE_EVENTFD = 2,    /* keep an eventfd, written on each push */
	VT_QUEUE_KEEP = 4,       /* taken items stay charged until release */
	VT_QUEUE_ONE_OVER = 8    /* an empty queue takes one over max_size */
};

struct vt_queue {
	pthread_mutex_t lock;        /* guards all but the atomics */
	pthread_cond_t cond;         /* items, hold off, close, idle */
	struct vt_queue_node *head, *tail;
	size_t max_len, max_size, inflight;
	unsigned flags;
	int held, closed, efd;
	_Atomic size_t len, size;    /* written under lock */
	_Atomic uint64_t dropped;
};

/* 0, or -errno when the eventfd cannot be made. Either way the queue must
 * be finished with vt_queue_fini (it works, without an eventfd). */
int vt_queue_init(struct vt_queue *q, size_t max_len, size_t max_size,
    unsigned flags);
void vt_queue_fini(struct vt_queue *q);

/* Change the bounds (for pushes from now on). */
void vt_queue_set_max(struct vt_queue *q, size_t max_len, size_t max_size);

/* Whether a push of size would fit now: 0, or -ENOBUFS counted as dropped
 * (for a producer that would rather not build an item to be refused; a
 * push after 0 may still be refused when other producers came first). */
int vt_queue_admit(struct vt_queue *q, size_t size);

/* Append n, charged size. 0; -ENOBUFS (full) or -EPIPE (closed), counted,
 * n still the caller's. With VT_QUEUE_EVICT, *evicted gets the oldest
 * item when one had to go (the caller's now), else NULL; evicted may be
 * NULL otherwise. Wakes the waiters and the eventfd. */
int vt_queue_push(struct vt_queue *q, struct vt_queue_node *n, size_t size,
    struct vt_queue_node **evicted);

/* The oldest item, or NULL when none came within timeout seconds (< 0:
 * wait as long as it takes; 0: do not wait) or the queue is closed. While
 * held, nothing is handed out. */
struct vt_queue_node *vt_queue_pop(struct vt_queue *q, double timeout);

/* Everything queued, oldest first, linked by next; NULL as pop, except
 * that a closed queue hands out what it still has. */
struct vt_queue_node *vt_queue_take(struct vt_queue *q, double timeout);

/* Put a chain the consumer took (oldest first, NULL-terminated) back at
 * the head, in order, to be handed out again: no bound is checked, and
 * the eventfd is not kicked (the consumer itself puts them back). */
void vt_queue_requeue(struct vt_queue *q, struct vt_queue_node *chain);

/* VT_QUEUE_KEEP: the consumer is done with n items it took, whose sizes
 * add up to size (they may be freed before); uncharge them. */
void vt_queue_release(struct vt_queue *q, size_t n, size_t size);

/* Wait until nothing is queued and, with VT_QUEUE_KEEP, nothing is in
 * flight. Never returns while a held queue has items. */
void vt_queue_wait_idle(struct vt_queue *q);

/* While hold is set, pop and take hand out nothing (until close). */
void vt_queue_hold(struct vt_queue *q, int hold);

/* Refuse pushes from now on and wake every waiter. Idempotent. */
void vt_queue_close(struct vt_queue *q);

/* VT_QUEUE_EVENTFD: the descriptor (readable after a push or a kick; -1
 * without), a kick (wake its watcher without an item), clearing it (before
 * taking: a push after the clear makes it readable again), and poll(2)
 * on it for at most ms, clearing it: 1 when it was readable. */
int vt_queue_fd(const struct vt_queue *q);
void vt_queue_kick(struct vt_queue *q);
void vt_queue_fd_clear(struct vt_queue *q);
int vt_queue_fd_wait(struct vt_queue *q, int ms);

size_t vt_queue_len(const struct vt_queue *q);       /* items queued */
size_t vt_queue_size(const struct vt_queue *q);      /* sizes charged */
uint64_t vt_queue_dropped(const struct vt_queue *q); /* refused+evicted */

#endif
