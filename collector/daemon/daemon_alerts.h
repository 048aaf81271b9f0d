/*
 * daemon_alerts.h - alerts and hooks assembled for the daemon (SPEC 8): the
 * rules from the config file's "alerts" section (alert_config.h) and its
 * "expectations" (expect.h: checks of their own from each window), the
 * engine fed by the health registry and the flusher (alert_engine.h),
 * the hook workers (hooks.h), GET /api/v1/alerts and the vitals_alert_*
 * families. daemon.c calls these at the matching points of its life.
 *
 * Threads: create, reload and the tick timer run on the loop thread; the
 * engine's sink on the flusher thread; the API and /metrics on HTTP
 * threads; hooks on their own workers. Destroy after the HTTP server and
 * the flusher are gone.
 */
#ifndef VT_DAEMON_ALERTS_H
#define VT_DAEMON_ALERTS_H

#include <stddef.h>

#include "collector/agg/sinks.h"
#include "collector/alerts/alert_engine.h"
#include "collector/base/loop.h"
#include "collector/config/config.h"
#include "collector/health/health.h"
#include "collector/ingest/inbox.h"
#include "dashboards/http/http.h"
#include "exporters/prom/prom.h"

#define VT_DAEMON_ALERTS_TICK 0.5          /* seconds: `for` of status rules */

typedef struct vt_daemon_alerts vt_daemon_alerts;

/* Read the rules from cfg->config_file, restore the alerts of the last
 * run from <data_dir>/alerts.json (alert_store.h), start listening to
 * health and add the tick to loop (all borrowed, must outlive it); the
 * tick saves the alerts within a second of a change, destroy once more.
 * NULL with err set ("vitalsd: FILE: alerts.rules[0].for: ...") on a bad
 * section. */
vt_daemon_alerts *vt_daemon_alerts_create(const struct vt_config *cfg, vt_loop *loop,
    vt_health *health, char *err, size_t errlen);

/* The threshold sink, for the flusher (before it starts). */
struct vt_sink vt_daemon_alerts_sink(vt_daemon_alerts *ad);

/* The expectations' sink (expect.h), for the flusher (before it starts);
 * its checks go into inbox (borrowed, must outlive the flusher). */
struct vt_sink vt_daemon_alerts_expect_sink(vt_daemon_alerts *ad,
    vt_inbox *inbox);

/* /api/v1/alerts and the /metrics families (before HTTP starts). */
void vt_daemon_alerts_add_routes(vt_daemon_alerts *ad, struct vt_prom *prom,
    vt_http *http);

/* SIGHUP: read the alerts and expectations sections again; a bad one
 * keeps its old version and logs why. */
void vt_daemon_alerts_reload(vt_daemon_alerts *ad);

void vt_daemon_alerts_destroy(vt_daemon_alerts *ad);   /* NULL ok */

/* Page once in a fleet: only what fn says this collector owns notifies
 * (alert_engine.h, vt_alert_engine_set_owner). */
void vt_daemon_alerts_set_owner(vt_daemon_alerts *ad, vt_alert_owner_fn fn,
    void *ctx);

#endif
