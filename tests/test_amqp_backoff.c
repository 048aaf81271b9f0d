/* test_amqp_backoff.c - reconnect delays: doubling, jitter, cap, reset. */
#include <check.h>

#include "collector/amqp/amqp_backoff.h"
#include "suites.h"

START_TEST(doubles_with_jitter_up_to_the_cap)
{
	struct vt_amqp_backoff b;
	vt_amqp_backoff_init(&b, 0.5, 8, 42);
	double ceil = 0.5;
	for (int i = 0; i < 20; i++) {
		double d = vt_amqp_backoff_next(&b);
		ck_assert_msg(d >= ceil / 2 && d <= ceil, "try %d: %g not in "
		    "[%g, %g]", i, d, ceil / 2, ceil);
		ceil = ceil * 2 < 8 ? ceil * 2 : 8;
	}
}
END_TEST

START_TEST(jitter_spreads_the_delays)
{
	struct vt_amqp_backoff a, b;
	vt_amqp_backoff_init(&a, 1, 1, 1);
	vt_amqp_backoff_init(&b, 1, 1, 2);
	int differ = 0;
	double lo = 1, hi = 0;
	for (int i = 0; i < 100; i++) {
		double x = vt_amqp_backoff_next(&a);
		double y = vt_amqp_backoff_next(&b);
		differ += x != y;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	ck_assert_int_gt(differ, 90);     /* two seeds: two schedules */
	ck_assert_double_lt(lo, 0.6);     /* the whole [0.5, 1] is used */
	ck_assert_double_gt(hi, 0.9);
}
END_TEST

START_TEST(reset_starts_over)
{
	struct vt_amqp_backoff b;
	vt_amqp_backoff_init(&b, 0.1, 30, 7);
	for (int i = 0; i < 10; i++)
		vt_amqp_backoff_next(&b);
	ck_assert_double_eq(b.step, 30);
	vt_amqp_backoff_reset(&b);
	ck_assert_double_le(vt_amqp_backoff_next(&b), 0.1);
}
END_TEST

START_TEST(bad_bounds_are_fixed)
{
	struct vt_amqp_backoff b;
	vt_amqp_backoff_init(&b, 0, 0, 0);     /* zero seed too */
	double d = vt_amqp_backoff_next(&b);
	ck_assert_double_gt(d, 0);
	ck_assert_double_le(d, 0.001);
}
END_TEST

Suite *vt_test_amqp_backoff_suite(void)
{
	Suite *s = suite_create("amqp_backoff");
	TCase *tc = tcase_create("amqp_backoff");
	tcase_add_test(tc, doubles_with_jitter_up_to_the_cap);
	tcase_add_test(tc, jitter_spreads_the_delays);
	tcase_add_test(tc, reset_starts_over);
	tcase_add_test(tc, bad_bounds_are_fixed);
	suite_add_tcase(s, tc);
	return s;
}
