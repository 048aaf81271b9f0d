/* test_buf.c - vt_buf grows without truncating; doubles round-trip. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/buf.h"
#include "suites.h"

START_TEST(printf_grows_past_initial_capacity)
{
	struct vt_buf b;
	vt_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		vt_buf_printf(&b, "%04d,", i);
	ck_assert_uint_eq(b.len, 5000);
	ck_assert_int_eq(strncmp(b.data + 4995, "0999,", 5), 0);
	ck_assert_int_eq(b.data[b.len], '\0');
	vt_buf_fini(&b);
}
END_TEST

static const struct {
	double v;
	const char *text;
} doubles[] = {
	{ 0, "0" }, { 12, "12" }, { -3, "-3" }, { 0.1, "0.1" },
	{ 0.012, "0.012" }, { 1e-9, "1e-09" }, { 1.0 / 3, "0.33333333333333331" },
	/* Found by tests/fuzz/fuzz_pipeline.c from "a:12345678901234567890123|c":
	 * whole values past the range of long long were converted to it
	 * before the magnitude check (undefined behaviour; under UBSan the
	 * daemon aborted while rendering /metrics). */
	{ 12345678901234567890123.0, "1.2345678901234568e+22" },
	{ 9223372036854775808.0, "9.2233720368547758e+18" },
	{ -1e19, "-1e+19" }, { 1e300, "1e+300" }, { 1e15, "1e+15" },
	{ 999999999999999.0, "999999999999999" },
};

START_TEST(put_double_shortest_round_trip)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_buf_put_double(&b, doubles[_i].v);
	ck_assert_str_eq(b.data, doubles[_i].text);
	ck_assert(strtod(b.data, NULL) == doubles[_i].v);
	vt_buf_fini(&b);
}
END_TEST

START_TEST(put_double_specials)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_buf_put_double(&b, NAN);
	vt_buf_putc(&b, ' ');
	vt_buf_put_double(&b, INFINITY);
	vt_buf_putc(&b, ' ');
	vt_buf_put_double(&b, -INFINITY);
	ck_assert_str_eq(b.data, "NaN +Inf -Inf");
	size_t len;
	char *s = vt_buf_steal(&b, &len);
	ck_assert_uint_eq(len, 13);
	ck_assert_ptr_null(b.data);
	free(s);
}
END_TEST

Suite *vt_test_buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, printf_grows_past_initial_capacity);
	tcase_add_loop_test(tc, put_double_shortest_round_trip, 0,
	    sizeof doubles / sizeof doubles[0]);
	tcase_add_test(tc, put_double_specials);
	suite_add_tcase(s, tc);
	return s;
}
