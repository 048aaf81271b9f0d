/*
 * sd_notify.h - the systemd notification protocol (sd_notify(3)), spoken
 * directly, without libsystemd: each state is one datagram such as
 * "READY=1" to the AF_UNIX socket named by $NOTIFY_SOCKET (an abstract
 * socket when the name starts with '@'). With $NOTIFY_SOCKET unset (not
 * started by systemd with Type=notify) every call does nothing.
 *
 * The service manager's watchdog: $WATCHDOG_USEC asks for a "WATCHDOG=1"
 * at least that often, for this process only when $WATCHDOG_PID is unset
 * or is our pid. struct vt_sd_watchdog pings from a periodic timer of the
 * event loop, so a wedged loop stops pinging and systemd restarts us.
 *
 * Thread-safe (a socket per message); nothing here allocates or logs.
 */
#ifndef VT_SD_NOTIFY_H
#define VT_SD_NOTIFY_H

/* Send `state` (one or more "KEY=value" lines). 1 if sent, 0 when
 * $NOTIFY_SOCKET is unset, -errno when it could not be sent. */
int vt_sd_notify_send(const char *state);

/* "READY=1": start-up is finished, or a reload is. */
int vt_sd_notify_ready(void);
/* "RELOADING=1" with "MONOTONIC_USEC=<now>" (CLOCK_MONOTONIC), at the
 * start of a reload; send vt_sd_notify_ready() when it is done. */
int vt_sd_notify_reloading(void);
/* "STOPPING=1": an orderly stop begins. */
int vt_sd_notify_stopping(void);

/* Watchdog pings; zero-initialise, then vt_sd_notify_watchdog_init. */
struct vt_sd_watchdog {
	double interval;    /* seconds between pings (half of WATCHDOG_USEC);
	                     * 0: no watchdog for us */
	double last;        /* monotonic time of the last ping */
};

/* Read $WATCHDOG_USEC and $WATCHDOG_PID. `now` is monotonic seconds.
 * Returns the ping interval in seconds, 0 if there is no watchdog. */
double vt_sd_notify_watchdog_init(struct vt_sd_watchdog *w, double now);

/* Call every `tick` seconds from the loop: sends "WATCHDOG=1" when waiting
 * for the next tick would leave more than the interval since the last
 * ping. Returns 1 if it pinged, 0 if not due (or no watchdog), -errno. */
int vt_sd_notify_watchdog_tick(struct vt_sd_watchdog *w, double now,
    double tick);

#endif
