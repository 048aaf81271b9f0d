/*
 * loop.c - epoll event loop with timerfd timers and a signalfd (loop.h).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "collector/base/clock.h"
#include "collector/base/loop.h"
#include "collector/base/xmalloc.h"

#define MAX_EVENTS 64

enum handler_type { H_NONE = 0, H_FD, H_TIMER, H_SIGNAL };

struct handler {
	enum handler_type type;
	void *ctx;
	union {
		vt_loop_fd_fn fd;
		vt_loop_timer_fn timer;
		vt_loop_signal_fn signal;
	} fn;
};

struct vt_loop {
	int epfd;
	int stopping;
	struct handler *handlers;   /* indexed by fd */
	size_t nhandlers;
	int owned_fds[16];          /* timer and signal fds we close */
	size_t nowned;
};

vt_loop *vt_loop_create(char *err, size_t errlen)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return NULL;
	}
	vt_loop *loop = vt_xcalloc(1, sizeof *loop);
	loop->epfd = epfd;
	return loop;
}

void vt_loop_destroy(vt_loop *loop)
{
	if (loop == NULL)
		return;
	for (size_t i = 0; i < loop->nowned; i++)
		close(loop->owned_fds[i]);
	close(loop->epfd);
	free(loop->handlers);
	free(loop);
}

static struct handler *handler_slot(vt_loop *loop, int fd)
{
	if ((size_t)fd >= loop->nhandlers) {
		size_t n = loop->nhandlers ? loop->nhandlers : 64;
		while (n <= (size_t)fd)
			n *= 2;
		loop->handlers = vt_xrealloc(loop->handlers,
		    n * sizeof *loop->handlers);
		memset(loop->handlers + loop->nhandlers, 0,
		    (n - loop->nhandlers) * sizeof *loop->handlers);
		loop->nhandlers = n;
	}
	return &loop->handlers[fd];
}

static int watch(vt_loop *loop, int fd, uint32_t events, struct handler h)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	*handler_slot(loop, fd) = h;
	return 0;
}

int vt_loop_add_fd(vt_loop *loop, int fd, uint32_t events,
    vt_loop_fd_fn fn, void *ctx)
{
	return watch(loop, fd, events,
	    (struct handler){ .type = H_FD, .ctx = ctx, .fn.fd = fn });
}

int vt_loop_mod_fd(vt_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void vt_loop_del_fd(vt_loop *loop, int fd)
{
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	if ((size_t)fd < loop->nhandlers)
		loop->handlers[fd].type = H_NONE;
}

static int own(vt_loop *loop, int fd)
{
	if (loop->nowned == sizeof loop->owned_fds / sizeof loop->owned_fds[0]) {
		close(fd);
		return -EMFILE;
	}
	loop->owned_fds[loop->nowned++] = fd;
	return 0;
}

int vt_loop_add_timer(vt_loop *loop, double seconds, int align,
    vt_loop_timer_fn fn, void *ctx)
{
	int fd = timerfd_create(align ? CLOCK_REALTIME : CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct itimerspec its;
	double whole = floor(seconds);
	its.it_interval.tv_sec = (time_t)whole;
	its.it_interval.tv_nsec = (long)((seconds - whole) * 1e9);
	int flags = 0;
	if (align) {
		double next = (floor(vt_clock_now() / seconds) + 1) * seconds;
		its.it_value.tv_sec = (time_t)floor(next);
		its.it_value.tv_nsec = (long)((next - floor(next)) * 1e9);
		flags = TFD_TIMER_ABSTIME;
	} else {
		its.it_value = its.it_interval;
	}
	if (timerfd_settime(fd, flags, &its, NULL) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	int rc = own(loop, fd);
	if (rc < 0)
		return rc;
	return watch(loop, fd, EPOLLIN,
	    (struct handler){ .type = H_TIMER, .ctx = ctx, .fn.timer = fn });
}

int vt_loop_add_signals(vt_loop *loop, const int *signals, size_t n,
    vt_loop_signal_fn fn, void *ctx)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = own(loop, fd);
	if (rc < 0)
		return rc;
	return watch(loop, fd, EPOLLIN,
	    (struct handler){ .type = H_SIGNAL, .ctx = ctx, .fn.signal = fn });
}

static void dispatch(vt_loop *loop, int fd, uint32_t events)
{
	if ((size_t)fd >= loop->nhandlers)
		return;
	struct handler h = loop->handlers[fd];
	switch (h.type) {
	case H_FD:
		h.fn.fd(h.ctx, fd, events);
		break;
	case H_TIMER: {
		uint64_t expirations;
		if (read(fd, &expirations, sizeof expirations) > 0)
			h.fn.timer(h.ctx);
		break;
	}
	case H_SIGNAL: {
		struct signalfd_siginfo si;
		while (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
			h.fn.signal(h.ctx, (int)si.ssi_signo);
		break;
	}
	case H_NONE:
		break;
	}
}

void vt_loop_run(vt_loop *loop)
{
	struct epoll_event events[MAX_EVENTS];
	loop->stopping = 0;
	while (!loop->stopping) {
		int n = epoll_wait(loop->epfd, events, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n && !loop->stopping; i++)
			dispatch(loop, events[i].data.fd, events[i].events);
	}
}

void vt_loop_stop(vt_loop *loop)
{
	loop->stopping = 1;
}
