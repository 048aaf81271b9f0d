/*
 * hook_webhook.h - delivering a webhook once: HTTP POSTs of the event with
 * retries and backoff (libcurl, opened on first use). Blocks the calling
 * hook worker (hooks.c) and nothing else; gives up at the hook's time
 * limit, and early when *stop becomes non-zero (shutdown).
 */
#ifndef VT_HOOK_WEBHOOK_H
#define VT_HOOK_WEBHOOK_H

#include <stddef.h>

#include "collector/alerts/alert_config.h"
#include "collector/alerts/hook_exec.h"

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
