/*
 * daemon_reload.h - SIGHUP, key by key: the configuration is read again
 * (the same file and flags as at start) and every key that changed is
 * logged, either applied at once or named as needing a restart. The
 * alert rules and hooks (the "alerts" section) are reloaded by
 * daemon_alerts.h.
 *
 * Applied while running: log.level, http.token, http.max_body,
 * max_metrics, metric_ttl, retire_after, statsd.tcp_max_clients,
 * statsd.tcp_idle_timeout, mapping_file (the daemon reads the rules
 * again on every SIGHUP and hands them to the aggregator,
 * vt_agg_set_mapping). Every other key (addresses, the window, the
 * storage, the data directory, ...) needs a restart and keeps its
 * running value.
 */
#ifndef VT_DAEMON_RELOAD_H
#define VT_DAEMON_RELOAD_H

#include <stddef.h>

#include "collector/agg/agg.h"
#include "collector/config/config.h"
#include "collector/ingest/listen.h"
#include "dashboards/http/http.h"
#include "exporters/recent/latest.h"

/* What the applied keys reach; all borrowed. */
struct vt_daemon_reload_targets {
	vt_agg *agg;
	vt_listen *listen;
	vt_http *http;
	vt_latest *latest;
};

/* Whether SIGHUP applies the key at `path` while running. */
int vt_daemon_reload_applies(const char *path);

/*
 * Compare next (a freshly read configuration) with the running cur; copy
 * the keys SIGHUP applies into cur and hand them to the targets (on the
 * loop thread), log every changed key. Returns the number of changed
 * keys that need a restart.
 */
size_t vt_daemon_reload_apply(struct vt_config *cur,
    const struct vt_config *next, const struct vt_daemon_reload_targets *t);

#endif
