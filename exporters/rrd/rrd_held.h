/*
 * rrd_held.h - the windows write-behind holds for one RRD file, compactly
 * (rrd_files.c keeps one per file; its owner thread only).
 *
 * At one window a second and the default 30 s delay every file holds
 * about 30 windows, so their size is most of what storage adds to the
 * daemon's memory. A window is kept as a varint of its time since the one
 * before (its full time for the first) with a flag for "every value as in
 * the window before" (an idle counter's zeros, an idle timer's unknowns:
 * nothing more is kept), else two bits per value: as the window before,
 * unknown, an integer (zigzag varint: counts, rates at 1 s, sets, most
 * gauges) or the 8 bytes of the double (percentiles). A counter's window
 * takes 4 to 6 bytes instead of 24, a timer's with four percentiles
 * about 40 instead of 56. The buffer is sized to what it holds and given
 * back when the windows are written.
 *
 * What comes back is what the writer stores: values exactly, except that
 * -0 comes back as 0 and infinities as unknown (NaN), which the file gets
 * for them anyway (rrd_direct.h, the 'U' of an update string).
 */
#ifndef VT_RRD_HELD_H
#define VT_RRD_HELD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define VT_RRD_HELD_VALUES 64   /* values a window has at most */

/* A value; zero-initialised it holds nothing. */
struct vt_rrd_held {
	uint8_t *buf;           /* the newest window's values (nval
	                           doubles), then the encoded windows */
	uint32_t len, cap;      /* bytes used, allocated */
	uint32_t nrows;         /* windows held */
	uint32_t nval;          /* values a window has */
	time_t last;            /* time of the newest window */
};

/* Hold a window of n values (n the same for every window until cleared,
 * at most VT_RRD_HELD_VALUES). Returns the change in bytes allocated. */
long vt_rrd_held_add(struct vt_rrd_held *h, time_t t, const double *v,
    size_t n);

/* Every window held, oldest first: times into t[nrows], values into
 * vals[nrows * nval]. */
void vt_rrd_held_rows(const struct vt_rrd_held *h, time_t *t, double *vals);

/* Forget the windows and free the buffer; returns the bytes freed. */
size_t vt_rrd_held_clear(struct vt_rrd_held *h);

#endif
