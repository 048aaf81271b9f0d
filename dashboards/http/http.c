/*
 * http.c - libmicrohttpd server, route table, write guard (http.h).
 *
 * Request life cycle, the documented MHD way: the first call for a request
 * allocates its state in *req_cls; POST data arrives in further calls and
 * is appended to a body capped at max_body (past it the request is marked
 * and answered 413); the final call routes and answers; the completion
 * notification frees the state. A body announced too large (Content-Length)
 * is answered 413 in the first call, before any of it is read, and
 * libmicrohttpd closes the connection. A body of unknown size (chunked)
 * that crosses max_body is dropped as it arrives (libmicrohttpd can queue
 * a response only once the upload ends) and answered 413 at its end; one
 * that runs on past twice max_body is cut off by closing the connection.
 */
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/json.h"
#include "collector/base/log.h"
#include "collector/base/netaddr.h"
#include "collector/base/prom_text.h"
#include "collector/base/xmalloc.h"
#include "collector/config/config.h"
#include "collector/statsd/names.h"
#include "dashboards/http/http.h"
#include "dashboards/http/http_gate.h"

#define MAX_ROUTES 64
#define JSON_TYPE "application/json"
#define TLS_FILE_MAX (1u << 20)   /* bytes of a PEM file */

struct route {
	char method[8];
	char path[128];
	size_t path_len;
	int prefix;
	vt_http_handler fn;
	void *ctx;
};

/* Requests refused before any handler ran, by reason. */
enum refusal {
	REFUSED_BODY_TOO_LARGE,      /* 413 */
	REFUSED_UNAUTHORIZED,        /* 401: token missing or wrong */
	REFUSED_FORBIDDEN,           /* 403: not loopback, no token set */
	REFUSED_COUNT
};

static const char *const refusal_names[REFUSED_COUNT] = {
	[REFUSED_BODY_TOO_LARGE] = "body_too_large",
	[REFUSED_UNAUTHORIZED] = "unauthorized",
	[REFUSED_FORBIDDEN] = "forbidden",
};

#define GATE_SLACK 4     /* libmicrohttpd's limits: the caps plus this */

struct vt_http {
	struct vt_http_config cfg;
	/* Counted on MHD threads, read by scrapes. */
	atomic_uint_least64_t refused[REFUSED_COUNT];
	struct vt_http_gate *gate;   /* connection caps, counted refusals */
	char token[VT_TOKEN_LEN];
	char listen[VT_ADDR_LEN];
	char tls_cert[VT_PATH_LEN], tls_key[VT_PATH_LEN];
	char *cert_pem, *key_pem;    /* file contents while serving */
	struct route routes[MAX_ROUTES];
	size_t nroutes;
	struct MHD_Daemon *daemon;
	int port;
};

struct request_state {
	struct vt_buf body;
	int answered;                /* a response is queued already */
	size_t discarded;            /* body bytes past max_body, dropped */
};

vt_http *vt_http_create(const struct vt_http_config *cfg)
{
	vt_http *h = vt_xcalloc(1, sizeof *h);
	h->cfg = *cfg;
	snprintf(h->token, sizeof h->token, "%s", cfg->token ? cfg->token : "");
	snprintf(h->listen, sizeof h->listen, "%s", cfg->listen);
	snprintf(h->tls_cert, sizeof h->tls_cert, "%s",
	    cfg->tls_cert ? cfg->tls_cert : "");
	snprintf(h->tls_key, sizeof h->tls_key, "%s",
	    cfg->tls_key ? cfg->tls_key : "");
	h->cfg.token = h->token;
	h->cfg.listen = h->listen;
	h->cfg.tls_cert = h->tls_cert;
	h->cfg.tls_key = h->tls_key;
	h->gate = vt_http_gate_create(cfg->max_connections, cfg->max_per_ip);
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

/* Add a header unless its value holds a control character: nothing a
 * client sent may end a header line and start another (CR/LF injection).
 * Returns 0, or -1 when the header was left out (logged, rate-limited:
 * a client can cause it on every request). */
static int add_header(struct MHD_Response *r, const char *name,
    const char *value)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct vt_complaint bad_header;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			pthread_mutex_lock(&lock);
			vt_log_complain(&bad_header, VT_LOG_WARN, "http",
			    "header %s left out: control character in its "
			    "value", name);
			pthread_mutex_unlock(&lock);
			return -1;
		}
	}
	return MHD_add_response_header(r, name, value) == MHD_YES ? 0 : -1;
}

/* The headers every response carries, whatever produced it. */
static void add_security_headers(struct MHD_Response *r)
{
	add_header(r, "X-Content-Type-Options", "nosniff");
	add_header(r, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
	    "script-src 'self'; frame-ancestors 'self'");
	add_header(r, "X-Frame-Options", "SAMEORIGIN");
	add_header(r, "Referrer-Policy", "no-referrer");
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
	add_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    resp->content_type ? resp->content_type : JSON_TYPE);
	add_security_headers(r);
	if (resp->no_cache)
		add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (resp->location[0])
		add_header(r, MHD_HTTP_HEADER_LOCATION, resp->location);
	enum MHD_Result ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Answer 413 now, before (the rest of) the body is read; the write guard
 * is not consulted, as nothing of the body is used. */
static enum MHD_Result too_large(vt_http *h, struct MHD_Connection *conn,
    struct request_state *st)
{
	struct vt_http_response resp = { .status = 200 };
	vt_buf_init(&resp.body);
	st->answered = 1;
	vt_buf_fini(&st->body);
	atomic_fetch_add(&h->refused[REFUSED_BODY_TOO_LARGE], 1);
	vt_http_error(&resp, 413, "request body over %zu bytes",
	    h->cfg.max_body);
	return send_response(conn, &resp, 0);
}

static int has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* Stops at a query argument whose name or value holds a control byte,
 * NUL included: the C string a handler would read is not what the client
 * sent (a %00 would cut it short). */
static enum MHD_Result arg_is_clean(void *cls, enum MHD_ValueKind kind,
    const char *key, size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	if (has_control(key, key_size) ||
	    (value != NULL && has_control(value, value_size))) {
		*(const char **)cls = key;
		return MHD_NO;
	}
	return MHD_YES;
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
		const char *cl = MHD_lookup_connection_value(conn,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > h->cfg.max_body)
			return too_large(h, conn, st);
		return MHD_YES;
	}
	if (st->answered) {          /* 413 queued: ignore what follows */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (st->discarded == 0 && st->body.len + n <= h->cfg.max_body) {
			vt_buf_append(&st->body, upload_data, n);
			return MHD_YES;
		}
		vt_buf_fini(&st->body);
		st->discarded += n;
		return st->discarded > h->cfg.max_body ? MHD_NO : MHD_YES;
	}
	if (st->discarded > 0)
		return too_large(h, conn, st);

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
	const char *bad_arg = NULL;
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, arg_is_clean,
	    &bad_arg);
	if (bad_arg != NULL) {
		vt_http_error(&resp, 400, "query argument %s holds a control "
		    "character", bad_arg);
	} else if (r == NULL) {
		if (path_known)
			vt_http_error(&resp, 405, "method %s not allowed on %s",
			    method, url);
		else
			vt_http_error(&resp, 404, "no such path: %s", url);
	} else if (is_write(method) && !vt_netaddr_is_loopback(req.peer) &&
	    !token_matches(h, vt_http_header(&req, "Authorization"))) {
		atomic_fetch_add(&h->refused[h->token[0] ?
		    REFUSED_UNAUTHORIZED : REFUSED_FORBIDDEN], 1);
		vt_http_error(&resp, h->token[0] ? 401 : 403,
		    h->token[0] ? "a valid bearer token is required" :
		    "writes are accepted from loopback clients only");
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

/* The whole of a PEM file, NUL-terminated (what GnuTLS reads), or NULL
 * with err set. */
static char *read_pem(const char *key, const char *path, char *err,
    size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "%s %s: %s", key, path, strerror(errno));
		return NULL;
	}
	char *text = vt_xmalloc(TLS_FILE_MAX + 1);
	size_t n = fread(text, 1, TLS_FILE_MAX + 1, f);
	int bad = ferror(f) || n == 0 || n > TLS_FILE_MAX;
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "%s %s: %s", key, path, n == 0 ?
		    "empty or unreadable" : "larger than 1 MiB");
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

/* HTTPS options when tls_cert/tls_key are set; n options added to opt. */
static int tls_options(vt_http *h, struct MHD_OptionItem *opt, size_t *n,
    unsigned *flags, char *err, size_t errlen)
{
	if (h->tls_cert[0] == '\0')
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "http.tls_cert: this libmicrohttpd has "
		    "no TLS support");
		return -1;
	}
	h->cert_pem = read_pem("http.tls_cert", h->tls_cert, err, errlen);
	if (h->cert_pem == NULL)
		return -1;
	h->key_pem = read_pem("http.tls_key", h->tls_key, err, errlen);
	if (h->key_pem == NULL)
		return -1;
	opt[(*n)++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
	    h->cert_pem };
	opt[(*n)++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
	    h->key_pem };
	*flags |= MHD_USE_TLS;
	return 0;
}

/* Before libmicrohttpd's own limits: refusals are counted here. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr,
    socklen_t addrlen)
{
	vt_http *h = cls;
	return vt_http_gate_admit(h->gate, addr, addrlen) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode code)
{
	vt_http *h = cls;
	(void)socket_context;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	socklen_t len = sa == NULL ? 0 : sa->sa_family == AF_INET6 ?
	    (socklen_t)sizeof(struct sockaddr_in6) :
	    (socklen_t)sizeof(struct sockaddr_in);
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		vt_http_gate_opened(h->gate, sa, len);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		vt_http_gate_closed(h->gate, sa, len);
}

void vt_http_collect(void *ctx, struct vt_buf *out, enum vt_prom_format fmt)
{
	vt_http *h = ctx;
	static const char open_name[] = "vitals_http_open_connections";
	static const char refused_name[] = "vitals_http_refused";
	static const char gate_name[] = "vitals_http_connections_refused";

	vt_prom_text_head(out, gate_name, sizeof gate_name - 1,
	    VT_PROM_COUNTER, "HTTP connections closed unanswered at a cap, by "
	    "the config key: max_connections, max_connections_per_ip.", fmt);
	for (int i = 0; i < VT_GATE_REASON_COUNT; i++) {
		vt_buf_printf(out, "%s_total{reason=\"%s\"} ", gate_name,
		    vt_http_gate_reason_name((enum vt_http_gate_reason)i));
		vt_prom_text_u64(out, vt_http_gate_refused(h->gate,
		    (enum vt_http_gate_reason)i));
		vt_buf_putc(out, '\n');
	}
	vt_prom_text_head(out, open_name, sizeof open_name - 1, VT_PROM_GAUGE,
	    "HTTP connections open now.", fmt);
	vt_buf_printf(out, "%s ", open_name);
	vt_prom_text_u64(out, vt_http_gate_open(h->gate));
	vt_buf_putc(out, '\n');
	vt_prom_text_head(out, refused_name, sizeof refused_name - 1,
	    VT_PROM_COUNTER, "HTTP requests refused before any handler ran, "
	    "by reason: body_too_large (413), unauthorized (401), forbidden "
	    "(403).", fmt);
	for (int i = 0; i < REFUSED_COUNT; i++) {
		vt_buf_printf(out, "%s_total{reason=\"%s\"} ", refused_name,
		    refusal_names[i]);
		vt_prom_text_u64(out, atomic_load(&h->refused[i]));
		vt_buf_putc(out, '\n');
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
	struct MHD_OptionItem opt[4];
	size_t nopt = 0;
	if (tls_options(h, opt, &nopt, &flags, err, errlen) < 0)
		return -1;
	/* The gate (on_accept) enforces the configured caps and counts what
	 * it refuses; libmicrohttpd's limits sit a little above them as the
	 * hard stop for connections admitted at the same instant. */
	if (h->cfg.max_per_ip > 0)
		opt[nopt++] = (struct MHD_OptionItem){
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    (intptr_t)h->cfg.max_per_ip + GATE_SLACK, NULL };
	opt[nopt] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	h->daemon = MHD_start_daemon(flags, 0, on_accept, h, on_request, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)h->cfg.threads,
	    MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)h->cfg.max_connections + GATE_SLACK,
	    MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.timeout ? h->cfg.timeout : 30u,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_ARRAY, opt,
	    MHD_OPTION_END);
	if (h->daemon == NULL) {
		snprintf(err, errlen, "http %s: cannot listen (address in use%s?)",
		    h->listen, flags & MHD_USE_TLS ? ", or the certificate and "
		    "key do not match" : "");
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
	vt_http_gate_destroy(h->gate);
	free(h->cert_pem);
	free(h->key_pem);
	free(h);
}
