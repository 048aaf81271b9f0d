/* test_catalogue.c - the metrics the views remember: idle windows for what
 * a flush lacks, retirement, DELETE, the file across a restart, and the
 * latest-window view that publishes them before any traffic. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/base/clock.h"
#include "collector/base/hash.h"
#include "exporters/recent/catalogue.h"
#include "exporters/recent/latest.h"
#include "suites.h"

#define DAY 86400.0

static struct vt_slice sl(const char *s)
{
	struct vt_slice x = { s, strlen(s) };
	return x;
}

struct spec {
	const char *service, *metric, *label; /* label "k:v" or NULL */
	enum vt_kind kind;
	double value, last_seen;
};

static struct vt_series *make_series(const struct spec *sp)
{
	char key[256], lk[64] = "", lv[64] = "";
	struct vt_slice k[1], v[1];
	size_t nl = 0;
	snprintf(key, sizeof key, "%s.%s|%s", sp->service, sp->metric,
	    sp->label ? sp->label : "");
	if (sp->label) {
		const char *colon = strchr(sp->label, ':');
		snprintf(lk, sizeof lk, "%.*s", (int)(colon - sp->label),
		    sp->label);
		snprintf(lv, sizeof lv, "%s", colon + 1);
		k[0] = sl(lk);
		v[0] = sl(lv);
		nl = 1;
	}
	return vt_series_create(sp->kind, sl(sp->service), sl(sp->metric),
	    sl(key), vt_hash(key, strlen(key), VT_SERIES_HASH_SEED), k, v, nl);
}

static struct vt_flush *make_flush(const struct spec *sp, size_t n,
    uint64_t seq, double t)
{
	struct vt_flush *f = vt_flush_create(n, n, 2);
	f->seq = seq;
	f->timestamp = t;
	f->interval = 10;
	f->npercentiles = 2;
	f->percentiles[0] = 50;
	f->percentiles[1] = 99;
	for (size_t i = 0; i < n; i++) {
		struct vt_metric_window *w = &f->metrics[f->nmetrics++];
		w->series = make_series(&sp[i]);
		w->samples = 3;
		w->count = 3;
		w->value = sp[i].value;
		w->last_seen = sp[i].last_seen;
		if (sp[i].kind == VT_TIMER) {
			double *q = f->quantile_store + i * 8;
			q[0] = 5;
			q[1] = 9;
			vt_flush_add_timer(f, w)->quantiles = q;
		}
	}
	return f;
}

static const struct vt_metric_window *window_of(const struct vt_flush *f,
    const char *service, const char *metric)
{
	for (size_t i = 0; i < f->nmetrics; i++)
		if (strcmp(f->metrics[i].series->service, service) == 0 &&
		    strcmp(f->metrics[i].series->metric, metric) == 0)
			return &f->metrics[i];
	return NULL;
}

static void tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vt_catalogue_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rmtree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static const struct spec two[] = {
	{ "api", "http.get", "route:/a", VT_TIMER, NAN, 1000 },
	{ "api", "queue", NULL, VT_GAUGE, 42, 1000 },
};

/* A metric the next window lacks (expired from memory) stays in the view
 * as an idle window: no samples, its last-seen time, a gauge's value. */
START_TEST(a_metric_the_window_lacks_stays_idle)
{
	vt_catalogue *c = vt_catalogue_create(7 * DAY, 0);
	struct vt_flush *f1 = make_flush(two, 2, 1, 1000);
	vt_catalogue_note(c, f1);
	struct vt_flush *v1 = vt_catalogue_merge(c, f1, 1000);
	ck_assert_ptr_eq(v1, f1);          /* nothing to add: no copy */
	vt_flush_release(v1);

	struct vt_flush *f2 = make_flush(&two[0], 1, 2, 1010);
	vt_catalogue_note(c, f2);
	struct vt_flush *v2 = vt_catalogue_merge(c, f2, 1010);
	ck_assert_uint_eq(v2->nmetrics, 2);
	ck_assert(v2->seq == 2 && v2->timestamp == 1010);
	const struct vt_metric_window *g = window_of(v2, "api", "queue");
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(g->samples, 0);
	ck_assert(g->value == 42 && g->last_seen == 1000);
	ck_assert(isnan(g->rate_1m));
	const struct vt_metric_window *t = window_of(v2, "api", "http.get");
	const double *q = vt_window_timer(t)->quantiles;
	ck_assert(q && q[1] == 9);                         /* copied */
	ck_assert_ptr_ne(q, vt_window_timer(&f2->metrics[0])->quantiles);
	ck_assert_uint_eq(t->series->nlabels, 1);
	vt_flush_release(v2);
	vt_flush_release(f2);
	vt_flush_release(f1);
	vt_catalogue_destroy(c);
}
END_TEST

START_TEST(retired_after_retire_after_and_forgotten_by_delete)
{
	vt_catalogue *c = vt_catalogue_create(100, 0);
	const struct spec sp[] = {
		{ "old", "x", NULL, VT_COUNTER, NAN, 1000 },
		{ "web", "y", NULL, VT_COUNTER, NAN, 1000 },
		{ "web", "z", NULL, VT_SET, NAN, 1000 },
	};
	struct vt_flush *f = make_flush(sp, 3, 1, 1000);
	vt_catalogue_note(c, f);
	vt_flush_release(f);
	ck_assert_uint_eq(vt_catalogue_forget(c, "web"), 2);
	ck_assert_uint_eq(vt_catalogue_size(c), 1);
	struct vt_flush *empty = make_flush(NULL, 0, 2, 1099);
	vt_catalogue_note(c, empty);
	struct vt_flush *v = vt_catalogue_merge(c, empty, 1099);
	ck_assert_uint_eq(v->nmetrics, 1);       /* 99 s idle: still shown */
	vt_flush_release(v);
	v = vt_catalogue_merge(c, empty, 1101);
	ck_assert_ptr_eq(v, empty);              /* 101 s: retired */
	ck_assert_uint_eq(vt_catalogue_size(c), 0);
	vt_flush_release(v);
	vt_flush_release(empty);
	vt_catalogue_destroy(c);
}
END_TEST

/* Saved, then loaded by a new catalogue (a restart): the same series
 * (kind, labels, key), last-seen times and gauge values. */
START_TEST(file_round_trip_keeps_series)
{
	char dir[64], err[256];
	tmpdir(dir, sizeof dir);
	const struct spec sp[] = {
		two[0], two[1],
		{ "caf\xC3\xA9", "temp", "room:k\xC3\xBC" "che", VT_GAUGE, -1.5,
		  990 },
		{ "bin", "raw\xFF", NULL, VT_COUNTER, NAN, 990 },  /* not UTF-8 */
	};
	vt_catalogue *c = vt_catalogue_create(7 * DAY, 0);
	struct vt_flush *f = make_flush(sp, 4, 1, 1000);
	vt_catalogue_note(c, f);
	ck_assert(vt_catalogue_save_due(c, 1000));
	ck_assert_int_eq(vt_catalogue_save(c, dir, 1000, err, sizeof err), 0);
	ck_assert(!vt_catalogue_save_due(c, 1001));
	vt_catalogue_destroy(c);

	c = vt_catalogue_create(7 * DAY, 0);
	size_t skipped = 99;
	ck_assert_int_eq(vt_catalogue_load(c, dir, 2000, &skipped, err,
	    sizeof err), 3);
	ck_assert_uint_eq(skipped, 0);
	struct vt_flush *empty = make_flush(NULL, 0, 0, 2000);
	struct vt_flush *v = vt_catalogue_merge(c, empty, 2000);
	ck_assert_uint_eq(v->nmetrics, 3);
	const struct vt_metric_window *t = window_of(v, "api", "http.get");
	ck_assert_int_eq(t->series->kind, VT_TIMER);
	ck_assert_str_eq(t->series->key, "api.http.get|route:/a");
	ck_assert_str_eq(t->series->labels[0].key, "route");
	ck_assert_str_eq(t->series->labels[0].value, "/a");
	ck_assert(t->last_seen == 1000 && isnan(t->value));
	ck_assert_ptr_null(vt_window_timer(t)->quantiles);
	const struct vt_metric_window *g = window_of(v, "caf\xC3\xA9", "temp");
	ck_assert(g && g->value == -1.5 && g->last_seen == 990);
	ck_assert_str_eq(g->series->labels[0].value, "k\xC3\xBC" "che");
	ck_assert(window_of(v, "api", "queue")->value == 42);

	/* The same metric sending again replaces the remembered series. */
	struct vt_flush *back = make_flush(&two[1], 1, 1, 2010);
	vt_catalogue_note(c, back);
	struct vt_flush *v2 = vt_catalogue_merge(c, back, 2010);
	ck_assert_uint_eq(v2->nmetrics, 3);
	vt_flush_release(v2);
	vt_flush_release(back);
	vt_flush_release(v);
	vt_flush_release(empty);
	vt_flush_release(f);
	vt_catalogue_destroy(c);
	rmtree(dir);
}
END_TEST

START_TEST(bad_files_are_set_aside_or_skipped)
{
	char dir[64], err[256], path[128];
	tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/catalogue.json", dir);
	FILE *fp = fopen(path, "w");
	fputs("{\"format\":\"vitals-catalogue\",\"version\":1,\"metrics\":["
	    "{\"service\":\"a\",\"metric\":\"b\",\"kind\":\"gauge\","
	    "\"key\":\"a.b\",\"labels\":[],\"last_seen\":1000},"
	    "{\"service\":\"a\",\"metric\":\"c\",\"kind\":\"bogus\","
	    "\"key\":\"a.c\",\"labels\":[],\"last_seen\":1000},"
	    "{\"service\":\"a\\u0001\",\"metric\":\"d\",\"kind\":\"gauge\","
	    "\"key\":\"a.d\",\"labels\":[],\"last_seen\":1000},"
	    "{\"service\":\"a\",\"metric\":\"b\",\"kind\":\"gauge\","
	    "\"key\":\"a.b\",\"labels\":[],\"last_seen\":1000}]}", fp);
	fclose(fp);
	vt_catalogue *c = vt_catalogue_create(7 * DAY, 0);
	size_t skipped;
	ck_assert_int_eq(vt_catalogue_load(c, dir, 2000, &skipped, err,
	    sizeof err), 1);
	ck_assert_uint_eq(skipped, 3);          /* bad kind, control, twice */
	ck_assert_ptr_nonnull(strstr(err, "3 unusable entries skipped"));
	vt_catalogue_destroy(c);

	fp = fopen(path, "w");
	fputs("{\"format\":\"vitals-catalogue\",\"version\":1,\"metr", fp);
	fclose(fp);
	c = vt_catalogue_create(7 * DAY, 0);
	ck_assert_int_eq(vt_catalogue_load(c, dir, 2000, NULL, err,
	    sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "moved to"));
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_uint_eq(vt_catalogue_size(c), 0);
	vt_catalogue_destroy(c);
	rmtree(dir);
}
END_TEST

/* The view: a restart publishes what was remembered before any window
 * closes, feeds it to the next view, and saves it at the end. */
START_TEST(latest_publishes_the_catalogue_at_start)
{
	char dir[64], err[256];
	tmpdir(dir, sizeof dir);
	vt_catalogue *c = vt_catalogue_create(7 * DAY, 0);
	struct spec sp[2] = { two[0], two[1] };
	sp[0].last_seen = sp[1].last_seen = vt_clock_now() - 60;
	struct vt_flush *f = make_flush(sp, 2, 1, vt_clock_now() - 60);
	vt_catalogue_note(c, f);
	ck_assert_int_eq(vt_catalogue_save(c, dir, 1000, err, sizeof err), 0);
	vt_catalogue_destroy(c);
	vt_flush_release(f);

	struct vt_latest_config lc = { .data_dir = dir,
	    .retire_after = 7 * DAY, .flush_interval = 10, .npercentiles = 1,
	    .percentiles = { 99 } };
	vt_latest *l = vt_latest_create(&lc);
	struct vt_flush *got = vt_latest_get(l);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(got->nmetrics, 2);
	ck_assert(got->interval == 10 && got->percentiles[0] == 99);
	vt_flush_release(got);

	vt_latest_forget(l, "api", vt_clock_now());
	got = vt_latest_get(l);
	ck_assert_uint_eq(got->nmetrics, 0);
	vt_flush_release(got);
	ck_assert_int_eq(vt_latest_save(l), 0);
	vt_latest_destroy(l);
	l = vt_latest_create(&lc);          /* the DELETE survived */
	ck_assert_ptr_null(vt_latest_get(l));
	vt_latest_destroy(l);
	rmtree(dir);
}
END_TEST

/* A flood of new names cannot grow it past its cap: the longest silent
 * of those not in the window go first, down to 9/10 of the cap. */
START_TEST(a_cap_forgets_the_longest_silent_first)
{
	vt_catalogue *c = vt_catalogue_create(7 * DAY, 10);
	struct spec sp[30];
	char names[30][16];
	for (int i = 0; i < 30; i++) {
		snprintf(names[i], sizeof names[i], "m%02d", i);
		sp[i] = (struct spec){ "flood", names[i], NULL, VT_COUNTER, NAN,
		    1000 + i };
	}
	struct vt_flush *f = make_flush(sp, 30, 1, 2000);
	vt_catalogue_note(c, f);
	struct vt_flush *v = vt_catalogue_merge(c, f, 2000);
	ck_assert_uint_eq(vt_catalogue_size(c), 30);   /* all in the window */
	vt_flush_release(v);
	struct vt_flush *last = make_flush(&sp[28], 2, 2, 2010);
	vt_catalogue_note(c, last);
	v = vt_catalogue_merge(c, last, 2010);
	ck_assert_uint_eq(vt_catalogue_size(c), 9);
	ck_assert_uint_eq(v->nmetrics, 9);
	ck_assert_ptr_nonnull(window_of(v, "flood", "m29"));
	ck_assert_ptr_nonnull(window_of(v, "flood", "m21"));
	ck_assert_ptr_null(window_of(v, "flood", "m20"));
	vt_flush_release(v);
	vt_flush_release(last);
	vt_flush_release(f);
	vt_catalogue_destroy(c);
}
END_TEST

Suite *vt_test_catalogue_suite(void)
{
	Suite *s = suite_create("catalogue");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, a_metric_the_window_lacks_stays_idle);
	tcase_add_test(tc, retired_after_retire_after_and_forgotten_by_delete);
	tcase_add_test(tc, a_cap_forgets_the_longest_silent_first);
	tcase_add_test(tc, file_round_trip_keeps_series);
	tcase_add_test(tc, bad_files_are_set_aside_or_skipped);
	tcase_add_test(tc, latest_publishes_the_catalogue_at_start);
	suite_add_tcase(s, tc);
	return s;
}
