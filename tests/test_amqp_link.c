/* test_amqp_link.c - a broker link's state, counters and delays through
 * connect, failure, loss and stop (amqp_link.h). */
#include <check.h>

#include "collector/amqp/amqp_link.h"
#include "suites.h"

START_TEST(life_of_a_link)
{
	struct vt_amqp_link l;
	vt_amqp_link_init(&l, "amqp", 0.5, 4);
	ck_assert_int_eq(vt_amqp_link_state(&l), VT_AMQP_DISCONNECTED);

	vt_amqp_link_connecting(&l);
	ck_assert_int_eq(vt_amqp_link_state(&l), VT_AMQP_CONNECTING);
	double d1 = vt_amqp_link_failed(&l, "refused", "retrying");
	double d2 = vt_amqp_link_failed(&l, "refused", "retrying");
	ck_assert_int_eq(vt_amqp_link_state(&l), VT_AMQP_DISCONNECTED);
	ck_assert_uint_eq(atomic_load(&l.stats.connect_failures), 2);
	ck_assert(d1 >= 0.25 && d1 <= 0.5);    /* [min/2, min] */
	ck_assert(d2 >= 0.5 && d2 <= 1.0);     /* then doubling */

	vt_amqp_link_up(&l);
	ck_assert_int_eq(vt_amqp_link_state(&l), VT_AMQP_CONNECTED);
	ck_assert_uint_eq(atomic_load(&l.stats.connects), 1);
	ck_assert(atomic_load(&l.stats.connected_since) > 0);
	double d3 = vt_amqp_link_failed(&l, "refused", "retrying");
	ck_assert(d3 >= 0.25 && d3 <= 0.5);    /* up reset the delay */

	vt_amqp_link_up(&l);
	vt_amqp_link_lost(&l);
	ck_assert_int_eq(vt_amqp_link_state(&l), VT_AMQP_DISCONNECTED);
	ck_assert_uint_eq(atomic_load(&l.stats.connection_losses), 1);
	ck_assert(atomic_load(&l.stats.connected_since) == 0);
	vt_amqp_link_stopped(&l);
	ck_assert_int_eq(vt_amqp_link_state(&l), VT_AMQP_STOPPED);
}
END_TEST

Suite *vt_test_amqp_link_suite(void)
{
	Suite *s = suite_create("amqp_link");
	TCase *tc = tcase_create("amqp_link");
	tcase_add_test(tc, life_of_a_link);
	suite_add_tcase(s, tc);
	return s;
}
