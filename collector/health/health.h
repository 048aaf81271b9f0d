/*
 * health.h - the healthcheck registry (SPEC 3.2): state per (service,
 * instance, check), staleness, worst-of service status, a short history
 * of transitions, and an immutable snapshot for readers on other threads.
 *
 * Threads: the registry is owned by the loop thread, which applies
 * reports, sweeps for staleness and forgets services; nothing else may
 * call those. Other threads (HTTP, the state saver) only read published
 * snapshots: vt_health_snapshot_get is thread-safe and returns a
 * reference to an immutable struct vt_health_snapshot (published in a
 * struct vt_published slot), released with vt_health_snapshot_release.
 * The loop republishes after changes from vt_health_tick, at most every
 * publish_interval, or less often for a large registry (8 times the time
 * a copy takes), but at least once a second while anything changes.
 *
 * State of a check: status and output of the last report, or, when no
 * report came within its TTL (measured from when the daemon received the
 * last report, or from when it restored the check at start), critical with
 * output "stale: no report for <ttl>s". Each change of status (or of
 * staleness) is a transition: kept in a ring of the last
 * VT_HEALTH_HISTORY, and announced to the listeners. A service's status is
 * the worst of its checks (critical > warning > unknown > ok).
 *
 * Memory: at most max_checks checks; reports for new checks beyond it are
 * counted (over_cap) and dropped.
 */
#ifndef VT_HEALTH_H
#define VT_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "collector/health/health_check.h"
#include "collector/health/health_snapshot.h"

#define VT_HEALTH_HISTORY 10          /* transitions kept per check */
#define VT_HEALTH_MAX_LISTENERS 4

struct vt_health_config {
	size_t max_checks;          /* 100000 */
	double publish_interval;    /* seconds between snapshots, e.g. 0.25 */
};

/* One status change, as the listeners see it. Strings are borrowed for
 * the duration of the callback. */
struct vt_health_event {
	const char *service;
	const char *instance;        /* NULL when forgotten */
	const char *check;           /* NULL when forgotten */
	const char *output;          /* NULL when forgotten */
	enum vt_status status;       /* the check's new status */
	int previous;                /* old status, -1 for a new check */
	int stale;                   /* the change is the check going stale */
	enum vt_status service_status;
	int service_previous;        /* -1 for a new service */
	int forgotten;               /* the service was deleted */
	double time;
	const char *origin;          /* collector whose report set this
	                                check; NULL: this one */
	const char *service_origin;  /* origin of the service's latest
	                                report (its owner); NULL: this one */
};

/* Runs on the loop thread; must not block. */
typedef void (*vt_health_event_fn)(void *ctx, const struct vt_health_event *ev);

typedef struct vt_health vt_health;

vt_health *vt_health_create(const struct vt_health_config *cfg);
/* Frees everything; snapshots still referenced stay valid. NULL ok. */
void vt_health_destroy(vt_health *h);

/* Register before use. 0, or -ENOSPC past VT_HEALTH_MAX_LISTENERS. */
int vt_health_add_listener(vt_health *h, vt_health_event_fn fn, void *ctx);

/* Like vt_health_add_listener, but fn sees every accepted report once it
 * is applied, whether the status changed or not (ev->previous is the
 * status before it, -1 for a new check; ev->stale is 0). For flap
 * detection (alerts), which needs the results, not just the changes. */
int vt_health_add_report_listener(vt_health *h, vt_health_event_fn fn,
    void *ctx);

/*
 * Apply one report received at `now`: VT_CHECK_OK, or VT_CHECK_OVER_CAP
 * for a new check past max_checks. Counted under `format` either way.
 */
enum vt_check_result vt_health_apply(vt_health *h, const struct vt_check *c,
    enum vt_check_format format, double now);

/*
 * The same for a report another collector of the fleet applied first:
 * origin (copied) is its name and is remembered with the check (NULL or
 * "" is vt_health_apply). The tap does not see it.
 */
enum vt_check_result vt_health_apply_from(vt_health *h,
    const struct vt_check *c, enum vt_check_format format, double now,
    const char *origin);

/* Sees every report of this collector's own (not from the fleet) once
 * it is applied; loop thread, must not block. One tap; NULL removes it. */
typedef void (*vt_health_tap_fn)(void *ctx, const struct vt_check *c);
void vt_health_set_tap(vt_health *h, vt_health_tap_fn fn, void *ctx);

/* Count a report rejected before it reached the registry. */
void vt_health_count(vt_health *h, enum vt_check_format format,
    enum vt_check_result why);

/*
 * Restore a check from saved state (health_store.c): every field of v,
 * history included; v->service names the service. Not announced to
 * listeners. A check that was not stale gets a full TTL from `now` before
 * it can go stale, since no report could arrive while the daemon was
 * down. VT_CHECK_OK or VT_CHECK_OVER_CAP.
 */
enum vt_check_result vt_health_restore(vt_health *h,
    const struct vt_health_check_view *v, double now);

/* Forget every check of a service (DELETE). Returns how many. */
size_t vt_health_forget_service(vt_health *h, const char *service,
    double now);

/* Staleness sweep (cheap when nothing is due) and, when something changed
 * and publish_interval has passed, a new snapshot. Call every ~250 ms. */
void vt_health_tick(vt_health *h, double now);

/* Publish a snapshot now if anything changed (shutdown, tests). */
void vt_health_publish(vt_health *h, double now);

/* Checks in the registry (loop thread). */
size_t vt_health_size(const vt_health *h);

/* "stale: no report for 30s" for a TTL. */
void vt_health_stale_output(char *out, size_t outlen, double ttl);

#endif
