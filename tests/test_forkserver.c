/* test_forkserver.c - jobs run in children of the fork server: answers and
 * errors come back, jobs from many threads run in parallel, a job that
 * hangs is killed at the time limit, a gone spare or server is replaced
 * and with both gone a call fails at once until a fresh (exec'd) server
 * is there. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exporters/rrd/forkserver.h"
#include "suites.h"

/* argv[0] names what to do: "echo" joins the rest, "fail" answers an
 * error, "hang" never answers, "pid" and "ppid" answer the child's pid
 * and its parent's (the server's). */
static int job(int argc, char **argv, struct vt_buf *out)
{
	if (strcmp(argv[0], "fail") == 0) {
		vt_buf_puts(out, "no such graph");
		return -ENOENT;
	}
	if (strcmp(argv[0], "hang") == 0)
		for (;;)
			pause();
	if (strcmp(argv[0], "pid") == 0 || strcmp(argv[0], "ppid") == 0) {
		vt_buf_printf(out, "%ld", (long)(argv[0][1] == 'p' ?
		    getppid() : getpid()));
		return 0;
	}
	for (int i = 1; i < argc; i++)
		vt_buf_printf(out, "%s%s", i > 1 ? "," : "", argv[i]);
	return 0;
}

static int warmed;
static void warm(void)
{
	warmed = 1;   /* set in the server only: children see it, we do not */
}

static int warmed_job(int argc, char **argv, struct vt_buf *out)
{
	(void)argc;
	(void)argv;
	vt_buf_puts(out, warmed ? "warm" : "cold");
	return 0;
}

static void start(vt_forkserver_job j, unsigned timeout)
{
	char err[256] = "";
	ck_assert_int_eq(vt_forkserver_start(j, warm, timeout, err, sizeof err),
	    0);
	ck_assert(vt_forkserver_running());
}

START_TEST(answers_and_errors_come_back)
{
	start(job, 5);
	struct vt_buf out;
	char err[256];
	vt_buf_init(&out);
	const char *echo[] = { "echo", "a", "", "b c" };
	ck_assert_int_eq(vt_forkserver_call(4, echo, 1024, &out, err,
	    sizeof err), 0);
	ck_assert_str_eq(out.data, "a,,b c");

	vt_buf_reset(&out);
	const char *fail[] = { "fail" };
	ck_assert_int_eq(vt_forkserver_call(1, fail, 1024, &out, err,
	    sizeof err), -ENOENT);
	ck_assert_str_eq(err, "no such graph");
	ck_assert_uint_eq(out.len, 0);

	/* An answer larger than the caller accepts is refused. */
	ck_assert_int_eq(vt_forkserver_call(4, echo, 3, &out, err,
	    sizeof err), -EIO);
	ck_assert_uint_eq(out.len, 0);

	/* Each job is a new child of the server, never of this process. */
	const char *pid[] = { "pid" };
	vt_buf_reset(&out);
	ck_assert_int_eq(vt_forkserver_call(1, pid, 64, &out, err,
	    sizeof err), 0);
	long first = atol(out.data);
	vt_buf_reset(&out);
	ck_assert_int_eq(vt_forkserver_call(1, pid, 64, &out, err,
	    sizeof err), 0);
	ck_assert_int_ne(first, atol(out.data));
	ck_assert_int_ne(first, (long)getpid());
	vt_buf_fini(&out);
	vt_forkserver_stop();
	ck_assert(!vt_forkserver_running());
}
END_TEST

START_TEST(warm_runs_in_the_server_once)
{
	start(warmed_job, 5);
	struct vt_buf out;
	char err[256];
	vt_buf_init(&out);
	const char *any[] = { "x" };
	ck_assert_int_eq(vt_forkserver_call(1, any, 64, &out, err,
	    sizeof err), 0);
	ck_assert_str_eq(out.data, "warm");
	ck_assert_int_eq(warmed, 0);
	vt_buf_fini(&out);
	vt_forkserver_stop();
}
END_TEST

#define THREADS 8
#define CALLS 20

static void *caller(void *arg)
{
	long id = (long)arg;
	long bad = 0;
	struct vt_buf out;
	char err[256], a[32], b[32];
	vt_buf_init(&out);
	for (int i = 0; i < CALLS; i++) {
		snprintf(a, sizeof a, "t%ld", id);
		snprintf(b, sizeof b, "%d", i);
		const char *argv[] = { "echo", a, b };
		char want[80];
		snprintf(want, sizeof want, "%s,%s", a, b);
		vt_buf_reset(&out);
		if (vt_forkserver_call(3, argv, 64, &out, err, sizeof err) != 0 ||
		    strcmp(out.data, want) != 0)
			bad++;
	}
	vt_buf_fini(&out);
	return (void *)bad;
}

START_TEST(threads_get_their_own_answers)
{
	start(job, 10);
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, caller, (void *)i),
		    0);
	long bad = 0;
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	ck_assert_int_eq(bad, 0);
	vt_forkserver_stop();
}
END_TEST

START_TEST(a_hanging_job_is_killed_at_the_limit)
{
	start(job, 1);
	struct vt_buf out;
	char err[256];
	vt_buf_init(&out);
	const char *hang[] = { "hang" };
	ck_assert_int_eq(vt_forkserver_call(1, hang, 64, &out, err,
	    sizeof err), -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(err, "ran out of time"));
	/* and the server goes on serving */
	const char *echo[] = { "echo", "after" };
	ck_assert_int_eq(vt_forkserver_call(2, echo, 64, &out, err,
	    sizeof err), 0);
	ck_assert_str_eq(out.data, "after");
	vt_buf_fini(&out);
	vt_forkserver_stop();
}
END_TEST

/* 1 once pid has exited (gone, or a zombie nobody reaped yet). */
static int exited(pid_t pid)
{
	char path[64], buf[256];
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			return 1;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		const char *p = strrchr(buf, ')');
		if (p && (p[2] == 'Z' || p[2] == 'X'))
			return 1;
		usleep(10000);
	}
	return 0;
}

/* The server's sole child, or 0 while it has none or several (a job
 * child that answered may still be exiting). */
static pid_t spare_of_maybe(pid_t server)
{
	char path[64];
	long pid = 0, more = 0;
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)server,
	    (int)server);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pid, &more) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/* The server's only child once no job runs: its spare. */
static pid_t spare_of(pid_t server)
{
	pid_t pid = 0;
	for (int i = 0; i < 300 && pid == 0; i++) {
		pid = spare_of_maybe(server);
		if (pid == 0)
			usleep(10000);
	}
	ck_assert_int_ne(pid, 0);
	return pid;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when pid is a child of this process (of any thread). */
static int is_child(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	int ppid = 0;
	return p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == getpid();
}

static void echo_serve(int fd);

static pid_t server_of_a_job(struct vt_buf *out)
{
	char err[256];
	const char *ppid[] = { "ppid" };
	vt_buf_reset(out);
	ck_assert_msg(vt_forkserver_call(1, ppid, 64, out, err, sizeof err) ==
	    0, "%s", err);
	return (pid_t)atol(out->data);
}

/* Killed servers: the spare takes over (and gets a spare of its own);
 * with the spare gone too, a call is an error, not a hang. */
START_TEST(a_gone_server_is_replaced_then_an_error)
{
	char err[256];
	struct vt_buf out;
	vt_buf_init(&out);
	const char *echo[] = { "echo", "x" };
	ck_assert_int_eq(vt_forkserver_call(2, echo, 64, &out, err,
	    sizeof err), -EPIPE);
	ck_assert_ptr_nonnull(strstr(err, "not started"));
	start(job, 5);
	pid_t first = server_of_a_job(&out);
	ck_assert_int_ne(first, getpid());
	ck_assert_int_eq(vt_forkserver_takeovers(), 0);

	/* Kill the server behind the library's back. */
	ck_assert_int_eq(kill(first, SIGKILL), 0);
	ck_assert(exited(first));   /* the watcher may have reaped it */
	pid_t second = server_of_a_job(&out);
	ck_assert_int_ne(second, first);
	ck_assert_int_eq(vt_forkserver_takeovers(), 1);

	/* Again: the takeover made a new spare. */
	pid_t third_spare = spare_of(second);
	ck_assert_int_eq(kill(second, SIGKILL), 0);
	ck_assert(exited(second));
	pid_t third = server_of_a_job(&out);
	ck_assert_int_eq(third, third_spare);
	ck_assert_int_eq(vt_forkserver_takeovers(), 2);

	/* Server and spare both gone: calls fail at once (never hang), and
	 * a fresh server, exec'd (this process has the watcher thread now),
	 * comes within seconds, with a spare of its own. */
	pid_t last_spare = spare_of(third);
	ck_assert_int_eq(kill(last_spare, SIGKILL), 0);
	ck_assert_int_eq(kill(third, SIGKILL), 0);
	ck_assert(exited(third) && exited(last_spare));
	int rc = -1;
	for (int i = 0; i < 500 && rc != 0; i++) {
		double t0 = now();
		vt_buf_reset(&out);
		rc = vt_forkserver_call(2, echo, 64, &out, err, sizeof err);
		ck_assert_msg(now() - t0 < 1.0, "a call waited %.1fs",
		    now() - t0);
		if (rc != 0) {
			ck_assert_int_eq(rc, -EPIPE);
			usleep(10000);
		}
	}
	ck_assert_msg(rc == 0, "no new server: %s", err);
	ck_assert_str_eq(out.data, "x");
	ck_assert_uint_eq(vt_forkserver_respawns(), 1);
	pid_t fresh = server_of_a_job(&out);
	ck_assert_int_ne(fresh, third);
	ck_assert(is_child(fresh));
	/* It takes over like the first: it has a spare. */
	pid_t fresh_spare = spare_of(fresh);
	ck_assert_int_eq(kill(fresh, SIGKILL), 0);
	ck_assert(exited(fresh));
	ck_assert_int_eq(server_of_a_job(&out), fresh_spare);
	vt_forkserver_stop();
	vt_buf_fini(&out);
}
END_TEST

/* A dead spare is replaced by the watcher, without any call. */
START_TEST(a_gone_spare_is_replaced_at_once)
{
	struct vt_buf out;
	vt_buf_init(&out);
	start(job, 5);
	pid_t server = server_of_a_job(&out);
	pid_t spare = spare_of(server);
	ck_assert_int_eq(kill(spare, SIGKILL), 0);
	pid_t next = spare;
	for (int i = 0; i < 300 && (next == spare || next == 0); i++) {
		usleep(10000);
		next = spare_of_maybe(server);
	}
	ck_assert_int_ne(next, spare);
	ck_assert_int_ne(next, 0);
	/* and it is a working spare: the server dies, it takes over */
	ck_assert_int_eq(kill(server, SIGKILL), 0);
	ck_assert(exited(server));
	ck_assert_int_eq(server_of_a_job(&out), next);
	vt_forkserver_stop();
	vt_buf_fini(&out);
}
END_TEST

/* A server exec'd from a threaded process warms up and runs spawned
 * helpers too (functions cross as offsets). */
static void *idle_thread(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

START_TEST(a_threaded_process_execs_its_server)
{
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, idle_thread, NULL), 0);
	start(warmed_job, 5);
	struct vt_buf out;
	char err[256];
	vt_buf_init(&out);
	const char *argv[] = { "w" };
	ck_assert_int_eq(vt_forkserver_call(1, argv, 64, &out, err,
	    sizeof err), 0);
	ck_assert_str_eq(out.data, "warm");
	int fd;
	pid_t pid;
	ck_assert_int_eq(vt_forkserver_spawn(echo_serve, SOCK_SEQPACKET, &fd,
	    &pid, err, sizeof err), 0);
	char buf[16];
	ck_assert_int_eq(send(fd, "abc", 3, 0), 3);
	ck_assert_int_eq(recv(fd, buf, sizeof buf, 0), 3);
	ck_assert_int_eq(memcmp(buf, "ABC", 3), 0);
	close(fd);
	vt_forkserver_stop();
	vt_buf_fini(&out);
}
END_TEST

START_TEST(a_job_too_large_is_refused)
{
	start(job, 5);
	static char big[70000];
	memset(big, 'x', sizeof big - 1);
	const char *argv[] = { "echo", big };
	struct vt_buf out;
	char err[256];
	vt_buf_init(&out);
	ck_assert_int_eq(vt_forkserver_call(2, argv, 64, &out, err,
	    sizeof err), -E2BIG);
	vt_buf_fini(&out);
	vt_forkserver_stop();
}
END_TEST

/* A spawned helper: echoes each message back, upper-cased, until EOF. */
static void echo_serve(int fd)
{
	char buf[256];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] >= 'a' && buf[i] <= 'z')
				buf[i] = (char)(buf[i] - 'a' + 'A');
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	}
}

static int gone(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* A long-lived helper: a child of the server (not of this process), it
 * serves its socket, ends when its socket closes, and dies with the
 * server. */
START_TEST(spawned_helper_serves_until_closed)
{
	start(job, 5);
	char err[256];
	int fd;
	pid_t pid;
	ck_assert_int_eq(vt_forkserver_spawn(echo_serve, SOCK_SEQPACKET, &fd,
	    &pid, err, sizeof err), 0);
	ck_assert_int_ne(pid, getpid());
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);   /* not ours */
	ck_assert_int_eq(errno, ECHILD);
	char buf[32] = "";
	ck_assert_int_eq(send(fd, "hello", 5, 0), 5);
	ck_assert_int_eq(recv(fd, buf, sizeof buf, 0), 5);
	ck_assert_int_eq(memcmp(buf, "HELLO", 5), 0);
	close(fd);
	ck_assert_msg(gone(pid), "the helper outlived its socket");

	/* A second one dies with the server. */
	ck_assert_int_eq(vt_forkserver_spawn(echo_serve, SOCK_SEQPACKET, &fd,
	    &pid, err, sizeof err), 0);
	vt_forkserver_stop();
	ck_assert_msg(gone(pid), "the helper outlived the server");
	close(fd);
	ck_assert_int_eq(vt_forkserver_spawn(echo_serve, SOCK_SEQPACKET, &fd,
	    &pid, err, sizeof err), -EPIPE);
}
END_TEST

Suite *vt_test_forkserver_suite(void)
{
	Suite *s = suite_create("forkserver");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, answers_and_errors_come_back);
	tcase_add_test(tc, warm_runs_in_the_server_once);
	tcase_add_test(tc, threads_get_their_own_answers);
	tcase_add_test(tc, a_hanging_job_is_killed_at_the_limit);
	tcase_add_test(tc, a_gone_server_is_replaced_then_an_error);
	tcase_add_test(tc, a_gone_spare_is_replaced_at_once);
	tcase_add_test(tc, a_threaded_process_execs_its_server);
	tcase_add_test(tc, a_job_too_large_is_refused);
	tcase_add_test(tc, spawned_helper_serves_until_closed);
	suite_add_tcase(s, tc);
	return s;
}
