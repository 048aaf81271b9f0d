/*
 * line_result.c - stable snake_case labels for enum vt_line_result
 * (line_result.h), as /metrics shows them in vitals_lines_total{result=...}.
 * These strings are an interface: dashboards and alerts match on them, so
 * they never change once released.
 */
#include "collector/base/line_result.h"

static const char *const line_result_names[VT_LINE_RESULT_COUNT] = {
	[VT_LINE_OK] = "ok",
	[VT_LINE_MISSING_VALUE] = "missing_value",
	[VT_LINE_BAD_NAME] = "bad_name",
	[VT_LINE_BAD_VALUE] = "bad_value",
	[VT_LINE_NOT_FINITE] = "not_finite",
	[VT_LINE_BAD_TYPE] = "bad_type",
	[VT_LINE_BAD_SAMPLE_RATE] = "bad_sample_rate",
	[VT_LINE_BAD_TAGS] = "bad_tags",
	[VT_LINE_BAD_SERVICE_CHECK] = "bad_service_check",
	[VT_LINE_UNSUPPORTED] = "unsupported",
	[VT_LINE_TYPE_CONFLICT] = "type_conflict",
	[VT_LINE_OVER_CAP] = "over_max_metrics",
	[VT_LINE_DROPPED_BY_MAPPING] = "dropped_by_mapping",
};

const char *vt_line_result_name(enum vt_line_result r)
{
	if ((unsigned)r >= VT_LINE_RESULT_COUNT || !line_result_names[r])
		return "unknown";
	return line_result_names[r];
}
