/*
 * test_config.c - configuration as an operator meets it: defaults, every
 * key from a file, flags over the file, the exact one-line errors, the
 * duration and address syntax, --help/--version, --check-config output,
 * and contrib/vitals.example.json giving exactly the defaults.
 * Runs from the repository root.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/base/log.h"
#include "collector/base/parse.h"
#include "collector/config/config.h"
#include "collector/config/config_json.h"
#include "collector/config/config_keys.h"
#include "suites.h"

#ifndef VT_VERSION
#define VT_VERSION "dev"
#endif

#define FILE_NAME "/etc/vitals.json"
#define EXAMPLE "contrib/vitals.example.json"

/* ---- helpers --------------------------------------------------------- */

static void *key_field(const struct vt_cfg_key *k, struct vt_config *cfg)
{
	return (char *)cfg + k->offset;
}

/* Every key holds a value unlike its default (and unlike any sane
 * value), so a document that misses a key leaves a visible trace. */
static void poison(struct vt_config *cfg)
{
	size_t n;
	const struct vt_cfg_key *keys = vt_config_keys_table(&n);
	vt_config_defaults(cfg);
	for (size_t i = 0; i < n; i++) {
		void *f = key_field(&keys[i], cfg);
		switch (keys[i].type) {
		case VT_CFG_STRING:
		case VT_CFG_SECRET:
		case VT_CFG_URL:
		case VT_CFG_ADDR:
			memset(f, 'x', keys[i].size - 1);
			((char *)f)[keys[i].size - 1] = '\0';
			break;
		case VT_CFG_BOOL:
		case VT_CFG_LOG_LEVEL:
			*(int *)f = 7;
			break;
		case VT_CFG_COUNT:
		case VT_CFG_BYTES:
			*(size_t *)f = 12345;
			break;
		case VT_CFG_DURATION:
			*(double *)f = 12345;
			break;
		case VT_CFG_PERCENTILES:
			cfg->npercentiles = 1;
			cfg->percentiles[0] = 42;
			break;
		}
	}
}

/* The first key whose value differs between a and b, or NULL. */
static const char *differing_key(const struct vt_config *a,
    const struct vt_config *b)
{
	size_t n;
	const struct vt_cfg_key *keys = vt_config_keys_table(&n);
	for (size_t i = 0; i < n; i++) {
		const char *fa = (const char *)a + keys[i].offset;
		const char *fb = (const char *)b + keys[i].offset;
		int same;
		switch (keys[i].type) {
		case VT_CFG_STRING:
		case VT_CFG_SECRET:
		case VT_CFG_URL:
		case VT_CFG_ADDR:
			same = strcmp(fa, fb) == 0;
			break;
		case VT_CFG_PERCENTILES:
			same = a->npercentiles == b->npercentiles &&
			    memcmp(a->percentiles, b->percentiles,
			    a->npercentiles * sizeof(double)) == 0;
			break;
		default:
			same = memcmp(fa, fb, keys[i].size) == 0;
			break;
		}
		if (!same)
			return keys[i].path;
	}
	return NULL;
}

static void assert_same(const struct vt_config *a, const struct vt_config *b)
{
	const char *k = differing_key(a, b);
	ck_assert_msg(k == NULL, "key %s differs", k ? k : "");
}

static void apply_ok(struct vt_config *cfg, const char *json)
{
	char err[VT_ERR_LEN * 2] = "";
	int rc = vt_config_json_apply(cfg, FILE_NAME, json, err, sizeof err);
	ck_assert_msg(rc == 0, "%s: %s", json, err);
}

/* A temporary file holding text; caller unlinks and frees the name. */
static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/vt_test_config_XXXXXX");
	ck_assert_ptr_nonnull(path);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Each loader's error gets the line of its key in the file: an object
 * member, a missing key (its item's line), an array item, a key given
 * twice (the second), comments with brackets and quotes skipped. */
START_TEST(errors_name_the_line_of_the_key)
{
	char *path = write_temp(
	    "{\n"
	    "  // { a comment with \"quotes\" and [brackets\n"
	    "  \"metric_ttl\": \"1h\",\n"
	    "  \"http\": {\n"
	    "    \"max_body\": \"huge\"\n"
	    "  },\n"
	    "  /* \"alerts\": { */\n"
	    "  \"alerts\": {\"rules\": [\n"
	    "    {\"name\": \"a\"},\n"
	    "    {\"name\": \"b\",\n"
	    "     \"notify\": [\"ok\",\n"
	    "                \"bad\"]}]},\n"
	    "  \"metric_ttl\": \"2h\"\n"
	    "}\n");
	static const struct { const char *key, *want; } cases[] = {
		{ "http.max_body: too big", "line 5: http.max_body: too big" },
		{ "alerts.rules[1].notify[1]: bad", "line 12: "
		    "alerts.rules[1].notify[1]: bad" },
		{ "alerts.rules[1].service: required", "line 10: "
		    "alerts.rules[1].service: required" },
		{ "alerts.rules[0].name: x", "line 9: alerts.rules[0].name: x" },
		{ "metric_ttl: given twice", "line 13: metric_ttl: given twice" },
		{ "nowhere: unknown key", "line 0" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[VT_ERR_LEN * 2], want[VT_ERR_LEN * 2];
		snprintf(err, sizeof err, "vitalsd: %s: %s", path,
		    cases[i].key);
		if (strcmp(cases[i].want, "line 0") == 0)  /* not found */
			snprintf(want, sizeof want, "%s", err);
		else
			snprintf(want, sizeof want, "vitalsd: %s: %s", path,
			    cases[i].want);
		vt_config_json_add_line(err, sizeof err);
		ck_assert_str_eq(err, want);
	}
	/* Errors that are not about a key of a readable file stay. */
	char err[VT_ERR_LEN] = "vitalsd: /nonexistent.json: metric_ttl: x";
	vt_config_json_add_line(err, sizeof err);
	ck_assert_str_eq(err, "vitalsd: /nonexistent.json: metric_ttl: x");
	char syn[VT_ERR_LEN * 2];
	snprintf(syn, sizeof syn, "vitalsd: %s: line 3: invalid JSON", path);
	vt_config_json_add_line(syn, sizeof syn);
	ck_assert_ptr_null(strstr(syn, "line 3: line"));
	ck_assert_str_eq(vt_config_json_for_log(syn, sizeof syn), syn + 9);
	unlink(path);
	free(path);
}
END_TEST

/* What f (an open_memstream) or fd 1 received. */
struct out_capture {
	FILE *tmp;
	int saved;
};

static void stdout_begin(struct out_capture *c)
{
	fflush(stdout);
	c->tmp = tmpfile();
	ck_assert_ptr_nonnull(c->tmp);
	c->saved = dup(STDOUT_FILENO);
	dup2(fileno(c->tmp), STDOUT_FILENO);
}

static char *stdout_end(struct out_capture *c)
{
	fflush(stdout);
	dup2(c->saved, STDOUT_FILENO);
	close(c->saved);
	fseek(c->tmp, 0, SEEK_END);
	long len = ftell(c->tmp);
	rewind(c->tmp);
	char *text = calloc((size_t)len + 1, 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, c->tmp), (size_t)len);
	fclose(c->tmp);
	return text;
}

/* ---- defaults and the table ------------------------------------------ */

START_TEST(defaults_match_the_spec)
{
	struct vt_config c;
	char err[VT_ERR_LEN];
	memset(&c, 0xA5, sizeof c);
	vt_config_defaults(&c);
	ck_assert_str_eq(c.config_file, "");
	ck_assert_int_eq(c.check_config, 0);
	ck_assert_str_eq(c.statsd_listen, "0.0.0.0:8125");
	ck_assert_int_eq(c.statsd_udp, 1);
	ck_assert_int_eq(c.statsd_tcp, 1);
	ck_assert_uint_eq(c.udp_receive_buffer, 33554432);
	ck_assert_uint_eq(c.tcp_max_clients, 1024);
	ck_assert_double_eq(c.tcp_idle_timeout, 300);
	ck_assert_double_eq(c.flush_interval, 10);
	ck_assert_double_eq(c.metric_ttl, 3600);
	ck_assert_uint_eq(c.max_metrics, 100000);
	ck_assert_uint_eq(c.npercentiles, 4);
	ck_assert_double_eq(c.percentiles[0], 50);
	ck_assert_double_eq(c.percentiles[1], 90);
	ck_assert_double_eq(c.percentiles[2], 95);
	ck_assert_double_eq(c.percentiles[3], 99);
	ck_assert_str_eq(c.data_dir, "./vitals-data");
	ck_assert_str_eq(c.http_listen, "0.0.0.0:8080");
	ck_assert_str_eq(c.http_token, "");
	ck_assert_uint_eq(c.http_max_body, 1048576);
	ck_assert_uint_eq(c.http_max_connections, 256);
	ck_assert_uint_eq(c.http_threads, 2);
	ck_assert_uint_eq(c.http_max_connections_per_ip, 64);
	ck_assert_double_eq(c.http_timeout, 30);
	ck_assert_double_eq(c.http_head_timeout, 10);
	ck_assert_uint_eq(c.http_max_streams, 0);
	ck_assert_uint_eq(c.http_loopback_reserve, 0);
	ck_assert_str_eq(c.http_tls_cert, "");
	ck_assert_str_eq(c.http_tls_key, "");
	ck_assert_str_eq(c.amqp_url, "");
	ck_assert_int_eq(c.log_level, VT_LOG_INFO);
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), 0);
}
END_TEST

START_TEST(key_table_is_well_formed)
{
	size_t n;
	const struct vt_cfg_key *keys = vt_config_keys_table(&n);
	ck_assert_uint_ge(n, 18);
	for (size_t i = 0; i < n; i++) {
		const char *dot = strchr(keys[i].path, '.');
		ck_assert_msg(dot == NULL || strchr(dot + 1, '.') == NULL,
		    "%s nests deeper than one section", keys[i].path);
		ck_assert_msg(keys[i].help && keys[i].help[0], "%s: no help",
		    keys[i].path);
		ck_assert_ptr_eq(vt_config_keys_find(keys[i].path), &keys[i]);
		ck_assert_uint_le(keys[i].offset + keys[i].size,
		    sizeof(struct vt_config));
		if (keys[i].flag) {
			ck_assert_int_eq(strncmp(keys[i].flag, "--", 2), 0);
			ck_assert_ptr_nonnull(keys[i].metavar);
			ck_assert_ptr_eq(vt_config_keys_by_flag(keys[i].flag),
			    &keys[i]);
		}
		/* keys of one section are adjacent (the printer relies on it) */
		for (size_t j = i + 2; dot && j < n; j++) {
			size_t len = (size_t)(dot - keys[i].path) + 1;
			if (strncmp(keys[j].path, keys[i].path, len) == 0)
				ck_assert_int_eq(strncmp(keys[j - 1].path,
				    keys[i].path, len), 0);
		}
	}
	ck_assert_int_eq(vt_config_keys_is_section("statsd"), 1);
	ck_assert_int_eq(vt_config_keys_is_section("stats"), 0);
	ck_assert_int_eq(vt_config_keys_is_section("flush_interval"), 0);
}
END_TEST

/* ---- values from a file ---------------------------------------------- */

static const char every_key[] =
    "{\n"
    "  \"statsd\": {\"listen\": \"127.0.0.1:9125\", \"udp\": false,\n"
    "     \"tcp\": false, \"udp_receive_buffer\": \"64MiB\",\n"
    "     \"tcp_max_clients\": 10, \"tcp_idle_timeout\": 90},\n"
    "  \"flush_interval\": \"30s\", \"metric_ttl\": \"26h\",\n"
    "  \"retire_after\": \"30d\",\n"
    "  \"max_metrics\": 5000, \"self_metrics\": false,\n"
    "  \"percentiles\": [99.9, 75, 25],\n"
    "  \"data_dir\": \"/var/lib/vitals\",\n"
    "  \"mapping_file\": \"/etc/vitals/statsd_mapping.yml\",\n"
    "  \"prometheus\": {\"native_histograms\": false},\n"
    "  \"rrd\": {\"enabled\": false, \"cached\": \"unix:/run/rrdcached.sock\",\n"
    "     \"queue\": 5000, \"points_per_range\": 100,\n"
    "     \"timer_stats\": \"rate,mean,max\", \"counter_stats\": \"rate\",\n"
    "     \"max_archives\": false, \"retention\": \"31d\",\n"
    "     \"write_delay\": \"1m\", \"create_rate\": 50},\n"
    "  \"health\": {\"save_interval\": \"1m\", \"max_checks\": 50},\n"
    "  \"http\": {\"listen\": \"[::1]:9090\", \"token\": \"s3cret\",\n"
    "     \"max_body\": 4096, \"max_connections\": 16, \"threads\": 4,\n"
    "     \"max_connections_per_ip\": 8, \"timeout\": \"2m\",\n"
    "     \"head_timeout\": \"5s\", \"max_streams\": 9,\n"
    "     \"loopback_reserve\": 3,\n"
    "     \"tls_cert\": \"/etc/vitals/cert.pem\",\n"
    "     \"tls_key\": \"/etc/vitals/key.pem\"},\n"
    "  \"amqp\": {\"url\": \"amqp://u:p@broker:5672/%2f\",\n"
    "     \"exchange\": \"metrics\", \"queue\": \"c1\", \"bindings\": \"*.health\",\n"
    "     \"prefetch\": 10, \"max_body\": \"2MiB\", \"hash_exchange\": \"ring\",\n"
    "     \"hash_weight\": 3, \"heartbeat\": 0, \"reconnect_min\": \"2s\",\n"
    "     \"reconnect_max\": \"5m\", \"ca_cert\": \"/ca.pem\",\n"
    "     \"cert\": \"/c.pem\", \"key\": \"/k.pem\", \"verify_peer\": false,\n"
    "     \"verify_hostname\": false},\n"
    "  \"relay\": {\"enabled\": true, \"batch_bytes\": \"1MiB\",\n"
    "     \"batch_interval\": \"250ms\", \"buffer\": \"1GiB\"},\n"
    "  \"graphite\": {\"address\": \"carbon\", \"prefix\": \"dc1.stats\",\n"
    "     \"tags\": \"path\", \"max_buffer\": \"1MiB\", \"timeout\": \"2s\",\n"
    "     \"reconnect_max\": \"1m\"},\n"
    "  \"fleet\": {\"exchange\": \"f\", \"name\": \"c1\",\n"
    "     \"url\": \"http://c1:8080\", \"announce\": \"1s\"},\n"
    "  \"shutdown_timeout\": \"3s\",\n"
    "  \"log\": {\"level\": \"debug\"}\n"
    "}\n";

START_TEST(every_key_set_from_a_file)
{
	struct vt_config c, def;
	char err[VT_ERR_LEN];
	vt_config_defaults(&c);
	vt_config_defaults(&def);
	apply_ok(&c, every_key);
	ck_assert_str_eq(c.statsd_listen, "127.0.0.1:9125");
	ck_assert_int_eq(c.statsd_udp, 0);
	ck_assert_int_eq(c.statsd_tcp, 0);
	ck_assert_uint_eq(c.udp_receive_buffer, 64u << 20);
	ck_assert_uint_eq(c.tcp_max_clients, 10);
	ck_assert_double_eq(c.tcp_idle_timeout, 90);
	ck_assert_double_eq(c.flush_interval, 30);
	ck_assert_double_eq(c.metric_ttl, 26 * 3600);
	ck_assert_uint_eq(c.max_metrics, 5000);
	ck_assert_double_eq(c.retire_after, 30 * 86400);
	ck_assert_int_eq(c.self_metrics, 0);
	ck_assert_uint_eq(c.npercentiles, 3);
	ck_assert_double_eq(c.percentiles[0], 25);
	ck_assert_double_eq(c.percentiles[1], 75);
	ck_assert_double_eq(c.percentiles[2], 99.9);
	ck_assert_str_eq(c.data_dir, "/var/lib/vitals");
	ck_assert_str_eq(c.mapping_file, "/etc/vitals/statsd_mapping.yml");
	ck_assert_int_eq(c.prom_native_histograms, 0);
	ck_assert_int_eq(c.rrd_enabled, 0);
	ck_assert_str_eq(c.rrd_cached, "unix:/run/rrdcached.sock");
	ck_assert_uint_eq(c.rrd_queue, 5000);
	ck_assert_uint_eq(c.rrd_points, 100);
	ck_assert_str_eq(c.rrd_timer_stats, "rate,mean,max");
	ck_assert_str_eq(c.rrd_counter_stats, "rate");
	ck_assert_int_eq(c.rrd_max_archives, 0);
	ck_assert_double_eq(c.rrd_retention, 31 * 86400.0);
	ck_assert_double_eq(c.rrd_write_delay, 60);
	ck_assert_uint_eq(c.rrd_create_rate, 50);
	ck_assert_double_eq(c.health_save_interval, 60);
	ck_assert_uint_eq(c.health_max_checks, 50);
	ck_assert_str_eq(c.http_listen, "[::1]:9090");
	ck_assert_str_eq(c.http_token, "s3cret");
	ck_assert_uint_eq(c.http_max_body, 4096);
	ck_assert_uint_eq(c.http_max_connections, 16);
	ck_assert_uint_eq(c.http_threads, 4);
	ck_assert_uint_eq(c.http_max_connections_per_ip, 8);
	ck_assert_double_eq(c.http_timeout, 120);
	ck_assert_double_eq(c.http_head_timeout, 5);
	ck_assert_uint_eq(c.http_max_streams, 9);
	ck_assert_uint_eq(c.http_loopback_reserve, 3);
	ck_assert_str_eq(c.http_tls_cert, "/etc/vitals/cert.pem");
	ck_assert_str_eq(c.http_tls_key, "/etc/vitals/key.pem");
	ck_assert_str_eq(c.amqp_url, "amqp://u:p@broker:5672/%2f");
	ck_assert_int_eq(c.log_level, VT_LOG_DEBUG);
	ck_assert_double_eq(c.shutdown_timeout, 3);
	ck_assert_str_eq(c.amqp_queue, "c1");
	ck_assert_uint_eq(c.amqp_max_body, 2u << 20);
	ck_assert_double_eq(c.relay_batch_interval, 0.25);
	ck_assert_int_eq(c.relay_enabled, 1);
	ck_assert_str_eq(c.graphite_address, "carbon");
	ck_assert_str_eq(c.graphite_prefix, "dc1.stats");
	ck_assert_str_eq(c.graphite_tags, "path");
	ck_assert_uint_eq(c.graphite_max_buffer, 1u << 20);
	ck_assert_double_eq(c.graphite_timeout, 2);
	ck_assert_double_eq(c.graphite_reconnect_max, 60);
	ck_assert_str_eq(c.fleet_exchange, "f");
	ck_assert_str_eq(c.fleet_name, "c1");
	ck_assert_str_eq(c.fleet_url, "http://c1:8080");
	ck_assert_double_eq(c.fleet_announce, 1);
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), 0);
	/* relay mode needs a broker */
	struct vt_config r = c;
	r.amqp_url[0] = '\0';
	ck_assert_int_eq(vt_config_validate(&r, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "relay.enabled: relay mode needs "
	    "amqp.url"));
	r.relay_enabled = 0;
	ck_assert_int_eq(vt_config_validate(&r, err, sizeof err), 0);

	/* The document above really covers every key of the table. */
	size_t n;
	const struct vt_cfg_key *keys = vt_config_keys_table(&n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(memcmp((char *)&c + keys[i].offset,
		    (char *)&def + keys[i].offset, keys[i].size) != 0,
		    "%s kept its default", keys[i].path);
	}
}
END_TEST

START_TEST(comments_are_stripped_but_not_inside_strings)
{
	struct vt_config c;
	vt_config_defaults(&c);
	apply_ok(&c,
	    "// leading comment\n"
	    "{ /* block\n comment */ \"amqp\": {\"url\": "
	    "\"amqp://guest:guest@localhost:5672//\"}, // trailing\n"
	    "  \"data_dir\": \"/srv//data/* not a comment */\\\"//x\",\n"
	    "  \"http\": {\"token\": \"a//b\"} /* last */ }\n"
	    "// end");
	ck_assert_str_eq(c.amqp_url, "amqp://guest:guest@localhost:5672//");
	ck_assert_str_eq(c.data_dir, "/srv//data/* not a comment */\"//x");
	ck_assert_str_eq(c.http_token, "a//b");
}
END_TEST

START_TEST(later_documents_override_earlier_ones)
{
	struct vt_config c;
	vt_config_defaults(&c);
	apply_ok(&c, "{\"flush_interval\": 20, \"max_metrics\": 7}");
	apply_ok(&c, "{\"flush_interval\": \"1m\"}");
	ck_assert_double_eq(c.flush_interval, 60);
	ck_assert_uint_eq(c.max_metrics, 7);
}
END_TEST

START_TEST(strings_up_to_their_field_size)
{
	struct vt_config c;
	char err[VT_ERR_LEN * 2], doc[VT_TOKEN_LEN + 64], tok[VT_TOKEN_LEN + 1];
	memset(tok, 'a', VT_TOKEN_LEN - 1);
	tok[VT_TOKEN_LEN - 1] = '\0';
	snprintf(doc, sizeof doc, "{\"http\": {\"token\": \"%s\"}}", tok);
	vt_config_defaults(&c);
	apply_ok(&c, doc);
	ck_assert_uint_eq(strlen(c.http_token), VT_TOKEN_LEN - 1);

	tok[VT_TOKEN_LEN - 1] = 'a';
	tok[VT_TOKEN_LEN] = '\0';
	snprintf(doc, sizeof doc, "{\"http\": {\"token\": \"%s\"}}", tok);
	ck_assert_int_eq(vt_config_json_apply(&c, FILE_NAME, doc, err,
	    sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: " FILE_NAME ": http.token: longer "
	    "than 255 bytes");
}
END_TEST

/* ---- errors ---------------------------------------------------------- */

static const struct {
	const char *doc;
	const char *msg;   /* after "vitalsd: /etc/vitals.json: " */
} bad_docs[] = {
	{ "{\"flush_interval\": \"ten\"}",
	  "flush_interval: expected a duration such as \"10s\", got \"ten\"" },
	{ "{\"flush_interval\": \"2h\"}",
	  "flush_interval: must be between 1s and 1h, got 2h" },
	{ "{\"flush_interval\": 0.5}",
	  "flush_interval: must be between 1s and 1h, got 500ms" },
	{ "{\"flush_interval\": -5}", "flush_interval: must not be negative" },
	{ "{\"flush_interval\": 1e400}",
	  "flush_interval: must be between 1s and 1h, got +Inf" },
	{ "{\"flush_interval\": true}",
	  "flush_interval: expected a duration such as \"10s\", got a boolean" },
	{ "{\"metric_ttl\": \"0s\"}",
	  "metric_ttl: must be between 1s and 365d, got 0s" },
	{ "{\"bogus\": 1}", "bogus: unknown key" },
	{ "{\"statsd\": {\"lisen\": \"0.0.0.0:1\"}}", "statsd.lisen: unknown key" },
	{ "{\"log\": {\"level\": \"info\", \"file\": \"x\"}}",
	  "log.file: unknown key" },
	{ "{\"statsd.listen\": \":1\"}", "statsd.listen: unknown key" },
	{ "{\"a\\u0001b\": 1}", "a?b: unknown key" },
	{ "{\"statsd\": \"0.0.0.0:1\"}",
	  "statsd: expected an object of settings, got a string" },
	{ "{\"flush_interval\": {\"x\": 1}}",
	  "flush_interval: expected a duration such as \"10s\", got an object" },
	{ "{\"flush_interval\": \"10s\", \"flush_interval\": \"20s\"}",
	  "flush_interval: given twice" },
	{ "{\"statsd\": {\"udp\": \"yes\"}}",
	  "statsd.udp: expected true or false, got a string" },
	{ "{\"statsd\": {\"listen\": \"nohost\"}}",
	  "statsd.listen: expected host:port such as \"0.0.0.0:8125\", got "
	  "\"nohost\"" },
	{ "{\"http\": {\"listen\": 8080}}",
	  "http.listen: expected a string, got a number" },
	{ "{\"statsd\": {\"udp_receive_buffer\": \"32MB\"}}",
	  "statsd.udp_receive_buffer: expected a whole number of bytes (or "
	  "with KiB, MiB, GiB), got \"32MB\"" },
	{ "{\"statsd\": {\"udp_receive_buffer\": \"2GiB\"}}",
	  "statsd.udp_receive_buffer: must be between 4096 and 1073741824, "
	  "got 2147483648" },
	{ "{\"max_metrics\": 0}",
	  "max_metrics: must be between 1 and 100000000, got 0" },
	{ "{\"max_metrics\": 100000001}",
	  "max_metrics: must be between 1 and 100000000, got 100000001" },
	{ "{\"max_metrics\": 1.5}", "max_metrics: expected a whole number, got 1.5" },
	{ "{\"max_metrics\": \"100\"}",
	  "max_metrics: expected a whole number, got a string" },
	{ "{\"http\": {\"threads\": 65}}",
	  "http.threads: must be between 1 and 64, got 65" },
	{ "{\"http\": {\"threads\": 0}}",
	  "http.threads: must be between 1 and 64, got 0" },
	{ "{\"percentiles\": [50, 100]}",
	  "percentiles: percentile 100 is not between 0 and 100 (exclusive)" },
	{ "{\"percentiles\": [0]}",
	  "percentiles: percentile 0 is not between 0 and 100 (exclusive)" },
	{ "{\"percentiles\": [1, 2, 3, 4, 5, 6, 7, 8, 9]}",
	  "percentiles: at most 8 percentiles, got 9" },
	{ "{\"percentiles\": [90, 50, 90]}",
	  "percentiles: percentile 90 is listed twice" },
	{ "{\"percentiles\": \"50\"}",
	  "percentiles: expected an array of numbers such as [50, 90, 99], got "
	  "a string" },
	{ "{\"percentiles\": [50, \"90\"]}",
	  "percentiles: expected an array of numbers, got a string in it" },
	{ "{\"log\": {\"level\": \"loud\"}}",
	  "log.level: expected one of debug, info, warn, error, got \"loud\"" },
	{ "{\"amqp\": {\"url\": \"http://broker/\"}}",
	  "amqp.url: expected an amqp:// or amqps:// URL" },
	{ "{\"data_dir\": \"\"}", "data_dir: must not be empty" },
	{ "{\"data_dir\": null}", "data_dir: expected a string, got null" },
	/* syntax: the file and the line */
	{ "[1, 2]", "expected a JSON object at the top level, got an array" },
	{ "", "empty: expected a JSON object such as {\"flush_interval\": "
	  "\"10s\"}" },
	{ "// nothing but\n/* comments */\n",
	  "empty: expected a JSON object such as {\"flush_interval\": "
	  "\"10s\"}" },
	{ "{\n  \"max_metrics\": 1\n  \"data_dir\": \"x\"\n}",
	  "line 3: invalid JSON near \"\"data_dir\": \"x\"\"" },
	{ "{\n\"flush_interval\": \"10s\",\n}\n",
	  "line 3: invalid JSON near \"}\"" },
	{ "{\"flush_interval\": \"10s\"}\n\n trailing",
	  "line 3: invalid JSON near \"trailing\"" },
	{ "{\n\n\"max_metrics\": 1 /* open", "line 3: unterminated /* comment" },
	{ "{\"data_dir\": \"x\"", "line 1: invalid JSON: unexpected end of file" },
	{ "{\"data_dir\": \"x\",\n\n", "line 3: invalid JSON: unexpected end of "
	  "file" },
	{ "{\"percentiles\": [50,]}", "line 1: invalid JSON near \"]}\"" },
	{ "{\"percentiles\": [50]}}", "line 1: invalid JSON near \"}\"" },
};

START_TEST(bad_documents_name_file_key_and_problem)
{
	struct vt_config c;
	char err[VT_ERR_LEN * 2], want[VT_ERR_LEN * 2];
	vt_config_defaults(&c);
	int rc = vt_config_json_apply(&c, FILE_NAME, bad_docs[_i].doc, err,
	    sizeof err);
	ck_assert_msg(rc == -1, "accepted: %s", bad_docs[_i].doc);
	snprintf(want, sizeof want, "vitalsd: %s: %s", FILE_NAME,
	    bad_docs[_i].msg);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(unreadable_files_name_the_file_and_the_reason)
{
	struct vt_config c;
	char err[VT_ERR_LEN * 2];
	vt_config_defaults(&c);
	ck_assert_int_eq(vt_config_json_load_file(&c, "/nonexistent/vitals.json",
	    err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: /nonexistent/vitals.json: No such file "
	    "or directory");
	ck_assert_int_eq(vt_config_json_load_file(&c, "/tmp", err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: /tmp: Is a directory");
}
END_TEST

/* The graphite keys whose syntax only validation knows. */
static const struct {
	const char *doc;
	const char *msg;   /* after "vitalsd: /etc/vitals.json: " */
} bad_graphite[] = {
	{ "{\"graphite\": {\"address\": \"carbon:\"}}",
	  "graphite.address: expected host:port or host (port 2003) such as "
	  "\"carbon:2003\", got \"carbon:\"" },
	{ "{\"graphite\": {\"address\": \"car bon\"}}",
	  "graphite.address: expected host:port or host (port 2003) such as "
	  "\"carbon:2003\", got \"car bon\"" },
	{ "{\"graphite\": {\"address\": \":2003\"}}",
	  "graphite.address: expected host:port or host (port 2003) such as "
	  "\"carbon:2003\", got \":2003\"" },
	{ "{\"graphite\": {\"address\": \"c\", \"prefix\": \"a b\"}}",
	  "graphite.prefix: expected dot-separated components of A-Z a-z 0-9 "
	  "_ - such as \"stats\", got \"a b\"" },
	{ "{\"graphite\": {\"prefix\": \"stats.\"}}",
	  "graphite.prefix: expected dot-separated components of A-Z a-z 0-9 "
	  "_ - such as \"stats\", got \"stats.\"" },
	{ "{\"graphite\": {\"prefix\": \"a..b\"}}",
	  "graphite.prefix: expected dot-separated components of A-Z a-z 0-9 "
	  "_ - such as \"stats\", got \"a..b\"" },
	{ "{\"graphite\": {\"tags\": \"dots\"}}",
	  "graphite.tags: expected \"graphite\" (path;k=v) or \"path\" "
	  "(.k.v), got \"dots\"" },
};

START_TEST(graphite_keys_are_validated)
{
	struct vt_config c;
	char err[VT_ERR_LEN * 2], want[VT_ERR_LEN * 2];
	vt_config_defaults(&c);
	snprintf(c.config_file, sizeof c.config_file, "%s", FILE_NAME);
	apply_ok(&c, bad_graphite[_i].doc);
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	snprintf(want, sizeof want, "vitalsd: %s: %s", FILE_NAME,
	    bad_graphite[_i].msg);
	ck_assert_str_eq(err, want);
}
END_TEST

/* The fleet's keys (docs/amqp.md, "Fleet"). */
static const struct {
	const char *doc;
	const char *msg;   /* after "vitalsd: /etc/vitals.json: " */
} bad_fleet[] = {
	{ "{\"fleet\": {\"name\": \"a b\"}}",
	  "fleet.name: only letters, digits, '.', '_' and '-'" },
	{ "{\"fleet\": {\"name\": \"" "01234567890123456789012345678901"
	  "234567890123456789012345678901234\"}}", "fleet.name: at most 64 bytes" },
	{ "{\"fleet\": {\"url\": \"ftp://a\"}}",
	  "fleet.url: must start with http:// or https://" },
	{ "{\"fleet\": {\"url\": \"http://a b\"}}",
	  "fleet.url: no spaces, quotes or control characters" },
};

START_TEST(fleet_keys_are_validated)
{
	struct vt_config c;
	char err[VT_ERR_LEN * 2], want[VT_ERR_LEN * 2];
	vt_config_defaults(&c);
	snprintf(c.config_file, sizeof c.config_file, "%s", FILE_NAME);
	apply_ok(&c, bad_fleet[_i].doc);
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	snprintf(want, sizeof want, "vitalsd: %s: %s", FILE_NAME,
	    bad_fleet[_i].msg);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(fleet_keys_defaults_and_bounds)
{
	struct vt_config c;
	char err[VT_ERR_LEN * 2];
	vt_config_defaults(&c);
	ck_assert_str_eq(c.fleet_exchange, "vitals.fleet");
	ck_assert(c.fleet_announce == 5);
	apply_ok(&c, "{\"fleet\": {\"exchange\": \"\", \"name\": \"a-1.b_2\","
	    " \"url\": \"https://a.example:8443/v\", \"announce\": \"250ms\"}}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), 0);
	ck_assert(c.fleet_announce == 0.25);
	ck_assert_int_eq(vt_config_json_apply(&c, FILE_NAME,
	    "{\"fleet\": {\"announce\": \"10ms\"}}", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "fleet.announce"));
}
END_TEST

START_TEST(graphite_keys_accept_their_forms)
{
	static const char *const good[] = {
		"{\"graphite\": {\"address\": \"\", \"prefix\": \"\"}}",
		"{\"graphite\": {\"address\": \"carbon\"}}",
		"{\"graphite\": {\"address\": \"10.1.2.3:2103\"}}",
		"{\"graphite\": {\"address\": \"[::1]\", \"tags\": \"path\"}}",
		"{\"graphite\": {\"prefix\": \"dc-1.stats_x\"}}",
	};
	struct vt_config c;
	char err[VT_ERR_LEN * 2];
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		vt_config_defaults(&c);
		apply_ok(&c, good[i]);
		ck_assert_msg(vt_config_validate(&c, err, sizeof err) == 0,
		    "%s: %s", good[i], err);
	}
	/* bounds come from the table */
	vt_config_defaults(&c);
	ck_assert_int_eq(vt_config_json_apply(&c, FILE_NAME,
	    "{\"graphite\": {\"max_buffer\": 100}}", err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: " FILE_NAME ": graphite.max_buffer: "
	    "must be between 1024 and 17179869184, got 100");
	ck_assert_int_eq(vt_config_json_apply(&c, FILE_NAME,
	    "{\"graphite\": {\"reconnect_max\": \"10ms\"}}", err,
	    sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: " FILE_NAME ": graphite.reconnect_max: "
	    "must be between 250ms and 1h, got 10ms");
}
END_TEST

START_TEST(validate_cross_field_checks)
{
	struct vt_config c;
	char err[VT_ERR_LEN * 2];

	vt_config_defaults(&c);
	apply_ok(&c, "{\"metric_ttl\": \"5s\"}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: metric_ttl: must be at least "
	    "flush_interval (10s), got 5s");

	vt_config_defaults(&c);
	apply_ok(&c, "{\"metric_ttl\": \"2d\", \"retire_after\": \"1d\"}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: retire_after: must be at least "
	    "metric_ttl (2d), got 1d");

	vt_config_defaults(&c);
	snprintf(c.config_file, sizeof c.config_file, "%s", FILE_NAME);
	apply_ok(&c, "{\"http\": {\"listen\": \":8125\"}}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: " FILE_NAME ": http.listen: same TCP "
	    "address as statsd.listen (0.0.0.0:8125)");
	apply_ok(&c, "{\"statsd\": {\"tcp\": false}}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), 0);

	/* HTTPS needs both files; one alone is an error, never plain HTTP. */
	vt_config_defaults(&c);
	apply_ok(&c, "{\"http\": {\"tls_cert\": \"/etc/cert.pem\"}}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: http.tls_key: http.tls_cert and "
	    "http.tls_key go together");
	apply_ok(&c, "{\"http\": {\"tls_key\": \"/etc/key.pem\"}}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), 0);

	/* A struct filled by code is checked against the table too. */
	vt_config_defaults(&c);
	c.http_threads = 100;
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: http.threads: must be between 1 and "
	    "64, got 100");
	vt_config_defaults(&c);
	c.percentiles[1] = 20;
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: percentiles: must be in "
	    "ascending order");
	vt_config_defaults(&c);
	snprintf(c.statsd_listen, sizeof c.statsd_listen, "localhost");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: statsd.listen: expected host:port such "
	    "as \"0.0.0.0:8125\", got \"localhost\"");

	/* What RRD files store: known statistics, at least one. */
	vt_config_defaults(&c);
	apply_ok(&c, "{\"rrd\": {\"timer_stats\": \"rate, p99\"}}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: rrd.timer_stats: unknown statistic "
	    "\"p99\" (expected some of: count rate sum mean min max stddev)");
	vt_config_defaults(&c);
	apply_ok(&c, "{\"rrd\": {\"counter_stats\": \"mean\"}}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: rrd.counter_stats: unknown statistic "
	    "\"mean\" (expected some of: count rate)");
	vt_config_defaults(&c);
	apply_ok(&c, "{\"rrd\": {\"counter_stats\": \" , \"}}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: rrd.counter_stats: name at least one "
	    "of: count rate");
	vt_config_defaults(&c);
	apply_ok(&c, "{\"rrd\": {\"timer_stats\": \"count,rate,sum,mean,"
	    "min,max,stddev\"}}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), 0);
	/* rrd.overrides is read by the storage (rrd_files.c), not here. */
	apply_ok(&c, "{\"rrd\": {\"overrides\": [{\"service\": \"a*\"}]}}");
	ck_assert_int_eq(vt_config_validate(&c, err, sizeof err), 0);
}
END_TEST

/* ---- durations and addresses ----------------------------------------- */

static const struct {
	const char *text;
	int ok;
	double seconds;
} durations[] = {
	{ "30s", 1, 30 }, { "5m", 1, 300 }, { "26h", 1, 93600 },
	{ "7d", 1, 604800 }, { "2w", 1, 1209600 }, { "250ms", 1, 0.25 },
	{ "1.5h", 1, 5400 }, { "10", 1, 10 }, { "0.5", 1, 0.5 },
	{ "0", 1, 0 }, { "0s", 1, 0 },
	{ "", 0, 0 }, { "s", 0, 0 }, { "-1s", 0, 0 }, { "+1s", 0, 0 },
	{ "10x", 0, 0 }, { "1e400", 0, 0 }, { "1e3", 0, 0 }, { "nan", 0, 0 },
	{ "inf", 0, 0 }, { " 10s", 0, 0 }, { "10s ", 0, 0 }, { "10 s", 0, 0 },
	{ "1.s", 0, 0 }, { ".5s", 0, 0 }, { "10sec", 0, 0 }, { "5M", 0, 0 },
	{ "1h30m", 0, 0 }, { "0x10", 0, 0 },
	{ "99999999999999999999999999999999999999999", 0, 0 },
};

START_TEST(duration_syntax)
{
	double s = -1;
	int rc = vt_parse_duration(durations[_i].text, &s);
	ck_assert_msg(rc == (durations[_i].ok ? 0 : -1), "\"%s\": rc %d",
	    durations[_i].text, rc);
	if (durations[_i].ok)
		ck_assert_double_eq(s, durations[_i].seconds);
}
END_TEST

START_TEST(durations_as_json_numbers_and_strings)
{
	struct vt_config c;
	vt_config_defaults(&c);
	apply_ok(&c, "{\"flush_interval\": 10}");
	ck_assert_double_eq(c.flush_interval, 10);
	apply_ok(&c, "{\"flush_interval\": \"15\"}");
	ck_assert_double_eq(c.flush_interval, 15);
	apply_ok(&c, "{\"flush_interval\": 2.5}");
	ck_assert_double_eq(c.flush_interval, 2.5);
}
END_TEST

static const struct {
	const char *text;
	int ok;
	const char *host;
	int port;
} addrs[] = {
	{ "0.0.0.0:8125", 1, "0.0.0.0", 8125 },
	{ "127.0.0.1:0", 1, "127.0.0.1", 0 },
	{ ":8125", 1, "", 8125 },
	{ "[::1]:8080", 1, "::1", 8080 },
	{ "[::]:65535", 1, "::", 65535 },
	{ "[fe80::1%eth0]:80", 1, "fe80::1%eth0", 80 },
	{ "localhost:80", 1, "localhost", 80 },
	{ "my-host.example_1.com:1", 1, "my-host.example_1.com", 1 },
	{ "", 0, NULL, 0 }, { "localhost", 0, NULL, 0 },
	{ "localhost:", 0, NULL, 0 }, { ":", 0, NULL, 0 },
	{ "host:65536", 0, NULL, 0 }, { "host:-1", 0, NULL, 0 },
	{ "host:+80", 0, NULL, 0 }, { "host:80x", 0, NULL, 0 },
	{ "host:0080000", 0, NULL, 0 }, { "a b:80", 0, NULL, 0 },
	{ "::1:80", 0, NULL, 0 }, { "[::1]80", 0, NULL, 0 },
	{ "[::1", 0, NULL, 0 }, { "[]:80", 0, NULL, 0 },
	{ "[1.2.3.4]:80", 0, NULL, 0 }, { "host:80 ", 0, NULL, 0 },
	{ "http://host:80", 0, NULL, 0 },
};

START_TEST(address_syntax)
{
	char host[VT_ADDR_LEN] = "unchanged";
	int port = -1;
	int rc = vt_parse_addr(addrs[_i].text, host, sizeof host,
	    &port);
	ck_assert_msg(rc == (addrs[_i].ok ? 0 : -1), "\"%s\": rc %d",
	    addrs[_i].text, rc);
	if (addrs[_i].ok) {
		ck_assert_str_eq(host, addrs[_i].host);
		ck_assert_int_eq(port, addrs[_i].port);
	}
}
END_TEST

START_TEST(address_host_must_fit)
{
	char host[4];
	int port;
	ck_assert_int_eq(vt_parse_addr("abc:1", host, sizeof host,
	    &port), 0);
	ck_assert_int_eq(vt_parse_addr("abcd:1", host, sizeof host,
	    &port), -1);
}
END_TEST

/* ---- command line ---------------------------------------------------- */

static enum vt_config_outcome run_args(struct vt_config *c, char *err,
    size_t errlen, const char **args)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)(uintptr_t)"vitalsd";
	for (; *args && argc < 31; args++)
		argv[argc++] = (char *)(uintptr_t)*args;
	argv[argc] = NULL;
	return vt_config_from_args(c, argc, argv, err, errlen);
}

START_TEST(no_arguments_run_with_defaults)
{
	struct vt_config c, def;
	char err[VT_ERR_LEN * 2];
	const char *args[] = { NULL };
	ck_assert_int_eq(run_args(&c, err, sizeof err, args), VT_CONFIG_RUN);
	vt_config_defaults(&def);
	assert_same(&c, &def);
	ck_assert_str_eq(c.config_file, "");
	ck_assert_int_eq(c.check_config, 0);
}
END_TEST

START_TEST(flags_override_the_file)
{
	struct vt_config c;
	char err[VT_ERR_LEN * 2];
	char *path = write_temp("// comment\n{\"flush_interval\": \"1h\", "
	    "\"data_dir\": \"/from/file\", \"max_metrics\": 9}");
	const char *args[] = { "--flush", "5s", "-c", path, "--check-config",
	    "--data-dir", "/from/flag", NULL };
	ck_assert_int_eq(run_args(&c, err, sizeof err, args), VT_CONFIG_RUN);
	ck_assert_double_eq(c.flush_interval, 5);
	ck_assert_str_eq(c.data_dir, "/from/flag");
	ck_assert_uint_eq(c.max_metrics, 9);
	ck_assert_str_eq(c.config_file, path);
	ck_assert_int_eq(c.check_config, 1);

	/* The same with --config=FILE and --flag=value. */
	char cfgarg[128];
	snprintf(cfgarg, sizeof cfgarg, "--config=%s", path);
	const char *args2[] = { cfgarg, "--flush=1m", NULL };
	ck_assert_int_eq(run_args(&c, err, sizeof err, args2), VT_CONFIG_RUN);
	ck_assert_double_eq(c.flush_interval, 60);
	ck_assert_str_eq(c.data_dir, "/from/file");
	ck_assert_int_eq(c.check_config, 0);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(every_flag_in_both_forms)
{
	struct vt_config a, b;
	char err[VT_ERR_LEN * 2];
	const char *spaced[] = { "--statsd", "127.0.0.1:0", "--http",
	    "[::1]:9", "--data-dir", "/x",
	    "--flush", "30", "--log-level", "debug", "--max-metrics", "5",
	    NULL };
	const char *joined[] = { "--statsd=127.0.0.1:0", "--http=[::1]:9",
	    "--data-dir=/x", "--flush=30",
	    "--log-level=debug", "--max-metrics=5", NULL };
	ck_assert_int_eq(run_args(&a, err, sizeof err, spaced), VT_CONFIG_RUN);
	ck_assert_str_eq(a.statsd_listen, "127.0.0.1:0");
	ck_assert_str_eq(a.http_listen, "[::1]:9");
	ck_assert_str_eq(a.data_dir, "/x");
	ck_assert_double_eq(a.flush_interval, 30);
	ck_assert_int_eq(a.log_level, VT_LOG_DEBUG);
	ck_assert_uint_eq(a.max_metrics, 5);
	ck_assert_int_eq(run_args(&b, err, sizeof err, joined), VT_CONFIG_RUN);
	assert_same(&a, &b);
}
END_TEST

START_TEST(amqp_and_relay_flags)
{
	struct vt_config a;
	char err[VT_ERR_LEN * 2];
	const char *args[] = { "--amqp", "amqp://g:g@h/", "--relay", NULL };
	ck_assert_int_eq(run_args(&a, err, sizeof err, args), VT_CONFIG_RUN);
	ck_assert_str_eq(a.amqp_url, "amqp://g:g@h/");
	ck_assert_int_eq(a.relay_enabled, 1);
	const char *off[] = { "--amqp", "amqp://h", "--relay=false", NULL };
	ck_assert_int_eq(run_args(&a, err, sizeof err, off), VT_CONFIG_RUN);
	ck_assert_int_eq(a.relay_enabled, 0);
	const char *alone[] = { "--relay", NULL };
	ck_assert_int_eq(run_args(&a, err, sizeof err, alone),
	    VT_CONFIG_ERROR);
	ck_assert_str_eq(err, "vitalsd: relay.enabled: relay mode needs "
	    "amqp.url (--amqp URL)");
	const char *order[] = { "--amqp", "amqp://h", NULL };
	ck_assert_int_eq(run_args(&a, err, sizeof err, order), VT_CONFIG_RUN);
	a.amqp_reconnect_min = 10;
	a.amqp_reconnect_max = 1;
	ck_assert_int_eq(vt_config_validate(&a, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "amqp.reconnect_max"));
	a.amqp_reconnect_max = 10;
	a.relay_batch_bytes = 1 << 20;
	a.relay_buffer = 1 << 19;
	ck_assert_int_eq(vt_config_validate(&a, err, sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: relay.buffer: must hold at least one "
	    "batch (relay.batch_bytes, 1048576)");
}
END_TEST

static const struct {
	const char *args[4];
	const char *msg;
} bad_args[] = {
	{ { "--frobnicate" }, "vitalsd: --frobnicate: unknown option (see --help)" },
	{ { "--frob=1" }, "vitalsd: --frob: unknown option (see --help)" },
	{ { "-x" }, "vitalsd: -x: unknown option (see --help)" },
	{ { "--help", "--frobnicate" },
	  "vitalsd: --frobnicate: unknown option (see --help)" },
	{ { "--flush" }, "vitalsd: --flush: missing value (see --help)" },
	{ { "-c" }, "vitalsd: -c: missing value (see --help)" },
	{ { "--flush", "ten" },
	  "vitalsd: --flush: expected a duration such as \"10s\", got \"ten\"" },
	{ { "--flush=" },
	  "vitalsd: --flush: expected a duration such as \"10s\", got \"\"" },
	{ { "--flush", "2h" },
	  "vitalsd: --flush: must be between 1s and 1h, got 2h" },
	{ { "--max-metrics", "0" },
	  "vitalsd: --max-metrics: must be between 1 and 100000000, got 0" },
	{ { "--max-metrics", "-5" },
	  "vitalsd: --max-metrics: expected a whole number, got \"-5\"" },
	{ { "--statsd", "8125" }, "vitalsd: --statsd: expected host:port such "
	  "as \"0.0.0.0:8125\", got \"8125\"" },
	{ { "--log-level", "loud" }, "vitalsd: --log-level: expected one of "
	  "debug, info, warn, error, got \"loud\"" },
	{ { "--amqp", "rabbit" },
	  "vitalsd: --amqp: expected an amqp:// or amqps:// URL" },
	{ { "--check-config=yes" }, "vitalsd: --check-config: takes no value" },
	{ { "extra" }, "vitalsd: extra: unexpected argument (see --help)" },
	{ { "--", "extra" }, "vitalsd: extra: unexpected argument (see --help)" },
	{ { "-c", "/nonexistent.json" },
	  "vitalsd: /nonexistent.json: No such file or directory" },
	{ { "--flush", "1h", "--max-metrics" },
	  "vitalsd: --max-metrics: missing value (see --help)" },
	{ { "--flush", "2m", "--http", ":8125" }, "vitalsd: http.listen: same "
	  "TCP address as statsd.listen (0.0.0.0:8125)" },
};

START_TEST(bad_arguments_give_one_line)
{
	struct vt_config c;
	char err[VT_ERR_LEN * 2];
	const char *args[5] = { NULL };
	for (size_t i = 0; i < 4 && bad_args[_i].args[i]; i++)
		args[i] = bad_args[_i].args[i];
	ck_assert_int_eq(run_args(&c, err, sizeof err, args), VT_CONFIG_ERROR);
	ck_assert_str_eq(err, bad_args[_i].msg);
}
END_TEST

START_TEST(cross_field_error_from_flags_names_the_file)
{
	struct vt_config c;
	char err[VT_ERR_LEN * 2], want[VT_ERR_LEN * 2];
	char *path = write_temp("{\"metric_ttl\": \"30m\"}");
	const char *args[] = { "-c", path, "--flush", "1h", NULL };
	ck_assert_int_eq(run_args(&c, err, sizeof err, args), VT_CONFIG_ERROR);
	snprintf(want, sizeof want, "vitalsd: %s: metric_ttl: must be at "
	    "least flush_interval (1h), got 30m", path);
	ck_assert_str_eq(err, want);

	/* An error inside the file names the file and the line. */
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\n  \"statsd\": {\n    \"listen\": \"0.0.0.0\"\n  }\n}\n", f);
	fclose(f);
	const char *args2[] = { "-c", path, NULL };
	ck_assert_int_eq(run_args(&c, err, sizeof err, args2),
	    VT_CONFIG_ERROR);
	snprintf(want, sizeof want, "vitalsd: %s: statsd.listen: expected "
	    "host:port such as \"0.0.0.0:8125\", got \"0.0.0.0\"", path);
	ck_assert_str_eq(err, want);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(help_lists_every_flag_with_its_default)
{
	struct vt_config c;
	struct out_capture cap;
	char err[VT_ERR_LEN * 2] = "";
	/* a broken -c file does not matter for --help */
	const char *args[] = { "-c", "/nonexistent.json", "--help", NULL };
	stdout_begin(&cap);
	enum vt_config_outcome o = run_args(&c, err, sizeof err, args);
	char *out = stdout_end(&cap);
	ck_assert_int_eq(o, VT_CONFIG_EXIT_OK);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(strncmp(out, "usage: vitalsd [-c FILE]", 24), 0);
	static const char *const expect[] = {
		"--statsd ADDR:PORT", "(default 0.0.0.0:8125;",
		"--http ADDR:PORT", "(default 0.0.0.0:8080;",
		"--data-dir DIR", "(default ./vitals-data;",
		"--amqp URL", "(default \"\";",
		"--flush SECONDS", "(default 10s;",
		"--max-metrics N", "(default 100000;",
		"--log-level LEVEL", "(default info;",
		"-c, --config FILE", "--check-config", "--version", "--help",
	};
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
		ck_assert_msg(strstr(out, expect[i]) != NULL, "no %s in:\n%s",
		    expect[i], out);
	free(out);
}
END_TEST

START_TEST(version_prints_name_and_version)
{
	struct vt_config c;
	struct out_capture cap;
	char err[VT_ERR_LEN * 2];
	const char *args[] = { "--version", NULL };
	stdout_begin(&cap);
	enum vt_config_outcome o = run_args(&c, err, sizeof err, args);
	char *out = stdout_end(&cap);
	ck_assert_int_eq(o, VT_CONFIG_EXIT_OK);
	ck_assert_str_eq(out, "vitalsd " VT_VERSION "\n");
	free(out);
}
END_TEST

/* ---- --check-config output ------------------------------------------- */

static char *print_config(const struct vt_config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	vt_config_print(c, f);
	fclose(f);
	return text;
}

START_TEST(print_round_trips_and_masks_secrets)
{
	struct vt_config c, back;
	vt_config_defaults(&c);
	apply_ok(&c, "{\"statsd\": {\"udp\": false, \"tcp_idle_timeout\": 1.5},"
	    "\"metric_ttl\": \"7d\","
	    "\"percentiles\": [99.9], \"data_dir\": \"/a \\\"b\\\"\","
	    "\"log\": {\"level\": \"error\"}}");
	char *text = print_config(&c);
	ck_assert_ptr_nonnull(strstr(text, "\t\"flush_interval\": \"10s\",\n"));
	ck_assert_ptr_nonnull(strstr(text, "\"metric_ttl\": \"7d\""));
	ck_assert_ptr_nonnull(strstr(text, "\"tcp_idle_timeout\": \"1.5s\""));
	ck_assert_ptr_nonnull(strstr(text, "\"percentiles\": [99.9]"));
	poison(&back);
	apply_ok(&back, text);
	assert_same(&c, &back);
	free(text);

	/* defaults print and reload to the defaults */
	vt_config_defaults(&c);
	text = print_config(&c);
	ck_assert_int_eq(strncmp(text, "{\n\t\"statsd\": {\n\t\t\"listen\": "
	    "\"0.0.0.0:8125\",\n", 39), 0);
	poison(&back);
	apply_ok(&back, text);
	assert_same(&c, &back);
	free(text);

	/* secrets */
	apply_ok(&c, "{\"http\": {\"token\": \"s3cret\"}, \"amqp\": {\"url\": "
	    "\"amqps://user:pa:ss@broker:5671/vh?x=@\"}}");
	text = print_config(&c);
	ck_assert_ptr_null(strstr(text, "s3cret"));
	ck_assert_ptr_null(strstr(text, "pa:ss"));
	ck_assert_ptr_nonnull(strstr(text, "\"token\": \"***\""));
	ck_assert_ptr_nonnull(strstr(text,
	    "\"url\": \"amqps://user:***@broker:5671/vh?x=@\""));
	free(text);
	apply_ok(&c, "{\"amqp\": {\"url\": \"amqp://broker/\"}}");
	text = print_config(&c);
	ck_assert_ptr_nonnull(strstr(text, "\"url\": \"amqp://broker/\""));
	free(text);
}
END_TEST

/* ---- the annotated example ------------------------------------------- */

START_TEST(example_file_gives_exactly_the_defaults)
{
	struct vt_config c, def;
	char err[VT_ERR_LEN * 2] = "";
	poison(&c);
	int rc = vt_config_json_load_file(&c, EXAMPLE, err, sizeof err);
	ck_assert_msg(rc == 0, "%s", err);
	vt_config_defaults(&def);
	assert_same(&c, &def);
	ck_assert_str_eq(c.config_file, EXAMPLE);

	/* and it is what -c loads on the real startup path */
	const char *args[] = { "-c", EXAMPLE, "--check-config", NULL };
	ck_assert_int_eq(run_args(&c, err, sizeof err, args), VT_CONFIG_RUN);
	assert_same(&c, &def);
}
END_TEST

START_TEST(example_file_explains_every_key)
{
	FILE *f = fopen(EXAMPLE, "r");
	ck_assert_ptr_nonnull(f);
	char text[16384];
	size_t len = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[len] = '\0';
	size_t n;
	const struct vt_cfg_key *keys = vt_config_keys_table(&n);
	for (size_t i = 0; i < n; i++) {
		const char *dot = strchr(keys[i].path, '.');
		char quoted[80];
		snprintf(quoted, sizeof quoted, "\"%s\":",
		    dot ? dot + 1 : keys[i].path);
		const char *at = strstr(text, quoted);
		ck_assert_msg(at != NULL, "%s missing", keys[i].path);
		/* a // comment within the three lines before the key */
		int nl = 0;
		const char *p = at;
		while (p > text && nl < 4)
			nl += *--p == '\n';
		ck_assert_msg(memmem(p, (size_t)(at - p), "//", 2) != NULL,
		    "%s has no comment", keys[i].path);
	}
}
END_TEST

Suite *vt_test_config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, defaults_match_the_spec);
	tcase_add_test(tc, key_table_is_well_formed);
	tcase_add_test(tc, every_key_set_from_a_file);
	tcase_add_test(tc, comments_are_stripped_but_not_inside_strings);
	tcase_add_test(tc, later_documents_override_earlier_ones);
	tcase_add_test(tc, strings_up_to_their_field_size);
	tcase_add_loop_test(tc, bad_documents_name_file_key_and_problem, 0,
	    sizeof bad_docs / sizeof bad_docs[0]);
	tcase_add_test(tc, unreadable_files_name_the_file_and_the_reason);
	tcase_add_test(tc, validate_cross_field_checks);
	tcase_add_loop_test(tc, graphite_keys_are_validated, 0,
	    sizeof bad_graphite / sizeof bad_graphite[0]);
	tcase_add_test(tc, graphite_keys_accept_their_forms);
	tcase_add_loop_test(tc, fleet_keys_are_validated, 0,
	    sizeof bad_fleet / sizeof bad_fleet[0]);
	tcase_add_test(tc, fleet_keys_defaults_and_bounds);
	tcase_add_loop_test(tc, duration_syntax, 0,
	    sizeof durations / sizeof durations[0]);
	tcase_add_test(tc, durations_as_json_numbers_and_strings);
	tcase_add_loop_test(tc, address_syntax, 0,
	    sizeof addrs / sizeof addrs[0]);
	tcase_add_test(tc, address_host_must_fit);
	tcase_add_test(tc, no_arguments_run_with_defaults);
	tcase_add_test(tc, flags_override_the_file);
	tcase_add_test(tc, every_flag_in_both_forms);
	tcase_add_test(tc, amqp_and_relay_flags);
	tcase_add_loop_test(tc, bad_arguments_give_one_line, 0,
	    sizeof bad_args / sizeof bad_args[0]);
	tcase_add_test(tc, cross_field_error_from_flags_names_the_file);
	tcase_add_test(tc, help_lists_every_flag_with_its_default);
	tcase_add_test(tc, version_prints_name_and_version);
	tcase_add_test(tc, print_round_trips_and_masks_secrets);
	tcase_add_test(tc, example_file_gives_exactly_the_defaults);
	tcase_add_test(tc, example_file_explains_every_key);
	tcase_add_test(tc, errors_name_the_line_of_the_key);
	suite_add_tcase(s, tc);
	return s;
}
