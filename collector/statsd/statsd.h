/*
 * statsd.h - the statsd / DogStatsD line parser.
 *
 * Pure functions: they parse one line (no trailing newline) into a struct
 * by value, allocate nothing and keep no state. Every slice in the result
 * points into the line (borrowed: valid as long as the line's buffer).
 *
 * Grammar (SPEC 3.1):
 *   <name>:<value>|<type>[|@<sample_rate>][|#<tag>[:<value>][,...]]
 *   _sc|<name>|<status 0-3>[|d:<ts>][|h:<instance>][|#tags][|m:<message>]
 *
 * Decisions, where statsd and DogStatsD leave room:
 * - Whitespace: spaces, tabs and '\r' around a line are ignored (trimmed),
 *   as Etsy statsd trims its lines and CRLF clients end theirs with '\r'.
 *   Whitespace inside is kept: "my metric:1|c" is the name "my metric"
 *   (names.c sanitises), but "x: 1|c" has a bad value.
 * - Names (metric and check): non-empty, at most VT_NAME_MAX bytes, no byte
 *   below 0x20, no 0x7f, no '|' and no '#'. Bytes >= 0x80 are allowed
 *   (UTF-8 names; sinks sanitise). A metric name ends at the first ':'.
 * - Numbers: [+-] digits [. digits] [e|E [+-] digits], at least one
 *   mantissa digit (".5" and "5." are accepted, as strtod and JavaScript's
 *   Number() accept them), at most VT_STATSD_NUMBER_MAX bytes. "nan",
 *   "inf", "infinity" (any case, any sign) and values overflowing to
 *   infinity are VT_LINE_NOT_FINITE; anything else ("", "1.2.3", "0x10",
 *   " 1", DogStatsD's multi-value "1:2:3") is VT_LINE_BAD_VALUE. The value
 *   is the double strtod would give (correctly rounded) in the "C" locale;
 *   the daemon must not set LC_NUMERIC to another locale.
 * - Types: c, ms, h, d (h and d -> VT_HISTOGRAM), g, s; case-sensitive.
 *   A missing or unknown type is VT_LINE_BAD_TYPE.
 * - Gauges: a leading '+' or '-' sets gauge_delta (the value keeps its
 *   sign). Counters may be negative (decrements).
 * - Sets: the member is the raw value text, non-empty, at most VT_NAME_MAX
 *   bytes, no byte below 0x20 and no 0x7f (else VT_LINE_BAD_VALUE); value
 *   is 0.
 * - Sections after the type come in any order, each of |@ and |# at most
 *   once (a repeat is VT_LINE_BAD_SAMPLE_RATE / VT_LINE_BAD_TAGS).
 *   |@rate must be a number in (0, 1]; it is validated for every type but
 *   only kept for c, ms, h and d (gauges and sets report sample_rate 1).
 *   DogStatsD extension sections |c:<container-id>, |e:<external-data>,
 *   |card:<cardinality> and |T<digits> (timestamp) are accepted and
 *   ignored. Any other section, including an empty one ("x:1|c|"), is
 *   VT_LINE_BAD_TYPE.
 * - Tags: a comma-separated list of key or key:value (the value is
 *   everything after the first ':', may contain ':' and may be empty). An
 *   empty list, an empty tag (",,", trailing ','), an empty key (":v"),
 *   more than VT_MAX_TAGS tags, a tag over VT_NAME_MAX bytes or a byte
 *   below 0x20 or 0x7f is VT_LINE_BAD_TAGS. Duplicate keys are the
 *   aggregator's business.
 * - When several things are wrong, the first in line order is reported:
 *   name, then type, then value, then the sections left to right. A line
 *   with no ':' is VT_LINE_MISSING_VALUE, one with ':' but no '|' after it
 *   is VT_LINE_BAD_TYPE.
 */
#ifndef VT_STATSD_H
#define VT_STATSD_H

#include <stddef.h>

#include "collector/base/line_result.h"
#include "collector/base/vt_types.h"

/* Longest numeric value or sample rate text, in bytes. */
#define VT_STATSD_NUMBER_MAX 255

/* What a line is, decided by its first bytes (after leading whitespace). */
enum vt_line_kind {
	VT_LINE_KIND_METRIC,
	VT_LINE_KIND_SERVICE_CHECK,   /* starts with "_sc|" */
	VT_LINE_KIND_EVENT,           /* starts with "_e{" (unsupported) */
	VT_LINE_KIND_EMPTY            /* empty or only whitespace: skip, uncounted */
};

enum vt_line_kind vt_statsd_classify(const char *line, size_t len);

/*
 * Parse a metric line. Returns VT_LINE_OK and fills *out, or the reason the
 * line is invalid (out is then unspecified). Surrounding whitespace and a
 * trailing '\r' are ignored. Without tags, out->tags is { NULL, 0 };
 * set_member is { NULL, 0 } for every kind but VT_SET.
 */
enum vt_line_result vt_statsd_parse(const char *line, size_t len,
    struct vt_sample *out);

/*
 * The fast path for a run of plain metric lines, the bulk of real traffic:
 * parses lines from buf on, each "<name>:<value>|<type>" ending in '\n' or
 * at end, into out[0..max), and stops at the first line that has anything
 * else (sections, whitespace, a '_' or blank first byte, a value the
 * decimal fast path declines, any error) or after max lines. Returns how
 * many lines it parsed and sets *next to where it stopped: the start of
 * the line it declined, or end. Every line it parses, vt_statsd_parse
 * would parse to the same sample; the lines it declines are for
 * vt_statsd_classify and vt_statsd_parse to judge. One pass over each
 * line: no newline search, no trim.
 */
size_t vt_statsd_parse_run(const char *buf, const char *end,
    struct vt_sample *out, size_t max, const char **next);

/*
 * Parse a service check line. Returns VT_LINE_OK and fills *out, or
 * VT_LINE_BAD_NAME (name rules as for metrics, but ':' is allowed),
 * VT_LINE_BAD_TAGS (tag rules as for metrics), or VT_LINE_BAD_SERVICE_CHECK
 * for anything else: a line not starting with "_sc|", a status that is not
 * exactly one digit 0-3, d: not 1-18 decimal digits, h: empty, over
 * VT_NAME_MAX bytes or with control bytes, a repeated or unknown section
 * (the DogStatsD extensions above are ignored). m: is always the last
 * section: the message runs to the end of the line, '|' included, and is
 * kept raw (DogStatsD's "\\n" escapes are not decoded). Absent instance,
 * message and tags are { NULL, 0 }; an empty "m:" gives a message of
 * length 0 with a non-NULL ptr.
 */
enum vt_line_result vt_statsd_parse_check(const char *line, size_t len,
    struct vt_check_report *out);

#endif
