/*
 * forkserver.h - a helper process, forked while the daemon still has one
 * thread, that forks one short-lived child per job.
 *
 * Forking a threaded process copies every lock another thread holds at
 * that instant (glibc's time-zone lock inside gmtime_r, fontconfig's,
 * GLib's), and a child that then calls into such a library can hang on a
 * lock nobody will ever release. Work that needs a fresh process (graph
 * rendering: librrd leaks a little per call, Pango is not thread-safe)
 * therefore goes to the fork server, which stays single-threaded and
 * forks from there.
 *
 * A job is argv strings; its answer is a status (0 or a negative errno),
 * and bytes (the result, or a message when the status is negative). Each
 * job has its own reply socket, so jobs from many threads run in
 * parallel. A child that runs past the time limit is killed (SIGALRM).
 * The server exits when the daemon closes its end or dies (PDEATHSIG).
 *
 * A spare server (a fork of the server, made at start) stands by, and a
 * watcher thread keeps the pair whole: a dead spare is replaced at once
 * (the server forks a new one), a dead server is replaced by its spare,
 * which is asked for a new spare. When both are gone, calls fail at once
 * (-EPIPE, counted) and the watcher starts a fresh server by posix_spawn
 * of this executable, which becomes a server before main() (a fork of the
 * threaded daemon could copy a held lock; forkserver.c). A job that was
 * running in a dead server's child fails; the next one runs in the new
 * server's. Every helper dies with the daemon and holds none of its
 * descriptors but stdio and its socket.
 */
#ifndef VT_FORKSERVER_H
#define VT_FORKSERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "collector/base/buf.h"

/* Runs in the child, once per job: fill out (result, or message on
 * failure) and return 0 or a negative errno. */
typedef int (*vt_forkserver_job)(int argc, char **argv, struct vt_buf *out);

/* Runs once in the server before its first job (e.g. warm font caches,
 * so every child inherits them). May be NULL. */
typedef void (*vt_forkserver_warm)(void);

/* Start the server (a fork while the process has one thread, else an
 * exec of /proc/self/exe) and its watcher thread. Returns 0 (also when
 * already started) or -1 with err set. */
int vt_forkserver_start(vt_forkserver_job job, vt_forkserver_warm warm,
    unsigned timeout_seconds, char *err, size_t errlen);

/* 1 while the server is started (it may have died since: the watcher
 * replaces it). */
int vt_forkserver_running(void);

/* Run one job: 0 with the result appended to out, or a negative errno
 * with a message in err (-ETIMEDOUT when the child ran out of time, -EPIPE
 * when the server is gone). Thread-safe. */
int vt_forkserver_call(int argc, const char *const *argv, size_t max_reply,
    struct vt_buf *out, char *err, size_t errlen);

/* A long-lived helper: a child of the server running serve(fd) on a new
 * socket pair of `type` (SOCK_STREAM, SOCK_SEQPACKET); *fd gets the
 * caller's end, *pid the helper's pid. It is not the caller's child (the
 * server reaps it) and it dies with the server; serve returning ends it.
 * 0, or a negative errno with err set. Thread-safe. */
typedef void (*vt_forkserver_serve)(int fd);
int vt_forkserver_spawn(vt_forkserver_serve serve, int type, int *fd,
    pid_t *pid, char *err, size_t errlen);

/* Times a spare took over from a dead server since the process began. */
unsigned long vt_forkserver_takeovers(void);
/* Fresh servers started (by exec) after the server and its spare were
 * both gone. */
unsigned long vt_forkserver_respawns(void);
/* Calls and spawns refused at once because no server was running. */
unsigned long vt_forkserver_unavailable(void);

/* Stop the watcher, close the sockets and reap the server (killed when it
 * has not exited within 2 s). Safe to call twice. */
void vt_forkserver_stop(void);

#endif
