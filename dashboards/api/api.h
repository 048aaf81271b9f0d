/*
 * api.h - the JSON API of services and their healthchecks (SPEC 6):
 *   GET    /api/v1/services              every known service
 *   GET    /api/v1/services/<service>    its checks, instances and metrics
 *   DELETE /api/v1/services/<service>    forget a decommissioned service
 *   POST   /api/v1/health                push JSON checks
 * Shapes are documented in docs/api.md.
 *
 * Readers only: services come from the published health snapshot and the
 * latest closed window (latest.h); writes go through the inbox to the
 * loop thread (VT_INBOX_CHECKS, VT_INBOX_FORGET_SERVICE), which owns the
 * registry and the aggregator. A POST body is validated here first, so a
 * bad check is answered with a 400 naming the field, while the valid
 * checks of the same body are still applied. A DELETE is answered once
 * the loop thread applied it (at most VT_API_FORGET_WAIT), so a GET after
 * its answer no longer lists the service.
 */
#ifndef VT_API_H
#define VT_API_H

#include "collector/fleet/fleet.h"
#include "collector/health/health.h"
#include "collector/ingest/inbox.h"
#include "dashboards/http/http.h"
#include "exporters/recent/latest.h"

#define VT_API_MAX_ERRORS 20     /* error messages listed in a 400 */
#define VT_API_FORGET_WAIT 2.0   /* seconds a DELETE waits for the loop
                                    thread to apply it before answering */

struct vt_api {
	vt_health *health;           /* borrowed */
	vt_latest *latest;           /* borrowed */
	vt_inbox *inbox;             /* borrowed */
	vt_fleet *fleet;             /* borrowed; NULL: no fleet (then no
	                                owner fields) */
};

/* ctx is borrowed and must outlive the server. */
void vt_api_register(vt_http *h, struct vt_api *ctx);

#endif
