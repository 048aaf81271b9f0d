/* alert_parse.c - config objects member by member (alert_parse.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/alerts/alert_config.h"
#include "collector/alerts/alert_parse.h"
#include "collector/base/parse.h"
#include "collector/base/xmalloc.h"
#include "collector/config/config_keys.h"

void vt_alert_parse_keyf(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
}

int vt_alert_parse_fail(struct vt_alert_parse *p, const char *key,
    const char *fmt, ...)
{
	va_list ap;
	snprintf(p->key, p->keylen, "%s", key);
	va_start(ap, fmt);
	vsnprintf(p->why, p->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* obj at `path` must be an object with only these members, each once. */
int vt_alert_parse_object(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *const *allowed)
{
	if (!cJSON_IsObject(obj))
		return vt_alert_parse_fail(p, path,
		    "expected an object, got %s",
		    vt_config_keys_json_type(obj));
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		char key[VT_ALERT_KEY_LEN], shown[VT_CFG_SHOWN_MAX + 8];
		vt_config_keys_shown(it->string, shown, sizeof shown);
		vt_alert_parse_keyf(key, sizeof key, "%s.%s", path, shown);
		int ok = 0;
		for (size_t i = 0; allowed[i]; i++)
			ok |= strcmp(allowed[i], it->string) == 0;
		if (!ok)
			return vt_alert_parse_fail(p, key, "unknown key");
		for (const cJSON *q = obj->child; q != it; q = q->next)
			if (strcmp(q->string, it->string) == 0)
				return vt_alert_parse_fail(p, key,
				    "given twice");
	}
	return 0;
}

static const cJSON *member(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* 0 when obj has member name, else -1 with "<path>.<name>: why". */
int vt_alert_parse_require(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, const char *why)
{
	char key[VT_ALERT_KEY_LEN];
	if (member(obj, name) != NULL)
		return 0;
	vt_alert_parse_keyf(key, sizeof key, "%s.%s", path, name);
	return vt_alert_parse_fail(p, key, "%s", why);
}

/* A string member: NULL when absent (*s untouched), else a copy. */
int vt_alert_parse_string(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, size_t maxlen, char **s)
{
	const cJSON *v = member(obj, name);
	char key[VT_ALERT_KEY_LEN];
	if (v == NULL)
		return 0;
	vt_alert_parse_keyf(key, sizeof key, "%s.%s", path, name);
	if (!cJSON_IsString(v))
		return vt_alert_parse_fail(p, key, "expected a string, got %s",
		    vt_config_keys_json_type(v));
	size_t n = strlen(v->valuestring);
	if (n == 0 || n > maxlen)
		return vt_alert_parse_fail(p, key,
		    "must be 1 to %zu bytes long", maxlen);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v->valuestring[i] < 0x20)
			return vt_alert_parse_fail(p, key,
			    "contains a control character");
	free(*s);
	*s = vt_xstrdup(v->valuestring);
	return 0;
}

int vt_alert_parse_duration(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, double min, double max, double *out)
{
	const cJSON *v = member(obj, name);
	char key[VT_ALERT_KEY_LEN];
	double d;
	if (v == NULL)
		return 0;
	vt_alert_parse_keyf(key, sizeof key, "%s.%s", path, name);
	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	else if (!cJSON_IsString(v) ||
	    vt_parse_duration(v->valuestring, &d) < 0)
		return vt_alert_parse_fail(p, key,
		    "expected a duration such as \"30s\", "
		    "\"5m\" or a number of seconds");
	if (!(d >= min && d <= max))
		return vt_alert_parse_fail(p, key,
		    "must be between %gs and %gs", min, max);
	*out = d;
	return 0;
}

int vt_alert_parse_number(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, double min, double max, int whole,
    double *out)
{
	const cJSON *v = member(obj, name);
	char key[VT_ALERT_KEY_LEN];
	if (v == NULL)
		return 0;
	vt_alert_parse_keyf(key, sizeof key, "%s.%s", path, name);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return vt_alert_parse_fail(p, key, "expected a number, got %s",
		    vt_config_keys_json_type(v));
	double d = v->valuedouble;
	if (!(d >= min && d <= max) || (whole && d != floor(d)))
		return vt_alert_parse_fail(p, key,
		    "must be a %snumber between %g and %g",
		    whole ? "whole " : "", min, max);
	*out = d;
	return 0;
}

/* An array of strings (or an object of string values when keys != NULL). */
int vt_alert_parse_strings(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, int object, size_t *n, char ***keys,
    char ***vals)
{
	const cJSON *v = member(obj, name), *it;
	char key[VT_ALERT_KEY_LEN];
	if (v == NULL)
		return 0;
	vt_alert_parse_keyf(key, sizeof key, "%s.%s", path, name);
	if (object ? !cJSON_IsObject(v) : !cJSON_IsArray(v))
		return vt_alert_parse_fail(p, key, "expected %s, got %s",
		    object ?
		    "an object of strings" : "an array of strings",
		    vt_config_keys_json_type(v));
	size_t count = (size_t)cJSON_GetArraySize(v), i = 0;
	*vals = vt_xcalloc(count + 1, sizeof **vals);
	if (object)
		*keys = vt_xcalloc(count + 1, sizeof **keys);
	*n = count;
	cJSON_ArrayForEach(it, v) {
		char ikey[VT_ALERT_KEY_LEN];
		if (object)
			vt_alert_parse_keyf(ikey, sizeof ikey, "%s.%s", key,
			    it->string);
		else
			vt_alert_parse_keyf(ikey, sizeof ikey, "%s[%zu]", key,
			    i);
		if (!cJSON_IsString(it))
			return vt_alert_parse_fail(p, ikey,
			    "expected a string, got %s",
			    vt_config_keys_json_type(it));
		if (strpbrk(it->valuestring, "\r\n") ||
		    (object && (it->string[0] == '\0' ||
		    strpbrk(it->string, ":\r\n"))))
			return vt_alert_parse_fail(p, ikey,
			    "no line breaks (or ':' in "
			    "names) allowed");
		if (object)
			(*keys)[i] = vt_xstrdup(it->string);
		(*vals)[i++] = vt_xstrdup(it->valuestring);
	}
	return 0;
}

int vt_alert_parse_bool(struct vt_alert_parse *p, const cJSON *obj,
    const char *path, const char *name, int *out)
{
	const cJSON *v = member(obj, name);
	char key[VT_ALERT_KEY_LEN];
	if (v == NULL)
		return 0;
	vt_alert_parse_keyf(key, sizeof key, "%s.%s", path, name);
	if (!cJSON_IsBool(v))
		return vt_alert_parse_fail(p, key,
		    "expected true or false, got %s",
		    vt_config_keys_json_type(v));
	*out = cJSON_IsTrue(v);
	return 0;
}

