/*
 * fuzz_mapping_yaml.c - mapping rules from a statsd_exporter mapping file
 * (mapping_yaml.h, mapping.h): the input is the YAML text, parsed with
 * libyaml into a tree and read by the rule schema; when it loads, every
 * line of the input is also looked up as a metric name of each kind.
 *
 * Invariants: a file that does not load gives one line naming the file
 * ("vitalsd: fuzz.yml..."), and adds no rule; one that loads answers every
 * lookup either "no rule" or with a rule of this mapping whose action is
 * map or drop, a mapped name that is not empty and at most VT_NAME_MAX
 * bytes, at most VT_MAP_MAX_LABELS labels with valid label names, and the
 * same answer when asked again (the cache agrees with the matcher).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/statsd/mapping.h"
#include "collector/statsd/mapping_yaml.h"
#include "fuzz_common.h"

#define FILE_NAME "fuzz.yml"

static void check_answer(const vt_mapping *m, const struct vt_map_result *r)
{
	if (r == NULL)
		return;
	FUZZ_ASSERT(r->rule != NULL && r->rule->index < vt_mapping_rules(m) &&
	    vt_mapping_rule(m, r->rule->index) == r->rule, "foreign rule");
	FUZZ_ASSERT(r->action == VT_MAP_MAP || r->action == VT_MAP_DROP,
	    "action %d", (int)r->action);
	if (r->action == VT_MAP_MAP)
		FUZZ_ASSERT(r->name.len > 0 && r->name.len <= VT_NAME_MAX,
		    "mapped name of %zu bytes", r->name.len);
	FUZZ_ASSERT(r->service.len <= VT_NAME_MAX, "service too long");
	FUZZ_ASSERT(r->nlabels <= VT_MAP_MAX_LABELS, "%zu labels",
	    r->nlabels);
	for (size_t i = 0; i < r->nlabels; i++) {
		FUZZ_ASSERT(r->label_key[i].len > 0, "empty label name");
		FUZZ_ASSERT(r->label_value[i].len <= VT_NAME_MAX,
		    "label value too long");
		FUZZ_ASSERT(!(r->label_key[i].len == 7 &&
		    memcmp(r->label_key[i].ptr, "service", 7) == 0),
		    "service left among the labels");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[VT_ERR_LEN * 2];
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	err[0] = '\0';
	struct vt_mnode *doc = vt_mapping_yaml_parse(text, size, FILE_NAME,
	    err, sizeof err);
	vt_mapping *m = vt_mapping_create();
	if (doc == NULL) {
		fuzz_message(err, sizeof err, "mapping_yaml");
		FUZZ_ASSERT(strncmp(err, "vitalsd: " FILE_NAME, 17) == 0,
		    "error does not name the file: %s", err);
		goto out;
	}
	if (vt_mapping_add_doc(m, doc, FILE_NAME, "", err, sizeof err) < 0) {
		fuzz_message(err, sizeof err, "mapping_yaml");
		FUZZ_ASSERT(strncmp(err, "vitalsd: " FILE_NAME, 17) == 0,
		    "error does not name the file: %s", err);
		FUZZ_ASSERT(vt_mapping_rules(m) == 0, "a bad file added rules");
		goto out;
	}
	/* Every line of the input as a name, of every kind, twice. */
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		size_t len = next ? (size_t)(next - line) : strlen(line);
		if (next)
			next++;
		if (len == 0 || len > VT_NAME_MAX)
			continue;
		struct vt_slice name = { line, len };
		for (int k = 0; k < VT_KIND_COUNT; k++) {
			const struct vt_map_result *a = vt_mapping_lookup(m,
			    name, (enum vt_kind)k);
			check_answer(m, a);
			const struct vt_map_rule *rule = a ? a->rule : NULL;
			size_t nlen = a ? a->name.len : 0;
			const struct vt_map_result *b = vt_mapping_lookup(m,
			    name, (enum vt_kind)k);
			FUZZ_ASSERT((b ? b->rule : NULL) == rule &&
			    (b ? b->name.len : 0) == nlen,
			    "the cache answers otherwise");
		}
	}
out:
	vt_mnode_free(doc);
	vt_mapping_destroy(m);
	free(text);
	return 0;
}
