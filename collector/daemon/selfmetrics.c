/* selfmetrics.c - the daemon's counters as the service vitals
 * (selfmetrics.h). */
#include <stddef.h>
#include <string.h>

#include "collector/base/line_result.h"
#include "collector/daemon/selfmetrics.h"

static void record(vt_agg *agg, const char *name, enum vt_kind kind,
    double value)
{
	struct vt_sample s = {
		.name = { name, strlen(name) },
		.value = value,
		.sample_rate = 1,
		.kind = kind,
	};
	vt_agg_record(agg, &s);
}

/* The counters of a selfstats that become vitals.* counters. */
static const struct {
	const char *name;
	size_t offset;
} counters[] = {
#define C(n, f) { VT_SELF_SERVICE "." n, offsetof(struct vt_selfstats, f) }
	C("udp.packets", udp_packets),
	C("udp.bytes", udp_bytes),
	C("udp.kernel_drops", udp_kernel_drops),
	C("udp.truncated", udp_truncated),
	C("tcp.connections", tcp_connections),
	C("tcp.refused", tcp_refused),
	C("checks.received", service_checks),
	C("inbox.messages", inbox_messages),
	C("inbox.dropped", inbox_dropped),
	C("metrics.created", metrics_created),
	C("metrics.expired", metrics_expired),
#undef C
};

static uint64_t field(const struct vt_selfstats *s, size_t offset)
{
	uint64_t v;
	memcpy(&v, (const char *)s + offset, sizeof v);
	return v;
}

static uint64_t invalid_lines(const struct vt_selfstats *s)
{
	uint64_t n = 0;
	for (size_t i = 0; i < VT_LINE_RESULT_COUNT; i++)
		if (i != VT_LINE_OK)
			n += s->lines[i];
	return n;
}

void vt_selfmetrics_record(struct vt_selfmetrics *sm, vt_agg *agg,
    const struct vt_selfstats *now, vt_rrd_store *rrd)
{
	const struct vt_selfstats prev = sm->prev;
	uint64_t prev_errors = sm->prev_storage_errors;
	for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
		uint64_t a = field(now, counters[i].offset);
		uint64_t b = field(&prev, counters[i].offset);
		record(agg, counters[i].name, VT_COUNTER, a >= b ?
		    (double)(a - b) : (double)a);
	}
	uint64_t ok = now->lines[VT_LINE_OK], ok0 = prev.lines[VT_LINE_OK];
	uint64_t bad = invalid_lines(now), bad0 = invalid_lines(&prev);
	record(agg, VT_SELF_SERVICE ".lines.ok", VT_COUNTER,
	    (double)(ok >= ok0 ? ok - ok0 : ok));
	record(agg, VT_SELF_SERVICE ".lines.invalid", VT_COUNTER,
	    (double)(bad >= bad0 ? bad - bad0 : bad));
	record(agg, VT_SELF_SERVICE ".tcp.open", VT_GAUGE,
	    (double)now->tcp_open);
	record(agg, VT_SELF_SERVICE ".metrics.live", VT_GAUGE,
	    (double)now->metrics_live);
	if (now->flushes > 0)
		record(agg, VT_SELF_SERVICE ".flush.time", VT_TIMER,
		    now->last_flush_seconds * 1000);
	if (rrd != NULL) {
		struct vt_rrd_store_stats st;
		vt_rrd_store_get_stats(rrd, &st);
		record(agg, VT_SELF_SERVICE ".storage.queue", VT_GAUGE,
		    (double)st.queued);
		record(agg, VT_SELF_SERVICE ".storage.errors", VT_COUNTER,
		    (double)(st.errors >= prev_errors ? st.errors - prev_errors :
		    st.errors));
		if (st.last_window > 0)
			record(agg, VT_SELF_SERVICE ".storage.round_time",
			    VT_TIMER, st.last_round_seconds * 1000);
		sm->prev_storage_errors = st.errors;
	}
	sm->prev = *now;
}
