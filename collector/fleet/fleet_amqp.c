/*
 * fleet_amqp.c - the fleet's exchange thread (fleet_amqp.h). One
 * connection publishes and consumes; the thread waits in poll(2) on the
 * broker socket and the outgoing queue's eventfd, at most until the next
 * announcement is due.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/amqp/amqp_conn.h"
#include "collector/amqp/amqp_link.h"
#include "collector/base/clock.h"
#include "collector/base/json.h"
#include "collector/base/log.h"
#include "collector/base/queue.h"
#include "collector/base/xmalloc.h"
#include "collector/fleet/fleet_amqp.h"

#define POLL_MS 250

enum { KIND_CHECKS, KIND_ANNOUNCE, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = { "checks", "announce" };

struct report {
	struct vt_queue_node node;
	size_t len;
	char json[];                  /* one check object */
};

struct vt_fleet_amqp {
	struct vt_amqp_conn_opts opts;
	char fleet_exchange[VT_ADDR_LEN];
	size_t max_body;
	double announce;
	vt_fleet *fleet;              /* borrowed */
	vt_inbox *inbox;              /* borrowed */
	pthread_t thread;
	int running;
	atomic_int stop;
	struct vt_queue out;          /* struct report; eventfd */
	struct vt_amqp_link link;
	_Atomic uint64_t received[KIND_COUNT], published[KIND_COUNT];
	_Atomic uint64_t rejected[VT_FLEET_REJECT_COUNT], own;

	/* thread only */
	amqp_connection_state_t conn;
	char queue[VT_ADDR_LEN];      /* server-named */
	double next_announce;
	int idle, clash_logged, size_logged;
};

static const char *reject_name(int r)
{
	static const char *const names[VT_FLEET_REJECT_COUNT] = { "headers",
	    "too_large", "bad_announce", "inbox_full", "too_many_collectors" };
	return names[r];
}

void vt_fleet_amqp_submit(void *ctx, const struct vt_check *c)
{
	vt_fleet_amqp *fa = ctx;
	struct vt_buf b;
	vt_buf_init(&b);
	vt_buf_puts(&b, "{\"service\":");
	vt_json_string(&b, c->service);
	vt_buf_puts(&b, ",\"instance\":");
	vt_json_string(&b, c->instance);
	vt_buf_puts(&b, ",\"check\":");
	vt_json_string(&b, c->check);
	vt_buf_printf(&b, ",\"status\":\"%s\",\"ttl\":%.17g",
	    vt_health_check_status_name(c->status), c->ttl);
	if (c->timestamp > 0)
		vt_buf_printf(&b, ",\"timestamp\":%.17g", c->timestamp);
	vt_buf_puts(&b, ",\"output\":");
	vt_json_string(&b, c->output);
	vt_buf_putc(&b, '}');
	if (b.data != NULL && vt_queue_admit(&fa->out, b.len) == 0) {
		struct report *r = vt_xmalloc(sizeof *r + b.len + 1);
		r->len = b.len;
		memcpy(r->json, b.data, b.len + 1);
		if (vt_queue_push(&fa->out, &r->node, b.len, NULL) < 0)
			free(r);
	}
	vt_buf_fini(&b);
}

static void lose(vt_fleet_amqp *fa, const char *why)
{
	vt_log_warn("fleet", "connection to %s lost: %s", fa->opts.url_shown,
	    why);
	amqp_destroy_connection(fa->conn);
	fa->conn = NULL;
	vt_amqp_link_lost(&fa->link);
}

static amqp_table_entry_t header(const char *key, const char *value)
{
	amqp_table_entry_t e;
	e.key = amqp_cstring_bytes(key);
	e.value.kind = AMQP_FIELD_KIND_UTF8;
	e.value.value.bytes = amqp_cstring_bytes(value);
	return e;
}

static int publish(vt_fleet_amqp *fa, int kind, const char *body, size_t len)
{
	amqp_table_entry_t h[2] = {
		header(VT_FLEET_ORIGIN_HEADER, vt_fleet_name(fa->fleet)),
		header(VT_FLEET_KIND_HEADER, kind_names[kind]),
	};
	amqp_basic_properties_t p;
	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_HEADERS_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = 1;                  /* transient */
	p.headers.num_entries = 2;
	p.headers.entries = h;
	amqp_bytes_t b = { len, (void *)(uintptr_t)body };
	int rc = amqp_basic_publish(fa->conn, VT_AMQP_CHANNEL,
	    amqp_cstring_bytes(fa->fleet_exchange), amqp_cstring_bytes(""),
	    0, 0, &p, b);
	if (rc != AMQP_STATUS_OK) {
		lose(fa, amqp_error_string2(rc));
		return -1;
	}
	atomic_fetch_add(&fa->published[kind], 1);
	return 0;
}

static void announce(vt_fleet_amqp *fa, double now)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_fleet_announce_json(fa->fleet, &b);
	if (b.len > fa->max_body && !fa->size_logged) {
		fa->size_logged = 1;    /* the others would refuse it */
		vt_log_warn("fleet", "announcement of %zu bytes is over "
		    "amqp.max_body (%zu): the other collectors refuse it; "
		    "raise amqp.max_body on every collector", b.len,
		    fa->max_body);
	}
	if (b.data != NULL)
		publish(fa, KIND_ANNOUNCE, b.data, b.len);
	vt_buf_fini(&b);
	fa->next_announce = now + fa->announce;
}

/* Everything queued, as JSON arrays of at most VT_FLEET_BATCH_BYTES; on
 * a lost connection the rest is dropped (a gap the next reports fill). */
static void flush_reports(vt_fleet_amqp *fa)
{
	struct vt_queue_node *n = vt_queue_take(&fa->out, 0);
	struct vt_buf b;
	/* the others refuse bodies over their amqp.max_body (the same
	 * setting across a fleet, as a rule) */
	size_t most = fa->max_body < VT_FLEET_BATCH_BYTES ? fa->max_body :
	    VT_FLEET_BATCH_BYTES;
	vt_buf_init(&b);
	while (n != NULL) {
		struct report *r = VT_QUEUE_ITEM(n, struct report, node);
		n = n->next;
		if (b.len > 0 && b.len + r->len + 2 > most && fa->conn != NULL) {
			vt_buf_putc(&b, ']');
			publish(fa, KIND_CHECKS, b.data, b.len);
			vt_buf_reset(&b);
		}
		vt_buf_putc(&b, b.len ? ',' : '[');
		vt_buf_append(&b, r->json, r->len);
		free(r);
	}
	if (b.len > 0 && fa->conn != NULL) {
		vt_buf_putc(&b, ']');
		publish(fa, KIND_CHECKS, b.data, b.len);
	}
	vt_buf_fini(&b);
}

/* The value of a string header, or NULL (bounded by max bytes). */
static const char *header_of(const amqp_basic_properties_t *p,
    const char *key, char *out, size_t max)
{
	if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
		return NULL;
	size_t klen = strlen(key);
	for (int i = 0; i < p->headers.num_entries; i++) {
		const amqp_table_entry_t *e = &p->headers.entries[i];
		if (e->key.len != klen || memcmp(e->key.bytes, key, klen) != 0)
			continue;
		if (e->value.kind != AMQP_FIELD_KIND_UTF8 &&
		    e->value.kind != AMQP_FIELD_KIND_BYTES)
			return NULL;
		size_t n = e->value.value.bytes.len;
		if (n >= max || memchr(e->value.value.bytes.bytes, '\0', n))
			return NULL;
		memcpy(out, e->value.value.bytes.bytes, n);
		out[n] = '\0';
		return out;
	}
	return NULL;
}

static void reject(vt_fleet_amqp *fa, int why)
{
	atomic_fetch_add(&fa->rejected[why], 1);
}

/* An announcement in our name: ours, or another collector's with the
 * same name (both then ignore each other's reports). Said once. */
static void check_clash(vt_fleet_amqp *fa, const amqp_message_t *m)
{
	struct vt_fleet_announce a;
	char why[128];
	if (fa->clash_logged || m->body.len > fa->max_body ||
	    vt_fleet_announce_parse(m->body.bytes, m->body.len, &a, why,
	    sizeof why) < 0)
		return;
	if (fabs(a.started - vt_fleet_started(fa->fleet)) > 0.01 ||
	    strcmp(a.url, vt_fleet_url(fa->fleet)) != 0) {
		fa->clash_logged = 1;
		vt_log_warn("fleet", "another collector is named %s too (%s): "
		    "the two ignore each other's checks; give each its own "
		    "fleet.name", a.name, a.url);
	}
	vt_fleet_announce_fini(&a);
}

static void deliver(vt_fleet_amqp *fa, const amqp_message_t *m)
{
	char origin[VT_FLEET_NAME_MAX + 2], kind[16], why[128];
	const amqp_basic_properties_t *p = &m->properties;
	if (header_of(p, VT_FLEET_ORIGIN_HEADER, origin, sizeof origin) ==
	    NULL || !vt_fleet_name_ok(origin) ||
	    header_of(p, VT_FLEET_KIND_HEADER, kind, sizeof kind) == NULL ||
	    (strcmp(kind, "checks") != 0 && strcmp(kind, "announce") != 0)) {
		reject(fa, VT_FLEET_REJECT_HEADERS);
		return;
	}
	if (strcmp(origin, vt_fleet_name(fa->fleet)) == 0) {
		atomic_fetch_add(&fa->own, 1);    /* our own, back to us */
		if (strcmp(kind, "announce") == 0)
			check_clash(fa, m);
		return;
	}
	if (m->body.len > fa->max_body) {
		reject(fa, VT_FLEET_REJECT_TOO_LARGE);
		return;
	}
	if (strcmp(kind, "announce") == 0) {
		struct vt_fleet_announce a;
		atomic_fetch_add(&fa->received[KIND_ANNOUNCE], 1);
		if (vt_fleet_announce_parse(m->body.bytes, m->body.len, &a, why,
		    sizeof why) < 0 || strcmp(a.name, origin) != 0) {
			vt_fleet_announce_fini(&a);
			reject(fa, VT_FLEET_REJECT_BAD_ANNOUNCE);
			return;
		}
		int known = vt_fleet_state(fa->fleet, a.name, vt_clock_now());
		int rc = vt_fleet_heard(fa->fleet, &a, vt_clock_now());
		if (rc == -ENOSPC)
			reject(fa, VT_FLEET_REJECT_FULL);
		else if (rc == 0 && known != VT_FLEET_UP)
			vt_log_info("fleet", "collector %s is up (%s)", a.name,
			    a.url);
		vt_fleet_announce_fini(&a);
		return;
	}
	atomic_fetch_add(&fa->received[KIND_CHECKS], 1);
	size_t olen = strlen(origin);
	char *body = vt_xmalloc(olen + 1 + m->body.len);
	memcpy(body, origin, olen);
	body[olen] = '\n';
	memcpy(body + olen + 1, m->body.bytes, m->body.len);
	if (vt_inbox_push(fa->inbox, VT_INBOX_FLEET_CHECKS, body,
	    olen + 1 + m->body.len, NULL, NULL, NULL) < 0)
		reject(fa, VT_FLEET_REJECT_INBOX_FULL);
	free(body);
}

static int connect_once(vt_fleet_amqp *fa, char *err, size_t errlen)
{
	char what[VT_ADDR_LEN + 64];
	amqp_connection_state_t c = vt_amqp_conn_open(&fa->opts, err, errlen);
	if (c == NULL)
		return -1;
	amqp_exchange_declare(c, VT_AMQP_CHANNEL,
	    amqp_cstring_bytes(fa->fleet_exchange),
	    amqp_cstring_bytes("fanout"), 0, 1, 0, 0, amqp_empty_table);
	snprintf(what, sizeof what, "declare exchange %s", fa->fleet_exchange);
	if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(c), what, err,
	    errlen) < 0)
		goto fail;
	amqp_queue_declare_ok_t *q = amqp_queue_declare(c, VT_AMQP_CHANNEL,
	    amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
	if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(c),
	    "declare the fleet queue", err, errlen) < 0)
		goto fail;
	if (q == NULL || q->queue.len == 0 || q->queue.len >= sizeof fa->queue) {
		snprintf(err, errlen, "declare the fleet queue: no name");
		goto fail;
	}
	memcpy(fa->queue, q->queue.bytes, q->queue.len);
	fa->queue[q->queue.len] = '\0';
	amqp_queue_bind(c, VT_AMQP_CHANNEL, amqp_cstring_bytes(fa->queue),
	    amqp_cstring_bytes(fa->fleet_exchange), amqp_cstring_bytes(""),
	    amqp_empty_table);
	if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(c), "bind the fleet "
	    "queue", err, errlen) < 0)
		goto fail;
	amqp_basic_consume(c, VT_AMQP_CHANNEL, amqp_cstring_bytes(fa->queue),
	    amqp_empty_bytes, 0, 1, 1, amqp_empty_table);
	if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(c), "basic.consume",
	    err, errlen) < 0)
		goto fail;
	fa->conn = c;
	return 0;
fail:
	amqp_destroy_connection(c);
	return -1;
}

static void reconnect(vt_fleet_amqp *fa)
{
	char err[VT_ERR_LEN + VT_URL_LEN];
	vt_amqp_link_connecting(&fa->link);
	if (connect_once(fa, err, sizeof err) == 0) {
		vt_amqp_link_up(&fa->link);
		vt_log_info("fleet", "connected to %s: exchange %s as %s",
		    fa->opts.url_shown, fa->fleet_exchange,
		    vt_fleet_name(fa->fleet));
		fa->next_announce = 0;        /* say hello at once */
		return;
	}
	double until = vt_clock_mono() + vt_amqp_link_failed(&fa->link, err,
	    "retrying with backoff");
	while (!atomic_load(&fa->stop)) {
		double left = until - vt_clock_mono();
		if (left <= 0)
			break;
		vt_queue_fd_wait(&fa->out, (int)(left * 1000) + 1);
		/* reports wait in the queue (bounded) until we are back */
	}
}

static void other_frame(vt_fleet_amqp *fa)
{
	amqp_frame_t f;
	struct timeval tv = { 0, 1000 };
	int rc = amqp_simple_wait_frame_noblock(fa->conn, &f, &tv);
	if (rc == AMQP_STATUS_TIMEOUT)
		return;
	if (rc != AMQP_STATUS_OK) {
		lose(fa, amqp_error_string2(rc));
		return;
	}
	if (f.frame_type == AMQP_FRAME_METHOD &&
	    (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
	    f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD ||
	    f.payload.method.id == AMQP_BASIC_CANCEL_METHOD))
		lose(fa, "closed by the broker");
}

static void step(vt_fleet_amqp *fa)
{
	double now = vt_clock_mono();
	if (now >= fa->next_announce)
		announce(fa, now);
	if (fa->conn == NULL)
		return;
	flush_reports(fa);
	if (fa->conn == NULL)
		return;
	if (fa->idle && !amqp_frames_enqueued(fa->conn) &&
	    !amqp_data_in_buffer(fa->conn)) {
		int ms = (int)((fa->next_announce - now) * 1000) + 1;
		if (ms > POLL_MS)
			ms = POLL_MS;
		struct pollfd p[2] = {
			{ .fd = amqp_get_sockfd(fa->conn), .events = POLLIN },
			{ .fd = vt_queue_fd(&fa->out), .events = POLLIN },
		};
		if (poll(p, 2, ms < 1 ? 1 : ms) < 0 && errno != EINTR)
			return;
		if (p[1].revents & POLLIN)
			vt_queue_fd_clear(&fa->out);
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			return;
	}
	amqp_envelope_t env;
	struct timeval tv = { 0, 1000 };
	amqp_maybe_release_buffers(fa->conn);
	amqp_rpc_reply_t r = amqp_consume_message(fa->conn, &env, &tv, 0);
	fa->idle = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_TIMEOUT;
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		deliver(fa, &env.message);
		amqp_destroy_envelope(&env);
		return;
	}
	if (fa->idle)
		return;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
		other_frame(fa);
		return;
	}
	char err[512];
	vt_amqp_conn_reply_check(r, "consume", err, sizeof err);
	lose(fa, err);
}

static void *fleet_main(void *arg)
{
	vt_fleet_amqp *fa = arg;
	while (!atomic_load(&fa->stop)) {
		if (fa->conn == NULL)
			reconnect(fa);
		else
			step(fa);
	}
	if (fa->conn != NULL) {
		flush_reports(fa);
		if (fa->conn != NULL)
			vt_amqp_conn_close(fa->conn);
		fa->conn = NULL;
	}
	vt_amqp_link_stopped(&fa->link);
	return NULL;
}

vt_fleet_amqp *vt_fleet_amqp_create(const struct vt_config *cfg,
    vt_fleet *fleet, vt_inbox *inbox, char *err, size_t errlen)
{
	vt_fleet_amqp *fa = vt_xcalloc(1, sizeof *fa);
	int rc = vt_queue_init(&fa->out, 0, VT_FLEET_QUEUE_BYTES,
	    VT_QUEUE_EVENTFD);
	if (rc < 0) {
		snprintf(err, errlen, "fleet eventfd: %s", strerror(-rc));
		goto fail;
	}
	if (vt_amqp_conn_opts_init(&fa->opts, cfg, err, errlen) < 0)
		goto fail;
	snprintf(fa->fleet_exchange, sizeof fa->fleet_exchange, "%s",
	    cfg->fleet_exchange);
	fa->max_body = cfg->amqp_max_body;
	fa->announce = cfg->fleet_announce;
	fa->fleet = fleet;
	fa->inbox = inbox;
	vt_amqp_link_init(&fa->link, "fleet", cfg->amqp_reconnect_min,
	    cfg->amqp_reconnect_max);
	rc = pthread_create(&fa->thread, NULL, fleet_main, fa);
	if (rc != 0) {
		snprintf(err, errlen, "fleet thread: %s", strerror(rc));
		goto fail;
	}
	fa->running = 1;
	vt_log_info("fleet", "collector %s (%s) shares health on exchange %s, "
	    "announcing every %gs", vt_fleet_name(fleet), vt_fleet_url(fleet),
	    fa->fleet_exchange, fa->announce);
	return fa;
fail:
	vt_fleet_amqp_destroy(fa);
	return NULL;
}

void vt_fleet_amqp_stop(vt_fleet_amqp *fa)
{
	if (fa == NULL || !fa->running)
		return;
	atomic_store(&fa->stop, 1);
	vt_queue_kick(&fa->out);
	pthread_join(fa->thread, NULL);
	fa->running = 0;
}

void vt_fleet_amqp_destroy(vt_fleet_amqp *fa)
{
	if (fa == NULL)
		return;
	vt_fleet_amqp_stop(fa);
	vt_queue_close(&fa->out);
	struct vt_queue_node *n = vt_queue_take(&fa->out, 0);
	while (n) {
		struct vt_queue_node *next = n->next;
		free(VT_QUEUE_ITEM(n, struct report, node));
		n = next;
	}
	vt_queue_fini(&fa->out);
	memset(&fa->opts, 0, sizeof fa->opts);   /* the password */
	free(fa);
}

static void head(struct vt_buf *out, const char *name, enum vt_prom_type t,
    const char *help, enum vt_prom_format fmt)
{
	vt_prom_text_head(out, name, strlen(name), t, help, fmt);
}

void vt_fleet_amqp_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt)
{
	vt_fleet_amqp *fa = ctx;
	head(out, "vitals_fleet_connected", VT_PROM_GAUGE,
	    "1 while the fleet's connection to the broker is up.", fmt);
	vt_buf_printf(out, "vitals_fleet_connected %d\n",
	    vt_amqp_link_state(&fa->link) == VT_AMQP_CONNECTED);
	head(out, "vitals_fleet_messages_published", VT_PROM_COUNTER,
	    "Fleet messages this collector published, by kind.", fmt);
	for (int k = 0; k < KIND_COUNT; k++) {
		vt_buf_printf(out, "vitals_fleet_messages_published_total"
		    "{kind=\"%s\"} ", kind_names[k]);
		vt_prom_text_u64(out, atomic_load(&fa->published[k]));
		vt_buf_putc(out, '\n');
	}
	head(out, "vitals_fleet_messages_received", VT_PROM_COUNTER,
	    "Fleet messages from other collectors, by kind.", fmt);
	for (int k = 0; k < KIND_COUNT; k++) {
		vt_buf_printf(out, "vitals_fleet_messages_received_total"
		    "{kind=\"%s\"} ", kind_names[k]);
		vt_prom_text_u64(out, atomic_load(&fa->received[k]));
		vt_buf_putc(out, '\n');
	}
	head(out, "vitals_fleet_messages_rejected", VT_PROM_COUNTER,
	    "Fleet messages refused, by reason.", fmt);
	for (int r = 0; r < VT_FLEET_REJECT_COUNT; r++) {
		vt_buf_printf(out, "vitals_fleet_messages_rejected_total"
		    "{reason=\"%s\"} ", reject_name(r));
		vt_prom_text_u64(out, atomic_load(&fa->rejected[r]));
		vt_buf_putc(out, '\n');
	}
	head(out, "vitals_fleet_reports_dropped", VT_PROM_COUNTER,
	    "Own check reports not published: the outgoing queue was full.",
	    fmt);
	vt_buf_puts(out, "vitals_fleet_reports_dropped_total ");
	vt_prom_text_u64(out, vt_queue_dropped(&fa->out));
	vt_buf_putc(out, '\n');
	head(out, "vitals_fleet_collectors", VT_PROM_GAUGE,
	    "Collectors of the fleet known to this one (itself included).",
	    fmt);
	vt_buf_puts(out, "vitals_fleet_collectors ");
	vt_prom_text_u64(out, vt_fleet_size(fa->fleet));
	vt_buf_putc(out, '\n');
}
