/* map_api.c - GET /api/v1/map (map_api.h). */
#include <math.h>

#include "collector/base/clock.h"
#include "collector/base/json.h"
#include "collector/health/health_check.h"
#include "collector/health/health_snapshot.h"
#include "dashboards/api/map_api.h"
#include "exporters/recent/calls.h"

static void put_num(struct vt_buf *b, const char *key, double v)
{
	vt_buf_printf(b, ",\"%s\":", key);
	if (isfinite(v))
		vt_buf_put_double(b, v);
	else
		vt_buf_puts(b, "null");
}

static void render(struct vt_buf *b, const struct vt_map *m,
    const struct vt_calls_snapshot *cs, double now)
{
	vt_buf_puts(b, "{\"nodes\":[");
	for (size_t i = 0; i < m->nnodes; i++) {
		const struct vt_map_node *nd = &m->nodes[i];
		vt_buf_puts(b, i ? ",{\"service\":" : "{\"service\":");
		vt_json_string(b, nd->service);
		vt_buf_printf(b, ",\"status\":\"%s\",\"stale\":%s,\"checks\":%s",
		    nd->has_checks ? vt_health_check_status_name(nd->status) :
		    "none", nd->stale ? "true" : "false",
		    nd->has_checks ? "true" : "false");
		put_num(b, "rate_in", nd->rate_in);
		put_num(b, "rate_out", nd->rate_out);
		vt_buf_putc(b, '}');
	}
	vt_buf_puts(b, "],\"edges\":[");
	for (size_t i = 0; i < m->nedges; i++) {
		const struct vt_call_edge *e = &m->edges[i];
		vt_buf_puts(b, i ? ",{\"from\":" : "{\"from\":");
		vt_json_string(b, e->from);
		vt_buf_puts(b, ",\"to\":");
		vt_json_string(b, e->to);
		put_num(b, "rate", e->rate);
		put_num(b, "error_rate", e->error_share);
		put_num(b, "errors", e->errors);
		put_num(b, "p99", e->p99);
		vt_buf_putc(b, '}');
	}
	vt_buf_puts(b, "]");
	put_num(b, "window", cs && cs->timestamp > 0 ? cs->timestamp : NAN);
	put_num(b, "interval", cs && cs->interval > 0 ? cs->interval : NAN);
	put_num(b, "time", now);
	vt_buf_puts(b, "}\n");
}

static void get_map(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_pages *p = ctx;
	(void)req;
	struct vt_health_snapshot *hs = vt_health_snapshot_get(p->health);
	struct vt_trends_snapshot *ts = vt_trends_get(p->trends);
	struct vt_calls_snapshot *cs = p->calls ? vt_calls_get(p->calls) :
	    NULL;
	struct vt_map m;
	vt_calls_map(&m, hs, ts, cs);
	render(&resp->body, &m, cs, vt_clock_now());
	vt_calls_map_free(&m);
	vt_calls_release(cs);
	vt_trends_release(ts);
	vt_health_snapshot_release(hs);
	resp->no_cache = 1;
}

void vt_map_api_register(vt_http *h, struct vt_pages *ctx)
{
	vt_http_route(h, "GET", "/api/v1/map", 0, get_map, ctx);
}
