/* amqp_conn.c - rabbitmq-c connections, topology and errors (amqp_conn.h). */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "collector/amqp/amqp_conn.h"
#include "collector/base/prom_text.h"

const char *vt_amqp_conn_state_name(enum vt_amqp_state s)
{
	static const char *const names[] = { "disconnected", "connecting",
	    "connected", "stopped" };
	return (unsigned)s < 4 ? names[s] : "?";
}

void vt_amqp_conn_stats_write(const struct vt_amqp_link_stats *s,
    struct vt_buf *out, enum vt_prom_format fmt)
{
	static const struct {
		const char *name;
		const char *help;
	} counters[] = {
		{ "vitals_amqp_connects", "Successful connections to the AMQP "
		  "broker (the first and every reconnect)." },
		{ "vitals_amqp_connect_failures", "Attempts to connect to the "
		  "AMQP broker that failed." },
		{ "vitals_amqp_connection_losses", "Established AMQP "
		  "connections that were lost." },
	};
	uint64_t v[3] = { atomic_load(&s->connects),
	    atomic_load(&s->connect_failures),
	    atomic_load(&s->connection_losses) };
	int st = atomic_load(&s->state);

	vt_prom_text_head(out, "vitals_amqp_connected", 21, VT_PROM_GAUGE,
	    "1 while connected to the AMQP broker, else 0.", fmt);
	vt_buf_printf(out, "vitals_amqp_connected %d\n",
	    st == VT_AMQP_CONNECTED);
	for (size_t i = 0; i < 3; i++) {
		vt_prom_text_head(out, counters[i].name,
		    strlen(counters[i].name), VT_PROM_COUNTER,
		    counters[i].help, fmt);
		vt_buf_printf(out, "%s_total ", counters[i].name);
		vt_prom_text_u64(out, v[i]);
		vt_buf_putc(out, '\n');
	}
}

int vt_amqp_conn_opts_init(struct vt_amqp_conn_opts *o,
    const struct vt_config *cfg, char *err, size_t errlen)
{
	char why[128];
	memset(o, 0, sizeof *o);
	if (vt_amqp_url_parse(cfg->amqp_url, &o->url, why, sizeof why) < 0) {
		snprintf(err, errlen, "amqp.url: %s", why);
		return -1;
	}
	vt_amqp_url_describe(&o->url, o->url_shown, sizeof o->url_shown);
	o->heartbeat = cfg->amqp_heartbeat;
	snprintf(o->ca_cert, sizeof o->ca_cert, "%s", cfg->amqp_ca_cert);
	snprintf(o->cert, sizeof o->cert, "%s", cfg->amqp_cert);
	snprintf(o->key, sizeof o->key, "%s", cfg->amqp_key);
	o->verify_peer = cfg->amqp_verify_peer;
	o->verify_hostname = cfg->amqp_verify_hostname;
	snprintf(o->exchange, sizeof o->exchange, "%s", cfg->amqp_exchange);
	snprintf(o->queue, sizeof o->queue, "%s", cfg->amqp_queue);
	snprintf(o->bindings, sizeof o->bindings, "%s", cfg->amqp_bindings);
	snprintf(o->hash_exchange, sizeof o->hash_exchange, "%s",
	    cfg->amqp_hash_exchange);
	o->hash_weight = cfg->amqp_hash_weight;
	return 0;
}

static const char *method_text(amqp_method_t m, char *buf, size_t len)
{
	if (m.id == AMQP_CONNECTION_CLOSE_METHOD) {
		const amqp_connection_close_t *c = m.decoded;
		snprintf(buf, len, "broker closed the connection: %u %.*s",
		    c->reply_code, (int)c->reply_text.len,
		    (const char *)c->reply_text.bytes);
	} else if (m.id == AMQP_CHANNEL_CLOSE_METHOD) {
		const amqp_channel_close_t *c = m.decoded;
		snprintf(buf, len, "broker closed the channel: %u %.*s",
		    c->reply_code, (int)c->reply_text.len,
		    (const char *)c->reply_text.bytes);
	} else {
		snprintf(buf, len, "unexpected method 0x%08x", m.id);
	}
	return buf;
}

int vt_amqp_conn_reply_check(amqp_rpc_reply_t r, const char *what, char *err,
    size_t errlen)
{
	char buf[300];
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return 0;
	case AMQP_RESPONSE_NONE:
		snprintf(err, errlen, "%s: no reply", what);
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(err, errlen, "%s: %s", what,
		    amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		snprintf(err, errlen, "%s: %s", what,
		    method_text(r.reply, buf, sizeof buf));
		break;
	}
	return -1;
}

static struct timeval tv_of(double s)
{
	struct timeval tv = { (time_t)s, (suseconds_t)((s - (double)(time_t)s)
	    * 1e6) };
	return tv;
}

static amqp_socket_t *open_socket(amqp_connection_state_t c,
    const struct vt_amqp_conn_opts *o, char *err, size_t errlen)
{
	amqp_socket_t *s;
	int rc;
	if (!o->url.tls) {
		s = amqp_tcp_socket_new(c);
		if (s == NULL) {
			snprintf(err, errlen, "cannot create a TCP socket");
			return NULL;
		}
	} else {
		s = amqp_ssl_socket_new(c);
		if (s == NULL) {
			snprintf(err, errlen, "cannot create a TLS socket");
			return NULL;
		}
		amqp_ssl_socket_set_verify_peer(s, o->verify_peer);
		amqp_ssl_socket_set_verify_hostname(s, o->verify_hostname);
		if (o->ca_cert[0] && (rc = amqp_ssl_socket_set_cacert(s,
		    o->ca_cert)) != AMQP_STATUS_OK) {
			snprintf(err, errlen, "amqp.ca_cert %s: %s", o->ca_cert,
			    amqp_error_string2(rc));
			return NULL;
		}
		if (o->cert[0] && (rc = amqp_ssl_socket_set_key(s, o->cert,
		    o->key[0] ? o->key : o->cert)) != AMQP_STATUS_OK) {
			snprintf(err, errlen, "amqp.cert/amqp.key: %s",
			    amqp_error_string2(rc));
			return NULL;
		}
	}
	struct timeval tv = tv_of(VT_AMQP_TIMEOUT);
	rc = amqp_socket_open_noblock(s, o->url.host, o->url.port, &tv);
	if (rc != AMQP_STATUS_OK) {
		snprintf(err, errlen, "%s: %s", o->url_shown,
		    amqp_error_string2(rc));
		return NULL;
	}
	return s;
}

amqp_connection_state_t vt_amqp_conn_open(const struct vt_amqp_conn_opts *o,
    char *err, size_t errlen)
{
	char what[VT_URL_LEN + 32];
	if (vt_amqp_lib_open(err, errlen) < 0)
		return NULL;
	amqp_connection_state_t c = amqp_new_connection();
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	struct timeval tv = tv_of(VT_AMQP_TIMEOUT);
	amqp_set_handshake_timeout(c, &tv);
	amqp_set_rpc_timeout(c, &tv);
	if (open_socket(c, o, err, errlen) == NULL)
		goto fail;
	snprintf(what, sizeof what, "login to %s", o->url_shown);
	if (vt_amqp_conn_reply_check(amqp_login(c, o->url.vhost, 0, 131072,
	    (int)o->heartbeat, AMQP_SASL_METHOD_PLAIN, o->url.user,
	    o->url.password), what, err, errlen) < 0)
		goto fail;
	amqp_channel_open(c, VT_AMQP_CHANNEL);
	if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(c), "channel.open", err,
	    errlen) < 0)
		goto fail;
	return c;
fail:
	amqp_destroy_connection(c);
	return NULL;
}

int vt_amqp_conn_declare(amqp_connection_state_t c,
    const struct vt_amqp_conn_opts *o, char *err, size_t errlen)
{
	char what[3 * VT_ADDR_LEN + 64];
	amqp_exchange_declare(c, VT_AMQP_CHANNEL,
	    amqp_cstring_bytes(o->exchange), amqp_cstring_bytes("topic"),
	    0, 1, 0, 0, amqp_empty_table);
	snprintf(what, sizeof what, "declare exchange %s", o->exchange);
	if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(c), what, err,
	    errlen) < 0)
		return -1;

	const char *target = o->exchange;
	if (o->hash_exchange[0]) {
		amqp_table_entry_t arg;
		arg.key = amqp_cstring_bytes("hash-header");
		arg.value.kind = AMQP_FIELD_KIND_UTF8;
		arg.value.value.bytes = amqp_cstring_bytes(VT_AMQP_HASH_HEADER);
		amqp_table_t args = { 1, &arg };
		amqp_exchange_declare(c, VT_AMQP_CHANNEL,
		    amqp_cstring_bytes(o->hash_exchange),
		    amqp_cstring_bytes("x-consistent-hash"), 0, 1, 0, 0, args);
		snprintf(what, sizeof what, "declare exchange %s "
		    "(rabbitmq_consistent_hash_exchange enabled?)",
		    o->hash_exchange);
		if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(c), what, err,
		    errlen) < 0)
			return -1;
		amqp_exchange_bind(c, VT_AMQP_CHANNEL,
		    amqp_cstring_bytes(o->hash_exchange),
		    amqp_cstring_bytes(o->exchange), amqp_cstring_bytes("#"),
		    amqp_empty_table);
		snprintf(what, sizeof what, "bind %s to %s", o->hash_exchange,
		    o->exchange);
		if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(c), what, err,
		    errlen) < 0)
			return -1;
		target = o->hash_exchange;
	}
	if (o->queue[0] == '\0')
		return 0;

	amqp_queue_declare(c, VT_AMQP_CHANNEL, amqp_cstring_bytes(o->queue),
	    0, 1, 0, 0, amqp_empty_table);
	snprintf(what, sizeof what, "declare queue %s", o->queue);
	if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(c), what, err,
	    errlen) < 0)
		return -1;

	char keys[VT_ADDR_LEN];
	if (o->hash_exchange[0])
		snprintf(keys, sizeof keys, "%zu", o->hash_weight);
	else
		snprintf(keys, sizeof keys, "%s", o->bindings);
	char *save = NULL;
	for (char *k = strtok_r(keys, ",", &save); k;
	    k = strtok_r(NULL, ",", &save)) {
		while (*k == ' ')
			k++;
		amqp_queue_bind(c, VT_AMQP_CHANNEL,
		    amqp_cstring_bytes(o->queue), amqp_cstring_bytes(target),
		    amqp_cstring_bytes(k), amqp_empty_table);
		snprintf(what, sizeof what, "bind queue %s to %s with %s",
		    o->queue, target, k);
		if (vt_amqp_conn_reply_check(amqp_get_rpc_reply(c), what, err,
		    errlen) < 0)
			return -1;
	}
	return 0;
}

void vt_amqp_conn_close(amqp_connection_state_t c)
{
	if (c == NULL)
		return;
	struct timeval tv = tv_of(2.0);
	amqp_set_rpc_timeout(c, &tv);
	amqp_channel_close(c, VT_AMQP_CHANNEL, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
}
