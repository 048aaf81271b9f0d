/*
 * rrd_updater.c - the RRD update worker process (rrd_updater.h).
 *
 * Messages (SOCK_SEQPACKET, one per request or answer):
 *   request  u8 op, u16 n, then n strings each NUL-terminated:
 *            'U' update      cached address ("" = direct), path, values...
 *            'C' create      path, step, time before the first update,
 *                            "DS:..." and "RRA:..." arguments
 *            'L' lastupdate  path
 *            'F' flush       cached address, path
 *   answer   i32 status (0 or -errno), then the error text (no NUL), or
 *            for a successful 'L' a struct vt_rrd_last
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "collector/base/vt_types.h"
#include "collector/base/xmalloc.h"
#include "exporters/rrd/forkserver.h"
#include "exporters/rrd/rrd_lib.h"
#include "exporters/rrd/rrd_updater.h"

#define MSG_MAX (160 * 1024)    /* fits a unix socket's default buffer */
#define ARGS_MAX 1024
#define ADDR_MAX 512

struct vt_rrd_updater {
	/* Guards pid, pidfd and fd against vt_rrd_updater_abort from
	 * another thread; the owner reads them without it. */
	pthread_mutex_t lock;
	int aborted;                /* set once, under lock: no new worker */
	pid_t pid;                  /* 0: not running */
	int pidfd;                  /* the worker, safe from pid reuse */
	int fd;
	size_t pending;
	double cpu_past;            /* CPU of workers that have exited */
	char cached[ADDR_MAX];      /* rrdcached address, "" = direct */
	char *buf;                  /* MSG_MAX bytes */
	const char *strs[ARGS_MAX]; /* the strings of an update request */
};

/* ---- the worker ---- */

/* The worker's rrdcached handle for addr (kept while addr stays). */
static struct vt_rrdc *worker_rrdc(const char *addr)
{
	static struct vt_rrdc *c;
	if (addr[0] == '\0')
		return NULL;
	if (c == NULL || strcmp(vt_rrd_lib_cached_addr(c), addr) != 0) {
		vt_rrd_lib_cached_destroy(c);
		c = vt_rrd_lib_cached_create(addr);
	}
	return c;
}

/* Run one request; the answer's payload (error text or result) goes to
 * out, its length to *outlen. */
static int32_t run(char op, int n, const char *const *s, char *out,
    size_t *outlen, size_t outcap)
{
	int32_t rc = -EINVAL;
	*outlen = 0;
	snprintf(out, outcap, "rrd worker: malformed request");
	if (op == 'U' && n >= 3) {
		rc = vt_rrd_lib_update(worker_rrdc(s[0]), s[1], n - 2, s + 2,
		    out, outcap);
	} else if (op == 'C' && n >= 3) {
		struct vt_rrd_create_args a;
		char *end;
		unsigned long step = strtoul(s[1], &end, 10);
		time_t last_up = (time_t)strtoll(s[2], &end, 10);
		a.argc = 0;
		size_t pos = 0;
		for (int i = 3; i < n && a.argc < VT_RRD_MAX_DS + VT_RRD_MAX_RRA;
		    i++) {
			size_t len = strlen(s[i]) + 1;
			if (pos + len > sizeof a.text)
				break;
			memcpy(a.text + pos, s[i], len);
			a.argv[a.argc++] = a.text + pos;
			pos += len;
		}
		rc = vt_rrd_lib_create(s[0], step, last_up, &a, out, outcap);
	} else if (op == 'L' && n == 1) {
		struct vt_rrd_last a;
		time_t last = 0;
		memset(&a, 0, sizeof a);
		rc = vt_rrd_lib_lastupdate(s[0], &last, &a.ds, a.values, out,
		    outcap);
		if (rc == 0) {
			a.last = last;
			memcpy(out, &a, sizeof a);
			*outlen = sizeof a;
			return 0;
		}
	} else if (op == 'F' && n == 2) {
		rc = vt_rrd_lib_flush(worker_rrdc(s[0]), s[1], out, outcap);
	}
	if (rc != 0)
		*outlen = strlen(out);
	return rc;
}

static void __attribute__((noreturn)) serve(int fd)
{
	static const char *args[ARGS_MAX];
	char *buf = vt_xmalloc(MSG_MAX + 1);
	static char out[4 + VT_ERR_LEN + sizeof(struct vt_rrd_last)];
	for (;;) {
		ssize_t n = recv(fd, buf, MSG_MAX, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);   /* the writer closed its end */
		buf[n] = '\0';
		int i = 0;
		uint16_t nstr = 0;
		if (n >= 3) {
			memcpy(&nstr, buf + 1, 2);
			const char *p = buf + 3, *end = buf + n;
			for (; i < nstr && i < ARGS_MAX && p < end; i++) {
				args[i] = p;
				p += strlen(p) + 1;
			}
		}
		size_t len = 0;
		int32_t rc = -EINVAL;
		if (n >= 3 && i == nstr)
			rc = run(buf[0], i, args, out + 4, &len, sizeof out - 4);
		else
			len = (size_t)snprintf(out + 4, sizeof out - 4,
			    "rrd worker: malformed request");
		memcpy(out, &rc, 4);
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
static int spawn(struct vt_rrd_updater *w, char *err, size_t errlen)
{
	int fd;
	pid_t pid;
	if (__atomic_load_n(&w->aborted, __ATOMIC_ACQUIRE)) {
		snprintf(err, errlen, "rrd worker: stopped (shutdown)");
		return -EPIPE;
	}
	if (vt_rrd_lib_forkserver_start(err, errlen) < 0)   /* 0 if running */
		return -EPIPE;
	int rc = vt_forkserver_spawn(worker_main, SOCK_SEQPACKET, &fd, &pid,
	    err, errlen);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&w->lock);
	w->pid = pid;
	w->pidfd = pidfd_open(pid, 0);   /* kill this one, never a reuse */
	w->fd = fd;
	if (w->aborted) {                /* aborted meanwhile: this one too */
		if (w->pidfd >= 0)
			pidfd_send_signal(w->pidfd, SIGKILL, NULL, 0);
		shutdown(fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&w->lock);
	return 0;
}

/* The worker is gone or must go: keep its CPU, close, kill if asked. It
 * is the fork server's child, which reaps it. */
static void reap(struct vt_rrd_updater *w, int kill_it)
{
	if (w->pid <= 0)
		return;
	w->cpu_past = vt_rrd_updater_cpu_seconds(w);
	pthread_mutex_lock(&w->lock);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (kill_it && w->pidfd >= 0)
		pidfd_send_signal(w->pidfd, SIGKILL, NULL, 0);
	if (w->pidfd >= 0)
		close(w->pidfd);
	w->pidfd = -1;
	w->pid = 0;
	pthread_mutex_unlock(&w->lock);
}

void vt_rrd_updater_abort(struct vt_rrd_updater *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	__atomic_store_n(&w->aborted, 1, __ATOMIC_RELEASE);
	/* SIGKILL ends a stopped worker too; shutdown wakes the owner's
	 * send or recv even when the worker cannot die (hung disk: D). */
	if (w->pidfd >= 0)
		pidfd_send_signal(w->pidfd, SIGKILL, NULL, 0);
	else if (w->pid > 0)
		kill(w->pid, SIGKILL);
	if (w->fd >= 0)
		shutdown(w->fd, SHUT_RDWR);
	pthread_mutex_unlock(&w->lock);
}

/* ---- the writer's side ---- */

struct vt_rrd_updater *vt_rrd_updater_start(const char *cached, char *err, size_t errlen)
{
	struct vt_rrd_updater *w = vt_xcalloc(1, sizeof *w);
	snprintf(w->cached, sizeof w->cached, "%s", cached ? cached : "");
	w->fd = -1;
	w->pidfd = -1;
	pthread_mutex_init(&w->lock, NULL);
	w->buf = vt_xmalloc(MSG_MAX);
	if (spawn(w, err, errlen) < 0) {
		pthread_mutex_destroy(&w->lock);
		free(w->buf);
		free(w);
		return NULL;
	}
	return w;
}

void vt_rrd_updater_stop(struct vt_rrd_updater *w)
{
	if (w == NULL)
		return;
	while (w->pending > 0)
		vt_rrd_updater_result(w, NULL, 0);
	reap(w, 0);   /* EOF on its socket: it exits */
	pthread_mutex_destroy(&w->lock);
	free(w->buf);
	free(w);
}

/* Send one request of op with n strings; counted as pending. */
static int send_req(struct vt_rrd_updater *w, char op, int n, const char *const *s)
{
	char err[VT_ERR_LEN];
	if (n <= 0 || n > ARGS_MAX)
		return -EMSGSIZE;
	if (w->pid == 0 && (w->pending > 0 || spawn(w, err, sizeof err) < 0))
		return -EPIPE;
	uint16_t n16 = (uint16_t)n;
	size_t len = 3;
	w->buf[0] = op;
	memcpy(w->buf + 1, &n16, 2);
	for (int i = 0; i < n; i++) {
		size_t sl = strlen(s[i]) + 1;
		if (len + sl > MSG_MAX)
			return -EMSGSIZE;
		memcpy(w->buf + len, s[i], sl);
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

int vt_rrd_updater_send(struct vt_rrd_updater *w, const char *path, int argc,
    const char *const *argv)
{
	if (argc <= 0 || argc > ARGS_MAX - 2)
		return -EMSGSIZE;
	w->strs[0] = w->cached;
	w->strs[1] = path;
	memcpy(w->strs + 2, argv, (size_t)argc * sizeof *argv);
	return send_req(w, 'U', argc + 2, w->strs);
}

/* The answer to the oldest request: status, and its payload in ans
 * (*len bytes after the status). */
static int32_t receive(struct vt_rrd_updater *w, char *ans, size_t cap,
    size_t *len)
{
	int32_t rc;
	*len = 0;
	if (w->pending == 0)
		return -EINVAL;
	w->pending--;
	if (w->pid == 0)
		return -EPIPE;
	ssize_t n;
	while ((n = recv(w->fd, ans, cap, 0)) < 0 && errno == EINTR)
		;
	if (n < 4) {
		reap(w, 1);
		return -EPIPE;
	}
	memcpy(&rc, ans, 4);
	*len = (size_t)n - 4;
	return rc;
}

/* A synchronous request: send, wait for its answer. Only with nothing in
 * flight (the answer must be this request's). */
static int32_t call(struct vt_rrd_updater *w, char op, int n, const char *const *s,
    char *ans, size_t cap, size_t *len, char *err, size_t errlen)
{
	*len = 0;
	if (w->pending > 0) {
		snprintf(err, errlen, "rrd worker: updates still in flight");
		return -EBUSY;
	}
	int32_t rc = send_req(w, op, n, s);
	if (rc == 0)
		rc = receive(w, ans, cap, len);
	if (rc == -EPIPE && *len == 0)
		snprintf(err, errlen, "rrd worker died");
	else if (rc != 0)
		snprintf(err, errlen, "%.*s", (int)*len, ans + 4);
	return rc;
}

int vt_rrd_updater_create(struct vt_rrd_updater *w, const char *path, unsigned long step,
    time_t last_up, const struct vt_rrd_create_args *args, char *err,
    size_t errlen)
{
	char sstep[32], slast[32], ans[4 + VT_ERR_LEN];
	const char *s[3 + VT_RRD_MAX_DS + VT_RRD_MAX_RRA];
	size_t len;
	snprintf(sstep, sizeof sstep, "%lu", step);
	snprintf(slast, sizeof slast, "%lld", (long long)last_up);
	s[0] = path;
	s[1] = sstep;
	s[2] = slast;
	for (int i = 0; i < args->argc; i++)
		s[3 + i] = args->argv[i];
	return call(w, 'C', 3 + args->argc, s, ans, sizeof ans, &len, err,
	    errlen);
}

int vt_rrd_updater_lastupdate(struct vt_rrd_updater *w, const char *path, time_t *last,
    struct vt_rrd_ds_list *ds, char *err, size_t errlen)
{
	char ans[4 + VT_ERR_LEN + sizeof(struct vt_rrd_last)];
	size_t len;
	int32_t rc = call(w, 'L', 1, &path, ans, sizeof ans, &len, err, errlen);
	if (rc != 0)
		return rc;
	struct vt_rrd_last a;
	if (len != sizeof a) {
		snprintf(err, errlen, "rrd worker: malformed answer");
		return -EIO;
	}
	memcpy(&a, ans + 4, sizeof a);
	*last = (time_t)a.last;
	if (ds)
		*ds = a.ds;
	return 0;
}

int vt_rrd_updater_flush(struct vt_rrd_updater *w, const char *path, char *err,
    size_t errlen)
{
	char ans[4 + VT_ERR_LEN];
	size_t len;
	if (w->cached[0] == '\0')
		return 0;
	const char *s[2] = { w->cached, path };
	return call(w, 'F', 2, s, ans, sizeof ans, &len, err, errlen);
}

int vt_rrd_updater_result(struct vt_rrd_updater *w, char *err, size_t errlen)
{
	char ans[4 + VT_ERR_LEN + sizeof(struct vt_rrd_last)];
	size_t len;
	int32_t rc = receive(w, ans, sizeof ans, &len);
	if (err && errlen) {
		if (rc == -EPIPE && len == 0)
			snprintf(err, errlen, "rrd worker died");
		else
			snprintf(err, errlen, "%.*s", rc ? (int)len : 0, ans + 4);
	}
	return rc;
}

size_t vt_rrd_updater_pending(const struct vt_rrd_updater *w)
{
	return w->pending;
}

double vt_rrd_updater_cpu_seconds(const struct vt_rrd_updater *w)
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
