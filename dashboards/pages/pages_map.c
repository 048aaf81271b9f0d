/*
 * pages_map.c - the service map (pages_map.h): nodes on a circle grouped
 * by name, arcs bundled through their groups, a legend of the calls.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/xmalloc.h"
#include "dashboards/pages/html.h"
#include "dashboards/pages/page_layout.h"
#include "dashboards/pages/pages_map.h"

#define RADIUS 420.0                 /* the circle, in SVG units */
#define HORIZONTAL_MAX 24            /* up to this many slots: flat labels */
#define WALL_CALLS 14                /* calls listed in the wall's legend */
#define ERR_WARN 0.01                /* error share of an orange arc */
#define ERR_CRIT 0.05                /* ... of a red one */
#define DENSE 60                     /* more arcs: fainter, so they read
                                        as bundles */

struct place {
	const struct vt_map_node *node;
	size_t group;                /* index into the groups */
	double angle;                /* radians, 0 = right, clockwise */
	double x, y;
	enum vt_page_layout_status status;
	int flip;                    /* radial label on the left half */
};

struct group {
	size_t len;                  /* bytes of the group's name */
	double sum_sin, sum_cos;     /* of its members' angles */
	size_t members;
	double gx, gy;               /* the point its arcs pass through */
};

static size_t group_len(const char *s)
{
	size_t n = strcspn(s + (s[0] != '\0'), "-._") + (s[0] != '\0');
	return n;
}

static int place_order(const void *a, const void *b)
{
	const char *x = ((const struct place *)a)->node->service;
	const char *y = ((const struct place *)b)->node->service;
	size_t lx = group_len(x), ly = group_len(y);
	size_t l = lx < ly ? lx : ly;
	int c = strncmp(x, y, l);
	if (c == 0 && lx != ly)
		return lx < ly ? -1 : 1;
	return c ? c : strcmp(x, y);
}

/* The width of s in em at the page's font (DejaVu Sans, semibold), a
 * slight over-estimate so that the viewBox never cuts a name. */
static double text_em(const char *s)
{
	double w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned c = *p;
		if (c >= 0x80) {
			w += (c & 0xC0) == 0xC0 ? 1.05 : 0;
			continue;
		}
		if (strchr("mwMW", (int)c))
			w += 1.02;
		else if (c >= 'A' && c <= 'Z')
			w += 0.78;
		else if (c >= '0' && c <= '9')
			w += 0.66;
		else if (strchr("iljtfrI.,:;'|! -_()[]", (int)c))
			w += 0.44;
		else
			w += 0.66;
	}
	return w * 1.06;
}

static const char *status_icon(enum vt_page_layout_status s)
{
	switch (s) {
	case VT_PAGE_LAYOUT_CRITICAL: return "\xE2\x9C\x96";   /* ✖ */
	case VT_PAGE_LAYOUT_WARNING: return "\xE2\x96\xB2";    /* ▲ */
	case VT_PAGE_LAYOUT_UNKNOWN: return "?";
	default: return NULL;
	}
}

static const char *status_word(enum vt_page_layout_status s)
{
	static const char *const w[] = { "CRITICAL", "WARNING", "UNKNOWN",
	    "OK", "NO CHECKS" };
	return w[s];
}

double vt_pages_map_width(double rate, double max, double wmax)
{
	if (!(max > 0) || !(rate > 0))
		return VT_PAGES_MAP_WMIN;
	double r = rate > max ? 1 : rate / max;
	return VT_PAGES_MAP_WMIN + (wmax - VT_PAGES_MAP_WMIN) * sqrt(r);
}

static const char *edge_class(const struct vt_call_edge *e)
{
	if (!(e->rate > 0))
		return "e-idle";
	return e->error_share >= ERR_CRIT ? "e-err" :
	    e->error_share >= ERR_WARN ? "e-warn" : "e-ok";
}

static int edge_rank(const struct vt_call_edge *e)
{
	const char *c = edge_class(e);
	return strcmp(c, "e-idle") == 0 ? 0 : strcmp(c, "e-ok") == 0 ? 1 :
	    strcmp(c, "e-warn") == 0 ? 2 : 3;
}

/* Drawing order: quiet and healthy first, so errors and busy arcs are
 * on top. */
static int draw_order(const void *a, const void *b)
{
	const struct vt_call_edge *x = *(const struct vt_call_edge *const *)a;
	const struct vt_call_edge *y = *(const struct vt_call_edge *const *)b;
	int rx = edge_rank(x), ry = edge_rank(y);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->rate != y->rate)
		return x->rate < y->rate ? -1 : 1;
	int c = strcmp(x->from, y->from);
	return c ? c : strcmp(x->to, y->to);
}

/* The legend's order: busiest first. */
static int busy_order(const void *a, const void *b)
{
	const struct vt_call_edge *x = *(const struct vt_call_edge *const *)a;
	const struct vt_call_edge *y = *(const struct vt_call_edge *const *)b;
	if (x->rate != y->rate)
		return x->rate > y->rate ? -1 : 1;
	int c = strcmp(x->from, y->from);
	return c ? c : strcmp(x->to, y->to);
}

static void put_share(struct vt_buf *b, double share)
{
	if (!isfinite(share))
		vt_buf_puts(b, "-");
	else if (share == 0)
		vt_buf_puts(b, "0%");
	else if (share < 0.001)
		vt_buf_puts(b, "&lt;0.1%");
	else
		vt_buf_printf(b, "%.3g%%", share * 100);
}

/* "a → b: 12.3 calls/s, 0.5% errors, p99 84 ms" (escaped). */
static void edge_text(struct vt_buf *b, const struct vt_call_edge *e)
{
	vt_html_text(b, e->from);
	vt_buf_puts(b, " \xE2\x86\x92 ");
	vt_html_text(b, e->to);
	vt_buf_puts(b, ": ");
	vt_html_num(b, e->rate);
	vt_buf_puts(b, " calls/s, ");
	put_share(b, e->error_share);
	vt_buf_puts(b, " errors, p99 ");
	vt_html_ms(b, e->p99);
}

struct layout {
	struct place *p;             /* sorted by group, then name */
	size_t n;
	struct group *g;
	size_t ng;
	double rn;                   /* node radius */
	double fs;                   /* label size */
	double wmax;                 /* widest arc */
	int radial;
	double minx, miny, maxx, maxy;
};

static void extend(struct layout *l, double x, double y)
{
	if (x < l->minx) l->minx = x;
	if (x > l->maxx) l->maxx = x;
	if (y < l->miny) l->miny = y;
	if (y > l->maxy) l->maxy = y;
}

static const struct place *find_place(const struct layout *l,
    const char *service)
{
	for (size_t i = 0; i < l->n; i++)      /* sorted by group: scan */
		if (strcmp(l->p[i].node->service, service) == 0)
			return &l->p[i];
	return NULL;
}

/* Where a flat label goes: beside its node, away from the circle's
 * centre (above or below it at the top and the bottom). Its anchor. */
static const char *flat_label(const struct layout *l, const struct place *p,
    double *x, double *y)
{
	double c = cos(p->angle), s = sin(p->angle);
	if (fabs(c) < 0.2) {
		*x = p->x;
		*y = p->y + (s > 0 ? 1 : -1) * (l->rn + l->fs * 0.8);
		return "middle";
	}
	*x = p->x + (c > 0 ? 1 : -1) * (l->rn + 6);
	*y = p->y;
	return c > 0 ? "start" : "end";
}

/* The label's start point and the far corner of its box. */
static void label_box(struct layout *l, const struct place *p)
{
	const char *icon = status_icon(p->status);
	double len = (text_em(p->node->service) + (icon ? 1.4 : 0)) * l->fs;
	double d = RADIUS + l->rn + 6;
	double c = cos(p->angle), s = sin(p->angle);
	if (l->radial) {
		/* a box from d to d + len along the radius, fs across */
		double h = l->fs * 0.6;
		for (int k = 0; k < 2; k++) {
			double r = k ? d + len : d;
			extend(l, r * c - h * s, r * s + h * c);
			extend(l, r * c + h * s, r * s - h * c);
		}
		return;
	}
	double x, y;
	const char *anchor = flat_label(l, p, &x, &y);
	double x0 = anchor[0] == 'm' ? x - len / 2 : anchor[0] == 's' ? x :
	    x - len;
	extend(l, x0, y - l->fs * 0.7);
	extend(l, x0 + len, y + l->fs * 0.7);
}

static void make_layout(struct layout *l, const struct vt_map *m)
{
	memset(l, 0, sizeof *l);
	l->n = m->nnodes;
	l->p = vt_xcalloc(l->n + 1, sizeof *l->p);
	l->g = vt_xcalloc(l->n + 1, sizeof *l->g);
	for (size_t i = 0; i < l->n; i++) {
		const struct vt_map_node *nd = &m->nodes[i];
		l->p[i].node = nd;
		l->p[i].status = nd->has_checks ?
		    vt_page_layout_status_of(nd->status) : VT_PAGE_LAYOUT_NONE;
	}
	qsort(l->p, l->n, sizeof *l->p, place_order);
	int multi = 0;               /* some group has two or more members */
	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->p[i].node->service;
		size_t len = group_len(s);
		if (i == 0 || l->g[l->ng - 1].len != len || strncmp(s,
		    l->p[i - 1].node->service, len) != 0)
			l->g[l->ng++] = (struct group){ .len = len };
		else
			multi = 1;
		l->p[i].group = l->ng - 1;
		l->g[l->ng - 1].members++;
	}
	int gaps = multi && l->ng > 1;
	double slots = (double)l->n + (gaps ? (double)l->ng : 0);
	if (slots < 1)
		slots = 1;
	double step = 2 * M_PI / slots, arc = RADIUS * step;
	size_t pos = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (gaps && i > 0 && l->p[i].group != l->p[i - 1].group)
			pos++;
		struct place *p = &l->p[i];
		p->angle = -M_PI / 2 + step * (double)pos++;
		p->x = RADIUS * cos(p->angle);
		p->y = RADIUS * sin(p->angle);
		p->flip = cos(p->angle) < -1e-9;
		struct group *g = &l->g[p->group];
		g->sum_sin += sin(p->angle);
		g->sum_cos += cos(p->angle);
	}
	for (size_t i = 0; i < l->ng; i++) {
		struct group *g = &l->g[i];
		double a = atan2(g->sum_sin, g->sum_cos);
		double k = g->members > 1 ? 0.4 : 0.42;
		g->gx = RADIUS * k * cos(a);
		g->gy = RADIUS * k * sin(a);
	}
	l->radial = slots > HORIZONTAL_MAX;
	l->rn = fmin(22, fmax(5, 0.34 * arc));
	l->fs = l->radial ? fmin(22, fmax(9, 0.92 * arc)) : 24;
	l->wmax = fmin(VT_PAGES_MAP_WMAX, fmax(5, 1.1 * l->rn));
	l->minx = l->miny = -RADIUS - l->rn;
	l->maxx = l->maxy = RADIUS + l->rn;
	for (size_t i = 0; i < l->n; i++)
		label_box(l, &l->p[i]);
	l->minx -= 10;
	l->miny -= 10;
	l->maxx += 10;
	l->maxy += 10;
}

static void free_layout(struct layout *l)
{
	free(l->p);
	free(l->g);
}

/* Move (x, y) towards (tx, ty) by d. */
static void toward(double *x, double *y, double tx, double ty, double d)
{
	double dx = tx - *x, dy = ty - *y, len = hypot(dx, dy);
	if (len < 1e-9)
		return;
	*x += dx / len * d;
	*y += dy / len * d;
}

static void render_edge(struct vt_buf *b, const struct layout *l,
    const struct vt_call_edge *e, double max)
{
	const struct place *a = find_place(l, e->from);
	const struct place *z = find_place(l, e->to);
	if (a == NULL || z == NULL)
		return;
	const char *cls = edge_class(e);
	double w = vt_pages_map_width(e->rate, max, l->wmax);
	if (a == z) {                 /* a service calling itself: a loop */
		double c = cos(a->angle), s = sin(a->angle), r = l->rn;
		double x0 = a->x - s * r * 0.8, y0 = a->y + c * r * 0.8;
		double x1 = a->x + s * r * 0.8, y1 = a->y - c * r * 0.8;
		double k = RADIUS - 6 * r;
		vt_buf_printf(b, "<path class=\"edge %s\" d=\"M%.1f %.1fC%.1f "
		    "%.1f %.1f %.1f %.1f %.1f\"", cls, x0, y0, k * cos(a->angle -
		    0.08), k * sin(a->angle - 0.08), k * cos(a->angle + 0.08),
		    k * sin(a->angle + 0.08), x1, y1);
	} else {
		const struct group *ga = &l->g[a->group], *gz = &l->g[z->group];
		double c1x = ga->gx, c1y = ga->gy, c2x = gz->gx, c2y = gz->gy;
		if (a->group == z->group) {    /* inside a group: a shallow arc */
			c1x = c2x = (a->x + z->x) * 0.36;
			c1y = c2y = (a->y + z->y) * 0.36;
		}
		/* the two directions between a pair side by side */
		double dx = z->x - a->x, dy = z->y - a->y, len = hypot(dx, dy);
		double off = l->rn * 0.45 * (strcmp(e->from, e->to) < 0 ? 1 : -1);
		if (len > 0) {
			c1x += -dy / len * off;
			c1y += dx / len * off;
			c2x += -dy / len * off;
			c2y += dx / len * off;
		}
		double x0 = a->x, y0 = a->y, x1 = z->x, y1 = z->y;
		toward(&x0, &y0, c1x, c1y, l->rn + 1);
		toward(&x1, &y1, c2x, c2y, l->rn + 2);
		vt_buf_printf(b, "<path class=\"edge %s\" d=\"M%.1f %.1fC%.1f "
		    "%.1f %.1f %.1f %.1f %.1f\"", cls, x0, y0, c1x, c1y, c2x,
		    c2y, x1, y1);
	}
	vt_buf_printf(b, " stroke-width=\"%.2f\" marker-end=\"url(#m-%s)\" "
	    "data-from=\"", w, cls + 2);
	vt_html_text(b, e->from);
	vt_buf_puts(b, "\" data-to=\"");
	vt_html_text(b, e->to);
	vt_buf_printf(b, "\" data-rate=\"%.6g\" data-error-share=\"%.6g\" "
	    "data-p99=\"%.6g\" data-width=\"%.2f\"><title>", e->rate,
	    isfinite(e->error_share) ? e->error_share : 0,
	    isfinite(e->p99) ? e->p99 : -1, w);
	edge_text(b, e);
	vt_buf_puts(b, "</title></path>\n");
}

static void render_node(struct vt_buf *b, const struct layout *l,
    const struct place *p)
{
	const struct vt_map_node *nd = p->node;
	const char *cls = vt_page_layout_status_class(p->status);
	const char *icon = status_icon(p->status);
	vt_buf_printf(b, "<a class=\"node st-%s%s\" href=\"/services/", cls,
	    nd->stale ? " is-stale" : "");
	vt_html_path(b, nd->service);
	vt_buf_puts(b, "\" data-service=\"");
	vt_html_text(b, nd->service);
	vt_buf_printf(b, "\" data-status=\"%s\"><title>", cls);
	vt_html_text(b, nd->service);
	vt_buf_printf(b, ": %s%s, calls in ", status_word(p->status),
	    nd->stale ? " (stale)" : "");
	vt_html_num(b, nd->rate_in);
	vt_buf_puts(b, "/s, out ");
	vt_html_num(b, nd->rate_out);
	vt_buf_printf(b, "/s</title><circle cx=\"%.1f\" cy=\"%.1f\" "
	    "r=\"%.1f\"/>", p->x, p->y, l->rn);
	double d = RADIUS + l->rn + 6, c = cos(p->angle), s = sin(p->angle);
	double x = d * c, y = d * s;
	if (l->radial) {
		double deg = p->angle * 180 / M_PI + (p->flip ? 180 : 0);
		vt_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" "
		    "text-anchor=\"%s\" dominant-baseline=\"central\" "
		    "transform=\"rotate(%.2f %.1f %.1f)\">", x, y, l->fs,
		    p->flip ? "end" : "start", deg, x, y);
	} else {
		const char *anchor = flat_label(l, p, &x, &y);
		vt_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" "
		    "text-anchor=\"%s\" dominant-baseline=\"central\">", x, y,
		    l->fs, anchor);
	}
	if (icon && !(l->radial && p->flip))
		vt_buf_printf(b, "<tspan class=\"n-icon\">%s </tspan>", icon);
	vt_buf_puts(b, "<tspan class=\"n-name\">");
	vt_html_text(b, nd->service);
	vt_buf_puts(b, "</tspan>");
	if (icon && l->radial && p->flip)   /* read outwards: icon last */
		vt_buf_printf(b, "<tspan class=\"n-icon\"> %s</tspan>", icon);
	vt_buf_puts(b, "</text></a>\n");
}

static void render_svg(struct vt_buf *b, const struct vt_map *m,
    const struct layout *l)
{
	vt_buf_printf(b, "<svg class=\"map-svg%s\" id=\"map-svg\" viewBox=\"%.1f "
	    "%.1f %.1f %.1f\" preserveAspectRatio=\"xMidYMid meet\" "
	    "role=\"img\" aria-label=\"service map: %zu services, %zu calls\" "
	    "xmlns=\"http://www.w3.org/2000/svg\"><defs>",
	    m->nedges > DENSE ? " dense" : "", l->minx, l->miny,
	    l->maxx - l->minx, l->maxy - l->miny, m->nnodes, m->nedges);
	double aw = fmax(8, fmin(16, l->rn * 1.1));
	static const char *const kinds[] = { "ok", "warn", "err", "idle" };
	for (size_t i = 0; i < 4; i++)
		vt_buf_printf(b, "<marker id=\"m-%s\" class=\"arrow a-%s\" "
		    "viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
		    "markerUnits=\"userSpaceOnUse\" markerWidth=\"%.1f\" "
		    "markerHeight=\"%.1f\" orient=\"auto\"><path d=\"M0 0L10 "
		    "5L0 10z\"/></marker>", kinds[i], kinds[i], aw, aw);
	vt_buf_puts(b, "</defs><g class=\"edges\">\n");
	const struct vt_call_edge **e = vt_xmalloc((m->nedges + 1) *
	    sizeof *e);
	for (size_t i = 0; i < m->nedges; i++)
		e[i] = &m->edges[i];
	qsort(e, m->nedges, sizeof *e, draw_order);
	for (size_t i = 0; i < m->nedges; i++)
		render_edge(b, l, e[i], m->max_rate);
	free(e);
	vt_buf_puts(b, "</g><g class=\"nodes\">\n");
	for (size_t i = 0; i < l->n; i++)
		render_node(b, l, &l->p[i]);
	vt_buf_puts(b, "</g>");
	if (m->nnodes == 0)
		vt_buf_puts(b, "<text class=\"map-empty\" x=\"0\" y=\"0\" "
		    "text-anchor=\"middle\" font-size=\"28\">No services yet"
		    "</text>");
	vt_buf_puts(b, "</svg>");
}

static void render_legend(struct vt_buf *b, const struct vt_map *m,
    const struct layout *l, int wall)
{
	vt_buf_puts(b, "<aside class=\"map-legend\" id=\"map-legend\">");
	vt_buf_puts(b, "<ul class=\"map-key\">");
	for (size_t s = 0; s < VT_PAGE_LAYOUT_STATUS_COUNT; s++)
		vt_buf_printf(b, "<li class=\"st-%s\"><span class=\"dot\">"
		    "</span>%s</li>", vt_page_layout_status_class(s),
		    s == VT_PAGE_LAYOUT_NONE ? "no checks" :
		    vt_page_layout_status_class(s));
	vt_buf_puts(b, "</ul>");
	/* the width scale: what the thinnest and the thickest arc mean */
	vt_buf_puts(b, "<div class=\"map-scale\"><svg viewBox=\"0 0 120 60\" "
	    "aria-hidden=\"true\">");
	static const double at[] = { 0.01, 0.25, 1 };
	for (size_t i = 0; i < 3; i++)
		vt_buf_printf(b, "<line class=\"edge e-ok\" x1=\"4\" x2=\"116\" "
		    "y1=\"%d\" y2=\"%d\" stroke-width=\"%.2f\"/>", 10 + 20 *
		    (int)i, 10 + 20 * (int)i, vt_pages_map_width(at[i], 1,
		    l->wmax));
	vt_buf_puts(b, "</svg><ul>");
	for (size_t i = 0; i < 3; i++) {
		vt_buf_puts(b, "<li>");
		if (m->max_rate > 0)
			vt_html_num(b, at[i] * m->max_rate);
		else
			vt_buf_puts(b, "-");
		vt_buf_puts(b, " calls/s</li>");
	}
	vt_buf_puts(b, "</ul></div><ul class=\"map-errs\"><li class=\"e-ok\">"
	    "<span class=\"swatch\"></span>errors &lt;1%</li><li class=\"e-warn\">"
	    "<span class=\"swatch\"></span>&ge;1%</li><li class=\"e-err\">"
	    "<span class=\"swatch\"></span>&ge;5%</li></ul>");
	const struct vt_call_edge **e = vt_xmalloc((m->nedges + 1) *
	    sizeof *e);
	for (size_t i = 0; i < m->nedges; i++)
		e[i] = &m->edges[i];
	qsort(e, m->nedges, sizeof *e, busy_order);
	size_t shown = wall && m->nedges > WALL_CALLS ? WALL_CALLS : m->nedges;
	if (m->nedges == 0) {
		vt_buf_puts(b, "<p class=\"map-none\">No calls yet. A caller "
		    "tags its metrics with the service it calls, e.g. <code>"
		    "http.client:12|ms|#service:web,peer.service:payments"
		    "</code></p>");
	} else {
		vt_buf_printf(b, "<table class=\"map-calls\"><caption>%s"
		    "</caption><thead><tr><th>call</th><th>/s</th><th>err"
		    "</th><th>p99</th></tr></thead><tbody>", wall ?
		    "Busiest calls" : "Calls, busiest first");
		for (size_t i = 0; i < shown; i++) {
			vt_buf_printf(b, "<tr class=\"%s\"><td class=\"c-name\">"
			    "<span class=\"c-from\">", edge_class(e[i]));
			vt_html_text(b, e[i]->from);
			vt_buf_puts(b, "</span> \xE2\x86\x92 <span class=\"c-to\">");
			vt_html_text(b, e[i]->to);
			vt_buf_puts(b, "</span></td><td>");
			vt_html_num(b, e[i]->rate);
			vt_buf_puts(b, "</td><td>");
			put_share(b, e[i]->error_share);
			vt_buf_puts(b, "</td><td>");
			vt_html_ms(b, e[i]->p99);
			vt_buf_puts(b, "</td></tr>");
		}
		vt_buf_puts(b, "</tbody></table>");
		if (shown < m->nedges)
			vt_buf_printf(b, "<p class=\"map-more\">and %zu more: "
			    "<a href=\"/map\">/map</a></p>", m->nedges - shown);
	}
	free(e);
	vt_buf_puts(b, "</aside>");
}

static void render_counts(struct vt_buf *b, const struct layout *l,
    size_t nedges)
{
	size_t counts[VT_PAGE_LAYOUT_STATUS_COUNT] = { 0 };
	for (size_t i = 0; i < l->n; i++)
		counts[l->p[i].status]++;
	vt_buf_printf(b, "<div class=\"counts\" id=\"counts\"><span "
	    "class=\"total\">%zu service%s, %zu call%s</span>", l->n,
	    l->n == 1 ? "" : "s", nedges, nedges == 1 ? "" : "s");
	for (size_t s = 0; s < VT_PAGE_LAYOUT_STATUS_COUNT; s++)
		if (counts[s] && s != VT_PAGE_LAYOUT_NONE)
			vt_buf_printf(b, "<span class=\"count st-%s\">%zu %s"
			    "</span>", vt_page_layout_status_class(s), counts[s],
			    vt_page_layout_status_class(s));
	vt_buf_puts(b, "</div>");
}

static void render_main(struct vt_buf *b, const struct vt_map *m,
    const struct vt_calls_snapshot *cs, const struct layout *l,
    const struct vt_map_opts *o, double now)
{
	vt_buf_printf(b, "<main id=\"map\" class=\"map%s\" data-src=\"%s\" "
	    "data-now=\"%.3f\" data-flush=\"%.3f\" data-interval=\"%g\" "
	    "data-nodes=\"%zu\" data-edges=\"%zu\" data-max-rate=\"%.6g\">",
	    l->radial ? " radial" : "", o->wall ? "/map?wall=1&amp;partial=1" :
	    "/map?partial=1", now, cs ? cs->timestamp : 0.0,
	    cs ? cs->interval : 0.0, m->nnodes, m->nedges, m->max_rate);
	vt_buf_puts(b, "<div class=\"map-canvas\">");
	render_svg(b, m, l);
	vt_buf_puts(b, "</div>");
	render_legend(b, m, l, o->wall);
	vt_buf_puts(b, "</main>\n");
}

void vt_pages_map(const struct vt_map *m, const struct vt_calls_snapshot *cs,
    const struct vt_map_opts *o, double now, struct vt_buf *b)
{
	struct layout l;
	make_layout(&l, m);
	if (o->partial) {
		render_counts(b, &l, m->nedges);
		render_main(b, m, cs, &l, o, now);
		free_layout(&l);
		return;
	}
	if (o->wall) {
		vt_page_layout_begin(b, "vitals map", "wall map-wall", "map.js",
		    30);
		vt_buf_puts(b, "<noscript><p class=\"banner warn note\">JavaScript "
		    "is off: this map reloads every 30 s instead of updating "
		    "live.</p></noscript><div id=\"banner\" class=\"banner\" "
		    "role=\"alert\" hidden></div><header class=\"wallbar\">"
		    "<a class=\"brand\" href=\"/?wall=1\"><span class=\"logo\" "
		    "aria-hidden=\"true\"></span>vitals</a>");
		render_counts(b, &l, m->nedges);
		vt_buf_puts(b, "<span class=\"live\" id=\"live\">connecting"
		    "</span><span class=\"clock\" id=\"clock\">");
		vt_page_layout_clock(b, now);
		vt_buf_puts(b, "</span></header>\n");
	} else {
		vt_page_layout_begin(b, "vitals: service map", "light map-page",
		    "map.js", 30);
		vt_page_layout_topbar(b, now);
		vt_buf_puts(b, "<section class=\"toolbar map-bar\"><h1>Service "
		    "map</h1>");
		render_counts(b, &l, m->nedges);
		vt_buf_puts(b, "<span class=\"map-help muted\">arc width: calls/s"
		    "; hover an arc or a service for figures; <a href=\"/map?"
		    "wall=1\">on the wall</a>, <a href=\"/api/v1/map\">as JSON"
		    "</a></span><span class=\"live\" id=\"live\" hidden></span>"
		    "</section>\n");
	}
	render_main(b, m, cs, &l, o, now);
	vt_page_layout_end(b);
	free_layout(&l);
}
