/*
 * http_gate.h - who may open an HTTP connection: at most max_total at
 * once, at most max_per_addr from one client address, and every refusal
 * counted by reason.
 *
 * libmicrohttpd enforces limits of its own but closes the refused socket
 * without telling anyone; the gate runs in its accept-policy callback
 * first, so /metrics can say how many were turned away and why. The gate
 * counts a connection from opened() (libmicrohttpd's "started"
 * notification) to closed(); admit() only looks, so a connection that
 * libmicrohttpd then fails to set up is never counted. Connections
 * admitted at the same instant on different server threads may pass a
 * cap by one or two; libmicrohttpd's own limits, set a little higher,
 * stay as the hard stop.
 *
 * Slow clients (slow-loris): the gate also follows each open connection
 * (conn_opened .. conn_closed) through two states: waiting for a request
 * head (from connect, or from the end of the previous response on a
 * kept-alive connection) and busy (head complete: handler, response,
 * event stream). Waiting connections sit in a list, oldest first:
 *   - sweep() closes those waiting longer than the head deadline;
 *   - when max_total are open, admit() makes room by closing the oldest
 *     waiting connection that has sent part of a head, or has sat silent
 *     for at least VT_GATE_EVICT_GRACE seconds, and lets the new one in;
 *     once it has had to refuse a client for want of one, the oldest
 *     waiting connection goes whatever it did, for VT_GATE_PRESSURE
 *     seconds (a flood of silent connections, new ones always coming);
 *   - with nothing to close, loopback clients may still take one of
 *     `reserve` slots past max_total (set_reserve), others are refused.
 * A busy connection is never closed here. Closing is shutdown(2) on the
 * socket, under the mutex: libmicrohttpd reports the connection closed
 * (conn_closed, which takes the mutex) before it closes the descriptor,
 * so the descriptor shut down is still this connection's. libmicrohttpd
 * then reads end-of-file and closes it on its own thread.
 *
 * Thread-safe (one mutex; connection set-up and tear-down, and the head
 * state twice a request). Memory: one slot per possible open connection,
 * fixed at create, and a small record per open connection.
 */
#ifndef VT_HTTP_GATE_H
#define VT_HTTP_GATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define VT_GATE_EVICT_GRACE 1.0   /* seconds a silent new connection is
                                    * safe from eviction */
#define VT_GATE_PRESSURE 10.0     /* seconds after a refusal at the cap
                                    * that it is not */

enum vt_http_gate_reason {
	VT_GATE_MAX_CONNECTIONS,          /* http.max_connections */
	VT_GATE_MAX_PER_ADDRESS,          /* http.max_connections_per_ip */
	VT_GATE_REASON_COUNT
};

/* "max_connections", "max_connections_per_ip" (the config keys). */
const char *vt_http_gate_reason_name(enum vt_http_gate_reason r);

/* Open connections the gate closed itself. */
enum vt_http_gate_drop {
	VT_GATE_HEAD_TIMEOUT,             /* head not complete in time */
	VT_GATE_EVICTED,                  /* closed to let a new one in */
	VT_GATE_DROP_COUNT
};

/* "head_timeout", "evicted". */
const char *vt_http_gate_drop_name(enum vt_http_gate_drop d);

struct vt_http_gate;

/* max_per_addr 0: no per-address cap. */
struct vt_http_gate *vt_http_gate_create(size_t max_total,
    size_t max_per_addr);
void vt_http_gate_destroy(struct vt_http_gate *g);   /* NULL ok */

/* Slots past max_total that loopback clients may take when no waiting
 * connection can be closed to make room (default 0). */
void vt_http_gate_set_reserve(struct vt_http_gate *g, size_t reserve);

/* 1: let this client in; 0: refuse it (counted). May close one waiting
 * connection to make room (counted as evicted). now: vt_clock_mono(). */
int vt_http_gate_admit_at(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len, double now);
/* The same at vt_clock_mono(). */
int vt_http_gate_admit(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len);
/* A connection from sa is open now / has closed. */
void vt_http_gate_opened(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len);
void vt_http_gate_closed(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len);

/* One followed connection (the server's socket context). */
struct vt_http_gate_conn;

/* opened() for a connection on socket fd (-1: unknown, never shut down),
 * waiting for its head since now; conn_closed() frees the record. */
struct vt_http_gate_conn *vt_http_gate_conn_opened(struct vt_http_gate *g,
    const struct sockaddr *sa, socklen_t len, int fd, double now);
void vt_http_gate_conn_closed(struct vt_http_gate *g,
    struct vt_http_gate_conn *c, const struct sockaddr *sa, socklen_t len);
/* The head of a request is complete: busy until conn_waiting(). */
void vt_http_gate_conn_busy(struct vt_http_gate *g,
    struct vt_http_gate_conn *c);
/* The request is over; the connection waits for the next head. */
void vt_http_gate_conn_waiting(struct vt_http_gate *g,
    struct vt_http_gate_conn *c, double now);

/* Close every connection waiting for a head for head_timeout seconds or
 * more; returns how many (counted as head_timeout). */
size_t vt_http_gate_sweep(struct vt_http_gate *g, double now,
    double head_timeout);

size_t vt_http_gate_open(struct vt_http_gate *g);
uint64_t vt_http_gate_dropped(struct vt_http_gate *g,
    enum vt_http_gate_drop d);
uint64_t vt_http_gate_refused(struct vt_http_gate *g,
    enum vt_http_gate_reason r);

#endif
