/*
 * health_prom.c - healthcheck families for /metrics (health_prom.h), in
 * name order, every one with HELP and TYPE, label values escaped.
 */
#include <string.h>

#include "collector/base/clock.h"
#include "collector/base/loop.h"
#include "collector/base/prom_text.h"
#include "collector/health/health_prom.h"
#include "collector/health/health_snapshot.h"

static void head(struct vt_buf *out, const char *name, enum vt_prom_type t,
    const char *help, enum vt_prom_format fmt)
{
	vt_prom_text_head(out, name, strlen(name), t, help, fmt);
}

static void check_labels(struct vt_buf *out,
    const struct vt_health_check_view *c)
{
	vt_buf_puts(out, "{service=\"");
	vt_prom_text_escape_label(out, c->service);
	vt_buf_puts(out, "\",instance_id=\"");
	vt_prom_text_escape_label(out, c->instance);
	vt_buf_puts(out, "\",check=\"");
	vt_prom_text_escape_label(out, c->check);
	vt_buf_puts(out, "\"} ");
}

/* One sample per check: status (age 0) or seconds since the last report. */
static void per_check(const struct vt_health_snapshot *s, double now,
    struct vt_buf *out, const char *name, int age)
{
	for (size_t i = 0; i < s->nservices; i++) {
		const struct vt_health_service_view *sv = &s->services[i];
		for (size_t j = 0; j < sv->nchecks; j++) {
			const struct vt_health_check_view *c = &sv->checks[j];
			if (c->origin != NULL)
				continue;       /* its origin exports it */
			vt_buf_puts(out, name);
			check_labels(out, c);
			if (age) {
				double a = now - c->last_report;
				vt_prom_text_value(out, a > 0 ? a : 0);
			} else {
				vt_prom_text_u64(out, (uint64_t)c->status);
			}
			vt_buf_putc(out, '\n');
		}
	}
}

static void gauge(struct vt_buf *out, const char *name, const char *help,
    uint64_t v, enum vt_prom_format fmt)
{
	head(out, name, VT_PROM_GAUGE, help, fmt);
	vt_buf_puts(out, name);
	vt_buf_putc(out, ' ');
	vt_prom_text_u64(out, v);
	vt_buf_putc(out, '\n');
}

void vt_health_prom_write(const struct vt_health_snapshot *s, double now,
    struct vt_buf *out, enum vt_prom_format fmt)
{
	head(out, "vitals_check_age_seconds", VT_PROM_GAUGE,
	    "Seconds since the healthcheck was last reported.", fmt);
	per_check(s, now, out, "vitals_check_age_seconds", 1);
	head(out, "vitals_check_status", VT_PROM_GAUGE, "Healthcheck status: "
	    "0 ok, 1 warning, 2 critical (also when stale), 3 unknown.", fmt);
	per_check(s, now, out, "vitals_check_status", 0);

	gauge(out, "vitals_checks", "Healthchecks in memory.", s->nchecks,
	    fmt);
	gauge(out, "vitals_checks_max", "Most healthchecks kept "
	    "(health.max_checks).", s->max_checks, fmt);

	head(out, "vitals_checks_received", VT_PROM_COUNTER, "Healthcheck "
	    "reports received, by format and result (ok or why rejected).",
	    fmt);
	for (unsigned f = 0; f < VT_CHECK_FORMAT_COUNT; f++) {
		for (unsigned r = 0; r < VT_CHECK_RESULT_COUNT; r++) {
			vt_buf_printf(out, "vitals_checks_received_total{format="
			    "\"%s\",result=\"%s\"} ", vt_health_check_format_name(f),
			    vt_health_check_result_name(r));
			vt_prom_text_u64(out, s->stats.received[f][r]);
			vt_buf_putc(out, '\n');
		}
	}
	head(out, "vitals_checks_stale", VT_PROM_COUNTER,
	    "Times a healthcheck went stale (no report within its TTL).", fmt);
	vt_buf_puts(out, "vitals_checks_stale_total ");
	vt_prom_text_u64(out, s->stats.stale);
	vt_buf_putc(out, '\n');

	head(out, "vitals_service_status", VT_PROM_GAUGE, "Service status, the "
	    "worst of its healthchecks: 0 ok, 1 warning, 2 critical, "
	    "3 unknown.", fmt);
	for (size_t i = 0; i < s->nservices; i++) {
		if (s->services[i].owner != NULL)
			continue;               /* its owner exports it */
		vt_buf_puts(out, "vitals_service_status{service=\"");
		vt_prom_text_escape_label(out, s->services[i].name);
		vt_buf_puts(out, "\"} ");
		vt_prom_text_u64(out, (uint64_t)s->services[i].status);
		vt_buf_putc(out, '\n');
	}
}

void vt_health_prom_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt)
{
	struct vt_health_snapshot *s = vt_health_snapshot_get(ctx);
	vt_health_prom_write(s, vt_clock_now(), out, fmt);
	vt_health_snapshot_release(s);
}
