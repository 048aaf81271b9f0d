/*
 * ingest.h - from received bytes to the aggregator: splits a datagram,
 * TCP chunk or message body into lines, parses each and applies it,
 * counting every line by result. Shared by UDP, TCP, HTTP and AMQP input.
 * Loop thread only.
 */
#ifndef VT_INGEST_H
#define VT_INGEST_H

#include <stddef.h>
#include <sys/socket.h>

#include "collector/agg/agg.h"
#include "collector/agg/selfstats.h"
#include "collector/base/vt_types.h"

/* Where checks go (the health registry, once it exists). Optional. */
struct vt_ingest_checks {
	/* A parsed `_sc` line; peer may be NULL. */
	void (*on_service_check)(void *ctx, const struct vt_check_report *r,
	    const struct sockaddr *peer);
	/* A JSON healthcheck body (UDP datagram starting with '{' or '['). */
	void (*on_json)(void *ctx, const char *body, size_t len,
	    const struct sockaddr *peer);
	void *ctx;
};

/* Relay mode: every datagram and TCP line goes to on_datagram as is,
 * instead of being parsed and aggregated here. */
struct vt_ingest_forward {
	void (*on_datagram)(void *ctx, const char *buf, size_t len,
	    const struct sockaddr *peer);
	void *ctx;
};

typedef struct vt_ingest vt_ingest;

/* agg and stats are borrowed and must outlive the ingest. */
vt_ingest *vt_ingest_create(vt_agg *agg, struct vt_selfstats *stats);
void vt_ingest_destroy(vt_ingest *in);
void vt_ingest_set_checks(vt_ingest *in, const struct vt_ingest_checks *c);
/* Forward instead of aggregating (agg may then be NULL at create). */
void vt_ingest_set_forward(vt_ingest *in, const struct vt_ingest_forward *f);

/* One UDP datagram: JSON checks when it starts with '{' or '[', else
 * statsd lines. */
void vt_ingest_datagram(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer);

/*
 * The same, except that parsed samples may stay in batches that borrow
 * buf: buf must stay unchanged until vt_ingest_apply_held, which the
 * caller runs once the datagrams it holds in memory are all passed (a
 * round of recvmmsg). Batches then fill across datagrams. Every other
 * entry point adds its lines after what is held and applies them all
 * before it returns, so lines keep their order.
 */
void vt_ingest_datagram_held(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer);
void vt_ingest_apply_held(vt_ingest *in);

/* statsd lines separated by '\n' (a final line needs no newline), all
 * applied before it returns. Returns how many of them parsed, metric
 * lines and service checks: those the aggregator applied, and those it
 * refused only for a type conflict or the metric cap. 0 means not one
 * well-formed line: the body is malformed as a whole (AMQP rejects it). */
size_t vt_ingest_lines(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer);

/* One line (no newline). */
void vt_ingest_line(vt_ingest *in, const char *line, size_t len,
    const struct sockaddr *peer);

#endif
