/*
 * daemon_alerts.c - alerts and hooks wired into the daemon (daemon_alerts.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/alerts/alert_engine.h"
#include "collector/alerts/alert_store.h"
#include "collector/alerts/expect.h"
#include "collector/alerts/hook_webhook.h"
#include "collector/alerts/hooks.h"
#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/xmalloc.h"
#include "collector/config/config_json.h"
#include "collector/daemon/daemon_alerts.h"
#include "collector/ingest/inbox.h"
#include "dashboards/api/alerts_api.h"

/* Alert state is saved at most this often (seconds), and at exit. */
#define SAVE_GAP 1.0

struct vt_daemon_alerts {
	char config_file[VT_PATH_LEN];
	char data_dir[VT_PATH_LEN];   /* "" until the state was loaded */
	double saved_at;
	size_t npercentiles;
	double percentiles[VT_MAX_PERCENTILES];
	vt_hooks *hooks;
	vt_alert_engine *engine;
	vt_expect *expect;
	vt_inbox *inbox;              /* borrowed, for the expectations */
	unsigned long long expect_dropped;   /* bodies the inbox refused */
};

/* The engine's notification: the event to every hook of its rule. */
static void notify(void *ctx, struct vt_alert_config *cfg,
    const struct vt_alert_event *ev)
{
	vt_daemon_alerts *ad = ctx;
	struct vt_buf json;
	char **env = NULL;

	vt_buf_init(&json);
	for (size_t i = 0; i < cfg->nhooks; i++) {
		const struct vt_hook_cfg *h = &cfg->hooks[i];
		if (!vt_alert_config_rule_uses_hook(ev->rule, h))
			continue;
		if (env == NULL) {
			vt_alert_event_json(ev, &json);
			env = vt_alert_event_env(ev);
		}
		vt_hooks_submit(ad->hooks, cfg, h, json.data, env);
	}
	vt_alert_event_env_free(env);
	vt_buf_fini(&json);
}

static void save(vt_daemon_alerts *ad, double now)
{
	char err[VT_ERR_LEN + VT_PATH_LEN];
	ad->saved_at = now;
	if (vt_alert_store_save(ad->engine, ad->data_dir, now, err,
	    sizeof err) < 0)
		vt_log_error("alerts", "%s", err);
}

static void on_tick(void *ctx)
{
	vt_daemon_alerts *ad = ctx;
	double now = vt_clock_now();
	vt_alert_engine_tick(ad->engine, now);
	if (ad->data_dir[0] && now - ad->saved_at >= SAVE_GAP &&
	    vt_alert_engine_changes(ad->engine) > 0)
		save(ad, now);
}

/* The alerts of the last run: firing ones stay announced. */
static void restore(vt_daemon_alerts *ad, const char *data_dir)
{
	char err[VT_ERR_LEN + VT_PATH_LEN];
	size_t firing, skipped;
	int n = vt_alert_store_load(ad->engine, data_dir, vt_clock_now(),
	    &firing, &skipped, err, sizeof err);
	if (n < 0)
		vt_log_error("alerts", "%s", err);
	else if (skipped > 0)
		vt_log_warn("alerts", "%s", err);
	if (n > 0)
		vt_log_info("alerts", "restored %d alert%s (%zu firing) from "
		    "%s/%s", n, n == 1 ? "" : "s", firing, data_dir,
		    VT_ALERT_STORE_FILE);
	snprintf(ad->data_dir, sizeof ad->data_dir, "%s", data_dir);
}

/* The expectations' checks of one window, applied by the loop thread
 * like a POST /api/v1/health body (flusher thread). */
static void expect_report(void *ctx, const char *body, size_t len)
{
	vt_daemon_alerts *ad = ctx;
	if (vt_inbox_push(ad->inbox, VT_INBOX_CHECKS, body, len, NULL, NULL,
	    NULL) == 0)
		return;
	/* The inbox is full: the next window reports again; the checks
	 * go stale only if this goes on for their whole TTL. */
	if (ad->expect_dropped++ % 100 == 0)
		vt_log_warn("alerts", "inbox full: expectation checks of a "
		    "window dropped (%llu so far)", ad->expect_dropped);
}

static void describe_expect(size_t n, const char *what)
{
	if (n > 0)
		vt_log_info("alerts", "%s %zu expectation%s", what, n,
		    n == 1 ? "" : "s");
}

static void describe(const struct vt_alert_config *c, const char *what)
{
	vt_log_info("alerts", "%s %zu rule%s%s and %zu hook%s", what,
	    c->nrules, c->nrules == 1 ? "" : "s", c->implicit ?
	    " (the default: every service status change)" : "",
	    c->nhooks, c->nhooks == 1 ? "" : "s");
}

vt_daemon_alerts *vt_daemon_alerts_create(const struct vt_config *cfg, vt_loop *loop,
    vt_health *health, char *err, size_t errlen)
{
	vt_daemon_alerts *ad = vt_xcalloc(1, sizeof *ad);
	snprintf(ad->config_file, sizeof ad->config_file, "%s",
	    cfg->config_file);
	ad->npercentiles = cfg->npercentiles;
	memcpy(ad->percentiles, cfg->percentiles, sizeof ad->percentiles);
	struct vt_alert_config *c = vt_alert_config_load(ad->config_file,
	    ad->percentiles, ad->npercentiles, err, errlen);
	if (c == NULL)
		goto fail;
	struct vt_expect_config *xc = vt_expect_config_load(ad->config_file,
	    ad->percentiles, ad->npercentiles, err, errlen);
	if (xc == NULL) {
		vt_alert_config_release(c);
		goto fail;
	}
	ad->expect = vt_expect_create(xc);
	describe_expect(xc->n, "loaded");
	ad->hooks = vt_hooks_create();
	ad->engine = vt_alert_engine_create(c, notify, ad);
	describe(c, "loaded");
	restore(ad, cfg->data_dir);
	if (vt_health_add_listener(health, vt_alert_engine_on_change,
	    ad->engine) < 0 || vt_health_add_report_listener(health,
	    vt_alert_engine_on_report, ad->engine) < 0) {
		snprintf(err, errlen, "alerts: too many health listeners");
		goto fail;
	}
	int rc = vt_loop_add_timer(loop, VT_DAEMON_ALERTS_TICK, 0, on_tick, ad);
	if (rc < 0) {
		snprintf(err, errlen, "alerts timer: %s", strerror(-rc));
		goto fail;
	}
	return ad;
fail:
	vt_daemon_alerts_destroy(ad);
	return NULL;
}

void vt_daemon_alerts_set_owner(vt_daemon_alerts *ad, vt_alert_owner_fn fn,
    void *ctx)
{
	vt_alert_engine_set_owner(ad->engine, fn, ctx);
}

struct vt_sink vt_daemon_alerts_sink(vt_daemon_alerts *ad)
{
	return vt_alert_engine_sink(ad->engine);
}

struct vt_sink vt_daemon_alerts_expect_sink(vt_daemon_alerts *ad,
    vt_inbox *inbox)
{
	ad->inbox = inbox;
	vt_expect_set_report(ad->expect, expect_report, ad);
	return vt_expect_sink(ad->expect);
}

void vt_daemon_alerts_add_routes(vt_daemon_alerts *ad, struct vt_prom *prom,
    vt_http *http)
{
	vt_prom_add_collector(prom, vt_alert_engine_collect, ad->engine);
	vt_prom_add_collector(prom, vt_hooks_collect, ad->hooks);
	vt_alerts_api_register(http, ad->engine);
}

static void reload_expect(vt_daemon_alerts *ad)
{
	char err[VT_ERR_LEN + VT_PATH_LEN];
	struct vt_expect_config *xc = vt_expect_config_load(ad->config_file,
	    ad->percentiles, ad->npercentiles, err, sizeof err);
	if (xc == NULL) {
		vt_log_error("alerts", "SIGHUP: reload failed, keeping the old "
		    "expectations: %s", vt_config_json_for_log(err, sizeof err));
		return;
	}
	size_t before = vt_expect_count(ad->expect);
	vt_expect_set_config(ad->expect, xc, vt_clock_now());
	if (xc->n > 0 || before > 0)
		vt_log_info("alerts", "SIGHUP: reloaded %zu expectation%s "
		    "(%zu before)", xc->n, xc->n == 1 ? "" : "s", before);
}

void vt_daemon_alerts_reload(vt_daemon_alerts *ad)
{
	char err[VT_ERR_LEN + VT_PATH_LEN];
	reload_expect(ad);
	struct vt_alert_config *c = vt_alert_config_load(ad->config_file,
	    ad->percentiles, ad->npercentiles, err, sizeof err);
	vt_alert_engine_count_reload(ad->engine, c != NULL);
	if (c == NULL) {
		vt_log_error("alerts", "SIGHUP: reload failed, keeping the old "
		    "rules: %s", vt_config_json_for_log(err, sizeof err));
		return;
	}
	vt_alert_engine_set_config(ad->engine, c);
	describe(c, "SIGHUP: reloaded");
}

void vt_daemon_alerts_destroy(vt_daemon_alerts *ad)
{
	if (ad == NULL)
		return;
	if (ad->data_dir[0])              /* after the last window */
		save(ad, vt_clock_now());
	vt_hooks_destroy(ad->hooks);
	vt_alert_engine_destroy(ad->engine);
	vt_expect_destroy(ad->expect);
	vt_hook_webhook_cleanup();
	free(ad);
}
