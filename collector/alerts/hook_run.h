/*
 * hook_run.h - running one hook once: an exec hook as a child process
 * (hook_exec.c) or a webhook as HTTP POSTs with retries (hook_webhook.c).
 * Both block the calling hook worker (hooks.c) and nothing else; both
 * give up at the hook's time limit, and early when *stop becomes
 * non-zero (shutdown).
 */
#ifndef VT_HOOK_RUN_H
#define VT_HOOK_RUN_H

#include <stddef.h>

#include "collector/alerts/alert_config.h"
#include "collector/base/buf.h"

#define VT_HOOK_OUTPUT_MAX 65536    /* bytes of a hook's output kept */

enum vt_hook_result {
	VT_HOOK_OK = 0,
	VT_HOOK_FAILED,      /* non-zero exit, HTTP error, no connection */
	VT_HOOK_TIMEOUT,     /* killed / abandoned at its time limit */
	VT_HOOK_RESULT_COUNT
};

/* "ok", "failed", "timeout". */
const char *vt_hook_exec_result_name(enum vt_hook_result r);

/*
 * Run h->argv (no shell; PATH searched when argv[0] has no '/') with
 * `input` on stdin and env added to the environment ("NAME=value"
 * strings, NULL-terminated; VITALS_* variables of our own environment
 * are left out). stdout and stderr go to `output` (at most
 * VT_HOOK_OUTPUT_MAX bytes kept). The child runs in its own process group
 * with default signal handling and no descriptors but 0, 1 and 2; at the
 * time limit (or on *stop) the group is killed with SIGKILL and the child
 * reaped. why gets "exit 3", "killed by signal 9 after 5s", ...
 */
enum vt_hook_result vt_hook_exec_run(const struct vt_hook_cfg *h,
    const char *input, char *const *env, const volatile int *stop,
    struct vt_buf *output, char *why, size_t whylen);

/* Sleep up to `seconds`; non-zero when woken to stop. */
typedef int (*vt_hook_wait_fn)(void *ctx, double seconds);

/*
 * POST body (application/json) to h->url with h->headers, each attempt
 * limited to h->timeout; after a failure wait h->backoff, doubling up to
 * a minute, for at most h->retries more attempts. A 2xx answer is
 * success; anything else is retried. *attempts gets the number made.
 */
enum vt_hook_result vt_hook_webhook_post(const struct vt_hook_cfg *h,
    const char *body, const volatile int *stop, vt_hook_wait_fn wait,
    void *wait_ctx, unsigned *attempts, char *why, size_t whylen);

/* Release libcurl if a webhook set it up; after every hook worker has
 * stopped (at exit). */
void vt_hook_webhook_cleanup(void);

#endif
