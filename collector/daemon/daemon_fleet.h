/*
 * daemon_fleet.h - the fleet wired into the daemon (docs/amqp.md,
 * "Fleet"): with amqp.url, amqp.hash_exchange and fleet.exchange set
 * (and not in relay mode), this collector's name and URL, membership
 * (fleet.h), the fleet's exchange thread (fleet_amqp.h) fed by the
 * health registry's tap, the services this collector holds (from the
 * latest window, refreshed every announce interval), and the alert
 * owner rule handed to the alerts.
 *
 * Life cycle, from daemon.c: create (before the routes: the API and the
 * pages read the fleet), start (after the HTTP server started: the URL's
 * port, the thread), stop (before the inbox is destroyed), destroy
 * (after the HTTP server).
 */
#ifndef VT_DAEMON_FLEET_H
#define VT_DAEMON_FLEET_H

#include <stddef.h>

#include "collector/base/loop.h"
#include "collector/config/config.h"
#include "collector/fleet/fleet.h"
#include "collector/health/health.h"
#include "collector/ingest/inbox.h"
#include "dashboards/http/http.h"
#include "exporters/prom/prom.h"
#include "exporters/recent/latest.h"

typedef struct vt_daemon_fleet vt_daemon_fleet;

/* Whether cfg asks for a fleet. */
int vt_daemon_fleet_wanted(const struct vt_config *cfg);

/* The membership only (no thread yet). cfg is copied. NULL with err
 * (a hostname that makes no usable name or URL). */
vt_daemon_fleet *vt_daemon_fleet_create(const struct vt_config *cfg,
    char *err, size_t errlen);

/* The membership, for the API, the pages and the alerts. */
vt_fleet *vt_daemon_fleet_members(vt_daemon_fleet *df);

/* /api/v1/collectors, /api/v1/sd, the forward of other collectors'
 * services (fleet_api.h) and the vitals_fleet_* families (before the
 * HTTP server starts). http and prom are borrowed. */
void vt_daemon_fleet_add_routes(vt_daemon_fleet *df, vt_http *http,
    struct vt_prom *prom);

/* Start: the URL from the bound HTTP port when fleet.url is "", the
 * tap on health, the exchange thread, the refresh of held services on
 * loop. Everything borrowed must outlive it. */
int vt_daemon_fleet_start(vt_daemon_fleet *df, int http_port,
    vt_loop *loop, vt_health *health, vt_latest *latest, vt_inbox *inbox,
    char *err, size_t errlen);

/* Stop the thread and the tap (loop thread). NULL ok. Idempotent. */
void vt_daemon_fleet_stop(vt_daemon_fleet *df);

void vt_daemon_fleet_destroy(vt_daemon_fleet *df);   /* NULL ok */

/* An alert owner rule (vt_alert_owner_fn): ctx is the vt_daemon_fleet. */
int vt_daemon_fleet_notifies(void *ctx, const char *origin);

#endif
