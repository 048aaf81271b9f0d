/*
 * health_check.h - one healthcheck report as it travels from a parser (JSON
 * bodies in health_json.c, DogStatsD `_sc` lines here) to the health
 * registry (health.h), SPEC 3.2.
 *
 * struct vt_check is a plain value whose text lives in bounded arrays
 * inside it: a parser fills one on the stack, the registry copies what it
 * keeps. Nothing here allocates, keeps state or needs freeing.
 *
 * Text rules, the same for every way in:
 * - service, instance and check: 1..VT_CHECK_TEXT_MAX bytes once invalid
 *   UTF-8 is replaced (vt_utf8_clean), no control characters (< 0x20,
 *   0x7f); anything else is rejected, never cut.
 * - output: invalid UTF-8 replaced, control characters other than '\n'
 *   and '\t' turned into spaces, cut at a character boundary to
 *   VT_CHECK_OUTPUT_MAX bytes (a long output is kept, shortened).
 */
#ifndef VT_HEALTH_CHECK_H
#define VT_HEALTH_CHECK_H

#include <stddef.h>

#include "collector/base/vt_types.h"

#define VT_CHECK_TEXT_MAX VT_NAME_MAX       /* service, instance, check */
#define VT_CHECK_OUTPUT_MAX 1024            /* bytes of output kept */
#define VT_CHECK_DEFAULT_TTL 60.0           /* seconds (SPEC 3.2) */
#define VT_CHECK_TTL_MAX (366.0 * 86400.0)  /* a year and a day */
#define VT_CHECK_NO_INSTANCE "unknown"      /* no instance, no sender IP */

struct vt_check {
	char service[VT_CHECK_TEXT_MAX + 1];
	char instance[VT_CHECK_TEXT_MAX + 1];
	char check[VT_CHECK_TEXT_MAX + 1];
	char output[VT_CHECK_OUTPUT_MAX + 1];
	enum vt_status status;
	double ttl;          /* seconds, in (0, VT_CHECK_TTL_MAX] */
	double timestamp;    /* unix seconds the client sent; 0 when absent */
};

/* The formats a check arrives in (a label of vitals_checks_received). */
enum vt_check_format {
	VT_CHECK_JSON = 0,   /* JSON object, array or batch */
	VT_CHECK_SC,         /* DogStatsD `_sc` line */
	VT_CHECK_FORMAT_COUNT
};

/* What became of one report: accepted, or why it was rejected. */
enum vt_check_result {
	VT_CHECK_OK = 0,
	VT_CHECK_BAD_JSON,       /* body not JSON, or not an object / array */
	VT_CHECK_MISSING_FIELD,  /* service, check or status absent */
	VT_CHECK_BAD_NAME,       /* service/instance/check: wrong type, empty,
	                            control characters */
	VT_CHECK_TOO_LONG,       /* a name over VT_CHECK_TEXT_MAX bytes */
	VT_CHECK_BAD_STATUS,     /* not ok/warning/critical/unknown or 0-3 */
	VT_CHECK_BAD_TTL,        /* not a duration in (0, VT_CHECK_TTL_MAX] */
	VT_CHECK_BAD_FIELD,      /* output/timestamp of the wrong type, an
	                            entry that is not an object */
	VT_CHECK_OVER_CAP,       /* a new check past health max_checks */
	VT_CHECK_RESULT_COUNT
};

/* "json", "dogstatsd". */
const char *vt_health_check_format_name(enum vt_check_format f);

/* Stable snake_case label: "ok", "bad_json", "missing_field", ... */
const char *vt_health_check_result_name(enum vt_check_result r);

/* "ok", "warning", "critical", "unknown" ("?" out of range). */
const char *vt_health_check_status_name(enum vt_status s);

/* ok/warning/critical/unknown, any case. 0 and sets *out, or -1. */
int vt_health_check_status_parse(const char *text, enum vt_status *out);

/* Severity for worst-of: ok 0 < unknown 1 < warning 2 < critical 3. */
int vt_health_check_status_severity(enum vt_status s);

/* The worse of a and b (critical > warning > unknown > ok). */
enum vt_status vt_health_check_status_worst(enum vt_status a, enum vt_status b);

/*
 * Copy src[0..len) into a name field (service, instance, check) of
 * VT_CHECK_TEXT_MAX + 1 bytes, invalid UTF-8 replaced. VT_CHECK_OK,
 * VT_CHECK_BAD_NAME (empty, control characters) or VT_CHECK_TOO_LONG;
 * dst is then "".
 */
enum vt_check_result vt_health_check_set_name(char dst[VT_CHECK_TEXT_MAX + 1],
    const char *src, size_t len);

/* Copy src[0..len) into the output field per the rules above. */
void vt_health_check_set_output(char dst[VT_CHECK_OUTPUT_MAX + 1], const char *src,
    size_t len);

/*
 * A parsed `_sc` line (statsd.h) to a check. The service is the
 * `service:` tag, else the name's first dotted component with the rest as
 * the check (vt_names_split; a name without a dot is check <name> of
 * service "default"); `ttl:<duration>` sets the TTL (default 60 s); h:
 * the instance, else default_instance (the sender's IP; NULL or "" gives
 * VT_CHECK_NO_INSTANCE); m: the output, with DogStatsD's "\n" escapes
 * decoded. VT_CHECK_OK, or the reason with `why` set ("ttl: ...").
 */
enum vt_check_result vt_health_check_from_report(struct vt_check *out,
    const struct vt_check_report *r, const char *default_instance,
    char *why, size_t whylen);

/* Seconds from a TTL text ("30", "30s", "5m", "26h"), bounded as above.
 * 0 and *ttl, or -1. */
int vt_health_check_parse_ttl(const char *text, double *ttl);

/* Whether a TTL in seconds is acceptable: finite, > 0, <= max. */
int vt_health_check_ttl_ok(double ttl);

#endif
