/*
 * daemon.h - vitalsd assembled: creates every module from the config,
 * wires sockets -> ingest -> aggregator -> flusher -> sinks -> HTTP, runs
 * the loop, and stops in order (drain input, flush the open window,
 * deliver it, stop HTTP).
 */
#ifndef VT_DAEMON_H
#define VT_DAEMON_H

#include <stddef.h>

#include "collector/config/config.h"

typedef struct vt_daemon vt_daemon;

/* cfg is copied. NULL with err set when something cannot start. */
vt_daemon *vt_daemon_create(const struct vt_config *cfg, char *err,
    size_t errlen);

/* Run until SIGTERM/SIGINT. Returns the exit status (0). */
int vt_daemon_run(vt_daemon *d);

void vt_daemon_destroy(vt_daemon *d);

#endif
