/*
 * series_api.h - GET /api/v1/series: one stored series as JSON (SPEC 6),
 * and the request handling it shares with the graphs (graph.h).
 *
 *   GET /api/v1/series?service=S&metric=M[&labels=k:v,...][&stat=p99]
 *                     [&from=-1d][&until=now][&cf=AVERAGE|MAX]
 *   GET /api/v1/series?service=S&check=C&instance=I[...]
 *
 * from/until: "now", unix seconds, or "-6h", "now-6h", "-30m", "-7d",
 * "-1mon", "-1y" (rrd_read.h); default the last day; until - from at most
 * two years. stat: a data source of the file (rrd_layout.h), "p99.9" for
 * p99_9; default rate (counters), value (gauges, sets), p99 (timers),
 * status (checks). labels select a labelled series; without them the
 * unlabelled one. Answer:
 *   {"service":..., "metric":... | "check":..., "instance":...,
 *    "labels":{...}, "kind":"timer", "stat":"p99", "unit":"ms",
 *    "cf":"AVERAGE", "step":10, "from":..., "until":...,
 *    "points":[[1795000010, 12.5], [1795000020, null], ...]}
 * Bad parameters answer 400, an unknown series 404, both with a JSON
 * error; storage failures 503.
 */
#ifndef VT_SERIES_API_H
#define VT_SERIES_API_H

#include <time.h>

#include "dashboards/http/http.h"
#include "exporters/rrd/rrd_read.h"

#define VT_SERIES_DEFAULT_FROM "-1d"

/* What a series or graph request asks for, once validated. */
struct vt_rrd_query {
	struct vt_rrd_file file;
	char stat[VT_RRD_DS_NAME_MAX];
	const char *cf;               /* "AVERAGE" or "MAX" (static) */
	time_t from, until;
};

/*
 * Validate the parameters of req and find the file: service and name come
 * from the caller (the path of a graph, parameters of a series); with
 * instance != NULL the name is a check. On failure fills resp (400 or
 * 404, 503 when storage fails) and returns -1; else 0.
 */
int vt_series_api_query(vt_rrd_read *rd, const struct vt_http_request *req,
    const char *service, const char *name, const char *instance,
    struct vt_rrd_query *q, struct vt_http_response *resp);

/* Register GET /api/v1/series. rd is borrowed and must outlive h. */
void vt_series_api_register(vt_http *h, vt_rrd_read *rd);

#endif
