/*
 * graph.h - graphs of stored series, rendered in memory by librrd
 * (SPEC 6):
 *
 *   GET /graph/<service>/<metric>.svg      (or .png)
 *   GET /graph/<service>/<check>.svg?instance=<instance>   a check's
 *       status history
 *
 * Parameters as for /api/v1/series (series_api.h): from, until, stat,
 * labels, plus width (100-2000, default 600) and height (60-1000, default
 * 200) of the plot area, theme=dark (default) or light, and cf=MAX to
 * plot the maximum instead of the average. A metric whose name holds '/'
 * is written %2F in the path.
 *
 * The picture: title "<service> <metric> (<stat>)", the vertical axis in
 * the stat's unit (ms for timer statistics, /s for rates), the average as
 * a line over a light area, the maximum as a thin second line, and a
 * legend with the last, average and maximum values. Checks are drawn as a
 * step line on a 0..3 axis (ok, warning, critical, unknown). Fonts and
 * colours are legible on dark and light pages; the image has no
 * border, so it embeds cleanly.
 */
#ifndef VT_GRAPH_H
#define VT_GRAPH_H

#include "dashboards/http/http.h"
#include "exporters/rrd/rrd_read.h"

/*
 * Split the part of a graph path after "/graph/" ("<service>/<metric>.svg")
 * into service (before the first '/') and name (up to the last '.'); the
 * name may hold further '/'. Both must be non-empty and fit their buffers
 * with the NUL. Sets *fmt to "SVG" or "PNG" and *type to the content type
 * (static strings). 0, or -1 when the path is not a graph.
 */
int vt_graph_parse_path(const char *sub, char *service, size_t service_len,
    char *name, size_t name_len, const char **fmt, const char **type);

/* Register GET /graph/. rd is borrowed and must outlive h. */
void vt_graph_register(vt_http *h, vt_rrd_read *rd);

#endif
