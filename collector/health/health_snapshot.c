/*
 * health_snapshot.c - publishing the registry: one immutable copy of every
 * service, check, instance and transition, sorted, in a single allocation
 * (arrays first, then the strings), shared by reference count (health.h).
 */
#include <stdlib.h>
#include <string.h>

#include "collector/base/published.h"
#include "collector/base/ref.h"
#include "collector/base/xmalloc.h"
#include "collector/health/health_internal.h"
#include "collector/health/health_snapshot.h"

VT_REF_FIRST(struct vt_health_snapshot);

/* Sizes of everything a snapshot of h needs. */
struct sizes {
	size_t services, checks, history, strings, max_per_service;
};

static void measure(const vt_health *h, struct sizes *z)
{
	memset(z, 0, sizeof *z);
	for (size_t i = 0; i < h->nsvc_buckets; i++) {
		for (const struct vt_health_svc *s = h->svcs[i]; s;
		    s = s->hnext) {
			z->services++;
			z->strings += strlen(s->name) + 1 +
			    (s->origin ? strlen(s->origin) + 1 : 0);
			if (s->nchecks > z->max_per_service)
				z->max_per_service = s->nchecks;
			for (const struct vt_health_chk *k = s->checks; k;
			    k = k->snext) {
				z->checks++;
				z->strings += strlen(k->instance) +
				    strlen(k->check) + strlen(k->output) + 3 +
				    (k->origin ? strlen(k->origin) + 1 : 0);
				z->history += k->hist_len;
				for (unsigned j = 0; j < k->hist_len; j++)
					z->strings += strlen(k->hist[(k->hist_head
					    + j) % VT_HEALTH_HISTORY].output) + 1;
			}
		}
	}
}

static const char *put(char **cur, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = *cur;
	memcpy(p, s, n);
	*cur += n;
	return p;
}

static int cmp_svc(const void *a, const void *b)
{
	const struct vt_health_svc *x = *(const struct vt_health_svc *const *)a;
	const struct vt_health_svc *y = *(const struct vt_health_svc *const *)b;
	return strcmp(x->name, y->name);
}

static int cmp_chk(const void *a, const void *b)
{
	const struct vt_health_chk *x = *(const struct vt_health_chk *const *)a;
	const struct vt_health_chk *y = *(const struct vt_health_chk *const *)b;
	int c = strcmp(x->check, y->check);
	return c ? c : strcmp(x->instance, y->instance);
}

static int cmp_view_instance(const void *a, const void *b)
{
	const struct vt_health_check_view *x =
	    *(const struct vt_health_check_view *const *)a;
	const struct vt_health_check_view *y =
	    *(const struct vt_health_check_view *const *)b;
	int c = strcmp(x->instance, y->instance);
	return c ? c : strcmp(x->check, y->check);
}

/* Copy one check (and its history) into the snapshot. */
static void fill_check(struct vt_health_check_view *v,
    const struct vt_health_chk *k, const char *service,
    struct vt_health_transition **hist, char **cur)
{
	v->service = service;
	v->instance = put(cur, k->instance);
	v->check = put(cur, k->check);
	v->output = put(cur, k->output);
	v->status = k->status;
	v->stale = k->stale;
	v->ttl = k->ttl;
	v->first_seen = k->first_seen;
	v->last_report = k->last_report;
	v->last_change = k->last_change;
	v->timestamp = k->timestamp;
	v->origin = k->origin ? put(cur, k->origin) : NULL;
	v->nhistory = k->hist_len;
	v->history = *hist;
	for (unsigned j = 0; j < k->hist_len; j++) {
		const struct vt_health_hist *t =
		    &k->hist[(k->hist_head + j) % VT_HEALTH_HISTORY];
		struct vt_health_transition *d = (*hist)++;
		d->time = t->time;
		d->from = t->from;
		d->to = t->to;
		d->stale = t->stale;
		d->output = put(cur, t->output);
	}
}

/* Group a service's checks by instance. by_instance is scratch space for
 * sv->nchecks pointers. Returns the number of instances written. */
static size_t fill_instances(struct vt_health_instance_view *out,
    const struct vt_health_service_view *sv,
    const struct vt_health_check_view **by_instance)
{
	size_t n = 0;
	for (size_t i = 0; i < sv->nchecks; i++)
		by_instance[i] = &sv->checks[i];
	qsort(by_instance, sv->nchecks, sizeof *by_instance,
	    cmp_view_instance);
	for (size_t i = 0; i < sv->nchecks; i++) {
		const struct vt_health_check_view *c = by_instance[i];
		struct vt_health_instance_view *iv = n ? &out[n - 1] : NULL;
		if (iv == NULL || strcmp(iv->instance, c->instance) != 0) {
			iv = &out[n++];
			iv->instance = c->instance;
			iv->status = VT_STATUS_OK;
			iv->stale = 1;
			iv->nchecks = 0;
			iv->last_report = 0;
		}
		iv->status = vt_health_check_status_worst(iv->status, c->status);
		iv->stale &= c->stale;
		iv->nchecks++;
		if (c->last_report > iv->last_report)
			iv->last_report = c->last_report;
	}
	return n;
}

static void snapshot_destroy(void *obj)
{
	struct vt_health_snapshot *s = obj;
	free(s->mem);
	free(s);
}

struct vt_health_snapshot *vt_health_snapshot_build(const vt_health *h,
    uint64_t version, double now)
{
	struct sizes z;
	measure(h, &z);

	size_t off_checks = z.services * sizeof(struct vt_health_service_view);
	size_t off_inst = off_checks +
	    z.checks * sizeof(struct vt_health_check_view);
	size_t off_hist = off_inst +
	    z.checks * sizeof(struct vt_health_instance_view);
	size_t off_str = off_hist +
	    z.history * sizeof(struct vt_health_transition);
	char *mem = vt_xmalloc(off_str + z.strings + 1);

	struct vt_health_snapshot *snap = vt_xcalloc(1, sizeof *snap);
	struct vt_health_service_view *svcs = (void *)mem;
	struct vt_health_check_view *checks = (void *)(mem + off_checks);
	struct vt_health_instance_view *inst = (void *)(mem + off_inst);
	struct vt_health_transition *hist = (void *)(mem + off_hist);
	char *cur = mem + off_str;

	vt_ref_init(&snap->ref, snapshot_destroy);
	snap->version = version;
	snap->time = now;
	snap->max_checks = h->cfg.max_checks;
	snap->nchecks = z.checks;
	snap->nservices = z.services;
	snap->services = svcs;
	snap->stats = h->stats;
	snap->mem = mem;

	const struct vt_health_svc **order = vt_xmalloc((z.services + 1) *
	    sizeof *order);
	const struct vt_health_chk **korder = vt_xmalloc(
	    (z.max_per_service + 1) * sizeof *korder);
	const struct vt_health_check_view **scratch = vt_xmalloc(
	    (z.max_per_service + 1) * sizeof *scratch);
	size_t n = 0;
	for (size_t i = 0; i < h->nsvc_buckets; i++)
		for (const struct vt_health_svc *s = h->svcs[i]; s; s = s->hnext)
			order[n++] = s;
	qsort(order, n, sizeof *order, cmp_svc);

	for (size_t i = 0; i < n; i++) {
		const struct vt_health_svc *s = order[i];
		struct vt_health_service_view *sv = &svcs[i];
		size_t m = 0;
		memset(sv, 0, sizeof *sv);
		sv->name = put(&cur, s->name);
		sv->status = s->status;
		sv->stale = s->stale;
		sv->owner = s->origin ? put(&cur, s->origin) : NULL;
		for (const struct vt_health_chk *k = s->checks; k; k = k->snext)
			korder[m++] = k;
		qsort(korder, m, sizeof *korder, cmp_chk);
		sv->checks = checks;
		sv->nchecks = m;
		for (size_t j = 0; j < m; j++) {
			fill_check(checks, korder[j], sv->name, &hist, &cur);
			sv->counts[checks->status & 3]++;
			if (checks->last_report > sv->last_report)
				sv->last_report = checks->last_report;
			checks++;
		}
		sv->instances = inst;
		sv->ninstances = fill_instances(inst, sv, scratch);
		sv->nreporting = sv->ninstances;
		for (size_t k = 0; k < sv->ninstances; k++)
			if (strcmp(inst[k].instance, VT_HEALTH_SELF_INSTANCE) == 0)
				sv->nreporting--;
		inst += sv->ninstances;
	}
	free(order);
	free(korder);
	free(scratch);
	return snap;
}

struct vt_health_snapshot *vt_health_snapshot_get(vt_health *h)
{
	return vt_published_get(&h->published);
}

void vt_health_snapshot_release(struct vt_health_snapshot *s)
{
	if (s != NULL)
		vt_ref_release(&s->ref);
}

static int cmp_find(const void *key, const void *elem)
{
	const struct vt_health_service_view *v = elem;
	return strcmp(key, v->name);
}

const struct vt_health_service_view *vt_health_snapshot_find(
    const struct vt_health_snapshot *s, const char *name)
{
	if (s->nservices == 0)
		return NULL;
	return bsearch(name, s->services, s->nservices,
	    sizeof *s->services, cmp_find);
}
