/*
 * prom.h - the Prometheus exporter: a sink that keeps the latest closed
 * window and renders it as text exposition 0.0.4, OpenMetrics 1.0 or
 * delimited protobuf (prom_proto.h, with native histograms) on each
 * scrape of /metrics (SPEC 7).
 *
 * Thread-safety: the sink's flush runs on the flusher thread; render runs
 * on HTTP threads. They meet at the latest struct vt_flush (reference
 * counted) in a struct vt_published slot, never on the ingest path.
 *
 * Mapping (SPEC 7), for each metric of the flush, name = the metric name
 * sanitised by vt_names_prometheus:
 *   counter    -> counter <name>_total = cumulative total ("_total" is not
 *                 doubled when the name already ends in it)
 *   gauge, set -> gauge <name>
 *   timer (ms) -> summary <name>_seconds (quantiles, _sum, _count; ms/1000;
 *                 "_seconds" is not doubled either)
 *   histogram  -> summary <name>, in the unit sent
 *   (timers and histograms whose mapping rule says observer_type:
 *   histogram are classic histograms instead, see prom_model.c)
 * In the protobuf exposition, with prometheus.native_histograms on,
 * timers and histograms are histograms with native buckets from their
 * sketches (native_hist.h), plus the classic buckets a rule gave them,
 * and without quantiles (a family has one type); the rest is the same.
 * Labels: service="<service>" first, then the tags, names sanitised and
 * sorted; instance, job, le, quantile, service and __* become exported_*.
 * Conflicts (the newer series, by series id, is left out and counted in
 * vitals_prometheus_conflicts): two series with one family and label set;
 * a family name already taken by another statsd kind (a gauge and a set,
 * a timer and a histogram count as different kinds too) or by a sample
 * name of another family (<x>_total, _created of counters; <x>_sum,
 * _count, _bucket, _created of summaries); a family in the reserved
 * vitals_ namespace; two tags of one series sanitised to the same label
 * name. Families are sorted by name (the OpenMetrics name: counters
 * without _total), the daemon's vitals_* families among them.
 */
#ifndef VT_PROM_H
#define VT_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "collector/agg/flush.h"
#include "collector/agg/selfstats.h"
#include "collector/agg/sinks.h"
#include "collector/base/buf.h"
#include "collector/base/prom_text.h"


/* Collectors registered with vt_prom_add_collector beyond this many are
 * ignored. */
#define VT_PROM_MAX_COLLECTORS 16

struct vt_prom;

struct vt_prom *vt_prom_create(void);
/* Drops the retained flush and frees. NULL ok. */
void vt_prom_destroy(struct vt_prom *p);

/* A sink whose ctx is p and whose destroy is NULL: p stays owned by the
 * caller, who destroys it after the flusher and HTTP server are stopped. */
struct vt_sink vt_prom_sink(struct vt_prom *p);

/*
 * Another module's families, appended to every scrape (healthchecks, AMQP
 * state, HTTP counters). The callback writes complete families (HELP, TYPE,
 * samples) for the given format into out. It runs on an HTTP thread and
 * must be thread-safe. Register before the HTTP server starts; at most
 * VT_PROM_MAX_COLLECTORS are kept, later ones are ignored.
 */
void vt_prom_add_collector(struct vt_prom *p, vt_prom_collector_fn fn,
    void *ctx);

/* Render the current exposition into out (appends). Before the first
 * flush: the vitals_* families with zero values. */
void vt_prom_render(struct vt_prom *p, struct vt_buf *out,
    enum vt_prom_format fmt);

/*
 * The same exposition in pieces, for a response streamed as it is
 * written: memory stays at one piece (about VT_PROM_CHUNK bytes) however
 * many series there are, instead of the whole body. The stream holds its
 * own reference to the window it renders, so a flush meanwhile does not
 * tear it. vt_prom_stream_next appends the next piece to out and returns
 * its length: 0 once the exposition is complete.
 */
#define VT_PROM_CHUNK (32 * 1024)
struct vt_prom_stream;
struct vt_prom_stream *vt_prom_stream_open(struct vt_prom *p,
    enum vt_prom_format fmt);
size_t vt_prom_stream_next(struct vt_prom_stream *s, struct vt_buf *out);
void vt_prom_stream_close(struct vt_prom_stream *s);   /* NULL ok */


/* Choose the format from an Accept header (NULL ok): OpenMetrics only
 * when the client asks for application/openmetrics-text. For bodies
 * written as text (the relay's /metrics). */
enum vt_prom_format vt_prom_negotiate(const char *accept);

/* The same for a stream (vt_prom_stream_open), which can also answer in
 * the delimited protobuf format (prom_proto.h): chosen when the Accept
 * header lists application/vnd.google.protobuf with
 * proto=io.prometheus.client.MetricFamily and encoding=delimited, at a q
 * value above 0 and at least every other type's. */
enum vt_prom_format vt_prom_stream_negotiate(const char *accept);

#endif
