/*
 * amqp_consumer.c - the collector's AMQP consumer thread (amqp_consumer.h).
 *
 * The thread owns the rabbitmq-c connection. It waits in poll(2) on the
 * broker socket and the completion queue's eventfd; the loop thread's
 * done callbacks queue completions (which kicks the eventfd), and the
 * thread turns them into basic.ack / basic.reject on the connection they
 * came from.
 * Memory: one struct delivery per message, allocated here, owned by the
 * inbox while queued and freed here after its completion.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "collector/amqp/amqp_consumer.h"
#include "collector/amqp/amqp_link.h"
#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/prom_text.h"
#include "collector/base/queue.h"
#include "collector/base/xmalloc.h"

#define POLL_MS 1000           /* idle wake-up: heartbeats, stop flag */
#define FULL_RETRY_MS 20       /* inbox full: try the push again */

struct delivery {
	struct vt_queue_node node;
	vt_amqp_consumer *c;
	uint64_t tag;
	unsigned gen;              /* the connection it arrived on */
	enum vt_inbox_kind kind;
	int status;
};

struct vt_amqp_consumer {
	struct vt_amqp_conn_opts opts;
	size_t prefetch, max_body;
	double reconnect_min, reconnect_max;
	vt_inbox *inbox;                /* borrowed */
	pthread_t thread;
	int running;
	atomic_int stop, quiesce;
	pthread_mutex_t push_lock;      /* held around each push */
	struct vt_queue done;           /* completions; eventfd wakes us */

	struct vt_amqp_link link;         /* stats read by HTTP threads */
	_Atomic uint64_t received, bytes, acked;
	_Atomic uint64_t rejected[VT_AMQP_REJECT_COUNT];

	/* consumer thread only */
	amqp_connection_state_t conn;
	unsigned gen;
	int idle;                       /* the last read found nothing */
};

const char *vt_amqp_consumer_reject_name(enum vt_amqp_reject r)
{
	static const char *const names[] = { "bad_json", "bad_statsd",
	    "too_large", "encoding" };
	return (unsigned)r < VT_AMQP_REJECT_COUNT ? names[r] : "?";
}


/* Loop thread (or inbox destroy): the message was applied or dropped. */
static void on_done(void *ctx, int status)
{
	struct delivery *d = ctx;
	vt_amqp_consumer *c = d->c;
	d->status = status;
	vt_queue_push(&c->done, &d->node, 0, NULL);   /* unbounded */
}

static void lose_connection(vt_amqp_consumer *c, const char *why)
{
	vt_log_warn("amqp", "connection to %s lost: %s; unacked messages "
	    "will be redelivered", c->opts.url_shown, why);
	amqp_destroy_connection(c->conn);
	c->conn = NULL;
	vt_amqp_link_lost(&c->link);
}

static void reject(vt_amqp_consumer *c, uint64_t tag, enum vt_amqp_reject r)
{
	atomic_fetch_add(&c->rejected[r], 1);
	int rc = amqp_basic_reject(c->conn, VT_AMQP_CHANNEL, tag, 0);
	if (rc != AMQP_STATUS_OK)
		lose_connection(c, amqp_error_string2(rc));
}

/* Ack or reject what the loop finished; free the records. */
static void complete(vt_amqp_consumer *c)
{
	struct vt_queue_node *n = vt_queue_take(&c->done, 0);
	while (n) {
		struct delivery *d = VT_QUEUE_ITEM(n, struct delivery, node);
		n = n->next;
		if (c->conn != NULL && d->gen == c->gen) {
			if (d->status == 0) {
				int rc = amqp_basic_ack(c->conn,
				    VT_AMQP_CHANNEL, d->tag, 0);
				if (rc != AMQP_STATUS_OK)
					lose_connection(c,
					    amqp_error_string2(rc));
				else
					atomic_fetch_add(&c->acked, 1);
			} else if (d->status == -EINVAL) {
				reject(c, d->tag, d->kind == VT_INBOX_CHECKS ?
				    VT_AMQP_REJECT_BAD_JSON :
				    VT_AMQP_REJECT_BAD_STATSD);
			}
			/* -ECANCELED: left unacked, the broker requeues */
		}
		free(d);
	}
}

/* Wait for the eventfd (completions, stop) at most ms; then complete. */
static void wait_kick(vt_amqp_consumer *c, int ms)
{
	vt_queue_fd_wait(&c->done, ms);
	complete(c);
}

static int is_json(const amqp_basic_properties_t *p)
{
	if (!(p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG))
		return 0;
	const char *t = p->content_type.bytes;
	size_t n = p->content_type.len, want = strlen("application/json");
	return n >= want && strncasecmp(t, "application/json", want) == 0 &&
	    (n == want || t[want] == ';' || t[want] == ' ');
}

static int is_encoded(const amqp_basic_properties_t *p)
{
	if (!(p->_flags & AMQP_BASIC_CONTENT_ENCODING_FLAG) ||
	    p->content_encoding.len == 0)
		return 0;
	return !(p->content_encoding.len == 8 && strncasecmp(
	    p->content_encoding.bytes, "identity", 8) == 0);
}

/* One delivery: reject it now, or push it to the inbox. */
static void deliver(vt_amqp_consumer *c, const amqp_envelope_t *env)
{
	const amqp_message_t *m = &env->message;
	atomic_fetch_add(&c->received, 1);
	atomic_fetch_add(&c->bytes, m->body.len);
	if (is_encoded(&m->properties)) {
		reject(c, env->delivery_tag, VT_AMQP_REJECT_ENCODING);
		return;
	}
	if (m->body.len > c->max_body) {
		reject(c, env->delivery_tag, VT_AMQP_REJECT_TOO_LARGE);
		return;
	}
	struct delivery *d = vt_xcalloc(1, sizeof *d);
	d->c = c;
	d->tag = env->delivery_tag;
	d->gen = c->gen;
	d->kind = is_json(&m->properties) ? VT_INBOX_CHECKS : VT_INBOX_STATSD;
	for (;;) {
		pthread_mutex_lock(&c->push_lock);
		int rc = -ECANCELED;
		if (!atomic_load(&c->quiesce))
			rc = vt_inbox_push(c->inbox, d->kind, m->body.bytes,
			    m->body.len, NULL, on_done, d);
		pthread_mutex_unlock(&c->push_lock);
		if (rc == 0)
			return;                 /* the inbox owns d now */
		if (rc != -ENOBUFS || atomic_load(&c->stop) || c->conn == NULL)
			break;
		wait_kick(c, FULL_RETRY_MS);    /* the loop is behind */
		if (c->conn == NULL || d->gen != c->gen)
			break;
	}
	free(d);                                /* unacked: redelivered */
}

static int connect_once(vt_amqp_consumer *c, char *err, size_t errlen)
{
	amqp_connection_state_t conn = vt_amqp_conn_open(&c->opts, err, errlen);
	if (conn == NULL)
		return -1;
	if (vt_amqp_conn_declare(conn, &c->opts, err, errlen) < 0)
		goto fail;
	amqp_basic_qos(conn, VT_AMQP_CHANNEL, 0, (uint16_t)c->prefetch, 0);
	if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(conn), "basic.qos", err,
	    errlen) < 0)
		goto fail;
	amqp_basic_consume(conn, VT_AMQP_CHANNEL,
	    amqp_cstring_bytes(c->opts.queue), amqp_empty_bytes, 0, 0, 0,
	    amqp_empty_table);
	if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(conn), "basic.consume",
	    err, errlen) < 0)
		goto fail;
	c->conn = conn;
	c->gen++;
	return 0;
fail:
	amqp_destroy_connection(conn);
	return -1;
}

/* Not connected: try once, or wait out the backoff. */
static void reconnect(vt_amqp_consumer *c)
{
	char err[VT_ERR_LEN + VT_URL_LEN];
	vt_amqp_link_connecting(&c->link);
	if (connect_once(c, err, sizeof err) == 0) {
		vt_amqp_link_up(&c->link);
		vt_log_info("amqp", "connected to %s: consuming queue %s "
		    "(prefetch %zu)", c->opts.url_shown, c->opts.queue,
		    c->prefetch);
		return;
	}
	double delay = vt_amqp_link_failed(&c->link, err,
	    "retrying with backoff");
	double until = vt_clock_mono() + delay;
	while (!atomic_load(&c->stop)) {
		double left = until - vt_clock_mono();
		if (left <= 0)
			break;
		wait_kick(c, (int)(left * 1000) + 1);
	}
}

/* Handle a frame that is not a delivery (broker closing, cancel). */
static void other_frame(vt_amqp_consumer *c)
{
	amqp_frame_t f;
	struct timeval tv = { 0, 1000 };
	int rc = amqp_simple_wait_frame_noblock(c->conn, &f, &tv);
	if (rc == AMQP_STATUS_TIMEOUT)
		return;
	if (rc != AMQP_STATUS_OK) {
		lose_connection(c, amqp_error_string2(rc));
		return;
	}
	if (f.frame_type != AMQP_FRAME_METHOD)
		return;
	switch (f.payload.method.id) {
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD: {
		char err[512];
		amqp_rpc_reply_t r = { AMQP_RESPONSE_SERVER_EXCEPTION,
		    f.payload.method, 0 };
		vt_amqp_conn_reply_check(r, "closed", err, sizeof err);
		if (f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_ok_t ok;
			amqp_send_method(c->conn, 0,
			    AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
		}
		lose_connection(c, err);
		return;
	}
	case AMQP_BASIC_CANCEL_METHOD:
		lose_connection(c, "the broker cancelled the consumer "
		    "(queue deleted?)");
		return;
	default:
		return;
	}
}

/* Connected: wait for a delivery or a completion; handle what came. */
static void consume_step(vt_amqp_consumer *c)
{
	/* Poll only after a read came back empty: with TLS, decrypted
	 * frames may wait inside OpenSSL where poll(2) cannot see them. */
	if (c->idle && !amqp_frames_enqueued(c->conn) &&
	    !amqp_data_in_buffer(c->conn)) {
		struct pollfd p[2] = {
			{ .fd = amqp_get_sockfd(c->conn), .events = POLLIN },
			{ .fd = vt_queue_fd(&c->done), .events = POLLIN },
		};
		if (poll(p, 2, POLL_MS) < 0 && errno != EINTR)
			return;
		if (p[1].revents & POLLIN)
			vt_queue_fd_clear(&c->done);
		complete(c);
		if (c->conn == NULL || atomic_load(&c->quiesce))
			return;
	}
	amqp_envelope_t env;
	struct timeval tv = { 0, 1000 };
	amqp_maybe_release_buffers(c->conn);
	amqp_rpc_reply_t r = amqp_consume_message(c->conn, &env, &tv, 0);
	c->idle = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_TIMEOUT;
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		deliver(c, &env);
		amqp_destroy_envelope(&env);
		return;
	}
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_TIMEOUT)
		return;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
		other_frame(c);
		return;
	}
	char err[512];
	vt_amqp_conn_reply_check(r, "consume", err, sizeof err);
	lose_connection(c, err);
}

static void *consumer_main(void *arg)
{
	vt_amqp_consumer *c = arg;
	while (!atomic_load(&c->stop)) {
		if (c->conn == NULL) {
			if (!atomic_load(&c->quiesce))
				reconnect(c);
			else
				wait_kick(c, POLL_MS);
			continue;
		}
		complete(c);
		if (c->conn == NULL)
			continue;
		if (atomic_load(&c->quiesce))
			wait_kick(c, POLL_MS);
		else
			consume_step(c);
	}
	complete(c);                 /* the last acks */
	if (c->conn) {
		vt_amqp_conn_close(c->conn);
		c->conn = NULL;
		vt_log_info("amqp", "disconnected from %s; %llu messages "
		    "acked since start", c->opts.url_shown,
		    (unsigned long long)atomic_load(&c->acked));
	}
	vt_amqp_link_stopped(&c->link);
	return NULL;
}

vt_amqp_consumer *vt_amqp_consumer_create(const struct vt_config *cfg,
    vt_inbox *inbox, char *err, size_t errlen)
{
	vt_amqp_consumer *c = vt_xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->push_lock, NULL);
	int rc = vt_queue_init(&c->done, 0, 0, VT_QUEUE_EVENTFD);
	if (rc < 0) {
		snprintf(err, errlen, "amqp eventfd: %s", strerror(-rc));
		goto fail;
	}
	if (vt_amqp_conn_opts_init(&c->opts, cfg, err, errlen) < 0)
		goto fail;
	c->prefetch = cfg->amqp_prefetch;
	c->max_body = cfg->amqp_max_body;
	c->inbox = inbox;
	vt_amqp_link_init(&c->link, "amqp", cfg->amqp_reconnect_min,
	    cfg->amqp_reconnect_max);
	rc = pthread_create(&c->thread, NULL, consumer_main, c);
	if (rc != 0) {
		snprintf(err, errlen, "amqp thread: %s", strerror(rc));
		goto fail;
	}
	c->running = 1;
	vt_log_info("amqp", "consuming from %s, queue %s, exchange %s%s%s",
	    c->opts.url_shown, c->opts.queue, c->opts.exchange,
	    c->opts.hash_exchange[0] ? " via consistent-hash exchange " : "",
	    c->opts.hash_exchange);
	return c;
fail:
	vt_amqp_consumer_destroy(c);
	return NULL;
}

void vt_amqp_consumer_quiesce(vt_amqp_consumer *c)
{
	atomic_store(&c->quiesce, 1);
	pthread_mutex_lock(&c->push_lock);   /* waits out a push */
	pthread_mutex_unlock(&c->push_lock);
	vt_queue_kick(&c->done);
}

void vt_amqp_consumer_stop(vt_amqp_consumer *c)
{
	if (c == NULL || !c->running)
		return;
	atomic_store(&c->quiesce, 1);
	atomic_store(&c->stop, 1);
	vt_queue_kick(&c->done);
	pthread_join(c->thread, NULL);
	c->running = 0;
}

void vt_amqp_consumer_destroy(vt_amqp_consumer *c)
{
	if (c == NULL)
		return;
	vt_amqp_consumer_stop(c);
	struct vt_queue_node *n = vt_queue_take(&c->done, 0);
	while (n) {
		struct delivery *d = VT_QUEUE_ITEM(n, struct delivery, node);
		n = n->next;
		free(d);
	}
	vt_queue_fini(&c->done);
	pthread_mutex_destroy(&c->push_lock);
	memset(&c->opts, 0, sizeof c->opts);   /* the password */
	free(c);
}

enum vt_amqp_state vt_amqp_consumer_state(const vt_amqp_consumer *c)
{
	return vt_amqp_link_state(&c->link);
}

static void counter(struct vt_buf *out, const char *name, const char *help,
    uint64_t v, enum vt_prom_format fmt)
{
	vt_prom_text_head(out, name, strlen(name), VT_PROM_COUNTER, help, fmt);
	vt_buf_printf(out, "%s_total ", name);
	vt_prom_text_u64(out, v);
	vt_buf_putc(out, '\n');
}

void vt_amqp_consumer_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt)
{
	vt_amqp_consumer *c = ctx;
	vt_amqp_conn_stats_write(&c->link.stats, out, fmt);
	counter(out, "vitals_amqp_messages_received", "AMQP messages "
	    "delivered to this collector (redeliveries included).",
	    atomic_load(&c->received), fmt);
	counter(out, "vitals_amqp_received_bytes", "Bytes of AMQP message "
	    "bodies received.", atomic_load(&c->bytes), fmt);
	counter(out, "vitals_amqp_messages_acked", "AMQP messages acked "
	    "after they were applied.", atomic_load(&c->acked), fmt);
	const char *name = "vitals_amqp_messages_rejected";
	vt_prom_text_head(out, name, strlen(name), VT_PROM_COUNTER,
	    "AMQP messages rejected without requeue, by reason.", fmt);
	for (int r = 0; r < VT_AMQP_REJECT_COUNT; r++) {
		vt_buf_printf(out, "%s_total{reason=\"%s\"} ", name,
		    vt_amqp_consumer_reject_name((enum vt_amqp_reject)r));
		vt_prom_text_u64(out, atomic_load(&c->rejected[r]));
		vt_buf_putc(out, '\n');
	}
}
