/*
 * test_rrd_store.c - the RRD sink against real files in a temporary
 * directory: values of counters, gauges, timers and checks as librrd reads
 * them back, windows never written twice, the final window in the same
 * second, the queue bound, conflicts, hostile names and symbolic links
 * that must not lead outside, recovery from an unwritable directory, and
 * a shutdown bounded even with a stopped worker.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector/base/buf.h"
#include "collector/base/prom_text.h"
#include "collector/health/health.h"
#include "exporters/rrd/rrd_lib.h"
#include "exporters/rrd/rrd_store.h"
#include "exporters/rrd/rrd_sweep.h"
#include "suites.h"

#define T0 1700000000.0   /* a multiple of 10 */

static char tmp[64], data[128];

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/vt-rrdstore-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(data, sizeof data, "%s/data", tmp);
	ck_assert_int_eq(mkdir(data, 0755), 0);
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "chmod -R u+w %s; rm -rf %s", tmp, tmp);
	ck_assert_int_eq(system(cmd), 0);
}

static vt_rrd_store *store(size_t queue_max, vt_health *health)
{
	char err[VT_ERR_LEN];
	struct vt_rrd_store_config cfg = {
		.data_dir = data,
		.flush_interval = 10,
		.points = 360,
		.queue_max = queue_max,
		.health = health,
	};
	vt_rrd_store *st = vt_rrd_store_create(&cfg, err, sizeof err);
	ck_assert_msg(st != NULL, "%s", err);
	return st;
}

static struct vt_series *series(enum vt_kind kind, const char *service,
    const char *metric, const char *lk, const char *lv, uint64_t id)
{
	struct vt_slice svc = { service, strlen(service) };
	struct vt_slice met = { metric, strlen(metric) };
	struct vt_slice k = { lk ? lk : "", lk ? strlen(lk) : 0 };
	struct vt_slice v = { lv ? lv : "", lv ? strlen(lv) : 0 };
	struct vt_series *s = vt_series_create(kind, svc, met, met, id, &k, &v,
	    lk ? 1 : 0);
	s->id = id;
	return s;
}

/* A flush of n metrics at time ts; metric i gets value base + i. */
static struct vt_flush *window(double ts, struct vt_series **s, size_t n,
    double base)
{
	static const double pct[] = { 50, 90, 95, 99 };
	struct vt_flush *f = vt_flush_create(n, n, 4);
	f->timestamp = ts;
	f->interval = 10;
	memcpy(f->percentiles, pct, sizeof pct);
	for (size_t i = 0; i < n; i++) {
		struct vt_metric_window *w = &f->metrics[f->nmetrics++];
		double v = base + (double)i;
		w->series = vt_series_retain(s[i]);
		w->count = v;
		w->rate = v / 10;
		w->value = v;
		if (s[i]->kind == VT_TIMER || s[i]->kind == VT_HISTOGRAM) {
			struct vt_timer_window *t = vt_flush_add_timer(f, w);
			t->sum = 4 * v;
			t->mean = v / 2;
			t->min = 1;
			t->max = v;
			t->stddev = NAN;
			double *q = f->quantile_store + 16 * i;
			for (size_t k = 0; k < 4; k++)
				q[k] = v * (double)(k + 1);
			t->quantiles = q;
		}
	}
	return f;
}

static void submit(vt_rrd_store *st, double ts, struct vt_series **s,
    size_t n, double base)
{
	struct vt_flush *f = window(ts, s, n, base);
	ck_assert_int_eq(vt_rrd_store_flush(st, f), 0);
	vt_flush_release(f);
}

/* Last update of data/rel: time, and the value of DS i. */
static time_t last_of(const char *rel, size_t i, double *v)
{
	char path[512], err[VT_ERR_LEN];
	double vals[VT_RRD_MAX_DS];
	time_t last = 0;
	snprintf(path, sizeof path, "%s/%s", data, rel);
	ck_assert_msg(vt_rrd_lib_lastupdate(path, &last, NULL, vals, err,
	    sizeof err) == 0, "%s", err);
	if (v)
		*v = vals[i];
	return last;
}

static void release_all(struct vt_series **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vt_series_release(s[i]);
}

START_TEST(test_kinds_land_in_their_files)
{
	vt_rrd_store *st = store(1000, NULL);
	struct vt_series *s[] = {
		series(VT_COUNTER, "payments", "http.requests", NULL, NULL, 1),
		series(VT_GAUGE, "payments", "queue.depth", NULL, NULL, 2),
		series(VT_TIMER, "payments", "http.get", NULL, NULL, 3),
		series(VT_SET, "payments", "users", NULL, NULL, 4),
	};
	submit(st, T0 + 10.004, s, 4, 5);
	submit(st, T0 + 20.002, s, 4, 8);
	vt_rrd_store_drain(st);

	double v;
	ck_assert_int_eq(last_of("payments/http.requests.rrd", 0, &v), T0 + 20);
	ck_assert_double_eq(v, 8);
	last_of("payments/http.requests.rrd", 1, &v);
	ck_assert_double_eq_tol(v, 0.8, 1e-9);
	last_of("payments/queue.depth.rrd", 0, &v);
	ck_assert_double_eq(v, 9);
	/* A new timer file: count, rate, p50, p90, p95, p99 (issue 19). */
	last_of("payments/http.get.rrd", 0, &v);     /* count */
	ck_assert_double_eq(v, 10);
	last_of("payments/http.get.rrd", 1, &v);     /* rate */
	ck_assert_double_eq(v, 1);
	last_of("payments/http.get.rrd", 5, &v);     /* p99 */
	ck_assert_double_eq(v, 40);
	last_of("payments/users.rrd", 0, &v);
	ck_assert_double_eq(v, 11);

	/* The first window is in the archive too. */
	char path[512], err[VT_ERR_LEN];
	struct vt_rrd_data d;
	snprintf(path, sizeof path, "%s/payments/queue.depth.rrd", data);
	ck_assert_msg(vt_rrd_lib_fetch(NULL, path, "AVERAGE", (time_t)T0,
	    (time_t)T0 + 20, &d, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(d.step, 10);
	ck_assert_uint_ge(d.rows, 2);
	ck_assert_double_eq(d.values[0], 6);     /* row at T0 + 10 */
	ck_assert_double_eq(d.values[1], 9);     /* row at T0 + 20 */
	vt_rrd_lib_data_fini(&d);

	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.updates, 8);
	ck_assert_uint_eq(stats.files_created, 4);
	ck_assert_uint_eq(stats.files, 4);
	ck_assert_uint_eq(stats.windows, 2);
	ck_assert_uint_eq(stats.errors, 0);
	ck_assert_uint_eq(stats.queued, 0);
	ck_assert_int_eq(vt_rrd_store_kind_of(st, "payments/http.get.rrd"),
	    VT_TIMER);
	ck_assert_int_eq(vt_rrd_store_kind_of(st, "payments/none.rrd"), -1);
	vt_rrd_store_destroy(st);
	release_all(s, 4);
}
END_TEST

START_TEST(test_a_window_is_never_written_twice)
{
	vt_rrd_store *st = store(1000, NULL);
	struct vt_series *s[] = {
		series(VT_COUNTER, "svc", "hits", NULL, NULL, 1),
		series(VT_GAUGE, "svc", "temp", NULL, NULL, 2),
	};
	submit(st, T0 + 10, s, 2, 1);
	submit(st, T0 + 10, s, 2, 2);    /* the same window again */
	submit(st, T0 + 5, s, 2, 3);     /* an older one */
	vt_rrd_store_drain(st);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.updates, 2);
	ck_assert_uint_eq(stats.skipped[VT_RRD_SKIP_LATE], 4);
	ck_assert_uint_eq(stats.errors, 0);
	double v;
	last_of("svc/temp.rrd", 0, &v);
	ck_assert_double_eq(v, 2);       /* first window's gauge (1 + 1) */

	/* A restarted store finds the files' last updates on disk. */
	vt_rrd_store_destroy(st);
	st = store(1000, NULL);
	submit(st, T0 + 10, s, 2, 4);
	submit(st, T0 + 20, s, 2, 5);
	vt_rrd_store_drain(st);
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.skipped[VT_RRD_SKIP_LATE], 2);
	ck_assert_uint_eq(stats.updates, 2);
	ck_assert_uint_eq(stats.files_created, 0);
	ck_assert_int_eq(last_of("svc/temp.rrd", 0, &v), T0 + 20);
	ck_assert_double_eq(v, 6);
	vt_rrd_store_destroy(st);
	release_all(s, 2);
}
END_TEST

/* SIGTERM right after a tick: the final window closes within the same
 * second and is written one second later rather than lost. */
START_TEST(test_final_window_in_the_same_second)
{
	vt_rrd_store *st = store(1000, NULL);
	struct vt_series *s[] = { series(VT_GAUGE, "svc", "g", NULL, NULL, 1) };
	submit(st, T0 + 10.001, s, 1, 1);
	submit(st, T0 + 10.3, s, 1, 7);
	vt_rrd_store_destroy(st);   /* drains */
	double v;
	ck_assert_int_eq(last_of("svc/g.rrd", 0, &v), T0 + 11);
	ck_assert_double_eq(v, 7);
	release_all(s, 1);
}
END_TEST

START_TEST(test_queue_bound_skips_whole_windows)
{
	enum { N = 300 };
	struct vt_series *s[N];
	for (size_t i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof name, "m%zu", i);
		s[i] = series(VT_COUNTER, "q", name, NULL, NULL, i + 1);
	}
	vt_rrd_store *st = store(N, NULL);
	/* While the writer is held, the first window fills the queue; the
	 * next two do not fit and are skipped whole. */
	vt_rrd_store_hold(st, 1);
	submit(st, T0 + 10, s, N, 1);
	submit(st, T0 + 20, s, N, 1);
	submit(st, T0 + 30, s, N, 1);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.queued, N);
	ck_assert_uint_eq(stats.skipped[VT_RRD_SKIP_QUEUE_FULL], 2 * N);
	vt_rrd_store_hold(st, 0);
	vt_rrd_store_drain(st);
	/* Once the writer took it, an empty queue takes the next window. */
	submit(st, T0 + 40, s, N, 1);
	vt_rrd_store_drain(st);
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.skipped[VT_RRD_SKIP_QUEUE_FULL], 2 * N);
	ck_assert_uint_eq(stats.windows, 2);
	/* Two windows per file, and one unknown before the second: the
	 * skipped windows read as unknown, never filled in (rrd_files.c). */
	ck_assert_uint_eq(stats.updates, 3 * N);
	ck_assert_uint_eq(stats.queued, 0);
	ck_assert_uint_eq(stats.queue_max, N);
	vt_rrd_store_destroy(st);
	release_all(s, N);
}
END_TEST

/* "payments.http.get" and "http.get|#service:payments" name one file:
 * the older series keeps it. A name that changed kind is not written
 * into a file of the other kind. */
START_TEST(test_conflicts_are_counted_not_written)
{
	vt_rrd_store *st = store(1000, NULL);
	struct vt_series *s[] = {
		series(VT_COUNTER, "payments", "http.get", NULL, NULL, 7),
		series(VT_COUNTER, "payments", "http.get", NULL, NULL, 3),
	};
	submit(st, T0 + 10, s, 2, 1);   /* newer first: it loses anyway */
	submit(st, T0 + 20, s, 2, 10);
	vt_rrd_store_drain(st);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.updates, 2);
	ck_assert_uint_eq(stats.skipped[VT_RRD_SKIP_CONFLICT], 2);
	ck_assert_uint_eq(stats.errors, 0);
	double v;
	last_of("payments/http.get.rrd", 0, &v);
	ck_assert_double_eq(v, 11);      /* the older series' value */

	struct vt_series *g[] = {
		series(VT_GAUGE, "payments", "http.get", NULL, NULL, 9) };
	submit(st, T0 + 30, g, 1, 5);    /* the counters expired */
	vt_rrd_store_drain(st);
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.skipped[VT_RRD_SKIP_CONFLICT], 3);
	ck_assert_uint_eq(stats.errors, 0);
	ck_assert_int_eq(last_of("payments/http.get.rrd", 0, &v), T0 + 20);
	vt_rrd_store_destroy(st);
	release_all(s, 2);
	release_all(g, 1);
}
END_TEST

/* Count the entries of dir (not . and ..). */
static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

START_TEST(test_hostile_names_stay_in_the_data_dir)
{
	char longname[601];
	memset(longname, 'x', 600);
	longname[600] = '\0';
	memcpy(longname, "../", 3);
	vt_rrd_store *st = store(1000, NULL);
	struct vt_series *s[] = {
		series(VT_COUNTER, "..", "../../escape", NULL, NULL, 1),
		series(VT_COUNTER, "/tmp", "/etc/passwd", NULL, NULL, 2),
		series(VT_COUNTER, ".", "..", NULL, NULL, 3),
		series(VT_COUNTER, "svc", longname, NULL, NULL, 4),
		series(VT_COUNTER, "\xe2\x98\x83", "\xc3\xa9t\xc3\xa9", "k/..",
		    "../v", 5),
		series(VT_COUNTER, "svc", "a/b", NULL, NULL, 6),
		series(VT_COUNTER, "svc", "a_b", NULL, NULL, 7),
	};
	submit(st, T0 + 10, s, 7, 1);
	vt_rrd_store_drain(st);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.files_created, 7);   /* seven distinct files */
	ck_assert_uint_eq(stats.errors, 0);
	ck_assert_uint_eq(entries(tmp), 1);          /* only data/ */
	double v;
	last_of("svc/a_b.rrd", 0, &v);
	ck_assert_double_eq(v, 7);
	vt_rrd_store_destroy(st);
	release_all(s, 7);
}
END_TEST

START_TEST(test_symlinks_are_refused)
{
	char outside[128], link[256], cmd[512];
	snprintf(outside, sizeof outside, "%s/outside", tmp);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	snprintf(link, sizeof link, "%s/evil", data);
	ck_assert_int_eq(symlink(outside, link), 0);
	vt_rrd_store *st = store(1000, NULL);
	struct vt_series *s[] = {
		series(VT_GAUGE, "evil", "x", NULL, NULL, 1),
		series(VT_GAUGE, "good", "x", NULL, NULL, 2),
	};
	submit(st, T0 + 10, s, 2, 1);
	vt_rrd_store_drain(st);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.errors, 1);
	ck_assert_uint_eq(stats.updates, 1);
	ck_assert_uint_eq(entries(outside), 0);

	/* A file that is a link is refused too. */
	snprintf(cmd, sizeof cmd, "ln -s %s/x.rrd %s/good/y.rrd", outside,
	    data);
	ck_assert_int_eq(system(cmd), 0);
	struct vt_series *y[] = { series(VT_GAUGE, "good", "y", NULL, NULL, 3) };
	submit(st, T0 + 20, y, 1, 1);
	vt_rrd_store_drain(st);
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.errors, 2);
	ck_assert_uint_eq(entries(outside), 0);
	vt_rrd_store_destroy(st);
	release_all(s, 2);
	release_all(y, 1);
}
END_TEST

/* Something in the way of a service directory: errors are counted, and
 * the next window after it is gone creates the file. */
START_TEST(test_unwritable_directory_recovers)
{
	char blocker[256];
	snprintf(blocker, sizeof blocker, "%s/svc", data);
	FILE *fp = fopen(blocker, "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	vt_rrd_store *st = store(1000, NULL);
	struct vt_series *s[] = { series(VT_COUNTER, "svc", "c", NULL, NULL, 1) };
	submit(st, T0 + 10, s, 1, 1);
	submit(st, T0 + 20, s, 1, 1);
	vt_rrd_store_drain(st);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_ge(stats.errors, 1);
	ck_assert_uint_eq(stats.updates, 0);
	ck_assert_int_eq(unlink(blocker), 0);
	submit(st, T0 + 30, s, 1, 3);
	vt_rrd_store_drain(st);
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.updates, 1);
	ck_assert_uint_eq(stats.files_created, 1);
	double v;
	ck_assert_int_eq(last_of("svc/c.rrd", 0, &v), T0 + 30);
	ck_assert_double_eq(v, 3);
	vt_rrd_store_destroy(st);
	release_all(s, 1);
}
END_TEST

static void report(vt_health *h, const char *instance, const char *check,
    enum vt_status status, double now)
{
	struct vt_check c = { .status = status, .ttl = 3600 };
	snprintf(c.service, sizeof c.service, "billing");
	snprintf(c.instance, sizeof c.instance, "%s", instance);
	snprintf(c.check, sizeof c.check, "%s", check);
	ck_assert_int_eq(vt_health_apply(h, &c, VT_CHECK_JSON, now),
	    VT_CHECK_OK);
}

START_TEST(test_checks_get_a_status_history)
{
	struct vt_health_config hc = { .max_checks = 100,
	    .publish_interval = 0 };
	vt_health *h = vt_health_create(&hc);
	report(h, "10.0.0.7", "broker", VT_STATUS_WARNING, T0);
	report(h, "pay-1:4001", "db", VT_STATUS_OK, T0);
	vt_health_publish(h, T0);
	vt_rrd_store *st = store(1000, h);
	submit(st, T0 + 10, NULL, 0, 0);
	report(h, "10.0.0.7", "broker", VT_STATUS_CRITICAL, T0 + 12);
	vt_health_publish(h, T0 + 12);
	submit(st, T0 + 20, NULL, 0, 0);
	vt_rrd_store_drain(st);
	double v;
	ck_assert_int_eq(last_of("billing/checks/10.0.0.7/broker.rrd", 0, &v),
	    T0 + 20);
	ck_assert_double_eq(v, 2);
	char path[512], err[VT_ERR_LEN];
	struct vt_rrd_data d;
	snprintf(path, sizeof path, "%s/billing/checks/10.0.0.7/broker.rrd",
	    data);
	ck_assert(vt_rrd_lib_fetch(NULL, path, "MAX", (time_t)T0,
	    (time_t)T0 + 20, &d, err, sizeof err) == 0);
	ck_assert_double_eq(d.values[0], 1);
	ck_assert_double_eq(d.values[1], 2);
	vt_rrd_lib_data_fini(&d);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.files_created, 2);
	/* db stayed ok: its second window is folded, not written. */
	ck_assert_uint_eq(stats.updates, 3);
	ck_assert_uint_eq(stats.folded, 1);
	ck_assert_int_eq(vt_rrd_store_kind_of(st,
	    "billing/checks/10.0.0.7/broker.rrd"), VT_RRD_CHECK);

	/* broker stays critical for two more windows (folded), then
	 * recovers: the old status is written at the last folded window,
	 * the new one at the window it changed in. */
	submit(st, T0 + 30, NULL, 0, 0);
	submit(st, T0 + 40, NULL, 0, 0);
	vt_rrd_store_drain(st);
	ck_assert_int_eq(last_of("billing/checks/10.0.0.7/broker.rrd", 0, &v),
	    T0 + 20);
	report(h, "10.0.0.7", "broker", VT_STATUS_OK, T0 + 45);
	vt_health_publish(h, T0 + 45);
	submit(st, T0 + 50, NULL, 0, 0);
	vt_rrd_store_drain(st);
	ck_assert_int_eq(last_of("billing/checks/10.0.0.7/broker.rrd", 0, &v),
	    T0 + 50);
	ck_assert_double_eq(v, 0);
	ck_assert(vt_rrd_lib_fetch(NULL, path, "MAX", (time_t)T0 + 10,
	    (time_t)T0 + 50, &d, err, sizeof err) == 0);
	ck_assert_double_eq(d.values[0], 2);    /* (T0+10, T0+20] */
	ck_assert_double_eq(d.values[1], 2);    /* (T0+20, T0+30] folded */
	ck_assert_double_eq(d.values[2], 2);    /* (T0+30, T0+40] folded */
	ck_assert_double_eq(d.values[3], 0);    /* (T0+40, T0+50] */
	vt_rrd_lib_data_fini(&d);

	/* VT_RRD_CHECK_REFRESH after its last write, a check is written
	 * unchanged. */
	for (int w = 6; w <= 5 + VT_RRD_CHECK_REFRESH / 10; w++)
		submit(st, T0 + 10 * w, NULL, 0, 0);
	vt_rrd_store_drain(st);
	ck_assert_int_eq(last_of("billing/checks/10.0.0.7/broker.rrd", 0, &v),
	    T0 + 50 + VT_RRD_CHECK_REFRESH);
	ck_assert_double_eq(v, 0);
	submit(st, T0 + 60 + VT_RRD_CHECK_REFRESH, NULL, 0, 0);   /* folded */

	/* Stopping writes what folding held back. */
	vt_rrd_store_destroy(st);
	ck_assert_int_eq(last_of("billing/checks/10.0.0.7/broker.rrd", 0, &v),
	    T0 + 60 + VT_RRD_CHECK_REFRESH);
	ck_assert_double_eq(v, 0);
	vt_health_destroy(h);
}
END_TEST

START_TEST(test_counters_in_metrics)
{
	vt_rrd_store *st = store(1000, NULL);
	struct vt_series *s[] = { series(VT_GAUGE, "svc", "g", NULL, NULL, 1) };
	submit(st, T0 + 10, s, 1, 1);
	submit(st, T0 + 10, s, 1, 1);
	vt_rrd_store_drain(st);
	struct vt_buf out;
	vt_buf_init(&out);
	vt_rrd_store_collect(st, &out, VT_PROM_TEXT);
	ck_assert_ptr_nonnull(strstr(out.data,
	    "# TYPE vitals_storage_queue gauge\nvitals_storage_queue 0\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "\nvitals_storage_updates_total 1\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "\nvitals_storage_skipped_total{reason=\"late\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "\nvitals_storage_files 1\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "\nvitals_storage_last_window_timestamp_seconds 1700000010\n"));
	vt_buf_fini(&out);
	vt_rrd_store_destroy(st);
	release_all(s, 1);
}
END_TEST

static void touch(const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", data, rel);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("x", f);
	fclose(f);
}

static int exists(const char *rel)
{
	char path[512];
	struct stat sb;
	snprintf(path, sizeof path, "%s/%s", data, rel);
	return lstat(path, &sb) == 0;
}

/* The pid of this process's RRD worker (a child of our fork server), or 0. */
static pid_t find_worker(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	ck_assert_ptr_nonnull(d);
	while (found == 0 && (e = readdir(d)) != NULL) {
		char p[300], buf[512];
		long pid = atol(e->d_name), up = pid;
		if (pid <= 0)
			continue;
		for (int level = 0; level < 3 && up > 1; level++) {
			snprintf(p, sizeof p, "/proc/%ld/stat", up);
			FILE *f = fopen(p, "r");
			if (f == NULL)
				break;
			size_t n = fread(buf, 1, sizeof buf - 1, f);
			fclose(f);
			buf[n] = '\0';
			char *close_paren = strrchr(buf, ')');
			char *open_paren = strchr(buf, '(');
			if (close_paren == NULL || open_paren == NULL)
				break;
			if (level == 0 && strncmp(open_paren + 1, "vitals-rrdw)",
			    12) != 0)
				break;
			char state;
			long ppid = 0;
			if (sscanf(close_paren + 2, "%c %ld", &state, &ppid) != 2 ||
			    (level == 0 && state == 'Z'))
				break;
			if (ppid == (long)getpid())
				found = (pid_t)pid;
			up = ppid;
		}
	}
	closedir(d);
	return found;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 once pid is gone (or a zombie). */
static int gone(pid_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "r");
	if (f == NULL)
		return 1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *c = strrchr(buf, ')');
	return c && c[2] == 'Z';
}

/* A stopped worker (SIGSTOP, or a disk that hangs) while the writer
 * needs it: updates are written in place, but a file only librrd writes
 * (here one made by hand with COUNTER sources) goes through the worker.
 * Stop gives up at its bound, the window in progress fails, the queued
 * one is dropped and counted, and destroy does not wait for the worker
 * either. */
START_TEST(test_stop_is_bounded_with_a_stopped_worker)
{
	struct vt_series *s[1] = { series(VT_COUNTER, "z", "m", NULL, NULL,
	    1) };
	struct vt_series *fresh[1] = { series(VT_COUNTER, "z", "new", NULL,
	    NULL, 1) };
	char path[256], err[VT_ERR_LEN];
	static const char *const argv[] = {
		"DS:count:COUNTER:20:U:U", "DS:rate:COUNTER:20:U:U",
		"RRA:AVERAGE:0.5:1:100",
	};
	struct vt_rrd_create_args args;
	memset(&args, 0, sizeof args);
	args.argc = 3;
	for (int i = 0; i < 3; i++)
		args.argv[i] = argv[i];
	snprintf(path, sizeof path, "%s/z", data);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/z/new.rrd", data);
	/* Its last update is where the window at T0 + 20 begins: no hole. */
	ck_assert_msg(vt_rrd_lib_create(path, 10, (time_t)T0 + 10, &args, err,
	    sizeof err) == 0, "%s", err);
	vt_rrd_store *st = store(1000, NULL);
	submit(st, T0 + 10, s, 1, 1);
	vt_rrd_store_drain(st);
	ck_assert_int_eq((long)last_of("z/m.rrd", 0, NULL), (long)T0 + 10);
	pid_t pid = find_worker();
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	struct vt_rrd_store_stats stats;
	submit(st, T0 + 20, fresh, 1, 2);
	for (int i = 0; i < 500; i++) {      /* the writer is in its round */
		vt_rrd_store_get_stats(st, &stats);
		if (stats.round_running_seconds > 0)
			break;
		usleep(2000);
	}
	ck_assert(stats.round_running_seconds > 0);
	submit(st, T0 + 30, s, 1, 3);
	double t0 = mono();
	ck_assert_int_eq(vt_rrd_store_stop(st, 0.5), -ETIMEDOUT);
	ck_assert_double_lt(mono() - t0, 1.5);
	for (int i = 0; i < 500; i++) {
		vt_rrd_store_get_stats(st, &stats);
		if (stats.skipped[VT_RRD_SKIP_SHUTDOWN] + stats.errors >= 2)
			break;
		usleep(2000);
	}
	ck_assert_uint_eq(stats.skipped[VT_RRD_SKIP_SHUTDOWN], 1);
	ck_assert_uint_eq(stats.errors, 1);
	ck_assert_uint_eq(stats.queued, 0);
	vt_rrd_store_destroy(st);
	ck_assert_double_lt(mono() - t0, 2.0);
	for (int i = 0; i < 200 && !gone(pid); i++)
		usleep(10000);
	ck_assert_msg(gone(pid), "the stopped worker is still there");
	ck_assert_int_eq((long)last_of("z/m.rrd", 0, NULL), (long)T0 + 10);
	release_all(s, 1);
	release_all(fresh, 1);
}
END_TEST

/* Within its bound, stop writes everything. */
START_TEST(test_stop_writes_everything_in_time)
{
	struct vt_series *s[1] = { series(VT_COUNTER, "z", "m", NULL, NULL,
	    1) };
	vt_rrd_store *st = store(1000, NULL);
	submit(st, T0 + 10, s, 1, 1);
	submit(st, T0 + 20, s, 1, 2);
	ck_assert_int_eq(vt_rrd_store_stop(st, 10), 0);
	struct vt_rrd_store_stats stats;
	vt_rrd_store_get_stats(st, &stats);
	ck_assert_uint_eq(stats.skipped[VT_RRD_SKIP_SHUTDOWN], 0);
	ck_assert_uint_eq(stats.updates, 2);
	vt_rrd_store_destroy(st);
	ck_assert_int_eq((long)last_of("z/m.rrd", 0, NULL), (long)T0 + 20);
	release_all(s, 1);
}
END_TEST

/* A kill -9 during librrd's create leaves "<name>.rrdXXXXXX": the next
 * start removes it, and nothing else. */
START_TEST(test_crash_leftovers_are_swept)
{
	ck_assert(vt_rrd_sweep_is_leftover("lat190.rrdLO3OsP"));
	ck_assert(!vt_rrd_sweep_is_leftover("lat190.rrd"));
	ck_assert(!vt_rrd_sweep_is_leftover("x.rrdLO3Os"));
	ck_assert(!vt_rrd_sweep_is_leftover("x.rrdLO3Os-P"));
	ck_assert(!vt_rrd_sweep_is_leftover(".rrdabcdef"));
	char path[512];
	snprintf(path, sizeof path, "%s/svc", data);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/svc/checks", data);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/svc/checks/i1", data);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	touch("svc/a.rrd");
	touch("svc/a.rrdAb12Cd");
	touch("svc/checks/i1/db.rrdZZ99zz");
	touch("svc/checks/i1/db.rrd");
	touch("svc/notes.txt");
	touch("top.rrdAb12Cd");          /* not where files live: kept */
	snprintf(path, sizeof path, "%s/outside.rrdAb12Cd", tmp);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	char target[512];
	snprintf(target, sizeof target, "%s/link", data);
	ck_assert_int_eq(symlink(tmp, target), 0);   /* never followed */

	vt_rrd_store *st = store(1000, NULL);
	vt_rrd_store_drain(st);
	vt_rrd_store_destroy(st);
	ck_assert(!exists("svc/a.rrdAb12Cd"));
	ck_assert(!exists("svc/checks/i1/db.rrdZZ99zz"));
	ck_assert(exists("svc/a.rrd"));
	ck_assert(exists("svc/checks/i1/db.rrd"));
	ck_assert(exists("svc/notes.txt"));
	ck_assert(exists("top.rrdAb12Cd"));
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_uint_eq(vt_rrd_sweep(data), 0);
}
END_TEST

Suite *vt_test_rrd_store_suite(void)
{
	Suite *s = suite_create("rrd_store");
	TCase *tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_kinds_land_in_their_files);
	tcase_add_test(tc, test_a_window_is_never_written_twice);
	tcase_add_test(tc, test_final_window_in_the_same_second);
	tcase_add_test(tc, test_queue_bound_skips_whole_windows);
	tcase_add_test(tc, test_conflicts_are_counted_not_written);
	tcase_add_test(tc, test_hostile_names_stay_in_the_data_dir);
	tcase_add_test(tc, test_symlinks_are_refused);
	tcase_add_test(tc, test_unwritable_directory_recovers);
	tcase_add_test(tc, test_checks_get_a_status_history);
	tcase_add_test(tc, test_counters_in_metrics);
	tcase_add_test(tc, test_crash_leftovers_are_swept);
	tcase_add_test(tc, test_stop_is_bounded_with_a_stopped_worker);
	tcase_add_test(tc, test_stop_writes_everything_in_time);
	suite_add_tcase(s, tc);
	return s;
}
