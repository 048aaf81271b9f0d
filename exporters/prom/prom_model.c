/*
 * prom_model.c - resolves the series of one flush into Prometheus
 * families (SPEC 7) and writes them.
 *
 * Build, in four passes over scratch arrays owned by the model (no
 * allocation per series; every string lives in one arena buffer):
 *   1. per series: the family's base name and the label text
 *      `service="..",k="v"` (tag names sanitised, renamed when reserved,
 *      sorted, values escaped), both NUL-terminated in the arena;
 *   2. in series-id order (the older series wins): find or create the
 *      family in a hash table of family names and their suffix stems;
 *      a name or kind clash is a conflict;
 *   3. sort the families by name;
 *   4. sort the accepted series by (family rank, label text, id): each
 *      family's series are contiguous, and a duplicate series sorts right
 *      after its older twin, which keeps it out as a conflict.
 * Write then walks the families in order: one HELP/TYPE pair, then the
 * samples; or, for the protobuf exposition, one MetricFamily message per
 * family from the same model (write_proto), where timers and histograms
 * are histograms with native buckets when the flush keeps them. The
 * model holds a reference to its flush and is immutable once
 * built: shared by concurrent scrapes, freed on its last release.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/hash.h"
#include "collector/base/prom_text.h"
#include "collector/base/ref.h"
#include "collector/base/xmalloc.h"
#include "collector/statsd/names.h"
#include "exporters/prom/prom.h"
#include "exporters/prom/prom_labels.h"
#include "exporters/prom/prom_model.h"
#include "exporters/prom/prom_proto.h"

#define NONE UINT32_MAX
#define RESERVED_PREFIX "vitals_"

/* Sample-name suffixes a family can claim. */
enum { SUF_NONE, SUF_TOTAL, SUF_CREATED, SUF_SUM, SUF_COUNT, SUF_BUCKET,
	SUF_N };

#define CLAIM(s) (1u << (s))

static const struct {
	const char *text;
	size_t len;
} suffixes[SUF_N] = {
	[SUF_NONE] = { "", 0 },
	[SUF_TOTAL] = { "_total", 6 },
	[SUF_CREATED] = { "_created", 8 },
	[SUF_SUM] = { "_sum", 4 },
	[SUF_COUNT] = { "_count", 6 },
	[SUF_BUCKET] = { "_bucket", 7 },
};

/* How each statsd kind becomes a family; timers and histograms whose
 * mapping rule made them classic histograms (vt_metric_window.nbuckets)
 * have their own rules, so they never share a family with summaries. */
enum { RULE_TIMER_HIST = VT_KIND_COUNT, RULE_HIST_HIST, RULE_COUNT };

static const struct kind_rule {
	enum vt_prom_type type;
	int histogram;          /* a classic histogram (type says summary:
	                           prom_text.h knows no histogram) */
	int strip_total;        /* counters: "x_total" is family "x" */
	int add_seconds;        /* timers: ms -> s, name ends in _seconds */
	double scale;           /* divide quantiles and sums by this */
	const char *help;       /* HELP: help + metric name + help_tail */
	const char *help_tail;
	unsigned claims;        /* sample names the family owns */
} kind_rules[RULE_COUNT] = {
	[VT_COUNTER] = { VT_PROM_COUNTER, 0, 1, 0, 1, "statsd counter ", "",
	    CLAIM(SUF_NONE) | CLAIM(SUF_TOTAL) | CLAIM(SUF_CREATED) },
	[VT_GAUGE] = { VT_PROM_GAUGE, 0, 0, 0, 1, "statsd gauge ", "",
	    CLAIM(SUF_NONE) },
	[VT_TIMER] = { VT_PROM_SUMMARY, 0, 0, 1, 1000, "statsd timer ",
	    " (sent in milliseconds)",
	    CLAIM(SUF_NONE) | CLAIM(SUF_SUM) | CLAIM(SUF_COUNT) |
	    CLAIM(SUF_CREATED) | CLAIM(SUF_BUCKET) },
	[VT_HISTOGRAM] = { VT_PROM_SUMMARY, 0, 0, 0, 1, "statsd histogram ", "",
	    CLAIM(SUF_NONE) | CLAIM(SUF_SUM) | CLAIM(SUF_COUNT) |
	    CLAIM(SUF_CREATED) | CLAIM(SUF_BUCKET) },
	[VT_SET] = { VT_PROM_GAUGE, 0, 0, 0, 1, "statsd set ",
	    " (distinct values in the last window)", CLAIM(SUF_NONE) },
	[RULE_TIMER_HIST] = { VT_PROM_SUMMARY, 1, 0, 1, 1000, "statsd timer ",
	    " (sent in milliseconds)",
	    CLAIM(SUF_NONE) | CLAIM(SUF_SUM) | CLAIM(SUF_COUNT) |
	    CLAIM(SUF_CREATED) | CLAIM(SUF_BUCKET) },
	[RULE_HIST_HIST] = { VT_PROM_SUMMARY, 1, 0, 0, 1, "statsd histogram ",
	    "", CLAIM(SUF_NONE) | CLAIM(SUF_SUM) | CLAIM(SUF_COUNT) |
	    CLAIM(SUF_CREATED) | CLAIM(SUF_BUCKET) },
};

/* The rule of a window: its kind's, or a histogram one. */
static unsigned rule_of(const struct vt_metric_window *w)
{
	enum vt_kind k = w->series->kind;
	const struct vt_timer_window *t = vt_window_timer(w);
	if (t->nbuckets && t->bucket_le && t->bucket_counts)
		return k == VT_TIMER ? RULE_TIMER_HIST :
		    k == VT_HISTOGRAM ? RULE_HIST_HIST : (unsigned)k;
	return (unsigned)k;
}

struct entry {
	const struct vt_metric_window *w;
	size_t name_off;        /* family base name in the arena */
	size_t lab_off;         /* label text in the arena */
	uint32_t name_len;
	uint32_t lab_len;
	uint32_t family;        /* NONE: left out */
	int bad;                /* two tags with one label name */
	unsigned rule;          /* index in kind_rules */
};

struct family {
	size_t name_off;
	uint32_t name_len;
	uint32_t first;         /* the entry that created it names HELP */
	unsigned kind;          /* index in kind_rules */
};

/*
 * The names table: open addressing, linear probing, grown at half load.
 * A record (val - 1 = family << 3 | suffix) is keyed by the family's own
 * name (suffix SUF_NONE) or, for a family whose name ends in a sample
 * suffix, by its stem: "x_sum" is also filed under "x" with SUF_SUM, so a
 * later summary "x" finds the clash in the same lookup. val 0 is empty.
 */
struct slot {
	uint32_t tag;           /* high half of the key's hash */
	uint32_t val;
};

struct names {
	struct slot *slots;
	size_t mask;
	size_t count;
};

struct sort_key {
	const char *text;
	uint64_t major;
	uint64_t minor;
	uint32_t idx;
};

struct vt_prom_model {
	struct vt_ref ref;                /* first */
	struct vt_flush *flush;           /* one reference, or NULL */
	struct vt_buf arena;              /* names and label text */
	struct entry *entries;
	size_t nentries;
	struct family *families;
	size_t nfamilies;
	struct sort_key *accepted;        /* by family rank, label text */
	size_t naccepted;
	uint32_t *fam_sorted;             /* rank -> family */
	size_t *fam_begin;                /* rank -> first in accepted */
	size_t conflicts;
};

static int ends_with(const char *s, size_t len, const char *suf, size_t n)
{
	return len > n && memcmp(s + len - n, suf, n) == 0;
}

/* Write the family base name of series s into the arena. */
static void put_base_name(struct vt_buf *arena, const struct vt_series *s,
    const struct kind_rule *r, struct entry *e)
{
	size_t mlen = strlen(s->metric);
	vt_buf_reserve(arena, mlen + 16);
	char *dst = arena->data + arena->len;
	size_t n = vt_names_prometheus(dst, mlen + 2, s->metric, mlen);

	if (r->strip_total && ends_with(dst, n, "_total", 6))
		n -= 6;
	if (r->add_seconds && !ends_with(dst, n, "_seconds", 8)) {
		memcpy(dst + n, "_seconds", 8);
		n += 8;
	}
	dst[n] = '\0';
	e->name_off = arena->len;
	e->name_len = (uint32_t)n;
	arena->len += n + 1;
	arena->data[arena->len] = '\0';
}

/* Arena bytes for the series of f, unless escaping grows them. */
static size_t arena_estimate(const struct vt_flush *f)
{
	size_t bytes = 0;
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_series *s = f->metrics[i].series;
		if (s == NULL)
			continue;
		bytes += s->key_len + strlen(s->service) + 32;
		for (size_t k = 0; k < s->nlabels; k++)
			bytes += strlen(s->labels[k].key) +
			    strlen(s->labels[k].value) + 16;
	}
	return bytes;
}

/* Pass 1. */
static void build_entries(struct vt_prom_model *m)
{
	const struct vt_flush *f = m->flush;
	struct vt_prom_labels *sc = vt_prom_labels_create();

	vt_buf_reserve(&m->arena, arena_estimate(f));
	m->entries = vt_xcalloc(f->nmetrics + 1, sizeof *m->entries);
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *w = &f->metrics[i];
		const struct vt_series *s = w->series;
		if (s == NULL || (unsigned)s->kind >= VT_KIND_COUNT)
			continue;
		struct entry *e = &m->entries[m->nentries++];
		e->w = w;
		e->family = NONE;
		e->rule = rule_of(w);
		put_base_name(&m->arena, s, &kind_rules[e->rule], e);
		e->lab_off = m->arena.len;
		e->bad = vt_prom_labels_put(sc, &m->arena, s) != 0;
		e->lab_len = (uint32_t)(m->arena.len - e->lab_off);
		vt_buf_putc(&m->arena, '\0');
	}
	vt_prom_labels_destroy(sc);
}

/* The key a names-table record is filed under. */
static const char *record_key(const struct vt_prom_model *m, uint32_t val,
    size_t *len)
{
	const struct family *fam = &m->families[(val - 1) >> 3];
	*len = fam->name_len - suffixes[(val - 1) & 7].len;
	return m->arena.data + fam->name_off;
}

static void names_put(struct names *t, uint32_t val, uint64_t h)
{
	size_t i = h & t->mask;
	while (t->slots[i].val != 0)
		i = (i + 1) & t->mask;
	t->slots[i].tag = (uint32_t)(h >> 32);
	t->slots[i].val = val;
	t->count++;
}

static void names_grow(const struct vt_prom_model *m, struct names *t)
{
	struct slot *old = t->slots;
	size_t oldcap = t->mask + 1;

	t->slots = vt_xcalloc(oldcap * 2, sizeof *t->slots);
	t->mask = oldcap * 2 - 1;
	t->count = 0;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].val == 0)
			continue;
		size_t len;
		const char *key = record_key(m, old[i].val, &len);
		names_put(t, old[i].val, vt_hash(key, len, 0));
	}
	free(old);
}

static void names_add(const struct vt_prom_model *m, struct names *t,
    uint32_t fam, unsigned suf, uint64_t h)
{
	if ((t->count + 1) * 2 > t->mask + 1)
		names_grow(m, t);
	names_put(t, (fam << 3 | suf) + 1, h);
}

/* The family named name[0..len), or NONE. */
static uint32_t names_family(const struct vt_prom_model *m,
    const struct names *t, const char *name, size_t len, uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);
	for (size_t i = h & t->mask; t->slots[i].val; i = (i + 1) & t->mask) {
		uint32_t val = t->slots[i].val;
		size_t klen;
		const char *key = record_key(m, val, &klen);
		if (t->slots[i].tag == tag && ((val - 1) & 7) == SUF_NONE &&
		    klen == len && memcmp(key, name, len) == 0)
			return (val - 1) >> 3;
	}
	return NONE;
}

/* Pass 2 for one entry: returns its family, or NONE for a conflict. */
static uint32_t resolve(struct vt_prom_model *m, struct names *t,
    uint32_t idx)
{
	struct entry *e = &m->entries[idx];
	unsigned kind = e->rule;
	unsigned claims = kind_rules[kind].claims;
	const char *name = m->arena.data + e->name_off;
	size_t len = e->name_len;
	uint64_t h = vt_hash(name, len, 0);
	uint32_t tag = (uint32_t)(h >> 32);

	if (e->bad || strncmp(name, RESERVED_PREFIX,
	    sizeof RESERVED_PREFIX - 1) == 0)
		return NONE;
	/* Records under this name: the family itself, or a family whose
	 * name is this one plus a suffix this family would claim. */
	for (size_t i = h & t->mask; t->slots[i].val; i = (i + 1) & t->mask) {
		uint32_t val = t->slots[i].val;
		size_t klen;
		const char *key = record_key(m, val, &klen);
		if (t->slots[i].tag != tag || klen != len ||
		    memcmp(key, name, len) != 0)
			continue;
		uint32_t fam = (val - 1) >> 3;
		unsigned suf = (val - 1) & 7;
		if (suf == SUF_NONE)
			return m->families[fam].kind == kind ? fam : NONE;
		if (claims & CLAIM(suf))
			return NONE;
	}
	/* This name is a sample name of an older family. */
	for (unsigned k = SUF_NONE + 1; k < SUF_N; k++) {
		if (!ends_with(name, len, suffixes[k].text, suffixes[k].len))
			continue;
		size_t slen = len - suffixes[k].len;
		uint32_t g = names_family(m, t, name, slen,
		    vt_hash(name, slen, 0));
		if (g != NONE && (kind_rules[m->families[g].kind].claims &
		    CLAIM(k)))
			return NONE;
	}

	uint32_t fam = (uint32_t)m->nfamilies++;
	m->families[fam].name_off = e->name_off;
	m->families[fam].name_len = e->name_len;
	m->families[fam].first = idx;
	m->families[fam].kind = kind;
	names_add(m, t, fam, SUF_NONE, h);
	for (unsigned k = SUF_NONE + 1; k < SUF_N; k++) {
		if (ends_with(name, len, suffixes[k].text, suffixes[k].len))
			names_add(m, t, fam, k, vt_hash(name,
			    len - suffixes[k].len, 0));
	}
	return fam;
}

static int cmp_id(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	if (x->major != y->major)
		return x->major < y->major ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Pass 2: families in series-id order, so the older series wins. */
static void resolve_all(struct vt_prom_model *m)
{
	size_t n = m->nentries;
	struct sort_key *byid = vt_xcalloc(n + 1, sizeof *byid);
	struct names t = { .mask = 1023, .count = 0 };

	for (size_t i = 0; i < n; i++) {
		byid[i].major = m->entries[i].w->series->id;
		byid[i].idx = (uint32_t)i;
	}
	qsort(byid, n, sizeof *byid, cmp_id);
	m->families = vt_xcalloc(n + 1, sizeof *m->families);
	t.slots = vt_xcalloc(t.mask + 1, sizeof *t.slots);
	for (size_t i = 0; i < n; i++) {
		uint32_t idx = byid[i].idx;
		m->entries[idx].family = resolve(m, &t, idx);
		if (m->entries[idx].family == NONE)
			m->conflicts++;
	}
	free(t.slots);
	free(byid);
}

static int cmp_text(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	return strcmp(x->text, y->text);
}

/* Family rank, then label text, then series id. */
static int cmp_series(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	if (x->major != y->major)
		return x->major < y->major ? -1 : 1;
	int c = strcmp(x->text, y->text);
	if (c)
		return c;
	return x->minor < y->minor ? -1 : x->minor > y->minor;
}

/*
 * Passes 3 and 4. The arena is final now, so pointers into it hold. A
 * series equal to its predecessor in (family, label text) is a newer
 * duplicate: left out.
 */
static void sort_all(struct vt_prom_model *m)
{
	size_t nf = m->nfamilies;
	struct sort_key *fk = vt_xcalloc(nf + 1, sizeof *fk);
	uint32_t *rank = vt_xcalloc(nf + 1, sizeof *rank);

	for (size_t i = 0; i < nf; i++) {
		fk[i].text = m->arena.data + m->families[i].name_off;
		fk[i].idx = (uint32_t)i;
	}
	qsort(fk, nf, sizeof *fk, cmp_text);
	m->fam_sorted = vt_xcalloc(nf + 1, sizeof *m->fam_sorted);
	for (size_t r = 0; r < nf; r++) {
		m->fam_sorted[r] = fk[r].idx;
		rank[fk[r].idx] = (uint32_t)r;
	}
	free(fk);

	size_t n = 0;
	struct sort_key *acc = vt_xcalloc(m->nentries + 1, sizeof *acc);
	for (size_t i = 0; i < m->nentries; i++) {
		const struct entry *e = &m->entries[i];
		if (e->family == NONE)
			continue;
		acc[n].major = rank[e->family];
		acc[n].minor = e->w->series->id;
		acc[n].text = m->arena.data + e->lab_off;
		acc[n].idx = (uint32_t)i;
		n++;
	}
	qsort(acc, n, sizeof *acc, cmp_series);
	free(rank);

	m->fam_begin = vt_xcalloc(nf + 1, sizeof *m->fam_begin);
	m->accepted = acc;
	m->naccepted = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && acc[i].major == acc[i - 1].major &&
		    strcmp(acc[i].text, acc[i - 1].text) == 0) {
			m->entries[acc[i].idx].family = NONE;
			m->conflicts++;
			continue;
		}
		acc[m->naccepted++] = acc[i];
		m->fam_begin[acc[i].major + 1]++;
	}
	for (size_t r = 0; r < nf; r++)
		m->fam_begin[r + 1] += m->fam_begin[r];
}

VT_REF_FIRST(struct vt_prom_model);

static void model_destroy(void *obj)
{
	struct vt_prom_model *m = obj;
	vt_flush_release(m->flush);
	vt_buf_fini(&m->arena);
	free(m->entries);
	free(m->families);
	free(m->accepted);
	free(m->fam_sorted);
	free(m->fam_begin);
	free(m);
}

struct vt_prom_model *vt_prom_model_build(const struct vt_flush *f)
{
	struct vt_prom_model *m = vt_xcalloc(1, sizeof *m);

	vt_ref_init(&m->ref, model_destroy);
	vt_buf_init(&m->arena);
	m->flush = f ? vt_flush_retain(f) : NULL;
	if (f == NULL)
		return m;
	build_entries(m);
	resolve_all(m);
	sort_all(m);
	return m;
}

void vt_prom_model_release(struct vt_prom_model *m)
{
	if (m != NULL)
		vt_ref_release(&m->ref);
}

const struct vt_selfstats *vt_prom_model_self(const struct vt_prom_model *m)
{
	return m->flush ? &m->flush->self : NULL;
}

size_t vt_prom_model_conflicts(const struct vt_prom_model *m)
{
	return m ? m->conflicts : 0;
}

/* name+suffix{labels[extra]} value */
static void put_sample(struct vt_buf *out, const char *name, size_t nlen,
    unsigned suf, const char *lab, size_t llen, const char *extra,
    double value)
{
	size_t xlen = extra ? strlen(extra) : 0;
	vt_buf_reserve(out, nlen + llen + xlen + 48);
	vt_buf_append(out, name, nlen);
	vt_buf_append(out, suffixes[suf].text, suffixes[suf].len);
	vt_buf_putc(out, '{');
	vt_buf_append(out, lab, llen);
	if (xlen)
		vt_buf_append(out, extra, xlen);
	vt_buf_append(out, "} ", 2);
	vt_prom_text_value(out, value);
	vt_buf_putc(out, '\n');
}

/*
 * name_bucket{labels,le="b"} for each bound (written as every sample
 * value is) and +Inf. Counts are cumulative across windows and buckets;
 * the sketch's float weights can round a little away from the exact
 * _count, so each is kept within [previous bucket, _count] and +Inf is
 * _count itself.
 */
static void write_buckets(struct vt_buf *out, const char *name,
    size_t nlen, const char *lab, size_t llen,
    const struct vt_metric_window *w)
{
	const struct vt_timer_window *t = vt_window_timer(w);
	double prev = 0;
	for (size_t i = 0; i < t->nbuckets; i++) {
		double c = t->bucket_counts[i];
		c = !(c >= prev) ? prev : c > w->total ? w->total : c;
		prev = c;
		if (isinf(t->bucket_le[i]) && t->bucket_le[i] > 0)
			continue;      /* +Inf comes last, as _count */
		vt_buf_reserve(out, nlen + llen + 96);
		vt_buf_append(out, name, nlen);
		vt_buf_append(out, "_bucket{", 8);
		vt_buf_append(out, lab, llen);
		vt_buf_append(out, ",le=\"", 5);
		vt_prom_text_value(out, t->bucket_le[i]);
		vt_buf_append(out, "\"} ", 3);
		vt_prom_text_value(out, c);
		vt_buf_putc(out, '\n');
	}
	put_sample(out, name, nlen, SUF_BUCKET, lab, llen, ",le=\"+Inf\"",
	    w->total);
}

static void write_series(const struct vt_prom_model *m, struct vt_buf *out,
    const struct entry *e, const char (*qlabels)[40], size_t nq)
{
	const struct vt_metric_window *w = e->w;
	const struct vt_timer_window *t = vt_window_timer(w);
	const struct kind_rule *r = &kind_rules[e->rule];
	const char *name = m->arena.data + e->name_off;
	const char *lab = m->arena.data + e->lab_off;

	if (r->histogram) {
		write_buckets(out, name, e->name_len, lab, e->lab_len, w);
		put_sample(out, name, e->name_len, SUF_SUM, lab, e->lab_len,
		    NULL, t->sum_total / r->scale);
		put_sample(out, name, e->name_len, SUF_COUNT, lab, e->lab_len,
		    NULL, w->total);
		return;
	}
	switch (r->type) {
	case VT_PROM_COUNTER:
		put_sample(out, name, e->name_len, SUF_TOTAL, lab, e->lab_len,
		    NULL, w->total);
		break;
	case VT_PROM_GAUGE:
		put_sample(out, name, e->name_len, SUF_NONE, lab, e->lab_len,
		    NULL, w->value);
		break;
	case VT_PROM_SUMMARY:
		for (size_t i = 0; i < nq; i++) {
			double q = t->quantiles ? t->quantiles[i] / r->scale :
			    (double)NAN;
			put_sample(out, name, e->name_len, SUF_NONE, lab,
			    e->lab_len, qlabels[i], q);
		}
		put_sample(out, name, e->name_len, SUF_SUM, lab, e->lab_len,
		    NULL, t->sum_total / r->scale);
		put_sample(out, name, e->name_len, SUF_COUNT, lab, e->lab_len,
		    NULL, w->total);
		break;
	}
}

/* Output bytes for the families from rank from on, to reserve once; at
 * most cap (0: no cap). A streamed scrape asks for one piece at a time, so
 * the walk stops at the cap: summing to the end of the model for every
 * piece made a scrape quadratic in its series. */
static size_t write_estimate(const struct vt_prom_model *m, size_t from,
    size_t nq, size_t cap)
{
	size_t bytes = 8192;    /* the vitals_* block written in between */
	size_t k = from < m->nfamilies ? m->fam_begin[from] : m->naccepted;
	for (size_t r = from; r < m->nfamilies; r++) {
		const struct family *fam = &m->families[m->fam_sorted[r]];
		bytes += 3 * (size_t)fam->name_len + 96;
		for (; k < m->fam_begin[r + 1]; k++) {
			const struct entry *e =
			    &m->entries[m->accepted[k].idx];
			size_t lines = kind_rules[e->rule].histogram ?
			    vt_window_timer(e->w)->nbuckets + 3 :
			    kind_rules[e->rule].type == VT_PROM_SUMMARY ?
			    nq + 2 : 1;
			bytes += lines * ((size_t)e->name_len + e->lab_len +
			    48);
		}
		if (cap && bytes >= cap)
			return cap;
	}
	return bytes;
}

/* HELP text as the text format escapes it (UTF-8 repaired), unescaped
 * again for the protobuf string. */
static void proto_help(struct vt_buf *help, struct vt_buf *tmp,
    const struct kind_rule *kr, const char *metric)
{
	vt_buf_reset(tmp);
	vt_prom_text_escape_help(tmp, metric);
	vt_buf_reset(help);
	vt_buf_puts(help, kr->help);
	for (size_t i = 0; i < tmp->len; i++) {
		char c = tmp->data[i];
		if (c == '\\' && i + 1 < tmp->len)
			c = tmp->data[++i] == 'n' ? '\n' : tmp->data[i];
		vt_buf_putc(help, c);
	}
	vt_buf_puts(help, kr->help_tail);
}

static uint64_t proto_count(double v)
{
	return v >= 0 && v < 1.8e19 ? (uint64_t)llround(v) : 0;
}

/* One series as a Metric message. native: timers and histograms are
 * native histograms. */
static void write_proto_series(const struct vt_prom_model *m,
    struct vt_buf *out, const struct entry *e, int native)
{
	const struct vt_metric_window *w = e->w;
	const struct vt_timer_window *t = vt_window_timer(w);
	const struct kind_rule *r = &kind_rules[e->rule];
	size_t metric = vt_prom_proto_open(out, 4);
	size_t sub;

	vt_prom_proto_labels(out, m->arena.data + e->lab_off, e->lab_len);
	if (r->type == VT_PROM_COUNTER || r->type == VT_PROM_GAUGE) {
		sub = vt_prom_proto_open(out, r->type == VT_PROM_COUNTER ? 3 : 2);
		vt_prom_proto_double(out, 1, r->type == VT_PROM_COUNTER ?
		    w->total : w->value);
	} else if (native || r->histogram) {
		sub = vt_prom_proto_open(out, 7);           /* Histogram */
		if (native)
			vt_prom_proto_native(out, t->native, r->scale);
		else
			vt_prom_proto_uint(out, 1, proto_count(w->total));
		vt_prom_proto_double(out, 2, t->sum_total / r->scale);
		double prev = 0;
		for (size_t i = 0; r->histogram && i < t->nbuckets; i++) {
			double c = t->bucket_counts[i];
			c = !(c >= prev) ? prev : c > w->total ? w->total : c;
			prev = c;
			size_t b = vt_prom_proto_open(out, 3);
			vt_prom_proto_uint(out, 1, proto_count(c));
			vt_prom_proto_double(out, 2, t->bucket_le[i]);
			vt_prom_proto_close(out, b);
		}
	} else {
		sub = vt_prom_proto_open(out, 4);           /* Summary */
		vt_prom_proto_uint(out, 1, proto_count(w->total));
		vt_prom_proto_double(out, 2, t->sum_total / r->scale);
		size_t nq = m->flush->npercentiles < VT_MAX_PERCENTILES ?
		    m->flush->npercentiles : VT_MAX_PERCENTILES;
		for (size_t i = 0; i < nq; i++) {
			size_t q = vt_prom_proto_open(out, 3);
			vt_prom_proto_double(out, 1,
			    m->flush->percentiles[i] / 100);
			vt_prom_proto_double(out, 2, t->quantiles ?
			    t->quantiles[i] / r->scale : (double)NAN);
			vt_prom_proto_close(out, q);
		}
	}
	vt_prom_proto_close(out, sub);
	vt_prom_proto_close(out, metric);
}

/* vt_prom_model_write for the protobuf exposition. */
static size_t write_proto(const struct vt_prom_model *m, struct vt_buf *out,
    size_t from, const char *stop, size_t limit)
{
	struct vt_buf help, tmp, name;
	size_t r;
	int native = m->flush->native_histograms;

	vt_buf_init(&help);
	vt_buf_init(&tmp);
	vt_buf_init(&name);
	for (r = from; r < m->nfamilies; r++) {
		const struct family *fam = &m->families[m->fam_sorted[r]];
		const char *base = m->arena.data + fam->name_off;
		const struct kind_rule *kr = &kind_rules[fam->kind];
		if (stop && strcmp(base, stop) >= 0)
			break;
		if (limit && out->len >= limit)
			break;
		vt_buf_reset(&name);
		vt_buf_append(&name, base, fam->name_len);
		if (kr->type == VT_PROM_COUNTER)
			vt_buf_puts(&name, "_total");
		proto_help(&help, &tmp, kr,
		    m->entries[fam->first].w->series->metric);
		int nat = native && kr->type == VT_PROM_SUMMARY;
		enum vt_prom_proto_type t =
		    kr->type == VT_PROM_COUNTER ? VT_PROM_PROTO_COUNTER :
		    kr->type == VT_PROM_GAUGE ? VT_PROM_PROTO_GAUGE :
		    nat || kr->histogram ? VT_PROM_PROTO_HISTOGRAM :
		    VT_PROM_PROTO_SUMMARY;
		size_t mark = vt_prom_proto_family(out, name.data, name.len,
		    help.data, help.len, t);
		for (size_t k = m->fam_begin[r]; k < m->fam_begin[r + 1]; k++)
			write_proto_series(m, out,
			    &m->entries[m->accepted[k].idx], nat);
		vt_prom_proto_close(out, mark);
	}
	vt_buf_fini(&help);
	vt_buf_fini(&tmp);
	vt_buf_fini(&name);
	return r;
}

size_t vt_prom_model_write(const struct vt_prom_model *m,
    struct vt_buf *out, enum vt_prom_format fmt, size_t from,
    const char *stop, size_t limit)
{
	char qlabels[VT_MAX_PERCENTILES][40];
	struct vt_buf help;
	size_t r;

	if (m->flush == NULL)
		return from;
	if (fmt == VT_PROM_PROTOBUF)
		return write_proto(m, out, from, stop, limit);
	size_t nq = m->flush->npercentiles < VT_MAX_PERCENTILES ?
	    m->flush->npercentiles : VT_MAX_PERCENTILES;
	for (size_t i = 0; i < nq; i++)
		snprintf(qlabels[i], sizeof qlabels[i], ",quantile=\"%.12g\"",
		    m->flush->percentiles[i] / 100);
	size_t want = write_estimate(m, from, nq, limit ? limit + 4096 : 0);
	vt_buf_reserve(out, want);
	vt_buf_init(&help);
	for (r = from; r < m->nfamilies; r++) {
		const struct family *fam = &m->families[m->fam_sorted[r]];
		const char *name = m->arena.data + fam->name_off;
		const struct kind_rule *kr = &kind_rules[fam->kind];
		if (stop && strcmp(name, stop) >= 0)
			break;
		if (limit && out->len >= limit)
			break;
		vt_buf_reset(&help);
		vt_buf_puts(&help, kr->help);
		vt_prom_text_escape_help_fmt(&help,
		    m->entries[fam->first].w->series->metric, fmt);
		vt_buf_puts(&help, kr->help_tail);
		if (kr->histogram) {   /* prom_text.h knows no histogram */
			vt_buf_append(out, "# HELP ", 7);
			vt_buf_append(out, name, fam->name_len);
			vt_buf_putc(out, ' ');
			vt_buf_puts(out, help.data);
			vt_buf_append(out, "\n# TYPE ", 8);
			vt_buf_append(out, name, fam->name_len);
			vt_buf_puts(out, " histogram\n");
		} else {
			vt_prom_text_head(out, name, fam->name_len, kr->type,
			    help.data, fmt);
		}
		for (size_t k = m->fam_begin[r]; k < m->fam_begin[r + 1]; k++)
			write_series(m, out, &m->entries[m->accepted[k].idx],
			    qlabels, nq);
	}
	vt_buf_fini(&help);
	return r;
}
