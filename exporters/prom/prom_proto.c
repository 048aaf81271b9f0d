/*
 * prom_proto.c - the delimited protobuf exposition (see prom_proto.h):
 * the wire format, families, labels, native histograms, and the
 * re-encoding of the text other modules write.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/varint.h"
#include "exporters/prom/prom_proto.h"

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2 };

/* Field numbers (metrics.proto). */
enum {
	FAMILY_NAME = 1, FAMILY_HELP = 2, FAMILY_TYPE = 3, FAMILY_METRIC = 4,
	METRIC_LABEL = 1, METRIC_GAUGE = 2, METRIC_COUNTER = 3,
	METRIC_SUMMARY = 4, METRIC_UNTYPED = 5, METRIC_HISTOGRAM = 7,
	LABEL_NAME = 1, LABEL_VALUE = 2,
	VALUE = 1,                          /* Gauge, Counter, Untyped */
	SUMMARY_COUNT = 1, SUMMARY_SUM = 2, SUMMARY_QUANTILE = 3,
	QUANTILE_QUANTILE = 1, QUANTILE_VALUE = 2,
	HIST_COUNT = 1, HIST_SUM = 2, HIST_BUCKET = 3, HIST_SCHEMA = 5,
	HIST_ZERO_THRESHOLD = 6, HIST_ZERO_COUNT = 7, HIST_NEG_SPAN = 9,
	HIST_NEG_DELTA = 10, HIST_POS_SPAN = 12, HIST_POS_DELTA = 13,
	BUCKET_COUNT = 1, BUCKET_UPPER = 2,
	SPAN_OFFSET = 1, SPAN_LENGTH = 2,
};

void vt_prom_proto_varint(struct vt_buf *b, uint64_t v)
{
	uint8_t tmp[VT_VARINT_MAX];
	vt_buf_append(b, tmp, vt_varint_put(tmp, v));
}

static void tag(struct vt_buf *b, uint32_t field, unsigned wire)
{
	vt_prom_proto_varint(b, (uint64_t)field << 3 | wire);
}

void vt_prom_proto_uint(struct vt_buf *b, uint32_t field, uint64_t v)
{
	tag(b, field, WIRE_VARINT);
	vt_prom_proto_varint(b, v);
}

void vt_prom_proto_sint(struct vt_buf *b, uint32_t field, int64_t v)
{
	tag(b, field, WIRE_VARINT);
	vt_prom_proto_varint(b, vt_zigzag(v));
}

void vt_prom_proto_double(struct vt_buf *b, uint32_t field, double v)
{
	uint64_t bits;
	uint8_t le[8];
	memcpy(&bits, &v, sizeof bits);
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(bits >> (8 * i));
	tag(b, field, WIRE_FIXED64);
	vt_buf_append(b, le, sizeof le);
}

void vt_prom_proto_bytes(struct vt_buf *b, uint32_t field, const void *p,
    size_t len)
{
	tag(b, field, WIRE_LEN);
	vt_prom_proto_varint(b, len);
	vt_buf_append(b, p, len);
}

size_t vt_prom_proto_open(struct vt_buf *b, uint32_t field)
{
	if (field)
		tag(b, field, WIRE_LEN);
	vt_buf_putc(b, 0);          /* the length, if it fits one byte */
	return b->len - 1;
}

void vt_prom_proto_close(struct vt_buf *b, size_t mark)
{
	size_t body = b->len - mark - 1;
	size_t n = vt_varint_len(body);
	if (n > 1) {
		vt_buf_reserve(b, n - 1);
		memmove(b->data + mark + n, b->data + mark + 1, body);
		b->len += n - 1;
		b->data[b->len] = '\0';
	}
	for (size_t i = 0; i < n; i++, body >>= 7)
		b->data[mark + i] = (char)((body & 0x7f) | (i + 1 < n ? 0x80 : 0));
}

size_t vt_prom_proto_family(struct vt_buf *b, const char *name, size_t len,
    const char *help, size_t hlen, enum vt_prom_proto_type type)
{
	size_t mark = vt_prom_proto_open(b, 0);
	vt_prom_proto_bytes(b, FAMILY_NAME, name, len);
	vt_prom_proto_bytes(b, FAMILY_HELP, help, hlen);
	vt_prom_proto_uint(b, FAMILY_TYPE, (uint64_t)type);
	return mark;
}

/* ---- labels ----------------------------------------------------------- */

/*
 * Label text `a="x",b="y"` into LabelPair fields, except the label named
 * skip (NULL: none), whose value goes to *skipped (NaN when absent).
 * Returns 0 or -1.
 */
static int put_labels(struct vt_buf *b, const char *p, const char *end,
    const char *skip, double *skipped)
{
	size_t skiplen = skip ? strlen(skip) : 0;
	struct vt_buf val;

	if (skipped)
		*skipped = NAN;
	vt_buf_init(&val);
	while (p < end) {
		const char *name = p;
		while (p < end && *p != '=')
			p++;
		if (p + 1 >= end || p[1] != '"' || p == name)
			goto bad;
		size_t nlen = (size_t)(p - name);
		p += 2;
		vt_buf_reset(&val);
		while (p < end && *p != '"') {
			const char *run = p;
			while (p < end && *p != '"' && *p != '\\')
				p++;
			vt_buf_append(&val, run, (size_t)(p - run));
			if (p < end && *p == '\\') {
				if (p + 1 >= end)
					goto bad;
				vt_buf_putc(&val, p[1] == 'n' ? '\n' : p[1]);
				p += 2;
			}
		}
		if (p >= end)
			goto bad;
		p++;                            /* the closing quote */
		if (p < end && *p++ != ',')
			goto bad;
		if (skip && nlen == skiplen && memcmp(name, skip, nlen) == 0) {
			if (skipped) {
				char *e;
				double v = strtod(val.data ? val.data : "", &e);
				*skipped = e != val.data ? v : NAN;
			}
			continue;
		}
		size_t mark = vt_prom_proto_open(b, METRIC_LABEL);
		vt_prom_proto_bytes(b, LABEL_NAME, name, nlen);
		vt_prom_proto_bytes(b, LABEL_VALUE, val.data ? val.data : "",
		    val.len);
		vt_prom_proto_close(b, mark);
	}
	vt_buf_fini(&val);
	return 0;
bad:
	vt_buf_fini(&val);
	return -1;
}

int vt_prom_proto_labels(struct vt_buf *b, const char *text, size_t len)
{
	return put_labels(b, text, text + len, NULL, NULL);
}

/* ---- native histograms ------------------------------------------------ */

/* The spans (field spanf) and deltas (field deltaf) of one sign. Returns
 * the number of buckets. */
static size_t put_sign(struct vt_buf *b, const struct vt_native_hist *h,
    int negative, uint32_t spanf, uint32_t deltaf)
{
	struct vt_native_hist_iter it;
	size_t n = 0;
	int32_t start = 0, next = 0;
	uint32_t len = 0;

	vt_native_hist_iter_init(&it, h, negative);
	while (vt_native_hist_next(&it)) {
		if (len && it.index == start + (int32_t)len) {
			len++;
			continue;
		}
		if (len) {
			size_t m = vt_prom_proto_open(b, spanf);
			vt_prom_proto_sint(b, SPAN_OFFSET, n ? start - next :
			    start);
			vt_prom_proto_uint(b, SPAN_LENGTH, len);
			vt_prom_proto_close(b, m);
			n += len;
			next = start + (int32_t)len;
		}
		start = it.index;
		len = 1;
	}
	if (len) {
		size_t m = vt_prom_proto_open(b, spanf);
		vt_prom_proto_sint(b, SPAN_OFFSET, n ? start - next : start);
		vt_prom_proto_uint(b, SPAN_LENGTH, len);
		vt_prom_proto_close(b, m);
		n += len;
	}
	if (n == 0)
		return 0;
	size_t m = vt_prom_proto_open(b, deltaf);      /* packed sint64 */
	uint64_t prev = 0;
	vt_native_hist_iter_init(&it, h, negative);
	while (vt_native_hist_next(&it)) {
		vt_prom_proto_varint(b, vt_zigzag((int64_t)(it.count - prev)));
		prev = it.count;
	}
	vt_prom_proto_close(b, m);
	return n;
}

void vt_prom_proto_native(struct vt_buf *b, const struct vt_native_hist *h,
    double scale)
{
	vt_prom_proto_uint(b, HIST_COUNT, h ? h->count : 0);
	vt_prom_proto_sint(b, HIST_SCHEMA, VT_NATIVE_HIST_SCHEMA);
	vt_prom_proto_double(b, HIST_ZERO_THRESHOLD, h ? h->zero_threshold :
	    VT_SKETCH_MIN_VALUE / scale);
	if (h && h->zero)
		vt_prom_proto_uint(b, HIST_ZERO_COUNT, h->zero);
	size_t n = put_sign(b, h, 1, HIST_NEG_SPAN, HIST_NEG_DELTA);
	n += put_sign(b, h, 0, HIST_POS_SPAN, HIST_POS_DELTA);
	if (n == 0) {                   /* a no-op span: "native, empty" */
		size_t m = vt_prom_proto_open(b, HIST_POS_SPAN);
		vt_prom_proto_close(b, m);
	}
}

/* ---- from text -------------------------------------------------------- */

enum role { ROLE_VALUE, ROLE_SUM, ROLE_COUNT, ROLE_BUCKET, ROLE_QUANTILE };

struct tr {
	struct vt_buf *out;
	struct vt_buf name;        /* the open family's name */
	int family_open;
	size_t family_mark;
	size_t nmetrics;           /* of the open family */
	int type;                  /* enum vt_prom_proto_type; -1: no TYPE */
	int metric_open;
	size_t metric_mark, sub_mark;
	struct vt_buf labels;      /* the open metric's LabelPairs */
	struct vt_buf scratch;
};

static void close_metric(struct tr *t)
{
	if (!t->metric_open)
		return;
	vt_prom_proto_close(t->out, t->sub_mark);
	vt_prom_proto_close(t->out, t->metric_mark);
	t->metric_open = 0;
}

/* A family without samples is left out: the text has its HELP and TYPE,
 * but a scraper may read the first metric of a histogram family to tell
 * native from classic, and one with none tells it nothing. */
static void close_family(struct tr *t)
{
	close_metric(t);
	if (t->family_open && t->nmetrics == 0) {
		t->out->len = t->family_mark;
		if (t->out->data)
			t->out->data[t->out->len] = '\0';
	} else if (t->family_open) {
		if (t->type < 0)
			vt_prom_proto_uint(t->out, FAMILY_TYPE,
			    VT_PROM_PROTO_UNTYPED);
		vt_prom_proto_close(t->out, t->family_mark);
	}
	t->family_open = 0;
}

static int same(const struct vt_buf *b, const char *p, size_t len)
{
	return b->len == len && (len == 0 || memcmp(b->data, p, len) == 0);
}

/* Make name[0..len) the open family. */
static void family(struct tr *t, const char *name, size_t len)
{
	if (t->family_open && same(&t->name, name, len))
		return;
	close_family(t);
	vt_buf_reset(&t->name);
	vt_buf_append(&t->name, name, len);
	t->family_mark = vt_prom_proto_open(t->out, 0);
	vt_prom_proto_bytes(t->out, FAMILY_NAME, name, len);
	t->family_open = 1;
	t->nmetrics = 0;
	t->type = -1;
}

static const struct {
	const char *text;
	int type;
} type_names[] = {
	{ "counter", VT_PROM_PROTO_COUNTER },
	{ "gauge", VT_PROM_PROTO_GAUGE },
	{ "summary", VT_PROM_PROTO_SUMMARY },
	{ "untyped", VT_PROM_PROTO_UNTYPED },
	{ "histogram", VT_PROM_PROTO_HISTOGRAM },
};

/* "# HELP name text" or "# TYPE name type"; other comments are skipped.
 * Returns 0 or -1. */
static int comment(struct tr *t, const char *p, const char *end)
{
	int help;
	if (end - p > 7 && memcmp(p, "# HELP ", 7) == 0)
		help = 1;
	else if (end - p > 7 && memcmp(p, "# TYPE ", 7) == 0)
		help = 0;
	else
		return 0;
	p += 7;
	const char *name = p;
	while (p < end && *p != ' ')
		p++;
	family(t, name, (size_t)(p - name));
	if (p < end)
		p++;
	if (help) {
		vt_buf_reset(&t->scratch);
		while (p < end) {
			if (*p == '\\' && p + 1 < end) {
				vt_buf_putc(&t->scratch, p[1] == 'n' ? '\n' : p[1]);
				p += 2;
			} else {
				vt_buf_putc(&t->scratch, *p++);
			}
		}
		vt_prom_proto_bytes(t->out, FAMILY_HELP, t->scratch.data ?
		    t->scratch.data : "", t->scratch.len);
		return 0;
	}
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
		size_t n = strlen(type_names[i].text);
		if ((size_t)(end - p) == n && memcmp(p, type_names[i].text, n) ==
		    0 && t->type < 0) {
			t->type = type_names[i].type;
			vt_prom_proto_uint(t->out, FAMILY_TYPE,
			    (uint64_t)t->type);
			return 0;
		}
	}
	return -1;
}

/* The role of a sample named name[0..len) in the open family, or -1. */
static int role_of(const struct tr *t, const char *name, size_t len)
{
	static const struct {
		const char *suf;
		int role;
	} sufs[] = {
		{ "_sum", ROLE_SUM }, { "_count", ROLE_COUNT },
		{ "_bucket", ROLE_BUCKET },
	};
	if (!t->family_open)
		return -1;
	int type = t->type < 0 ? VT_PROM_PROTO_UNTYPED : t->type;
	if (same(&t->name, name, len))
		return type == VT_PROM_PROTO_SUMMARY ? ROLE_QUANTILE :
		    type == VT_PROM_PROTO_HISTOGRAM ? -1 : ROLE_VALUE;
	if (type != VT_PROM_PROTO_SUMMARY && type != VT_PROM_PROTO_HISTOGRAM)
		return -1;
	for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++) {
		size_t n = strlen(sufs[i].suf);
		if (len == t->name.len + n && memcmp(name, t->name.data,
		    t->name.len) == 0 && memcmp(name + t->name.len, sufs[i].suf,
		    n) == 0 && (sufs[i].role != ROLE_BUCKET ||
		    type == VT_PROM_PROTO_HISTOGRAM))
			return sufs[i].role;
	}
	return -1;
}

static uint64_t count_of(double v)
{
	return v >= 0 && v < 1.8e19 ? (uint64_t)llround(v) : 0;
}

/* One sample line. Returns 0 or -1. */
static int sample(struct tr *t, const char *p, const char *end)
{
	const char *name = p;
	while (p < end && *p != '{' && *p != ' ')
		p++;
	size_t nlen = (size_t)(p - name);
	const char *lab = p, *lab_end = p;
	if (p < end && *p == '{') {
		lab = ++p;
		int quoted = 0;
		for (; p < end && (quoted || *p != '}'); p++) {
			if (*p == '\\' && quoted)
				p++;
			else if (*p == '"')
				quoted = !quoted;
		}
		if (p >= end)
			return -1;
		lab_end = p++;
	}
	while (p < end && *p == ' ')
		p++;
	char num[64];
	size_t vlen = 0;
	while (p < end && *p != ' ' && vlen + 1 < sizeof num)
		num[vlen++] = *p++;
	num[vlen] = '\0';
	char *e;
	double v = strtod(num, &e);
	if (vlen == 0 || *e != '\0' || nlen == 0)
		return -1;

	int role = role_of(t, name, nlen);
	if (role < 0) {
		if (t->family_open && same(&t->name, name, nlen))
			return -1;             /* e.g. a histogram's own name */
		family(t, name, nlen);         /* a sample without TYPE */
		role = ROLE_VALUE;
	}
	int type = t->type < 0 ? VT_PROM_PROTO_UNTYPED : t->type;
	double extra;
	vt_buf_reset(&t->scratch);
	if (put_labels(&t->scratch, lab, lab_end, role == ROLE_QUANTILE ?
	    "quantile" : role == ROLE_BUCKET ? "le" : NULL, &extra) < 0)
		return -1;
	if (!t->metric_open || !same(&t->labels, t->scratch.data,
	    t->scratch.len)) {
		static const uint32_t sub[] = {
			[VT_PROM_PROTO_COUNTER] = METRIC_COUNTER,
			[VT_PROM_PROTO_GAUGE] = METRIC_GAUGE,
			[VT_PROM_PROTO_SUMMARY] = METRIC_SUMMARY,
			[VT_PROM_PROTO_UNTYPED] = METRIC_UNTYPED,
			[VT_PROM_PROTO_HISTOGRAM] = METRIC_HISTOGRAM,
		};
		close_metric(t);
		vt_buf_reset(&t->labels);
		vt_buf_append(&t->labels, t->scratch.data ? t->scratch.data :
		    "", t->scratch.len);
		t->metric_mark = vt_prom_proto_open(t->out, FAMILY_METRIC);
		vt_buf_append(t->out, t->scratch.data ? t->scratch.data : "",
		    t->scratch.len);
		t->sub_mark = vt_prom_proto_open(t->out, sub[type]);
		t->metric_open = 1;
		t->nmetrics++;
	}
	size_t m;
	switch (role) {
	case ROLE_VALUE:
		vt_prom_proto_double(t->out, VALUE, v);
		break;
	case ROLE_SUM:
		vt_prom_proto_double(t->out, SUMMARY_SUM, v);
		break;
	case ROLE_COUNT:
		vt_prom_proto_uint(t->out, SUMMARY_COUNT, count_of(v));
		break;
	case ROLE_QUANTILE:
		m = vt_prom_proto_open(t->out, SUMMARY_QUANTILE);
		vt_prom_proto_double(t->out, QUANTILE_QUANTILE, extra);
		vt_prom_proto_double(t->out, QUANTILE_VALUE, v);
		vt_prom_proto_close(t->out, m);
		break;
	case ROLE_BUCKET:
		m = vt_prom_proto_open(t->out, HIST_BUCKET);
		vt_prom_proto_uint(t->out, BUCKET_COUNT, count_of(v));
		vt_prom_proto_double(t->out, BUCKET_UPPER, extra);
		vt_prom_proto_close(t->out, m);
		break;
	}
	return 0;
}

size_t vt_prom_proto_from_text(struct vt_buf *out, const char *text,
    size_t len)
{
	struct tr t = { .out = out, .type = -1 };
	const char *p = text, *end = text + len;
	size_t skipped = 0;

	vt_buf_init(&t.name);
	vt_buf_init(&t.labels);
	vt_buf_init(&t.scratch);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		int rc = 0;
		if (eol > p)
			rc = *p == '#' ? comment(&t, p, eol) : sample(&t, p, eol);
		skipped += rc < 0;
		p = eol < end ? eol + 1 : end;
	}
	close_family(&t);
	vt_buf_fini(&t.name);
	vt_buf_fini(&t.labels);
	vt_buf_fini(&t.scratch);
	return skipped;
}
