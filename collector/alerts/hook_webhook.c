/*
 * hook_webhook.c - a webhook: the event POSTed with libcurl, a time
 * limit per attempt, retries with exponential backoff (hook_webhook.h).
 */
/* The type-checking wrapper macros of curl.h would expand our table's
 * member calls; the table's types are checked instead. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "collector/alerts/hook_webhook.h"
#include "collector/base/dynlib.h"
#include "sonames.h"

#ifndef VT_VERSION
#define VT_VERSION "dev"
#endif

#define BACKOFF_MAX 60.0

/* libcurl is opened (dynlib.h) and set up on the first webhook, not at
 * start: a daemon without webhooks never maps it, the dozen libraries it
 * pulls in (Kerberos, LDAP, SSH, HTTP/2) or OpenSSL's tables. */
static struct {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_global_cleanup) *global_cleanup;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
} curl;

static const struct vt_dynsym curl_syms[] = {
	{ "curl_global_init", (void **)&curl.global_init },
	{ "curl_global_cleanup", (void **)&curl.global_cleanup },
	{ "curl_easy_init", (void **)&curl.easy_init },
	{ "curl_easy_setopt", (void **)&curl.easy_setopt },
	{ "curl_easy_perform", (void **)&curl.easy_perform },
	{ "curl_easy_getinfo", (void **)&curl.easy_getinfo },
	{ "curl_easy_strerror", (void **)&curl.easy_strerror },
	{ "curl_easy_cleanup", (void **)&curl.easy_cleanup },
	{ "curl_slist_append", (void **)&curl.slist_append },
	{ "curl_slist_free_all", (void **)&curl.slist_free_all },
};

static struct vt_dynlib libcurl = VT_DYNLIB_INIT(VT_LIBCURL_SONAME,
    curl_syms);
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;
static char curl_err[256];

static void curl_setup(void)
{
	if (vt_dynlib_load(&libcurl, curl_err, sizeof curl_err) < 0)
		return;
	curl_ready = curl.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	if (!curl_ready)
		snprintf(curl_err, sizeof curl_err, "curl_global_init failed");
}

void vt_hook_webhook_cleanup(void)
{
	if (curl_ready)
		curl.global_cleanup();
	curl_ready = 0;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* Abort the transfer when the daemon stops. */
static int progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c,
    curl_off_t d)
{
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return *(const volatile int *)ctx != 0;
}

/* One attempt: 0 on a 2xx answer, else -1 with why set (*timeout when
 * it ran out of time). */
static int attempt(const struct vt_hook_cfg *h, const char *body,
    const volatile int *stop, int *timed_out, char *why, size_t whylen)
{
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	int rc = -1;

	pthread_once(&curl_once, curl_setup);
	CURL *c = curl_ready ? curl.easy_init() : NULL;
	if (c == NULL) {
		snprintf(why, whylen, "%s", curl_ready ? "curl_easy_init failed" :
		    curl_err);
		return -1;
	}
	hdrs = curl.slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl.slist_append(hdrs, "User-Agent: vitalsd/" VT_VERSION);
	for (size_t i = 0; i < h->nheaders; i++)
		hdrs = curl.slist_append(hdrs, h->headers[i]);
	long ms = (long)(h->timeout * 1000);
	curl.easy_setopt(c, CURLOPT_URL, h->url);
	curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl.easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl.easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl.easy_setopt(c, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
	curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl.easy_setopt(c, CURLOPT_XFERINFODATA, (void *)(uintptr_t)stop);
	CURLcode res = curl.easy_perform(c);
	if (res == CURLE_OK) {
		curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200 && code < 300)
			rc = 0;
		else
			snprintf(why, whylen, "HTTP %ld", code);
	} else {
		*timed_out = res == CURLE_OPERATION_TIMEDOUT;
		snprintf(why, whylen, "%s", errbuf[0] ? errbuf :
		    curl.easy_strerror(res));
	}
	curl.slist_free_all(hdrs);
	curl.easy_cleanup(c);
	return rc;
}

enum vt_hook_result vt_hook_webhook_post(const struct vt_hook_cfg *h,
    const char *body, const volatile int *stop, vt_hook_wait_fn wait,
    void *wait_ctx, unsigned *attempts, char *why, size_t whylen)
{
	double backoff = h->backoff;
	int timed_out = 0;
	*attempts = 0;
	for (unsigned i = 0; i <= h->retries; i++) {
		if (i > 0) {
			if (wait(wait_ctx, backoff))
				break;
			backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
			    backoff * 2;
		}
		timed_out = 0;
		++*attempts;
		if (attempt(h, body, stop, &timed_out, why, whylen) == 0) {
			snprintf(why, whylen, "delivered");
			return VT_HOOK_OK;
		}
		if (*stop)
			break;
	}
	return timed_out ? VT_HOOK_TIMEOUT : VT_HOOK_FAILED;
}
