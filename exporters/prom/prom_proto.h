/*
 * prom_proto.h - the Prometheus protobuf exposition: length-delimited
 * io.prometheus.client.MetricFamily messages (the format Prometheus asks
 * for first when started with --enable-feature=native-histograms), with a
 * small hand-written encoder: no code generator, no library.
 *
 * Wire format (protobuf): a field is varint(field << 3 | wire type), then
 * a varint (wire type 0), 8 little-endian bytes (1: double) or a varint
 * length and that many bytes (2: strings, sub-messages, packed repeated
 * scalars). sint32/sint64 are zigzag varints. The exposition is a stream
 * of MetricFamily messages, each preceded by its varint length. Field
 * numbers, from io.prometheus.client's metrics.proto:
 *   MetricFamily  name 1, help 2, type 3, metric 4 (repeated)
 *   Metric        label 1 (LabelPair name 1, value 2), gauge 2, counter 3,
 *                 summary 4, untyped 5, histogram 7 (each {value 1}
 *                 for gauge, counter, untyped)
 *   Summary       sample_count 1, sample_sum 2, quantile 3
 *                 (Quantile quantile 1, value 2)
 *   Histogram     sample_count 1, sample_sum 2, bucket 3 (Bucket
 *                 cumulative_count 1, upper_bound 2), schema 5 (sint32),
 *                 zero_threshold 6, zero_count 7, negative_span 9,
 *                 negative_delta 10 (sint64, packed), positive_span 12,
 *                 positive_delta 13; BucketSpan offset 1 (sint32),
 *                 length 2
 *   types         COUNTER 0, GAUGE 1, SUMMARY 2, UNTYPED 3, HISTOGRAM 4
 *
 * One model, two encoders: the exporter's own series are encoded from its
 * family model (prom_model.c) by the text writer or by this one. The
 * families other modules write (healthchecks, storage, HTTP, alerts,
 * AMQP) and the daemon's vitals_* families are written as text through
 * prom_text.h by one function each; rather than a second copy of each,
 * vt_prom_proto_from_text re-encodes that text, which those writers keep
 * to a small regular subset (HELP and TYPE before the samples, a series'
 * lines together, no timestamps), so nothing outside the exporter changes.
 *
 * Messages are written straight into the output buffer: a sub-message is
 * opened with a one-byte length placeholder and closed by writing the
 * length in place, moving the body when the length needs more bytes.
 */
#ifndef VT_PROM_PROTO_H
#define VT_PROM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "collector/agg/native_hist.h"
#include "collector/base/buf.h"

#define VT_PROM_PROTO_CONTENT_TYPE "application/vnd.google.protobuf; " \
	"proto=io.prometheus.client.MetricFamily; encoding=delimited"

enum vt_prom_proto_type {
	VT_PROM_PROTO_COUNTER = 0,
	VT_PROM_PROTO_GAUGE = 1,
	VT_PROM_PROTO_SUMMARY = 2,
	VT_PROM_PROTO_UNTYPED = 3,
	VT_PROM_PROTO_HISTOGRAM = 4
};

/* ---- the wire format ---------------------------------------------- */

void vt_prom_proto_varint(struct vt_buf *b, uint64_t v);
void vt_prom_proto_uint(struct vt_buf *b, uint32_t field, uint64_t v);
void vt_prom_proto_sint(struct vt_buf *b, uint32_t field, int64_t v);
void vt_prom_proto_double(struct vt_buf *b, uint32_t field, double v);
void vt_prom_proto_bytes(struct vt_buf *b, uint32_t field, const void *p,
    size_t len);
/* Open a sub-message (or packed field) as field; field 0 opens a
 * length-delimited top-level message (no tag). Returns the mark to close
 * it with. Opened messages close in reverse order. */
size_t vt_prom_proto_open(struct vt_buf *b, uint32_t field);
void vt_prom_proto_close(struct vt_buf *b, size_t mark);

/* ---- families ------------------------------------------------------- */

/* Open a MetricFamily (closed with vt_prom_proto_close): name, HELP text
 * as is (unescaped), type. */
size_t vt_prom_proto_family(struct vt_buf *b, const char *name, size_t len,
    const char *help, size_t hlen, enum vt_prom_proto_type type);

/* LabelPair fields of a Metric from label text as the text format writes
 * it between braces, `a="x",b="y\"z"` (escapes \\, \" and \n undone).
 * Returns 0, or -1 when the text is not of that form (what was written
 * before the fault stays). */
int vt_prom_proto_labels(struct vt_buf *b, const char *text, size_t len);

/*
 * The native part of a Histogram message: schema, zero threshold and
 * count, positive and negative spans and delta-encoded counts of h, and
 * sample_count (zero + all buckets). h NULL: an empty native histogram
 * (zero threshold VT_SKETCH_MIN_VALUE / scale and a no-op span, so a
 * scraper tells it from a classic one).
 */
void vt_prom_proto_native(struct vt_buf *b, const struct vt_native_hist *h,
    double scale);

/*
 * Re-encode text exposition 0.0.4 (as prom_text.h's users write it) as
 * delimited MetricFamily messages appended to out. Counters, gauges,
 * untyped, summaries (quantile, _sum, _count) and classic histograms
 * (_bucket, _sum, _count), a Metric per label set; lines it cannot read
 * are skipped, and so are families without samples. Returns the number
 * of lines skipped.
 */
size_t vt_prom_proto_from_text(struct vt_buf *out, const char *text,
    size_t len);

#endif
