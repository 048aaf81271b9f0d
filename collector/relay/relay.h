/*
 * relay.h - vitalsd --relay (SPEC 9): statsd and JSON checks received on
 * the local UDP/TCP port are checked, batched per service (relay_batch.h)
 * and published to the broker with confirms (relay_pub.h) instead of being
 * aggregated. HTTP serves only /healthz and /metrics about the relay.
 *
 * Lines that do not parse are counted (vitals_relay_lines_total{result=
 * "invalid"}) and not forwarded. JSON checks are forwarded as JSON arrays
 * with the instance filled in from the sender's address when missing.
 * `_sc` lines travel as sent (without h: the collector sees instance
 * "unknown").
 */
#ifndef VT_RELAY_H
#define VT_RELAY_H

#include <stddef.h>

#include "collector/config/config.h"

typedef struct vt_relay vt_relay;

/* cfg is copied. NULL with err when a socket or thread cannot start (a
 * broker that is down is not an error). */
vt_relay *vt_relay_create(const struct vt_config *cfg, char *err,
    size_t errlen);

/* Run until SIGTERM/SIGINT; then flush open batches and wait (a few
 * seconds at most) for their confirms. Returns the exit status (0). */
int vt_relay_run(vt_relay *r);

void vt_relay_destroy(vt_relay *r);   /* NULL ok */

#endif
