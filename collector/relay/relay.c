/*
 * relay.c - vitalsd in relay mode, wired (relay.h).
 *
 * Threads: the loop (sockets, parsing, batching, timers), the publisher
 * (relay_pub.c) and libmicrohttpd's. HTTP handlers read a snapshot of the
 * loop's counters that the cron copies under `snap_lock` once a second.
 */
#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/agg/selfstats.h"
#include "collector/base/clock.h"
#include "collector/base/line_result.h"
#include "collector/base/log.h"
#include "collector/base/loop.h"
#include "collector/base/netaddr.h"
#include "collector/base/prom_text.h"
#include "collector/base/sd_notify.h"
#include "collector/base/xmalloc.h"
#include "collector/health/health_json.h"
#include "collector/ingest/ingest.h"
#include "collector/ingest/listen.h"
#include "collector/relay/relay.h"
#include "collector/relay/relay_batch.h"
#include "collector/relay/relay_pub.h"
#include "collector/statsd/names.h"
#include "collector/statsd/statsd.h"
#include "collector/statsd/tags.h"
#include "dashboards/http/http.h"
#include "exporters/prom/prom.h"
#include "exporters/prom/prom_self.h"

enum relay_result { FORWARDED = 0, INVALID, RESULT_COUNT };
static const char *const result_names[] = { "forwarded", "invalid" };

struct counters {
	uint64_t lines[RESULT_COUNT];
};

struct vt_relay {
	struct vt_config cfg;
	struct vt_selfstats stats;       /* loop thread */
	struct counters counters;        /* loop thread */
	pthread_mutex_t snap_lock;
	struct vt_selfstats stats_snap;  /* under snap_lock */
	struct counters counters_snap;
	vt_loop *loop;
	vt_ingest *ingest;
	vt_listen *listen;
	vt_relay_batch *batcher;
	vt_relay_pub *pub;
	vt_http *http;
	struct vt_sd_watchdog watchdog;  /* systemd's, pinged by the cron */
};


static void emit(void *ctx, struct vt_relay_msg *m)
{
	vt_relay *r = ctx;
	vt_relay_pub_submit(r->pub, m);   /* a full buffer is counted there */
}

/* The service: tag's value, or len 0. */
static struct vt_slice service_tag(struct vt_slice tags)
{
	struct vt_slice k, v, none = { NULL, 0 };
	size_t pos = 0;
	while (tags.len > 0 && vt_tags_next(tags, &pos, &k, &v))
		if (k.len == 7 && memcmp(k.ptr, "service", 7) == 0)
			return v;
	return none;
}

static void relay_line(vt_relay *r, const char *line, size_t len,
    double now)
{
	struct vt_sample s;
	struct vt_check_report rep;
	struct vt_slice svc, metric;

	switch (vt_statsd_classify(line, len)) {
	case VT_LINE_KIND_METRIC:
		if (vt_statsd_parse(line, len, &s) != VT_LINE_OK)
			break;
		vt_names_split(s.name, service_tag(s.tags), &svc, &metric);
		vt_relay_batch_add(r->batcher, VT_RELAY_METRICS, svc.ptr,
		    svc.len, line, len, now);
		r->counters.lines[FORWARDED]++;
		return;
	case VT_LINE_KIND_SERVICE_CHECK:
		if (vt_statsd_parse_check(line, len, &rep) != VT_LINE_OK)
			break;
		vt_names_split(rep.name, service_tag(rep.tags), &svc, &metric);
		vt_relay_batch_add(r->batcher, VT_RELAY_HEALTH_LINES, svc.ptr,
		    svc.len, line, len, now);
		r->counters.lines[FORWARDED]++;
		return;
	case VT_LINE_KIND_EVENT:
		break;
	case VT_LINE_KIND_EMPTY:
		return;
	}
	r->counters.lines[INVALID]++;
}

struct json_ctx {
	vt_relay *r;
	double now;
};

static void on_json_check(void *ctx, const struct vt_check *c)
{
	struct json_ctx *jc = ctx;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "service", c->service);
	cJSON_AddStringToObject(o, "instance", c->instance);
	cJSON_AddStringToObject(o, "check", c->check);
	cJSON_AddStringToObject(o, "status", vt_health_check_status_name(c->status));
	cJSON_AddStringToObject(o, "output", c->output);
	cJSON_AddNumberToObject(o, "ttl", c->ttl);
	if (c->timestamp > 0)
		cJSON_AddNumberToObject(o, "timestamp", c->timestamp);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		abort();          /* the OOM policy (xmalloc.h) */
	vt_relay_batch_add(jc->r->batcher, VT_RELAY_HEALTH_JSON, c->service,
	    strlen(c->service), text, strlen(text), jc->now);
	jc->r->counters.lines[FORWARDED]++;
	cJSON_free(text);
}

static void on_json_error(void *ctx, enum vt_check_result why,
    const char *msg)
{
	struct json_ctx *jc = ctx;
	(void)why;
	(void)msg;
	jc->r->counters.lines[INVALID]++;
}

/* vt_ingest_forward: a datagram or a TCP line. */
static void on_datagram(void *ctx, const char *buf, size_t len,
    const struct sockaddr *peer)
{
	vt_relay *r = ctx;
	double now = vt_clock_mono();
	if (len > 0 && (buf[0] == '{' || buf[0] == '[')) {
		char ip[64] = "";
		if (peer)
			vt_netaddr_ip(peer, ip, sizeof ip);
		struct json_ctx jc = { r, now };
		struct vt_health_json_hooks hooks = { on_json_check,
		    on_json_error, &jc };
		vt_health_json_parse(buf, len, ip, &hooks, NULL);
		return;
	}
	const char *q = buf, *end = buf + len;
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		const char *eol = nl ? nl : end;
		relay_line(r, q, (size_t)(eol - q), now);
		q = eol + 1;
	}
}

static void on_tick(void *ctx)
{
	vt_relay *r = ctx;
	vt_relay_batch_tick(r->batcher, vt_clock_mono());
}

static void on_cron(void *ctx)
{
	vt_relay *r = ctx;
	vt_listen_expire_idle(r->listen, vt_clock_now());
	pthread_mutex_lock(&r->snap_lock);
	r->stats_snap = r->stats;
	r->counters_snap = r->counters;
	pthread_mutex_unlock(&r->snap_lock);
	vt_sd_notify_watchdog_tick(&r->watchdog, vt_clock_mono(), 1.0);
}

static void on_signal(void *ctx, int signo)
{
	vt_relay *r = ctx;
	if (signo == SIGHUP) {        /* nothing reloads in relay mode */
		vt_sd_notify_reloading();
		vt_sd_notify_ready();
		return;
	}
	vt_log_info("main", "%s: stopping", strsignal(signo));
	vt_sd_notify_stopping();
	vt_loop_stop(r->loop);
}

static void get_metrics(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	vt_relay *r = ctx;
	enum vt_prom_format fmt = vt_prom_negotiate(vt_http_header(req,
	    "Accept"));
	struct vt_selfstats s;
	struct counters c;
	pthread_mutex_lock(&r->snap_lock);
	s = r->stats_snap;
	c = r->counters_snap;
	pthread_mutex_unlock(&r->snap_lock);
	struct vt_buf *out = &resp->body;
	vt_prom_self_write(out, &s, 0, fmt);
	vt_prom_text_head(out, "vitals_relay_lines", 18, VT_PROM_COUNTER,
	    "Lines and JSON checks received by the relay, by result "
	    "(forwarded into a batch, or invalid and dropped).", fmt);
	for (int i = 0; i < RESULT_COUNT; i++) {
		vt_buf_printf(out, "vitals_relay_lines_total{result=\"%s\"} ",
		    result_names[i]);
		vt_prom_text_u64(out, c.lines[i]);
		vt_buf_putc(out, '\n');
	}
	vt_relay_pub_collect(r->pub, out, fmt);
	if (fmt == VT_PROM_OPENMETRICS)
		vt_buf_puts(out, "# EOF\n");
	resp->content_type = vt_prom_text_content_type(fmt);
	resp->no_cache = 1;
}

static void get_healthz(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	vt_relay *r = ctx;
	(void)req;
	vt_buf_printf(&resp->body, "{\"status\":\"ok\",\"mode\":\"relay\","
	    "\"version\":\"%s\",\"uptime_seconds\":%.0f,\"amqp\":\"%s\","
	    "\"buffer_bytes\":%zu}\n", VT_VERSION,
	    vt_clock_now() - r->stats.start_time,
	    vt_amqp_conn_state_name(vt_relay_pub_state(r->pub)),
	    vt_relay_pub_buffered(r->pub));
	resp->no_cache = 1;
}

static int start_http(vt_relay *r, char *err, size_t errlen)
{
	struct vt_http_config hc = {
		.listen = r->cfg.http_listen,
		.token = r->cfg.http_token,
		.max_body = r->cfg.http_max_body,
		.max_connections = r->cfg.http_max_connections,
		.threads = r->cfg.http_threads,
	};
	r->http = vt_http_create(&hc);
	vt_http_route(r->http, "GET", "/metrics", 0, get_metrics, r);
	vt_http_route(r->http, "GET", "/healthz", 0, get_healthz, r);
	return vt_http_start(r->http, err, errlen);
}

vt_relay *vt_relay_create(const struct vt_config *cfg, char *err,
    size_t errlen)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	vt_relay *r = vt_xcalloc(1, sizeof *r);
	r->cfg = *cfg;
	r->stats.start_time = vt_clock_now();
	pthread_mutex_init(&r->snap_lock, NULL);
	signal(SIGPIPE, SIG_IGN);

	r->loop = vt_loop_create(err, errlen);
	if (r->loop == NULL)
		goto fail;
	if (vt_loop_add_signals(r->loop, signals, 3, on_signal, r) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		goto fail;
	}
	r->pub = vt_relay_pub_create(cfg, err, errlen);
	if (r->pub == NULL)
		goto fail;
	r->batcher = vt_relay_batch_create(cfg->relay_batch_bytes,
	    cfg->relay_batch_interval, emit, r);
	r->ingest = vt_ingest_create(NULL, &r->stats);
	struct vt_ingest_forward fwd = { on_datagram, r };
	vt_ingest_set_forward(r->ingest, &fwd);
	struct vt_listen_config lc = {
		.addr = cfg->statsd_listen,
		.udp = cfg->statsd_udp,
		.tcp = cfg->statsd_tcp,
		.udp_receive_buffer = cfg->udp_receive_buffer,
		.tcp_max_clients = cfg->tcp_max_clients,
		.tcp_idle_timeout = cfg->tcp_idle_timeout,
	};
	r->listen = vt_listen_create(&lc, r->loop, r->ingest, &r->stats, err,
	    errlen);
	if (r->listen == NULL)
		goto fail;
	double tick = cfg->relay_batch_interval / 4;
	tick = tick < 0.01 ? 0.01 : tick > 0.25 ? 0.25 : tick;
	if (vt_loop_add_timer(r->loop, tick, 0, on_tick, r) < 0 ||
	    vt_loop_add_timer(r->loop, 1.0, 0, on_cron, r) < 0) {
		snprintf(err, errlen, "timerfd: %s", strerror(errno));
		goto fail;
	}
	if (start_http(r, err, errlen) < 0)
		goto fail;
	vt_log_info("main", "vitalsd %s relay: statsd udp/tcp %s (udp port "
	    "%d, tcp port %d), http %s (port %d), batches of %zu bytes or "
	    "%gs", VT_VERSION, cfg->statsd_listen,
	    vt_listen_udp_port(r->listen), vt_listen_tcp_port(r->listen),
	    cfg->http_listen, vt_http_port(r->http), cfg->relay_batch_bytes,
	    cfg->relay_batch_interval);
	return r;
fail:
	vt_relay_destroy(r);
	return NULL;
}

int vt_relay_run(vt_relay *r)
{
	if (vt_sd_notify_watchdog_init(&r->watchdog, vt_clock_mono()) > 0)
		vt_log_info("main", "systemd watchdog: a ping every %gs",
		    r->watchdog.interval);
	vt_sd_notify_ready();       /* sockets bound, the loop about to run */
	vt_loop_run(r->loop);
	vt_listen_drain(r->listen);
	vt_relay_batch_flush(r->batcher);
	vt_relay_pub_stop(r->pub);
	vt_log_info("main", "relay stopped; bye");
	return 0;
}

void vt_relay_destroy(vt_relay *r)
{
	if (r == NULL)
		return;
	vt_http_destroy(r->http);
	vt_listen_destroy(r->listen);
	vt_relay_batch_destroy(r->batcher);
	vt_relay_pub_destroy(r->pub);
	vt_ingest_destroy(r->ingest);
	vt_loop_destroy(r->loop);
	pthread_mutex_destroy(&r->snap_lock);
	free(r);
}
