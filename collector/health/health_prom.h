/*
 * health_prom.h - the healthcheck families of /metrics (SPEC 7), written
 * from the published health snapshot by a Prometheus collector
 * (vt_prom_add_collector):
 *   vitals_check_status{service,instance_id,check}   0 ok, 1 warning,
 *                                                    2 critical, 3 unknown
 *   vitals_check_age_seconds{service,instance_id,check}  since last report
 *   vitals_service_status{service}                   worst of its checks
 *   vitals_checks, vitals_checks_max                 gauges
 *   vitals_checks_received_total{format,result}      reports by outcome
 *   vitals_checks_stale_total                        checks gone stale
 * (instance_id, because Prometheus owns the instance label.)
 * In a fleet, only the checks whose reports this collector applied
 * first (no origin) and the services it owns are exported: every series
 * comes from one collector (docs/amqp.md, "Fleet").
 */
#ifndef VT_HEALTH_PROM_H
#define VT_HEALTH_PROM_H

#include "collector/base/buf.h"
#include "collector/base/prom_text.h"
#include "collector/health/health.h"
#include "collector/health/health_snapshot.h"

/* The collector; ctx is the vt_health (borrowed, must outlive the
 * exporter's use of it). Thread-safe: reads a snapshot only. */
void vt_health_prom_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt);

/* The same from a given snapshot, with ages relative to `now`. */
void vt_health_prom_write(const struct vt_health_snapshot *s, double now,
    struct vt_buf *out, enum vt_prom_format fmt);

#endif
