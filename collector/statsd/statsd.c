/*
 * statsd.c - the statsd / DogStatsD line parser (see statsd.h for the
 * grammar and every decision about edge cases).
 *
 * The hottest code in the daemon: every received metric line passes
 * through vt_statsd_parse once. Pure functions, no allocation, no state;
 * every slice in a result borrows the caller's line.
 *
 * The common line ("svc.api.requests.total:1|c") is read in one pass: the
 * name is scanned 16 bytes at a time for ':' and forbidden bytes, the
 * value is read by a decimal fast path that yields the very double strtod
 * would, and the type is matched by hand. strtod only runs for exponents,
 * long mantissas and other rare forms, on a bounded NUL-terminated copy.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/line_result.h"
#include "collector/statsd/statsd.h"

/*
 * The fast path divides an exact integer (<= 2^53) by an exact power of
 * ten (10^k, k <= 22): IEEE division rounds correctly, so the quotient is
 * the correctly rounded decimal, which is what strtod returns. That needs
 * double arithmetic without excess precision.
 */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define VT_STATSD_FAST_DECIMAL 1
#else
#define VT_STATSD_FAST_DECIMAL 0
#endif

#define FAST_MAX_DIGITS 19                      /* fits a uint64_t */
#define FAST_MAX_MANTISSA (UINT64_C(1) << 53)   /* exact in a double */

/* 10^0 .. 10^22 are exact doubles. */
static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * How names and tags are scanned for their stop bytes (VT_STATSD_SCAN):
 *   2  SSE2, sixteen bytes a step (every x86-64), then as 1 for a tail;
 *   1  SWAR, eight bytes a step in a uint64_t (little-endian GCC/clang);
 *   0  byte by byte (anything else).
 * Always inlined: a call per line cost more than the scan of a short name,
 * and the constants stay in registers across a run of lines.
 * Each level finishes with the ones below it. -DVT_STATSD_SCAN=<n> forces
 * a lower level; the test suite is run at every level.
 */
#ifndef VT_STATSD_SCAN
#if defined(__SSE2__) && defined(__GNUC__)
#define VT_STATSD_SCAN 2
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VT_STATSD_SCAN 1
#else
#define VT_STATSD_SCAN 0
#endif
#endif

#if VT_STATSD_SCAN >= 2
#include <emmintrin.h>
#endif

#define BYTES(c) (UINT64_C(0x0101010101010101) * (c))

/* The high bit of each byte of w that is zero, exactly (no carry leaks
 * from one byte into the next). */
static inline uint64_t swar_zero(uint64_t w)
{
	return ~(((w & BYTES(0x7f)) + BYTES(0x7f)) | w | BYTES(0x7f));
}

static inline int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static inline int is_digit(char c)
{
	return (unsigned)(c - '0') < 10;
}

static inline int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Bytes that end a metric name (':' or a byte a name may not hold), or
 * one tag (',' or the '|' after the list, or a byte a tag may not hold). */
enum scan_mode { SCAN_NAME, SCAN_TAG };

static inline int is_stop(unsigned char c, enum scan_mode mode)
{
	if (mode == SCAN_NAME)
		return is_control(c) || c == ':' || c == '|' || c == '#';
	return is_control(c) || c == ',' || c == '|';
}

/* Control bytes are those with the top three bits clear, and 0x7f. */
static inline uint64_t swar_stops(uint64_t w, enum scan_mode mode)
{
	uint64_t m = swar_zero(w & BYTES(0xe0)) | swar_zero(w ^ BYTES(0x7f)) |
	    swar_zero(w ^ BYTES('|'));
	if (mode == SCAN_NAME)
		return m | swar_zero(w ^ BYTES(':')) | swar_zero(w ^ BYTES('#'));
	return m | swar_zero(w ^ BYTES(','));
}

#if VT_STATSD_SCAN >= 2
/* One bit per stop byte of the 16 at p (bit i for p[i]). */
static inline unsigned sse_stops(const char *p, enum scan_mode mode)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i c = _mm_or_si128(
	    _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1f)),
	    _mm_set1_epi8(0x1f)),
	    _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
	c = _mm_or_si128(c, _mm_cmpeq_epi8(x, _mm_set1_epi8('|')));
	if (mode == SCAN_NAME) {
		c = _mm_or_si128(c, _mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
		c = _mm_or_si128(c, _mm_cmpeq_epi8(x, _mm_set1_epi8('#')));
	} else {
		c = _mm_or_si128(c, _mm_cmpeq_epi8(x, _mm_set1_epi8(',')));
	}
	return (unsigned)_mm_movemask_epi8(c);
}
#endif

/*
 * The first stop byte in [p, end), or end. lo <= p is where readable
 * memory starts: a tail shorter than a step is read as the last step of
 * [lo, end), ignoring the bytes before p. Never reads outside [lo, end).
 */
static inline __attribute__((always_inline)) const char *scan(
    const char *lo, const char *p, const char *end, enum scan_mode mode)
{
#if VT_STATSD_SCAN >= 2
	unsigned bits;
	while (end - p >= 16) {
		bits = sse_stops(p, mode);
		if (bits)
			return p + __builtin_ctz(bits);
		p += 16;
	}
	if (p == end)
		return end;
	if (end - lo >= 16) {
		const char *q = end - 16;
		bits = sse_stops(q, mode) >> (p - q);
		return bits ? p + __builtin_ctz(bits) : end;
	}
#endif
#if VT_STATSD_SCAN >= 1
	uint64_t w, m;
	while (end - p >= 8) {
		memcpy(&w, p, sizeof w);
		m = swar_stops(w, mode);
		if (m)
			return p + (__builtin_ctzll(m) >> 3);
		p += 8;
	}
	if (p == end)
		return end;
	if (end - lo >= 8) {
		const char *q = end - 8;
		memcpy(&w, q, sizeof w);
		m = swar_stops(w, mode) >> (8 * (p - q));
		return m ? p + (__builtin_ctzll(m) >> 3) : end;
	}
#endif
	(void)lo;
	while (p < end && !is_stop((unsigned char)*p, mode))
		p++;
	return p;
}

static inline void trim(const char **p, const char **end)
{
	while (*p < *end && is_blank(**p))
		(*p)++;
	while (*end > *p && is_blank((*end)[-1]))
		(*end)--;
}

/* The next '|' in [p, end), or end. */
static inline const char *find_bar(const char *p, const char *end)
{
	const char *bar = memchr(p, '|', (size_t)(end - p));
	return bar ? bar : end;
}

static inline struct vt_slice slice(const char *p, const char *end)
{
	struct vt_slice s = { p, (size_t)(end - p) };
	return s;
}

static const struct vt_slice no_slice = { NULL, 0 };

/*
 * Decimal fast path: [+-]digits[.digits] with at most FAST_MAX_DIGITS
 * digits and a mantissa <= 2^53. Returns the first byte not consumed
 * (the caller checks it ends the value) and sets *out, or NULL when the
 * text is not of that form (the caller falls back to parse_number).
 */
static inline const char *fast_decimal(const char *p, const char *end,
    double *out)
{
	int neg = 0;
	uint64_t m = 0;
	size_t ndigits, nfrac = 0;
	const char *d0;

	if (p < end && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	d0 = p;
	while (p < end && is_digit(*p))
		m = m * 10 + (uint64_t)(*p++ - '0');   /* wraps only when too long */
	ndigits = (size_t)(p - d0);
	if (p < end && *p == '.') {
		const char *f0 = ++p;
		while (p < end && is_digit(*p))
			m = m * 10 + (uint64_t)(*p++ - '0');
		nfrac = (size_t)(p - f0);
		ndigits += nfrac;
	}
	if (!VT_STATSD_FAST_DECIMAL || ndigits == 0 ||
	    ndigits > FAST_MAX_DIGITS || m > FAST_MAX_MANTISSA)
		return NULL;
	double v = (double)m;
	if (nfrac)
		v /= pow10_exact[nfrac];
	*out = neg ? -v : v;
	return p;
}

/* Case-insensitive: is [p, end) exactly the lower-case word w? */
static int word_is(const char *p, const char *end, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(end - p) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((p[i] | 0x20) != w[i])
			return 0;
	return 1;
}

/*
 * The full number grammar (statsd.h), for what the fast path declines.
 * Validates the syntax itself, so strtod never sees hex, "nan", leading
 * blanks or other forms it would accept.
 */
static enum vt_line_result parse_number(const char *s, const char *end,
    double *out)
{
	const char *p = s;
	size_t ndigits = 0;
	char buf[VT_STATSD_NUMBER_MAX + 1];
	char *stop;

	if (p < end && (*p == '+' || *p == '-'))
		p++;
	if (word_is(p, end, "nan") || word_is(p, end, "inf") ||
	    word_is(p, end, "infinity"))
		return VT_LINE_NOT_FINITE;
	for (; p < end && is_digit(*p); p++)
		ndigits++;
	if (p < end && *p == '.')
		for (p++; p < end && is_digit(*p); p++)
			ndigits++;
	if (ndigits == 0)
		return VT_LINE_BAD_VALUE;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		const char *x0 = p;
		while (p < end && is_digit(*p))
			p++;
		if (p == x0)
			return VT_LINE_BAD_VALUE;
	}
	if (p != end || (size_t)(end - s) > VT_STATSD_NUMBER_MAX)
		return VT_LINE_BAD_VALUE;

	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	double v = strtod(buf, &stop);
	if (stop != buf + (end - s))
		return VT_LINE_BAD_VALUE;      /* a locale with another radix */
	if (!isfinite(v))
		return VT_LINE_NOT_FINITE;
	*out = v;
	return VT_LINE_OK;
}

/*
 * A number that ends at the next '|' (or end) from p: fast path first.
 * Sets *stop to that '|' or end.
 */
static inline enum vt_line_result parse_field_number(const char *p,
    const char *end, double *out, const char **stop)
{
	const char *q = fast_decimal(p, end, out);
	if (q && (q == end || *q == '|')) {
		*stop = q;
		return VT_LINE_OK;
	}
	*stop = find_bar(p, end);
	return parse_number(p, *stop, out);
}

/*
 * Validate a tag list starting at p; it runs to the next '|' or end. lo is
 * the start of the line (see scan). Returns where the list ends, or NULL
 * when it is invalid.
 */
static const char *scan_tags(const char *lo, const char *p, const char *end)
{
	unsigned ntags = 0;

	for (;;) {
		const char *q = scan(lo, p, end, SCAN_TAG);
		size_t n = (size_t)(q - p);
		if (n == 0 || *p == ':' || n > VT_NAME_MAX ||
		    ++ntags > VT_MAX_TAGS)
			return NULL;
		if (q == end || *q == '|')
			return q;
		if (*q != ',')
			return NULL;           /* a control byte */
		p = q + 1;
	}
}

/* Free text (set member, check instance): 1..VT_NAME_MAX bytes, no
 * control bytes. */
static int text_ok(const char *p, const char *end)
{
	if (p == end || (size_t)(end - p) > VT_NAME_MAX)
		return 0;
	for (; p < end; p++)
		if (is_control((unsigned char)*p))
			return 0;
	return 1;
}

/* DogStatsD sections we accept and ignore: c:<container id>,
 * e:<external data>, card:<cardinality>, T<unix timestamp>. */
static int is_extension(const char *s, const char *end)
{
	size_t n = (size_t)(end - s);
	if (n >= 2 && (s[0] == 'c' || s[0] == 'e') && s[1] == ':')
		return 1;
	if (n >= 5 && memcmp(s, "card:", 5) == 0)
		return 1;
	if (n >= 2 && s[0] == 'T') {
		for (s++; s < end; s++)
			if (!is_digit(*s))
				return 0;
		return 1;
	}
	return 0;
}

/* The type at t (c, g, s, h, d, ms): sets *kind and returns the byte
 * after it, or NULL for a missing or unknown type. */
static inline const char *parse_type(const char *t, const char *end,
    enum vt_kind *kind)
{
	if (t == end)
		return NULL;
	if (*t == 'c') {                    /* the usual type first */
		*kind = VT_COUNTER;
		return t + 1;
	}
	switch (*t) {
	case 'g':
		*kind = VT_GAUGE;
		return t + 1;
	case 's':
		*kind = VT_SET;
		return t + 1;
	case 'h':
	case 'd':
		*kind = VT_HISTOGRAM;
		return t + 1;
	case 'm':
		if (end - t < 2 || t[1] != 's')
			return NULL;
		*kind = VT_TIMER;
		return t + 2;
	default:
		return NULL;
	}
}

enum vt_line_kind vt_statsd_classify(const char *line, size_t len)
{
	const char *p = line, *end = line + len;
	/* Nearly every line starts with a name byte: no trim needed. */
	if (len > 0 && line[0] != '_' && !is_blank(line[0]))
		return VT_LINE_KIND_METRIC;
	trim(&p, &end);
	size_t n = (size_t)(end - p);
	if (n == 0)
		return VT_LINE_KIND_EMPTY;
	if (*p != '_')
		return VT_LINE_KIND_METRIC;
	if (n >= 4 && memcmp(p, "_sc|", 4) == 0)
		return VT_LINE_KIND_SERVICE_CHECK;
	if (n >= 3 && memcmp(p, "_e{", 3) == 0)
		return VT_LINE_KIND_EVENT;
	return VT_LINE_KIND_METRIC;
}

/* The sections after the type: |@rate, |#tags, DogStatsD extensions.
 * t points at the '|' that opens the first one; lo is the line start. */
static enum vt_line_result parse_sections(const char *lo, const char *t,
    const char *end, struct vt_sample *out)
{
	int have_rate = 0, have_tags = 0;
	enum vt_line_result r;

	while (t < end) {
		const char *s = t + 1;
		if (s == end)
			return VT_LINE_BAD_TYPE;
		if (*s == '@') {
			double rate;
			r = parse_field_number(s + 1, end, &rate, &t);
			if (have_rate++ || r != VT_LINE_OK ||
			    !(rate > 0 && rate <= 1))
				return VT_LINE_BAD_SAMPLE_RATE;
			if (out->kind != VT_GAUGE && out->kind != VT_SET)
				out->sample_rate = rate;
		} else if (*s == '#') {
			t = scan_tags(lo, s + 1, end);
			if (have_tags++ || t == NULL)
				return VT_LINE_BAD_TAGS;
			out->tags = slice(s + 1, t);
		} else {
			t = find_bar(s, end);
			if (!is_extension(s, t))
				return VT_LINE_BAD_TYPE;
		}
	}
	return VT_LINE_OK;
}

enum vt_line_result vt_statsd_parse(const char *line, size_t len,
    struct vt_sample *out)
{
	const char *p = line, *end = line + len;
	const char *colon, *v, *vend, *t;
	double value = 0;
	int fast;

	trim(&p, &end);
	colon = scan(p, p, end, SCAN_NAME);
	if (colon == end || *colon != ':')       /* a ':' later: a bad byte */
		return memchr(colon, ':', (size_t)(end - colon)) ?
		    VT_LINE_BAD_NAME : VT_LINE_MISSING_VALUE;
	if (colon == p || (size_t)(colon - p) > VT_NAME_MAX)
		return VT_LINE_BAD_NAME;

	/* The value runs to the first '|'; try the fast path on the way. */
	v = colon + 1;
	vend = fast_decimal(v, end, &value);
	fast = vend != NULL && vend < end && *vend == '|';
	if (!fast) {
		vend = memchr(v, '|', (size_t)(end - v));
		if (vend == NULL)
			return VT_LINE_BAD_TYPE;
	}

	t = parse_type(vend + 1, end, &out->kind);
	if (t == NULL || (t < end && *t != '|'))
		return VT_LINE_BAD_TYPE;

	out->name = slice(p, colon);
	out->tags = no_slice;
	out->set_member = no_slice;
	out->sample_rate = 1;
	out->gauge_delta = 0;
	if (out->kind == VT_SET) {
		if (!text_ok(v, vend))
			return VT_LINE_BAD_VALUE;
		out->set_member = slice(v, vend);
		out->value = 0;
	} else {
		if (!fast) {
			enum vt_line_result r = parse_number(v, vend, &value);
			if (r != VT_LINE_OK)
				return r;
		}
		out->value = value;
		if (out->kind == VT_GAUGE)
			out->gauge_delta = *v == '+' || *v == '-';
	}
	if (t == end)
		return VT_LINE_OK;
	return parse_sections(p, t, end, out);
}

/* A set member for the fast path: up to the next '|', no control bytes
 * and no ','. Returns that '|', or NULL to decline (the slow path decides
 * what a ',' or a control byte means). */
static inline const char *fast_member(const char *lo, const char *p,
    const char *end)
{
	const char *q = scan(lo, p, end, SCAN_TAG);
	if (q == end || *q != '|' || q == p || (size_t)(q - p) > VT_NAME_MAX)
		return NULL;
	return q;
}

size_t vt_statsd_parse_run(const char *buf, const char *end,
    struct vt_sample *out, size_t max, const char **next)
{
	const char *p = buf;
	size_t n = 0;

	while (n < max && p < end) {
		const char *colon, *v, *vend, *t;
		struct vt_sample *o = &out[n];
		double value = 0;
		int numeric = 1;        /* value holds the text's number */

		if (*p == '_' || *p == ' ')
			break;
		colon = scan(buf, p, end, SCAN_NAME);
		if (colon == end || *colon != ':' || colon == p ||
		    (size_t)(colon - p) > VT_NAME_MAX)
			break;
		v = colon + 1;
		if (end - v >= 2 && is_digit(v[0]) && v[1] == '|') {
			value = v[0] - '0';     /* "1|c": most counter lines */
			vend = v + 1;
		} else {
			vend = fast_decimal(v, end, &value);
			if (vend == NULL || vend == end || *vend != '|') {
				vend = fast_member(buf, v, end);
				numeric = 0;    /* only a set may use it */
			}
		}
		if (vend == NULL)
			break;
		t = parse_type(vend + 1, end, &o->kind);
		if (t == NULL || (t < end && *t != '\n'))
			break;
		o->name = slice(p, colon);
		o->tags = no_slice;
		o->sample_rate = 1;
		o->gauge_delta = 0;
		if (o->kind == VT_SET) {
			o->set_member = slice(v, vend);
			o->value = 0;
		} else {
			if (!numeric)
				break;  /* a number fast_decimal declined */
			o->set_member = no_slice;
			o->value = value;
			o->gauge_delta = o->kind == VT_GAUGE &&
			    (*v == '+' || *v == '-');
		}
		n++;
		p = t < end ? t + 1 : end;
	}
	*next = p;
	return n;
}

/* d:<unix ts>: 1-18 decimal digits (no sign, cannot overflow). */
static int parse_timestamp(const char *p, const char *end, int64_t *out)
{
	int64_t ts = 0;
	if (p == end || end - p > 18)
		return -1;
	for (; p < end; p++) {
		if (!is_digit(*p))
			return -1;
		ts = ts * 10 + (*p - '0');
	}
	*out = ts;
	return 0;
}

/* Check names follow the metric name rules, except that ':' is fine. */
static int check_name_ok(const char *p, const char *end)
{
	if (p == end || (size_t)(end - p) > VT_NAME_MAX)
		return 0;
	for (; p < end; p++)
		if (is_control((unsigned char)*p) || *p == '#')
			return 0;
	return 1;
}

enum vt_line_result vt_statsd_parse_check(const char *line, size_t len,
    struct vt_check_report *out)
{
	const char *p = line, *end = line + len;
	const char *lo, *bar, *st, *t;
	int have_d = 0, have_h = 0, have_tags = 0;

	trim(&p, &end);
	lo = p;
	if (end - p < 4 || memcmp(p, "_sc|", 4) != 0)
		return VT_LINE_BAD_SERVICE_CHECK;
	p += 4;
	bar = find_bar(p, end);
	if (!check_name_ok(p, bar))
		return VT_LINE_BAD_NAME;

	memset(out, 0, sizeof *out);
	out->name = slice(p, bar);
	st = bar + 1;
	if (bar == end || st == end || *st < '0' || *st > '3' ||
	    (st + 1 < end && st[1] != '|'))
		return VT_LINE_BAD_SERVICE_CHECK;
	out->status = (enum vt_status)(*st - '0');

	t = st + 1;
	while (t < end) {
		const char *s = t + 1;
		if (end - s >= 2 && s[0] == 'm' && s[1] == ':') {
			out->message = slice(s + 2, end);  /* always last */
			break;
		}
		if (s < end && *s == '#') {
			t = scan_tags(lo, s + 1, end);
			if (have_tags++ || t == NULL)
				return VT_LINE_BAD_TAGS;
			out->tags = slice(s + 1, t);
			continue;
		}
		t = find_bar(s, end);
		if (t - s >= 2 && s[0] == 'd' && s[1] == ':') {
			if (have_d++ || parse_timestamp(s + 2, t, &out->timestamp))
				return VT_LINE_BAD_SERVICE_CHECK;
		} else if (t - s >= 2 && s[0] == 'h' && s[1] == ':') {
			if (have_h++ || !text_ok(s + 2, t))
				return VT_LINE_BAD_SERVICE_CHECK;
			out->instance = slice(s + 2, t);
		} else if (!is_extension(s, t)) {
			return VT_LINE_BAD_SERVICE_CHECK;
		}
	}
	return VT_LINE_OK;
}
