/*
 * alert_config.h - the "alerts" section of the config file (SPEC 8): alert
 * rules, hooks and the engine's settings, parsed from JSON into one
 * immutable, reference-counted struct vt_alert_config. docs/alerts.md
 * describes every key.
 *
 * The config is read at startup (--check-config too) and again on SIGHUP;
 * the engine and every queued hook job hold a reference, so a reload can
 * swap in a new config while jobs of the old one still run.
 *
 * Errors name the key path, e.g. "alerts.rules[2].for", and say what is
 * wrong; nothing here logs or exits.
 */
#ifndef VT_ALERT_CONFIG_H
#define VT_ALERT_CONFIG_H

#include <stddef.h>

#include "collector/base/ref.h"
#include "collector/base/vt_types.h"

struct cJSON;
struct vt_flush;
struct vt_metric_window;

#define VT_ALERT_NAME_MAX 128        /* bytes in a rule or hook name */
#define VT_ALERT_KEY_LEN 96          /* a key path in messages */

enum vt_alert_kind {
	VT_ALERT_SERVICE = 0,  /* a service's status (worst of its checks) */
	VT_ALERT_CHECK,        /* one check's status, per instance */
	VT_ALERT_STALE,        /* a check went stale (no report within TTL) */
	VT_ALERT_THRESHOLD,    /* a metric statistic against a value */
	VT_ALERT_KIND_COUNT
};

enum vt_alert_stat {
	VT_STAT_COUNT = 0, VT_STAT_RATE, VT_STAT_SUM, VT_STAT_MEAN,
	VT_STAT_MIN, VT_STAT_MAX, VT_STAT_STDDEV, VT_STAT_VALUE,
	VT_STAT_RATE_1M, VT_STAT_RATE_5M, VT_STAT_RATE_15M,
	VT_STAT_PERCENTILE     /* pNN: rule.percentile */
};

enum vt_alert_op { VT_OP_GT = 0, VT_OP_GE, VT_OP_LT, VT_OP_LE, VT_OP_EQ,
	VT_OP_NE };

enum vt_hook_type { VT_HOOK_EXEC = 0, VT_HOOK_WEBHOOK };

struct vt_alert_rule {
	char *name;
	enum vt_alert_kind kind;
	char *service;           /* NULL: every service */
	char *check;             /* check and stale rules; NULL: every check */
	unsigned notify;         /* service/check: bit (1 << status) */
	char *metric;            /* threshold rules */
	enum vt_alert_stat stat;
	char *stat_name;         /* as configured: "p99", "rate_1m", ... */
	double percentile;       /* VT_STAT_PERCENTILE: 99, 99.9, ... */
	size_t pct_index;        /* its index among the configured ones */
	enum vt_alert_op op;
	double value;
	double for_s;            /* seconds the condition must hold */
	double renotify;         /* seconds between reminders; 0 = never */
	int flap;                /* damp flapping (service and check rules) */
	char *severity;
	size_t nlabels;
	char **label_keys, **label_values;
	size_t nhooks;           /* 0: every hook */
	char **hooks;
};

struct vt_hook_cfg {
	char *name;
	enum vt_hook_type type;
	size_t argc;             /* exec: argv[0..argc), NULL-terminated */
	char **argv;
	char *url;               /* webhook */
	size_t nheaders;         /* webhook: "Name: value" lines */
	char **headers;
	double timeout;          /* seconds per run / per attempt */
	unsigned retries;        /* webhook: attempts after the first */
	double backoff;          /* webhook: first wait, doubling */
};

struct vt_alert_config {
	struct vt_ref ref;       /* first; retain/release */
	size_t nrules;
	struct vt_alert_rule *rules;
	size_t nhooks;
	struct vt_hook_cfg *hooks;
	int implicit;            /* hooks and no rules: the default rule */
	double renotify;         /* alerts.renotify, rules' default */
	unsigned flap_window;    /* results kept per check (Nagios: 21) */
	double flap_high, flap_low;  /* percent state change to start/stop */
	size_t queue;            /* jobs waiting per hook */
	size_t max_alerts;       /* alert instances tracked at once */
};

/*
 * Parse the "alerts" object (NULL: none configured) against the
 * configured percentiles. Returns a config with one reference, or NULL
 * with key ("alerts.rules[2].for") and why ("must be a duration ...")
 * set. Aborts on out-of-memory.
 */
struct vt_alert_config *vt_alert_config_parse(const struct cJSON *alerts,
    const double *percentiles, size_t npercentiles, char *key,
    size_t keylen, char *why, size_t whylen);

/*
 * Read the config file at path (NULL or "": no file, empty config) and
 * parse its "alerts" member. NULL with err set to the one-line message
 * "vitalsd: FILE: KEY: what".
 */
struct vt_alert_config *vt_alert_config_load(const char *path,
    const double *percentiles, size_t npercentiles, char *err,
    size_t errlen);

struct vt_alert_config *vt_alert_config_retain(
    const struct vt_alert_config *c);
void vt_alert_config_release(struct vt_alert_config *c);   /* NULL ok */

/* The hook named `name`, or NULL. */
const struct vt_hook_cfg *vt_alert_config_hook(
    const struct vt_alert_config *c, const char *name);

/* Whether rule r sends to hook h. */
int vt_alert_config_rule_uses_hook(const struct vt_alert_rule *r,
    const struct vt_hook_cfg *h);

/*
 * The members a threshold reads from object o at path ("metric", "stat",
 * "op", "value", each required) into r: metric, stat_name, stat,
 * percentile, pct_index, op, value. Threshold rules and expectations
 * (expect.h) share it. 0, or -1 with key ("expectations[1].stat") and
 * why set. Aborts on out-of-memory.
 */
int vt_alert_config_parse_threshold(const struct cJSON *o, const char *path,
    const double *percentiles, size_t npercentiles,
    struct vt_alert_rule *r, char *key, size_t keylen, char *why,
    size_t whylen);

/* r's statistic in the window m of flush f; NaN when the window has no
 * such value (no samples, a percentile the flush lacks). */
double vt_alert_config_stat_of(const struct vt_alert_rule *r,
    const struct vt_metric_window *m, const struct vt_flush *f);

/* "service", "check", "stale", "threshold". */
const char *vt_alert_config_kind_name(enum vt_alert_kind k);
/* ">", ">=", "<", "<=", "==", "!=". */
const char *vt_alert_config_op_name(enum vt_alert_op op);
/* Whether `v op value` holds; NaN never does. */
int vt_alert_config_op_holds(enum vt_alert_op op, double v, double value);

#endif
