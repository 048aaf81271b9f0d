/*
 * core_routes.h - the daemon's basic HTTP endpoints:
 *   GET  /metrics          Prometheus exposition (text 0.0.4 / OpenMetrics)
 *   GET  /healthz          the daemon's own liveness
 *   POST /api/v1/metrics   statsd lines pushed over HTTP (to the inbox)
 */
#ifndef VT_CORE_ROUTES_H
#define VT_CORE_ROUTES_H

#include "collector/ingest/inbox.h"
#include "dashboards/http/http.h"
#include "exporters/prom/prom.h"

struct vt_core_routes {
	struct vt_prom *prom;     /* borrowed */
	vt_inbox *inbox;          /* borrowed */
	double start_time;
	/* AMQP connection state for /healthz ("connected", ...); NULL
	 * when AMQP is off. Called on HTTP threads. */
	const char *(*amqp_state)(void *ctx);
	void *amqp_ctx;
};

/* ctx is borrowed and must outlive the server. */
void vt_core_routes_register(vt_http *h, struct vt_core_routes *ctx);

#endif
