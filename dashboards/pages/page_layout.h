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

#endif
