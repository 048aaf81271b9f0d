/* daemon_reload.c - SIGHUP, key by key (daemon_reload.h). */
#include <string.h>

#include "collector/base/buf.h"
#include "collector/base/log.h"
#include "collector/config/config_keys.h"
#include "collector/daemon/daemon_reload.h"

static const char *const applied[] = {
	"log.level", "http.token", "http.max_body", "max_metrics",
	"metric_ttl", "retire_after", "statsd.tcp_max_clients",
	"statsd.tcp_idle_timeout", "mapping_file",
};

static const char *text(const struct vt_buf *b)
{
	return b->data ? b->data : "";
}

int vt_daemon_reload_applies(const char *path)
{
	for (size_t i = 0; i < sizeof applied / sizeof applied[0]; i++)
		if (strcmp(path, applied[i]) == 0)
			return 1;
	return 0;
}

size_t vt_daemon_reload_apply(struct vt_config *cur,
    const struct vt_config *next, const struct vt_daemon_reload_targets *t)
{
	size_t nkeys, changed = 0, restart = 0;
	const struct vt_cfg_key *keys = vt_config_keys_table(&nkeys);
	struct vt_buf was, now;
	vt_buf_init(&was);
	vt_buf_init(&now);
	for (size_t i = 0; i < nkeys; i++) {
		const struct vt_cfg_key *k = &keys[i];
		char *c = (char *)cur + k->offset;
		const char *n = (const char *)next + k->offset;
		if (memcmp(c, n, k->size) == 0 &&
		    (k->type != VT_CFG_PERCENTILES ||
		    cur->npercentiles == next->npercentiles))
			continue;
		vt_buf_reset(&was);
		vt_buf_reset(&now);
		vt_config_keys_format(k, cur, 1, &was);
		vt_config_keys_format(k, next, 1, &now);
		changed++;
		if (vt_daemon_reload_applies(k->path)) {
			memcpy(c, n, k->size);
			vt_log_info("main", "SIGHUP: %s: %s -> %s (applied)",
			    k->path, text(&was), text(&now));
		} else {
			restart++;
			vt_log_warn("main", "SIGHUP: %s: %s -> %s needs a "
			    "restart; still %s", k->path, text(&was),
			    text(&now), text(&was));
		}
	}
	vt_buf_fini(&was);
	vt_buf_fini(&now);
	vt_log_set_level((enum vt_log_level)cur->log_level);
	vt_http_set_access(t->http, cur->http_token, cur->http_max_body);
	vt_agg_set_limits(t->agg, cur->max_metrics, cur->metric_ttl);
	vt_listen_set_limits(t->listen, cur->tcp_max_clients,
	    cur->tcp_idle_timeout);
	vt_latest_set_limits(t->latest, cur->retire_after, cur->max_metrics);
	vt_log_info("main", "SIGHUP: configuration read again%s%s: %zu key%s "
	    "changed, %zu applied, %zu need%s a restart",
	    cur->config_file[0] ? " from " : "", cur->config_file, changed,
	    changed == 1 ? "" : "s", changed - restart, restart,
	    restart == 1 ? "s" : "");
	return restart;
}
