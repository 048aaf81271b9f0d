/*
 * prom_text.c - the lexical layer of the exposition formats: escaping of
 * label values and HELP text (with UTF-8 repair), HELP/TYPE lines and
 * sample values. Shared by the exporter's files and by collectors.
 */
#include <math.h>
#include <string.h>

#include "collector/base/prom_text.h"
#include "collector/base/utf8.h"

#define REPLACEMENT "\xEF\xBF\xBD"

/*
 * Append s escaped: backslash and newline always, the double quote when
 * quote is set; ill-formed UTF-8 becomes U+FFFD. Plain runs are copied in
 * one append.
 */
static void escape(struct vt_buf *out, const char *s, int quote)
{
	const char *run = s;
	const char *p = s;

	while (*p) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x80 && c != '\\' && c != '\n' && (c != '"' || !quote)) {
			p++;
			continue;
		}
		if (p > run)
			vt_buf_append(out, run, (size_t)(p - run));
		if (c == '\\') {
			vt_buf_append(out, "\\\\", 2);
			p++;
		} else if (c == '\n') {
			vt_buf_append(out, "\\n", 2);
			p++;
		} else if (c == '"') {
			vt_buf_append(out, "\\\"", 2);
			p++;
		} else {
			/* A character is at most 4 bytes; the decoder stops at
			 * the first byte that is not a continuation byte, so it
			 * never reads past the terminating NUL. */
			size_t n;
			if (vt_utf8_next(p, 4, &n))
				vt_buf_append(out, p, n);
			else
				vt_buf_append(out, REPLACEMENT, 3);
			p += n;
		}
		run = p;
	}
	if (p > run)
		vt_buf_append(out, run, (size_t)(p - run));
}

void vt_prom_text_escape_label(struct vt_buf *out, const char *s)
{
	escape(out, s, 1);
}

void vt_prom_text_escape_help(struct vt_buf *out, const char *s)
{
	escape(out, s, 0);
}

void vt_prom_text_escape_help_fmt(struct vt_buf *out, const char *s,
    enum vt_prom_format fmt)
{
	escape(out, s, fmt == VT_PROM_OPENMETRICS);
}

static const char *const type_names[] = {
	[VT_PROM_COUNTER] = "counter",
	[VT_PROM_GAUGE] = "gauge",
	[VT_PROM_SUMMARY] = "summary",
};

/* The family name as HELP and TYPE lines spell it. */
static void put_family_name(struct vt_buf *out, const char *name, size_t len,
    enum vt_prom_type type, enum vt_prom_format fmt)
{
	vt_buf_append(out, name, len);
	if (type == VT_PROM_COUNTER && fmt == VT_PROM_TEXT)
		vt_buf_append(out, "_total", 6);
}

void vt_prom_text_head(struct vt_buf *out, const char *name, size_t len,
    enum vt_prom_type type, const char *help, enum vt_prom_format fmt)
{
	vt_buf_append(out, "# HELP ", 7);
	put_family_name(out, name, len, type, fmt);
	vt_buf_putc(out, ' ');
	vt_buf_puts(out, help);
	vt_buf_append(out, "\n# TYPE ", 8);
	put_family_name(out, name, len, type, fmt);
	vt_buf_putc(out, ' ');
	vt_buf_puts(out, type_names[type]);
	vt_buf_putc(out, '\n');
}

void vt_prom_text_u64(struct vt_buf *out, uint64_t v)
{
	char tmp[24];
	char *p = tmp + sizeof tmp;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	vt_buf_append(out, p, (size_t)(tmp + sizeof tmp - p));
}

/* Exact powers of ten: every one up to 1e22 is a double. */
static const double pow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17,
};

#define TWO53 9007199254740992.0

/*
 * Write a = m / 10^k in positional notation for the smallest k (1..17)
 * at which that reads back exactly. m and 10^k are exact doubles, so the
 * division is the correctly rounded value of the decimal m·10^-k, which
 * is what strtod returns for the text: the round trip is guaranteed
 * without calling strtod. Returns 0 when no such k exists (the caller
 * falls back to printf).
 */
static int put_fixed(struct vt_buf *out, double v)
{
	double a = fabs(v);

	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (size_t k = 1; k < sizeof pow10 / sizeof pow10[0]; k++) {
		double scaled = a * pow10[k];
		if (scaled >= TWO53)
			return 0;
		double m = nearbyint(scaled);
		if (m / pow10[k] != a)
			continue;
		char tmp[48];
		char *p = tmp + sizeof tmp;
		uint64_t u = (uint64_t)m;
		for (size_t d = 0; d < k; d++) {
			*--p = (char)('0' + u % 10);
			u /= 10;
		}
		*--p = '.';
		do {
			*--p = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (v < 0)
			*--p = '-';
		vt_buf_append(out, p, (size_t)(tmp + sizeof tmp - p));
		return 1;
	}
	return 0;
}

void vt_prom_text_value(struct vt_buf *out, double v)
{
	/* Integers below 2^53 are exact: print them without printf, the
	 * common case for counters, counts and gauges. */
	if (v == floor(v) && fabs(v) < TWO53) {
		if (v < 0) {
			vt_buf_putc(out, '-');
			v = -v;
		}
		vt_prom_text_u64(out, (uint64_t)v);
		return;
	}
	if (!put_fixed(out, v))
		vt_buf_put_double(out, v);
}

const char *vt_prom_text_content_type(enum vt_prom_format fmt)
{
	if (fmt == VT_PROM_OPENMETRICS)
		return "application/openmetrics-text; version=1.0.0; "
		    "charset=utf-8";
	if (fmt == VT_PROM_PROTOBUF)
		return "application/vnd.google.protobuf; "
		    "proto=io.prometheus.client.MetricFamily; encoding=delimited";
	return "text/plain; version=0.0.4; charset=utf-8";
}
