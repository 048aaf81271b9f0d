/*
 * agg.c - the metric table and the open window (see agg.h).
 *
 * An open-addressing hash table (linear probing, backward-shift deletion)
 * of struct vt_metric pointers, sized as a power of two and grown at half
 * load, never past what max_metrics needs. Lookup compares the stored hash
 * first, so the key bytes are touched only on a likely hit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "collector/agg/agg.h"
#include "collector/agg/agg_kind.h"
#include "collector/base/hash.h"
#include "collector/base/line_result.h"
#include "collector/base/log.h"
#include "collector/base/xmalloc.h"
#include "collector/statsd/names.h"
#include "collector/statsd/tags.h"

#define MIN_SLOTS 1024
#define SERVICE_TAG "service"

/*
 * A timer or histogram its mapping rule exports as a classic Prometheus
 * histogram: the bounds and the cumulative count at each, added up at
 * every close from the window's sketch (never on the record path). One
 * allocation, owned by the metric. Bounds of timers are in seconds
 * (statsd_exporter's), their values in ms: `at` is le * scale.
 */
struct metric_hist {
	size_t n;
	double scale;                /* 1000 for timers, 1 for histograms */
	double v[];                  /* le[n], at[n], total[n] */
};

/* After the cold part of every metric: what its mapping rule set. */
struct metric_extra {
	double ttl;                  /* seconds; 0: the configured metric_ttl */
	struct metric_hist *hist;    /* NULL: not a classic histogram */
};

static inline struct metric_extra *metric_extra(struct vt_metric *m)
{
	return (struct metric_extra *)(vt_metric_cold(m) + 1);
}

struct slot {
	uint64_t hash;               /* 0 with m == NULL: empty */
	struct vt_metric *m;
};

struct vt_agg {
	struct vt_agg_config cfg;
	struct vt_selfstats *stats;  /* borrowed */
	struct slot *slots;
	size_t mask;                 /* nslots - 1 */
	size_t live;
	size_t live_quantiled;       /* of them, kinds whose close needs
	                                quantile slots (timers, histograms) */
	size_t live_buckets;         /* histogram buckets of live metrics */
	uint64_t window_seq;         /* the open window: 1, 2, ... */
	uint64_t next_id;
	/* Rules read again on SIGHUP (vt_agg_set_mapping), waiting for the
	 * close of the open window; NULL as a rule set means no rules. */
	int remap_pending;
	vt_mapping *next_mapping;
	/* Canonical key of a tagged line: name '|' sorted tags. */
	char keybuf[VT_NAME_MAX + 1 + VT_LINE_MAX];
};

vt_agg *vt_agg_create(const struct vt_agg_config *cfg,
    struct vt_selfstats *stats)
{
	vt_agg *a = vt_xcalloc(1, sizeof *a);
	a->cfg = *cfg;
	a->stats = stats;
	a->slots = vt_xcalloc(MIN_SLOTS, sizeof *a->slots);
	a->mask = MIN_SLOTS - 1;
	a->window_seq = 1;
	stats->max_metrics = cfg->max_metrics;
	return a;
}

static void metric_free(struct vt_metric *m)
{
	free(metric_extra(m)->hist);
	vt_kind_ops[m->kind].fini(m);
	vt_series_release(m->series);
	free(m);
}

void vt_agg_destroy(vt_agg *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i <= a->mask; i++)
		if (a->slots[i].m)
			metric_free(a->slots[i].m);
	free(a->slots);
	vt_mapping_destroy(a->cfg.mapping);
	vt_mapping_destroy(a->next_mapping);
	free(a);
}

void vt_agg_set_limits(vt_agg *a, size_t max_metrics, double metric_ttl)
{
	a->cfg.max_metrics = max_metrics;
	a->cfg.metric_ttl = metric_ttl;
}

size_t vt_agg_size(const vt_agg *a)
{
	return a->live;
}

/* ---- the table -------------------------------------------------------- */

#ifdef __SSE2__
static inline int equal16(const char *a, const char *b)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)a);
	__m128i y = _mm_loadu_si128((const __m128i *)(const void *)b);
	return _mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) == 0xffff;
}
#endif

/* Equal keys? Inline, a word at a time: keys are short and a libc call
 * per line costs more than the compare. */
static inline int key_equal(const char *a, const char *b, size_t len)
{
	uint64_t x, y;
#ifdef __SSE2__
	if (len >= 16) {            /* sixteen bytes a step, the last overlapping */
		size_t i = 0;
		for (; i + 16 < len; i += 16)
			if (!equal16(a + i, b + i))
				return 0;
		return equal16(a + len - 16, b + len - 16);
	}
#endif
	if (len < 8) {
		for (size_t i = 0; i < len; i++)
			if (a[i] != b[i])
				return 0;
		return 1;
	}
	for (size_t i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return 0;
	}
	memcpy(&x, a + len - 8, 8);
	memcpy(&y, b + len - 8, 8);
	return x == y;
}

static struct vt_metric *table_find(const vt_agg *a, uint64_t hash,
    const char *key, size_t len)
{
	for (size_t i = hash & a->mask;; i = (i + 1) & a->mask) {
		const struct slot *s = &a->slots[i];
		if (s->m == NULL)
			return NULL;
		if (s->hash == hash && s->m->key_len == len &&
		    key_equal(vt_metric_key(s->m), key, len))
			return s->m;
	}
}

static void table_put(struct slot *slots, size_t mask, struct vt_metric *m)
{
	size_t i = m->hash & mask;
	while (slots[i].m)
		i = (i + 1) & mask;
	slots[i].hash = m->hash;
	slots[i].m = m;
}

static void table_grow(vt_agg *a)
{
	size_t n = (a->mask + 1) * 2;
	struct slot *slots = vt_xcalloc(n, sizeof *slots);
	for (size_t i = 0; i <= a->mask; i++)
		if (a->slots[i].m)
			table_put(slots, n - 1, a->slots[i].m);
	free(a->slots);
	a->slots = slots;
	a->mask = n - 1;
}

/* Remove slot i, shifting back the run that follows so probes still find
 * every entry. */
static void table_remove_at(vt_agg *a, size_t i)
{
	size_t j = i;
	a->slots[i].m = NULL;
	a->slots[i].hash = 0;
	for (;;) {
		j = (j + 1) & a->mask;
		if (a->slots[j].m == NULL)
			return;
		size_t home = a->slots[j].hash & a->mask;
		/* Move j into the hole at i unless its home lies in (i, j]. */
		int between = i <= j ? (home > i && home <= j)
		                     : (home > i || home <= j);
		if (!between) {
			a->slots[i] = a->slots[j];
			a->slots[j].m = NULL;
			a->slots[j].hash = 0;
			i = j;
		}
	}
}

/* ---- identity of a sample --------------------------------------------- */

struct tag_list {
	size_t n;
	struct vt_slice key[VT_MAX_TAGS], value[VT_MAX_TAGS];
};

static int slice_cmp(struct vt_slice a, struct vt_slice b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
	return c ? c : (a.len > b.len) - (a.len < b.len);
}

static int slice_is(struct vt_slice s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* Parse, sort by key (insertion sort: n <= VT_MAX_TAGS) and reject
 * duplicate keys. Returns 0 or -1. */
static int tags_collect(struct vt_slice raw, struct tag_list *t)
{
	size_t pos = 0;
	struct vt_slice k, v;
	t->n = 0;
	while (vt_tags_next(raw, &pos, &k, &v)) {
		if (t->n == VT_MAX_TAGS)
			return -1;
		size_t i = t->n++;
		while (i > 0 && slice_cmp(t->key[i - 1], k) > 0) {
			t->key[i] = t->key[i - 1];
			t->value[i] = t->value[i - 1];
			i--;
		}
		if (i > 0 && slice_cmp(t->key[i - 1], k) == 0)
			return -1;
		t->key[i] = k;
		t->value[i] = v;
	}
	return 0;
}

/* The index of the `service` tag whose value can lead the key (see
 * build_key), or -1. */
static long service_leads(const vt_agg *a, struct vt_slice name,
    const struct tag_list *t)
{
	if (a->cfg.mapping != NULL || name.len == 0)
		return -1;     /* rules read the name as sent */
	for (size_t i = 0; i < t->n; i++)
		if (slice_is(t->key[i], SERVICE_TAG))
			return t->value[i].len > 0 &&
			    memchr(t->value[i].ptr, '.', t->value[i].len) == NULL ?
			    (long)i : -1;
	return -1;
}

/*
 * The key of a tagged line, into a->keybuf: name '|' k1[:v1] ',' k2[:v2]
 * ... (sorted). When a `service:` tag names the service (without rules,
 * and without a dot in it), the key is the one the same series has sent
 * without the tag: "requests|#service:payments" and "payments.requests"
 * are one series, whichever client sent it (vitals-send and the client
 * library tag, a plain statsd client prefixes), so one is not left out
 * as a conflict of the other.
 */
static size_t build_key(vt_agg *a, struct vt_slice name,
    const struct tag_list *t)
{
	char *p = a->keybuf;
	long lead = service_leads(a, name, t);
	if (lead >= 0) {
		memcpy(p, t->value[lead].ptr, t->value[lead].len);
		p += t->value[lead].len;
		*p++ = '.';
	}
	memcpy(p, name.ptr, name.len);
	p += name.len;
	char *bar = p;
	*p++ = '|';
	for (size_t i = 0; i < t->n; i++) {
		if ((long)i == lead)
			continue;
		if (p != bar + 1)
			*p++ = ',';
		memcpy(p, t->key[i].ptr, t->key[i].len);
		p += t->key[i].len;
		if (t->value[i].ptr) {
			*p++ = ':';
			memcpy(p, t->value[i].ptr, t->value[i].len);
			p += t->value[i].len;
		}
	}
	if (p == bar + 1)
		p = bar;       /* no other tag: the untagged line's key */
	return (size_t)(p - a->keybuf);
}

/* Is k one of the mapped labels' keys? */
static int mapped_label(const struct vt_map_result *mr, struct vt_slice k)
{
	for (size_t i = 0; mr && i < mr->nlabels; i++)
		if (slice_cmp(mr->label_key[i], k) == 0)
			return 1;
	return 0;
}

static struct vt_metric *metric_insert(vt_agg *a, struct vt_series *series,
    uint64_t hash, const struct vt_map_rule *rule,
    const struct vt_map_rule *unmapped);
static int is_self_name(struct vt_slice name);

/* The identity of a new series: from the mapping rule's answer mr when
 * there is one (its name, service and labels first), else as sent. */
static struct vt_metric *metric_create(vt_agg *a, const struct vt_sample *s,
    const struct tag_list *tags, struct vt_slice key, uint64_t hash,
    const struct vt_map_result *mr, const struct vt_map_rule *unmapped)
{
	struct vt_slice service_tag = { NULL, 0 };
	struct vt_slice lk[VT_MAX_TAGS + VT_MAP_MAX_LABELS];
	struct vt_slice lv[VT_MAX_TAGS + VT_MAP_MAX_LABELS];
	size_t nl = 0;
	for (size_t i = 0; mr && i < mr->nlabels; i++) {
		lk[nl] = mr->label_key[i];
		lv[nl++] = mr->label_value[i];
	}
	for (size_t i = 0; i < tags->n; i++) {
		if (slice_is(tags->key[i], SERVICE_TAG) && tags->value[i].ptr) {
			service_tag = tags->value[i];
			continue;
		}
		if (mapped_label(mr, tags->key[i]))
			continue;          /* the rule's label wins */
		lk[nl] = tags->key[i];
		lv[nl] = tags->value[i].ptr ? tags->value[i]
		                            : (struct vt_slice){ "", 0 };
		nl++;
	}
	struct vt_slice service, metric;
	vt_names_split(s->name, service_tag, &service, &metric);
	if (mr) {
		metric = mr->name;
		if (mr->service.len)
			service = mr->service;
	}

	return metric_insert(a, vt_series_create(s->kind, service, metric, key,
	    hash, lk, lv, nl), hash, mr ? mr->rule : NULL, unmapped);
}

/* The buckets of a series its rule (NULL: none), or for want of an
 * observer_type the defaults for unmapped names (mapping.h), make a
 * classic histogram, else NULL. */
static struct metric_hist *hist_for(const struct vt_map_rule *rule,
    const struct vt_map_rule *unmapped, enum vt_kind kind)
{
	enum vt_map_observer obs = rule ? rule->observer :
	    VT_MAP_OBSERVER_DEFAULT;
	if (obs == VT_MAP_OBSERVER_DEFAULT && unmapped) {
		obs = unmapped->observer;
		if (rule == NULL)
			rule = unmapped;
	}
	if (rule == NULL || obs != VT_MAP_OBSERVER_HISTOGRAM ||
	    rule->nbuckets == 0 || (kind != VT_TIMER && kind != VT_HISTOGRAM))
		return NULL;
	size_t n = rule->nbuckets;
	struct metric_hist *h = vt_xcalloc(1, sizeof *h + 3 * n *
	    sizeof(double));
	h->n = n;
	h->scale = kind == VT_TIMER ? 1000 : 1;
	for (size_t i = 0; i < n; i++) {
		h->v[i] = rule->buckets[i];
		h->v[n + i] = rule->buckets[i] * h->scale;
	}
	return h;
}

/* A new live metric for series (whose reference it takes), in the
 * table, with what its mapping rule (NULL: none) and the defaults for
 * unmapped names (NULL: none) set. */
static struct vt_metric *metric_insert(vt_agg *a, struct vt_series *series,
    uint64_t hash, const struct vt_map_rule *rule,
    const struct vt_map_rule *unmapped)
{
	size_t size = vt_metric_size(series->kind, series->key_len) +
	    sizeof(struct metric_extra);
	struct vt_metric *m = vt_xcalloc(1, size);
	m->series = series;
	m->series->id = ++a->next_id;
	m->hash = hash;
	m->key_len = (uint32_t)series->key_len;
	m->kind = series->kind;
	memcpy((char *)(m + 1), series->key, series->key_len);
	vt_ewma_init(&vt_metric_cold(m)->ewma);
	metric_extra(m)->ttl = rule ? rule->ttl : 0;
	metric_extra(m)->hist = hist_for(rule, unmapped, series->kind);
	if (metric_extra(m)->hist)
		a->live_buckets += metric_extra(m)->hist->n;
	vt_kind_ops[m->kind].init(m);

	if ((a->live + 1) * 2 > a->mask + 1)
		table_grow(a);
	table_put(a->slots, a->mask, m);
	a->live++;
	a->live_quantiled += (size_t)vt_kind_ops[m->kind].needs_quantiles;
	a->stats->metrics_live = a->live;
	a->stats->metrics_created++;
	return m;
}

int vt_agg_restore(vt_agg *a, struct vt_series *s, double last_seen,
    double gauge)
{
	uint64_t hash = vt_hash(s->key, s->key_len, VT_SERIES_HASH_SEED);
	const struct vt_map_rule *rule = NULL, *unmapped = NULL;
	if (a->live >= a->cfg.max_metrics ||
	    table_find(a, hash, s->key, s->key_len) != NULL)
		return -1;
	if (a->cfg.mapping) {
		const char *bar = memchr(s->key, '|', s->key_len);
		struct vt_slice name = { s->key, bar ? (size_t)(bar - s->key) :
		    s->key_len };
		const struct vt_map_result *mr = vt_mapping_lookup(
		    a->cfg.mapping, name, s->kind);
		if (mr && mr->action == VT_MAP_DROP)
			return -1;
		rule = mr ? mr->rule : NULL;
		if (!is_self_name(name))
			unmapped = vt_mapping_unmapped(a->cfg.mapping);
	}
	struct vt_metric *m = metric_insert(a, vt_series_retain(s), hash, rule,
	    unmapped);
	vt_metric_cold(m)->last_seen = last_seen;
	if (m->kind == VT_GAUGE && isfinite(gauge))
		m->u.gauge = gauge;
	return 0;
}

/* A name of the collector's own service (selfmetrics.h's
 * VT_SELF_SERVICE, "vitals."): mapping rules never apply to it, so a
 * catch-all rule cannot hide the daemon's own metrics. */
static int is_self_name(struct vt_slice name)
{
	static const char self[] = "vitals.";
	return name.len >= sizeof self - 1 &&
	    memcmp(name.ptr, self, sizeof self - 1) == 0;
}

/* A line was recorded into m in the open window. */
static inline void metric_touched(struct vt_metric *m, uint32_t window_seq)
{
	m->last_window = window_seq;
	m->samples++;
}

/* Apply the sample to m, the metric with this key (NULL: none yet, so
 * create it). */
static inline enum vt_line_result record_into(vt_agg *a,
    const struct vt_sample *s, const struct tag_list *tags,
    struct vt_slice key, uint64_t hash, struct vt_metric *m)
{
	if (m == NULL) {
		/* A new key: only now the rules are asked (their cache makes
		 * a dropped name one lookup a line). */
		const struct vt_map_result *mr = NULL;
		int mapped = a->cfg.mapping && !is_self_name(s->name);
		if (mapped) {
			mr = vt_mapping_lookup(a->cfg.mapping, s->name,
			    s->kind);
			if (mr && mr->action == VT_MAP_DROP)
				return VT_LINE_DROPPED_BY_MAPPING;
		}
		if (a->live >= a->cfg.max_metrics)
			return VT_LINE_OVER_CAP;
		m = metric_create(a, s, tags, key, hash, mr,
		    mapped ? vt_mapping_unmapped(a->cfg.mapping) : NULL);
	} else if (m->kind != s->kind) {
		return VT_LINE_TYPE_CONFLICT;
	}
	vt_kind_record(m, s);
	metric_touched(m, (uint32_t)a->window_seq);
	return VT_LINE_OK;
}

/* Stage 2 of vt_agg_record_batch, in two copies: with_state (the batch
 * has timers or sets) also prefetches the kind state, where it is when
 * the key matches, in the same miss window as the header (a timer's hot
 * 64 bytes, a set's 32); counters-only batches skip the test. */
static inline __attribute__((always_inline)) void find_guesses(vt_agg *a,
    const struct vt_sample *s, size_t n, const uint64_t *hash,
    struct vt_metric **guess, const int with_state)
{
	for (size_t i = 0; i < n; i++) {
		guess[i] = NULL;
		if (s[i].tags.len)
			continue;
		size_t j = hash[i] & a->mask;
		while (a->slots[j].m && a->slots[j].hash != hash[i])
			j = (j + 1) & a->mask;
		struct vt_metric *m = a->slots[j].m;
		if (m == NULL)
			continue;
		guess[i] = m;
		__builtin_prefetch(m, 1);
		__builtin_prefetch((const char *)m + 64);
		__builtin_prefetch(vt_metric_key(m) + s[i].name.len - 1);
		if (with_state) {
			/* No branch on the kind: a counter or gauge in the
			 * batch prefetches its header's line once more. */
			const char *state = (const char *)m +
			    (vt_metric_state_offset(s[i].name.len) &
			    -(size_t)vt_kind_has_state(s[i].kind));
			__builtin_prefetch(state, 1);
			__builtin_prefetch(state + 63, 1);
		}
	}
}

/*
 * The lines of a batch whose metric stage 2 found (key and kind match),
 * grouped by kind, in line order within each kind. Stages 4 and 5 walk
 * the groups, so what depends on the kind is decided once per group, not
 * once per line in every stage: with kinds mixed line to line, each of
 * those per-line tests was a likely branch misprediction. Lines of
 * different metrics touch disjoint state, and all lines of one metric are
 * of one kind, so grouping keeps every metric's own order. The rest (new
 * names, type conflicts, tags) is applied after, in line order; none of it
 * touches a metric of the groups (a tagged key holds a '|', which a plain
 * name cannot).
 */
struct kind_groups {
	uint8_t n[VT_KIND_COUNT];
	uint8_t line[VT_KIND_COUNT][VT_AGG_BATCH];
};

/* Record a kind's group (record is a constant: inlined). */
static inline __attribute__((always_inline)) void apply_group(
    const struct kind_groups *g, uint32_t kind, const struct vt_sample *s,
    struct vt_metric **guess, uint32_t seq,
    void (*record)(struct vt_metric *, const struct vt_sample *))
{
	for (size_t j = 0; j < g->n[kind]; j++) {
		size_t i = g->line[kind][j];
		record(guess[i], &s[i]);
		metric_touched(guess[i], seq);
	}
}

/* 1: hash every untagged name, prefetch its home slot. */
void vt_agg_batch_hash(vt_agg *a, struct vt_agg_batch *b,
    const struct vt_sample *s, size_t n)
{
	int deep = 0;
	b->s = s;
	b->n = n;
	for (size_t i = 0; i < n; i++) {
		if (s[i].tags.len)
			continue;
		b->hash[i] = vt_hash(s[i].name.ptr, s[i].name.len,
		    VT_SERIES_HASH_SEED);
		__builtin_prefetch(&a->slots[b->hash[i] & a->mask]);
		deep |= vt_kind_has_state(s[i].kind);
	}
	b->deep = deep;
}

/* 2: the metric whose stored hash matches (almost surely the one), found
 * along the probe from the home slot; NULL for a name not in the table
 * yet (step 6 looks again). */
void vt_agg_batch_probe(vt_agg *a, struct vt_agg_batch *b)
{
	if (b->deep)
		find_guesses(a, b->s, b->n, b->hash, b->guess, 1);
	else
		find_guesses(a, b->s, b->n, b->hash, b->guess, 0);
}

void vt_agg_batch_apply(vt_agg *a, struct vt_agg_batch *b,
    enum vt_line_result *results)
{
	const struct vt_sample *s = b->s;
	struct vt_metric **guess = b->guess;
	const uint64_t *hash = b->hash;
	size_t n = b->n;
	uint64_t member_hash[VT_AGG_BATCH];
	struct kind_groups g;
	uint8_t rest[VT_AGG_BATCH];
	size_t nrest = 0;

	/* 3: confirm each guess (key and kind) and group it by kind. */
	memset(g.n, 0, sizeof g.n);
	for (size_t i = 0; i < n; i++) {
		struct vt_metric *m = guess[i];
		if (m != NULL && m->kind == s[i].kind &&
		    m->key_len == s[i].name.len &&
		    key_equal(vt_metric_key(m), s[i].name.ptr, s[i].name.len)) {
			uint32_t k = s[i].kind;
			g.line[k][g.n[k]++] = (uint8_t)i;
			results[i] = VT_LINE_OK;
		} else {
			rest[nrest++] = (uint8_t)i;
		}
	}
	/* 4: the sketch bucket or set slot each value lands in. */
	for (uint32_t k = VT_TIMER; k <= VT_HISTOGRAM; k++)
		for (size_t j = 0; j < g.n[k]; j++) {
			size_t i = g.line[k][j];
			vt_sketch_prefetch(&guess[i]->u.timer->window,
			    s[i].value);
		}
	for (size_t j = 0; j < g.n[VT_SET]; j++) {
		size_t i = g.line[VT_SET][j];
		member_hash[i] = vt_agg_kind_set_member_hash(&s[i]);
		vt_cardinality_prefetch(guess[i]->u.set, member_hash[i]);
	}
	/* 5: apply the groups, a kind at a time. */
	uint32_t seq = (uint32_t)a->window_seq;
	apply_group(&g, VT_COUNTER, s, guess, seq, vt_counter_record);
	apply_group(&g, VT_GAUGE, s, guess, seq, vt_gauge_record);
	apply_group(&g, VT_TIMER, s, guess, seq, vt_agg_kind_timer_record);
	apply_group(&g, VT_HISTOGRAM, s, guess, seq, vt_agg_kind_timer_record);
	for (size_t j = 0; j < g.n[VT_SET]; j++) {
		size_t i = g.line[VT_SET][j];
		vt_cardinality_add(guess[i]->u.set, member_hash[i]);
		metric_touched(guess[i], seq);
	}
	/* 6: the rest, in line order: tagged lines, new names (or a metric
	 * created earlier in this batch), type conflicts. */
	static const struct tag_list no_tags = { .n = 0 };
	for (size_t j = 0; j < nrest; j++) {
		size_t i = rest[j];
		if (s[i].tags.len) {
			results[i] = vt_agg_record(a, &s[i]);
			continue;
		}
		struct vt_metric *m = table_find(a, hash[i], s[i].name.ptr,
		    s[i].name.len);
		results[i] = record_into(a, &s[i], &no_tags, s[i].name, hash[i],
		    m);
	}
}

void vt_agg_record_batch(vt_agg *a, const struct vt_sample *s, size_t n,
    enum vt_line_result *results)
{
	struct vt_agg_batch b;
	vt_agg_batch_hash(a, &b, s, n);
	vt_agg_batch_probe(a, &b);
	vt_agg_batch_apply(a, &b, results);
}

enum vt_line_result vt_agg_record(vt_agg *a, const struct vt_sample *s)
{
	struct tag_list tags;
	const char *key = s->name.ptr;
	size_t len = s->name.len;

	tags.n = 0;
	if (s->tags.len) {
		if (tags_collect(s->tags, &tags) < 0)
			return VT_LINE_BAD_TAGS;
		len = build_key(a, s->name, &tags);
		key = a->keybuf;
	}
	uint64_t hash = vt_hash(key, len, VT_SERIES_HASH_SEED);
	return record_into(a, s, &tags, (struct vt_slice){ key, len }, hash,
	    table_find(a, hash, key, len));
}

/* ---- closing a window ------------------------------------------------- */

static int is_expired(const vt_agg *a, struct vt_metric *m, double now)
{
	double ttl = metric_extra(m)->ttl;
	return m->last_window != (uint32_t)a->window_seq &&
	    now - vt_metric_cold(m)->last_seen >=
	    (ttl > 0 ? ttl : a->cfg.metric_ttl);
}

/* Remove m from the table and free it. */
static void table_remove(vt_agg *a, struct vt_metric *m)
{
	size_t i = m->hash & a->mask;
	while (a->slots[i].m != m)
		i = (i + 1) & a->mask;
	table_remove_at(a, i);
	a->live_quantiled -= (size_t)vt_kind_ops[m->kind].needs_quantiles;
	if (metric_extra(m)->hist)
		a->live_buckets -= metric_extra(m)->hist->n;
	metric_free(m);
	a->live--;
	a->stats->metrics_live = a->live;
}

/* Metrics to remove after a table walk (removing during the walk could
 * shift an entry past the cursor, or a wrapped one before it). */
struct doomed {
	struct vt_metric **m;
	size_t n;
};

static void doomed_remove_all(vt_agg *a, struct doomed *d)
{
	for (size_t i = 0; i < d->n; i++)
		table_remove(a, d->m[i]);
	free(d->m);
	d->m = NULL;
	d->n = 0;
}

/* The metrics a window close visits are scattered: start loading the
 * header of the metric in slot far and, its header now on the way, the
 * parts the close reads of the one in slot near (cold part, kind state,
 * series). always_inline: as a call, GCC finds it pure (a prefetch is no
 * side effect) and deletes it. */
static inline __attribute__((always_inline)) void prefetch_for_close(
    const vt_agg *a, size_t far, size_t near)
{
	struct vt_metric *m;
	if (far <= a->mask && (m = a->slots[far].m) != NULL) {
		__builtin_prefetch(m);
		__builtin_prefetch((const char *)m + 64);
	}
	if (near <= a->mask && (m = a->slots[near].m) != NULL) {
		__builtin_prefetch(vt_metric_cold(m), 1);
		__builtin_prefetch(m->series, 1);
		if (vt_kind_has_state(m->kind))
			__builtin_prefetch(vt_metric_state(m), 1);
	}
}

/* Add the open window's counts at m's bounds to its totals (before the
 * close resets the sketch) and put bounds and totals into the flush. */
static void close_hist(struct metric_hist *h, struct vt_metric *m,
    struct vt_timer_window *w, double **store)
{
	size_t n = h->n;
	double win[VT_MAP_MAX_BUCKETS];
	double *total = h->v + 2 * n;
	if (m->count > 0) {
		vt_sketch_counts_le(&m->u.timer->window, h->v + n, n, win);
		for (size_t i = 0; i < n; i++)
			total[i] += win[i];
	}
	double *le = *store, *counts = *store + n;
	memcpy(le, h->v, n * sizeof(double));
	memcpy(counts, total, n * sizeof(double));
	*store += 2 * n;
	w->nbuckets = n;
	w->bucket_le = le;
	w->bucket_counts = counts;
}

/* ---- mapping rules read again ---------------------------------------- */

void vt_agg_set_mapping(vt_agg *a, vt_mapping *mapping)
{
	vt_mapping_destroy(a->next_mapping);
	a->next_mapping = mapping;
	a->remap_pending = 1;
}

static int slice_eq(struct vt_slice x, struct vt_slice y)
{
	return x.len == y.len && (x.len == 0 || memcmp(x.ptr, y.ptr,
	    x.len) == 0);
}

/* Whether two histogram settings (hist_for's answers) are the same. */
static int hist_eq(const struct metric_hist *x, const struct metric_hist *y)
{
	if (x == NULL || y == NULL)
		return x == y;
	return x->n == y->n && x->scale == y->scale &&
	    memcmp(x->v, y->v, x->n * sizeof *x->v) == 0;
}

/* Whether a series made under the answer o (NULL: no rule) of the old
 * rules is the one the answer n of the new rules makes: the same name,
 * service, labels, ttl and histogram buckets. */
static int same_answer(const struct vt_map_result *o,
    const struct vt_map_rule *o_unmapped, const struct vt_map_result *n,
    const struct vt_map_rule *n_unmapped, enum vt_kind kind)
{
	if ((o == NULL) != (n == NULL))
		return 0;
	if (o && (o->action != n->action || !slice_eq(o->name, n->name) ||
	    !slice_eq(o->service, n->service) || o->nlabels != n->nlabels ||
	    o->rule->ttl != n->rule->ttl))
		return 0;
	for (size_t i = 0; o && i < o->nlabels; i++)
		if (!slice_eq(o->label_key[i], n->label_key[i]) ||
		    !slice_eq(o->label_value[i], n->label_value[i]))
			return 0;
	struct metric_hist *ho = hist_for(o ? o->rule : NULL, o_unmapped,
	    kind);
	struct metric_hist *hn = hist_for(n ? n->rule : NULL, n_unmapped,
	    kind);
	int same = hist_eq(ho, hn);
	free(ho);
	free(hn);
	return same;
}

/*
 * Switch to the rules vt_agg_set_mapping left, at a window close so the
 * closed window has every line recorded under the old ones. A live
 * metric whose name the new rules map differently (another name,
 * service, labels, ttl or buckets, or now dropped) leaves memory: its
 * next line makes the new series, and a counter starts again from 0 (a
 * reset, which rate() handles). The others stay as they are.
 */
static void remap(vt_agg *a)
{
	vt_mapping *old = a->cfg.mapping, *next = a->next_mapping;
	const struct vt_map_rule *ou = old ? vt_mapping_unmapped(old) : NULL;
	const struct vt_map_rule *nu = next ? vt_mapping_unmapped(next) : NULL;
	struct doomed changed = { vt_xcalloc(a->live + 1, sizeof(void *)), 0 };
	for (size_t i = 0; i <= a->mask; i++) {
		struct vt_metric *m = a->slots[i].m;
		if (m == NULL)
			continue;
		const struct vt_series *s = m->series;
		const char *bar = memchr(s->key, '|', s->key_len);
		struct vt_slice name = { s->key, bar ? (size_t)(bar - s->key) :
		    s->key_len };
		if (is_self_name(name))
			continue;
		const struct vt_map_result *o = old ?
		    vt_mapping_lookup(old, name, m->kind) : NULL;
		const struct vt_map_result *n = next ?
		    vt_mapping_lookup(next, name, m->kind) : NULL;
		if (!same_answer(o, ou, n, nu, m->kind))
			changed.m[changed.n++] = m;
	}
	size_t removed = changed.n;
	doomed_remove_all(a, &changed);
	vt_mapping_destroy(old);
	a->cfg.mapping = next;
	a->next_mapping = NULL;
	a->remap_pending = 0;
	vt_log_info("agg", "mapping rules read again: %zu live series mapped "
	    "differently leave memory; their next line starts them afresh",
	    removed);
}

struct vt_flush *vt_agg_close_window(vt_agg *a, double now, double interval)
{
	size_t np = a->cfg.npercentiles;
	struct vt_flush *f = vt_flush_create(a->live, a->live_quantiled, np);
	double *bstore = NULL;
	if (a->live_buckets)
		f->bucket_store = bstore = vt_xcalloc(2 * a->live_buckets,
		    sizeof(double));
	struct vt_window_ctx ctx = {
		.interval = interval > 0 ? interval : 1,
		.npercentiles = np,
		.percentiles = a->cfg.percentiles,
		.quantiles = f->quantile_store,
		.native_histograms = a->cfg.native_histograms,
	};
	struct doomed expired = { vt_xcalloc(a->live + 1, sizeof(void *)), 0 };

	f->seq = a->window_seq;
	f->timestamp = now;
	f->interval = ctx.interval;
	f->native_histograms = a->cfg.native_histograms;
	memcpy(f->percentiles, a->cfg.percentiles, sizeof f->percentiles);

	for (size_t i = 0; i <= a->mask; i++) {
		prefetch_for_close(a, i + 16, i + 8);
		struct vt_metric *m = a->slots[i].m;
		if (m == NULL)
			continue;
		struct vt_metric_cold *cold = vt_metric_cold(m);
		if (m->last_window == (uint32_t)a->window_seq)
			cold->last_seen = now;
		if (is_expired(a, m, now)) {
			expired.m[expired.n++] = m;
			continue;
		}
		const struct vt_kind_ops *ops = &vt_kind_ops[m->kind];
		struct vt_metric_window *w = &f->metrics[f->nmetrics++];
		w->series = vt_series_retain(m->series);
		w->samples = m->samples;
		w->last_seen = cold->last_seen;
		/* A timer's or histogram's own fields (flush.h). */
		ctx.timer = ops->needs_quantiles ? vt_flush_add_timer(f, w) :
		    NULL;
		if (metric_extra(m)->hist)  /* only those kinds have one */
			close_hist(metric_extra(m)->hist, m, ctx.timer,
			    &bstore);
		ops->close(m, w, &ctx);
		if (ops->needs_quantiles)
			ctx.quantiles += 4 * np;
		m->samples = 0;
	}
	a->stats->metrics_expired += expired.n;
	doomed_remove_all(a, &expired);
	if (a->remap_pending)
		remap(a);
	a->window_seq++;
	return f;
}

size_t vt_agg_forget_service(vt_agg *a, const char *service)
{
	struct doomed gone = { vt_xcalloc(a->live + 1, sizeof(void *)), 0 };
	for (size_t i = 0; i <= a->mask; i++) {
		struct vt_metric *m = a->slots[i].m;
		if (m && strcmp(m->series->service, service) == 0)
			gone.m[gone.n++] = m;
	}
	size_t removed = gone.n;
	doomed_remove_all(a, &gone);
	return removed;
}
