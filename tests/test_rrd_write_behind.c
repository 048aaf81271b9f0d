/*
 * test_rrd_write_behind.c - the RRD writer's held windows (rrd_files.h)
 * against real files: due times spread over the delay, windows held
 * compactly (idle ones as a header alone) and on disk only when due, read
 * back at once after a sync, written at stop; files past create_rate
 * wait with their windows, bounded and counted, and are made at stop.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/base/hash.h"
#include "exporters/rrd/rrd_files.h"
#include "exporters/rrd/rrd_lib.h"
#include "exporters/rrd/rrd_store.h"
#include "suites.h"

#define T0 1700000000.0   /* a multiple of 10 */

static char tmp[64], data[128];

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/vt-rrdwb-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(data, sizeof data, "%s/data", tmp);
	ck_assert_int_eq(mkdir(data, 0755), 0);
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

static vt_rrd_store *store(double delay, double create_rate)
{
	char err[VT_ERR_LEN];
	struct vt_rrd_store_config cfg = {
		.data_dir = data,
		.flush_interval = 10,
		.points = 360,
		.queue_max = 1000000,
		.write_delay = delay,
		.create_rate = create_rate,
	};
	vt_rrd_store *st = vt_rrd_store_create(&cfg, err, sizeof err);
	ck_assert_msg(st != NULL, "%s", err);
	return st;
}

static struct vt_series *counter(const char *service, const char *metric,
    uint64_t id)
{
	struct vt_slice svc = { service, strlen(service) };
	struct vt_slice met = { metric, strlen(metric) };
	struct vt_series *s = vt_series_create(VT_COUNTER, svc, met, met, id,
	    NULL, NULL, 0);
	s->id = id;
	return s;
}

/* One window at ts: every counter of s counts v (rate v / 10). */
static void submit(vt_rrd_store *st, double ts, struct vt_series **s,
    size_t n, double v)
{
	static const double pct[] = { 50, 90, 95, 99 };
	struct vt_flush *f = vt_flush_create(n, n, 4);
	f->timestamp = ts;
	f->interval = 10;
	memcpy(f->percentiles, pct, sizeof pct);
	for (size_t i = 0; i < n; i++) {
		struct vt_metric_window *w = &f->metrics[f->nmetrics++];
		w->series = vt_series_retain(s[i]);
		w->count = v;
		w->rate = v / 10;
	}
	ck_assert_int_eq(vt_rrd_store_flush(st, f), 0);
	vt_flush_release(f);
}

static time_t last_of(const char *rel)
{
	char path[512], err[VT_ERR_LEN];
	time_t last = 0;
	snprintf(path, sizeof path, "%s/%s", data, rel);
	ck_assert_msg(vt_rrd_lib_lastupdate(path, &last, NULL, NULL, err,
	    sizeof err) == 0, "%s", err);
	return last;
}

static int exists(const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", data, rel);
	return access(path, F_OK) == 0;
}

/* The count stored for the window closing at ts. */
static double count_at(const char *rel, time_t ts)
{
	char path[512], err[VT_ERR_LEN];
	struct vt_rrd_data d;
	snprintf(path, sizeof path, "%s/%s", data, rel);
	ck_assert_msg(vt_rrd_lib_fetch(NULL, path, "AVERAGE", ts - 10, ts, &d,
	    err, sizeof err) == 0, "%s", err);
	double v = NAN;
	for (size_t i = 0; i < d.rows; i++)
		if (d.start + (time_t)((i + 1) * d.step) == ts)
			v = d.values[i * d.nds];
	vt_rrd_lib_data_fini(&d);
	return v;
}

START_TEST(test_due_times_spread_over_the_delay)
{
	enum { DELAY = 30, FILES = 3000 };
	size_t per_second[DELAY] = { 0 };
	for (int i = 0; i < FILES; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "svc%02d/metric.%04d.rrd", i % 10, i);
		uint64_t h = vt_hash(rel, strlen(rel), 1);
		for (time_t first = 1700000001; first < 1700000001 + 70;
		    first += 23) {
			time_t due = vt_rrd_files_due(DELAY, h, first);
			ck_assert_int_gt(due, first);          /* held a while */
			ck_assert_int_le(due, first + DELAY);  /* no longer */
			/* the same phase whenever the file starts holding */
			ck_assert_int_eq((due + (time_t)(h % DELAY)) % DELAY,
			    0);
		}
		per_second[(vt_rrd_files_due(DELAY, h, 1700000001) -
		    1700000001) % DELAY]++;
	}
	/* Spread: every second of the delay gets a share, none a pile. */
	for (int k = 0; k < DELAY; k++) {
		ck_assert_uint_gt(per_second[k], FILES / DELAY / 3);
		ck_assert_uint_lt(per_second[k], FILES / DELAY * 3);
	}
	/* No delay: due at once. */
	ck_assert_int_eq(vt_rrd_files_due(0, 12345, 1700000001), 1700000001);
}
END_TEST

START_TEST(test_held_until_synced_compact_when_idle)
{
	vt_rrd_store *st = store(3600, 0);
	struct vt_series *s[] = { counter("wb", "requests", 1) };
	const char *rel = "wb/requests.rrd";
	submit(st, T0 + 10, s, 1, 5);
	for (int w = 2; w <= 40; w++)          /* idle: zero counts */
		submit(st, T0 + 10.0 * w, s, 1, 0);
	vt_rrd_store_drain(st);

	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	time_t due = vt_rrd_files_due(3600, vt_hash(rel, strlen(rel),
	    0x72726470617468ull), (time_t)T0 + 10);
	ck_assert_msg(due > (time_t)T0 + 400, "pick a path not due so soon");
	/* Created, nothing written yet: every window is held. */
	ck_assert_int_eq(last_of(rel), (time_t)T0);
	ck_assert_uint_eq(stats.held_rows, 40);
	ck_assert_uint_eq(stats.updates, 0);
	ck_assert_double_eq(stats.held_oldest, T0 + 10);
	/* 40 windows of 3 doubles each would take 960 bytes; the 38 idle
	 * repeats are one double each (with the array's growth slack). */
	ck_assert_uint_lt(stats.held_bytes, 40 * 3 * 8 * 2 / 3);

	/* A reader's sync: all of them on disk at once, in one call. */
	ck_assert_int_eq(vt_rrd_store_sync(st, rel, 10), 0);
	ck_assert_int_eq(last_of(rel), (time_t)T0 + 400);
	ck_assert_double_eq(count_at(rel, (time_t)T0 + 10), 5);
	ck_assert_double_eq(count_at(rel, (time_t)T0 + 20), 0);
	ck_assert_double_eq(count_at(rel, (time_t)T0 + 400), 0);
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.held_rows, 0);
	ck_assert_uint_eq(stats.updates, 40);
	ck_assert_uint_eq(stats.calls, 1);
	ck_assert_uint_eq(stats.syncs, 1);
	/* Nothing held: a sync is a no-op. */
	ck_assert_int_eq(vt_rrd_store_sync(st, rel, 10), 0);

	/* Held again, then the stop writes it. */
	submit(st, T0 + 410, s, 1, 7);
	vt_rrd_store_drain(st);
	ck_assert_int_eq(last_of(rel), (time_t)T0 + 400);
	ck_assert_int_eq(vt_rrd_store_stop(st, 10), 0);
	vt_rrd_store_destroy(st);
	ck_assert_int_eq(last_of(rel), (time_t)T0 + 410);
	ck_assert_double_eq(count_at(rel, (time_t)T0 + 410), 7);
	vt_series_release(s[0]);
}
END_TEST

START_TEST(test_due_files_are_written_without_a_reader)
{
	/* 30 s delay, 10 s windows: after 5 windows every file was due at
	 * least once, at its own phase. */
	enum { N = 20 };
	vt_rrd_store *st = store(30, 0);
	struct vt_series *s[N];
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof name, "m%02d", i);
		s[i] = counter("due", name, (uint64_t)i + 1);
	}
	for (int w = 1; w <= 5; w++)
		submit(st, T0 + 10.0 * w, s, N, w);
	vt_rrd_store_drain(st);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_gt(stats.updates, 0);
	ck_assert_uint_lt(stats.calls, (uint64_t)N * 5);   /* batched */
	ck_assert_uint_eq(stats.updates + stats.held_rows, (uint64_t)N * 5);
	for (int i = 0; i < N; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "due/m%02d.rrd", i);
		ck_assert_int_ge(last_of(rel), (time_t)T0 + 20);
	}
	vt_rrd_store_destroy(st);
	for (int i = 0; i < N; i++)
		vt_series_release(s[i]);
}
END_TEST

START_TEST(test_files_past_create_rate_wait_bounded)
{
	enum { N = 5, WINDOWS = 300 };
	/* A rate so low no file is made before the stop. */
	vt_rrd_store *st = store(0, 0.001);
	struct vt_series *s[N];
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof name, "new%d", i);
		s[i] = counter("burst", name, (uint64_t)i + 1);
	}
	for (int w = 1; w <= WINDOWS; w++)
		submit(st, T0 + 10.0 * w, s, N, w);
	vt_rrd_store_drain(st);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.files_waiting, N);
	ck_assert_uint_eq(stats.files_created, 0);
	ck_assert(!exists("burst/new0.rrd"));
	/* Each holds VT_RRD_WAIT_ROWS - 1 windows; the rest is counted. */
	ck_assert_uint_eq(stats.held_rows, N * (VT_RRD_WAIT_ROWS - 1));
	ck_assert_uint_eq(stats.skipped[VT_RRD_SKIP_CREATE_BACKLOG],
	    N * (WINDOWS - (VT_RRD_WAIT_ROWS - 1)));

	/* The stop makes them whatever the rate, with what they held. */
	ck_assert_int_eq(vt_rrd_store_stop(st, 20), 0);
	vt_rrd_store_destroy(st);
	for (int i = 0; i < N; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "burst/new%d.rrd", i);
		ck_assert_int_eq(last_of(rel),
		    (time_t)T0 + 10 * (VT_RRD_WAIT_ROWS - 1));
		ck_assert_double_eq(count_at(rel, (time_t)T0 + 10), 1);
		ck_assert_double_eq(count_at(rel, (time_t)T0 + 100), 10);
		vt_series_release(s[i]);
	}
}
END_TEST

START_TEST(test_rrdcached_mode_holds_nothing)
{
	char err[VT_ERR_LEN], sock[160];
	snprintf(sock, sizeof sock, "unix:%s/no-such.sock", tmp);
	struct vt_rrd_store_config cfg = {
		.data_dir = data,
		.cached = sock,
		.flush_interval = 10,
		.points = 360,
		.queue_max = 1000,
		.write_delay = 60,
	};
	vt_rrd_store *st = vt_rrd_store_create(&cfg, err, sizeof err);
	ck_assert_msg(st != NULL, "%s", err);
	struct vt_series *s[] = { counter("cached", "c", 1) };
	submit(st, T0 + 10, s, 1, 1);
	vt_rrd_store_drain(st);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	/* Sent at once (and failed: no rrdcached there), never held. */
	ck_assert_uint_eq(stats.held_rows, 0);
	ck_assert_uint_eq(stats.errors, 1);
	vt_rrd_store_destroy(st);
	vt_series_release(s[0]);
}
END_TEST

Suite *vt_test_rrd_write_behind_suite(void)
{
	Suite *s = suite_create("rrd_write_behind");
	TCase *tc = tcase_create("write_behind");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_due_times_spread_over_the_delay);
	tcase_add_test(tc, test_held_until_synced_compact_when_idle);
	tcase_add_test(tc, test_due_files_are_written_without_a_reader);
	tcase_add_test(tc, test_files_past_create_rate_wait_bounded);
	tcase_add_test(tc, test_rrdcached_mode_holds_nothing);
	suite_add_tcase(s, tc);
	return s;
}
