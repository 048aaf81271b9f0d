/*
 * graph.c - GET /graph/<service>/<metric>.svg|.png (graph.h): checks the
 * request, builds rrd_graph arguments, renders in memory through rrdlib.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collector/base/buf.h"
#include "collector/base/clock.h"
#include "collector/base/utf8.h"
#include "collector/base/xmalloc.h"
#include "collector/statsd/names.h"
#include "dashboards/api/series_api.h"
#include "dashboards/graph/graph.h"
#include "exporters/rrd/rrd_files.h"
#include "exporters/rrd/rrd_lib.h"

#define TITLE_MAX (48 + 96 + 48 + 32)
#define MAX_STATS 6         /* stat=p50,p90,p99,... */
#define MAX_SETS 60         /* labels= given (top ones drawn, rest summed) */
#define MAX_TOP 10
#define DEFAULT_TOP 5
#define PALETTE 10

struct theme {
	const char *name;
	const char *colors[10];   /* --color TAG#rrggbb */
	const char *line, *area, *max;
	const char *palette[PALETTE];  /* one per line of a multi-series graph */
	const char *other;
};

/* Readable on a dark dashboard; the light one for white pages. */
static const struct theme themes[] = {
	{ "dark", {
		"BACK#1b1e24", "CANVAS#14161b", "SHADEA#1b1e24",
		"SHADEB#1b1e24", "FONT#d7dae0", "AXIS#8a919c",
		"ARROW#8a919c", "FRAME#1b1e24", "GRID#2c313a",
		"MGRID#3d434e" },
	  "#4fc3f7", "#4fc3f740", "#ffb74d",
	  { "#4fc3f7", "#ffb74d", "#ef5350", "#81c784", "#ce93d8",
	    "#4dd0e1", "#f06292", "#fff176", "#a1887f", "#90a4ae" },
	  "#9e9e9e" },
	{ "light", {
		"BACK#ffffff", "CANVAS#ffffff", "SHADEA#ffffff",
		"SHADEB#ffffff", "FONT#222222", "AXIS#555555",
		"ARROW#555555", "FRAME#ffffff", "GRID#e4e6ea",
		"MGRID#c8ccd2" },
	  "#1565c0", "#1565c030", "#e65100",
	  { "#1565c0", "#ef6c00", "#c62828", "#2e7d32", "#6a1b9a",
	    "#00838f", "#ad1457", "#9e9d24", "#5d4037", "#455a64" },
	  "#8a8f98" },
};

/* Argument list; each argument is its own allocation. */
struct args {
	int n, cap;
	char **v;
};

static void add(struct args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add(struct args *a, const char *fmt, ...)
{
	struct vt_buf b;
	va_list ap;
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = vt_xrealloc(a->v, (size_t)a->cap * sizeof *a->v);
	}
	vt_buf_init(&b);
	va_start(ap, fmt);
	vt_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	vt_buf_putc(&b, '\0');   /* data non-NULL even when empty */
	a->v[a->n++] = vt_buf_steal(&b, NULL);
}

static void args_fini(struct args *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

/* A file path inside a DEF: ':' separates fields, so it is escaped. */
static void def_path(char *out, size_t outlen, const char *path)
{
	size_t j = 0;
	for (const char *p = path; *p && j + 2 < outlen; p++) {
		if (*p == ':' || *p == '\\')
			out[j++] = '\\';
		out[j++] = *p;
	}
	out[j] = '\0';
}

/* Client text for the title: valid UTF-8, no control characters, cut
 * at a character boundary to fit outlen. */
static void clean_text(char *out, size_t outlen, const char *s)
{
	char tmp[VT_NAME_MAX * 3 + 1];
	size_t n = vt_utf8_clean(tmp, sizeof tmp, s, strnlen(s, VT_NAME_MAX));
	if (n >= sizeof tmp)
		n = sizeof tmp - 1;
	if (n > outlen - 1) {
		n = outlen - 1;
		while (n > 0 && ((unsigned char)tmp[n] & 0xC0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tmp[i];
		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
}

static long bounded(const struct vt_http_request *req, const char *name,
    long def, long lo, long hi, int *bad)
{
	const char *v = vt_http_arg(req, name);
	if (v == NULL)
		return def;
	char *end;
	long n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < lo || n > hi)
		*bad = 1;
	return n;
}

/* The options every graph shares: size, time, colours, font. */
static void common(struct args *a, const struct theme *th, const char *fmt,
    time_t from, time_t until, long width, long height, const char *title,
    const char *vlabel)
{
	add(a, "--imgformat");
	add(a, "%s", fmt);
	add(a, "--start");
	add(a, "%lld", (long long)from);
	add(a, "--end");
	add(a, "%lld", (long long)until);
	add(a, "--width");
	add(a, "%ld", width);
	add(a, "--height");
	add(a, "%ld", height);
	add(a, "--title");
	add(a, "%s", title);
	add(a, "--vertical-label");
	add(a, "%s", vlabel);
	add(a, "--border");
	add(a, "0");
	add(a, "--disable-rrdtool-tag");
	add(a, "--slope-mode");
	add(a, "--font");
	add(a, "DEFAULT:8:DejaVu Sans");
	add(a, "--font");
	add(a, "TITLE:10:DejaVu Sans");
	for (size_t i = 0; i < 10; i++) {
		add(a, "--color");
		add(a, "%s", th->colors[i]);
	}
}

static void build(struct args *a, const struct vt_rrd_query *q,
    const struct theme *th, const char *fmt, long width, long height,
    const char *title, int show_max)
{
	char path[PATH_MAX * 2];
	int check = q->file.kind == VT_RRD_CHECK;
	const char *unit = vt_rrd_read_unit(&q->file, q->stat);
	int ms = strcmp(unit, "ms") == 0;
	const char *num = ms ? "%8.2lf ms" : "%8.2lf%s";

	def_path(path, sizeof path, q->file.path);
	common(a, th, fmt, q->from, q->until, width, height, title,
	    check ? "status" : ms ? "ms" :
	    strcmp(unit, "/s") == 0 ? "per second" : q->stat);
	if (check) {
		add(a, "--lower-limit");
		add(a, "0");
		add(a, "--upper-limit");
		add(a, "3");
		add(a, "--rigid");
		add(a, "--y-grid");
		add(a, "1:1");
	} else if (ms) {
		add(a, "--units-exponent");
		add(a, "0");
	}
	add(a, "DEF:v=%s:%s:%s", path, q->stat,
	    vt_rrd_files_cf(q->file.path, q->cf, q->from));
	add(a, "DEF:m=%s:%s:%s", path, q->stat,
	    vt_rrd_files_cf(q->file.path, "MAX", q->from));
	add(a, "VDEF:vlast=v,LAST");
	add(a, "VDEF:vavg=v,AVERAGE");
	add(a, "VDEF:mmax=m,MAXIMUM");
	if (check) {
		add(a, "LINE2:m%s:status (0 ok, 1 warning, 2 critical, "
		    "3 unknown)", th->max);
		add(a, "GPRINT:vlast:last %%1.0lf\\l");
		return;
	}
	add(a, "AREA:v%s", th->area);
	add(a, "LINE2:v%s:%s%s", th->line, q->stat,
	    strcmp(q->cf, "MAX") == 0 ? " (max)" : " (avg)");
	/* The highest value of each step is drawn only when asked for
	 * (max=1), and then says what it is. */
	if (show_max)
		add(a, "LINE1:m%s:highest in each step (MAX)", th->max);
	add(a, "COMMENT:\\l");
	add(a, "GPRINT:vlast:last %s", num);
	add(a, "GPRINT:vavg:avg %s", num);
	add(a, "GPRINT:mmax:max %s\\l", num);
}

/* ---- several series in one graph ---- */

/* One series drawn: a file and a stat, and its legend. */
struct line {
	struct vt_rrd_file file;
	char ds[VT_RRD_DS_NAME_MAX];
	char legend[64];
};

struct multi {
	struct line *lines;           /* the first `top` are drawn one by one */
	size_t n, top;
	size_t others;                /* labels= given but not drawn alone */
	int sum_other;                /* the rest summed into "other" */
	const char *cf;
	time_t from, until;
};

/* Legend text for RRDtool: ':' separates fields and '\' escapes, so
 * ':' is escaped and '\' becomes '/'; cut to fit. */
static void legend_text(char *out, size_t outlen, const char *s)
{
	char clean[96];
	clean_text(clean, sizeof clean, s);
	size_t j = 0;
	for (const char *p = clean; *p && j + 3 < outlen; p++) {
		if (*p == ':')
			out[j++] = '\\';
		out[j++] = *p == '\\' ? '/' : *p;
	}
	out[j] = '\0';
}

/* "k:v,k2:v2" as the legend shows it: "k=v, k2=v2". */
static void set_legend(char *out, size_t outlen, const char *labels)
{
	char tmp[160];
	size_t j = 0;
	if (labels == NULL || labels[0] == '\0') {
		legend_text(out, outlen, "(no tags)");
		return;
	}
	int in_value = 0;
	for (const char *p = labels; *p && j + 3 < sizeof tmp; p++) {
		if (*p == ',') {
			tmp[j++] = ',';
			tmp[j++] = ' ';
			in_value = 0;
		} else if (*p == ':' && !in_value) {
			tmp[j++] = '=';
			in_value = 1;
		} else {
			tmp[j++] = *p;
		}
	}
	tmp[j] = '\0';
	if (j > 34)
		memcpy(tmp + 31, "...", 4);
	legend_text(out, outlen, tmp);
}

/* Every labels= of the request, in order (MHD keeps repeated keys). */
struct labels_list {
	const char *v[MAX_SETS + 1];
	size_t n;
};

static enum MHD_Result collect_labels(void *cls, enum MHD_ValueKind kind,
    const char *key, const char *value)
{
	struct labels_list *l = cls;
	(void)kind;
	if (strcmp(key, "labels") == 0 && l->n < MAX_SETS + 1)
		l->v[l->n++] = value ? value : "";
	return MHD_YES;
}

/* Stats that add up across tag sets, so the quieter ones can be summed. */
static int summable(const char *ds)
{
	return strcmp(ds, "rate") == 0 || strcmp(ds, "count") == 0 ||
	    strcmp(ds, "sum") == 0;
}

static void build_multi(struct args *a, const struct multi *m,
    const struct theme *th, const char *fmt, long width, long height,
    const char *title)
{
	const char *unit = vt_rrd_read_unit(&m->lines[0].file,
	    m->lines[0].ds);
	int ms = strcmp(unit, "ms") == 0;
	const char *num = ms ? "%7.2lf ms" : "%7.2lf%s";
	char path[PATH_MAX * 2];

	common(a, th, fmt, m->from, m->until, width, height, title,
	    ms ? "ms" : strcmp(unit, "/s") == 0 ? "per second" :
	    m->lines[0].ds);
	if (ms) {
		add(a, "--units-exponent");
		add(a, "0");
	}
	/* Legend names padded in a fixed-width font, so the figures of
	 * every line stand in columns. */
	add(a, "--font");
	add(a, "LEGEND:7:DejaVu Sans Mono");
	int pad = 5;
	for (size_t i = 0; i < m->top; i++)
		if ((int)strlen(m->lines[i].legend) > pad)
			pad = (int)strlen(m->lines[i].legend);
	if (m->others && m->sum_other && pad < 18)
		pad = 18;
	for (size_t i = 0; i < m->n; i++) {
		def_path(path, sizeof path, m->lines[i].file.path);
		add(a, "DEF:v%zu=%s:%s:%s", i, path, m->lines[i].ds,
		    vt_rrd_files_cf(m->lines[i].file.path, m->cf, m->from));
	}
	for (size_t i = 0; i < m->top; i++) {
		add(a, "VDEF:l%zu=v%zu,LAST", i, i);
		add(a, "VDEF:a%zu=v%zu,AVERAGE", i, i);
		add(a, "VDEF:x%zu=v%zu,MAXIMUM", i, i);
		add(a, "LINE2:v%zu%s:%-*s", i, th->palette[i % PALETTE],
		    pad, m->lines[i].legend);
		add(a, "GPRINT:l%zu:last %s", i, num);
		add(a, "GPRINT:a%zu:avg %s", i, num);
		add(a, "GPRINT:x%zu:max %s\\l", i, num);
	}
	if (m->n > m->top && m->sum_other) {
		struct vt_buf rpn;
		vt_buf_init(&rpn);
		vt_buf_printf(&rpn, "v%zu", m->top);
		for (size_t i = m->top + 1; i < m->n; i++)
			vt_buf_printf(&rpn, ",v%zu,ADDNAN", i);
		vt_buf_putc(&rpn, '\0');
		add(a, "CDEF:other=%s", rpn.data);
		vt_buf_fini(&rpn);
		add(a, "VDEF:lo=other,LAST");
		add(a, "VDEF:ao=other,AVERAGE");
		add(a, "VDEF:xo=other,MAXIMUM");
		char other[32];
		snprintf(other, sizeof other, "other (%zu summed)", m->others);
		add(a, "LINE2:other%s:%-*s:dashes", th->other, pad, other);
		add(a, "GPRINT:lo:last %s", num);
		add(a, "GPRINT:ao:avg %s", num);
		add(a, "GPRINT:xo:max %s\\l", num);
	} else if (m->others > 0) {
		add(a, "COMMENT:%zu quieter tag set%s not drawn (%s does not "
		    "add up)\\l", m->others, m->others == 1 ? "" : "s",
		    m->lines[0].ds);
	}
}

/* A graph of several stats of one series (stat=p50,p90,p99), or of one
 * stat of several tag sets (labels= repeated, busiest first: the first
 * `top` drawn, the rest summed into "other" when the stat adds up).
 * 0, or -1 with resp filled. */
static int query_multi(vt_rrd_read *rd, const struct vt_http_request *req,
    const char *service, const char *metric, const char *stats,
    const struct labels_list *sets, struct multi *m,
    struct vt_http_response *resp)
{
	char err[VT_ERR_LEN];
	time_t now = (time_t)vt_clock_now();
	const char *from = vt_http_arg(req, "from");
	const char *until = vt_http_arg(req, "until");
	const char *cf = vt_http_arg(req, "cf");
	int bad = 0;
	long top = bounded(req, "top", DEFAULT_TOP, 1, MAX_TOP, &bad);

	memset(m, 0, sizeof *m);
	if (bad) {
		vt_http_error(resp, 400, "top: 1-%d", MAX_TOP);
		return -1;
	}
	if (vt_rrd_read_parse_time(from ? from : VT_SERIES_DEFAULT_FROM, now,
	    &m->from) < 0 ||
	    vt_rrd_read_parse_time(until ? until : "now", now, &m->until) < 0) {
		vt_http_error(resp, 400, "from and until take now, unix "
		    "seconds or an offset such as -6h, -7d, now-1h");
		return -1;
	}
	if (m->from >= m->until || m->until - m->from > VT_RRD_READ_MAX_RANGE) {
		vt_http_error(resp, 400, "from must be before until, at most "
		    "two years apart");
		return -1;
	}
	if (cf == NULL || strcasecmp(cf, "AVERAGE") == 0) {
		m->cf = "AVERAGE";
	} else if (strcasecmp(cf, "MAX") == 0) {
		m->cf = "MAX";
	} else {
		vt_http_error(resp, 400, "cf must be AVERAGE or MAX");
		return -1;
	}
	if (sets->n > MAX_SETS) {
		vt_http_error(resp, 400, "at most %d labels= in one graph",
		    MAX_SETS);
		return -1;
	}

	char list[MAX_STATS][VT_RRD_DS_NAME_MAX];
	size_t nstats = 0;
	for (const char *p = stats ? stats : ""; ; ) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= VT_RRD_DS_NAME_MAX ||
		    nstats == MAX_STATS) {
			vt_http_error(resp, 400, "stat: up to %d names "
			    "separated by commas", MAX_STATS);
			return -1;
		}
		memcpy(list[nstats], p, len);
		list[nstats++][len] = '\0';
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (nstats > 1 && sets->n > 1) {
		vt_http_error(resp, 400, "several stats or several labels=, "
		    "not both");
		return -1;
	}

	size_t nfiles = sets->n ? sets->n : 1;
	m->lines = vt_xcalloc(nfiles * nstats, sizeof *m->lines);
	for (size_t k = 0; k < nfiles; k++) {
		const char *labels = sets->n ? sets->v[k] : NULL;
		struct line *ln = &m->lines[m->n];
		int rc = vt_rrd_read_metric(rd, service, metric, labels,
		    &ln->file, err, sizeof err);
		if (rc == -EINVAL) {
			vt_http_error(resp, 400, "%s", err);
			return -1;
		}
		if (rc == -ENOENT && sets->n > 1)
			continue;    /* a tag set not written yet */
		if (rc == -ENOENT) {
			vt_http_error(resp, 404, "no such series");
			return -1;
		}
		if (rc < 0 || vt_rrd_read_sync(rd, &ln->file, err,
		    sizeof err) < 0) {
			vt_http_error(resp, 503, "storage: %s", err);
			return -1;
		}
		for (size_t s = 0; s < nstats; s++) {
			struct line *l = &m->lines[m->n];
			if (s > 0)
				l->file = ln->file;
			if (vt_rrd_read_stat(&l->file, list[s], l->ds,
			    sizeof l->ds) < 0) {
				if (sets->n > 1)
					continue;
				vt_http_error(resp, 400, "no stat %.32s for "
				    "this series", list[s]);
				return -1;
			}
			if (sets->n > 1) {
				set_legend(l->legend, sizeof l->legend,
				    labels);
			} else {
				char stat[VT_RRD_DS_NAME_MAX + 8];
				snprintf(stat, sizeof stat, "%s", list[s]);
				legend_text(l->legend, sizeof l->legend, stat);
			}
			m->n++;
		}
	}
	if (m->n == 0) {
		vt_http_error(resp, 404, "no such series");
		return -1;
	}
	m->top = sets->n > 1 && m->n > (size_t)top ? (size_t)top : m->n;
	m->others = m->n - m->top;
	m->sum_other = summable(m->lines[0].ds);
	return 0;
}

static void get_multi(vt_rrd_read *rd, const struct vt_http_request *req,
    struct vt_http_response *resp, const char *service, const char *name,
    const struct labels_list *sets, const struct theme *th, const char *fmt,
    const char *type, long width, long height)
{
	struct multi m;
	char err[VT_ERR_LEN], title[TITLE_MAX], t_svc[48], t_name[96];
	if (query_multi(rd, req, service, name, vt_http_arg(req, "stat"),
	    sets, &m, resp) < 0) {
		free(m.lines);
		return;
	}
	clean_text(t_svc, sizeof t_svc, service);
	clean_text(t_name, sizeof t_name, name);
	if (sets->n > 1)
		snprintf(title, sizeof title, "%s %s (%s by tag set)", t_svc,
		    t_name, m.lines[0].ds);
	else
		snprintf(title, sizeof title, "%s %s", t_svc, t_name);
	struct args a = { 0 };
	build_multi(&a, &m, th, fmt, width, height, title);
	int rc = vt_rrd_lib_graph(a.n, (const char *const *)a.v, &resp->body,
	    err, sizeof err);
	args_fini(&a);
	free(m.lines);
	if (rc < 0) {
		vt_http_error(resp, 500, "graph: %s", err);
		return;
	}
	resp->content_type = type;
	resp->no_cache = 1;
}

int vt_graph_parse_path(const char *sub, char *service, size_t service_len,
    char *name, size_t name_len, const char **fmt, const char **type)
{
	const char *slash = strchr(sub, '/');
	const char *dot = strrchr(sub, '.');

	*fmt = *type = NULL;
	if (dot && strcmp(dot, ".svg") == 0) {
		*fmt = "SVG";
		*type = "image/svg+xml";
	} else if (dot && strcmp(dot, ".png") == 0) {
		*fmt = "PNG";
		*type = "image/png";
	}
	if (*fmt == NULL || slash == NULL || slash == sub || dot <= slash + 1 ||
	    (size_t)(slash - sub) >= service_len ||
	    (size_t)(dot - slash - 1) >= name_len)
		return -1;
	snprintf(service, service_len, "%.*s", (int)(slash - sub), sub);
	snprintf(name, name_len, "%.*s", (int)(dot - slash - 1), slash + 1);
	return 0;
}

static void get_graph(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	vt_rrd_read *rd = ctx;
	char service[VT_NAME_MAX + 1], name[VT_NAME_MAX * 2 + 1];
	const char *fmt, *type;

	if (vt_graph_parse_path(req->subpath, service, sizeof service, name,
	    sizeof name, &fmt, &type) < 0) {
		vt_http_error(resp, 404, "graphs are /graph/<service>/"
		    "<metric>.svg or .png");
		return;
	}

	int bad = 0;
	long width = bounded(req, "width", 600, 100, 2000, &bad);
	long height = bounded(req, "height", 200, 60, 1000, &bad);
	const char *theme = vt_http_arg(req, "theme");
	const struct theme *th = &themes[0];
	if (theme && strcmp(theme, "light") == 0)
		th = &themes[1];
	else if (theme && strcmp(theme, "dark") != 0)
		bad = 1;
	if (bad) {
		vt_http_error(resp, 400, "width 100-2000, height 60-1000, "
		    "theme dark or light");
		return;
	}

	const char *instance = vt_http_arg(req, "instance");
	const char *stat = vt_http_arg(req, "stat");
	int show_max = bounded(req, "max", 0, 0, 1, &bad) == 1;
	struct labels_list sets = { .n = 0 };
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND,
	    collect_labels, &sets);
	if (bad) {
		vt_http_error(resp, 400, "max: 0 or 1");
		return;
	}
	if (instance == NULL && (sets.n > 1 || (stat && strchr(stat, ',')))) {
		get_multi(rd, req, resp, service, name, &sets, th, fmt, type,
		    width, height);
		return;
	}

	struct vt_rrd_query q;
	if (vt_series_api_query(rd, req, service, name, instance, &q, resp) < 0)
		return;
	char err[VT_ERR_LEN], title[TITLE_MAX], t_svc[48], t_name[96],
	    t_inst[48];
	clean_text(t_svc, sizeof t_svc, service);
	clean_text(t_name, sizeof t_name, name);
	if (instance) {
		clean_text(t_inst, sizeof t_inst, instance);
		snprintf(title, sizeof title, "%s %s on %s", t_svc, t_name,
		    t_inst);
	} else {
		snprintf(title, sizeof title, "%s %s (%s)", t_svc, t_name,
		    q.stat);
	}
	if (vt_rrd_read_sync(rd, &q.file, err, sizeof err) < 0) {
		vt_http_error(resp, 503, "storage: %s", err);
		return;
	}

	struct args a = { 0 };
	build(&a, &q, th, fmt, width, height, title, show_max);
	int rc = vt_rrd_lib_graph(a.n, (const char *const *)a.v, &resp->body,
	    err, sizeof err);
	args_fini(&a);
	if (rc < 0) {
		vt_http_error(resp, 500, "graph: %s", err);
		return;
	}
	resp->content_type = type;
	resp->no_cache = 1;
}

void vt_graph_register(vt_http *h, vt_rrd_read *rd)
{
	vt_http_route(h, "GET", "/graph/", 1, get_graph, rd);
}
