/* test_html.c - what services send reaches pages only as text. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "dashboards/pages/html.h"
#include "suites.h"

static const struct {
	const char *in, *out;
} texts[] = {
	{ "plain", "plain" },
	{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ "<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;" },
	{ "\"'><svg onload=1>", "&quot;&#39;&gt;&lt;svg onload=1&gt;" },
	{ "a & b", "a &amp; b" },
	{ "caf\xC3\xA9 \xE2\x9C\x94", "caf\xC3\xA9 \xE2\x9C\x94" },   /* kept */
	{ "bad \xC3( \xFF end", "bad \xEF\xBF\xBD( \xEF\xBF\xBD end" },
	{ "ctl\x01\x7f\tok\n", "ctl\tok\n" },
	{ "", "" },
};

START_TEST(text_is_escaped)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_html_text(&b, texts[_i].in);
	ck_assert_str_eq(b.data ? b.data : "", texts[_i].out);
	vt_buf_fini(&b);
}
END_TEST

START_TEST(path_segments_are_percent_encoded)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_html_path(&b, "a b/c?d\"<e>.f_g-h~");
	ck_assert_str_eq(b.data, "a%20b%2Fc%3Fd%22%3Ce%3E.f_g-h~");
	vt_buf_fini(&b);
}
END_TEST

static const struct {
	double v;
	const char *num, *ms;
} figures[] = {
	{ 0, "0", "0 µs" }, { 0.5, "0.5", "500 µs" }, { 12.25, "12.2", "12.2 ms" },
	{ 1234, "1234", "1.23 s" }, { 56789, "56.8k", "56.8 s" },
	{ 2.5e6, "2.5M", "2.5e+03 s" }, { NAN, "-", "-" },
};

START_TEST(figures_read_well)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_html_num(&b, figures[_i].v);
	ck_assert_str_eq(b.data, figures[_i].num);
	vt_buf_reset(&b);
	vt_html_ms(&b, figures[_i].v);
	ck_assert_str_eq(b.data, figures[_i].ms);
	vt_buf_fini(&b);
}
END_TEST

START_TEST(ages)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_html_age(&b, 1000, 1030);
	vt_buf_putc(&b, ' ');
	vt_html_age(&b, 1000, 1000 + 600);
	vt_buf_putc(&b, ' ');
	vt_html_age(&b, 1000, 1000 + 7200);
	vt_buf_putc(&b, ' ');
	vt_html_age(&b, 1000, 1000 + 3 * 86400);
	vt_buf_putc(&b, ' ');
	vt_html_age(&b, 0, 1000);
	ck_assert_str_eq(b.data, "30s 10m 2h 3d never");
	vt_buf_fini(&b);
}
END_TEST

Suite *vt_test_html_suite(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, text_is_escaped, 0, sizeof texts / sizeof texts[0]);
	tcase_add_test(tc, path_segments_are_percent_encoded);
	tcase_add_loop_test(tc, figures_read_well, 0,
	    sizeof figures / sizeof figures[0]);
	tcase_add_test(tc, ages);
	suite_add_tcase(s, tc);
	return s;
}
