/*
 * events.h - GET /api/v1/events: Server-Sent Events pushing every
 * healthcheck status change as it happens (SPEC 6).
 *
 * Stream, per connection (Content-Type text/event-stream):
 *   retry: 3000
 *   event: hello           the current status of every service
 *   data: {"services": [{"name", "status", "stale"}, ...], "time"}
 *
 *   id: 42
 *   event: status          one check changed status (or went stale)
 *   data: {"service", "instance", "check", "status", "previous",
 *          "stale", "output", "service_status", "service_previous",
 *          "time"}         (previous: null for a new check)
 *
 *   id: 43
 *   event: deleted         a service was forgotten (DELETE)
 *   data: {"service", "time"}
 *
 *   event: overflow        this client fell more than `backlog` events
 *   data: {"missed": N}    behind; reload state from /api/v1/services
 *
 *   : heartbeat            a comment every 15 s of silence, so proxies
 *                          keep the stream open and dead clients are found
 *                          (a client that hangs up is noticed sooner: the
 *                          tick polls suspended streams' sockets)
 * A reconnecting client's Last-Event-ID resumes from the next event when
 * it is still in the backlog.
 *
 * Threads: the bus (a ring of the last `backlog` formatted events with
 * sequence numbers, under one mutex) is fed by the health registry's
 * listener on the loop thread and read by libmicrohttpd threads. A client
 * with nothing to read is suspended (MHD_suspend_connection), never
 * blocking an HTTP thread; a publish or the heartbeat tick resumes it.
 * This needs the HTTP server started with MHD_ALLOW_SUSPEND_RESUME and
 * streamed responses (http.h: resp->stream).
 */
#ifndef VT_EVENTS_H
#define VT_EVENTS_H

#include <stddef.h>

#include "collector/health/health.h"
#include "dashboards/http/http.h"

#define VT_EVENTS_BACKLOG 256        /* events kept for slow clients */
#define VT_EVENTS_HEARTBEAT 15.0     /* seconds of silence before ": " */
#define VT_EVENTS_MAX_CLIENTS 64     /* streams at once; more get 503 and
                                      * the connection is closed (the
                                      * server caps streams too: http.h
                                      * max_streams) */

typedef struct vt_events vt_events;

/* health is borrowed (for the hello event) and must outlive ev. */
vt_events *vt_events_create(vt_health *health);
/* After the HTTP server is stopped. NULL ok. */
void vt_events_destroy(vt_events *ev);

/* Register GET /api/v1/events. */
void vt_events_register(vt_events *ev, vt_http *http);

/* The health listener (vt_health_add_listener); ctx is ev. */
void vt_events_on_health(void *ctx, const struct vt_health_event *e);

/* Publish one event: `event` is the SSE event name, `data` one line of
 * JSON. Thread-safe, never blocks on clients. Returns its id. */
unsigned long long vt_events_publish(vt_events *ev, const char *event,
    const char *data);

/* Wake streams silent for VT_EVENTS_HEARTBEAT seconds (they then send a
 * heartbeat comment), and end those whose client hung up (their
 * connection closes). Call about once a second, any thread. */
void vt_events_tick(vt_events *ev, double now);

/* End every stream: call before the HTTP server stops (libmicrohttpd
 * must not be stopped with suspended connections). Thread-safe. */
void vt_events_shutdown(vt_events *ev);

#endif
