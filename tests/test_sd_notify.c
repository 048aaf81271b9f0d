/*
 * test_sd_notify.c - the systemd notifications as the service manager
 * receives them: a datagram socket of our own named by $NOTIFY_SOCKET
 * (a path, or abstract with '@'), the messages read back; nothing sent
 * without it; the watchdog's environment and ping schedule.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "collector/base/sd_notify.h"
#include "suites.h"

/* A bound datagram socket standing in for systemd; sets NOTIFY_SOCKET. */
struct manager {
	int fd;
	char path[108];
};

static void manager_bind(struct manager *m, int abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	m->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(m->fd, 0);
	if (abstract) {
		snprintf(m->path, sizeof m->path, "@vt-test-notify-%d",
		    (int)getpid());
		memcpy(sa.sun_path, m->path, strlen(m->path));
		sa.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(m->path));
	} else {
		snprintf(m->path, sizeof m->path, "/tmp/vt-test-notify-%d",
		    (int)getpid());
		unlink(m->path);
		strcpy(sa.sun_path, m->path);
		len = sizeof sa;
	}
	ck_assert_int_eq(bind(m->fd, (struct sockaddr *)&sa, len), 0);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(m->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", m->path, 1), 0);
}

/* The next message, NUL-terminated in buf; "" when none is waiting. */
static const char *manager_recv(struct manager *m, char *buf, size_t size,
    int wait)
{
	ssize_t n = recv(m->fd, buf, size - 1, wait ? 0 : MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void manager_close(struct manager *m)
{
	close(m->fd);
	if (m->path[0] == '/')
		unlink(m->path);
	unsetenv("NOTIFY_SOCKET");
}

START_TEST(states_reach_the_socket)
{
	struct manager m;
	char buf[256];
	manager_bind(&m, _i);
	ck_assert_int_eq(vt_sd_notify_ready(), 1);
	ck_assert_str_eq(manager_recv(&m, buf, sizeof buf, 1), "READY=1");
	ck_assert_int_eq(vt_sd_notify_reloading(), 1);
	manager_recv(&m, buf, sizeof buf, 1);
	unsigned long long usec = 0;
	int end = 0;
	ck_assert_msg(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu%n", &usec,
	    &end) == 1 && buf[end] == '\0', "got %s", buf);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ck_assert_uint_le(usec, (unsigned long long)ts.tv_sec * 1000000ull +
	    (unsigned long long)ts.tv_nsec / 1000);
	ck_assert_uint_gt(usec, 0);
	ck_assert_int_eq(vt_sd_notify_stopping(), 1);
	ck_assert_str_eq(manager_recv(&m, buf, sizeof buf, 1), "STOPPING=1");
	ck_assert_str_eq(manager_recv(&m, buf, sizeof buf, 0), "");
	manager_close(&m);
}
END_TEST

START_TEST(nothing_without_notify_socket)
{
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(vt_sd_notify_ready(), 0);
	ck_assert_int_eq(vt_sd_notify_stopping(), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	ck_assert_int_eq(vt_sd_notify_ready(), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	ck_assert_int_lt(vt_sd_notify_ready(), 0);
	setenv("NOTIFY_SOCKET", "/nonexistent/vt-notify", 1);
	ck_assert_int_lt(vt_sd_notify_ready(), 0);
	unsetenv("NOTIFY_SOCKET");
	/* No socket: no watchdog either. */
	struct vt_sd_watchdog w = { 0 };
	setenv("WATCHDOG_USEC", "2000000", 1);
	ck_assert(vt_sd_notify_watchdog_init(&w, 100.0) == 0);
	ck_assert_int_eq(vt_sd_notify_watchdog_tick(&w, 200.0, 1.0), 0);
	unsetenv("WATCHDOG_USEC");
}
END_TEST

/* WATCHDOG_USEC and WATCHDOG_PID -> the ping interval (half the
 * timeout); "self" stands for our pid. */
static const struct {
	const char *usec, *pid;
	double interval;
} watchdog_env[] = {
	{ "2000000", NULL, 1.0 },
	{ "30000000", "self", 15.0 },
	{ "2000000", "1", 0 },
	{ "2000000", "x", 0 },
	{ NULL, NULL, 0 },
	{ "0", NULL, 0 },
	{ "2s", NULL, 0 },
	{ "", NULL, 0 },
};

START_TEST(watchdog_environment)
{
	struct manager m;
	char pid[32];
	struct vt_sd_watchdog w = { 0 };
	manager_bind(&m, 0);
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (watchdog_env[_i].usec)
		setenv("WATCHDOG_USEC", watchdog_env[_i].usec, 1);
	if (watchdog_env[_i].pid)
		setenv("WATCHDOG_PID", strcmp(watchdog_env[_i].pid, "self") ?
		    watchdog_env[_i].pid : pid, 1);
	ck_assert_msg(vt_sd_notify_watchdog_init(&w, 0) ==
	    watchdog_env[_i].interval, "case %d", _i);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	manager_close(&m);
}
END_TEST

START_TEST(watchdog_pings_before_the_interval_runs_out)
{
	struct manager m;
	char buf[64];
	struct vt_sd_watchdog w = { 0 };
	manager_bind(&m, 0);
	setenv("WATCHDOG_USEC", "10000000", 1);       /* 10 s: ping every 5 */
	ck_assert(vt_sd_notify_watchdog_init(&w, 100.0) == 5.0);
	unsetenv("WATCHDOG_USEC");
	/* Ticks every second: a ping whenever the next tick would be late. */
	int pinged[12];
	for (int t = 1; t <= 11; t++)
		pinged[t] = vt_sd_notify_watchdog_tick(&w, 100.0 + t, 1.0);
	for (int t = 1; t <= 11; t++)
		ck_assert_msg(pinged[t] == (t == 5 || t == 10), "tick %d", t);
	ck_assert_str_eq(manager_recv(&m, buf, sizeof buf, 1), "WATCHDOG=1");
	ck_assert_str_eq(manager_recv(&m, buf, sizeof buf, 1), "WATCHDOG=1");
	ck_assert_str_eq(manager_recv(&m, buf, sizeof buf, 0), "");
	/* A timeout shorter than two ticks: a ping every tick. */
	setenv("WATCHDOG_USEC", "1000000", 1);
	vt_sd_notify_watchdog_init(&w, 0);
	unsetenv("WATCHDOG_USEC");
	for (int t = 1; t <= 3; t++)
		ck_assert_int_eq(vt_sd_notify_watchdog_tick(&w, t, 1.0), 1);
	manager_close(&m);
}
END_TEST

Suite *vt_test_sd_notify_suite(void)
{
	Suite *s = suite_create("sd_notify");
	TCase *tc = tcase_create("sd_notify");
	tcase_add_loop_test(tc, states_reach_the_socket, 0, 2);
	tcase_add_test(tc, nothing_without_notify_socket);
	tcase_add_loop_test(tc, watchdog_environment, 0,
	    sizeof watchdog_env / sizeof watchdog_env[0]);
	tcase_add_test(tc, watchdog_pings_before_the_interval_runs_out);
	suite_add_tcase(s, tc);
	return s;
}
