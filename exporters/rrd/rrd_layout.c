/*
 * rrd_layout.c - file names, data sources, archives and sizes of the
 * round-robin files (rrd_layout.h). Pure: no I/O, no allocation; the
 * one state is the options new files are made with, set at start.
 */
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collector/base/hash.h"
#include "collector/statsd/names.h"
#include "exporters/rrd/rrd_layout.h"

#define HASH_SEED_SERVICE 0x7672642d73766331ull   /* "vrd-svc1" */
#define HASH_SEED_METRIC 0x7672642d6d657431ull    /* "vrd-met1" */
#define HASH_SEED_CHECK 0x7672642d63686b31ull     /* "vrd-chk1" */
#define CHECKS_DIR "checks"

/* The ranges the dashboards offer, in seconds. */
static const unsigned long ranges[VT_RRD_RANGES] = {
	3600UL,            /* 1 hour */
	86400UL,           /* 1 day */
	7UL * 86400UL,     /* 1 week */
	31UL * 86400UL,    /* 1 month */
	366UL * 86400UL,   /* 1 year */
};

/* In file order; bit i is VT_RRD_STAT_* 1 << i. */
static const char *const timer_ds[] = {
	"count", "rate", "sum", "mean", "min", "max", "stddev"
};
#define NSTATS (sizeof timer_ds / sizeof timer_ds[0])

static struct vt_rrd_layout_opts current = {
	.timer_stats = VT_RRD_STAT_COUNT | VT_RRD_STAT_RATE,
	.counter_stats = VT_RRD_STAT_COUNT | VT_RRD_STAT_RATE,
	.max = VT_RRD_MAX_COARSE,
};

static struct vt_rrd_override overrides[VT_RRD_OVERRIDES_MAX];
static size_t noverrides;

void vt_rrd_layout_set_overrides(const struct vt_rrd_override *o, size_t n)
{
	if (n > VT_RRD_OVERRIDES_MAX)
		n = VT_RRD_OVERRIDES_MAX;
	if (n > 0)                       /* o may be NULL then */
		memcpy(overrides, o, n * sizeof *o);
	noverrides = n;
}

const struct vt_rrd_override *vt_rrd_layout_override_at(size_t i)
{
	return i < noverrides ? &overrides[i] : NULL;
}

static int glob_ok(const char *pattern, const char *text)
{
	return pattern[0] == '\0' || fnmatch(pattern, text, 0) == 0;
}

const struct vt_rrd_override *vt_rrd_layout_override_for(const char *service,
    const char *metric)
{
	for (size_t i = 0; i < noverrides; i++)
		if (glob_ok(overrides[i].service, service) &&
		    glob_ok(overrides[i].metric, metric))
			return &overrides[i];
	return NULL;
}

void vt_rrd_layout_default_opts(struct vt_rrd_layout_opts *o)
{
	o->timer_stats = VT_RRD_STAT_COUNT | VT_RRD_STAT_RATE;
	o->counter_stats = VT_RRD_STAT_COUNT | VT_RRD_STAT_RATE;
	o->max = VT_RRD_MAX_COARSE;
	o->retention = 0;
}

void vt_rrd_layout_set_opts(const struct vt_rrd_layout_opts *o)
{
	current = *o;
}

const struct vt_rrd_layout_opts *vt_rrd_layout_opts(void)
{
	return &current;
}

int vt_rrd_layout_parse_stats(const char *text, enum vt_rrd_kind kind,
    unsigned *mask, char *err, size_t errlen)
{
	unsigned m = 0;
	unsigned allowed = kind == VT_RRD_COUNTER ?
	    VT_RRD_STAT_COUNT | VT_RRD_STAT_RATE : VT_RRD_STAT_ALL;
	for (const char *p = text; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		if (len == 0)
			break;
		size_t i = 0;
		while (i < NSTATS && !(strlen(timer_ds[i]) == len &&
		    strncmp(timer_ds[i], p, len) == 0))
			i++;
		if (i == NSTATS || !(allowed & (1u << i))) {
			snprintf(err, errlen, "unknown statistic \"%.*s\" "
			    "(%s)", (int)(len > 32 ? 32 : len), p,
			    kind == VT_RRD_COUNTER ? "count, rate" :
			    "count, rate, sum, mean, min, max, stddev");
			return -1;
		}
		m |= 1u << i;
		p += len;
	}
	if (m == 0) {
		snprintf(err, errlen, "name at least one statistic");
		return -1;
	}
	*mask = m;
	return 0;
}

unsigned long vt_rrd_layout_step(double flush_interval)
{
	if (!(flush_interval >= 1.5))
		return 1;
	if (flush_interval > 1e9)
		return 1000000000UL;
	return (unsigned long)llround(flush_interval);
}

void vt_rrd_layout_percentile_name(double p, char *out, size_t outlen)
{
	snprintf(out, outlen, "p%.6g", p);
	for (char *c = out; *c; c++)
		if (*c == '.')
			*c = '_';
}

static void ds_add(struct vt_rrd_ds_list *out, const char *name)
{
	if (out->n < VT_RRD_MAX_DS)
		snprintf(out->name[out->n++], VT_RRD_DS_NAME_MAX, "%s", name);
}

void vt_rrd_layout_ds(enum vt_rrd_kind kind, const double *percentiles,
    size_t npercentiles, struct vt_rrd_ds_list *out)
{
	out->n = 0;
	switch (kind) {
	case VT_RRD_COUNTER:
		ds_add(out, "count");
		ds_add(out, "rate");
		break;
	case VT_RRD_TIMER:
	case VT_RRD_HISTOGRAM:
		for (size_t i = 0; i < sizeof timer_ds / sizeof timer_ds[0]; i++)
			ds_add(out, timer_ds[i]);
		if (npercentiles > VT_MAX_PERCENTILES)
			npercentiles = VT_MAX_PERCENTILES;
		for (size_t i = 0; i < npercentiles; i++) {
			char name[VT_RRD_DS_NAME_MAX];
			vt_rrd_layout_percentile_name(percentiles[i], name,
			    sizeof name);
			ds_add(out, name);
		}
		break;
	case VT_RRD_CHECK:
		ds_add(out, "status");
		break;
	default:   /* gauge, set */
		ds_add(out, "value");
		break;
	}
}

int vt_rrd_layout_opts_from_config(const char *timer_stats,
    const char *counter_stats, int max_archives, double retention,
    struct vt_rrd_layout_opts *o, char *err, size_t errlen)
{
	char why[160];
	vt_rrd_layout_default_opts(o);
	o->max = max_archives ? VT_RRD_MAX_COARSE : VT_RRD_MAX_NONE;
	if (!(retention >= (double)VT_RRD_RETENTION_MIN &&
	    retention <= (double)VT_RRD_RETENTION_MAX)) {
		snprintf(err, errlen, "rrd.retention: from 1h to 3660d");
		return -1;
	}
	o->retention = (unsigned long)llround(retention);
	if (vt_rrd_layout_parse_stats(timer_stats, VT_RRD_TIMER,
	    &o->timer_stats, why, sizeof why) < 0) {
		snprintf(err, errlen, "rrd.timer_stats: %s", why);
		return -1;
	}
	if (vt_rrd_layout_parse_stats(counter_stats, VT_RRD_COUNTER,
	    &o->counter_stats, why, sizeof why) < 0) {
		snprintf(err, errlen, "rrd.counter_stats: %s", why);
		return -1;
	}
	return 0;
}

void vt_rrd_layout_stored_ds(enum vt_rrd_kind kind, const double *percentiles,
    size_t npercentiles, const struct vt_rrd_layout_opts *opts,
    struct vt_rrd_ds_list *out)
{
	unsigned mask;
	switch (kind) {
	case VT_RRD_COUNTER:
		mask = opts->counter_stats & (VT_RRD_STAT_COUNT |
		    VT_RRD_STAT_RATE);
		if (mask == 0)
			mask = VT_RRD_STAT_COUNT | VT_RRD_STAT_RATE;
		break;
	case VT_RRD_TIMER:
	case VT_RRD_HISTOGRAM:
		mask = opts->timer_stats & VT_RRD_STAT_ALL;
		if (npercentiles == 0)
			mask |= VT_RRD_STAT_MEAN;   /* what the pages draw */
		break;
	default:
		vt_rrd_layout_ds(kind, percentiles, npercentiles, out);
		return;
	}
	struct vt_rrd_ds_list all;
	vt_rrd_layout_ds(kind, percentiles, npercentiles, &all);
	out->n = 0;
	for (size_t i = 0; i < all.n; i++)
		if (i >= NSTATS || (mask & (1u << i)))
			ds_add(out, all.name[i]);
}

size_t vt_rrd_layout_values(enum vt_kind kind, const struct vt_metric_window *w,
    size_t npercentiles, double *out)
{
	size_t n = 0;
	switch (kind) {
	case VT_COUNTER:
		out[n++] = w->count;
		out[n++] = w->rate;
		break;
	case VT_TIMER:
	case VT_HISTOGRAM: {
		const struct vt_timer_window *t = vt_window_timer(w);
		out[n++] = w->count;
		out[n++] = w->rate;
		out[n++] = t->sum;
		out[n++] = t->mean;
		out[n++] = t->min;
		out[n++] = t->max;
		out[n++] = t->stddev;
		if (npercentiles > VT_MAX_PERCENTILES)
			npercentiles = VT_MAX_PERCENTILES;
		for (size_t i = 0; i < npercentiles; i++)
			out[n++] = t->quantiles ? t->quantiles[i] : NAN;
		break;
	}
	default:
		out[n++] = w->value;
		break;
	}
	return n;
}

size_t vt_rrd_layout_archives(unsigned long step, size_t points,
    struct vt_rrd_archive out[VT_RRD_RANGES])
{
	return vt_rrd_layout_archives_for(step, points, 0, out);
}

/* The ranges for a retention: those shorter than it (at most
 * VT_RRD_RANGES - 1), then the retention itself. */
static size_t ranges_for(unsigned long retention,
    unsigned long out[VT_RRD_RANGES])
{
	size_t n = 0;
	if (retention == 0)
		retention = ranges[VT_RRD_RANGES - 1];
	if (retention < VT_RRD_RETENTION_MIN)
		retention = VT_RRD_RETENTION_MIN;
	for (size_t i = 0; i < VT_RRD_RANGES - 1 && ranges[i] < retention; i++)
		out[n++] = ranges[i];
	out[n++] = retention;
	return n;
}

size_t vt_rrd_layout_archives_for(unsigned long step, size_t points,
    unsigned long retention, struct vt_rrd_archive out[VT_RRD_RANGES])
{
	size_t n = 0;
	unsigned long rg[VT_RRD_RANGES];
	size_t nrg = ranges_for(retention, rg);
	if (step == 0)
		step = 1;
	if (points == 0)
		points = 1;
	for (size_t i = 0; i < nrg; i++) {
		unsigned long long per = (unsigned long long)step * points;
		unsigned long pdp = (unsigned long)((rg[i] + per - 1) / per);
		if (pdp == 0 || i == 0)
			pdp = 1;   /* the finest archive: one row per window */
		unsigned long span = step * pdp;
		unsigned long rows = (rg[i] + span - 1) / span;
		if (rows < 2)
			rows = 2;
		if (n > 0 && out[n - 1].pdp_per_row == pdp) {
			/* Same resolution as the previous range: one archive
			 * long enough for both. */
			out[n - 1].range = rg[i];
			out[n - 1].rows = rows;
			continue;
		}
		out[n].range = rg[i];
		out[n].pdp_per_row = pdp;
		out[n].rows = rows;
		n++;
	}
	return n;
}

/* Whether an archive of pdp_per_row steps a row gets a MAX twin. */
static int has_max(enum vt_rrd_max max, unsigned long pdp_per_row)
{
	return max == VT_RRD_MAX_ALL ||
	    (max == VT_RRD_MAX_COARSE && pdp_per_row > 1);
}

void vt_rrd_layout_create_args(const struct vt_rrd_ds_list *ds,
    unsigned long step, size_t points, struct vt_rrd_create_args *out)
{
	vt_rrd_layout_create_args_opts(ds, step, points, &current, out);
}

void vt_rrd_layout_create_args_max(const struct vt_rrd_ds_list *ds,
    unsigned long step, size_t points, enum vt_rrd_max max,
    struct vt_rrd_create_args *out)
{
	struct vt_rrd_layout_opts o = { .max = max };
	vt_rrd_layout_create_args_opts(ds, step, points, &o, out);
}

void vt_rrd_layout_create_args_opts(const struct vt_rrd_ds_list *ds,
    unsigned long step, size_t points, const struct vt_rrd_layout_opts *opts,
    struct vt_rrd_create_args *out)
{
	struct vt_rrd_archive ar[VT_RRD_RANGES];
	size_t nar = vt_rrd_layout_archives_for(step, points, opts->retention,
	    ar);
	enum vt_rrd_max max = opts->max;
	size_t pos = 0, cap = sizeof out->text;
	static const char *const cfs[] = { "AVERAGE", "MAX" };

	unsigned long heartbeat = 2 * step;
	if (vt_rrd_layout_guess_kind(ds) == VT_RRD_CHECK)
		heartbeat += VT_RRD_CHECK_REFRESH;   /* folded windows */
	out->argc = 0;
	for (size_t i = 0; i < ds->n; i++) {
		char *dst = out->text + pos;
		int w = snprintf(dst, cap - pos, "DS:%s:GAUGE:%lu:U:U",
		    ds->name[i], heartbeat);
		out->argv[out->argc++] = dst;
		pos += (size_t)w + 1;
	}
	for (size_t c = 0; c < 2; c++) {
		for (size_t i = 0; i < nar; i++) {
			if (c == 1 && !has_max(max, ar[i].pdp_per_row))
				continue;
			char *dst = out->text + pos;
			int w = snprintf(dst, cap - pos, "RRA:%s:0.5:%lu:%lu",
			    cfs[c], ar[i].pdp_per_row, ar[i].rows);
			out->argv[out->argc++] = dst;
			pos += (size_t)w + 1;
		}
	}
}

uint64_t vt_rrd_layout_file_size(size_t nds, unsigned long step,
    size_t points)
{
	return vt_rrd_layout_file_size_opts(nds, step, points, &current);
}

uint64_t vt_rrd_layout_file_size_max(size_t nds, unsigned long step,
    size_t points, enum vt_rrd_max max)
{
	struct vt_rrd_layout_opts o = { .max = max };
	return vt_rrd_layout_file_size_opts(nds, step, points, &o);
}

uint64_t vt_rrd_layout_file_size_opts(size_t nds, unsigned long step,
    size_t points, const struct vt_rrd_layout_opts *opts)
{
	struct vt_rrd_archive ar[VT_RRD_RANGES];
	size_t nar = vt_rrd_layout_archives_for(step, points, opts->retention,
	    ar);
	enum vt_rrd_max max = opts->max;
	uint64_t rows = 0, d = nds, r = nar;
	for (size_t i = 0; i < nar; i++) {
		rows += ar[i].rows;
		if (has_max(max, ar[i].pdp_per_row)) {
			rows += ar[i].rows;
			r++;
		}
	}
	return 144 + 232 * d + 128 * r + 80 * d * r + 8 * d * rows;
}

/* ---- paths ---- */

static int is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Whether s[0..len) ends in "-" and VT_RRD_HASH_HEX lowercase hex digits. */
static int looks_suffixed(const char *s, size_t len)
{
	if (len < VT_RRD_HASH_HEX + 1 || s[len - VT_RRD_HASH_HEX - 1] != '-')
		return 0;
	for (size_t i = len - VT_RRD_HASH_HEX; i < len; i++)
		if (!is_hex_lower(s[i]))
			return 0;
	return 1;
}

/*
 * Append one sanitised component to out at *pos: the raw text is
 * raw[0..len); hash is over the raw identity (which may hold more than
 * the text, e.g. labels). force asks for a suffix regardless.
 */
static void put_component(char *out, size_t *pos, const char *raw, size_t len,
    size_t cap, uint64_t hash, int force)
{
	char clean[VT_NAME_MAX * 4 + 2];
	size_t need = vt_names_file(clean, sizeof clean, raw, len);
	if (need >= sizeof clean) {   /* cannot happen for bounded names */
		need = sizeof clean - 1;
		force = 1;
	}
	int changed = need != len || memcmp(clean, raw, len) != 0;
	int suffix = force || changed || need > cap ||
	    looks_suffixed(clean, need);
	size_t keep = need > cap ? cap : need;
	memcpy(out + *pos, clean, keep);
	*pos += keep;
	if (suffix) {
		int w = snprintf(out + *pos, VT_RRD_HASH_HEX + 2, "-%012llx",
		    (unsigned long long)(hash >> 16));
		*pos += (size_t)w;
	}
	out[*pos] = '\0';
}

/* Copy at most VT_NAME_MAX bytes of s: names are bounded upstream; this
 * keeps a hostile caller from overrunning the component buffers. */
static size_t bounded_len(const char *s)
{
	return strnlen(s, VT_NAME_MAX * 2);
}

static int finish(char *out, size_t outlen, const char *path, size_t len)
{
	if (len + 1 > outlen) {
		if (outlen)
			out[0] = '\0';
		return -1;
	}
	memcpy(out, path, len + 1);
	return (int)len;
}

static void put_service(char *buf, size_t *pos, const char *service)
{
	size_t len = bounded_len(service);
	put_component(buf, pos, service, len, VT_RRD_SERVICE_CAP,
	    vt_hash(service, len, HASH_SEED_SERVICE), 0);
	buf[(*pos)++] = '/';
	buf[*pos] = '\0';
}

int vt_rrd_layout_series_path(char *out, size_t outlen, const char *service,
    const char *metric, const struct vt_label *labels, size_t nlabels)
{
	char buf[VT_RRD_REL_MAX];
	size_t pos = 0;
	put_service(buf, &pos, service);

	/* The raw stem: metric,k=v,... ; the hash covers the same parts
	 * separated by NUL bytes, which no name holds. */
	char raw[VT_NAME_MAX * 2 + 8];
	size_t rlen = bounded_len(metric);
	if (rlen > sizeof raw - 1)
		rlen = sizeof raw - 1;
	memcpy(raw, metric, rlen);
	uint64_t h = vt_hash(metric, bounded_len(metric), HASH_SEED_METRIC);
	for (size_t i = 0; i < nlabels; i++) {
		const char *parts[2] = { labels[i].key, labels[i].value };
		for (size_t j = 0; j < 2; j++) {
			size_t n = bounded_len(parts[j]);
			h = vt_hash(parts[j], n, h ^ (j ? 0x3d : 0x2c));
			if (rlen < sizeof raw - 1)
				raw[rlen++] = j ? '=' : ',';
			size_t room = sizeof raw - 1 - rlen;
			if (n > room)
				n = room;
			memcpy(raw + rlen, parts[j], n);
			rlen += n;
		}
	}
	put_component(buf, &pos, raw, rlen, VT_RRD_NAME_CAP, h, nlabels > 0);
	memcpy(buf + pos, ".rrd", 5);
	pos += 4;
	return finish(out, outlen, buf, pos);
}

int vt_rrd_layout_check_path(char *out, size_t outlen, const char *service,
    const char *instance, const char *check)
{
	char buf[VT_RRD_REL_MAX];
	size_t pos = 0;
	put_service(buf, &pos, service);
	memcpy(buf + pos, CHECKS_DIR "/", sizeof CHECKS_DIR);
	pos += sizeof CHECKS_DIR;
	size_t len = bounded_len(instance);
	put_component(buf, &pos, instance, len, VT_RRD_SERVICE_CAP,
	    vt_hash(instance, len, HASH_SEED_CHECK ^ 1), 0);
	buf[pos++] = '/';
	len = bounded_len(check);
	put_component(buf, &pos, check, len, VT_RRD_NAME_CAP,
	    vt_hash(check, len, HASH_SEED_CHECK), 0);
	memcpy(buf + pos, ".rrd", 5);
	pos += 4;
	return finish(out, outlen, buf, pos);
}

/* ---- reading back ---- */

int vt_rrd_layout_ds_index(const struct vt_rrd_ds_list *ds, const char *name)
{
	for (size_t i = 0; i < ds->n; i++)
		if (strcmp(ds->name[i], name) == 0)
			return (int)i;
	return -1;
}

static int is_percentile(const char *name)
{
	return name[0] == 'p' && name[1] >= '0' && name[1] <= '9';
}

int vt_rrd_layout_guess_kind(const struct vt_rrd_ds_list *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		if (is_percentile(ds->name[i]))
			return VT_RRD_TIMER;
	for (size_t i = 2; i < NSTATS; i++)   /* sum, mean, ... stddev */
		if (vt_rrd_layout_ds_index(ds, timer_ds[i]) >= 0)
			return VT_RRD_TIMER;
	if (vt_rrd_layout_ds_index(ds, "rate") >= 0 ||
	    vt_rrd_layout_ds_index(ds, "count") >= 0)
		return VT_RRD_COUNTER;
	if (vt_rrd_layout_ds_index(ds, "value") >= 0)
		return VT_RRD_GAUGE;
	if (vt_rrd_layout_ds_index(ds, "status") >= 0)
		return VT_RRD_CHECK;
	return -1;
}

const char *vt_rrd_layout_default_stat(const struct vt_rrd_ds_list *ds)
{
	switch (vt_rrd_layout_guess_kind(ds)) {
	case VT_RRD_TIMER: {
		if (vt_rrd_layout_ds_index(ds, "p99") >= 0)
			return "p99";
		for (size_t i = ds->n; i-- > 0;)
			if (is_percentile(ds->name[i]))
				return ds->name[i];
		if (vt_rrd_layout_ds_index(ds, "mean") >= 0 ||
		    vt_rrd_layout_ds_index(ds, "rate") < 0)
			return "mean";
		return "rate";
	}
	case VT_RRD_COUNTER:
		return vt_rrd_layout_ds_index(ds, "rate") >= 0 ||
		    vt_rrd_layout_ds_index(ds, "count") < 0 ? "rate" : "count";
	case VT_RRD_GAUGE:
		return "value";
	case VT_RRD_CHECK:
		return "status";
	default:
		return ds->n ? ds->name[0] : "value";
	}
}
