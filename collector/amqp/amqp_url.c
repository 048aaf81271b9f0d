/* amqp_url.c - parse and redact AMQP URIs (amqp_url.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/amqp/amqp_url.h"

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

/* Percent-decode s[0..len) into out (outlen bytes with NUL). 0 or -1. */
static int decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0' || n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

static void from_env(char *dst, size_t dstlen, const char *var,
    const char *dflt)
{
	const char *v = getenv(var);
	snprintf(dst, dstlen, "%s", v && *v ? v : dflt);
}

int vt_amqp_url_parse(const char *url, struct vt_amqp_url *out, char *why,
    size_t whylen)
{
	const char *p;
	memset(out, 0, sizeof *out);
	if (strncmp(url, "amqp://", 7) == 0) {
		p = url + 7;
		out->port = 5672;
	} else if (strncmp(url, "amqps://", 8) == 0) {
		p = url + 8;
		out->tls = 1;
		out->port = 5671;
	} else {
		snprintf(why, whylen, "expected an amqp:// or amqps:// URL");
		return -1;
	}
	size_t auth_len = strcspn(p, "/?#");
	const char *auth_end = p + auth_len;
	const char *at = NULL;
	for (const char *q = p; q < auth_end; q++)
		if (*q == '@')
			at = q;
	const char *host = p;
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		size_t ulen = colon ? (size_t)(colon - p) : (size_t)(at - p);
		if (decode(p, ulen, out->user, sizeof out->user) < 0) {
			snprintf(why, whylen, "bad user name");
			return -1;
		}
		out->user_from_url = ulen > 0;
		if (colon != NULL) {
			if (decode(colon + 1, (size_t)(at - colon - 1),
			    out->password, sizeof out->password) < 0) {
				snprintf(why, whylen, "bad password encoding");
				return -1;
			}
			out->password_from_url = 1;
		}
		host = at + 1;
	}
	const char *host_end, *port_at = NULL;
	if (*host == '[') {
		const char *close = memchr(host, ']',
		    (size_t)(auth_end - host));
		if (close == NULL) {
			snprintf(why, whylen, "unclosed [ in host");
			return -1;
		}
		if (close + 1 < auth_end) {
			if (close[1] != ':') {
				snprintf(why, whylen, "bad host");
				return -1;
			}
			port_at = close + 2;
		}
		host_end = close;
		host++;
	} else {
		const char *colon = memchr(host, ':',
		    (size_t)(auth_end - host));
		host_end = colon ? colon : auth_end;
		if (colon)
			port_at = colon + 1;
	}
	if (host_end == host) {
		snprintf(why, whylen, "no host");
		return -1;
	}
	if (decode(host, (size_t)(host_end - host), out->host,
	    sizeof out->host) < 0) {
		snprintf(why, whylen, "bad host");
		return -1;
	}
	if (port_at != NULL) {
		long v = 0;
		const char *q = port_at;
		while (q < auth_end && *q >= '0' && *q <= '9' && v <= 65535)
			v = v * 10 + (*q++ - '0');
		if (q == port_at || q != auth_end || v < 1 || v > 65535) {
			snprintf(why, whylen, "bad port");
			return -1;
		}
		out->port = (int)v;
	}
	const char *vh = auth_end;
	size_t vlen = 0;
	if (*vh == '/') {
		vh++;
		vlen = strcspn(vh, "?#");
	}
	if (vlen > 0 && memchr(vh, '/', vlen) != NULL) {
		snprintf(why, whylen, "vhost: write / as %%2f");
		return -1;
	}
	if (vlen == 0)
		snprintf(out->vhost, sizeof out->vhost, "/");
	else if (decode(vh, vlen, out->vhost, sizeof out->vhost) < 0) {
		snprintf(why, whylen, "bad vhost");
		return -1;
	}
	if (!out->user_from_url)
		from_env(out->user, sizeof out->user, "VITALS_AMQP_USER",
		    "guest");
	if (!out->password_from_url)
		from_env(out->password, sizeof out->password,
		    "VITALS_AMQP_PASSWORD", "guest");
	return 0;
}

const char *vt_amqp_url_redact(const char *url, char *out, size_t outlen)
{
	if (outlen == 0)
		return out;
	const char *scheme = strstr(url, "://");
	size_t start = scheme ? (size_t)(scheme - url) + 3 : 0;
	size_t end = start + strcspn(url + start, "/?#");
	size_t at = end;
	while (at > start && url[at - 1] != '@')
		at--;
	const char *colon = at > start ? memchr(url + start, ':',
	    at - 1 - start) : NULL;
	if (colon == NULL) {
		snprintf(out, outlen, "%s", url);
		return out;
	}
	snprintf(out, outlen, "%.*s***%s", (int)(colon - url) + 1, url,
	    url + at - 1);
	return out;
}

const char *vt_amqp_url_describe(const struct vt_amqp_url *u, char *out,
    size_t outlen)
{
	int v6 = strchr(u->host, ':') != NULL;
	snprintf(out, outlen, "%s://%s@%s%s%s:%d/%s", u->tls ? "amqps" : "amqp",
	    u->user, v6 ? "[" : "", u->host, v6 ? "]" : "", u->port,
	    strcmp(u->vhost, "/") == 0 ? "%2f" : u->vhost);
	return out;
}
