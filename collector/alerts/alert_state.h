/*
 * alert_state.h - the life cycle of one alert: inactive -> pending ->
 * firing -> (resolved) inactive, as a plain value with one pure step
 * function, so the engine and the unit tests drive the same code.
 *
 *   inactive --active--> pending (or straight to firing when for = 0)
 *   pending  --active, held `for` seconds--> firing      [FIRE]
 *   pending  --inactive--> inactive                      (nothing sent)
 *   firing   --active, renotify seconds since the last--> [RENOTIFY]
 *   firing   --inactive--> inactive                      [RESOLVE]
 */
#ifndef VT_ALERT_STATE_H
#define VT_ALERT_STATE_H

enum vt_alert_phase {
	VT_ALERT_INACTIVE = 0,
	VT_ALERT_PENDING,
	VT_ALERT_FIRING
};

enum vt_alert_action {
	VT_ALERT_NONE = 0,
	VT_ALERT_FIRE,
	VT_ALERT_RENOTIFY,
	VT_ALERT_RESOLVE
};

/* Zero-initialised = inactive. Times are unix seconds. */
struct vt_alert_state {
	enum vt_alert_phase phase;
	int active;          /* the condition at the last step */
	double since;        /* pending/firing: when the condition began */
	double fired;        /* firing: when it fired */
	double notified;     /* firing: last firing or reminder sent */
};

/* Advance with the condition `active` observed at `now`. for_s: seconds
 * it must hold; renotify: seconds between reminders (0 = none). */
enum vt_alert_action vt_alert_state_step(struct vt_alert_state *s,
    int active, double now, double for_s, double renotify);

/* "inactive", "pending", "firing". */
const char *vt_alert_state_phase_name(enum vt_alert_phase p);

#endif
