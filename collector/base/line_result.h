/*
 * line_result.h - what became of one received line: accepted, or the
 * reason it was skipped, and the stable label /metrics shows for each
 * (vitals_lines_total{result=...}).
 */
#ifndef VT_LINE_RESULT_H
#define VT_LINE_RESULT_H

/*
 * What became of one received line. VT_LINE_OK and every reason a line was
 * skipped; /metrics counts lines by this (vitals_lines_total{result=...}).
 * The parser returns the reasons up to VT_LINE_UNSUPPORTED; the aggregator
 * adds the last three.
 */
enum vt_line_result {
	VT_LINE_OK = 0,
	VT_LINE_MISSING_VALUE,   /* no ':' after the name */
	VT_LINE_BAD_NAME,        /* empty, too long, or control characters */
	VT_LINE_BAD_VALUE,       /* not a number (or bad set member) */
	VT_LINE_NOT_FINITE,      /* NaN or +-Inf */
	VT_LINE_BAD_TYPE,        /* missing or unknown |type */
	VT_LINE_BAD_SAMPLE_RATE, /* |@rate not in (0, 1] */
	VT_LINE_BAD_TAGS,        /* malformed |#tags, too many or too long */
	VT_LINE_BAD_SERVICE_CHECK, /* malformed _sc line */
	VT_LINE_UNSUPPORTED,     /* well-formed but not handled (_e events) */
	VT_LINE_TYPE_CONFLICT,   /* name already exists with another kind */
	VT_LINE_OVER_CAP,        /* new name while max_metrics are live */
	VT_LINE_DROPPED_BY_MAPPING, /* a mapping rule with action: drop */
	VT_LINE_RESULT_COUNT
};

/* Stable snake_case label for a result: "ok", "bad_value", ...; a
 * static string, "unknown" outside the enum. These labels are an
 * interface (dashboards and alerts match on them): never change one. */
const char *vt_line_result_name(enum vt_line_result r);

#endif
