/*
 * vitals_client.h - push healthchecks and metrics to vitalsd from C, one
 * call each. The public client API, installed with the daemon and built
 * from contrib/client/vitals_client.c into a static library; it depends
 * on libc only and shares no code with the daemon.
 *
 *   vitals_client *vc = vitals_client_open(NULL, NULL);
 *   vitals_client_check(vc, "payments", "cassandra", VITALS_OK,
 *       "3/3 nodes up", 30);
 *   vitals_client_timing(vc, "payments", "http.get", 12.5);
 *   vitals_client_call(vc, "payments", "ledger", "rpc.client", 8.1, 200);
 *   vitals_client_close(vc);
 *
 * Wire formats, the ones vitalsd documents (SPEC 3): a check is one JSON
 * object {"service", "check", "status", "output", "ttl"[, "instance"]};
 * a metric is one statsd line "<metric>:<value>|<type>|#service:<svc>"
 * (then ",<tag>..." for the _tags calls; a call to another service
 * carries "peer.service:<callee>").
 * Over UDP (the default: fire and forget, one datagram per call, never
 * blocks the caller on the collector) or, with vitals_client_open_http,
 * as HTTP POSTs to /api/v1/health and /api/v1/metrics, which report
 * rejections (vitals_client_error).
 *
 * Text: output is cut to 1024 bytes at a UTF-8 character boundary (the
 * collector's limit); in metric lines the bytes ':', '|', '#', ',', '@'
 * and control characters of names become '_', so a line always parses.
 *
 * Names use the vitals_ prefix: this is a library for other programs, so
 * it stays out of the daemon's vt_ namespace. A vitals_client is safe to
 * use from several threads at once in UDP mode (each call is one
 * sendto); in HTTP mode, use one per thread.
 */
#ifndef VITALS_CLIENT_H
#define VITALS_CLIENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VITALS_OUTPUT_MAX 1024

enum vitals_status {
	VITALS_OK = 0,
	VITALS_WARNING = 1,
	VITALS_CRITICAL = 2,
	VITALS_UNKNOWN = 3
};

typedef struct vitals_client vitals_client;

/*
 * UDP to host:port; NULL arguments come from the environment (VITALS_HOST,
 * VITALS_PORT) or default to 127.0.0.1 and 8125. Returns NULL with errno
 * set when the name does not resolve or no socket can be made.
 */
vitals_client *vitals_client_open(const char *host, const char *port);

/*
 * HTTP to url ("http://host:8080", no TLS); token, when not NULL or "",
 * is sent as a bearer token (vitalsd's http.token). NULL url: VITALS_URL.
 * Returns NULL with errno set (EINVAL for a malformed url).
 */
vitals_client *vitals_client_open_http(const char *url, const char *token);

/* Close and free. NULL ok. */
void vitals_client_close(vitals_client *c);

/* Report checks under this instance name instead of the sender's IP
 * address (the collector's default). NULL restores the default. */
void vitals_client_set_instance(vitals_client *c, const char *instance);

/*
 * One healthcheck. ttl_seconds <= 0 leaves the TTL to the collector
 * (60 s). output may be NULL. Returns 0, or -errno (-EMSGSIZE for names
 * too long for one datagram; HTTP: -EPROTO when the collector refused
 * it, see vitals_client_error).
 */
int vitals_client_check(vitals_client *c, const char *service,
    const char *check, enum vitals_status status, const char *output,
    double ttl_seconds);

/* Metrics of a service: a timer in milliseconds, a counter increment,
 * a gauge value. 0 or -errno as above. */
int vitals_client_timing(vitals_client *c, const char *service,
    const char *metric, double milliseconds);
int vitals_client_count(vitals_client *c, const char *service,
    const char *metric, double n);
int vitals_client_gauge(vitals_client *c, const char *service,
    const char *metric, double value);

/*
 * The same with DogStatsD tags: tags[0..ntags) are "key:value" (or bare
 * "key") strings, e.g. "route:/pay"; in each, ',', '|', '#', '@' and
 * control characters become '_'; empty tags and a "service" tag (the
 * service argument says it) are left out. tags may be NULL when ntags
 * is 0. 0 or -errno as above.
 */
int vitals_client_timing_tags(vitals_client *c, const char *service,
    const char *metric, double milliseconds, const char *const *tags,
    size_t ntags);
int vitals_client_count_tags(vitals_client *c, const char *service,
    const char *metric, double n, const char *const *tags, size_t ntags);
int vitals_client_gauge_tags(vitals_client *c, const char *service,
    const char *metric, double value, const char *const *tags,
    size_t ntags);

/*
 * One call from service to another, for the service map (/map): a timer
 * of milliseconds tagged peer.service:<peer>, and status:<code> when
 * status > 0 (an HTTP status: 500-599 count as failed calls, so does
 * status 0 with the tag error:true through vitals_client_timing_tags).
 *
 *   vitals_client_call(vc, "checkout", "payments", "http.client", 84, 200);
 */
int vitals_client_call(vitals_client *c, const char *service,
    const char *peer, const char *metric, double milliseconds, int status);

/* The collector's answer to the last failed HTTP call ("" if none).
 * Valid until the next call on c. */
const char *vitals_client_error(const vitals_client *c);

/* "ok", "warning", "critical", "unknown" (any case) or "0"-"3".
 * 0 and *out, or -1. */
int vitals_status_parse(const char *text, enum vitals_status *out);

/*
 * The wire text, for tests and tools: the JSON check object and the
 * statsd line ("c", "ms" or "g" as type). instance may be NULL. Return
 * the length written (NUL-terminated), or -1 when it does not fit.
 */
int vitals_format_check(char *buf, size_t len, const char *service,
    const char *instance, const char *check, enum vitals_status status,
    const char *output, double ttl_seconds);
int vitals_format_metric(char *buf, size_t len, const char *service,
    const char *metric, double value, const char *type);
/* With tags, as vitals_client_timing_tags sends them. */
int vitals_format_metric_tags(char *buf, size_t len, const char *service,
    const char *metric, double value, const char *type,
    const char *const *tags, size_t ntags);

#ifdef __cplusplus
}
#endif

#endif
