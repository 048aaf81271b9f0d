/*
 * test_rrd_updater.c - every librrd call of the daemon runs in a helper: the
 * update worker creates, reads back and updates files (errors come back
 * as errno and text), and once the fork server runs, fetch and lastupdate
 * made here run in its children and give what a direct read gives. The
 * test process itself never maps librrd. An abort (shutdown past its
 * bound) wakes the owner and kills even a stopped worker.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exporters/rrd/rrd_layout.h"
#include "exporters/rrd/rrd_lib.h"
#include "exporters/rrd/rrd_updater.h"
#include "suites.h"

#define T0 1700000000L   /* a multiple of 10 */

static char tmp[64], path[128];

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/vt-rrdw-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(path, sizeof path, "%s/c.rrd", tmp);
}

static void teardown(void)
{
	char cmd[160];
	vt_rrd_lib_forkserver_stop();
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

/* 1 when this process has librrd mapped. */
static int librrd_mapped(void)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f))
		if (strstr(line, "librrd.so"))
			found = 1;
	fclose(f);
	return found;
}

/* Check runs each test in a child of a runner that never calls librrd;
 * with CK_FORK=no the runner may have loaded it for an earlier test. */
static int forked(void)
{
	const char *v = getenv("CK_FORK");
	return v == NULL || strcmp(v, "no") != 0;
}

static struct vt_rrd_updater *worker(void)
{
	char err[VT_ERR_LEN];
	struct vt_rrd_updater *w = vt_rrd_updater_start(NULL, err, sizeof err);
	ck_assert_msg(w != NULL, "%s", err);
	return w;
}

/* Create a counter file (count, rate) at path through w. */
static void create_counter(struct vt_rrd_updater *w)
{
	char err[VT_ERR_LEN];
	struct vt_rrd_ds_list ds;
	struct vt_rrd_create_args a;
	vt_rrd_layout_ds(VT_RRD_COUNTER, NULL, 0, &ds);
	vt_rrd_layout_create_args(&ds, 10, 360, &a);
	ck_assert_msg(vt_rrd_updater_create(w, path, 10, T0, &a, err,
	    sizeof err) == 0, "%s", err);
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

static void *abort_soon(void *arg)
{
	struct timespec ts = { 0, 200000000L };
	nanosleep(&ts, NULL);
	vt_rrd_updater_abort(arg);
	return NULL;
}

/* Shutdown past its bound: abort from another thread wakes the owner
 * waiting on a stopped worker, kills the worker and starts no new one. */
START_TEST(abort_wakes_the_owner_and_kills_a_stopped_worker)
{
	char err[VT_ERR_LEN];
	struct vt_rrd_updater *w = worker();
	create_counter(w);
	pid_t pid = find_worker();
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	const char *u1[] = { "1700000010:5:0.5" };
	ck_assert_int_eq(vt_rrd_updater_send(w, path, 1, u1), 0);
	pthread_t t;
	double t0 = mono();
	ck_assert_int_eq(pthread_create(&t, NULL, abort_soon, w), 0);
	ck_assert_int_eq(vt_rrd_updater_result(w, err, sizeof err), -EPIPE);
	ck_assert_double_lt(mono() - t0, 2.0);
	pthread_join(t, NULL);
	ck_assert_int_eq(vt_rrd_updater_send(w, path, 1, u1), -EPIPE);
	time_t last;
	ck_assert_int_eq(vt_rrd_updater_lastupdate(w, path, &last, NULL, err,
	    sizeof err), -EPIPE);
	for (int i = 0; i < 200 && !gone(pid); i++)
		usleep(10000);
	ck_assert_msg(gone(pid), "the stopped worker is still there");
	vt_rrd_updater_stop(w);
}
END_TEST

START_TEST(worker_creates_reads_and_updates)
{
	char err[VT_ERR_LEN];
	struct vt_rrd_ds_list ds;
	struct vt_rrd_create_args a;
	time_t last = 0;
	struct vt_rrd_updater *w = worker();

	create_counter(w);
	ck_assert_int_eq(vt_rrd_updater_lastupdate(w, path, &last, &ds, err,
	    sizeof err), 0);
	ck_assert_int_eq((long)last, T0);
	ck_assert_uint_eq(ds.n, 2);
	ck_assert_str_eq(ds.name[0], "count");
	ck_assert_str_eq(ds.name[1], "rate");

	/* Updates in flight; a synchronous call must wait its turn. */
	const char *u1[] = { "1700000010:5:0.5" };
	const char *u2[] = { "1700000020:7:0.7", "1700000030:9:0.9" };
	ck_assert_int_eq(vt_rrd_updater_send(w, path, 1, u1), 0);
	ck_assert_int_eq(vt_rrd_updater_send(w, path, 2, u2), 0);
	ck_assert_uint_eq(vt_rrd_updater_pending(w), 2);
	ck_assert_int_eq(vt_rrd_updater_lastupdate(w, path, &last, NULL, err,
	    sizeof err), -EBUSY);
	ck_assert_int_eq(vt_rrd_updater_result(w, err, sizeof err), 0);
	ck_assert_int_eq(vt_rrd_updater_result(w, err, sizeof err), 0);
	ck_assert_int_eq(vt_rrd_updater_lastupdate(w, path, &last, NULL, err,
	    sizeof err), 0);
	ck_assert_int_eq((long)last, T0 + 30);

	/* Errors come back as errno and librrd's words. */
	const char *old[] = { "1700000020:1:1" };
	ck_assert_int_eq(vt_rrd_updater_send(w, path, 1, old), 0);
	ck_assert_int_lt(vt_rrd_updater_result(w, err, sizeof err), 0);
	ck_assert_msg(strstr(err, "update") != NULL, "%s", err);
	vt_rrd_layout_ds(VT_RRD_COUNTER, NULL, 0, &ds);
	vt_rrd_layout_create_args(&ds, 10, 360, &a);
	ck_assert_int_eq(vt_rrd_updater_create(w, path, 10, T0, &a, err, sizeof err),
	    -EEXIST);
	char missing[160];
	snprintf(missing, sizeof missing, "%s/none.rrd", tmp);
	ck_assert_int_eq(vt_rrd_updater_lastupdate(w, missing, &last, NULL, err,
	    sizeof err), -ENOENT);
	ck_assert_int_eq(vt_rrd_updater_flush(w, path, err, sizeof err), 0);
	vt_rrd_updater_stop(w);
	if (forked())
		ck_assert_msg(!librrd_mapped(), "the test process loaded librrd");
}
END_TEST

START_TEST(reads_through_the_fork_server_match_direct_reads)
{
	char err[VT_ERR_LEN];
	struct vt_rrd_updater *w = worker();   /* starts the fork server */
	create_counter(w);
	const char *u[] = { "1700000010:5:0.5", "1700000020:7:0.7" };
	ck_assert_int_eq(vt_rrd_updater_send(w, path, 2, u), 0);
	ck_assert_int_eq(vt_rrd_updater_result(w, err, sizeof err), 0);

	time_t last = 0;
	struct vt_rrd_ds_list ds;
	double vals[VT_RRD_MAX_DS];
	ck_assert_msg(vt_rrd_lib_lastupdate(path, &last, &ds, vals, err,
	    sizeof err) == 0, "%s", err);
	ck_assert_int_eq((long)last, T0 + 20);
	ck_assert_uint_eq(ds.n, 2);
	ck_assert_double_eq(vals[0], 7);
	ck_assert_double_eq(vals[1], 0.7);

	struct vt_rrd_data d;
	ck_assert_msg(vt_rrd_lib_fetch(NULL, path, "AVERAGE", T0, T0 + 20, &d,
	    err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(d.step, 10);
	ck_assert_uint_eq(d.nds, 2);
	ck_assert_uint_ge(d.rows, 2);
	ck_assert_str_eq(d.ds.name[0], "count");
	ck_assert_double_eq(d.values[0], 5);    /* the row ending at T0+10 */
	ck_assert_double_eq(d.values[2], 7);
	if (forked())
		ck_assert_msg(!librrd_mapped(), "the test process loaded librrd");

	/* Errors cross too. */
	char missing[160];
	snprintf(missing, sizeof missing, "%s/none.rrd", tmp);
	ck_assert_int_eq(vt_rrd_lib_lastupdate(missing, &last, NULL, NULL, err,
	    sizeof err), -ENOENT);
	struct vt_rrd_data bad;
	ck_assert_int_eq(vt_rrd_lib_fetch(NULL, missing, "AVERAGE", T0,
	    T0 + 20, &bad, err, sizeof err), -ENOENT);
	ck_assert_msg(strstr(err, "fetch") != NULL, "%s", err);

	/* Without the fork server the same reads are made here. */
	vt_rrd_updater_stop(w);
	vt_rrd_lib_forkserver_stop();
	struct vt_rrd_data direct;
	ck_assert_int_eq(vt_rrd_lib_fetch(NULL, path, "AVERAGE", T0, T0 + 20,
	    &direct, err, sizeof err), 0);
	ck_assert_uint_eq(direct.rows, d.rows);
	for (size_t i = 0; i < d.rows * d.nds; i++)
		ck_assert(direct.values[i] == d.values[i] ||
		    (isnan(direct.values[i]) && isnan(d.values[i])));
	vt_rrd_lib_data_fini(&direct);
	vt_rrd_lib_data_fini(&d);
}
END_TEST

Suite *vt_test_rrd_updater_suite(void)
{
	Suite *s = suite_create("rrd_updater");
	TCase *tc = tcase_create("worker");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, worker_creates_reads_and_updates);
	tcase_add_test(tc, reads_through_the_fork_server_match_direct_reads);
	tcase_add_test(tc, abort_wakes_the_owner_and_kills_a_stopped_worker);
	suite_add_tcase(s, tc);
	return s;
}
