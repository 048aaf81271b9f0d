/*
 * health_ingest.h - from received bytes to the health registry (loop
 * thread only, like the registry): JSON check bodies (health_json.h) and
 * parsed DogStatsD `_sc` lines (health_check.h). The instance defaults to
 * the sender's IP address (no port); every report is counted in the
 * registry's stats by format and result.
 */
#ifndef VT_HEALTH_INGEST_H
#define VT_HEALTH_INGEST_H

#include <stddef.h>
#include <sys/socket.h>

#include "collector/base/clock.h"
#include "collector/health/health.h"
#include "collector/ingest/ingest.h"

/* A JSON body from peer (NULL: unknown) received at now: every valid
 * entry applied, every bad one counted. 0, or -EINVAL when nothing of
 * the body could be used (so AMQP can reject it). */
int vt_health_ingest_json(vt_health *h, const char *body, size_t len,
    const struct sockaddr *peer, double now);

/* The same for checks another collector of the fleet applied first
 * (health.h, vt_health_apply_from): origin is its name. */
int vt_health_ingest_json_from(vt_health *h, const char *body, size_t len,
    const struct sockaddr *peer, double now, const char *origin);

/* A parsed `_sc` line from peer (NULL: unknown). */
void vt_health_ingest_report(vt_health *h, const struct vt_check_report *r,
    const struct sockaddr *peer, double now);

/* The ingest hooks (ingest.h) feeding h, stamped with vt_clock_now(). */
struct vt_ingest_checks vt_health_ingest_hooks(vt_health *h);

#endif
