/*
 * pages_map.h - GET /map and /?wall=1&map=1: the service map, drawn as
 * SVG on the server (pages.h routes it).
 *
 * Every service is a node on a circle, coloured by its status (and with
 * its status icon before its name when it is not ok); services are
 * ordered by group (the name up to its first '-', '.' or '_') and then by
 * name, with a gap between groups. Every call edge (calls.h) is an arc
 * from caller to callee with an arrowhead at the callee; its width
 * follows the square root of its rate (1.2 units for the quietest, up to
 * VT_PAGES_MAP_WMAX for the busiest), its colour its error share (under
 * 1%, from 1%, from 5%). Arcs of one group to another pass through the
 * same two points, so they bundle. Each arc's and node's <title> gives
 * the figures on hover, and the legend beside the map lists the calls,
 * busiest first.
 *
 * The layout is deterministic: the same services and calls draw the same
 * picture. Labels are laid out horizontally up to 24 nodes, along the
 * radius beyond; the viewBox is sized from an estimate of every label's
 * width so that no name is cut.
 */
#ifndef VT_PAGES_MAP_H
#define VT_PAGES_MAP_H

#include "collector/base/buf.h"
#include "exporters/recent/calls.h"

#define VT_PAGES_MAP_WMIN 1.2        /* stroke width of the quietest arc */
#define VT_PAGES_MAP_WMAX 14.0       /* ... and at most of the busiest */

struct vt_map_opts {
	int wall;                    /* the wall's dark, full-screen view */
	int partial;                 /* only the map and its counts (map.js) */
};

/* Render the page (or the partial) for map m of snapshot cs. */
void vt_pages_map(const struct vt_map *m, const struct vt_calls_snapshot *cs,
    const struct vt_map_opts *o, double now, struct vt_buf *out);

/* The stroke width of an arc of `rate` calls/s when the busiest has max
 * (exposed for tests). */
double vt_pages_map_width(double rate, double max, double wmax);

#endif
