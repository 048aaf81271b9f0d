/*
 * pages_overview.c - GET / and /?wall=1 (pages.h): a tile per service,
 * worst status first, then by name.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/xmalloc.h"
#include "collector/health/health_snapshot.h"
#include "dashboards/pages/html.h"
#include "dashboards/pages/page_layout.h"
#include "dashboards/pages/pages_overview.h"
#include "exporters/recent/latest.h"

/* The collector's own service (VT_SELF_SERVICE in collector/daemon/
 * selfmetrics.h, a layer above this one). */
#define SELF_SERVICE VT_COLLECTOR_SERVICE

struct tile {
	const char *name;
	const struct vt_health_service_view *sv;   /* NULL: metrics only */
	const struct vt_trend *tr;                 /* NULL: checks only */
	enum vt_page_layout_status status;
	const struct vt_health_check_view *worst;  /* NULL: no checks */
	double last_seen;
	int idle;                  /* no checks, and nothing lately */
	const struct vt_collector_health *self;    /* the collector's tile:
	                                              its verdict */
	const char *gone;          /* its owner, a collector that is gone */
};

static int cmp_tile(const void *a, const void *b)
{
	const struct tile *x = a, *y = b;
	if (x->status != y->status)
		return x->status < y->status ? -1 : 1;
	return strcmp(x->name, y->name);
}

static const struct vt_health_check_view *worst_check(
    const struct vt_health_service_view *sv)
{
	const struct vt_health_check_view *w = NULL;
	for (size_t i = 0; i < sv->nchecks; i++) {
		const struct vt_health_check_view *c = &sv->checks[i];
		if (w == NULL || vt_health_check_status_severity(c->status) >
		    vt_health_check_status_severity(w->status))
			w = c;
	}
	return w;
}

/* Merge the two sorted lists of services into tiles (caller frees). */
static struct tile *collect(const struct vt_health_snapshot *hs,
    const struct vt_trends_snapshot *ts, const char *filter, double now,
    vt_fleet *fleet, size_t *n)
{
	struct tile *v = vt_xmalloc((hs->nservices + ts->n + 1) * sizeof *v);
	size_t i = 0, j = 0;
	*n = 0;
	while (i < hs->nservices || j < ts->n) {
		const struct vt_health_service_view *sv = i < hs->nservices ?
		    &hs->services[i] : NULL;
		const struct vt_trend *tr = j < ts->n ? &ts->v[j] : NULL;
		int c = sv == NULL ? 1 : tr == NULL ? -1 :
		    strcmp(sv->name, tr->service);
		if (c < 0)
			tr = NULL;
		if (c > 0)
			sv = NULL;
		i += sv != NULL;
		j += tr != NULL;
		struct tile t = { .name = sv ? sv->name : tr->service,
		    .sv = sv, .tr = tr, .status = VT_PAGE_LAYOUT_NONE };
		if (filter && *filter && strstr(t.name, filter) == NULL)
			continue;
		if (sv && sv->nchecks > 0) {
			t.status = vt_page_layout_status_of(sv->status);
			t.worst = worst_check(sv);
			t.last_seen = sv->last_report;
		}
		if (tr && tr->last_seen > t.last_seen)
			t.last_seen = tr->last_seen;
		t.idle = t.status == VT_PAGE_LAYOUT_NONE &&
		    vt_latest_idle(ts->interval, t.last_seen, now);
		if (fleet && sv && sv->owner && vt_fleet_state(fleet,
		    sv->owner, now) != VT_FLEET_UP)
			t.gone = sv->owner;
		v[(*n)++] = t;
	}
	qsort(v, *n, sizeof *v, cmp_tile);
	return v;
}

/* On the wall the collector's own tile takes a slot only when the
 * collector is unhealthy: its verdict (page_layout.h, the same as its
 * page's) is not ok. A healthy collector's tile is rendered hidden
 * (class is-quiet) so that wall.js can show it for ?collector=1. */
static int quiet_self(const struct tile *t)
{
	if (strcmp(t->name, SELF_SERVICE) != 0)
		return 0;
	return t->self == NULL || t->self->verdict == VT_COLLECTOR_OK;
}

/* The collector's tile says its verdict: failing is critical, degraded a
 * warning, when its checks say less; the reason is its output line. */
static void self_verdict(struct tile *t, const struct vt_collector_health *h)
{
	t->self = h;
	enum vt_page_layout_status v = h->verdict == VT_COLLECTOR_FAILING ?
	    VT_PAGE_LAYOUT_CRITICAL : h->verdict == VT_COLLECTOR_DEGRADED ?
	    VT_PAGE_LAYOUT_WARNING : VT_PAGE_LAYOUT_NONE;
	if (v < t->status)
		t->status = v;
}

/* A sparkline: the rate as a faint area, p99 as a line, each scaled to
 * its own maximum. Plain SVG, no script or style attributes. */
static void sparkline(struct vt_buf *b, const struct vt_trend *tr)
{
	double rmax = 0, pmax = 0;
	size_t n = tr->npoints;
	for (size_t i = 0; i < n; i++) {
		if (isfinite(tr->rate_hist[i]) && tr->rate_hist[i] > rmax)
			rmax = tr->rate_hist[i];
		if (isfinite(tr->p99_hist[i]) && tr->p99_hist[i] > pmax)
			pmax = tr->p99_hist[i];
	}
	vt_buf_puts(b, "<span class=\"spark\"><svg viewBox=\"0 0 100 32\" "
	    "preserveAspectRatio=\"none\" role=\"img\" aria-label=\"rate and "
	    "p99, last windows\">");
	if (n < 2) {
		vt_buf_puts(b, "</svg></span>");
		return;
	}
	double dx = 100.0 / (double)(VT_TRENDS_POINTS - 1);
	double x0 = 100.0 - dx * (double)(n - 1);
	vt_buf_printf(b, "<path class=\"spark-rate\" d=\"M%.1f 32", x0);
	for (size_t i = 0; i < n; i++) {
		double r = isfinite(tr->rate_hist[i]) ? tr->rate_hist[i] : 0;
		vt_buf_printf(b, "L%.1f %.1f", x0 + dx * (double)i,
		    rmax > 0 ? 32 - 26 * r / rmax : 32);
	}
	vt_buf_puts(b, "L100 32Z\"/><polyline class=\"spark-p99\" "
	    "vector-effect=\"non-scaling-stroke\" points=\"");
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(tr->p99_hist[i]) || pmax <= 0)
			continue;
		vt_buf_printf(b, "%.1f,%.1f ", x0 + dx * (double)i,
		    30 - 26 * tr->p99_hist[i] / pmax);
	}
	vt_buf_puts(b, "\"/></svg></span>");
}

/* A tile. On the wall (wall != 0) placeholders that say nothing from
 * across the room ("no metrics", "metrics only") are left out so the
 * space goes to the name, and the collector's tile is marked. */
static void render_tile(struct vt_buf *b, const struct tile *t, double now,
    int wall)
{
	const char *cls = vt_page_layout_status_class(t->status);
	int stale = (t->sv && t->sv->stale) || t->gone;
	int self = wall && strcmp(t->name, SELF_SERVICE) == 0;
	vt_buf_printf(b, "<a class=\"tile st-%s%s%s%s%s\" href=\"/services/",
	    cls, stale ? " is-stale" : "", t->idle ? " is-idle" : "",
	    self ? " t-self" : "", self && quiet_self(t) ? " is-quiet" : "");
	vt_html_path(b, t->name);
	vt_buf_puts(b, "\" data-service=\"");
	vt_html_text(b, t->name);
	vt_buf_printf(b, "\" data-status=\"%s\"><div class=\"t-head\">"
	    "<span class=\"t-name\">", cls);
	vt_html_text(b, t->name);
	vt_buf_puts(b, "</span>");
	vt_page_layout_badge(b, t->status, t->sv && t->sv->stale);
	if (t->idle)
		vt_page_layout_badge_idle(b);
	if (t->gone) {
		vt_buf_puts(b, "<span class=\"badge stale not-updated\" "
		    "title=\"NOT UPDATED: collector ");
		vt_html_text(b, t->gone);
		vt_buf_puts(b, " is gone\"><span class=\"icon\" aria-hidden="
		    "\"true\">\xE2\x8C\x9B</span> <span class=\"word\">"
		    "NOT UPDATED</span></span>");
	}
	vt_buf_puts(b, "</div>");
	int verdict = t->self && t->self->verdict != VT_COLLECTOR_OK &&
	    t->self->nreasons > 0 && (t->worst == NULL ||
	    t->worst->status == VT_STATUS_OK);
	if (t->worst || !wall || verdict)
		vt_buf_puts(b, "<div class=\"t-out\">");
	if (verdict) {
		vt_buf_printf(b, "<span class=\"t-check\">collector %s"
		    "</span> <span class=\"t-output\">",
		    vt_page_layout_verdict_name(t->self->verdict));
		vt_html_text(b, t->self->reasons[0].text);
		vt_buf_puts(b, "</span></div>");
	} else if (t->worst) {
		vt_buf_puts(b, "<span class=\"t-check\">");
		vt_html_text(b, t->worst->check);
		vt_buf_puts(b, "</span> <span class=\"t-output\">");
		vt_html_text(b, t->worst->output[0] ? t->worst->output :
		    vt_health_check_status_name(t->worst->status));
		vt_buf_puts(b, "</span></div>");
	} else if (!wall) {
		vt_buf_puts(b, "<span class=\"t-output muted\">metrics only, "
		    "no healthchecks</span></div>");
	}
	if (t->tr && t->tr->timer) {
		vt_buf_puts(b, "<div class=\"t-figs\">");
		vt_buf_puts(b, "<div class=\"fig\"><b>");
		vt_html_num(b, t->tr->rate);
		vt_buf_puts(b, "<small>/s</small></b><span>");
		vt_html_text(b, t->tr->timer);
		vt_buf_puts(b, "</span></div><div class=\"fig\"><b>");
		vt_html_ms(b, t->tr->p99);
		vt_buf_puts(b, "</b><span>p99</span></div>");
		sparkline(b, t->tr);
		vt_buf_puts(b, "</div>");
	} else if (t->tr && !wall) {
		vt_buf_printf(b, "<div class=\"t-figs\"><div class=\"fig\">"
		    "<b>%zu</b><span>metrics, no timers</span></div></div>",
		    t->tr->nmetrics);
	} else if (!wall && t->sv && t->sv->owner) {
		/* in a fleet: another collector has them (its page is a
		 * click away, forwarded there) */
		vt_buf_puts(b, "<div class=\"t-figs\"><span class=\"muted\">"
		    "metrics on collector ");
		vt_html_text(b, t->sv->owner);
		vt_buf_puts(b, t->gone ? " (gone)</span></div>" : "</span></div>");
	} else if (!wall) {
		vt_buf_puts(b, "<div class=\"t-figs\"><span class=\"muted\">"
		    "no metrics</span></div>");
	}
	if (t->sv)
		vt_buf_printf(b, "<div class=\"t-foot\"><span>%zu "
		    "instance%s</span><span>seen ", t->sv->nreporting,
		    t->sv->nreporting == 1 ? "" : "s");
	else
		vt_buf_printf(b, "<div class=\"t-foot\"><span>%zu "
		    "metric%s</span><span>seen ", t->tr ? t->tr->nmetrics : (size_t)0,
		    t->tr && t->tr->nmetrics == 1 ? "" : "s");
	vt_html_age(b, t->last_seen, now);
	vt_buf_puts(b, t->last_seen > 0 ? " ago</span></div></a>\n" :
	    "</span></div></a>\n");
}

/* Columns for n tiles on a 16:9 screen with tiles about 1.7:1. */
static size_t wall_columns(size_t n)
{
	size_t cols = 1;
	while (cols < 12) {
		size_t rows = (n + cols - 1) / cols;
		/* tile aspect with this many columns and rows on 16:9 */
		double aspect = (16.0 / (double)cols) / (9.0 / (double)rows);
		if (aspect <= 2.2)
			break;
		cols++;
	}
	while (cols > 1 && (n + cols - 2) / (cols - 1) ==
	    (n + cols - 1) / cols)
		cols--;            /* fewer columns when rows stay the same */
	return cols;
}

/* Whether tile t counts on this page: the wall leaves a healthy
 * collector out of its counts and columns (its tile is hidden). */
static int counted(const struct tile *t, int wall)
{
	return !wall || !quiet_self(t);
}

static void render_grid(struct vt_buf *b, const struct tile *t, size_t n,
    const struct vt_trends_snapshot *ts, const struct vt_overview_opts *o,
    double now)
{
	size_t counts[VT_PAGE_LAYOUT_STATUS_COUNT] = { 0 }, shown = 0;
	for (size_t i = 0; i < n; i++)
		if (counted(&t[i], o->wall)) {
			counts[t[i].status]++;
			shown++;
		}
	size_t cols = o->wall ? wall_columns(shown) : 0;
	vt_buf_printf(b, "<main id=\"grid\" class=\"grid cols-%zu rows-%zu\" "
	    "data-count=\"%zu\" data-now=\"%.3f\" data-flush=\"%.3f\" "
	    "data-interval=\"%g\"", cols, cols ? (shown + cols - 1) / cols :
	    (size_t)0, shown, now, ts->timestamp, ts->interval);
	for (size_t s = 0; s < VT_PAGE_LAYOUT_STATUS_COUNT; s++)
		vt_buf_printf(b, " data-%s=\"%zu\"", vt_page_layout_status_class(s),
		    counts[s]);
	vt_buf_puts(b, ">\n");
	for (size_t i = 0; i < n; i++)
		render_tile(b, &t[i], now, o->wall);
	if (n == 0)
		vt_buf_puts(b, "<p class=\"empty\">No services yet. Send a "
		    "metric or a healthcheck, e.g. <code>echo "
		    "\"web.requests:1|c\" | nc -u -w0 localhost 8125</code>, "
		    "or run <code>make demo</code>.</p>");
	vt_buf_puts(b, "</main>\n");
}

static void render_counts(struct vt_buf *b, const struct tile *t, size_t n,
    int wall)
{
	size_t counts[VT_PAGE_LAYOUT_STATUS_COUNT] = { 0 }, shown = 0;
	for (size_t i = 0; i < n; i++)
		if (counted(&t[i], wall)) {
			counts[t[i].status]++;
			shown++;
		}
	vt_buf_printf(b, "<div class=\"counts\" id=\"counts\"><span "
	    "class=\"total\">%zu service%s</span>", shown, shown == 1 ? "" : "s");
	for (size_t s = 0; s < VT_PAGE_LAYOUT_STATUS_COUNT; s++)
		if (counts[s])
			vt_buf_printf(b, "<span class=\"count st-%s\">%zu %s"
			    "</span>", vt_page_layout_status_class(s), counts[s],
			    s == VT_PAGE_LAYOUT_NONE ? "no checks" :
			    vt_page_layout_status_class(s));
	vt_buf_puts(b, "</div>");
}

void vt_pages_overview(const struct vt_health_snapshot *hs,
    const struct vt_trends_snapshot *ts, const struct vt_overview_opts *o,
    double now, struct vt_buf *b)
{
	size_t n;
	struct tile *t = collect(hs, ts, o->wall ? NULL : o->filter, now,
	    o->fleet, &n);
	struct vt_collector_health self;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i].name, SELF_SERVICE) == 0) {
			vt_page_layout_collector(t[i].sv, o->latest, now, &self);
			self_verdict(&t[i], &self);
			qsort(t, n, sizeof *t, cmp_tile);
			break;
		}
	}
	if (o->partial) {
		render_counts(b, t, n, o->wall);
		render_grid(b, t, n, ts, o, now);
		free(t);
		return;
	}
	if (o->wall) {
		vt_page_layout_begin(b, "vitals wall", "wall", "wall.js", 30);
		vt_buf_puts(b, "<noscript><p class=\"banner warn note\">JavaScript is "
		    "off: this wall reloads every 30 s instead of updating live.</p>"
		    "</noscript>"
		    "<div id=\"banner\" class=\"banner\" role=\"alert\" "
		    "hidden></div><header class=\"wallbar\"><span "
		    "class=\"brand\"><span class=\"logo\" aria-hidden=\"true\">"
		    "</span>vitals</span>");
		render_counts(b, t, n, o->wall);
		vt_buf_puts(b, "<span class=\"live\" id=\"live\">connecting"
		    "</span><span class=\"clock\" id=\"clock\">");
		vt_page_layout_clock(b, now);
		vt_buf_puts(b, "</span></header>\n");
	} else {
		vt_page_layout_begin(b, "vitals: overview", "light", "overview.js", 0);
		vt_page_layout_topbar(b, now);
		vt_buf_puts(b, "<section class=\"toolbar\"><form method=\"get\" "
		    "action=\"/\" class=\"filter\" role=\"search\"><input "
		    "type=\"search\" name=\"q\" id=\"filter\" placeholder=\""
		    "Filter services\" aria-label=\"Filter services\" value=\"");
		vt_html_text(b, o->filter ? o->filter : "");
		vt_buf_puts(b, "\" autocomplete=\"off\"><button type=\"submit\">"
		    "Filter</button></form>");
		render_counts(b, t, n, o->wall);
		vt_buf_puts(b, "</section>\n");
	}
	render_grid(b, t, n, ts, o, now);
	vt_page_layout_end(b);
	free(t);
}
