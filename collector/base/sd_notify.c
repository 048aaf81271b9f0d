/*
 * sd_notify.c - systemd notifications over $NOTIFY_SOCKET (sd_notify.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "collector/base/sd_notify.h"

int vt_sd_notify_send(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t nlen;
	int rc = 1;

	if (name == NULL || name[0] == '\0')
		return 0;
	nlen = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || nlen >= sizeof sa.sun_path)
		return -EINVAL;
	memcpy(sa.sun_path, name, nlen);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';          /* abstract namespace */
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    nlen + (name[0] == '/'));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	size_t len = strlen(state);
	ssize_t n;
	do
		n = sendto(fd, state, len, MSG_NOSIGNAL,
		    (const struct sockaddr *)&sa, salen);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int vt_sd_notify_ready(void)
{
	return vt_sd_notify_send("READY=1");
}

int vt_sd_notify_reloading(void)
{
	struct timespec ts;
	char msg[64];
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ull +
	    (unsigned long long)ts.tv_nsec / 1000ull);
	return vt_sd_notify_send(msg);
}

int vt_sd_notify_stopping(void)
{
	return vt_sd_notify_send("STOPPING=1");
}

double vt_sd_notify_watchdog_init(struct vt_sd_watchdog *w, double now)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;

	w->interval = 0;
	w->last = now;
	if (usec == NULL || getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	if (pid != NULL) {
		errno = 0;
		long long p = strtoll(pid, &end, 10);
		if (errno || end == pid || *end || p != (long long)getpid())
			return 0;
	}
	errno = 0;
	unsigned long long us = strtoull(usec, &end, 10);
	if (errno || end == usec || *end || us == 0)
		return 0;
	w->interval = (double)us / 2e6;
	return w->interval;
}

int vt_sd_notify_watchdog_tick(struct vt_sd_watchdog *w, double now,
    double tick)
{
	if (w->interval <= 0 || now + tick - w->last <= w->interval)
		return 0;
	w->last = now;
	return vt_sd_notify_send("WATCHDOG=1");
}
