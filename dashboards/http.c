/*
 * http.c - libmicrohttpd server, route table, write guard (http.h).
 *
 * Request life cycle, the documented MHD way: the first call for a request
 * allocates its state in *req_cls; POST data arrives in further calls and
 * is appended to a body capped at max_body (past it the request is marked
 * and answered 413); the final call routes and answers; the completion
 * notification frees the state.
 */
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "names.h"
#include "netaddr.h"
#include "xmalloc.h"

#define MAX_ROUTES 64
#define JSON_TYPE "application/json"

struct route {
	char method[8];
	char path[128];
	size_t path_len;
	int prefix;
	vt_http_handler fn;
	void *ctx;
};

struct vt_http {
	struct vt_http_config cfg;
	char token[VT_TOKEN_LEN];
	char listen[VT_ADDR_LEN];
	struct route routes[MAX_ROUTES];
	size_t nroutes;
	struct MHD_Daemon *daemon;
	int port;
};

struct request_state {
	struct vt_buf body;
	int too_large;
};

vt_http *vt_http_create(const struct vt_http_config *cfg)
{
	vt_http *h = vt_xcalloc(1, sizeof *h);
	h->cfg = *cfg;
	snprintf(h->token, sizeof h->token, "%s", cfg->token ? cfg->token : "");
	snprintf(h->listen, sizeof h->listen, "%s", cfg->listen);
	h->cfg.token = h->token;
	h->cfg.listen = h->listen;
	return h;
}

void vt_http_route(vt_http *h, const char *method, const char *path,
    int prefix, vt_http_handler fn, void *ctx)
{
	if (h->nroutes == MAX_ROUTES) {
		vt_log_error("http", "route table full: %s %s", method, path);
		return;
	}
	struct route *r = &h->routes[h->nroutes++];
	snprintf(r->method, sizeof r->method, "%s", method);
	snprintf(r->path, sizeof r->path, "%s", path);
	r->path_len = strlen(r->path);
	r->prefix = prefix;
	r->fn = fn;
	r->ctx = ctx;
}

/* The best route for path: exact beats prefix, longer prefix beats shorter.
 * *path_known tells whether any method matched the path (405 vs 404). */
static const struct route *route_find(const vt_http *h, const char *method,
    const char *path, int *path_known)
{
	const struct route *best = NULL;
	size_t best_len = 0;
	int best_exact = 0;
	*path_known = 0;
	for (size_t i = 0; i < h->nroutes; i++) {
		const struct route *r = &h->routes[i];
		int exact = !r->prefix && strcmp(path, r->path) == 0;
		int pre = r->prefix && strncmp(path, r->path, r->path_len) == 0;
		if (!exact && !pre)
			continue;
		*path_known = 1;
		if (strcmp(method, r->method) != 0 &&
		    !(strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0))
			continue;
		if (best == NULL || (exact && !best_exact) ||
		    (!best_exact && !exact && r->path_len > best_len)) {
			best = r;
			best_len = r->path_len;
			best_exact = exact;
		}
	}
	return best;
}

void vt_json_string(struct vt_buf *out, const char *s)
{
	size_t n = strlen(s);
	char stack[512];
	char *clean = stack;
	size_t need = vt_names_utf8(stack, sizeof stack, s, n);
	if (need >= sizeof stack) {
		clean = vt_xmalloc(need + 1);
		vt_names_utf8(clean, need + 1, s, n);
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

void vt_http_error(struct vt_http_response *resp, unsigned status,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->content_type = JSON_TYPE;
	vt_buf_reset(&resp->body);
	vt_buf_puts(&resp->body, "{\"error\":");
	vt_json_string(&resp->body, msg);
	vt_buf_puts(&resp->body, "}\n");
}

const char *vt_http_arg(const struct vt_http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

const char *vt_http_header(const struct vt_http_request *req,
    const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* Constant-time comparison of the Authorization header with the token. */
static int token_matches(const vt_http *h, const char *auth)
{
	static const char prefix[] = "Bearer ";
	if (h->token[0] == '\0' || auth == NULL ||
	    strncmp(auth, prefix, sizeof prefix - 1) != 0)
		return 0;
	const char *given = auth + sizeof prefix - 1;
	size_t a = strlen(given), b = strlen(h->token);
	unsigned char diff = (unsigned char)(a != b);
	for (size_t i = 0; i < b; i++)
		diff |= (unsigned char)(given[i % (a ? a : 1)] ^ h->token[i]);
	return diff == 0;
}

static int is_write(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "DELETE") == 0;
}

static enum MHD_Result send_response(struct MHD_Connection *conn,
    struct vt_http_response *resp, int head_only)
{
	size_t len;
	char *data = vt_buf_steal(&resp->body, &len);
	struct MHD_Response *r;
	if (resp->stream != NULL && !head_only) {
		free(data);
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
		    16 * 1024, resp->stream, resp->stream_ctx,
		    resp->stream_free);
		if (r == NULL && resp->stream_free != NULL)
			resp->stream_free(resp->stream_ctx);
		if (r == NULL)
			return MHD_NO;
	} else if (head_only) {
		free(data);
		if (resp->stream_free != NULL)
			resp->stream_free(resp->stream_ctx);
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer_with_free_callback(len,
		    data, free);
	}
	if (r == NULL) {
		if (!head_only)
			free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    resp->content_type ? resp->content_type : JSON_TYPE);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
	    "script-src 'self'; frame-ancestors 'self'");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (resp->no_cache)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
		    "no-store");
	if (resp->location[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION,
		    resp->location);
	enum MHD_Result ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	vt_http *h = cls;
	struct request_state *st = *req_cls;
	(void)version;

	if (st == NULL) {
		st = vt_xcalloc(1, sizeof *st);
		vt_buf_init(&st->body);
		*req_cls = st;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (st->body.len + *upload_data_size > h->cfg.max_body)
			st->too_large = 1;
		else
			vt_buf_append(&st->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}

	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct vt_http_request req = {
		.conn = conn,
		.method = method,
		.path = url,
		.body = st->body.data ? st->body.data : "",
		.body_len = st->body.len,
		.peer = ci ? ci->client_addr : NULL,
	};
	struct vt_http_response resp = { .status = 200 };
	vt_buf_init(&resp.body);

	int path_known;
	const struct route *r = route_find(h, method, url, &path_known);
	if (r == NULL) {
		if (path_known)
			vt_http_error(&resp, 405, "method %s not allowed on %s",
			    method, url);
		else
			vt_http_error(&resp, 404, "no such path: %s", url);
	} else if (is_write(method) && !vt_netaddr_is_loopback(req.peer) &&
	    !token_matches(h, vt_http_header(&req, "Authorization"))) {
		vt_http_error(&resp, h->token[0] ? 401 : 403,
		    h->token[0] ? "a valid bearer token is required" :
		    "writes are accepted from loopback clients only");
	} else if (st->too_large) {
		vt_http_error(&resp, 413, "request body over %zu bytes",
		    h->cfg.max_body);
	} else {
		req.subpath = url + r->path_len;
		r->fn(r->ctx, &req, &resp);
	}
	return send_response(conn, &resp, strcmp(method, "HEAD") == 0);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
    void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct request_state *st = *req_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (st) {
		vt_buf_fini(&st->body);
		free(st);
		*req_cls = NULL;
	}
}

int vt_http_start(vt_http *h, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char why[VT_ERR_LEN];
	if (vt_netaddr_resolve(h->listen, SOCK_STREAM, &ss, &sslen, why,
	    sizeof why) < 0) {
		snprintf(err, errlen, "http %s", why);
		return -1;
	}
	/* Suspend/resume: event streams (events.c) park their connection
	 * instead of blocking a pool thread while there is nothing to send. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)h->cfg.threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->cfg.max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.timeout ? h->cfg.timeout : 30u,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_END);
	if (h->daemon == NULL) {
		snprintf(err, errlen, "http %s: cannot listen (address in use?)",
		    h->listen);
		return -1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon,
	    MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : -1;
	return 0;
}

int vt_http_port(const vt_http *h)
{
	return h->port;
}

void vt_http_destroy(vt_http *h)
{
	if (h == NULL)
		return;
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	free(h);
}
