/*
 * fleet.h - the collectors of one fleet (docs/amqp.md, "Fleet"): who is
 * there, who is gone, which collector holds a service's metrics, which
 * one notifies for a service's alerts, and the announcement each
 * collector publishes about itself every `announce` seconds.
 *
 * Membership: a collector is up while its last announcement is less than
 * VT_FLEET_GONE_AFTER of its own announce intervals old, then gone; it
 * stays listed as gone (at most VT_FLEET_MAX_MEMBERS collectors are
 * remembered; past it the one gone longest makes room). This collector
 * is always up.
 *
 * Announcements come from the network: vt_fleet_announce_parse bounds
 * every field (name, URL, services) and refuses what does not fit.
 *
 * Threads: every function takes the fleet's lock; any thread may call
 * any of them. Strings passed in are copied.
 */
#ifndef VT_FLEET_H
#define VT_FLEET_H

#include <stddef.h>

#include "collector/base/buf.h"

#define VT_FLEET_NAME_MAX 64          /* bytes of a collector's name */
#define VT_FLEET_URL_MAX 255          /* bytes of its advertised URL */
#define VT_FLEET_MAX_MEMBERS 256      /* collectors remembered */
#define VT_FLEET_MAX_SERVICES 100000  /* services in one announcement */
#define VT_FLEET_SERVICE_MAX 255      /* bytes of one service name */
#define VT_FLEET_GONE_AFTER 3         /* announce intervals unheard */
#define VT_FLEET_ANNOUNCE_MIN 0.1     /* bounds of an announced interval */
#define VT_FLEET_ANNOUNCE_MAX 3600.0

enum vt_fleet_state {
	VT_FLEET_UNKNOWN = 0,         /* never heard of */
	VT_FLEET_UP,
	VT_FLEET_GONE
};

/* "unknown", "up", "gone". */
const char *vt_fleet_state_name(enum vt_fleet_state s);

/* A collector's announcement, parsed (services owned, sorted, unique). */
struct vt_fleet_announce {
	char name[VT_FLEET_NAME_MAX + 1];
	char url[VT_FLEET_URL_MAX + 1];
	double started;               /* unix seconds */
	double announce;              /* its interval, seconds */
	size_t nservices;
	char **services;              /* owned; vt_fleet_announce_fini */
};

/* 1 when s is a usable name: 1..VT_FLEET_NAME_MAX of [A-Za-z0-9._-]. */
int vt_fleet_name_ok(const char *s);

/* 1 when s is a usable URL: http:// or https://, a host, at most
 * VT_FLEET_URL_MAX bytes, no spaces, quotes, backslashes or controls. */
int vt_fleet_url_ok(const char *s);

/* Parse an announcement body (JSON, see vt_fleet_announce_json). 0, or
 * -1 with why set; a is then empty (fini is still fine). */
int vt_fleet_announce_parse(const char *body, size_t len,
    struct vt_fleet_announce *a, char *why, size_t whylen);
void vt_fleet_announce_fini(struct vt_fleet_announce *a);

typedef struct vt_fleet vt_fleet;

/* This collector: name and url must be ok (above); announce in seconds;
 * started, unix seconds. */
vt_fleet *vt_fleet_create(const char *name, const char *url,
    double announce, double started);
void vt_fleet_destroy(vt_fleet *f);   /* NULL ok */

/* This collector's name and URL (fixed at create; valid while f is). */
const char *vt_fleet_name(const vt_fleet *f);
const char *vt_fleet_url(const vt_fleet *f);

/* This collector's start time (unix seconds, as created). */
double vt_fleet_started(const vt_fleet *f);

/* Set this collector's URL (once its HTTP port is bound; must be ok). */
void vt_fleet_set_url(vt_fleet *f, const char *url);

/* The services whose metrics this collector holds (copied). */
void vt_fleet_set_services(vt_fleet *f, const char *const *names, size_t n);

/* Whether this collector holds metrics of service. */
int vt_fleet_holds(vt_fleet *f, const char *service);

/* This collector's announcement, appended to out (JSON). */
void vt_fleet_announce_json(vt_fleet *f, struct vt_buf *out);

/* Another collector was heard at now: takes over a's services (a is
 * left empty). 0; -EEXIST when a names this collector (ignored);
 * -ENOSPC when the fleet is full of collectors that are up. */
int vt_fleet_heard(vt_fleet *f, struct vt_fleet_announce *a, double now);

/* The state of a collector by name (this one: up). */
enum vt_fleet_state vt_fleet_state(vt_fleet *f, const char *name,
    double now);

/*
 * Where the metrics of service are, when not here: 1 and the URL of an
 * up collector that announced it (copied into url), else 0. A service
 * this collector holds itself gives 0.
 */
int vt_fleet_metrics_owner(vt_fleet *f, const char *service, double now,
    char *url, size_t urllen);

/*
 * Whether this collector sends the notifications of a service whose
 * latest check report came from `origin` (NULL or "" or this name: this
 * collector). An up origin notifies itself; when the origin is gone or
 * unknown, the up collector with the smallest name takes over.
 */
int vt_fleet_notifies(vt_fleet *f, const char *origin, double now);

/* Collectors known (this one included). */
size_t vt_fleet_size(vt_fleet *f);

/* {"self": name, "collectors": [{"name", "url", "state", "self",
 * "last_seen", "started", "services"}...]} sorted by name (appends). */
void vt_fleet_collectors_json(vt_fleet *f, struct vt_buf *out, double now);

/* Prometheus HTTP service discovery: one target group per up collector
 * (this one included): [{"targets": ["host:port"], "labels":
 * {"collector": name[, "__scheme__": "https"]}}] (appends). */
void vt_fleet_sd_json(vt_fleet *f, struct vt_buf *out, double now);

/* "host:port" of a URL (the default port of its scheme when it has
 * none) into out. 0, or -1 when it has no host. */
int vt_fleet_url_target(const char *url, char *out, size_t outlen);

#endif
