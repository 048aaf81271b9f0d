/*
 * health_store.h - healthcheck state on disk, so it survives restarts
 * (SPEC 3.2): <data_dir>/health.json, written atomically (write a
 * temporary file, fsync, rename over the old one, fsync the directory)
 * from a published snapshot, periodically by a saver thread and once more
 * at shutdown; read back into the registry at start.
 *
 * File format (JSON):
 *   {"format": "vitals-health", "version": 1, "saved": <unix time>,
 *    "checks": [{"service", "instance", "check", "status": "ok",
 *                "output", "stale": false, "ttl", "first_seen",
 *                "last_report", "last_change", "timestamp",
 *                "history": [{"time", "from", "to", "stale",
 *                             "output"}, ...]}, ...]}
 * A file that is not such a document (corrupt, truncated, another
 * format) is renamed aside to health.json.corrupt-<unix time> and
 * reported; the daemon then starts empty. Entries that break the text
 * rules of health_check.h are skipped and counted.
 */
#ifndef VT_HEALTH_STORE_H
#define VT_HEALTH_STORE_H

#include <stddef.h>

#include "collector/health/health.h"
#include "collector/health/health_snapshot.h"

#define VT_HEALTH_STORE_FILE "health.json"
#define VT_HEALTH_STORE_MAX (512u << 20)   /* largest file read, bytes */

/* Write snap to <dir>/health.json atomically. 0, or -errno with err. */
int vt_health_store_save(const struct vt_health_snapshot *snap,
    const char *dir, double now, char *err, size_t errlen);

/*
 * Restore <dir>/health.json into h (vt_health_restore for each entry).
 * Returns the number of checks restored (0 when there is no file), or
 * -EINVAL when the file was corrupt and has been set aside, or another
 * -errno when it could not be read; err then says what happened. *skipped
 * (may be NULL) gets the number of unusable entries.
 */
int vt_health_store_load(vt_health *h, const char *dir, double now,
    size_t *skipped, char *err, size_t errlen);

/*
 * The saver: a thread that saves h's published snapshot
 *   - once at start (what was restored, as the daemon now sees it),
 *   - within VT_HEALTH_STORE_CHANGE_GAP seconds of a change of status,
 *     staleness or the set of checks (so a daemon killed or crashing
 *     soon after keeps it),
 *   - and otherwise every `interval` seconds when anything else changed
 *     (outputs, report times).
 * h and dir are borrowed and must outlive the saver. NULL with err when
 * the thread cannot start.
 */
#define VT_HEALTH_STORE_CHANGE_GAP 1.0
typedef struct vt_health_saver vt_health_saver;
vt_health_saver *vt_health_store_saver_start(vt_health *h, const char *dir,
    double interval, char *err, size_t errlen);

/* Stop and join the thread, then save once more on the calling thread if
 * the published snapshot changed (publish first: vt_health_publish).
 * Returns 0 or the -errno of that last save (logged). NULL ok. */
int vt_health_store_saver_stop(vt_health_saver *s);

#endif
