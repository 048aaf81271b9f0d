/*
 * hooks.h - alert notifications delivered on worker threads (SPEC 8).
 *
 * Each hook (by name) has its own bounded queue and its own worker
 * thread, so a slow, hanging or failing hook delays only its own later
 * notifications: never ingest, flushing, the alert engine or another
 * hook. vt_hooks_submit never blocks; a job for a full queue is dropped
 * and counted. Workers are started on first use and live until
 * vt_hooks_destroy, across reloads (a job keeps its config alive).
 *
 * Threads: submit from any thread; the collector runs on HTTP threads.
 */
#ifndef VT_HOOKS_H
#define VT_HOOKS_H

#include <stddef.h>

#include "collector/alerts/alert_config.h"
#include "collector/base/buf.h"
#include "collector/base/prom_text.h"

typedef struct vt_hooks vt_hooks;

vt_hooks *vt_hooks_create(void);

/* Stop every worker: the running hook is killed or abandoned, queued
 * jobs are dropped (and logged). Waits for the threads. NULL ok. */
void vt_hooks_destroy(vt_hooks *hs);

/*
 * Queue one notification for hook h of config c (c is retained until the
 * job is done). json is the event, env its VITALS_* variables
 * ("NAME=value", NULL-terminated); both are copied. At most c->queue
 * jobs wait per hook. 0, or -ENOSPC when dropped, -EAGAIN when the
 * worker cannot start.
 */
int vt_hooks_submit(vt_hooks *hs, struct vt_alert_config *c,
    const struct vt_hook_cfg *h, const char *json, char *const *env);

/* /metrics: vitals_alert_hook_* families (a vt_prom_collector_fn). */
void vt_hooks_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt);

#endif
