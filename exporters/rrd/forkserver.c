/*
 * forkserver.c - the single-threaded helper that forks a child per job
 * (forkserver.h).
 *
 * Wire: the daemon and the server share a SOCK_SEQPACKET pair. Every
 * message carries one descriptor (SCM_RIGHTS) and starts with its kind:
 *   'J' job:   argv strings, each ending in NUL; the descriptor is the
 *              write end of a fresh reply socket. The child writes
 *              {int32 status, int32 length} and then length bytes to it
 *              and exits; the caller reads them with a deadline.
 *   'S' spawn: the address of a serve function; the descriptor is one end
 *              of the caller's new socket pair. The child writes its pid
 *              (int32) to it, then runs serve(fd) until it returns. A
 *              function address means the same in the server as in the
 *              daemon because the server is a fork, never an exec.
 *   'F' spare: the descriptor is one end of the caller's new socket pair;
 *              the server forks a copy of itself that serves it.
 *
 * The spare: a server cannot be forked again from the threaded daemon,
 * so right after start (and after every takeover) the daemon asks the
 * server for a copy of itself and keeps its socket. When a send finds
 * the server gone (killed: nothing else ends it), the spare takes over,
 * and is asked for a spare of its own. The spare has no parent-death
 * signal (its parent is the server it may replace); it ends when the
 * daemon's end of its socket closes, which also happens when the daemon
 * dies. A dead server's socket is kept open until stop, so a thread that
 * read the old descriptor never sends on a reused number.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/xmalloc.h"
#include "exporters/rrd/forkserver.h"

#define JOB_MAX_BYTES 65536     /* argv of one job, NUL-terminated strings */
#define JOB_MAX_ARGS 512

#define DEAD_MAX 16             /* takeovers at most, then no more */

static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;
static int server_fd = -1;      /* the daemon's end; -1 when not started */
static pid_t server_pid = -1;   /* our child, or -1 after a takeover */
static int spare_fd = -1;       /* the spare's socket, -1 when none */
static int dead_fds[DEAD_MAX];  /* sockets of servers that died */
static size_t ndead;
static unsigned long takeovers;
static unsigned job_timeout = 30;

static int send_msg(int sock, const void *data, size_t len, int fd,
    char *err, size_t errlen);
static int request_spare_locked(void);
static int server_socket(unsigned *timeout, char *err, size_t errlen);

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void reply(int fd, int status, const void *data, size_t len)
{
	int32_t head[2] = { status, (int32_t)len };
	if (write_all(fd, head, sizeof head) == 0 && len)
		write_all(fd, data, len);
}

static void reply_error(int fd, int status, const char *msg)
{
	reply(fd, status, msg, strlen(msg));
}

/* ---- the server side ---- */

/* Receive one message: its bytes into buf, its descriptor into *fd.
 * 1 for a well-formed one, 0 when the daemon closed its end, -1 to skip a
 * bad one. */
static int receive_job(int sock, char *buf, size_t cap, size_t *len, int *fd)
{
	union {
		char space[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { buf, cap };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = control.space, .msg_controllen = sizeof control };
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	*fd = -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (*fd < 0)
		return -1;
	int ok = !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) && (
	    (buf[0] == 'J' && n >= 2 && buf[n - 1] == '\0') ||
	    (buf[0] == 'S' && n == 1 + (ssize_t)sizeof(vt_forkserver_serve)) ||
	    (buf[0] == 'F' && n == 1));
	if (!ok) {
		reply_error(*fd, -EINVAL, "forkserver: malformed job");
		close(*fd);
		return -1;
	}
	*len = (size_t)n;
	return 1;
}

/* The spawned child: say who it is, then serve until serve returns. */
static void __attribute__((noreturn)) run_spawn(const char *buf, int fd)
{
	vt_forkserver_serve fn;
	memcpy(&fn, buf + 1, sizeof fn);
	prctl(PR_SET_PDEATHSIG, SIGKILL);   /* dies with the server */
	int32_t me = (int32_t)getpid();
	if (write_all(fd, &me, sizeof me) == 0)
		fn(fd);
	_exit(0);
}

/* The child: split argv, run the job, answer, exit without running any
 * exit handler of the daemon's (nor LeakSanitizer, for library caches). */
static void __attribute__((noreturn)) run_job(vt_forkserver_job job,
    char *buf, size_t len, int fd)
{
	static char *argv[JOB_MAX_ARGS + 1];
	int argc = 0;
	for (size_t i = 1; i < len && argc < JOB_MAX_ARGS; ) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;
	alarm(job_timeout);
	struct vt_buf out;
	vt_buf_init(&out);
	int status = job(argc, argv, &out);
	reply(fd, status, out.data, out.len);
	_exit(0);
}

static void __attribute__((noreturn)) server_main(int sock, vt_forkserver_job job,
    vt_forkserver_warm warm)
{
	/* Die with the daemon; start from a clean signal state (the daemon
	 * may have blocked signals for its signalfd, and a handler it set must
 * not run in a child). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);   /* SIGALRM must kill a child */
	/* A ^C, or the SIGTERM that systemd sends to every process of the
	 * unit at once, is the daemon's to handle: the helpers end when it
	 * closes their sockets, after the final window is written. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);        /* children reap themselves */
	if (warm)
		warm();
	static char buf[JOB_MAX_BYTES + 1];
	for (;;) {
		size_t len = 0;
		int fd = -1;
		int r = receive_job(sock, buf, sizeof buf, &len, &fd);
		if (r == 0)
			_exit(0);
		if (r < 0)
			continue;
		pid_t pid = fork();
		if (pid == 0 && buf[0] == 'F') {
			/* The spare: the same server on the new socket, with
			 * no parent-death signal (fork cleared it). */
			close(sock);
			sock = fd;
			continue;
		}
		if (pid == 0 && buf[0] == 'S') {
			close(sock);
			run_spawn(buf, fd);
		}
		if (pid == 0) {
			close(sock);
			signal(SIGPIPE, SIG_DFL);
			run_job(job, buf, len, fd);
		}
		if (pid < 0) {
			char msg[128];
			snprintf(msg, sizeof msg, "forkserver: fork: %s",
			    strerror(errno));
			reply_error(fd, -EAGAIN, msg);
		}
		close(fd);
	}
}

int vt_forkserver_start(vt_forkserver_job job, vt_forkserver_warm warm,
    unsigned timeout_seconds, char *err, size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&server_lock);
	if (server_fd >= 0)
		goto out;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "forkserver: socketpair: %s",
		    strerror(errno));
		rc = -1;
		goto out;
	}
	job_timeout = timeout_seconds ? timeout_seconds : 30;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "forkserver: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		rc = -1;
		goto out;
	}
	if (pid == 0) {
		close(sv[0]);
		server_main(sv[1], job, warm);
	}
	close(sv[1]);
	server_fd = sv[0];
	server_pid = pid;
	(void)request_spare_locked();   /* without one, no takeover */
out:
	pthread_mutex_unlock(&server_lock);
	return rc;
}

int vt_forkserver_running(void)
{
	pthread_mutex_lock(&server_lock);
	int up = server_fd >= 0;
	pthread_mutex_unlock(&server_lock);
	return up;
}

void vt_forkserver_stop(void)
{
	pthread_mutex_lock(&server_lock);
	if (spare_fd >= 0)
		close(spare_fd);    /* the spare sees EOF and exits */
	if (server_fd >= 0) {
		close(server_fd);   /* the server sees EOF and exits */
		while (server_pid > 0 && waitpid(server_pid, NULL, 0) < 0 &&
		    errno == EINTR)
			;
	}
	for (size_t i = 0; i < ndead; i++)
		close(dead_fds[i]);
	ndead = 0;
	spare_fd = -1;
	server_fd = -1;
	server_pid = -1;
	pthread_mutex_unlock(&server_lock);
}

unsigned long vt_forkserver_takeovers(void)
{
	pthread_mutex_lock(&server_lock);
	unsigned long n = takeovers;
	pthread_mutex_unlock(&server_lock);
	return n;
}

/* ---- the caller's side ---- */

static long long now_ms(void)
{
	return (long long)(vt_clock_mono() * 1000);
}

/* Read n bytes, waiting at most until deadline (monotonic ms). */
static int read_full(int fd, void *buf, size_t n, long long deadline)
{
	char *p = buf;
	while (n > 0) {
		long long left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (left <= 0)
			return -ETIMEDOUT;
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t got = read(fd, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -EIO;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* Send one message with descriptor fd attached. */
static int send_msg(int sock, const void *data, size_t len, int fd,
    char *err, size_t errlen)
{
	union {
		char space[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof control);
	struct iovec iov = { (void *)(uintptr_t)data, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = control.space, .msg_controllen = sizeof control };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(err, errlen, "forkserver: not running (%s)",
		    strerror(errno));
		return -EPIPE;
	}
	return 0;
}

/* With server_lock held and a server running: ask it for a spare.
 * -1 when the server could not be reached (gone too), else 0. */
static int request_spare_locked(void)
{
	char err[128];
	int sv[2];
	if (server_fd < 0 || spare_fd >= 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	int rc = send_msg(server_fd, "F", 1, sv[1], err, sizeof err);
	if (rc == 0)
		spare_fd = sv[0];
	else
		close(sv[0]);
	close(sv[1]);
	return rc == 0 ? 0 : -1;
}

/* A send on sock failed: its server is gone. Unless another thread did
 * it already, the spare takes over (if it is gone as well, so be it).
 * Returns the socket to use now (-1: none). */
static int take_over(int sock)
{
	pthread_mutex_lock(&server_lock);
	while (sock >= 0 && sock == server_fd && ndead < DEAD_MAX) {
		dead_fds[ndead++] = sock;   /* closed at stop, never reused */
		while (server_pid > 0 && waitpid(server_pid, NULL, 0) < 0 &&
		    errno == EINTR)
			;                   /* its socket closed: it exited */
		server_fd = spare_fd;
		server_pid = -1;            /* the spare is not our child */
		spare_fd = -1;
		if (server_fd < 0) {
			vt_log_error("forkserver", "the fork server and its "
			    "spare are gone: graphs, file reads and storage "
			    "fail until vitalsd restarts");
			break;
		}
		if (request_spare_locked() < 0) {
			sock = server_fd;           /* the spare died too */
			continue;
		}
		takeovers++;
		vt_log_warn("forkserver", "the fork server is gone; its spare "
		    "took over (graphs, file reads and the RRD worker run "
		    "there now)");
	}
	int now = server_fd;
	pthread_mutex_unlock(&server_lock);
	return now;
}

/* Send a message to the server; when it is gone, once more to the spare
 * that took over. */
static int send_to_server(const void *data, size_t len, int fd,
    char *err, size_t errlen)
{
	int sock = server_socket(NULL, err, errlen);
	if (sock < 0)
		return -EPIPE;
	int rc = send_msg(sock, data, len, fd, err, errlen);
	if (rc == 0)
		return 0;
	sock = take_over(sock);
	return sock < 0 ? rc : send_msg(sock, data, len, fd, err, errlen);
}

/* Send the job with the write end of its reply socket. */
static int send_job(int argc, const char *const *argv, int fd, char *err,
    size_t errlen)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (argc > JOB_MAX_ARGS || len > JOB_MAX_BYTES || argc == 0) {
		snprintf(err, errlen, "forkserver: job too large");
		return -E2BIG;
	}
	char *buf = vt_xmalloc(len), *p = buf;
	*p++ = 'J';
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		memcpy(p, argv[i], n);
		p += n;
	}
	int rc = send_to_server(buf, len, fd, err, errlen);
	free(buf);
	return rc;
}

static int server_socket(unsigned *timeout, char *err, size_t errlen)
{
	pthread_mutex_lock(&server_lock);
	int sock = server_fd;
	if (timeout)
		*timeout = job_timeout;
	pthread_mutex_unlock(&server_lock);
	if (sock < 0)
		snprintf(err, errlen, "forkserver: not started");
	return sock;
}

int vt_forkserver_spawn(vt_forkserver_serve serve, int type, int *fd,
    pid_t *pid, char *err, size_t errlen)
{
	int sv[2];
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "forkserver: socketpair: %s",
		    strerror(errno));
		return -errno;
	}
	char msg[1 + sizeof serve];
	msg[0] = 'S';
	memcpy(msg + 1, &serve, sizeof serve);
	int rc = send_to_server(msg, sizeof msg, sv[1], err, errlen);
	close(sv[1]);
	int32_t child = 0;
	if (rc == 0) {
		rc = read_full(sv[0], &child, sizeof child, now_ms() + 10000);
		if (rc < 0 || child <= 0) {
			snprintf(err, errlen, "forkserver: the spawned process "
			    "did not start");
			rc = rc < 0 ? rc : -EIO;
		}
	}
	if (rc < 0) {
		close(sv[0]);
		return rc;
	}
	*fd = sv[0];
	*pid = (pid_t)child;
	return 0;
}

int vt_forkserver_call(int argc, const char *const *argv, size_t max_reply,
    struct vt_buf *out, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	unsigned timeout;
	int sock = server_socket(&timeout, err, errlen);
	if (sock < 0)
		return -EPIPE;
	int rs[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rs) < 0) {
		snprintf(err, errlen, "forkserver: socketpair: %s",
		    strerror(errno));
		return -errno;
	}
	int rc = send_job(argc, argv, rs[1], err, errlen);
	close(rs[1]);
	if (rc < 0) {
		close(rs[0]);
		return rc;
	}
	/* The child is killed at the limit; a second more covers the fork. */
	long long deadline = now_ms() + (long long)timeout * 1000 + 1000;
	int32_t head[2];
	rc = read_full(rs[0], head, sizeof head, deadline);
	if (rc == -EIO)         /* EOF before an answer: the child died, */
		rc = -ETIMEDOUT;  /* most likely killed at the time limit */
	if (rc == 0 && (head[1] < 0 || (size_t)head[1] > max_reply)) {
		snprintf(err, errlen, "the helper's answer is too large "
		    "(%ld bytes)", (long)head[1]);
		rc = -EIO;
	}
	if (rc == 0) {
		size_t len = (size_t)head[1];
		char *buf = vt_xmalloc(len + 1);
		rc = read_full(rs[0], buf, len, deadline);
		if (rc == 0 && head[0] == 0) {
			vt_buf_append(out, buf, len);
		} else if (rc == 0) {
			buf[len] = '\0';
			snprintf(err, errlen, "%s", buf);
			rc = head[0] < 0 ? head[0] : -EIO;
		} else if (rc == -EIO) {
			snprintf(err, errlen, "the helper's answer was cut "
			    "short");
		}
		free(buf);
	}
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "the helper ran out of time (%us) or "
		    "died", timeout);
	close(rs[0]);
	return rc;
}
