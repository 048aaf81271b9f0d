/*
 * amqp_conn.h - the one file that speaks rabbitmq-c's connection API
 * (through amqp_lib.h; opening a connection opens the library):
 * open a connection (TCP or TLS with CA verification), log in, open
 * channel 1, declare vitals' topology, turn rabbitmq-c replies into
 * messages; plus the connection counters both the collector's consumer and
 * the relay's publisher report in /metrics and /healthz.
 *
 * A connection state is used by one thread only (rabbitmq-c is not
 * thread-safe); the stats are atomics that any thread may read.
 * Error text never contains the password.
 */
#ifndef VT_AMQP_CONN_H
#define VT_AMQP_CONN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/amqp/amqp_lib.h"
#include "collector/amqp/amqp_url.h"
#include "collector/base/buf.h"
#include "collector/base/prom_text.h"
#include "collector/config/config.h"

#define VT_AMQP_CHANNEL 1
#define VT_AMQP_TIMEOUT 10.0      /* seconds: connect, login, each RPC */
#define VT_AMQP_HASH_HEADER "service"  /* header the hash exchange hashes */

/* What a connection is doing; the value of vitals_amqp_connected is 1
 * only for VT_AMQP_CONNECTED. */
enum vt_amqp_state {
	VT_AMQP_DISCONNECTED = 0,   /* waiting out a backoff delay */
	VT_AMQP_CONNECTING,
	VT_AMQP_CONNECTED,
	VT_AMQP_STOPPED
};

const char *vt_amqp_conn_state_name(enum vt_amqp_state s);

/* Counters of one link to the broker; zero-initialise. */
struct vt_amqp_link_stats {
	_Atomic int state;                   /* enum vt_amqp_state */
	_Atomic uint64_t connects;           /* successful (re)connects */
	_Atomic uint64_t connect_failures;
	_Atomic uint64_t connection_losses;  /* lost after being connected */
	_Atomic double connected_since;      /* unix time, 0 when down */
};

/* Append vitals_amqp_connected, _connects_total, _connect_failures_total
 * and _connection_losses_total (HELP, TYPE, samples). */
void vt_amqp_conn_stats_write(const struct vt_amqp_link_stats *s,
    struct vt_buf *out, enum vt_prom_format fmt);

/* Connection options taken from the config (all copied from cfg). */
struct vt_amqp_conn_opts {
	struct vt_amqp_url url;
	char url_shown[VT_URL_LEN];  /* redacted, for logs */
	double heartbeat;
	char ca_cert[VT_PATH_LEN], cert[VT_PATH_LEN], key[VT_PATH_LEN];
	int verify_peer, verify_hostname;
	/* topology */
	char exchange[VT_ADDR_LEN];
	char queue[VT_ADDR_LEN];        /* "" = declare no queue */
	char bindings[VT_ADDR_LEN];
	char hash_exchange[VT_ADDR_LEN];
	size_t hash_weight;
};

/* From the validated config. -1 with err when the URL does not parse. */
int vt_amqp_conn_opts_init(struct vt_amqp_conn_opts *o,
    const struct vt_config *cfg, char *err, size_t errlen);

/* Connect, log in and open channel VT_AMQP_CHANNEL. NULL with err set. */
amqp_connection_state_t vt_amqp_conn_open(const struct vt_amqp_conn_opts *o,
    char *err, size_t errlen);

/*
 * Declare the durable topic exchange; with hash_exchange, the durable
 * x-consistent-hash exchange (hashing the "service" header) bound to it
 * with "#"; then, when queue is set, the durable queue bound with each
 * binding key, or to the hash exchange with the weight. 0, or -1 with err.
 */
int vt_amqp_conn_declare(amqp_connection_state_t c,
    const struct vt_amqp_conn_opts *o, char *err, size_t errlen);

/* Close politely (best effort) and free. NULL ok. */
void vt_amqp_conn_close(amqp_connection_state_t c);

/* 0 when r is a normal reply, else -1 with "<what>: <reason>" in err. */
int vt_amqp_conn_reply_check(amqp_rpc_reply_t r, const char *what, char *err,
    size_t errlen);

#endif
