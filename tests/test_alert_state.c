/*
 * test_alert_state.c - the alert life cycle as a table of observations
 * (condition, time) and the action expected after each.
 */
#include <check.h>

#include "collector/alerts/alert_state.h"
#include "suites.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define MAX_STEPS 8

struct obs {
	int active;
	double t;
	enum vt_alert_action want;
	enum vt_alert_phase phase;
};

static const struct {
	const char *name;
	double for_s, renotify;
	struct obs steps[MAX_STEPS];
	size_t n;
} cases[] = {
	{ "for 0 fires at once, resolves once", 0, 0, {
	    { 0, 0, VT_ALERT_NONE, VT_ALERT_INACTIVE },
	    { 1, 1, VT_ALERT_FIRE, VT_ALERT_FIRING },
	    { 1, 2, VT_ALERT_NONE, VT_ALERT_FIRING },
	    { 0, 3, VT_ALERT_RESOLVE, VT_ALERT_INACTIVE },
	    { 0, 4, VT_ALERT_NONE, VT_ALERT_INACTIVE } }, 5 },
	{ "for 3s: pending until held 3s", 3, 0, {
	    { 1, 10, VT_ALERT_NONE, VT_ALERT_PENDING },
	    { 1, 11, VT_ALERT_NONE, VT_ALERT_PENDING },
	    { 1, 12.9, VT_ALERT_NONE, VT_ALERT_PENDING },
	    { 1, 13, VT_ALERT_FIRE, VT_ALERT_FIRING },
	    { 1, 14, VT_ALERT_NONE, VT_ALERT_FIRING },
	    { 0, 15, VT_ALERT_RESOLVE, VT_ALERT_INACTIVE } }, 6 },
	{ "a spike shorter than for sends nothing", 3, 0, {
	    { 1, 10, VT_ALERT_NONE, VT_ALERT_PENDING },
	    { 0, 11, VT_ALERT_NONE, VT_ALERT_INACTIVE },
	    { 1, 12, VT_ALERT_NONE, VT_ALERT_PENDING },
	    { 1, 14, VT_ALERT_NONE, VT_ALERT_PENDING },
	    { 1, 15, VT_ALERT_FIRE, VT_ALERT_FIRING } }, 5 },
	{ "reminders every renotify while firing", 0, 60, {
	    { 1, 0, VT_ALERT_FIRE, VT_ALERT_FIRING },
	    { 1, 59, VT_ALERT_NONE, VT_ALERT_FIRING },
	    { 1, 60, VT_ALERT_RENOTIFY, VT_ALERT_FIRING },
	    { 1, 100, VT_ALERT_NONE, VT_ALERT_FIRING },
	    { 1, 121, VT_ALERT_RENOTIFY, VT_ALERT_FIRING },
	    { 0, 122, VT_ALERT_RESOLVE, VT_ALERT_INACTIVE } }, 6 },
};

START_TEST(life_cycle)
{
	struct vt_alert_state s = { 0 };
	for (size_t i = 0; i < cases[_i].n; i++) {
		const struct obs *o = &cases[_i].steps[i];
		enum vt_alert_action a = vt_alert_state_step(&s, o->active,
		    o->t, cases[_i].for_s, cases[_i].renotify);
		ck_assert_msg(a == o->want && s.phase == o->phase,
		    "%s, step %zu: action %d phase %d, want %d %d",
		    cases[_i].name, i, a, s.phase, o->want, o->phase);
	}
}
END_TEST

START_TEST(times_kept)
{
	struct vt_alert_state s = { 0 };
	vt_alert_state_step(&s, 1, 100, 5, 0);
	ck_assert_double_eq(s.since, 100);
	vt_alert_state_step(&s, 1, 105, 5, 0);
	ck_assert_double_eq(s.fired, 105);
	ck_assert_double_eq(s.since, 100);
	ck_assert_str_eq(vt_alert_state_phase_name(s.phase), "firing");
}
END_TEST

Suite *vt_test_alert_state_suite(void)
{
	Suite *s = suite_create("alert_state");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, life_cycle, 0, N(cases));
	tcase_add_test(tc, times_kept);
	suite_add_tcase(s, tc);
	return s;
}
