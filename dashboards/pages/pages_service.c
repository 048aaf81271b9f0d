/*
 * pages_service.c - GET /services/<service> (pages.h): the service's
 * checks with their recent transitions, a graph for every metric grouped
 * by kind, and the latest window's values with 1/5/15-minute rates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/xmalloc.h"
#include "collector/health/health_snapshot.h"
#include "dashboards/pages/html.h"
#include "dashboards/pages/page_layout.h"
#include "dashboards/pages/pages_service.h"

/* The time ranges offered, and how RRDtool spells their start. */
static const struct {
	const char *name, *from;
} ranges[] = {
	{ "1h", "-1h" }, { "6h", "-6h" }, { "1d", "-1d" }, { "1w", "-7d" },
	{ "1y", "-1y" },
};

static const char *range_from(const char *range)
{
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if (strcmp(range, ranges[i].name) == 0)
			return ranges[i].from;
	return ranges[0].from;
}

/* Kinds in the order the page shows them, with their headings. */
static const struct {
	enum vt_kind kind;
	const char *title, *what;
} sections[] = {
	{ VT_TIMER, "Timers", "p50, p90, p99 and request rate" },
	{ VT_HISTOGRAM, "Histograms", "p50, p90, p99 and rate" },
	{ VT_COUNTER, "Counters", "rate per second" },
	{ VT_GAUGE, "Gauges", "value" },
	{ VT_SET, "Sets", "distinct values per window" },
};

static int cmp_window(const void *a, const void *b)
{
	const struct vt_series *x =
	    (*(const struct vt_metric_window *const *)a)->series;
	const struct vt_series *y =
	    (*(const struct vt_metric_window *const *)b)->series;
	int c = strcmp(x->metric, y->metric);
	return c ? c : strcmp(x->key, y->key);
}

/* The service's windows of f, sorted by metric (caller frees). */
static const struct vt_metric_window **service_metrics(
    const struct vt_flush *f, const char *service, size_t *n)
{
	size_t total = f ? f->nmetrics : 0;
	const struct vt_metric_window **v = vt_xmalloc((total + 1) * sizeof *v);
	*n = 0;
	for (size_t i = 0; i < total; i++)
		if (strcmp(f->metrics[i].series->service, service) == 0)
			v[(*n)++] = &f->metrics[i];
	qsort(v, *n, sizeof *v, cmp_window);
	return v;
}

static void metric_label(struct vt_buf *b, const struct vt_series *s)
{
	vt_html_text(b, s->metric);
	for (size_t k = 0; k < s->nlabels; k++) {
		vt_buf_puts(b, k ? ", " : " <span class=\"labels\">{");
		vt_html_text(b, s->labels[k].key);
		if (s->labels[k].value[0]) {
			vt_buf_putc(b, '=');
			vt_html_text(b, s->labels[k].value);
		}
	}
	if (s->nlabels)
		vt_buf_puts(b, "}</span>");
}

/* ---- checks ---- */

static void transitions(struct vt_buf *b, const struct vt_health_check_view *c,
    double now)
{
	if (c->nhistory == 0) {
		vt_buf_puts(b, "<span class=\"muted\">none</span>");
		return;
	}
	vt_buf_puts(b, "<ol class=\"history\">");
	size_t first = c->nhistory > 5 ? c->nhistory - 5 : 0;
	for (size_t k = c->nhistory; k-- > first;) {
		const struct vt_health_transition *t = &c->history[k];
		vt_buf_printf(b, "<li title=\"");
		vt_html_text(b, t->output);
		vt_buf_printf(b, "\"><span class=\"dot st-%s\"></span>%s "
		    "\xE2\x86\x92 %s%s <span class=\"muted\">",
		    vt_page_layout_status_class(vt_page_layout_status_of(t->to)),
		    vt_health_check_status_name(t->from), vt_health_check_status_name(t->to),
		    t->stale ? " (stale)" : "");
		vt_html_age(b, t->time, now);
		vt_buf_puts(b, " ago</span></li>");
	}
	vt_buf_puts(b, "</ol>");
}

static void checks_table(struct vt_buf *b,
    const struct vt_health_service_view *sv, double now)
{
	vt_buf_puts(b, "<section class=\"panel\"><h2>Checks</h2>");
	if (sv == NULL || sv->nchecks == 0) {
		vt_buf_puts(b, "<p class=\"muted\">This service sends metrics "
		    "but no healthchecks.</p></section>\n");
		return;
	}
	vt_buf_puts(b, "<table class=\"checks\"><thead><tr><th>Status</th>"
	    "<th>Check</th><th>Instance</th><th>Output</th><th>Age</th>"
	    "<th>Recent transitions</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < sv->nchecks; i++) {
		const struct vt_health_check_view *c = &sv->checks[i];
		vt_buf_puts(b, "<tr><td>");
		vt_page_layout_badge(b, vt_page_layout_status_of(c->status), c->stale);
		vt_buf_puts(b, "</td><td class=\"name\">");
		vt_html_text(b, c->check);
		vt_buf_puts(b, "</td><td>");
		vt_html_text(b, c->instance);
		vt_buf_puts(b, "</td><td class=\"output\">");
		vt_html_text(b, c->output);
		vt_buf_puts(b, "</td><td class=\"num\">");
		vt_html_age(b, c->last_report, now);
		vt_buf_printf(b, " <small>TTL %gs</small></td><td>", c->ttl);
		transitions(b, c, now);
		vt_buf_puts(b, "</td></tr>\n");
	}
	vt_buf_puts(b, "</tbody></table></section>\n");
}

/* ---- graphs ---- */

static void graph(struct vt_buf *b, const char *service,
    const struct vt_series *s, const char *stat, const char *range)
{
	vt_buf_puts(b, "<figure class=\"graph\"><img loading=\"lazy\" "
	    "width=\"488\" height=\"209\" src=\"/graph/");
	vt_html_path(b, service);
	vt_buf_putc(b, '/');
	vt_html_path(b, s->metric);
	vt_buf_printf(b, ".svg?theme=light&amp;width=400&amp;height=120&amp;"
	    "from=%s&amp;stat=%s", range_from(range), stat);
	if (s->nlabels) {
		struct vt_buf l;
		vt_buf_init(&l);
		for (size_t k = 0; k < s->nlabels; k++)
			vt_buf_printf(&l, "%s%s:%s", k ? "," : "",
			    s->labels[k].key, s->labels[k].value);
		vt_buf_puts(b, "&amp;labels=");
		vt_html_path(b, l.data);
		vt_buf_fini(&l);
	}
	vt_buf_puts(b, "\" alt=\"");
	vt_html_text(b, s->metric);
	vt_buf_printf(b, " %s\"><figcaption>", stat);
	metric_label(b, s);
	vt_buf_printf(b, " <span class=\"stat\">%s</span></figcaption>"
	    "</figure>", stat);
}

static int has_percentile(const struct vt_flush *f, double p)
{
	for (size_t i = 0; f && i < f->npercentiles; i++)
		if (f->percentiles[i] == p)
			return 1;
	return 0;
}

static void graphs(struct vt_buf *b, const struct vt_flush *f,
    const char *service, const struct vt_metric_window *const *m, size_t n,
    const char *range)
{
	static const double wanted[] = { 50, 90, 99 };
	for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
		size_t count = 0;
		for (size_t i = 0; i < n; i++)
			count += m[i]->series->kind == sections[s].kind;
		if (count == 0)
			continue;
		vt_buf_printf(b, "<section class=\"panel\"><h2>%s <small>%s"
		    "</small></h2>", sections[s].title, sections[s].what);
		int timers = sections[s].kind == VT_TIMER ||
		    sections[s].kind == VT_HISTOGRAM;
		if (!timers)
			vt_buf_puts(b, "<div class=\"graphs\">");
		for (size_t i = 0; i < n; i++) {
			const struct vt_series *se = m[i]->series;
			if (se->kind != sections[s].kind)
				continue;
			if (timers)
				vt_buf_puts(b, "<div class=\"graphs quad\">");
			if (timers) {
				for (size_t p = 0; p < 3; p++) {
					char stat[16];
					if (!has_percentile(f, wanted[p]))
						continue;
					snprintf(stat, sizeof stat, "p%g",
					    wanted[p]);
					graph(b, service, se, stat, range);
				}
				graph(b, service, se, "rate", range);
			} else {
				graph(b, service, se, se->kind == VT_COUNTER ?
				    "rate" : "value", range);
			}
			if (timers)
				vt_buf_puts(b, "</div>");
		}
		vt_buf_puts(b, timers ? "</section>\n" : "</div></section>\n");
	}
}

/* ---- latest values ---- */

static void value_cells(struct vt_buf *b, const struct vt_flush *f,
    const struct vt_metric_window *w)
{
	const struct vt_series *s = w->series;
	int timer = s->kind == VT_TIMER || s->kind == VT_HISTOGRAM;
	int ms = s->kind == VT_TIMER;
	vt_buf_puts(b, "<td class=\"num\">");
	if (s->kind == VT_GAUGE || s->kind == VT_SET) {
		vt_html_num(b, w->value);
	} else {
		vt_html_num(b, w->count);
		vt_buf_puts(b, " <small>(");
		vt_html_num(b, w->rate);
		vt_buf_puts(b, "/s)</small>");
	}
	vt_buf_puts(b, "</td>");
	for (size_t p = 0; p < 3; p++) {
		static const double wanted[] = { 50, 90, 99 };
		vt_buf_puts(b, "<td class=\"num\">");
		for (size_t i = 0; timer && w->quantiles && i < f->npercentiles;
		    i++) {
			if (f->percentiles[i] != wanted[p])
				continue;
			if (ms)
				vt_html_ms(b, w->quantiles[i]);
			else
				vt_html_num(b, w->quantiles[i]);
		}
		vt_buf_puts(b, "</td>");
	}
	const double rates[3] = { w->rate_1m, w->rate_5m, w->rate_15m };
	for (size_t k = 0; k < 3; k++) {
		vt_buf_puts(b, "<td class=\"num\">");
		if (s->kind == VT_COUNTER || timer)
			vt_html_num(b, rates[k]);
		vt_buf_puts(b, "</td>");
	}
}

static void values_table(struct vt_buf *b, const struct vt_flush *f,
    const struct vt_metric_window *const *m, size_t n, double now)
{
	vt_buf_puts(b, "<section class=\"panel\"><h2>Latest values <small>");
	if (f)
		vt_buf_printf(b, "window of %.0fs; rates per second, "
		    "exponentially weighted", f->interval);
	vt_buf_puts(b, "</small></h2><table class=\"values\"><thead><tr>"
	    "<th>Metric</th><th>Kind</th><th>Window</th><th>p50</th>"
	    "<th>p90</th><th>p99</th><th>1m rate</th><th>5m rate</th>"
	    "<th>15m rate</th><th>Seen</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		vt_buf_puts(b, "<tr><td class=\"name\">");
		metric_label(b, m[i]->series);
		vt_buf_printf(b, "</td><td>%s</td>",
		    vt_series_kind_name(m[i]->series->kind));
		value_cells(b, f, m[i]);
		vt_buf_puts(b, "<td class=\"num\">");
		vt_html_age(b, m[i]->last_seen, now);
		vt_buf_puts(b, "</td></tr>\n");
	}
	vt_buf_puts(b, "</tbody></table></section>\n");
}

int vt_pages_service(const struct vt_health_snapshot *hs,
    const struct vt_flush *f, const char *service, const char *range,
    double now, struct vt_buf *b)
{
	const struct vt_health_service_view *sv = vt_health_snapshot_find(hs,
	    service);
	size_t n;
	const struct vt_metric_window **m = service_metrics(f, service, &n);
	if (sv == NULL && n == 0) {
		free(m);
		return -1;
	}
	double seen = sv ? sv->last_report : 0;
	for (size_t i = 0; i < n; i++)
		if (m[i]->last_seen > seen)
			seen = m[i]->last_seen;
	enum vt_page_layout_status st = sv && sv->nchecks ?
	    vt_page_layout_status_of(sv->status) : VT_PAGE_LAYOUT_NONE;

	struct vt_buf title;
	vt_buf_init(&title);
	vt_buf_printf(&title, "%s: vitals", service);
	vt_page_layout_begin(b, title.data, "light", NULL, 0);
	vt_buf_fini(&title);
	vt_page_layout_topbar(b, now);
	vt_buf_printf(b, "<section class=\"svc-head st-%s\"><div>"
	    "<a class=\"back\" href=\"/\">\xE2\x86\x90 all services</a>"
	    "<h1>", vt_page_layout_status_class(st));
	vt_html_text(b, service);
	vt_buf_puts(b, "</h1>");
	vt_page_layout_badge(b, st, sv && sv->stale);
	vt_buf_printf(b, "<p class=\"facts\">%zu check%s \xC2\xB7 %zu "
	    "instance%s \xC2\xB7 %zu metric%s \xC2\xB7 last seen ",
	    sv ? sv->nchecks : (size_t)0, sv && sv->nchecks == 1 ? "" : "s",
	    sv ? sv->ninstances : (size_t)0,
	    sv && sv->ninstances == 1 ? "" : "s", n, n == 1 ? "" : "s");
	vt_html_age(b, seen, now);
	vt_buf_puts(b, seen > 0 ? " ago</p></div>" : "</p></div>");
	vt_buf_puts(b, "<nav class=\"ranges\" aria-label=\"time range\">");
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
		vt_buf_puts(b, "<a href=\"/services/");
		vt_html_path(b, service);
		vt_buf_printf(b, "?range=%s\"%s>%s</a>", ranges[i].name,
		    strcmp(range, ranges[i].name) == 0 ?
		    " class=\"on\" aria-current=\"true\"" : "",
		    ranges[i].name);
	}
	vt_buf_puts(b, "</nav></section>\n");

	checks_table(b, sv, now);
	if (n > 0) {
		values_table(b, f, m, n, now);
		graphs(b, f, service, m, n, range);
	}
	vt_page_layout_end(b);
	free(m);
	return 0;
}

const char *vt_pages_service_range(const char *arg)
{
	if (arg == NULL || *arg == '\0')
		return ranges[0].name;
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if (strcmp(arg, ranges[i].name) == 0)
			return ranges[i].name;
	return NULL;
}
