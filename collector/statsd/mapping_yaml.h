/*
 * mapping_yaml.h - reading mapping rules (mapping.h) from where they are
 * kept: a statsd_exporter mapping file (YAML, read with libyaml, unchanged)
 * and the `mappings` section of the vitals config file (JSON). Both become
 * a struct vt_mnode tree for vt_mapping_add_doc; the YAML one keeps every
 * node's line, so an error names the file, the line and the key.
 */
#ifndef VT_MAPPING_YAML_H
#define VT_MAPPING_YAML_H

#include <stddef.h>

#include "collector/statsd/mapping.h"

struct cJSON;

#define VT_MAPPING_FILE_MAX (16u << 20)   /* largest mapping file, bytes */

/* Parse YAML text (the first document) into a tree (caller
 * vt_mnode_free). An empty document is a null scalar. NULL with err set
 * ("vitalsd: FILE:LINE: what") on a syntax error, a non-scalar or repeated
 * key, or nesting deeper than 64. */
struct vt_mnode *vt_mapping_yaml_parse(const char *text, size_t len,
    const char *file, char *err, size_t errlen);

/* A cJSON value as a tree (no lines). NULL with err set when an object
 * repeats a key. */
struct vt_mnode *vt_mapping_from_json(const struct cJSON *v,
    const char *file, const char *path, char *err, size_t errlen);

/*
 * The daemon's rules: the statsd_exporter file named by mapping_file (if
 * not "" or NULL) and then the `mappings` section of the config file at
 * config_path (if any), in that order. *out is NULL when there are no
 * rules at all. Returns 0, or -1 with err set ("vitalsd: FILE:LINE: KEY:
 * what" for the YAML file, "vitalsd: FILE: mappings[2].name: what" for
 * the section).
 */
int vt_mapping_load(const char *mapping_file, const char *config_path,
    vt_mapping **out, char *err, size_t errlen);

#endif
