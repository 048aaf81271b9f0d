/*
 * test_names.c - service attribution (SPEC 3.1) and the three sanitisers:
 * Prometheus names, file names that never leave their directory, and
 * UTF-8 repair by maximal subparts.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/utf8.h"
#include "collector/statsd/names.h"
#include "suites.h"

#define FFFD "\xEF\xBF\xBD"

static struct vt_slice slice(const char *s)
{
	struct vt_slice r = { s, strlen(s) };
	return r;
}

static const struct {
	const char *name;
	const char *tag;
	const char *service;
	const char *metric;
} splits[] = {
	{ "payments.http.get", "", "payments", "http.get" },
	{ "nodot", "", "default", "nodot" },
	{ ".x", "", "default", ".x" },
	{ "x.", "", "default", "x." },
	{ ".", "", "default", "." },
	{ "..", "", "default", ".." },
	{ "a..b", "", "a", ".b" },
	{ "a.b", "", "a", "b" },
	{ "", "", "default", "" },
	{ "payments.http.get", "billing", "billing", "payments.http.get" },
	{ "nodot", "svc", "svc", "nodot" },
	{ ".x", "svc", "svc", ".x" },
};

START_TEST(split_table)
{
	struct vt_slice svc, metric;
	vt_names_split(slice(splits[_i].name), slice(splits[_i].tag), &svc,
	    &metric);
	ck_assert_uint_eq(svc.len, strlen(splits[_i].service));
	ck_assert_int_eq(memcmp(svc.ptr, splits[_i].service, svc.len), 0);
	ck_assert_uint_eq(metric.len, strlen(splits[_i].metric));
	ck_assert_int_eq(memcmp(metric.ptr, splits[_i].metric, metric.len), 0);
}
END_TEST

START_TEST(split_borrows_the_name)
{
	const char *name = "payments.http.get";
	const char *tag = "billing";
	struct vt_slice svc, metric;

	vt_names_split(slice(name), slice(""), &svc, &metric);
	ck_assert_ptr_eq(svc.ptr, name);
	ck_assert_ptr_eq(metric.ptr, name + 9);
	vt_names_split(slice(name), slice(tag), &svc, &metric);
	ck_assert_ptr_eq(svc.ptr, tag);
	ck_assert_ptr_eq(metric.ptr, name);
}
END_TEST

/* Input with explicit length, so NUL bytes can be tested. */
struct conv_case {
	const char *in;
	size_t len;
	const char *out;
	size_t outlen;  /* bytes of out (may hold NUL) */
};

#define CASE(in, out) { in, sizeof(in) - 1, out, sizeof(out) - 1 }

static const struct conv_case prom_cases[] = {
	CASE("a.b-c", "a_b_c"),
	CASE("9lives", "_9lives"),
	CASE("caseKept_OK", "caseKept_OK"),
	CASE("\xC3\xA9t\xC3\xA9", "__t__"),
	CASE("", "_"),
	CASE("a:b", "a_b"),
	CASE("_x", "_x"),
	CASE("x9", "x9"),
	CASE("a b\tc", "a_b_c"),
	CASE("a\0b", "a_b"),
	CASE("__name__", "__name__"),
};

START_TEST(prometheus_table)
{
	const struct conv_case *c = &prom_cases[_i];
	char out[64];
	size_t n = vt_names_prometheus(out, sizeof out, c->in, c->len);
	ck_assert_uint_eq(n, c->outlen);
	ck_assert_str_eq(out, c->out);
}
END_TEST

START_TEST(prometheus_truncates_like_snprintf)
{
	char out[8];
	memset(out, 'Z', sizeof out);
	ck_assert_uint_eq(vt_names_prometheus(out, 4, "abcdef", 6), 6);
	ck_assert_str_eq(out, "abc");
	ck_assert_int_eq(out[4], 'Z');
	ck_assert_uint_eq(vt_names_prometheus(out, 2, "9a", 2), 3);
	ck_assert_str_eq(out, "_");
	ck_assert_uint_eq(vt_names_prometheus(NULL, 0, "9a", 2), 3);
	ck_assert_uint_eq(vt_names_prometheus(out, 1, "abc", 3), 3);
	ck_assert_str_eq(out, "");
}
END_TEST

static const struct conv_case file_cases[] = {
	CASE("..", "_.."),
	CASE(".", "_."),
	CASE("", "_"),
	CASE("a/b", "a_b"),
	CASE("../../etc/passwd", "_.._.._etc_passwd"),
	CASE("a\0b", "a_b"),
	CASE("\0", "_"),
	CASE("ok-name_1.rrd", "ok-name_1.rrd"),
	CASE(".hidden", "_.hidden"),
	CASE("a b", "a_b"),
	CASE("\\x", "_x"),
	CASE("/abs", "_abs"),
	CASE("\xC3\xA9", "__"),
};

START_TEST(file_table)
{
	const struct conv_case *c = &file_cases[_i];
	char out[64];
	size_t n = vt_names_file(out, sizeof out, c->in, c->len);
	ck_assert_uint_eq(n, c->outlen);
	ck_assert_str_eq(out, c->out);
}
END_TEST

/* Every 1- and 2-byte input gives one safe path component. */
START_TEST(file_never_escapes)
{
	char in[2];
	char out[8];
	for (unsigned a = 0; a < 256; a++) {
		for (unsigned b = 0; b < 257; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			size_t len = b == 256 ? 1 : 2;
			size_t n = vt_names_file(out, sizeof out, in, len);
			ck_assert_uint_eq(strlen(out), n);
			ck_assert_uint_gt(n, 0);
			ck_assert_ptr_null(strchr(out, '/'));
			ck_assert_int_ne(out[0], '.');
		}
	}
}
END_TEST

static const struct conv_case utf8_cases[] = {
	CASE("plain ascii", "plain ascii"),
	CASE("\xC3\xA9", "\xC3\xA9"),                    /* U+00E9 */
	CASE("\xE2\x82\xAC", "\xE2\x82\xAC"),            /* U+20AC */
	CASE("\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"),    /* U+1F600 */
	CASE("\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"),    /* U+10FFFF */
	CASE("\xED\x9F\xBF", "\xED\x9F\xBF"),            /* U+D7FF */
	CASE("\xEE\x80\x80", "\xEE\x80\x80"),            /* U+E000 */
	CASE("\xC0\xAF", FFFD FFFD),                     /* overlong '/' */
	CASE("\xC1\xBF", FFFD FFFD),
	CASE("\xE0\x80\xAF", FFFD FFFD FFFD),            /* overlong */
	CASE("\xF0\x80\x80\xAF", FFFD FFFD FFFD FFFD),   /* overlong */
	CASE("\xED\xA0\x80", FFFD FFFD FFFD),            /* surrogate */
	CASE("\xED\xBF\xBF", FFFD FFFD FFFD),            /* surrogate */
	CASE("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD),   /* > U+10FFFF */
	CASE("\xE2\x82", FFFD),                          /* truncated */
	CASE("\xE2\x82" "a", FFFD "a"),
	CASE("\xF0\x9F\x98" "x", FFFD "x"),
	CASE("a\xC3", "a" FFFD),
	CASE("\x80", FFFD),
	CASE("\xBF\xBF", FFFD FFFD),
	CASE("\xF5\x80\x80\x80", FFFD FFFD FFFD FFFD),
	CASE("\xFE\xFF", FFFD FFFD),
	CASE("a\0b", "a\0b"),
	CASE("", ""),
};

START_TEST(utf8_table)
{
	const struct conv_case *c = &utf8_cases[_i];
	char out[64];
	size_t n = vt_utf8_clean(out, sizeof out, c->in, c->len);
	ck_assert_uint_eq(n, c->outlen);
	ck_assert_int_eq(memcmp(out, c->out, n), 0);
	ck_assert_int_eq(out[n], '\0');
}
END_TEST

START_TEST(utf8_never_cuts_a_character)
{
	const char *in = "\xC3\xA9\xE2\x82\xAC";  /* 2 + 3 bytes */
	char out[8];
	ck_assert_uint_eq(vt_utf8_clean(out, 4, in, 5), 5);
	ck_assert_str_eq(out, "\xC3\xA9");
	ck_assert_uint_eq(vt_utf8_clean(out, 5, in, 5), 5);
	ck_assert_str_eq(out, "\xC3\xA9");
	ck_assert_uint_eq(vt_utf8_clean(out, 6, in, 5), 5);
	ck_assert_str_eq(out, in);
	ck_assert_uint_eq(vt_utf8_clean(out, 2, "\xFF" "a", 2), 4);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(vt_utf8_clean(NULL, 0, "\xFF", 1), 3);
}
END_TEST

/* Random bytes: the output is valid and repairing it again changes
 * nothing. */
START_TEST(utf8_output_is_valid_and_stable)
{
	unsigned seed = 12345;
	char in[32], out[3 * 32 + 1], again[3 * 32 + 1];
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % 32);
		for (size_t i = 0; i < len; i++) {
			/* Bias towards the interesting high bytes. */
			int r = rand_r(&seed);
			in[i] = (char)(r & 1 ? 0x80 | (r >> 1) : r >> 1);
		}
		size_t n = vt_utf8_clean(out, sizeof out, in, len);
		ck_assert_uint_le(n, 3 * len);
		for (size_t i = 0, step; i < n; i += step)
			ck_assert_int_eq(vt_utf8_next(out + i, n - i, &step),
			    1);
		ck_assert_uint_eq(vt_utf8_clean(again, sizeof again, out, n), n);
		ck_assert_int_eq(memcmp(again, out, n), 0);
	}
}
END_TEST

Suite *vt_test_names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, split_table, 0,
	    (int)(sizeof splits / sizeof splits[0]));
	tcase_add_test(tc, split_borrows_the_name);
	tcase_add_loop_test(tc, prometheus_table, 0,
	    (int)(sizeof prom_cases / sizeof prom_cases[0]));
	tcase_add_test(tc, prometheus_truncates_like_snprintf);
	tcase_add_loop_test(tc, file_table, 0,
	    (int)(sizeof file_cases / sizeof file_cases[0]));
	tcase_add_test(tc, file_never_escapes);
	tcase_add_loop_test(tc, utf8_table, 0,
	    (int)(sizeof utf8_cases / sizeof utf8_cases[0]));
	tcase_add_test(tc, utf8_never_cuts_a_character);
	tcase_add_test(tc, utf8_output_is_valid_and_stable);
	suite_add_tcase(s, tc);
	return s;
}
