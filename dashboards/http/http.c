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
 *
 * Slow clients: every connection is followed by the gate (http_gate.h)
 * from libmicrohttpd's "started" to its "closed" notification, as the
 * socket context: waiting for a head until the first call for a request,
 * busy until its completion notification, then waiting again. A sweeper
 * thread closes connections that wait past head_timeout; the gate closes
 * the oldest waiting one when a new client finds every slot taken.
 * Endless streams (event streams) are counted while libmicrohttpd holds
 * them; past max_streams one is answered 503 and the connection closed.
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

#include "collector/base/clock.h"
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
	REFUSED_MAX_STREAMS,         /* 503: max_streams streams open */
	REFUSED_COUNT
};

static const char *const refusal_names[REFUSED_COUNT] = {
	[REFUSED_BODY_TOO_LARGE] = "body_too_large",
	[REFUSED_UNAUTHORIZED] = "unauthorized",
	[REFUSED_FORBIDDEN] = "forbidden",
	[REFUSED_MAX_STREAMS] = "max_streams",
};

#define GATE_SLACK 4     /* libmicrohttpd's limits: the caps plus this */
#define HEAD_TIMEOUT_MAX 10u  /* default head_timeout: at most this */
#define SWEEP_EVERY 0.25      /* seconds between head-deadline sweeps */

struct vt_http {
	struct vt_http_config cfg;
	/* Counted on MHD threads, read by scrapes. */
	atomic_uint_least64_t refused[REFUSED_COUNT];
	struct vt_http_gate *gate;   /* connection caps, counted refusals */
	/* What SIGHUP may change while serving (vt_http_set_access). */
	pthread_mutex_t access_lock; /* guards token */
	char token[VT_TOKEN_LEN];
	atomic_size_t max_body;
	char listen[VT_ADDR_LEN];
	char tls_cert[VT_PATH_LEN], tls_key[VT_PATH_LEN];
	char *cert_pem, *key_pem;    /* file contents while serving */
	struct route routes[MAX_ROUTES];
	size_t nroutes;
	vt_http_handler forward;     /* before GET/HEAD routes; NULL: none */
	void *forward_ctx;
	struct MHD_Daemon *daemon;
	int port;
	atomic_size_t streams;       /* endless streams held now */
	/* The sweeper thread: closes connections past head_timeout. */
	pthread_t sweeper;
	pthread_mutex_t sweep_lock;
	pthread_cond_t sweep_cond;
	int sweep_stop, sweep_started;
};

/* An endless stream as libmicrohttpd holds it: counted while it lives. */
struct stream {
	vt_http *h;
	ssize_t (*read)(void *ctx, uint64_t pos, char *buf, size_t max);
	void *ctx;
	void (*free)(void *ctx);
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
	h->cfg.token = NULL;             /* h->token, under access_lock */
	atomic_init(&h->max_body, cfg->max_body);
	pthread_mutex_init(&h->access_lock, NULL);
	h->cfg.listen = h->listen;
	h->cfg.tls_cert = h->tls_cert;
	h->cfg.tls_key = h->tls_key;
	if (h->cfg.timeout == 0)
		h->cfg.timeout = 30;
	if (h->cfg.head_timeout == 0)
		h->cfg.head_timeout = HEAD_TIMEOUT_MAX;
	if (h->cfg.head_timeout > h->cfg.timeout)   /* silence ends it first */
		h->cfg.head_timeout = h->cfg.timeout;
	if (h->cfg.reserve == 0)
		h->cfg.reserve = cfg->max_connections / 8;
	if (h->cfg.max_streams == 0)
		h->cfg.max_streams = cfg->max_connections / 4;
	if (h->cfg.max_streams == 0)
		h->cfg.max_streams = 1;
	h->gate = vt_http_gate_create(cfg->max_connections, cfg->max_per_ip);
	vt_http_gate_set_reserve(h->gate, h->cfg.reserve);
	pthread_mutex_init(&h->sweep_lock, NULL);
	vt_clock_cond_init(&h->sweep_cond);
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

void vt_http_set_access(vt_http *h, const char *token, size_t max_body)
{
	pthread_mutex_lock(&h->access_lock);
	snprintf(h->token, sizeof h->token, "%s", token ? token : "");
	pthread_mutex_unlock(&h->access_lock);
	atomic_store(&h->max_body, max_body);
}

/* Constant-time comparison of the Authorization header with the token:
 * 1 when it matches, 0 when not, -1 when no token is set. */
static int token_matches(vt_http *h, const char *auth)
{
	static const char prefix[] = "Bearer ";
	char token[VT_TOKEN_LEN];
	pthread_mutex_lock(&h->access_lock);
	memcpy(token, h->token, sizeof token);
	pthread_mutex_unlock(&h->access_lock);
	if (token[0] == '\0')
		return -1;
	if (auth == NULL || strncmp(auth, prefix, sizeof prefix - 1) != 0)
		return 0;
	const char *given = auth + sizeof prefix - 1;
	size_t a = strlen(given), b = strlen(token);
	unsigned char diff = (unsigned char)(a != b);
	for (size_t i = 0; i < b; i++)
		diff |= (unsigned char)(given[i % (a ? a : 1)] ^ token[i]);
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

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	return st->read(st->ctx, pos, buf, max);
}

static void stream_done(void *cls)
{
	struct stream *st = cls;
	if (st->free != NULL)
		st->free(st->ctx);
	atomic_fetch_sub(&st->h->streams, 1);
	free(st);
}

/* An endless stream, counted while libmicrohttpd holds it: 1 with *out
 * set; 0 past max_streams, -1 when it cannot be made (in both the
 * stream's own free callback has run). */
static int stream_response(vt_http *h, struct vt_http_response *resp,
    struct MHD_Response **out)
{
	*out = NULL;
	if (atomic_fetch_add(&h->streams, 1) >= h->cfg.max_streams) {
		atomic_fetch_sub(&h->streams, 1);
		if (resp->stream_free != NULL)
			resp->stream_free(resp->stream_ctx);
		return 0;
	}
	struct stream *st = vt_xcalloc(1, sizeof *st);
	*st = (struct stream){ h, resp->stream, resp->stream_ctx,
	    resp->stream_free };
	*out = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
	    stream_read, st, stream_done);
	if (*out == NULL) {
		stream_done(st);
		return -1;
	}
	return 1;
}

static enum MHD_Result send_response(vt_http *h, struct MHD_Connection *conn,
    struct vt_http_response *resp, int head_only)
{
	struct MHD_Response *r;
	if (resp->stream != NULL && !head_only && !resp->endless) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
		    16 * 1024, resp->stream, resp->stream_ctx,
		    resp->stream_free);
		if (r == NULL && resp->stream_free != NULL)
			resp->stream_free(resp->stream_ctx);
		vt_buf_fini(&resp->body);
	} else if (resp->stream != NULL && !head_only) {
		int made = stream_response(h, resp, &r);
		if (made < 0)
			return MHD_NO;
		if (made == 0) {
			atomic_fetch_add(&h->refused[REFUSED_MAX_STREAMS], 1);
			resp->stream = NULL;
			resp->stream_free = NULL;
			vt_http_error(resp, 503, "too many streams open (%zu)",
			    h->cfg.max_streams);
			resp->close = 1;
			return send_response(h, conn, resp, 0);
		}
		vt_buf_fini(&resp->body);
	} else if (head_only) {
		vt_buf_fini(&resp->body);
		if (resp->stream_free != NULL)
			resp->stream_free(resp->stream_ctx);
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len;
		char *data = vt_buf_steal(&resp->body, &len);
		r = MHD_create_response_from_buffer_with_free_callback(len,
		    data, free);
		if (r == NULL)
			free(data);
	}
	if (r == NULL)
		return MHD_NO;
	add_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    resp->content_type ? resp->content_type : JSON_TYPE);
	add_security_headers(r);
	if (resp->no_cache)
		add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (resp->location[0])
		add_header(r, MHD_HTTP_HEADER_LOCATION, resp->location);
	if (resp->close)
		add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
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
	    atomic_load(&h->max_body));
	return send_response(h, conn, &resp, 0);
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

/* The gate's record of this connection (its socket context). */
static struct vt_http_gate_conn *gate_conn(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	vt_http *h = cls;
	struct request_state *st = *req_cls;
	size_t max_body = atomic_load(&h->max_body);
	int tok;
	(void)version;

	if (st == NULL) {
		vt_http_gate_conn_busy(h->gate, gate_conn(conn));  /* head in */
		st = vt_xcalloc(1, sizeof *st);
		vt_buf_init(&st->body);
		*req_cls = st;
		const char *cl = MHD_lookup_connection_value(conn,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > max_body)
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
		if (st->discarded == 0 && st->body.len + n <= max_body) {
			vt_buf_append(&st->body, upload_data, n);
			return MHD_YES;
		}
		vt_buf_fini(&st->body);
		st->discarded += n;
		return st->discarded > max_body ? MHD_NO : MHD_YES;
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
	    (tok = token_matches(h, vt_http_header(&req,
	    "Authorization"))) != 1) {
		atomic_fetch_add(&h->refused[tok == 0 ? REFUSED_UNAUTHORIZED :
		    REFUSED_FORBIDDEN], 1);
		vt_http_error(&resp, tok == 0 ? 401 : 403, tok == 0 ?
		    "a valid bearer token is required" :
		    "writes are accepted from loopback clients only");
	} else {
		req.subpath = url + r->path_len;
		if (h->forward != NULL && (strcmp(method, "GET") == 0 ||
		    strcmp(method, "HEAD") == 0))
			h->forward(h->forward_ctx, &req, &resp);
		if (resp.status == 200 && resp.location[0] == '\0')
			r->fn(r->ctx, &req, &resp);
	}
	return send_response(h, conn, &resp, strcmp(method, "HEAD") == 0);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
    void **req_cls, enum MHD_RequestTerminationCode toe)
{
	vt_http *h = cls;
	struct request_state *st = *req_cls;
	(void)toe;
	vt_http_gate_conn_waiting(h->gate, gate_conn(conn), vt_clock_mono());
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
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	socklen_t len = sa == NULL ? 0 : sa->sa_family == AF_INET6 ?
	    (socklen_t)sizeof(struct sockaddr_in6) :
	    (socklen_t)sizeof(struct sockaddr_in);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fi = MHD_get_connection_info(
		    conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = vt_http_gate_conn_opened(h->gate, sa, len,
		    fi ? fi->connect_fd : -1, vt_clock_mono());
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		vt_http_gate_conn_closed(h->gate, *socket_context, sa, len);
		*socket_context = NULL;
	}
}

void vt_http_collect(void *ctx, struct vt_buf *out, enum vt_prom_format fmt)
{
	vt_http *h = ctx;
	static const char open_name[] = "vitals_http_open_connections";
	static const char refused_name[] = "vitals_http_refused";
	static const char gate_name[] = "vitals_http_connections_refused";
	static const char drop_name[] = "vitals_http_connections_dropped";
	static const char streams_name[] = "vitals_http_open_streams";

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
	vt_prom_text_head(out, drop_name, sizeof drop_name - 1,
	    VT_PROM_COUNTER, "HTTP connections closed by the server before a "
	    "request head was complete, by reason: head_timeout (not "
	    "complete within the head deadline), evicted (every slot taken: "
	    "the oldest waiting one made room for a new client).", fmt);
	for (int i = 0; i < VT_GATE_DROP_COUNT; i++) {
		vt_buf_printf(out, "%s_total{reason=\"%s\"} ", drop_name,
		    vt_http_gate_drop_name((enum vt_http_gate_drop)i));
		vt_prom_text_u64(out, vt_http_gate_dropped(h->gate,
		    (enum vt_http_gate_drop)i));
		vt_buf_putc(out, '\n');
	}
	vt_prom_text_head(out, streams_name, sizeof streams_name - 1,
	    VT_PROM_GAUGE, "Endless HTTP streams (event streams) open now.",
	    fmt);
	vt_buf_printf(out, "%s ", streams_name);
	vt_prom_text_u64(out, atomic_load(&h->streams));
	vt_buf_putc(out, '\n');
	vt_prom_text_head(out, open_name, sizeof open_name - 1, VT_PROM_GAUGE,
	    "HTTP connections open now.", fmt);
	vt_buf_printf(out, "%s ", open_name);
	vt_prom_text_u64(out, vt_http_gate_open(h->gate));
	vt_buf_putc(out, '\n');
	vt_prom_text_head(out, refused_name, sizeof refused_name - 1,
	    VT_PROM_COUNTER, "HTTP requests refused before any handler ran, "
	    "by reason: body_too_large (413), unauthorized (401), forbidden "
	    "(403), max_streams (503).", fmt);
	for (int i = 0; i < REFUSED_COUNT; i++) {
		vt_buf_printf(out, "%s_total{reason=\"%s\"} ", refused_name,
		    refusal_names[i]);
		vt_prom_text_u64(out, atomic_load(&h->refused[i]));
		vt_buf_putc(out, '\n');
	}
}

/* Every SWEEP_EVERY seconds: close connections whose request head is
 * not complete within head_timeout. */
static void *sweeper_main(void *arg)
{
	vt_http *h = arg;
	pthread_mutex_lock(&h->sweep_lock);
	while (!h->sweep_stop) {
		struct timespec at = vt_clock_deadline(SWEEP_EVERY);
		pthread_cond_timedwait(&h->sweep_cond, &h->sweep_lock, &at);
		if (h->sweep_stop)
			break;
		pthread_mutex_unlock(&h->sweep_lock);
		vt_http_gate_sweep(h->gate, vt_clock_mono(),
		    (double)h->cfg.head_timeout);
		pthread_mutex_lock(&h->sweep_lock);
	}
	pthread_mutex_unlock(&h->sweep_lock);
	return NULL;
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
	 * hard stop for connections admitted at the same instant. Its total
	 * is shared out between the pool's threads and any one thread may
	 * end up holding all of them: so many times the threads. Connections
	 * the gate shut down still count there until their thread closes
	 * them, hence the reserve once more. */
	size_t threads = h->cfg.threads ? h->cfg.threads : 1;
	size_t mhd_limit = (h->cfg.max_connections + 2 * h->cfg.reserve +
	    GATE_SLACK) * threads;
	if (h->cfg.max_per_ip > 0)
		opt[nopt++] = (struct MHD_OptionItem){
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    (intptr_t)h->cfg.max_per_ip + GATE_SLACK, NULL };
	opt[nopt] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	h->daemon = MHD_start_daemon(flags, 0, on_accept, h, on_request, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)h->cfg.threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)mhd_limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.timeout,
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
	int rc = pthread_create(&h->sweeper, NULL, sweeper_main, h);
	if (rc != 0) {
		snprintf(err, errlen, "http sweeper thread: %s", strerror(rc));
		return -1;
	}
	h->sweep_started = 1;
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
	if (h->sweep_started) {
		pthread_mutex_lock(&h->sweep_lock);
		h->sweep_stop = 1;
		pthread_cond_signal(&h->sweep_cond);
		pthread_mutex_unlock(&h->sweep_lock);
		pthread_join(h->sweeper, NULL);
	}
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	pthread_cond_destroy(&h->sweep_cond);
	pthread_mutex_destroy(&h->sweep_lock);
	pthread_mutex_destroy(&h->access_lock);
	vt_http_gate_destroy(h->gate);
	free(h->cert_pem);
	free(h->key_pem);
	free(h);
}

void vt_http_set_forward(vt_http *h, vt_http_handler fn, void *ctx)
{
	h->forward = fn;
	h->forward_ctx = ctx;
}

static void put_encoded(struct vt_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == '~') {
			vt_buf_putc(out, (char)c);
		} else {
			vt_buf_putc(out, '%');
			vt_buf_putc(out, hex[c >> 4]);
			vt_buf_putc(out, hex[c & 15]);
		}
	}
}

struct query_walk {
	struct vt_buf *out;
	size_t n;
};

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind,
    const char *key, const char *value)
{
	struct query_walk *w = cls;
	(void)kind;
	vt_buf_putc(w->out, w->n++ ? '&' : '?');
	put_encoded(w->out, key);
	if (value != NULL) {
		vt_buf_putc(w->out, '=');
		put_encoded(w->out, value);
	}
	return MHD_YES;
}

void vt_http_query(const struct vt_http_request *req, struct vt_buf *out)
{
	struct query_walk w = { out, 0 };
	if (req->conn != NULL)
		MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND,
		    query_arg, &w);
}
