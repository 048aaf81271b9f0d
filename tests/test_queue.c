/*
 * test_queue.c - the shared bounded queue: bounds refuse and count, evict
 * the oldest, keep in-flight items charged, close wakes a blocked
 * consumer, and the eventfd wakes its watcher.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include "collector/base/clock.h"
#include "collector/base/queue.h"
#include "suites.h"

struct item {
	int id;
	struct vt_queue_node node;
};

static int id_of(struct vt_queue_node *n)
{
	return VT_QUEUE_ITEM(n, struct item, node)->id;
}

START_TEST(bound_by_items_refuses_and_counts)
{
	struct vt_queue q;
	struct item it[4] = { { .id = 0 }, { .id = 1 }, { .id = 2 } };
	ck_assert_int_eq(vt_queue_init(&q, 2, 0, 0), 0);
	ck_assert_int_eq(vt_queue_push(&q, &it[0].node, 1, NULL), 0);
	ck_assert_int_eq(vt_queue_push(&q, &it[1].node, 1, NULL), 0);
	ck_assert_int_eq(vt_queue_push(&q, &it[2].node, 1, NULL), -ENOBUFS);
	ck_assert_int_eq(vt_queue_admit(&q, 1), -ENOBUFS);
	ck_assert_uint_eq(vt_queue_len(&q), 2);
	ck_assert_uint_eq(vt_queue_dropped(&q), 2);
	ck_assert_int_eq(id_of(vt_queue_pop(&q, 0)), 0);   /* FIFO */
	ck_assert_int_eq(vt_queue_push(&q, &it[2].node, 1, NULL), 0);
	struct vt_queue_node *all = vt_queue_take(&q, 0);
	ck_assert_int_eq(id_of(all), 1);
	ck_assert_int_eq(id_of(all->next), 2);
	ck_assert_ptr_null(all->next->next);
	ck_assert_ptr_null(vt_queue_pop(&q, 0));
	ck_assert_uint_eq(vt_queue_size(&q), 0);
	vt_queue_fini(&q);
}
END_TEST

START_TEST(bound_by_size)
{
	struct vt_queue q;
	struct item a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
	ck_assert_int_eq(vt_queue_init(&q, 0, 100, 0), 0);
	ck_assert_int_eq(vt_queue_push(&q, &a.node, 150, NULL), -ENOBUFS);
	ck_assert_int_eq(vt_queue_push(&q, &a.node, 60, NULL), 0);
	ck_assert_int_eq(vt_queue_push(&q, &b.node, 41, NULL), -ENOBUFS);
	ck_assert_int_eq(vt_queue_push(&q, &b.node, 40, NULL), 0);
	ck_assert_uint_eq(vt_queue_size(&q), 100);
	ck_assert_uint_eq(vt_queue_dropped(&q), 2);
	vt_queue_pop(&q, 0);                    /* uncharged when taken */
	ck_assert_uint_eq(vt_queue_size(&q), 40);
	ck_assert_int_eq(vt_queue_push(&q, &c.node, 60, NULL), 0);
	vt_queue_take(&q, 0);
	vt_queue_fini(&q);
}
END_TEST

/* KEEP: charged until released; ONE_OVER: an empty queue takes one. */
START_TEST(keep_charges_until_release)
{
	struct vt_queue q;
	struct item a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
	ck_assert_int_eq(vt_queue_init(&q, 0, 10, VT_QUEUE_KEEP |
	    VT_QUEUE_ONE_OVER), 0);
	ck_assert_int_eq(vt_queue_push(&q, &a.node, 25, NULL), 0);
	ck_assert_int_eq(vt_queue_push(&q, &b.node, 1, NULL), -ENOBUFS);
	struct vt_queue_node *n = vt_queue_take(&q, 0);
	ck_assert_uint_eq(vt_queue_size(&q), 25);      /* in flight */
	ck_assert_int_eq(vt_queue_push(&q, &b.node, 1, NULL), 0);
	ck_assert_int_eq(vt_queue_push(&q, &c.node, 1, NULL), -ENOBUFS);
	vt_queue_requeue(&q, n);                       /* back at the head */
	ck_assert_int_eq(id_of(vt_queue_pop(&q, 0)), 1);
	ck_assert_uint_eq(vt_queue_size(&q), 26);
	vt_queue_release(&q, 1, a.node.size);
	vt_queue_release(&q, 1, vt_queue_pop(&q, 0)->size);
	ck_assert_uint_eq(vt_queue_size(&q), 0);
	vt_queue_wait_idle(&q);                        /* returns at once */
	vt_queue_fini(&q);
}
END_TEST

START_TEST(evict_oldest_when_full)
{
	struct vt_queue q;
	struct item it[4] = { { .id = 0 }, { .id = 1 }, { .id = 2 },
	    { .id = 3 } };
	struct vt_queue_node *victim = &it[3].node;
	ck_assert_int_eq(vt_queue_init(&q, 2, 0, VT_QUEUE_EVICT), 0);
	ck_assert_int_eq(vt_queue_push(&q, &it[0].node, 0, &victim), 0);
	ck_assert_ptr_null(victim);
	vt_queue_push(&q, &it[1].node, 0, &victim);
	ck_assert_int_eq(vt_queue_push(&q, &it[2].node, 0, &victim), 0);
	ck_assert_ptr_eq(victim, &it[0].node);
	ck_assert_uint_eq(vt_queue_len(&q), 2);
	ck_assert_uint_eq(vt_queue_dropped(&q), 1);
	ck_assert_int_eq(id_of(vt_queue_pop(&q, 0)), 1);
	ck_assert_int_eq(id_of(vt_queue_pop(&q, 0)), 2);
	vt_queue_fini(&q);
}
END_TEST

struct waiter {
	struct vt_queue *q;
	struct vt_queue_node *got;
	double waited;
};

static void *pop_forever(void *arg)
{
	struct waiter *w = arg;
	double t0 = vt_clock_mono();
	w->got = vt_queue_pop(w->q, -1);
	w->waited = vt_clock_mono() - t0;
	return NULL;
}

START_TEST(close_wakes_a_blocked_consumer)
{
	struct vt_queue q;
	struct item a = { .id = 7 };
	struct waiter w = { .q = &q, .got = &a.node };
	pthread_t t;
	ck_assert_int_eq(vt_queue_init(&q, 0, 0, 0), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, pop_forever, &w), 0);
	usleep(100 * 1000);
	vt_queue_close(&q);
	pthread_join(t, NULL);
	ck_assert_ptr_null(w.got);
	ck_assert(w.waited >= 0.05);
	/* closed: pushes refused and counted; take still hands out. */
	ck_assert_int_eq(vt_queue_push(&q, &a.node, 0, NULL), -EPIPE);
	ck_assert_uint_eq(vt_queue_dropped(&q), 1);
	vt_queue_fini(&q);
}
END_TEST

START_TEST(pop_wakes_on_push_and_times_out)
{
	struct vt_queue q;
	struct item a = { .id = 3 };
	struct waiter w = { .q = &q };
	pthread_t t;
	ck_assert_int_eq(vt_queue_init(&q, 0, 0, 0), 0);
	double t0 = vt_clock_mono();
	ck_assert_ptr_null(vt_queue_pop(&q, 0.05));
	ck_assert(vt_clock_mono() - t0 >= 0.04);
	ck_assert_int_eq(pthread_create(&t, NULL, pop_forever, &w), 0);
	usleep(50 * 1000);
	vt_queue_push(&q, &a.node, 0, NULL);
	pthread_join(t, NULL);
	ck_assert_ptr_eq(w.got, &a.node);
	vt_queue_fini(&q);
}
END_TEST

START_TEST(hold_hands_out_nothing_until_closed)
{
	struct vt_queue q;
	struct item a = { .id = 1 };
	ck_assert_int_eq(vt_queue_init(&q, 0, 0, 0), 0);
	vt_queue_hold(&q, 1);
	vt_queue_push(&q, &a.node, 0, NULL);
	ck_assert_ptr_null(vt_queue_take(&q, 0.01));
	vt_queue_close(&q);
	ck_assert_ptr_null(vt_queue_pop(&q, 0));        /* closed */
	ck_assert_ptr_eq(vt_queue_take(&q, -1), &a.node);  /* what is left */
	ck_assert_ptr_null(vt_queue_take(&q, -1));
	vt_queue_fini(&q);
}
END_TEST

START_TEST(eventfd_wakes_its_watcher)
{
	struct vt_queue q;
	struct item a = { .id = 1 };
	ck_assert_int_eq(vt_queue_init(&q, 0, 0, VT_QUEUE_EVENTFD), 0);
	int fd = vt_queue_fd(&q);
	ck_assert_int_ge(fd, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	vt_queue_push(&q, &a.node, 0, NULL);
	ck_assert_int_eq(poll(&p, 1, 0), 1);
	vt_queue_fd_clear(&q);
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	ck_assert_ptr_eq(vt_queue_take(&q, 0), &a.node);
	ck_assert_int_eq(vt_queue_fd_wait(&q, 10), 0);
	vt_queue_kick(&q);                     /* a wake without an item */
	ck_assert_int_eq(vt_queue_fd_wait(&q, 1000), 1);
	ck_assert_int_eq(poll(&p, 1, 0), 0);   /* cleared by the wait */
	vt_queue_fini(&q);
	ck_assert_int_eq(vt_queue_fd(&q), -1);
}
END_TEST

Suite *vt_test_queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, bound_by_items_refuses_and_counts);
	tcase_add_test(tc, bound_by_size);
	tcase_add_test(tc, keep_charges_until_release);
	tcase_add_test(tc, evict_oldest_when_full);
	tcase_add_test(tc, close_wakes_a_blocked_consumer);
	tcase_add_test(tc, pop_wakes_on_push_and_times_out);
	tcase_add_test(tc, hold_hands_out_nothing_until_closed);
	tcase_add_test(tc, eventfd_wakes_its_watcher);
	suite_add_tcase(s, tc);
	return s;
}
