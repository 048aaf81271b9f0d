/*
 * test_health_store.c - check state on disk: save/load round trip (stale
 * checks and history included), atomic replacement, corrupt, truncated
 * and foreign files set aside, bad entries skipped, the periodic saver
 * and its final save.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/health/health_snapshot.h"
#include "collector/health/health_store.h"
#include "suites.h"
#include "test_support.h"

static vt_health *make(void)
{
	struct vt_health_config cfg = { .max_checks = 1000,
	    .publish_interval = 0 };
	return vt_health_create(&cfg);
}

static void put(vt_health *h, const char *svc, const char *inst,
    const char *name, enum vt_status st, double ttl, const char *output,
    double now)
{
	struct vt_check c;
	memset(&c, 0, sizeof c);
	snprintf(c.service, sizeof c.service, "%s", svc);
	snprintf(c.instance, sizeof c.instance, "%s", inst);
	snprintf(c.check, sizeof c.check, "%s", name);
	snprintf(c.output, sizeof c.output, "%s", output);
	c.status = st;
	c.ttl = ttl;
	c.timestamp = now - 1;
	ck_assert_int_eq(vt_health_apply(h, &c, VT_CHECK_JSON, now),
	    VT_CHECK_OK);
}

static void tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vt_health_store_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rmtree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_text(const char *dir, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/health.json", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Names in dir starting with prefix. */
static int count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void save(vt_health *h, const char *dir, double now)
{
	char err[VT_ERR_LEN] = "";
	vt_health_publish(h, now);
	struct vt_health_snapshot *s = vt_health_snapshot_get(h);
	ck_assert_msg(vt_health_store_save(s, dir, now, err, sizeof err) == 0,
	    "%s", err);
	vt_health_snapshot_release(s);
}

START_TEST(round_trip)
{
	char dir[64], err[VT_ERR_LEN] = "";
	size_t skipped = 99;
	tmpdir(dir, sizeof dir);
	vt_health *h = make();
	put(h, "payments", "pay-1", "db", VT_STATUS_OK, 30, "fine", 100);
	put(h, "payments", "pay-1", "db", VT_STATUS_CRITICAL, 30,
	    "down \"hard\"\n\xC3\xA9", 101);
	put(h, "payments", "pay-2", "db", VT_STATUS_OK, 5, "", 100);
	put(h, "backup", "host", "nightly", VT_STATUS_OK, 93600, "3.2 GB",
	    1795337127.2222602);    /* 17 digits must survive */
	vt_health_tick(h, 105);          /* pay-2 goes stale */
	save(h, dir, 106);
	ck_assert_int_eq(count_files(dir, "health.json.tmp"), 0);
	vt_health_destroy(h);

	vt_health *r = make();
	ck_assert_int_eq(vt_health_store_load(r, dir, 200, &skipped, err,
	    sizeof err), 3);
	ck_assert_uint_eq(skipped, 0);
	vt_health_publish(r, 200);
	struct vt_health_snapshot *s = vt_health_snapshot_get(r);
	ck_assert_uint_eq(s->nservices, 2);
	const struct vt_health_service_view *p = vt_health_snapshot_find(s,
	    "payments");
	ck_assert_int_eq(p->status, VT_STATUS_CRITICAL);
	ck_assert_uint_eq(p->nchecks, 2);
	const struct vt_health_check_view *c = &p->checks[0];
	ck_assert_str_eq(c->instance, "pay-1");
	ck_assert_str_eq(c->output, "down \"hard\"\n\xC3\xA9");
	ck_assert_int_eq(c->status, VT_STATUS_CRITICAL);
	ck_assert_int_eq(c->stale, 0);
	ck_assert_double_eq(c->ttl, 30);
	ck_assert_double_eq(c->first_seen, 100);
	ck_assert_double_eq(c->last_report, 101);
	ck_assert_double_eq(c->last_change, 101);
	ck_assert_double_eq(c->timestamp, 100);
	ck_assert_uint_eq(c->nhistory, 1);
	ck_assert_int_eq(c->history[0].from, VT_STATUS_OK);
	ck_assert_int_eq(c->history[0].to, VT_STATUS_CRITICAL);
	ck_assert_double_eq(c->history[0].time, 101);
	c = &p->checks[1];
	ck_assert_int_eq(c->stale, 1);
	ck_assert_str_eq(c->output, "stale: no report for 5s");
	ck_assert_int_eq(c->history[0].stale, 1);
	const struct vt_health_service_view *b = vt_health_snapshot_find(s,
	    "backup");
	ck_assert_str_eq(b->checks[0].output, "3.2 GB");
	ck_assert_double_eq(b->checks[0].first_seen, 1795337127.2222602);
	ck_assert_double_eq(b->checks[0].timestamp, 1795337126.2222602);
	ck_assert_double_eq(b->checks[0].ttl, 93600);
	vt_health_snapshot_release(s);

	/* Saving again replaces the file whole. */
	put(r, "backup", "host", "nightly", VT_STATUS_WARNING, 93600, "slow",
	    201);
	save(r, dir, 202);
	vt_health_destroy(r);
	r = make();
	ck_assert_int_eq(vt_health_store_load(r, dir, 300, NULL, err,
	    sizeof err), 3);
	vt_health_publish(r, 300);
	s = vt_health_snapshot_get(r);
	ck_assert_int_eq(vt_health_snapshot_find(s, "backup")->status,
	    VT_STATUS_WARNING);
	vt_health_snapshot_release(s);
	vt_health_destroy(r);
	rmtree(dir);
}
END_TEST

START_TEST(no_file_is_empty)
{
	char dir[64], err[VT_ERR_LEN] = "";
	tmpdir(dir, sizeof dir);
	vt_health *h = make();
	ck_assert_int_eq(vt_health_store_load(h, dir, 1, NULL, err,
	    sizeof err), 0);
	ck_assert_uint_eq(vt_health_size(h), 0);
	vt_health_destroy(h);
	rmtree(dir);
}
END_TEST

static const struct {
	const char *text;
	const char *why;
} corrupt[] = {
	{ "", "not valid JSON (truncated or corrupt at byte 0 of 0)" },
	{ "\x01\x02garbage", "not valid JSON" },
	{ "{\"format\":\"vitals-health\",\"version\":1,\"checks\":[{\"serv",
	  "not valid JSON (truncated" },
	{ "{\"format\":\"something-else\",\"version\":1,\"checks\":[]}",
	  "not a vitals-health version 1 document" },
	{ "{\"format\":\"vitals-health\",\"version\":2,\"checks\":[]}",
	  "not a vitals-health version 1 document" },
	{ "[1, 2, 3]", "not a vitals-health version 1 document" },
};

START_TEST(corrupt_file_set_aside)
{
	char dir[64], err[VT_ERR_LEN] = "", path[128];
	tmpdir(dir, sizeof dir);
	write_text(dir, corrupt[_i].text);
	vt_health *h = make();
	ck_assert_int_eq(vt_health_store_load(h, dir, 1234.5, NULL, err,
	    sizeof err), -EINVAL);
	ck_assert_msg(strstr(err, corrupt[_i].why) != NULL, "%s", err);
	ck_assert_msg(strstr(err, "health.json.corrupt-1234") != NULL, "%s",
	    err);
	ck_assert_uint_eq(vt_health_size(h), 0);
	snprintf(path, sizeof path, "%s/health.json", dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof path, "%s/health.json.corrupt-1234", dir);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* The next start finds no file and starts empty, quietly. */
	ck_assert_int_eq(vt_health_store_load(h, dir, 1300, NULL, err,
	    sizeof err), 0);
	vt_health_destroy(h);
	rmtree(dir);
}
END_TEST

START_TEST(truncated_save_set_aside)
{
	char dir[64], err[VT_ERR_LEN] = "", path[128];
	struct stat st;
	tmpdir(dir, sizeof dir);
	vt_health *h = make();
	for (int i = 0; i < 20; i++) {
		char name[16];
		snprintf(name, sizeof name, "c%d", i);
		put(h, "svc", "i", name, VT_STATUS_OK, 60, "output text", 10);
	}
	save(h, dir, 11);
	vt_health_destroy(h);
	snprintf(path, sizeof path, "%s/health.json", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size / 2), 0);

	h = make();
	ck_assert_int_eq(vt_health_store_load(h, dir, 50, NULL, err,
	    sizeof err), -EINVAL);
	ck_assert_uint_eq(vt_health_size(h), 0);
	ck_assert_int_eq(count_files(dir, "health.json.corrupt-50"), 1);
	vt_health_destroy(h);
	rmtree(dir);
}
END_TEST

START_TEST(bad_entries_skipped)
{
	char dir[64], err[VT_ERR_LEN] = "";
	size_t skipped = 0;
	tmpdir(dir, sizeof dir);
	write_text(dir, "{\"format\":\"vitals-health\",\"version\":1,"
	    "\"checks\":[{\"service\":\"a\",\"instance\":\"i\",\"check\":\"c\","
	    "\"status\":\"warning\",\"output\":\"o\",\"stale\":false,\"ttl\":60,"
	    "\"first_seen\":1,\"last_report\":2,\"last_change\":2,"
	    "\"timestamp\":0},"
	    "{\"service\":\"a\",\"instance\":\"i\",\"check\":\"d\","
	    "\"status\":\"bogus\",\"output\":\"o\",\"ttl\":60,"
	    "\"first_seen\":1,\"last_report\":2,\"last_change\":2,"
	    "\"timestamp\":0},"
	    "{\"service\":\"\",\"instance\":\"i\",\"check\":\"e\","
	    "\"status\":\"ok\",\"output\":\"o\",\"ttl\":60,"
	    "\"first_seen\":1,\"last_report\":2,\"last_change\":2,"
	    "\"timestamp\":0}, 17]}");
	vt_health *h = make();
	ck_assert_int_eq(vt_health_store_load(h, dir, 10, &skipped, err,
	    sizeof err), 1);
	ck_assert_uint_eq(skipped, 3);
	ck_assert_ptr_nonnull(strstr(err, "3 unusable entries skipped"));
	ck_assert_uint_eq(vt_health_size(h), 1);
	vt_health_destroy(h);
	rmtree(dir);
}
END_TEST

START_TEST(save_error_reported)
{
	char err[VT_ERR_LEN] = "";
	vt_health *h = make();
	struct vt_health_snapshot *s = vt_health_snapshot_get(h);
	ck_assert_int_eq(vt_health_store_save(s, "/nonexistent/dir", 1, err,
	    sizeof err), -ENOENT);
	ck_assert_str_eq(err, "/nonexistent/dir/health.json.tmp: No such file "
	    "or directory");
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
}
END_TEST

START_TEST(saver_periodic_and_final)
{
	char dir[64], err[VT_ERR_LEN] = "", path[128];
	tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/health.json", dir);
	vt_health *h = make();
	vt_health_saver *sv = vt_health_store_saver_start(h, dir, 0.05, err,
	    sizeof err);
	ck_assert_ptr_nonnull(sv);
	/* saved once at start, empty as the registry */
	for (int i = 0; i < 100 && access(path, F_OK) != 0; i++)
		usleep(20 * 1000);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(unlink(path), 0);
	usleep(150 * 1000);
	ck_assert_int_eq(access(path, F_OK), -1);   /* nothing changed since */

	put(h, "a", "i", "c", VT_STATUS_OK, 60, "first", 10);
	vt_health_publish(h, 10);
	for (int i = 0; i < 100 && access(path, F_OK) != 0; i++)
		usleep(20 * 1000);
	ck_assert_int_eq(access(path, F_OK), 0);

	/* Stop saves what was published last. */
	put(h, "a", "i", "c", VT_STATUS_CRITICAL, 60, "second", 11);
	put(h, "b", "i", "c", VT_STATUS_OK, 60, "", 11);
	vt_health_publish(h, 11);
	ck_assert_int_eq(vt_health_store_saver_stop(sv), 0);
	vt_health_destroy(h);

	h = make();
	ck_assert_int_eq(vt_health_store_load(h, dir, 20, NULL, err,
	    sizeof err), 2);
	vt_health_publish(h, 20);
	struct vt_health_snapshot *s = vt_health_snapshot_get(h);
	ck_assert_str_eq(vt_health_snapshot_find(s, "a")->checks[0].output,
	    "second");
	vt_health_snapshot_release(s);
	vt_health_destroy(h);
	rmtree(dir);
}
END_TEST

/* Whatever the interval, a change of status reaches the file within
 * VT_HEALTH_STORE_CHANGE_GAP; a change of output alone waits for it. */
static int file_has(const char *path, const char *text)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

START_TEST(saver_saves_status_changes_at_once)
{
	char dir[64], err[VT_ERR_LEN] = "", path[128];
	tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/health.json", dir);
	vt_health *h = make();
	put(h, "a", "i", "c", VT_STATUS_OK, 60, "calm", 10);
	vt_health_publish(h, 10);
	vt_health_saver *sv = vt_health_store_saver_start(h, dir, 3600, err,
	    sizeof err);
	ck_assert_ptr_nonnull(sv);
	for (int i = 0; i < 150 && !file_has(path, "calm"); i++)
		usleep(20 * 1000);
	ck_assert(file_has(path, "calm"));        /* at start */

	put(h, "a", "i", "c", VT_STATUS_OK, 60, "still calm", 11);
	vt_health_publish(h, 11);
	usleep((useconds_t)(VT_HEALTH_STORE_CHANGE_GAP * 1.5e6));
	ck_assert(!file_has(path, "still calm")); /* the hour's save */

	put(h, "a", "i", "c", VT_STATUS_CRITICAL, 60, "on fire", 12);
	vt_health_publish(h, 12);
	for (int i = 0; i < 150 && !file_has(path, "on fire"); i++)
		usleep(20 * 1000);
	ck_assert(file_has(path, "on fire"));
	ck_assert_int_eq(vt_health_store_saver_stop(sv), 0);
	vt_health_destroy(h);
	rmtree(dir);
}
END_TEST

Suite *vt_test_health_store_suite(void)
{
	Suite *s = suite_create("health_store");
	TCase *tc = tcase_create("store");
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, no_file_is_empty);
	tcase_add_loop_test(tc, corrupt_file_set_aside, 0, VT_N(corrupt));
	tcase_add_test(tc, truncated_save_set_aside);
	tcase_add_test(tc, bad_entries_skipped);
	tcase_add_test(tc, save_error_reported);
	tcase_add_test(tc, saver_periodic_and_final);
	tcase_add_test(tc, saver_saves_status_changes_at_once);
	tcase_set_timeout(tc, 20);   /* the savers wait in real time */
	suite_add_tcase(s, tc);
	return s;
}
