/*
 * config_json.h - the config file (JSON with comments) read into a struct
 * vt_config through the key table (config_keys.h): every key's type and
 * range checked, unknown keys refused, each error naming the file and
 * the key (or the line of a syntax error). Sections other modules own
 * ("alerts", "mappings") are skipped here and read by them with
 * vt_config_json_read.
 */
#ifndef VT_CONFIG_JSON_H
#define VT_CONFIG_JSON_H

#include <stddef.h>

#include "collector/config/config.h"

struct cJSON;

/* Apply one JSON config document (text, comments allowed). `file` names it
 * in messages. Returns 0, or -1 with err set. Used by tests and by
 * vt_config_from_args. */
int vt_config_json_apply(struct vt_config *cfg, const char *file,
    const char *text, char *err, size_t errlen);

/* Read the file at `path` (at most VT_CONFIG_FILE_MAX bytes) and apply it
 * as vt_config_json_apply does. Returns 0, or -1 with err set ("vitalsd:
 * FILE: <strerror>" when it cannot be read). */
int vt_config_json_load_file(struct vt_config *cfg, const char *path, char *err,
    size_t errlen);

/* Read the config file at path, comments stripped, as a parsed JSON
 * object (caller cJSON_Delete), for modules that read their own section
 * (alerts: alert_config.c). NULL with err set as vt_config_json_load_file. */
struct cJSON *vt_config_json_read(const char *path, char *err,
    size_t errlen);

/*
 * Add the line to an error about a key of a config file: "vitalsd: FILE:
 * PATH: what" (PATH such as "graphite.address", "alerts.rules[2].for" or
 * "rrd.overrides[0]: bogus") becomes "vitalsd: FILE: line N: PATH: what"
 * when FILE can be read and PATH found in it; other errors (a syntax
 * error, which names its line already, a flag, a file that cannot be
 * read) are left as they are. For every loader's error before it is
 * printed or logged, so each one names the file, the line and the key.
 */
void vt_config_json_add_line(char *err, size_t errlen);

/* The same error for a log line (SIGHUP): with its line, without the
 * leading "vitalsd: ". Returns a pointer into err. */
const char *vt_config_json_for_log(char *err, size_t errlen);

#endif
