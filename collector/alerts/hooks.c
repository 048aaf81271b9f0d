/*
 * hooks.c - per-hook queues and worker threads (hooks.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/alerts/hook_exec.h"
#include "collector/alerts/hook_webhook.h"
#include "collector/alerts/hooks.h"
#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/prom_text.h"
#include "collector/base/queue.h"
#include "collector/base/xmalloc.h"

#define LOG_OUTPUT_LINES 20    /* lines of a hook's output logged */

struct job {
	struct vt_queue_node node;
	struct vt_alert_config *cfg;    /* reference */
	const struct vt_hook_cfg *hook; /* inside cfg */
	char *json;
	char **env;
};

struct runner {
	struct runner *next;
	char *name;
	vt_hooks *hs;
	pthread_t thread;
	struct vt_queue q;         /* jobs; bound: the config's queue */
	/* counters, under hs->lock */
	unsigned long long runs[VT_HOOK_RESULT_COUNT], retries;
};

struct vt_hooks {
	pthread_mutex_t lock;      /* guards runners, their counters, stop */
	pthread_cond_t wake;       /* stop (wakes a webhook's backoff) */
	volatile int stop;
	struct runner *runners;
};

static void job_free(struct job *j)
{
	if (j == NULL)
		return;
	vt_alert_config_release(j->cfg);
	free(j->json);
	for (size_t i = 0; j->env && j->env[i]; i++)
		free(j->env[i]);
	free(j->env);
	free(j);
}

vt_hooks *vt_hooks_create(void)
{
	vt_hooks *hs = vt_xcalloc(1, sizeof *hs);
	pthread_mutex_init(&hs->lock, NULL);
	vt_clock_cond_init(&hs->wake);
	return hs;
}

/* The webhook backoff: sleep unless stopping. 1 when stopping. */
static int wait_or_stop(void *ctx, double seconds)
{
	vt_hooks *hs = ctx;
	struct timespec ts = vt_clock_deadline(seconds);
	pthread_mutex_lock(&hs->lock);
	while (!hs->stop &&
	    pthread_cond_timedwait(&hs->wake, &hs->lock, &ts) != ETIMEDOUT)
		;
	int stop = hs->stop;
	pthread_mutex_unlock(&hs->lock);
	return stop;
}

/* The hook's output, line by line, into the log. */
static void log_output(const char *hook, struct vt_buf *out)
{
	if (out->len == 0)
		return;
	char *s = out->data, *end = out->data + out->len;
	for (int n = 0; s < end; n++) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (n == LOG_OUTPUT_LINES) {
			vt_log_info("hooks", "%s: (more output not logged)",
			    hook);
			break;
		}
		vt_log_info("hooks", "%s: | %.*s", hook, (int)len, s);
		s += len + 1;
	}
}

static enum vt_hook_result run(vt_hooks *hs, struct runner *r,
    struct job *j)
{
	char why[256] = "";
	enum vt_hook_result res;
	if (j->hook->type == VT_HOOK_EXEC) {
		struct vt_buf out;
		vt_buf_init(&out);
		res = vt_hook_exec_run(j->hook, j->json, j->env, &hs->stop,
		    &out, why, sizeof why);
		log_output(r->name, &out);
		vt_buf_fini(&out);
	} else {
		unsigned attempts = 0;
		res = vt_hook_webhook_post(j->hook, j->json, &hs->stop,
		    wait_or_stop, hs, &attempts, why, sizeof why);
		if (attempts > 1) {
			pthread_mutex_lock(&hs->lock);
			r->retries += attempts - 1;
			pthread_mutex_unlock(&hs->lock);
		}
		size_t wl = strlen(why);
		snprintf(why + wl, sizeof why - wl, " (%u attempt%s)",
		    attempts, attempts == 1 ? "" : "s");
	}
	if (res == VT_HOOK_OK)
		vt_log_info("hooks", "%s: %s", r->name, why);
	else
		vt_log_warn("hooks", "%s %s: %s", r->name,
		    vt_hook_exec_result_name(res), why);
	return res;
}

static void *worker(void *arg)
{
	struct runner *r = arg;
	vt_hooks *hs = r->hs;
	struct vt_queue_node *n;
	/* NULL once closed: jobs still queued are dropped at destroy. */
	while ((n = vt_queue_pop(&r->q, -1)) != NULL) {
		struct job *j = VT_QUEUE_ITEM(n, struct job, node);
		enum vt_hook_result res = run(hs, r, j);
		job_free(j);
		pthread_mutex_lock(&hs->lock);
		r->runs[res]++;
		pthread_mutex_unlock(&hs->lock);
	}
	return NULL;
}

/* Copy one job into r's queue (under hs->lock, after admit: it fits). */
static int enqueue(struct runner *r, struct vt_alert_config *c,
    const struct vt_hook_cfg *h, const char *json, char *const *env)
{
	struct job *j = vt_xcalloc(1, sizeof *j);
	size_t n = 0;
	while (env && env[n])
		n++;
	j->cfg = vt_alert_config_retain(c);
	j->hook = h;
	j->json = vt_xstrdup(json);
	j->env = vt_xcalloc(n + 1, sizeof *j->env);
	for (size_t i = 0; i < n; i++)
		j->env[i] = vt_xstrdup(env[i]);
	if (vt_queue_push(&r->q, &j->node, 0, NULL) < 0) {
		job_free(j);
		return -ENOSPC;
	}
	return 0;
}

/* The runner for a hook name, started on first use (under lock). */
static struct runner *runner_get(vt_hooks *hs, const char *name)
{
	struct runner *r;
	for (r = hs->runners; r != NULL; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	r = vt_xcalloc(1, sizeof *r);
	r->name = vt_xstrdup(name);
	r->hs = hs;
	vt_queue_init(&r->q, 0, 0, 0);       /* no eventfd: cannot fail */
	if (hs->stop)
		vt_queue_close(&r->q);
	int rc = pthread_create(&r->thread, NULL, worker, r);
	if (rc != 0) {
		vt_log_error("hooks", "%s: cannot start a worker: %s", name,
		    strerror(rc));
		vt_queue_fini(&r->q);
		free(r->name);
		free(r);
		return NULL;
	}
	r->next = hs->runners;
	hs->runners = r;
	return r;
}

int vt_hooks_submit(vt_hooks *hs, struct vt_alert_config *c,
    const struct vt_hook_cfg *h, const char *json, char *const *env)
{
	int rc = 0;
	pthread_mutex_lock(&hs->lock);
	struct runner *r = runner_get(hs, h->name);
	if (r == NULL) {
		rc = -EAGAIN;
	} else {
		/* The current config's bound; a stopped runner is closed. */
		vt_queue_set_max(&r->q, c->queue, 0);
		if (vt_queue_admit(&r->q, 0) < 0)
			rc = -ENOSPC;
		else
			rc = enqueue(r, c, h, json, env);
	}
	pthread_mutex_unlock(&hs->lock);
	if (rc == -ENOSPC)
		vt_log_warn("hooks", "%s: queue full (%zu), notification "
		    "dropped", h->name, c->queue);
	return rc;
}

void vt_hooks_destroy(vt_hooks *hs)
{
	if (hs == NULL)
		return;
	pthread_mutex_lock(&hs->lock);
	hs->stop = 1;
	pthread_cond_broadcast(&hs->wake);
	for (struct runner *r = hs->runners; r; r = r->next)
		vt_queue_close(&r->q);
	pthread_mutex_unlock(&hs->lock);
	while (hs->runners) {
		struct runner *r = hs->runners;
		hs->runners = r->next;
		pthread_join(r->thread, NULL);
		if (vt_queue_len(&r->q) > 0)
			vt_log_warn("hooks", "%s: %zu notifications not sent "
			    "at shutdown", r->name, vt_queue_len(&r->q));
		struct vt_queue_node *n = vt_queue_take(&r->q, 0);
		while (n) {
			struct job *j = VT_QUEUE_ITEM(n, struct job, node);
			n = n->next;
			job_free(j);
		}
		vt_queue_fini(&r->q);
		free(r->name);
		free(r);
	}
	pthread_cond_destroy(&hs->wake);
	pthread_mutex_destroy(&hs->lock);
	free(hs);
}

static void per_hook(vt_hooks *hs, struct vt_buf *out, const char *name,
    const char *extra, int what)
{
	for (struct runner *r = hs->runners; r; r = r->next) {
		unsigned long long v = what == 0 ? vt_queue_dropped(&r->q) :
		    what == 1 ? r->retries : vt_queue_len(&r->q);
		vt_buf_printf(out, "%s{hook=\"", name);
		vt_prom_text_escape_label(out, r->name);
		vt_buf_printf(out, "\"%s} %llu\n", extra, v);
	}
}

void vt_hooks_collect(void *ctx, struct vt_buf *out, enum vt_prom_format fmt)
{
	static const char runs[] = "vitals_alert_hook_runs";
	vt_hooks *hs = ctx;
	pthread_mutex_lock(&hs->lock);
	vt_prom_text_head(out, runs, strlen(runs), VT_PROM_COUNTER, "Alert "
	    "hook runs by hook and result (ok, failed, timeout).", fmt);
	for (struct runner *r = hs->runners; r; r = r->next) {
		for (unsigned i = 0; i < VT_HOOK_RESULT_COUNT; i++) {
			vt_buf_puts(out, "vitals_alert_hook_runs_total{hook=\"");
			vt_prom_text_escape_label(out, r->name);
			vt_buf_printf(out, "\",result=\"%s\"} %llu\n",
			    vt_hook_exec_result_name(i), r->runs[i]);
		}
	}
	vt_prom_text_head(out, "vitals_alert_hook_dropped", 25,
	    VT_PROM_COUNTER, "Alert notifications dropped because the "
	    "hook's queue was full.", fmt);
	per_hook(hs, out, "vitals_alert_hook_dropped_total", "", 0);
	vt_prom_text_head(out, "vitals_alert_hook_retries", 25,
	    VT_PROM_COUNTER, "Webhook attempts after a failed one.", fmt);
	per_hook(hs, out, "vitals_alert_hook_retries_total", "", 1);
	vt_prom_text_head(out, "vitals_alert_hook_queue", 23, VT_PROM_GAUGE,
	    "Alert notifications waiting for their hook.", fmt);
	per_hook(hs, out, "vitals_alert_hook_queue", "", 2);
	pthread_mutex_unlock(&hs->lock);
}
