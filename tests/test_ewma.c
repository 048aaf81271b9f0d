/* test_ewma.c - moving rates against hand-computed load-average values. */
#include <check.h>
#include <math.h>

#include "collector/agg/ewma.h"
#include "suites.h"

START_TEST(first_window_sets_all)
{
	struct vt_ewma e;
	vt_ewma_init(&e);
	ck_assert_int_eq(e.started, 0);
	ck_assert_double_eq(e.rate_1m, 0);
	vt_ewma_update(&e, 50, 10);
	ck_assert_int_eq(e.started, 1);
	ck_assert_double_eq(e.rate_1m, 5);
	ck_assert_double_eq(e.rate_5m, 5);
	ck_assert_double_eq(e.rate_15m, 5);
}
END_TEST

START_TEST(constant_rate_stays)
{
	struct vt_ewma e;
	vt_ewma_init(&e);
	for (int i = 0; i < 1000; i++)
		vt_ewma_update(&e, 120, 10);
	ck_assert_double_eq_tol(e.rate_1m, 12, 1e-9);
	ck_assert_double_eq_tol(e.rate_5m, 12, 1e-9);
	ck_assert_double_eq_tol(e.rate_15m, 12, 1e-9);
}
END_TEST

/* One 10 s window of 60/s after a silent start: alpha = 1 - exp(-10/N min) */
START_TEST(alpha_formula)
{
	struct vt_ewma e;
	vt_ewma_init(&e);
	vt_ewma_update(&e, 0, 10);
	vt_ewma_update(&e, 600, 10);
	ck_assert_double_eq_tol(e.rate_1m, 9.211096506563152, 1e-12);
	ck_assert_double_eq_tol(e.rate_5m, 1.9670339710796458, 1e-12);
	ck_assert_double_eq_tol(e.rate_15m, 0.662976642364661, 1e-12);
}
END_TEST

/* Step 0 -> 10/s: after one minute rate_N = 10 (1 - exp(-1 min / N min)),
 * whatever the window length; then silence decays by exp(-t / N). */
struct step_case {
	double window;   /* seconds */
	int windows;     /* windows making up one minute */
};

static const struct step_case step_cases[] = {
	{ .window = 10, .windows = 6 },
	{ .window = 1, .windows = 60 },
	{ .window = 60, .windows = 1 },
	{ .window = 15, .windows = 4 },
};

START_TEST(step_change)
{
	const struct step_case *c = &step_cases[_i];
	struct vt_ewma e;
	vt_ewma_init(&e);
	vt_ewma_update(&e, 0, c->window);
	for (int i = 0; i < c->windows; i++)
		vt_ewma_update(&e, 10 * c->window, c->window);
	ck_assert_double_eq_tol(e.rate_1m, 6.321205588285577, 1e-9);
	ck_assert_double_eq_tol(e.rate_5m, 1.8126924692201818, 1e-9);
	ck_assert_double_eq_tol(e.rate_15m, 0.6449301496838222, 1e-9);
	double r1 = e.rate_1m, r5 = e.rate_5m, r15 = e.rate_15m;
	for (int i = 0; i < 5 * c->windows; i++)
		vt_ewma_update(&e, 0, c->window);
	ck_assert_double_eq_tol(e.rate_1m, r1 * exp(-5), 1e-9);
	ck_assert_double_eq_tol(e.rate_15m, r15 * exp(-5.0 / 15), 1e-9);
	ck_assert_double_eq_tol(e.rate_5m, r5 * exp(-1), 1e-9);
}
END_TEST

START_TEST(empty_window_ignored)
{
	struct vt_ewma e;
	vt_ewma_init(&e);
	vt_ewma_update(&e, 5, 0);
	vt_ewma_update(&e, 5, -1);
	vt_ewma_update(&e, 5, NAN);
	ck_assert_int_eq(e.started, 0);
	vt_ewma_update(&e, 30, 10);
	vt_ewma_update(&e, 99, 0);
	ck_assert_double_eq(e.rate_5m, 3);
}
END_TEST

Suite *vt_test_ewma_suite(void)
{
	Suite *s = suite_create("ewma");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, first_window_sets_all);
	tcase_add_test(tc, constant_rate_stays);
	tcase_add_test(tc, alpha_formula);
	tcase_add_loop_test(tc, step_change, 0,
	    (int)(sizeof step_cases / sizeof step_cases[0]));
	tcase_add_test(tc, empty_window_ignored);
	suite_add_tcase(s, tc);
	return s;
}
