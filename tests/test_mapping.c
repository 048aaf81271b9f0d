/* test_mapping.c - mapping rules (mapping.h, mapping_yaml.h) and how the
 * aggregator uses them (agg.h). */
#include <cJSON.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/agg.h"
#include "collector/base/line_result.h"
#include "collector/statsd/mapping.h"
#include "collector/statsd/mapping_yaml.h"
#include "suites.h"
#include "test_support.h"

static char err[512];

/* Rules from YAML text; NULL (err set) when it does not load. */
static vt_mapping *from_yaml(const char *yaml)
{
	err[0] = '\0';
	struct vt_mnode *doc = vt_mapping_yaml_parse(yaml, strlen(yaml),
	    "m.yml", err, sizeof err);
	if (doc == NULL)
		return NULL;
	vt_mapping *m = vt_mapping_create();
	int rc = vt_mapping_add_doc(m, doc, "m.yml", "", err, sizeof err);
	vt_mnode_free(doc);
	if (rc < 0) {
		vt_mapping_destroy(m);
		return NULL;
	}
	return m;
}

static const struct vt_map_result *look(vt_mapping *m, const char *name,
    enum vt_kind kind)
{
	return vt_mapping_lookup(m, (struct vt_slice){ name, strlen(name) },
	    kind);
}

static int slice_eq(struct vt_slice s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* The value of label key in r, or NULL. */
static char *label(const struct vt_map_result *r, const char *key)
{
	static char buf[256];
	for (size_t i = 0; i < r->nlabels; i++)
		if (slice_eq(r->label_key[i], key)) {
			snprintf(buf, sizeof buf, "%.*s",
			    (int)r->label_value[i].len, r->label_value[i].ptr);
			return buf;
		}
	return NULL;
}

/* statsd_exporter's README example (Apache-2.0,
 * github.com/prometheus/statsd_exporter, "Metric Mapping and
 * Configuration"). */
static const char readme_example[] =
    "mappings:\n"
    "- match: \"test.dispatcher.*.*.*\"\n"
    "  name: \"dispatcher_events_total\"\n"
    "  labels:\n"
    "    processor: \"$1\"\n"
    "    action: \"$2\"\n"
    "    outcome: \"$3\"\n"
    "    job: \"test_dispatcher\"\n"
    "- match: \"*.signup.*.*\"\n"
    "  name: \"signup_events_total\"\n"
    "  labels:\n"
    "    provider: \"$2\"\n"
    "    outcome: \"$3\"\n"
    "    job: \"${1}_server\"\n";

START_TEST(readme_example_maps_as_documented)
{
	vt_mapping *m = from_yaml(readme_example);
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_uint_eq(vt_mapping_rules(m), 2);
	const struct vt_map_result *r = look(m,
	    "test.dispatcher.FooProcessor.send.success", VT_COUNTER);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->action, VT_MAP_MAP);
	ck_assert(slice_eq(r->name, "dispatcher_events_total"));
	ck_assert_uint_eq(r->service.len, 0);
	ck_assert_uint_eq(r->nlabels, 4);
	ck_assert_str_eq(label(r, "processor"), "FooProcessor");
	ck_assert_str_eq(label(r, "action"), "send");
	ck_assert_str_eq(label(r, "outcome"), "success");
	ck_assert_str_eq(label(r, "job"), "test_dispatcher");
	r = look(m, "foo_product.signup.facebook.failure", VT_COUNTER);
	ck_assert_ptr_nonnull(r);
	ck_assert(slice_eq(r->name, "signup_events_total"));
	ck_assert_str_eq(label(r, "provider"), "facebook");
	ck_assert_str_eq(label(r, "outcome"), "failure");
	ck_assert_str_eq(label(r, "job"), "foo_product_server");
	/* unmapped: as today */
	ck_assert_ptr_null(look(m, "test.web-server.foo.bar", VT_COUNTER));
	ck_assert_ptr_null(look(m, "test.dispatcher.a.b", VT_COUNTER));
	ck_assert_ptr_null(look(m, "x.signup.a.b.c", VT_COUNTER));
	vt_mapping_destroy(m);
}
END_TEST

START_TEST(first_rule_wins_unless_ordering_disabled)
{
	static const char rules[] =
	    "mappings:\n"
	    "- match: a.*.c\n  name: star_$1\n"
	    "- match: a.b.c\n  name: literal\n"
	    "- match: a.b.*\n  name: late_$1\n";
	vt_mapping *m = from_yaml(rules);
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert(slice_eq(look(m, "a.b.c", VT_GAUGE)->name, "star_b"));
	ck_assert(slice_eq(look(m, "a.b.d", VT_GAUGE)->name, "late_d"));
	vt_mapping_destroy(m);

	char unordered[256];
	snprintf(unordered, sizeof unordered,
	    "defaults:\n  glob_disable_ordering: true\n%s", rules);
	m = from_yaml(unordered);
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert(slice_eq(look(m, "a.b.c", VT_GAUGE)->name, "literal"));
	vt_mapping_destroy(m);
}
END_TEST

START_TEST(thousand_rules_and_the_cache)
{
	size_t cap = 1 << 17, n = 0;
	char *y = malloc(cap);
	n += (size_t)snprintf(y + n, cap - n, "mappings:\n");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(y + n, cap - n,
		    "- match: svc%02d.*.thing%04d.*\n"
		    "  name: thing_$2\n"
		    "  labels:\n    service: svc%02d\n    area: $1\n",
		    i % 10, i, i % 10);
	vt_mapping *m = from_yaml(y);
	free(y);
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_uint_eq(vt_mapping_rules(m), 1000);
	const struct vt_map_result *r = look(m, "svc09.db.thing0999.latency",
	    VT_TIMER);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->rule->index, 999);
	ck_assert(slice_eq(r->name, "thing_latency"));
	ck_assert(slice_eq(r->service, "svc09"));
	ck_assert_uint_eq(r->nlabels, 1);
	ck_assert_str_eq(label(r, "area"), "db");
	ck_assert_ptr_null(look(m, "svc09.db.thing0998.latency.x", VT_TIMER));
	uint64_t hits, misses;
	vt_mapping_stats(m, &hits, &misses);
	ck_assert_uint_eq(hits, 0);
	ck_assert_uint_eq(misses, 2);
	/* again: both answers (the miss too) come from the cache */
	ck_assert_ptr_nonnull(look(m, "svc09.db.thing0999.latency", VT_TIMER));
	ck_assert_ptr_null(look(m, "svc09.db.thing0998.latency.x", VT_TIMER));
	vt_mapping_stats(m, &hits, &misses);
	ck_assert_uint_eq(hits, 2);
	ck_assert_uint_eq(misses, 2);
	/* thousands of names: the cache stays bounded and answers stay right */
	char name[64];
	for (int i = 0; i < 40000; i++) {
		snprintf(name, sizeof name, "svc%02d.a%d.thing%04d.x", i % 10,
		    i, i % 1000);
		r = look(m, name, VT_COUNTER);
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(r->rule->index, (unsigned)(i % 1000));
	}
	vt_mapping_destroy(m);
}
END_TEST

START_TEST(regex_rules_after_globs)
{
	vt_mapping *m = from_yaml(
	    "mappings:\n"
	    "- match: \"test\\\\.(\\\\w+)\\\\.(\\\\w+)\\\\.counter\"\n"
	    "  match_type: regex\n"
	    "  name: \"${2}_total\"\n"
	    "  labels:\n"
	    "    provider: \"$1\"\n"
	    "- match: test.*.*.counter\n"
	    "  name: glob_$2\n");
	ck_assert_msg(m != NULL, "%s", err);
	const struct vt_map_result *r = look(m, "test.aws.requests.counter",
	    VT_COUNTER);
	ck_assert_ptr_nonnull(r);
	ck_assert(slice_eq(r->name, "glob_requests"));   /* globs first */
	r = look(m, "x.test.aws.requests.counter", VT_COUNTER);
	ck_assert_ptr_nonnull(r);                        /* unanchored */
	ck_assert(slice_eq(r->name, "requests_total"));
	ck_assert_str_eq(label(r, "provider"), "aws");
	vt_mapping_destroy(m);

	m = from_yaml("mappings:\n- match: .\n  match_type: regex\n"
	    "  action: drop\n  name: dropped\n");
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_int_eq(look(m, "anything", VT_SET)->action, VT_MAP_DROP);
	vt_mapping_destroy(m);
}
END_TEST

START_TEST(metric_type_defaults_and_options)
{
	vt_mapping *m = from_yaml(
	    "defaults:\n"
	    "  observer_type: histogram\n"
	    "  buckets: [.005, .01, .025, .05, .1, .25, .5, 1, 2.5 ]\n"
	    "  match_type: glob\n"
	    "  glob_disable_ordering: false\n"
	    "  ttl: 0 # metrics do not expire\n"
	    "mappings:\n"
	    "- match: test.timing.*.*.*\n"
	    "  name: \"my_timer\"\n"
	    "  match_metric_type: observer\n"
	    "  ttl: 1m30s\n"
	    "  labels:\n"
	    "    provider: \"$2\"\n"
	    "- match: other.timing.*.*.*\n"
	    "  timer_type: summary\n"
	    "  name: other_timer\n"
	    "  help: Other timing\n"
	    "  summary_options:\n"
	    "    quantiles:\n"
	    "      - quantile: 0.99\n"
	    "        error: 0.001\n"
	    "      - quantile: 0.5\n");
	ck_assert_msg(m != NULL, "%s", err);
	const struct vt_map_rule *r0 = vt_mapping_rule(m, 0);
	ck_assert_int_eq(r0->observer, VT_MAP_OBSERVER_HISTOGRAM);
	ck_assert_uint_eq(r0->nbuckets, 9);
	ck_assert_double_eq(r0->buckets[8], 2.5);
	ck_assert_double_eq(r0->ttl, 90);
	const struct vt_map_rule *r1 = vt_mapping_rule(m, 1);
	ck_assert_int_eq(r1->observer, VT_MAP_OBSERVER_SUMMARY);
	ck_assert_uint_eq(r1->nquantiles, 2);
	ck_assert_double_eq(r1->quantiles[0], 0.99);
	ck_assert_double_eq(r1->quantile_errors[0], 0.001);
	ck_assert_double_eq(r1->ttl, 0);
	ck_assert_str_eq(r1->help, "Other timing");
	/* match_metric_type: a counter of that name stays unmapped */
	ck_assert_ptr_null(look(m, "test.timing.a.b.c", VT_COUNTER));
	ck_assert_ptr_nonnull(look(m, "test.timing.a.b.c", VT_TIMER));
	ck_assert_ptr_nonnull(look(m, "test.timing.a.b.c", VT_HISTOGRAM));
	vt_mapping_destroy(m);
}
END_TEST

static const struct {
	const char *yaml, *msg;
} bad_files[] = {
	{ "mappings:\n- match: a.*\n  name: x\n  colour: red\n",
	  "m.yml:4: mappings[0].colour: unknown key" },
	{ "mappings:\n- match: a.*\n  name: x\n  scale: 1000\n",
	  "m.yml:4: mappings[0].scale: not supported by vitalsd" },
	{ "mappings:\n- match: a.b\n  name: x\n- match: a*.b\n  name: y\n",
	  "m.yml:4: mappings[1].match: a '*' must be a whole" },
	{ "mappings:\n- match: a..b\n  name: x\n",
	  "m.yml:2: mappings[0].match: an empty component" },
	{ "mappings:\n- match: a.*.*\n  name: x_$3\n",
	  "m.yml:3: mappings[0].name: refers to $3, but the match has 2" },
	{ "mappings:\n- match: a.*\n",
	  "m.yml:2: mappings[0]: a rule needs a \"name\"" },
	{ "mappings:\n- name: x\n",
	  "m.yml:2: mappings[0]: a rule needs a \"match\"" },
	{ "mappings:\n- match: a.*\n  name: x\n  observer_type: gauge\n",
	  "m.yml:4: mappings[0].observer_type: expected \"summary\"" },
	{ "mappings:\n- match: \"(\"\n  match_type: regex\n  name: x\n",
	  "m.yml:2: mappings[0].match: not a POSIX extended" },
	{ "mappings:\n- match: a.*\n  name: x\n  ttl: soon\n",
	  "m.yml:4: mappings[0].ttl: expected a duration" },
	{ "mappings:\n- match: a.*\n  name: x\n  buckets: [1, 0.5]\n",
	  "m.yml:4: mappings[0].buckets[1]: buckets must be ascending" },
	{ "mappings:\n- match: a.*\n  name: x\n  labels:\n    9x: y\n",
	  "m.yml:5: mappings[0].labels.9x: not a label name" },
	{ "mappings:\n- match: a.*\n  name: x\n  labels:\n    service: a\n"
	  "  service: b\n", "the service is named twice" },
	{ "defaults:\n  timer_type: histogram\n  colour: red\nmappings: []\n",
	  "m.yml:3: defaults.colour: unknown key" },
	{ "mapping:\n- match: a.*\n", "m.yml:1: mapping: unknown key" },
	{ "mappings:\n- match: a.*\n  name: x\n  name: y\n",
	  "m.yml:4: name: given twice (first on line 3)" },
	{ "mappings:\n- match: a.*\n  name: [x\n",
	  "m.yml:4: invalid YAML" },
	{ "mappings:\n- match: a.*\n  name: x\n  summary_options:\n"
	  "    max_age: 30s\n",
	  "m.yml:5: mappings[0].summary_options.max_age: not supported" },
	{ "mappings:\n- match: a.*\n  name: x\n  observer_type: histogram\n"
	  "  quantiles:\n  - quantile: 0.5\n",
	  "m.yml:2: mappings[0]: a histogram rule with summary options" },
};

START_TEST(bad_files_name_the_line_and_key)
{
	vt_mapping *m = from_yaml(bad_files[_i].yaml);
	ck_assert_msg(m == NULL, "loaded: %s", bad_files[_i].yaml);
	ck_assert_msg(strstr(err, bad_files[_i].msg) != NULL,
	    "got \"%s\", want \"%s\"", err, bad_files[_i].msg);
	ck_assert_msg(strncmp(err, "vitalsd: m.yml", 14) == 0, "%s", err);
}
END_TEST

START_TEST(empty_file_and_json_section)
{
	vt_mapping *m = from_yaml("");
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(vt_mapping_rules(m), 0);
	ck_assert_ptr_null(look(m, "a.b", VT_COUNTER));
	vt_mapping_destroy(m);

	cJSON *j = cJSON_Parse("[{\"match\": \"api.*.requests\","
	    " \"name\": \"requests\", \"service\": \"api\","
	    " \"labels\": {\"host\": \"$1\"}, \"ttl\": 120},"
	    " {\"match\": \"api.*\", \"name\": \"\"}]");
	struct vt_mnode *doc = vt_mapping_from_json(j, "v.json", "mappings",
	    err, sizeof err);
	ck_assert_ptr_nonnull(doc);
	m = vt_mapping_create();
	ck_assert_int_eq(vt_mapping_add_doc(m, doc, "v.json", "mappings", err,
	    sizeof err), -1);   /* ttl 120 without a unit */
	ck_assert_str_eq(err, "vitalsd: v.json: mappings[0].ttl: expected a "
	    "duration such as \"30s\", \"1m30s\" or 0, got \"120\"");
	vt_mnode_free(doc);
	cJSON_ReplaceItemInObject(cJSON_GetArrayItem(j, 0), "ttl",
	    cJSON_CreateString("2m"));
	doc = vt_mapping_from_json(j, "v.json", "mappings", err, sizeof err);
	ck_assert_int_eq(vt_mapping_add_doc(m, doc, "v.json", "mappings", err,
	    sizeof err), -1);
	ck_assert_str_eq(err, "vitalsd: v.json: mappings[1].name: "
	    "a rule needs a \"name\" (unless its action is drop)");
	vt_mnode_free(doc);
	ck_assert_uint_eq(vt_mapping_rules(m), 0);   /* nothing half-added */
	cJSON_DeleteItemFromArray(j, 1);
	doc = vt_mapping_from_json(j, "v.json", "mappings", err, sizeof err);
	ck_assert_int_eq(vt_mapping_add_doc(m, doc, "v.json", "mappings", err,
	    sizeof err), 0);
	vt_mnode_free(doc);
	cJSON_Delete(j);
	const struct vt_map_result *r = look(m, "api.web1.requests",
	    VT_COUNTER);
	ck_assert_ptr_nonnull(r);
	ck_assert(slice_eq(r->service, "api"));
	ck_assert(slice_eq(r->name, "requests"));
	ck_assert_str_eq(label(r, "host"), "web1");
	ck_assert_double_eq(r->rule->ttl, 120);
	vt_mapping_destroy(m);
}
END_TEST

/* ---- in the aggregator ---- */

static struct vt_selfstats stats;

static vt_agg *agg_with(const char *yaml, double ttl)
{
	struct vt_agg_config cfg = {
		.max_metrics = 1000, .metric_ttl = ttl, .npercentiles = 1,
		.percentiles = { 50 },
	};
	cfg.mapping = from_yaml(yaml);
	ck_assert_msg(cfg.mapping != NULL, "%s", err);
	memset(&stats, 0, sizeof stats);
	return vt_agg_create(&cfg, &stats);
}

static enum vt_line_result put(vt_agg *a, const char *name,
    enum vt_kind kind, const char *tags)
{
	struct vt_sample s = {
		.name = { name, strlen(name) },
		.tags = { tags ? tags : "", tags ? strlen(tags) : 0 },
		.value = 1, .sample_rate = 1, .kind = kind,
	};
	return vt_agg_record(a, &s);
}

static const struct vt_series *series(const struct vt_flush *f,
    const char *service, const char *metric)
{
	for (size_t i = 0; i < f->nmetrics; i++)
		if (strcmp(f->metrics[i].series->service, service) == 0 &&
		    strcmp(f->metrics[i].series->metric, metric) == 0)
			return f->metrics[i].series;
	return NULL;
}

static const char *slabel(const struct vt_series *s, const char *key)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].key, key) == 0)
			return s->labels[i].value;
	return NULL;
}

static const char agg_rules[] =
    "mappings:\n"
    "- match: api.*.http.*\n"
    "  name: http_requests\n"
    "  labels:\n"
    "    host: $1\n"
    "    code: $2\n"
    "- match: shop.*.orders\n"
    "  name: orders\n"
    "  labels:\n"
    "    service: checkout\n"
    "    region: $1\n"
    "  ttl: 20s\n"
    "- match: debug.*\n"
    "  action: drop\n"
    "  name: dropped\n";

START_TEST(agg_creates_mapped_series_and_drops)
{
	vt_agg *a = agg_with(agg_rules, 3600);
	ck_assert_int_eq(put(a, "api.host1.http.200", VT_COUNTER, NULL),
	    VT_LINE_OK);
	ck_assert_int_eq(put(a, "api.host1.http.200", VT_COUNTER, NULL),
	    VT_LINE_OK);
	/* the rule's label wins over a tag of that key; other tags stay */
	ck_assert_int_eq(put(a, "shop.eu.orders", VT_COUNTER,
	    "region:us,tier:gold"), VT_LINE_OK);
	ck_assert_int_eq(put(a, "debug.x", VT_COUNTER, NULL),
	    VT_LINE_DROPPED_BY_MAPPING);
	ck_assert_int_eq(put(a, "debug.x", VT_GAUGE, "a:b"),
	    VT_LINE_DROPPED_BY_MAPPING);
	ck_assert_int_eq(put(a, "plain.name", VT_COUNTER, NULL), VT_LINE_OK);
	ck_assert_uint_eq(vt_agg_size(a), 3);

	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	const struct vt_series *s = series(f, "api", "http_requests");
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->nlabels, 2);
	ck_assert_str_eq(slabel(s, "host"), "host1");
	ck_assert_str_eq(slabel(s, "code"), "200");
	s = series(f, "checkout", "orders");
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->nlabels, 2);
	ck_assert_str_eq(slabel(s, "region"), "eu");
	ck_assert_str_eq(slabel(s, "tier"), "gold");
	ck_assert_ptr_nonnull(series(f, "plain", "name"));   /* unmapped */
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(known_series_never_ask_the_rules)
{
	vt_agg *a = agg_with(agg_rules, 3600);
	struct vt_sample s[VT_AGG_BATCH];
	enum vt_line_result res[VT_AGG_BATCH];
	static const char *const names[] = { "api.h.http.500", "plain.x",
	    "debug.y", "api.h.http.200" };
	for (size_t i = 0; i < VT_AGG_BATCH; i++) {
		const char *n = names[i % 4];
		s[i] = (struct vt_sample){ .name = { n, strlen(n) }, .value = 1,
		    .sample_rate = 1, .kind = VT_COUNTER };
	}
	vt_agg_record_batch(a, s, VT_AGG_BATCH, res);
	for (size_t i = 0; i < VT_AGG_BATCH; i++)
		ck_assert_int_eq(res[i], i % 4 == 2 ?
		    VT_LINE_DROPPED_BY_MAPPING : VT_LINE_OK);
	ck_assert_uint_eq(vt_agg_size(a), 3);
	vt_flush_release(vt_agg_close_window(a, 10, 10));
	vt_agg_destroy(a);

	/* Again, with the rules' counters in view: the second batch holds
	 * three known series and the dropped name; only the dropped one is
	 * looked up again (in the cache). */
	uint64_t h0, m0, h1, m1;
	vt_mapping *m = from_yaml(agg_rules);
	struct vt_agg_config cfg = { .max_metrics = 100, .metric_ttl = 3600,
	    .mapping = m };
	a = vt_agg_create(&cfg, &stats);
	vt_agg_record_batch(a, s, VT_AGG_BATCH, res);
	vt_mapping_stats(m, &h0, &m0);
	ck_assert_uint_eq(m0, 4);           /* one per distinct name */
	vt_agg_record_batch(a, s, VT_AGG_BATCH, res);
	vt_mapping_stats(m, &h1, &m1);
	ck_assert_uint_eq(m1, 4);
	ck_assert_uint_eq(h1 - h0, VT_AGG_BATCH / 4);  /* the dropped name */
	vt_agg_destroy(a);                  /* frees m */
}
END_TEST

START_TEST(own_service_is_never_mapped)
{
	vt_agg *a = agg_with("mappings:\n- match: .\n  match_type: regex\n"
	    "  action: drop\n", 3600);
	ck_assert_int_eq(put(a, "vitals.lines.ok", VT_COUNTER, NULL),
	    VT_LINE_OK);
	ck_assert_int_eq(put(a, "vitalsx.lines", VT_COUNTER, NULL),
	    VT_LINE_DROPPED_BY_MAPPING);
	ck_assert_int_eq(put(a, "api.x", VT_COUNTER, NULL),
	    VT_LINE_DROPPED_BY_MAPPING);
	ck_assert_uint_eq(vt_agg_size(a), 1);
	vt_agg_destroy(a);
}
END_TEST

START_TEST(rule_ttl_is_the_series_ttl)
{
	vt_agg *a = agg_with(agg_rules, 60);
	ck_assert_int_eq(put(a, "shop.eu.orders", VT_COUNTER, NULL),
	    VT_LINE_OK);                        /* ttl 20s */
	ck_assert_int_eq(put(a, "plain.name", VT_COUNTER, NULL), VT_LINE_OK);
	vt_flush_release(vt_agg_close_window(a, 10, 10));
	vt_flush_release(vt_agg_close_window(a, 20, 10));
	ck_assert_uint_eq(vt_agg_size(a), 2);
	vt_flush_release(vt_agg_close_window(a, 30, 10));
	ck_assert_uint_eq(vt_agg_size(a), 1);   /* 20 s idle: gone */
	vt_flush_release(vt_agg_close_window(a, 70, 10));
	ck_assert_uint_eq(vt_agg_size(a), 0);   /* metric_ttl 60 */
	vt_agg_destroy(a);
}
END_TEST

static const struct vt_metric_window *window(const struct vt_flush *f,
    const char *metric)
{
	for (size_t i = 0; i < f->nmetrics; i++)
		if (strcmp(f->metrics[i].series->metric, metric) == 0)
			return &f->metrics[i];
	return NULL;
}

/* The timer fields of the window of metric. */
static const struct vt_timer_window *timer_of(const struct vt_flush *f,
    const char *metric)
{
	return vt_window_timer(window(f, metric));
}

/* SIGHUP's new rules apply at the next close: that window counts every
 * line under the old rules; then only the series mapped differently
 * leave, and their next line makes the new series. */
static const char new_rules[] =
    "mappings:\n"
    "- match: api.*.http.*\n"
    "  name: http_requests\n"
    "  labels:\n"
    "    host: $1\n"
    "    status: $2\n"                 /* was code: another series */
    "- match: shop.*.orders\n"
    "  name: orders\n"
    "  labels:\n"
    "    service: checkout\n"
    "    region: $1\n"
    "  ttl: 20s\n"                     /* unchanged: kept */
    "- match: plain.*\n"
    "  action: drop\n"
    "  name: x\n";                     /* now dropped */

START_TEST(rules_read_again_apply_from_the_next_window)
{
	vt_agg *a = agg_with(agg_rules, 3600);
	put(a, "api.h1.http.200", VT_COUNTER, NULL);
	put(a, "shop.eu.orders", VT_COUNTER, NULL);
	put(a, "plain.name", VT_COUNTER, NULL);
	put(a, "other.name", VT_COUNTER, NULL);
	vt_agg_set_mapping(a, from_yaml(new_rules));
	/* Until the close the old rules hold. */
	ck_assert_int_eq(put(a, "api.h1.http.200", VT_COUNTER, NULL),
	    VT_LINE_OK);
	ck_assert_int_eq(put(a, "plain.name", VT_COUNTER, NULL), VT_LINE_OK);
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	const struct vt_series *s = series(f, "api", "http_requests");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(slabel(s, "code"), "200");
	ck_assert_double_eq(window(f, "http_requests")->count, 2);
	ck_assert_double_eq(window(f, "name")->count, 2);
	vt_flush_release(f);
	/* api.* and plain.* changed and left; orders and other.name stay. */
	ck_assert_uint_eq(vt_agg_size(a), 2);
	ck_assert_int_eq(put(a, "plain.name", VT_COUNTER, NULL),
	    VT_LINE_DROPPED_BY_MAPPING);
	ck_assert_int_eq(put(a, "api.h1.http.200", VT_COUNTER, NULL),
	    VT_LINE_OK);
	f = vt_agg_close_window(a, 20, 10);
	s = series(f, "api", "http_requests");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(slabel(s, "code"));
	ck_assert_str_eq(slabel(s, "status"), "200");
	ck_assert_double_eq(window(f, "http_requests")->total, 1);
	ck_assert_double_eq(window(f, "orders")->total, 1);   /* kept */
	ck_assert_ptr_null(series(f, "plain", "name"));
	vt_flush_release(f);
	/* No rules at all: the mapped series leave, other.name stays. */
	vt_agg_set_mapping(a, NULL);
	vt_flush_release(vt_agg_close_window(a, 30, 10));
	ck_assert_uint_eq(vt_agg_size(a), 1);
	vt_agg_destroy(a);
}
END_TEST

static enum vt_line_result put_value(vt_agg *a, const char *name,
    enum vt_kind kind, double value)
{
	struct vt_sample s = {
		.name = { name, strlen(name) }, .tags = { "", 0 },
		.value = value, .sample_rate = 1, .kind = kind,
	};
	return vt_agg_record(a, &s);
}


/* observer_type: histogram gives a timer (bounds in seconds, values in
 * ms) or histogram (unit sent) cumulative bucket counts in the flush;
 * summaries and other kinds get none. */
START_TEST(histogram_rules_give_cumulative_buckets)
{
	vt_agg *a = agg_with(
	    "defaults:\n  buckets: [1, 10]\n"
	    "mappings:\n"
	    "- match: web.*.latency\n  name: latency.$1\n"
	    "  observer_type: histogram\n  buckets: [0.01, 0.1, 1]\n"
	    "- match: web.size\n  name: size\n  observer_type: histogram\n"
	    "- match: web.summary\n  name: summary\n", 3600);
	/* 5 ms, 10 ms (on a bound), 50, 500, 5000 ms */
	static const double ms[] = { 5, 10, 50, 500, 5000 };
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(put_value(a, "web.get.latency", VT_TIMER, ms[i]),
		    VT_LINE_OK);
	put_value(a, "web.size", VT_HISTOGRAM, 3);
	put_value(a, "web.size", VT_HISTOGRAM, 30);
	put_value(a, "web.summary", VT_TIMER, 3);
	put_value(a, "web.count", VT_COUNTER, 3);    /* unmapped */
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	const struct vt_metric_window *w = window(f, "latency.get");
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(vt_window_timer(w)->nbuckets, 3);
	ck_assert_double_eq(vt_window_timer(w)->bucket_le[0], 0.01);
	ck_assert_double_eq(vt_window_timer(w)->bucket_le[2], 1);
	ck_assert_double_eq(vt_window_timer(w)->bucket_counts[0], 2);
	ck_assert_double_eq(vt_window_timer(w)->bucket_counts[1], 3);
	ck_assert_double_eq(vt_window_timer(w)->bucket_counts[2], 4);
	ck_assert_double_eq(w->total, 5);
	w = window(f, "size");
	ck_assert_uint_eq(vt_window_timer(w)->nbuckets, 2);  /* the defaults' */
	ck_assert_double_eq(vt_window_timer(w)->bucket_counts[0], 0);
	ck_assert_double_eq(vt_window_timer(w)->bucket_counts[1], 1);
	ck_assert_uint_eq(timer_of(f, "summary")->nbuckets, 0);
	ck_assert_ptr_null(timer_of(f, "summary")->bucket_counts);
	ck_assert_uint_eq(timer_of(f, "count")->nbuckets, 0);

	/* a copy (what other sinks keep) has its own bounds and counts */
	struct vt_flush *c = vt_flush_copy(f, NULL, NULL, 0);
	vt_flush_release(f);
	w = window(c, "latency.get");
	ck_assert_uint_eq(vt_window_timer(w)->nbuckets, 3);
	ck_assert_double_eq(vt_window_timer(w)->bucket_counts[1], 3);
	vt_flush_release(c);

	/* cumulative: an empty window keeps them, the next one adds */
	f = vt_agg_close_window(a, 20, 10);
	ck_assert_double_eq(timer_of(f, "latency.get")->bucket_counts[2], 4);
	vt_flush_release(f);
	put_value(a, "web.get.latency", VT_TIMER, 1);
	put_value(a, "web.get.latency", VT_TIMER, 200);
	f = vt_agg_close_window(a, 30, 10);
	w = window(f, "latency.get");
	ck_assert_double_eq(vt_window_timer(w)->bucket_counts[0], 3);
	ck_assert_double_eq(vt_window_timer(w)->bucket_counts[1], 4);
	ck_assert_double_eq(vt_window_timer(w)->bucket_counts[2], 6);
	ck_assert_double_eq(w->total, 7);
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

/* statsd_exporter's defaults.observer_type applies to names no rule
 * maps and to rules that say none; the daemon's own names stay out. */
START_TEST(default_observer_covers_unmapped_names)
{
	vt_agg *a = agg_with("mappings:\n- match: web.plain\n  name: plain\n",
	    3600);
	ck_assert_ptr_null(vt_mapping_unmapped(NULL));
	put_value(a, "web.other", VT_TIMER, 5);
	struct vt_flush *f = vt_agg_close_window(a, 10, 10);
	ck_assert_uint_eq(timer_of(f, "other")->nbuckets, 0);  /* no defaults */
	vt_flush_release(f);
	vt_agg_destroy(a);

	a = agg_with(
	    "defaults:\n  observer_type: histogram\n  buckets: [0.1, 1]\n"
	    "mappings:\n"
	    "- match: web.summary\n  name: summary\n  observer_type: summary\n"
	    "- match: web.plain\n  name: plain\n"
	    "- match: web.own\n  name: own\n  buckets: [0.5]\n", 3600);
	put_value(a, "web.other", VT_TIMER, 5);       /* unmapped */
	put_value(a, "web.summary", VT_TIMER, 5);
	put_value(a, "web.plain", VT_TIMER, 500);
	put_value(a, "web.own", VT_TIMER, 5);
	put_value(a, "web.count", VT_COUNTER, 5);
	put_value(a, "vitals.flush.time", VT_TIMER, 5);
	f = vt_agg_close_window(a, 10, 10);
	const struct vt_metric_window *w = window(f, "other");
	ck_assert_uint_eq(vt_window_timer(w)->nbuckets, 2);
	ck_assert_double_eq(vt_window_timer(w)->bucket_le[1], 1);
	ck_assert_double_eq(vt_window_timer(w)->bucket_counts[0], 1);
	ck_assert_uint_eq(timer_of(f, "summary")->nbuckets, 0);
	ck_assert_uint_eq(timer_of(f, "plain")->nbuckets, 2);
	ck_assert_double_eq(timer_of(f, "plain")->bucket_counts[0], 0);
	ck_assert_uint_eq(timer_of(f, "own")->nbuckets, 1);
	ck_assert_uint_eq(timer_of(f, "count")->nbuckets, 0);
	ck_assert_uint_eq(timer_of(f, "flush.time")->nbuckets, 0);
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

Suite *vt_test_mapping_suite(void)
{
	Suite *s = suite_create("mapping");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, readme_example_maps_as_documented);
	tcase_add_test(tc, first_rule_wins_unless_ordering_disabled);
	tcase_add_test(tc, thousand_rules_and_the_cache);
	tcase_add_test(tc, regex_rules_after_globs);
	tcase_add_test(tc, metric_type_defaults_and_options);
	tcase_add_loop_test(tc, bad_files_name_the_line_and_key, 0,
	    VT_N(bad_files));
	tcase_add_test(tc, empty_file_and_json_section);
	tcase_add_test(tc, agg_creates_mapped_series_and_drops);
	tcase_add_test(tc, known_series_never_ask_the_rules);
	tcase_add_test(tc, own_service_is_never_mapped);
	tcase_add_test(tc, rule_ttl_is_the_series_ttl);
	tcase_add_test(tc, histogram_rules_give_cumulative_buckets);
	tcase_add_test(tc, default_observer_covers_unmapped_names);
	tcase_add_test(tc, rules_read_again_apply_from_the_next_window);
	suite_add_tcase(s, tc);
	return s;
}
