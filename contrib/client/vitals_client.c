/*
 * vitals_client.c - the C client of vitalsd (vitals_client.h): JSON
 * checks and statsd lines over UDP, or POSTed over HTTP/1.0. libc only.
 *
 * Build: cc -c -Iinclude contrib/client/vitals_client.c && ar rcs
 * libvitals_client.a vitals_client.o
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "vitals_client.h"

#define NAME_MAX_LEN 512        /* the collector's limit on names */
#define HTTP_TIMEOUT 10         /* seconds */

struct vitals_client {
	int fd;                     /* UDP: connected socket; HTTP: -1 */
	int http;
	char host[256];
	char port[16];
	char prefix[256];           /* HTTP: path before /api/v1/... */
	char token[256];
	char instance[NAME_MAX_LEN + 1];
	char error[512];
};

/* ---- text ---- */

struct out {
	char *buf;
	size_t len, pos;
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->pos + n >= o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* s as a JSON string, at most max bytes of it, cut before a character
 * that would cross the limit. */
static void put_json(struct out *o, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c == '\n') {
			put(o, "\\n", 2);
		} else if (c == '\t') {
			put(o, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			put(o, esc, 6);
		} else {
			put(o, (const char *)&s[i], 1);
		}
	}
	put(o, "\"", 1);
}

/* A name inside a statsd line: bytes that would end or split it -> '_'. */
static void put_statsd_name(struct out *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char ch = (c < 0x20 || c == 0x7f || strchr(":|#,@", c)) ? '_' :
		    (char)c;
		put(o, &ch, 1);
	}
}

int vitals_format_check(char *buf, size_t len, const char *service,
    const char *instance, const char *check, enum vitals_status status,
    const char *output, double ttl_seconds)
{
	static const char *const names[] = { "ok", "warning", "critical",
	    "unknown" };
	struct out o = { buf, len, 0, len == 0 };
	if (len > 0)
		buf[0] = '\0';
	if ((unsigned)status > VITALS_UNKNOWN)
		return -1;
	puts_(&o, "{\"service\":");
	put_json(&o, service, NAME_MAX_LEN);
	if (instance != NULL && instance[0] != '\0') {
		puts_(&o, ",\"instance\":");
		put_json(&o, instance, NAME_MAX_LEN);
	}
	puts_(&o, ",\"check\":");
	put_json(&o, check, NAME_MAX_LEN);
	puts_(&o, ",\"status\":\"");
	puts_(&o, names[status]);
	puts_(&o, "\",\"output\":");
	put_json(&o, output ? output : "", VITALS_OUTPUT_MAX);
	if (ttl_seconds > 0 && isfinite(ttl_seconds)) {
		char num[64];
		snprintf(num, sizeof num, ",\"ttl\":%.15g", ttl_seconds);
		puts_(&o, num);
	}
	puts_(&o, "}");
	return o.full ? -1 : (int)o.pos;
}

/* A tag: what would end the tag list or the line -> '_'. */
static void put_statsd_tag(struct out *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char ch = (c < 0x20 || c == 0x7f || strchr("|#,@", c)) ? '_' :
		    (char)c;
		put(o, &ch, 1);
	}
}

/* Tags the line leaves out: empty ones and the service's own. */
static int skip_tag(const char *t)
{
	return t == NULL || t[0] == '\0' || t[0] == ':' ||
	    strcmp(t, "service") == 0 || strncmp(t, "service:", 8) == 0;
}

int vitals_format_metric_tags(char *buf, size_t len, const char *service,
    const char *metric, double value, const char *type,
    const char *const *tags, size_t ntags)
{
	int n = vitals_format_metric(buf, len, service, metric, value, type);
	if (n < 0)
		return -1;
	struct out o = { buf, len, (size_t)n, 0 };
	for (size_t i = 0; i < ntags; i++) {
		if (skip_tag(tags[i]))
			continue;
		put(&o, ",", 1);
		put_statsd_tag(&o, tags[i]);
	}
	return o.full ? -1 : (int)o.pos;
}

int vitals_format_metric(char *buf, size_t len, const char *service,
    const char *metric, double value, const char *type)
{
	struct out o = { buf, len, 0, len == 0 };
	char num[64];
	if (len > 0)
		buf[0] = '\0';
	if (!isfinite(value))
		return -1;
	put_statsd_name(&o, metric);
	snprintf(num, sizeof num, ":%.17g|", value);
	puts_(&o, num);
	puts_(&o, type);
	puts_(&o, "|#service:");
	put_statsd_name(&o, service);
	return o.full ? -1 : (int)o.pos;
}

int vitals_status_parse(const char *text, enum vitals_status *out)
{
	static const char *const names[] = { "ok", "warning", "critical",
	    "unknown" };
	for (int i = 0; i < 4; i++) {
		char digit[2] = { (char)('0' + i), '\0' };
		if (strcasecmp(text, names[i]) == 0 || strcmp(text, digit) == 0) {
			*out = (enum vitals_status)i;
			return 0;
		}
	}
	return -1;
}

/* ---- sockets ---- */

static int connect_to(const char *host, const char *port, int socktype)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, e = EHOSTUNREACH;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (socktype == SOCK_STREAM) {
			struct timeval tv = { HTTP_TIMEOUT, 0 };
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd >= 0 ? fd : -e;
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && v[0] ? v : fallback;
}

vitals_client *vitals_client_open(const char *host, const char *port)
{
	vitals_client *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	snprintf(c->host, sizeof c->host, "%s",
	    host ? host : env_or("VITALS_HOST", "127.0.0.1"));
	snprintf(c->port, sizeof c->port, "%s",
	    port ? port : env_or("VITALS_PORT", "8125"));
	c->fd = connect_to(c->host, c->port, SOCK_DGRAM);
	if (c->fd < 0) {
		int e = -c->fd;
		free(c);
		errno = e;
		return NULL;
	}
	return c;
}

vitals_client *vitals_client_open_http(const char *url, const char *token)
{
	const char *p = url ? url : getenv("VITALS_URL");
	if (p == NULL || strncmp(p, "http://", 7) != 0) {
		errno = EINVAL;
		return NULL;
	}
	p += 7;
	size_t hostlen = strcspn(p, ":/");
	vitals_client *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	if (hostlen == 0 || hostlen >= sizeof c->host) {
		free(c);
		errno = EINVAL;
		return NULL;
	}
	memcpy(c->host, p, hostlen);
	p += hostlen;
	snprintf(c->port, sizeof c->port, "80");
	if (*p == ':') {
		size_t n = strcspn(++p, "/");
		if (n == 0 || n >= sizeof c->port) {
			free(c);
			errno = EINVAL;
			return NULL;
		}
		memcpy(c->port, p, n);
		c->port[n] = '\0';
		p += n;
	}
	snprintf(c->prefix, sizeof c->prefix, "%s", p);
	size_t n = strlen(c->prefix);
	if (n > 0 && c->prefix[n - 1] == '/')
		c->prefix[n - 1] = '\0';
	token = token ? token : getenv("VITALS_TOKEN");
	snprintf(c->token, sizeof c->token, "%s", token ? token : "");
	c->fd = -1;
	c->http = 1;
	return c;
}

void vitals_client_close(vitals_client *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

void vitals_client_set_instance(vitals_client *c, const char *instance)
{
	snprintf(c->instance, sizeof c->instance, "%s",
	    instance ? instance : "");
}

const char *vitals_client_error(const vitals_client *c)
{
	return c->error;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* POST body to prefix+path; 0 on 2xx, else -EPROTO with c->error set to
 * the status line and body, or -errno. */
static int http_post(vitals_client *c, const char *path, const char *type,
    const char *body, size_t len)
{
	char head[1024], reply[2048];
	size_t got = 0;
	int fd = connect_to(c->host, c->port, SOCK_STREAM), rc;
	if (fd < 0)
		return fd;
	int n = snprintf(head, sizeof head, "POST %s%s HTTP/1.0\r\nHost: %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s%s"
	    "Connection: close\r\n\r\n", c->prefix, path, c->host, type, len,
	    c->token[0] ? "Authorization: Bearer " : "", c->token,
	    c->token[0] ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof head) {
		close(fd);
		return -EMSGSIZE;
	}
	if ((rc = send_all(fd, head, (size_t)n)) < 0 ||
	    (rc = send_all(fd, body, len)) < 0) {
		close(fd);
		return rc;
	}
	for (;;) {
		ssize_t r = recv(fd, reply + got, sizeof reply - 1 - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof reply - 1)
			break;
	}
	close(fd);
	reply[got] = '\0';
	int status = 0;
	if (sscanf(reply, "HTTP/%*d.%*d %d", &status) != 1) {
		snprintf(c->error, sizeof c->error, "no HTTP reply from %s:%s",
		    c->host, c->port);
		return -EPROTO;
	}
	if (status >= 200 && status < 300)
		return 0;
	const char *b = strstr(reply, "\r\n\r\n");
	snprintf(c->error, sizeof c->error, "HTTP %d: %s", status,
	    b ? b + 4 : "");
	n = (int)strlen(c->error);
	while (n > 0 && (c->error[n - 1] == '\n' || c->error[n - 1] == '\r'))
		c->error[--n] = '\0';
	return -EPROTO;
}

static int deliver(vitals_client *c, const char *path, const char *type,
    const char *text, size_t len)
{
	c->error[0] = '\0';
	if (c->http)
		return http_post(c, path, type, text, len);
	if (send(c->fd, text, len, 0) < 0)
		return -errno;
	return 0;
}

int vitals_client_check(vitals_client *c, const char *service,
    const char *check, enum vitals_status status, const char *output,
    double ttl_seconds)
{
	size_t cap = 128 + 6 * (strlen(service) + strlen(check) +
	    strlen(c->instance)) + 6 * VITALS_OUTPUT_MAX;
	char *buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	int n = vitals_format_check(buf, cap, service, c->instance, check,
	    status, output, ttl_seconds);
	int rc = n < 0 ? -EMSGSIZE : deliver(c, "/api/v1/health",
	    "application/json", buf, (size_t)n);
	free(buf);
	return rc;
}

static int metric_tags(vitals_client *c, const char *service,
    const char *name, double value, const char *type,
    const char *const *tags, size_t ntags)
{
	char stack[4 * NAME_MAX_LEN + 256];
	size_t cap = sizeof stack;
	for (size_t i = 0; i < ntags; i++)
		cap += 2 * (tags[i] ? strlen(tags[i]) + 1 : 0);
	char *buf = cap == sizeof stack ? stack : malloc(cap);
	int n = 0, m, rc;
	if (buf == NULL)
		return -ENOMEM;
	/* statsd reads "-5|g" as a decrement: set a negative gauge from 0. */
	if (strcmp(type, "g") == 0 && value < 0) {
		n = vitals_format_metric_tags(buf, cap - 1, service, name, 0,
		    type, tags, ntags);
		if (n < 0) {
			rc = -EMSGSIZE;
			goto out;
		}
		buf[n++] = '\n';
	}
	m = vitals_format_metric_tags(buf + n, cap - (size_t)n, service,
	    name, value, type, tags, ntags);
	if (m < 0)
		rc = isfinite(value) ? -EMSGSIZE : -EINVAL;
	else
		rc = deliver(c, "/api/v1/metrics", "text/plain", buf,
		    (size_t)(n + m));
out:
	if (buf != stack)
		free(buf);
	return rc;
}

static int metric(vitals_client *c, const char *service, const char *name,
    double value, const char *type)
{
	return metric_tags(c, service, name, value, type, NULL, 0);
}

int vitals_client_timing(vitals_client *c, const char *service,
    const char *name, double milliseconds)
{
	return metric(c, service, name, milliseconds, "ms");
}

int vitals_client_count(vitals_client *c, const char *service,
    const char *name, double n)
{
	return metric(c, service, name, n, "c");
}

int vitals_client_gauge(vitals_client *c, const char *service,
    const char *name, double value)
{
	return metric(c, service, name, value, "g");
}

int vitals_client_timing_tags(vitals_client *c, const char *service,
    const char *name, double milliseconds, const char *const *tags,
    size_t ntags)
{
	return metric_tags(c, service, name, milliseconds, "ms", tags, ntags);
}

int vitals_client_count_tags(vitals_client *c, const char *service,
    const char *name, double n, const char *const *tags, size_t ntags)
{
	return metric_tags(c, service, name, n, "c", tags, ntags);
}

int vitals_client_gauge_tags(vitals_client *c, const char *service,
    const char *name, double value, const char *const *tags, size_t ntags)
{
	return metric_tags(c, service, name, value, "g", tags, ntags);
}

int vitals_client_call(vitals_client *c, const char *service,
    const char *peer, const char *name, double milliseconds, int status)
{
	char *p = malloc(strlen(peer) + sizeof "peer.service:");
	char code[32];
	if (p == NULL)
		return -ENOMEM;
	strcpy(p, "peer.service:");
	strcat(p, peer);
	snprintf(code, sizeof code, "status:%d", status);
	const char *tags[2] = { p, code };
	int rc = metric_tags(c, service, name, milliseconds, "ms", tags,
	    status > 0 ? 2 : 1);
	free(p);
	return rc;
}
