/*
 * test_statsd.c - the statsd / DogStatsD line parser: tables of accepted
 * lines with every parsed field, rejected lines with the exact reason,
 * limits at and past their bound, the decimal fast path against strtod
 * (bit for bit), the fast path for runs of plain lines against the full
 * parser, service checks, tag iteration, result names, and a
 * micro-benchmark that prints ns/line.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/base/line_result.h"
#include "collector/statsd/statsd.h"
#include "collector/statsd/tags.h"
#include "suites.h"

/* Assert that a slice holds exactly want; want NULL means { NULL, 0 }. */
static void assert_slice(struct vt_slice s, const char *want, const char *what,
    const char *line)
{
	if (want == NULL) {
		ck_assert_msg(s.ptr == NULL && s.len == 0,
		    "%s of \"%s\": want absent, got \"%.*s\"", what, line,
		    (int)s.len, s.ptr ? s.ptr : "");
		return;
	}
	ck_assert_msg(s.ptr != NULL && s.len == strlen(want) &&
	    memcmp(s.ptr, want, s.len) == 0,
	    "%s of \"%s\": want \"%s\", got \"%.*s\"", what, line, want,
	    (int)s.len, s.ptr ? s.ptr : "");
}

/* A copy of s[0..n) in a heap block of exactly n bytes (no NUL), so
 * AddressSanitizer catches any read past the end of a line. */
static char *dup_exact(const char *s, size_t n)
{
	char *d = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(d);
	memcpy(d, s, n);
	return d;
}

/* ---- accepted metric lines ---- */

static const struct ok_case {
	const char *line;
	enum vt_kind kind;
	double value;
	double rate;
	int delta;
	const char *name;
	const char *tags;
	const char *member;
} ok_cases[] = {
#define OK(l, k, v, r, d, n, t, m) { l, k, v, r, d, n, t, m }
	OK("svc.api.requests.total:1|c", VT_COUNTER, 1, 1, 0, "svc.api.requests.total", NULL, NULL),
	OK("a:1|c\r", VT_COUNTER, 1, 1, 0, "a", NULL, NULL),
	OK("  a:1|c \t", VT_COUNTER, 1, 1, 0, "a", NULL, NULL),
	OK("\ta:2|c|@0.5\r", VT_COUNTER, 2, 0.5, 0, "a", NULL, NULL),
	OK("a:-3|c", VT_COUNTER, -3, 1, 0, "a", NULL, NULL),
	OK("a:+3|c", VT_COUNTER, 3, 1, 0, "a", NULL, NULL),
	OK("a:0|c", VT_COUNTER, 0, 1, 0, "a", NULL, NULL),
	OK("a:12|c", VT_COUNTER, 12, 1, 0, "a", NULL, NULL),
	OK("a:0.25|ms", VT_TIMER, 0.25, 1, 0, "a", NULL, NULL),
	OK("a:1234.5678|ms", VT_TIMER, 1234.5678, 1, 0, "a", NULL, NULL),
	OK("a:0.1|ms", VT_TIMER, 0.1, 1, 0, "a", NULL, NULL),
	OK("a:-0.000001|ms", VT_TIMER, -0.000001, 1, 0, "a", NULL, NULL),
	OK("a:.5|ms", VT_TIMER, 0.5, 1, 0, "a", NULL, NULL),
	OK("a:5.|ms", VT_TIMER, 5, 1, 0, "a", NULL, NULL),
	OK("a:1.5e3|ms", VT_TIMER, 1500, 1, 0, "a", NULL, NULL),
	OK("a:2E-2|ms", VT_TIMER, 0.02, 1, 0, "a", NULL, NULL),
	OK("a:1e-400|ms", VT_TIMER, 0, 1, 0, "a", NULL, NULL),
	OK("a:9007199254740993|c", VT_COUNTER, 9007199254740992.0, 1, 0, "a", NULL, NULL),
	OK("a:12345678901234567890123|c", VT_COUNTER, 12345678901234567890123.0, 1, 0, "a", NULL, NULL),
	OK("a:12|ms|@0.1", VT_TIMER, 12, 0.1, 0, "a", NULL, NULL),
	OK("a:1|c|@1", VT_COUNTER, 1, 1, 0, "a", NULL, NULL),
	OK("a:1|c|@1e-3", VT_COUNTER, 1, 0.001, 0, "a", NULL, NULL),
	OK("a:3|h", VT_HISTOGRAM, 3, 1, 0, "a", NULL, NULL),
	OK("a:3.5|d|@0.25", VT_HISTOGRAM, 3.5, 0.25, 0, "a", NULL, NULL),
	OK("a:5|g", VT_GAUGE, 5, 1, 0, "a", NULL, NULL),
	OK("a:-5|g", VT_GAUGE, -5, 1, 1, "a", NULL, NULL),
	OK("a:+5|g", VT_GAUGE, 5, 1, 1, "a", NULL, NULL),
	OK("a:+0.5e1|g", VT_GAUGE, 5, 1, 1, "a", NULL, NULL),
	OK("a:1|g|@0.5", VT_GAUGE, 1, 1, 0, "a", NULL, NULL),
	OK("a:user42|s", VT_SET, 0, 1, 0, "a", NULL, "user42"),
	OK("a:12|s", VT_SET, 0, 1, 0, "a", NULL, "12"),
	OK("a:a:b|s", VT_SET, 0, 1, 0, "a", NULL, "a:b"),
	OK("a:x y#z|s|@0.1", VT_SET, 0, 1, 0, "a", NULL, "x y#z"),
	OK("a:nan|s", VT_SET, 0, 1, 0, "a", NULL, "nan"),
	OK("a:1|c|#env:prod,role:web", VT_COUNTER, 1, 1, 0, "a", "env:prod,role:web", NULL),
	OK("a:1|c|#env:prod|@0.5", VT_COUNTER, 1, 0.5, 0, "a", "env:prod", NULL),
	OK("a:1|c|@0.5|#env:prod", VT_COUNTER, 1, 0.5, 0, "a", "env:prod", NULL),
	OK("a:1|c|#url:http://x:80/a", VT_COUNTER, 1, 1, 0, "a", "url:http://x:80/a", NULL),
	OK("a:1|c|#k:", VT_COUNTER, 1, 1, 0, "a", "k:", NULL),
	OK("a:1|c|#solo,#hash,sp ace", VT_COUNTER, 1, 1, 0, "a", "solo,#hash,sp ace", NULL),
	OK("a:1|c|c:abc123", VT_COUNTER, 1, 1, 0, "a", NULL, NULL),
	OK("a:1|c|T1700000000", VT_COUNTER, 1, 1, 0, "a", NULL, NULL),
	OK("a:1|c|e:it-false,cn-x", VT_COUNTER, 1, 1, 0, "a", NULL, NULL),
	OK("a:1|c|card:high", VT_COUNTER, 1, 1, 0, "a", NULL, NULL),
	OK("a:1|c|#a|c:xyz|T123|@0.5", VT_COUNTER, 1, 0.5, 0, "a", "a", NULL),
	OK("na\xc3\xafve.metric:1|c", VT_COUNTER, 1, 1, 0, "na\xc3\xafve.metric", NULL, NULL),
	OK("my metric:1|c", VT_COUNTER, 1, 1, 0, "my metric", NULL, NULL),
	OK("a.b-c_d/e:7|ms", VT_TIMER, 7, 1, 0, "a.b-c_d/e", NULL, NULL),
#undef OK
};

START_TEST(parse_accepts)
{
	const struct ok_case *c = &ok_cases[_i];
	struct vt_sample s;
	char *line = dup_exact(c->line, strlen(c->line));
	enum vt_line_result r = vt_statsd_parse(line, strlen(c->line), &s);

	ck_assert_msg(r == VT_LINE_OK, "\"%s\": got %s", c->line,
	    vt_line_result_name(r));
	ck_assert_int_eq(s.kind, c->kind);
	ck_assert_msg(s.value == c->value, "\"%s\": value %.17g, want %.17g",
	    c->line, s.value, c->value);
	ck_assert_msg(s.sample_rate == c->rate, "\"%s\": rate %.17g, want %.17g",
	    c->line, s.sample_rate, c->rate);
	ck_assert_int_eq(s.gauge_delta, c->delta);
	assert_slice(s.name, c->name, "name", c->line);
	assert_slice(s.tags, c->tags, "tags", c->line);
	assert_slice(s.set_member, c->member, "set member", c->line);
	free(line);
}
END_TEST

START_TEST(parse_negative_zero_keeps_sign)
{
	struct vt_sample s;
	ck_assert_int_eq(vt_statsd_parse("a:-0|g", 6, &s), VT_LINE_OK);
	ck_assert(s.value == 0 && signbit(s.value));
	ck_assert_int_eq(s.gauge_delta, 1);
	ck_assert_int_eq(vt_statsd_parse("a:-0.0|ms", 9, &s), VT_LINE_OK);
	ck_assert(s.value == 0 && signbit(s.value));
}
END_TEST

START_TEST(parse_slices_borrow_line)
{
	const char *line = "svc.x:1|c|#k:v";
	struct vt_sample s;
	ck_assert_int_eq(vt_statsd_parse(line, strlen(line), &s), VT_LINE_OK);
	ck_assert_ptr_eq(s.name.ptr, line);
	ck_assert_ptr_eq(s.tags.ptr, line + 11);
}
END_TEST

/* ---- rejected metric lines ---- */

static const struct bad_case {
	const char *line;
	size_t len;            /* 0: strlen(line) */
	enum vt_line_result want;
} bad_cases[] = {
	{ "", 0, VT_LINE_MISSING_VALUE },
	{ "x", 0, VT_LINE_MISSING_VALUE },
	{ "x|c", 0, VT_LINE_MISSING_VALUE },
	{ "x#y", 0, VT_LINE_MISSING_VALUE },
	{ ":1|c", 0, VT_LINE_BAD_NAME },
	{ "  :1|c", 0, VT_LINE_BAD_NAME },
	{ "a\x01" "b:1|c", 0, VT_LINE_BAD_NAME },
	{ "a\x7f" "b:1|c", 0, VT_LINE_BAD_NAME },
	{ "a\tb:1|c", 0, VT_LINE_BAD_NAME },
	{ "a#b:1|c", 0, VT_LINE_BAD_NAME },
	{ "a|b:1|c", 0, VT_LINE_BAD_NAME },
	{ "abcdefgh\nijk:1|c", 0, VT_LINE_BAD_NAME },
	{ "a\0b:1|c", 7, VT_LINE_BAD_NAME },
	{ "x:1", 0, VT_LINE_BAD_TYPE },
	{ "x:", 0, VT_LINE_BAD_TYPE },
	{ "x:1|", 0, VT_LINE_BAD_TYPE },
	{ "x:1|q", 0, VT_LINE_BAD_TYPE },
	{ "x:1|C", 0, VT_LINE_BAD_TYPE },
	{ "x:1|m", 0, VT_LINE_BAD_TYPE },
	{ "x:1|mx", 0, VT_LINE_BAD_TYPE },
	{ "x:1|msx", 0, VT_LINE_BAD_TYPE },
	{ "x:1|cc", 0, VT_LINE_BAD_TYPE },
	{ "x:1|c|", 0, VT_LINE_BAD_TYPE },
	{ "x:1|c||#a", 0, VT_LINE_BAD_TYPE },
	{ "x:1|c|foo", 0, VT_LINE_BAD_TYPE },
	{ "x:1|c|T", 0, VT_LINE_BAD_TYPE },
	{ "x:1|c|T12a", 0, VT_LINE_BAD_TYPE },
	{ "x:1|c|c", 0, VT_LINE_BAD_TYPE },
	{ "x:abc|q", 0, VT_LINE_BAD_TYPE },
	{ "x:|c", 0, VT_LINE_BAD_VALUE },
	{ "x:abc|c", 0, VT_LINE_BAD_VALUE },
	{ "x:1.2.3|c", 0, VT_LINE_BAD_VALUE },
	{ "x:0x10|c", 0, VT_LINE_BAD_VALUE },
	{ "x:1e|c", 0, VT_LINE_BAD_VALUE },
	{ "x:1e+|ms", 0, VT_LINE_BAD_VALUE },
	{ "x:-|c", 0, VT_LINE_BAD_VALUE },
	{ "x:+|g", 0, VT_LINE_BAD_VALUE },
	{ "x:.|c", 0, VT_LINE_BAD_VALUE },
	{ "x:.e1|c", 0, VT_LINE_BAD_VALUE },
	{ "x: 1|c", 0, VT_LINE_BAD_VALUE },
	{ "x:1 |c", 0, VT_LINE_BAD_VALUE },
	{ "x:1,5|c", 0, VT_LINE_BAD_VALUE },
	{ "x:1:2:3|d", 0, VT_LINE_BAD_VALUE },
	{ "x:--1|c", 0, VT_LINE_BAD_VALUE },
	{ "x:information|c", 0, VT_LINE_BAD_VALUE },
	{ "x:|s", 0, VT_LINE_BAD_VALUE },
	{ "x:a\x01|s", 0, VT_LINE_BAD_VALUE },
	{ "x:nan|ms", 0, VT_LINE_NOT_FINITE },
	{ "x:NaN|c", 0, VT_LINE_NOT_FINITE },
	{ "x:inf|c", 0, VT_LINE_NOT_FINITE },
	{ "x:-Infinity|g", 0, VT_LINE_NOT_FINITE },
	{ "x:+INF|h", 0, VT_LINE_NOT_FINITE },
	{ "x:1e999|ms", 0, VT_LINE_NOT_FINITE },
	{ "x:-1e309|c", 0, VT_LINE_NOT_FINITE },
	{ "x:1|c|@0", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|c|@0.0", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|c|@1.5", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|c|@1.0000001", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|c|@-0.5", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|c|@abc", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|c|@", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|c|@nan", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|c|@0.5|@0.5", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|g|@2", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|s|@0", 0, VT_LINE_BAD_SAMPLE_RATE },
	{ "x:1|c|#", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|#|@0.5", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|#a,,b", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|#a,", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|#,a", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|#:v", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|#a,:v", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|#a|#b", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|#a\x01" "b", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|#a\x7f", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|#a\0b", 11, VT_LINE_BAD_TAGS },
	/* the first problem in line order wins */
	{ "a#:abc|q", 0, VT_LINE_BAD_NAME },
	{ "x:abc|c|@7", 0, VT_LINE_BAD_VALUE },
	{ "x:1|c|#,|@7", 0, VT_LINE_BAD_TAGS },
	{ "x:1|c|@7|#,", 0, VT_LINE_BAD_SAMPLE_RATE },
};

START_TEST(parse_rejects)
{
	const struct bad_case *c = &bad_cases[_i];
	size_t len = c->len ? c->len : strlen(c->line);
	struct vt_sample s;
	char *line = dup_exact(c->line, len);
	enum vt_line_result r = vt_statsd_parse(line, len, &s);
	free(line);
	ck_assert_msg(r == c->want, "case %d \"%s\": got %s, want %s", _i,
	    c->line, vt_line_result_name(r), vt_line_result_name(c->want));
}
END_TEST

/* ---- the fast path for runs of plain lines ---- */

/* Every table line, alone and with more lines after it: whatever the run
 * takes, vt_statsd_parse must accept with the very same sample. */
static void run_agrees(const char *text)
{
	size_t len = strlen(text);
	const char *tails[] = { "", "\n", "\nz:1|c" };
	for (size_t t = 0; t < 3; t++) {
		size_t n = len + strlen(tails[t]);
		char *buf = malloc(n);
		ck_assert_ptr_nonnull(buf);
		memcpy(buf, text, len);
		memcpy(buf + len, tails[t], n - len);
		struct vt_sample run[4], slow;
		const char *next;
		size_t got = vt_statsd_parse_run(buf, buf + n, run, 4, &next);
		if (got == 0) {
			ck_assert_msg(next == buf, "\"%s\": declined but moved", text);
		} else {
			ck_assert_msg(vt_statsd_parse(buf, len, &slow) == VT_LINE_OK,
			    "\"%s\": the run took a line parse rejects", text);
			ck_assert_msg(memcmp(&slow, &run[0], sizeof slow) == 0,
			    "\"%s\": the run's sample differs", text);
			ck_assert_msg(next == (t == 1 ? buf + len + 1 : buf + n),
			    "\"%s\": next at %td", text, next - buf);
			ck_assert_uint_eq(got, t == 2 ? 2 : 1);
		}
		free(buf);
	}
}

START_TEST(run_agrees_with_parse_on_accepted)
{
	run_agrees(ok_cases[_i].line);
}
END_TEST

START_TEST(run_agrees_with_parse_on_rejected)
{
	if (bad_cases[_i].len == 0)      /* those with NULs are not strings */
		run_agrees(bad_cases[_i].line);
}
END_TEST

/* The plain forms the run must take (else every line goes the long way
 * and the tests above pass for nothing), and forms it must leave. */
START_TEST(run_takes_plain_lines_only)
{
	static const char *const taken[] = {
		"svc.api.requests.total:1|c", "a:0.25|ms", "a:3|h", "a:3.5|d",
		"a:-5|g", "a:+5|g", "a:5|g", "a:user42|s", "a:12|s",
		"na\xc3\xafve.metric:1|c", "my metric:1|c", "a:-3|c",
	};
	static const char *const left[] = {
		"  a:1|c", "a:1|c\r", "a:1|c ", "a:1|c|@0.5", "a:1|c|#x",
		"_sc|x|0", "_e{1,1}:a|b", "a:1.5e3|ms", "a:1|cc", "a:1|m",
		"a:x,y|s", "a:|c", ":1|c", "a|b:1|c", "a#b:1|c", "a:1|c|",
		"\ta:1|c", "a:nan|c", "a:1", "a:u1|c", "a:uests.total:1|c",
	};
	struct vt_sample out[1];
	const char *next;
	for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
		size_t n = strlen(taken[i]);
		char *line = dup_exact(taken[i], n);
		ck_assert_msg(vt_statsd_parse_run(line, line + n, out, 1, &next) == 1
		    && next == line + n, "\"%s\" not taken", taken[i]);
		free(line);
	}
	for (size_t i = 0; i < sizeof left / sizeof left[0]; i++) {
		size_t n = strlen(left[i]);
		char *line = dup_exact(left[i], n);
		ck_assert_msg(vt_statsd_parse_run(line, line + n, out, 1, &next) == 0
		    && next == line, "\"%s\" taken", left[i]);
		free(line);
	}
}
END_TEST

START_TEST(run_stops_at_the_first_other_line_and_at_max)
{
	static const char buf[] = "a:1|c\nb:2|g\n\nc:1|c|#x:y\nd:1|c";
	const char *end = buf + sizeof buf - 1, *next;
	struct vt_sample out[4];

	ck_assert_uint_eq(vt_statsd_parse_run(buf, end, out, 4, &next), 2);
	ck_assert_ptr_eq(next, buf + 12);              /* the empty line */
	assert_slice(out[0].name, "a", "name", buf);
	assert_slice(out[1].name, "b", "name", buf);
	ck_assert(out[1].kind == VT_GAUGE && out[1].value == 2);

	ck_assert_uint_eq(vt_statsd_parse_run(buf, end, out, 1, &next), 1);
	ck_assert_ptr_eq(next, buf + 6);
	ck_assert_uint_eq(vt_statsd_parse_run(buf + 24, end, out, 4, &next), 1);
	ck_assert_ptr_eq(next, end);
	assert_slice(out[0].name, "d", "name", buf);
	ck_assert_uint_eq(vt_statsd_parse_run(end, end, out, 4, &next), 0);
	ck_assert_ptr_eq(next, end);
}
END_TEST

/* ---- limits: at the bound accepted, one past rejected ---- */

static char *repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

static enum vt_line_result parse_fmt(struct vt_sample *s, const char *fmt,
    const char *arg)
{
	size_t n = strlen(fmt) + strlen(arg) + 1;
	char *line = malloc(n);
	ck_assert_ptr_nonnull(line);
	snprintf(line, n, fmt, arg);
	enum vt_line_result r = vt_statsd_parse(line, strlen(line), s);
	free(line);
	return r;
}

START_TEST(limit_name_length)
{
	struct vt_sample s;
	char *at = repeat('n', VT_NAME_MAX);
	char *over = repeat('n', VT_NAME_MAX + 1);
	char *big = repeat('n', 600);
	ck_assert_int_eq(parse_fmt(&s, "%s:1|c", at), VT_LINE_OK);
	ck_assert_uint_eq(s.name.len, VT_NAME_MAX);
	ck_assert_int_eq(parse_fmt(&s, "%s:1|c", over), VT_LINE_BAD_NAME);
	ck_assert_int_eq(parse_fmt(&s, "%s:1|c", big), VT_LINE_BAD_NAME);
	free(at);
	free(over);
	free(big);
}
END_TEST

/* "t0,t1,...": n tags. */
static char *tag_list(int n)
{
	char *s = malloc((size_t)n * 8 + 1);
	ck_assert_ptr_nonnull(s);
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%st%d", i ? "," : "", i);
	return s;
}

START_TEST(limit_tag_count)
{
	struct vt_sample s;
	char *at = tag_list(VT_MAX_TAGS);
	char *over = tag_list(VT_MAX_TAGS + 1);
	char *forty = tag_list(40);
	ck_assert_int_eq(parse_fmt(&s, "x:1|c|#%s", at), VT_LINE_OK);
	ck_assert_int_eq(parse_fmt(&s, "x:1|c|#%s", over), VT_LINE_BAD_TAGS);
	ck_assert_int_eq(parse_fmt(&s, "x:1|c|#%s", forty), VT_LINE_BAD_TAGS);
	free(at);
	free(over);
	free(forty);
}
END_TEST

START_TEST(limit_tag_length)
{
	struct vt_sample s;
	char *at = repeat('t', VT_NAME_MAX);
	char *over = repeat('t', VT_NAME_MAX + 1);
	ck_assert_int_eq(parse_fmt(&s, "x:1|c|#a,%s,b", at), VT_LINE_OK);
	ck_assert_int_eq(parse_fmt(&s, "x:1|c|#a,%s,b", over), VT_LINE_BAD_TAGS);
	ck_assert_int_eq(parse_fmt(&s, "x:1|c|#%s", over), VT_LINE_BAD_TAGS);
	free(at);
	free(over);
}
END_TEST

START_TEST(limit_set_member_length)
{
	struct vt_sample s;
	char *at = repeat('m', VT_NAME_MAX);
	char *over = repeat('m', VT_NAME_MAX + 1);
	ck_assert_int_eq(parse_fmt(&s, "x:%s|s", at), VT_LINE_OK);
	ck_assert_uint_eq(s.set_member.len, VT_NAME_MAX);
	ck_assert_int_eq(parse_fmt(&s, "x:%s|s", over), VT_LINE_BAD_VALUE);
	free(at);
	free(over);
}
END_TEST

START_TEST(limit_number_length)
{
	struct vt_sample s;
	/* "0.000...0001": the slow path, at and past VT_STATSD_NUMBER_MAX */
	char *at = repeat('0', VT_STATSD_NUMBER_MAX);
	at[1] = '.';
	at[VT_STATSD_NUMBER_MAX - 1] = '1';
	char *over = repeat('0', VT_STATSD_NUMBER_MAX + 1);
	over[1] = '.';
	over[VT_STATSD_NUMBER_MAX] = '1';
	ck_assert_int_eq(parse_fmt(&s, "x:%s|ms", at), VT_LINE_OK);
	ck_assert(s.value == strtod(at, NULL));
	ck_assert(s.value > 0);
	ck_assert_int_eq(parse_fmt(&s, "x:%s|ms", over), VT_LINE_BAD_VALUE);
	free(at);
	free(over);
}
END_TEST

/*
 * ---- scanning at every offset: the word-at-a-time scanners must find a
 * stop byte wherever it falls relative to their 8/16-byte steps and the
 * overlapping last step, and never read past the line ----
 */

/* Parse a copy of exactly n bytes. The fast path for runs must agree:
 * a line it takes, the parser accepts with the same sample. */
static enum vt_line_result parse_exact(const char *text, size_t n,
    struct vt_sample *s)
{
	char *line = dup_exact(text, n);
	enum vt_line_result r = vt_statsd_parse(line, n, s);
	struct vt_sample fast;
	const char *next;
	size_t taken = vt_statsd_parse_run(line, line + n, &fast, 1, &next);
	ck_assert_msg(!taken || (r == VT_LINE_OK &&
	    memcmp(&fast, s, sizeof fast) == 0),
	    "run and parse disagree on \"%.*s\"", (int)n, text);
	free(line);
	return r;
}

/* Lines the fast path takes from a copy of exactly n bytes: 0 or 1. */
static size_t run_exact(const char *text, size_t n)
{
	char *line = dup_exact(text, n);
	struct vt_sample fast;
	const char *next;
	size_t taken = vt_statsd_parse_run(line, line + n, &fast, 1, &next);
	free(line);
	return taken;
}

START_TEST(scan_name_every_offset)
{
	static const struct {
		char byte;
		enum vt_line_result want;
	} probes[] = {
		{ '\x01', VT_LINE_BAD_NAME }, { '\x1f', VT_LINE_BAD_NAME },
		{ '\x7f', VT_LINE_BAD_NAME }, { '#', VT_LINE_BAD_NAME },
		{ '|', VT_LINE_BAD_NAME }, { '\0', VT_LINE_BAD_NAME },
		{ ' ', VT_LINE_OK }, { '\x80', VT_LINE_OK }, { '\xff', VT_LINE_OK },
		{ '~', VT_LINE_OK }, { ',', VT_LINE_OK },
	};
	char text[128];
	struct vt_sample s;

	for (size_t n = 1; n <= 70; n++) {
		memset(text, 'a', n);
		memcpy(text + n, ":1|c", 4);
		ck_assert_int_eq(parse_exact(text, n + 4, &s), VT_LINE_OK);
		ck_assert_uint_eq(s.name.len, n);
		for (size_t i = 1; i + 1 < n; i++) {
			for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++) {
				text[i] = probes[k].byte;
				enum vt_line_result r = parse_exact(text, n + 4, &s);
				/* plain lines: taken exactly when accepted */
				ck_assert_uint_eq(run_exact(text, n + 4),
				    r == VT_LINE_OK);
				ck_assert_msg(r == probes[k].want,
				    "name len %zu, byte 0x%02x at %zu: got %s", n,
				    (unsigned char)probes[k].byte, i,
				    vt_line_result_name(r));
				if (r == VT_LINE_OK)
					ck_assert_uint_eq(s.name.len, n);
			}
			text[i] = 'a';
		}
		/* a ':' at i ends the name there; the rest is the value */
		for (size_t i = 1; i < n; i++) {
			text[i] = ':';
			ck_assert_int_eq(parse_exact(text, n + 4, &s),
			    VT_LINE_BAD_VALUE);
			text[i] = 'a';
		}
	}
}
END_TEST

START_TEST(scan_tags_every_offset)
{
	char text[160];
	struct vt_sample s;

	for (size_t n = 1; n <= 70; n++) {
		size_t len = (size_t)sprintf(text, "x:1|c|#");
		size_t t0 = len;
		memset(text + len, 't', n);
		len += n;
		ck_assert_int_eq(parse_exact(text, len, &s), VT_LINE_OK);
		ck_assert_uint_eq(s.tags.len, n);
		/* the same list followed by another section */
		memcpy(text + len, "|@0.5", 5);
		ck_assert_int_eq(parse_exact(text, len + 5, &s), VT_LINE_OK);
		ck_assert_uint_eq(s.tags.len, n);
		ck_assert(s.sample_rate == 0.5);
		for (size_t i = 0; i < n; i++) {
			text[t0 + i] = '\x02';
			ck_assert_int_eq(parse_exact(text, len, &s), VT_LINE_BAD_TAGS);
			text[t0 + i] = '\x7f';
			ck_assert_int_eq(parse_exact(text, len + 5, &s),
			    VT_LINE_BAD_TAGS);
			/* a comma: fine inside, an empty tag at either end */
			text[t0 + i] = ',';
			ck_assert_int_eq(parse_exact(text, len, &s),
			    i == 0 || i == n - 1 ? VT_LINE_BAD_TAGS : VT_LINE_OK);
			text[t0 + i] = '\xc3';
			ck_assert_int_eq(parse_exact(text, len, &s), VT_LINE_OK);
			text[t0 + i] = 't';
		}
	}
}
END_TEST

/* ---- the decimal fast path gives strtod's double, bit for bit ---- */

static uint64_t rng_next(uint64_t *st)
{
	uint64_t x = *st;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*st = x;
	return x;
}

static void assert_same_as_strtod(const char *num)
{
	char line[128];
	struct vt_sample s;
	int n = snprintf(line, sizeof line, "x:%s|ms", num);
	ck_assert(n > 0 && (size_t)n < sizeof line);
	enum vt_line_result r = vt_statsd_parse(line, (size_t)n, &s);
	double want = strtod(num, NULL);
	if (!isfinite(want)) {
		ck_assert_msg(r == VT_LINE_NOT_FINITE, "\"%s\": got %s", num,
		    vt_line_result_name(r));
		return;
	}
	ck_assert_msg(r == VT_LINE_OK, "\"%s\": got %s", num,
	    vt_line_result_name(r));
	ck_assert_msg(memcmp(&s.value, &want, sizeof want) == 0,
	    "\"%s\": parsed %a, strtod %a", num, s.value, want);
}

START_TEST(fast_path_matches_strtod_random)
{
	uint64_t st = UINT64_C(0x9e3779b97f4a7c15);
	char num[96];

	for (int iter = 0; iter < 300000; iter++) {
		uint64_t r = rng_next(&st);
		size_t len = 0;
		int nint = (int)(r % 21), nfrac = (int)((r >> 8) % 23);
		int dot = (r >> 16) % 10 < 7, expo = (r >> 24) % 10 == 0;
		switch ((r >> 32) % 4) {
		case 0:
			num[len++] = '-';
			break;
		case 1:
			num[len++] = '+';
			break;
		default:
			break;
		}
		if (!dot)
			nfrac = 0;
		if (nint == 0 && nfrac == 0)
			nint = 1;
		uint64_t d = rng_next(&st);
		for (int i = 0; i < nint; i++) {
			if (i % 16 == 15)
				d = rng_next(&st);
			num[len++] = (char)('0' + (d >> (4 * (i % 16)) & 0xf) % 10);
		}
		if (dot)
			num[len++] = '.';
		d = rng_next(&st);
		for (int i = 0; i < nfrac; i++) {
			if (i % 16 == 15)
				d = rng_next(&st);
			num[len++] = (char)('0' + (d >> (4 * (i % 16)) & 0xf) % 10);
		}
		if (expo)
			len += (size_t)sprintf(num + len, "e%d",
			    (int)(rng_next(&st) % 700) - 350);
		num[len] = '\0';
		assert_same_as_strtod(num);
	}
}
END_TEST

START_TEST(fast_path_matches_strtod_edges)
{
	static const char *const nums[] = {
		"9007199254740992", "9007199254740993", "9007199254740991",
		"-9007199254740992", "900719925474099.3", "9.007199254740993",
		"0.9007199254740992", "0.0000000000000000001",
		"1234567890123456789", "0.1234567890123456789",
		"4503599627370497.5", "0.3", "0.7", "2.675", "1.005",
		"123.456", "0.0001", "99999999999999999", "1.7976931348623157",
		"0", "-0", "00000000000000000001", "1.000000000000000000001",
	};
	char num[64];
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		assert_same_as_strtod(nums[i]);
	/* every k-digit fraction of a few mantissas near 2^53 */
	for (int k = 0; k <= 19; k++) {
		for (uint64_t m = (UINT64_C(1) << 53) - 3;
		    m <= (UINT64_C(1) << 53) + 3; m++) {
			char digits[32];
			int n = snprintf(digits, sizeof digits, "%llu",
			    (unsigned long long)m);
			size_t len = 0;
			if (k >= n) {
				len += (size_t)sprintf(num, "0.");
				for (int z = 0; z < k - n; z++)
					num[len++] = '0';
				strcpy(num + len, digits);
			} else {
				snprintf(num, sizeof num, "%.*s.%s", n - k,
				    digits, digits + n - k);
			}
			assert_same_as_strtod(num);
		}
	}
}
END_TEST

/* ---- classify ---- */

static const struct {
	const char *line;
	enum vt_line_kind want;
} classify_cases[] = {
	{ "", VT_LINE_KIND_EMPTY },
	{ "   ", VT_LINE_KIND_EMPTY },
	{ "\r", VT_LINE_KIND_EMPTY },
	{ " \t\r", VT_LINE_KIND_EMPTY },
	{ "a:1|c", VT_LINE_KIND_METRIC },
	{ "_s:1|c", VT_LINE_KIND_METRIC },
	{ "_sc", VT_LINE_KIND_METRIC },
	{ "_e:1|c", VT_LINE_KIND_METRIC },
	{ "_sc|x|0", VT_LINE_KIND_SERVICE_CHECK },
	{ "  _sc|x|0", VT_LINE_KIND_SERVICE_CHECK },
	{ "_e{5,4}:title|text", VT_LINE_KIND_EVENT },
	{ " _e{1,1}:a|b\r", VT_LINE_KIND_EVENT },
};

START_TEST(classify_lines)
{
	ck_assert_int_eq(vt_statsd_classify(classify_cases[_i].line,
	    strlen(classify_cases[_i].line)), classify_cases[_i].want);
}
END_TEST

/* ---- service checks ---- */

static const struct sc_ok_case {
	const char *line;
	const char *name;
	enum vt_status status;
	int64_t ts;
	const char *instance, *tags, *message;
} sc_ok_cases[] = {
	{ "_sc|billing.broker|1", "billing.broker", VT_STATUS_WARNING, 0, NULL, NULL, NULL },
	{ "_sc|db|0", "db", VT_STATUS_OK, 0, NULL, NULL, NULL },
	{ "_sc|db|3\r", "db", VT_STATUS_UNKNOWN, 0, NULL, NULL, NULL },
	{ "  _sc|db|2  ", "db", VT_STATUS_CRITICAL, 0, NULL, NULL, NULL },
	{ "_sc|db|0|d:1700000000|h:pay-1|#env:prod,ttl:30s|m:all good | really",
	  "db", VT_STATUS_OK, 1700000000, "pay-1", "env:prod,ttl:30s",
	  "all good | really" },
	{ "_sc|db|3|#a|h:x|d:5", "db", VT_STATUS_UNKNOWN, 5, "x", "a", NULL },
	{ "_sc|db|2|m:", "db", VT_STATUS_CRITICAL, 0, NULL, NULL, "" },
	{ "_sc|db|2|m:line1\\nline2|#not:tags", "db", VT_STATUS_CRITICAL, 0,
	  NULL, NULL, "line1\\nline2|#not:tags" },
	{ "_sc|db|0|c:abc|T12|e:x", "db", VT_STATUS_OK, 0, NULL, NULL, NULL },
	{ "_sc|ns:db|0", "ns:db", VT_STATUS_OK, 0, NULL, NULL, NULL },
	{ "_sc|caf\xc3\xa9|0|h:host 1", "caf\xc3\xa9", VT_STATUS_OK, 0,
	  "host 1", NULL, NULL },
};

START_TEST(check_accepts)
{
	const struct sc_ok_case *c = &sc_ok_cases[_i];
	struct vt_check_report r;
	char *line = dup_exact(c->line, strlen(c->line));
	enum vt_line_result res = vt_statsd_parse_check(line, strlen(c->line),
	    &r);
	ck_assert_msg(res == VT_LINE_OK, "\"%s\": got %s", c->line,
	    vt_line_result_name(res));
	assert_slice(r.name, c->name, "name", c->line);
	ck_assert_int_eq(r.status, c->status);
	ck_assert_int_eq(r.timestamp, c->ts);
	assert_slice(r.instance, c->instance, "instance", c->line);
	assert_slice(r.tags, c->tags, "tags", c->line);
	assert_slice(r.message, c->message, "message", c->line);
	free(line);
}
END_TEST

static const struct {
	const char *line;
	enum vt_line_result want;
} sc_bad_cases[] = {
	{ "sc|db|0", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|4", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|-1", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|01", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|x", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|ok", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|d:", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|d:abc", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|d:-5", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|d:1234567890123456789", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|d:1|d:2", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|h:", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|h:a\x01", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|h:a|h:b", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|q:1", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc|db|0|@0.5", VT_LINE_BAD_SERVICE_CHECK },
	{ "_sc||0", VT_LINE_BAD_NAME },
	{ "_sc|", VT_LINE_BAD_NAME },
	{ "_sc|a\x01|0", VT_LINE_BAD_NAME },
	{ "_sc|a#b|0", VT_LINE_BAD_NAME },
	{ "_sc|db|0|#", VT_LINE_BAD_TAGS },
	{ "_sc|db|0|#a,,b", VT_LINE_BAD_TAGS },
	{ "_sc|db|0|#a|#b", VT_LINE_BAD_TAGS },
};

START_TEST(check_rejects)
{
	struct vt_check_report r;
	size_t len = strlen(sc_bad_cases[_i].line);
	char *line = dup_exact(sc_bad_cases[_i].line, len);
	enum vt_line_result res = vt_statsd_parse_check(line, len, &r);
	free(line);
	ck_assert_msg(res == sc_bad_cases[_i].want, "\"%s\": got %s, want %s",
	    sc_bad_cases[_i].line, vt_line_result_name(res),
	    vt_line_result_name(sc_bad_cases[_i].want));
}
END_TEST

START_TEST(check_name_length)
{
	struct vt_check_report r;
	char *at = repeat('c', VT_NAME_MAX), *over = repeat('c', VT_NAME_MAX + 1);
	char line[VT_NAME_MAX + 16];
	snprintf(line, sizeof line, "_sc|%s|0", at);
	ck_assert_int_eq(vt_statsd_parse_check(line, strlen(line), &r), VT_LINE_OK);
	snprintf(line, sizeof line, "_sc|%s|0", over);
	ck_assert_int_eq(vt_statsd_parse_check(line, strlen(line), &r),
	    VT_LINE_BAD_NAME);
	free(at);
	free(over);
}
END_TEST

/* ---- tag iteration ---- */

START_TEST(next_tag_iterates)
{
	const char *line = "x:1|c|#a:1,b,c:x:y,d:,e";
	static const struct {
		const char *key, *value;
	} want[] = {
		{ "a", "1" }, { "b", NULL }, { "c", "x:y" }, { "d", "" }, { "e", NULL },
	};
	struct vt_sample s;
	struct vt_slice k, v;
	size_t pos = 0, n = 0;

	ck_assert_int_eq(vt_statsd_parse(line, strlen(line), &s), VT_LINE_OK);
	while (vt_tags_next(s.tags, &pos, &k, &v)) {
		ck_assert_uint_lt(n, sizeof want / sizeof want[0]);
		assert_slice(k, want[n].key, "key", line);
		assert_slice(v, want[n].value, "value", line);
		n++;
	}
	ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
	ck_assert_int_eq(vt_tags_next(s.tags, &pos, &k, &v), 0);
}
END_TEST

START_TEST(next_tag_empty_list)
{
	struct vt_sample s;
	struct vt_slice k, v;
	size_t pos = 0;
	ck_assert_int_eq(vt_statsd_parse("x:1|c", 5, &s), VT_LINE_OK);
	ck_assert_int_eq(vt_tags_next(s.tags, &pos, &k, &v), 0);
}
END_TEST

/* ---- result names ---- */

static const char *const result_names[VT_LINE_RESULT_COUNT] = {
	"ok", "missing_value", "bad_name", "bad_value", "not_finite",
	"bad_type", "bad_sample_rate", "bad_tags", "bad_service_check",
	"unsupported", "type_conflict", "over_max_metrics",
	"dropped_by_mapping",
};

START_TEST(result_names_are_stable)
{
	for (int r = 0; r < VT_LINE_RESULT_COUNT; r++)
		ck_assert_str_eq(vt_line_result_name((enum vt_line_result)r),
		    result_names[r]);
	ck_assert_str_eq(vt_line_result_name(VT_LINE_RESULT_COUNT), "unknown");
	ck_assert_str_eq(vt_line_result_name((enum vt_line_result)-1),
	    "unknown");
}
END_TEST

/* ---- micro-benchmark: prints ns/line, asserts only correctness ---- */

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const char *const bench_lines[] = {
	"svc.api.requests.total:1|c",
	"payments.http.get.latency:12.345|ms|@0.1",
	"api.requests:1|c|#env:prod,service:payments,region:eu-west-1",
	"billing.queue.depth:-3|g",
	"web.users.unique:u-123456|s",
	"svc.cache.hits:17|c",
	"db.query.time:0.75|ms",
	"svc.api.requests.total:1|c",
};

START_TEST(bench_parse)
{
	enum { N = 1000000 };
	size_t nl = sizeof bench_lines / sizeof bench_lines[0];
	size_t lens[sizeof bench_lines / sizeof bench_lines[0]];
	struct vt_sample s;
	double sum = 0, t0;
	int bad = 0;   /* counted, not asserted: ck_assert costs a syscall */

	for (size_t i = 0; i < nl; i++)
		lens[i] = strlen(bench_lines[i]);

	t0 = now_ns();
	for (int i = 0; i < N; i++) {
		bad += vt_statsd_parse(bench_lines[0], lens[0], &s) != VT_LINE_OK;
		sum += s.value;
	}
	double one = (now_ns() - t0) / N;

	t0 = now_ns();
	for (int i = 0; i < N; i++) {
		size_t j = (size_t)i % nl;
		bad += vt_statsd_parse(bench_lines[j], lens[j], &s) != VT_LINE_OK;
		sum += s.value + (double)s.name.len;
	}
	double mixed = (now_ns() - t0) / N;

	ck_assert_int_eq(bad, 0);
	ck_assert(sum > 0);
	printf("statsd bench: %.1f ns/line (\"%s\"), %.1f ns/line (mix of %zu)\n",
	    one, bench_lines[0], mixed, nl);
}
END_TEST

Suite *vt_test_statsd_suite(void)
{
	Suite *s = suite_create("statsd");
	TCase *tc = tcase_create("metric");
	tcase_add_loop_test(tc, parse_accepts, 0,
	    sizeof ok_cases / sizeof ok_cases[0]);
	tcase_add_test(tc, parse_negative_zero_keeps_sign);
	tcase_add_test(tc, parse_slices_borrow_line);
	tcase_add_loop_test(tc, parse_rejects, 0,
	    sizeof bad_cases / sizeof bad_cases[0]);
	tcase_add_test(tc, limit_name_length);
	tcase_add_test(tc, limit_tag_count);
	tcase_add_test(tc, limit_tag_length);
	tcase_add_test(tc, limit_set_member_length);
	tcase_add_test(tc, limit_number_length);
	tcase_add_test(tc, scan_name_every_offset);
	tcase_add_test(tc, scan_tags_every_offset);
	tcase_add_loop_test(tc, run_agrees_with_parse_on_accepted, 0,
	    sizeof ok_cases / sizeof ok_cases[0]);
	tcase_add_loop_test(tc, run_agrees_with_parse_on_rejected, 0,
	    sizeof bad_cases / sizeof bad_cases[0]);
	tcase_add_test(tc, run_takes_plain_lines_only);
	tcase_add_test(tc, run_stops_at_the_first_other_line_and_at_max);
	tcase_add_loop_test(tc, classify_lines, 0,
	    sizeof classify_cases / sizeof classify_cases[0]);
	tcase_add_test(tc, next_tag_iterates);
	tcase_add_test(tc, next_tag_empty_list);
	tcase_add_test(tc, result_names_are_stable);
	suite_add_tcase(s, tc);

	tc = tcase_create("number");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fast_path_matches_strtod_random);
	tcase_add_test(tc, fast_path_matches_strtod_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_loop_test(tc, check_accepts, 0,
	    sizeof sc_ok_cases / sizeof sc_ok_cases[0]);
	tcase_add_loop_test(tc, check_rejects, 0,
	    sizeof sc_bad_cases / sizeof sc_bad_cases[0]);
	tcase_add_test(tc, check_name_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("bench");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bench_parse);
	suite_add_tcase(s, tc);
	return s;
}
