/*
 * fleet_api.c - /api/v1/collectors, /api/v1/sd and the forward of
 * another collector's service (fleet_api.h).
 */
#include <stdio.h>
#include <string.h>

#include "collector/base/clock.h"
#include "dashboards/api/fleet_api.h"

static const char *const forwarded[] = { "/services/", "/graph/",
    "/api/v1/series/" };

int vt_fleet_api_service_of(const char *path, char *out, size_t outlen)
{
	for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) {
		size_t n = strlen(forwarded[i]);
		if (strncmp(path, forwarded[i], n) != 0)
			continue;
		const char *s = path + n;
		size_t len = strcspn(s, "/");
		if (len == 0 || len >= outlen)
			return -1;
		memcpy(out, s, len);
		out[len] = '\0';
		return 0;
	}
	return -1;
}

/* The path again, percent-encoded but for '/' and unreserved bytes. */
static void put_path(struct vt_buf *out, const char *p)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == '~' || c == '/') {
			vt_buf_putc(out, (char)c);
		} else {
			vt_buf_putc(out, '%');
			vt_buf_putc(out, hex[c >> 4]);
			vt_buf_putc(out, hex[c & 15]);
		}
	}
}

static void forward(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	vt_fleet *fleet = ctx;
	char service[512], url[VT_FLEET_URL_MAX + 1];
	if (vt_fleet_api_service_of(req->path, service, sizeof service) < 0 ||
	    !vt_fleet_metrics_owner(fleet, service, vt_clock_now(), url,
	    sizeof url))
		return;
	struct vt_buf loc;
	vt_buf_init(&loc);
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	vt_buf_append(&loc, url, n);
	put_path(&loc, req->path);
	vt_http_query(req, &loc);
	if (loc.data != NULL && loc.len < sizeof resp->location) {
		memcpy(resp->location, loc.data, loc.len + 1);
		resp->status = 307;
		resp->no_cache = 1;
		vt_buf_puts(&resp->body, "{\"moved\":");
		vt_buf_printf(&resp->body, "\"%s\"}\n", url);
	}
	vt_buf_fini(&loc);
}

static void get_collectors(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	(void)req;
	vt_fleet_collectors_json(ctx, &resp->body, vt_clock_now());
	vt_buf_putc(&resp->body, '\n');
	resp->no_cache = 1;
}

static void get_sd(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	(void)req;
	vt_fleet_sd_json(ctx, &resp->body, vt_clock_now());
	vt_buf_putc(&resp->body, '\n');
	resp->no_cache = 1;
}

void vt_fleet_api_register(vt_http *h, vt_fleet *fleet)
{
	vt_http_route(h, "GET", "/api/v1/collectors", 0, get_collectors, fleet);
	vt_http_route(h, "GET", "/api/v1/sd", 0, get_sd, fleet);
	vt_http_set_forward(h, forward, fleet);
}
