/*
 * prom_text.h - writing the Prometheus exposition formats (text 0.0.4 and
 * OpenMetrics 1.0): family heads, sample values, escaped label values and
 * HELP texts. Every module that exports families of its own (HTTP, AMQP,
 * hooks, healthchecks, the exporter itself) writes them with these, into a
 * collector callback the exporter calls on each scrape (prom.h).
 */
#ifndef VT_PROM_TEXT_H
#define VT_PROM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "collector/base/buf.h"

enum vt_prom_format {
	VT_PROM_TEXT,         /* text/plain; version=0.0.4 */
	VT_PROM_OPENMETRICS,  /* application/openmetrics-text; version=1.0.0 */
	/* Delimited io.prometheus.client.MetricFamily protobuf messages:
	 * written by the exporter only (exporters/prom/prom_proto.h), which
	 * asks collectors for text and re-encodes it. */
	VT_PROM_PROTOBUF
};

enum vt_prom_type {
	VT_PROM_COUNTER,
	VT_PROM_GAUGE,
	VT_PROM_SUMMARY
};

/*
 * Another module's families, appended to every scrape (healthchecks, AMQP
 * state, HTTP counters): writes complete families (HELP, TYPE, samples)
 * for the given format into out. Runs on an HTTP thread: thread-safe.
 * Registered with vt_prom_add_collector (prom.h).
 */
typedef void (*vt_prom_collector_fn)(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt);

/* "text/plain; version=0.0.4; charset=utf-8", the OpenMetrics type, or
 * the delimited protobuf type. */
const char *vt_prom_text_content_type(enum vt_prom_format fmt);

/* Helpers shared with collectors: write a label value / HELP text escaped
 * per the exposition format, with invalid UTF-8 replaced by U+FFFD. Label
 * values escape backslash, double quote and newline. HELP text in the text
 * format escapes backslash and newline only (promtool rejects \" there);
 * vt_prom_text_escape_help_fmt also escapes the double quote for OpenMetrics. */
void vt_prom_text_escape_label(struct vt_buf *out, const char *s);
void vt_prom_text_escape_help(struct vt_buf *out, const char *s);
void vt_prom_text_escape_help_fmt(struct vt_buf *out, const char *s,
    enum vt_prom_format fmt);

/* "# HELP" and "# TYPE" lines of a family whose base name (counters
 * without _total) is name[0..len). help is written as is: escape it
 * first. Counters get _total appended in the text format. */
void vt_prom_text_head(struct vt_buf *out, const char *name, size_t len,
    enum vt_prom_type type, const char *help, enum vt_prom_format fmt);

/* A sample value: integers and short decimals without printf (always
 * reading back exactly), anything else through vt_buf_put_double. */
void vt_prom_text_value(struct vt_buf *out, double v);
void vt_prom_text_u64(struct vt_buf *out, uint64_t v);

#endif
