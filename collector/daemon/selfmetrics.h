/*
 * selfmetrics.h - the daemon measured through its own pipeline: before
 * each window closes, its counters (selfstats.h) and the storage queue
 * are recorded into the aggregator as metrics of the service `vitals`,
 * so the collector gets a tile, a service page with graphs and RRD
 * history like any other service.
 *
 *   vitals.udp.packets, .udp.bytes, .udp.kernel_drops, .udp.truncated,
 *   .tcp.connections, .tcp.refused, .lines.ok, .lines.invalid,
 *   .checks.received, .inbox.messages, .inbox.dropped,
 *   .metrics.created, .metrics.expired       counters (per window)
 *   .tcp.open, .metrics.live, .storage.queue gauges
 *   .flush.time, .storage.round_time         timers (ms)
 *   .storage.errors                          counter
 *
 * Loop thread only. The `vitals_*` families of /metrics are unchanged.
 */
#ifndef VT_SELFMETRICS_H
#define VT_SELFMETRICS_H

#include "collector/agg/agg.h"
#include "collector/agg/selfstats.h"
#include "exporters/rrd/rrd_store.h"

#define VT_SELF_SERVICE "vitals"

/* What the previous call saw; zero-initialise. */
struct vt_selfmetrics {
	struct vt_selfstats prev;
	uint64_t prev_storage_errors;
};

/* Record the change since the previous call (the first call records
 * everything since start). rrd may be NULL (storage off). */
void vt_selfmetrics_record(struct vt_selfmetrics *sm, vt_agg *agg,
    const struct vt_selfstats *now, vt_rrd_store *rrd);

#endif
