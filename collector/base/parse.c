/* parse.c - durations and host:port addresses (parse.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/buf.h"
#include "collector/base/parse.h"

int vt_parse_duration(const char *text, double *seconds)
{
	static const struct { const char *unit; double mul, div; } units[] = {
		{ "", 1, 1 }, { "ms", 1, 1000 }, { "s", 1, 1 }, { "m", 60, 1 },
		{ "h", 3600, 1 }, { "d", 86400, 1 }, { "w", 604800, 1 },
	};
	char num[40];
	size_t n = 0;

	if (text == NULL)
		return -1;
	while (text[n] >= '0' && text[n] <= '9')
		n++;
	if (n == 0)
		return -1;
	if (text[n] == '.') {
		size_t f = n + 1;
		while (text[f] >= '0' && text[f] <= '9')
			f++;
		if (f == n + 1)
			return -1;
		n = f;
	}
	if (n >= sizeof num)
		return -1;
	memcpy(num, text, n);
	num[n] = '\0';
	double v = strtod(num, NULL);   /* digits and '.' only: C locale */
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(text + n, units[i].unit) != 0)
			continue;
		double s = v * units[i].mul / units[i].div;
		if (!isfinite(s))
			return -1;
		*seconds = s;
		return 0;
	}
	return -1;
}

void vt_parse_format_duration(double s, struct vt_buf *out)
{
	static const struct { double unit; const char *name; } units[] = {
		{ 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" },
	};
	if (!isfinite(s) || s < 0) {
		vt_buf_put_double(out, s);
		return;
	}
	if (s == 0) {
		vt_buf_puts(out, "0s");
		return;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		double q = s / units[i].unit;
		if (q == floor(q)) {
			vt_buf_printf(out, "%.0f%s", q, units[i].name);
			return;
		}
	}
	if (s < 1 && s * 1000 == floor(s * 1000)) {
		vt_buf_printf(out, "%.0fms", s * 1000);
		return;
	}
	char num[64];
	snprintf(num, sizeof num, "%.6f", s);
	size_t n = strlen(num);
	while (n > 0 && num[n - 1] == '0')
		num[--n] = '\0';
	if (n > 0 && num[n - 1] == '.')
		num[--n] = '\0';
	vt_buf_printf(out, "%ss", num);
}

static int is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

int vt_parse_addr(const char *text, char *host, size_t hostlen,
    int *port)
{
	const char *h, *p;
	size_t hlen;

	if (text == NULL)
		return -1;
	if (text[0] == '[') {
		/* [v6]:port; the address may carry a %zone */
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		h = text + 1;
		hlen = (size_t)(close - h);
		if (hlen == 0 || memchr(h, ':', hlen) == NULL)
			return -1;
		for (size_t i = 0; i < hlen; i++)
			if (!is_alnum(h[i]) && !strchr(":.%", h[i]))
				return -1;
		p = close + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (colon == NULL)
			return -1;
		h = text;
		hlen = (size_t)(colon - text);
		for (size_t i = 0; i < hlen; i++)
			if (!is_alnum(h[i]) && !strchr(".-_", h[i]))
				return -1;
		p = colon + 1;
	}
	long v = 0;
	size_t digits = 0;
	for (; p[digits] >= '0' && p[digits] <= '9' && digits < 6; digits++)
		v = v * 10 + (p[digits] - '0');
	if (digits == 0 || p[digits] != '\0' || v > 65535)
		return -1;
	if (hlen >= hostlen)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)v;
	return 0;
}

int vt_parse_addr_default(const char *text, int default_port, char *host,
    size_t hostlen, int *port)
{
	char with[VT_ADDR_LEN + 8];
	size_t len = text ? strlen(text) : 0;
	if (len == 0 || len >= VT_ADDR_LEN)
		return -1;
	/* No port: no colon at all, or a bracketed v6 address alone. */
	if (strchr(text, ':') == NULL || (text[0] == '[' &&
	    text[len - 1] == ']')) {
		snprintf(with, sizeof with, "%s:%d", text, default_port);
		text = with;
	}
	if (vt_parse_addr(text, host, hostlen, port) < 0 || host[0] == '\0')
		return -1;
	return 0;
}
