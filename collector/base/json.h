/*
 * json.h - writing JSON into a struct vt_buf: strings escaped (and safe
 * inside an HTML <script>), invalid UTF-8 replaced, non-finite numbers as
 * null. Used by the API, the events stream, alert events and errors;
 * reading JSON is cJSON's.
 */
#ifndef VT_JSON_H
#define VT_JSON_H

#include "collector/base/buf.h"

/* Append s as a JSON string literal (quotes included), with invalid UTF-8
 * replaced and control characters escaped. */
void vt_json_string(struct vt_buf *out, const char *s);

/* Append `,"key":` and then v as a JSON string, or null when v is NULL. */
void vt_json_member_string(struct vt_buf *out, const char *key,
    const char *v);

/* Append `,"key":` and then v, or null when v is not finite (JSON has no
 * NaN or infinity). */
void vt_json_member_number(struct vt_buf *out, const char *key, double v);

#endif
