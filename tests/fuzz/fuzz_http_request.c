/*
 * fuzz_http_request.c - whole HTTP requests through the real server
 * (http.c on libmicrohttpd): request-line and URL decoding, the route
 * table (exact and prefix routes, 404 and 405), query arguments, bodies
 * and the central response path with its headers.
 *
 * The input is split at the first two '\n' into method, target (path and
 * query, sent as is) and one extra header line; the rest is the body. It
 * is sent on a fresh loopback connection as
 *   METHOD TARGET HTTP/1.1 / Host / Content-Length / Connection: close /
 *   <header line> / blank line / body
 * and the whole answer is read until the server closes.
 *
 * The routes are test handlers that record what they were given and act
 * like the real ones would at their worst: one copies the decoded
 * subpath into the Location header, one parses the time parameters, one
 * splits a graph path. Invariants:
 * - the answer starts with a status line; every header line is
 *   "Name: value" and its name is one the server sends (no header a
 *   client could inject, even through Location), no value holds a
 *   control character;
 * - every answer the route table produced (our JSON errors and our
 *   handlers) carries the security headers;
 * - a handler only ever sees its own method and a path that starts with
 *   its route, with subpath the rest of that path;
 * - nothing leaks or crashes (AddressSanitizer, UBSan, LeakSanitizer).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "dashboards/graph/graph.h"
#include "dashboards/http/http.h"
#include "exporters/rrd/rrd_read.h"
#include "fuzz_common.h"

#define REQ_MAX 8192

static vt_http *server;
static int port;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen_problem[512];    /* first broken handler invariant */

struct route_info {
	const char *method;
	const char *path;
	int prefix;
};

static void note(const char *fmt, const char *a, const char *b)
{
	pthread_mutex_lock(&seen_lock);
	if (seen_problem[0] == '\0')
		snprintf(seen_problem, sizeof seen_problem, fmt, a, b);
	pthread_mutex_unlock(&seen_lock);
}

/* Every test handler starts here: was it given what its route promises? */
static void check_request(const struct route_info *ri,
    const struct vt_http_request *req)
{
	size_t n = strlen(ri->path);
	if (strcmp(req->method, ri->method) != 0 &&
	    !(strcmp(req->method, "HEAD") == 0 && strcmp(ri->method, "GET") == 0))
		note("handler for %s got method %s", ri->method, req->method);
	if (ri->prefix ? strncmp(req->path, ri->path, n) != 0 :
	    strcmp(req->path, ri->path) != 0)
		note("handler for %s got path %s", ri->path, req->path);
	if (ri->prefix && req->subpath != req->path + n)
		note("subpath of %s is not the rest of %s", ri->path, req->path);
	if (req->body == NULL || strlen(req->body) > req->body_len)
		note("body of %s %s", req->method, req->path);
}

static void h_plain(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	check_request(ctx, req);
	resp->content_type = "text/x-fuzz";
	vt_buf_printf(&resp->body, "%zu\n", req->body_len);
}

/* The worst a handler could do with a header: put client text in it. */
static void h_redirect(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	check_request(ctx, req);
	resp->status = 302;
	resp->content_type = "text/x-fuzz";
	snprintf(resp->location, sizeof resp->location, "/services/%s",
	    req->subpath);
}

static void h_times(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	time_t from, until;
	check_request(ctx, req);
	int a = vt_rrd_read_parse_time(vt_http_arg(req, "from"), 1795000000,
	    &from);
	int b = vt_rrd_read_parse_time(vt_http_arg(req, "until"), 1795000000,
	    &until);
	if (a < 0 || b < 0) {
		vt_http_error(resp, 400, "from %s", vt_http_arg(req, "from") ?
		    vt_http_arg(req, "from") : "(none)");
		return;
	}
	resp->content_type = "text/x-fuzz";
	vt_buf_printf(&resp->body, "%lld %lld\n", (long long)from,
	    (long long)until);
}

static void h_graph(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	char service[VT_NAME_MAX + 1], name[VT_NAME_MAX * 2 + 1];
	const char *fmt, *type;
	check_request(ctx, req);
	if (vt_graph_parse_path(req->subpath, service, sizeof service, name,
	    sizeof name, &fmt, &type) < 0) {
		vt_http_error(resp, 404, "graphs are /graph/<service>/<metric>."
		    "svg, not %s", req->subpath);
		return;
	}
	resp->content_type = type;
	vt_buf_printf(&resp->body, "%s %s", service, name);
}

static struct route_info routes[] = {
	{ "GET", "/healthz", 0 },
	{ "GET", "/api/v1/services/", 1 },
	{ "DELETE", "/api/v1/services/", 1 },
	{ "POST", "/api/v1/metrics", 0 },
	{ "GET", "/go/", 1 },
	{ "GET", "/api/v1/series", 0 },
	{ "GET", "/graph/", 1 },
};

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const vt_http_handler fns[] = { h_plain, h_plain, h_plain,
		h_plain, h_redirect, h_times, h_graph };
	struct vt_http_config cfg = { .listen = "127.0.0.1:0",
	    .max_body = 4096, .max_connections = 64, .threads = 2,
	    .timeout = 2 };
	char err[VT_ERR_LEN];
	(void)argc;
	(void)argv;
	server = vt_http_create(&cfg);
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		vt_http_route(server, routes[i].method, routes[i].path,
		    routes[i].prefix, fns[i], &routes[i]);
	FUZZ_ASSERT(vt_http_start(server, err, sizeof err) == 0, "%s", err);
	port = vt_http_port(server);
	return 0;
}

/* connect(), finishing it when a signal interrupts it (libFuzzer's
 * timeout alarm does: the connection then completes on its own). */
static int connect_fully(int fd, const struct sockaddr_in *sa)
{
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
		return 0;
	if (errno != EINTR)
		return -1;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int rc, soerr = 0;
	socklen_t sl = sizeof soerr;
	while ((rc = poll(&p, 1, 1000)) < 0 && errno == EINTR)
		;
	if (rc <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return -1;
	errno = soerr;
	return soerr ? -1 : 0;
}

/* Send req, read the answer until the server closes (or 1 s passes).
 * Calls interrupted by a signal are retried. */
static size_t exchange(const char *req, size_t len, char *out, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	FUZZ_ASSERT(fd >= 0 && connect_fully(fd, &sa) == 0, "connect: %s",
	    strerror(errno));
	size_t off = 0, got = 0;
	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;   /* the server may answer and close early */
		off += (size_t)n;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (got < cap - 1) {
		int rc = poll(&p, 1, 1000);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			break;
		ssize_t n = recv(fd, out + got, cap - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	close(fd);
	return got;
}

static int allowed_header(const char *name, size_t n)
{
	static const char *const names[] = { "Content-Type",
		"X-Content-Type-Options", "Content-Security-Policy",
		"X-Frame-Options", "Referrer-Policy", "Cache-Control",
		"Location", "Content-Length", "Date", "Connection",
		"Transfer-Encoding" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
			return 1;
	return 0;
}

static void check_answer(const char *a, size_t len)
{
	if (len == 0)
		return;   /* closed without answer: malformed request */
	/* "100 Continue" (Expect: 100-continue) comes before the answer. */
	while (strncmp(a, "HTTP/1.1 100 ", 13) == 0 && strstr(a, "\r\n\r\n")) {
		const char *next = strstr(a, "\r\n\r\n") + 4;
		len -= (size_t)(next - a);
		a = next;
		if (len == 0)
			return;
	}
	FUZZ_ASSERT(len >= 12 && strncmp(a, "HTTP/1.", 7) == 0 && a[8] == ' ',
	    "status line: %.40s", a);
	const char *end = strstr(a, "\r\n\r\n");
	FUZZ_ASSERT(end != NULL, "no end of headers");
	int ours = strstr(a, "text/x-fuzz") != NULL ||
	    strstr(end, "\r\n\r\n{\"error\":") == end;
	int csp = 0, nosniff = 0;
	for (const char *l = strstr(a, "\r\n") + 2; l < end;) {
		const char *nl = strstr(l, "\r\n");
		const char *colon = memchr(l, ':', (size_t)(nl - l));
		FUZZ_ASSERT(colon != NULL && colon > l, "header line: %.*s",
		    (int)(nl - l), l);
		FUZZ_ASSERT(allowed_header(l, (size_t)(colon - l)),
		    "unexpected header (injected?): %.*s", (int)(nl - l), l);
		for (const char *c = colon; c < nl; c++)
			FUZZ_ASSERT(*(const unsigned char *)c >= 0x20 && *c != 0x7f,
			    "control character in header %.*s", (int)(nl - l), l);
		csp |= strncmp(l, "Content-Security-Policy: ", 25) == 0 &&
		    strstr(l, "frame-ancestors") < nl;
		nosniff |= strncmp(l, "X-Content-Type-Options: nosniff", 31) == 0;
		l = nl + 2;
	}
	if (ours)
		FUZZ_ASSERT(csp && nosniff, "security headers missing:\n%.*s",
		    (int)(end - a), a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char req[REQ_MAX + 512], answer[65536];
	const char *in = (const char *)data, *stop = in + size;
	const char *nl1 = memchr(in, '\n', size);
	const char *nl2 = nl1 ? memchr(nl1 + 1, '\n',
	    (size_t)(stop - nl1 - 1)) : NULL;
	if (nl1 == NULL || size > REQ_MAX)
		return -1;   /* not in the shape this target sends */
	const char *target = nl1 + 1;
	const char *tend = nl2 ? nl2 : stop;
	const char *hdr = nl2 ? nl2 + 1 : stop;
	const char *hend = hdr < stop ? memchr(hdr, '\n',
	    (size_t)(stop - hdr)) : NULL;
	const char *body = hend ? hend + 1 : stop;
	if (hend == NULL)
		hend = stop;
	/* Framing is this target's job: a header line that changes the body
	 * length, or a CR that starts a new line, would only make the server
	 * wait for bytes that never come. */
	static char line[REQ_MAX + 1];
	snprintf(line, sizeof line, "%.*s", (int)(hend - hdr), hdr);
	if (memchr(in, '\r', (size_t)(hend - in)) != NULL ||
	    strcasestr(line, "length") != NULL ||
	    strcasestr(line, "encoding") != NULL)
		return -1;
	int n = snprintf(req, sizeof req, "%.*s %.*s HTTP/1.1\r\nHost: fuzz\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%.*s%s\r\n",
	    (int)(nl1 - in), in, (int)(tend - target), target,
	    (size_t)(stop - body), (int)(hend - hdr), hdr,
	    hend > hdr ? "\r\n" : "");
	if (n < 0 || (size_t)n + (size_t)(stop - body) > sizeof req)
		return -1;
	memcpy(req + n, body, (size_t)(stop - body));
	size_t got = exchange(req, (size_t)n + (size_t)(stop - body), answer,
	    sizeof answer);
	check_answer(answer, got);
	pthread_mutex_lock(&seen_lock);
	FUZZ_ASSERT(seen_problem[0] == '\0', "%s", seen_problem);
	pthread_mutex_unlock(&seen_lock);
	return 0;
}
