/*
 * http.h - the embedded HTTP server (libmicrohttpd): a route table, bounded
 * request bodies, the write guard, JSON errors and security headers.
 * Endpoints live in their own files and register routes before start.
 *
 * Bounds: max_connections at once, max_per_ip from one address, timeout
 * seconds of silence before a connection is closed (slow clients), a
 * request head (from connect, or from the end of the previous response)
 * complete within head_timeout seconds however it trickles in, and when
 * all max_connections are taken a new client gets the slot of the oldest
 * connection still waiting for its head (http_gate.h); loopback clients
 * may use `reserve` more slots when none can be freed so. Streamed
 * responses that never end (event streams) hold at most max_streams
 * connections, so
 * that pages and /metrics keep the rest; past it they are answered 503
 * and closed. And
 * bodies over max_body answered 413 as soon as that is known (from
 * Content-Length before any body is read, else when the body crosses the
 * cap) without buffering more. Every response carries the security
 * headers (Content-Security-Policy with frame-ancestors,
 * X-Content-Type-Options, Referrer-Policy, X-Frame-Options); a header
 * value with a control character (CR/LF injection) is never sent.
 *
 * Handlers run on libmicrohttpd's threads: they may only read published
 * state (the Prometheus exporter's latest flush, snapshots) or push into
 * the inbox; never touch loop-thread state.
 */
#ifndef VT_HTTP_H
#define VT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "collector/base/buf.h"
#include "collector/base/prom_text.h"

struct MHD_Connection;

struct vt_http_config {
	const char *listen;          /* "0.0.0.0:8080" */
	const char *token;           /* bearer token for writes; "" = none */
	size_t max_body;             /* bytes; larger bodies get 413 */
	size_t max_connections;
	size_t max_per_ip;           /* connections from one address; 0 = any */
	size_t threads;
	unsigned timeout;            /* seconds of client inactivity */
	unsigned head_timeout;       /* seconds for a whole request head;
	                              * 0 = 10, at most timeout */
	size_t reserve;              /* slots past max_connections for
	                              * loopback; 0 = max_connections / 8 */
	size_t max_streams;          /* endless streams at once;
	                              * 0 = max_connections / 4, at least 1 */
	const char *tls_cert;        /* PEM file paths: HTTPS; NULL or "" = */
	const char *tls_key;         /*   plain HTTP (read at start) */
};

struct vt_http_request {
	struct MHD_Connection *conn; /* for query arguments and headers */
	const char *method;
	const char *path;            /* without the query string */
	const char *subpath;         /* for prefix routes: the rest after it */
	const char *body;            /* NUL-terminated; "" when none */
	size_t body_len;
	const struct sockaddr *peer;
};

struct vt_http_response {
	unsigned status;             /* default 200 */
	const char *content_type;    /* static string; default JSON */
	struct vt_buf body;          /* owned by the server */
	char location[1024];         /* optional Location header */
	int no_cache;                /* Cache-Control: no-store */
	int close;                   /* Connection: close after this one */
	/*
	 * A streamed body (Server-Sent Events, events.c): when stream is
	 * set, body is ignored and the response is sent chunked, its bytes
	 * produced by stream(stream_ctx, pos, buf, max) under
	 * libmicrohttpd's content-reader contract (bytes written; 0 only
	 * after MHD_suspend_connection; -1 to end). stream_free(stream_ctx)
	 * runs once when the server is done with it (also for HEAD, or when
	 * the response cannot be created).
	 */
	ssize_t (*stream)(void *ctx, uint64_t pos, char *buf, size_t max);
	void *stream_ctx;
	void (*stream_free)(void *ctx);
	/* A stream that runs until the client leaves (event streams): at
	 * most max_streams at once; past it the stream is freed and 503
	 * answered (and the connection closed) instead. */
	int endless;
};

typedef void (*vt_http_handler)(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp);

typedef struct vt_http vt_http;

vt_http *vt_http_create(const struct vt_http_config *cfg);

/*
 * Route `method` `path` to fn. With prefix != 0, path matches every path
 * that starts with it (and req->subpath is the remainder). Exact routes
 * win over prefix routes; longer prefixes over shorter. A path that matches
 * some route but not its method answers 405. Writes (POST, PUT, DELETE)
 * are guarded: loopback clients, or a matching bearer token.
 */
void vt_http_route(vt_http *h, const char *method, const char *path,
    int prefix, vt_http_handler fn, void *ctx);

/*
 * A handler that runs before the route's own for GET and HEAD requests
 * of routes registered with vt_http_route (the fleet sends a request for
 * another collector's service there, dashboards/api/fleet_api.h). When it
 * sets resp->location or a status other than 200, the route's handler is
 * not called. One; before start.
 */
void vt_http_set_forward(vt_http *h, vt_http_handler fn, void *ctx);

/* The request's query string, "?k=v&..." percent-encoded again (nothing
 * when it has no arguments), appended to out. */
void vt_http_query(const struct vt_http_request *req, struct vt_buf *out);

/* Start serving. 0, or -1 with err set ("http 0.0.0.0:8080: ...", or
 * "http.tls_cert /path: ..." when a TLS file cannot be read). */
int vt_http_start(vt_http *h, char *err, size_t errlen);

/* The bound port (after start). */
int vt_http_port(const vt_http *h);

/* SIGHUP: a new bearer token ("" for none) and body cap, for requests
 * from now on. Thread-safe. */
void vt_http_set_access(vt_http *h, const char *token, size_t max_body);

/* A Prometheus collector (prom.h, vt_prom_add_collector; ctx is the
 * vt_http): vitals_http_open_connections, vitals_http_open_streams,
 * vitals_http_connections_refused_total{reason},
 * vitals_http_connections_dropped_total{reason="head_timeout"|"evicted"}
 * and vitals_http_refused_total{reason="body_too_large"|"unauthorized"|
 * "forbidden"|"max_streams"}. Thread-safe. */
void vt_http_collect(void *ctx, struct vt_buf *out, enum vt_prom_format fmt);

/* Stop serving (waits for handlers to return) and free. NULL ok. */
void vt_http_destroy(vt_http *h);

/* Fill resp with {"error": msg} and status. */
void vt_http_error(struct vt_http_response *resp, unsigned status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Query argument value or NULL. */
const char *vt_http_arg(const struct vt_http_request *req, const char *name);

/* Request header value or NULL. */
const char *vt_http_header(const struct vt_http_request *req,
    const char *name);

#endif
