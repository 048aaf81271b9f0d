/*
 * statsd.h - the statsd / DogStatsD line parser.
 *
 * Pure functions: they parse one line (no trailing newline) into a struct
 * by value, allocate nothing and keep no state. Every slice in the result
 * points into the line.
 *
 * Grammar (SPEC 3.1):
 *   <name>:<value>|<type>[|@<sample_rate>][|#<tag>[:<value>][,...]]
 *   _sc|<name>|<status 0-3>[|d:<ts>][|h:<instance>][|#tags][|m:<message>]
 */
#ifndef VT_STATSD_H
#define VT_STATSD_H

#include <stddef.h>

#include "vt_types.h"

/* What a line is, decided by its first bytes. */
enum vt_line_kind {
	VT_LINE_KIND_METRIC,
	VT_LINE_KIND_SERVICE_CHECK,   /* starts with "_sc|" */
	VT_LINE_KIND_EVENT,           /* starts with "_e{" (unsupported) */
	VT_LINE_KIND_EMPTY            /* empty or only whitespace: skip, uncounted */
};

enum vt_line_kind vt_statsd_classify(const char *line, size_t len);

/*
 * Parse a metric line. Returns VT_LINE_OK and fills *out, or the reason the
 * line is invalid (out is then unspecified). A trailing '\r' is ignored.
 */
enum vt_line_result vt_statsd_parse(const char *line, size_t len,
    struct vt_sample *out);

/*
 * Parse a service check line. Returns VT_LINE_OK and fills *out, or
 * VT_LINE_BAD_SERVICE_CHECK (or VT_LINE_BAD_TAGS / VT_LINE_BAD_NAME).
 */
enum vt_line_result vt_statsd_parse_check(const char *line, size_t len,
    struct vt_check_report *out);

/*
 * Iterate the tags of a raw tag list ("a:1,b,c:x:y"). *pos starts at 0.
 * Returns 1 and fills key/value (value.len 0 and value.ptr NULL for a
 * valueless tag; the value is everything after the first ':'), or 0 at the
 * end. The list must have been accepted by vt_statsd_parse.
 */
int vt_statsd_next_tag(struct vt_slice tags, size_t *pos,
    struct vt_slice *key, struct vt_slice *value);

#endif
