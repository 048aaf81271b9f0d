/*
 * health_check.c - the healthcheck value: status names, text rules shared by
 * every parser, and the DogStatsD `_sc` line to struct vt_check
 * (health_check.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "collector/base/parse.h"
#include "collector/base/utf8.h"
#include "collector/health/health_check.h"
#include "collector/statsd/names.h"
#include "collector/statsd/tags.h"

static const char *const format_names[VT_CHECK_FORMAT_COUNT] = {
	[VT_CHECK_JSON] = "json",
	[VT_CHECK_SC] = "dogstatsd",
};

static const char *const result_names[VT_CHECK_RESULT_COUNT] = {
	[VT_CHECK_OK] = "ok",
	[VT_CHECK_BAD_JSON] = "bad_json",
	[VT_CHECK_MISSING_FIELD] = "missing_field",
	[VT_CHECK_BAD_NAME] = "bad_name",
	[VT_CHECK_TOO_LONG] = "too_long",
	[VT_CHECK_BAD_STATUS] = "bad_status",
	[VT_CHECK_BAD_TTL] = "bad_ttl",
	[VT_CHECK_BAD_FIELD] = "bad_field",
	[VT_CHECK_OVER_CAP] = "over_cap",
};

static const char *const status_names[] = {
	[VT_STATUS_OK] = "ok",
	[VT_STATUS_WARNING] = "warning",
	[VT_STATUS_CRITICAL] = "critical",
	[VT_STATUS_UNKNOWN] = "unknown",
};

/* Indexed by enum vt_status. */
static const int severity[] = {
	[VT_STATUS_OK] = 0,
	[VT_STATUS_WARNING] = 2,
	[VT_STATUS_CRITICAL] = 3,
	[VT_STATUS_UNKNOWN] = 1,
};

const char *vt_health_check_format_name(enum vt_check_format f)
{
	return (unsigned)f < VT_CHECK_FORMAT_COUNT ? format_names[f] : "?";
}

const char *vt_health_check_result_name(enum vt_check_result r)
{
	return (unsigned)r < VT_CHECK_RESULT_COUNT ? result_names[r] : "?";
}

const char *vt_health_check_status_name(enum vt_status s)
{
	return (unsigned)s <= VT_STATUS_UNKNOWN ? status_names[s] : "?";
}

int vt_health_check_status_parse(const char *text, enum vt_status *out)
{
	for (unsigned i = 0; i <= VT_STATUS_UNKNOWN; i++) {
		if (strcasecmp(text, status_names[i]) == 0) {
			*out = (enum vt_status)i;
			return 0;
		}
	}
	return -1;
}

int vt_health_check_status_severity(enum vt_status s)
{
	return (unsigned)s <= VT_STATUS_UNKNOWN ? severity[s] : 1;
}

enum vt_status vt_health_check_status_worst(enum vt_status a, enum vt_status b)
{
	return vt_health_check_status_severity(b) > vt_health_check_status_severity(a) ? b : a;
}

static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

enum vt_check_result vt_health_check_set_name(char dst[VT_CHECK_TEXT_MAX + 1],
    const char *src, size_t len)
{
	dst[0] = '\0';
	if (len == 0)
		return VT_CHECK_BAD_NAME;
	for (size_t i = 0; i < len; i++)
		if (is_control((unsigned char)src[i]))
			return VT_CHECK_BAD_NAME;
	if (len > VT_CHECK_TEXT_MAX)
		return VT_CHECK_TOO_LONG;
	if (vt_utf8_clean(dst, VT_CHECK_TEXT_MAX + 1, src, len) >
	    VT_CHECK_TEXT_MAX) {
		dst[0] = '\0';
		return VT_CHECK_TOO_LONG;
	}
	return VT_CHECK_OK;
}

void vt_health_check_set_output(char dst[VT_CHECK_OUTPUT_MAX + 1], const char *src,
    size_t len)
{
	/* Replacement never shrinks text, so whatever lies past the cut in
	 * src would land past it in dst too: repairing a prefix is enough. */
	if (len > VT_CHECK_OUTPUT_MAX + 4)
		len = VT_CHECK_OUTPUT_MAX + 4;
	vt_utf8_clean(dst, VT_CHECK_OUTPUT_MAX + 1, src, len);
	for (char *p = dst; *p; p++)
		if (is_control((unsigned char)*p) && *p != '\n' && *p != '\t')
			*p = ' ';
}

int vt_health_check_ttl_ok(double ttl)
{
	return isfinite(ttl) && ttl > 0 && ttl <= VT_CHECK_TTL_MAX;
}

int vt_health_check_parse_ttl(const char *text, double *ttl)
{
	double s;
	if (vt_parse_duration(text, &s) < 0 || !vt_health_check_ttl_ok(s))
		return -1;
	*ttl = s;
	return 0;
}

/* DogStatsD escapes newlines in messages as "\n"; undo that. Writes at
 * most cap bytes (the caller cuts to the output size afterwards). */
static size_t unescape_message(char *dst, size_t cap, struct vt_slice m)
{
	size_t n = 0;
	for (size_t i = 0; i < m.len && n < cap; i++) {
		if (m.ptr[i] == '\\' && i + 1 < m.len && m.ptr[i + 1] == 'n') {
			dst[n++] = '\n';
			i++;
		} else {
			dst[n++] = m.ptr[i];
		}
	}
	return n;
}

static int slice_is(struct vt_slice s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* The service: and ttl: tags of a `_sc` line. */
static enum vt_check_result report_tags(const struct vt_check_report *r,
    struct vt_slice *service, double *ttl, char *why, size_t whylen)
{
	struct vt_slice key, value;
	size_t pos = 0;

	*service = (struct vt_slice){ NULL, 0 };
	while (vt_tags_next(r->tags, &pos, &key, &value)) {
		if (slice_is(key, "service")) {
			*service = value;
		} else if (slice_is(key, "ttl")) {
			char text[64];
			if (value.len == 0 || value.len >= sizeof text)
				goto bad_ttl;
			memcpy(text, value.ptr, value.len);
			text[value.len] = '\0';
			if (vt_health_check_parse_ttl(text, ttl) < 0)
				goto bad_ttl;
		}
	}
	return VT_CHECK_OK;
bad_ttl:
	snprintf(why, whylen, "ttl tag: expected seconds or a duration "
	    "(\"30s\", \"5m\", \"26h\") up to a year");
	return VT_CHECK_BAD_TTL;
}

static enum vt_check_result name_field(char *dst, struct vt_slice s,
    const char *field, char *why, size_t whylen)
{
	enum vt_check_result res = vt_health_check_set_name(dst, s.ptr, s.len);
	if (res == VT_CHECK_TOO_LONG)
		snprintf(why, whylen, "%s: longer than %d bytes", field,
		    VT_CHECK_TEXT_MAX);
	else if (res != VT_CHECK_OK)
		snprintf(why, whylen, "%s: empty or with control characters",
		    field);
	return res;
}

enum vt_check_result vt_health_check_from_report(struct vt_check *out,
    const struct vt_check_report *r, const char *default_instance,
    char *why, size_t whylen)
{
	struct vt_slice service_tag, service, check, instance;
	enum vt_check_result res;
	char msg[VT_CHECK_OUTPUT_MAX + 4];

	memset(out, 0, sizeof *out);
	out->ttl = VT_CHECK_DEFAULT_TTL;
	out->status = r->status;
	out->timestamp = (double)r->timestamp;
	res = report_tags(r, &service_tag, &out->ttl, why, whylen);
	if (res != VT_CHECK_OK)
		return res;
	vt_names_split(r->name, service_tag, &service, &check);
	if (r->instance.len > 0) {
		instance = r->instance;
	} else {
		if (default_instance == NULL || default_instance[0] == '\0')
			default_instance = VT_CHECK_NO_INSTANCE;
		instance = (struct vt_slice){ default_instance,
		    strlen(default_instance) };
	}
	if ((res = name_field(out->service, service, "service", why,
	    whylen)) != VT_CHECK_OK ||
	    (res = name_field(out->check, check, "check", why,
	    whylen)) != VT_CHECK_OK ||
	    (res = name_field(out->instance, instance, "instance", why,
	    whylen)) != VT_CHECK_OK)
		return res;
	vt_health_check_set_output(out->output, msg,
	    unescape_message(msg, sizeof msg, r->message));
	return VT_CHECK_OK;
}
