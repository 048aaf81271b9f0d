/* page_layout.c - document skeleton and status badges (page_layout.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collector/agg/flush.h"
#include "collector/health/health_snapshot.h"

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

void vt_page_layout_badge_idle(struct vt_buf *b)
{
	vt_buf_puts(b, "<span class=\"badge idle\" title=\"IDLE: nothing "
	    "received for a while\"><span class=\"icon\" aria-hidden=\"true\">"
	    "\xE2\x80\x96</span> <span class=\"word\">IDLE</span></span>");
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
	    "<a href=\"/map\">Map</a>"
	    "<a href=\"/services/vitals\">Collector</a></nav>"
	    "<span class=\"clock\" id=\"clock\">");
	vt_page_layout_clock(b, now);
	vt_buf_puts(b, "</span></header>\n");
}

void vt_page_layout_end(struct vt_buf *b)
{
	vt_buf_puts(b, "</body></html>\n");
}

/* ---- the collector's verdict ---- */

const char *vt_page_layout_verdict_name(enum vt_collector_verdict v)
{
	return v == VT_COLLECTOR_FAILING ? "failing" :
	    v == VT_COLLECTOR_DEGRADED ? "degraded" : "ok";
}

static void reason(struct vt_collector_health *h,
    enum vt_collector_verdict level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reason(struct vt_collector_health *h,
    enum vt_collector_verdict level, const char *fmt, ...)
{
	if (level > h->verdict)
		h->verdict = level;
	if (h->nreasons == VT_COLLECTOR_REASONS)
		return;
	size_t at = h->nreasons++;
	/* worst first, otherwise in the order found */
	while (at > 0 && h->reasons[at - 1].level < level) {
		h->reasons[at] = h->reasons[at - 1];
		at--;
	}
	h->reasons[at].level = level;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->reasons[at].text, sizeof h->reasons[at].text, fmt, ap);
	va_end(ap);
}

/* The self-metrics of the latest window that the verdict reads. */
enum {
	M_KDROPS, M_PACKETS, M_INBOX_DROP, M_INBOX, M_TRUNC, M_REFUSED,
	M_INVALID, M_OK, M_SERRORS, M_SQUEUE, M_LIVE, M_ROUND, M_FLUSH,
	M_COUNT
};
static const char *const self_names[M_COUNT] = {
	"udp.kernel_drops", "udp.packets", "inbox.dropped", "inbox.messages",
	"udp.truncated", "tcp.refused", "lines.invalid", "lines.ok",
	"storage.errors", "storage.queue", "metrics.live",
	"storage.round_time", "flush.time",
};

/* Below this 5-minute rate an event counts as gone: the moving rate
 * only tends to 0 after a burst (about one event per 100 s). */
#define MIN_RATE 0.01

static double r5(const struct vt_metric_window *w)
{
	return w && isfinite(w->rate_5m) && w->rate_5m >= MIN_RATE ?
	    w->rate_5m : 0;
}

/* A timer's largest sample in the window (its max, else its highest
 * percentile); NaN when it had none. */
static double tmax(const struct vt_metric_window *w, size_t np)
{
	if (w == NULL || w->samples == 0)
		return NAN;
	const struct vt_timer_window *t = vt_window_timer(w);
	if (isfinite(t->max))
		return t->max;
	return t->quantiles && np ? t->quantiles[np - 1] : NAN;
}

static void figure(struct vt_collector_health *h, const char *what,
    const char *degraded, const char *failing, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void figure(struct vt_collector_health *h, const char *what,
    const char *degraded, const char *failing, const char *fmt, ...)
{
	if (h->nfigures == VT_COLLECTOR_REASONS)
		return;
	size_t at = h->nfigures++;
	h->figures[at].what = what;
	h->figures[at].degraded = degraded;
	h->figures[at].failing = failing;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->figures[at].now, sizeof h->figures[at].now, fmt, ap);
	va_end(ap);
}

static double share(double part, double whole)
{
	return whole > 0 ? part / whole : 0;
}

void vt_page_layout_collector(const struct vt_health_service_view *sv,
    const struct vt_flush *f, double now, struct vt_collector_health *h)
{
	memset(h, 0, sizeof *h);
	/* Checks about the collector: an outside probe, a hook. */
	size_t stale = 0;
	for (size_t i = 0; sv && i < sv->nchecks; i++) {
		const struct vt_health_check_view *c = &sv->checks[i];
		stale += c->stale != 0;
		if (c->status == VT_STATUS_OK)
			continue;
		reason(h, c->status == VT_STATUS_CRITICAL ?
		    VT_COLLECTOR_FAILING : VT_COLLECTOR_DEGRADED,
		    "check %.48s on %.48s is %s: %.80s", c->check, c->instance,
		    vt_health_check_status_name(c->status), c->output);
	}
	if (sv && sv->nchecks > 0 && stale == sv->nchecks)
		reason(h, VT_COLLECTOR_DEGRADED, "every check about the "
		    "collector is stale (its probe stopped reporting)");
	if (f == NULL)
		return;
	double interval = f->interval > 0 ? f->interval : 10;
	if (now - f->timestamp > 3 * interval + 5)
		reason(h, VT_COLLECTOR_FAILING, "no window closed for %.0f s "
		    "(windows are %g s)", now - f->timestamp, interval);

	const struct vt_metric_window *m[M_COUNT] = { 0 };
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_series *s = f->metrics[i].series;
		if (s->nlabels || strcmp(s->service, VT_COLLECTOR_SERVICE))
			continue;
		for (size_t k = 0; k < M_COUNT; k++)
			if (strcmp(s->metric, self_names[k]) == 0)
				m[k] = &f->metrics[i];
	}

	figure(h, "last window closed", "-", "> 3 windows + 5 s ago",
	    "%.0f s ago", now - f->timestamp);
	if (m[M_PACKETS] == NULL && m[M_OK] == NULL)
		return;   /* self_metrics off: nothing more to read */

	/* Drops: what the kernel or the inbox threw away. */
	double kd = r5(m[M_KDROPS]), pk = r5(m[M_PACKETS]);
	if (kd > 0)
		reason(h, share(kd, kd + pk) >= 0.01 ? VT_COLLECTOR_FAILING :
		    VT_COLLECTOR_DEGRADED, "the kernel dropped %.3g UDP "
		    "datagrams/s (%.1f%% of them, 5 min): raise the socket "
		    "buffer or send less", kd, 100 * share(kd, kd + pk));
	double id = r5(m[M_INBOX_DROP]), im = r5(m[M_INBOX]);
	if (id > 0)
		reason(h, share(id, id + im) >= 0.01 ? VT_COLLECTOR_FAILING :
		    VT_COLLECTOR_DEGRADED, "the inbox refused %.3g bodies/s "
		    "(%.1f%%, 5 min): it is full", id, 100 * share(id, id + im));
	if (r5(m[M_TRUNC]) > 0)
		reason(h, VT_COLLECTOR_DEGRADED, "%.3g UDP datagrams/s cut "
		    "at the line limit (5 min)", r5(m[M_TRUNC]));
	if (r5(m[M_REFUSED]) > 0)
		reason(h, VT_COLLECTOR_DEGRADED, "%.3g TCP connections/s "
		    "refused (5 min): tcp_max_clients or file descriptors",
		    r5(m[M_REFUSED]));
	/* Parse errors. */
	double bad = r5(m[M_INVALID]), ok = r5(m[M_OK]);
	if (bad >= 0.1 && share(bad, bad + ok) >= 0.05)
		reason(h, VT_COLLECTOR_DEGRADED, "%.1f%% of lines invalid "
		    "(%.3g/s, 5 min)", 100 * share(bad, bad + ok), bad);
	/* Storage: lost updates, lag (queue in windows), slow rounds. */
	if (r5(m[M_SERRORS]) > 0 || (m[M_SERRORS] &&
	    m[M_SERRORS]->samples > 0 && m[M_SERRORS]->count > 0))
		reason(h, VT_COLLECTOR_FAILING, "storage lost updates to "
		    "errors (%.3g/s, 5 min; see the log)", r5(m[M_SERRORS]));
	double q = m[M_SQUEUE] ? m[M_SQUEUE]->value : NAN;
	double live = m[M_LIVE] ? m[M_LIVE]->value : NAN;
	if (isfinite(q) && isfinite(live) && live > 0 && q > live)
		reason(h, q > 3 * live ? VT_COLLECTOR_FAILING :
		    VT_COLLECTOR_DEGRADED, "storage is %.1f windows behind "
		    "(%.0f updates queued for %.0f metrics)", q / live, q,
		    live);
	double round = tmax(m[M_ROUND], f->npercentiles);
	if (isfinite(round) && round > 1000 * interval)
		reason(h, round > 3000 * interval ? VT_COLLECTOR_FAILING :
		    VT_COLLECTOR_DEGRADED, "a storage round took %.1f s, "
		    "longer than a window (%g s)", round / 1000, interval);
	double fl = tmax(m[M_FLUSH], f->npercentiles);
	figure(h, "UDP datagrams dropped by the kernel (5 min)", ">= 0.01/s",
	    ">= 1% of datagrams", "%.3g/s", kd);
	figure(h, "inbox bodies refused (5 min)", ">= 0.01/s",
	    ">= 1% of bodies", "%.3g/s", id);
	figure(h, "datagrams truncated, TCP connections refused (5 min)",
	    ">= 0.01/s", "-", "%.3g/s, %.3g/s", r5(m[M_TRUNC]),
	    r5(m[M_REFUSED]));
	figure(h, "invalid lines (5 min)", ">= 5% and >= 0.1/s", "-",
	    "%.1f%% (%.3g/s)", 100 * share(bad, bad + ok), bad);
	figure(h, "storage errors (lost updates)", "-",
	    "any in the last window, or >= 0.01/s", "%.3g/s",
	    r5(m[M_SERRORS]));
	if (isfinite(q) && isfinite(live) && live > 0)
		figure(h, "storage lag (queued updates / metrics)",
		    "> 1 window", "> 3 windows", "%.2f windows", q / live);
	else
		figure(h, "storage lag (queued updates / metrics)",
		    "> 1 window", "> 3 windows", "no storage");
	if (isfinite(round))
		figure(h, "storage round (last window)", "> 1 window",
		    "> 3 windows", "%.3g ms", round);
	if (isfinite(fl))
		figure(h, "closing a window (last)", "> 1/2 window",
		    "> 1 window", "%.3g ms", fl);
	if (isfinite(fl) && fl > 500 * interval)
		reason(h, fl > 1000 * interval ? VT_COLLECTOR_FAILING :
		    VT_COLLECTOR_DEGRADED, "closing a window took %.2f s "
		    "(windows are %g s)", fl / 1000, interval);
}
