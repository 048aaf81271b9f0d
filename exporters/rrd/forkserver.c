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
 *   'S' spawn: the serve function, as its offset from an anchor in this
 *              file (the same in every process of this executable, forked
 *              or exec'd); the descriptor is one end of the caller's new
 *              socket pair. The child writes its pid (int32) to it, then
 *              runs serve(fd) until it returns.
 *   'F' spare: the descriptor is one end of the caller's new socket pair;
 *              the server forks a copy of itself that serves it.
 *
 * Supervision. A server cannot be forked again from the threaded daemon,
 * so right after start (and after every takeover) the daemon asks the
 * server for a copy of itself, the spare, and keeps its socket. A watcher
 * thread polls both sockets (a peer that exits hangs its socket up):
 * - a dead spare: a new one is asked of the server at once;
 * - a dead server: the spare takes over and is asked for a spare of its
 *   own (a send that finds the server gone does the same);
 * - both gone: calls fail at once (-EPIPE, counted) and the watcher starts
 *   a fresh server by posix_spawn of /proc/self/exe (this executable, even
 *   if the file was replaced since) with VT_FORKSERVER_EXEC in its
 *   environment: a constructor here sees it before main() and runs the
 *   server, so the daemon itself never forks once it has threads. The
 *   exec'd server inherits only stdio and its socket (closefrom).
 * Every server dies with the daemon (PR_SET_PDEATHSIG, and EOF on its
 * socket for a spare that took over: its parent is gone), and so do its
 * job and spawned children (PR_SET_PDEATHSIG on the server).
 *
 * Callers send on a duplicate of the server's socket, taken under the
 * lock, so a socket can be closed the moment its server is found gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
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
#include "collector/base/fdio.h"
#include "collector/base/log.h"
#include "collector/base/xmalloc.h"
#include "exporters/rrd/forkserver.h"

#define JOB_MAX_BYTES 65536     /* argv of one job, NUL-terminated strings */
#define JOB_MAX_ARGS 512

#define EXEC_ENV "VT_FORKSERVER_EXEC"   /* "fd,job,warm,timeout,ppid" */
#define EXEC_FD 3                       /* the exec'd server's socket */
#define ZOMBIES_MAX 64                  /* exited servers not yet reaped */
#define RESPAWN_BACKOFF_MAX 30.0        /* seconds between fresh servers */
#define SPARE_MIN_INTERVAL 0.2          /* seconds between new spares */

extern char **environ;

static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;
static int started;             /* vt_forkserver_start succeeded */
static vt_forkserver_job job_fn;
static vt_forkserver_warm warm_fn;
static int server_fd = -1;      /* the daemon's end; -1 when none */
static pid_t server_pid = -1;   /* our child, or -1 after a takeover */
static unsigned long server_gen; /* changes with server_fd */
static int spare_fd = -1;       /* the spare's socket, -1 when none */
static unsigned long spare_gen;  /* changes with spare_fd */
static double spare_asked;      /* when the last spare was asked for */
static pid_t zombies[ZOMBIES_MAX]; /* our children that left, to reap */
static size_t nzombies;
static unsigned long takeovers, respawns, unavailable;
static double next_respawn, respawn_backoff, last_respawn;
static unsigned job_timeout = 30;
static pthread_t watcher;
static int watching;            /* the watcher thread runs */
static int stopping;            /* it is asked to end */
static int wake[2] = { -1, -1 };   /* a byte wakes the watcher */

static int send_msg(int sock, const void *data, size_t len, int fd,
    char *err, size_t errlen);
static int request_spare_locked(void);

/* Function addresses cross processes as offsets from this anchor: the
 * same executable (forked or exec'd) has the same offsets. */
static uintptr_t fn_offset(uintptr_t fn)
{
	return fn - (uintptr_t)vt_forkserver_start;
}

static uintptr_t fn_at(uintptr_t offset)
{
	return (uintptr_t)vt_forkserver_start + offset;
}

static void reply(int fd, int status, const void *data, size_t len)
{
	int32_t head[2] = { status, (int32_t)len };
	if (vt_fd_write_all(fd, head, sizeof head) == 0 && len)
		vt_fd_write_all(fd, data, len);
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
	    (buf[0] == 'S' && n == 1 + (ssize_t)sizeof(uintptr_t)) ||
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
	uintptr_t off;
	memcpy(&off, buf + 1, sizeof off);
	vt_forkserver_serve fn = (vt_forkserver_serve)fn_at(off);
	prctl(PR_SET_PDEATHSIG, SIGKILL);   /* dies with the server */
	int32_t me = (int32_t)getpid();
	if (vt_fd_write_all(fd, &me, sizeof me) == 0)
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
	prctl(PR_SET_PDEATHSIG, SIGKILL);   /* dies with the server */
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

/*
 * The exec'd server (see the top): before main(), when the environment
 * says so, this process is a fork server on EXEC_FD and never returns.
 * Anything else in the environment is left alone; the variable is removed
 * so that no child sees it.
 */
__attribute__((constructor)) static void exec_entry(void)
{
	const char *s = getenv(EXEC_ENV);
	int fd, ppid, type;
	unsigned long job, warm;
	unsigned timeout;
	socklen_t tlen = sizeof type;
	if (s == NULL)
		return;
	if (sscanf(s, "%d,%lx,%lx,%u,%d", &fd, &job, &warm, &timeout,
	    &ppid) != 5 || fd != EXEC_FD || job == 0) {
		unsetenv(EXEC_ENV);
		return;
	}
	unsetenv(EXEC_ENV);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_SEQPACKET)
		_exit(127);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != (pid_t)ppid)
		_exit(0);       /* the daemon died before the line above */
	/* exec of /proc/self/exe named the process "exe" */
	prctl(PR_SET_NAME, program_invocation_short_name);
	job_timeout = timeout ? timeout : 30;
	server_main(fd, (vt_forkserver_job)fn_at(job),
	    warm ? (vt_forkserver_warm)fn_at(warm) : NULL);
}

/* ---- the daemon's side: starting servers ---- */

/* 1 when this process has one thread (fork is safe), else 0. */
static int single_threaded(void)
{
	char line[256];
	int threads = 0;
	FILE *f = fopen("/proc/self/status", "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &threads) == 1)
			break;
	fclose(f);
	return threads == 1;
}

/* Start a server on sock by posix_spawn of this executable (safe from a
 * threaded process: the child execs at once). 0 or a negative errno. */
static int exec_server(int sock, pid_t *pid, char *err, size_t errlen)
{
	int fd = fcntl(sock, F_DUPFD_CLOEXEC, EXEC_FD + 1);
	if (fd < 0) {
		snprintf(err, errlen, "forkserver: dup: %s", strerror(errno));
		return -errno;
	}
	char var[160];
	snprintf(var, sizeof var, EXEC_ENV "=%d,%lx,%lx,%u,%d", EXEC_FD,
	    (unsigned long)fn_offset((uintptr_t)job_fn),
	    warm_fn ? (unsigned long)fn_offset((uintptr_t)warm_fn) : 0UL,
	    job_timeout, (int)getpid());
	size_t n = 0, k = 0;
	while (environ && environ[n])
		n++;
	char **envp = vt_xcalloc(n + 2, sizeof *envp);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], EXEC_ENV "=", sizeof EXEC_ENV) != 0)
			envp[k++] = environ[i];
	envp[k++] = var;
	char *argv[] = { program_invocation_short_name, NULL };

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, EXEC_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, EXEC_FD + 1);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	int rc = posix_spawn(pid, "/proc/self/exe", &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(fd);
	if (rc != 0) {
		snprintf(err, errlen, "forkserver: posix_spawn /proc/self/exe: "
		    "%s", strerror(rc));
		return -rc;
	}
	return 0;
}

/* A new server on a new socket: a fork while this process has one thread,
 * else an exec. With server_lock held and no server. 0 or -1 with err. */
static int new_server_locked(char *err, size_t errlen)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "forkserver: socketpair: %s",
		    strerror(errno));
		return -1;
	}
	pid_t pid = -1;
	if (single_threaded()) {
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			close(sv[0]);
			server_main(sv[1], job_fn, warm_fn);
		}
		if (pid < 0)
			snprintf(err, errlen, "forkserver: fork: %s",
			    strerror(errno));
	} else if (exec_server(sv[1], &pid, err, errlen) < 0) {
		pid = -1;
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	server_fd = sv[0];
	server_pid = pid;
	server_gen++;
	(void)request_spare_locked();   /* without one, no takeover */
	return 0;
}

/* Reap our children that left, without waiting. */
static void reap_zombies_locked(void)
{
	for (size_t i = 0; i < nzombies; ) {
		pid_t r = waitpid(zombies[i], NULL, WNOHANG);
		if (r == 0 || (r < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		zombies[i] = zombies[--nzombies];
	}
}

static void reap_later_locked(pid_t pid)
{
	if (pid <= 0)
		return;
	reap_zombies_locked();
	if (nzombies < ZOMBIES_MAX)
		zombies[nzombies++] = pid;
	else
		waitpid(pid, NULL, 0);   /* its socket closed: it is leaving */
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

/* 1 when the process at the other end of sock is gone. */
static int peer_gone(int sock)
{
	struct pollfd pfd = { .fd = sock, .events = 0 };
	return poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (POLLHUP | POLLERR | POLLNVAL));
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
	if (rc == 0) {
		spare_fd = sv[0];
		spare_gen++;
		spare_asked = vt_clock_mono();
	} else {
		close(sv[0]);
	}
	close(sv[1]);
	return rc == 0 ? 0 : -1;
}

static void wake_watcher(void)
{
	if (wake[1] >= 0) {
		char c = 1;
		ssize_t n = write(wake[1], &c, 1);
		(void)n;
	}
}

/* The server is gone: the spare takes over and is asked for a spare; if
 * the spare is gone as well, there is no server until the watcher starts
 * a fresh one. With server_lock held. */
static void take_over_locked(void)
{
	while (server_fd >= 0) {
		close(server_fd);
		reap_later_locked(server_pid);
		server_fd = spare_fd;
		server_pid = -1;            /* the spare is not our child */
		server_gen++;
		spare_fd = -1;
		spare_gen++;
		if (server_fd < 0) {
			vt_log_error("forkserver", "the fork server and its "
			    "spare are gone: graphs and file reads fail until "
			    "a new fork server is started (now)");
			next_respawn = vt_clock_mono();
			wake_watcher();
			return;
		}
		if (request_spare_locked() == 0) {
			takeovers++;
			vt_log_warn("forkserver", "the fork server is gone; its "
			    "spare took over (graphs, file reads and the RRD "
			    "worker run there now)");
			return;
		}
		/* the spare died too: once more, with no spare left */
	}
}

/* A duplicate of the server's socket for one send (the caller closes it)
 * and its generation, or -1 with err set when there is no server. */
static int server_socket(unsigned long *gen, unsigned *timeout, char *err,
    size_t errlen)
{
	pthread_mutex_lock(&server_lock);
	int sock = server_fd >= 0 ? fcntl(server_fd, F_DUPFD_CLOEXEC, 0) : -1;
	int was_started = started;
	*gen = server_gen;
	if (timeout)
		*timeout = job_timeout;
	if (sock < 0 && was_started)
		unavailable++;
	pthread_mutex_unlock(&server_lock);
	if (sock < 0)
		snprintf(err, errlen, "forkserver: %s", was_started ?
		    "the helper processes are gone; new ones are starting" :
		    "not started");
	return sock;
}

/* Send a message to the server; when it is gone, once more to the spare
 * that took over. */
static int send_to_server(const void *data, size_t len, int fd,
    char *err, size_t errlen)
{
	for (int attempt = 0; ; attempt++) {
		unsigned long gen;
		int sock = server_socket(&gen, NULL, err, errlen);
		if (sock < 0)
			return -EPIPE;
		int rc = send_msg(sock, data, len, fd, err, errlen);
		int gone = rc < 0 && peer_gone(sock);
		close(sock);
		if (rc == 0 || !gone || attempt > 0)
			return rc;
		pthread_mutex_lock(&server_lock);
		if (gen == server_gen)
			take_over_locked();
		pthread_mutex_unlock(&server_lock);
	}
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

/* ---- the watcher ---- */

/* One look: replace a dead spare or server, start a fresh pair when both
 * are gone. With server_lock held. Returns how long the watcher may sleep
 * (ms) before the next look when nothing hangs up. */
static int respawn_locked(void)
{
	double now = vt_clock_mono();
	if (server_fd >= 0) {
		if (now - last_respawn > RESPAWN_BACKOFF_MAX)
			respawn_backoff = 0;  /* the last one lived long enough */
		return 1000;
	}
	if (now < next_respawn)
		return (int)((next_respawn - now) * 1000) + 1;
	char err[256];
	last_respawn = now;
	respawn_backoff = respawn_backoff > 0 ? respawn_backoff * 2 : 1;
	if (respawn_backoff > RESPAWN_BACKOFF_MAX)
		respawn_backoff = RESPAWN_BACKOFF_MAX;
	next_respawn = now + respawn_backoff;
	if (new_server_locked(err, sizeof err) < 0) {
		vt_log_error("forkserver", "cannot start a new fork server "
		    "(next try in %.0fs): %s", respawn_backoff, err);
		return (int)(respawn_backoff * 1000);
	}
	respawns++;
	vt_log_warn("forkserver", "a new fork server (pid %d, started from "
	    "the executable) took the place of the two that were gone; a "
	    "spare follows", (int)server_pid);
	return 1000;
}

static void *watch_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&server_lock);
		if (stopping) {
			pthread_mutex_unlock(&server_lock);
			return NULL;
		}
		reap_zombies_locked();
		int ms = respawn_locked();
		unsigned long sgen = server_gen, pgen = spare_gen;
		int s = server_fd >= 0 ? fcntl(server_fd, F_DUPFD_CLOEXEC, 0) : -1;
		int p = spare_fd >= 0 ? fcntl(spare_fd, F_DUPFD_CLOEXEC, 0) : -1;
		double wait_spare = SPARE_MIN_INTERVAL - (vt_clock_mono() -
		    spare_asked);
		pthread_mutex_unlock(&server_lock);

		struct pollfd pfd[3] = {
			{ .fd = wake[0], .events = POLLIN },
			{ .fd = s, .events = 0 },
			{ .fd = p, .events = 0 },
		};
		if (poll(pfd, 3, ms) > 0 && (pfd[0].revents & POLLIN)) {
			char drain[64];
			ssize_t n = read(wake[0], drain, sizeof drain);
			(void)n;
		}
		int server_hup = s >= 0 && (pfd[1].revents & (POLLHUP | POLLERR));
		int spare_hup = p >= 0 && (pfd[2].revents & (POLLHUP | POLLERR));
		if (spare_hup && !server_hup && wait_spare > 0) {
			/* a spare that dies at once: not in a tight loop */
			struct timespec ts = { 0, (long)(wait_spare * 1e9) };
			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&server_lock);
		if (!stopping && server_hup && sgen == server_gen) {
			take_over_locked();
		} else if (!stopping && spare_hup && pgen == spare_gen) {
			close(spare_fd);
			spare_fd = -1;
			spare_gen++;
			vt_log_warn("forkserver", "the fork server's spare is "
			    "gone; a new one is made");
			if (request_spare_locked() < 0 && server_fd >= 0 &&
			    peer_gone(server_fd))
				take_over_locked();
		}
		pthread_mutex_unlock(&server_lock);
		if (s >= 0)
			close(s);
		if (p >= 0)
			close(p);
	}
}

/* Start the watcher with every signal blocked (the daemon reads its
 * signals through a signalfd, which may not be set up yet). */
static void start_watcher_locked(void)
{
	sigset_t all, old;
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		vt_log_warn_errno("forkserver", "pipe: no supervision of the "
		    "helper processes");
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&watcher, NULL, watch_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		vt_log_error("forkserver", "watcher thread: %s: no supervision "
		    "of the helper processes", strerror(rc));
		close(wake[0]);
		close(wake[1]);
		wake[0] = wake[1] = -1;
		return;
	}
	pthread_setname_np(watcher, "vitals-fsrv");
	watching = 1;
}

/* ---- life cycle ---- */

int vt_forkserver_start(vt_forkserver_job job, vt_forkserver_warm warm,
    unsigned timeout_seconds, char *err, size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&server_lock);
	if (started)
		goto out;       /* the watcher replaces a server that died */
	job_fn = job;
	warm_fn = warm;
	job_timeout = timeout_seconds ? timeout_seconds : 30;
	if (new_server_locked(err, errlen) < 0) {
		rc = -1;
		goto out;
	}
	started = 1;
	respawn_backoff = 0;
	last_respawn = next_respawn = vt_clock_mono();
	start_watcher_locked();
out:
	pthread_mutex_unlock(&server_lock);
	return rc;
}

int vt_forkserver_running(void)
{
	pthread_mutex_lock(&server_lock);
	int up = started;
	pthread_mutex_unlock(&server_lock);
	return up;
}

/* Wait for our child pid at most `seconds`, then kill it and wait. */
static void reap_bounded(pid_t pid, double seconds)
{
	double until = vt_clock_mono() + seconds;
	for (;;) {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r != 0 && !(r < 0 && errno == EINTR))
			return;
		if (vt_clock_mono() >= until)
			break;
		struct timespec ts = { 0, 5000000L };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void vt_forkserver_stop(void)
{
	pthread_mutex_lock(&server_lock);
	stopping = 1;
	int joined = watching;
	pthread_mutex_unlock(&server_lock);
	if (joined) {
		wake_watcher();
		pthread_join(watcher, NULL);
	}
	pthread_mutex_lock(&server_lock);
	watching = 0;
	if (wake[0] >= 0) {
		close(wake[0]);
		close(wake[1]);
		wake[0] = wake[1] = -1;
	}
	if (spare_fd >= 0)
		close(spare_fd);    /* the spare sees EOF and exits */
	if (server_fd >= 0)
		close(server_fd);   /* the server sees EOF and exits */
	if (server_pid > 0)
		reap_bounded(server_pid, 2.0);
	for (size_t i = 0; i < nzombies; i++)
		reap_bounded(zombies[i], 0.5);
	nzombies = 0;
	spare_fd = -1;
	server_fd = -1;
	server_pid = -1;
	server_gen++;
	spare_gen++;
	started = 0;
	stopping = 0;
	pthread_mutex_unlock(&server_lock);
}

unsigned long vt_forkserver_takeovers(void)
{
	pthread_mutex_lock(&server_lock);
	unsigned long n = takeovers;
	pthread_mutex_unlock(&server_lock);
	return n;
}

unsigned long vt_forkserver_respawns(void)
{
	pthread_mutex_lock(&server_lock);
	unsigned long n = respawns;
	pthread_mutex_unlock(&server_lock);
	return n;
}

unsigned long vt_forkserver_unavailable(void)
{
	pthread_mutex_lock(&server_lock);
	unsigned long n = unavailable;
	pthread_mutex_unlock(&server_lock);
	return n;
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
	char msg[1 + sizeof(uintptr_t)];
	uintptr_t off = fn_offset((uintptr_t)serve);
	msg[0] = 'S';
	memcpy(msg + 1, &off, sizeof off);
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
	unsigned long gen;
	int sock = server_socket(&gen, &timeout, err, errlen);
	if (sock < 0)
		return -EPIPE;  /* at once: no helper to wait for */
	close(sock);
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
