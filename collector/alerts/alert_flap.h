/*
 * alert_flap.h - flap detection the Nagios way: the last `window` results
 * of a check (here: whether its alert condition held), the percent state
 * change over them with recent changes weighing more (0.8 for the oldest
 * to 1.2 for the newest), and hysteresis: flapping starts above `high`
 * percent and ends only below `low`.
 *
 * A plain value (no allocation): zero-initialise, then record results.
 * The history starts as if every earlier result equalled the first one,
 * so a new check is never flapping.
 */
#ifndef VT_ALERT_FLAP_H
#define VT_ALERT_FLAP_H

#include <stdint.h>

#define VT_FLAP_WINDOW_MAX 64

struct vt_flap {
	uint64_t bits;       /* result i ago at bit i: 1 = condition held */
	unsigned n;          /* results recorded, capped at the window */
	int flapping;
	double percent;      /* at the last record */
};

enum vt_alert_flap_change { VT_FLAP_SAME = 0, VT_FLAP_START, VT_FLAP_STOP };

/* Record one result; window in [3, VT_FLAP_WINDOW_MAX]. Says whether
 * flapping started or stopped with it. */
enum vt_alert_flap_change vt_alert_flap_record(struct vt_flap *f, int result,
    unsigned window, double high, double low);

/* The weighted percent state change over the window, 0..100. */
double vt_alert_flap_percent(const struct vt_flap *f, unsigned window);

/* Whether the history holds any change at all (else it can be dropped). */
int vt_alert_flap_quiet(const struct vt_flap *f, unsigned window);

#endif
