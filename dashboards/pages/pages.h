/*
 * pages.h - the auto-generated dashboards (SPEC 6), rendered on the
 * server as plain HTML that works without JavaScript; the scripts in
 * dashboards/assets/ only add filtering as you type and live updates.
 *
 *   GET /                       overview: a tile per service, worst first
 *   GET /?q=pay                 the same, only services whose name holds "pay"
 *   GET /?wall=1                the office wall: dark, full screen, no
 *                               scrolling, live over /api/v1/events
 *   GET /?wall=1&partial=1      just the wall's tiles (what wall.js fetches)
 *   GET /map                    the service map (pages_map.h): services by
 *                               status, calls as arcs by rate
 *   GET /map?wall=1, /?wall=1&map=1   the same on the dark wall
 *   GET /map?partial=1          just the map and its counts (map.js)
 *   GET /services/<service>     checks, a graph per metric, latest values;
 *                               ?range=1h|6h|1d|1w|1y (default 1h)
 *
 * Everything a service sent goes through html.h before it reaches the
 * page; the HTTP server adds a Content-Security-Policy that allows only
 * the server's own scripts and styles (no inline script or handlers).
 *
 * Threads: handlers run on HTTP threads and read only published state:
 * the health snapshot, the latest closed window, the trends and the
 * calls snapshots.
 */
#ifndef VT_PAGES_H
#define VT_PAGES_H

#include "collector/base/buf.h"
#include "collector/fleet/fleet.h"
#include "collector/health/health.h"
#include "dashboards/http/http.h"
#include "exporters/recent/calls.h"
#include "exporters/recent/latest.h"
#include "exporters/recent/trends.h"

struct vt_pages {
	vt_health *health;           /* borrowed */
	vt_latest *latest;           /* borrowed */
	vt_trends *trends;           /* borrowed */
	vt_calls *calls;             /* borrowed; NULL: a map without calls */
	vt_fleet *fleet;             /* borrowed; NULL: not in a fleet */
};

/* Register GET /, /map, /services/ and /assets/. ctx must outlive the
 * server. */
void vt_pages_register(vt_http *h, struct vt_pages *ctx);

#endif
