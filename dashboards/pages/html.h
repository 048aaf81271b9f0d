/*
 * html.h - building HTML safely: escaping of everything a client sent,
 * URL path segments, and the small number and time formats the
 * dashboards share. All functions append to a struct vt_buf (buf.h).
 *
 * Rule for the pages: every string that came from the network (service,
 * metric, check, instance names, outputs, labels) goes through
 * vt_html_text (element content and quoted attribute values) or
 * vt_html_path (inside a URL); never through vt_buf_puts.
 */
#ifndef VT_HTML_H
#define VT_HTML_H

#include <stddef.h>

#include "collector/base/buf.h"

/* s as HTML text, safe in element content and in single- or
 * double-quoted attribute values: & < > " ' become entities, invalid
 * UTF-8 becomes U+FFFD, control characters (but tab/newline) are dropped. */
void vt_html_text(struct vt_buf *b, const char *s);
void vt_html_text_n(struct vt_buf *b, const char *s, size_t len);

/* s as one URL path segment or query value: everything outside
 * [A-Za-z0-9._~-] is percent-encoded ('/' too), so the result is also
 * safe inside a quoted attribute. */
void vt_html_path(struct vt_buf *b, const char *s);

/* "3s", "4m", "2h", "5d" - the age of something seen at t (unix time)
 * at now; "never" when t <= 0. */
void vt_html_age(struct vt_buf *b, double t, double now);

/* A figure for people: 3 significant digits, k/M suffixes, "-" for NaN. */
void vt_html_num(struct vt_buf *b, double v);

/* A duration in milliseconds: "870 µs", "12.3 ms", "1.52 s", "-" for NaN. */
void vt_html_ms(struct vt_buf *b, double ms);

#endif
