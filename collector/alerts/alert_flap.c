/*
 * alert_flap.c - Nagios-style percent state change (alert_flap.h).
 */
#include "collector/alerts/alert_flap.h"

static uint64_t window_mask(unsigned window)
{
	return window >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << window) - 1;
}

double vt_alert_flap_percent(const struct vt_flap *f, unsigned window)
{
	if (f->n < 2)
		return 0;
	/* Transitions between consecutive results; the one between result
	 * i+1 ago and i ago is newer for smaller i. */
	unsigned transitions = window - 1;
	double changes = 0;
	for (unsigned i = 0; i < transitions && i + 1 < f->n; i++) {
		if (((f->bits >> i) & 1) == ((f->bits >> (i + 1)) & 1))
			continue;
		/* the newest transition weighs 1.2, the oldest 0.8 */
		double pos = (double)(transitions - 1 - i) /
		    (double)(transitions - 1);
		changes += 0.8 + 0.4 * pos;
	}
	double pct = changes * 100.0 / (double)transitions;
	return pct > 100 ? 100 : pct;
}

enum vt_alert_flap_change vt_alert_flap_record(struct vt_flap *f, int result,
    unsigned window, double high, double low)
{
	if (window < 3)
		window = 3;
	if (window > VT_FLAP_WINDOW_MAX)
		window = VT_FLAP_WINDOW_MAX;
	f->bits = ((f->bits << 1) | (result ? 1u : 0u)) & window_mask(window);
	if (f->n < window)
		f->n++;
	f->percent = vt_alert_flap_percent(f, window);
	if (!f->flapping && f->percent > high) {
		f->flapping = 1;
		return VT_FLAP_START;
	}
	if (f->flapping && f->percent < low) {
		f->flapping = 0;
		return VT_FLAP_STOP;
	}
	return VT_FLAP_SAME;
}

int vt_alert_flap_quiet(const struct vt_flap *f, unsigned window)
{
	(void)window;
	if (f->flapping)
		return 0;
	uint64_t m = f->n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << f->n) - 1;
	uint64_t b = f->bits & m;
	return b == 0 || b == m;
}
