/*
 * mapping_yaml.c - mapping rules from a statsd_exporter YAML file (libyaml's
 * document API, marks kept as line numbers) and from the config file's
 * `mappings` section (cJSON), both into struct vt_mnode trees
 * (mapping_yaml.h).
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "collector/base/xmalloc.h"
#include "collector/config/config_json.h"
#include "collector/statsd/mapping.h"
#include "collector/statsd/mapping_yaml.h"

#define MAX_DEPTH 64

struct yctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
};

static struct vt_mnode *from_yaml(struct yctx *c, yaml_node_t *y, int depth)
{
	unsigned line = (unsigned)y->start_mark.line + 1;
	if (depth > MAX_DEPTH) {
		snprintf(c->err, c->errlen, "vitalsd: %s:%u: nested deeper "
		    "than %d levels", c->file, line, MAX_DEPTH);
		return NULL;
	}
	switch (y->type) {
	case YAML_SCALAR_NODE: {
		char *text = vt_xstrndup((const char *)y->data.scalar.value,
		    y->data.scalar.length);
		if (strlen(text) != y->data.scalar.length) {
			free(text);
			snprintf(c->err, c->errlen, "vitalsd: %s:%u: a NUL "
			    "byte in a value", c->file, line);
			return NULL;
		}
		int is_string = y->data.scalar.style !=
		    YAML_PLAIN_SCALAR_STYLE;
		/* YAML's null spellings, plain: no value. */
		if (!is_string && (strcmp(text, "~") == 0 ||
		    strcmp(text, "null") == 0 || strcmp(text, "Null") == 0 ||
		    strcmp(text, "NULL") == 0))
			text[0] = '\0';
		struct vt_mnode *n = vt_mnode_scalar(text, is_string, line);
		free(text);
		return n;
	}
	case YAML_SEQUENCE_NODE: {
		struct vt_mnode *n = vt_mnode_new(VT_MNODE_SEQ, line);
		for (yaml_node_item_t *it = y->data.sequence.items.start;
		    it < y->data.sequence.items.top; it++) {
			yaml_node_t *child = yaml_document_get_node(c->doc, *it);
			struct vt_mnode *cn = child ?
			    from_yaml(c, child, depth + 1) : NULL;
			if (cn == NULL) {
				vt_mnode_free(n);
				return NULL;
			}
			vt_mnode_append(n, NULL, 0, cn);
		}
		return n;
	}
	case YAML_MAPPING_NODE: {
		struct vt_mnode *n = vt_mnode_new(VT_MNODE_MAP, line);
		for (yaml_node_pair_t *p = y->data.mapping.pairs.start;
		    p < y->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
			yaml_node_t *v = yaml_document_get_node(c->doc,
			    p->value);
			if (k == NULL || v == NULL)
				continue;
			unsigned kl = (unsigned)k->start_mark.line + 1;
			if (k->type != YAML_SCALAR_NODE) {
				snprintf(c->err, c->errlen, "vitalsd: %s:%u: a "
				    "key must be a plain name", c->file, kl);
				vt_mnode_free(n);
				return NULL;
			}
			char *key = vt_xstrndup(
			    (const char *)k->data.scalar.value,
			    k->data.scalar.length);
			for (size_t i = 0; i < n->n; i++)
				if (strcmp(n->keys[i], key) == 0) {
					snprintf(c->err, c->errlen, "vitalsd: "
					    "%s:%u: %.64s: given twice (first "
					    "on line %u)", c->file, kl, key,
					    n->key_lines[i]);
					free(key);
					vt_mnode_free(n);
					return NULL;
				}
			struct vt_mnode *cn = from_yaml(c, v, depth + 1);
			if (cn == NULL) {
				free(key);
				vt_mnode_free(n);
				return NULL;
			}
			vt_mnode_append(n, key, kl, cn);
			free(key);
		}
		return n;
	}
	default:
		return vt_mnode_scalar("", 0, line);
	}
}

struct vt_mnode *vt_mapping_yaml_parse(const char *text, size_t len,
    const char *file, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct vt_mnode *out = NULL;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "vitalsd: %s: cannot start the YAML "
		    "parser", file);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "vitalsd: %s:%zu: invalid YAML: %s%s%s",
		    file, parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "syntax error",
		    parser.context ? " " : "",
		    parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return NULL;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		out = vt_mnode_scalar("", 0, 1);
	} else {
		struct yctx c = { &doc, file, err, errlen };
		out = from_yaml(&c, root, 0);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (out == NULL)        /* one line, whatever a key held */
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	return out;
}

struct vt_mnode *vt_mapping_from_json(const cJSON *v, const char *file,
    const char *path, char *err, size_t errlen)
{
	char buf[64], sub[128];
	if (cJSON_IsObject(v)) {
		struct vt_mnode *n = vt_mnode_new(VT_MNODE_MAP, 0);
		const cJSON *it;
		cJSON_ArrayForEach(it, v) {
			for (size_t i = 0; i < n->n; i++)
				if (strcmp(n->keys[i], it->string) == 0) {
					snprintf(err, errlen, "vitalsd: %s: "
					    "%s.%.64s: given twice", file,
					    path, it->string);
					vt_mnode_free(n);
					return NULL;
				}
			snprintf(sub, sizeof sub, "%s.%.64s", path, it->string);
			struct vt_mnode *cn = vt_mapping_from_json(it, file,
			    sub, err, errlen);
			if (cn == NULL) {
				vt_mnode_free(n);
				return NULL;
			}
			vt_mnode_append(n, it->string, 0, cn);
		}
		return n;
	}
	if (cJSON_IsArray(v)) {
		struct vt_mnode *n = vt_mnode_new(VT_MNODE_SEQ, 0);
		const cJSON *it;
		size_t i = 0;
		cJSON_ArrayForEach(it, v) {
			snprintf(sub, sizeof sub, "%s[%zu]", path, i++);
			struct vt_mnode *cn = vt_mapping_from_json(it, file,
			    sub, err, errlen);
			if (cn == NULL) {
				vt_mnode_free(n);
				return NULL;
			}
			vt_mnode_append(n, NULL, 0, cn);
		}
		return n;
	}
	if (cJSON_IsString(v))
		return vt_mnode_scalar(v->valuestring, 1, 0);
	if (cJSON_IsNumber(v)) {
		snprintf(buf, sizeof buf, "%.15g", v->valuedouble);
		if (strtod(buf, NULL) != v->valuedouble)
			snprintf(buf, sizeof buf, "%.17g", v->valuedouble);
		return vt_mnode_scalar(buf, 0, 0);
	}
	if (cJSON_IsBool(v))
		return vt_mnode_scalar(cJSON_IsTrue(v) ? "true" : "false", 0,
		    0);
	return vt_mnode_scalar("", 0, 0);
}

/* The whole file. NULL with err set. */
static char *read_file(const char *path, size_t *len, char *err,
    size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "vitalsd: %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = vt_xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > VT_MAPPING_FILE_MAX) {
				snprintf(err, errlen, "vitalsd: %s: larger "
				    "than %u bytes", path,
				    VT_MAPPING_FILE_MAX);
				free(buf);
				fclose(f);
				return NULL;
			}
			cap *= 2;
			buf = vt_xrealloc(buf, cap);
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "vitalsd: %s: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int vt_mapping_load(const char *mapping_file, const char *config_path,
    vt_mapping **out, char *err, size_t errlen)
{
	vt_mapping *m = vt_mapping_create();
	*out = NULL;
	if (mapping_file && mapping_file[0]) {
		size_t len;
		char *text = read_file(mapping_file, &len, err, errlen);
		if (text == NULL)
			goto bad;
		struct vt_mnode *doc = vt_mapping_yaml_parse(text, len,
		    mapping_file, err, errlen);
		free(text);
		if (doc == NULL)
			goto bad;
		int rc = vt_mapping_add_doc(m, doc, mapping_file, "", err,
		    errlen);
		vt_mnode_free(doc);
		if (rc < 0)
			goto bad;
	}
	if (config_path && config_path[0]) {
		cJSON *root = vt_config_json_read(config_path, err, errlen);
		if (root == NULL)
			goto bad;
		const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root,
		    "mappings");
		int rc = 0;
		if (sec != NULL) {
			struct vt_mnode *doc = vt_mapping_from_json(sec,
			    config_path, "mappings", err, errlen);
			rc = doc ? vt_mapping_add_doc(m, doc, config_path,
			    "mappings", err, errlen) : -1;
			vt_mnode_free(doc);
		}
		cJSON_Delete(root);
		if (rc < 0)
			goto bad;
	}
	if (vt_mapping_rules(m) == 0) {
		vt_mapping_destroy(m);
		return 0;
	}
	*out = m;
	return 0;
bad:
	vt_mapping_destroy(m);
	for (char *p = err; *p; p++)    /* one line */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}
