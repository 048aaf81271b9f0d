/* latest.c - the most recent closed window, shared by reference (latest.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/published.h"
#include "collector/base/state_file.h"
#include "collector/base/vt_types.h"
#include "collector/base/xmalloc.h"
#include "exporters/recent/catalogue.h"
#include "exporters/recent/forgotten.h"
#include "exporters/recent/latest.h"

struct vt_latest {
	struct vt_published flush;   /* struct vt_flush, or NULL */
	pthread_mutex_t lock;        /* publishers: the flusher and forget;
	                                guards gone and cat */
	struct vt_forgotten gone;
	vt_catalogue *cat;
	char *data_dir;              /* NULL: the catalogue is not kept */
	struct vt_sink next[VT_LATEST_MAX_FEEDS];   /* fed after each
	                                               publish, in order */
	size_t nnext;
};

static void load(vt_latest *l, double now)
{
	char err[VT_ERR_LEN];
	size_t skipped;
	int n = vt_catalogue_load(l->cat, l->data_dir, now, &skipped, err,
	    sizeof err);
	if (n < 0)
		vt_log_error("catalogue", "%s", err);
	else if (skipped > 0)
		vt_log_warn("catalogue", "%s", err);
	if (n > 0)
		vt_log_info("catalogue", "remembered %d metrics from %s/%s", n,
		    l->data_dir, VT_CATALOGUE_FILE);
}

vt_latest *vt_latest_create(const struct vt_latest_config *cfg)
{
	vt_latest *l = vt_xcalloc(1, sizeof *l);
	vt_published_init(&l->flush);
	pthread_mutex_init(&l->lock, NULL);
	l->cat = vt_catalogue_create(cfg->retire_after, cfg->max_metrics);
	if (cfg->data_dir == NULL)
		return l;
	l->data_dir = vt_xstrdup(cfg->data_dir);
	double now = vt_clock_now();
	load(l, now);
	if (vt_catalogue_size(l->cat) == 0)
		return l;
	/* Before the first window closes: what was there before. */
	struct vt_flush *empty = vt_flush_create(0, 0, cfg->npercentiles);
	empty->timestamp = now;
	empty->interval = cfg->flush_interval;
	memcpy(empty->percentiles, cfg->percentiles, sizeof empty->percentiles);
	vt_published_set(&l->flush, vt_catalogue_merge(l->cat, empty, now));
	vt_flush_release(empty);
	return l;
}

void vt_latest_destroy(vt_latest *l)
{
	if (l == NULL)
		return;
	vt_published_fini(&l->flush);
	vt_forgotten_fini(&l->gone);
	vt_catalogue_destroy(l->cat);
	pthread_mutex_destroy(&l->lock);
	free(l->data_dir);
	free(l);
}

/* The check of without_gone, with both the view and the window's time. */
struct gone_ctx {
	const struct vt_forgotten *gone;
	double t;
};

static int keep_window(void *ctx, const struct vt_metric_window *w)
{
	const struct gone_ctx *g = ctx;
	return !vt_forgotten_hides(g->gone, w->series->service, g->t);
}

/* f without the windows of forgotten services, with one reference: f
 * itself retained when nothing goes. */
static struct vt_flush *without_gone(const vt_latest *l,
    const struct vt_flush *f)
{
	struct gone_ctx g = { &l->gone, f->timestamp };
	size_t keep = 0;
	for (size_t i = 0; i < f->nmetrics; i++)
		keep += (size_t)keep_window(&g, &f->metrics[i]);
	if (keep == f->nmetrics)
		return vt_flush_retain(f);
	return vt_flush_copy(f, keep_window, &g, 0);
}

/* Write the catalogue when due; the text is rendered under the lock and
 * written outside it. Flusher thread. */
static void save_if_due(vt_latest *l, double now)
{
	if (l->data_dir == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	size_t len = 0;
	char *text = vt_catalogue_save_due(l->cat, now) ?
	    vt_catalogue_render(l->cat, now, &len) : NULL;
	pthread_mutex_unlock(&l->lock);
	if (text == NULL)
		return;
	char err[VT_ERR_LEN];
	if (vt_state_file_write(l->data_dir, VT_CATALOGUE_FILE, text, len,
	    err, sizeof err) < 0)
		vt_log_error("catalogue", "%s", err);
	free(text);
}

static int latest_flush(void *ctx, const struct vt_flush *f)
{
	vt_latest *l = ctx;
	pthread_mutex_lock(&l->lock);
	struct vt_flush *seen = without_gone(l, f);
	vt_catalogue_note(l->cat, seen);
	struct vt_flush *view = vt_catalogue_merge(l->cat, seen, f->timestamp);
	vt_flush_release(seen);
	vt_published_set(&l->flush, vt_flush_retain(view));
	vt_forgotten_prune(&l->gone, f->timestamp);
	pthread_mutex_unlock(&l->lock);
	for (size_t i = 0; i < l->nnext; i++)
		if (l->next[i].flush)
			l->next[i].flush(l->next[i].ctx, view);
	vt_flush_release(view);
	save_if_due(l, f->timestamp);
	return 0;
}

struct vt_sink vt_latest_sink(vt_latest *l)
{
	return (struct vt_sink){ .name = "latest", .ctx = l,
	    .flush = latest_flush };
}

void vt_latest_feed(vt_latest *l, struct vt_sink sink)
{
	if (l->nnext == VT_LATEST_MAX_FEEDS)
		abort();             /* a wiring mistake, found at start */
	l->next[l->nnext++] = sink;
	struct vt_flush *f = vt_published_get(&l->flush);
	if (f != NULL && sink.flush)
		sink.flush(sink.ctx, f);
	vt_flush_release(f);
}

void vt_latest_each(vt_latest *l, vt_catalogue_each_fn fn, void *ctx)
{
	pthread_mutex_lock(&l->lock);
	vt_catalogue_each(l->cat, fn, ctx);
	pthread_mutex_unlock(&l->lock);
}

void vt_latest_set_limits(vt_latest *l, double retire_after,
    size_t max_metrics)
{
	pthread_mutex_lock(&l->lock);
	vt_catalogue_set_limits(l->cat, retire_after, max_metrics);
	pthread_mutex_unlock(&l->lock);
}

int vt_latest_save(vt_latest *l)
{
	if (l->data_dir == NULL)
		return 0;
	char err[VT_ERR_LEN];
	pthread_mutex_lock(&l->lock);
	int rc = vt_catalogue_save(l->cat, l->data_dir, vt_clock_now(), err,
	    sizeof err);
	pthread_mutex_unlock(&l->lock);
	if (rc < 0)
		vt_log_error("catalogue", "%s", err);
	return rc;
}

int vt_latest_idle(double interval, double last_seen, double now)
{
	double after = VT_LATEST_IDLE_WINDOWS * interval;
	if (after < VT_LATEST_IDLE_MIN)
		after = VT_LATEST_IDLE_MIN;
	return now - last_seen >= after;
}

void vt_latest_kept(vt_latest *l, const struct vt_metric_window *const *w,
    size_t n, struct vt_catalogue_kept *out)
{
	const struct vt_series *stack[64];
	const struct vt_series **s = n <= 64 ? stack :
	    vt_xmalloc(n * sizeof *s);
	for (size_t i = 0; i < n; i++)
		s[i] = w[i]->series;
	pthread_mutex_lock(&l->lock);
	vt_catalogue_kept(l->cat, s, n, out);
	pthread_mutex_unlock(&l->lock);
	if (s != stack)
		free(s);
}

struct vt_flush *vt_latest_get(vt_latest *l)
{
	return vt_published_get(&l->flush);
}

void vt_latest_forget(vt_latest *l, const char *service, double now)
{
	pthread_mutex_lock(&l->lock);
	vt_forgotten_add(&l->gone, service, now);
	vt_catalogue_forget(l->cat, service);
	struct vt_flush *f = vt_published_get(&l->flush);
	if (f != NULL) {
		struct vt_flush *c = without_gone(l, f);
		if (c != f)
			vt_published_set(&l->flush, c);
		else
			vt_flush_release(c);
		vt_flush_release(f);
	}
	pthread_mutex_unlock(&l->lock);
}
