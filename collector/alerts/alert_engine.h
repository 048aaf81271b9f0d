/*
 * alert_engine.h - alert rules evaluated against healthcheck reports,
 * staleness and closed windows; one struct per alert (rule x subject)
 * with its life cycle (alert_state.h) and flap damping (alert_flap.h);
 * notifications handed to a callback (the hooks, in the daemon).
 *
 * Inputs, each on its own thread, all under one mutex held briefly:
 *   vt_alert_engine_on_report   every accepted check report (loop thread)
 *   vt_alert_engine_on_change   status changes: staleness, forgotten
 *                               services (loop thread)
 *   the sink's flush            threshold rules on each closed window
 *                               (flusher thread)
 *   vt_alert_engine_tick        `for` of status rules, reminders, clean-up
 * Readers: vt_alert_engine_json (HTTP threads), vt_alert_engine_collect.
 *
 * Notifications: a firing one when an alert starts firing, a resolved
 * one when it stops, reminders every `renotify` while it fires, a firing
 * one again when a firing status alert changes status (warning ->
 * critical), and one "flapping" when flap damping starts; while a check
 * flaps nothing else is sent for it, and when it calms down the
 * notifications catch up with its state (firing or resolved, once).
 *
 * Memory: at most cfg->max_alerts alerts at once; an alert is kept while
 * pending, firing, notified or with changes in its flap history, then
 * dropped. New alerts beyond the cap are counted and ignored.
 */
#ifndef VT_ALERT_ENGINE_H
#define VT_ALERT_ENGINE_H

#include "collector/agg/sinks.h"
#include "collector/alerts/alert_config.h"
#include "collector/alerts/alert_event.h"
#include "collector/alerts/alert_state.h"
#include "collector/base/buf.h"
#include "collector/base/prom_text.h"
#include "collector/health/health.h"

typedef struct vt_alert_engine vt_alert_engine;

/* Called with the engine's lock held: must not block (queue the work)
 * and must not call back into the engine. cfg is the config the rule
 * belongs to (retain it to keep ev->rule). */
typedef void (*vt_alert_notify_fn)(void *ctx, struct vt_alert_config *cfg,
    const struct vt_alert_event *ev);

/*
 * Page once in a fleet (docs/alerts.md, "Several collectors"): whether
 * this collector notifies for a service whose latest check report came
 * from `origin` (NULL: this collector). Must not block or call the
 * engine. Without one, every alert notifies.
 */
typedef int (*vt_alert_owner_fn)(void *ctx, const char *origin);

/* Takes ownership of one reference to cfg. */
vt_alert_engine *vt_alert_engine_create(struct vt_alert_config *cfg,
    vt_alert_notify_fn notify, void *ctx);
void vt_alert_engine_destroy(vt_alert_engine *e);   /* NULL ok */

/*
 * Swap in new rules (takes ownership of one reference). Alerts whose
 * rule (by name) is still there with the same kind carry on; the others
 * are dropped without notifications.
 */
void vt_alert_engine_set_config(vt_alert_engine *e,
    struct vt_alert_config *cfg);

/*
 * From now on, a status, check or stale alert of a service notifies
 * only when fn says this collector owns it; otherwise the transition is
 * recorded exactly as if it had been announced (so an owner that takes
 * over later neither repeats a firing nor misses the resolution), and
 * counted in vitals_alert_notifications_skipped_total. Threshold alerts
 * always notify (each collector holds its own services' metrics).
 */
void vt_alert_engine_set_owner(vt_alert_engine *e, vt_alert_owner_fn fn,
    void *ctx);

/* vt_health_event_fn listeners; ctx is the engine. */
void vt_alert_engine_on_report(void *ctx, const struct vt_health_event *ev);
void vt_alert_engine_on_change(void *ctx, const struct vt_health_event *ev);

/* Evaluate threshold rules on a closed window (also the sink's flush). */
int vt_alert_engine_flush(void *ctx, const struct vt_flush *f);

/* A sink whose ctx is e and whose destroy is NULL. */
struct vt_sink vt_alert_engine_sink(vt_alert_engine *e);

/* Pending status alerts whose `for` passed, reminders, clean-up. */
void vt_alert_engine_tick(vt_alert_engine *e, double now);

/* {"alerts":[...]}: pending and firing alerts, sorted by id (appends). */
void vt_alert_engine_json(vt_alert_engine *e, struct vt_buf *out);

/*
 * Saving and restoring (alert_store.h): what an alert needs to carry on
 * after a restart. Strings are borrowed (from the engine while it is
 * locked in vt_alert_engine_each_saved, from the caller in restore).
 */
struct vt_alert_saved {
	const char *id;              /* "rule|service[|instance|check]" ... */
	const char *rule;            /* the rule's name */
	enum vt_alert_kind kind;     /* the rule's kind */
	const char *service, *instance, *check, *metric, *tags, *output;
	const char *origin;          /* owner of its service in a fleet;
	                                NULL: this collector */
	int status, previous, notified_status;   /* -1: none */
	double value;
	int metric_kind;             /* enum vt_kind, -1 unknown */
	struct vt_alert_state st;
	int notified;                /* a firing notification is out */
};

/* Call fn for every alert worth keeping (pending, firing or notified),
 * under the engine's lock (fn must not call the engine). Marks the
 * engine saved: vt_alert_engine_changes counts from here. */
void vt_alert_engine_each_saved(vt_alert_engine *e,
    void (*fn)(void *ctx, const struct vt_alert_saved *a), void *ctx);

/* Changes of any alert's phase, notification or times since the last
 * vt_alert_engine_each_saved (0: nothing to save). */
unsigned long long vt_alert_engine_changes(vt_alert_engine *e);

/*
 * Bring back a saved alert, attached to the rule of the same name and
 * kind, without a notification: a firing alert that was announced is not
 * announced again, and sends `resolved` when its condition is next seen
 * not holding. 0; -1 when its rule is gone, it exists already, or past
 * max_alerts.
 */
int vt_alert_engine_restore(vt_alert_engine *e,
    const struct vt_alert_saved *a);

/* Count a reload of the rules (for /metrics). */
void vt_alert_engine_count_reload(vt_alert_engine *e, int ok);

/* /metrics: vitals_alerts, vitals_alert_* (a vt_prom_collector_fn). */
void vt_alert_engine_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt);

#endif
