/*
 * amqp_url.h - AMQP URIs (SPEC 3.3),
 * amqp[s]://[user[:pass]@]host[:port][/vhost], parsed into a plain struct,
 * and redacted for logs and pages.
 *
 * Rules: the port defaults to 5672 (amqp) or 5671 (amqps); user, password,
 * host and vhost are percent-decoded; "[v6]" hosts are allowed; a missing
 * or empty path is the vhost "/" (the AMQP URI spec reads "host/" as the
 * empty vhost, which RabbitMQ cannot have; we take the default instead),
 * "/%2f" is "/" too, "/prod" is "prod". A query string (?heartbeat=...)
 * is ignored. Credentials missing from the URL come from the environment
 * (VITALS_AMQP_USER, VITALS_AMQP_PASSWORD), else "guest".
 *
 * Pure functions over caller memory; nothing allocates.
 */
#ifndef VT_AMQP_URL_H
#define VT_AMQP_URL_H

#include <stddef.h>

#define VT_AMQP_HOST_MAX 256
#define VT_AMQP_CRED_MAX 256
#define VT_AMQP_VHOST_MAX 256

struct vt_amqp_url {
	int tls;                          /* amqps:// */
	char host[VT_AMQP_HOST_MAX];      /* without brackets */
	int port;
	char user[VT_AMQP_CRED_MAX];
	char password[VT_AMQP_CRED_MAX];  /* secret: never log or show */
	char vhost[VT_AMQP_VHOST_MAX];
	int user_from_url, password_from_url;
};

/* Parse url. 0, or -1 with `why` set ("bad port", ...; never quoting the
 * password). Environment fallbacks are applied (getenv). */
int vt_amqp_url_parse(const char *url, struct vt_amqp_url *out, char *why,
    size_t whylen);

/* The URL with any password replaced by "***" (user kept), written into
 * out (always NUL-terminated, cut if too small). Returns out. */
const char *vt_amqp_url_redact(const char *url, char *out, size_t outlen);

/* "amqps://user@host:5671/vhost" from a parsed URL: for logs. */
const char *vt_amqp_url_describe(const struct vt_amqp_url *u, char *out,
    size_t outlen);

#endif
