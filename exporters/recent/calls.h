/*
 * calls.h - the service map's calls, kept by a view fed from each closed
 * window: who calls whom, how often, how many of those calls fail and how
 * slow they are.
 *
 * A call is any metric a caller sends with the tag peer.service:<callee>
 * (DogStatsD's and OpenTelemetry's name; peer_service:<callee> is accepted
 * too). Its series' service is the caller. Per edge (caller, callee):
 *   rate        calls/s: the 1-minute rate (EWMA; the window's rate while
 *               the EWMA is still 0) of its timers' counts
 *               (timers and histograms), summed over every series of the
 *               edge; an edge with no timer counts its counters instead
 *               (a caller that sends both counts each call once)
 *   errors      calls/s of the same series whose tag status, code or
 *               status_code is a 5xx code (500..599, "5xx") or "error",
 *               or whose tag error is "true" or "1" (or a bare `error`)
 *   error_share errors / rate (0..1), NaN without traffic
 *   p99         ms, the highest p99 among its timers in the window (the
 *               last full minute's when the window had none, else the
 *               edge's last p99), NaN when none
 * An edge whose series all went idle (vt_latest_idle) leaves the map.
 *
 * The map (vt_calls_map) adds nodes: every service the health registry
 * or the tiles know, and every caller and callee, with its status.
 *
 * Threads: the sink's flush runs on the flusher thread and publishes an
 * immutable snapshot (published.h); HTTP threads take it with
 * vt_calls_get and drop it with vt_calls_release.
 */
#ifndef VT_CALLS_H
#define VT_CALLS_H

#include <stddef.h>

#include "collector/agg/flush.h"
#include "collector/agg/series.h"
#include "collector/agg/sinks.h"
#include "collector/base/ref.h"
#include "collector/health/health_snapshot.h"
#include "exporters/recent/trends.h"

#define VT_CALLS_PEER_TAG "peer.service"
#define VT_CALLS_PEER_TAG_ALT "peer_service"

struct vt_call_edge {
	char *from, *to;             /* caller and callee; owned */
	double rate;                 /* calls/s */
	double errors;               /* failed calls/s */
	double error_share;          /* errors / rate, 0..1; NaN: no calls */
	double p99;                  /* ms; NaN: no timer */
	double last_seen;            /* unix time of its latest sample */
	size_t nseries;              /* series that made it */
	int timed;                   /* rate is from timers (not counters) */
};

struct vt_calls_snapshot {
	struct vt_ref ref;           /* first; use get/release */
	double timestamp;            /* end of the window (0: none yet) */
	double interval;
	size_t n;                    /* sorted by from, then to */
	struct vt_call_edge *v;
};

typedef struct vt_calls vt_calls;

vt_calls *vt_calls_create(void);
/* NULL ok; snapshots still referenced live on. */
void vt_calls_destroy(vt_calls *c);

/* A sink whose ctx is c (c stays the caller's). */
struct vt_sink vt_calls_sink(vt_calls *c);

/* The edges of window f after prev (may be NULL; it gives an edge's last
 * p99 when f has none). Exposed for tests; the sink calls it. One
 * reference. */
struct vt_calls_snapshot *vt_calls_next(const struct vt_calls_snapshot *prev,
    const struct vt_flush *f);

/* The edge from -> to in s (may be NULL), or NULL. */
const struct vt_call_edge *vt_calls_find(const struct vt_calls_snapshot *s,
    const char *from, const char *to);

/* The latest snapshot with a reference (never NULL). Thread-safe. */
struct vt_calls_snapshot *vt_calls_get(vt_calls *c);

/* DELETE of a service: its calls leave the published map at once (the
 * windows that follow come through the latest view, which hides it
 * already). Thread-safe. */
void vt_calls_forget(vt_calls *c, const char *service);
void vt_calls_release(struct vt_calls_snapshot *s);

/* The callee a series names (its peer.service or peer_service label), or
 * NULL when it is not a call. */
const char *vt_calls_peer(const struct vt_series *s);
/* Whether the series counts failed calls (status/code 5xx, error:true). */
int vt_calls_is_error(const struct vt_series *s);

/* ---- the map: nodes and edges ---- */

struct vt_map_node {
	const char *service;         /* borrowed from the snapshots */
	int has_checks;              /* status below is from checks */
	enum vt_status status;       /* worst check (OK without checks) */
	int stale;
	double rate_in, rate_out;    /* calls/s to it and from it */
};

struct vt_map {
	size_t nnodes;               /* sorted by service */
	struct vt_map_node *nodes;
	size_t nedges;               /* cs's edges, sorted by from, to */
	const struct vt_call_edge *edges;
	double max_rate;             /* the busiest edge's rate (0: none) */
};

/* Nodes from hs and ts (either may be NULL) and every endpoint of cs's
 * edges; the map borrows from all three: free it (vt_calls_map_free)
 * before releasing them. */
void vt_calls_map(struct vt_map *m, const struct vt_health_snapshot *hs,
    const struct vt_trends_snapshot *ts, const struct vt_calls_snapshot *cs);
void vt_calls_map_free(struct vt_map *m);

/* The node of service in m, or NULL (binary search). */
const struct vt_map_node *vt_calls_map_node(const struct vt_map *m,
    const char *service);

#endif
