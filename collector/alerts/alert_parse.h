/*
 * alert_parse.h - reading a config section's JSON objects member by
 * member, for the sections the alert engine owns ("alerts" in
 * alert_config.c, "expectations" in expect.c): each getter checks one
 * member's type and range, and the first problem is kept with its key
 * path ("alerts.rules[2].for") and what is wrong with it.
 */
#ifndef VT_ALERT_PARSE_H
#define VT_ALERT_PARSE_H

#include <cJSON.h>
#include <stddef.h>

/* Where the messages go, and the configured percentiles (threshold
 * rules name one). The caller's buffers; the first error wins. */
struct vt_alert_parse {
	char *key;
	size_t keylen;
	char *why;
	size_t whylen;
	const double *pct;
	size_t npct;
};

/* Set key and why; returns -1. */
int vt_alert_parse_fail(struct vt_alert_parse *p, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A key path into out; cut (never overflowing) when absurdly long. */
void vt_alert_parse_keyf(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* obj at `path` must be an object with only these members (a NULL-ended
 * list), each once. */
int vt_alert_parse_object(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *const *allowed);

/* 0 when obj has member name, else -1 with "<path>.<name>: why". */
int vt_alert_parse_require(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, const char *why);

/* Each getter: absent leaves *out alone and returns 0; a bad value is
 * -1 with the key and why set. */

/* A string of 1..maxlen bytes without control characters: a copy
 * (freeing *s). */
int vt_alert_parse_string(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, size_t maxlen, char **s);
/* "30s", "5m" or a number of seconds, in [min, max]. */
int vt_alert_parse_duration(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, double min, double max,
    double *out);
/* A finite number in [min, max], whole when asked. */
int vt_alert_parse_number(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, double min, double max, int whole,
    double *out);
/* An array of strings (or, with object, an object of string values: its
 * names in *keys), without line breaks; *n of them. */
int vt_alert_parse_strings(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, int object, size_t *n,
    char ***keys, char ***vals);
int vt_alert_parse_bool(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, int *out);

#endif
