/* catalogue.c - every metric seen, remembered for the views (catalogue.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/buf.h"
#include "collector/base/hash.h"
#include "collector/base/json.h"
#include "collector/base/state_file.h"
#include "collector/base/utf8.h"
#include "collector/base/vt_types.h"
#include "collector/base/xmalloc.h"
#include "exporters/recent/catalogue.h"

#define FORMAT_NAME "vitals-catalogue"
#define FORMAT_VERSION 1

struct entry {
	struct vt_series *series;   /* one reference, owned */
	double last_seen;           /* unix time of its last sample */
	double value;               /* gauge: last value; NaN otherwise */
	double first_seen;          /* 0 not yet, -1 unknown (loaded from
	                               a file saved without it) */
	double kept_at;             /* last window with samples, 0 none */
	double kept_count, kept_rate, kept_value;
	double *kept_q;             /* kept_nq quantiles, or NULL */
	size_t kept_nq;
};

struct vt_catalogue {
	double retire_after;
	size_t max;                 /* 0: no cap */
	struct entry *v;            /* n used of cap */
	size_t n, cap;
	/* Per entry (cap of them): carried by the flush noted last. */
	unsigned char *carried;
	size_t ncarried;
	/* The windows of the flush noted last, in order, with their entries:
	 * in the next flush a window of the same series at the same place
	 * maps to the same entry without a lookup (each series here is held
	 * by its entry). Cleared whenever entries move. */
	const struct vt_series **prev;
	size_t *prev_idx;
	size_t nprev, capprev;
	size_t *slots;              /* index + 1, 0 empty; mask + 1 of them */
	size_t mask;
	int changed;                /* anything since the last save */
	int renamed;                /* metrics added or removed since then */
	double saved_at;            /* monotonic enough: unix time */
};

/* ---- the index: open addressing over entry positions ---- */

static uint64_t key_hash(const struct vt_series *s)
{
	return s->hash;       /* vt_hash of the key, VT_SERIES_HASH_SEED */
}

static void index_rebuild(vt_catalogue *c)
{
	size_t want = 16;
	while (want < c->n * 2 + 2)
		want *= 2;
	free(c->slots);
	c->slots = vt_xcalloc(want, sizeof *c->slots);
	c->mask = want - 1;
	for (size_t k = 0; k < c->n; k++) {
		size_t i = key_hash(c->v[k].series) & c->mask;
		while (c->slots[i])
			i = (i + 1) & c->mask;
		c->slots[i] = k + 1;
	}
}

/* The entry with s's key, or NULL; *slot gets where it is or would go. */
static struct entry *find(vt_catalogue *c, const struct vt_series *s,
    size_t *slot)
{
	size_t i = key_hash(s) & c->mask;
	for (; c->slots[i]; i = (i + 1) & c->mask) {
		struct entry *e = &c->v[c->slots[i] - 1];
		if (e->series->key_len == s->key_len &&
		    memcmp(e->series->key, s->key, s->key_len) == 0) {
			*slot = i;
			return e;
		}
	}
	*slot = i;
	return NULL;
}

static struct entry *add(vt_catalogue *c, struct vt_series *s, size_t slot)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = vt_xrealloc(c->v, c->cap * sizeof *c->v);
		c->carried = vt_xrealloc(c->carried, c->cap);
	}
	c->carried[c->n] = 0;
	struct entry *e = &c->v[c->n++];
	*e = (struct entry){ .series = s, .value = NAN };
	c->slots[slot] = c->n;
	if (c->n * 2 > c->mask + 1)
		index_rebuild(c);
	c->changed = c->renamed = 1;
	return e;
}

/* Drop the entries drop() picks, keeping the order of the rest. */
static size_t drop_where(vt_catalogue *c,
    int (*drop)(const vt_catalogue *c, size_t k, const void *arg),
    const void *arg)
{
	size_t out = 0;
	for (size_t k = 0; k < c->n; k++) {
		if (drop(c, k, arg)) {
			c->ncarried -= c->carried[k];
			vt_series_release(c->v[k].series);
			free(c->v[k].kept_q);
			continue;
		}
		c->carried[out] = c->carried[k];
		c->v[out++] = c->v[k];
	}
	size_t gone = c->n - out;
	c->n = out;
	if (gone) {
		index_rebuild(c);
		c->nprev = 0;             /* entries moved */
		c->changed = c->renamed = 1;
	}
	return gone;
}

/* ---- life cycle ---- */

vt_catalogue *vt_catalogue_create(double retire_after, size_t max)
{
	vt_catalogue *c = vt_xcalloc(1, sizeof *c);
	c->retire_after = retire_after;
	c->max = max;
	index_rebuild(c);
	return c;
}

void vt_catalogue_destroy(vt_catalogue *c)
{
	if (c == NULL)
		return;
	for (size_t k = 0; k < c->n; k++) {
		vt_series_release(c->v[k].series);
		free(c->v[k].kept_q);
	}
	free(c->v);
	free(c->carried);
	free(c->prev);
	free(c->prev_idx);
	free(c->slots);
	free(c);
}

void vt_catalogue_set_limits(vt_catalogue *c, double retire_after,
    size_t max)
{
	c->retire_after = retire_after;
	c->max = max;
}

void vt_catalogue_each(vt_catalogue *c, vt_catalogue_each_fn fn, void *ctx)
{
	for (size_t k = 0; k < c->n; k++)
		fn(ctx, c->v[k].series, c->v[k].last_seen, c->v[k].value);
}

size_t vt_catalogue_size(const vt_catalogue *c)
{
	return c->n;
}

/* ---- windows in, windows out ---- */

static void keep(struct entry *e, const struct vt_flush *f,
    const struct vt_metric_window *w);

/* The entry of window i of f: the one of the same series at the same
 * place in the flush noted last (*looked 0: it is up to date but for
 * this window's samples), else looked up or added (*looked 1). */
static size_t entry_of(vt_catalogue *c, const struct vt_flush *f, size_t i,
    int *looked)
{
	const struct vt_metric_window *w = &f->metrics[i];
	*looked = !(i < c->nprev && c->prev[i] == w->series);
	if (!*looked)
		return c->prev_idx[i];
	size_t slot;
	struct entry *e = find(c, w->series, &slot);
	if (e == NULL)
		e = add(c, vt_series_retain(w->series), slot);
	if (e->series != w->series) {   /* expired and back, maybe as
	                                   another kind */
		vt_series_release(e->series);
		e->series = vt_series_retain(w->series);
		c->changed = 1;
	}
	return (size_t)(e - c->v);
}

void vt_catalogue_note(vt_catalogue *c, const struct vt_flush *f)
{
	if (c->n > 0)            /* carried is NULL before the first entry */
		memset(c->carried, 0, c->n);
	c->ncarried = 0;
	if (f->nmetrics > c->capprev) {
		c->capprev = f->nmetrics;
		c->prev = vt_xrealloc(c->prev, c->capprev * sizeof *c->prev);
		c->prev_idx = vt_xrealloc(c->prev_idx,
		    c->capprev * sizeof *c->prev_idx);
	}
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *w = &f->metrics[i];
		int looked;
		size_t k = entry_of(c, f, i, &looked);
		c->prev[i] = w->series;
		c->prev_idx[i] = k;
		if (!c->carried[k]) {
			c->carried[k] = 1;
			c->ncarried++;
		}
		/* An idle window of a series noted last time changes nothing:
		 * with 100,000 metrics, not touching their entries is most of
		 * the cost of a window here. */
		if (!looked && w->samples == 0)
			continue;
		struct entry *e = &c->v[k];
		if (w->last_seen > e->last_seen) {
			e->last_seen = w->last_seen;
			c->changed = 1;
		}
		if (w->series->kind == VT_GAUGE && isfinite(w->value))
			e->value = w->value;
		if (w->samples > 0)
			keep(e, f, w);
	}
	c->nprev = f->nmetrics;
}

/* Remember a window with samples for vt_catalogue_kept. */
static void keep(struct entry *e, const struct vt_flush *f,
    const struct vt_metric_window *w)
{
	if (e->first_seen == 0)
		e->first_seen = f->timestamp - f->interval;
	e->kept_at = f->timestamp;
	e->kept_count = w->count;
	e->kept_rate = w->rate;
	e->kept_value = w->value;
	const struct vt_timer_window *t = vt_window_timer(w);
	if (t->quantiles == NULL || f->npercentiles == 0) {
		e->kept_nq = 0;
		return;
	}
	if (e->kept_q == NULL || e->kept_nq != f->npercentiles)
		e->kept_q = vt_xrealloc(e->kept_q,
		    f->npercentiles * sizeof *e->kept_q);
	e->kept_nq = f->npercentiles;
	memcpy(e->kept_q, t->quantiles, f->npercentiles * sizeof *e->kept_q);
}

void vt_catalogue_kept(vt_catalogue *c, const struct vt_series *const *s,
    size_t n, struct vt_catalogue_kept *out)
{
	for (size_t i = 0; i < n; i++) {
		size_t slot;
		const struct entry *e = find(c, s[i], &slot);
		memset(&out[i], 0, sizeof out[i]);
		if (e == NULL)
			continue;
		out[i].first_seen = e->first_seen > 0 ? e->first_seen : 0;
		out[i].at = e->kept_at;
		out[i].count = e->kept_count;
		out[i].rate = e->kept_rate;
		out[i].value = e->kept_value;
		out[i].nquantiles = e->kept_nq < VT_MAX_PERCENTILES ?
		    e->kept_nq : VT_MAX_PERCENTILES;
		if (out[i].nquantiles)
			memcpy(out[i].quantiles, e->kept_q,
			    out[i].nquantiles * sizeof *e->kept_q);
	}
}

static int too_old(const vt_catalogue *c, size_t k, const void *arg)
{
	const double *cut = arg;
	return c->v[k].last_seen < *cut;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Silent since before *arg and not in the flush noted last. */
static int shed_one(const vt_catalogue *c, size_t k, const void *arg)
{
	const double *cut = arg;
	return !c->carried[k] && c->v[k].last_seen < *cut;
}

/* Past max: forget the longest silent entries the flush noted last does
 * not carry, down to 9/10 of max (ties at the cut may take a few more). */
static void shed(vt_catalogue *c)
{
	if (c->max == 0 || c->n <= c->max)
		return;
	size_t keep = c->max - c->max / 10, n = 0;
	double *seen = vt_xmalloc(c->n * sizeof *seen);
	for (size_t k = 0; k < c->n; k++)
		if (!c->carried[k])
			seen[n++] = c->v[k].last_seen;
	size_t drop = c->n - keep < n ? c->n - keep : n;
	if (drop > 0) {
		qsort(seen, n, sizeof *seen, cmp_double);
		double cut = seen[drop - 1];
		/* strictly older than the cut, then at it until enough go */
		drop_where(c, shed_one, &cut);
		cut = nextafter(cut, INFINITY);
		if (c->n > keep)
			drop_where(c, shed_one, &cut);
	}
	free(seen);
}

/* The timer fields of a window carried without data, whatever its kind:
 * sum, sum_total and the statistics unknown (NaN), no quantiles. */
static const struct vt_timer_window carried_timer = {
	.sum = NAN, .sum_total = NAN,
	.min = NAN, .max = NAN, .mean = NAN, .stddev = NAN,
};

struct vt_flush *vt_catalogue_merge(vt_catalogue *c,
    const struct vt_flush *f, double now)
{
	/* Retire what is neither in memory nor recent enough. Entries f
	 * carries have last_seen within metric_ttl <= retire_after. */
	double cut = now - c->retire_after;
	drop_where(c, too_old, &cut);
	shed(c);
	size_t extra = c->n - c->ncarried;
	if (extra == 0)
		return vt_flush_retain(f);
	struct vt_flush *m = vt_flush_copy(f, NULL, NULL, extra);
	for (size_t k = 0; k < c->n; k++) {
		const struct entry *e = &c->v[k];
		if (c->carried[k])
			continue;
		struct vt_metric_window *w = &m->metrics[m->nmetrics++];
		*w = (struct vt_metric_window){
			.series = vt_series_retain(e->series),
			.total = NAN,
			.value = e->series->kind == VT_GAUGE ? e->value :
			    e->series->kind == VT_SET ? 0 : NAN,
			.rate_1m = NAN, .rate_5m = NAN, .rate_15m = NAN,
			.last_seen = e->last_seen,
			.timer = &carried_timer,
		};
	}
	return m;
}

static int of_service(const vt_catalogue *c, size_t k, const void *arg)
{
	return strcmp(c->v[k].series->service, arg) == 0;
}

size_t vt_catalogue_forget(vt_catalogue *c, const char *service)
{
	return drop_where(c, of_service, service);
}

/* ---- on disk ---- */

int vt_catalogue_save_due(const vt_catalogue *c, double now)
{
	double since = now - c->saved_at;
	return (c->renamed && since >= VT_CATALOGUE_SAVE_GAP) ||
	    (c->changed && since >= VT_CATALOGUE_SAVE_EVERY);
}

static int utf8_valid(const char *s)
{
	size_t len = strlen(s), n;
	for (; len > 0; s += n, len -= n)
		if (!vt_utf8_next(s, len, &n))
			return 0;
	return 1;
}

/* JSON holds only UTF-8: a name that is not (it came as raw bytes) is not
 * saved, and is remembered again when it next sends. */
static int savable(const struct vt_series *s)
{
	if (!utf8_valid(s->service) || !utf8_valid(s->metric) ||
	    memchr(s->key, '\0', s->key_len) || !utf8_valid(s->key))
		return 0;
	for (size_t k = 0; k < s->nlabels; k++)
		if (!utf8_valid(s->labels[k].key) ||
		    !utf8_valid(s->labels[k].value))
			return 0;
	return 1;
}

char *vt_catalogue_render(vt_catalogue *c, double now, size_t *len)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_buf_printf(&b, "{\"format\":\"%s\",\"version\":%d,\"saved\":",
	    FORMAT_NAME, FORMAT_VERSION);
	vt_buf_put_double(&b, now);
	vt_buf_puts(&b, ",\"metrics\":[");
	size_t out = 0;
	for (size_t k = 0; k < c->n; k++) {
		const struct entry *e = &c->v[k];
		const struct vt_series *s = e->series;
		if (!savable(s))
			continue;
		vt_buf_puts(&b, out++ ? ",\n{\"service\":" : "\n{\"service\":");
		vt_json_string(&b, s->service);
		vt_json_member_string(&b, "metric", s->metric);
		vt_json_member_string(&b, "kind", vt_series_kind_name(s->kind));
		vt_json_member_string(&b, "key", s->key);
		vt_buf_puts(&b, ",\"labels\":[");
		for (size_t l = 0; l < s->nlabels; l++) {
			vt_buf_puts(&b, l ? ",[" : "[");
			vt_json_string(&b, s->labels[l].key);
			vt_buf_putc(&b, ',');
			vt_json_string(&b, s->labels[l].value);
			vt_buf_putc(&b, ']');
		}
		vt_buf_putc(&b, ']');
		vt_json_member_number(&b, "last_seen", e->last_seen);
		if (e->first_seen > 0)
			vt_json_member_number(&b, "first_seen", e->first_seen);
		if (isfinite(e->value))
			vt_json_member_number(&b, "value", e->value);
		vt_buf_putc(&b, '}');
	}
	vt_buf_puts(&b, "]}\n");
	c->changed = c->renamed = 0;
	c->saved_at = now;
	return vt_buf_steal(&b, len);
}

int vt_catalogue_save(vt_catalogue *c, const char *dir, double now,
    char *err, size_t errlen)
{
	size_t len;
	char *text = vt_catalogue_render(c, now, &len);
	int rc = vt_state_file_write(dir, VT_CATALOGUE_FILE, text, len, err,
	    errlen);
	free(text);
	return rc;
}

static const char *str_field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int text_ok(const char *s, int may_be_empty)
{
	if (s == NULL || (!may_be_empty && *s == '\0') ||
	    strlen(s) > 4 * VT_NAME_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int kind_parse(const char *s, enum vt_kind *out)
{
	for (int k = 0; s && k < VT_KIND_COUNT; k++) {
		if (strcmp(s, vt_series_kind_name((enum vt_kind)k)) == 0) {
			*out = (enum vt_kind)k;
			return 0;
		}
	}
	return -1;
}

static struct vt_slice slice_of(const char *s)
{
	return (struct vt_slice){ s, strlen(s) };
}

/* One saved metric to a new series (one reference), or NULL. */
static struct vt_series *parse_entry(const cJSON *o, double *last_seen,
    double *value)
{
	const char *service = str_field(o, "service");
	const char *metric = str_field(o, "metric");
	const char *key = str_field(o, "key");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(o, "labels");
	const cJSON *seen = cJSON_GetObjectItemCaseSensitive(o, "last_seen");
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "value");
	struct vt_slice lk[VT_MAX_TAGS], lv[VT_MAX_TAGS];
	enum vt_kind kind;
	size_t nl = 0;
	const cJSON *l;

	if (!text_ok(service, 0) || !text_ok(metric, 0) || !text_ok(key, 0) ||
	    kind_parse(str_field(o, "kind"), &kind) < 0 ||
	    !cJSON_IsNumber(seen) || !isfinite(seen->valuedouble) ||
	    !cJSON_IsArray(labels) ||
	    cJSON_GetArraySize(labels) > VT_MAX_TAGS)
		return NULL;
	cJSON_ArrayForEach(l, labels) {
		const cJSON *k = cJSON_GetArrayItem(l, 0);
		const cJSON *v = cJSON_GetArrayItem(l, 1);
		if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) != 2 ||
		    !cJSON_IsString(k) || !cJSON_IsString(v) ||
		    !text_ok(k->valuestring, 0) || !text_ok(v->valuestring, 1))
			return NULL;
		lk[nl] = slice_of(k->valuestring);
		lv[nl++] = slice_of(v->valuestring);
	}
	*last_seen = seen->valuedouble;
	*value = cJSON_IsNumber(val) && isfinite(val->valuedouble) ?
	    val->valuedouble : NAN;
	struct vt_slice ks = slice_of(key);
	return vt_series_create(kind, slice_of(service), slice_of(metric), ks,
	    vt_hash(ks.ptr, ks.len, VT_SERIES_HASH_SEED), lk, lv, nl);
}

int vt_catalogue_load(vt_catalogue *c, const char *dir, double now,
    size_t *skipped, char *err, size_t errlen)
{
	size_t bad = 0;
	int restored = 0;
	const cJSON *o, *metrics;
	cJSON *root;

	if (skipped)
		*skipped = 0;
	int rc = vt_state_file_load_json(dir, VT_CATALOGUE_FILE,
	    VT_CATALOGUE_MAX_BYTES, FORMAT_NAME, FORMAT_VERSION, "metrics",
	    "remembered metrics", now, &root, &metrics, err, errlen);
	if (rc <= 0)
		return rc;
	cJSON_ArrayForEach(o, metrics) {
		double seen, value;
		struct vt_series *s = parse_entry(o, &seen, &value);
		size_t slot;
		if (s == NULL || find(c, s, &slot) != NULL) {
			vt_series_release(s);
			bad++;
			continue;
		}
		if (seen < now - c->retire_after) {
			vt_series_release(s);     /* retired while we were down */
			continue;
		}
		struct entry *e = add(c, s, slot);
		e->last_seen = seen;
		e->value = value;
		const cJSON *first = cJSON_GetObjectItemCaseSensitive(o,
		    "first_seen");
		if (cJSON_IsNumber(first) && isfinite(first->valuedouble) &&
		    first->valuedouble > 0 && first->valuedouble <= seen)
			e->first_seen = first->valuedouble;
		else
			e->first_seen = -1;   /* saved before it was kept */
		restored++;
	}
	shed(c);                         /* loaded entries are in no flush */
	if (c->n < (size_t)restored)
		restored = (int)c->n;
	c->changed = c->renamed = 0;
	c->saved_at = now;
	rc = restored;
	if (skipped)
		*skipped = bad;
	if (bad)
		snprintf(err, errlen, "%s/%s: %zu unusable entries skipped", dir,
		    VT_CATALOGUE_FILE, bad);
	cJSON_Delete(root);
	return rc;
}
