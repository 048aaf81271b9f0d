/*
 * fuzz_health_json.c - JSON healthcheck bodies (health_json.h): single
 * objects, arrays and batches, as they arrive by UDP, AMQP or POST.
 *
 * Invariants: the return is 0 or -EINVAL; every check handed to on_check
 * obeys the text rules of health_check.h; every rejection has a known
 * reason and a one-line message naming the field; the counts equal the
 * calls; -EINVAL means exactly one BAD_JSON rejection and nothing
 * accepted; parsing twice gives the same counts; parsing with NULL hooks
 * gives the same counts.
 */
#include <errno.h>

#include "collector/health/health_json.h"
#include "fuzz_common.h"

struct seen {
	size_t checks, errors, bad_json;
};

static void on_check(void *ctx, const struct vt_check *c)
{
	struct seen *s = ctx;
	fuzz_check_valid(c);
	s->checks++;
}

static void on_error(void *ctx, enum vt_check_result why, const char *msg)
{
	struct seen *s = ctx;
	FUZZ_ASSERT(why != VT_CHECK_OK && why != VT_CHECK_OVER_CAP &&
	    (unsigned)why < VT_CHECK_RESULT_COUNT, "reason %d", why);
	FUZZ_ASSERT(msg != NULL, "no message");
	fuzz_message(msg, VT_ERR_LEN * 4, "on_error");
	s->errors++;
	s->bad_json += why == VT_CHECK_BAD_JSON;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct seen s = { 0 };
	struct vt_health_json_hooks hooks = { on_check, on_error, &s };
	struct vt_health_json_counts n, n2, n3;

	int rc = vt_health_json_parse(body, size, "192.0.2.7", &hooks, &n);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL, "rc %d", rc);
	FUZZ_ASSERT(n.accepted == s.checks && n.rejected == s.errors,
	    "counts %zu/%zu, calls %zu/%zu", n.accepted, n.rejected, s.checks,
	    s.errors);
	if (rc == -EINVAL)
		FUZZ_ASSERT(n.accepted == 0 && n.rejected == 1 &&
		    s.bad_json == 1, "-EINVAL with %zu accepted, %zu rejected",
		    n.accepted, n.rejected);
	else
		FUZZ_ASSERT(s.bad_json == 0, "BAD_JSON on a parsed body");

	rc = vt_health_json_parse(body, size, NULL, NULL, &n2);
	FUZZ_ASSERT(n2.accepted == n.accepted && n2.rejected == n.rejected,
	    "counts depend on the hooks");
	memset(&s, 0, sizeof s);
	vt_health_json_parse(body, size, "", &hooks, &n3);
	FUZZ_ASSERT(n3.accepted == n.accepted && n3.rejected == n.rejected,
	    "counts depend on the sender");
	(void)rc;
	return 0;
}
