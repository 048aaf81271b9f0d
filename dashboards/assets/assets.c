/* assets.c - serve the compiled-in dashboard files (assets.h). */
#include <string.h>

#include "dashboards/assets/assets.h"

static const char *content_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".html", "text/html; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

const struct vt_asset *vt_assets_find(const char *name)
{
	for (size_t i = 0; i < vt_nassets; i++)
		if (strcmp(vt_assets[i].name, name) == 0)
			return &vt_assets[i];
	return NULL;
}

void vt_assets_url(struct vt_buf *b, const char *name)
{
	const struct vt_asset *a = vt_assets_find(name);
	vt_buf_printf(b, "/assets/%s?v=%s", name, a ? a->hash : "0");
}

static void get_asset(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	(void)ctx;
	const struct vt_asset *a = vt_assets_find(req->subpath);
	if (a == NULL) {
		vt_http_error(resp, 404, "no such asset: %s", req->subpath);
		return;
	}
	vt_buf_append(&resp->body, a->data, a->len);
	resp->content_type = content_type(a->name);
}

void vt_assets_register(vt_http *h)
{
	vt_http_route(h, "GET", "/assets/", 1, get_asset, NULL);
}
