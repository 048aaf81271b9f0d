/*
 * config_keys.h - the table of configuration keys (config_keys.c): for each
 * setting its dotted JSON path, type, bounds, place in struct vt_config and
 * command-line flag. The single source of truth behind loading, flags,
 * validation, --help and --check-config (config.c).
 *
 * Setters and checks write "what is wrong" (without file or key) into a
 * caller buffer; the caller prefixes "vitalsd: FILE: KEY: ".
 */
#ifndef VT_CONFIG_KEYS_H
#define VT_CONFIG_KEYS_H

#include <stddef.h>

#include "collector/base/buf.h"
#include "collector/config/config.h"

struct cJSON;

#define VT_CFG_WHY_LEN 200     /* the "what is wrong" part of a message */
#define VT_CFG_SHOWN_MAX 64    /* bytes of a user's key or flag in a message */

enum vt_cfg_type {
	VT_CFG_STRING,      /* char[size]; at least `min` bytes long */
	VT_CFG_SECRET,      /* like STRING, printed as "***" when set */
	VT_CFG_URL,         /* char[size]; "" or amqp[s]://; password masked */
	VT_CFG_ADDR,        /* char[size]; host:port per vt_parse_addr */
	VT_CFG_BOOL,        /* int 0/1; JSON true/false */
	VT_CFG_COUNT,       /* size_t; a whole number in [min, max] */
	VT_CFG_BYTES,       /* size_t; a whole number, or with KiB/MiB/GiB */
	VT_CFG_DURATION,    /* double seconds in [min, max] */
	VT_CFG_PERCENTILES, /* npercentiles + percentiles[] of the struct */
	VT_CFG_LOG_LEVEL    /* int, enum vt_log_level; "debug" .. "error" */
};

struct vt_cfg_key {
	const char *path;     /* "statsd.listen"; at most one '.' */
	enum vt_cfg_type type;
	double min, max;      /* numbers: bounds; strings: min length */
	size_t offset;        /* offsetof(struct vt_config, field) */
	size_t size;          /* sizeof the field */
	const char *flag;     /* "--statsd", or NULL when file-only */
	const char *metavar;  /* the flag's value in --help: "ADDR:PORT" */
	const char *help;     /* one line, for --help and the example */
};

/* The table, in print order (keys of one section are adjacent). Static. */
const struct vt_cfg_key *vt_config_keys_table(size_t *count);
/* The key with this dotted path, or NULL. */
const struct vt_cfg_key *vt_config_keys_find(const char *path);
/* The key set by this flag ("--flush"), or NULL. */
const struct vt_cfg_key *vt_config_keys_by_flag(const char *flag);
/* 1 if some key lives under "path." (so path is a section). */
int vt_config_keys_is_section(const char *path);

/* Set a key from text (a flag's value, or a JSON string). 0, or -1 with
 * `why` set. Bounds are checked. Percentiles cannot be set from text. */
int vt_config_keys_set_text(const struct vt_cfg_key *k, struct vt_config *cfg,
    const char *text, char *why, size_t whylen);
/* Set a key from a JSON value (borrowed). 0, or -1 with `why` set. */
int vt_config_keys_set_json(const struct vt_cfg_key *k, struct vt_config *cfg,
    const struct cJSON *v, char *why, size_t whylen);
/* Check the key's current value in cfg: type, bounds, syntax. */
int vt_config_keys_check(const struct vt_cfg_key *k,
    const struct vt_config *cfg, char *why, size_t whylen);
/* Append the value as JSON ("10s", 1024, true, [50, 90]). masked != 0
 * hides secrets and URL passwords. */
void vt_config_keys_format(const struct vt_cfg_key *k,
    const struct vt_config *cfg, int masked, struct vt_buf *out);

/* "a string", "an array", "null", ...: a JSON value's type for messages. */
const char *vt_config_keys_json_type(const struct cJSON *v);

/* The one-line error: "vitalsd: " + file, key and the formatted problem,
 * the parts that are not NULL joined by ": ". */
void vt_config_keys_error(char *err, size_t errlen, const char *file,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* A user-supplied key or flag made safe for a message: control bytes as
 * '?', cut at VT_CFG_SHOWN_MAX bytes with "...". Writes into out (may be
 * s itself), returns out. */
const char *vt_config_keys_shown(const char *s, char *out, size_t outlen);

#endif
