/*
 * loop.h - the event loop of the ingest thread (epoll): file descriptors,
 * periodic timers (timerfd) and signals (signalfd), all dispatched on the
 * thread that calls vt_loop_run.
 *
 * Handlers are kept in a table indexed by fd, so removing an fd inside a
 * callback is safe: a later event for it in the same batch is skipped.
 */
#ifndef VT_LOOP_H
#define VT_LOOP_H

#include <stddef.h>
#include <stdint.h>

typedef struct vt_loop vt_loop;

/* events: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP as reported by epoll. */
typedef void (*vt_loop_fd_fn)(void *ctx, int fd, uint32_t events);
typedef void (*vt_loop_timer_fn)(void *ctx);
typedef void (*vt_loop_signal_fn)(void *ctx, int signo);

/* NULL with err set on failure. */
vt_loop *vt_loop_create(char *err, size_t errlen);
/* Closes the loop's own timer and signal fds; registered fds stay the
 * caller's to close. */
void vt_loop_destroy(vt_loop *loop);

/* Watch fd for events (EPOLLIN/EPOLLOUT). 0 or -errno. */
int vt_loop_add_fd(vt_loop *loop, int fd, uint32_t events,
    vt_loop_fd_fn fn, void *ctx);
int vt_loop_mod_fd(vt_loop *loop, int fd, uint32_t events);
/* Stop watching fd (does not close it). */
void vt_loop_del_fd(vt_loop *loop, int fd);

/*
 * Call fn every `seconds`. With align != 0 the first call happens at the
 * next wall-clock multiple of the period (10 s -> :00, :10, ...), so
 * windows line up across restarts and with RRD steps. 0 or -errno.
 */
int vt_loop_add_timer(vt_loop *loop, double seconds, int align,
    vt_loop_timer_fn fn, void *ctx);

/* Block these signals for the process and deliver them through the loop.
 * Call before starting any thread (threads inherit the mask). */
int vt_loop_add_signals(vt_loop *loop, const int *signals, size_t n,
    vt_loop_signal_fn fn, void *ctx);

/* Run until vt_loop_stop is called (from a callback). */
void vt_loop_run(vt_loop *loop);
void vt_loop_stop(vt_loop *loop);

#endif
