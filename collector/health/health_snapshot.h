/*
 * health_snapshot.h - the registry's state as an immutable, reference
 * counted snapshot (health.h publishes one after changes): what every
 * reader on another thread sees (the API, the pages, the event stream,
 * /metrics, the state file).
 */
#ifndef VT_HEALTH_SNAPSHOT_H
#define VT_HEALTH_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "collector/base/ref.h"
#include "collector/health/health_check.h"

typedef struct vt_health vt_health;

/*
 * Every array and string below belongs to the snapshot and stays valid
 * while the reader holds its reference; nothing in it may be modified.
 */

struct vt_health_transition {
	double time;
	enum vt_status from, to;
	int stale;                   /* `to` is the stale critical */
	const char *output;          /* output that came with the change */
};

struct vt_health_check_view {
	const char *service, *instance, *check, *output;
	enum vt_status status;
	int stale;
	double ttl;
	double first_seen;           /* unix seconds */
	double last_report;          /* when the daemon received the last one */
	double last_change;          /* last change of status or staleness */
	double timestamp;            /* as sent by the client; 0 when not */
	const char *origin;          /* fleet collector it came from; NULL:
	                                this one */
	size_t nhistory;
	const struct vt_health_transition *history;   /* oldest first */
};

/* The instance under which the collector reports checks of its own (a
 * metric's performance expectation, collector/alerts/expect.h): listed
 * with the others, but not counted as an instance of the service. */
#define VT_HEALTH_SELF_INSTANCE "vitalsd"

struct vt_health_instance_view {
	const char *instance;
	enum vt_status status;       /* worst of its checks */
	int stale;                   /* every check of it is stale */
	size_t nchecks;
	double last_report;
};

struct vt_health_service_view {
	const char *name;
	enum vt_status status;       /* worst of its checks */
	int stale;                   /* every instance is stale */
	size_t counts[4];            /* checks by enum vt_status */
	double last_report;
	const char *owner;           /* origin of the latest report (the
	                                fleet collector that owns it); NULL:
	                                this one */
	size_t nchecks;              /* sorted by check name, then instance */
	const struct vt_health_check_view *checks;
	size_t ninstances;           /* sorted by instance */
	const struct vt_health_instance_view *instances;
	size_t nreporting;           /* instances but the collector's own
	                                (VT_HEALTH_SELF_INSTANCE): what
	                                "N instances" counts */
};

struct vt_health_stats {
	/* reports received, by format and result (cumulative) */
	uint64_t received[VT_CHECK_FORMAT_COUNT][VT_CHECK_RESULT_COUNT];
	uint64_t stale;              /* times a check went stale */
	uint64_t transitions;        /* status changes of existing checks */
	uint64_t forgotten;          /* checks removed by forget_service */
};

struct vt_health_snapshot {
	struct vt_ref ref;           /* first; use get/release */
	uint64_t version;            /* 1, 2, ... per publication */
	double time;                 /* unix time it was built */
	size_t max_checks;
	size_t nchecks;
	size_t nservices;            /* sorted by name */
	const struct vt_health_service_view *services;
	struct vt_health_stats stats;
	void *mem;                   /* private: the arrays and strings */
};

/* Thread-safe: the latest snapshot, with a reference for the caller.
 * Never NULL (an empty one exists from creation). */
struct vt_health_snapshot *vt_health_snapshot_get(vt_health *h);
/* Drop a reference. Thread-safe. NULL ok. */
void vt_health_snapshot_release(struct vt_health_snapshot *s);

/* The service named `name` in s, or NULL (binary search). */
const struct vt_health_service_view *vt_health_snapshot_find(
    const struct vt_health_snapshot *s, const char *name);

#endif
