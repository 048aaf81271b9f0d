/*
 * test_log.c - log lines as operators see them on stderr: format, level
 * filter, errno text, one line per event even from many threads, and the
 * complaint backoff.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector/base/log.h"
#include "suites.h"

/* Redirect fd 2 into a temporary file until capture_end(). */
struct capture {
	FILE *tmp;
	int saved;
};

static void capture_begin(struct capture *c)
{
	c->tmp = tmpfile();
	ck_assert_ptr_nonnull(c->tmp);
	c->saved = dup(STDERR_FILENO);
	ck_assert_int_ge(c->saved, 0);
	ck_assert_int_ge(dup2(fileno(c->tmp), STDERR_FILENO), 0);
}

/* Restore stderr; returns what was written (caller frees). */
static char *capture_end(struct capture *c)
{
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	fseek(c->tmp, 0, SEEK_END);
	long len = ftell(c->tmp);
	ck_assert_int_ge(len, 0);
	rewind(c->tmp);
	char *text = calloc((size_t)len + 1, 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, c->tmp), (size_t)len);
	fclose(c->tmp);
	return text;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static const struct {
	const char *name;
	int level;
} level_names[] = {
	{ "debug", VT_LOG_DEBUG }, { "info", VT_LOG_INFO },
	{ "warn", VT_LOG_WARN }, { "warning", VT_LOG_WARN },
	{ "error", VT_LOG_ERROR }, { "INFO", -1 }, { "", -1 },
	{ "verbose", -1 }, { "info ", -1 },
};

START_TEST(level_names_parse)
{
	ck_assert_int_eq(vt_log_level_parse(level_names[_i].name),
	    level_names[_i].level);
	if (level_names[_i].level >= 0 &&
	    strcmp(level_names[_i].name, "warning") != 0)
		ck_assert_str_eq(vt_log_level_name(level_names[_i].level),
		    level_names[_i].name);
}
END_TEST

START_TEST(line_format)
{
	struct capture c;
	time_t before = time(NULL);
	capture_begin(&c);
	vt_log_info("statsd", "listening on %s:%d", "0.0.0.0", 8125);
	char *out = capture_end(&c);
	time_t after = time(NULL);

	regex_t re;
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z INFO statsd: listening on "
	    "0\\.0\\.0\\.0:8125\n$", REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, out, 0, NULL, 0) == 0, "line: %s", out);
	regfree(&re);

	/* The time is UTC now. */
	struct tm tm = { 0 };
	ck_assert_ptr_nonnull(strptime(out, "%Y-%m-%dT%H:%M:%S", &tm));
	time_t t = timegm(&tm);
	ck_assert_int_ge(t, before);
	ck_assert_int_le(t, after);
	free(out);
}
END_TEST

START_TEST(level_filter)
{
	struct capture c;
	vt_log_set_level(VT_LOG_WARN);
	ck_assert_int_eq(vt_log_enabled(VT_LOG_INFO), 0);
	ck_assert_int_eq(vt_log_enabled(VT_LOG_WARN), 1);
	ck_assert_int_eq(vt_log_enabled(VT_LOG_ERROR), 1);
	capture_begin(&c);
	vt_log_debug("a", "hidden debug");
	vt_log_info("a", "hidden info");
	vt_log_warn("a", "shown warn");
	vt_log_error("a", "shown error");
	char *out = capture_end(&c);
	ck_assert_int_eq(count_lines(out), 2);
	ck_assert_ptr_null(strstr(out, "hidden"));
	ck_assert_ptr_nonnull(strstr(out, " WARN a: shown warn\n"));
	ck_assert_ptr_nonnull(strstr(out, " ERROR a: shown error\n"));
	free(out);

	vt_log_set_level(VT_LOG_DEBUG);
	capture_begin(&c);
	vt_log_debug("a", "now shown");
	out = capture_end(&c);
	ck_assert_ptr_nonnull(strstr(out, " DEBUG a: now shown\n"));
	free(out);
	vt_log_set_level(VT_LOG_INFO);
}
END_TEST

START_TEST(warn_errno_appends_strerror_and_keeps_errno)
{
	struct capture c;
	capture_begin(&c);
	errno = ENOENT;
	vt_log_warn_errno("rrd", "open %s", "x.rrd");
	ck_assert_int_eq(errno, ENOENT);
	errno = EACCES;
	vt_log_info("rrd", "plain");
	ck_assert_int_eq(errno, EACCES);
	char *out = capture_end(&c);
	ck_assert_ptr_nonnull(strstr(out,
	    " WARN rrd: open x.rrd: No such file or directory\n"));
	ck_assert_int_eq(count_lines(out), 2);
	free(out);
}
END_TEST

START_TEST(control_characters_and_long_messages_stay_one_line)
{
	struct capture c;
	char *big = malloc(5001);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 5000);
	big[5000] = '\0';
	capture_begin(&c);
	vt_log_warn("http", "bad name \"%s\"", "a\nb\rc\x1b");
	vt_log_warn("http", "%s", big);
	char *out = capture_end(&c);
	ck_assert_int_eq(count_lines(out), 2);
	ck_assert_ptr_nonnull(strstr(out, "http: bad name \"a?b?c?\"\n"));
	char *second = strchr(out, '\n') + 1;
	size_t len = strlen(second);
	ck_assert_uint_eq(len, VT_LOG_LINE_MAX);
	ck_assert_str_eq(second + len - 5, "x...\n");
	free(out);
	free(big);
}
END_TEST

/* The backoff: first occurrence, then at most once per period, doubling
 * from VT_LOG_COMPLAIN_FIRST up to VT_LOG_COMPLAIN_MAX. */
static const struct {
	time_t now;
	int logged;
	unsigned long suppressed;   /* reported when logged */
	int interval_after;
} complain_steps[] = {
	{ 1000, 1, 0, 10 },
	{ 1001, 0, 0, 10 },
	{ 1009, 0, 0, 10 },
	{ 1010, 1, 2, 20 },
	{ 1029, 0, 0, 20 },
	{ 1030, 1, 1, 40 },
	{ 1070, 1, 0, 80 },
	{ 1149, 0, 0, 80 },
	{ 1150, 1, 1, 160 },
};

START_TEST(complain_backoff_steps)
{
	struct vt_complaint c = { 0 };
	for (size_t i = 0; i < sizeof complain_steps / sizeof complain_steps[0];
	    i++) {
		unsigned long sup = 999;
		int due = vt_log_complain_due(&c, complain_steps[i].now, &sup);
		ck_assert_msg(due == complain_steps[i].logged, "step %zu", i);
		if (due)
			ck_assert_uint_eq(sup, complain_steps[i].suppressed);
		ck_assert_int_eq(c.interval, complain_steps[i].interval_after);
	}
}
END_TEST

START_TEST(complain_backoff_caps_at_an_hour)
{
	struct vt_complaint c = { 0 };
	unsigned long sup;
	time_t now = 0;
	int reports = 0;
	for (int i = 0; i < 100000; i++, now += 5)
		reports += vt_log_complain_due(&c, now, &sup);
	ck_assert_int_eq(c.interval, VT_LOG_COMPLAIN_MAX);
	/* Reports at 0, 10, 30, ..., 2550 (periods 10 .. 2560 s) and 5110,
	 * then one an hour until the last occurrence at 499995 s. */
	ck_assert_int_eq(reports, 10 + (499995 - 5110) / 3600);
}
END_TEST

START_TEST(complain_and_recover_log_once_each)
{
	struct capture c;
	struct vt_complaint cm = { 0 };
	capture_begin(&c);
	vt_log_recovered(&cm, "amqp", "never complained");
	for (int i = 0; i < 3; i++)
		vt_log_complain(&cm, VT_LOG_WARN, "amqp", "connect: %s",
		    "refused");
	vt_log_recovered(&cm, "amqp", "connected again");
	vt_log_recovered(&cm, "amqp", "connected twice?");
	char *out = capture_end(&c);
	ck_assert_int_eq(count_lines(out), 2);
	ck_assert_ptr_nonnull(strstr(out, " WARN amqp: connect: refused\n"));
	ck_assert_ptr_nonnull(strstr(out, " INFO amqp: connected again "
	    "(2 more since last report)\n"));
	ck_assert_ptr_null(strstr(out, "never"));
	ck_assert_ptr_null(strstr(out, "twice"));
	ck_assert_int_eq(cm.active, 0);
	free(out);
}
END_TEST

/* Set JOURNAL_STREAM to the captured stderr's device:inode (or to another
 * inode when `match` is 0) and look again. */
static int journal_begin(int match)
{
	struct stat st;
	char env[64];
	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (match ? 0 : 1));
	ck_assert_int_eq(setenv("JOURNAL_STREAM", env, 1), 0);
	return vt_log_detect_journal();
}

static void journal_end(void)
{
	unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(vt_log_detect_journal(), 0);
}

START_TEST(journal_lines_carry_priority_and_no_time)
{
	struct capture c;
	vt_log_set_level(VT_LOG_DEBUG);
	capture_begin(&c);
	ck_assert_int_eq(journal_begin(1), 1);
	vt_log_debug("rrd", "queue %d", 3);
	vt_log_info("statsd", "listening on %s:%d", "0.0.0.0", 8125);
	vt_log_warn("http", "bad name \"%s\"", "a\nb");
	vt_log_error("main", "data_dir: denied");
	errno = ENOENT;
	vt_log_warn_errno("rrd", "open %s", "x.rrd");
	vt_log(VT_LOG_INFO, NULL, "no subsystem");
	char *out = capture_end(&c);
	journal_end();
	vt_log_set_level(VT_LOG_INFO);
	ck_assert_str_eq(out,
	    "<7>rrd: queue 3\n"
	    "<6>statsd: listening on 0.0.0.0:8125\n"
	    "<4>http: bad name \"a?b\"\n"
	    "<3>main: data_dir: denied\n"
	    "<4>rrd: open x.rrd: No such file or directory\n"
	    "<6>vitalsd: no subsystem\n");
	free(out);
}
END_TEST

/* JOURNAL_STREAM names another file (stderr was redirected), is malformed
 * or is unset: plain timestamped lines. */
START_TEST(journal_only_when_stderr_is_the_stream)
{
	static const char *const bad[] = { "", "12", "1:2:3", "a:b", "1:2x" };
	struct capture c;
	capture_begin(&c);
	ck_assert_int_eq(journal_begin(0), 0);
	vt_log_info("main", "other inode");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("JOURNAL_STREAM", bad[i], 1);
		ck_assert_int_eq(vt_log_detect_journal(), 0);
	}
	char *out = capture_end(&c);
	journal_end();
	ck_assert_ptr_nonnull(strstr(out, "Z INFO main: other inode\n"));
	ck_assert_int_eq(out[0] == '<', 0);
	free(out);
}
END_TEST

#define LOG_THREADS 4
#define LOG_PER_THREAD 300

static void *log_many(void *arg)
{
	int id = (int)(long)arg;
	for (int i = 0; i < LOG_PER_THREAD; i++)
		vt_log_info("thread", "worker %d line %d %s", id, i,
		    "padding-padding-padding-padding-padding-padding");
	return NULL;
}

START_TEST(threads_never_interleave_lines)
{
	struct capture c;
	pthread_t t[LOG_THREADS];
	capture_begin(&c);
	for (long i = 0; i < LOG_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, log_many,
		    (void *)i), 0);
	for (int i = 0; i < LOG_THREADS; i++)
		pthread_join(t[i], NULL);
	char *out = capture_end(&c);

	regex_t re;
	ck_assert_int_eq(regcomp(&re, "^[0-9T:.Z-]{24} INFO thread: worker "
	    "[0-3] line [0-9]+ padding(-padding){5}$", REG_EXTENDED), 0);
	int lines = 0;
	for (char *save = NULL, *l = strtok_r(out, "\n", &save); l;
	    l = strtok_r(NULL, "\n", &save), lines++)
		ck_assert_msg(regexec(&re, l, 0, NULL, 0) == 0, "bad: %s", l);
	regfree(&re);
	ck_assert_int_eq(lines, LOG_THREADS * LOG_PER_THREAD);
	free(out);
}
END_TEST

Suite *vt_test_log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	tcase_add_loop_test(tc, level_names_parse, 0,
	    sizeof level_names / sizeof level_names[0]);
	tcase_add_test(tc, line_format);
	tcase_add_test(tc, level_filter);
	tcase_add_test(tc, warn_errno_appends_strerror_and_keeps_errno);
	tcase_add_test(tc, control_characters_and_long_messages_stay_one_line);
	tcase_add_test(tc, complain_backoff_steps);
	tcase_add_test(tc, complain_backoff_caps_at_an_hour);
	tcase_add_test(tc, complain_and_recover_log_once_each);
	tcase_add_test(tc, threads_never_interleave_lines);
	tcase_add_test(tc, journal_lines_carry_priority_and_no_time);
	tcase_add_test(tc, journal_only_when_stderr_is_the_stream);
	suite_add_tcase(s, tc);
	return s;
}
