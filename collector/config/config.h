/*
 * config.h - every setting of vitalsd, its default, its config-file key and
 * its command-line flag, validated in one place (SPEC 2).
 *
 * The config file is JSON (comments allowed). Keys are nested objects; the
 * dotted names below are their paths. Flags override the file. Durations
 * are a number of seconds or a string with a unit: "30s", "5m", "26h",
 * "7d" (also "ms", "w"). Any unknown key, wrong type or value out of range
 * is an error naming the file and the key; vitalsd then exits 2.
 */
#ifndef VT_CONFIG_H
#define VT_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "collector/base/parse.h"
#include "collector/base/vt_types.h"

struct vt_buf;
struct cJSON;

#define VT_PATH_LEN 1024
#define VT_URL_LEN 1024
#define VT_TOKEN_LEN 256
#define VT_CONFIG_FILE_MAX (1u << 20)   /* longest config file, bytes */

struct vt_config {
	char config_file[VT_PATH_LEN];   /* -c; "" when none */
	int check_config;                /* --check-config */

	/* statsd ingest */
	char statsd_listen[VT_ADDR_LEN];    /* statsd.listen "0.0.0.0:8125" (UDP and TCP) */
	int statsd_udp;                     /* statsd.udp true */
	int statsd_tcp;                     /* statsd.tcp true */
	size_t udp_receive_buffer;          /* statsd.udp_receive_buffer 33554432 bytes */
	size_t tcp_max_clients;             /* statsd.tcp_max_clients 1024 */
	double tcp_idle_timeout;            /* statsd.tcp_idle_timeout "5m" */

	/* aggregation */
	double flush_interval;              /* flush_interval "10s" (--flush) */
	double metric_ttl;                  /* metric_ttl "1h" */
	double retire_after;                /* retire_after "7d" */
	size_t max_metrics;                 /* max_metrics 100000 */
	int self_metrics;                   /* self_metrics true: service vitals */
	int prom_native_histograms;         /* prometheus.native_histograms true */
	size_t npercentiles;                /* percentiles [50, 90, 95, 99] */
	double percentiles[VT_MAX_PERCENTILES]; /* ascending, in (0, 100) */
	char mapping_file[VT_PATH_LEN];     /* mapping_file "" = none: a
	                                       statsd_exporter YAML file (it
	                                       and the "mappings" section are
	                                       read by statsd/mapping_yaml.c) */

	/* storage */
	char data_dir[VT_PATH_LEN];         /* data_dir "./vitals-data" (--data-dir) */
	int rrd_enabled;                    /* rrd.enabled true */
	char rrd_cached[VT_ADDR_LEN];       /* rrd.cached "" = direct */
	size_t rrd_queue;                   /* rrd.queue 1000000 updates */
	size_t rrd_points;                  /* rrd.points_per_range 500 */
	char rrd_timer_stats[64];           /* rrd.timer_stats "count,rate" */
	char rrd_counter_stats[16];         /* rrd.counter_stats "count,rate" */
	int rrd_max_archives;               /* rrd.max_archives true */
	double rrd_retention;               /* rrd.retention "366d" */
	double rrd_write_delay;             /* rrd.write_delay "30s" */
	size_t rrd_create_rate;             /* rrd.create_rate 500 a second */

	/* healthchecks */
	double health_save_interval;        /* health.save_interval "10s" */
	size_t health_max_checks;           /* health.max_checks 100000 */

	/* HTTP */
	char http_listen[VT_ADDR_LEN];      /* http.listen "0.0.0.0:8080" (--http) */
	char http_token[VT_TOKEN_LEN];      /* http.token "" (bearer token for writes) */
	size_t http_max_body;               /* http.max_body 1048576 bytes */
	size_t http_max_connections;        /* http.max_connections 256 */
	size_t http_threads;                /* http.threads 2 */
	size_t http_max_connections_per_ip; /* http.max_connections_per_ip 64 */
	double http_timeout;                /* http.timeout "30s" idle client */
	double http_head_timeout;           /* http.head_timeout "10s" whole head */
	size_t http_max_streams;            /* http.max_streams 0 = max_connections/4 */
	size_t http_loopback_reserve;       /* http.loopback_reserve 0 = /8 */
	char http_tls_cert[VT_PATH_LEN];    /* http.tls_cert "" = plain HTTP */
	char http_tls_key[VT_PATH_LEN];     /* http.tls_key "" (PEM files) */

	/* AMQP */
	char amqp_url[VT_URL_LEN];          /* amqp.url "" = off (--amqp) */
	char amqp_exchange[VT_ADDR_LEN];    /* amqp.exchange "vitals" (topic) */
	char amqp_queue[VT_ADDR_LEN];       /* amqp.queue "vitals.collector" */
	char amqp_bindings[VT_ADDR_LEN];    /* amqp.bindings "#" (comma list) */
	size_t amqp_prefetch;               /* amqp.prefetch 256 messages */
	size_t amqp_max_body;               /* amqp.max_body 1048576 bytes */
	char amqp_hash_exchange[VT_ADDR_LEN]; /* amqp.hash_exchange "" = off */
	size_t amqp_hash_weight;            /* amqp.hash_weight 1 */
	double amqp_heartbeat;              /* amqp.heartbeat "30s" (0 = off) */
	double amqp_reconnect_min;          /* amqp.reconnect_min "500ms" */
	double amqp_reconnect_max;          /* amqp.reconnect_max "30s" */
	char amqp_ca_cert[VT_PATH_LEN];     /* amqp.ca_cert "" = system CAs */
	char amqp_cert[VT_PATH_LEN];        /* amqp.cert "" (client cert) */
	char amqp_key[VT_PATH_LEN];         /* amqp.key "" (client key) */
	int amqp_verify_peer;               /* amqp.verify_peer true */
	int amqp_verify_hostname;           /* amqp.verify_hostname true */

	/* relay mode (SPEC 9) */
	int relay_enabled;                  /* relay.enabled false (--relay) */
	size_t relay_batch_bytes;           /* relay.batch_bytes 65536 */
	double relay_batch_interval;        /* relay.batch_interval "1s" */
	size_t relay_buffer;                /* relay.buffer 67108864 bytes */

	/* fleet: sharded collectors share health (docs/amqp.md, "Fleet") */
	char fleet_exchange[VT_ADDR_LEN];   /* fleet.exchange "vitals.fleet";
	                                       "" = off */
	char fleet_name[128];               /* fleet.name "" = the hostname */
	char fleet_url[VT_ADDR_LEN];        /* fleet.url "" = http://host:port */
	double fleet_announce;              /* fleet.announce "5s" */

	/* Graphite output (exporters/graphite/graphite.h) */
	char graphite_address[VT_ADDR_LEN]; /* graphite.address "" = off;
	                                       host:port or host (2003) */
	char graphite_prefix[VT_ADDR_LEN];  /* graphite.prefix "stats" */
	char graphite_tags[16];             /* graphite.tags "graphite" or
	                                       "path" */
	size_t graphite_max_buffer;         /* graphite.max_buffer 16777216 */
	double graphite_timeout;            /* graphite.timeout "5s" */
	double graphite_reconnect_max;      /* graphite.reconnect_max "30s" */

	/* life cycle */
	double shutdown_timeout;            /* shutdown_timeout "10s": SIGTERM
	                                       ends within this, written or not */

	/* logging */
	int log_level;                      /* log.level "info" (enum vt_log_level) */
};

enum vt_config_outcome {
	VT_CONFIG_RUN = 0,   /* configured: go on */
	VT_CONFIG_EXIT_OK,   /* --help or --version printed: exit 0 */
	VT_CONFIG_ERROR      /* err holds one line: exit 2 */
};

/* Fill every field with its default. */
void vt_config_defaults(struct vt_config *cfg);

/*
 * The whole startup path: defaults, then the file named by -c (if any),
 * then the flags, then validation. --help/--version print to stdout.
 * On error writes one line ("vitalsd: FILE: KEY: what is wrong" or
 * "vitalsd: --flag: what is wrong") into err.
 */
enum vt_config_outcome vt_config_from_args(struct vt_config *cfg, int argc,
    char **argv, char *err, size_t errlen);

/* Every value checked against its key's type and range again (so a struct
 * filled by code is checked too), then the cross-field checks, e.g.
 * metric_ttl >= flush_interval. Run after file and flags. 0, or -1 with
 * err set. */
int vt_config_validate(const struct vt_config *cfg, char *err, size_t errlen);

/* The effective configuration as a JSON config document (what
 * --check-config shows): every key, http.token as "***" when set, the
 * password of amqp.url as "***". */
void vt_config_print(const struct vt_config *cfg, FILE *out);

/* The --help text: every flag with its default. */
void vt_config_usage(FILE *out);

#endif
