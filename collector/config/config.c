/*
 * config.c - vitalsd's startup path (see config.h): defaults, command-line
 * flags over the config file (config_json.c), validation, duration and
 * address syntax, --help and the --check-config printout.
 *
 * Every key's type, bounds and flag come from the table in config_keys.c;
 * this file walks argv and the table and turns "what is wrong" into the
 * one-line error "vitalsd: FILE: KEY: what". Nothing here logs or exits:
 * main.c decides. No state outside the caller's struct vt_config.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/buf.h"
#include "collector/base/log.h"
#include "collector/base/parse.h"
#include "collector/config/config.h"
#include "collector/config/config_json.h"
#include "collector/config/config_keys.h"

#ifndef VT_VERSION
#define VT_VERSION "dev"
#endif

static const struct vt_config defaults = {
	.config_file = "",
	.check_config = 0,
	.statsd_listen = "0.0.0.0:8125",
	.statsd_udp = 1,
	.statsd_tcp = 1,
	.udp_receive_buffer = 33554432,
	.tcp_max_clients = 1024,
	.tcp_idle_timeout = 300,
	.flush_interval = 10,
	.metric_ttl = 3600,
	.retire_after = 7 * 86400,
	.max_metrics = 100000,
	.self_metrics = 1,
	.prom_native_histograms = 1,
	.npercentiles = 4,
	.percentiles = { 50, 90, 95, 99 },
	.data_dir = "./vitals-data",
	.rrd_enabled = 1,
	.rrd_cached = "",
	.rrd_queue = 1000000,
	.rrd_points = 500,
	.rrd_timer_stats = "count,rate",
	.rrd_counter_stats = "count,rate",
	.rrd_max_archives = 1,
	.rrd_retention = 366 * 86400.0,
	.rrd_write_delay = 30,
	.rrd_create_rate = 500,
	.health_save_interval = 10,
	.health_max_checks = 100000,
	.http_listen = "0.0.0.0:8080",
	.http_token = "",
	.http_max_body = 1048576,
	.http_max_connections = 256,
	.http_threads = 2,
	.http_max_connections_per_ip = 64,
	.http_timeout = 30,
	.http_head_timeout = 10,
	.http_tls_cert = "",
	.http_tls_key = "",
	.amqp_url = "",
	.amqp_exchange = "vitals",
	.amqp_queue = "vitals.collector",
	.amqp_bindings = "#",
	.amqp_prefetch = 256,
	.amqp_max_body = 1048576,
	.amqp_hash_exchange = "",
	.amqp_hash_weight = 1,
	.amqp_heartbeat = 30,
	.amqp_reconnect_min = 0.5,
	.amqp_reconnect_max = 30,
	.amqp_ca_cert = "",
	.amqp_cert = "",
	.amqp_key = "",
	.amqp_verify_peer = 1,
	.amqp_verify_hostname = 1,
	.relay_enabled = 0,
	.relay_batch_bytes = 65536,
	.relay_batch_interval = 1,
	.relay_buffer = 67108864,
	.fleet_exchange = "vitals.fleet",
	.fleet_name = "",
	.fleet_url = "",
	.fleet_announce = 5,
	.graphite_address = "",
	.graphite_prefix = "stats",
	.graphite_tags = "graphite",
	.graphite_max_buffer = 16777216,
	.graphite_timeout = 5,
	.graphite_reconnect_max = 30,
	.shutdown_timeout = 10,
	.log_level = VT_LOG_INFO,
};

void vt_config_defaults(struct vt_config *cfg)
{
	*cfg = defaults;
}

/* "0.0.0.0" for an empty host, so ":8080" and "0.0.0.0:8080" compare. */
static void addr_key(const char *addr, char *host, size_t hostlen, int *port)
{
	if (vt_parse_addr(addr, host, hostlen, port) < 0) {
		host[0] = '\0';
		*port = -1;
	}
	if (host[0] == '\0')
		snprintf(host, hostlen, "0.0.0.0");
}

/* key (a duration) must be at least the duration of key `lower`. */
static int duration_at_least(const char *file, const char *key, double v,
    const char *lower, double min, char *err, size_t errlen)
{
	if (v >= min)
		return 0;
	struct vt_buf a, b;
	vt_buf_init(&a);
	vt_buf_init(&b);
	vt_parse_format_duration(min, &a);
	vt_parse_format_duration(v, &b);
	vt_config_keys_error(err, errlen, file, key, "must be at least %s "
	    "(%s), got %s", lower, a.data, b.data);
	vt_buf_fini(&a);
	vt_buf_fini(&b);
	return -1;
}

/* rrd.timer_stats, rrd.counter_stats: names from `allowed` (a list
 * separated by spaces), separated by commas or spaces, at least one. The
 * storage parses them again (rrd_layout.c); this is the same check, here
 * so that --check-config and a SIGHUP see it. */
static int stats_ok(const char *file, const char *key, const char *text,
    const char *allowed, char *err, size_t errlen)
{
	int n = 0;
	for (const char *p = text; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		if (len == 0)
			break;
		const char *a = allowed;
		int found = 0;
		while (*a && !found) {
			size_t alen = strcspn(a, " ");
			found = alen == len && strncmp(a, p, len) == 0;
			a += alen + (a[alen] == ' ');
		}
		if (!found) {
			vt_config_keys_error(err, errlen, file, key,
			    "unknown statistic \"%.*s\" (expected some of: "
			    "%s)", (int)(len > 32 ? 32 : len), p, allowed);
			return -1;
		}
		n++;
		p += len;
	}
	if (n == 0) {
		vt_config_keys_error(err, errlen, file, key, "name at least "
		    "one of: %s", allowed);
		return -1;
	}
	return 0;
}

/* fleet.name: a label value and a header (letters, digits, . _ -);
 * fleet.url: http(s)://, no whitespace or quotes. */
static int fleet_ok(const char *file, const struct vt_config *cfg, char *err,
    size_t errlen)
{
	if (strlen(cfg->fleet_name) > 64) {
		vt_config_keys_error(err, errlen, file, "fleet.name",
		    "at most 64 bytes");
		return -1;
	}
	for (const char *p = cfg->fleet_name; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' &&
		    *p != '-') {
			vt_config_keys_error(err, errlen, file, "fleet.name",
			    "only letters, digits, '.', '_' and '-'");
			return -1;
		}
	}
	const char *u = cfg->fleet_url;
	if (u[0] == '\0')
		return 0;
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
		vt_config_keys_error(err, errlen, file, "fleet.url",
		    "must start with http:// or https://");
		return -1;
	}
	for (const char *p = u; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' ||
		    *p == 0x7f) {
			vt_config_keys_error(err, errlen, file, "fleet.url",
			    "no spaces, quotes or control characters");
			return -1;
		}
	}
	return 0;
}

/* The graphite keys whose syntax the table cannot say: the address
 * (port optional), the prefix's alphabet, the tag style. */
static int graphite_ok(const char *file, const struct vt_config *cfg,
    char *err, size_t errlen)
{
	char host[VT_ADDR_LEN], q[VT_CFG_SHOWN_MAX + 8];
	int port;
	const char *a = cfg->graphite_address, *p = cfg->graphite_prefix;
	if (a[0] != '\0' && vt_parse_addr_default(a, 2003, host, sizeof host,
	    &port) < 0) {
		vt_config_keys_error(err, errlen, file, "graphite.address",
		    "expected host:port or host (port 2003) such as "
		    "\"carbon:2003\", got \"%s\"",
		    vt_config_keys_shown(a, q, sizeof q));
		return -1;
	}
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-.");
	if (p[n] != '\0' || p[0] == '.' || (n > 0 && p[n - 1] == '.') ||
	    strstr(p, "..") != NULL) {
		vt_config_keys_error(err, errlen, file, "graphite.prefix",
		    "expected dot-separated components of A-Z a-z 0-9 _ - "
		    "such as \"stats\", got \"%s\"",
		    vt_config_keys_shown(p, q, sizeof q));
		return -1;
	}
	if (strcmp(cfg->graphite_tags, "graphite") != 0 &&
	    strcmp(cfg->graphite_tags, "path") != 0) {
		vt_config_keys_error(err, errlen, file, "graphite.tags",
		    "expected \"graphite\" (path;k=v) or \"path\" (.k.v), "
		    "got \"%s\"", vt_config_keys_shown(cfg->graphite_tags, q,
		    sizeof q));
		return -1;
	}
	return 0;
}

int vt_config_validate(const struct vt_config *cfg, char *err, size_t errlen)
{
	const char *file = cfg->config_file[0] ? cfg->config_file : NULL;
	char why[VT_CFG_WHY_LEN];
	size_t nkeys;
	const struct vt_cfg_key *keys = vt_config_keys_table(&nkeys);

	for (size_t i = 0; i < nkeys; i++) {
		if (vt_config_keys_check(&keys[i], cfg, why, sizeof why) < 0) {
			vt_config_keys_error(err, errlen, file, keys[i].path,
			    "%s", why);
			return -1;
		}
	}
	if (duration_at_least(file, "metric_ttl", cfg->metric_ttl,
	    "flush_interval", cfg->flush_interval, err, errlen) < 0 ||
	    duration_at_least(file, "retire_after", cfg->retire_after,
	    "metric_ttl", cfg->metric_ttl, err, errlen) < 0)
		return -1;
	if (stats_ok(file, "rrd.timer_stats", cfg->rrd_timer_stats,
	    "count rate sum mean min max stddev", err, errlen) < 0 ||
	    stats_ok(file, "rrd.counter_stats", cfg->rrd_counter_stats,
	    "count rate", err, errlen) < 0)
		return -1;
	if ((cfg->http_tls_cert[0] == '\0') != (cfg->http_tls_key[0] == '\0')) {
		vt_config_keys_error(err, errlen, file, cfg->http_tls_cert[0] ?
		    "http.tls_key" : "http.tls_cert",
		    "http.tls_cert and http.tls_key go together");
		return -1;
	}
	if (cfg->relay_enabled && cfg->amqp_url[0] == '\0') {
		vt_config_keys_error(err, errlen, file, "relay.enabled",
		    "relay mode needs amqp.url (--amqp URL)");
		return -1;
	}
	if (cfg->relay_buffer < cfg->relay_batch_bytes) {
		vt_config_keys_error(err, errlen, file, "relay.buffer",
		    "must hold at least one batch (relay.batch_bytes, %zu)",
		    cfg->relay_batch_bytes);
		return -1;
	}
	if (fleet_ok(file, cfg, err, errlen) < 0)
		return -1;
	if (graphite_ok(file, cfg, err, errlen) < 0)
		return -1;
	if (cfg->amqp_reconnect_max < cfg->amqp_reconnect_min) {
		vt_config_keys_error(err, errlen, file, "amqp.reconnect_max",
		    "must be at least amqp.reconnect_min");
		return -1;
	}
	char h1[VT_ADDR_LEN], h2[VT_ADDR_LEN];
	int p1, p2;
	addr_key(cfg->statsd_listen, h1, sizeof h1, &p1);
	addr_key(cfg->http_listen, h2, sizeof h2, &p2);
	if (cfg->statsd_tcp && p1 > 0 && p1 == p2 && strcmp(h1, h2) == 0) {
		vt_config_keys_error(err, errlen, file, "http.listen",
		    "same TCP address as statsd.listen (%s)",
		    cfg->statsd_listen);
		return -1;
	}
	return 0;
}

void vt_config_print(const struct vt_config *cfg, FILE *out)
{
	struct vt_buf b;
	size_t nkeys, open_len = 0;
	const struct vt_cfg_key *keys = vt_config_keys_table(&nkeys);
	const char *open = NULL;   /* the open section, keys of one level */
	int first = 1, first_in = 1;

	vt_buf_init(&b);
	vt_buf_putc(&b, '{');
	for (size_t i = 0; i < nkeys; i++) {
		const char *path = keys[i].path, *dot = strchr(path, '.');
		size_t sec_len = dot ? (size_t)(dot - path) : 0;
		if (open && (sec_len != open_len ||
		    strncmp(open, path, sec_len) != 0)) {
			vt_buf_puts(&b, "\n\t}");
			open = NULL;
		}
		if (sec_len > 0 && open == NULL) {
			vt_buf_printf(&b, "%s\n\t\"%.*s\": {", first ? "" : ",",
			    (int)sec_len, path);
			open = path;
			open_len = sec_len;
			first = 0;
			first_in = 1;
		}
		if (open) {
			vt_buf_printf(&b, "%s\n\t\t\"%s\": ",
			    first_in ? "" : ",", dot + 1);
			first_in = 0;
		} else {
			vt_buf_printf(&b, "%s\n\t\"%s\": ", first ? "" : ",",
			    path);
			first = 0;
		}
		vt_config_keys_format(&keys[i], cfg, 1, &b);
	}
	if (open)
		vt_buf_puts(&b, "\n\t}");
	vt_buf_puts(&b, "\n}\n");
	fputs(b.data, out);
	vt_buf_fini(&b);
}

void vt_config_usage(FILE *out)
{
	struct vt_buf b, v;
	size_t nkeys;
	const struct vt_cfg_key *keys = vt_config_keys_table(&nkeys);
	struct vt_config def;

	vt_config_defaults(&def);
	vt_buf_init(&b);
	vt_buf_init(&v);
	vt_buf_puts(&b, "usage: vitalsd [-c FILE]");
	size_t col = b.len;
	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i].flag == NULL)
			continue;
		size_t w = strlen(keys[i].flag) + strlen(keys[i].metavar) + 4;
		if (col + w > 78) {
			vt_buf_puts(&b, "\n              ");
			col = 14;
		}
		vt_buf_printf(&b, " [%s%s%s]", keys[i].flag,
		    keys[i].metavar[0] ? " " : "", keys[i].metavar);
		col += w;
	}
	vt_buf_puts(&b, "\n               [--check-config] [--version] "
	    "[--help]\n\n");
	vt_buf_printf(&b, "  %-24s %s\n  %-24s (default none)\n",
	    "-c, --config FILE", "JSON config file, // comments allowed", "");
	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i].flag == NULL)
			continue;
		char left[64];
		snprintf(left, sizeof left, "%s%s%s", keys[i].flag,
		    keys[i].metavar[0] ? " " : "", keys[i].metavar);
		vt_buf_reset(&v);
		vt_config_keys_format(&keys[i], &def, 1, &v);
		const char *dv = v.data;
		if (v.len > 2 && dv[0] == '"') {
			v.data[v.len - 1] = '\0';
			dv++;
		}
		vt_buf_printf(&b, "  %-24s %s\n  %-24s (default %s; config "
		    "key %s)\n", left, keys[i].help, "", dv, keys[i].path);
	}
	vt_buf_printf(&b, "  %-24s %s\n", "--check-config",
	    "check the configuration, print it and exit");
	vt_buf_printf(&b, "  %-24s %s\n", "--version", "print the version "
	    "and exit");
	vt_buf_printf(&b, "  %-24s %s\n", "-h, --help", "print this help "
	    "and exit");
	vt_buf_puts(&b, "\nFlags take \"--flag value\" or \"--flag=value\" and "
	    "override the config file.\nDurations: a number of seconds or "
	    "\"250ms\", \"30s\", \"5m\", \"26h\", \"7d\", \"2w\".\n"
	    "Every key and its default: the annotated vitals.example.json.\n");
	fputs(b.data, out);
	vt_buf_fini(&v);
	vt_buf_fini(&b);
}

/* The flags that are not keys. */
enum arg_kind { ARG_KEY, ARG_CONFIG, ARG_CHECK, ARG_HELP, ARG_VERSION };

static const struct {
	const char *flag;
	enum arg_kind kind;
} special_flags[] = {
	{ "-c", ARG_CONFIG }, { "--config", ARG_CONFIG },
	{ "--check-config", ARG_CHECK },
	{ "-h", ARG_HELP }, { "--help", ARG_HELP },
	{ "-V", ARG_VERSION }, { "--version", ARG_VERSION },
};

struct arg {
	enum arg_kind kind;
	const struct vt_cfg_key *key;   /* ARG_KEY */
	char flag[VT_CFG_SHOWN_MAX + 8];       /* as given, without "=value" */
	const char *value;              /* borrowed from argv; NULL if none */
};

/*
 * Read the argument at *i (advancing past its value) into a. Returns 0, or
 * -1 with err set: unknown option, missing value, value not expected.
 */
static int next_arg(int argc, char **argv, int *i, struct arg *a, char *err,
    size_t errlen)
{
	const char *s = argv[*i];
	const char *eq = strncmp(s, "--", 2) == 0 ? strchr(s, '=') : NULL;
	size_t n = eq ? (size_t)(eq - s) : strlen(s);
	int takes_value = 1;

	memset(a, 0, sizeof *a);
	if (s[0] != '-' || strcmp(s, "-") == 0) {
		vt_config_keys_shown(s, a->flag, sizeof a->flag);
		vt_config_keys_error(err, errlen, NULL, a->flag,
		    "unexpected argument (see --help)");
		return -1;
	}
	if (n >= sizeof a->flag - 4) {
		vt_config_keys_shown(s, a->flag, sizeof a->flag);
		vt_config_keys_error(err, errlen, NULL, a->flag,
		    "unknown option (see --help)");
		return -1;
	}
	memcpy(a->flag, s, n);
	a->flag[n] = '\0';
	a->kind = ARG_KEY;
	a->key = vt_config_keys_by_flag(a->flag);
	for (size_t j = 0; j < sizeof special_flags / sizeof special_flags[0];
	    j++) {
		if (strcmp(special_flags[j].flag, a->flag) == 0) {
			a->kind = special_flags[j].kind;
			takes_value = a->kind == ARG_CONFIG;
		}
	}
	if (a->kind == ARG_KEY && a->key == NULL) {
		vt_config_keys_shown(a->flag, a->flag, sizeof a->flag);
		vt_config_keys_error(err, errlen, NULL, a->flag,
		    "unknown option (see --help)");
		return -1;
	}
	if (a->kind == ARG_KEY && a->key->type == VT_CFG_BOOL && !eq) {
		a->value = "true";   /* a switch: "--relay", "--relay=false" */
		return 0;
	}
	if (!takes_value) {
		if (eq) {
			vt_config_keys_error(err, errlen, NULL, a->flag,
			    "takes no value");
			return -1;
		}
		return 0;
	}
	if (eq) {
		a->value = eq + 1;
	} else if (*i + 1 < argc) {
		a->value = argv[++*i];
	} else {
		vt_config_keys_error(err, errlen, NULL, a->flag,
		    "missing value (see --help)");
		return -1;
	}
	return 0;
}

enum vt_config_outcome vt_config_from_args(struct vt_config *cfg, int argc,
    char **argv, char *err, size_t errlen)
{
	const char *file = NULL;
	int help = 0, version = 0;
	struct arg a;
	char why[VT_CFG_WHY_LEN];

	vt_config_defaults(cfg);
	err[0] = '\0';

	/* Pass 1: syntax of every flag, and where the config file is. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			if (i + 1 == argc)
				break;
			vt_config_keys_shown(argv[i + 1], a.flag,
			    sizeof a.flag);
			vt_config_keys_error(err, errlen, NULL, a.flag,
			    "unexpected argument (see --help)");
			return VT_CONFIG_ERROR;
		}
		if (next_arg(argc, argv, &i, &a, err, errlen) < 0)
			return VT_CONFIG_ERROR;
		if (a.kind == ARG_CONFIG)
			file = a.value;
		help |= a.kind == ARG_HELP;
		version |= a.kind == ARG_VERSION;
	}
	if (help) {
		vt_config_usage(stdout);
		return VT_CONFIG_EXIT_OK;
	}
	if (version) {
		printf("vitalsd %s\n", VT_VERSION);
		return VT_CONFIG_EXIT_OK;
	}

	if (file != NULL && vt_config_json_load_file(cfg, file, err, errlen) < 0)
		return VT_CONFIG_ERROR;

	/* Pass 2: flags over the file. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (next_arg(argc, argv, &i, &a, err, errlen) < 0)
			return VT_CONFIG_ERROR;
		if (a.kind == ARG_CHECK)
			cfg->check_config = 1;
		if (a.kind != ARG_KEY)
			continue;
		if (vt_config_keys_set_text(a.key, cfg, a.value, why,
		    sizeof why) < 0) {
			vt_config_keys_error(err, errlen, NULL, a.flag, "%s",
			    why);
			return VT_CONFIG_ERROR;
		}
	}

	if (vt_config_validate(cfg, err, errlen) < 0)
		return VT_CONFIG_ERROR;
	return VT_CONFIG_RUN;
}
