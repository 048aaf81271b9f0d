/*
 * relay_pub.c - the relay's publisher thread with publisher confirms
 * (relay_pub.h).
 *
 * Memory: a struct vt_relay_msg is owned by the queue (under `lock`) from
 * submit until the thread takes it, then by the thread's unconfirmed list
 * until the broker confirms it (freed) or it goes back to the queue.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "collector/amqp/amqp_backoff.h"
#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/loop.h"
#include "collector/base/prom_text.h"
#include "collector/relay/relay_pub.h"
#include "collector/base/xmalloc.h"

#define MAX_INFLIGHT 1024          /* published, not yet confirmed */
#define POLL_MS 1000

struct vt_relay_pub {
	struct vt_amqp_conn_opts opts;
	size_t max_buffer;
	int efd;
	pthread_t thread;
	int running;
	atomic_int stop;
	_Atomic double stop_deadline;   /* monotonic seconds */

	pthread_mutex_t lock;           /* guards head, tail */
	struct vt_relay_msg *head, *tail;
	_Atomic size_t buffered;        /* bytes queued + unconfirmed */

	struct vt_amqp_link_stats link;
	_Atomic uint64_t published, confirmed, confirmed_records, retried,
	    returned, dropped, dropped_records, lost_at_exit;

	/* publisher thread only */
	amqp_connection_state_t conn;
	uint64_t next_seq;
	struct vt_relay_msg *unconf_head, *unconf_tail;
	size_t unconf_n;
	struct vt_relay_msg *parked_head, *parked_tail;  /* returned */
	double parked_until;            /* monotonic */
	struct vt_amqp_backoff backoff;
	struct vt_complaint complaint;
};


static void kick(vt_relay_pub *p)
{
	uint64_t one = 1;
	if (write(p->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		vt_log_warn_errno("relay", "eventfd");
}

int vt_relay_pub_submit(vt_relay_pub *p, struct vt_relay_msg *m)
{
	/* The loop thread is the only one adding: check, then add. */
	if (atomic_load(&p->buffered) + m->len > p->max_buffer) {
		atomic_fetch_add(&p->dropped, 1);
		atomic_fetch_add(&p->dropped_records, m->records);
		vt_relay_batch_msg_free(m);
		return -ENOBUFS;
	}
	atomic_fetch_add(&p->buffered, m->len);
	m->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = m;
	else
		p->head = m;
	p->tail = m;
	pthread_mutex_unlock(&p->lock);
	kick(p);
	return 0;
}

static struct vt_relay_msg *pop(vt_relay_pub *p)
{
	pthread_mutex_lock(&p->lock);
	struct vt_relay_msg *m = p->head;
	if (m) {
		p->head = m->next;
		if (p->head == NULL)
			p->tail = NULL;
		m->next = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return m;
}

/* Put the list first..last back at the head of the queue, in order. */
static void push_front(vt_relay_pub *p, struct vt_relay_msg *first,
    struct vt_relay_msg *last)
{
	pthread_mutex_lock(&p->lock);
	last->next = p->head;
	p->head = first;
	if (p->tail == NULL)
		p->tail = last;
	pthread_mutex_unlock(&p->lock);
}

static int queue_empty(vt_relay_pub *p)
{
	pthread_mutex_lock(&p->lock);
	int empty = p->head == NULL;
	pthread_mutex_unlock(&p->lock);
	return empty;
}

/* Connection gone: every unconfirmed batch goes back to be published. */
static void lose_connection(vt_relay_pub *p, const char *why)
{
	vt_log_warn("relay", "connection to %s lost: %s; %zu unconfirmed "
	    "batches will be published again", p->opts.url_shown, why,
	    p->unconf_n);
	amqp_destroy_connection(p->conn);
	p->conn = NULL;
	if (p->unconf_head) {
		atomic_fetch_add(&p->retried, p->unconf_n);
		push_front(p, p->unconf_head, p->unconf_tail);
	}
	p->unconf_head = p->unconf_tail = NULL;
	p->unconf_n = 0;
	atomic_fetch_add(&p->link.connection_losses, 1);
	atomic_store(&p->link.state, VT_AMQP_DISCONNECTED);
	atomic_store(&p->link.connected_since, 0.0);
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
	while (p->conn && p->unconf_n < MAX_INFLIGHT) {
		struct vt_relay_msg *m = pop(p);
		if (m == NULL)
			return;
		int rc = publish(p, m, p->next_seq);
		if (rc != AMQP_STATUS_OK) {
			push_front(p, m, m);
			lose_connection(p, amqp_error_string2(rc));
			return;
		}
		m->seq = p->next_seq++;
		m->returned = 0;
		if (p->unconf_tail)
			p->unconf_tail->next = m;
		else
			p->unconf_head = m;
		p->unconf_tail = m;
		p->unconf_n++;
		atomic_fetch_add(&p->published, 1);
	}
}

/* basic.ack / basic.nack for tag (and every earlier one if multiple). */
static void settle(vt_relay_pub *p, uint64_t tag, int multiple, int ack)
{
	struct vt_relay_msg *prev = NULL, *m = p->unconf_head;
	struct vt_relay_msg *back_first = NULL, *back_last = NULL;
	while (m) {
		struct vt_relay_msg *next = m->next;
		int hit = multiple ? m->seq <= tag : m->seq == tag;
		if (!hit) {
			if (m->seq > tag)
				break;
			prev = m;
			m = next;
			continue;
		}
		if (prev)
			prev->next = next;
		else
			p->unconf_head = next;
		if (p->unconf_tail == m)
			p->unconf_tail = prev;
		p->unconf_n--;
		m->next = NULL;
		if (ack && m->returned) {
			/* routed nowhere: try again a little later */
			if (p->parked_head == NULL)
				p->parked_until = vt_clock_mono() +
				    VT_RELAY_RETURN_RETRY;
			if (p->parked_tail)
				p->parked_tail->next = m;
			else
				p->parked_head = m;
			p->parked_tail = m;
		} else if (ack) {
			atomic_fetch_add(&p->confirmed, 1);
			atomic_fetch_add(&p->confirmed_records, m->records);
			atomic_fetch_sub(&p->buffered, m->len);
			vt_relay_batch_msg_free(m);
		} else {
			atomic_fetch_add(&p->retried, 1);
			if (back_last)
				back_last->next = m;
			else
				back_first = m;
			back_last = m;
		}
		m = next;
	}
	if (back_first)
		push_front(p, back_first, back_last);
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
	for (struct vt_relay_msg *m = p->unconf_head; m; m = m->next) {
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
	if (p->parked_head == NULL || vt_clock_mono() < p->parked_until)
		return;
	push_front(p, p->parked_head, p->parked_tail);
	p->parked_head = p->parked_tail = NULL;
}

/* Read every frame that is there: confirms, or the broker closing. */
static void read_frames(vt_relay_pub *p, int wait_ms)
{
	if (!amqp_frames_enqueued(p->conn) && !amqp_data_in_buffer(p->conn)) {
		struct pollfd fds[2] = {
			{ .fd = amqp_get_sockfd(p->conn), .events = POLLIN },
			{ .fd = p->efd, .events = POLLIN },
		};
		uint64_t n;
		if (poll(fds, 2, wait_ms) < 0 && errno != EINTR)
			return;
		if ((fds[1].revents & POLLIN) &&
		    read(p->efd, &n, sizeof n) < 0 && errno != EAGAIN)
			vt_log_warn_errno("relay", "eventfd");
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

static void wait_ms(vt_relay_pub *p, int ms)
{
	struct pollfd fd = { .fd = p->efd, .events = POLLIN };
	uint64_t n;
	if (poll(&fd, 1, ms) > 0 && read(p->efd, &n, sizeof n) < 0 &&
	    errno != EAGAIN)
		vt_log_warn_errno("relay", "eventfd");
}

static void reconnect(vt_relay_pub *p)
{
	char err[VT_ERR_LEN + VT_URL_LEN];
	atomic_store(&p->link.state, VT_AMQP_CONNECTING);
	if (connect_once(p, err, sizeof err) == 0) {
		atomic_fetch_add(&p->link.connects, 1);
		atomic_store(&p->link.connected_since, vt_clock_now());
		atomic_store(&p->link.state, VT_AMQP_CONNECTED);
		vt_amqp_backoff_reset(&p->backoff);
		vt_log_recovered(&p->complaint, "relay", "broker reachable "
		    "again");
		vt_log_info("relay", "connected to %s: publishing to exchange "
		    "%s with confirms", p->opts.url_shown, p->opts.exchange);
		return;
	}
	atomic_fetch_add(&p->link.connect_failures, 1);
	atomic_store(&p->link.state, VT_AMQP_DISCONNECTED);
	double delay = vt_amqp_backoff_next(&p->backoff);
	vt_log_complain(&p->complaint, VT_LOG_WARN, "relay", "cannot "
	    "connect: %s; batches wait in the buffer (next try in %.1fs)",
	    err, delay);
	double until = vt_clock_mono() + delay;
	while (!atomic_load(&p->stop)) {
		double left = until - vt_clock_mono();
		if (left <= 0)
			break;
		wait_ms(p, (int)(left * 1000) + 1);
	}
}

static void free_list(struct vt_relay_msg *m, size_t *n, size_t *records)
{
	while (m) {
		struct vt_relay_msg *next = m->next;
		(*n)++;
		*records += m->records;
		vt_relay_batch_msg_free(m);
		m = next;
	}
}

static void *pub_main(void *arg)
{
	vt_relay_pub *p = arg;
	for (;;) {
		if (atomic_load(&p->stop)) {
			if ((p->unconf_n == 0 && queue_empty(p) &&
			    p->parked_head == NULL) ||
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
			    p->parked_head ? 50 : POLL_MS);
	}
	size_t n = 0, records = 0;
	free_list(p->unconf_head, &n, &records);
	p->unconf_head = p->unconf_tail = NULL;
	free_list(p->parked_head, &n, &records);
	p->parked_head = p->parked_tail = NULL;
	pthread_mutex_lock(&p->lock);
	struct vt_relay_msg *q = p->head;
	p->head = p->tail = NULL;
	pthread_mutex_unlock(&p->lock);
	free_list(q, &n, &records);
	atomic_store(&p->lost_at_exit, n);
	if (n > 0)
		vt_log_warn("relay", "stopping with %zu batches (%zu lines) "
		    "not confirmed by the broker: lost", n, records);
	if (p->conn) {
		vt_amqp_conn_close(p->conn);
		p->conn = NULL;
	}
	atomic_store(&p->link.state, VT_AMQP_STOPPED);
	return NULL;
}

vt_relay_pub *vt_relay_pub_create(const struct vt_config *cfg, char *err,
    size_t errlen)
{
	vt_relay_pub *p = vt_xcalloc(1, sizeof *p);
	p->efd = -1;
	pthread_mutex_init(&p->lock, NULL);
	if (vt_amqp_conn_opts_init(&p->opts, cfg, err, errlen) < 0)
		goto fail;
	if (cfg->amqp_hash_exchange[0])
		p->opts.queue[0] = '\0';   /* each collector declares its own */
	p->max_buffer = cfg->relay_buffer;
	vt_amqp_backoff_init(&p->backoff, cfg->amqp_reconnect_min,
	    cfg->amqp_reconnect_max, (uint64_t)time(NULL) ^
	    ((uint64_t)getpid() << 32));
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		snprintf(err, errlen, "relay eventfd: %s", strerror(errno));
		goto fail;
	}
	int rc = pthread_create(&p->thread, NULL, pub_main, p);
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
	kick(p);
	pthread_join(p->thread, NULL);
	p->running = 0;
}

void vt_relay_pub_destroy(vt_relay_pub *p)
{
	if (p == NULL)
		return;
	vt_relay_pub_stop(p);
	size_t n = 0, records = 0;
	free_list(p->head, &n, &records);
	free_list(p->unconf_head, &n, &records);
	if (p->efd >= 0)
		close(p->efd);
	pthread_mutex_destroy(&p->lock);
	memset(&p->opts, 0, sizeof p->opts);   /* the password */
	free(p);
}

enum vt_amqp_state vt_relay_pub_state(const vt_relay_pub *p)
{
	return (enum vt_amqp_state)atomic_load(&p->link.state);
}

size_t vt_relay_pub_buffered(const vt_relay_pub *p)
{
	return atomic_load(&p->buffered);
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
	vt_amqp_conn_stats_write(&p->link, out, fmt);
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
	    atomic_load(&p->dropped), fmt);
	family(out, "vitals_relay_lines_dropped", VT_PROM_COUNTER,
	    "Lines and checks in batches dropped because the relay buffer "
	    "was full.", atomic_load(&p->dropped_records), fmt);
	family(out, "vitals_relay_buffer_bytes", VT_PROM_GAUGE,
	    "Bytes of batches waiting to be published or confirmed.",
	    atomic_load(&p->buffered), fmt);
	family(out, "vitals_relay_buffer_limit_bytes", VT_PROM_GAUGE,
	    "The relay buffer bound (relay.buffer).", p->max_buffer, fmt);
}
