/* page_layout.c - document skeleton and status badges (page_layout.h). */
#include <time.h>

#include "dashboards/assets/assets.h"
#include "dashboards/pages/html.h"
#include "dashboards/pages/page_layout.h"

static const struct {
	const char *cls, *label, *icon;
} statuses[VT_PAGE_LAYOUT_STATUS_COUNT] = {
	[VT_PAGE_LAYOUT_CRITICAL] = { "critical", "CRITICAL", "\xE2\x9C\x96" }, /* ✖ */
	[VT_PAGE_LAYOUT_WARNING] = { "warning", "WARNING", "\xE2\x96\xB2" },    /* ▲ */
	[VT_PAGE_LAYOUT_UNKNOWN] = { "unknown", "UNKNOWN", "?" },
	[VT_PAGE_LAYOUT_OK] = { "ok", "OK", "\xE2\x9C\x94" },                   /* ✔ */
	[VT_PAGE_LAYOUT_NONE] = { "none", "NO CHECKS", "\xE2\x97\x8B" },        /* ○ */
};

enum vt_page_layout_status vt_page_layout_status_of(enum vt_status s)
{
	switch (s) {
	case VT_STATUS_CRITICAL: return VT_PAGE_LAYOUT_CRITICAL;
	case VT_STATUS_WARNING: return VT_PAGE_LAYOUT_WARNING;
	case VT_STATUS_UNKNOWN: return VT_PAGE_LAYOUT_UNKNOWN;
	case VT_STATUS_OK: return VT_PAGE_LAYOUT_OK;
	}
	return VT_PAGE_LAYOUT_UNKNOWN;
}

const char *vt_page_layout_status_class(enum vt_page_layout_status s)
{
	return statuses[s].cls;
}

void vt_page_layout_badge(struct vt_buf *b, enum vt_page_layout_status s, int stale)
{
	vt_buf_printf(b, "<span class=\"badge st-%s\" title=\"%s\"><span "
	    "class=\"icon\" aria-hidden=\"true\">%s</span> <span "
	    "class=\"word\">%s</span></span>", statuses[s].cls,
	    statuses[s].label, statuses[s].icon, statuses[s].label);
	if (stale)
		vt_buf_puts(b, "<span class=\"badge stale\" title=\"STALE\">"
		    "<span class=\"icon\" aria-hidden=\"true\">"
		    "\xE2\x8C\x9B</span> <span class=\"word\">STALE</span>"
		    "</span>");
}

void vt_page_layout_clock(struct vt_buf *b, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char text[32];
	gmtime_r(&s, &tm);
	strftime(text, sizeof text, "%H:%M:%S UTC", &tm);
	vt_buf_puts(b, text);
}

void vt_page_layout_begin(struct vt_buf *b, const char *title,
    const char *body_class, const char *script, unsigned refresh)
{
	vt_buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"><title>");
	vt_html_text(b, title);
	vt_buf_puts(b, "</title><link rel=\"icon\" href=\"");
	vt_assets_url(b, "favicon.svg");
	vt_buf_puts(b, "\"><link rel=\"stylesheet\" href=\"");
	vt_assets_url(b, "dash.css");
	vt_buf_puts(b, "\">");
	if (script) {
		vt_buf_puts(b, "<script defer src=\"");
		vt_assets_url(b, script);
		vt_buf_puts(b, "\"></script>");
	}
	if (refresh > 0)
		vt_buf_printf(b, "<noscript><meta http-equiv=\"refresh\" "
		    "content=\"%u\"></noscript>", refresh);
	vt_buf_printf(b, "</head>\n<body class=\"%s\">\n", body_class);
}

void vt_page_layout_topbar(struct vt_buf *b, double now)
{
	vt_buf_puts(b, "<header class=\"topbar\"><a class=\"brand\" href=\"/\">"
	    "<span class=\"logo\" aria-hidden=\"true\"></span>vitals</a>"
	    "<nav><a href=\"/\">Overview</a><a href=\"/?wall=1\">Wall</a>"
	    "<a href=\"/services/vitals\">Collector</a></nav>"
	    "<span class=\"clock\" id=\"clock\">");
	vt_page_layout_clock(b, now);
	vt_buf_puts(b, "</span></header>\n");
}

void vt_page_layout_end(struct vt_buf *b)
{
	vt_buf_puts(b, "</body></html>\n");
}
