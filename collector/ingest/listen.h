/*
 * listen.h - the statsd sockets: UDP (recvmmsg, large receive buffer,
 * truncation and kernel-drop counting) and TCP (newline-framed lines, many
 * clients, bounded line length, idle timeout, client cap). Everything
 * received goes to vt_ingest on the loop thread.
 */
#ifndef VT_LISTEN_H
#define VT_LISTEN_H

#include <stddef.h>

#include "collector/agg/selfstats.h"
#include "collector/base/loop.h"
#include "collector/ingest/ingest.h"

struct vt_listen_config {
	const char *addr;           /* "host:port" for both UDP and TCP */
	int udp, tcp;               /* which to open */
	size_t udp_receive_buffer;  /* SO_RCVBUF(FORCE) bytes */
	size_t tcp_max_clients;
	double tcp_idle_timeout;    /* seconds */
};

typedef struct vt_listen vt_listen;

/* Bind and register with the loop. loop, ingest and stats are borrowed.
 * NULL with err set ("statsd udp 0.0.0.0:8125: Address in use"). */
vt_listen *vt_listen_create(const struct vt_listen_config *cfg,
    vt_loop *loop, vt_ingest *ingest, struct vt_selfstats *stats,
    char *err, size_t errlen);

/* Close idle TCP clients; call from a periodic timer. */
void vt_listen_expire_idle(vt_listen *l, double now);

/* Read whatever the kernel still holds (before the final flush). */
void vt_listen_drain(vt_listen *l);

/* SIGHUP: new tcp_max_clients (clients past a lower cap stay) and
 * tcp_idle_timeout. Loop thread. */
void vt_listen_set_limits(vt_listen *l, size_t tcp_max_clients,
    double tcp_idle_timeout);

/* The bound ports (useful with port 0). */
int vt_listen_udp_port(const vt_listen *l);
int vt_listen_tcp_port(const vt_listen *l);

/* Close every socket and free. */
void vt_listen_destroy(vt_listen *l);

#endif
