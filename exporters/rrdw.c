/*
 * rrdw.c - the RRD update worker process (rrdw.h).
 *
 * Messages (SOCK_SEQPACKET, one per request or answer):
 *   request  u16 argc, path NUL, argc strings each NUL-terminated
 *   answer   i32 status (0 or -errno), then the error text (no NUL)
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "forkserver.h"
#include "rrdlib.h"
#include "rrdw.h"
#include "vt_types.h"
#include "xmalloc.h"

#define MSG_MAX (160 * 1024)    /* fits a unix socket's default buffer */
#define ARGS_MAX 1024

struct vt_rrdw {
	pid_t pid;                  /* 0: not running */
	int pidfd;                  /* the worker, safe from pid reuse */
	int fd;
	size_t pending;
	double cpu_past;            /* CPU of workers that have exited */
	char *buf;                  /* MSG_MAX bytes */
};

/* ---- the worker ---- */

static void __attribute__((noreturn)) serve(int fd)
{
	static const char *argv[ARGS_MAX];
	char *buf = vt_xmalloc(MSG_MAX + 1);
	char out[4 + VT_ERR_LEN];
	for (;;) {
		ssize_t n = recv(fd, buf, MSG_MAX, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);   /* the writer closed its end */
		buf[n] = '\0';
		int32_t rc = -EINVAL;
		char err[VT_ERR_LEN] = "rrd worker: malformed request";
		uint16_t argc;
		if (n > 3) {
			memcpy(&argc, buf, 2);
			const char *p = buf + 2, *end = buf + n;
			const char *path = p;
			p += strlen(p) + 1;
			int i = 0;
			for (; i < argc && i < ARGS_MAX && p < end; i++) {
				argv[i] = p;
				p += strlen(p) + 1;
			}
			if (i == argc && argc > 0)
				rc = vt_rrdlib_update(NULL, path, argc, argv, err,
				    sizeof err);
		}
		size_t len = rc == 0 ? 0 : strlen(err);
		memcpy(out, &rc, 4);
		memcpy(out + 4, err, len);
		while (send(fd, out, 4 + len, MSG_NOSIGNAL) < 0) {
			if (errno != EINTR)
				_exit(0);
		}
	}
}

/* In the worker: its name in ps, then serve. */
static void worker_main(int fd)
{
	prctl(PR_SET_NAME, "vitals-rrdw");
	serve(fd);
}

/*
 * The worker is a child of the fork server (forkserver.h), never a fork
 * of the threaded daemon, which could copy a lock another thread holds.
 * The fork server is started on first use when the daemon has not
 * started it already (tests).
 */
static int spawn(struct vt_rrdw *w, char *err, size_t errlen)
{
	int fd;
	pid_t pid;
	if (vt_rrdlib_forkserver_start(err, errlen) < 0)   /* 0 if running */
		return -EPIPE;
	int rc = vt_forkserver_spawn(worker_main, SOCK_SEQPACKET, &fd, &pid,
	    err, errlen);
	if (rc < 0)
		return rc;
	w->pid = pid;
	w->pidfd = pidfd_open(pid, 0);   /* kill this one, never a reuse */
	w->fd = fd;
	return 0;
}

/* The worker is gone or must go: keep its CPU, close, kill if asked. It
 * is the fork server's child, which reaps it. */
static void reap(struct vt_rrdw *w, int kill_it)
{
	if (w->pid <= 0)
		return;
	w->cpu_past = vt_rrdw_cpu_seconds(w);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (kill_it && w->pidfd >= 0)
		pidfd_send_signal(w->pidfd, SIGKILL, NULL, 0);
	if (w->pidfd >= 0)
		close(w->pidfd);
	w->pidfd = -1;
	w->pid = 0;
}

/* ---- the writer's side ---- */

struct vt_rrdw *vt_rrdw_start(char *err, size_t errlen)
{
	struct vt_rrdw *w = vt_xcalloc(1, sizeof *w);
	w->fd = -1;
	w->pidfd = -1;
	w->buf = vt_xmalloc(MSG_MAX);
	if (spawn(w, err, errlen) < 0) {
		free(w->buf);
		free(w);
		return NULL;
	}
	return w;
}

void vt_rrdw_stop(struct vt_rrdw *w)
{
	if (w == NULL)
		return;
	while (w->pending > 0)
		vt_rrdw_result(w, NULL, 0);
	reap(w, 0);   /* EOF on its socket: it exits */
	free(w->buf);
	free(w);
}

int vt_rrdw_send(struct vt_rrdw *w, const char *path, int argc,
    const char *const *argv)
{
	char err[VT_ERR_LEN];
	if (argc <= 0 || argc > ARGS_MAX)
		return -EMSGSIZE;
	if (w->pid == 0 && (w->pending > 0 || spawn(w, err, sizeof err) < 0))
		return -EPIPE;
	uint16_t n16 = (uint16_t)argc;
	size_t len = 2;
	memcpy(w->buf, &n16, 2);
	for (int i = -1; i < argc; i++) {
		const char *s = i < 0 ? path : argv[i];
		size_t sl = strlen(s) + 1;
		if (len + sl > MSG_MAX)
			return -EMSGSIZE;
		memcpy(w->buf + len, s, sl);
		len += sl;
	}
	while (send(w->fd, w->buf, len, MSG_NOSIGNAL) < 0) {
		if (errno == EINTR)
			continue;
		reap(w, 1);
		return -EPIPE;
	}
	w->pending++;
	return 0;
}

int vt_rrdw_result(struct vt_rrdw *w, char *err, size_t errlen)
{
	char ans[4 + VT_ERR_LEN];
	int32_t rc;
	if (w->pending == 0)
		return -EINVAL;
	w->pending--;
	if (w->pid == 0) {
		if (err && errlen)
			snprintf(err, errlen, "rrd worker died");
		return -EPIPE;
	}
	ssize_t n;
	while ((n = recv(w->fd, ans, sizeof ans, 0)) < 0 && errno == EINTR)
		;
	if (n < 4) {
		reap(w, 1);
		if (err && errlen)
			snprintf(err, errlen, "rrd worker died");
		return -EPIPE;
	}
	memcpy(&rc, ans, 4);
	if (err && errlen)
		snprintf(err, errlen, "%.*s", (int)(n - 4), ans + 4);
	return rc;
}

size_t vt_rrdw_pending(const struct vt_rrdw *w)
{
	return w->pending;
}

double vt_rrdw_cpu_seconds(const struct vt_rrdw *w)
{
	double cpu = w->cpu_past;
	char path[64], buf[1024];
	if (w->pid <= 0)
		return cpu;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)w->pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return cpu;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which may hold spaces. */
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &ut, &st) == 2)
		cpu += (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return cpu;
}
