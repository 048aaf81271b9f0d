/* test_cardinality.c - exact distinct counts, then HyperLogLog estimates. */
#include <check.h>
#include <stdio.h>

#include "collector/agg/cardinality.h"
#include "collector/base/hash.h"
#include "suites.h"

static uint64_t member_hash(unsigned i)
{
	char name[32];
	int n = snprintf(name, sizeof name, "user-%u", i);
	return vt_hash(name, (size_t)n, 0);
}

/* Each member added three times, interleaved: counts stay exact. */
static const unsigned exact_sizes[] = { 0, 1, 2, 11, 12, 13, 100, 767, 768,
	1000, 1023, 1024 };

START_TEST(exact_with_duplicates)
{
	unsigned n = exact_sizes[_i];
	struct vt_cardinality c;

	vt_cardinality_init(&c);
	for (int round = 0; round < 3; round++)
		for (unsigned i = 0; i < n; i++)
			vt_cardinality_add(&c, member_hash(i));
	ck_assert_int_eq(c.hll, 0);
	ck_assert_double_eq(vt_cardinality_count(&c), n);
	ck_assert_uint_le(vt_cardinality_memory(&c), 2048 * sizeof(uint64_t));
	vt_cardinality_fini(&c);
}
END_TEST

/* The member whose hash is 0 (the empty-slot marker) still counts once. */
START_TEST(zero_hash_member)
{
	struct vt_cardinality c;
	vt_cardinality_init(&c);
	vt_cardinality_add(&c, 0);
	vt_cardinality_add(&c, 0);
	ck_assert_double_eq(vt_cardinality_count(&c), 1);
	vt_cardinality_add(&c, 42);
	ck_assert_double_eq(vt_cardinality_count(&c), 2);
	for (unsigned i = 0; i < 1022; i++)
		vt_cardinality_add(&c, member_hash(i));
	ck_assert_double_eq(vt_cardinality_count(&c), 1024);
	ck_assert_int_eq(c.hll, 0);
	vt_cardinality_add(&c, 0);                    /* a duplicate: still exact */
	ck_assert_int_eq(c.hll, 0);
	vt_cardinality_add(&c, member_hash(5000));    /* the 1025th */
	ck_assert_int_eq(c.hll, 1);
	ck_assert_double_eq_tol(vt_cardinality_count(&c), 1025, 1025 * 0.05);
	vt_cardinality_fini(&c);
}
END_TEST

/* Past VT_CARDINALITY_EXACT_MAX: estimates within 5 %, duplicates change nothing. */
static const unsigned hll_sizes[] = { 1025, 2000, 5000, 12000, 30000,
	100000 };

START_TEST(estimate_within_5_percent)
{
	unsigned n = hll_sizes[_i];
	struct vt_cardinality c;

	vt_cardinality_init(&c);
	for (unsigned i = 0; i < n; i++)
		vt_cardinality_add(&c, member_hash(i));
	ck_assert_int_eq(c.hll, 1);
	double est = vt_cardinality_count(&c);
	ck_assert_double_eq_tol(est, n, 0.05 * n);
	for (unsigned i = 0; i < n; i += 3)
		vt_cardinality_add(&c, member_hash(i));
	ck_assert_double_eq(vt_cardinality_count(&c), est);
	ck_assert_uint_le(vt_cardinality_memory(&c), 2048 * sizeof(uint64_t) + 4096);
	vt_cardinality_fini(&c);
}
END_TEST

/* Reset: exact mode again, same memory, no stale members. */
START_TEST(reset_keeps_memory)
{
	struct vt_cardinality c;
	vt_cardinality_init(&c);
	for (unsigned i = 0; i < 100000; i++)
		vt_cardinality_add(&c, member_hash(i));
	ck_assert_int_eq(c.hll, 1);
	size_t mem = vt_cardinality_memory(&c);
	const uint64_t *table = c.table;
	const uint8_t *reg = c.registers;

	vt_cardinality_reset(&c);
	ck_assert_int_eq(c.hll, 0);
	ck_assert_double_eq(vt_cardinality_count(&c), 0);
	ck_assert_uint_eq(vt_cardinality_memory(&c), mem);
	for (unsigned i = 0; i < 500; i++)
		vt_cardinality_add(&c, member_hash(i + 7));
	vt_cardinality_add(&c, 0);
	ck_assert_double_eq(vt_cardinality_count(&c), 501);
	ck_assert_ptr_eq(c.table, table);
	ck_assert_ptr_eq(c.registers, reg);

	/* a second overflow reuses the registers, starting from zero */
	for (unsigned i = 0; i < 3000; i++)
		vt_cardinality_add(&c, member_hash(i + 7));
	ck_assert_ptr_eq(c.registers, reg);
	ck_assert_double_eq_tol(vt_cardinality_count(&c), 3001, 3001 * 0.05);
	ck_assert_uint_eq(vt_cardinality_memory(&c), mem);
	vt_cardinality_reset(&c);
	vt_cardinality_reset(&c);
	ck_assert_double_eq(vt_cardinality_count(&c), 0);
	vt_cardinality_fini(&c);

	/* reset of a never-used set */
	vt_cardinality_init(&c);
	vt_cardinality_reset(&c);
	ck_assert_double_eq(vt_cardinality_count(&c), 0);
	ck_assert_uint_eq(vt_cardinality_memory(&c), 0);
	vt_cardinality_fini(&c);
}
END_TEST

Suite *vt_test_cardinality_suite(void)
{
	Suite *s = suite_create("cardinality");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, exact_with_duplicates, 0,
	    (int)(sizeof exact_sizes / sizeof exact_sizes[0]));
	tcase_add_test(tc, zero_hash_member);
	tcase_add_loop_test(tc, estimate_within_5_percent, 0,
	    (int)(sizeof hll_sizes / sizeof hll_sizes[0]));
	tcase_add_test(tc, reset_keeps_memory);
	suite_add_tcase(s, tc);
	return s;
}
