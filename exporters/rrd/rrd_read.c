/*
 * rrd_read.c - finding and reading the round-robin files for HTTP readers
 * (rrd_read.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collector/base/xmalloc.h"
#include "exporters/rrd/rrd_files.h"
#include "exporters/rrd/rrd_read.h"

#define VT_RRD_READ_SYNC_WAIT 2.0   /* seconds a read waits for the writer */

struct vt_rrd_read {
	char dir[PATH_MAX];
	struct vt_rrdc *rrdc;
	vt_rrd_store *store;
};

vt_rrd_read *vt_rrd_read_create(const struct vt_rrd_read_config *cfg,
    char *err, size_t errlen)
{
	vt_rrd_read *rd = vt_xcalloc(1, sizeof *rd);
	if (realpath(cfg->data_dir, rd->dir) == NULL) {
		snprintf(err, errlen, "data_dir %s: %s", cfg->data_dir,
		    strerror(errno));
		free(rd);
		return NULL;
	}
	rd->rrdc = vt_rrd_lib_cached_create(cfg->cached);
	rd->store = cfg->store;
	return rd;
}

void vt_rrd_read_destroy(vt_rrd_read *rd)
{
	if (rd == NULL)
		return;
	vt_rrd_lib_cached_destroy(rd->rrdc);
	free(rd);
}

/* ---- finding a file ---- */

static int label_cmp(const void *a, const void *b)
{
	const struct vt_label *x = a, *y = b;
	return strcmp(x->key, y->key);
}

/* Split "k:v,k2:v2" (in place, in buf) into labels sorted by key. */
static int parse_labels(char *buf, struct vt_label *labels, size_t *n,
    char *err, size_t errlen)
{
	*n = 0;
	if (buf[0] == '\0')
		return 0;
	for (char *item = buf; item;) {
		char *comma = strchr(item, ',');
		if (comma)
			*comma = '\0';
		char *colon = strchr(item, ':');
		if (colon)
			*colon = '\0';
		if (item[0] == '\0' || strcmp(item, "service") == 0) {
			snprintf(err, errlen, "labels: expected key:value,... "
			    "with non-empty keys other than service");
			return -EINVAL;
		}
		if (*n == VT_MAX_TAGS) {
			snprintf(err, errlen, "labels: more than %d",
			    VT_MAX_TAGS);
			return -EINVAL;
		}
		labels[*n].key = item;
		labels[*n].value = colon ? colon + 1 : "";
		(*n)++;
		item = comma ? comma + 1 : NULL;
	}
	qsort(labels, *n, sizeof *labels, label_cmp);
	for (size_t i = 1; i < *n; i++) {
		if (strcmp(labels[i - 1].key, labels[i].key) == 0) {
			snprintf(err, errlen, "labels: key repeated");
			return -EINVAL;
		}
	}
	return 0;
}

/* Look at data_dir/f->rel: a regular file with data sources. */
static int open_rel(vt_rrd_read *rd, struct vt_rrd_file *f, char *err,
    size_t errlen)
{
	struct stat st;
	int n = snprintf(f->path, sizeof f->path, "%s/%s", rd->dir, f->rel);
	if (n < 0 || (size_t)n >= sizeof f->path) {
		snprintf(err, errlen, "name too long");
		return -ENAMETOOLONG;
	}
	if (lstat(f->path, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "no such series");
		return -ENOENT;
	}
	char why[VT_ERR_LEN];
	/* Windows the writer still holds (write-behind) go to disk first;
	 * past the wait the read shows what is there. */
	if (rd->store)
		vt_rrd_store_sync(rd->store, f->rel, VT_RRD_READ_SYNC_WAIT);
	int rc = vt_rrd_lib_lastupdate(f->path, &f->last, &f->ds, NULL, why,
	    sizeof why);
	if (rc < 0) {
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	f->kind = rd->store ? vt_rrd_store_kind_of(rd->store, f->rel) : -1;
	f->kind_known = f->kind >= 0;
	if (!f->kind_known)
		f->kind = vt_rrd_layout_guess_kind(&f->ds);
	return 0;
}

int vt_rrd_read_metric(vt_rrd_read *rd, const char *service,
    const char *metric, const char *labels, struct vt_rrd_file *f,
    char *err, size_t errlen)
{
	struct vt_label lv[VT_MAX_TAGS];
	size_t nl = 0;
	char buf[VT_NAME_MAX * 4];
	memset(f, 0, sizeof *f);
	if (service[0] == '\0' || metric[0] == '\0') {
		snprintf(err, errlen, "service and metric are required");
		return -EINVAL;
	}
	if (strlen(service) > VT_NAME_MAX || strlen(metric) > VT_NAME_MAX ||
	    (labels && strlen(labels) >= sizeof buf)) {
		snprintf(err, errlen, "no such series (name too long)");
		return -ENOENT;
	}
	snprintf(buf, sizeof buf, "%s", labels ? labels : "");
	int rc = parse_labels(buf, lv, &nl, err, errlen);
	if (rc < 0)
		return rc;
	vt_rrd_layout_series_path(f->rel, sizeof f->rel, service, metric, lv,
	    nl);
	return open_rel(rd, f, err, errlen);
}

int vt_rrd_read_check(vt_rrd_read *rd, const char *service,
    const char *instance, const char *check, struct vt_rrd_file *f,
    char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	if (service[0] == '\0' || instance[0] == '\0' || check[0] == '\0') {
		snprintf(err, errlen, "service, instance and check are "
		    "required");
		return -EINVAL;
	}
	if (strlen(service) > VT_NAME_MAX || strlen(instance) > VT_NAME_MAX ||
	    strlen(check) > VT_NAME_MAX) {
		snprintf(err, errlen, "no such check (name too long)");
		return -ENOENT;
	}
	vt_rrd_layout_check_path(f->rel, sizeof f->rel, service, instance,
	    check);
	return open_rel(rd, f, err, errlen);
}

/* The path rrdcached understands: absolute over a unix socket, relative
 * over TCP. */
static const char *cached_path(const vt_rrd_read *rd,
    const struct vt_rrd_file *f)
{
	return vt_rrd_lib_cached_is_unix(rd->rrdc) ? f->path : f->rel;
}

int vt_rrd_read_sync(vt_rrd_read *rd, const struct vt_rrd_file *f, char *err,
    size_t errlen)
{
	if (rd->rrdc == NULL)
		return 0;
	return vt_rrd_lib_flush(rd->rrdc, cached_path(rd, f), err, errlen);
}

int vt_rrd_read_fetch(vt_rrd_read *rd, const struct vt_rrd_file *f,
    const char *cf, time_t start, time_t end, struct vt_rrd_data *out,
    char *err, size_t errlen)
{
	const char *path = rd->rrdc ? cached_path(rd, f) : f->path;
	cf = vt_rrd_files_cf(f->path, cf, start);   /* files without MAX */
	return vt_rrd_lib_fetch(rd->rrdc, path, cf, start, end, out, err,
	    errlen);
}

/* ---- parameters ---- */

static const struct {
	const char *name;
	long seconds;
} time_units[] = {
	{ "s", 1 }, { "sec", 1 }, { "m", 60 }, { "min", 60 },
	{ "h", 3600 }, { "d", 86400 }, { "w", 604800 },
	{ "mon", 2592000 }, { "y", 31536000 },
};

int vt_rrd_read_parse_time(const char *text, time_t now, time_t *out)
{
	const char *p = text;
	if (text == NULL || strlen(text) > 24)
		return -1;
	if (strncmp(p, "now", 3) == 0) {
		p += 3;
		if (*p == '\0') {
			*out = now;
			return 0;
		}
	} else if (isdigit((unsigned char)*p)) {
		char *end;
		long long v = strtoll(p, &end, 10);
		if (*end != '\0' || v < 0 || v > 99999999999LL ||
		    end - p > 11)
			return -1;
		*out = (time_t)v;
		return 0;
	}
	if (*p != '-' && *p != '+')
		return -1;
	int sign = *p == '-' ? -1 : 1;
	p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	long n = 0;
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > 100000000L)
			return -1;
	}
	if (*p == '\0')
		p = "s";   /* "-300": seconds, as RRDtool reads it */
	for (size_t i = 0; i < sizeof time_units / sizeof time_units[0]; i++) {
		if (strcmp(p, time_units[i].name) == 0) {
			long long off = (long long)n * time_units[i].seconds;
			if (off > 20LL * 31536000)
				return -1;
			*out = now + (time_t)(sign * off);
			return 0;
		}
	}
	return -1;
}

int vt_rrd_read_stat(const struct vt_rrd_file *f, const char *stat,
    char *name, size_t namelen)
{
	char want[VT_RRD_DS_NAME_MAX];
	if (stat == NULL || stat[0] == '\0')
		stat = vt_rrd_layout_default_stat(&f->ds);
	if (strlen(stat) >= sizeof want)
		return -1;
	snprintf(want, sizeof want, "%s", stat);
	if (want[0] == 'p')
		for (char *c = want; *c; c++)
			if (*c == '.')
				*c = '_';
	int i = vt_rrd_layout_ds_index(&f->ds, want);
	if (i >= 0)
		snprintf(name, namelen, "%s", f->ds.name[i]);
	return i;
}

const char *vt_rrd_read_unit(const struct vt_rrd_file *f, const char *ds)
{
	if (strcmp(ds, "rate") == 0)
		return "/s";
	/* A timer's statistics are milliseconds, a histogram's are in the
	 * client's unit; files not written since start cannot tell them
	 * apart and stay unlabelled rather than mislabelled. */
	if (f->kind == VT_RRD_TIMER && f->kind_known && strcmp(ds, "count"))
		return "ms";
	return "";
}

const char *vt_rrd_read_kind_name(const struct vt_rrd_file *f)
{
	switch (f->kind) {
	case VT_RRD_COUNTER:
		return "counter";
	case VT_RRD_GAUGE:
		return f->kind_known ? "gauge" : "gauge or set";
	case VT_RRD_SET:
		return "set";
	case VT_RRD_TIMER:
		return f->kind_known ? "timer" : "timer or histogram";
	case VT_RRD_HISTOGRAM:
		return "histogram";
	case VT_RRD_CHECK:
		return "check";
	default:
		return "unknown";
	}
}
