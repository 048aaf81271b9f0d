/*
 * test_alert_flap.c - Nagios-style flap detection: steady and single
 * changes never flap, alternating results start flapping once, the
 * hysteresis keeps it until the percent falls below `low`.
 */
#include <check.h>

#include "collector/alerts/alert_flap.h"
#include "suites.h"

START_TEST(steady_and_single_changes_do_not_flap)
{
	struct vt_flap f = { 0 };
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(vt_alert_flap_record(&f, 1, 21, 50, 25),
		    VT_FLAP_SAME);
	ck_assert_double_eq(f.percent, 0);
	ck_assert_int_eq(vt_alert_flap_quiet(&f, 21), 1);
	ck_assert_int_eq(vt_alert_flap_record(&f, 0, 21, 50, 25), VT_FLAP_SAME);
	ck_assert_int_eq(f.flapping, 0);
	ck_assert_int_eq(vt_alert_flap_quiet(&f, 21), 0);
	/* newest change weighs 1.2 of 20 transitions: 6% */
	ck_assert_double_eq_tol(f.percent, 6.0, 1e-9);
	/* a new check starting in either state is never flapping */
	struct vt_flap g = { 0 };
	ck_assert_int_eq(vt_alert_flap_record(&g, 0, 21, 50, 25), VT_FLAP_SAME);
	ck_assert_double_eq(g.percent, 0);
}
END_TEST

START_TEST(alternating_flaps_once_then_calms_down)
{
	struct vt_flap f = { 0 };
	int starts = 0, stops = 0, started_at = -1;
	for (int i = 0; i < 40; i++) {
		enum vt_alert_flap_change c = vt_alert_flap_record(&f, i % 2, 21, 50, 25);
		if (c == VT_FLAP_START && started_at < 0)
			started_at = i;
		starts += c == VT_FLAP_START;
		stops += c == VT_FLAP_STOP;
	}
	ck_assert_int_eq(starts, 1);
	ck_assert_int_eq(stops, 0);
	/* 9 recent changes weigh just over 10 of 20: > 50% */
	ck_assert_int_eq(started_at, 9);
	ck_assert_double_eq_tol(f.percent, 100, 1e-9);
	/* steady again: flapping holds until below 25% (hysteresis) */
	int stopped_at = -1;
	for (int i = 0; i < 30; i++) {
		enum vt_alert_flap_change c = vt_alert_flap_record(&f, 1, 21, 50, 25);
		if (c == VT_FLAP_STOP)
			stopped_at = i;
		if (f.percent >= 25)
			ck_assert_int_eq(f.flapping, 1);
	}
	ck_assert_int_gt(stopped_at, 5);
	ck_assert_int_eq(f.flapping, 0);
}
END_TEST

START_TEST(between_low_and_high_keeps_the_state)
{
	/* about 40% change: not enough to start, enough not to stop */
	static const int pattern[] = { 1, 1, 1, 0, 0, 1, 1, 1, 1, 0 };
	struct vt_flap f = { 0 };
	for (int i = 0; i < 60; i++) {
		vt_alert_flap_record(&f, pattern[i % 10], 21, 50, 25);
		ck_assert_int_eq(f.flapping, 0);
	}
	ck_assert(f.percent > 25 && f.percent < 50);
	f.flapping = 1;
	for (int i = 0; i < 60; i++)
		ck_assert_int_ne(vt_alert_flap_record(&f, pattern[i % 10], 21, 50,
		    25), VT_FLAP_STOP);
}
END_TEST

START_TEST(window_bounds)
{
	struct vt_flap f = { 0 };
	for (int i = 0; i < 200; i++)
		vt_alert_flap_record(&f, i % 2, 64, 50, 25);
	ck_assert_int_eq(f.flapping, 1);
	ck_assert_uint_eq(f.n, 64);
	struct vt_flap g = { 0 };
	for (int i = 0; i < 10; i++)
		vt_alert_flap_record(&g, i % 2, 1, 50, 25);   /* clamped to 3 */
	ck_assert_uint_le(g.n, 3);
}
END_TEST

Suite *vt_test_alert_flap_suite(void)
{
	Suite *s = suite_create("alert_flap");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, steady_and_single_changes_do_not_flap);
	tcase_add_test(tc, alternating_flaps_once_then_calms_down);
	tcase_add_test(tc, between_low_and_high_keeps_the_state);
	tcase_add_test(tc, window_bounds);
	suite_add_tcase(s, tc);
	return s;
}
