/*
 * prom.h - the Prometheus exporter: a sink that keeps the latest closed
 * window and renders it as text exposition 0.0.4 or OpenMetrics 1.0 on
 * each scrape of /metrics (SPEC 7).
 *
 * Thread-safety: the sink's flush runs on the flusher thread; render runs
 * on HTTP threads. They meet at one mutex-protected pointer to the latest
 * struct vt_flush (reference counted), never on the ingest path.
 */
#ifndef VT_PROM_H
#define VT_PROM_H

#include <stddef.h>

#include "buf.h"
#include "sink.h"

enum vt_prom_format {
	VT_PROM_TEXT,         /* text/plain; version=0.0.4 */
	VT_PROM_OPENMETRICS   /* application/openmetrics-text; version=1.0.0 */
};

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
 * must be thread-safe. Register before the HTTP server starts.
 */
typedef void (*vt_prom_collector_fn)(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt);
void vt_prom_add_collector(struct vt_prom *p, vt_prom_collector_fn fn,
    void *ctx);

/* Render the current exposition into out (appends). */
void vt_prom_render(struct vt_prom *p, struct vt_buf *out,
    enum vt_prom_format fmt);

/* "text/plain; version=0.0.4; charset=utf-8" or the OpenMetrics type. */
const char *vt_prom_content_type(enum vt_prom_format fmt);

/* Choose the format from an Accept header (NULL ok): OpenMetrics only
 * when the client asks for application/openmetrics-text. */
enum vt_prom_format vt_prom_negotiate(const char *accept);

/* Helpers shared with collectors: write a label value / HELP text escaped
 * per the exposition format (backslash, double quote, newline), with
 * invalid UTF-8 replaced. */
void vt_prom_escape_label(struct vt_buf *out, const char *s);
void vt_prom_escape_help(struct vt_buf *out, const char *s);

#endif
