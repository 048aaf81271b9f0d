/*
 * graph.c - GET /graph/<service>/<metric>.svg|.png (graph.h): checks the
 * request, builds rrd_graph arguments, renders in memory through rrdlib.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/buf.h"
#include "collector/base/utf8.h"
#include "collector/statsd/names.h"
#include "dashboards/api/series_api.h"
#include "dashboards/graph/graph.h"
#include "exporters/rrd/rrd_lib.h"

#define TITLE_MAX (48 + 96 + 48 + 32)
#define MAX_ARGS 64

struct theme {
	const char *name;
	const char *colors[10];   /* --color TAG#rrggbb */
	const char *line, *area, *max;
};

/* Readable on a dark dashboard; the light one for white pages. */
static const struct theme themes[] = {
	{ "dark", {
		"BACK#1b1e24", "CANVAS#14161b", "SHADEA#1b1e24",
		"SHADEB#1b1e24", "FONT#d7dae0", "AXIS#8a919c",
		"ARROW#8a919c", "FRAME#1b1e24", "GRID#2c313a",
		"MGRID#3d434e" },
	  "#4fc3f7", "#4fc3f740", "#ffb74d" },
	{ "light", {
		"BACK#ffffff", "CANVAS#ffffff", "SHADEA#ffffff",
		"SHADEB#ffffff", "FONT#222222", "AXIS#555555",
		"ARROW#555555", "FRAME#ffffff", "GRID#e4e6ea",
		"MGRID#c8ccd2" },
	  "#1565c0", "#1565c030", "#e65100" },
};

/* Argument list; each argument is its own allocation. */
struct args {
	int n;
	char *v[MAX_ARGS];
};

static void add(struct args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add(struct args *a, const char *fmt, ...)
{
	struct vt_buf b;
	va_list ap;
	if (a->n == MAX_ARGS)
		return;
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
	a->n = 0;
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

static void build(struct args *a, const struct vt_rrd_query *q,
    const struct theme *th, const char *fmt, long width, long height,
    const char *title)
{
	char path[PATH_MAX * 2];
	int check = q->file.kind == VT_RRD_CHECK;
	const char *unit = vt_rrd_read_unit(&q->file, q->stat);
	int ms = strcmp(unit, "ms") == 0;
	const char *num = ms ? "%8.2lf ms" : "%8.2lf%s";

	def_path(path, sizeof path, q->file.path);
	add(a, "--imgformat");
	add(a, "%s", fmt);
	add(a, "--start");
	add(a, "%lld", (long long)q->from);
	add(a, "--end");
	add(a, "%lld", (long long)q->until);
	add(a, "--width");
	add(a, "%ld", width);
	add(a, "--height");
	add(a, "%ld", height);
	add(a, "--title");
	add(a, "%s", title);
	add(a, "--vertical-label");
	add(a, "%s", check ? "status" : ms ? "ms" :
	    strcmp(unit, "/s") == 0 ? "per second" : q->stat);
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
	add(a, "DEF:v=%s:%s:%s", path, q->stat, q->cf);
	add(a, "DEF:m=%s:%s:MAX", path, q->stat);
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
	add(a, "LINE1:m%s:max\\l", th->max);
	add(a, "GPRINT:vlast:last %s", num);
	add(a, "GPRINT:vavg:avg %s", num);
	add(a, "GPRINT:mmax:max %s\\l", num);
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

	struct vt_rrd_query q;
	const char *instance = vt_http_arg(req, "instance");
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
	build(&a, &q, th, fmt, width, height, title);
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
