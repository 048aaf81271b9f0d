/* test_published.c - reference counts and the latest-object slot. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "collector/base/published.h"
#include "collector/base/ref.h"
#include "collector/base/xmalloc.h"
#include "suites.h"

/* A published object: its value, and a counter outside it that its
 * destroy bumps, so a test can count destroys after the free. */
struct obj {
	struct vt_ref ref;
	int value;
	atomic_int *destroyed;
};
VT_REF_FIRST(struct obj);

static void obj_destroy(void *p)
{
	struct obj *o = p;
	atomic_fetch_add(o->destroyed, 1);
	free(o);
}

static struct obj *obj_new(int value, atomic_int *destroyed)
{
	struct obj *o = vt_xcalloc(1, sizeof *o);
	vt_ref_init(&o->ref, obj_destroy);
	o->value = value;
	o->destroyed = destroyed;
	return o;
}

START_TEST(ref_retains_through_a_const_pointer)
{
	atomic_int gone = 0;
	struct obj *o = obj_new(1, &gone);
	const struct obj *reader = o;
	struct obj *again = vt_ref_retain(&reader->ref);
	ck_assert_ptr_eq(again, o);
	vt_ref_release(&o->ref);
	ck_assert_int_eq(gone, 0);
	ck_assert_int_eq(again->value, 1);
	vt_ref_release(&again->ref);
	ck_assert_int_eq(gone, 1);
}
END_TEST

START_TEST(get_before_the_first_set_is_null)
{
	struct vt_published p;
	vt_published_init(&p);
	ck_assert_ptr_null(vt_published_get(&p));
	vt_published_fini(&p);
}
END_TEST

START_TEST(set_releases_the_old_object_exactly_once)
{
	atomic_int gone_a = 0, gone_b = 0;
	struct vt_published p;
	vt_published_init(&p);
	vt_published_set(&p, obj_new(1, &gone_a));
	vt_published_set(&p, obj_new(2, &gone_b));
	ck_assert_int_eq(gone_a, 1);
	ck_assert_int_eq(gone_b, 0);

	struct obj *o = vt_published_get(&p);
	ck_assert_int_eq(o->value, 2);
	vt_ref_release(&o->ref);
	ck_assert_int_eq(gone_b, 0);

	vt_published_set(&p, NULL);             /* unpublish */
	ck_assert_int_eq(gone_b, 1);
	ck_assert_ptr_null(vt_published_get(&p));
	vt_published_fini(&p);
	ck_assert_int_eq(gone_a, 1);
	ck_assert_int_eq(gone_b, 1);
}
END_TEST

START_TEST(fini_releases_the_last_object)
{
	atomic_int gone = 0;
	struct vt_published p;
	vt_published_init(&p);
	vt_published_set(&p, obj_new(1, &gone));
	vt_published_fini(&p);
	ck_assert_int_eq(gone, 1);
}
END_TEST

START_TEST(a_readers_reference_outlives_a_later_set)
{
	atomic_int gone_a = 0, gone_b = 0;
	struct vt_published p;
	vt_published_init(&p);
	vt_published_set(&p, obj_new(1, &gone_a));
	struct obj *held = vt_published_get(&p);
	vt_published_set(&p, obj_new(2, &gone_b));
	ck_assert_int_eq(gone_a, 0);
	ck_assert_int_eq(held->value, 1);
	struct obj *now = vt_published_get(&p);
	ck_assert_int_eq(now->value, 2);
	vt_ref_release(&held->ref);
	ck_assert_int_eq(gone_a, 1);
	vt_ref_release(&now->ref);
	vt_published_fini(&p);
	ck_assert_int_eq(gone_b, 1);
}
END_TEST

#define ROUNDS 20000

struct race {
	struct vt_published p;
	atomic_int destroyed;
	atomic_int done;
};

static void *publisher(void *arg)
{
	struct race *r = arg;
	for (int i = 1; i <= ROUNDS; i++)
		vt_published_set(&r->p, obj_new(i, &r->destroyed));
	atomic_store(&r->done, 1);
	return NULL;
}

START_TEST(concurrent_set_and_get)
{
	struct race r = { .destroyed = 0, .done = 0 };
	vt_published_init(&r.p);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, publisher, &r), 0);
	int last = 0;
	long reads = 0;
	while (!atomic_load(&r.done) || reads == 0) {
		struct obj *o = vt_published_get(&r.p);
		if (o == NULL)
			continue;
		/* Alive (a freed one would trip the sanitizer build) and
		 * never older than what this reader saw before. */
		ck_assert_int_ge(o->value, last);
		last = o->value;
		reads++;
		vt_ref_release(&o->ref);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(atomic_load(&r.destroyed), ROUNDS - 1);
	struct obj *o = vt_published_get(&r.p);
	ck_assert_int_eq(o->value, ROUNDS);
	vt_ref_release(&o->ref);
	vt_published_fini(&r.p);
	ck_assert_int_eq(atomic_load(&r.destroyed), ROUNDS);
}
END_TEST

Suite *vt_test_published_suite(void)
{
	Suite *s = suite_create("published");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, ref_retains_through_a_const_pointer);
	tcase_add_test(tc, get_before_the_first_set_is_null);
	tcase_add_test(tc, set_releases_the_old_object_exactly_once);
	tcase_add_test(tc, fini_releases_the_last_object);
	tcase_add_test(tc, a_readers_reference_outlives_a_later_set);
	tcase_add_test(tc, concurrent_set_and_get);
	suite_add_tcase(s, tc);
	return s;
}
