/*
 * alert_event.h - one notification as hooks receive it: the JSON document
 * on an exec hook's stdin and in a webhook's POST body, and the VITALS_*
 * environment variables of an exec hook. docs/alerts.md shows an example
 * and describes every field; "version" changes when a field changes
 * meaning.
 */
#ifndef VT_ALERT_EVENT_H
#define VT_ALERT_EVENT_H

#include "collector/alerts/alert_config.h"
#include "collector/base/buf.h"

#define VT_ALERT_EVENT_VERSION 1

/* Every pointer borrowed for the call; NULL / -1 / NaN: not applicable. */
struct vt_alert_event {
	const char *state;           /* "firing", "resolved", "flapping" */
	int reminder;                /* a repeated firing notification */
	const struct vt_alert_rule *rule;
	const char *id;              /* the alert's identity */
	const char *service;
	const char *instance, *check, *output;  /* check and stale alerts */
	int status, previous;        /* enum vt_status, -1 */
	const char *metric;          /* threshold alerts */
	const char *labels;          /* the series' tags "k=v,k=v", or NULL */
	double value;                /* threshold alerts: the statistic */
	const char *unit;            /* threshold alerts: the statistic's
	                                unit (vt_alert_event_unit), NULL or
	                                "": none */
	double since;                /* when the condition began */
	double time;                 /* when this was sent */
	double flap_percent;         /* flapping: percent state change */
};

/* The one-line summary: "payments is critical", "payments http.get
 * p99 = 848 ms (> 400 ms) for 1m", ... (appends). Numbers in it are
 * rounded by vt_alert_event_put_number; the JSON document and the
 * VITALS_VALUE / VITALS_THRESHOLD variables keep full precision. */
void vt_alert_event_summary(const struct vt_alert_event *ev,
    struct vt_buf *out);

/* The unit a threshold statistic is read in, as the summary writes it
 * after the number: "/s" for the rates (rate, rate_1m, ...: per second),
 * " ms" for the time-valued statistics of a timer (sum, mean, min, max,
 * stddev, pNN: the client sends milliseconds), "" otherwise (counts,
 * gauges, histograms, sets, and a series of unknown kind). kind is an
 * enum vt_kind, or -1 when unknown. Returns a static string. */
const char *vt_alert_event_unit(int kind, enum vt_alert_stat stat);

/* A number as a person reads it (appends): 3 significant digits, no
 * exponent, trailing zeros trimmed; numbers of 1000 and more keep all
 * their integer digits, rounded to a whole number.
 *   848.34113 -> "848"    12.345 -> "12.3"    0.012345 -> "0.0123"
 *   400 -> "400"    2.5 -> "2.5"    999.7 -> "1000"    12345.6 -> "12346"
 *   0 -> "0"    -1.2345 -> "-1.23"
 * Beyond that range (below 0.0001 or from 1e15 on) it uses an exponent
 * ("1.23e-05"); NaN and infinities print as "nan", "inf", "-inf". */
void vt_alert_event_put_number(struct vt_buf *out, double v);

/* The JSON document (appends). */
void vt_alert_event_json(const struct vt_alert_event *ev,
    struct vt_buf *out);

/* The environment: "VITALS_ALERT=...", ..., NULL-terminated; free with
 * vt_alert_event_env_free. */
char **vt_alert_event_env(const struct vt_alert_event *ev);
void vt_alert_event_env_free(char **env);

#endif
