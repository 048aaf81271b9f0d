/*
 * vt_types.h - the values that travel between modules.
 *
 * Plain structs, passed by value or borrowed; nothing here owns heap memory.
 * A struct vt_slice points into someone else's buffer (usually the receive
 * buffer of the datagram being parsed) and is valid only as long as that
 * buffer is.
 */
#ifndef VT_VT_TYPES_H
#define VT_VT_TYPES_H

#include <stddef.h>
#include <stdint.h>

#define VT_ERR_LEN 256          /* size of caller-provided error buffers */
#define VT_MAX_PERCENTILES 8    /* at most this many configured percentiles */
#define VT_MAX_TAGS 32          /* DogStatsD tags per line */
#define VT_NAME_MAX 512         /* bytes in a metric name or one tag */
#define VT_LINE_MAX 65536       /* bytes in a datagram or TCP line */

/* The kinds of statsd metric. Order matters: tables are indexed by it. */
enum vt_kind {
	VT_COUNTER = 0,   /* |c  */
	VT_GAUGE,         /* |g  */
	VT_TIMER,         /* |ms (milliseconds) */
	VT_HISTOGRAM,     /* |h and |d (unitless, aggregated like timers) */
	VT_SET,           /* |s  */
	VT_KIND_COUNT
};

/* Healthcheck status, in DogStatsD numbering. */
enum vt_status {
	VT_STATUS_OK = 0,
	VT_STATUS_WARNING = 1,
	VT_STATUS_CRITICAL = 2,
	VT_STATUS_UNKNOWN = 3
};

/* A borrowed byte range. Not NUL-terminated. */
struct vt_slice {
	const char *ptr;
	size_t len;
};

/* One parsed statsd metric line. All slices borrow the parsed line. */
struct vt_sample {
	struct vt_slice name;       /* as sent, before service attribution */
	struct vt_slice tags;       /* raw text after "|#", len 0 when none */
	struct vt_slice set_member; /* sets: the member text; else empty */
	double value;               /* finite; for sets unused */
	double sample_rate;         /* in (0, 1]; 1 when absent */
	enum vt_kind kind;
	int gauge_delta;            /* gauges: 1 when value had a sign (+N/-N) */
};

/* One parsed DogStatsD service check (`_sc|...`). Slices borrow the line. */
struct vt_check_report {
	struct vt_slice name;       /* the check name as sent (before split) */
	struct vt_slice instance;   /* h:<host>, empty when absent */
	struct vt_slice message;    /* m:<text>, empty when absent */
	struct vt_slice tags;       /* raw text after "|#", empty when absent */
	int64_t timestamp;          /* d:<unix ts>, 0 when absent */
	enum vt_status status;
};

#endif
