/*
 * pages.c - the dashboard routes (pages.h): take the snapshots, render,
 * release. The rendering lives in pages_overview.c, pages_service.c and
 * pages_map.c.
 */
#include <stdio.h>
#include <string.h>

#include "collector/base/clock.h"
#include "collector/base/loop.h"
#include "collector/health/health_snapshot.h"
#include "dashboards/assets/assets.h"
#include "dashboards/pages/pages.h"
#include "dashboards/pages/pages_map.h"
#include "dashboards/pages/pages_overview.h"
#include "dashboards/pages/pages_service.h"

#define HTML_TYPE "text/html; charset=utf-8"

static int flag(const struct vt_http_request *req, const char *name)
{
	const char *v = vt_http_arg(req, name);
	return v != NULL && strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
}

/* The map (pages_map.h) from the health, trends and calls snapshots. */
static void render_map(struct vt_pages *p, int wall, int partial,
    struct vt_http_response *resp)
{
	struct vt_map_opts o = { .wall = wall, .partial = partial };
	struct vt_health_snapshot *hs = vt_health_snapshot_get(p->health);
	struct vt_trends_snapshot *ts = vt_trends_get(p->trends);
	struct vt_calls_snapshot *cs = p->calls ? vt_calls_get(p->calls) :
	    NULL;
	struct vt_map m;
	vt_calls_map(&m, hs, ts, cs);
	vt_pages_map(&m, cs, &o, vt_clock_now(), &resp->body);
	vt_calls_map_free(&m);
	vt_calls_release(cs);
	vt_trends_release(ts);
	vt_health_snapshot_release(hs);
	resp->content_type = HTML_TYPE;
	resp->no_cache = 1;
}

static void get_map(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	render_map(ctx, flag(req, "wall"), flag(req, "partial"), resp);
}

static void get_overview(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_pages *p = ctx;
	if (flag(req, "wall") && flag(req, "map")) {
		render_map(p, 1, flag(req, "partial"), resp);
		return;
	}
	struct vt_overview_opts o = {
		.wall = flag(req, "wall"),
		.partial = flag(req, "partial"),
		.filter = vt_http_arg(req, "q"),
	};
	struct vt_health_snapshot *hs = vt_health_snapshot_get(p->health);
	struct vt_trends_snapshot *ts = vt_trends_get(p->trends);
	struct vt_flush *f = vt_latest_get(p->latest);
	o.latest = f;
	o.fleet = p->fleet;
	vt_pages_overview(hs, ts, &o, vt_clock_now(), &resp->body);
	vt_flush_release(f);
	vt_trends_release(ts);
	vt_health_snapshot_release(hs);
	resp->content_type = HTML_TYPE;
	resp->no_cache = 1;
}

static void get_service(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	struct vt_pages *p = ctx;
	const char *name = req->subpath;
	const char *range = vt_pages_service_range(vt_http_arg(req, "range"));
	if (name[0] == '\0') {
		resp->status = 302;
		snprintf(resp->location, sizeof resp->location, "/");
		return;
	}
	if (range == NULL) {
		vt_http_error(resp, 400, "range: one of auto, 1h, 6h, 1d, 1w, "
		    "1y");
		return;
	}
	struct vt_health_snapshot *hs = vt_health_snapshot_get(p->health);
	struct vt_flush *f = vt_latest_get(p->latest);
	if (vt_pages_service(hs, f, p->latest, name, range, vt_clock_now(),
	    &resp->body) < 0)
		vt_http_error(resp, 404, "no service named %s", name);
	else
		resp->content_type = HTML_TYPE;
	vt_flush_release(f);
	vt_health_snapshot_release(hs);
	resp->no_cache = 1;
}

void vt_pages_register(vt_http *h, struct vt_pages *ctx)
{
	vt_http_route(h, "GET", "/", 0, get_overview, ctx);
	vt_http_route(h, "GET", "/map", 0, get_map, ctx);
	vt_http_route(h, "GET", "/services/", 1, get_service, ctx);
	vt_assets_register(h);
}
