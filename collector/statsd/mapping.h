/*
 * mapping.h - mapping rules: a statsd name in, the series it becomes out
 * (its metric name, service and labels), or "drop it" (docs/wire-formats.md,
 * "Mapping rules"; issue 23 item 1).
 *
 * The rule schema is statsd_exporter's mapping file: `match` (a glob whose
 * `*` is one dot-separated component, or `match_type: regex`), `name` and
 * `labels` with $1.. captures, `action: drop`, `match_metric_type`,
 * `observer_type`, `buckets`, `quantiles`, `ttl`, `help`, and a `defaults`
 * object. Rules come from a statsd_exporter YAML file (mapping_yaml.h) and
 * from the config file's `mappings` section (JSON); both are turned into the
 * same small document tree (struct vt_mnode) and read by one schema here,
 * so both accept exactly the same keys and say the same things about them.
 *
 * Matching: every glob rule is compiled into one trie of dot components
 * (a hash table of edges (node, component) -> node, plus a `*` edge per
 * node), walked once per name: its cost grows with the name's components,
 * not with the number of rules. The first rule in file order that
 * matches wins (unless defaults.glob_disable_ordering: then a literal
 * component beats `*`, statsd_exporter's unordered mode). Regex rules
 * (POSIX extended, regcomp) are tried after the globs, in order. Every
 * answer, hit or miss, is kept in a bounded set-associative cache keyed by
 * name and kind, so a name seen before costs one hash lookup.
 *
 * The aggregator calls vt_mapping_lookup only when it creates a series (a
 * raw name+tags key it has not seen); known series never get here. Not
 * thread-safe: one thread (the loop) owns a vt_mapping.
 */
#ifndef VT_MAPPING_H
#define VT_MAPPING_H

#include <stddef.h>
#include <stdint.h>

#include "collector/base/vt_types.h"

#define VT_MAP_MAX_LABELS 16     /* labels one rule may set */
#define VT_MAP_MAX_BUCKETS 64    /* histogram buckets of one rule */
#define VT_MAP_MAX_QUANTILES 16  /* quantiles of one rule */
#define VT_MAP_MAX_RULES 100000
#define VT_MAP_CACHE_SETS 2048   /* x 4 ways: names whose answer is kept */

/* ---- the document tree both parsers produce -------------------------- */

enum vt_mnode_type { VT_MNODE_SCALAR = 0, VT_MNODE_MAP, VT_MNODE_SEQ };

struct vt_mnode {
	enum vt_mnode_type type;
	unsigned line;              /* 1-based line in its file; 0: unknown */
	char *text;                 /* scalars: the text ("0.5", "true") */
	int is_string;              /* scalars: a (quoted) string, not a
	                               number, bool or null */
	size_t n;                   /* maps: pairs; sequences: items */
	char **keys;                /* maps: keys[i] names items[i] */
	unsigned *key_lines;        /* maps: the line of each key */
	struct vt_mnode **items;
};

/* Constructors for the parsers (copy the text; abort on out-of-memory). */
struct vt_mnode *vt_mnode_scalar(const char *text, int is_string,
    unsigned line);
struct vt_mnode *vt_mnode_new(enum vt_mnode_type type, unsigned line);
/* Append to a map (key != NULL) or a sequence (key NULL); takes item. */
void vt_mnode_append(struct vt_mnode *parent, const char *key,
    unsigned key_line, struct vt_mnode *item);
void vt_mnode_free(struct vt_mnode *n);

/* ---- rules ----------------------------------------------------------- */

enum vt_map_action { VT_MAP_MAP = 0, VT_MAP_DROP };
enum vt_map_observer {
	VT_MAP_OBSERVER_DEFAULT = 0,  /* as configured globally (summary) */
	VT_MAP_OBSERVER_SUMMARY,
	VT_MAP_OBSERVER_HISTOGRAM
};

struct vt_map_tmpl;               /* a name or label template, compiled */

struct vt_map_rule {
	unsigned index;               /* 0, 1, ... in load order */
	char *where;                  /* "file:line" or "mappings[2]" */
	char *match;
	int is_regex;
	void *re;                     /* regex_t, regex rules */
	size_t ncaptures;             /* '*'s or regex groups */
	enum vt_map_action action;
	unsigned kinds;               /* bit (1 << enum vt_kind) it matches */
	struct vt_map_tmpl *name;     /* NULL: drop rules without one */
	struct vt_map_tmpl *service;  /* NULL: not named by the rule */
	size_t nlabels;
	char **label_keys;
	struct vt_map_tmpl **label_values;
	enum vt_map_observer observer;
	size_t nbuckets;              /* histogram upper bounds, ascending */
	double buckets[VT_MAP_MAX_BUCKETS];
	size_t nquantiles;            /* in (0, 1), with their errors */
	double quantiles[VT_MAP_MAX_QUANTILES];
	double quantile_errors[VT_MAP_MAX_QUANTILES];
	double ttl;                   /* seconds; 0: metric_ttl */
	char *help;                   /* NULL when not given */
};

typedef struct vt_mapping vt_mapping;

vt_mapping *vt_mapping_create(void);
void vt_mapping_destroy(vt_mapping *m);

/*
 * Add the rules of one document: either a statsd_exporter mapping file's
 * top level ({"defaults": {...}, "mappings": [...]}) or a bare sequence of
 * rules. `file` names it in messages and `prefix` is the key path of the
 * document in it ("" for a whole file, "mappings" for a config section);
 * with line numbers (YAML) a message reads "FILE:LINE: KEY: what", without
 * (JSON) "FILE: KEY: what". Returns 0, or -1 with err set (nothing of the
 * document is added then). Its defaults apply to its own rules;
 * glob_disable_ordering, set in any document, applies to all globs.
 */
int vt_mapping_add_doc(vt_mapping *m, const struct vt_mnode *doc,
    const char *file, const char *prefix, char *err, size_t errlen);

size_t vt_mapping_rules(const vt_mapping *m);
const struct vt_map_rule *vt_mapping_rule(const vt_mapping *m, size_t i);

/*
 * What names no rule maps are, statsd_exporter's way: a rule-like record
 * whose observer and buckets come from the last document whose defaults
 * set observer_type (its defaults' buckets, else statsd_exporter's), NULL
 * when none did. Only observer and buckets are meaningful; a rule whose
 * observer is VT_MAP_OBSERVER_DEFAULT takes this observer too (with its
 * own buckets).
 */
const struct vt_map_rule *vt_mapping_unmapped(const vt_mapping *m);

/* The answer for one name. Slices point into the cache: valid until the
 * next lookup. */
struct vt_map_result {
	enum vt_map_action action;
	const struct vt_map_rule *rule;
	struct vt_slice name;         /* the mapped metric name */
	struct vt_slice service;      /* len 0: the rule names none */
	size_t nlabels;               /* without "service" */
	struct vt_slice label_key[VT_MAP_MAX_LABELS];
	struct vt_slice label_value[VT_MAP_MAX_LABELS];
};

/* NULL when no rule matches (the name stays as it is), else the answer.
 * A rule whose name comes out empty or over VT_NAME_MAX bytes does not
 * match. */
const struct vt_map_result *vt_mapping_lookup(vt_mapping *m,
    struct vt_slice name, enum vt_kind kind);

/* Lookups answered by the cache and by the matcher (for tests and the
 * benchmarks). */
void vt_mapping_stats(const vt_mapping *m, uint64_t *cache_hits,
    uint64_t *cache_misses);

#endif
