/*
 * daemon.c - wiring and orderly life cycle of vitalsd (daemon.h).
 *
 * Threads: this one runs the loop (ingest, aggregation, the flush tick);
 * the flusher calls the sinks; libmicrohttpd serves HTTP. Signals are
 * blocked before any thread starts and read through a signalfd.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector/agg/agg.h"
#include "collector/agg/selfstats.h"
#include "collector/agg/sinks.h"
#include "collector/amqp/amqp_consumer.h"
#include "collector/base/clock.h"
#include "collector/base/line_result.h"
#include "collector/base/log.h"
#include "collector/base/loop.h"
#include "collector/base/sd_notify.h"
#include "collector/base/xmalloc.h"
#include "collector/config/config_json.h"
#include "collector/daemon/daemon.h"
#include "collector/daemon/daemon_alerts.h"
#include "collector/daemon/daemon_fleet.h"
#include "collector/daemon/daemon_health.h"
#include "collector/daemon/daemon_reload.h"
#include "collector/daemon/data_dir.h"
#include "collector/daemon/selfmetrics.h"
#include "collector/ingest/inbox.h"
#include "collector/ingest/ingest.h"
#include "collector/ingest/listen.h"
#include "collector/statsd/mapping_yaml.h"
#include "dashboards/api/core_routes.h"
#include "dashboards/api/map_api.h"
#include "dashboards/api/series_api.h"
#include "dashboards/graph/graph.h"
#include "dashboards/http/http.h"
#include "dashboards/pages/pages.h"
#include "exporters/graphite/graphite.h"
#include "exporters/prom/prom.h"
#include "exporters/recent/calls.h"
#include "exporters/recent/latest.h"
#include "exporters/recent/trends.h"
#include "exporters/rrd/rrd_lib.h"
#include "exporters/rrd/rrd_read.h"
#include "exporters/rrd/rrd_store.h"

#define CRON_SECONDS 1.0
#define INBOX_MAX_BYTES (64u << 20)

struct vt_daemon {
	struct vt_config cfg;
	struct vt_selfstats stats;   /* loop thread only */
	vt_loop *loop;
	vt_agg *agg;
	vt_ingest *ingest;
	vt_listen *listen;
	vt_inbox *inbox;
	struct vt_prom *prom;
	vt_sinks *flusher;
	vt_http *http;
	vt_daemon_health *healthd;
	vt_daemon_alerts *alertd;
	vt_rrd_store *rrd;             /* NULL when rrd.enabled is false */
	vt_rrd_read *rrdread;
	vt_graphite *graphite;        /* NULL when graphite.address is "" */
	vt_amqp_consumer *amqp;       /* NULL when amqp.url is "" */
	vt_daemon_fleet *fleetd;      /* NULL without a fleet */
	struct vt_core_routes core;
	vt_trends *trends;           /* tile figures for the dashboards */
	vt_calls *calls;             /* the service map's edges */
	struct vt_pages pages;
	struct vt_selfmetrics self;  /* vitals.* metrics: last counters */
	double last_close;           /* unix time the open window began */
	struct vt_sd_watchdog watchdog;  /* systemd's, pinged by the cron */
	int argc;                    /* the command line, read again on */
	char **argv;                 /* SIGHUP (vt_daemon_set_args) */
	int exit_status;
};


/* Close the open window and hand it to the sinks. */
static void close_window(vt_daemon *d)
{
	double t0 = vt_clock_mono(), now = vt_clock_now();
	if (d->cfg.self_metrics)
		vt_selfmetrics_record(&d->self, d->agg, &d->stats, d->rrd);
	struct vt_flush *f = vt_agg_close_window(d->agg, now,
	    now - d->last_close);
	d->last_close = now;
	d->stats.flushes++;
	d->stats.last_flush_seconds = vt_clock_mono() - t0;
	d->stats.flushes_dropped = vt_sinks_dropped(d->flusher);
	f->self = d->stats;
	vt_sinks_submit(d->flusher, f);
}

static void on_flush_timer(void *ctx)
{
	close_window(ctx);
}

static void on_cron(void *ctx)
{
	vt_daemon *d = ctx;
	vt_listen_expire_idle(d->listen, vt_clock_now());
	vt_sd_notify_watchdog_tick(&d->watchdog, vt_clock_mono(), CRON_SECONDS);
}

/* SIGHUP: the same file and flags read again, applied key by key. */
static void reload(vt_daemon *d)
{
	struct vt_config next;
	char err[VT_ERR_LEN * 2];
	if (d->argv == NULL)
		return;
	if (vt_config_from_args(&next, d->argc, d->argv, err, sizeof err) !=
	    VT_CONFIG_RUN) {
		vt_log_error("main", "SIGHUP: %s; keeping the running "
		    "configuration", vt_config_json_for_log(err, sizeof err));
		return;
	}
	/* Mapping rules: the file may have changed under the same name. */
	vt_mapping *maps;
	if (vt_mapping_load(next.mapping_file, next.config_file, &maps, err,
	    sizeof err) < 0) {
		vt_log_error("main", "SIGHUP: %s; keeping the running "
		    "configuration", vt_config_json_for_log(err, sizeof err));
		return;
	}
	struct vt_daemon_reload_targets t = { d->agg, d->listen, d->http,
	    vt_daemon_health_latest(d->healthd) };
	vt_daemon_reload_apply(&d->cfg, &next, &t);
	vt_agg_set_mapping(d->agg, maps);
	vt_log_info("main", "SIGHUP: mapping rules read again; they apply "
	    "from the next window");
}

static void on_signal(void *ctx, int signo)
{
	vt_daemon *d = ctx;
	if (signo == SIGHUP) {
		vt_sd_notify_reloading();
		reload(d);
		vt_daemon_alerts_reload(d->alertd);   /* alert rules and hooks */
		vt_sd_notify_ready();
		return;
	}
	vt_log_info("main", "%s: stopping", strsignal(signo));
	vt_sd_notify_stopping();
	vt_loop_stop(d->loop);
}

static int apply_inbox(void *ctx, const struct vt_inbox_msg *m)
{
	vt_daemon *d = ctx;
	if (m->kind == VT_INBOX_STATSD) {
		/* Not one well-formed line: the body is malformed (AMQP
		 * rejects it; bad lines are counted either way). */
		return vt_ingest_lines(d->ingest, m->body, m->len, m->peer) > 0 ?
		    0 : -EINVAL;
	}
	return vt_daemon_health_apply(d->healthd, m);   /* checks, forget service */
}

static int start_ingest(vt_daemon *d, char *err, size_t errlen)
{
	struct vt_agg_config ac = {
		.max_metrics = d->cfg.max_metrics,
		.metric_ttl = d->cfg.metric_ttl,
		.npercentiles = d->cfg.npercentiles,
		.native_histograms = d->cfg.prom_native_histograms,
	};
	memcpy(ac.percentiles, d->cfg.percentiles, sizeof ac.percentiles);
	/* Mapping rules: mapping_file and the "mappings" section (main.c
	 * checked them already); the aggregator owns them. */
	if (vt_mapping_load(d->cfg.mapping_file, d->cfg.config_file,
	    &ac.mapping, err, errlen) < 0)
		return -1;
	d->agg = vt_agg_create(&ac, &d->stats);
	d->ingest = vt_ingest_create(d->agg, &d->stats);
	struct vt_daemon_health_config hc = { &d->cfg };
	d->healthd = vt_daemon_health_create(&hc, d->loop, d->ingest, d->agg, err,
	    errlen);
	if (d->healthd == NULL)
		return -1;
	d->alertd = vt_daemon_alerts_create(&d->cfg, d->loop,
	    vt_daemon_health_registry(d->healthd), err, errlen);
	if (d->alertd == NULL)
		return -1;
	struct vt_listen_config lc = {
		.addr = d->cfg.statsd_listen,
		.udp = d->cfg.statsd_udp,
		.tcp = d->cfg.statsd_tcp,
		.udp_receive_buffer = d->cfg.udp_receive_buffer,
		.tcp_max_clients = d->cfg.tcp_max_clients,
		.tcp_idle_timeout = d->cfg.tcp_idle_timeout,
	};
	d->listen = vt_listen_create(&lc, d->loop, d->ingest, &d->stats, err,
	    errlen);
	if (d->listen == NULL)
		return -1;
	d->inbox = vt_inbox_create(d->loop, INBOX_MAX_BYTES, apply_inbox, d,
	    &d->stats, err, errlen);
	return d->inbox ? 0 : -1;
}

/* Register a sink with the flusher; a full table stops the start. */
static int add_sink(vt_daemon *d, struct vt_sink sink, char *err,
    size_t errlen)
{
	if (vt_sinks_add(d->flusher, sink) == 0)
		return 0;
	snprintf(err, errlen, "sink %s: more than %d sinks", sink.name,
	    VT_SINKS_MAX_SINKS);
	return -1;
}

/* The RRD sink (before the flusher starts) and its /metrics families. */
static int start_storage(vt_daemon *d, char *err, size_t errlen)
{
	if (!d->cfg.rrd_enabled)
		return 0;
	struct vt_rrd_store_config rc = {
		.data_dir = d->cfg.data_dir,
		.cached = d->cfg.rrd_cached,
		.flush_interval = d->cfg.flush_interval,
		.points = d->cfg.rrd_points,
		.queue_max = d->cfg.rrd_queue,
		.write_delay = d->cfg.rrd_write_delay,
		.create_rate = (double)d->cfg.rrd_create_rate,
		.health = vt_daemon_health_registry(d->healthd),
	};
	d->rrd = vt_rrd_store_create(&rc, err, errlen);
	if (d->rrd == NULL)
		return -1;
	if (add_sink(d, vt_rrd_store_sink(d->rrd), err, errlen) < 0)
		return -1;
	vt_prom_add_collector(d->prom, vt_rrd_store_collect, d->rrd);
	return 0;
}

/* The Graphite sink, when graphite.address is set: carbon away is not an
 * error, the sender keeps retrying. */
static int start_graphite(vt_daemon *d, char *err, size_t errlen)
{
	if (d->cfg.graphite_address[0] == '\0')
		return 0;
	int tags = vt_graphite_tags_parse(d->cfg.graphite_tags);
	struct vt_graphite_config gc = {
		.address = d->cfg.graphite_address,
		.names = { .prefix = d->cfg.graphite_prefix,
		    .tags = tags < 0 ? VT_GRAPHITE_TAGS_GRAPHITE :
		    (enum vt_graphite_tags)tags },
		.max_buffer = d->cfg.graphite_max_buffer,
		.timeout = d->cfg.graphite_timeout,
		.reconnect_min = 0.25,
		.reconnect_max = d->cfg.graphite_reconnect_max,
	};
	d->graphite = vt_graphite_create(&gc, err, errlen);
	if (d->graphite == NULL)
		return -1;
	if (add_sink(d, vt_graphite_sink(d->graphite), err, errlen) < 0)
		return -1;
	vt_prom_add_collector(d->prom, vt_graphite_collect, d->graphite);
	return 0;
}

/* GET /graph/ and /api/v1/series over the RRD files. */
static int start_storage_routes(vt_daemon *d, char *err, size_t errlen)
{
	struct vt_rrd_read_config rc = {
		.data_dir = d->cfg.data_dir,
		.cached = d->cfg.rrd_cached,
		.store = d->rrd,
	};
	d->rrdread = vt_rrd_read_create(&rc, err, errlen);
	if (d->rrdread == NULL)
		return -1;
	vt_graph_register(d->http, d->rrdread);
	vt_series_api_register(d->http, d->rrdread);
	return 0;
}

static const char *amqp_state(void *ctx)
{
	return vt_amqp_conn_state_name(vt_amqp_consumer_state(ctx));
}

/* The AMQP consumer (SPEC 3.3), when amqp.url is set: a broker that is
 * down is not an error, the consumer keeps retrying. */
static int start_amqp(vt_daemon *d, char *err, size_t errlen)
{
	if (d->cfg.amqp_url[0] == '\0')
		return 0;
	d->amqp = vt_amqp_consumer_create(&d->cfg, d->inbox, err, errlen);
	if (d->amqp == NULL)
		return -1;
	vt_prom_add_collector(d->prom, vt_amqp_consumer_collect, d->amqp);
	d->core.amqp_state = amqp_state;
	d->core.amqp_ctx = d->amqp;
	return 0;
}

static int start_output(vt_daemon *d, char *err, size_t errlen)
{
	d->prom = vt_prom_create();
	d->flusher = vt_sinks_create();
	if (add_sink(d, vt_prom_sink(d->prom), err, errlen) < 0 ||
	    start_storage(d, err, errlen) < 0 ||
	    start_graphite(d, err, errlen) < 0 ||
	    add_sink(d, vt_daemon_health_sink(d->healthd), err, errlen) < 0 ||
	    add_sink(d, vt_daemon_alerts_sink(d->alertd), err, errlen) < 0 ||
	    add_sink(d, vt_daemon_alerts_expect_sink(d->alertd, d->inbox), err,
	    errlen) < 0)
		return -1;
	d->trends = vt_trends_create();   /* both fed by the latest window */
	d->calls = vt_calls_create();
	vt_daemon_health_set_views(d->healthd, d->trends, d->calls);
	int rc = vt_sinks_start(d->flusher);
	if (rc < 0) {
		snprintf(err, errlen, "flusher thread: %s", strerror(-rc));
		return -1;
	}
	struct vt_http_config hc = {
		.listen = d->cfg.http_listen,
		.token = d->cfg.http_token,
		.max_body = d->cfg.http_max_body,
		.max_connections = d->cfg.http_max_connections,
		.max_per_ip = d->cfg.http_max_connections_per_ip,
		.threads = d->cfg.http_threads,
		.timeout = (unsigned)d->cfg.http_timeout,
		.head_timeout = (unsigned)d->cfg.http_head_timeout,
		.reserve = d->cfg.http_loopback_reserve,
		.max_streams = d->cfg.http_max_streams,
		.tls_cert = d->cfg.http_tls_cert,
		.tls_key = d->cfg.http_tls_key,
	};
	d->http = vt_http_create(&hc);
	vt_prom_add_collector(d->prom, vt_http_collect, d->http);
	d->core = (struct vt_core_routes){ .prom = d->prom,
	    .inbox = d->inbox, .start_time = d->stats.start_time };
	vt_core_routes_register(d->http, &d->core);
	if (start_storage_routes(d, err, errlen) < 0)
		return -1;
	if (vt_daemon_fleet_wanted(&d->cfg)) {   /* before the readers */
		d->fleetd = vt_daemon_fleet_create(&d->cfg, err, errlen);
		if (d->fleetd == NULL)
			return -1;
		vt_daemon_health_set_fleet(d->healthd,
		    vt_daemon_fleet_members(d->fleetd));
		vt_daemon_fleet_add_routes(d->fleetd, d->http, d->prom);
	}
	vt_daemon_health_add_routes(d->healthd, d->prom, d->http, d->inbox);
	vt_daemon_alerts_add_routes(d->alertd, d->prom, d->http);
	d->pages = (struct vt_pages){ vt_daemon_health_registry(d->healthd),
	    vt_daemon_health_latest(d->healthd), d->trends, d->calls,
	    d->fleetd ? vt_daemon_fleet_members(d->fleetd) : NULL };
	vt_pages_register(d->http, &d->pages);
	vt_map_api_register(d->http, &d->pages);
	if (start_amqp(d, err, errlen) < 0 ||
	    vt_http_start(d->http, err, errlen) < 0)
		return -1;
	if (d->fleetd == NULL)
		return 0;
	vt_daemon_alerts_set_owner(d->alertd, vt_daemon_fleet_notifies,
	    d->fleetd);
	return vt_daemon_fleet_start(d->fleetd, vt_http_port(d->http), d->loop,
	    vt_daemon_health_registry(d->healthd),
	    vt_daemon_health_latest(d->healthd), d->inbox, err, errlen);
}

/* Every TCP or HTTP client holds one descriptor: make room for all the
 * configured ones (plus files and sockets of our own) within the hard
 * limit, and say so when even that is too low. Past the limit, clients
 * are refused and counted (listen.c), never a crash or a busy loop. */
static void raise_fd_limit(const struct vt_config *cfg)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)(cfg->tcp_max_clients +
	    cfg->http_max_connections) + 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		vt_log_warn("main", "open file limit %llu is below what "
		    "statsd.tcp_max_clients and http.max_connections need "
		    "(%llu); clients past it are refused",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

vt_daemon *vt_daemon_create(const struct vt_config *cfg, char *err,
    size_t errlen)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	vt_daemon *d = vt_xcalloc(1, sizeof *d);
	d->cfg = *cfg;
	d->stats.start_time = d->last_close = vt_clock_now();
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(cfg);

	char resolved[PATH_MAX];
	if (vt_data_dir_prepare(cfg->data_dir, resolved, sizeof resolved, err,
	    errlen) < 0)
		goto fail;
	vt_log_info("main", "data directory %s", resolved);
	/* Before the first thread: graphs are drawn by children of a fork
	 * server forked now, never by a fork of the threaded daemon, which
	 * could copy a lock another thread holds (rrd_lib.h). */
	if (cfg->rrd_enabled && vt_rrd_lib_forkserver_start(err, errlen) < 0)
		goto fail;
	d->loop = vt_loop_create(err, errlen);
	if (d->loop == NULL)
		goto fail;
	if (vt_loop_add_signals(d->loop, signals, 3, on_signal, d) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		goto fail;
	}
	if (start_ingest(d, err, errlen) < 0 || start_output(d, err, errlen) < 0)
		goto fail;
	if (vt_loop_add_timer(d->loop, cfg->flush_interval, 1, on_flush_timer,
	    d) < 0 || vt_loop_add_timer(d->loop, CRON_SECONDS, 0, on_cron, d) < 0) {
		snprintf(err, errlen, "timerfd: %s", strerror(errno));
		goto fail;
	}
	vt_log_info("main", "vitalsd %s: statsd udp/tcp %s (udp port %d, tcp "
	    "port %d), http %s (port %d), flush every %gs, data in %s",
	    VT_VERSION, cfg->statsd_listen, vt_listen_udp_port(d->listen),
	    vt_listen_tcp_port(d->listen), cfg->http_listen,
	    vt_http_port(d->http), cfg->flush_interval, cfg->data_dir);
	return d;
fail:
	vt_daemon_destroy(d);
	return NULL;
}

void vt_daemon_set_args(vt_daemon *d, int argc, char **argv)
{
	d->argc = argc;
	d->argv = argv;
}

/* The last resort behind shutdown_timeout: storage gives up at the
 * bound (rrd_store.h), hooks are killed; should anything else of the stop
 * hang (a disk that never answers), the process ends 3 s later. */
#define SHUTDOWN_GRACE 3.0

static void *shutdown_guard(void *arg)
{
	double limit = *(const double *)arg;
	struct timespec ts = { (time_t)limit, (long)((limit -
	    (double)(time_t)limit) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	vt_log_error("main", "stop not done %gs after the signal "
	    "(shutdown_timeout and %gs grace): exiting now", limit,
	    SHUTDOWN_GRACE);
	_exit(1);
}

static void start_shutdown_guard(const struct vt_config *cfg)
{
	static double limit;
	pthread_t t;
	pthread_attr_t attr;
	limit = cfg->shutdown_timeout + SHUTDOWN_GRACE;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, shutdown_guard, &limit) != 0)
		vt_log_warn("main", "no shutdown guard thread");
	pthread_attr_destroy(&attr);
}

int vt_daemon_run(vt_daemon *d)
{
	if (vt_sd_notify_watchdog_init(&d->watchdog, vt_clock_mono()) > 0)
		vt_log_info("main", "systemd watchdog: a ping every %gs",
		    d->watchdog.interval);
	vt_sd_notify_ready();       /* sockets bound, the loop about to run */
	vt_loop_run(d->loop);
	/* Bounded (shutdown_timeout), even with a stalled writer or disk. */
	double stop_at = vt_clock_mono();
	start_shutdown_guard(&d->cfg);
	/* Orderly stop: take what is already received, flush it, deliver. */
	vt_listen_drain(d->listen);
	if (d->amqp)
		vt_amqp_consumer_quiesce(d->amqp);
	vt_daemon_fleet_stop(d->fleetd);  /* no more pushes, last reports out */
	vt_inbox_drain(d->inbox);
	vt_amqp_consumer_stop(d->amqp);   /* acks what was applied */
	vt_daemon_health_stop(d->healthd);      /* last publish and save */
	size_t live = vt_agg_size(d->agg);
	uint64_t ok = d->stats.lines[VT_LINE_OK];
	close_window(d);
	vt_sinks_stop(d->flusher);
	vt_latest_save(vt_daemon_health_latest(d->healthd));
	if (d->rrd) {                     /* the final window reaches disk */
		double left = d->cfg.shutdown_timeout - (vt_clock_mono() -
		    stop_at);
		if (vt_rrd_store_stop(d->rrd, left > 0.5 ? left : 0.5) == 0)
			vt_log_info("rrd", "final window written");
	}
	if (d->graphite) {                /* ... and carbon, if it can */
		double left = d->cfg.shutdown_timeout - (vt_clock_mono() -
		    stop_at);
		if (vt_graphite_stop(d->graphite, left > 0.5 ? left : 0.5) == 0)
			vt_log_info("graphite", "final window sent");
	}
	vt_log_info("main", "final window flushed: %zu metrics, %llu lines ok "
	    "since start; bye", live, (unsigned long long)ok);
	return d->exit_status;
}

void vt_daemon_destroy(vt_daemon *d)
{
	if (d == NULL)
		return;
	vt_daemon_health_close_streams(d->healthd);  /* before MHD stops */
	vt_http_destroy(d->http);         /* no more readers of prom */
	vt_sinks_destroy(d->flusher);   /* stops, destroys sinks */
	vt_daemon_alerts_destroy(d->alertd);     /* kills running hooks */
	vt_prom_destroy(d->prom);
	vt_trends_destroy(d->trends);
	vt_calls_destroy(d->calls);
	vt_rrd_read_destroy(d->rrdread);
	vt_rrd_store_destroy(d->rrd);      /* drains; before the registry */
	vt_graphite_destroy(d->graphite);  /* after the sinks stopped */
	vt_daemon_health_destroy(d->healthd);
	vt_amqp_consumer_stop(d->amqp);   /* no pushes, before the inbox */
	vt_daemon_fleet_destroy(d->fleetd);  /* likewise; after MHD */
	vt_inbox_destroy(d->inbox);
	vt_amqp_consumer_destroy(d->amqp);
	vt_listen_destroy(d->listen);
	vt_ingest_destroy(d->ingest);
	vt_agg_destroy(d->agg);
	vt_loop_destroy(d->loop);
	vt_rrd_lib_forkserver_stop();
	free(d);
}
