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

/* The command line the configuration came from, read again on SIGHUP
 * (daemon_reload.h); borrowed, must outlive d. Without it SIGHUP reloads
 * the alert rules only. */
void vt_daemon_set_args(vt_daemon *d, int argc, char **argv);

/* Run until SIGTERM/SIGINT. Returns the exit status (0). */
int vt_daemon_run(vt_daemon *d);

void vt_daemon_destroy(vt_daemon *d);

#endif
