/*
 * expect.h - expectations (docs/alerts.md "Expectations"): the config
 * section "expectations", each entry a statistic of one service's metric
 * that should hold, evaluated on every closed window and reported as a
 * healthcheck of that service named "expect:<name>", so it counts in the
 * service's status, shows on every page and API and fires alerts like any
 * other check.
 *
 *   {"name": "fast-get", "service": "payments", "metric": "http.get",
 *    "stat": "p99", "op": "<", "value": 250, "for": "1m",
 *    "severity": "critical"}
 *
 * stat, op and value read like an alert threshold (alert_config.h) but
 * say what is expected: the check is ok while `stat op value` holds.
 * A name is unique per service.
 *
 * Per window, every series of the service's metric (each tag set) with
 * data is looked at; the expectation holds when it holds for all of them,
 * and the output names the worst one (the failing value furthest past the
 * limit, else the holding one closest to it). "Data" is a sample in the
 * window; a gauge has data while the aggregator keeps its value.
 *
 * Status: ok while it holds; once it has failed in every window for `for`
 * (measured from the start of the first failing window) the severity
 * (warning, or critical); with no data for `for`, unknown. Until `for`
 * has passed the check keeps its previous status and its output says what
 * is happening ("...; failing for 20s, warning after 1m"). A new
 * expectation starts unknown ("no http.get traffic yet") until its first window with
 * data.
 *
 * Reports leave as one JSON body of checks per window (the shape of POST
 * /api/v1/health, instance "vitalsd", ttl VT_EXPECT_TTL_WINDOWS windows
 * and at least VT_EXPECT_TTL_MIN seconds: a daemon that stops evaluating
 * lets them go stale) through a callback; the daemon pushes it into the
 * inbox, so the loop thread applies it like any other check.
 *
 * Threads: the sink's flush runs on the flusher thread; create, set_config
 * and destroy on the loop thread; one mutex between them. The callback
 * is called without the lock held.
 */
#ifndef VT_EXPECT_H
#define VT_EXPECT_H

#include <stddef.h>

#include "collector/agg/sinks.h"
#include "collector/alerts/alert_config.h"
#include "collector/base/ref.h"
#include "collector/base/vt_types.h"
#include "collector/health/health_snapshot.h"

#define VT_EXPECT_CHECK_PREFIX "expect:"
#define VT_EXPECT_INSTANCE VT_HEALTH_SELF_INSTANCE
#define VT_EXPECT_TTL_WINDOWS 5
#define VT_EXPECT_TTL_MIN 10.0
#define VT_EXPECT_MAX 1000              /* entries in the section */

struct vt_expectation {
	/* name, service, metric, stat (stat_name, percentile, pct_index),
	 * op, value and for_s, as an alert threshold rule holds them */
	struct vt_alert_rule rule;
	enum vt_status severity;         /* warning (default) or critical */
	char check[VT_NAME_MAX + 1];     /* "expect:<name>" */
};

struct vt_expect_config {
	struct vt_ref ref;               /* first; retain/release */
	size_t n;
	struct vt_expectation *e;
};

/*
 * Parse the "expectations" array (NULL: none) against the configured
 * percentiles. A config with one reference, or NULL with key
 * ("expectations[2].for") and why set.
 */
struct vt_expect_config *vt_expect_config_parse(const struct cJSON *arr,
    const double *percentiles, size_t npercentiles, char *key,
    size_t keylen, char *why, size_t whylen);

/* Read the config file at path (NULL or "": none) and parse its
 * "expectations" member; NULL with err "vitalsd: FILE: KEY: what". */
struct vt_expect_config *vt_expect_config_load(const char *path,
    const double *percentiles, size_t npercentiles, char *err,
    size_t errlen);

void vt_expect_config_release(struct vt_expect_config *c);   /* NULL ok */

/* A JSON array of checks (not NUL-terminated necessarily; len bytes). */
typedef void (*vt_expect_report_fn)(void *ctx, const char *body,
    size_t len);

typedef struct vt_expect vt_expect;

/* Takes ownership of one reference to c; report may be NULL until
 * vt_expect_set_report. */
vt_expect *vt_expect_create(struct vt_expect_config *c);
void vt_expect_set_report(vt_expect *x, vt_expect_report_fn fn, void *ctx);
void vt_expect_destroy(vt_expect *x);                     /* NULL ok */

/*
 * Swap in a new config (takes one reference). An expectation whose name,
 * service, metric, stat, op, value and for are unchanged keeps its state;
 * a removed one that had been reported gets a last report, ok with output
 * "expectation removed from the config" and a TTL of a year, since a
 * single check cannot be deleted (DELETE the service to drop it).
 */
void vt_expect_set_config(vt_expect *x, struct vt_expect_config *c,
    double now);

/* Expectations configured now. */
size_t vt_expect_count(vt_expect *x);

/* Evaluate every expectation on a closed window and report (the sink's
 * flush). */
int vt_expect_flush(void *ctx, const struct vt_flush *f);

/* A sink named "expectations" whose ctx is x. */
struct vt_sink vt_expect_sink(vt_expect *x);

#endif
