/*
 * test_rrd_direct.c - the direct writer makes a file byte for byte as
 * librrd's rrd_create does (but for each archive's first row, which
 * librrd picks at random), and leaves it byte for byte as rrd_update
 * leaves librrd's, given the same updates: the
 * files vitalsd makes (1 s and 10 s steps, counters and timers) and a
 * file with every consolidation it handles, an odd xff and a short
 * heartbeat, under random updates: unknowns, -0, values that need 17
 * digits, updates between steps, several steps at once, gaps past the
 * heartbeat and past a whole archive. Files it does not write are refused
 * untouched (-ENOTSUP), and a late row is an error after the rows before
 * it are written, as librrd does.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/base/buf.h"
#include "exporters/rrd/rrd_direct.h"
#include "exporters/rrd/rrd_layout.h"
#include "exporters/rrd/rrd_lib.h"
#include "suites.h"

#define T0 1700000000L   /* a multiple of 10 */

static char tmp[64];

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/vt-rrdd-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Which part of the file an offset falls in, for a failure message. */
static const char *region(const unsigned char *b, size_t off)
{
	const struct vt_rrd_stat_head *st = (const void *)b;
	size_t live = sizeof *st + st->ds_cnt * sizeof(struct vt_rrd_ds_def) +
	    st->rra_cnt * sizeof(struct vt_rrd_rra_def);
	size_t pdp = live + sizeof(struct vt_rrd_live_head);
	size_t cdp = pdp + st->ds_cnt * sizeof(struct vt_rrd_pdp_prep);
	size_t ptr = cdp + st->ds_cnt * st->rra_cnt *
	    sizeof(struct vt_rrd_cdp_prep);
	size_t data = ptr + st->rra_cnt * sizeof(unsigned long);
	if (off < live)
		return "definitions";
	if (off < pdp)
		return "live head";
	if (off < cdp)
		return "pdp_prep";
	if (off < ptr)
		return "cdp_prep";
	if (off < data)
		return "rra_ptr";
	return "rows";
}

/*
 * librrd 1.7 reads numbers with its own parser (rrd_strtod), which can be
 * an ulp or a few off where strtod is exact (17-digit values), and the
 * direct writer keeps the exact value. So an 8-byte slot may differ when
 * both are finite doubles within a relative 1e-12 (counts and pointers,
 * read as doubles, are tiny denormals a step apart, and never pass);
 * every other byte must be equal. With exact values (exact != 0: numbers
 * both parsers read the same) every byte must be equal.
 */
static void assert_same(const char *a, const char *b, const char *what,
    int exact)
{
	size_t na, nb;
	unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
	ck_assert_uint_eq(na, nb);
	for (size_t at = 0; at < na; at += 8) {
		size_t len = na - at < 8 ? na - at : 8;
		if (memcmp(x + at, y + at, len) == 0)
			continue;
		double dx = 0, dy = 0;
		memcpy(&dx, x + at, len);
		memcpy(&dy, y + at, len);
		if (!exact && len == 8 && isfinite(dx) && isfinite(dy) &&
		    fabs(dx - dy) <= 1e-12 * fmax(fabs(dx), fabs(dy)) &&
		    fabs(dx) > 1e-300)
			continue;
		ck_abort_msg("%s: bytes %zu-%zu differ (%s); as doubles: librrd "
		    "%.17g, direct %.17g", what, at, at + len - 1,
		    region(x, at), dx, dy);
	}
	free(x);
	free(y);
}

/* Where the rra_ptr array (each archive's current row) lies in a file. */
static void rra_ptr_span(const unsigned char *b, size_t *off, size_t *len)
{
	const struct vt_rrd_stat_head *st = (const void *)b;
	*off = sizeof *st + st->ds_cnt * sizeof(struct vt_rrd_ds_def) +
	    st->rra_cnt * sizeof(struct vt_rrd_rra_def) +
	    sizeof(struct vt_rrd_live_head) +
	    st->ds_cnt * sizeof(struct vt_rrd_pdp_prep) +
	    st->ds_cnt * st->rra_cnt * sizeof(struct vt_rrd_cdp_prep);
	*len = st->rra_cnt * sizeof(unsigned long);
}

/* Make b with vt_rrd_direct_make as librrd made a: the same bytes but for
 * each archive's current row (librrd picks it at random, the direct maker
 * from the path; each within the archive). b then takes a's rows, so the
 * two can be updated side by side. */
static void made_alike(struct vt_rrd_direct *d, const char *a, const char *b,
    unsigned long step, const struct vt_rrd_create_args *args)
{
	char err[512];
	ck_assert_msg(vt_rrd_direct_make(d, b, step, T0, args, err,
	    sizeof err) == 0, "%s", err);
	ck_assert_int_eq(vt_rrd_direct_make(d, b, step, T0, args, err,
	    sizeof err), -EEXIST);
	size_t na, nb, off, len;
	unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
	ck_assert_uint_eq(na, nb);
	rra_ptr_span(x, &off, &len);
	const struct vt_rrd_stat_head *st = (const void *)y;
	const struct vt_rrd_rra_def *rra = (const void *)(y + sizeof *st +
	    st->ds_cnt * sizeof(struct vt_rrd_ds_def));
	for (size_t r = 0; r < st->rra_cnt; r++) {
		unsigned long cur;
		memcpy(&cur, y + off + r * sizeof cur, sizeof cur);
		ck_assert_uint_lt(cur, rra[r].row_cnt);
	}
	memcpy(y + off, x + off, len);
	for (size_t i = 0; i < na; i++)
		ck_assert_msg(x[i] == y[i], "made file: byte %zu differs (%s): "
		    "librrd %02x, direct %02x", i, region(x, i), x[i], y[i]);
	FILE *f = fopen(b, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(y, 1, nb, f), nb);
	fclose(f);
	free(x);
	free(y);
}

/* A random value as a writer may send it; exact: only values librrd's
 * parser reads exactly (integers, eighths, unknowns, -0). */
static double some_value(unsigned *seed, int exact)
{
	if (exact) {
		switch (rand_r(seed) % 5) {
		case 0:
			return NAN;
		case 1:
			return -0.0;
		case 2:
			return (double)(rand_r(seed) % 100000);
		default:
			return (rand_r(seed) % 8000) / 8.0;
		}
	}
	switch (rand_r(seed) % 9) {
	case 0:
		return NAN;
	case 1:
		return -0.0;
	case 2:
		return (double)(rand_r(seed) % 1000);
	case 3:
		return 1.0 / 3.0 * (rand_r(seed) % 100);
	case 4:
		return -(double)rand_r(seed) / 7.0;
	case 5:
		return 1e300 * (rand_r(seed) % 3);
	case 6:
		return INFINITY;
	default:
		return (double)rand_r(seed) / RAND_MAX * 250.0;
	}
}

/* The update string librrd gets from the writer (rrd_files.c). */
static void row_text(struct vt_buf *b, time_t t, const double *v, size_t n)
{
	vt_buf_reset(b);
	vt_buf_printf(b, "%lld", (long long)t);
	for (size_t i = 0; i < n; i++) {
		vt_buf_putc(b, ':');
		if (isfinite(v[i]))
			vt_buf_put_double(b, v[i]);
		else
			vt_buf_putc(b, 'U');
	}
}

/* The next update time after t for a file of step: mostly the next
 * step, sometimes between steps, several steps on, past the heartbeat,
 * or past a whole day. */
static time_t next_time(time_t t, unsigned long step, unsigned *seed)
{
	switch (rand_r(seed) % 12) {
	case 0:
		return t + 1;
	case 1:
		return t + (time_t)step * (2 + rand_r(seed) % 3);
	case 2:
		return t + (time_t)step * 7 + rand_r(seed) % 5;
	case 3:
		if (rand_r(seed) % 8 == 0)
			return t + 86400 + (time_t)step * (rand_r(seed) % 50);
		return t + (time_t)step / 2 + 1;
	default:
		return t + (time_t)step;
	}
}

/* Run rounds of random batches on a librrd copy and a direct copy of the
 * file made by args, comparing after every batch. */
static void differential(const char *name, unsigned long step,
    const struct vt_rrd_create_args *args, size_t nds, unsigned seed,
    int rounds, int exact)
{
	char a[128], b[128], err[512];
	snprintf(a, sizeof a, "%s/%s-lib.rrd", tmp, name);
	snprintf(b, sizeof b, "%s/%s-direct.rrd", tmp, name);
	ck_assert_msg(vt_rrd_lib_create(a, step, T0, args, err, sizeof err) == 0,
	    "%s", err);
	struct vt_rrd_direct *d = vt_rrd_direct_create();
	made_alike(d, a, b, step, args);
	struct vt_buf text = { 0 };
	time_t t = T0;
	for (int r = 0; r < rounds; r++) {
		size_t k = 1 + (size_t)(rand_r(&seed) % 40);
		double vals[64][VT_RRD_MAX_DS];
		struct vt_rrd_direct_row rows[64];
		char *argv[64];
		for (size_t j = 0; j < k; j++) {
			t = next_time(t, step, &seed);
			for (size_t i = 0; i < nds; i++)
				vals[j][i] = some_value(&seed, exact);
			rows[j].t = t;
			rows[j].values = vals[j];
			row_text(&text, t, vals[j], nds);
			argv[j] = strdup(text.data);
		}
		int rc = vt_rrd_lib_update(NULL, a, (int)k,
		    (const char *const *)argv, err, sizeof err);
		ck_assert_msg(rc == 0, "librrd: %s", err);
		rc = vt_rrd_direct_update(d, b, rows, k, nds, err, sizeof err);
		ck_assert_msg(rc == 0, "direct: %s", err);
		char what[96];
		snprintf(what, sizeof what, "%s round %d (%zu rows to %lld)",
		    name, r, k, (long long)t);
		assert_same(a, b, what, exact);
		for (size_t j = 0; j < k; j++)
			free(argv[j]);
	}
	vt_buf_fini(&text);
	vt_rrd_direct_destroy(d);
}

static void layout_args(enum vt_rrd_kind kind, unsigned long step,
    struct vt_rrd_create_args *args, size_t *nds)
{
	static const double pct[] = { 50, 90, 95, 99 };
	struct vt_rrd_layout_opts o;
	struct vt_rrd_ds_list ds;
	vt_rrd_layout_default_opts(&o);
	vt_rrd_layout_stored_ds(kind, pct, 4, &o, &ds);
	vt_rrd_layout_create_args_max(&ds, step, VT_RRD_DEFAULT_POINTS,
	    VT_RRD_MAX_COARSE, args);
	*nds = ds.n;
}

START_TEST(timer_at_1s_as_librrd)
{
	struct vt_rrd_create_args args;
	size_t nds;
	layout_args(VT_RRD_TIMER, 1, &args, &nds);
	differential("timer1", 1, &args, nds, 7, 150, 0);
	differential("timer1x", 1, &args, nds, 8, 150, 1);
}
END_TEST

START_TEST(counter_at_10s_as_librrd)
{
	struct vt_rrd_create_args args;
	size_t nds;
	layout_args(VT_RRD_COUNTER, 10, &args, &nds);
	differential("counter10", 10, &args, nds, 11, 150, 0);
	differential("counter10x", 10, &args, nds, 12, 150, 1);
}
END_TEST

/* Every consolidation function, xff 0.2 and 0.9, a heartbeat shorter
 * than some gaps, min and max bounds, short archives that wrap often. */
START_TEST(every_consolidation_as_librrd)
{
	struct vt_rrd_create_args args;
	static const char *const argv[] = {
		"DS:a:GAUGE:25:U:U", "DS:b:GAUGE:12:0:100", "DS:c:GAUGE:60:U:U",
		"RRA:AVERAGE:0.5:1:20", "RRA:AVERAGE:0.2:3:7",
		"RRA:MIN:0.9:4:5", "RRA:MAX:0.5:2:9", "RRA:LAST:0.5:5:4",
		"RRA:AVERAGE:0.5:1:3",
	};
	memset(&args, 0, sizeof args);
	args.argc = (int)(sizeof argv / sizeof argv[0]);
	for (int i = 0; i < args.argc; i++)
		args.argv[i] = argv[i];
	for (unsigned seed = 1; seed <= 6; seed++) {
		char name[16];
		snprintf(name, sizeof name, "all%u", seed);
		differential(name, 5, &args, 3, seed, 120, seed % 2);
	}
}
END_TEST

START_TEST(refuses_what_it_does_not_write)
{
	char a[128], err[512];
	struct vt_rrd_create_args args;
	static const char *const argv[] = {
		"DS:a:COUNTER:20:U:U", "RRA:AVERAGE:0.5:1:10",
	};
	memset(&args, 0, sizeof args);
	args.argc = 2;
	args.argv[0] = argv[0];
	args.argv[1] = argv[1];
	snprintf(a, sizeof a, "%s/counter.rrd", tmp);
	ck_assert_int_eq(vt_rrd_lib_create(a, 10, T0, &args, err, sizeof err), 0);
	size_t n0, n1;
	unsigned char *before = slurp(a, &n0);
	struct vt_rrd_direct *d = vt_rrd_direct_create();
	double v = 5;
	struct vt_rrd_direct_row row = { T0 + 10, &v };
	ck_assert_int_eq(vt_rrd_direct_update(d, a, &row, 1, 1, err, sizeof err),
	    -ENOTSUP);
	ck_assert_ptr_nonnull(strstr(err, "GAUGE"));
	char made[160];
	snprintf(made, sizeof made, "%s/counter-direct.rrd", tmp);
	ck_assert_int_eq(vt_rrd_direct_make(d, made, 10, T0, &args, err,
	    sizeof err), -ENOTSUP);
	ck_assert_int_eq(access(made, F_OK), -1);
	unsigned char *after = slurp(a, &n1);
	ck_assert_uint_eq(n0, n1);
	ck_assert_int_eq(memcmp(before, after, n0), 0);

	/* Not an RRD file, no such file. */
	snprintf(a, sizeof a, "%s/junk.rrd", tmp);
	FILE *f = fopen(a, "w");
	fputs("not an rrd file, not at all, but long enough to read a head "
	    "from it: 128 bytes of text are what a stat head takes, so ....."
	    "...........................................................", f);
	fclose(f);
	ck_assert_int_eq(vt_rrd_direct_update(d, a, &row, 1, 1, err, sizeof err),
	    -EINVAL);
	snprintf(a, sizeof a, "%s/none.rrd", tmp);
	ck_assert_int_eq(vt_rrd_direct_update(d, a, &row, 1, 1, err, sizeof err),
	    -ENOENT);
	free(before);
	free(after);
	vt_rrd_direct_destroy(d);
}
END_TEST

/* A row not after the last update: the rows before it are written (as
 * librrd keeps them), the error names both times; a wrong number of
 * values changes nothing. */
START_TEST(late_row_keeps_the_rows_before)
{
	struct vt_rrd_create_args args;
	size_t nds;
	char a[128], b[128], err[512];
	layout_args(VT_RRD_GAUGE, 10, &args, &nds);
	ck_assert_uint_eq(nds, 1);
	snprintf(a, sizeof a, "%s/g-lib.rrd", tmp);
	snprintf(b, sizeof b, "%s/g-direct.rrd", tmp);
	ck_assert_int_eq(vt_rrd_lib_create(a, 10, T0, &args, err, sizeof err), 0);
	struct vt_rrd_direct *d = vt_rrd_direct_create();
	made_alike(d, a, b, 10, &args);
	const char *argv[] = { "1700000010:4", "1700000020:5", "1700000015:6" };
	double v[3] = { 4, 5, 6 };
	struct vt_rrd_direct_row rows[3] = {
		{ T0 + 10, &v[0] }, { T0 + 20, &v[1] }, { T0 + 15, &v[2] },
	};
	ck_assert_int_ne(vt_rrd_lib_update(NULL, a, 3, argv, err, sizeof err), 0);
	ck_assert_int_eq(vt_rrd_direct_update(d, b, rows, 3, 1, err, sizeof err),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "illegal attempt to update using "
	    "time 1700000015 when last update time is 1700000020"));
	assert_same(a, b, "late row", 1);
	ck_assert_int_eq(vt_rrd_direct_update(d, b, rows, 1, 2, err, sizeof err),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "expected 1 data source readings"));
	assert_same(a, b, "wrong count", 1);
	vt_rrd_direct_destroy(d);
}
END_TEST

Suite *vt_test_rrd_direct_suite(void)
{
	Suite *s = suite_create("rrd_direct");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, timer_at_1s_as_librrd);
	tcase_add_test(tc, counter_at_10s_as_librrd);
	tcase_add_test(tc, every_consolidation_as_librrd);
	tcase_add_test(tc, refuses_what_it_does_not_write);
	tcase_add_test(tc, late_row_keeps_the_rows_before);
	suite_add_tcase(s, tc);
	return s;
}
