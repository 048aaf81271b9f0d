/*
 * pages_service.c - GET /services/<service> (pages.h): the service's
 * checks with their recent transitions, the latest values (the last
 * window with data, and its age, when the service has gone quiet), and
 * one graph per metric grouped by kind: a timer's p50/p90/p99 overlaid
 * and its rate; a metric's tag sets overlaid, busiest first, the rest
 * summed into "other". The default range fits the data the service has.
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

/* The time ranges offered, and how RRDtool spells their start; "auto"
 * (the default) fits the data the service has. */
static const struct {
	const char *name, *from;
} ranges[] = {
	{ "auto", NULL }, { "1h", "-1h" }, { "6h", "-6h" }, { "1d", "-1d" },
	{ "1w", "-7d" }, { "1y", "-1y" },
};

#define AUTO_MIN_SPAN 60.0         /* seconds: at least a minute... */
#define AUTO_MIN_WINDOWS 30.0      /* ...and 30 windows */
#define AUTO_MAX_SPAN (365 * 86400.0)

/* Seconds the "auto" range covers: from a little before the service's
 * first data to now; 0 when its first data is unknown (then 1h). */
static double auto_span(double first_seen, const struct vt_flush *f,
    double now)
{
	if (first_seen <= 0 || first_seen > now)
		return 0;
	double interval = f && f->interval > 0 ? f->interval : 10;
	double span = (now - first_seen) * 1.05 + 2 * interval;
	double min = AUTO_MIN_WINDOWS * interval;
	if (min < AUTO_MIN_SPAN)
		min = AUTO_MIN_SPAN;
	if (span < min)
		span = min;
	if (span > AUTO_MAX_SPAN)
		span = AUTO_MAX_SPAN;
	return ceil(span / 60) * 60;
}

/* The graphs' from= for a range. */
static void range_from(char *out, size_t len, const char *range,
    double span)
{
	for (size_t i = 1; i < sizeof ranges / sizeof ranges[0]; i++) {
		if (strcmp(range, ranges[i].name) == 0) {
			snprintf(out, len, "%s", ranges[i].from);
			return;
		}
	}
	if (span > 0)
		snprintf(out, len, "-%.0f", span);
	else
		snprintf(out, len, "-1h");
}

/* "12m", "5h", "3d". */
static void span_text(struct vt_buf *b, double span)
{
	if (span < 120 * 60)
		vt_buf_printf(b, "%.0fm", span / 60);
	else if (span < 72 * 3600)
		vt_buf_printf(b, "%.0fh", span / 3600);
	else
		vt_buf_printf(b, "%.0fd", span / 86400);
}

/* Kinds in the order the page shows them, with their headings. */
static const struct {
	enum vt_kind kind;
	const char *title, *what;
} sections[] = {
	{ VT_TIMER, "Timers", "p50, p90 and p99 on one graph, and the "
	    "request rate; tag sets: p99 and rate of the busiest" },
	{ VT_HISTOGRAM, "Histograms", "p50, p90 and p99 on one graph, and "
	    "the rate" },
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

/* ---- the collector's verdict (the service vitals) ---- */

static void verdict_panel(struct vt_buf *b,
    const struct vt_health_service_view *sv, const struct vt_flush *f,
    double now)
{
	struct vt_collector_health h;
	vt_page_layout_collector(sv, f, now, &h);
	static const char *const icon[] = { "\xE2\x9C\x94",
	    "\xE2\x96\xB2", "\xE2\x9C\x96" };
	const char *name = vt_page_layout_verdict_name(h.verdict);
	vt_buf_printf(b, "<section class=\"panel verdict v-%s\" "
	    "id=\"verdict\" data-verdict=\"%s\"><h2><span class=\"v-word\">"
	    "<span aria-hidden=\"true\">%s</span> ", name, name,
	    icon[h.verdict]);
	for (const char *c = name; *c; c++)
		vt_buf_putc(b, (char)(*c - 'a' + 'A'));
	vt_buf_puts(b, "</span> ");
	if (h.verdict == VT_COLLECTOR_OK)
		vt_buf_puts(b, "The collector is healthy: no drops, storage "
		    "keeps up, no check about it is failing</h2>");
	else
		vt_buf_printf(b, "The collector is %s because</h2><ul "
		    "class=\"reasons\">", name);
	for (size_t i = 0; i < h.nreasons; i++) {
		vt_buf_printf(b, "<li class=\"v-%s\"><b>%s</b> ",
		    vt_page_layout_verdict_name(h.reasons[i].level),
		    vt_page_layout_verdict_name(h.reasons[i].level));
		vt_html_text(b, h.reasons[i].text);
		vt_buf_puts(b, "</li>");
	}
	if (h.verdict != VT_COLLECTOR_OK)
		vt_buf_puts(b, "</ul>");
	vt_buf_puts(b, "<table class=\"figures\"><thead><tr><th>Measured"
	    "</th><th>Now</th><th>Degraded at</th><th>Failing at</th></tr>"
	    "</thead><tbody>");
	vt_buf_puts(b, "<tr><td>checks about vitals (an outside probe, a "
	    "hook)</td><td class=\"num\">");
	if (sv && sv->nchecks)
		vt_buf_printf(b, "%zu, worst %s%s", sv->nchecks,
		    vt_health_check_status_name(sv->status),
		    sv->stale ? ", all stale" : "");
	else
		vt_buf_puts(b, "none");
	vt_buf_puts(b, "</td><td>warning, unknown, all stale</td>"
	    "<td>critical</td></tr>");
	for (size_t i = 0; i < h.nfigures; i++) {
		vt_buf_puts(b, "<tr><td>");
		vt_html_text(b, h.figures[i].what);
		vt_buf_puts(b, "</td><td class=\"num\">");
		vt_html_text(b, h.figures[i].now);
		vt_buf_puts(b, "</td><td>");
		vt_html_text(b, h.figures[i].degraded);
		vt_buf_puts(b, "</td><td>");
		vt_html_text(b, h.figures[i].failing);
		vt_buf_puts(b, "</td></tr>");
	}
	vt_buf_puts(b, "</tbody></table>");
	if (h.nfigures <= 1)
		vt_buf_puts(b, "<p class=\"muted\">Self-metrics are off "
		    "(<code>\"self_metrics\": false</code>): only the checks "
		    "and the windows count.</p>");
	vt_buf_puts(b, "</section>\n");
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

#define TOP_SETS 5          /* tag sets drawn one by one */
#define MAX_SETS 60         /* labels= in one graph (graph.c's bound) */

/* "k:v,k2:v2", as graph.c's labels= takes it. */
static void labels_arg(struct vt_buf *b, const struct vt_series *s)
{
	struct vt_buf l;
	vt_buf_init(&l);
	for (size_t k = 0; k < s->nlabels; k++)
		vt_buf_printf(&l, "%s%s:%s", k ? "," : "", s->labels[k].key,
		    s->labels[k].value);
	vt_buf_puts(b, "&amp;labels=");
	vt_html_path(b, l.len ? l.data : "");
	vt_buf_fini(&l);
}

/* How busy a series is, to pick the tag sets drawn: the 5-minute rate
 * (counters, timers), else the last window's, else the size of the
 * value (gauges, sets). */
static double busyness(const struct vt_metric_window *w)
{
	if (isfinite(w->rate_5m))
		return w->rate_5m;
	if (isfinite(w->rate) && w->rate != 0)
		return w->rate;
	return isfinite(w->value) ? fabs(w->value) : 0;
}

static int cmp_busy(const void *a, const void *b)
{
	const struct vt_metric_window *x =
	    *(const struct vt_metric_window *const *)a;
	const struct vt_metric_window *y =
	    *(const struct vt_metric_window *const *)b;
	double bx = busyness(x), by = busyness(y);
	if (bx != by)
		return bx > by ? -1 : 1;
	return strcmp(x->series->key, y->series->key);
}

/* The one tag key that tells a metric's series apart, or NULL. */
static const char *set_key(const struct vt_metric_window *const *m,
    size_t n)
{
	const struct vt_series *s0 = m[0]->series;
	if (s0->nlabels != 1)
		return NULL;
	for (size_t i = 1; i < n; i++)
		if (m[i]->series->nlabels != 1 ||
		    strcmp(m[i]->series->labels[0].key, s0->labels[0].key))
			return NULL;
	return s0->labels[0].key;
}

/* One <figure>: a graph of stat (one, or a comma list) of the series m
 * (one, or a metric's tag sets, busiest first). lines: legend lines,
 * for the image's aspect ratio before it loads. */
static void graph(struct vt_buf *b, const char *service,
    const struct vt_metric_window *const *m, size_t n, const char *stat,
    const char *what, const char *from)
{
	const struct vt_series *s = m[0]->series;
	size_t lines = 2;
	if (strchr(stat, ',')) {
		lines = 1;
		for (const char *c = stat; *c; c++)
			lines += *c == ',';
	} else if (n > 1) {
		lines = n > TOP_SETS ? TOP_SETS + 1 : n;
	}
	vt_buf_printf(b, "<figure class=\"graph\"><img loading=\"lazy\" "
	    "width=\"608\" height=\"%zu\" src=\"/graph/", 201 + 14 * lines);
	vt_html_path(b, service);
	vt_buf_putc(b, '/');
	vt_html_path(b, s->metric);
	vt_buf_printf(b, ".svg?theme=light&amp;width=520&amp;height=140&amp;"
	    "from=%s&amp;stat=%s", from, stat);
	if (n > 1) {
		vt_buf_printf(b, "&amp;top=%d", TOP_SETS);
		for (size_t i = 0; i < n && i < MAX_SETS; i++)
			labels_arg(b, m[i]->series);
	} else if (s->nlabels) {
		labels_arg(b, s);
	}
	vt_buf_puts(b, "\" alt=\"");
	vt_html_text(b, s->metric);
	vt_buf_printf(b, " %s\"><figcaption>", what);
	if (n > 1)
		vt_html_text(b, s->metric);
	else
		metric_label(b, s);
	vt_buf_printf(b, " <span class=\"stat\">%s</span>", what);
	if (n > 1) {
		const char *key = set_key(m, n);
		vt_buf_puts(b, " <span class=\"sets\">by ");
		vt_html_text(b, key ? key : "tag set");
		vt_buf_printf(b, ": %zu", n);
		if (n > TOP_SETS)
			vt_buf_printf(b, ", the busiest %d drawn%s", TOP_SETS,
			    strcmp(stat, "rate") == 0 ||
			    strcmp(stat, "count") == 0 ? ", the rest summed "
			    "into other" : "");
		if (n > MAX_SETS)
			vt_buf_printf(b, " (other: the next %d)",
			    MAX_SETS - TOP_SETS);
		vt_buf_puts(b, "</span>");
	}
	vt_buf_puts(b, "</figcaption></figure>");
}

/* "p50,p90,p99": those of them that are configured, else p99's
 * fallback (the highest percentile). */
static void percentile_stats(char *out, size_t len, const struct vt_flush *f)
{
	static const double wanted[] = { 50, 90, 99 };
	size_t pos = 0;
	out[0] = '\0';
	for (size_t p = 0; p < 3; p++)
		for (size_t i = 0; f && i < f->npercentiles; i++)
			if (f->percentiles[i] == wanted[p] && pos + 6 < len)
				pos += (size_t)snprintf(out + pos, len - pos,
				    "%sp%g", pos ? "," : "", wanted[p]);
	if (pos == 0 && f && f->npercentiles > 0)
		snprintf(out, len, "p%g", f->percentiles[f->npercentiles - 1]);
	else if (pos == 0)
		snprintf(out, len, "mean");
}

/* The graphs of one metric: its series m[0..n), all of one kind. */
static void metric_graphs(struct vt_buf *b, const struct vt_flush *f,
    const char *service, const struct vt_metric_window **m, size_t n,
    const char *from)
{
	enum vt_kind kind = m[0]->series->kind;
	int timer = kind == VT_TIMER || kind == VT_HISTOGRAM;
	if (n > 1)
		qsort(m, n, sizeof *m, cmp_busy);
	const struct vt_metric_window *const *cm =
	    (const struct vt_metric_window *const *)m;
	if (timer) {
		char pct[48];
		percentile_stats(pct, sizeof pct, f);
		if (n > 1) {
			const char *top = strrchr(pct, ',');
			top = top ? top + 1 : pct;
			graph(b, service, cm, n, top, top, from);
		} else {
			char what[64];
			snprintf(what, sizeof what, "%s", pct);
			for (char *c = what; *c; c++)
				if (*c == ',')
					*c = '/';
			graph(b, service, cm, n, pct, what, from);
		}
		graph(b, service, cm, n, "rate", "rate", from);
	} else {
		const char *stat = kind == VT_COUNTER ? "rate" : "value";
		graph(b, service, cm, n, stat, stat, from);
	}
}

static void graphs(struct vt_buf *b, const struct vt_flush *f,
    const char *service, const struct vt_metric_window *const *m, size_t n,
    const char *from)
{
	const struct vt_metric_window **group = vt_xmalloc((n + 1) *
	    sizeof *group);
	for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
		size_t count = 0;
		for (size_t i = 0; i < n; i++)
			count += m[i]->series->kind == sections[s].kind;
		if (count == 0)
			continue;
		vt_buf_printf(b, "<section class=\"panel\"><h2>%s <small>%s"
		    "</small></h2><div class=\"graphs\">", sections[s].title,
		    sections[s].what);
		/* m is sorted by metric: a run of one metric's series of
		 * this kind is one graph (or two, for timers). */
		for (size_t i = 0; i < n;) {
			if (m[i]->series->kind != sections[s].kind) {
				i++;
				continue;
			}
			size_t g = 0;
			const char *metric = m[i]->series->metric;
			for (; i < n && strcmp(m[i]->series->metric, metric) == 0;
			    i++)
				if (m[i]->series->kind == sections[s].kind)
					group[g++] = m[i];
			metric_graphs(b, f, service, group, g, from);
		}
		vt_buf_puts(b, "</div></section>\n");
	}
	free(group);
}

/* ---- latest values ---- */

/* A window's figures, or those the catalogue kept of the last window with
 * samples (k, when w had none). */
struct shown {
	double count, rate, value;
	const double *quantiles;      /* npercentiles of them, or NULL */
	size_t nquantiles;
};

static void value_cells(struct vt_buf *b, const struct vt_flush *f,
    const struct vt_metric_window *w, const struct shown *v)
{
	const struct vt_series *s = w->series;
	int timer = s->kind == VT_TIMER || s->kind == VT_HISTOGRAM;
	int ms = s->kind == VT_TIMER;
	vt_buf_puts(b, "<td class=\"num\">");
	if (s->kind == VT_GAUGE || s->kind == VT_SET) {
		vt_html_num(b, v->value);
	} else {
		vt_html_num(b, v->count);
		vt_buf_puts(b, " <small>(");
		vt_html_num(b, v->rate);
		vt_buf_puts(b, "/s)</small>");
	}
	vt_buf_puts(b, "</td>");
	for (size_t p = 0; p < 3; p++) {
		static const double wanted[] = { 50, 90, 99 };
		vt_buf_puts(b, "<td class=\"num\">");
		for (size_t i = 0; timer && v->quantiles && f &&
		    i < f->npercentiles && i < v->nquantiles; i++) {
			if (f->percentiles[i] != wanted[p])
				continue;
			if (ms)
				vt_html_ms(b, v->quantiles[i]);
			else
				vt_html_num(b, v->quantiles[i]);
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
    const struct vt_metric_window *const *m,
    const struct vt_catalogue_kept *kept, size_t n, double now)
{
	vt_buf_puts(b, "<section class=\"panel\"><h2>Latest values <small>");
	if (f)
		vt_buf_printf(b, "the last window of %.0fs with data; rates "
		    "per second, exponentially weighted", f->interval);
	vt_buf_puts(b, "</small></h2><table class=\"values\"><thead><tr>"
	    "<th>Metric</th><th>Kind</th><th>Window</th><th>p50</th>"
	    "<th>p90</th><th>p99</th><th>1m rate</th><th>5m rate</th>"
	    "<th>15m rate</th><th>Data from</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const struct vt_metric_window *w = m[i];
		const struct vt_catalogue_kept *k = kept ? &kept[i] : NULL;
		struct shown v = { w->count, w->rate, w->value,
		    vt_window_timer(w)->quantiles,
		    f ? f->npercentiles : 0 };
		/* An idle window has no samples: show the last one that had
		 * some, and say how old it is. */
		int old = w->samples == 0 && k && k->at > 0;
		if (old)
			v = (struct shown){ k->count, k->rate, k->value,
			    k->nquantiles ? k->quantiles : NULL,
			    k->nquantiles };
		vt_buf_printf(b, "<tr%s><td class=\"name\">",
		    old ? " class=\"kept\"" : "");
		metric_label(b, w->series);
		vt_buf_printf(b, "</td><td>%s</td>",
		    vt_series_kind_name(w->series->kind));
		value_cells(b, f, w, &v);
		vt_buf_puts(b, "<td class=\"num age\">");
		if (w->samples > 0 && f) {
			vt_buf_puts(b, "this window");
		} else if (old) {
			vt_html_age(b, k->at, now);
			vt_buf_puts(b, " ago");
		} else if (w->last_seen > 0) {
			vt_buf_puts(b, "none since restart; seen ");
			vt_html_age(b, w->last_seen, now);
			vt_buf_puts(b, " ago");
		} else {
			vt_buf_puts(b, "never");
		}
		vt_buf_puts(b, "</td></tr>\n");
	}
	vt_buf_puts(b, "</tbody></table></section>\n");
}

int vt_pages_service(const struct vt_health_snapshot *hs,
    const struct vt_flush *f, vt_latest *latest, const char *service,
    const char *range, double now, struct vt_buf *b)
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
	struct vt_catalogue_kept *kept = NULL;
	double first = 0;
	if (latest && n > 0) {
		kept = vt_xmalloc(n * sizeof *kept);
		vt_latest_kept(latest, m, n, kept);
		/* The earliest first data; unknown for any metric (remembered
		 * from before first_seen was saved): unknown for the service,
		 * since its files may hold older data. */
		for (size_t i = 0; i < n; i++) {
			if (kept[i].first_seen <= 0) {
				first = 0;
				break;
			}
			if (first == 0 || kept[i].first_seen < first)
				first = kept[i].first_seen;
		}
	}
	double span = auto_span(first, f, now);
	char from[32];
	range_from(from, sizeof from, range, span);
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
	    sv ? sv->nreporting : (size_t)0,
	    sv && sv->nreporting == 1 ? "" : "s", n, n == 1 ? "" : "s");
	vt_html_age(b, seen, now);
	vt_buf_puts(b, seen > 0 ? " ago</p></div>" : "</p></div>");
	vt_buf_puts(b, "<nav class=\"ranges\" aria-label=\"time range\">");
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
		vt_buf_puts(b, "<a href=\"/services/");
		vt_html_path(b, service);
		vt_buf_printf(b, "?range=%s\"%s>", ranges[i].name,
		    strcmp(range, ranges[i].name) == 0 ?
		    " class=\"on\" aria-current=\"true\"" : "");
		if (ranges[i].from == NULL) {
			vt_buf_puts(b, span > 0 ? "since first data " :
			    "auto (1h)");
			if (span > 0)
				span_text(b, span);
			vt_buf_puts(b, "</a>");
		} else {
			vt_buf_printf(b, "%s</a>", ranges[i].name);
		}
	}
	vt_buf_puts(b, "</nav></section>\n");

	if (strcmp(service, VT_COLLECTOR_SERVICE) == 0)
		verdict_panel(b, sv, f, now);
	checks_table(b, sv, now);
	if (n > 0) {
		values_table(b, f, m, kept, n, now);
		graphs(b, f, service, m, n, from);
	}
	vt_page_layout_end(b);
	free(kept);
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
