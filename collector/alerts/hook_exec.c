/*
 * hook_exec.c - an exec hook: posix_spawn with pipes, a deadline, a
 * process-group kill and a reap (hook_exec.h). No shell is involved.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collector/alerts/hook_exec.h"
#include "collector/base/clock.h"
#include "collector/base/xmalloc.h"

#define SLICE_MS 50

extern char **environ;


const char *vt_hook_exec_result_name(enum vt_hook_result r)
{
	static const char *const names[] = { "ok", "failed", "timeout" };
	return (unsigned)r < VT_HOOK_RESULT_COUNT ? names[r] : "?";
}

/* Our environment without VITALS_*, then env. Caller frees the array
 * (not the strings, which are borrowed). */
static char **child_env(char *const *env)
{
	size_t n = 0, m = 0, k = 0;
	while (environ && environ[n])
		n++;
	while (env && env[m])
		m++;
	char **out = vt_xcalloc(n + m + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "VITALS_", 7) != 0)
			out[k++] = environ[i];
	for (size_t i = 0; i < m; i++)
		out[k++] = env[i];
	return out;
}

static int spawn(const struct vt_hook_cfg *h, int in, int out, char **envp,
    pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, out, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	if (strchr(h->argv[0], '/'))
		rc = posix_spawn(pid, h->argv[0], &fa, &attr, h->argv, envp);
	else
		rc = posix_spawnp(pid, h->argv[0], &fa, &attr, h->argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Read what is there into output (keeping at most the limit). 1 at EOF. */
static int drain(int fd, struct vt_buf *output)
{
	char chunk[4096];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		size_t room = output->len < VT_HOOK_OUTPUT_MAX ?
		    VT_HOOK_OUTPUT_MAX - output->len : 0;
		vt_buf_append(output, chunk, (size_t)n < room ? (size_t)n : room);
	}
}

enum vt_hook_result vt_hook_exec_run(const struct vt_hook_cfg *h,
    const char *input, char *const *env, const volatile int *stop,
    struct vt_buf *output, char *why, size_t whylen)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status = 0;
	size_t len = strlen(input), sent = 0;
	enum vt_hook_result res = VT_HOOK_FAILED;
	double start = vt_clock_mono();
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		goto out;
	}
	char **envp = child_env(env);
	int rc = spawn(h, in[0], out[1], envp, &pid);
	free(envp);
	if (rc != 0) {
		snprintf(why, whylen, "cannot run %s: %s", h->argv[0],
		    strerror(rc));
		goto out;
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);

	int reaped = 0, eof = 0, killed = 0;
	while (!reaped || !eof) {
		if (!killed && (vt_clock_mono() - start >= h->timeout || *stop)) {
			kill(-pid, SIGKILL);
			killed = 1;
		}
		if (reaped && !eof) {
			/* A grandchild may hold the pipe: take what is there. */
			drain(out[0], output);
			break;
		}
		struct pollfd pf[2] = { { out[0], POLLIN, 0 },
		    { in[1], POLLOUT, 0 } };
		nfds_t nfds = in[1] >= 0 ? 2 : 1;
		poll(pf, nfds, SLICE_MS);
		if (in[1] >= 0 && (pf[1].revents & (POLLOUT | POLLERR |
		    POLLHUP))) {
			ssize_t n = write(in[1], input + sent, len - sent);
			if (n > 0)
				sent += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    sent == len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (!eof && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			eof = drain(out[0], output);
		if (!reaped) {
			pid_t w = waitpid(pid, &status, killed ? 0 : WNOHANG);
			reaped = w == pid;
		}
	}
	double took = vt_clock_mono() - start;
	if (killed) {
		res = VT_HOOK_TIMEOUT;
		snprintf(why, whylen, "%s after %.3gs, killed", *stop ?
		    "stopping" : "time limit", took);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		res = VT_HOOK_OK;
		snprintf(why, whylen, "exit 0 in %.3gs", took);
	} else if (WIFEXITED(status)) {
		snprintf(why, whylen, "exit %d in %.3gs", WEXITSTATUS(status),
		    took);
	} else {
		snprintf(why, whylen, "killed by signal %d after %.3gs",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0, took);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return res;
}
