/*
 * pages_overview.h - GET / and /?wall=1: a tile per service, coloured by
 * status, with its key figures (pages.h routes it).
 */
#ifndef VT_PAGES_OVERVIEW_H
#define VT_PAGES_OVERVIEW_H

#include "collector/agg/flush.h"
#include "collector/base/buf.h"
#include "collector/fleet/fleet.h"
#include "collector/health/health.h"
#include "collector/health/health_snapshot.h"
#include "exporters/recent/trends.h"

struct vt_overview_opts {
	int wall;                    /* the wall view */
	int partial;                 /* only the tile grid (wall.js) */
	const char *filter;          /* substring of names; NULL: all */
	const struct vt_flush *latest;   /* the latest window, for the
	                                    collector's verdict; NULL: its
	                                    checks only */
	vt_fleet *fleet;             /* NULL: not in a fleet; else services
	                                whose owner is gone say so */
};

/* Render the overview from snapshots into out (also used by the bench). */
void vt_pages_overview(const struct vt_health_snapshot *hs,
    const struct vt_trends_snapshot *ts, const struct vt_overview_opts *o,
    double now, struct vt_buf *out);

#endif
