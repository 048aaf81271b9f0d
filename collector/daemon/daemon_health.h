/*
 * daemon_health.h - the healthcheck subsystem assembled for the daemon: the
 * registry (health.h) fed by ingest and the inbox, its state file and
 * saver (health_store.h), its /metrics families (health_prom.h), the
 * JSON API (api.h) with the latest-window sink it reads (latest.h), and
 * the event stream (events.h). daemon.c calls the functions below at
 * the matching points of its life cycle; the wiring itself lives here.
 *
 * Threads: create, apply, stop and the 250 ms tick (a loop timer) run on
 * the loop thread; HTTP handlers read snapshots; the saver has its own
 * thread. Order at shutdown: vt_daemon_health_stop (loop thread, after the
 * inbox is drained: last publish and save), vt_daemon_health_close_streams
 * (before the HTTP server stops), vt_daemon_health_destroy (after the HTTP
 * server and the flusher are gone).
 */
#ifndef VT_DAEMON_HEALTH_H
#define VT_DAEMON_HEALTH_H

#include <stddef.h>

#include "collector/agg/agg.h"
#include "collector/agg/sinks.h"
#include "collector/base/loop.h"
#include "collector/config/config.h"
#include "collector/fleet/fleet.h"
#include "collector/health/health.h"
#include "collector/ingest/inbox.h"
#include "collector/ingest/ingest.h"
#include "dashboards/http/http.h"
#include "exporters/prom/prom.h"
#include "exporters/recent/calls.h"
#include "exporters/recent/latest.h"
#include "exporters/recent/trends.h"

#define VT_DAEMON_HEALTH_TICK 0.25        /* seconds: staleness and publishing */

struct vt_daemon_health_config {
	const struct vt_config *cfg;   /* borrowed during create: data_dir,
	                                  health_*, retire_after, windows */
};

typedef struct vt_daemon_health vt_daemon_health;

/*
 * Create the registry, restore <data_dir>/health.json (a corrupt file is
 * set aside and logged), start the saver, feed it from ingest and add the
 * tick timer to loop. loop, ingest and agg are borrowed and must outlive
 * it. NULL with err set when the saver thread or timer cannot start.
 */
vt_daemon_health *vt_daemon_health_create(const struct vt_daemon_health_config *cfg,
    vt_loop *loop, vt_ingest *ingest, vt_agg *agg, char *err, size_t errlen);

/* The latest-window sink the JSON API reads, for the flusher (before it
 * starts). */
struct vt_sink vt_daemon_health_sink(vt_daemon_health *hd);

/* Register the /metrics collector, the API and the event stream (before
 * the HTTP server starts). prom, http and inbox are borrowed. */
void vt_daemon_health_add_routes(vt_daemon_health *hd, struct vt_prom *prom,
    vt_http *http, vt_inbox *inbox);

/* In a fleet (before add_routes): the API shows owners, /metrics
 * exports only this collector's own checks. fleet is borrowed. */
void vt_daemon_health_set_fleet(vt_daemon_health *hd, vt_fleet *fleet);

/* Apply an inbox message of kind VT_INBOX_CHECKS,
 * VT_INBOX_FLEET_CHECKS or VT_INBOX_FORGET_SERVICE (loop thread). 0 or
 * -EINVAL. */
int vt_daemon_health_apply(vt_daemon_health *hd, const struct vt_inbox_msg *m);

/* The tiles' trends and the map's calls: fed from the latest-window view
 * (with the metrics the catalogue remembers), and left at once by a
 * forgotten service along with that view. Before the flusher starts.
 * Borrowed, must outlive the flusher and hd's use of the inbox. */
void vt_daemon_health_set_views(vt_daemon_health *hd, vt_trends *trends,
    vt_calls *calls);

/* Loop thread, at shutdown: publish the final state and save it. */
void vt_daemon_health_stop(vt_daemon_health *hd);

/* End the event streams so the HTTP server can stop. NULL ok. */
void vt_daemon_health_close_streams(vt_daemon_health *hd);

void vt_daemon_health_destroy(vt_daemon_health *hd);   /* NULL ok */

/* The registry, e.g. for more listeners (alerts). */
vt_health *vt_daemon_health_registry(vt_daemon_health *hd);

/* The latest closed window (for the dashboards). */
vt_latest *vt_daemon_health_latest(vt_daemon_health *hd);

#endif
