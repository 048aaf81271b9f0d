/* test_ingest.c - splitting received bytes into lines and counting each
 * by result (ingest.h), through the real parser and aggregator. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/line_result.h"
#include "collector/ingest/ingest.h"
#include "suites.h"

struct rig {
	struct vt_selfstats stats;
	vt_agg *agg;
	vt_ingest *in;
	int checks_seen;
};

static void on_check(void *ctx, const struct vt_check_report *r,
    const struct sockaddr *peer)
{
	(void)r;
	(void)peer;
	((struct rig *)ctx)->checks_seen++;
}

static struct rig *rig_create(void)
{
	struct rig *r = calloc(1, sizeof *r);
	struct vt_agg_config cfg = { .max_metrics = 1000, .metric_ttl = 600 };
	r->agg = vt_agg_create(&cfg, &r->stats);
	r->in = vt_ingest_create(r->agg, &r->stats);
	struct vt_ingest_checks c = { .on_service_check = on_check, .ctx = r };
	vt_ingest_set_checks(r->in, &c);
	return r;
}

static void rig_destroy(struct rig *r)
{
	vt_ingest_destroy(r->in);
	vt_agg_destroy(r->agg);
	free(r);
}

/* The counter's value in a closed window, or -1 when it is not there. */
static double counter_value(struct rig *r, const char *metric)
{
	struct vt_flush *f = vt_agg_close_window(r->agg, 1000, 10);
	double v = -1;
	for (size_t i = 0; i < f->nmetrics; i++)
		if (strcmp(f->metrics[i].series->metric, metric) == 0)
			v = f->metrics[i].count;
	vt_flush_release(f);
	return v;
}

/* Send buf as one datagram; the bytes are copied to an exactly sized heap
 * block, so a read past the end is caught by AddressSanitizer. */
static void datagram(struct rig *r, const char *buf, size_t len)
{
	char *copy = malloc(len ? len : 1);
	memcpy(copy, buf, len);
	vt_ingest_datagram(r->in, copy, len, NULL);
	free(copy);
}

START_TEST(lines_split_at_every_newline_position)
{
	/* Names of every length from 1 to 40 put the newline at every
	 * offset of a 16-byte step, and the last line has none. */
	struct rig *r = rig_create();
	char buf[4096];
	size_t len = 0;
	for (int n = 1; n <= 40; n++) {
		char name[64];
		memset(name, 'a', (size_t)n);
		name[n] = '\0';
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s:%d|c%s",
		    name, n, n < 40 ? "\n" : "");
	}
	datagram(r, buf, len);
	ck_assert_uint_eq(r->stats.lines[VT_LINE_OK], 40);
	struct vt_flush *f = vt_agg_close_window(r->agg, 1000, 10);
	ck_assert_uint_eq(f->nmetrics, 40);
	for (size_t i = 0; i < f->nmetrics; i++)
		ck_assert_double_eq(f->metrics[i].count,
		    (double)strlen(f->metrics[i].series->metric));
	vt_flush_release(f);
	rig_destroy(r);
}
END_TEST

START_TEST(blank_lines_crlf_and_padding)
{
	struct rig *r = rig_create();
	const char *d = "\n\nx:1|c\r\n   \n\t y:2|c\n\r\nz:3|c\n\n";
	datagram(r, d, strlen(d));
	ck_assert_uint_eq(r->stats.lines[VT_LINE_OK], 3);
	for (int i = 1; i < VT_LINE_RESULT_COUNT; i++)
		ck_assert_uint_eq(r->stats.lines[i], 0);
	ck_assert_double_eq(counter_value(r, "y"), 2);
	rig_destroy(r);
}
END_TEST

START_TEST(bad_lines_counted_the_rest_kept)
{
	struct rig *r = rig_create();
	const char *d =
	    "good.one:1|c\n"
	    "no_value_at_all_here_for_sure\n"
	    "bad.type:1|q\n"
	    "_e{5,4}:title|text\n"
	    "_sc|db.up|0\n"
	    "  _sc|db.down|2\n"
	    "good.two:2|c";
	datagram(r, d, strlen(d));
	ck_assert_uint_eq(r->stats.lines[VT_LINE_OK], 4);
	ck_assert_uint_eq(r->stats.lines[VT_LINE_MISSING_VALUE], 1);
	ck_assert_uint_eq(r->stats.lines[VT_LINE_BAD_TYPE], 1);
	ck_assert_uint_eq(r->stats.lines[VT_LINE_UNSUPPORTED], 1);
	ck_assert_int_eq(r->checks_seen, 2);
	ck_assert_double_eq(counter_value(r, "two"), 2);
	rig_destroy(r);
}
END_TEST

START_TEST(more_lines_than_one_batch)
{
	/* Past VT_AGG_BATCH lines in one datagram: every one applied, in
	 * order (a gauge ends at the last value sent). */
	struct rig *r = rig_create();
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	int lines = 3 * VT_AGG_BATCH + 7;
	for (int i = 0; i < lines; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		    "many.hits:1|c\nmany.level:%d|g\n", i);
	datagram(r, buf, len);
	ck_assert_uint_eq(r->stats.lines[VT_LINE_OK], 2 * (uint64_t)lines);
	struct vt_flush *f = vt_agg_close_window(r->agg, 1000, 10);
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *w = &f->metrics[i];
		if (strcmp(w->series->metric, "hits") == 0)
			ck_assert_double_eq(w->count, lines);
		else
			ck_assert_double_eq(w->value, lines - 1);
	}
	vt_flush_release(f);
	free(buf);
	rig_destroy(r);
}
END_TEST

/* The value of a metric in a closed window, or NAN when absent. */
static double gauge_value(struct vt_flush *f, const char *metric)
{
	for (size_t i = 0; i < f->nmetrics; i++)
		if (strcmp(f->metrics[i].series->metric, metric) == 0)
			return f->metrics[i].value;
	return NAN;
}

START_TEST(held_datagrams_share_batches_and_keep_order)
{
	/* A round of datagrams held across batch boundaries, each in its own
	 * exactly sized block freed only after the round is applied (as the
	 * receive slots are reused only after it): every line counted once,
	 * in order, and nothing applied before vt_ingest_apply_held. */
	struct rig *r = rig_create();
	enum { ROUND = 9, PER = 13 };     /* 117 lines: batches span datagrams */
	char *blocks[ROUND];
	int level = 0;
	for (int d = 0; d < ROUND; d++) {
		char buf[1024];
		size_t len = 0;
		for (int i = 0; i < PER; i++, level++)
			len += (size_t)snprintf(buf + len, sizeof buf - len,
			    i % 2 ? "held.hits:1|c\n" : "held.level:%d|g\n",
			    level);
		blocks[d] = malloc(len);
		memcpy(blocks[d], buf, len);
		vt_ingest_datagram_held(r->in, blocks[d], len, NULL);
	}
	ck_assert_uint_lt(r->stats.lines[VT_LINE_OK], ROUND * PER);
	vt_ingest_apply_held(r->in);
	for (int d = 0; d < ROUND; d++)
		free(blocks[d]);
	ck_assert_uint_eq(r->stats.lines[VT_LINE_OK], ROUND * PER);

	/* What is held is applied before any other entry point's lines: a
	 * gauge set held, then a delta through vt_ingest_line, ends at the
	 * sum, not at the value set. */
	char set[] = "held.level:100|g";
	vt_ingest_datagram_held(r->in, set, strlen(set), NULL);
	vt_ingest_line(r->in, "held.level:+1|g", 15, NULL);
	vt_ingest_apply_held(r->in);
	struct vt_flush *f = vt_agg_close_window(r->agg, 1000, 10);
	ck_assert_double_eq(gauge_value(f, "level"), 101);
	for (size_t i = 0; i < f->nmetrics; i++)
		if (strcmp(f->metrics[i].series->metric, "hits") == 0)
			ck_assert_double_eq(f->metrics[i].count, ROUND * (PER / 2));
	vt_flush_release(f);
	rig_destroy(r);
}
END_TEST

START_TEST(pipelined_batches_match_line_by_line)
{
	/* Several batches in flight at once (ingest.c's pipeline) must give
	 * what one line at a time gives: gauge sets and deltas crossing batch
	 * boundaries, names first seen in a batch still in flight when the
	 * next uses them, a type conflict against a kind set two batches
	 * before, and the cap on distinct metrics met halfway, so which names
	 * get in depends on line order. */
	struct rig *piped = rig_create(), *single = rig_create();
	struct vt_agg_config cfg = { .max_metrics = 40, .metric_ttl = 600 };
	vt_ingest_destroy(piped->in);
	vt_agg_destroy(piped->agg);
	vt_ingest_destroy(single->in);
	vt_agg_destroy(single->agg);
	piped->agg = vt_agg_create(&cfg, &piped->stats);
	piped->in = vt_ingest_create(piped->agg, &piped->stats);
	single->agg = vt_agg_create(&cfg, &single->stats);
	single->in = vt_ingest_create(single->agg, &single->stats);

	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	int lines = 9 * VT_AGG_BATCH + 5;
	for (int i = 0; i < lines; i++) {
		char line[64];
		if (i % 5 == 0)           /* set, then deltas, all along */
			snprintf(line, sizeof line, "p.level:%s%d|g", i % 10 ?
			    "+" : "", i % 10 ? 1 : i);
		else if (i % 5 == 1)      /* new names, past the cap */
			snprintf(line, sizeof line, "p.n%d:1|c", i / 5);
		else if (i % 5 == 2)      /* and back to the early ones */
			snprintf(line, sizeof line, "p.n%d:%d|ms", (i / 5) % 7,
			    i);
		else if (i == 3 + 2 * VT_AGG_BATCH)
			snprintf(line, sizeof line, "p.hits:1|g"); /* conflict */
		else
			snprintf(line, sizeof line, "p.hits:1|c");
		len += (size_t)snprintf(buf + len, cap - len, "%s\n", line);
		vt_ingest_line(single->in, line, strlen(line), NULL);
	}
	char *copy = malloc(len);
	memcpy(copy, buf, len);
	vt_ingest_datagram_held(piped->in, copy, len, NULL);
	vt_ingest_apply_held(piped->in);
	free(copy);

	for (int i = 0; i < VT_LINE_RESULT_COUNT; i++)
		ck_assert_uint_eq(piped->stats.lines[i], single->stats.lines[i]);
	ck_assert_uint_gt(piped->stats.lines[VT_LINE_OVER_CAP], 0);
	ck_assert_uint_gt(piped->stats.lines[VT_LINE_TYPE_CONFLICT], 0);
	struct vt_flush *fa = vt_agg_close_window(piped->agg, 1000, 10);
	struct vt_flush *fb = vt_agg_close_window(single->agg, 1000, 10);
	ck_assert_uint_eq(fa->nmetrics, fb->nmetrics);
	for (size_t i = 0; i < fa->nmetrics; i++) {
		const struct vt_metric_window *x = &fa->metrics[i], *y = NULL;
		for (size_t j = 0; j < fb->nmetrics; j++)
			if (strcmp(fb->metrics[j].series->key,
			    x->series->key) == 0)
				y = &fb->metrics[j];
		ck_assert_ptr_nonnull(y);
		ck_assert_uint_eq(x->samples, y->samples);
		ck_assert(x->count == y->count || (isnan(x->count) &&
		    isnan(y->count)));
		ck_assert(x->value == y->value || (isnan(x->value) &&
		    isnan(y->value)));
		double sx = vt_window_timer(x)->sum;
		double sy = vt_window_timer(y)->sum;
		ck_assert(sx == sy || (isnan(sx) && isnan(sy)));
	}
	/* The gauge: the last value set (at the last i that is a multiple
	 * of 10) plus the deltas after it. */
	int last_set = ((lines - 1) / 10) * 10, deltas = 0;
	for (int i = last_set + 1; i < lines; i++)
		deltas += i % 5 == 0;
	ck_assert_double_eq(gauge_value(fa, "level"), last_set + deltas);
	vt_flush_release(fa);
	vt_flush_release(fb);
	free(buf);
	rig_destroy(piped);
	rig_destroy(single);
}
END_TEST

/* What an AMQP or HTTP body applied: the lines that parsed, metric lines
 * and service checks, including those the aggregator refused for a type
 * conflict; 0 for a body with no well-formed line (rejected as a whole). */
START_TEST(lines_returns_how_many_parsed)
{
	struct rig *r = rig_create();
	const char body[] = "a:1|c\nnot a line\n_sc|pay.db|0\nb:2|ms\n"
	    "a:1|g\n_e{1,1}:x|y\n";
	ck_assert_uint_eq(vt_ingest_lines(r->in, body, sizeof body - 1, NULL),
	    4);
	ck_assert_uint_eq(r->stats.lines[VT_LINE_TYPE_CONFLICT], 1);
	ck_assert_int_eq(r->checks_seen, 1);
	const char bad[] = "nonsense\nx:y|q\n\n";
	ck_assert_uint_eq(vt_ingest_lines(r->in, bad, sizeof bad - 1, NULL), 0);
	ck_assert_uint_eq(vt_ingest_lines(r->in, "", 0, NULL), 0);
	rig_destroy(r);
}
END_TEST

START_TEST(empty_and_newline_only_datagrams)
{
	struct rig *r = rig_create();
	datagram(r, "", 0);
	datagram(r, "\n", 1);
	datagram(r, "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", 18);
	for (int i = 0; i < VT_LINE_RESULT_COUNT; i++)
		ck_assert_uint_eq(r->stats.lines[i], 0);
	rig_destroy(r);
}
END_TEST

Suite *vt_test_ingest_suite(void)
{
	Suite *s = suite_create("ingest");
	TCase *tc = tcase_create("lines");
	tcase_add_test(tc, lines_split_at_every_newline_position);
	tcase_add_test(tc, blank_lines_crlf_and_padding);
	tcase_add_test(tc, bad_lines_counted_the_rest_kept);
	tcase_add_test(tc, more_lines_than_one_batch);
	tcase_add_test(tc, held_datagrams_share_batches_and_keep_order);
	tcase_add_test(tc, pipelined_batches_match_line_by_line);
	tcase_add_test(tc, empty_and_newline_only_datagrams);
	tcase_add_test(tc, lines_returns_how_many_parsed);
	suite_add_tcase(s, tc);
	return s;
}
