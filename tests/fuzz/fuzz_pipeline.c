/*
 * fuzz_pipeline.c - from a received datagram to the /metrics text: the
 * input goes through vt_ingest_datagram (line splitting, the parser, the
 * aggregator with its type-conflict and max_metrics rules), one window is
 * closed and handed to the Prometheus exporter, and the exposition is
 * rendered in both formats. SPEC 3.1: "/metrics can never be broken by a
 * client". So whatever the datagram held, the text must be a valid
 * exposition:
 * - valid UTF-8, every line ends in '\n', OpenMetrics ends in "# EOF";
 * - every family has exactly one HELP and one TYPE (a known type), and
 *   appears once; metric and label names match the Prometheus grammar,
 *   label names do not start with "__" and are not repeated in a series;
 * - label values use only the \\, \" and \n escapes; sample values are
 *   numbers, NaN or +-Inf;
 * - every sample belongs to the family above it (its name, or the name
 *   with _total, _sum, _count, _bucket or _created) and no series
 *   (name and labels) appears twice;
 * - the line counters add up: every non-empty line was counted once;
 * - the protobuf exposition (timers as native histograms) is a stream of
 *   well-formed MetricFamily messages: lengths in bounds, known wire
 *   types, a name, a known type, at least one Metric each holding the
 *   part its type names, native histograms whose spans cover exactly
 *   their deltas, no bucket below zero, zero + buckets = count; and its
 *   families are, in order, the text's families that have samples.
 */
#include <math.h>

#include "collector/agg/agg.h"
#include "collector/agg/sinks.h"
#include "collector/base/buf.h"
#include "collector/base/line_result.h"
#include "collector/base/prom_text.h"
#include "collector/ingest/ingest.h"
#include "collector/statsd/statsd.h"
#include "exporters/prom/prom.h"
#include "fuzz_common.h"

#define MAX_SERIES 4096

static int name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':';
}

static int name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* Length of a metric name at s (0 when none). */
static size_t metric_name(const char *s)
{
	size_t n = 0;
	if (!name_start(s[0]))
		return 0;
	while (name_char(s[n]))
		n++;
	return n;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct state {
	char family[1024];
	int have_help, have_type;
	char *families[MAX_SERIES];
	size_t nfamilies;
	char *series[MAX_SERIES];
	size_t nseries;
};

static void check_value(const char *v)
{
	if (strcmp(v, "NaN") == 0 || strcmp(v, "+Inf") == 0 ||
	    strcmp(v, "-Inf") == 0)
		return;
	char *end;
	double d = strtod(v, &end);
	FUZZ_ASSERT(*v && *end == '\0' && isfinite(d), "sample value \"%s\"",
	    v);
}

/* name{labels} value: check the labels, return the series key. */
static void check_sample(struct state *st, const char *line)
{
	size_t n = metric_name(line);
	FUZZ_ASSERT(n > 0, "sample line without a name: %s", line);
	size_t fl = strlen(st->family);
	FUZZ_ASSERT(st->have_type && n >= fl &&
	    strncmp(line, st->family, fl) == 0, "sample outside family %s: %s",
	    st->family, line);
	static const char *const suffixes[] = { "", "_total", "_sum", "_count",
		"_bucket", "_created" };
	int ok = 0;
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		ok |= n - fl == strlen(suffixes[i]) &&
		    strncmp(line + fl, suffixes[i], n - fl) == 0;
	FUZZ_ASSERT(ok, "sample name not of family %s: %s", st->family, line);

	const char *p = line + n;
	static char names[64][VT_NAME_MAX * 2];
	size_t nnames = 0;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t ln = 0;
			FUZZ_ASSERT(name_start(p[0]) && p[0] != ':',
			    "label name in %s", line);
			while (name_char(p[ln]) && p[ln] != ':')
				ln++;
			FUZZ_ASSERT(!(ln >= 2 && p[0] == '_' && p[1] == '_'),
			    "reserved label name in %s", line);
			FUZZ_ASSERT(ln < sizeof names[0] && nnames < 64,
			    "label name of %zu bytes, or label %zu", ln, nnames);
			memcpy(names[nnames], p, ln);
			names[nnames][ln] = '\0';
			for (size_t i = 0; i < nnames; i++)
				FUZZ_ASSERT(strcmp(names[i], names[nnames]) != 0,
				    "label %s twice in %s", names[i], line);
			nnames++;
			p += ln;
			FUZZ_ASSERT(p[0] == '=' && p[1] == '"', "label syntax "
			    "in %s", line);
			p += 2;
			while (*p != '"') {
				FUZZ_ASSERT(*p != '\0', "unterminated label value "
				    "in %s", line);
				if (*p == '\\') {
					FUZZ_ASSERT(p[1] == '\\' || p[1] == '"' ||
					    p[1] == 'n', "bad escape in %s", line);
					p++;
				}
				p++;
			}
			p++;
			if (*p == ',')
				p++;
			else
				FUZZ_ASSERT(*p == '}', "label list in %s", line);
		}
		p++;
	}
	FUZZ_ASSERT(*p == ' ', "no space before the value: %s", line);
	check_value(p + 1);
	FUZZ_ASSERT(st->nseries < MAX_SERIES, "too many series");
	st->series[st->nseries++] = strndup(line, (size_t)(p - line));
}

static void check_comment(struct state *st, const char *line, int om)
{
	if (strcmp(line, "# EOF") == 0)
		return;   /* position checked by the caller */
	int help = strncmp(line, "# HELP ", 7) == 0;
	int type = strncmp(line, "# TYPE ", 7) == 0;
	FUZZ_ASSERT(help || type, "unknown comment: %s", line);
	const char *name = line + 7;
	size_t n = metric_name(name);
	FUZZ_ASSERT(n > 0 && n < sizeof st->family && name[n] == ' ',
	    "family name in %s", line);
	if (help) {
		FUZZ_ASSERT(!st->have_help || strncmp(name, st->family, n) != 0 ||
		    st->family[n] != '\0', "second HELP for %s", st->family);
		memcpy(st->family, name, n);
		st->family[n] = '\0';
		st->have_help = 1;
		st->have_type = 0;
		FUZZ_ASSERT(st->nfamilies < MAX_SERIES, "too many families");
		st->families[st->nfamilies++] = strdup(st->family);
		for (const char *h = name + n + 1; *h; h++)
			if (*h == '\\') {
				FUZZ_ASSERT(h[1] == '\\' || h[1] == 'n' ||
				    (om && h[1] == '"'), "HELP escape in %s",
				    line);
				h++;
			}
		return;
	}
	FUZZ_ASSERT(st->have_help && !st->have_type &&
	    strncmp(name, st->family, n) == 0 && st->family[n] == '\0',
	    "TYPE without its HELP: %s", line);
	const char *t = name + n + 1;
	FUZZ_ASSERT(strcmp(t, "counter") == 0 || strcmp(t, "gauge") == 0 ||
	    strcmp(t, "summary") == 0 || strcmp(t, "histogram") == 0 ||
	    strcmp(t, "untyped") == 0 || (om && strcmp(t, "unknown") == 0),
	    "type in %s", line);
	st->have_type = 1;
}

static void check_duplicates(char **v, size_t n, const char *what)
{
	qsort(v, n, sizeof *v, str_cmp);
	for (size_t i = 1; i < n; i++)
		FUZZ_ASSERT(strcmp(v[i - 1], v[i]) != 0, "%s twice: %s", what,
		    v[i]);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

static void check_exposition(const char *text, size_t len, int om)
{
	static struct state st;
	memset(&st, 0, sizeof st);
	FUZZ_ASSERT(fuzz_valid_utf8(text, len), "exposition is not UTF-8");
	FUZZ_ASSERT(len > 0 && text[len - 1] == '\n', "last line unended");
	FUZZ_ASSERT(memchr(text, '\0', len) == NULL, "NUL in exposition");
	if (om)
		FUZZ_ASSERT(len >= 6 && strcmp(text + len - 6, "# EOF\n") == 0,
		    "OpenMetrics without # EOF at the end");
	char *copy = strndup(text, len);
	for (char *line = copy, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		FUZZ_ASSERT(line[0] != '\0', "empty line");
		if (strcmp(line, "# EOF") == 0)
			FUZZ_ASSERT(om && nl[1] == '\0', "# EOF not last");
		if (line[0] == '#')
			check_comment(&st, line, om);
		else
			check_sample(&st, line);
	}
	free(copy);
	check_duplicates(st.families, st.nfamilies, "family");
	check_duplicates(st.series, st.nseries, "series");
}

/* One aggregator and exporter for the whole run (creating them per input
 * costs more than the input); every input starts from an empty table:
 * the window after its own expires everything (metric_ttl 1 s). */
#define MAX_METRICS 64
static struct vt_selfstats stats;
static vt_agg *agg;
static vt_ingest *in;
static struct vt_prom *prom;
static double clock_now = 1795000000.0;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct vt_agg_config cfg = { .max_metrics = MAX_METRICS,
	    .metric_ttl = 1, .npercentiles = 3,
	    .percentiles = { 50, 99, 99.9 }, .native_histograms = 1 };
	(void)argc;
	(void)argv;
	agg = vt_agg_create(&cfg, &stats);
	in = vt_ingest_create(agg, &stats);
	prom = vt_prom_create();
	return 0;
}

/* ---- the protobuf exposition ---- */

struct pb {
	const uint8_t *p, *end;
};

static uint64_t pb_varint(struct pb *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0;; shift += 7) {
		FUZZ_ASSERT(r->p < r->end && shift < 64, "protobuf: bad varint");
		uint8_t b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
}

/* The next field: its number and wire type; a varint's value in *v, a
 * length-delimited field's bytes in *sub. 0 at the end. */
static int pb_field(struct pb *r, uint32_t *num, int *wire, uint64_t *v,
    struct pb *sub)
{
	if (r->p >= r->end)
		return 0;
	uint64_t key = pb_varint(r);
	*num = (uint32_t)(key >> 3);
	*wire = (int)(key & 7);
	FUZZ_ASSERT(*num > 0, "protobuf: field 0");
	if (*wire == 0) {
		*v = pb_varint(r);
	} else if (*wire == 1) {
		FUZZ_ASSERT(r->end - r->p >= 8, "protobuf: short fixed64");
		r->p += 8;
	} else {
		FUZZ_ASSERT(*wire == 2, "protobuf: wire type %d", *wire);
		uint64_t n = pb_varint(r);
		FUZZ_ASSERT(n <= (uint64_t)(r->end - r->p), "protobuf: length "
		    "%llu past the end", (unsigned long long)n);
		sub->p = r->p;
		sub->end = r->p + n;
		r->p += n;
	}
	return 1;
}

static int64_t pb_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* One sign of a native histogram: spans' lengths against the deltas. */
static uint64_t check_native_sign(struct pb spans[], size_t nspans,
    struct pb deltas)
{
	uint64_t want = 0, total = 0;
	int64_t c = 0;
	for (size_t i = 0; i < nspans; i++) {
		uint32_t num;
		int wire;
		uint64_t v = 0;
		struct pb sub;
		while (pb_field(&spans[i], &num, &wire, &v, &sub))
			if (num == 2)
				want += v;
	}
	for (; deltas.p < deltas.end; want--) {
		FUZZ_ASSERT(want > 0, "protobuf: more deltas than spans cover");
		c += pb_unzigzag(pb_varint(&deltas));
		FUZZ_ASSERT(c >= 0, "protobuf: a bucket below zero");
		total += (uint64_t)c;
	}
	FUZZ_ASSERT(want == 0, "protobuf: spans cover %llu more buckets",
	    (unsigned long long)want);
	return total;
}

static void check_histogram(struct pb h)
{
	struct pb spans[2][256], deltas[2] = { { NULL, NULL }, { NULL, NULL } };
	size_t nspans[2] = { 0, 0 };
	uint64_t count = 0, zero = 0, v = 0;
	int native = 0;
	uint32_t num;
	int wire;
	struct pb sub;
	while (pb_field(&h, &num, &wire, &v, &sub)) {
		int neg = num == 9 || num == 10;
		if (num == 1)
			count = v;
		else if (num == 5)
			native = 1;
		else if (num == 7)
			zero = v;
		else if ((num == 9 || num == 12) && nspans[neg] < 256)
			spans[neg][nspans[neg]++] = sub;
		else if (num == 10 || num == 13)
			deltas[neg] = sub;
	}
	if (!native)
		return;
	FUZZ_ASSERT(nspans[0] + nspans[1] > 0, "protobuf: native histogram "
	    "without a span");
	uint64_t buckets = check_native_sign(spans[0], nspans[0], deltas[0]) +
	    check_native_sign(spans[1], nspans[1], deltas[1]);
	FUZZ_ASSERT(zero + buckets == count, "protobuf: zero %llu + buckets "
	    "%llu != count %llu", (unsigned long long)zero,
	    (unsigned long long)buckets, (unsigned long long)count);
}

/* The families of text that have samples, in order, one per line. */
static void text_families(const char *text, struct vt_buf *names)
{
	char fam[1024] = "";
	int listed = 1;
	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > 7 && strncmp(p, "# TYPE ", 7) == 0) {
			size_t n = metric_name(p + 7);
			snprintf(fam, sizeof fam, "%.*s", (int)n, p + 7);
			listed = 0;
		} else if (len > 0 && p[0] != '#' && !listed) {
			vt_buf_puts(names, fam);
			vt_buf_putc(names, '\n');
			listed = 1;
		}
		p += len + (eol != NULL);
	}
}

static const uint32_t part_of_type[] = { 3, 2, 4, 5, 7 };

static void check_protobuf(const struct vt_buf *pbuf, const char *text)
{
	struct pb r = { (const uint8_t *)pbuf->data,
	    (const uint8_t *)pbuf->data + pbuf->len };
	struct vt_buf names, want;
	vt_buf_init(&names);
	vt_buf_init(&want);
	text_families(text, &want);
	while (r.p < r.end) {
		uint64_t n = pb_varint(&r);
		FUZZ_ASSERT(n <= (uint64_t)(r.end - r.p), "protobuf: family "
		    "length past the end");
		struct pb fam = { r.p, r.p + n }, sub;
		r.p += n;
		uint32_t num;
		int wire;
		uint64_t v = 0, type = 99;
		size_t nmetrics = 0, namelen = 0;
		const uint8_t *name = NULL;
		struct pb metrics[MAX_SERIES];
		while (pb_field(&fam, &num, &wire, &v, &sub)) {
			if (num == 1) {
				name = sub.p;
				namelen = (size_t)(sub.end - sub.p);
			} else if (num == 3) {
				type = v;
			} else if (num == 4) {
				FUZZ_ASSERT(nmetrics < MAX_SERIES, "too many");
				metrics[nmetrics++] = sub;
			}
		}
		FUZZ_ASSERT(name && namelen > 0, "protobuf: family without name");
		FUZZ_ASSERT(type <= 4, "protobuf: family type %llu",
		    (unsigned long long)type);
		FUZZ_ASSERT(nmetrics > 0, "protobuf: family %.*s without metric",
		    (int)namelen, (const char *)name);
		vt_buf_append(&names, name, namelen);
		vt_buf_putc(&names, '\n');
		for (size_t i = 0; i < nmetrics; i++) {
			int parts = 0;
			while (pb_field(&metrics[i], &num, &wire, &v, &sub)) {
				if (num == 1) {
					struct pb l = sub, s2;
					uint32_t ln;
					int lw;
					while (pb_field(&l, &ln, &lw, &v, &s2))
						FUZZ_ASSERT(lw == 2, "label wire");
					continue;
				}
				FUZZ_ASSERT(num == part_of_type[type], "protobuf: "
				    "%.*s: Metric field %u for type %llu",
				    (int)namelen, (const char *)name, num,
				    (unsigned long long)type);
				parts++;
				if (num == 7)
					check_histogram(sub);
			}
			FUZZ_ASSERT(parts == 1, "protobuf: %d parts", parts);
		}
	}
	FUZZ_ASSERT(names.len == want.len && (names.len == 0 ||
	    memcmp(names.data, want.data, names.len) == 0),
	    "protobuf families\n%s\nare not the text's\n%s",
	    names.data ? names.data : "", want.data ? want.data : "");
	vt_buf_fini(&names);
	vt_buf_fini(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	uint64_t before = 0, counted = 0;
	for (int r = 0; r < VT_LINE_RESULT_COUNT; r++)
		before += stats.lines[r];

	FUZZ_ASSERT(vt_agg_size(agg) == 0, "metrics left from the last input");
	vt_ingest_datagram(in, buf, size, NULL);
	FUZZ_ASSERT(vt_agg_size(agg) <= MAX_METRICS, "%zu live metrics",
	    vt_agg_size(agg));

	/* Every non-blank line counted exactly once (unless the body was
	 * JSON, which goes elsewhere as a whole). */
	for (int r = 0; r < VT_LINE_RESULT_COUNT; r++)
		counted += stats.lines[r];
	counted -= before;
	if (size > 0 && buf[0] != '{' && buf[0] != '[') {
		uint64_t lines = 0;
		for (const char *p = buf, *end = buf + size; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *eol = nl ? nl : end;
			if (vt_statsd_classify(p, (size_t)(eol - p)) !=
			    VT_LINE_KIND_EMPTY)
				lines++;
			p = eol + 1;
		}
		FUZZ_ASSERT(counted == lines, "%llu lines counted, %llu sent",
		    (unsigned long long)counted, (unsigned long long)lines);
	}

	struct vt_sink sink = vt_prom_sink(prom);
	clock_now += 10;
	struct vt_flush *f = vt_agg_close_window(agg, clock_now, 10.0);
	sink.flush(sink.ctx, f);
	vt_flush_release(f);
	for (int om = 0; om <= 1; om++) {
		struct vt_buf out;
		vt_buf_init(&out);
		vt_prom_render(prom, &out, om ? VT_PROM_OPENMETRICS :
		    VT_PROM_TEXT);
		check_exposition(out.data, out.len, om);
		if (!om) {
			struct vt_buf pbuf;
			vt_buf_init(&pbuf);
			vt_prom_render(prom, &pbuf, VT_PROM_PROTOBUF);
			check_protobuf(&pbuf, out.data ? out.data : "");
			vt_buf_fini(&pbuf);
		}
		vt_buf_fini(&out);
	}
	/* An empty window later than metric_ttl: everything expires. */
	clock_now += 10;
	vt_flush_release(vt_agg_close_window(agg, clock_now, 10.0));
	return 0;
}
