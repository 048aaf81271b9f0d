/*
 * health_json.h - JSON healthcheck bodies to struct vt_check (SPEC 3.2).
 *
 * Three shapes, from a UDP datagram, an AMQP body or POST /api/v1/health:
 *   {"service": "payments", "instance": "pay-1:4001", "check": "db",
 *    "status": "ok", "output": "3/3 up", "ttl": 30, "timestamp": 1795000000}
 *   [ {check}, {check}, ... ]
 *   {"service": "payments", "instance": "pay-1", "ttl": "5m",
 *    "checks": [ {"check": "db", "status": 0, "output": "..."}, ... ]}
 * service, check and status are required; status is ok, warning, critical
 * or unknown (any case) or the integer 0-3; instance defaults to the
 * sender's IP; ttl (seconds, or a duration string "30s", "5m", "26h")
 * defaults to 60 s; output to ""; timestamp is unix seconds. In the batch
 * form the outer service, instance, ttl and timestamp are defaults that an
 * entry may override. Unknown fields are ignored. A JSON null counts as
 * absent. Text rules are those of health_check.h.
 *
 * Each entry is judged alone: a bad entry is reported and skipped, the
 * valid ones of the same body are still delivered. Error messages name the
 * field by its path in the body: "status: required" (single object),
 * "[1].ttl: ..." (array), "checks[2].status: expected ok, warning,
 * critical, unknown or 0-3" (batch).
 *
 * A pure function of its input: no state, safe on any thread.
 */
#ifndef VT_HEALTH_JSON_H
#define VT_HEALTH_JSON_H

#include <stddef.h>

#include "collector/health/health_check.h"

struct vt_health_json_hooks {
	/* One valid check; c is borrowed for the call. May be NULL. */
	void (*on_check)(void *ctx, const struct vt_check *c);
	/* One rejected entry, or the whole body (VT_CHECK_BAD_JSON); msg
	 * names the field. Borrowed for the call. May be NULL. */
	void (*on_error)(void *ctx, enum vt_check_result why, const char *msg);
	void *ctx;
};

struct vt_health_json_counts {
	size_t accepted;   /* entries given to on_check */
	size_t rejected;   /* entries given to on_error */
};

/*
 * Parse body[0..len) (need not be NUL-terminated). default_instance is
 * the sender's IP address (NULL or "": VT_CHECK_NO_INSTANCE). hooks may
 * be NULL (count only); counts may be NULL. Returns 0 when the body is a
 * JSON object or array (entries may still have been rejected: see
 * counts), or -EINVAL when it is not valid JSON, has text after the value
 * or is another JSON type: on_error was then called once with
 * VT_CHECK_BAD_JSON ("body: not valid JSON (at byte 17)") and rejected
 * is 1.
 */
int vt_health_json_parse(const char *body, size_t len,
    const char *default_instance, const struct vt_health_json_hooks *hooks,
    struct vt_health_json_counts *counts);

#endif
