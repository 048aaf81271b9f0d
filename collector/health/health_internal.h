/*
 * health_internal.h - the registry's private structures, shared by
 * health.c (apply, sweep, forget) and health_snapshot.c (publishing).
 * Not for other modules.
 */
#ifndef VT_HEALTH_INTERNAL_H
#define VT_HEALTH_INTERNAL_H

#include "collector/base/published.h"
#include "collector/health/health.h"
#include "collector/health/health_snapshot.h"

struct vt_health_hist {
	double time;
	enum vt_status from, to;
	int stale;
	char *output;                /* owned */
};

struct vt_health_chk {
	struct vt_health_chk *hnext; /* hash chain */
	struct vt_health_chk *snext; /* next check of the service */
	struct vt_health_svc *svc;
	uint64_t hash;
	char *instance, *check;      /* owned */
	char *output;                /* owned */
	char *origin;                /* owned; NULL: this collector */
	enum vt_status status;
	int stale;
	double ttl, first_seen, last_report, last_change, timestamp;
	double watch_from;           /* staleness counts from here */
	struct vt_health_hist *hist; /* ring of VT_HEALTH_HISTORY, lazily */
	unsigned hist_head, hist_len;
};

struct vt_health_svc {
	struct vt_health_svc *hnext;
	char *name;                  /* owned */
	uint64_t hash;
	struct vt_health_chk *checks;
	size_t nchecks;
	enum vt_status status;
	int stale;
	char *origin;                /* owned; of the latest report; NULL:
	                                this collector */
	double last_report;
};

struct vt_health_listener {
	vt_health_event_fn fn;
	void *ctx;
};

struct vt_health {
	struct vt_health_config cfg;
	struct vt_health_svc **svcs;     /* buckets */
	size_t nsvc_buckets, nservices;
	struct vt_health_chk **chks;     /* buckets */
	size_t nchk_buckets, nchecks;
	double next_deadline;            /* earliest possible staleness */
	int dirty;                       /* changed since the last publish */
	double last_publish;
	double publish_cost;             /* seconds the last build took */
	uint64_t version;
	struct vt_health_stats stats;
	struct vt_health_listener listeners[VT_HEALTH_MAX_LISTENERS];
	size_t nlisteners;
	struct vt_health_listener report_listeners[VT_HEALTH_MAX_LISTENERS];
	size_t nreport_listeners;   /* every report, changed or not */
	vt_health_tap_fn tap;            /* local reports, for the fleet */
	void *tap_ctx;
	struct vt_published published;   /* struct vt_health_snapshot */
};

/* Build a snapshot of h's current state (loop thread). One reference. */
struct vt_health_snapshot *vt_health_snapshot_build(const vt_health *h,
    uint64_t version, double now);

#endif
