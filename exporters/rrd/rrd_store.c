/*
 * rrd_store.c - the RRD sink (rrd_store.h): copies each closed window into
 * a batch on the flusher thread, queues it (bounded, counted), and writes
 * everything queued on its own thread through the file table
 * (rrd_files.h), one round at a time.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/prom_text.h"
#include "collector/base/queue.h"
#include "collector/base/xmalloc.h"
#include "collector/health/health_snapshot.h"
#include "exporters/rrd/forkserver.h"
#include "exporters/rrd/rrd_files.h"
#include "exporters/rrd/rrd_lib.h"
#include "exporters/rrd/rrd_store.h"
#include "exporters/rrd/rrd_sweep.h"
#include "exporters/rrd/rrd_updater.h"

#define LOG_SUB "rrd"

/* One metric or check of one window. */
struct batch_item {
	struct vt_series *series;    /* one reference; NULL for a check */
	size_t rel;                  /* checks: offset of the path in text */
	size_t off;                  /* first value in values */
	unsigned short nvalues;
	unsigned char kind;          /* enum vt_rrd_kind */
};

/* One window, as the writer needs it. */
struct batch {
	struct vt_queue_node node;   /* size: n */
	double timestamp;
	size_t npercentiles;
	double percentiles[VT_MAX_PERCENTILES];
	size_t n;
	struct batch_item *items;
	double *values;
	struct vt_buf text;          /* check paths */
};

struct vt_rrd_store {
	char dir[PATH_MAX];
	size_t queue_max;
	vt_health *health;
	struct vt_rrdc *rrdc;        /* the writer's rrdcached client */
	struct vt_rrd_updater *rrdw;        /* the worker process: every librrd call */
	struct vt_rrd_files *files;  /* the writer's */

	/* Batches to the writer. Size: updates queued or being written
	 * (released after the round); an empty queue takes any window. */
	struct vt_queue q;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;        /* guards everything below */
	struct vt_rrd_store_stats stats;  /* but queued: the queue's size */
	clockid_t cpu_clock;
	int have_cpu_clock;
	double worker_cpu;           /* CPU of the worker process(es) */
	double round_started;        /* vt_clock_mono() of the round being
	                                written, 0 between rounds */

	/* Shutdown (vt_rrd_store_stop): past the deadline the writer is
	 * aborted; what it has not written is dropped and counted. */
	double deadline;             /* vt_clock_mono(); 0: none */
	double timeout;              /* the bound, for the log */
	int aborting;                /* atomic: set once */
	uint64_t errors_at_abort;    /* stats.errors when aborted */
	uint64_t lost_windows;       /* windows dropped at shutdown */

	/* Reads waiting for a file's held windows (vt_rrd_store_sync). */
	double write_delay;
	struct sync_req *syncs;      /* under lock, with: */
	uint64_t sync_taken;         /* lists the writer took */
	uint64_t sync_served;        /* ... and wrote */
	pthread_cond_t synced;
	int closing;                 /* atomic: destroy closed the queue */
};

/* On the reader's stack; the writer copies the path when it takes the
 * list and never touches the request again. */
struct sync_req {
	const char *rel;
	struct sync_req *next;
};

/* ---- batches (flusher thread) ---- */

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		vt_series_release(b->items[i].series);
	free(b->items);
	free(b->values);
	vt_buf_fini(&b->text);
	free(b);
}

static size_t value_count(enum vt_kind kind, size_t npercentiles)
{
	return kind == VT_TIMER || kind == VT_HISTOGRAM ? 7 + npercentiles :
	    kind == VT_COUNTER ? 2 : 1;
}

/* Checks in the health snapshot (0 when none). */
static size_t count_checks(const struct vt_health_snapshot *hs)
{
	size_t n = 0;
	for (size_t i = 0; hs && i < hs->nservices; i++)
		n += hs->services[i].nchecks;
	return n;
}

static void add_checks(struct batch *b, const struct vt_health_snapshot *hs,
    size_t *nvals)
{
	for (size_t i = 0; hs && i < hs->nservices; i++) {
		const struct vt_health_service_view *sv = &hs->services[i];
		for (size_t j = 0; j < sv->nchecks; j++) {
			const struct vt_health_check_view *cv = &sv->checks[j];
			char rel[VT_RRD_REL_MAX];
			vt_rrd_layout_check_path(rel, sizeof rel, sv->name,
			    cv->instance, cv->check);
			struct batch_item *it = &b->items[b->n++];
			it->series = NULL;
			it->rel = b->text.len;
			vt_buf_append(&b->text, rel, strlen(rel) + 1);
			it->off = *nvals;
			it->nvalues = 1;
			it->kind = VT_RRD_CHECK;
			b->values[(*nvals)++] = (double)cv->status;
		}
	}
}

static struct batch *batch_build(const struct vt_flush *f,
    const struct vt_health_snapshot *hs)
{
	size_t np = f->npercentiles > VT_MAX_PERCENTILES ? VT_MAX_PERCENTILES :
	    f->npercentiles;
	size_t nchecks = count_checks(hs), nvals = 0;
	for (size_t i = 0; i < f->nmetrics; i++)
		nvals += value_count(f->metrics[i].series->kind, np);
	struct batch *b = vt_xcalloc(1, sizeof *b);
	b->timestamp = f->timestamp;
	b->npercentiles = np;
	memcpy(b->percentiles, f->percentiles, np * sizeof(double));
	b->items = vt_xcalloc(f->nmetrics + nchecks + 1, sizeof *b->items);
	b->values = vt_xmalloc((nvals + nchecks + 1) * sizeof(double));
	vt_buf_init(&b->text);
	nvals = 0;
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *w = &f->metrics[i];
		struct batch_item *it = &b->items[b->n++];
		it->series = vt_series_retain(w->series);
		it->kind = (unsigned char)w->series->kind;
		it->off = nvals;
		it->nvalues = (unsigned short)vt_rrd_layout_values(
		    w->series->kind, w, np, b->values + nvals);
		nvals += it->nvalues;
	}
	add_checks(b, hs, &nvals);
	return b;
}

int vt_rrd_store_flush(void *ctx, const struct vt_flush *f)
{
	vt_rrd_store *st = ctx;
	struct vt_health_snapshot *hs = st->health ?
	    vt_health_snapshot_get(st->health) : NULL;
	size_t n = f->nmetrics + count_checks(hs);
	struct batch *b = NULL;

	/* Check before building: a skipped window costs no copy. */
	if (vt_queue_admit(&st->q, n) == 0) {
		b = batch_build(f, hs);
		if (vt_queue_push(&st->q, &b->node, b->n, NULL) < 0) {
			batch_free(b);           /* closed meanwhile */
			b = NULL;
		}
	}
	vt_health_snapshot_release(hs);
	if (b == NULL) {
		pthread_mutex_lock(&st->lock);
		st->stats.skipped[VT_RRD_SKIP_QUEUE_FULL] += n;
		pthread_mutex_unlock(&st->lock);
	}
	return 0;
}

/* ---- the writer thread ---- */

/* Aborted at shutdown: free the windows unwritten, count them. */
static void drop_at_shutdown(vt_rrd_store *st, struct vt_queue_node *list,
    size_t nbatches, size_t nupdates)
{
	while (list) {
		struct batch *b = VT_QUEUE_ITEM(list, struct batch, node);
		list = list->next;
		batch_free(b);
	}
	pthread_mutex_lock(&st->lock);
	st->stats.skipped[VT_RRD_SKIP_SHUTDOWN] += nupdates;
	st->lost_windows += nbatches;
	pthread_mutex_unlock(&st->lock);
	vt_queue_release(&st->q, nbatches, nupdates);
}

/* Write every window of the list in one round; returns updates handled. */
static size_t write_round(vt_rrd_store *st, struct vt_queue_node *list,
    struct vt_rrd_round *r, double *last_window)
{
	size_t handled = 0;
	vt_rrd_files_begin(st->files);
	for (struct vt_queue_node *n = list; n; n = n->next) {
		const struct batch *b = VT_QUEUE_ITEM(n, struct batch, node);
		for (size_t i = 0; i < b->n; i++) {
			const struct batch_item *it = &b->items[i];
			struct vt_rrd_update u = {
				.series = it->series,
				.rel = it->series ? NULL : b->text.data + it->rel,
				.kind = (enum vt_rrd_kind)it->kind,
				.values = b->values + it->off,
				.nvalues = it->nvalues,
				.timestamp = b->timestamp,
				.percentiles = b->percentiles,
				.npercentiles = b->npercentiles,
			};
			vt_rrd_files_add(st->files, &u, r);
		}
		handled += b->n;
		*last_window = b->timestamp;
	}
	vt_rrd_files_commit(st->files, r);
	return handled;
}


/* Under lock: what write-behind holds, into the counters. */
static void held_stats(vt_rrd_store *st, struct vt_rrd_store_stats *s)
{
	struct vt_rrd_files_held h;
	vt_rrd_files_held(st->files, &h);
	s->held_rows = h.rows;
	s->held_bytes = h.bytes;
	s->held_oldest = h.oldest;
	s->files_waiting = h.waiting;
}

/* Write the files readers wait for, and wake them. */
static void serve_syncs(vt_rrd_store *st)
{
	struct vt_buf rels;
	size_t n = 0;
	vt_buf_init(&rels);
	pthread_mutex_lock(&st->lock);
	for (struct sync_req *q = st->syncs; q; q = q->next, n++)
		vt_buf_append(&rels, q->rel, strlen(q->rel) + 1);
	st->syncs = NULL;
	uint64_t gen = n ? ++st->sync_taken : 0;
	pthread_mutex_unlock(&st->lock);
	if (n == 0) {
		vt_buf_fini(&rels);
		return;
	}
	struct vt_rrd_round r = { 0 };
	uint64_t written = 0;
	for (size_t off = 0; off < rels.len; off += strlen(rels.data + off) + 1)
		written += vt_rrd_files_sync(st->files, rels.data + off, &r) > 0;
	vt_buf_fini(&rels);
	pthread_mutex_lock(&st->lock);
	st->stats.updates += r.updates;
	st->stats.calls += r.calls;
	st->stats.errors += r.errors;
	st->stats.syncs += written;
	held_stats(st, &st->stats);
	st->sync_served = gen;
	pthread_cond_broadcast(&st->synced);
	pthread_mutex_unlock(&st->lock);
}

/* The next windows; NULL once the queue is closed and empty. With
 * write-behind the writer wakes every 20 ms for readers waiting. */
static struct vt_queue_node *next_windows(vt_rrd_store *st)
{
	for (;;) {
		struct vt_queue_node *list = vt_queue_take(&st->q,
		    st->write_delay > 0 ? 0.02 : -1);
		serve_syncs(st);
		if (list)
			return list;
		if (st->write_delay <= 0 ||
		    __atomic_load_n(&st->closing, __ATOMIC_ACQUIRE))
			return vt_queue_take(&st->q, 0);
	}
}

static void *writer_main(void *arg)
{
	vt_rrd_store *st = arg;
	size_t swept = vt_rrd_sweep(st->dir);
	if (swept > 0)
		vt_log_info(LOG_SUB, "removed %zu half-created files left by an "
		    "earlier crash", swept);
	struct vt_queue_node *list;
	while ((list = next_windows(st)) != NULL) {
		size_t nbatches = 0, nupdates = 0;
		for (struct vt_queue_node *n = list; n; n = n->next) {
			nbatches++;
			nupdates += VT_QUEUE_ITEM(n, struct batch, node)->n;
		}
		if (__atomic_load_n(&st->aborting, __ATOMIC_ACQUIRE)) {
			drop_at_shutdown(st, list, nbatches, nupdates);
			continue;
		}

		struct vt_rrd_round r = { 0 };
		double t0 = vt_clock_mono(), last = 0;
		pthread_mutex_lock(&st->lock);
		st->round_started = t0;
		pthread_mutex_unlock(&st->lock);
		size_t handled = write_round(st, list, &r, &last);
		double took = vt_clock_mono() - t0;
		size_t ready = vt_rrd_files_ready(st->files);
		double worker_cpu = vt_rrd_updater_cpu_seconds(st->rrdw);
		while (list) {
			struct batch *b = VT_QUEUE_ITEM(list, struct batch,
			    node);
			list = list->next;
			batch_free(b);
		}

		pthread_mutex_lock(&st->lock);
		struct vt_rrd_store_stats *s = &st->stats;
		s->windows += nbatches;
		s->updates += r.updates;
		s->calls += r.calls;
		s->skipped[VT_RRD_SKIP_LATE] += r.late;
		s->skipped[VT_RRD_SKIP_CONFLICT] += r.conflict;
		s->folded += r.folded;
		s->errors += r.errors;
		s->files = ready;
		s->files_created += r.created;
		s->skipped[VT_RRD_SKIP_CREATE_BACKLOG] += r.backlog;
		held_stats(st, s);
		s->last_round_seconds = took;
		st->round_started = 0;
		if (last > 0)
			s->last_window = last;
		st->worker_cpu = worker_cpu;
		pthread_mutex_unlock(&st->lock);
		vt_queue_release(&st->q, nbatches, handled);   /* drain wakes */
	}
	/* Closed, and every window is written but the unchanged check
	 * statuses folding holds back (lost when aborted). */
	if (__atomic_load_n(&st->aborting, __ATOMIC_ACQUIRE))
		return NULL;
	struct vt_rrd_round r = { 0 };
	vt_rrd_files_write_held(st->files, &r);
	pthread_mutex_lock(&st->lock);
	st->stats.updates += r.updates;
	st->stats.calls += r.calls;
	st->stats.errors += r.errors;
	st->stats.files_created += r.created;
	st->stats.skipped[VT_RRD_SKIP_CREATE_BACKLOG] += r.backlog;
	held_stats(st, &st->stats);
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/* ---- life cycle ---- */

vt_rrd_store *vt_rrd_store_create(const struct vt_rrd_store_config *cfg,
    char *err, size_t errlen)
{
	vt_rrd_store *st = vt_xcalloc(1, sizeof *st);
	struct stat sb;
	st->queue_max = cfg->queue_max ? cfg->queue_max : 1;
	pthread_mutex_init(&st->lock, NULL);
	vt_clock_cond_init(&st->synced);   /* waits on the monotonic clock */
	/* rrdcached holds and batches updates itself (its -w). */
	st->write_delay = cfg->cached && cfg->cached[0] ? 0 :
	    cfg->write_delay;
	vt_queue_init(&st->q, 0, st->queue_max, VT_QUEUE_KEEP |
	    VT_QUEUE_ONE_OVER);              /* no eventfd: cannot fail */

	if (realpath(cfg->data_dir, st->dir) == NULL) {
		snprintf(err, errlen, "data_dir %s: %s", cfg->data_dir,
		    strerror(errno));
		goto fail;
	}
	if (stat(st->dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "data_dir %s: not a directory",
		    cfg->data_dir);
		goto fail;
	}
	st->stats.queue_max = st->queue_max;
	st->health = cfg->health;
	st->rrdc = vt_rrd_lib_cached_create(cfg->cached);
	/* The worker that makes every librrd call: a child of the fork
	 * server (rrd_updater.h). */
	st->rrdw = vt_rrd_updater_start(cfg->cached, err, errlen);
	if (st->rrdw == NULL)
		goto fail;
	struct vt_rrd_files_config fc = {
		.data_dir = st->dir,
		.rrdc = st->rrdc,
		.rrdw = st->rrdw,
		.step = vt_rrd_layout_step(cfg->flush_interval),
		.points = cfg->points ? cfg->points : VT_RRD_DEFAULT_POINTS,
		.write_delay = st->write_delay,
		.create_rate = cfg->create_rate,
	};
	st->files = vt_rrd_files_create(&fc);

	int rc = pthread_create(&st->thread, NULL, writer_main, st);
	if (rc != 0) {
		snprintf(err, errlen, "rrd writer thread: %s", strerror(rc));
		goto fail;
	}
	st->started = 1;
	pthread_setname_np(st->thread, "vitals-rrd");
	st->have_cpu_clock = pthread_getcpuclockid(st->thread,
	    &st->cpu_clock) == 0;
	vt_log_info(LOG_SUB, "round-robin files in %s, step %lus, %zu points "
	    "per range, %s, write delay %.0fs", st->dir, fc.step, fc.points,
	    st->rrdc ? "updates through rrdcached (worker process)" :
	    "direct updates (in place, without librrd)",
	    st->write_delay);
	if (st->rrdc)
		vt_log_info(LOG_SUB, "rrdcached at %s", vt_rrd_lib_cached_addr(st->rrdc));
	return st;
fail:
	vt_rrd_store_destroy(st);
	return NULL;
}

struct vt_sink vt_rrd_store_sink(vt_rrd_store *st)
{
	struct vt_sink s = {
		.name = "rrd",
		.ctx = st,
		.flush = vt_rrd_store_flush,
	};
	return s;
}

void vt_rrd_store_hold(vt_rrd_store *st, int hold)
{
	vt_queue_hold(&st->q, hold);
}

void vt_rrd_store_drain(vt_rrd_store *st)
{
	if (st->started)
		vt_queue_wait_idle(&st->q);
}

/* Past the deadline: the worker is killed and the writer's calls fail at
 * once; what is still queued is dropped and counted by the writer. */
static void abort_writer(vt_rrd_store *st)
{
	if (__atomic_exchange_n(&st->aborting, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_lock(&st->lock);
	st->errors_at_abort = st->stats.errors;
	pthread_mutex_unlock(&st->lock);
	vt_log_warn(LOG_SUB, "the writer did not finish within "
	    "shutdown_timeout (%.0fs): stopping it; %zu windows (%zu updates) "
	    "still queued or in progress are not written", st->timeout,
	    vt_queue_len(&st->q), vt_queue_size(&st->q));
	vt_rrd_updater_abort(st->rrdw);
	vt_queue_kick(&st->q);
}

int vt_rrd_store_stop(vt_rrd_store *st, double timeout)
{
	if (st == NULL || !st->started)
		return 0;
	st->timeout = timeout;
	st->deadline = vt_clock_mono() + timeout;
	while (vt_queue_len(&st->q) > 0 || vt_queue_size(&st->q) > 0) {
		if (vt_clock_mono() >= st->deadline) {
			abort_writer(st);
			return -ETIMEDOUT;
		}
		struct timespec ts = { 0, 5000000L };
		nanosleep(&ts, NULL);
	}
	return __atomic_load_n(&st->aborting, __ATOMIC_ACQUIRE) ?
	    -ETIMEDOUT : 0;
}

/* Wait for the writer thread until the deadline, then abort it and wait
 * a little more. 0 when joined; -1 when it is stuck (in the kernel, on a
 * hung disk) and is left behind. */
static int join_writer(vt_rrd_store *st)
{
	if (st->deadline <= 0) {
		pthread_join(st->thread, NULL);
		return 0;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		double left = attempt == 0 ? st->deadline - vt_clock_mono() : 2;
		if (attempt == 0 && left < 1 &&
		    !__atomic_load_n(&st->aborting, __ATOMIC_ACQUIRE))
			left = 1;   /* drained in time: the held checks remain */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (left > 0) {
			double whole = floor(left);
			ts.tv_sec += (time_t)whole;
			ts.tv_nsec += (long)((left - whole) * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
		}
		if (pthread_timedjoin_np(st->thread, NULL, &ts) == 0)
			return 0;
		abort_writer(st);
	}
	vt_log_error(LOG_SUB, "the writer is stuck (a hung disk or mount?); "
	    "leaving it behind");
	return -1;
}

void vt_rrd_store_destroy(vt_rrd_store *st)
{
	if (st == NULL)
		return;
	__atomic_store_n(&st->closing, 1, __ATOMIC_RELEASE);
	vt_queue_close(&st->q);      /* the writer takes what is left */
	if (st->started && join_writer(st) < 0)
		return;              /* still in use by the stuck writer */
	if (__atomic_load_n(&st->aborting, __ATOMIC_ACQUIRE)) {
		uint64_t lost = st->stats.skipped[VT_RRD_SKIP_SHUTDOWN] +
		    (st->stats.errors - st->errors_at_abort);
		vt_log_warn(LOG_SUB, "shutdown: %llu updates (%llu whole "
		    "windows) not written: the writer did not finish within "
		    "shutdown_timeout", (unsigned long long)lost,
		    (unsigned long long)st->lost_windows);
	}
	struct vt_queue_node *n = vt_queue_take(&st->q, 0);
	while (n) {          /* only when the thread never started */
		struct batch *b = VT_QUEUE_ITEM(n, struct batch, node);
		n = n->next;
		batch_free(b);
	}
	vt_rrd_files_destroy(st->files);
	vt_rrd_updater_stop(st->rrdw);
	vt_rrd_lib_cached_destroy(st->rrdc);
	vt_queue_fini(&st->q);
	pthread_cond_destroy(&st->synced);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* ---- reading the counters ---- */

void vt_rrd_store_get_stats(vt_rrd_store *st, struct vt_rrd_store_stats *out)
{
	pthread_mutex_lock(&st->lock);
	*out = st->stats;
	double worker = st->worker_cpu;
	double started = st->round_started;
	pthread_mutex_unlock(&st->lock);
	out->round_running_seconds = started > 0 ? vt_clock_mono() - started :
	    0;
	out->queued = vt_queue_size(&st->q);
	out->writer_cpu_seconds = worker;
	struct timespec ts;
	if (st->have_cpu_clock && clock_gettime(st->cpu_clock, &ts) == 0)
		out->writer_cpu_seconds += (double)ts.tv_sec +
		    (double)ts.tv_nsec / 1e9;
}

int vt_rrd_store_sync(vt_rrd_store *st, const char *rel, double timeout)
{
	if (st == NULL || !st->started || st->write_delay <= 0 ||
	    pthread_equal(pthread_self(), st->thread))
		return 0;
	struct sync_req q = { .rel = rel };
	struct timespec ts = vt_clock_deadline(timeout);
	int rc = 0;
	pthread_mutex_lock(&st->lock);
	if (st->stats.held_rows == 0 && st->stats.files_waiting == 0) {
		pthread_mutex_unlock(&st->lock);
		return 0;
	}
	q.next = st->syncs;
	st->syncs = &q;
	uint64_t gen = st->sync_taken + 1;    /* the list that takes q */
	while (st->sync_served < gen && rc == 0)
		if (pthread_cond_timedwait(&st->synced, &st->lock, &ts) ==
		    ETIMEDOUT)
			rc = -ETIMEDOUT;
	if (st->sync_served < gen) {
		for (struct sync_req **pp = &st->syncs; *pp; pp = &(*pp)->next)
			if (*pp == &q) {   /* not taken yet: take it back */
				*pp = q.next;
				break;
			}
		st->stats.sync_timeouts++;
		rc = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int vt_rrd_store_kind_of(vt_rrd_store *st, const char *rel)
{
	return vt_rrd_files_kind_of(st->files, rel);
}

static void put_u64(struct vt_buf *out, const char *name, enum vt_prom_type
    type, const char *help, uint64_t v, enum vt_prom_format fmt)
{
	vt_prom_text_head(out, name, strlen(name), type, help, fmt);
	vt_buf_printf(out, "%s%s ", name, type == VT_PROM_COUNTER ? "_total" :
	    "");
	vt_prom_text_u64(out, v);
	vt_buf_putc(out, '\n');
}

static void put_double(struct vt_buf *out, const char *name,
    enum vt_prom_type type, const char *help, double v,
    enum vt_prom_format fmt)
{
	vt_prom_text_head(out, name, strlen(name), type, help, fmt);
	vt_buf_printf(out, "%s%s ", name, type == VT_PROM_COUNTER ? "_total" :
	    "");
	vt_prom_text_value(out, v);
	vt_buf_putc(out, '\n');
}

void vt_rrd_store_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt)
{
	static const char *const reasons[VT_RRD_SKIP_COUNT] = {
		[VT_RRD_SKIP_QUEUE_FULL] = "queue_full",
		[VT_RRD_SKIP_LATE] = "late",
		[VT_RRD_SKIP_CONFLICT] = "conflict",
		[VT_RRD_SKIP_SHUTDOWN] = "shutdown",
		[VT_RRD_SKIP_CREATE_BACKLOG] = "create_backlog",
	};
	struct vt_rrd_store_stats s;
	vt_rrd_store_get_stats(ctx, &s);

	put_u64(out, "vitals_forkserver_takeovers", VT_PROM_COUNTER,
	    "Times the spare fork server took over from one that was gone "
	    "(graphs, file reads and the RRD worker run in its children).",
	    vt_forkserver_takeovers(), fmt);
	put_u64(out, "vitals_forkserver_respawns", VT_PROM_COUNTER,
	    "Fresh fork servers started (by exec) after the server and its "
	    "spare were both gone.", vt_forkserver_respawns(), fmt);
	put_u64(out, "vitals_forkserver_unavailable", VT_PROM_COUNTER,
	    "Graphs, file reads and worker starts refused at once because no "
	    "fork server was running (a new one is being started).",
	    vt_forkserver_unavailable(), fmt);

	put_u64(out, "vitals_storage_calls", VT_PROM_COUNTER,
	    "Update calls made to librrd or rrdcached (a call may carry "
	    "several windows of one file).", s.calls, fmt);
	put_u64(out, "vitals_storage_errors", VT_PROM_COUNTER,
	    "Updates lost to storage errors (unwritable directory, disk full, "
	    "rrdcached away).", s.errors, fmt);
	put_u64(out, "vitals_storage_folded", VT_PROM_COUNTER,
	    "Check windows whose status had not changed, folded into a later "
	    "update (a check file is written on a change and at least every "
	    "5 minutes).", s.folded, fmt);
	put_u64(out, "vitals_storage_files", VT_PROM_GAUGE,
	    "Round-robin files being written.", s.files, fmt);
	put_u64(out, "vitals_storage_files_created", VT_PROM_COUNTER,
	    "Round-robin files created.", s.files_created, fmt);
	put_double(out, "vitals_storage_last_window_timestamp_seconds",
	    VT_PROM_GAUGE, "Close time of the last window the storage writer "
	    "took (written, or held for rrd.write_delay).",
	    s.last_window, fmt);
	put_u64(out, "vitals_storage_queue", VT_PROM_GAUGE,
	    "Updates waiting for the storage writer (one update is one window "
	    "of one file).", s.queued, fmt);
	put_u64(out, "vitals_storage_queue_limit", VT_PROM_GAUGE,
	    "Most updates the storage queue holds (rrd.queue).",
	    s.queue_max, fmt);
	put_double(out, "vitals_storage_round_seconds", VT_PROM_GAUGE,
	    "Wall time the storage writer took for its last round.",
	    s.last_round_seconds, fmt);
	put_double(out, "vitals_storage_round_running_seconds", VT_PROM_GAUGE,
	    "How long the storage writer has been in its current round (0 "
	    "between rounds); grows while the writer or its disk is stalled.",
	    s.round_running_seconds, fmt);
	vt_prom_text_head(out, "vitals_storage_skipped", 22, VT_PROM_COUNTER,
	    "Updates not written, by reason: queue_full (storage behind), late "
	    "(window not after the file's last update), conflict (file owned "
	    "by another series or with other data sources), shutdown (still "
	    "queued when shutdown_timeout ran out), create_backlog (its file "
	    "waited for rrd.create_rate with 256 windows held).", fmt);
	for (int i = 0; i < VT_RRD_SKIP_COUNT; i++) {
		vt_buf_printf(out, "vitals_storage_skipped_total{reason=\"%s\"} ",
		    reasons[i]);
		vt_prom_text_u64(out, s.skipped[i]);
		vt_buf_putc(out, '\n');
	}
	put_u64(out, "vitals_storage_files_waiting", VT_PROM_GAUGE,
	    "New files waiting to be created (rrd.create_rate), their windows "
	    "held meanwhile.", s.files_waiting, fmt);
	put_u64(out, "vitals_storage_held_windows", VT_PROM_GAUGE,
	    "Windows held in memory for a later write (rrd.write_delay; one "
	    "window of one file each).", s.held_rows, fmt);
	put_u64(out, "vitals_storage_held_bytes", VT_PROM_GAUGE,
	    "Memory holding those windows.", s.held_bytes, fmt);
	put_double(out, "vitals_storage_held_oldest_timestamp_seconds",
	    VT_PROM_GAUGE, "Close time of the oldest window held in memory "
	    "(0: none); every window before it is on disk.", s.held_oldest,
	    fmt);
	put_u64(out, "vitals_storage_read_syncs", VT_PROM_COUNTER,
	    "Reads (graphs, series) for which the writer first wrote the "
	    "file's held windows.", s.syncs, fmt);
	put_u64(out, "vitals_storage_read_sync_timeouts", VT_PROM_COUNTER,
	    "Reads that stopped waiting for that and read what was on disk.",
	    s.sync_timeouts, fmt);
	put_u64(out, "vitals_storage_updates", VT_PROM_COUNTER,
	    "Updates written (one file, one window).", s.updates, fmt);
	put_u64(out, "vitals_storage_windows", VT_PROM_COUNTER,
	    "Aggregation windows the storage writer has handled.", s.windows,
	    fmt);
	put_double(out, "vitals_storage_writer_cpu_seconds", VT_PROM_COUNTER,
	    "CPU time used by the storage writer (its thread and its worker "
	    "process).",
	    s.writer_cpu_seconds, fmt);
}
