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
 * Thread-safe (one mutex; connection set-up and tear-down only, never a
 * request). Memory: one slot per possible open connection, fixed at
 * create.
 */
#ifndef VT_HTTP_GATE_H
#define VT_HTTP_GATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum vt_http_gate_reason {
	VT_GATE_MAX_CONNECTIONS,          /* http.max_connections */
	VT_GATE_MAX_PER_ADDRESS,          /* http.max_connections_per_ip */
	VT_GATE_REASON_COUNT
};

/* "max_connections", "max_connections_per_ip" (the config keys). */
const char *vt_http_gate_reason_name(enum vt_http_gate_reason r);

struct vt_http_gate;

/* max_per_addr 0: no per-address cap. */
struct vt_http_gate *vt_http_gate_create(size_t max_total,
    size_t max_per_addr);
void vt_http_gate_destroy(struct vt_http_gate *g);   /* NULL ok */

/* 1: let this client in; 0: refuse it (counted). */
int vt_http_gate_admit(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len);
/* A connection from sa is open now / has closed. */
void vt_http_gate_opened(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len);
void vt_http_gate_closed(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len);

size_t vt_http_gate_open(struct vt_http_gate *g);
uint64_t vt_http_gate_refused(struct vt_http_gate *g,
    enum vt_http_gate_reason r);

#endif
