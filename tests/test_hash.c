/* test_hash.c - vt_hash: deterministic, length- and seed-sensitive. */
#include <check.h>
#include <string.h>

#include "collector/base/hash.h"
#include "suites.h"

START_TEST(same_input_same_hash)
{
	const char *s = "payments.http.get";
	ck_assert_uint_eq(vt_hash(s, strlen(s), 0), vt_hash(s, strlen(s), 0));
}
END_TEST

START_TEST(every_prefix_differs)
{
	/* All prefixes of a 40-byte name hash apart, covering each tail path. */
	const char *s = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
	uint64_t seen[41];
	for (size_t n = 0; n <= 40; n++) {
		seen[n] = vt_hash(s, n, 7);
		for (size_t m = 0; m < n; m++)
			ck_assert_uint_ne(seen[n], seen[m]);
	}
}
END_TEST

START_TEST(one_bit_flips_about_half)
{
	char a[24] = "service.metric.name.xx";
	uint64_t h0 = vt_hash(a, sizeof a, 0);
	a[5] ^= 1;
	uint64_t h1 = vt_hash(a, sizeof a, 0);
	int bits = __builtin_popcountll(h0 ^ h1);
	ck_assert_int_gt(bits, 16);
	ck_assert_int_lt(bits, 48);
}
END_TEST

START_TEST(seed_changes_hash)
{
	ck_assert_uint_ne(vt_hash("x", 1, 1), vt_hash("x", 1, 2));
}
END_TEST

Suite *vt_test_hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, same_input_same_hash);
	tcase_add_test(tc, every_prefix_differs);
	tcase_add_test(tc, one_bit_flips_about_half);
	tcase_add_test(tc, seed_changes_hash);
	suite_add_tcase(s, tc);
	return s;
}
