/*
 * fuzz_statsd.c - the statsd / DogStatsD metric line parser (statsd.h).
 *
 * The input is one line, given to the parser in a heap block of exactly
 * its size (libFuzzer's), so a read past the end is caught. Invariants
 * checked on every accepted line:
 * - name, tags and set member slices lie inside the line; the name is
 *   1..VT_NAME_MAX bytes without '|', '#', ':' or control bytes;
 * - the value is finite and equals what strtod reads from the value text
 *   (the fast decimal path must be exact); the sample rate is in (0, 1]
 *   and is 1 for gauges and sets;
 * - the tag list iterates to at most VT_MAX_TAGS non-empty keys;
 * - parsing is deterministic, and service attribution and the
 *   Prometheus, file name and Graphite path sanitisers keep their
 *   alphabets (a Graphite component is 1..VT_GRAPHITE_COMPONENT_MAX bytes
 *   of [A-Za-z0-9_-]; a dotted name has no empty level).
 * The same input is also read as a buffer of '\n'-separated lines by the
 * fast path (vt_statsd_parse_run): every line it takes must be one that
 * vt_statsd_parse accepts with the very same sample, and it must stop at
 * the start of a line.
 */
#include <math.h>

#include "collector/base/line_result.h"
#include "collector/statsd/statsd.h"
#include "collector/statsd/tags.h"
#include "exporters/graphite/graphite.h"
#include "fuzz_common.h"

static int graphite_byte(char c)
{
	return c == '_' || c == '-' || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static void check_graphite(struct vt_slice metric)
{
	struct vt_buf b;
	char text[VT_NAME_MAX + 1];
	vt_buf_init(&b);
	vt_graphite_component(&b, metric.ptr, metric.len);
	FUZZ_ASSERT(b.len > 0 && b.len <= VT_GRAPHITE_COMPONENT_MAX,
	    "graphite component of %zu bytes", b.len);
	for (size_t i = 0; i < b.len; i++)
		FUZZ_ASSERT(graphite_byte(b.data[i]), "graphite byte 0x%02x",
		    (unsigned char)b.data[i]);

	size_t n = metric.len < VT_NAME_MAX ? metric.len : VT_NAME_MAX;
	memcpy(text, metric.ptr, n);
	text[n] = '\0';
	vt_buf_reset(&b);
	vt_graphite_dotted(&b, text);
	FUZZ_ASSERT(b.len > 0 && b.data[0] != '.' && b.data[b.len - 1] != '.'
	    && strstr(b.data, "..") == NULL, "graphite levels \"%s\"", b.data);
	for (size_t i = 0; i < b.len; i++)
		FUZZ_ASSERT(b.data[i] == '.' || graphite_byte(b.data[i]),
		    "graphite byte 0x%02x", (unsigned char)b.data[i]);
	vt_buf_fini(&b);
}

static void check_names(struct vt_slice name)
{
	struct vt_slice service, metric, none = { NULL, 0 };
	char out[VT_NAME_MAX * 4 + 8];

	vt_names_split(name, none, &service, &metric);
	FUZZ_ASSERT(service.len > 0 && metric.len > 0, "empty split part");

	size_t n = vt_names_prometheus(out, sizeof out, metric.ptr, metric.len);
	FUZZ_ASSERT(n < sizeof out && n <= metric.len + 1, "prom len %zu", n);
	FUZZ_ASSERT(!(out[0] >= '0' && out[0] <= '9'), "leading digit");
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(out[i] == '_' || (out[i] >= 'a' && out[i] <= 'z') ||
		    (out[i] >= 'A' && out[i] <= 'Z') ||
		    (out[i] >= '0' && out[i] <= '9'), "prom byte 0x%02x",
		    (unsigned char)out[i]);

	n = vt_names_file(out, sizeof out, metric.ptr, metric.len);
	FUZZ_ASSERT(n < sizeof out && n > 0 && out[0] != '.', "file name");
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(strchr("._-", out[i]) != NULL ||
		    (out[i] >= 'a' && out[i] <= 'z') ||
		    (out[i] >= 'A' && out[i] <= 'Z') ||
		    (out[i] >= '0' && out[i] <= '9'), "file byte 0x%02x",
		    (unsigned char)out[i]);

	check_graphite(metric);
}

/* The value text is between the ':' ending the name and the next '|'. */
static void check_value(const char *line, size_t len,
    const struct vt_sample *s)
{
	const char *v = s->name.ptr + s->name.len + 1;
	const char *end = line + len;
	const char *bar = memchr(v, '|', (size_t)(end - v));
	FUZZ_ASSERT(bar != NULL, "accepted line without '|'");
	size_t n = (size_t)(bar - v);
	FUZZ_ASSERT(n > 0 && n <= VT_NAME_MAX, "value text of %zu bytes", n);
	if (s->kind == VT_SET) {
		FUZZ_ASSERT(s->set_member.ptr == v && s->set_member.len == n,
		    "set member is not the value text");
		return;
	}
	char text[VT_NAME_MAX + 1];
	memcpy(text, v, n);
	text[n] = '\0';
	char *stop;
	double want = strtod(text, &stop);
	FUZZ_ASSERT(*stop == '\0', "strtod stops early in \"%s\"", text);
	FUZZ_ASSERT(memcmp(&want, &s->value, sizeof want) == 0 ||
	    (want == 0 && s->value == 0),
	    "\"%s\": parser %.17g, strtod %.17g", text, s->value, want);
	FUZZ_ASSERT(s->gauge_delta == (s->kind == VT_GAUGE &&
	    (text[0] == '+' || text[0] == '-')), "gauge_delta");
}

static void check_run(const char *buf, size_t size)
{
	struct vt_sample run[8], slow;
	const char *p = buf, *end = buf + size, *next;
	size_t n = vt_statsd_parse_run(buf, end, run, 8, &next);

	FUZZ_ASSERT(n <= 8 && next >= buf && next <= end, "run bounds");
	FUZZ_ASSERT(n == 8 || next == end || next == buf || next[-1] == '\n',
	    "run stopped inside a line");
	for (size_t i = 0; i < n; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		FUZZ_ASSERT(vt_statsd_parse(p, (size_t)(eol - p), &slow) ==
		    VT_LINE_OK, "run took line %zu, parse rejects it", i);
		FUZZ_ASSERT(memcmp(&slow, &run[i], sizeof slow) == 0,
		    "run and parse differ on line %zu", i);
		p = nl ? nl + 1 : end;
	}
	FUZZ_ASSERT(p == next, "run's next is not after its last line");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct vt_sample s, again;
	enum vt_line_result r = vt_statsd_parse(line, size, &s);

	check_run(line, size);
	FUZZ_ASSERT((unsigned)r < VT_LINE_TYPE_CONFLICT, "result %d", r);
	FUZZ_ASSERT(vt_statsd_parse(line, size, &again) == r, "not deterministic");
	enum vt_line_kind kind = vt_statsd_classify(line, size);
	FUZZ_ASSERT(kind <= VT_LINE_KIND_EMPTY, "kind %d", kind);
	if (r != VT_LINE_OK)
		return 0;

	/* The daemon classifies first (events never reach the parser), so
	 * only "_sc|" and blank lines are impossible here. */
	FUZZ_ASSERT(kind == VT_LINE_KIND_METRIC || kind == VT_LINE_KIND_EVENT,
	    "accepted a line of kind %d", kind);
	FUZZ_ASSERT(fuzz_inside(s.name.ptr, s.name.len, line, size),
	    "name outside the line");
	FUZZ_ASSERT(s.name.len > 0 && s.name.len <= VT_NAME_MAX, "name len");
	FUZZ_ASSERT(fuzz_no_controls(s.name.ptr, s.name.len, ""),
	    "control byte in name");
	FUZZ_ASSERT(memchr(s.name.ptr, '|', s.name.len) == NULL &&
	    memchr(s.name.ptr, '#', s.name.len) == NULL &&
	    memchr(s.name.ptr, ':', s.name.len) == NULL, "stop byte in name");
	FUZZ_ASSERT(isfinite(s.value), "value %g", s.value);
	FUZZ_ASSERT((unsigned)s.kind < VT_KIND_COUNT, "kind %d", s.kind);
	FUZZ_ASSERT(s.sample_rate > 0 && s.sample_rate <= 1, "rate %g",
	    s.sample_rate);
	if (s.kind == VT_GAUGE || s.kind == VT_SET)
		FUZZ_ASSERT(s.sample_rate == 1, "rate kept for kind %d", s.kind);
	if (s.kind != VT_SET)
		FUZZ_ASSERT(s.set_member.ptr == NULL && s.set_member.len == 0,
		    "set member on kind %d", s.kind);
	FUZZ_ASSERT(fuzz_inside(s.tags.ptr, s.tags.len, line, size),
	    "tags outside the line");
	FUZZ_ASSERT(memcmp(&s, &again, sizeof s) == 0, "not deterministic");
	check_value(line, size, &s);

	size_t pos = 0, ntags = 0;
	struct vt_slice key, value;
	while (vt_tags_next(s.tags, &pos, &key, &value)) {
		ntags++;
		FUZZ_ASSERT(ntags <= VT_MAX_TAGS, "more than %d tags",
		    VT_MAX_TAGS);
		FUZZ_ASSERT(key.len > 0 && key.len <= VT_NAME_MAX, "tag key len");
		FUZZ_ASSERT(fuzz_inside(key.ptr, key.len, s.tags.ptr, s.tags.len) &&
		    fuzz_inside(value.ptr, value.len, s.tags.ptr, s.tags.len),
		    "tag outside the list");
		FUZZ_ASSERT(fuzz_no_controls(key.ptr, key.len, "") &&
		    (value.ptr == NULL ||
		    fuzz_no_controls(value.ptr, value.len, "")), "tag controls");
	}
	FUZZ_ASSERT(s.tags.len == 0 || ntags > 0, "tag list without tags");
	check_names(s.name);
	return 0;
}
