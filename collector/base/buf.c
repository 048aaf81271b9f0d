/* buf.c - growable output buffer (see buf.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/buf.h"
#include "collector/base/xmalloc.h"

void vt_buf_init(struct vt_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void vt_buf_fini(struct vt_buf *b)
{
	free(b->data);
	vt_buf_init(b);
}

void vt_buf_reset(struct vt_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void vt_buf_reserve(struct vt_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = vt_xrealloc(b->data, cap);
	b->cap = cap;
}

void vt_buf_append(struct vt_buf *b, const void *data, size_t len)
{
	vt_buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void vt_buf_puts(struct vt_buf *b, const char *s)
{
	vt_buf_append(b, s, strlen(s));
}

void vt_buf_putc(struct vt_buf *b, char c)
{
	vt_buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void vt_buf_vprintf(struct vt_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	vt_buf_reserve(b, 64);
	int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		vt_buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	}
	va_end(ap2);
	b->len += (size_t)n;
}

void vt_buf_printf(struct vt_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vt_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

int vt_double_text(char out[VT_DOUBLE_TEXT], double v)
{
	/* Magnitude first: converting a double outside long long's range
	 * is undefined behaviour. */
	if (fabs(v) < 1e15 && v == (double)(long long)v)
		return snprintf(out, VT_DOUBLE_TEXT, "%lld", (long long)v);
	/* Shortest of %.15g / %.17g that reads back exactly. */
	int n = snprintf(out, VT_DOUBLE_TEXT, "%.15g", v);
	if (strtod(out, NULL) != v)
		n = snprintf(out, VT_DOUBLE_TEXT, "%.17g", v);
	return n;
}

void vt_buf_put_double(struct vt_buf *b, double v)
{
	if (isnan(v)) {
		vt_buf_puts(b, "NaN");
		return;
	}
	if (isinf(v)) {
		vt_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	char tmp[VT_DOUBLE_TEXT];
	vt_double_text(tmp, v);
	vt_buf_puts(b, tmp);
}

char *vt_buf_steal(struct vt_buf *b, size_t *len)
{
	char *d = b->data;
	if (len)
		*len = b->len;
	if (d == NULL)
		d = vt_xstrdup("");
	vt_buf_init(b);
	return d;
}
