/*
 * page_layout.h - what every dashboard page shares: the document head
 * with the compiled-in stylesheet and scripts, the top bar, and the
 * status badge (colour and a text with an icon, so status reads without
 * colour too).
 */
#ifndef VT_PAGE_LAYOUT_H
#define VT_PAGE_LAYOUT_H

#include "collector/base/buf.h"
#include "collector/health/health_check.h"

/* A service's status as the pages show it: a check status, or none when
 * the service sent metrics but no checks. */
enum vt_page_layout_status {
	VT_PAGE_LAYOUT_CRITICAL, VT_PAGE_LAYOUT_WARNING, VT_PAGE_LAYOUT_UNKNOWN, VT_PAGE_LAYOUT_OK,
	VT_PAGE_LAYOUT_NONE, VT_PAGE_LAYOUT_STATUS_COUNT
};

/* Worst first: the order of the overview. */
enum vt_page_layout_status vt_page_layout_status_of(enum vt_status s);

/* "critical", ..., "none": the CSS class suffix (st-<name>). */
const char *vt_page_layout_status_class(enum vt_page_layout_status s);

/* Badge: <span class="badge st-critical">✖ CRITICAL</span>, plus a
 * STALE marker when stale. */
void vt_page_layout_badge(struct vt_buf *b, enum vt_page_layout_status s, int stale);

/* The IDLE badge of a service with no checks that sent nothing for a
 * while (vt_latest_idle). */
void vt_page_layout_badge_idle(struct vt_buf *b);

/* <!doctype html> ... <body class="body_class">. title is plain text
 * (escaped here); script is an asset name or NULL; with refresh > 0 the
 * page reloads itself every refresh seconds when JavaScript is off. */
void vt_page_layout_begin(struct vt_buf *b, const char *title,
    const char *body_class, const char *script, unsigned refresh);

/* The light pages' top bar: product name, a link home, the time. */
void vt_page_layout_topbar(struct vt_buf *b, double now);

void vt_page_layout_end(struct vt_buf *b);

/* "14:03:27 UTC" for a unix time. */
void vt_page_layout_clock(struct vt_buf *b, double t);

/*
 * The collector's own health (the service "vitals"), one verdict for its
 * page and for the wall (whose collector tile shows when it is not ok):
 *   failing   a check about vitals is critical; no window closed for
 *             3 flush intervals + 5 s; storage lost updates (storage.errors in the last
 *             window, or a 5-minute rate >= 0.01/s);
 *             the kernel or the inbox dropped >= 1% of what came (5 min);
 *             the storage queue holds more than 3 windows of updates; a
 *             storage round or closing a window takes longer than the
 *             window (last window);
 *   degraded  a check about vitals is warning or unknown, or every one is
 *             stale; any kernel drop, inbox drop, truncated datagram or
 *             refused TCP connection (5-minute rate >= 0.01/s); >= 5% of lines
 *             invalid and >= 0.1 invalid lines/s (5 min); the storage
 *             queue holds more than one window of updates; a storage
 *             round takes longer than a window, or closing one more than
 *             half of it;
 *   ok        none of those.
 * The figures come from the self-metrics in the latest window (f, may be
 * NULL; with self_metrics off only the checks and windows count).
 */
enum vt_collector_verdict {
	VT_COLLECTOR_OK, VT_COLLECTOR_DEGRADED, VT_COLLECTOR_FAILING
};

#define VT_COLLECTOR_REASONS 16
#define VT_COLLECTOR_SERVICE "vitals"

struct vt_collector_health {
	enum vt_collector_verdict verdict;
	size_t nreasons;
	struct {
		enum vt_collector_verdict level;
		char text[200];
	} reasons[VT_COLLECTOR_REASONS];   /* worst first */
	size_t nfigures;                   /* what was measured, for the page */
	struct {
		const char *what, *degraded, *failing;   /* static */
		char now[64];
	} figures[VT_COLLECTOR_REASONS];
};

struct vt_health_service_view;
struct vt_flush;

/* sv: the health registry's view of "vitals" (may be NULL). */
void vt_page_layout_collector(const struct vt_health_service_view *sv,
    const struct vt_flush *f, double now, struct vt_collector_health *out);

/* "ok", "degraded", "failing". */
const char *vt_page_layout_verdict_name(enum vt_collector_verdict v);

#endif
