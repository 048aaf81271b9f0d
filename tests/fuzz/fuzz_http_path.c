/*
 * fuzz_http_path.c - what the HTTP face parses out of a request's path
 * and query before it touches the disk: the graph path
 * (/graph/<service>/<metric>.svg, graph.h), the from/until times of
 * graphs and series (rrd_read.h), the labels parameter, and the mapping of
 * service, metric, labels, instance and check names to files under the
 * data directory (rrd_layout.h, through the reader the endpoints use).
 *
 * The input is up to eight fields separated by '\n', each percent-decoded
 * as libmicrohttpd decodes a URL ("%2F" -> '/', "%00" ends the field):
 *   graph-subpath \n from \n until \n labels \n service \n metric \n
 *   instance \n check
 *
 * Invariants:
 * - an accepted graph path splits into a non-empty service without '/'
 *   and a non-empty name, and service "/" name ext rebuilds it;
 * - an accepted time is "now" plus or minus at most 20 years, or unix
 *   seconds in [0, 99999999999];
 * - every relative path the layout produces, for any names and labels,
 *   never escapes the data directory: it does not start with '/', it has
 *   no empty, "." or ".." component and no component starting with '.',
 *   only [A-Za-z0-9._-] bytes besides the '/' separators, the expected
 *   number of components, ".rrd" at the end, and fits VT_RRD_REL_MAX;
 * - distinct metric names of one service never share a file;
 * - the reader answers only 0, -EINVAL, -ENOENT or -ENAMETOOLONG (the
 *   data directory is empty), and whatever relative path it computed
 *   obeys the same rules.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "dashboards/graph/graph.h"
#include "exporters/rrd/rrd_layout.h"
#include "exporters/rrd/rrd_read.h"
#include "fuzz_common.h"

#define NFIELDS 8
#define FIELD_MAX 2048
#define NOW ((time_t)1795000000)
#define TWENTY_YEARS (20LL * 31536000)

static vt_rrd_read *reader;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/vitals-fuzz-XXXXXX";
	char err[VT_ERR_LEN];
	(void)argc;
	(void)argv;
	FUZZ_ASSERT(mkdtemp(dir) != NULL, "mkdtemp");
	struct vt_rrd_read_config cfg = { .data_dir = dir };
	reader = vt_rrd_read_create(&cfg, err, sizeof err);
	FUZZ_ASSERT(reader != NULL, "%s", err);
	rmdir(dir);   /* nothing is ever found; the reader keeps the path */
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..len) into out (NUL-terminated, cut to cap). */
static void decode(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			out[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
}

static int file_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* The rules of a relative path under the data directory (see above). */
static void check_rel(const char *rel, size_t want_components,
    const char *what)
{
	size_t len = strnlen(rel, VT_RRD_REL_MAX);
	FUZZ_ASSERT(len > 0 && len < VT_RRD_REL_MAX, "%s: length %zu", what,
	    len);
	FUZZ_ASSERT(rel[0] != '/', "%s: absolute: %s", what, rel);
	FUZZ_ASSERT(len > 4 && strcmp(rel + len - 4, ".rrd") == 0,
	    "%s: no .rrd: %s", what, rel);
	size_t ncomp = 0;
	for (const char *c = rel; c < rel + len;) {
		const char *slash = memchr(c, '/', (size_t)(rel + len - c));
		size_t n = slash ? (size_t)(slash - c) : (size_t)(rel + len - c);
		FUZZ_ASSERT(n > 0, "%s: empty component: %s", what, rel);
		FUZZ_ASSERT(c[0] != '.', "%s: dot component: %s", what, rel);
		FUZZ_ASSERT(n < 256, "%s: component over NAME_MAX", what);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT(file_byte(c[i]), "%s: byte 0x%02x in %s",
			    what, (unsigned char)c[i], rel);
		ncomp++;
		c += n + (slash ? 1 : 0);
		if (slash && c == rel + len)
			FUZZ_ASSERT(0, "%s: trailing '/': %s", what, rel);
	}
	FUZZ_ASSERT(ncomp == want_components, "%s: %zu components: %s", what,
	    ncomp, rel);
}

static void check_graph_path(const char *sub)
{
	char service[VT_NAME_MAX + 1], name[VT_NAME_MAX * 2 + 1];
	char rebuilt[FIELD_MAX + 8];
	const char *fmt, *type;
	if (vt_graph_parse_path(sub, service, sizeof service, name,
	    sizeof name, &fmt, &type) < 0)
		return;
	FUZZ_ASSERT(service[0] && strchr(service, '/') == NULL,
	    "graph service \"%s\"", service);
	FUZZ_ASSERT(name[0] != '\0', "graph name empty");
	FUZZ_ASSERT(type != NULL && (strcmp(fmt, "SVG") == 0 ||
	    strcmp(fmt, "PNG") == 0), "graph format");
	snprintf(rebuilt, sizeof rebuilt, "%s/%s.%s", service, name,
	    strcmp(fmt, "SVG") == 0 ? "svg" : "png");
	FUZZ_ASSERT(strcmp(rebuilt, sub) == 0, "graph path \"%s\" rebuilt as "
	    "\"%s\"", sub, rebuilt);
}

static void check_time(const char *text)
{
	time_t t;
	if (vt_rrd_read_parse_time(text, NOW, &t) < 0)
		return;
	long long v = (long long)t;
	FUZZ_ASSERT((v >= NOW - TWENTY_YEARS && v <= NOW + TWENTY_YEARS) ||
	    (v >= 0 && v <= 99999999999LL), "time \"%s\" -> %lld", text, v);
}

/* Labels as the fuzzer wrote them, not as the reader accepts them: the
 * layout alone must keep arbitrary keys and values inside too. */
static size_t split_labels(char *buf, struct vt_label *out)
{
	size_t n = 0;
	for (char *item = buf; item && *buf && n < VT_MAX_TAGS;) {
		char *comma = strchr(item, ',');
		if (comma)
			*comma = '\0';
		char *colon = strchr(item, ':');
		if (colon)
			*colon = '\0';
		out[n].key = item;
		out[n].value = colon ? colon + 1 : "";
		n++;
		item = comma ? comma + 1 : NULL;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char field[NFIELDS][FIELD_MAX];
	const char *p = (const char *)data, *end = p + size;
	for (size_t i = 0; i < NFIELDS; i++) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) :
		    NULL;
		const char *stop = nl ? nl : end;
		decode(field[i], FIELD_MAX, p, p < end ? (size_t)(stop - p) : 0);
		p = nl ? nl + 1 : end;
	}
	const char *service = field[4], *metric = field[5];
	const char *instance = field[6], *check = field[7];

	check_graph_path(field[0]);
	check_time(field[1]);
	check_time(field[2]);

	char rel[VT_RRD_REL_MAX], other[VT_RRD_REL_MAX];
	char lbuf[FIELD_MAX];
	struct vt_label labels[VT_MAX_TAGS];
	snprintf(lbuf, sizeof lbuf, "%s", field[3]);
	size_t nl = split_labels(lbuf, labels);
	FUZZ_ASSERT(vt_rrd_layout_series_path(rel, sizeof rel, service, metric,
	    labels, nl) > 0, "series path failed");
	check_rel(rel, 2, "series path");
	FUZZ_ASSERT(vt_rrd_layout_check_path(rel, sizeof rel, service,
	    instance, check) > 0, "check path failed");
	check_rel(rel, 4, "check path");

	/* Distinct names, distinct files (NUL-terminated names compare). */
	vt_rrd_layout_series_path(rel, sizeof rel, service, metric, NULL, 0);
	vt_rrd_layout_series_path(other, sizeof other, service, check, NULL, 0);
	if (strnlen(metric, VT_NAME_MAX * 2) < VT_NAME_MAX * 2 &&
	    strnlen(check, VT_NAME_MAX * 2) < VT_NAME_MAX * 2)
		FUZZ_ASSERT((strcmp(metric, check) == 0) == (strcmp(rel, other)
		    == 0), "\"%s\" and \"%s\" share %s", metric, check, rel);

	/* The reader, as /api/v1/series and /graph call it. */
	struct vt_rrd_file f;
	char err[VT_ERR_LEN];
	int rc = vt_rrd_read_metric(reader, service, metric, field[3], &f, err,
	    sizeof err);
	FUZZ_ASSERT(rc == -EINVAL || rc == -ENOENT || rc == -ENAMETOOLONG,
	    "metric rc %d", rc);
	if (f.rel[0])
		check_rel(f.rel, 2, "reader series path");
	rc = vt_rrd_read_check(reader, service, instance, check, &f, err,
	    sizeof err);
	FUZZ_ASSERT(rc == -EINVAL || rc == -ENOENT || rc == -ENAMETOOLONG,
	    "check rc %d", rc);
	if (f.rel[0])
		check_rel(f.rel, 4, "reader check path");
	return 0;
}
