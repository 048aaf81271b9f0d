/*
 * config_keys.c - the configuration key table and the per-type code that
 * sets, checks and prints one key (see config_keys.h).
 *
 * Each setter parses its input into the field, then runs the same check
 * that vt_config_validate runs, so a bound is written once, in the table.
 * Nothing here allocates except through the caller's struct vt_buf.
 */
#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/log.h"
#include "collector/base/parse.h"
#include "collector/config/config_keys.h"

#define KIB 1024.0
#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * 1024.0 * 1024.0)
#define DAY 86400.0

/* Offset and size of a struct vt_config field. */
#define FIELD(f) offsetof(struct vt_config, f), \
	sizeof(((struct vt_config *)0)->f)

static const struct vt_cfg_key keys[] = {
	{ "statsd.listen", VT_CFG_ADDR, 0, 0, FIELD(statsd_listen),
	  "--statsd", "ADDR:PORT", "statsd listen address, UDP and TCP" },
	{ "statsd.udp", VT_CFG_BOOL, 0, 1, FIELD(statsd_udp),
	  NULL, NULL, "accept statsd datagrams over UDP" },
	{ "statsd.tcp", VT_CFG_BOOL, 0, 1, FIELD(statsd_tcp),
	  NULL, NULL, "accept statsd lines over TCP" },
	{ "statsd.udp_receive_buffer", VT_CFG_BYTES, 4096, GIB,
	  FIELD(udp_receive_buffer), NULL, NULL,
	  "UDP socket receive buffer in bytes (the kernel may cap it)" },
	{ "statsd.tcp_max_clients", VT_CFG_COUNT, 1, 65536,
	  FIELD(tcp_max_clients), NULL, NULL,
	  "TCP clients at once; more are refused" },
	{ "statsd.tcp_idle_timeout", VT_CFG_DURATION, 1, 7 * DAY,
	  FIELD(tcp_idle_timeout), NULL, NULL,
	  "close a TCP client silent for this long" },
	{ "flush_interval", VT_CFG_DURATION, 1, 3600, FIELD(flush_interval),
	  "--flush", "SECONDS", "aggregation window (a duration: 10, \"10s\")" },
	{ "metric_ttl", VT_CFG_DURATION, 1, 365 * DAY, FIELD(metric_ttl),
	  NULL, NULL, "forget a metric not received for this long" },
	{ "retire_after", VT_CFG_DURATION, 1, 3660 * DAY, FIELD(retire_after),
	  NULL, NULL, "pages and the API stop listing a metric not received "
	  "for this long (its files stay)" },
	{ "max_metrics", VT_CFG_COUNT, 1, 100000000, FIELD(max_metrics),
	  "--max-metrics", "N", "most live metrics; more new names are "
	  "dropped" },
	{ "self_metrics", VT_CFG_BOOL, 0, 1, FIELD(self_metrics),
	  NULL, NULL, "record the daemon's own counters as the service "
	  "vitals (its dashboard and RRD files)" },
	{ "percentiles", VT_CFG_PERCENTILES, 0, 100, FIELD(percentiles),
	  NULL, NULL, "timer and histogram percentiles, each in (0, 100)" },
	{ "prometheus.native_histograms", VT_CFG_BOOL, 0, 1,
	  FIELD(prom_native_histograms), NULL, NULL, "timers and histograms "
	  "keep native histograms, sent to scrapers that ask for protobuf" },
	{ "mapping_file", VT_CFG_STRING, 0, 0, FIELD(mapping_file),
	  NULL, NULL, "a statsd_exporter mapping file (YAML) whose rules map "
	  "names to series; \"\" = none" },
	{ "data_dir", VT_CFG_STRING, 1, 0, FIELD(data_dir),
	  "--data-dir", "DIR", "directory for RRD files and state" },
	{ "rrd.enabled", VT_CFG_BOOL, 0, 1, FIELD(rrd_enabled),
	  NULL, NULL, "write every closed window to RRD files" },
	{ "rrd.cached", VT_CFG_STRING, 0, 0, FIELD(rrd_cached),
	  NULL, NULL, "rrdcached address for updates (unix:/path, /path or "
	  "host:port); \"\" = write directly" },
	{ "rrd.queue", VT_CFG_COUNT, 1000, 100000000, FIELD(rrd_queue),
	  NULL, NULL, "most RRD updates waiting for the writer; windows "
	  "beyond are skipped and counted" },
	{ "rrd.points_per_range", VT_CFG_COUNT, 10, 100000, FIELD(rrd_points),
	  NULL, NULL, "RRD rows per archive range (1 day, 1 week, 1 month, "
	  "1 year; the 1-hour archive keeps one row per window) of new files" },
	{ "rrd.timer_stats", VT_CFG_STRING, 1, 0, FIELD(rrd_timer_stats),
	  NULL, NULL, "what a new timer or histogram file stores besides "
	  "its percentiles: some of count, rate, sum, mean, min, max, stddev "
	  "(mean is added when no percentile is configured)" },
	{ "rrd.counter_stats", VT_CFG_STRING, 1, 0, FIELD(rrd_counter_stats),
	  NULL, NULL, "what a new counter file stores: count, rate or both" },
	{ "rrd.max_archives", VT_CFG_BOOL, 0, 1, FIELD(rrd_max_archives),
	  NULL, NULL, "new files keep MAX archives (peaks the average hides) "
	  "beside AVERAGE for the ranges past the 1-hour one" },
	{ "rrd.retention", VT_CFG_DURATION, 3600, 3660 * DAY,
	  FIELD(rrd_retention), NULL, NULL, "how far back new files reach: "
	  "the ranges (1h, 1d, 1w, 31d) shorter than it, then one of its "
	  "length" },
	{ "rrd.write_delay", VT_CFG_DURATION, 0, 3600, FIELD(rrd_write_delay),
	  NULL, NULL, "how long direct writes hold a file's windows to write "
	  "them in one update (0 = every window; a kill -9 loses at most "
	  "this; with rrd.cached, rrdcached's -w does this)" },
	{ "rrd.create_rate", VT_CFG_COUNT, 0, 1000000, FIELD(rrd_create_rate),
	  NULL, NULL, "new RRD files created a second at most (0 = no bound); "
	  "files waiting hold their windows" },
	{ "health.save_interval", VT_CFG_DURATION, 1, DAY,
	  FIELD(health_save_interval), NULL, NULL,
	  "save healthcheck state to the data dir this often" },
	{ "health.max_checks", VT_CFG_COUNT, 1, 10000000,
	  FIELD(health_max_checks), NULL, NULL,
	  "most healthchecks kept; reports of new ones beyond are dropped" },
	{ "http.listen", VT_CFG_ADDR, 0, 0, FIELD(http_listen),
	  "--http", "ADDR:PORT", "HTTP address: dashboards, API, /metrics" },
	{ "http.token", VT_CFG_SECRET, 0, 0, FIELD(http_token),
	  NULL, NULL, "bearer token for HTTP writes; \"\" = loopback only" },
	{ "http.max_body", VT_CFG_BYTES, 1024, GIB, FIELD(http_max_body),
	  NULL, NULL, "largest HTTP request body in bytes" },
	{ "http.max_connections", VT_CFG_COUNT, 1, 65536,
	  FIELD(http_max_connections), NULL, NULL,
	  "HTTP connections at once" },
	{ "http.threads", VT_CFG_COUNT, 1, 64, FIELD(http_threads),
	  NULL, NULL, "HTTP server threads" },
	{ "http.max_connections_per_ip", VT_CFG_COUNT, 1, 65536,
	  FIELD(http_max_connections_per_ip), NULL, NULL,
	  "HTTP connections at once from one client address" },
	{ "http.timeout", VT_CFG_DURATION, 1, 3600, FIELD(http_timeout),
	  NULL, NULL, "close an HTTP connection idle this long (slow clients)" },
	{ "http.head_timeout", VT_CFG_DURATION, 1, 3600,
	  FIELD(http_head_timeout), NULL, NULL,
	  "close a connection whose request head is not whole this long "
	  "after it began (slow-loris), even if bytes trickle in" },
	{ "http.max_streams", VT_CFG_COUNT, 0, 65536, FIELD(http_max_streams),
	  NULL, NULL, "event streams (the wall's live updates) at once; 0 = "
	  "a quarter of http.max_connections" },
	{ "http.loopback_reserve", VT_CFG_COUNT, 0, 65536,
	  FIELD(http_loopback_reserve), NULL, NULL,
	  "connections past http.max_connections kept for loopback clients "
	  "(the local Prometheus, healthchecks); 0 = an eighth of it" },
	{ "http.tls_cert", VT_CFG_STRING, 0, 0, FIELD(http_tls_cert),
	  NULL, NULL, "PEM certificate file: serve HTTPS; \"\" = plain HTTP" },
	{ "http.tls_key", VT_CFG_STRING, 0, 0, FIELD(http_tls_key),
	  NULL, NULL, "PEM private key file for http.tls_cert" },
	{ "amqp.url", VT_CFG_URL, 0, 0, FIELD(amqp_url),
	  "--amqp", "URL", "AMQP broker, amqp[s]://user:pass@host/vhost; "
	  "\"\" = off" },
	{ "amqp.exchange", VT_CFG_STRING, 1, 0, FIELD(amqp_exchange),
	  NULL, NULL, "durable topic exchange services publish to" },
	{ "amqp.queue", VT_CFG_STRING, 1, 0, FIELD(amqp_queue),
	  NULL, NULL, "durable queue this collector consumes (one per "
	  "collector when sharing load)" },
	{ "amqp.bindings", VT_CFG_STRING, 1, 0, FIELD(amqp_bindings),
	  NULL, NULL, "routing keys binding the queue to the exchange, "
	  "comma-separated" },
	{ "amqp.prefetch", VT_CFG_COUNT, 1, 65535, FIELD(amqp_prefetch),
	  NULL, NULL, "unacknowledged messages in flight to this collector" },
	{ "amqp.max_body", VT_CFG_BYTES, 1024, 64 * MIB, FIELD(amqp_max_body),
	  NULL, NULL, "largest message body; larger ones are rejected" },
	{ "amqp.hash_exchange", VT_CFG_STRING, 0, 0,
	  FIELD(amqp_hash_exchange), NULL, NULL, "consistent-hash exchange "
	  "(hashing the service header) between amqp.exchange and the "
	  "queue; \"\" = bind the queue directly" },
	{ "amqp.hash_weight", VT_CFG_COUNT, 1, 1000, FIELD(amqp_hash_weight),
	  NULL, NULL, "this collector's share of the hash ring" },
	{ "amqp.heartbeat", VT_CFG_DURATION, 0, 3600, FIELD(amqp_heartbeat),
	  NULL, NULL, "AMQP heartbeat; 0 = off" },
	{ "amqp.reconnect_min", VT_CFG_DURATION, 0.01, 3600,
	  FIELD(amqp_reconnect_min), NULL, NULL,
	  "first reconnect delay; doubles (with jitter) per failure" },
	{ "amqp.reconnect_max", VT_CFG_DURATION, 0.01, 3600,
	  FIELD(amqp_reconnect_max), NULL, NULL, "longest reconnect delay" },
	{ "amqp.ca_cert", VT_CFG_STRING, 0, 0, FIELD(amqp_ca_cert),
	  NULL, NULL, "amqps: CA certificate file (PEM) to verify the broker" },
	{ "amqp.cert", VT_CFG_STRING, 0, 0, FIELD(amqp_cert),
	  NULL, NULL, "amqps: client certificate file (PEM)" },
	{ "amqp.key", VT_CFG_STRING, 0, 0, FIELD(amqp_key),
	  NULL, NULL, "amqps: client private key file (PEM)" },
	{ "amqp.verify_peer", VT_CFG_BOOL, 0, 1, FIELD(amqp_verify_peer),
	  NULL, NULL, "amqps: verify the broker's certificate chain" },
	{ "amqp.verify_hostname", VT_CFG_BOOL, 0, 1,
	  FIELD(amqp_verify_hostname), NULL, NULL,
	  "amqps: check the certificate names the broker host" },
	{ "relay.enabled", VT_CFG_BOOL, 0, 1, FIELD(relay_enabled),
	  "--relay", "", "relay mode: forward statsd and checks to "
	  "amqp.exchange instead of aggregating" },
	{ "relay.batch_bytes", VT_CFG_BYTES, 512, 8 * MIB,
	  FIELD(relay_batch_bytes), NULL, NULL,
	  "relay: a batch is published when it reaches this size" },
	{ "relay.batch_interval", VT_CFG_DURATION, 0.01, 60,
	  FIELD(relay_batch_interval), NULL, NULL,
	  "relay: ... or when its first line is this old" },
	{ "relay.buffer", VT_CFG_BYTES, 64 * KIB, 16 * GIB, FIELD(relay_buffer),
	  NULL, NULL, "relay: batches waiting for the broker or its confirm; "
	  "beyond, new batches are dropped and counted" },
	{ "fleet.exchange", VT_CFG_STRING, 0, 0, FIELD(fleet_exchange),
	  NULL, NULL, "with amqp.hash_exchange: fanout exchange collectors "
	  "share checks and announcements on; \"\" = no fleet" },
	{ "fleet.name", VT_CFG_STRING, 0, 0, FIELD(fleet_name), NULL, NULL,
	  "this collector's name in the fleet; \"\" = the hostname" },
	{ "fleet.url", VT_CFG_STRING, 0, 0, FIELD(fleet_url), NULL, NULL,
	  "URL other collectors send browsers to for this one's metrics; "
	  "\"\" = http://<hostname>:<http port>" },
	{ "fleet.announce", VT_CFG_DURATION, 0.1, 3600, FIELD(fleet_announce),
	  NULL, NULL, "how often this collector announces itself; one not "
	  "heard for 3 of these is shown gone" },
	{ "graphite.address", VT_CFG_STRING, 0, 0, FIELD(graphite_address),
	  NULL, NULL, "carbon's plaintext receiver, host:port or host (port "
	  "2003): send every window there; \"\" = off" },
	{ "graphite.prefix", VT_CFG_STRING, 0, 0, FIELD(graphite_prefix),
	  NULL, NULL, "first path components of every Graphite line "
	  "([A-Za-z0-9_-] and dots); \"\" = none" },
	{ "graphite.tags", VT_CFG_STRING, 1, 0, FIELD(graphite_tags),
	  NULL, NULL, "tags as Graphite tags (\"graphite\": path;k=v) or "
	  "folded into the path (\"path\": .k.v)" },
	{ "graphite.max_buffer", VT_CFG_BYTES, 1024, 16 * GIB,
	  FIELD(graphite_max_buffer), NULL, NULL, "bytes of lines waiting "
	  "for carbon; windows beyond are dropped and counted" },
	{ "graphite.timeout", VT_CFG_DURATION, 0.1, 3600,
	  FIELD(graphite_timeout), NULL, NULL,
	  "give up a connection attempt or a stalled write after this long" },
	{ "graphite.reconnect_max", VT_CFG_DURATION, 0.25, 3600,
	  FIELD(graphite_reconnect_max), NULL, NULL, "longest wait between "
	  "connection attempts (from 250ms, doubling with jitter)" },
	{ "shutdown_timeout", VT_CFG_DURATION, 1, 3600,
	  FIELD(shutdown_timeout), NULL, NULL,
	  "after SIGTERM, stop waiting for storage and hooks after this "
	  "long; what was not written is logged" },
	{ "log.level", VT_CFG_LOG_LEVEL, VT_LOG_DEBUG, VT_LOG_ERROR,
	  FIELD(log_level), "--log-level", "LEVEL",
	  "lowest level logged: debug, info, warn, error" },
};

#define NKEYS (sizeof keys / sizeof keys[0])

const struct vt_cfg_key *vt_config_keys_table(size_t *count)
{
	*count = NKEYS;
	return keys;
}

const struct vt_cfg_key *vt_config_keys_find(const char *path)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

const struct vt_cfg_key *vt_config_keys_by_flag(const char *flag)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].flag && strcmp(keys[i].flag, flag) == 0)
			return &keys[i];
	return NULL;
}

int vt_config_keys_is_section(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < NKEYS; i++)
		if (strncmp(keys[i].path, path, n) == 0 &&
		    keys[i].path[n] == '.')
			return 1;
	return 0;
}

/* The field of key k in cfg. */
static void *field(const struct vt_cfg_key *k, struct vt_config *cfg)
{
	return (char *)cfg + k->offset;
}

static const void *cfield(const struct vt_cfg_key *k,
    const struct vt_config *cfg)
{
	return (const char *)cfg + k->offset;
}

/* User text for a message: quoted, at most 40 bytes of it, control bytes
 * as '?', so the error stays one short line. outlen must be >= 16. */
static const char *quote(const char *text, char *out, size_t outlen)
{
	size_t max = outlen - 6 < 40 ? outlen - 6 : 40;
	size_t n = 0, i;
	out[n++] = '"';
	for (i = 0; text[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)text[i];
		out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (text[i] != '\0') {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

const char *vt_config_keys_json_type(const struct cJSON *v)
{
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "an invalid value";
}

/* A bound or value of a numeric key as text: "1h" for durations. */
static const char *number_text(const struct vt_cfg_key *k, double v,
    char *out, size_t outlen)
{
	if (k->type == VT_CFG_DURATION) {
		struct vt_buf b;
		vt_buf_init(&b);
		vt_parse_format_duration(v, &b);
		snprintf(out, outlen, "%s", b.data);
		vt_buf_fini(&b);
	} else if (v == floor(v) && fabs(v) < 1e18) {
		snprintf(out, outlen, "%.0f", v);
	} else {
		snprintf(out, outlen, "%g", v);
	}
	return out;
}

static int range_ok(const struct vt_cfg_key *k, double v, char *why,
    size_t whylen)
{
	char lo[64], hi[64], got[64];
	if (isfinite(v) && v >= k->min && v <= k->max)
		return 0;
	snprintf(why, whylen, "must be between %s and %s, got %s",
	    number_text(k, k->min, lo, sizeof lo),
	    number_text(k, k->max, hi, sizeof hi),
	    number_text(k, v, got, sizeof got));
	return -1;
}

static int check_url(const char *url, char *why, size_t whylen)
{
	if (url[0] == '\0' || strncmp(url, "amqp://", 7) == 0 ||
	    strncmp(url, "amqps://", 8) == 0)
		return 0;
	snprintf(why, whylen, "expected an amqp:// or amqps:// URL");
	return -1;
}

static int check_percentiles(const struct vt_config *cfg, char *why,
    size_t whylen)
{
	if (cfg->npercentiles > VT_MAX_PERCENTILES) {
		snprintf(why, whylen, "at most %d percentiles, got %zu",
		    VT_MAX_PERCENTILES, cfg->npercentiles);
		return -1;
	}
	for (size_t i = 0; i < cfg->npercentiles; i++) {
		double p = cfg->percentiles[i];
		if (!(p > 0 && p < 100)) {
			snprintf(why, whylen, "percentile %g is not between 0 "
			    "and 100 (exclusive)", p);
			return -1;
		}
		if (i > 0 && p == cfg->percentiles[i - 1]) {
			snprintf(why, whylen, "percentile %g is listed twice",
			    p);
			return -1;
		}
		if (i > 0 && p < cfg->percentiles[i - 1]) {
			snprintf(why, whylen, "must be in ascending order");
			return -1;
		}
	}
	return 0;
}

int vt_config_keys_check(const struct vt_cfg_key *k,
    const struct vt_config *cfg, char *why, size_t whylen)
{
	const void *f = cfield(k, cfg);
	char host[VT_ADDR_LEN], q[64];
	int port;

	switch (k->type) {
	case VT_CFG_STRING:
	case VT_CFG_SECRET:
	case VT_CFG_URL:
	case VT_CFG_ADDR: {
		size_t len = strnlen(f, k->size);
		if (len == k->size) {
			snprintf(why, whylen, "longer than %zu bytes",
			    k->size - 1);
			return -1;
		}
		if ((double)len < k->min) {
			snprintf(why, whylen, "must not be empty");
			return -1;
		}
		if (k->type == VT_CFG_URL)
			return check_url(f, why, whylen);
		if (k->type == VT_CFG_ADDR && vt_parse_addr(f, host,
		    sizeof host, &port) < 0) {
			snprintf(why, whylen, "expected host:port such as "
			    "\"0.0.0.0:8125\", got %s", quote(f, q, sizeof q));
			return -1;
		}
		return 0;
	}
	case VT_CFG_BOOL:
	case VT_CFG_LOG_LEVEL: {
		int v = *(const int *)f;
		if (v < k->min || v > k->max) {
			snprintf(why, whylen, "invalid value %d", v);
			return -1;
		}
		return 0;
	}
	case VT_CFG_COUNT:
	case VT_CFG_BYTES:
		return range_ok(k, (double)*(const size_t *)f, why, whylen);
	case VT_CFG_DURATION:
		return range_ok(k, *(const double *)f, why, whylen);
	case VT_CFG_PERCENTILES:
		return check_percentiles(cfg, why, whylen);
	}
	snprintf(why, whylen, "unknown key type");
	return -1;
}

/* Store a number into a numeric key, checking wholeness and bounds. */
static int set_number(const struct vt_cfg_key *k, struct vt_config *cfg,
    double v, char *why, size_t whylen)
{
	if (k->type != VT_CFG_DURATION && isfinite(v) && v != floor(v)) {
		snprintf(why, whylen, "expected a whole number, got %g", v);
		return -1;
	}
	if (range_ok(k, v, why, whylen) < 0)
		return -1;
	if (k->type == VT_CFG_DURATION)
		*(double *)field(k, cfg) = v;
	else
		*(size_t *)field(k, cfg) = (size_t)v;
	return 0;
}

/* "123", or for byte sizes also "64KiB", "32MiB", "1GiB", "512B". */
static int parse_count(const char *text, int bytes, double *out)
{
	static const struct { const char *suffix; double mult; } units[] = {
		{ "B", 1 }, { "KiB", KIB }, { "MiB", MIB }, { "GiB", GIB },
	};
	size_t n = 0;
	while (text[n] >= '0' && text[n] <= '9')
		n++;
	if (n == 0 || n > 30)
		return -1;
	double v = strtod(text, NULL);
	if (text[n] == '\0') {
		*out = v;
		return 0;
	}
	for (size_t i = 0; bytes && i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(text + n, units[i].suffix) == 0) {
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

static void set_percentiles(struct vt_config *cfg, const double *ps,
    size_t n)
{
	memset(cfg->percentiles, 0, sizeof cfg->percentiles);
	cfg->npercentiles = n;
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		while (j > 0 && cfg->percentiles[j - 1] > ps[i]) {
			cfg->percentiles[j] = cfg->percentiles[j - 1];
			j--;
		}
		cfg->percentiles[j] = ps[i];
	}
}

static int parse_bool(const char *text)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(text, yes[i]) == 0)
			return 1;
		if (strcmp(text, no[i]) == 0)
			return 0;
	}
	return -1;
}

int vt_config_keys_set_text(const struct vt_cfg_key *k, struct vt_config *cfg,
    const char *text, char *why, size_t whylen)
{
	char q[64];
	double v;

	switch (k->type) {
	case VT_CFG_STRING:
	case VT_CFG_SECRET:
	case VT_CFG_URL:
	case VT_CFG_ADDR: {
		size_t len = strlen(text);
		if (len >= k->size) {
			snprintf(why, whylen, "longer than %zu bytes",
			    k->size - 1);
			return -1;
		}
		memset(field(k, cfg), 0, k->size);
		memcpy(field(k, cfg), text, len);
		return vt_config_keys_check(k, cfg, why, whylen);
	}
	case VT_CFG_BOOL: {
		int b = parse_bool(text);
		if (b < 0) {
			snprintf(why, whylen, "expected true or false, got %s",
			    quote(text, q, sizeof q));
			return -1;
		}
		*(int *)field(k, cfg) = b;
		return 0;
	}
	case VT_CFG_LOG_LEVEL: {
		int level = vt_log_level_parse(text);
		if (level < 0) {
			snprintf(why, whylen, "expected one of debug, info, "
			    "warn, error, got %s", quote(text, q, sizeof q));
			return -1;
		}
		*(int *)field(k, cfg) = level;
		return 0;
	}
	case VT_CFG_COUNT:
	case VT_CFG_BYTES:
		if (parse_count(text, k->type == VT_CFG_BYTES, &v) < 0) {
			snprintf(why, whylen,
			    "expected a whole number%s, got %s",
			    k->type == VT_CFG_BYTES ? " of bytes (or with KiB, "
			    "MiB, GiB)" : "", quote(text, q, sizeof q));
			return -1;
		}
		return set_number(k, cfg, v, why, whylen);
	case VT_CFG_DURATION:
		if (vt_parse_duration(text, &v) < 0) {
			snprintf(why, whylen, "expected a duration such as "
			    "\"10s\", got %s", quote(text, q, sizeof q));
			return -1;
		}
		return set_number(k, cfg, v, why, whylen);
	case VT_CFG_PERCENTILES:   /* a JSON array only */
		snprintf(why, whylen, "expected an array of numbers such as "
		    "[50, 90, 99]");
		return -1;
	}
	snprintf(why, whylen, "unknown key type");
	return -1;
}

static int set_json_percentiles(struct vt_config *cfg, const cJSON *v,
    char *why, size_t whylen)
{
	double ps[VT_MAX_PERCENTILES];
	size_t n = 0;
	const cJSON *item;

	if (!cJSON_IsArray(v)) {
		snprintf(why, whylen, "expected an array of numbers such as "
		    "[50, 90, 99], got %s", vt_config_keys_json_type(v));
		return -1;
	}
	int size = cJSON_GetArraySize(v);
	if (size > VT_MAX_PERCENTILES) {
		snprintf(why, whylen, "at most %d percentiles, got %d",
		    VT_MAX_PERCENTILES, size);
		return -1;
	}
	cJSON_ArrayForEach(item, v) {
		if (!cJSON_IsNumber(item)) {
			snprintf(why, whylen, "expected an array of numbers, "
			    "got %s in it", vt_config_keys_json_type(item));
			return -1;
		}
		ps[n++] = item->valuedouble;
	}
	set_percentiles(cfg, ps, n);
	return check_percentiles(cfg, why, whylen);
}

int vt_config_keys_set_json(const struct vt_cfg_key *k, struct vt_config *cfg,
    const struct cJSON *v, char *why, size_t whylen)
{
	switch (k->type) {
	case VT_CFG_BOOL:
		if (!cJSON_IsBool(v))
			break;
		*(int *)field(k, cfg) = cJSON_IsTrue(v) ? 1 : 0;
		return 0;
	case VT_CFG_COUNT:
	case VT_CFG_BYTES:
	case VT_CFG_DURATION:
		if (cJSON_IsNumber(v)) {
			if (!(v->valuedouble >= 0)) {
				snprintf(why, whylen, "must not be negative");
				return -1;
			}
			return set_number(k, cfg, v->valuedouble, why, whylen);
		}
		if (k->type == VT_CFG_COUNT || !cJSON_IsString(v))
			break;
		return vt_config_keys_set_text(k, cfg, v->valuestring, why,
		    whylen);
	case VT_CFG_PERCENTILES:
		return set_json_percentiles(cfg, v, why, whylen);
	case VT_CFG_STRING:
	case VT_CFG_SECRET:
	case VT_CFG_URL:
	case VT_CFG_ADDR:
	case VT_CFG_LOG_LEVEL:
		if (!cJSON_IsString(v))
			break;
		return vt_config_keys_set_text(k, cfg, v->valuestring, why,
		    whylen);
	}

	/* Wrong JSON type. */
	const char *want = "a string";
	if (k->type == VT_CFG_BOOL)
		want = "true or false";
	else if (k->type == VT_CFG_COUNT)
		want = "a whole number";
	else if (k->type == VT_CFG_BYTES)
		want = "a number of bytes";
	else if (k->type == VT_CFG_DURATION)
		want = "a duration such as \"10s\"";
	snprintf(why, whylen, "expected %s, got %s", want,
	    vt_config_keys_json_type(v));
	return -1;
}

/* Append s as a JSON string literal. */
static void put_json_string(struct vt_buf *out, const char *s)
{
	vt_buf_putc(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			vt_buf_printf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			vt_buf_printf(out, "\\u%04x", c);
		else
			vt_buf_putc(out, (char)c);
	}
	vt_buf_putc(out, '"');
}

/* The URL with the password of its userinfo replaced by "***". */
static void put_masked_url(struct vt_buf *out, const char *url)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_buf_puts(&b, url);
	const char *scheme = strstr(url, "://");
	if (scheme != NULL) {
		size_t start = (size_t)(scheme - url) + 3;
		size_t end = start + strcspn(url + start, "/?#");
		size_t at = end;
		while (at > start && url[at - 1] != '@')
			at--;
		if (at > start) {
			const char *colon = memchr(url + start, ':',
			    at - 1 - start);
			if (colon != NULL) {
				size_t c = (size_t)(colon - url) + 1;
				vt_buf_reset(&b);
				vt_buf_append(&b, url, c);
				vt_buf_puts(&b, "***");
				vt_buf_puts(&b, url + at - 1);
			}
		}
	}
	put_json_string(out, b.data);
	vt_buf_fini(&b);
}

void vt_config_keys_format(const struct vt_cfg_key *k,
    const struct vt_config *cfg, int masked, struct vt_buf *out)
{
	const void *f = cfield(k, cfg);

	switch (k->type) {
	case VT_CFG_SECRET:
		if (masked && ((const char *)f)[0] != '\0') {
			put_json_string(out, "***");
			break;
		}
		put_json_string(out, f);
		break;
	case VT_CFG_URL:
		if (masked)
			put_masked_url(out, f);
		else
			put_json_string(out, f);
		break;
	case VT_CFG_STRING:
	case VT_CFG_ADDR:
		put_json_string(out, f);
		break;
	case VT_CFG_BOOL:
		vt_buf_puts(out, *(const int *)f ? "true" : "false");
		break;
	case VT_CFG_COUNT:
	case VT_CFG_BYTES:
		vt_buf_printf(out, "%zu", *(const size_t *)f);
		break;
	case VT_CFG_DURATION:
		vt_buf_putc(out, '"');
		vt_parse_format_duration(*(const double *)f, out);
		vt_buf_putc(out, '"');
		break;
	case VT_CFG_PERCENTILES:
		vt_buf_putc(out, '[');
		for (size_t i = 0; i < cfg->npercentiles &&
		    i < VT_MAX_PERCENTILES; i++) {
			if (i > 0)
				vt_buf_puts(out, ", ");
			vt_buf_put_double(out, cfg->percentiles[i]);
		}
		vt_buf_putc(out, ']');
		break;
	case VT_CFG_LOG_LEVEL:
		put_json_string(out,
		    vt_log_level_name((enum vt_log_level)*(const int *)f));
		break;
	}
}

const char *vt_config_keys_shown(const char *s, char *out, size_t outlen)
{
	size_t n = 0;
	for (; *s && n + 4 < outlen && n < VT_CFG_SHOWN_MAX; s++) {
		unsigned char c = (unsigned char)*s;
		out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (*s)
		for (int i = 0; i < 3; i++)
			out[n++] = '.';
	out[n] = '\0';
	return out;
}

void vt_config_keys_error(char *err, size_t errlen, const char *file,
    const char *key, const char *fmt, ...)
{
	char what[VT_CFG_WHY_LEN + 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "vitalsd: %s%s%s%s%s", file ? file : "",
	    file ? ": " : "", key ? key : "", key ? ": " : "", what);
}
