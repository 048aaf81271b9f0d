/*
 * graphite.h - the Graphite sink: every closed window goes to carbon over
 * TCP in the plaintext protocol, one "path value timestamp\n" line per
 * value, named as statsd's Graphite backend names them (without its
 * legacy namespace):
 *
 *   <prefix>.counters.<name>.count      window count (scaled by sample rate)
 *   <prefix>.counters.<name>.rate       count per second
 *   <prefix>.timers.<name>.count        timers and histograms (|ms |h |d)
 *   <prefix>.timers.<name>.count_ps       samples per second
 *   <prefix>.timers.<name>.sum, .mean, .lower, .upper, .std
 *   <prefix>.timers.<name>.median         when 50 is a configured percentile
 *   <prefix>.timers.<name>.upper_<p>      per configured percentile p
 *                                         (99.9 -> upper_99_9)
 *   <prefix>.gauges.<name>              current value
 *   <prefix>.sets.<name>.count          distinct members in the window
 *
 * <name> is <service>.<metric>. Not sent: statsd's mean_<p>, sum_<p> and
 * count_<p> (the quantile sketch knows where a percentile lies, not the
 * exact sum of the values under it), sum_squares, and timer statistics of
 * a window without samples (only count and count_ps, both 0, are sent).
 * A value that is not finite is never sent, nor a line longer than
 * VT_GRAPHITE_LINE_MAX (counted).
 *
 * Names are hostile input. Each path component keeps [A-Za-z0-9_-]; a
 * space or tab becomes '_', '/' becomes '-', every other byte (dots of a
 * service or tag, ';', '=', '~', control bytes, non-ASCII) becomes '_';
 * a component is cut at VT_GRAPHITE_COMPONENT_MAX bytes and an empty one
 * is "_". The metric's own dots stay separators (its empty components are
 * left out). So every line is exactly three fields and no path walks out
 * of carbon's storage directory.
 *
 * Tags (the series' labels), by VT_GRAPHITE_TAGS_*:
 * - graphite: Graphite 1.1 tags after the whole path,
 *   "<path>;k=v;k2=v2", keys in sorted order; the key "name" (carbon's
 *   own) is sent as "name_"; a valueless tag has the value "true".
 * - path: folded into the path before the statistic, ".k.v" in sorted key
 *   order: stats.counters.api.requests.route.pay.count.
 *
 * Threads: flush() runs on the sink thread: it formats the window into
 * one chunk and queues it (bounded by max_buffer bytes, queued and being
 * sent; a window that does not fit is dropped whole and counted), never
 * waiting for the network. One sender thread connects (timeout), writes
 * chunks in order and reconnects with exponential backoff and jitter
 * (amqp_backoff.h). A chunk whose write failed is sent again whole on the
 * next connection: whisper keeps one value per path and timestamp, so a
 * repeated line changes nothing. Lines the kernel had accepted on a
 * connection that then broke are lost without notice (carbon sends no
 * acknowledgement). Before each chunk a connection that carbon closed is
 * noticed and replaced.
 *
 * Timestamps: the window's close time in whole seconds; when it is not
 * after the previous window's (the final window at shutdown), it is one
 * second later, so no window overwrites another.
 */
#ifndef VT_GRAPHITE_H
#define VT_GRAPHITE_H

#include <stddef.h>
#include <stdint.h>

#include "collector/agg/sinks.h"
#include "collector/base/buf.h"
#include "collector/base/prom_text.h"

#define VT_GRAPHITE_DEFAULT_PORT 2003
#define VT_GRAPHITE_COMPONENT_MAX 200   /* bytes of one path component */
/* Longest line sent, '\n' included. carbon closes a connection on a line
 * over 16 KiB, which would refuse the same window again and again; a name
 * with many long tags can come near that, so longer lines are left out
 * (and counted). */
#define VT_GRAPHITE_LINE_MAX 4096

enum vt_graphite_tags {
	VT_GRAPHITE_TAGS_GRAPHITE = 0,   /* "graphite": path;k=v */
	VT_GRAPHITE_TAGS_PATH            /* "path": path.k.v.stat */
};

/* "graphite" or "path" -> the enum, or -1. */
int vt_graphite_tags_parse(const char *text);

/* How paths are made. */
struct vt_graphite_names {
	const char *prefix;          /* "stats"; "" or NULL: none */
	enum vt_graphite_tags tags;
};

/* Append len bytes of s as one path component (the rules above). */
void vt_graphite_component(struct vt_buf *out, const char *s, size_t len);

/* Append a dotted name: each component as above, empty ones left out;
 * "_" when nothing is left. */
void vt_graphite_dotted(struct vt_buf *out, const char *s);

/* Append every line of window f with timestamp ts; returns the lines.
 * Lines longer than VT_GRAPHITE_LINE_MAX are left out and added to
 * *too_long (may be NULL). */
size_t vt_graphite_format(struct vt_buf *out,
    const struct vt_graphite_names *names, const struct vt_flush *f,
    long long ts, size_t *too_long);

struct vt_graphite_config {
	const char *address;         /* host:port, [v6]:port, host (2003) */
	struct vt_graphite_names names;
	size_t max_buffer;           /* bytes queued or being sent, > 0 */
	double timeout;              /* connect and each write, seconds */
	double reconnect_min;        /* backoff between attempts, seconds */
	double reconnect_max;
};

/* Reasons lines were not sent (label of vitals_graphite_dropped_total). */
enum vt_graphite_drop {
	VT_GRAPHITE_DROP_BUFFER_FULL = 0,  /* the window did not fit */
	VT_GRAPHITE_DROP_SHUTDOWN,         /* unsent when the stop timed out */
	VT_GRAPHITE_DROP_TOO_LONG,         /* over VT_GRAPHITE_LINE_MAX */
	VT_GRAPHITE_DROP_COUNT
};

struct vt_graphite_stats {
	uint64_t sent_lines;         /* lines written to carbon */
	uint64_t sent_bytes;
	uint64_t windows;            /* windows written whole */
	uint64_t dropped[VT_GRAPHITE_DROP_COUNT];  /* lines */
	uint64_t connects;           /* connections made */
	uint64_t errors;             /* failed connects and writes */
	int connected;               /* gauge: 1 while connected */
	uint64_t buffered;           /* gauge: bytes queued or being sent */
	uint64_t max_buffer;         /* gauge: the bound */
	double last_window;          /* gauge: timestamp of the last window
	                                written (0 before the first) */
};

typedef struct vt_graphite vt_graphite;

/* Start the sender thread (it connects in the background: carbon away is
 * not an error). NULL with err set when the address is malformed or the
 * thread cannot start. */
vt_graphite *vt_graphite_create(const struct vt_graphite_config *cfg,
    char *err, size_t errlen);

/* The sink: ctx is g; the caller destroys g after the sinks stopped. */
struct vt_sink vt_graphite_sink(vt_graphite *g);

/* The sink's flush: format and queue one window. Never blocks on the
 * network. Returns 0. */
int vt_graphite_flush(void *g, const struct vt_flush *f);

/* While hold is set the sender takes nothing from the queue (tests fill
 * the buffer deterministically with it). */
void vt_graphite_hold(vt_graphite *g, int hold);

/* Shutdown: refuse new windows and try to deliver what is queued for at
 * most timeout seconds; what is left then is dropped and counted
 * (reason "shutdown"). 0 when everything was sent, -ETIMEDOUT otherwise.
 * NULL ok. */
int vt_graphite_stop(vt_graphite *g, double timeout);

/* Stop (at once, when vt_graphite_stop did not run), join, free. NULL ok. */
void vt_graphite_destroy(vt_graphite *g);

void vt_graphite_get_stats(vt_graphite *g, struct vt_graphite_stats *out);

/* A prom collector (vt_prom_add_collector) for vitals_graphite_*; ctx is
 * g. Thread-safe. */
void vt_graphite_collect(void *g, struct vt_buf *out,
    enum vt_prom_format fmt);

#endif
