/*
 * alert_store.h - alert state on disk, so a restart neither forgets a
 * firing alert nor announces it twice: <data_dir>/alerts.json, an atomic
 * state file (base/state_file.h) like health.json, written by the daemon
 * within a second of any alert changing phase or being notified, and at
 * exit; read back into the engine at start.
 *
 * File format (JSON):
 *   {"format": "vitals-alerts", "version": 1, "saved": <unix time>,
 *    "alerts": [{"id", "rule", "kind": "check", "service", "instance",
 *                "check", "metric", "tags", "output", "status",
 *                "previous", "notified_status", "value", "metric_kind",
 *                "phase": "firing", "active", "since", "fired",
 *                "notified_at", "notified"}, ...]}
 * Absent strings and statuses are null. Flap history is not kept: a
 * restarted daemon starts counting state changes afresh. An alert whose
 * rule is gone (by name and kind) is dropped at load, without a
 * notification, as a reload would.
 */
#ifndef VT_ALERT_STORE_H
#define VT_ALERT_STORE_H

#include <stddef.h>

#include "collector/alerts/alert_engine.h"

#define VT_ALERT_STORE_FILE "alerts.json"
#define VT_ALERT_STORE_MAX (64u << 20)     /* largest file read, bytes */

/* Write e's alerts to <dir>/alerts.json. 0, or -errno with err. */
int vt_alert_store_save(vt_alert_engine *e, const char *dir, double now,
    char *err, size_t errlen);

/*
 * Restore <dir>/alerts.json into e. Returns the alerts restored (0
 * without a file; *firing of them firing), or -errno with err (-EINVAL:
 * the file was set aside). *skipped gets the entries not restored (rule
 * gone, unusable).
 */
int vt_alert_store_load(vt_alert_engine *e, const char *dir, double now,
    size_t *firing, size_t *skipped, char *err, size_t errlen);

#endif
