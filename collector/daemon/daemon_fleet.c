/*
 * daemon_fleet.c - the fleet wired into the daemon (daemon_fleet.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/parse.h"
#include "collector/base/xmalloc.h"
#include "collector/daemon/daemon_fleet.h"
#include "collector/fleet/fleet_amqp.h"
#include "dashboards/api/fleet_api.h"

struct vt_daemon_fleet {
	struct vt_config cfg;
	char name[VT_FLEET_NAME_MAX + 1];
	vt_fleet *fleet;
	_Atomic(vt_fleet_amqp *) amqp;   /* read by /metrics */
	vt_health *health;            /* borrowed, while tapped */
	vt_latest *latest;            /* borrowed */
	int stopped;
};

int vt_daemon_fleet_wanted(const struct vt_config *cfg)
{
	return !cfg->relay_enabled && cfg->amqp_url[0] &&
	    cfg->amqp_hash_exchange[0] && cfg->fleet_exchange[0];
}

/* The hostname as a fleet name: other characters become '-'. */
static void host_name(char *out, size_t outlen)
{
	char h[256] = "";
	if (gethostname(h, sizeof h - 1) < 0 || h[0] == '\0')
		snprintf(h, sizeof h, "localhost");
	size_t n = 0;
	for (const char *p = h; *p && n + 1 < outlen &&
	    n < VT_FLEET_NAME_MAX; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		out[n++] = ok ? c : '-';
	}
	out[n] = '\0';
}

/* fleet.url, else http://<listen host, or the hostname when it listens
 * on every address>:<port>. */
static int make_url(const struct vt_config *cfg, int port, char *out,
    size_t outlen)
{
	char host[VT_ADDR_LEN], hn[256] = "";
	int lport;
	if (cfg->fleet_url[0]) {
		snprintf(out, outlen, "%s", cfg->fleet_url);
		return vt_fleet_url_ok(out) ? 0 : -1;
	}
	if (vt_parse_addr(cfg->http_listen, host, sizeof host, &lport) < 0)
		host[0] = '\0';
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0) {
		if (gethostname(hn, sizeof hn - 1) < 0 || hn[0] == '\0')
			snprintf(hn, sizeof hn, "localhost");
		snprintf(host, sizeof host, "%s", hn);
	}
	int ipv6 = strchr(host, ':') != NULL;
	int n = snprintf(out, outlen, "%s://%s%s%s:%d",
	    cfg->http_tls_cert[0] ? "https" : "http", ipv6 ? "[" : "", host,
	    ipv6 ? "]" : "", port);
	return n > 0 && (size_t)n < outlen && vt_fleet_url_ok(out) ? 0 : -1;
}

vt_daemon_fleet *vt_daemon_fleet_create(const struct vt_config *cfg,
    char *err, size_t errlen)
{
	vt_daemon_fleet *df = vt_xcalloc(1, sizeof *df);
	df->cfg = *cfg;
	if (cfg->fleet_name[0])
		snprintf(df->name, sizeof df->name, "%.*s", VT_FLEET_NAME_MAX,
		    cfg->fleet_name);
	else
		host_name(df->name, sizeof df->name);
	if (!vt_fleet_name_ok(df->name)) {
		snprintf(err, errlen, "fleet.name: \"%s\" is not a usable name "
		    "(1-%d of letters, digits, '.', '_', '-')", df->name,
		    VT_FLEET_NAME_MAX);
		free(df);
		return NULL;
	}
	/* the URL is known once the HTTP port is bound (start) */
	df->fleet = vt_fleet_create(df->name, "http://localhost:0",
	    cfg->fleet_announce, vt_clock_now());
	return df;
}

vt_fleet *vt_daemon_fleet_members(vt_daemon_fleet *df)
{
	return df->fleet;
}

static void note_service(const char ***names, size_t *n, size_t *cap,
    const char *s)
{
	if (*n > 0 && strcmp((*names)[*n - 1], s) == 0)
		return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*names = vt_xrealloc(*names, *cap * sizeof **names);
	}
	(*names)[(*n)++] = s;
}

/* The services of the latest window (and the catalogue) are ours. */
static void refresh(void *ctx)
{
	vt_daemon_fleet *df = ctx;
	if (df->stopped)
		return;
	struct vt_flush *f = vt_latest_get(df->latest);
	const char **names = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; f != NULL && i < f->nmetrics; i++)
		note_service(&names, &n, &cap, f->metrics[i].series->service);
	vt_fleet_set_services(df->fleet, names, n);
	free(names);
	vt_flush_release(f);
}

static void collect(void *ctx, struct vt_buf *out, enum vt_prom_format fmt)
{
	vt_daemon_fleet *df = ctx;
	vt_fleet_amqp *fa = atomic_load(&df->amqp);
	if (fa != NULL)
		vt_fleet_amqp_collect(fa, out, fmt);
}

void vt_daemon_fleet_add_routes(vt_daemon_fleet *df, vt_http *http,
    struct vt_prom *prom)
{
	vt_fleet_api_register(http, df->fleet);
	vt_prom_add_collector(prom, collect, df);
}

int vt_daemon_fleet_start(vt_daemon_fleet *df, int http_port,
    vt_loop *loop, vt_health *health, vt_latest *latest, vt_inbox *inbox,
    char *err, size_t errlen)
{
	char url[VT_FLEET_URL_MAX + 1];
	if (make_url(&df->cfg, http_port, url, sizeof url) < 0) {
		snprintf(err, errlen, "fleet.url: no usable URL (\"%s\"); set "
		    "fleet.url", url);
		return -1;
	}
	vt_fleet_set_url(df->fleet, url);
	df->latest = latest;
	refresh(df);
	int rc = vt_loop_add_timer(loop, df->cfg.fleet_announce, 0, refresh,
	    df);
	if (rc < 0) {
		snprintf(err, errlen, "fleet timer: %s", strerror(-rc));
		return -1;
	}
	vt_fleet_amqp *fa = vt_fleet_amqp_create(&df->cfg, df->fleet, inbox,
	    err, errlen);
	if (fa == NULL)
		return -1;
	atomic_store(&df->amqp, fa);
	df->health = health;
	vt_health_set_tap(health, vt_fleet_amqp_submit, fa);
	return 0;
}

void vt_daemon_fleet_stop(vt_daemon_fleet *df)
{
	if (df == NULL || df->stopped)
		return;
	df->stopped = 1;
	if (df->health)
		vt_health_set_tap(df->health, NULL, NULL);
	vt_fleet_amqp_stop(atomic_load(&df->amqp));
}

void vt_daemon_fleet_destroy(vt_daemon_fleet *df)
{
	if (df == NULL)
		return;
	vt_daemon_fleet_stop(df);
	vt_fleet_amqp_destroy(atomic_load(&df->amqp));
	vt_fleet_destroy(df->fleet);
	free(df);
}

int vt_daemon_fleet_notifies(void *ctx, const char *origin)
{
	vt_daemon_fleet *df = ctx;
	return vt_fleet_notifies(df->fleet, origin, vt_clock_now());
}
