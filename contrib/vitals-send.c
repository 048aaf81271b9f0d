/*
 * vitals-send.c - push a healthcheck or a metric to vitalsd from shell
 * scripts and cron jobs, with the C client (vitals_client.h):
 *
 *   vitals-send check backup nightly ok --ttl 26h --output "3.2 GB"
 *   vitals-send timing payments http.get 12.5
 *   vitals-send --http http://collector:8080 check db repl critical
 *   vitals-send timing checkout http.client 84 --peer payments --tag status:200
 *
 * Build: cc -Iinclude -o vitals-send contrib/vitals-send.c
 *        contrib/client/vitals_client.c -lm
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vitals_client.h"

#define MAX_ARGS 8
#define MAX_TAGS 16

static const char usage[] =
"usage: vitals-send [options] check SERVICE CHECK STATUS\n"
"       vitals-send [options] timing SERVICE METRIC MILLISECONDS\n"
"       vitals-send [options] count SERVICE METRIC [N]\n"
"       vitals-send [options] gauge SERVICE METRIC VALUE\n"
"\n"
"STATUS is ok, warning, critical, unknown or 0-3.\n"
"options (anywhere on the line):\n"
"  -H, --host HOST       collector host for UDP ($VITALS_HOST, 127.0.0.1)\n"
"  -p, --port PORT       collector statsd port ($VITALS_PORT, 8125)\n"
"  --http URL            POST over HTTP instead, e.g. http://host:8080\n"
"                        ($VITALS_URL); reports rejected input\n"
"  --token TOKEN         bearer token for --http ($VITALS_TOKEN)\n"
"  -t, --ttl DURATION    check TTL: seconds or 30s, 5m, 26h, 7d (60s)\n"
"  -o, --output TEXT     check output; - reads it from standard input\n"
"  -i, --instance ID     check instance (default: this host's address)\n"
"  --peer SERVICE        metrics: a call to SERVICE, for the service map\n"
"                        (adds the tag peer.service:SERVICE)\n"
"  --tag KEY[:VALUE]     metrics: a DogStatsD tag, e.g. status:503 or\n"
"                        error:true; repeatable (up to 16)\n"
"  -h, --help            this text\n"
"exit status: 0 sent, 1 not sent or rejected, 2 usage error\n";

struct opts {
	const char *host, *port, *url, *token, *output, *instance, *peer;
	double ttl;
	const char *tags[MAX_TAGS];
	int ntags;
	const char *args[MAX_ARGS];
	int nargs;
};

static int fail_usage(const char *fmt, const char *what)
{
	fprintf(stderr, "vitals-send: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n%s", usage);
	return 2;
}

/* "30", "1.5", "30s", "5m", "26h", "7d", "2w", "250ms" -> seconds. */
static int parse_duration(const char *s, double *out)
{
	static const struct { const char *unit; double mul; } units[] = {
		{ "", 1 }, { "ms", 0.001 }, { "s", 1 }, { "m", 60 },
		{ "h", 3600 }, { "d", 86400 }, { "w", 604800 },
	};
	char *end;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	double v = strtod(s, &end);
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].unit) == 0 && isfinite(v) && v > 0) {
			*out = v * units[i].mul;
			return 0;
		}
	}
	return -1;
}

static int parse_number(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && isfinite(*out) ?
	    0 : -1;
}

/* Options may come anywhere; the rest are the command and its words. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			exit(0);
		}
		if (strcmp(a, "-H") == 0 || strcmp(a, "--host") == 0)
			dst = &o->host;
		else if (strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0)
			dst = &o->port;
		else if (strcmp(a, "--http") == 0)
			dst = &o->url;
		else if (strcmp(a, "--token") == 0)
			dst = &o->token;
		else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
			dst = &o->output;
		else if (strcmp(a, "-i") == 0 || strcmp(a, "--instance") == 0)
			dst = &o->instance;
		else if (strcmp(a, "--peer") == 0)
			dst = &o->peer;
		else if (strcmp(a, "--tag") == 0) {
			if (o->ntags == MAX_TAGS)
				return fail_usage("%s: at most 16 tags", a);
			dst = &o->tags[o->ntags++];
		}
		if (dst != NULL || strcmp(a, "-t") == 0 ||
		    strcmp(a, "--ttl") == 0) {
			if (i + 1 >= argc)
				return fail_usage("%s needs a value", a);
			if (dst != NULL)
				*dst = argv[++i];
			else if (parse_duration(argv[++i], &o->ttl) < 0)
				return fail_usage("--ttl: not a duration: %s",
				    argv[i]);
			continue;
		}
		if (a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9'))
			return fail_usage("unknown option %s", a);
		if (o->nargs == MAX_ARGS)
			return fail_usage("too many arguments at %s", a);
		o->args[o->nargs++] = a;
	}
	return 0;
}

/* Standard input as the output text (at most what the collector keeps). */
static const char *read_stdin(char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	while (n < len - 1 && (r = read(0, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	return buf;
}

static int run(vitals_client *c, const struct opts *o)
{
	const char *cmd = o->args[0];
	double v = 1;
	enum vitals_status st;
	char text[4 * VITALS_OUTPUT_MAX];

	if ((o->peer || o->ntags) && strcmp(cmd, "check") == 0)
		return fail_usage("%s", "--peer and --tag are for metrics");
	if (strcmp(cmd, "check") == 0) {
		if (o->nargs != 4)
			return fail_usage("%s: needs SERVICE CHECK STATUS", cmd);
		if (vitals_status_parse(o->args[3], &st) < 0)
			return fail_usage("not a status: %s (ok, warning, "
			    "critical, unknown or 0-3)", o->args[3]);
		const char *out = o->output;
		if (out != NULL && strcmp(out, "-") == 0)
			out = read_stdin(text, sizeof text);
		if (o->instance)
			vitals_client_set_instance(c, o->instance);
		return vitals_client_check(c, o->args[1], o->args[2], st, out,
		    o->ttl);
	}
	int count = strcmp(cmd, "count") == 0;
	if (strcmp(cmd, "timing") != 0 && !count && strcmp(cmd, "gauge") != 0)
		return fail_usage("unknown command: %s", cmd);
	if (o->nargs != 4 && !(count && o->nargs == 3))
		return fail_usage("%s: needs SERVICE METRIC VALUE", cmd);
	if (o->nargs == 4 && parse_number(o->args[3], &v) < 0)
		return fail_usage("not a number: %s", o->args[3]);
	const char *tags[MAX_TAGS + 1];
	char peer[1024];
	size_t n = 0;
	if (o->peer) {
		if (o->peer[0] == '\0')
			return fail_usage("%s", "--peer: an empty service");
		snprintf(peer, sizeof peer, "peer.service:%s", o->peer);
		tags[n++] = peer;
	}
	for (int i = 0; i < o->ntags; i++)
		tags[n++] = o->tags[i];
	if (count)
		return vitals_client_count_tags(c, o->args[1], o->args[2], v,
		    tags, n);
	if (strcmp(cmd, "timing") == 0)
		return vitals_client_timing_tags(c, o->args[1], o->args[2], v,
		    tags, n);
	return vitals_client_gauge_tags(c, o->args[1], o->args[2], v, tags, n);
}

int main(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof o);
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc;
	if (o.nargs == 0)
		return fail_usage("%s", "a command is required");
	if (o.url == NULL && getenv("VITALS_URL") && !o.host && !o.port)
		o.url = getenv("VITALS_URL");

	vitals_client *c = o.url ? vitals_client_open_http(o.url, o.token) :
	    vitals_client_open(o.host, o.port);
	if (c == NULL) {
		fprintf(stderr, "vitals-send: %s: %s\n", o.url ? o.url :
		    o.host ? o.host : "collector", strerror(errno));
		return 1;
	}
	rc = run(c, &o);
	if (rc < 0) {
		const char *why = vitals_client_error(c);
		fprintf(stderr, "vitals-send: not sent: %s\n", why[0] ? why :
		    strerror(-rc));
		rc = 1;
	}
	vitals_client_close(c);
	return rc;
}
