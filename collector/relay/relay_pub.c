/*
 * relay_pub.c - the relay's publisher thread with publisher confirms
 * (relay_pub.h).
 *
 * Memory: a struct vt_relay_msg is owned by the queue from submit until
 * the thread takes it, then by the thread's unconfirmed (or parked) list
 * until the broker confirms it (freed) or it goes back to the queue. The
 * queue keeps its bytes charged until the confirm (VT_QUEUE_KEEP), so
 * relay.buffer bounds what is queued and what is unconfirmed together.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/amqp/amqp_link.h"
#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/loop.h"
#include "collector/base/prom_text.h"
#include "collector/base/queue.h"
#include "collector/base/xmalloc.h"
#include "collector/relay/relay_pub.h"

#define MAX_INFLIGHT 1024          /* published, not yet confirmed */
#define POLL_MS 1000

/* A list of the thread's own (no lock), linked through the queue node. */
struct chain {
	struct vt_queue_node *head, *tail;
	size_t n;
};

struct vt_relay_pub {
	struct vt_amqp_conn_opts opts;
	size_t max_buffer;
	pthread_t thread;
	int running;
	atomic_int stop;
	_Atomic double stop_deadline;   /* monotonic seconds */

	struct vt_queue q;              /* size: bytes queued + unconfirmed;
	                                   its eventfd wakes the thread */

	struct vt_amqp_link link;         /* stats read by HTTP threads */
	_Atomic uint64_t published, confirmed, confirmed_records, retried,
	    returned, dropped_records, lost_at_exit;

	/* publisher thread only */
	amqp_connection_state_t conn;
	uint64_t next_seq;
	struct chain unconf;            /* published, not confirmed */
	struct chain parked;            /* returned */
	double parked_until;            /* monotonic */
};

static struct vt_relay_msg *msg_of(struct vt_queue_node *n)
{
	return n ? VT_QUEUE_ITEM(n, struct vt_relay_msg, node) : NULL;
}

static void chain_add(struct chain *c, struct vt_relay_msg *m)
{
	m->node.next = NULL;
	if (c->tail)
		c->tail->next = &m->node;
	else
		c->head = &m->node;
	c->tail = &m->node;
	c->n++;
}

/* Put the whole chain back at the head of the queue, in order. */
static void chain_requeue(vt_relay_pub *p, struct chain *c)
{
	vt_queue_requeue(&p->q, c->head);
	*c = (struct chain){ 0 };
}

int vt_relay_pub_submit(vt_relay_pub *p, struct vt_relay_msg *m)
{
	if (vt_queue_push(&p->q, &m->node, m->len, NULL) < 0) {
		atomic_fetch_add(&p->dropped_records, m->records);
		vt_relay_batch_msg_free(m);
		return -ENOBUFS;
	}
	return 0;
}

/* Connection gone: every unconfirmed batch goes back to be published. */
static void lose_connection(vt_relay_pub *p, const char *why)
{
	vt_log_warn("relay", "connection to %s lost: %s; %zu unconfirmed "
	    "batches will be published again", p->opts.url_shown, why,
	    p->unconf.n);
	amqp_destroy_connection(p->conn);
	p->conn = NULL;
	atomic_fetch_add(&p->retried, p->unconf.n);
	chain_requeue(p, &p->unconf);
	vt_amqp_link_lost(&p->link);
}

static int publish(vt_relay_pub *p, struct vt_relay_msg *m, uint64_t seq)
{
	amqp_table_entry_t h[2];
	h[0].key = amqp_cstring_bytes(VT_AMQP_HASH_HEADER);
	h[0].value.kind = AMQP_FIELD_KIND_UTF8;
	h[0].value.value.bytes = amqp_cstring_bytes(m->service);
	h[1].key = amqp_cstring_bytes(VT_RELAY_SEQ_HEADER);
	h[1].value.kind = AMQP_FIELD_KIND_I64;
	h[1].value.value.i64 = (int64_t)seq;
	amqp_basic_properties_t props;
	memset(&props, 0, sizeof props);
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_HEADERS_FLAG;
	props.content_type = amqp_cstring_bytes(
	    vt_relay_batch_content_type(m->kind));
	props.delivery_mode = 2;             /* persistent */
	props.headers.num_entries = 2;
	props.headers.entries = h;
	amqp_bytes_t body = { m->len, m->body };
	return amqp_basic_publish(p->conn, VT_AMQP_CHANNEL,
	    amqp_cstring_bytes(p->opts.exchange),
	    amqp_cstring_bytes(m->routing_key), 1, 0, &props, body);
}

/* Publish queued batches while the in-flight window has room. */
static void publish_some(vt_relay_pub *p)
{
	while (p->conn && p->unconf.n < MAX_INFLIGHT) {
		struct vt_relay_msg *m = msg_of(vt_queue_pop(&p->q, 0));
		if (m == NULL)
			return;
		int rc = publish(p, m, p->next_seq);
		if (rc != AMQP_STATUS_OK) {
			vt_queue_requeue(&p->q, &m->node);
			lose_connection(p, amqp_error_string2(rc));
			return;
		}
		m->seq = p->next_seq++;
		m->returned = 0;
		chain_add(&p->unconf, m);
		atomic_fetch_add(&p->published, 1);
	}
}

/* basic.ack / basic.nack for tag (and every earlier one if multiple). */
static void settle(vt_relay_pub *p, uint64_t tag, int multiple, int ack)
{
	struct vt_queue_node *prev = NULL, *n = p->unconf.head;
	struct chain back = { 0 };
	while (n) {
		struct vt_queue_node *next = n->next;
		struct vt_relay_msg *m = msg_of(n);
		int hit = multiple ? m->seq <= tag : m->seq == tag;
		if (!hit) {
			if (m->seq > tag)
				break;
			prev = n;
			n = next;
			continue;
		}
		if (prev)
			prev->next = next;
		else
			p->unconf.head = next;
		if (p->unconf.tail == n)
			p->unconf.tail = prev;
		p->unconf.n--;
		if (ack && m->returned) {
			/* routed nowhere: try again a little later */
			if (p->parked.head == NULL)
				p->parked_until = vt_clock_mono() +
				    VT_RELAY_RETURN_RETRY;
			chain_add(&p->parked, m);
		} else if (ack) {
			atomic_fetch_add(&p->confirmed, 1);
			atomic_fetch_add(&p->confirmed_records, m->records);
			vt_queue_release(&p->q, 1, m->len);
			vt_relay_batch_msg_free(m);
		} else {
			atomic_fetch_add(&p->retried, 1);
			chain_add(&back, m);
		}
		n = next;
	}
	chain_requeue(p, &back);
}

/* basic.return: the message (with our sequence header) follows. */
static void on_return(vt_relay_pub *p, amqp_channel_t channel)
{
	amqp_message_t msg;
	amqp_rpc_reply_t r = amqp_read_message(p->conn, channel, &msg, 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		char err[512];
		vt_amqp_conn_reply_check(r, "basic.return", err, sizeof err);
		lose_connection(p, err);
		return;
	}
	const amqp_table_t *t = &msg.properties.headers;
	int64_t seq = -1;
	if (msg.properties._flags & AMQP_BASIC_HEADERS_FLAG)
		for (int i = 0; i < t->num_entries; i++) {
			const amqp_table_entry_t *e = &t->entries[i];
			if (e->key.len == strlen(VT_RELAY_SEQ_HEADER) &&
			    memcmp(e->key.bytes, VT_RELAY_SEQ_HEADER,
			    e->key.len) == 0 &&
			    e->value.kind == AMQP_FIELD_KIND_I64)
				seq = e->value.value.i64;
		}
	amqp_destroy_message(&msg);
	for (struct vt_queue_node *n = p->unconf.head; n; n = n->next) {
		struct vt_relay_msg *m = msg_of(n);
		if ((int64_t)m->seq == seq) {
			m->returned = 1;
			atomic_fetch_add(&p->returned, 1);
			return;
		}
	}
}

/* Returned batches whose wait is over go back to the head of the queue. */
static void unpark(vt_relay_pub *p)
{
	if (p->parked.head == NULL || vt_clock_mono() < p->parked_until)
		return;
	chain_requeue(p, &p->parked);
}

/* Read every frame that is there: confirms, or the broker closing. */
static void read_frames(vt_relay_pub *p, int wait_ms)
{
	if (!amqp_frames_enqueued(p->conn) && !amqp_data_in_buffer(p->conn)) {
		struct pollfd fds[2] = {
			{ .fd = amqp_get_sockfd(p->conn), .events = POLLIN },
			{ .fd = vt_queue_fd(&p->q), .events = POLLIN },
		};
		if (poll(fds, 2, wait_ms) < 0 && errno != EINTR)
			return;
		if (fds[1].revents & POLLIN)
			vt_queue_fd_clear(&p->q);
	}
	while (p->conn) {
		amqp_frame_t f;
		struct timeval tv = { 0, 1000 };
		int rc = amqp_simple_wait_frame_noblock(p->conn, &f, &tv);
		if (rc == AMQP_STATUS_TIMEOUT)
			return;
		if (rc != AMQP_STATUS_OK) {
			lose_connection(p, amqp_error_string2(rc));
			return;
		}
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		amqp_method_t *mth = &f.payload.method;
		if (mth->id == AMQP_BASIC_ACK_METHOD) {
			amqp_basic_ack_t *a = mth->decoded;
			settle(p, a->delivery_tag, a->multiple, 1);
		} else if (mth->id == AMQP_BASIC_NACK_METHOD) {
			amqp_basic_nack_t *a = mth->decoded;
			settle(p, a->delivery_tag, a->multiple, 0);
		} else if (mth->id == AMQP_BASIC_RETURN_METHOD) {
			on_return(p, f.channel);
		} else if (mth->id == AMQP_CHANNEL_CLOSE_METHOD ||
		    mth->id == AMQP_CONNECTION_CLOSE_METHOD) {
			char err[512];
			amqp_rpc_reply_t r = { AMQP_RESPONSE_SERVER_EXCEPTION,
			    *mth, 0 };
			vt_amqp_conn_reply_check(r, "closed", err, sizeof err);
			lose_connection(p, err);
			return;
		}
	}
}

static int connect_once(vt_relay_pub *p, char *err, size_t errlen)
{
	amqp_connection_state_t conn = vt_amqp_conn_open(&p->opts, err, errlen);
	if (conn == NULL)
		return -1;
	if (vt_amqp_conn_declare(conn, &p->opts, err, errlen) < 0)
		goto fail;
	amqp_confirm_select(conn, VT_AMQP_CHANNEL);
	if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(conn), "confirm.select",
	    err, errlen) < 0)
		goto fail;
	p->conn = conn;
	p->next_seq = 1;
	return 0;
fail:
	amqp_destroy_connection(conn);
	return -1;
}

static void reconnect(vt_relay_pub *p)
{
	char err[VT_ERR_LEN + VT_URL_LEN];
	vt_amqp_link_connecting(&p->link);
	if (connect_once(p, err, sizeof err) == 0) {
		vt_amqp_link_up(&p->link);
		vt_log_info("relay", "connected to %s: publishing to exchange "
		    "%s with confirms", p->opts.url_shown, p->opts.exchange);
		return;
	}
	double delay = vt_amqp_link_failed(&p->link, err,
	    "batches wait in the buffer");
	double until = vt_clock_mono() + delay;
	while (!atomic_load(&p->stop)) {
		double left = until - vt_clock_mono();
		if (left <= 0)
			break;
		vt_queue_fd_wait(&p->q, (int)(left * 1000) + 1);
	}
}

static void free_list(struct vt_queue_node *node, size_t *n,
    size_t *records)
{
	while (node) {
		struct vt_relay_msg *m = msg_of(node);
		node = node->next;
		(*n)++;
		*records += m->records;
		vt_relay_batch_msg_free(m);
	}
}

static void *pub_main(void *arg)
{
	vt_relay_pub *p = arg;
	for (;;) {
		if (atomic_load(&p->stop)) {
			if ((p->unconf.n == 0 && vt_queue_len(&p->q) == 0 &&
			    p->parked.head == NULL) ||
			    vt_clock_mono() > atomic_load(&p->stop_deadline))
				break;
		}
		if (p->conn == NULL) {
			if (atomic_load(&p->stop))
				break;   /* no broker: nothing to wait for */
			reconnect(p);
			continue;
		}
		unpark(p);
		publish_some(p);
		if (p->conn)
			read_frames(p, atomic_load(&p->stop) ||
			    p->parked.head ? 50 : POLL_MS);
	}
	size_t n = 0, records = 0;
	free_list(p->unconf.head, &n, &records);
	p->unconf = (struct chain){ 0 };
	free_list(p->parked.head, &n, &records);
	p->parked = (struct chain){ 0 };
	free_list(vt_queue_take(&p->q, 0), &n, &records);
	atomic_store(&p->lost_at_exit, n);
	if (n > 0)
		vt_log_warn("relay", "stopping with %zu batches (%zu lines) "
		    "not confirmed by the broker: lost", n, records);
	if (p->conn) {
		vt_amqp_conn_close(p->conn);
		p->conn = NULL;
	}
	vt_amqp_link_stopped(&p->link);
	return NULL;
}

vt_relay_pub *vt_relay_pub_create(const struct vt_config *cfg, char *err,
    size_t errlen)
{
	vt_relay_pub *p = vt_xcalloc(1, sizeof *p);
	p->max_buffer = cfg->relay_buffer;
	int rc = vt_queue_init(&p->q, 0, p->max_buffer, VT_QUEUE_EVENTFD |
	    VT_QUEUE_KEEP);
	if (rc < 0) {
		snprintf(err, errlen, "relay eventfd: %s", strerror(-rc));
		goto fail;
	}
	if (vt_amqp_conn_opts_init(&p->opts, cfg, err, errlen) < 0)
		goto fail;
	if (cfg->amqp_hash_exchange[0])
		p->opts.queue[0] = '\0';   /* each collector declares its own */
	vt_amqp_link_init(&p->link, "relay", cfg->amqp_reconnect_min,
	    cfg->amqp_reconnect_max);
	rc = pthread_create(&p->thread, NULL, pub_main, p);
	if (rc != 0) {
		snprintf(err, errlen, "relay thread: %s", strerror(rc));
		goto fail;
	}
	p->running = 1;
	return p;
fail:
	vt_relay_pub_destroy(p);
	return NULL;
}

void vt_relay_pub_stop(vt_relay_pub *p)
{
	if (p == NULL || !p->running)
		return;
	atomic_store(&p->stop_deadline, vt_clock_mono() + VT_RELAY_STOP_GRACE);
	atomic_store(&p->stop, 1);
	vt_queue_kick(&p->q);
	pthread_join(p->thread, NULL);
	p->running = 0;
}

void vt_relay_pub_destroy(vt_relay_pub *p)
{
	if (p == NULL)
		return;
	vt_relay_pub_stop(p);
	size_t n = 0, records = 0;
	free_list(vt_queue_take(&p->q, 0), &n, &records);
	free_list(p->unconf.head, &n, &records);
	vt_queue_fini(&p->q);
	memset(&p->opts, 0, sizeof p->opts);   /* the password */
	free(p);
}

enum vt_amqp_state vt_relay_pub_state(const vt_relay_pub *p)
{
	return vt_amqp_link_state(&p->link);
}

size_t vt_relay_pub_buffered(const vt_relay_pub *p)
{
	return vt_queue_size(&p->q);
}

static void family(struct vt_buf *out, const char *name,
    enum vt_prom_type type, const char *help, uint64_t v,
    enum vt_prom_format fmt)
{
	vt_prom_text_head(out, name, strlen(name), type, help, fmt);
	vt_buf_printf(out, "%s%s ", name, type == VT_PROM_COUNTER ?
	    "_total" : "");
	vt_prom_text_u64(out, v);
	vt_buf_putc(out, '\n');
}

void vt_relay_pub_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt)
{
	vt_relay_pub *p = ctx;
	vt_amqp_conn_stats_write(&p->link.stats, out, fmt);
	family(out, "vitals_relay_batches_published", VT_PROM_COUNTER,
	    "Batches published to the broker (retries included).",
	    atomic_load(&p->published), fmt);
	family(out, "vitals_relay_batches_confirmed", VT_PROM_COUNTER,
	    "Batches the broker confirmed (publisher confirms).",
	    atomic_load(&p->confirmed), fmt);
	family(out, "vitals_relay_lines_confirmed", VT_PROM_COUNTER,
	    "Lines and checks in batches the broker confirmed.",
	    atomic_load(&p->confirmed_records), fmt);
	family(out, "vitals_relay_batches_retried", VT_PROM_COUNTER,
	    "Batches to publish again: nacked, or unconfirmed when the "
	    "connection was lost.", atomic_load(&p->retried), fmt);
	family(out, "vitals_relay_batches_returned", VT_PROM_COUNTER,
	    "Batches the broker returned (no queue bound for them yet); "
	    "published again after a pause.", atomic_load(&p->returned), fmt);
	family(out, "vitals_relay_batches_dropped", VT_PROM_COUNTER,
	    "Batches dropped because the relay buffer was full.",
	    vt_queue_dropped(&p->q), fmt);
	family(out, "vitals_relay_lines_dropped", VT_PROM_COUNTER,
	    "Lines and checks in batches dropped because the relay buffer "
	    "was full.", atomic_load(&p->dropped_records), fmt);
	family(out, "vitals_relay_buffer_bytes", VT_PROM_GAUGE,
	    "Bytes of batches waiting to be published or confirmed.",
	    vt_queue_size(&p->q), fmt);
	family(out, "vitals_relay_buffer_limit_bytes", VT_PROM_GAUGE,
	    "The relay buffer bound (relay.buffer).", p->max_buffer, fmt);
}
