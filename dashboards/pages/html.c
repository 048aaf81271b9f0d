/* html.c - escaping and formats for the dashboard pages (html.h). */
#include <math.h>
#include <string.h>

#include "collector/base/utf8.h"
#include "collector/statsd/names.h"
#include "dashboards/pages/html.h"

void vt_html_text_n(struct vt_buf *b, const char *s, size_t len)
{
	size_t i = 0, run = 0;     /* run: bytes since i that need no care */
	while (i + run < len) {
		unsigned char c = (unsigned char)s[i + run];
		const char *ent = NULL;
		size_t n = 1;
		int ok = 1;
		switch (c) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default:
			if (c >= 0x80)
				ok = vt_utf8_next(s + i + run,
				    len - i - run, &n);
			else if ((c < 0x20 && c != '\t' && c != '\n') ||
			    c == 0x7f)
				ent = "";
			if (ok && ent == NULL) {
				run += n;
				continue;
			}
			if (!ok)
				ent = "\xEF\xBF\xBD";   /* U+FFFD */
		}
		vt_buf_append(b, s + i, run);
		vt_buf_puts(b, ent);
		i += run + n;
		run = 0;
	}
	vt_buf_append(b, s + i, run);
}

void vt_html_text(struct vt_buf *b, const char *s)
{
	vt_html_text_n(b, s ? s : "", s ? strlen(s) : 0);
}

void vt_html_path(struct vt_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._~-", *p) != NULL) {
			vt_buf_putc(b, (char)*p);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			vt_buf_append(b, e, 3);
		}
	}
}

void vt_html_age(struct vt_buf *b, double t, double now)
{
	if (t <= 0) {
		vt_buf_puts(b, "never");
		return;
	}
	double d = now - t;
	if (d < 0)
		d = 0;
	if (d < 90)
		vt_buf_printf(b, "%.0fs", d);
	else if (d < 90 * 60)
		vt_buf_printf(b, "%.0fm", d / 60);
	else if (d < 36 * 3600)
		vt_buf_printf(b, "%.0fh", d / 3600);
	else
		vt_buf_printf(b, "%.0fd", d / 86400);
}

void vt_html_num(struct vt_buf *b, double v)
{
	double a = fabs(v);
	if (!isfinite(v))
		vt_buf_puts(b, "-");
	else if (a >= 1e9)
		vt_buf_printf(b, "%.3gG", v / 1e9);
	else if (a >= 1e6)
		vt_buf_printf(b, "%.3gM", v / 1e6);
	else if (a >= 1e4)
		vt_buf_printf(b, "%.3gk", v / 1e3);
	else if (a >= 100 || v == floor(v))
		vt_buf_printf(b, "%.0f", v);
	else
		vt_buf_printf(b, "%.3g", v);
}

void vt_html_ms(struct vt_buf *b, double ms)
{
	if (!isfinite(ms))
		vt_buf_puts(b, "-");
	else if (fabs(ms) < 1)
		vt_buf_printf(b, "%.0f µs", ms * 1000);
	else if (fabs(ms) < 1000)
		vt_buf_printf(b, "%.3g ms", ms);
	else
		vt_buf_printf(b, "%.3g s", ms / 1000);
}
