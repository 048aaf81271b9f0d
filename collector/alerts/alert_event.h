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
	double since;                /* when the condition began */
	double time;                 /* when this was sent */
	double flap_percent;         /* flapping: percent state change */
};

/* The one-line summary: "payments is critical", ... (appends). */
void vt_alert_event_summary(const struct vt_alert_event *ev,
    struct vt_buf *out);

/* The JSON document (appends). */
void vt_alert_event_json(const struct vt_alert_event *ev,
    struct vt_buf *out);

/* The environment: "VITALS_ALERT=...", ..., NULL-terminated; free with
 * vt_alert_event_env_free. */
char **vt_alert_event_env(const struct vt_alert_event *ev);
void vt_alert_event_env_free(char **env);

#endif
