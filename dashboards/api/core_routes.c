/* core_routes.c - /metrics, /healthz, POST /api/v1/metrics (core_routes.h). */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/clock.h"
#include "collector/base/loop.h"
#include "collector/base/prom_text.h"
#include "collector/base/xmalloc.h"
#include "dashboards/api/core_routes.h"

/* /metrics is streamed: one piece of the exposition at a time, so a
 * scrape of 100,000 series holds tens of kilobytes, not tens of MB. */
struct metrics_body {
	struct vt_prom_stream *stream;
	struct vt_buf piece;
	size_t sent;                /* bytes of piece already handed over */
};

static ssize_t metrics_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	struct metrics_body *mb = ctx;
	(void)pos;
	if (mb->sent == mb->piece.len) {
		vt_buf_reset(&mb->piece);
		mb->sent = 0;
		if (vt_prom_stream_next(mb->stream, &mb->piece) == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	size_t n = mb->piece.len - mb->sent;
	if (n > max)
		n = max;
	memcpy(buf, mb->piece.data + mb->sent, n);
	mb->sent += n;
	return (ssize_t)n;
}

static void metrics_free(void *ctx)
{
	struct metrics_body *mb = ctx;
	vt_prom_stream_close(mb->stream);
	vt_buf_fini(&mb->piece);
	free(mb);
}

static void get_metrics(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_core_routes *c = ctx;
	enum vt_prom_format fmt = vt_prom_stream_negotiate(vt_http_header(req,
	    "Accept"));
	struct metrics_body *mb = vt_xcalloc(1, sizeof *mb);
	mb->stream = vt_prom_stream_open(c->prom, fmt);
	vt_buf_init(&mb->piece);
	resp->stream = metrics_read;
	resp->stream_ctx = mb;
	resp->stream_free = metrics_free;
	resp->content_type = vt_prom_text_content_type(fmt);
	resp->no_cache = 1;
}

static void get_healthz(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_core_routes *c = ctx;
	(void)req;
	vt_buf_printf(&resp->body,
	    "{\"status\":\"ok\",\"version\":\"%s\",\"uptime_seconds\":%.0f",
	    VT_VERSION, vt_clock_now() - c->start_time);
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
