/*
 * fleet_api.h - the fleet over HTTP (docs/api.md, "Fleet"):
 *   GET /api/v1/collectors   every collector of the fleet, up or gone
 *   GET /api/v1/sd           Prometheus HTTP service discovery: every up
 *                            collector (this one included) as a target
 * and the forward of a request for a service whose metrics another
 * collector holds: GET /services/<s>..., /graph/<s>/... and
 * /api/v1/series/<s>/... on a collector that has no metrics of <s>
 * while an up collector announced it are answered 307 to the same path
 * and query on that collector's URL.
 *
 * Handlers read the fleet (fleet.h, thread-safe) only.
 */
#ifndef VT_FLEET_API_H
#define VT_FLEET_API_H

#include "collector/fleet/fleet.h"
#include "dashboards/http/http.h"

/* Register the routes and the forward; fleet is borrowed and must
 * outlive the server. */
void vt_fleet_api_register(vt_http *h, vt_fleet *fleet);

/* The service a path names for the forward ("/graph/pay/x.svg" ->
 * "pay"), copied into out; 0, or -1 for a path not forwarded. */
int vt_fleet_api_service_of(const char *path, char *out, size_t outlen);

#endif
