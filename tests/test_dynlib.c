/*
 * test_dynlib.c - optional libraries: a library that is there is opened
 * once and its symbols work; a missing library or symbol is an error that
 * names it, and stays one.
 */
#include <check.h>
#include <string.h>

#include "collector/base/dynlib.h"
#include "suites.h"

static double (*lib_cos)(double);
static double (*lib_nothing)(double);

static const struct vt_dynsym good_syms[] = {
	{ "cos", (void **)&lib_cos },
};
static const struct vt_dynsym bad_syms[] = {
	{ "cos", (void **)&lib_cos },
	{ "vt_no_such_symbol", (void **)&lib_nothing },
};

START_TEST(a_library_that_is_there_opens_once)
{
	static struct vt_dynlib libm = VT_DYNLIB_INIT("libm.so.6", good_syms);
	char err[256] = "";
	ck_assert_int_eq(vt_dynlib_load(&libm, err, sizeof err), 0);
	ck_assert_ptr_nonnull(lib_cos);
	ck_assert_double_eq(lib_cos(0.0), 1.0);
	ck_assert_int_eq(vt_dynlib_load(&libm, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(missing_library_or_symbol_is_named)
{
	static struct vt_dynlib none = VT_DYNLIB_INIT("libvt-missing.so.9",
	    good_syms);
	static struct vt_dynlib bad = VT_DYNLIB_INIT("libm.so.6", bad_syms);
	char err[256];
	ck_assert_int_eq(vt_dynlib_load(&none, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "cannot load libvt-missing.so.9") != NULL,
	    "%s", err);
	ck_assert_int_eq(vt_dynlib_load(&none, err, sizeof err), -1);
	ck_assert_int_eq(vt_dynlib_load(&bad, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "vt_no_such_symbol") != NULL, "%s", err);
	ck_assert_ptr_null(lib_cos);     /* nothing half-resolved */
	ck_assert_ptr_null(lib_nothing);
}
END_TEST

Suite *vt_test_dynlib_suite(void)
{
	Suite *s = suite_create("dynlib");
	TCase *tc = tcase_create("load");
	tcase_add_test(tc, a_library_that_is_there_opens_once);
	tcase_add_test(tc, missing_library_or_symbol_is_named);
	suite_add_tcase(s, tc);
	return s;
}
