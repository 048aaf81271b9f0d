/*
 * map_api.h - GET /api/v1/map: the service map as JSON (docs/api.md):
 *
 *   {"nodes": [{"service", "status", "stale", "checks", "rate_in",
 *               "rate_out"}],
 *    "edges": [{"from", "to", "rate", "error_rate", "errors", "p99"}],
 *    "window", "interval", "time"}
 *
 * The same nodes and edges as the page /map (pages_map.h, calls.h):
 * status is the worst check's ("ok", "warning", "critical", "unknown"),
 * or "none" for a service without checks; rate and errors are calls/s,
 * error_rate the share of calls that failed (0..1, null without calls),
 * p99 in milliseconds (null without a timer).
 *
 * Reads only published snapshots; the context is the pages' (pages.h).
 */
#ifndef VT_MAP_API_H
#define VT_MAP_API_H

#include "dashboards/http/http.h"
#include "dashboards/pages/pages.h"

/* ctx is borrowed and must outlive the server. */
void vt_map_api_register(vt_http *h, struct vt_pages *ctx);

#endif
