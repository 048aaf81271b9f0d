/*
 * series_api.c - GET /api/v1/series, and the parameter checks shared with
 * the graphs (series_api.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collector/base/clock.h"
#include "collector/base/json.h"
#include "collector/base/loop.h"
#include "dashboards/api/series_api.h"

static const char *arg_or(const struct vt_http_request *req,
    const char *name, const char *fallback)
{
	const char *v = vt_http_arg(req, name);
	return v ? v : fallback;
}

int vt_series_api_query(vt_rrd_read *rd, const struct vt_http_request *req,
    const char *service, const char *name, const char *instance,
    struct vt_rrd_query *q, struct vt_http_response *resp)
{
	char err[VT_ERR_LEN];
	time_t now = (time_t)vt_clock_now();
	const char *from = arg_or(req, "from", VT_SERIES_DEFAULT_FROM);
	const char *until = arg_or(req, "until", "now");
	const char *cf = arg_or(req, "cf", "AVERAGE");

	memset(q, 0, sizeof *q);
	if (vt_rrd_read_parse_time(from, now, &q->from) < 0 ||
	    vt_rrd_read_parse_time(until, now, &q->until) < 0) {
		vt_http_error(resp, 400, "from and until take now, unix "
		    "seconds or an offset such as -6h, -7d, now-1h");
		return -1;
	}
	if (q->from >= q->until || q->until - q->from > VT_RRD_READ_MAX_RANGE) {
		vt_http_error(resp, 400, "from must be before until, at most "
		    "two years apart");
		return -1;
	}
	if (strcasecmp(cf, "AVERAGE") == 0) {
		q->cf = "AVERAGE";
	} else if (strcasecmp(cf, "MAX") == 0) {
		q->cf = "MAX";
	} else {
		vt_http_error(resp, 400, "cf must be AVERAGE or MAX");
		return -1;
	}
	int rc = instance ?
	    vt_rrd_read_check(rd, service, instance, name, &q->file, err,
	    sizeof err) :
	    vt_rrd_read_metric(rd, service, name, vt_http_arg(req, "labels"),
	    &q->file, err, sizeof err);
	if (rc == -ENOENT) {
		vt_http_error(resp, 404, "%s", instance ? "no such check" :
		    "no such series");
		return -1;
	}
	if (rc == -EINVAL) {
		vt_http_error(resp, 400, "%s", err);
		return -1;
	}
	if (rc < 0) {
		vt_http_error(resp, 503, "storage: %s", err);
		return -1;
	}
	const char *stat = vt_http_arg(req, "stat");
	if (vt_rrd_read_stat(&q->file, stat, q->stat, sizeof q->stat) < 0) {
		char list[VT_RRD_MAX_DS * VT_RRD_DS_NAME_MAX];
		size_t len = 0;
		list[0] = '\0';
		for (size_t i = 0; i < q->file.ds.n && len < sizeof list; i++)
			len += (size_t)snprintf(list + len, sizeof list - len,
			    "%s%s", i ? ", " : "", q->file.ds.name[i]);
		vt_http_error(resp, 400, "no stat %.32s for this series; it has "
		    "%s", stat, list);
		return -1;
	}
	return 0;
}

static void put_points(struct vt_buf *b, const struct vt_rrd_data *d,
    int col)
{
	vt_buf_putc(b, '[');
	for (size_t r = 0; r < d->rows; r++) {
		double v = d->values[r * d->nds + (size_t)col];
		vt_buf_printf(b, "%s[%lld,", r ? "," : "",
		    (long long)(d->start + (time_t)((r + 1) * d->step)));
		if (isfinite(v))
			vt_buf_put_double(b, v);
		else
			vt_buf_puts(b, "null");
		vt_buf_putc(b, ']');
	}
	vt_buf_putc(b, ']');
}

static void get_series(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	vt_rrd_read *rd = ctx;
	const char *service = arg_or(req, "service", "");
	const char *metric = vt_http_arg(req, "metric");
	const char *check = vt_http_arg(req, "check");
	const char *instance = vt_http_arg(req, "instance");
	struct vt_rrd_query q;
	struct vt_rrd_data d;
	char err[VT_ERR_LEN];

	if ((metric == NULL) == (check == NULL) || service[0] == '\0' ||
	    (check && instance == NULL)) {
		vt_http_error(resp, 400, "give service and metric, or service, "
		    "check and instance");
		return;
	}
	if (vt_series_api_query(rd, req, service, metric ? metric : check,
	    check ? instance : NULL, &q, resp) < 0)
		return;
	int rc = vt_rrd_read_fetch(rd, &q.file, q.cf, q.from, q.until, &d, err,
	    sizeof err);
	int col = rc == 0 ? vt_rrd_layout_ds_index(&d.ds, q.stat) : -1;
	if (rc < 0 || col < 0) {
		if (rc == 0)
			vt_rrd_lib_data_fini(&d);
		vt_http_error(resp, 503, "storage: %s", rc < 0 ? err :
		    "data source missing from fetch");
		return;
	}

	struct vt_buf *b = &resp->body;
	vt_buf_puts(b, "{\"service\":");
	vt_json_string(b, service);
	if (check) {
		vt_buf_puts(b, ",\"check\":");
		vt_json_string(b, check);
		vt_buf_puts(b, ",\"instance\":");
		vt_json_string(b, instance);
	} else {
		vt_buf_puts(b, ",\"metric\":");
		vt_json_string(b, metric);
		vt_buf_puts(b, ",\"labels\":{");
		const char *labels = vt_http_arg(req, "labels");
		char buf[VT_NAME_MAX * 4];
		snprintf(buf, sizeof buf, "%s", labels ? labels : "");
		int first = 1;
		for (char *item = buf; *buf && item;) {
			char *comma = strchr(item, ',');
			if (comma)
				*comma = '\0';
			char *colon = strchr(item, ':');
			if (colon)
				*colon = '\0';
			vt_buf_puts(b, first ? "" : ",");
			vt_json_string(b, item);
			vt_buf_putc(b, ':');
			vt_json_string(b, colon ? colon + 1 : "");
			first = 0;
			item = comma ? comma + 1 : NULL;
		}
		vt_buf_putc(b, '}');
	}
	vt_buf_puts(b, ",\"kind\":");
	vt_json_string(b, vt_rrd_read_kind_name(&q.file));
	vt_buf_printf(b, ",\"stat\":\"%s\",\"unit\":\"%s\",\"cf\":\"%s\","
	    "\"step\":%lu,\"from\":%lld,\"until\":%lld,\"points\":", q.stat,
	    vt_rrd_read_unit(&q.file, q.stat), q.cf, d.step,
	    (long long)q.from, (long long)q.until);
	put_points(b, &d, col);
	vt_buf_puts(b, "}\n");
	resp->no_cache = 1;
	vt_rrd_lib_data_fini(&d);
}

void vt_series_api_register(vt_http *h, vt_rrd_read *rd)
{
	vt_http_route(h, "GET", "/api/v1/series", 0, get_series, rd);
}
