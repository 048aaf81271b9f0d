/*
 * daemon_health.c - the healthcheck subsystem wired into the daemon (daemon_health.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/xmalloc.h"
#include "collector/config/config.h"
#include "collector/daemon/daemon_health.h"
#include "collector/health/health_ingest.h"
#include "collector/health/health_prom.h"
#include "collector/health/health_store.h"
#include "dashboards/api/api.h"
#include "dashboards/api/events.h"
#include "exporters/recent/latest.h"
#include "exporters/recent/trends.h"

#define EVENTS_EVERY 4              /* ticks between heartbeat checks */

struct vt_daemon_health {
	char data_dir[VT_PATH_LEN];
	vt_agg *agg;                    /* borrowed */
	vt_health *health;
	vt_health_saver *saver;
	vt_latest *latest;
	vt_trends *trends;              /* borrowed, or NULL */
	vt_calls *calls;                /* borrowed, or NULL */
	vt_events *events;
	struct vt_api api;
	vt_fleet *fleet;                /* borrowed, or NULL */
	unsigned ticks;
};

static void on_tick(void *ctx)
{
	vt_daemon_health *hd = ctx;
	double now = vt_clock_now();
	vt_health_tick(hd->health, now);
	if (++hd->ticks % EVENTS_EVERY == 0)
		vt_events_tick(hd->events, now);
}

struct revive {
	vt_agg *agg;
	double since;                   /* seen after: still in memory */
	size_t n;
};

static void revive_one(void *ctx, struct vt_series *s, double last_seen,
    double value)
{
	struct revive *r = ctx;
	if (last_seen > r->since && vt_agg_restore(r->agg, s, last_seen,
	    value) == 0)
		r->n++;
}

/* The metrics of the last run still within metric_ttl go back into the
 * aggregator, so /metrics lists them (a gauge with its value) as before
 * the restart, until they expire like any idle metric. */
static void revive_metrics(vt_daemon_health *hd, double metric_ttl,
    double now)
{
	struct revive r = { hd->agg, now - metric_ttl, 0 };
	vt_latest_each(hd->latest, revive_one, &r);
	if (r.n > 0)
		vt_log_info("catalogue", "%zu metrics seen within metric_ttl "
		    "are live again", r.n);
}

static void restore(vt_daemon_health *hd, double now)
{
	char err[VT_ERR_LEN];
	size_t skipped;
	int n = vt_health_store_load(hd->health, hd->data_dir, now, &skipped,
	    err, sizeof err);
	if (n < 0)
		vt_log_error("health", "%s", err);
	else if (skipped > 0)
		vt_log_warn("health", "%s", err);
	if (n > 0)
		vt_log_info("health", "restored %d checks from %s/%s", n,
		    hd->data_dir, VT_HEALTH_STORE_FILE);
	vt_health_publish(hd->health, now);
}

vt_daemon_health *vt_daemon_health_create(const struct vt_daemon_health_config *cfg,
    vt_loop *loop, vt_ingest *ingest, vt_agg *agg, char *err, size_t errlen)
{
	const struct vt_config *c = cfg->cfg;
	struct vt_health_config hc = {
		.max_checks = c->health_max_checks,
		.publish_interval = VT_DAEMON_HEALTH_TICK,
	};
	struct vt_latest_config lc = {
		.data_dir = c->data_dir,
		.retire_after = c->retire_after,
		.max_metrics = c->max_metrics,
		.flush_interval = c->flush_interval,
		.npercentiles = c->npercentiles,
	};
	memcpy(lc.percentiles, c->percentiles, sizeof lc.percentiles);
	vt_daemon_health *hd = vt_xcalloc(1, sizeof *hd);
	snprintf(hd->data_dir, sizeof hd->data_dir, "%s", c->data_dir);
	hd->agg = agg;
	hd->health = vt_health_create(&hc);
	hd->latest = vt_latest_create(&lc);
	revive_metrics(hd, c->metric_ttl, vt_clock_now());
	hd->events = vt_events_create(hd->health);
	vt_health_add_listener(hd->health, vt_events_on_health, hd->events);
	restore(hd, vt_clock_now());

	hd->saver = vt_health_store_saver_start(hd->health, hd->data_dir,
	    c->health_save_interval, err, errlen);
	if (hd->saver == NULL)
		goto fail;
	int rc = vt_loop_add_timer(loop, VT_DAEMON_HEALTH_TICK, 0, on_tick, hd);
	if (rc < 0) {
		snprintf(err, errlen, "health timer: %s", strerror(-rc));
		goto fail;
	}
	struct vt_ingest_checks hooks = vt_health_ingest_hooks(hd->health);
	vt_ingest_set_checks(ingest, &hooks);
	return hd;
fail:
	vt_daemon_health_destroy(hd);
	return NULL;
}

struct vt_sink vt_daemon_health_sink(vt_daemon_health *hd)
{
	return vt_latest_sink(hd->latest);
}

void vt_daemon_health_add_routes(vt_daemon_health *hd, struct vt_prom *prom,
    vt_http *http, vt_inbox *inbox)
{
	vt_prom_add_collector(prom, vt_health_prom_collect, hd->health);
	hd->api = (struct vt_api){ hd->health, hd->latest, inbox, hd->fleet };
	vt_api_register(http, &hd->api);
	vt_events_register(hd->events, http);
}

void vt_daemon_health_set_fleet(vt_daemon_health *hd, vt_fleet *fleet)
{
	hd->fleet = fleet;
}

/* "<origin>\n<json>" from the fleet's exchange (fleet_amqp.h). */
static int apply_fleet(vt_daemon_health *hd, const struct vt_inbox_msg *m,
    double now)
{
	char origin[VT_FLEET_NAME_MAX + 1];
	const char *nl = memchr(m->body, '\n', m->len);
	size_t n = nl ? (size_t)(nl - m->body) : 0;
	if (nl == NULL || n == 0 || n > VT_FLEET_NAME_MAX)
		return -EINVAL;
	memcpy(origin, m->body, n);
	origin[n] = '\0';
	if (!vt_fleet_name_ok(origin) || (hd->fleet != NULL &&
	    strcmp(origin, vt_fleet_name(hd->fleet)) == 0))
		return -EINVAL;
	return vt_health_ingest_json_from(hd->health, nl + 1,
	    m->len - n - 1, NULL, now, origin);
}

int vt_daemon_health_apply(vt_daemon_health *hd, const struct vt_inbox_msg *m)
{
	double now = vt_clock_now();
	if (m->kind == VT_INBOX_CHECKS)
		return vt_health_ingest_json(hd->health, m->body, m->len,
		    m->peer, now);
	if (m->kind == VT_INBOX_FLEET_CHECKS)
		return apply_fleet(hd, m, now);
	if (m->kind != VT_INBOX_FORGET_SERVICE)
		return -EINVAL;
	/* Every view at once: the health snapshot, and the last window and
	 * the tiles, which would otherwise list its metrics until the next
	 * flush (the aggregator no longer has them for that one). */
	size_t checks = vt_health_forget_service(hd->health, m->body, now);
	size_t metrics = vt_agg_forget_service(hd->agg, m->body);
	vt_latest_forget(hd->latest, m->body, now);
	if (hd->trends)
		vt_trends_forget(hd->trends, m->body, now);
	if (hd->calls)
		vt_calls_forget(hd->calls, m->body);
	vt_log_info("health", "service %s forgotten: %zu checks, %zu metrics",
	    m->body, checks, metrics);
	vt_health_publish(hd->health, now);
	return 0;
}

void vt_daemon_health_set_views(vt_daemon_health *hd, vt_trends *trends,
    vt_calls *calls)
{
	hd->trends = trends;
	hd->calls = calls;
	vt_latest_feed(hd->latest, vt_trends_sink(trends));
	vt_latest_feed(hd->latest, vt_calls_sink(calls));
}

void vt_daemon_health_stop(vt_daemon_health *hd)
{
	vt_health_publish(hd->health, vt_clock_now());
	vt_health_store_saver_stop(hd->saver);
	hd->saver = NULL;
}

void vt_daemon_health_close_streams(vt_daemon_health *hd)
{
	if (hd != NULL)
		vt_events_shutdown(hd->events);
}

void vt_daemon_health_destroy(vt_daemon_health *hd)
{
	if (hd == NULL)
		return;
	vt_health_store_saver_stop(hd->saver);
	vt_events_destroy(hd->events);
	vt_latest_destroy(hd->latest);
	vt_health_destroy(hd->health);
	free(hd);
}

vt_health *vt_daemon_health_registry(vt_daemon_health *hd)
{
	return hd->health;
}

vt_latest *vt_daemon_health_latest(vt_daemon_health *hd)
{
	return hd->latest;
}
