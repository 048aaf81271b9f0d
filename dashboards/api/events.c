/*
 * events.c - Server-Sent Events for healthcheck status changes
 * (events.h).
 *
 * The bus is a ring of formatted frames with sequence numbers; each
 * stream copies frames it has not sent yet into its own small output
 * buffer when libmicrohttpd asks for body bytes. With nothing to send the
 * stream marks itself suspended and suspends its connection; publishers
 * and the heartbeat tick collect suspended streams under the lock and
 * resume them after releasing it (libmicrohttpd cancels a suspend that
 * follows an early resume, so the order of the two never loses a wake).
 *
 * A suspended connection is out of libmicrohttpd's sight: a client that
 * hangs up would only be noticed when the next heartbeat fails to go
 * out. So the tick also polls the socket of each suspended stream for a
 * hang-up (POLLRDHUP) and resumes the ones gone; their next read ends the
 * stream with an error, and libmicrohttpd closes the connection.
 */
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/buf.h"
#include "collector/base/clock.h"
#include "collector/base/json.h"
#include "collector/base/loop.h"
#include "collector/base/xmalloc.h"
#include "collector/health/health_snapshot.h"
#include "dashboards/api/events.h"

struct frame {
	char *text;              /* "id: N\nevent: E\ndata: D\n\n", owned */
	size_t len;
};

struct client {
	struct client *prev, *next;
	vt_events *ev;
	struct MHD_Connection *conn;
	unsigned long long next_seq; /* first event not yet copied to out */
	struct vt_buf out;           /* bytes not yet handed to the server */
	size_t off;                  /* of out, already handed over */
	int suspended;
	int gone;                    /* the client hung up: end the stream */
	int fd;                      /* the connection's socket, or -1 */
	double last_write;
};

struct vt_events {
	vt_health *health;           /* borrowed */
	pthread_mutex_t lock;        /* guards everything below */
	struct frame ring[VT_EVENTS_BACKLOG];
	unsigned long long seq;      /* id of the next event; first is 1 */
	struct client *clients;
	size_t nclients;
	int closing;
};

vt_events *vt_events_create(vt_health *health)
{
	vt_events *ev = vt_xcalloc(1, sizeof *ev);
	ev->health = health;
	ev->seq = 1;
	pthread_mutex_init(&ev->lock, NULL);
	return ev;
}

void vt_events_destroy(vt_events *ev)
{
	if (ev == NULL)
		return;
	for (size_t i = 0; i < VT_EVENTS_BACKLOG; i++)
		free(ev->ring[i].text);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

/* Resume the connections of suspended streams (under the lock: collect;
 * the caller resumes after unlocking). Returns how many. */
static size_t collect(vt_events *ev, struct MHD_Connection **out,
    double now, int only_idle)
{
	size_t n = 0;
	for (struct client *c = ev->clients; c; c = c->next) {
		if (!c->suspended || n == VT_EVENTS_MAX_CLIENTS)
			continue;
		if (only_idle && !c->gone &&
		    now - c->last_write < VT_EVENTS_HEARTBEAT)
			continue;
		c->suspended = 0;
		out[n++] = c->conn;
	}
	return n;
}

static void resume(struct MHD_Connection **conns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		MHD_resume_connection(conns[i]);
}

unsigned long long vt_events_publish(vt_events *ev, const char *event,
    const char *data)
{
	struct MHD_Connection *wake[VT_EVENTS_MAX_CLIENTS];
	struct vt_buf b;
	vt_buf_init(&b);

	pthread_mutex_lock(&ev->lock);
	unsigned long long id = ev->seq++;
	vt_buf_printf(&b, "id: %llu\nevent: %s\ndata: %s\n\n", id, event, data);
	struct frame *f = &ev->ring[id % VT_EVENTS_BACKLOG];
	free(f->text);
	f->text = vt_buf_steal(&b, &f->len);
	size_t n = collect(ev, wake, 0, 0);
	pthread_mutex_unlock(&ev->lock);
	resume(wake, n);
	return id;
}

/* The client of a suspended stream has hung up (or the socket failed).
 * The connection cannot close while suspended, so fd is still its own. */
static int hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	return fd >= 0 && poll(&p, 1, 0) > 0 &&
	    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void vt_events_tick(vt_events *ev, double now)
{
	struct MHD_Connection *wake[VT_EVENTS_MAX_CLIENTS];
	pthread_mutex_lock(&ev->lock);
	for (struct client *c = ev->clients; c; c = c->next)
		if (c->suspended && !c->gone && hung_up(c->fd))
			c->gone = 1;
	size_t n = collect(ev, wake, now, 1);
	pthread_mutex_unlock(&ev->lock);
	resume(wake, n);
}

void vt_events_shutdown(vt_events *ev)
{
	struct MHD_Connection *wake[VT_EVENTS_MAX_CLIENTS];
	pthread_mutex_lock(&ev->lock);
	ev->closing = 1;
	size_t n = collect(ev, wake, 0, 0);
	pthread_mutex_unlock(&ev->lock);
	resume(wake, n);
}

/* Copy frames the stream has not seen into its buffer, up to about max
 * bytes. Under the lock. */
static void fill(vt_events *ev, struct client *c, size_t max)
{
	unsigned long long oldest = ev->seq > VT_EVENTS_BACKLOG ?
	    ev->seq - VT_EVENTS_BACKLOG : 1;
	if (c->next_seq < oldest) {
		vt_buf_printf(&c->out, "event: overflow\ndata: {\"missed\":%llu}"
		    "\n\n", oldest - c->next_seq);
		c->next_seq = oldest;
	}
	while (c->next_seq < ev->seq && c->out.len - c->off < max) {
		const struct frame *f = &ev->ring[c->next_seq %
		    VT_EVENTS_BACKLOG];
		vt_buf_append(&c->out, f->text, f->len);
		c->next_seq++;
	}
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct client *c = cls;
	vt_events *ev = c->ev;
	double now = vt_clock_now();
	(void)pos;

	pthread_mutex_lock(&ev->lock);
	if (c->gone) {
		pthread_mutex_unlock(&ev->lock);
		return MHD_CONTENT_READER_END_WITH_ERROR;   /* closes it */
	}
	if (ev->closing) {
		pthread_mutex_unlock(&ev->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	fill(ev, c, max);
	if (c->out.len == c->off && now - c->last_write >= VT_EVENTS_HEARTBEAT)
		vt_buf_puts(&c->out, ": heartbeat\n\n");
	size_t n = c->out.len - c->off;
	if (n == 0) {
		c->suspended = 1;
		pthread_mutex_unlock(&ev->lock);
		MHD_suspend_connection(c->conn);
		return 0;
	}
	if (n > max)
		n = max;
	memcpy(buf, c->out.data + c->off, n);
	c->off += n;
	if (c->off == c->out.len) {
		vt_buf_reset(&c->out);
		c->off = 0;
	}
	c->last_write = now;
	pthread_mutex_unlock(&ev->lock);
	return (ssize_t)n;
}

/* The server is done with the stream (closed, or never started). */
static void stream_free(void *cls)
{
	struct client *c = cls;
	vt_events *ev = c->ev;
	pthread_mutex_lock(&ev->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		ev->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ev->nclients--;
	pthread_mutex_unlock(&ev->lock);
	vt_buf_fini(&c->out);
	free(c);
}

static void put_status_or_null(struct vt_buf *b, int status)
{
	if (status < 0)
		vt_buf_puts(b, "null");
	else
		vt_buf_printf(b, "\"%s\"", vt_health_check_status_name((enum vt_status)status));
}

/* "retry" and the hello event: every service's status now. */
static void hello(vt_events *ev, struct vt_buf *out, double now)
{
	struct vt_health_snapshot *s = vt_health_snapshot_get(ev->health);
	vt_buf_puts(out, "retry: 3000\nevent: hello\ndata: {\"services\":[");
	for (size_t i = 0; i < s->nservices; i++) {
		const struct vt_health_service_view *sv = &s->services[i];
		vt_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
		vt_json_string(out, sv->name);
		vt_buf_printf(out, ",\"status\":\"%s\",\"stale\":%s}",
		    vt_health_check_status_name(sv->status), sv->stale ? "true" : "false");
	}
	vt_buf_printf(out, "],\"time\":%.3f}\n\n", now);
	vt_health_snapshot_release(s);
}

static void get_events(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	vt_events *ev = ctx;
	const char *last = vt_http_header(req, "Last-Event-ID");
	double now = vt_clock_now();
	struct client *c = vt_xcalloc(1, sizeof *c);

	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	c->ev = ev;
	c->conn = req->conn;
	c->fd = ci ? ci->connect_fd : -1;
	c->last_write = now;
	vt_buf_init(&c->out);
	hello(ev, &c->out, now);

	pthread_mutex_lock(&ev->lock);
	if (ev->closing || ev->nclients >= VT_EVENTS_MAX_CLIENTS) {
		pthread_mutex_unlock(&ev->lock);
		vt_buf_fini(&c->out);
		free(c);
		vt_http_error(resp, 503, "too many event streams (%d)",
		    VT_EVENTS_MAX_CLIENTS);
		resp->close = 1;     /* its slot goes back to pages at once */
		return;
	}
	c->next_seq = ev->seq;
	if (last != NULL) {
		char *end;
		unsigned long long id = strtoull(last, &end, 10);
		if (*end == '\0' && id < ev->seq && id + VT_EVENTS_BACKLOG >=
		    ev->seq)
			c->next_seq = id + 1;
	}
	c->next = ev->clients;
	if (ev->clients)
		ev->clients->prev = c;
	ev->clients = c;
	ev->nclients++;
	pthread_mutex_unlock(&ev->lock);

	resp->content_type = "text/event-stream; charset=utf-8";
	resp->no_cache = 1;
	resp->stream = stream_read;
	resp->stream_ctx = c;
	resp->stream_free = stream_free;
	resp->endless = 1;
}

void vt_events_register(vt_events *ev, vt_http *http)
{
	vt_http_route(http, "GET", "/api/v1/events", 0, get_events, ev);
}

void vt_events_on_health(void *ctx, const struct vt_health_event *e)
{
	vt_events *ev = ctx;
	struct vt_buf b;
	vt_buf_init(&b);
	vt_buf_puts(&b, "{\"service\":");
	vt_json_string(&b, e->service);
	if (e->forgotten) {
		vt_buf_printf(&b, ",\"time\":%.3f}", e->time);
		vt_events_publish(ev, "deleted", b.data);
		vt_buf_fini(&b);
		return;
	}
	vt_buf_puts(&b, ",\"instance\":");
	vt_json_string(&b, e->instance);
	vt_buf_puts(&b, ",\"check\":");
	vt_json_string(&b, e->check);
	vt_buf_printf(&b, ",\"status\":\"%s\",\"previous\":",
	    vt_health_check_status_name(e->status));
	put_status_or_null(&b, e->previous);
	vt_buf_printf(&b, ",\"stale\":%s,\"output\":", e->stale ? "true" :
	    "false");
	vt_json_string(&b, e->output);
	vt_buf_printf(&b, ",\"service_status\":\"%s\",\"service_previous\":",
	    vt_health_check_status_name(e->service_status));
	put_status_or_null(&b, e->service_previous);
	vt_buf_printf(&b, ",\"time\":%.3f}", e->time);
	vt_events_publish(ev, "status", b.data);
	vt_buf_fini(&b);
}
