/* json.c - JSON values written into a buffer (json.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/json.h"
#include "collector/base/utf8.h"
#include "collector/base/xmalloc.h"

void vt_json_member_string(struct vt_buf *out, const char *key,
    const char *v)
{
	vt_buf_printf(out, ",\"%s\":", key);
	if (v)
		vt_json_string(out, v);
	else
		vt_buf_puts(out, "null");
}

void vt_json_member_number(struct vt_buf *out, const char *key, double v)
{
	vt_buf_printf(out, ",\"%s\":", key);
	if (isfinite(v))
		vt_buf_put_double(out, v);
	else
		vt_buf_puts(out, "null");
}

void vt_json_string(struct vt_buf *out, const char *s)
{
	size_t n = strlen(s);
	char stack[512];
	char *clean = stack;
	size_t need = vt_utf8_clean(stack, sizeof stack, s, n);
	if (need >= sizeof stack) {
		clean = vt_xmalloc(need + 1);
		vt_utf8_clean(clean, need + 1, s, n);
	}
	vt_buf_putc(out, '"');
	for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
		switch (*p) {
		case '"': vt_buf_puts(out, "\\\""); break;
		case '\\': vt_buf_puts(out, "\\\\"); break;
		case '\n': vt_buf_puts(out, "\\n"); break;
		case '\r': vt_buf_puts(out, "\\r"); break;
		case '\t': vt_buf_puts(out, "\\t"); break;
		case '<': vt_buf_puts(out, "\\u003c"); break;  /* safe in <script> */
		case '>': vt_buf_puts(out, "\\u003e"); break;
		case '&': vt_buf_puts(out, "\\u0026"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				vt_buf_printf(out, "\\u%04x", *p);
			else
				vt_buf_putc(out, (char)*p);
		}
	}
	vt_buf_putc(out, '"');
	if (clean != stack)
		free(clean);
}
