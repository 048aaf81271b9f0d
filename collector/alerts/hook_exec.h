/*
 * hook_exec.h - running an exec hook once, as a child process, and the
 * result every hook run ends in (hook_webhook.h uses it too). Blocks the
 * calling hook worker (hooks.c) and nothing else; gives up at the hook's
 * time limit, and early when *stop becomes non-zero (shutdown).
 */
#ifndef VT_HOOK_EXEC_H
#define VT_HOOK_EXEC_H

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

#endif
