/* core_routes.c - /metrics, /healthz, POST /api/v1/metrics (core_routes.h). */
#include <errno.h>
#include <stdio.h>

#include "core_routes.h"
#include "loop.h"

static void get_metrics(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_core_routes *c = ctx;
	enum vt_prom_format fmt = vt_prom_negotiate(vt_http_header(req,
	    "Accept"));
	vt_prom_render(c->prom, &resp->body, fmt);
	resp->content_type = vt_prom_content_type(fmt);
	resp->no_cache = 1;
}

static void get_healthz(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_core_routes *c = ctx;
	(void)req;
	vt_buf_printf(&resp->body,
	    "{\"status\":\"ok\",\"version\":\"%s\",\"uptime_seconds\":%.0f",
	    VT_VERSION, vt_now() - c->start_time);
	if (c->amqp_state)
		vt_buf_printf(&resp->body, ",\"amqp\":\"%s\"",
		    c->amqp_state(c->amqp_ctx));
	vt_buf_puts(&resp->body, "}\n");
	resp->no_cache = 1;
}

static void post_metrics(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_core_routes *c = ctx;
	if (req->body_len == 0) {
		vt_http_error(resp, 400, "empty body: send statsd lines");
		return;
	}
	int rc = vt_inbox_push(c->inbox, VT_INBOX_STATSD, req->body,
	    req->body_len, req->peer, NULL, NULL);
	if (rc == -ENOBUFS) {
		vt_http_error(resp, 503, "ingest queue full, retry later");
		return;
	}
	resp->status = 202;
	vt_buf_printf(&resp->body, "{\"accepted_bytes\":%zu}\n", req->body_len);
}

void vt_core_routes_register(vt_http *h, struct vt_core_routes *ctx)
{
	vt_http_route(h, "GET", "/metrics", 0, get_metrics, ctx);
	vt_http_route(h, "GET", "/healthz", 0, get_healthz, ctx);
	vt_http_route(h, "POST", "/api/v1/metrics", 0, post_metrics, ctx);
}
