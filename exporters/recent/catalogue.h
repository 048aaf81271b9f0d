/*
 * catalogue.h - every metric the daemon has seen, remembered past its
 * life in memory and across restarts, so the pages and the API keep
 * listing it (with its last-seen time, its graphs drawn from its RRD
 * file) until it has sent nothing for `retire_after`.
 *
 * The aggregator forgets a metric after metric_ttl without samples, and a
 * restart forgets them all; the catalogue is what the views remember:
 *   vt_catalogue_note   notes the windows of each closed flush;
 *   vt_catalogue_merge  gives that flush plus a window for every
 *                       remembered metric it lacks (an idle window: no
 *                       samples, count and rate 0, a gauge's last value,
 *                       other statistics unknown), the view latest.h
 *                       publishes;
 *   vt_catalogue_save / vt_catalogue_load  keep it in
 *                       <data_dir>/catalogue.json (an atomic state file,
 *                       base/state_file.h).
 *
 * File format (JSON):
 *   {"format": "vitals-catalogue", "version": 1, "saved": <unix time>,
 *    "metrics": [{"service", "metric", "kind": "timer", "key",
 *                 "labels": [[key, value], ...], "last_seen",
 *                 "first_seen"?, "value"?}, ...]}
 * A file that is not such a document is set aside (catalogue.json.
 * corrupt-<time>) and the daemon starts with an empty catalogue; entries
 * that do not make sense are skipped and counted.
 *
 * A value owned by its caller (latest.c, which guards it with its lock);
 * nothing here locks.
 */
#ifndef VT_CATALOGUE_H
#define VT_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

#include "collector/agg/flush.h"

#define VT_CATALOGUE_FILE "catalogue.json"
#define VT_CATALOGUE_MAX_BYTES (1024u << 20)   /* largest file read */

typedef struct vt_catalogue vt_catalogue;

/* retire_after: seconds without a sample before a metric leaves the
 * views (its files stay). max: metrics remembered at most (0: no cap);
 * past it the ones silent longest are forgotten first, so a flood of new
 * names cannot grow it without bound. */
vt_catalogue *vt_catalogue_create(double retire_after, size_t max);
void vt_catalogue_destroy(vt_catalogue *c);   /* NULL ok */

void vt_catalogue_set_limits(vt_catalogue *c, double retire_after,
    size_t max);

/* Call fn for every remembered metric: its series, the unix time of its
 * last sample and a gauge's last value (NaN otherwise). */
typedef void (*vt_catalogue_each_fn)(void *ctx, struct vt_series *s,
    double last_seen, double value);
void vt_catalogue_each(vt_catalogue *c, vt_catalogue_each_fn fn, void *ctx);

/* Remembered metrics. */
size_t vt_catalogue_size(const vt_catalogue *c);

/* Remember every window of f (new metrics, last-seen times, a gauge's
 * value). */
void vt_catalogue_note(vt_catalogue *c, const struct vt_flush *f);

/*
 * f plus an idle window for each remembered metric f does not carry and
 * that was seen less than retire_after before now; metrics older than
 * that are retired first, and past `max` the longest silent of those f
 * does not carry (down to 9/10 of max, so this is rare). One reference:
 * f itself, retained, when nothing is added. Call vt_catalogue_note(c,
 * f) first, with the same f.
 */
struct vt_flush *vt_catalogue_merge(vt_catalogue *c,
    const struct vt_flush *f, double now);

/*
 * What the pages show of a metric besides its window: when it first sent
 * (so a graph's range can fit the data) and its last window that had
 * samples (so an idle window shows the last values and their age rather
 * than blanks). The kept window is not saved: after a restart it is
 * known again from the next window with samples.
 */
struct vt_catalogue_kept {
	double first_seen;            /* start of its first window with a
	                                 sample, 0 unknown (saved before
	                                 first_seen was) */
	double at;                    /* close of its last window with samples,
	                                 0 none since start */
	double count, rate, value;    /* that window's (value: gauges, sets) */
	size_t nquantiles;            /* 0, or the flush's npercentiles */
	double quantiles[VT_MAX_PERCENTILES];
};

/* out[i] for series s[i] (zeroed when the catalogue does not know it). */
void vt_catalogue_kept(vt_catalogue *c, const struct vt_series *const *s,
    size_t n, struct vt_catalogue_kept *out);

/* Forget every metric of a service (DELETE). Returns how many. */
size_t vt_catalogue_forget(vt_catalogue *c, const char *service);

/*
 * When a save is due at now: new or forgotten metrics since the last
 * save and at least VT_CATALOGUE_SAVE_GAP seconds since it, or anything
 * at all and VT_CATALOGUE_SAVE_EVERY seconds since it (last-seen times).
 * A kill -9 thus loses at most the metrics first seen in the last
 * VT_CATALOGUE_SAVE_GAP seconds (they come back when they send again) and
 * last-seen times of the last VT_CATALOGUE_SAVE_EVERY.
 */
#define VT_CATALOGUE_SAVE_GAP 10.0
#define VT_CATALOGUE_SAVE_EVERY 300.0
int vt_catalogue_save_due(const vt_catalogue *c, double now);

/* The file's text (caller frees) and its length; marks c saved at now.
 * Rendering is separate from writing so the owner can write outside its
 * lock. */
char *vt_catalogue_render(vt_catalogue *c, double now, size_t *len);

/* Render and write <dir>/catalogue.json. 0, or -errno with err. */
int vt_catalogue_save(vt_catalogue *c, const char *dir, double now,
    char *err, size_t errlen);

/*
 * Read <dir>/catalogue.json into c: metrics seen less than retire_after
 * before now. Returns how many (0 without a file), or -errno with err
 * (-EINVAL: the file was set aside). *skipped (may be NULL) gets the
 * entries that could not be used.
 */
int vt_catalogue_load(vt_catalogue *c, const char *dir, double now,
    size_t *skipped, char *err, size_t errlen);

#endif
