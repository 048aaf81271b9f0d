/*
 * rrd_direct.c - an RRD file updated in place with pread/pwrite, as
 * rrd_update would (rrd_direct.h).
 *
 * The arithmetic follows RRDtool's update step for step, in the same
 * order and the same types, so that the bytes on disk are the ones librrd
 * would write: a primary data point (PDP) is the time-weighted value of
 * the step it closes; each archive consolidates pdp_cnt of them into a
 * row (its cdp_prep keeps the running value and the count of unknown
 * PDPs); an archive whose rows are single PDPs writes them as they come.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/base/buf.h"
#include "collector/base/fdio.h"
#include "collector/base/xmalloc.h"
#include "exporters/rrd/rrd_direct.h"
#include "exporters/rrd/rrd_layout.h"

_Static_assert(sizeof(struct vt_rrd_stat_head) == 128, "stat_head_t");
_Static_assert(sizeof(struct vt_rrd_ds_def) == 120, "ds_def_t");
_Static_assert(sizeof(struct vt_rrd_rra_def) == 120, "rra_def_t");
_Static_assert(sizeof(struct vt_rrd_live_head) == 16, "live_head_t");
_Static_assert(sizeof(struct vt_rrd_pdp_prep) == 112, "pdp_prep_t");
_Static_assert(sizeof(struct vt_rrd_cdp_prep) == 80, "cdp_prep_t");

#define MAX_DS 64
#define MAX_RRA 64
#define FIRST_READ 8192          /* bytes read at once: most headers */
#define RUN_ROWS 64              /* rows of an archive written at once */
#define NAN_CHUNK 8192           /* unknowns written at once (64 KB) */
#define COUNT_MAX (1ul << 32)   /* rows, steps: more is broken */

/* Indexes into the scratch and parameter arrays (rrd_format.h). */
enum { PDP_UNKN_SEC = 0, PDP_VAL = 1 };
enum { CDP_VAL = 0, CDP_UNKN_PDP = 1, CDP_PRIMARY = 8, CDP_SECONDARY = 9 };
enum { DS_MRHB = 0, DS_MIN = 1, DS_MAX = 2 };
enum { RRA_XFF = 0 };
enum cf { CF_AVERAGE, CF_MINIMUM, CF_MAXIMUM, CF_LAST };

/* librrd's unknown: the NaN of 0.0 / 0.0 on this machine (sign bit set
 * on x86), so that the bytes match. */
#define DNAN (-NAN)

/* A run of consecutive rows of one archive, waiting to be written. */
struct run {
	unsigned long start;
	size_t len;
};

struct vt_rrd_direct {
	unsigned char *hdr;             /* the file's header */
	size_t caphdr;
	double *runbuf;                 /* RUN_ROWS rows per archive */
	double *nans;                   /* NAN_CHUNK unknowns (making files) */
	size_t caprun;
	struct run runs[MAX_RRA];
};

/* The header, as pointers into d->hdr. */
struct view {
	struct vt_rrd_stat_head *st;
	struct vt_rrd_ds_def *ds;
	struct vt_rrd_rra_def *rra;
	struct vt_rrd_live_head *live;
	struct vt_rrd_pdp_prep *pdp;
	struct vt_rrd_cdp_prep *cdp;
	unsigned long *rra_ptr;
	size_t live_off, size;          /* the live part: [live_off, size) */
	off_t rra_start[MAX_RRA];       /* where each archive's rows begin */
	enum cf cf[MAX_RRA];
	int fd;
};

struct vt_rrd_direct *vt_rrd_direct_create(void)
{
	return vt_xcalloc(1, sizeof(struct vt_rrd_direct));
}

void vt_rrd_direct_destroy(struct vt_rrd_direct *d)
{
	if (d == NULL)
		return;
	free(d->hdr);
	free(d->runbuf);
	free(d->nans);
	free(d);
}

static int fail(char *err, size_t errlen, int rc, const char *path,
    const char *why)
{
	snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}

static void reserve_hdr(struct vt_rrd_direct *d, size_t n)
{
	if (d->caphdr < n) {
		free(d->hdr);
		d->caphdr = n > FIRST_READ ? n : FIRST_READ;
		d->hdr = vt_xmalloc(d->caphdr);
	}
}

static int cf_of(const char *name, enum cf *out)
{
	static const char *const names[] = { "AVERAGE", "MIN", "MAX", "LAST" };
	for (int i = 0; i < 4; i++) {
		if (strncmp(name, names[i], 20) == 0) {
			*out = (enum cf)i;
			return 0;
		}
	}
	return -1;
}

/* Read and check the header of the open file (v->fd) into d->hdr. */
static int load(struct vt_rrd_direct *d, struct view *v, const char *path,
    char *err, size_t errlen)
{
	struct stat sb;
	if (fstat(v->fd, &sb) < 0)
		return fail(err, errlen, -errno, path, strerror(errno));
	size_t first = (size_t)sb.st_size < FIRST_READ ? (size_t)sb.st_size :
	    FIRST_READ;
	if (first < sizeof(struct vt_rrd_stat_head))
		return fail(err, errlen, -EINVAL, path, "not an RRD file");
	reserve_hdr(d, FIRST_READ);
	int rc = vt_fd_pread_all(v->fd, d->hdr, first, 0);
	if (rc < 0)
		return fail(err, errlen, rc, path, strerror(-rc));
	const struct vt_rrd_stat_head *st = (const void *)d->hdr;
	if (memcmp(st->cookie, "RRD", 4) != 0 ||
	    st->float_cookie != VT_RRD_FLOAT_COOKIE)
		return fail(err, errlen, -EINVAL, path,
		    "not an RRD file of this platform");
	if (strcmp(st->version, "0003") != 0 && strcmp(st->version, "0004") != 0)
		return fail(err, errlen, -ENOTSUP, path, "an RRD format version "
		    "written through librrd");
	unsigned long nds = st->ds_cnt, nrra = st->rra_cnt;
	if (nds == 0 || nrra == 0 || st->pdp_step == 0)
		return fail(err, errlen, -EINVAL, path, "not an RRD file");
	if (nds > MAX_DS || nrra > MAX_RRA)
		return fail(err, errlen, -ENOTSUP, path, "more data sources or "
		    "archives than written here");
	size_t live_off = sizeof *v->st + nds * sizeof *v->ds +
	    nrra * sizeof *v->rra;
	size_t size = live_off + sizeof *v->live + nds * sizeof *v->pdp +
	    nds * nrra * sizeof *v->cdp + nrra * sizeof *v->rra_ptr;
	if (size > first) {
		if ((size_t)sb.st_size < size)
			return fail(err, errlen, -EINVAL, path, "truncated");
		reserve_hdr(d, size);
		rc = vt_fd_pread_all(v->fd, d->hdr, size, 0);
		if (rc < 0)
			return fail(err, errlen, rc, path, strerror(-rc));
	}
	unsigned char *h = d->hdr;
	v->st = (void *)h;
	v->ds = (void *)(h + sizeof *v->st);
	v->rra = (void *)(h + sizeof *v->st + nds * sizeof *v->ds);
	v->live = (void *)(h + live_off);
	v->pdp = (void *)(h + live_off + sizeof *v->live);
	v->cdp = (void *)((unsigned char *)v->pdp + nds * sizeof *v->pdp);
	v->rra_ptr = (void *)((unsigned char *)v->cdp +
	    nds * nrra * sizeof *v->cdp);
	v->live_off = live_off;
	v->size = size;
	for (unsigned long i = 0; i < nds; i++)
		if (strncmp(v->ds[i].dst, "GAUGE", 20) != 0)
			return fail(err, errlen, -ENOTSUP, path, "a data source "
			    "type other than GAUGE");
	/* Every count from the file is bounded before it is used: a broken
	 * or hostile file is refused, never written past its end, and no
	 * value of it leads to an undefined conversion (see also
	 * simple_update in apply). */
	if (v->live->last_up < 0 || v->live->last_up_usec < 0 ||
	    v->live->last_up_usec >= 1000000)
		return fail(err, errlen, -EINVAL, path, "a broken last update");
	if (st->pdp_step > COUNT_MAX)
		return fail(err, errlen, -EINVAL, path, "a broken step");
	uint64_t at = size;
	for (unsigned long r = 0; r < nrra; r++) {
		if (cf_of(v->rra[r].cf, &v->cf[r]) < 0)
			return fail(err, errlen, -ENOTSUP, path, "a consolidation "
			    "function other than AVERAGE, MIN, MAX, LAST");
		unsigned long rows = v->rra[r].row_cnt;
		if (rows == 0 || rows > COUNT_MAX ||
		    v->rra[r].pdp_cnt == 0 ||
		    v->rra[r].pdp_cnt > COUNT_MAX ||
		    v->rra_ptr[r] >= rows)
			return fail(err, errlen, -EINVAL, path, "a broken archive");
		v->rra_start[r] = (off_t)at;
		at += (uint64_t)rows * nds * sizeof(double);   /* < 2^45 */
		if (at > (uint64_t)sb.st_size)
			return fail(err, errlen, -EINVAL, path, "truncated");
	}
	if (d->caprun < nrra * RUN_ROWS * nds) {
		free(d->runbuf);
		d->caprun = nrra * RUN_ROWS * nds;
		d->runbuf = vt_xmalloc(d->caprun * sizeof *d->runbuf);
	}
	for (unsigned long r = 0; r < nrra; r++)
		d->runs[r].len = 0;
	return 0;
}

static int flush_run(struct vt_rrd_direct *d, const struct view *v,
    unsigned long r)
{
	struct run *ru = &d->runs[r];
	size_t nds = v->st->ds_cnt;
	if (ru->len == 0)
		return 0;
	int rc = vt_fd_pwrite_all(v->fd, d->runbuf + r * RUN_ROWS * nds,
	    ru->len * nds * sizeof(double),
	    v->rra_start[r] + (off_t)(ru->start * nds * sizeof(double)));
	ru->len = 0;
	return rc;
}

/* Advance archive r to its next row and write there the CDP scratch
 * value idx of every data source (write_to_rras). */
static int put_row(struct vt_rrd_direct *d, const struct view *v,
    unsigned long r, int idx)
{
	unsigned long *cur = &v->rra_ptr[r];
	size_t nds = v->st->ds_cnt;
	if (++*cur >= v->rra[r].row_cnt)
		*cur = 0;
	struct run *ru = &d->runs[r];
	if (ru->len && (*cur != ru->start + ru->len || ru->len == RUN_ROWS)) {
		int rc = flush_run(d, v, r);
		if (rc < 0)
			return rc;
	}
	if (ru->len == 0)
		ru->start = *cur;
	double *dst = d->runbuf + (r * RUN_ROWS + ru->len) * nds;
	for (size_t i = 0; i < nds; i++)
		dst[i] = v->cdp[r * nds + i].scratch[idx].val;
	ru->len++;
	return 0;
}

/* What an archive's open row holds after a row is completed
 * (initialize_carry_over): the PDPs of this update that fall into the
 * next row, or the starting value of the function. */
static double carry_over(double pdp_temp, enum cf cf, unsigned long elapsed,
    unsigned long start, unsigned long pdp_cnt)
{
	unsigned long into = (elapsed - start) % pdp_cnt;
	if (into == 0 || isnan(pdp_temp)) {
		switch (cf) {
		case CF_MAXIMUM:
			return -INFINITY;
		case CF_MINIMUM:
			return INFINITY;
		case CF_AVERAGE:
			return 0;
		case CF_LAST:
			break;
		}
		return DNAN;
	}
	return cf == CF_AVERAGE ? pdp_temp * into : pdp_temp;
}

/* The completed row of an archive whose unknown PDPs are within its xff
 * (initialize_cdp_val). */
static void first_cdp(union vt_rrd_unival *s, enum cf cf, double pdp_temp,
    unsigned long start, unsigned long pdp_cnt)
{
	double cum, cur;
	switch (cf) {
	case CF_AVERAGE:
		cum = isnan(s[CDP_VAL].val) ? 0.0 : s[CDP_VAL].val;
		cur = isnan(pdp_temp) ? 0.0 : pdp_temp;
		s[CDP_PRIMARY].val = (cum + cur * start) /
		    (pdp_cnt - s[CDP_UNKN_PDP].cnt);
		break;
	case CF_MAXIMUM:
		cum = isnan(s[CDP_VAL].val) ? -INFINITY : s[CDP_VAL].val;
		cur = isnan(pdp_temp) ? -INFINITY : pdp_temp;
		s[CDP_PRIMARY].val = cur > cum ? cur : cum;
		break;
	case CF_MINIMUM:
		cum = isnan(s[CDP_VAL].val) ? INFINITY : s[CDP_VAL].val;
		cur = isnan(pdp_temp) ? INFINITY : pdp_temp;
		s[CDP_PRIMARY].val = cur < cum ? cur : cum;
		break;
	case CF_LAST:
		s[CDP_PRIMARY].val = pdp_temp;
		break;
	}
}

/* A PDP joining a row still open (calculate_cdp_val). */
static double join_cdp(double cdp_val, double pdp_temp,
    unsigned long elapsed, enum cf cf)
{
	if (isnan(cdp_val)) {
		if (cf == CF_AVERAGE)
			pdp_temp *= elapsed;
		return pdp_temp;
	}
	switch (cf) {
	case CF_AVERAGE:
		return cdp_val + pdp_temp * elapsed;
	case CF_MINIMUM:
		return pdp_temp < cdp_val ? pdp_temp : cdp_val;
	case CF_MAXIMUM:
		return pdp_temp > cdp_val ? pdp_temp : cdp_val;
	case CF_LAST:
		break;
	}
	return pdp_temp;
}

/* Consolidate elapsed new PDPs of value pdp_temp into an archive of
 * pdp_cnt > 1 that completes step_cnt rows (update_cdp). */
static void consolidate(union vt_rrd_unival *s, enum cf cf, double pdp_temp,
    unsigned long step_cnt, unsigned long elapsed, unsigned long start,
    unsigned long pdp_cnt, double xff)
{
	if (step_cnt == 0) {
		if (isnan(pdp_temp))
			s[CDP_UNKN_PDP].cnt += elapsed;
		else
			s[CDP_VAL].val = join_cdp(s[CDP_VAL].val, pdp_temp,
			    elapsed, cf);
		return;
	}
	if (isnan(pdp_temp)) {
		s[CDP_UNKN_PDP].cnt += start;
		s[CDP_SECONDARY].val = DNAN;
	} else {
		s[CDP_SECONDARY].val = pdp_temp;
	}
	if (s[CDP_UNKN_PDP].cnt > pdp_cnt * xff)
		s[CDP_PRIMARY].val = DNAN;
	else
		first_cdp(s, cf, pdp_temp, start, pdp_cnt);
	s[CDP_VAL].val = carry_over(pdp_temp, cf, elapsed, start, pdp_cnt);
	s[CDP_UNKN_PDP].cnt = isnan(pdp_temp) ?
	    (elapsed - start) % pdp_cnt : 0;
}

/* The text of the last reading of each data source, as librrd keeps the
 * string it was given (strncpy: zero-padded); only the last row's
 * matters, earlier ones are overwritten. */
static void keep_text(const struct view *v, const double *vals)
{
	for (size_t i = 0; i < v->st->ds_cnt; i++) {
		char text[VT_DOUBLE_TEXT] = "U";
		double x = vals[i] + 0.0;
		size_t n = 1, cap = sizeof v->pdp[i].last_ds - 1;
		if (isfinite(x))
			n = (size_t)vt_double_text(text, x);
		memset(v->pdp[i].last_ds, 0, cap + 1);
		memcpy(v->pdp[i].last_ds, text, n < cap ? n : cap);
	}
}

/*
 * Close elapsed PDPs with the reading pdp_new (rate x seconds over
 * interval, pre_int of it before the first step boundary, post_int after
 * the last), consolidate them into every archive and write the rows
 * completed: process_all_pdp_st, update_all_cdp_prep, the single-PDP
 * archives' part of update_aberrant_cdps, write_to_rras.
 */
static int close_pdps(struct vt_rrd_direct *d, struct view *v,
    double interval, double pre_int, double post_int, unsigned long elapsed,
    unsigned long proc_pdp_cnt, const double *pdp_new)
{
	size_t nds = v->st->ds_cnt;
	unsigned long step = v->st->pdp_step;
	double pdp_temp[MAX_DS];
	long diff_pdp_st = (long)(elapsed * step);
	for (size_t i = 0; i < nds; i++) {
		union vt_rrd_unival *s = v->pdp[i].scratch;
		unsigned long mrhb = v->ds[i].par[DS_MRHB].cnt;
		double pre_unknown = 0.0;
		if (isnan(pdp_new[i])) {
			pre_unknown = pre_int;
		} else {
			if (isnan(s[PDP_VAL].val))
				s[PDP_VAL].val = 0;
			s[PDP_VAL].val += pdp_new[i] / interval * pre_int;
		}
		if (interval > mrhb ||
		    step / 2.0 < (int)s[PDP_UNKN_SEC].cnt)
			pdp_temp[i] = DNAN;
		else
			pdp_temp[i] = s[PDP_VAL].val /
			    ((double)(diff_pdp_st - s[PDP_UNKN_SEC].cnt) -
			    pre_unknown);
		if (isnan(pdp_new[i])) {
			s[PDP_UNKN_SEC].cnt = floor(post_int);
			s[PDP_VAL].val = DNAN;
		} else {
			s[PDP_UNKN_SEC].cnt = 0;
			s[PDP_VAL].val = pdp_new[i] / interval * post_int;
		}
	}

	unsigned long step_cnt[MAX_RRA];
	for (unsigned long r = 0; r < v->st->rra_cnt; r++) {
		unsigned long pdp_cnt = v->rra[r].pdp_cnt;
		unsigned long start = pdp_cnt - proc_pdp_cnt % pdp_cnt;
		step_cnt[r] = 0;
		if (start <= elapsed) {
			/* Never more rows than the archive has. */
			step_cnt[r] = (elapsed - start) / pdp_cnt + 1;
			if (step_cnt[r] > v->rra[r].row_cnt)
				step_cnt[r] = v->rra[r].row_cnt;
		}
		for (size_t i = 0; i < nds; i++) {
			union vt_rrd_unival *s = v->cdp[r * nds + i].scratch;
			if (pdp_cnt > 1) {
				consolidate(s, v->cf[r], pdp_temp[i], step_cnt[r],
				    elapsed, start, pdp_cnt,
				    v->rra[r].par[RRA_XFF].val);
			} else if (elapsed > 2) {
				s[CDP_PRIMARY].val = pdp_temp[i];
				s[CDP_SECONDARY].val = pdp_temp[i];
			} else {
				s[CDP_PRIMARY].val = pdp_temp[i];
				if (elapsed == 2)
					s[CDP_SECONDARY].val = pdp_temp[i];
			}
		}
	}

	for (unsigned long r = 0; r < v->st->rra_cnt; r++) {
		int idx = CDP_PRIMARY;
		for (unsigned long n = step_cnt[r]; n > 0; n--) {
			int rc = put_row(d, v, r, idx);
			if (rc < 0)
				return rc;
			idx = CDP_SECONDARY;
		}
	}
	return 0;
}

/* One update at t (process_arg). */
static int apply(struct vt_rrd_direct *d, struct view *v, time_t t,
    const double *vals, const char *path, char *err, size_t errlen)
{
	struct vt_rrd_live_head *lh = v->live;
	size_t nds = v->st->ds_cnt;
	unsigned long step = v->st->pdp_step;
	if (t < lh->last_up || (t == lh->last_up && 0 <= lh->last_up_usec)) {
		char why[128];
		snprintf(why, sizeof why, "illegal attempt to update using time "
		    "%lld when last update time is %lld (minimum one second step)",
		    (long long)t, (long long)lh->last_up);
		return fail(err, errlen, -EINVAL, path, why);
	}
	double interval = (double)(t - lh->last_up) +
	    (double)((long)0 - lh->last_up_usec) / 1e6f;

	/* The new readings as rate x seconds (update_pdp_prep). */
	double pdp_new[MAX_DS];
	for (size_t i = 0; i < nds; i++) {
		const struct vt_rrd_ds_def *ds = &v->ds[i];
		/* The value librrd reads back from the text the writer
		 * sends (vt_double_text, which is exact but for -0). */
		double x = vals[i] + 0.0;
		pdp_new[i] = DNAN;
		if (!isfinite(x) || (double)ds->par[DS_MRHB].cnt < interval)
			continue;
		pdp_new[i] = x * interval;
		if ((!isnan(ds->par[DS_MAX].val) && x > ds->par[DS_MAX].val) ||
		    (!isnan(ds->par[DS_MIN].val) && x < ds->par[DS_MIN].val))
			pdp_new[i] = DNAN;
	}

	/* Steps passed since the last update (calculate_elapsed_steps). */
	unsigned long last_up = (unsigned long)lh->last_up;
	unsigned long proc_pdp_st = last_up - last_up % step;
	unsigned long occu_pdp_age = (unsigned long)t % step;
	unsigned long occu_pdp_st = (unsigned long)t - occu_pdp_age;
	double pre_int, post_int;
	if (occu_pdp_st > proc_pdp_st) {
		pre_int = (double)((long)occu_pdp_st - lh->last_up);
		pre_int -= ((double)lh->last_up_usec) / 1e6f;
		post_int = (double)occu_pdp_age;
	} else {
		pre_int = interval;
		post_int = 0;
	}
	unsigned long proc_pdp_cnt = proc_pdp_st / step;
	unsigned long elapsed = (occu_pdp_st - proc_pdp_st) / step;

	int rc = 0;
	if (elapsed == 0) {             /* simple_update */
		for (size_t i = 0; i < nds; i++) {
			union vt_rrd_unival *s = v->pdp[i].scratch;
			if (isnan(pdp_new[i])) {
				/* cnt += floor(interval), as librrd does it
				 * (through a double), saturated rather than
				 * undefined past the range. */
				double x = (double)s[PDP_UNKN_SEC].cnt +
				    floor(interval);
				s[PDP_UNKN_SEC].cnt = x < 18446744073709549568.0 ?
				    (unsigned long)x : ULONG_MAX;
			} else if (isnan(s[PDP_VAL].val)) {
				s[PDP_VAL].val = pdp_new[i];
			} else {
				s[PDP_VAL].val += pdp_new[i];
			}
		}
		goto done;
	}
	/* Several steps closed and the last update was inside one: that
	 * step is closed first with its share of the reading (librrd
	 * 1.7's split of the most left open PDP). */
	unsigned long sec_open;
	if (elapsed > 1 && (sec_open = (unsigned long)pre_int % step) > 0) {
		double open_new[MAX_DS];
		for (size_t i = 0; i < nds; i++) {
			if (!isnan(pdp_new[i]) && interval > 0) {
				open_new[i] = pdp_new[i] * (double)sec_open /
				    interval;
				pdp_new[i] -= open_new[i];
			} else {
				open_new[i] = DNAN;
			}
		}
		rc = close_pdps(d, v, (double)sec_open, (double)sec_open, 0.0, 1,
		    proc_pdp_cnt, open_new);
		if (rc < 0)
			return fail(err, errlen, rc, path, strerror(-rc));
		interval -= sec_open;
		pre_int -= sec_open;
		elapsed--;
		proc_pdp_cnt++;
	}
	rc = close_pdps(d, v, interval, pre_int, post_int, elapsed,
	    proc_pdp_cnt, pdp_new);
	if (rc < 0)
		return fail(err, errlen, rc, path, strerror(-rc));
done:
	lh->last_up = t;
	lh->last_up_usec = 0;
	return 0;
}

int vt_rrd_direct_update(struct vt_rrd_direct *d, const char *path,
    const struct vt_rrd_direct_row *rows, size_t nrows, size_t nvalues,
    char *err, size_t errlen)
{
	struct view v;
	memset(&v, 0, sizeof v);
	v.fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (v.fd < 0)
		return fail(err, errlen, -errno, path, strerror(errno));
	/* librrd's lock (fcntl, whole file), per open file here. */
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int rc;
	if (fcntl(v.fd, F_OFD_SETLK, &lk) < 0) {
		rc = fail(err, errlen, errno == EACCES || errno == EAGAIN ?
		    -EAGAIN : -errno, path, "could not lock RRD");
		goto out;
	}
	rc = load(d, &v, path, err, errlen);
	if (rc < 0)
		goto out;
	if (nvalues != v.st->ds_cnt) {
		char why[96];
		snprintf(why, sizeof why, "expected %lu data source readings "
		    "(got %zu)", v.st->ds_cnt, nvalues);
		rc = fail(err, errlen, -EINVAL, path, why);
		goto out;
	}
	size_t done = 0;
	for (; done < nrows; done++) {
		rc = apply(d, &v, rows[done].t, rows[done].values, path, err,
		    errlen);
		if (rc < 0)
			break;
	}
	if (done == 0)
		goto out;
	keep_text(&v, rows[done - 1].values);
	/* What was done is written, as librrd keeps the updates before a
	 * bad one: the rows, then the live part of the header. */
	for (unsigned long r = 0; r < v.st->rra_cnt; r++) {
		int wrc = flush_run(d, &v, r);
		if (wrc < 0 && rc == 0)
			rc = fail(err, errlen, wrc, path, strerror(-wrc));
	}
	int wrc = vt_fd_pwrite_all(v.fd, d->hdr + v.live_off, v.size - v.live_off,
	    (off_t)v.live_off);
	if (wrc < 0 && rc == 0)
		rc = fail(err, errlen, wrc, path, strerror(-wrc));
out:
	close(v.fd);
	return rc;
}

/* ---- making a file (rrd_create) ---- */

/* "DS:name:GAUGE:heartbeat:min:max" ("U": none). */
static int parse_ds(const char *a, struct vt_rrd_ds_def *ds)
{
	char name[32], dst[32], lo[40], hi[40];
	unsigned long hb;
	if (sscanf(a, "DS:%31[^:]:%31[^:]:%lu:%39[^:]:%39s", name, dst, &hb,
	    lo, hi) != 5 || strcmp(dst, "GAUGE") != 0 ||
	    strlen(name) >= sizeof ds->name || hb == 0)
		return -1;
	memset(ds, 0, sizeof *ds);
	memcpy(ds->name, name, strlen(name));
	memcpy(ds->dst, "GAUGE", 5);
	ds->par[DS_MRHB].cnt = hb;
	char *end;
	ds->par[DS_MIN].val = strcmp(lo, "U") == 0 ? DNAN : strtod(lo, &end);
	if (strcmp(lo, "U") != 0 && *end != '\0')
		return -1;
	ds->par[DS_MAX].val = strcmp(hi, "U") == 0 ? DNAN : strtod(hi, &end);
	if (strcmp(hi, "U") != 0 && *end != '\0')
		return -1;
	return 0;
}

/* "RRA:CF:xff:steps:rows". */
static int parse_rra(const char *a, struct vt_rrd_rra_def *rra)
{
	char cf[32];
	double xff;
	unsigned long steps, rows;
	enum cf c;
	if (sscanf(a, "RRA:%31[^:]:%lf:%lu:%lu", cf, &xff, &steps, &rows) != 4 ||
	    cf_of(cf, &c) < 0 || !(xff >= 0 && xff < 1) || steps == 0 ||
	    rows == 0)
		return -1;
	memset(rra, 0, sizeof *rra);
	memcpy(rra->cf, cf, strlen(cf));
	rra->row_cnt = rows;
	rra->pdp_cnt = steps;
	rra->par[RRA_XFF].val = xff;
	return 0;
}

int vt_rrd_direct_make(struct vt_rrd_direct *d, const char *path,
    unsigned long step, time_t last_up, const struct vt_rrd_create_args *args,
    char *err, size_t errlen)
{
	struct vt_rrd_stat_head st;
	struct vt_rrd_ds_def ds[MAX_DS];
	struct vt_rrd_rra_def rra[MAX_RRA];
	size_t nds = 0, nrra = 0;
	for (int i = 0; i < args->argc; i++) {
		const char *a = args->argv[i];
		int bad;
		if (strncmp(a, "DS:", 3) == 0)
			bad = nds == MAX_DS || parse_ds(a, &ds[nds++]) < 0;
		else if (strncmp(a, "RRA:", 4) == 0)
			bad = nrra == MAX_RRA || parse_rra(a, &rra[nrra++]) < 0;
		else
			bad = 1;
		if (bad)
			return fail(err, errlen, -ENOTSUP, path, "a definition "
			    "made through librrd");
	}
	if (nds == 0 || nrra == 0 || step == 0)
		return fail(err, errlen, -EINVAL, path, "no data source or "
		    "archive");

	memset(&st, 0, sizeof st);
	memcpy(st.cookie, "RRD", 4);
	memcpy(st.version, "0003", 5);
	st.float_cookie = VT_RRD_FLOAT_COOKIE;
	st.ds_cnt = nds;
	st.rra_cnt = nrra;
	st.pdp_step = step;
	struct vt_rrd_live_head live = { last_up, 0 };
	size_t head = sizeof st + nds * sizeof ds[0] + nrra * sizeof rra[0] +
	    sizeof live + nds * sizeof(struct vt_rrd_pdp_prep) +
	    nds * nrra * sizeof(struct vt_rrd_cdp_prep) +
	    nrra * sizeof(unsigned long);
	reserve_hdr(d, head);
	unsigned char *h = d->hdr, *p = h;
	memset(h, 0, head);
	memcpy(p, &st, sizeof st);
	p += sizeof st;
	memcpy(p, ds, nds * sizeof ds[0]);
	p += nds * sizeof ds[0];
	memcpy(p, rra, nrra * sizeof rra[0]);
	p += nrra * sizeof rra[0];
	memcpy(p, &live, sizeof live);
	p += sizeof live;
	unsigned long unkn = (unsigned long)last_up % step;
	for (size_t i = 0; i < nds; i++, p += sizeof(struct vt_rrd_pdp_prep)) {
		struct vt_rrd_pdp_prep *pp = (void *)p;
		pp->last_ds[0] = 'U';
		pp->scratch[PDP_VAL].val = DNAN;
		pp->scratch[PDP_UNKN_SEC].cnt = unkn;
	}
	for (size_t r = 0; r < nrra; r++) {
		for (size_t i = 0; i < nds; i++,
		    p += sizeof(struct vt_rrd_cdp_prep)) {
			struct vt_rrd_cdp_prep *cp = (void *)p;
			cp->scratch[CDP_VAL].val = DNAN;
			cp->scratch[CDP_UNKN_PDP].cnt = (((unsigned long)last_up -
			    unkn) % (step * rra[r].pdp_cnt)) / step;
		}
	}
	uint64_t hash = 1469598103934665603ull;
	for (const char *c = path; *c; c++)
		hash = (hash ^ (unsigned char)*c) * 1099511628211ull;
	for (size_t r = 0; r < nrra; r++, p += sizeof(unsigned long)) {
		unsigned long cur = (unsigned long)((hash >> 7) % rra[r].row_cnt);
		memcpy(p, &cur, sizeof cur);
	}

	/* Whole or absent: a temporary name, then a link into place. */
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >=
	    sizeof tmp)
		return fail(err, errlen, -ENAMETOOLONG, path, "name too long");
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, -errno, path, strerror(errno));
	int rc = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (rc == 0)
		rc = vt_fd_pwrite_all(fd, h, head, 0);
	/* Every archive's rows, unknown: they follow one another, so they
	 * go out in large chunks of one buffer of unknowns. */
	if (d->nans == NULL) {
		d->nans = vt_xmalloc(NAN_CHUNK * sizeof *d->nans);
		for (size_t i = 0; i < NAN_CHUNK; i++)
			d->nans[i] = DNAN;
	}
	size_t left = 0;
	for (size_t r = 0; r < nrra; r++)
		left += rra[r].row_cnt * nds;
	off_t at = (off_t)head;
	while (rc == 0 && left > 0) {
		size_t n = left < NAN_CHUNK ? left : NAN_CHUNK;
		rc = vt_fd_pwrite_all(fd, d->nans, n * sizeof(double), at);
		at += (off_t)(n * sizeof(double));
		left -= n;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && link(tmp, path) < 0)
		rc = -errno;
	unlink(tmp);
	if (rc < 0)
		return fail(err, errlen, rc, path, strerror(-rc));
	return 0;
}
