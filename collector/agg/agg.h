/*
 * agg.h - the aggregator: one open window per metric, closed on each flush.
 *
 * Owned and used by the loop thread only; nothing here locks. The hot path
 * is vt_agg_record, called once per parsed line: one hash lookup and an
 * update through the per-kind table, allocating nothing once the metric
 * exists. vt_agg_close_window builds the read-only struct vt_flush for the
 * sinks, resets the windows and frees metrics idle for metric_ttl.
 *
 * Series identity: the name as sent plus its tags in sorted order, so
 * "x:1|c|#a:1,b:2" and "x:1|c|#b:2,a:1" are one series. The tag
 * service:<name> names the service (and stays part of the identity); the
 * other tags become labels. A name keeps the kind it was first seen with
 * until it expires: a line of another kind is a type conflict.
 *
 * Mapping rules (vt_agg_config.mapping) decide a new series' identity:
 * when the raw key misses, the rule for the name gives the metric name,
 * the service (its `service` label, else as above) and labels (the rule's,
 * then the tags'), and its ttl replaces metric_ttl for that series; a drop
 * rule makes the line VT_LINE_DROPPED_BY_MAPPING and creates nothing. The
 * lookup key stays the raw name and tags, so lines of a known series never
 * consult the rules. Names of the collector's own service ("vitals.")
 * are never mapped.
 */
#ifndef VT_AGG_H
#define VT_AGG_H

#include <stddef.h>

#include "collector/agg/flush.h"
#include "collector/agg/selfstats.h"
#include "collector/base/line_result.h"
#include "collector/base/vt_types.h"
#include "collector/statsd/mapping.h"

struct vt_agg_config {
	size_t max_metrics;      /* live metrics at most; new names past it drop */
	double metric_ttl;       /* seconds without samples before a metric leaves */
	size_t npercentiles;
	double percentiles[VT_MAX_PERCENTILES];  /* 0-100 */
	/* Mapping rules (mapping.h), consulted only when a series is
	 * created: NULL for none. vt_agg_create takes ownership. */
	vt_mapping *mapping;
	/* Timers and histograms keep a cumulative native histogram for the
	 * Prometheus protobuf exposition (native_hist.h). */
	int native_histograms;
};

typedef struct vt_agg vt_agg;

/* stats is borrowed (owned by the loop) and must outlive the aggregator;
 * the aggregator keeps its metrics_* fields up to date. */
vt_agg *vt_agg_create(const struct vt_agg_config *cfg,
    struct vt_selfstats *stats);
void vt_agg_destroy(vt_agg *agg);

/* Apply one parsed sample. VT_LINE_OK, VT_LINE_TYPE_CONFLICT,
 * VT_LINE_OVER_CAP, VT_LINE_DROPPED_BY_MAPPING or VT_LINE_BAD_TAGS
 * (duplicate or invalid tag keys). */
enum vt_line_result vt_agg_record(vt_agg *agg, const struct vt_sample *s);

/*
 * Apply n <= VT_AGG_BATCH samples in order, as n calls of vt_agg_record
 * would (results[i] is what each would return), but faster: the lookups
 * of the whole batch are staged with software prefetches so their cache
 * misses overlap instead of queueing one behind the other. With thousands
 * of metrics that is most of the cost of a line.
 */
#define VT_AGG_BATCH 64
void vt_agg_record_batch(vt_agg *agg, const struct vt_sample *s, size_t n,
    enum vt_line_result *results);

/*
 * vt_agg_record_batch in three steps, for a caller that overlaps one
 * batch's cache misses with other work (ingest parses the next batches):
 *   vt_agg_batch_hash   hash the names, prefetch their home slots;
 *   vt_agg_batch_probe  find each name's metric, prefetch it;
 *   vt_agg_batch_apply  apply in order and fill results.
 * The steps of one batch run in that order, and batches are applied in
 * the order they were hashed. The samples (and the text they borrow) must
 * stay valid until apply. Between probe and apply nothing may remove a
 * metric (vt_agg_close_window, vt_agg_forget_service): apply every probed
 * batch first. The struct is the caller's; the aggregator keeps nothing.
 */
struct vt_metric;
struct vt_agg_batch {
	const struct vt_sample *s;
	size_t n;
	int deep;                   /* holds timers or sets */
	uint64_t hash[VT_AGG_BATCH];
	struct vt_metric *guess[VT_AGG_BATCH];
};
void vt_agg_batch_hash(vt_agg *agg, struct vt_agg_batch *b,
    const struct vt_sample *s, size_t n);
void vt_agg_batch_probe(vt_agg *agg, struct vt_agg_batch *b);
void vt_agg_batch_apply(vt_agg *agg, struct vt_agg_batch *b,
    enum vt_line_result *results);

/*
 * Close the open window: `now` is the unix time of the close, `interval`
 * the seconds it covered. Returns a new flush (one reference, the caller's)
 * holding every live metric, then resets the windows and expires idle
 * metrics.
 */
struct vt_flush *vt_agg_close_window(vt_agg *agg, double now,
    double interval);

/* Forget every metric of a service (DELETE /api/v1/services/<s>).
 * Returns how many were removed. */
size_t vt_agg_forget_service(vt_agg *agg, const char *service);

/*
 * Bring back a metric of the last run (the catalogue, after a restart)
 * as a live metric with no samples yet: it is in every window (and on
 * /metrics: a counter from 0, a gauge with its last value) until it
 * expires after metric_ttl from last_seen, like any idle metric. Takes
 * its own reference to s, whose key must be an aggregator key. 0; -1
 * when it exists already, the cap is reached, or a mapping rule drops
 * it. Loop thread, before the first line.
 */
int vt_agg_restore(vt_agg *agg, struct vt_series *s, double last_seen,
    double gauge);

/* SIGHUP: new max_metrics and metric_ttl, from the next line and window
 * on (metrics past a lower cap stay until they expire). */
void vt_agg_set_limits(vt_agg *agg, size_t max_metrics, double metric_ttl);

/* SIGHUP: mapping rules read again (NULL: none now), taking ownership.
 * They apply from the close of the open window: every line of that
 * window counts under the old rules; then a live series the new rules
 * map differently (name, service, labels, ttl, buckets, or now dropped)
 * leaves memory and its next line starts the new series (a counter from
 * 0), the others are kept. Loop thread. */
void vt_agg_set_mapping(vt_agg *agg, vt_mapping *mapping);

/* Live metrics. */
size_t vt_agg_size(const vt_agg *agg);

#endif
