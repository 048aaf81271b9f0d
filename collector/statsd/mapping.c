/*
 * mapping.c - mapping rules (mapping.h): the schema shared by the YAML
 * file and the JSON section, name templates, the glob trie, the regex
 * list and the answer cache.
 */
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/hash.h"
#include "collector/base/parse.h"
#include "collector/base/xmalloc.h"
#include "collector/statsd/mapping.h"

#define MAX_COMPONENTS (VT_NAME_MAX / 2 + 2)
#define MAX_CAPTURES 32
#define NO_RULE UINT32_MAX
#define EDGE_SEED 0x6d617070u      /* "mapp" */
#define CACHE_SEED 0x63616368u     /* "cach" */
#define CACHE_WAYS 4

/* ---- the document tree ------------------------------------------------ */

struct vt_mnode *vt_mnode_new(enum vt_mnode_type type, unsigned line)
{
	struct vt_mnode *n = vt_xcalloc(1, sizeof *n);
	n->type = type;
	n->line = line;
	return n;
}

struct vt_mnode *vt_mnode_scalar(const char *text, int is_string,
    unsigned line)
{
	struct vt_mnode *n = vt_mnode_new(VT_MNODE_SCALAR, line);
	n->text = vt_xstrdup(text);
	n->is_string = is_string;
	return n;
}

void vt_mnode_append(struct vt_mnode *p, const char *key, unsigned key_line,
    struct vt_mnode *item)
{
	p->items = vt_xrealloc(p->items, (p->n + 1) * sizeof *p->items);
	p->items[p->n] = item;
	if (p->type == VT_MNODE_MAP) {
		p->keys = vt_xrealloc(p->keys, (p->n + 1) * sizeof *p->keys);
		p->key_lines = vt_xrealloc(p->key_lines,
		    (p->n + 1) * sizeof *p->key_lines);
		p->keys[p->n] = vt_xstrdup(key ? key : "");
		p->key_lines[p->n] = key_line;
	}
	p->n++;
}

void vt_mnode_free(struct vt_mnode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++) {
		vt_mnode_free(n->items[i]);
		if (n->keys)
			free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->key_lines);
	free(n->text);
	free(n);
}

/* ---- templates: "$1", "${2}_total" ------------------------------------ */

struct tpart {
	int capture;              /* -1: literal */
	size_t off, len;          /* literal: bytes of text */
};

struct vt_map_tmpl {
	char *text;
	size_t nparts;
	struct tpart *parts;
};

static void tmpl_free(struct vt_map_tmpl *t)
{
	if (t == NULL)
		return;
	free(t->text);
	free(t->parts);
	free(t);
}

static void tmpl_push(struct vt_map_tmpl *t, int capture, size_t off,
    size_t len)
{
	if (capture < 0 && len == 0)
		return;
	t->parts = vt_xrealloc(t->parts, (t->nparts + 1) * sizeof *t->parts);
	t->parts[t->nparts++] = (struct tpart){ capture, off, len };
}

/* Compile text; a reference past ncaptures is an error (-1, *bad set).
 * "$N" takes every digit that follows; "${N}" is the same, delimited; a
 * '$' not followed by either is literal. */
static struct vt_map_tmpl *tmpl_compile(const char *text, size_t ncaptures,
    long *bad)
{
	struct vt_map_tmpl *t = vt_xcalloc(1, sizeof *t);
	size_t lit = 0, i = 0, n = strlen(text);
	t->text = vt_xstrdup(text);
	while (i < n) {
		if (text[i] != '$') {
			i++;
			continue;
		}
		size_t j = i + 1, end;
		int braced = j < n && text[j] == '{';
		if (braced)
			j++;
		size_t d = j;
		while (j < n && text[j] >= '0' && text[j] <= '9' && j - d < 4)
			j++;
		if (j == d || (braced && (j >= n || text[j] != '}'))) {
			i++;
			continue;           /* a literal '$' */
		}
		end = braced ? j + 1 : j;
		long num = strtol(text + d, NULL, 10);
		if ((size_t)num > ncaptures) {
			*bad = num;
			tmpl_free(t);
			return NULL;
		}
		tmpl_push(t, -1, lit, i - lit);
		tmpl_push(t, (int)num, 0, 0);
		i = lit = end;
	}
	tmpl_push(t, -1, lit, n - lit);
	return t;
}

/* Expand into out (at most cap bytes); returns the length, or cap + 1
 * when it does not fit. cap[0] is the whole name. */
static size_t tmpl_expand(const struct vt_map_tmpl *t,
    const struct vt_slice *caps, char *out, size_t cap)
{
	size_t len = 0;
	for (size_t i = 0; i < t->nparts; i++) {
		const struct tpart *p = &t->parts[i];
		const char *src = p->capture < 0 ? t->text + p->off :
		    caps[p->capture].ptr;
		size_t n = p->capture < 0 ? p->len : caps[p->capture].len;
		if (len + n > cap)
			return cap + 1;
		if (n)
			memcpy(out + len, src, n);
		len += n;
	}
	return len;
}

/* ---- the glob trie ---------------------------------------------------- */

struct gnode {
	uint32_t star;            /* child by '*'; 0: none */
	uint32_t min_rule;        /* lowest rule index below (pruning) */
	uint32_t nterm;
	uint32_t *term;           /* rules ending here, ascending */
};

struct gedge {
	uint64_t hash;
	uint32_t parent, child;   /* child 0: empty slot */
	uint32_t len;
	char *comp;
};

/* ---- the cache -------------------------------------------------------- */

struct cres {                 /* one remembered answer, compact */
	uint64_t hash;
	const struct vt_map_rule *rule;   /* NULL: no rule matches */
	uint32_t kind;
	uint32_t name_len;
	uint16_t len[2 + VT_MAP_MAX_LABELS]; /* name, service, label values */
	char data[];              /* the name, then those strings */
};

struct cset {
	struct cres *way[CACHE_WAYS];
	unsigned next;            /* the way to replace next */
};

struct gsearch {
	const struct vt_slice *comp;
	size_t ncomp;
	unsigned kindbit;
	uint32_t best;
	int done;
	size_t ncap;
	struct vt_slice cap[MAX_COMPONENTS];
	struct vt_slice best_cap[MAX_COMPONENTS];
	size_t best_ncap;
};

struct vt_mapping {
	size_t nrules;
	struct vt_map_rule **rules;
	int unordered;            /* defaults.glob_disable_ordering */
	int has_unmapped;         /* some defaults set observer_type */
	struct vt_map_rule unmapped;  /* its observer and buckets */
	size_t nglob, nregex;
	uint32_t *regex_rules;    /* indices, in order */
	struct gnode *nodes;
	size_t nnodes;
	struct gedge *edges;
	size_t edge_mask, nedges;
	struct cset *cache;       /* VT_MAP_CACHE_SETS, allocated on first use */
	uint64_t hits, misses;
	struct vt_map_result result;  /* the last answer */
	struct gsearch *search;   /* the glob walk's state */
	char scratch[(2 + VT_MAP_MAX_LABELS) * (VT_NAME_MAX + 1)];
};

vt_mapping *vt_mapping_create(void)
{
	vt_mapping *m = vt_xcalloc(1, sizeof *m);
	m->nodes = vt_xcalloc(1, sizeof *m->nodes);
	m->nodes[0].min_rule = NO_RULE;
	m->nnodes = 1;
	m->edge_mask = 63;
	m->edges = vt_xcalloc(m->edge_mask + 1, sizeof *m->edges);
	m->search = vt_xcalloc(1, sizeof *m->search);
	return m;
}

static void rule_free(struct vt_map_rule *r)
{
	if (r == NULL)
		return;
	if (r->re) {
		regfree(r->re);
		free(r->re);
	}
	free(r->where);
	free(r->match);
	tmpl_free(r->name);
	tmpl_free(r->service);
	for (size_t i = 0; i < r->nlabels; i++) {
		free(r->label_keys[i]);
		tmpl_free(r->label_values[i]);
	}
	free(r->label_keys);
	free(r->label_values);
	free(r->help);
	free(r);
}

static void cache_clear(vt_mapping *m)
{
	if (m->cache == NULL)
		return;
	for (size_t i = 0; i < VT_MAP_CACHE_SETS; i++)
		for (size_t w = 0; w < CACHE_WAYS; w++) {
			free(m->cache[i].way[w]);
			m->cache[i].way[w] = NULL;
		}
}

void vt_mapping_destroy(vt_mapping *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nrules; i++)
		rule_free(m->rules[i]);
	free(m->rules);
	free(m->regex_rules);
	for (size_t i = 0; i < m->nnodes; i++)
		free(m->nodes[i].term);
	free(m->nodes);
	for (size_t i = 0; i <= m->edge_mask; i++)
		free(m->edges[i].comp);
	free(m->edges);
	cache_clear(m);
	free(m->cache);
	free(m->search);
	free(m);
}

size_t vt_mapping_rules(const vt_mapping *m)
{
	return m->nrules;
}

const struct vt_map_rule *vt_mapping_rule(const vt_mapping *m, size_t i)
{
	return i < m->nrules ? m->rules[i] : NULL;
}

void vt_mapping_stats(const vt_mapping *m, uint64_t *hits, uint64_t *misses)
{
	*hits = m->hits;
	*misses = m->misses;
}

static uint64_t edge_hash(uint32_t parent, const char *comp, size_t len)
{
	return vt_hash(comp, len, EDGE_SEED ^ ((uint64_t)parent << 20));
}

static uint32_t edge_find(const vt_mapping *m, uint32_t parent,
    const char *comp, size_t len)
{
	uint64_t h = edge_hash(parent, comp, len);
	for (size_t i = h & m->edge_mask;; i = (i + 1) & m->edge_mask) {
		const struct gedge *e = &m->edges[i];
		if (e->child == 0)
			return 0;
		if (e->hash == h && e->parent == parent && e->len == len &&
		    memcmp(e->comp, comp, len) == 0)
			return e->child;
	}
}

static void edge_put(struct gedge *edges, size_t mask, struct gedge e)
{
	size_t i = e.hash & mask;
	while (edges[i].child)
		i = (i + 1) & mask;
	edges[i] = e;
}

static uint32_t node_new(vt_mapping *m)
{
	m->nodes = vt_xrealloc(m->nodes, (m->nnodes + 1) * sizeof *m->nodes);
	m->nodes[m->nnodes] = (struct gnode){ 0, NO_RULE, 0, NULL };
	return (uint32_t)m->nnodes++;
}

static uint32_t edge_add(vt_mapping *m, uint32_t parent, const char *comp,
    size_t len)
{
	uint32_t child = edge_find(m, parent, comp, len);
	if (child)
		return child;
	if ((m->nedges + 1) * 2 > m->edge_mask + 1) {
		size_t n = (m->edge_mask + 1) * 2;
		struct gedge *e = vt_xcalloc(n, sizeof *e);
		for (size_t i = 0; i <= m->edge_mask; i++)
			if (m->edges[i].child)
				edge_put(e, n - 1, m->edges[i]);
		free(m->edges);
		m->edges = e;
		m->edge_mask = n - 1;
	}
	child = node_new(m);
	edge_put(m->edges, m->edge_mask, (struct gedge){
	    edge_hash(parent, comp, len), parent, child, (uint32_t)len,
	    vt_xstrndup(comp, len) });
	m->nedges++;
	return child;
}

/* The rule's path through the trie, created as needed. */
static void glob_insert(vt_mapping *m, const struct vt_map_rule *r)
{
	uint32_t node = 0;
	const char *p = r->match;
	for (;;) {
		if (m->nodes[node].min_rule == NO_RULE)
			m->nodes[node].min_rule = r->index;
		size_t len = strcspn(p, ".");
		if (len == 1 && p[0] == '*') {
			if (m->nodes[node].star == 0) {
				uint32_t c = node_new(m);
				m->nodes[node].star = c;
			}
			node = m->nodes[node].star;
		} else {
			node = edge_add(m, node, p, len);
		}
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	struct gnode *g = &m->nodes[node];
	if (g->min_rule == NO_RULE)
		g->min_rule = r->index;
	g->term = vt_xrealloc(g->term, (g->nterm + 1) * sizeof *g->term);
	g->term[g->nterm++] = r->index;
}


static void glob_walk(const vt_mapping *m, struct gsearch *s, uint32_t node,
    size_t i)
{
	const struct gnode *g = &m->nodes[node];
	if (s->done || g->min_rule >= s->best)
		return;
	if (i == s->ncomp) {
		for (uint32_t t = 0; t < g->nterm; t++) {
			uint32_t r = g->term[t];
			if (!(m->rules[r]->kinds & s->kindbit))
				continue;
			if (r < s->best) {
				s->best = r;
				s->best_ncap = s->ncap;
				memcpy(s->best_cap, s->cap,
				    s->ncap * sizeof *s->cap);
			}
			s->done = m->unordered;
			break;
		}
		return;
	}
	uint32_t child = edge_find(m, node, s->comp[i].ptr, s->comp[i].len);
	if (child)
		glob_walk(m, s, child, i + 1);
	if (g->star) {
		s->cap[s->ncap++] = s->comp[i];
		glob_walk(m, s, g->star, i + 1);
		s->ncap--;
	}
}

/* ---- the schema ------------------------------------------------------- */

struct ctx {
	const char *file;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, unsigned line, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct ctx *c, unsigned line, const char *key,
    const char *fmt, ...)
{
	char why[VT_ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (line)
		snprintf(c->err, c->errlen, "vitalsd: %s:%u: %s: %s", c->file,
		    line, key, why);
	else
		snprintf(c->err, c->errlen, "vitalsd: %s: %s: %s", c->file,
		    key, why);
	/* One line: keys and values quoted from the file may hold
	 * control characters. */
	for (char *p = c->err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

static const char *type_name(const struct vt_mnode *n)
{
	if (n->type == VT_MNODE_MAP)
		return "a mapping of keys";
	if (n->type == VT_MNODE_SEQ)
		return "a list";
	return n->is_string ? "a string" : "a scalar";
}

/* What one document's defaults say. */
struct defaults {
	int regex;
	enum vt_map_observer observer;
	size_t nbuckets;
	double buckets[VT_MAP_MAX_BUCKETS];
	size_t nquantiles;
	double quantiles[VT_MAP_MAX_QUANTILES];
	double quantile_errors[VT_MAP_MAX_QUANTILES];
	double ttl;
	int unordered;
};

/* statsd_exporter's own defaults (client_golang's DefBuckets; 0.5, 0.9
 * and 0.99). */
static const double def_buckets[] = { .005, .01, .025, .05, .1, .25, .5,
	1, 2.5, 5, 10 };
static const double def_quantiles[] = { 0.5, 0.9, 0.99 };
static const double def_errors[] = { 0.05, 0.01, 0.001 };

static int scalar(struct ctx *c, const struct vt_mnode *n, unsigned line,
    const char *key)
{
	if (n->type != VT_MNODE_SCALAR)
		return fail(c, line, key, "expected a value, got %s",
		    type_name(n));
	return 0;
}

static int get_string(struct ctx *c, const struct vt_mnode *n,
    unsigned line, const char *key, const char **out)
{
	if (scalar(c, n, line, key) < 0)
		return -1;
	*out = n->text;
	return 0;
}

static int get_number(struct ctx *c, const struct vt_mnode *n,
    unsigned line, const char *key, double *out)
{
	char *end;
	if (scalar(c, n, line, key) < 0)
		return -1;
	double v = strtod(n->text, &end);
	if (end == n->text || *end != '\0' || !isfinite(v))
		return fail(c, line, key, "expected a number, got \"%.40s\"",
		    n->text);
	*out = v;
	return 0;
}

static int get_bool(struct ctx *c, const struct vt_mnode *n, unsigned line,
    const char *key, int *out)
{
	if (scalar(c, n, line, key) < 0)
		return -1;
	if (strcmp(n->text, "true") == 0)
		*out = 1;
	else if (strcmp(n->text, "false") == 0)
		*out = 0;
	else
		return fail(c, line, key, "expected true or false, got "
		    "\"%.40s\"", n->text);
	return 0;
}

/* A Go duration ("1m30s", "500ms", "0") or a vitals one ("7d"). */
static int parse_go_duration(const char *s, double *out)
{
	static const struct { const char *u; double f; } units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "\xc2\xb5s", 1e-6 },
		{ "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
		{ "d", 86400 }, { "w", 604800 },
	};
	double total = 0;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s) {
		char *end;
		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			return -1;
		double v = strtod(s, &end);
		if (end == s)
			return -1;
		s = end;
		size_t best = 0, bi = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			size_t n = strlen(units[i].u);
			if (strncmp(s, units[i].u, n) == 0 && n > best) {
				best = n;
				bi = i;
			}
		}
		if (best == 0)
			return -1;
		total += v * units[bi].f;
		s += best;
	}
	if (!isfinite(total))
		return -1;
	*out = total;
	return 0;
}

static int get_ttl(struct ctx *c, const struct vt_mnode *n, unsigned line,
    const char *key, double *out)
{
	if (scalar(c, n, line, key) < 0)
		return -1;
	if (parse_go_duration(n->text, out) < 0)
		return fail(c, line, key, "expected a duration such as "
		    "\"30s\", \"1m30s\" or 0, got \"%.40s\"", n->text);
	if (*out != 0 && (*out < 1 || *out > 366 * 86400.0))
		return fail(c, line, key, "must be 0 (the metric_ttl) or "
		    "between 1s and 366d");
	return 0;
}

static int get_buckets(struct ctx *c, const struct vt_mnode *n,
    unsigned line, const char *key, double *b, size_t *nb)
{
	char k[96];
	if (n->type != VT_MNODE_SEQ)
		return fail(c, line, key, "expected a list of numbers, got %s",
		    type_name(n));
	if (n->n == 0 || n->n > VT_MAP_MAX_BUCKETS)
		return fail(c, line, key, "expected 1 to %d buckets, got %zu",
		    VT_MAP_MAX_BUCKETS, n->n);
	for (size_t i = 0; i < n->n; i++) {
		unsigned l = n->items[i]->line ? n->items[i]->line : line;
		snprintf(k, sizeof k, "%s[%zu]", key, i);
		if (get_number(c, n->items[i], l, k, &b[i]) < 0)
			return -1;
		if (i > 0 && b[i] <= b[i - 1])
			return fail(c, l, k, "buckets must be ascending");
	}
	*nb = n->n;
	return 0;
}

static int get_quantiles(struct ctx *c, const struct vt_mnode *n,
    unsigned line, const char *key, double *q, double *e, size_t *nq)
{
	char k[96];
	if (n->type != VT_MNODE_SEQ)
		return fail(c, line, key, "expected a list of {quantile, "
		    "error}, got %s", type_name(n));
	if (n->n == 0 || n->n > VT_MAP_MAX_QUANTILES)
		return fail(c, line, key, "expected 1 to %d quantiles, got "
		    "%zu", VT_MAP_MAX_QUANTILES, n->n);
	for (size_t i = 0; i < n->n; i++) {
		const struct vt_mnode *it = n->items[i];
		unsigned l = it->line ? it->line : line;
		int have_q = 0;
		e[i] = 0;
		if (it->type != VT_MNODE_MAP) {
			snprintf(k, sizeof k, "%s[%zu]", key, i);
			return fail(c, l, k, "expected {quantile: 0.99, "
			    "error: 0.001}, got %s", type_name(it));
		}
		for (size_t j = 0; j < it->n; j++) {
			unsigned kl = it->key_lines[j] ? it->key_lines[j] : l;
			snprintf(k, sizeof k, "%s[%zu].%.20s", key, i,
			    it->keys[j]);
			if (strcmp(it->keys[j], "quantile") == 0) {
				if (get_number(c, it->items[j], kl, k,
				    &q[i]) < 0)
					return -1;
				if (!(q[i] > 0 && q[i] < 1))
					return fail(c, kl, k, "must be "
					    "between 0 and 1");
				have_q = 1;
			} else if (strcmp(it->keys[j], "error") == 0) {
				if (get_number(c, it->items[j], kl, k,
				    &e[i]) < 0)
					return -1;
				if (!(e[i] >= 0 && e[i] < 1))
					return fail(c, kl, k, "must be in "
					    "[0, 1)");
			} else {
				return fail(c, kl, k, "unknown key");
			}
		}
		if (!have_q) {
			snprintf(k, sizeof k, "%s[%zu]", key, i);
			return fail(c, l, k, "missing \"quantile\"");
		}
	}
	*nq = n->n;
	return 0;
}

/* Keys statsd_exporter knows that vitalsd refuses. */
static int unsupported(const char *key)
{
	static const char *const keys[] = {
		"scale", "max_age", "age_buckets", "buf_cap",
		"max_summary_age", "summary_age_buckets", "stream_buffer_size",
		"native_histogram_bucket_factor",
		"native_histogram_max_buckets", NULL
	};
	for (size_t i = 0; keys[i]; i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

static int get_observer(struct ctx *c, const struct vt_mnode *n,
    unsigned line, const char *key, enum vt_map_observer *out)
{
	const char *s;
	if (get_string(c, n, line, key, &s) < 0)
		return -1;
	if (strcmp(s, "summary") == 0)
		*out = VT_MAP_OBSERVER_SUMMARY;
	else if (strcmp(s, "histogram") == 0)
		*out = VT_MAP_OBSERVER_HISTOGRAM;
	else if (s[0] == '\0')
		*out = VT_MAP_OBSERVER_DEFAULT;
	else
		return fail(c, line, key, "expected \"summary\" or "
		    "\"histogram\", got \"%.40s\"", s);
	return 0;
}

static int get_match_type(struct ctx *c, const struct vt_mnode *n,
    unsigned line, const char *key, int *regex)
{
	const char *s;
	if (get_string(c, n, line, key, &s) < 0)
		return -1;
	if (strcmp(s, "glob") == 0 || s[0] == '\0')
		*regex = 0;
	else if (strcmp(s, "regex") == 0)
		*regex = 1;
	else
		return fail(c, line, key, "expected \"glob\" or \"regex\", "
		    "got \"%.40s\"", s);
	return 0;
}

/* The options shared by defaults and rules; 1 when key was one of them,
 * 0 when not, -1 on error. seen: bits of what was given. */
enum { SEEN_OBS = 1, SEEN_BUCKETS = 2, SEEN_HOPT = 4, SEEN_QUANT = 8,
	SEEN_SOPT = 16, SEEN_TTL = 32, SEEN_MTYPE = 64 };

struct opts {
	unsigned seen;
	int regex;
	enum vt_map_observer observer;
	size_t nbuckets, nquantiles;
	double buckets[VT_MAP_MAX_BUCKETS];
	double quantiles[VT_MAP_MAX_QUANTILES];
	double quantile_errors[VT_MAP_MAX_QUANTILES];
	double ttl;
};

static int sub_options(struct ctx *c, const struct vt_mnode *n,
    unsigned line, const char *key, struct opts *o, int histogram)
{
	char k[96];
	if (n->type != VT_MNODE_MAP)
		return fail(c, line, key, "expected a mapping of keys, got %s",
		    type_name(n));
	for (size_t j = 0; j < n->n; j++) {
		unsigned kl = n->key_lines[j] ? n->key_lines[j] : line;
		snprintf(k, sizeof k, "%s.%.30s", key, n->keys[j]);
		if (histogram && strcmp(n->keys[j], "buckets") == 0) {
			if (get_buckets(c, n->items[j], kl, k, o->buckets,
			    &o->nbuckets) < 0)
				return -1;
		} else if (!histogram && strcmp(n->keys[j], "quantiles") == 0) {
			if (get_quantiles(c, n->items[j], kl, k, o->quantiles,
			    o->quantile_errors, &o->nquantiles) < 0)
				return -1;
		} else if (unsupported(n->keys[j])) {
			return fail(c, kl, k, "not supported by vitalsd (see "
			    "docs/wire-formats.md, \"Mapping rules\")");
		} else {
			return fail(c, kl, k, "unknown key");
		}
	}
	return 0;
}

static int common_option(struct ctx *c, const char *name,
    const struct vt_mnode *v, unsigned line, const char *key,
    struct opts *o)
{
	if (strcmp(name, "match_type") == 0)
		return get_match_type(c, v, line, key, &o->regex) < 0 ? -1 : 1;
	if (strcmp(name, "observer_type") == 0 ||
	    strcmp(name, "timer_type") == 0) {
		if (o->seen & SEEN_OBS)
			return fail(c, line, key, "observer_type and its old "
			    "name timer_type given both");
		o->seen |= SEEN_OBS;
		return get_observer(c, v, line, key, &o->observer) < 0 ? -1 : 1;
	}
	if (strcmp(name, "buckets") == 0 ||
	    strcmp(name, "histogram_options") == 0) {
		if (o->seen & (SEEN_BUCKETS | SEEN_HOPT))
			return fail(c, line, key, "buckets given both at the "
			    "top and in histogram_options");
		if (name[0] == 'b') {
			o->seen |= SEEN_BUCKETS;
			return get_buckets(c, v, line, key, o->buckets,
			    &o->nbuckets) < 0 ? -1 : 1;
		}
		o->seen |= SEEN_HOPT;
		return sub_options(c, v, line, key, o, 1) < 0 ? -1 : 1;
	}
	if (strcmp(name, "quantiles") == 0 ||
	    strcmp(name, "summary_options") == 0) {
		if (o->seen & (SEEN_QUANT | SEEN_SOPT))
			return fail(c, line, key, "quantiles given both at "
			    "the top and in summary_options");
		if (name[0] == 'q') {
			o->seen |= SEEN_QUANT;
			return get_quantiles(c, v, line, key, o->quantiles,
			    o->quantile_errors, &o->nquantiles) < 0 ? -1 : 1;
		}
		o->seen |= SEEN_SOPT;
		return sub_options(c, v, line, key, o, 0) < 0 ? -1 : 1;
	}
	if (strcmp(name, "ttl") == 0) {
		o->seen |= SEEN_TTL;
		return get_ttl(c, v, line, key, &o->ttl) < 0 ? -1 : 1;
	}
	return 0;
}

static int parse_defaults(struct ctx *c, const struct vt_mnode *n,
    unsigned line, const char *prefix, struct defaults *d)
{
	char k[128];
	struct opts o;
	memset(&o, 0, sizeof o);
	if (n->type != VT_MNODE_MAP) {
		snprintf(k, sizeof k, "%sdefaults", prefix);
		return fail(c, line, k, "expected a mapping of keys, got %s",
		    type_name(n));
	}
	for (size_t j = 0; j < n->n; j++) {
		unsigned kl = n->key_lines[j] ? n->key_lines[j] : line;
		snprintf(k, sizeof k, "%sdefaults.%.40s", prefix, n->keys[j]);
		int rc = common_option(c, n->keys[j], n->items[j], kl, k, &o);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		if (strcmp(n->keys[j], "glob_disable_ordering") == 0) {
			if (get_bool(c, n->items[j], kl, k, &d->unordered) < 0)
				return -1;
		} else if (unsupported(n->keys[j])) {
			return fail(c, kl, k, "not supported by vitalsd (see "
			    "docs/wire-formats.md, \"Mapping rules\")");
		} else {
			return fail(c, kl, k, "unknown key");
		}
	}
	d->regex = o.regex;
	d->observer = o.observer;
	d->ttl = o.ttl;
	if (o.nbuckets) {
		d->nbuckets = o.nbuckets;
		memcpy(d->buckets, o.buckets, sizeof o.buckets);
	}
	if (o.nquantiles) {
		d->nquantiles = o.nquantiles;
		memcpy(d->quantiles, o.quantiles, sizeof o.quantiles);
		memcpy(d->quantile_errors, o.quantile_errors,
		    sizeof o.quantile_errors);
	}
	return 0;
}

static int label_name_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	    *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* A glob: dot-separated components, each non-empty and either "*" or
 * free of '*'. Returns the number of '*', or -1. */
static long glob_check(const char *g, const char **why)
{
	long stars = 0;
	const char *p = g;
	for (;;) {
		size_t len = strcspn(p, ".");
		if (len == 0) {
			*why = "an empty component (\"a..b\", a leading or "
			    "trailing '.')";
			return -1;
		}
		if (memchr(p, '*', len) != NULL) {
			if (len != 1) {
				*why = "a '*' must be a whole dot-separated "
				    "component (\"a.*.b\", not \"a*.b\")";
				return -1;
			}
			stars++;
		}
		if (p[len] == '\0')
			return stars;
		p += len + 1;
	}
}

static int kinds_of(const char *s, unsigned *kinds)
{
	if (strcmp(s, "counter") == 0)
		*kinds = 1u << VT_COUNTER;
	else if (strcmp(s, "gauge") == 0)
		*kinds = 1u << VT_GAUGE;
	else if (strcmp(s, "observer") == 0 || strcmp(s, "timer") == 0)
		*kinds = (1u << VT_TIMER) | (1u << VT_HISTOGRAM);
	else if (s[0] == '\0')
		*kinds = (1u << VT_KIND_COUNT) - 1;
	else
		return -1;
	return 0;
}

static struct vt_map_tmpl *compile_or_fail(struct ctx *c, const char *text,
    size_t ncap, unsigned line, const char *key)
{
	long bad = 0;
	struct vt_map_tmpl *t = tmpl_compile(text, ncap, &bad);
	if (t == NULL)
		fail(c, line, key, "refers to $%ld, but the match has %zu "
		    "capture%s", bad, ncap, ncap == 1 ? "" : "s");
	return t;
}

static struct vt_map_rule *parse_rule(struct ctx *c,
    const struct vt_mnode *n, unsigned line, const char *prefix, size_t idx,
    const struct defaults *d)
{
	char k[320], at[160];
	struct opts o;
	const char *match = NULL, *name = NULL, *service = NULL, *help = NULL;
	const char *action = "map", *mtype = "";
	const struct vt_mnode *labels = NULL;
	unsigned match_line = line, name_line = line, labels_line = line;
	unsigned service_line = line;
	struct vt_map_rule *r = NULL;

	memset(&o, 0, sizeof o);
	o.regex = d->regex;
	snprintf(at, sizeof at, "%smappings[%zu]", prefix, idx);
	if (n->type != VT_MNODE_MAP) {
		fail(c, line, at, "expected a rule (a mapping of keys such as "
		    "match and name), got %s", type_name(n));
		return NULL;
	}
	for (size_t j = 0; j < n->n; j++) {
		const char *key = n->keys[j];
		const struct vt_mnode *v = n->items[j];
		unsigned kl = n->key_lines[j] ? n->key_lines[j] : line;
		snprintf(k, sizeof k, "%s.%.40s", at, key);
		int rc = common_option(c, key, v, kl, k, &o);
		if (rc < 0)
			return NULL;
		if (rc > 0)
			continue;
		int bad = 0;
		if (strcmp(key, "match") == 0) {
			bad = get_string(c, v, kl, k, &match);
			match_line = kl;
		} else if (strcmp(key, "name") == 0) {
			bad = get_string(c, v, kl, k, &name);
			name_line = kl;
		} else if (strcmp(key, "service") == 0) {
			bad = get_string(c, v, kl, k, &service);
			service_line = kl;
		} else if (strcmp(key, "help") == 0) {
			bad = get_string(c, v, kl, k, &help);
		} else if (strcmp(key, "action") == 0) {
			bad = get_string(c, v, kl, k, &action);
			if (!bad && strcmp(action, "map") != 0 &&
			    strcmp(action, "drop") != 0 && action[0] != '\0') {
				fail(c, kl, k, "expected \"map\" or \"drop\", "
				    "got \"%.40s\"", action);
				return NULL;
			}
		} else if (strcmp(key, "match_metric_type") == 0) {
			unsigned dummy;
			bad = get_string(c, v, kl, k, &mtype);
			if (!bad && kinds_of(mtype, &dummy) < 0) {
				fail(c, kl, k, "expected \"counter\", \"gauge\" "
				    "or \"observer\", got \"%.40s\"", mtype);
				return NULL;
			}
		} else if (strcmp(key, "labels") == 0) {
			labels = v;
			labels_line = kl;
			if (v->type != VT_MNODE_MAP) {
				fail(c, kl, k, "expected a mapping of label "
				    "names to values, got %s", type_name(v));
				return NULL;
			}
		} else if (unsupported(key)) {
			fail(c, kl, k, "not supported by vitalsd (see "
			    "docs/wire-formats.md, \"Mapping rules\")");
			return NULL;
		} else {
			fail(c, kl, k, "unknown key");
			return NULL;
		}
		if (bad)
			return NULL;
	}
	int drop = strcmp(action, "drop") == 0;
	snprintf(k, sizeof k, "%s.match", at);
	if (match == NULL || match[0] == '\0') {
		fail(c, line, match ? k : at, "a rule needs a \"match\"");
		return NULL;
	}
	snprintf(k, sizeof k, "%s.name", at);
	if (!drop && (name == NULL || name[0] == '\0')) {
		fail(c, name ? name_line : line, name ? k : at,
		    "a rule needs a \"name\" (unless its action is drop)");
		return NULL;
	}

	r = vt_xcalloc(1, sizeof *r);
	snprintf(k, sizeof k, "%s:%u", c->file, line);
	r->where = vt_xstrdup(line ? k : at);
	r->match = vt_xstrdup(match);
	r->is_regex = o.regex;
	r->action = drop ? VT_MAP_DROP : VT_MAP_MAP;
	kinds_of(mtype, &r->kinds);
	snprintf(k, sizeof k, "%s.match", at);
	if (o.regex) {
		regex_t *re = vt_xcalloc(1, sizeof *re);
		int rc = regcomp(re, match, REG_EXTENDED);
		if (rc != 0) {
			char msg[128];
			regerror(rc, re, msg, sizeof msg);
			free(re);
			fail(c, match_line, k, "not a POSIX extended regular "
			    "expression: %s", msg);
			goto bad;
		}
		r->re = re;
		r->ncaptures = re->re_nsub;
		if (r->ncaptures >= MAX_CAPTURES) {
			fail(c, match_line, k, "more than %d groups",
			    MAX_CAPTURES - 1);
			goto bad;
		}
	} else {
		const char *why;
		long stars = glob_check(match, &why);
		if (stars < 0) {
			fail(c, match_line, k, "%s", why);
			goto bad;
		}
		r->ncaptures = (size_t)stars;
	}
	if (name && name[0]) {
		snprintf(k, sizeof k, "%s.name", at);
		if ((r->name = compile_or_fail(c, name, r->ncaptures,
		    name_line, k)) == NULL)
			goto bad;
	}
	if (service) {
		snprintf(k, sizeof k, "%s.service", at);
		if ((r->service = compile_or_fail(c, service, r->ncaptures,
		    service_line, k)) == NULL)
			goto bad;
	}
	if (labels) {
		r->label_keys = vt_xcalloc(labels->n + 1, sizeof(char *));
		r->label_values = vt_xcalloc(labels->n + 1, sizeof(void *));
		for (size_t j = 0; j < labels->n; j++) {
			const char *lk = labels->keys[j];
			unsigned kl = labels->key_lines[j] ?
			    labels->key_lines[j] : labels_line;
			const char *lv;
			snprintf(k, sizeof k, "%s.labels.%.40s", at, lk);
			if (!label_name_ok(lk)) {
				fail(c, kl, k, "not a label name "
				    "([a-zA-Z_][a-zA-Z0-9_]*)");
				goto bad;
			}
			for (size_t i = 0; i < j; i++)
				if (strcmp(labels->keys[i], lk) == 0) {
					fail(c, kl, k, "given twice");
					goto bad;
				}
			if (get_string(c, labels->items[j], kl, k, &lv) < 0)
				goto bad;
			struct vt_map_tmpl *t = compile_or_fail(c, lv,
			    r->ncaptures, kl, k);
			if (t == NULL)
				goto bad;
			if (strcmp(lk, "service") == 0) {
				if (r->service) {
					tmpl_free(t);
					fail(c, kl, k, "the service is named "
					    "twice (the rule's service and "
					    "this label)");
					goto bad;
				}
				r->service = t;
				continue;
			}
			if (r->nlabels == VT_MAP_MAX_LABELS) {
				tmpl_free(t);
				fail(c, kl, k, "more than %d labels",
				    VT_MAP_MAX_LABELS);
				goto bad;
			}
			r->label_keys[r->nlabels] = vt_xstrdup(lk);
			r->label_values[r->nlabels++] = t;
		}
	}
	if (help)
		r->help = vt_xstrdup(help);

	/* observer, buckets, quantiles, ttl: the rule's, else the
	 * document's defaults, else statsd_exporter's. */
	r->observer = (o.seen & SEEN_OBS) ? o.observer : d->observer;
	if (r->observer == VT_MAP_OBSERVER_DEFAULT)
		r->observer = d->observer;
	if (o.nbuckets) {
		r->nbuckets = o.nbuckets;
		memcpy(r->buckets, o.buckets, sizeof o.buckets);
	} else if (d->nbuckets) {
		r->nbuckets = d->nbuckets;
		memcpy(r->buckets, d->buckets, sizeof d->buckets);
	} else {
		r->nbuckets = sizeof def_buckets / sizeof def_buckets[0];
		memcpy(r->buckets, def_buckets, sizeof def_buckets);
	}
	if (o.nquantiles) {
		r->nquantiles = o.nquantiles;
		memcpy(r->quantiles, o.quantiles, sizeof o.quantiles);
		memcpy(r->quantile_errors, o.quantile_errors,
		    sizeof o.quantile_errors);
	} else if (d->nquantiles) {
		r->nquantiles = d->nquantiles;
		memcpy(r->quantiles, d->quantiles, sizeof d->quantiles);
		memcpy(r->quantile_errors, d->quantile_errors,
		    sizeof d->quantile_errors);
	} else {
		r->nquantiles = sizeof def_quantiles / sizeof def_quantiles[0];
		memcpy(r->quantiles, def_quantiles, sizeof def_quantiles);
		memcpy(r->quantile_errors, def_errors, sizeof def_errors);
	}
	if (r->observer == VT_MAP_OBSERVER_HISTOGRAM &&
	    (o.seen & (SEEN_SOPT | SEEN_QUANT))) {
		fail(c, line, at, "a histogram rule with summary options");
		goto bad;
	}
	if (r->observer == VT_MAP_OBSERVER_SUMMARY &&
	    (o.seen & (SEEN_HOPT | SEEN_BUCKETS))) {
		fail(c, line, at, "a summary rule with histogram options");
		goto bad;
	}
	r->ttl = (o.seen & SEEN_TTL) && o.ttl > 0 ? o.ttl : d->ttl;
	return r;
bad:
	rule_free(r);
	return NULL;
}

int vt_mapping_add_doc(vt_mapping *m, const struct vt_mnode *doc,
    const char *file, const char *prefix, char *err, size_t errlen)
{
	struct ctx c = { file, err, errlen };
	struct defaults d;
	const struct vt_mnode *rules = NULL;
	unsigned rules_line = doc ? doc->line : 0;
	char pfx[64], k[128];

	memset(&d, 0, sizeof d);
	snprintf(pfx, sizeof pfx, "%s%s", prefix, prefix[0] ? "." : "");
	if (doc == NULL)
		return 0;
	if (doc->type == VT_MNODE_SEQ) {
		rules = doc;
		snprintf(pfx, sizeof pfx, "%s", "");
	} else if (doc->type == VT_MNODE_MAP) {
		for (size_t j = 0; j < doc->n; j++) {
			unsigned kl = doc->key_lines[j];
			snprintf(k, sizeof k, "%s%.40s", pfx, doc->keys[j]);
			if (strcmp(doc->keys[j], "defaults") == 0) {
				if (parse_defaults(&c, doc->items[j], kl, pfx,
				    &d) < 0)
					return -1;
			} else if (strcmp(doc->keys[j], "mappings") == 0) {
				rules = doc->items[j];
				rules_line = kl;
				if (rules->type != VT_MNODE_SEQ &&
				    !(rules->type == VT_MNODE_SCALAR &&
				    !rules->is_string && (strcmp(rules->text,
				    "") == 0 || strcmp(rules->text, "null") ==
				    0)))
					return fail(&c, kl, k, "expected a list "
					    "of rules, got %s",
					    type_name(rules));
				if (rules->type != VT_MNODE_SEQ)
					rules = NULL;
			} else {
				return fail(&c, kl, k, unsupported(doc->keys[j])
				    ? "not supported by vitalsd" :
				    "unknown key (a mapping file holds "
				    "\"defaults\" and \"mappings\")");
			}
		}
	} else if (!(doc->type == VT_MNODE_SCALAR && !doc->is_string &&
	    (doc->text[0] == '\0' || strcmp(doc->text, "null") == 0))) {
		return fail(&c, doc->line, prefix[0] ? prefix : "(top)",
		    "expected a mapping file (\"mappings\": a list of rules), "
		    "got %s", type_name(doc));
	}

	size_t n = rules ? rules->n : 0;
	if (m->nrules + n > VT_MAP_MAX_RULES)
		return fail(&c, rules_line, "mappings", "more than %d rules",
		    VT_MAP_MAX_RULES);
	struct vt_map_rule **parsed = vt_xcalloc(n + 1, sizeof *parsed);
	for (size_t i = 0; i < n; i++) {
		const struct vt_mnode *it = rules->items[i];
		parsed[i] = parse_rule(&c, it, it->line ? it->line : rules_line,
		    doc->type == VT_MNODE_SEQ ? "" : pfx, i, &d);
		if (parsed[i] == NULL) {
			for (size_t j = 0; j < i; j++)
				rule_free(parsed[j]);
			free(parsed);
			return -1;
		}
	}
	/* All good: add them. */
	m->rules = vt_xrealloc(m->rules, (m->nrules + n + 1) * sizeof *m->rules);
	for (size_t i = 0; i < n; i++) {
		struct vt_map_rule *r = parsed[i];
		r->index = (unsigned)m->nrules;
		m->rules[m->nrules++] = r;
		if (r->is_regex) {
			m->regex_rules = vt_xrealloc(m->regex_rules,
			    (m->nregex + 1) * sizeof *m->regex_rules);
			m->regex_rules[m->nregex++] = r->index;
		} else {
			glob_insert(m, r);
			m->nglob++;
		}
	}
	free(parsed);
	if (d.unordered)
		m->unordered = 1;
	if (d.observer != VT_MAP_OBSERVER_DEFAULT) {
		m->has_unmapped = 1;
		m->unmapped.observer = d.observer;
		m->unmapped.nbuckets = d.nbuckets ? d.nbuckets :
		    sizeof def_buckets / sizeof def_buckets[0];
		memcpy(m->unmapped.buckets, d.nbuckets ? d.buckets :
		    def_buckets, m->unmapped.nbuckets * sizeof(double));
	}
	cache_clear(m);
	return 0;
}

const struct vt_map_rule *vt_mapping_unmapped(const vt_mapping *m)
{
	return m && m->has_unmapped ? &m->unmapped : NULL;
}

/* ---- lookup ----------------------------------------------------------- */

/* The answer of rule r for name with these captures (cap[0]: the whole
 * name), into a new cache entry; NULL when a string comes out empty or
 * too long. */
static struct cres *build_answer(vt_mapping *m, const struct vt_map_rule *r,
    struct vt_slice name, const struct vt_slice *cap)
{
	char *buf = m->scratch;
	size_t used = 0, lens[2 + VT_MAP_MAX_LABELS], n;
	size_t nstr = 2 + r->nlabels;

	for (size_t i = 0; i < nstr; i++) {
		const struct vt_map_tmpl *t = i == 0 ? r->name :
		    i == 1 ? r->service : r->label_values[i - 2];
		if (t == NULL) {
			lens[i] = 0;
			continue;
		}
		n = tmpl_expand(t, cap, buf + used, VT_NAME_MAX);
		if (n > VT_NAME_MAX || (i == 0 && n == 0))
			return NULL;
		lens[i] = n;
		used += n;
	}
	struct cres *e = vt_xmalloc(sizeof *e + name.len + used + 1);
	memset(e, 0, sizeof *e);
	memcpy(e->data, name.ptr, name.len);
	memcpy(e->data + name.len, buf, used);
	e->rule = r;
	for (size_t i = 0; i < nstr; i++)
		e->len[i] = (uint16_t)lens[i];
	return e;
}

/* The answer a cache entry holds, in m->result. */
static const struct vt_map_result *answer(vt_mapping *m,
    const struct cres *e)
{
	const struct vt_map_rule *r = e->rule;
	struct vt_map_result *out = &m->result;
	const char *p = e->data + e->name_len;
	if (r == NULL)
		return NULL;
	out->action = r->action;
	out->rule = r;
	out->name = (struct vt_slice){ p, e->len[0] };
	p += e->len[0];
	out->service = (struct vt_slice){ p, e->len[1] };
	p += e->len[1];
	out->nlabels = r->nlabels;
	for (size_t i = 0; i < r->nlabels; i++) {
		out->label_key[i] = (struct vt_slice){ r->label_keys[i],
		    strlen(r->label_keys[i]) };
		out->label_value[i] = (struct vt_slice){ p, e->len[2 + i] };
		p += e->len[2 + i];
	}
	return out;
}

static struct cres *match_glob(vt_mapping *m, struct vt_slice name,
    unsigned kindbit)
{
	struct gsearch *s = m->search;
	struct vt_slice comp[MAX_COMPONENTS];
	size_t nc = 0;
	const char *p = name.ptr, *end = name.ptr + name.len;
	for (;;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *ce = dot ? dot : end;
		if (nc == MAX_COMPONENTS)
			return NULL;
		comp[nc++] = (struct vt_slice){ p, (size_t)(ce - p) };
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	s->comp = comp;
	s->ncomp = nc;
	s->kindbit = kindbit;
	s->best = NO_RULE;
	s->done = 0;
	s->ncap = 0;
	s->best_ncap = 0;
	glob_walk(m, s, 0, 0);
	if (s->best == NO_RULE)
		return NULL;
	struct vt_slice cap[MAX_CAPTURES + 1];
	size_t ncap = s->best_ncap < MAX_CAPTURES ? s->best_ncap :
	    MAX_CAPTURES;
	cap[0] = name;
	memcpy(cap + 1, s->best_cap, ncap * sizeof *cap);
	return build_answer(m, m->rules[s->best], name, cap);
}

static struct cres *match_regex(vt_mapping *m, struct vt_slice name,
    unsigned kindbit)
{
	char text[VT_NAME_MAX + 1];
	regmatch_t pm[MAX_CAPTURES];
	struct vt_slice cap[MAX_CAPTURES];
	if (name.len > VT_NAME_MAX)
		return NULL;
	memcpy(text, name.ptr, name.len);
	text[name.len] = '\0';
	for (size_t i = 0; i < m->nregex; i++) {
		const struct vt_map_rule *r = m->rules[m->regex_rules[i]];
		if (!(r->kinds & kindbit))
			continue;
		if (regexec(r->re, text, r->ncaptures + 1, pm, 0) != 0)
			continue;
		for (size_t j = 0; j <= r->ncaptures; j++) {
			if (pm[j].rm_so < 0) {
				cap[j] = (struct vt_slice){ "", 0 };
				continue;
			}
			cap[j] = (struct vt_slice){ name.ptr + pm[j].rm_so,
			    (size_t)(pm[j].rm_eo - pm[j].rm_so) };
		}
		cap[0] = (struct vt_slice){ name.ptr + pm[0].rm_so,
		    (size_t)(pm[0].rm_eo - pm[0].rm_so) };
		struct cres *e = build_answer(m, r, name, cap);
		if (e)
			return e;
	}
	return NULL;
}

const struct vt_map_result *vt_mapping_lookup(vt_mapping *m,
    struct vt_slice name, enum vt_kind kind)
{
	if (m == NULL || m->nrules == 0)
		return NULL;
	uint64_t h = vt_hash(name.ptr, name.len, CACHE_SEED + (uint64_t)kind);
	if (m->cache == NULL)
		m->cache = vt_xcalloc(VT_MAP_CACHE_SETS, sizeof *m->cache);
	struct cset *set = &m->cache[(h >> 7) & (VT_MAP_CACHE_SETS - 1)];
	for (size_t w = 0; w < CACHE_WAYS; w++) {
		struct cres *e = set->way[w];
		if (e && e->hash == h && e->kind == (uint32_t)kind &&
		    e->name_len == name.len &&
		    memcmp(e->data, name.ptr, name.len) == 0) {
			m->hits++;
			return answer(m, e);
		}
	}
	m->misses++;
	unsigned kindbit = 1u << kind;
	struct cres *e = m->nglob ? match_glob(m, name, kindbit) : NULL;
	if (e == NULL && m->nregex)
		e = match_regex(m, name, kindbit);
	if (e == NULL) {                 /* remember the miss too */
		e = vt_xmalloc(sizeof *e + name.len + 1);
		memset(e, 0, sizeof *e);
		memcpy(e->data, name.ptr, name.len);
	}
	e->hash = h;
	e->kind = (uint32_t)kind;
	e->name_len = (uint32_t)name.len;
	unsigned w = set->next++ % CACHE_WAYS;
	free(set->way[w]);
	set->way[w] = e;
	return answer(m, e);
}
