/*
 * fuzz_service_check.c - DogStatsD service check lines (`_sc|...`):
 * the line parser (statsd.h) and the report-to-check conversion with its
 * service attribution, ttl tag and message unescaping (health_check.h).
 *
 * Invariants: the parser returns only its documented reasons; an accepted
 * report's slices lie inside the line, its status is 0-3, its name is
 * 1..VT_NAME_MAX bytes without control bytes or '|'; a converted check
 * obeys every text rule of health_check.h (names 1..VT_CHECK_TEXT_MAX
 * bytes of valid UTF-8 without control characters, output at most
 * VT_CHECK_OUTPUT_MAX bytes, TTL in range); a rejection carries a
 * one-line reason.
 */
#include "collector/base/line_result.h"
#include "collector/statsd/statsd.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct vt_check_report r;
	enum vt_line_result res = vt_statsd_parse_check(line, size, &r);

	FUZZ_ASSERT(res == VT_LINE_OK || res == VT_LINE_BAD_NAME ||
	    res == VT_LINE_BAD_TAGS || res == VT_LINE_BAD_SERVICE_CHECK,
	    "result %d", res);
	if (res != VT_LINE_OK)
		return 0;
	FUZZ_ASSERT(vt_statsd_classify(line, size) ==
	    VT_LINE_KIND_SERVICE_CHECK, "accepted, but not classified _sc");
	FUZZ_ASSERT(fuzz_inside(r.name.ptr, r.name.len, line, size) &&
	    fuzz_inside(r.instance.ptr, r.instance.len, line, size) &&
	    fuzz_inside(r.message.ptr, r.message.len, line, size) &&
	    fuzz_inside(r.tags.ptr, r.tags.len, line, size),
	    "slice outside the line");
	FUZZ_ASSERT(r.name.len > 0 && r.name.len <= VT_NAME_MAX, "name len");
	FUZZ_ASSERT(fuzz_no_controls(r.name.ptr, r.name.len, "") &&
	    memchr(r.name.ptr, '|', r.name.len) == NULL, "name bytes");
	FUZZ_ASSERT(r.instance.len <= VT_NAME_MAX &&
	    fuzz_no_controls(r.instance.ptr, r.instance.len, ""), "instance");
	FUZZ_ASSERT((unsigned)r.status <= VT_STATUS_UNKNOWN, "status %d",
	    r.status);
	FUZZ_ASSERT(r.timestamp >= 0, "timestamp %lld",
	    (long long)r.timestamp);

	static const char *const senders[] = { "10.1.2.3", "", NULL };
	for (size_t i = 0; i < sizeof senders / sizeof senders[0]; i++) {
		struct vt_check c;
		char why[VT_ERR_LEN] = "";
		enum vt_check_result cr = vt_health_check_from_report(&c, &r,
		    senders[i], why, sizeof why);
		FUZZ_ASSERT((unsigned)cr < VT_CHECK_RESULT_COUNT &&
		    cr != VT_CHECK_OVER_CAP && cr != VT_CHECK_BAD_JSON,
		    "check result %d", cr);
		if (cr != VT_CHECK_OK) {
			fuzz_message(why, sizeof why, "from_report");
			continue;
		}
		fuzz_check_valid(&c);
		FUZZ_ASSERT(c.status == r.status, "status changed");
		if (r.instance.len == 0)
			FUZZ_ASSERT(strcmp(c.instance, senders[i] && *senders[i] ?
			    senders[i] : VT_CHECK_NO_INSTANCE) == 0,
			    "default instance");
	}
	return 0;
}
