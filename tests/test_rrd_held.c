/*
 * test_rrd_held.c - held windows come back as they were held (exactly;
 * -0 as 0, infinities as unknown), in order with their times, whatever
 * mix of unknowns, integers, doubles and repeated windows; idle windows
 * cost a byte or two; clearing gives every byte back.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/rrd/rrd_held.h"
#include "suites.h"

static int same_stored(double held, double back)
{
	if (!isfinite(held))
		return isnan(back);
	return held == back && !signbit(back) == !signbit(held + 0.0);
}

static double some(unsigned *seed, double prev)
{
	switch (rand_r(seed) % 10) {
	case 0:
		return NAN;
	case 1:
		return -INFINITY;
	case 2:
		return -0.0;
	case 3:
		return prev;
	case 4:
		return (double)(rand_r(seed) % 2000) - 1000;
	case 5:
		return 9007199254740993.0 * (rand_r(seed) % 3);
	case 6:
		return -1e-300;
	default:
		return (double)rand_r(seed) / 3.0;
	}
}

START_TEST(rows_come_back_as_held)
{
	unsigned seed = 42;
	for (int round = 0; round < 200; round++) {
		struct vt_rrd_held h = { 0 };
		size_t n = 1 + (size_t)(rand_r(&seed) % 19);
		size_t k = 1 + (size_t)(rand_r(&seed) % 60);
		double in[60][19], out[60 * 19];
		time_t ts[60], back[60];
		time_t t = 1700000000 + rand_r(&seed) % 1000;
		long bytes = 0;
		for (size_t r = 0; r < k; r++) {
			int repeat = r > 0 && rand_r(&seed) % 4 == 0;
			for (size_t i = 0; i < n; i++)
				in[r][i] = repeat ? in[r - 1][i] :
				    some(&seed, r ? in[r - 1][i] : 0);
			t += 1 + rand_r(&seed) % (r % 7 == 6 ? 500 : 2);
			ts[r] = t;
			bytes += vt_rrd_held_add(&h, t, in[r], n);
		}
		ck_assert_uint_eq(h.nrows, k);
		ck_assert_int_eq(bytes, (long)h.cap);
		vt_rrd_held_rows(&h, back, out);
		for (size_t r = 0; r < k; r++) {
			ck_assert_int_eq(back[r], ts[r]);
			for (size_t i = 0; i < n; i++)
				ck_assert_msg(same_stored(in[r][i], out[r * n + i]),
				    "round %d row %zu value %zu: held %.17g, back %.17g",
				    round, r, i, in[r][i], out[r * n + i]);
		}
		ck_assert_uint_eq(vt_rrd_held_clear(&h), (size_t)bytes);
		ck_assert_ptr_null(h.buf);
		ck_assert_uint_eq(h.nrows, 0);
	}
}
END_TEST

/* Thirty windows of a busy counter, then thirty idle ones: a few bytes
 * a window, where two doubles and a time took 24. */
START_TEST(small_windows)
{
	struct vt_rrd_held h = { 0 };
	time_t t = 1700000000;
	for (int r = 0; r < 30; r++) {
		double v[2] = { 10 + r % 5, 10 + r % 5 };
		vt_rrd_held_add(&h, ++t, v, 2);
	}
	size_t busy = h.len;
	ck_assert_uint_le(busy, 16 + 5 + 30 * 4);
	double idle[2] = { 0, 0 };
	for (int r = 0; r < 30; r++)
		vt_rrd_held_add(&h, ++t, idle, 2);
	ck_assert_uint_le(h.len - busy, 4 + 29 * 1);
	vt_rrd_held_clear(&h);
}
END_TEST

Suite *vt_test_rrd_held_suite(void)
{
	Suite *s = suite_create("rrd_held");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, rows_come_back_as_held);
	tcase_add_test(tc, small_windows);
	suite_add_tcase(s, tc);
	return s;
}
