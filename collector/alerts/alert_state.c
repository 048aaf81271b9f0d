/*
 * alert_state.c - the alert life cycle step (alert_state.h).
 */
#include "collector/alerts/alert_state.h"

enum vt_alert_action vt_alert_state_step(struct vt_alert_state *s,
    int active, double now, double for_s, double renotify)
{
	s->active = active;
	switch (s->phase) {
	case VT_ALERT_INACTIVE:
		if (!active)
			return VT_ALERT_NONE;
		s->since = now;
		s->phase = VT_ALERT_PENDING;
		/* for = 0 fires at once */
		/* FALLTHROUGH */
	case VT_ALERT_PENDING:
		if (!active) {
			s->phase = VT_ALERT_INACTIVE;
			return VT_ALERT_NONE;
		}
		if (now - s->since < for_s)
			return VT_ALERT_NONE;
		s->phase = VT_ALERT_FIRING;
		s->fired = s->notified = now;
		return VT_ALERT_FIRE;
	case VT_ALERT_FIRING:
		if (!active) {
			s->phase = VT_ALERT_INACTIVE;
			return VT_ALERT_RESOLVE;
		}
		if (renotify > 0 && now - s->notified >= renotify) {
			s->notified = now;
			return VT_ALERT_RENOTIFY;
		}
		return VT_ALERT_NONE;
	}
	return VT_ALERT_NONE;
}

const char *vt_alert_state_phase_name(enum vt_alert_phase p)
{
	static const char *const names[] = { "inactive", "pending", "firing" };
	return (unsigned)p < 3 ? names[p] : "?";
}
