/*
 * fleet.c - membership, ownership and announcements of the fleet
 * (fleet.h). A small array of members under one mutex: fleets are a
 * handful of collectors, each lookup a scan.
 */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/json.h"
#include "collector/base/xmalloc.h"
#include "collector/fleet/fleet.h"

/* "key":"value" (no comma). */
static void kv(struct vt_buf *out, const char *key, const char *v)
{
	vt_buf_printf(out, "\"%s\":", key);
	vt_json_string(out, v);
}

struct member {
	char name[VT_FLEET_NAME_MAX + 1];
	char url[VT_FLEET_URL_MAX + 1];
	double started, announce, last_seen;
	size_t nservices;
	char **services;              /* sorted, unique */
};

struct vt_fleet {
	pthread_mutex_t lock;
	struct member self;           /* last_seen unused */
	struct member members[VT_FLEET_MAX_MEMBERS];
	size_t n;
};

const char *vt_fleet_state_name(enum vt_fleet_state s)
{
	static const char *const names[] = { "unknown", "up", "gone" };
	return (unsigned)s < 3 ? names[s] : "?";
}

int vt_fleet_name_ok(const char *s)
{
	size_t n = 0;
	if (s == NULL)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
		if (n >= VT_FLEET_NAME_MAX)
			return 0;
	}
	return n > 0;
}

int vt_fleet_url_ok(const char *s)
{
	char target[VT_FLEET_URL_MAX + 1];
	if (s == NULL || strlen(s) > VT_FLEET_URL_MAX)
		return 0;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' ||
		    *p == '<' || *p == '>' || (unsigned char)*p == 0x7f)
			return 0;
	return vt_fleet_url_target(s, target, sizeof target) == 0;
}

int vt_fleet_url_target(const char *url, char *out, size_t outlen)
{
	int https = strncmp(url, "https://", 8) == 0;
	const char *h = strstr(url, "://");
	if (h == NULL)
		return -1;
	h += 3;
	size_t n = strcspn(h, "/?#");
	if (n == 0 || memchr(h, '@', n) != NULL)
		return -1;
	/* a port after the host (or after "]" of an IPv6 literal)? */
	const char *close = memchr(h, ']', n);
	const char *colon = memchr(close ? close : h, ':',
	    n - (size_t)((close ? close : h) - h));
	int len;
	if (colon != NULL)
		len = snprintf(out, outlen, "%.*s", (int)n, h);
	else
		len = snprintf(out, outlen, "%.*s:%d", (int)n, h,
		    https ? 443 : 80);
	return len > 0 && (size_t)len < outlen ? 0 : -1;
}

static void services_free(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort and drop duplicates; returns the new count. */
static size_t services_sort(char **s, size_t n)
{
	size_t m = 0;
	qsort(s, n, sizeof *s, cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && strcmp(s[m - 1], s[i]) == 0) {
			free(s[i]);
			continue;
		}
		s[m++] = s[i];
	}
	return m;
}

static int services_has(char *const *s, size_t n, const char *name)
{
	return n > 0 && bsearch(&name, s, n, sizeof *s, cmp_str) != NULL;
}

void vt_fleet_announce_fini(struct vt_fleet_announce *a)
{
	services_free(a->services, a->nservices);
	a->services = NULL;
	a->nservices = 0;
}

static int service_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > VT_FLEET_SERVICE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int vt_fleet_announce_parse(const char *body, size_t len,
    struct vt_fleet_announce *a, char *why, size_t whylen)
{
	memset(a, 0, sizeof *a);
	cJSON *o = cJSON_ParseWithLength(body, len);
	const cJSON *v;
	if (o == NULL || !cJSON_IsObject(o)) {
		snprintf(why, whylen, "not a JSON object");
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "name");
	if (!cJSON_IsString(v) || !vt_fleet_name_ok(v->valuestring)) {
		snprintf(why, whylen, "name: missing or not a valid name");
		goto fail;
	}
	snprintf(a->name, sizeof a->name, "%s", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(o, "url");
	if (!cJSON_IsString(v) || !vt_fleet_url_ok(v->valuestring)) {
		snprintf(why, whylen, "url: missing or not an http(s) URL");
		goto fail;
	}
	snprintf(a->url, sizeof a->url, "%s", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(o, "started");
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble < 0) {
		snprintf(why, whylen, "started: not a time");
		goto fail;
	}
	a->started = v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(o, "announce");
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= VT_FLEET_ANNOUNCE_MIN &&
	    v->valuedouble <= VT_FLEET_ANNOUNCE_MAX)) {
		snprintf(why, whylen, "announce: not an interval in [%g, %g]",
		    VT_FLEET_ANNOUNCE_MIN, VT_FLEET_ANNOUNCE_MAX);
		goto fail;
	}
	a->announce = v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(o, "services");
	if (!cJSON_IsArray(v)) {
		snprintf(why, whylen, "services: not an array");
		goto fail;
	}
	int n = cJSON_GetArraySize(v);
	if (n < 0 || (size_t)n > VT_FLEET_MAX_SERVICES) {
		snprintf(why, whylen, "services: more than %d",
		    VT_FLEET_MAX_SERVICES);
		goto fail;
	}
	a->services = vt_xcalloc((size_t)n + 1, sizeof *a->services);
	const cJSON *e;
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsString(e) || !service_name_ok(e->valuestring)) {
			snprintf(why, whylen, "services: an entry is not a "
			    "service name");
			goto fail;
		}
		a->services[a->nservices++] = vt_xstrdup(e->valuestring);
	}
	a->nservices = services_sort(a->services, a->nservices);
	cJSON_Delete(o);
	return 0;
fail:
	cJSON_Delete(o);
	vt_fleet_announce_fini(a);
	memset(a, 0, sizeof *a);
	return -1;
}

vt_fleet *vt_fleet_create(const char *name, const char *url,
    double announce, double started)
{
	vt_fleet *f = vt_xcalloc(1, sizeof *f);
	pthread_mutex_init(&f->lock, NULL);
	snprintf(f->self.name, sizeof f->self.name, "%s", name);
	snprintf(f->self.url, sizeof f->self.url, "%s", url);
	f->self.announce = announce;
	f->self.started = started;
	return f;
}

void vt_fleet_destroy(vt_fleet *f)
{
	if (f == NULL)
		return;
	services_free(f->self.services, f->self.nservices);
	for (size_t i = 0; i < f->n; i++)
		services_free(f->members[i].services,
		    f->members[i].nservices);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

const char *vt_fleet_name(const vt_fleet *f)
{
	return f->self.name;
}

const char *vt_fleet_url(const vt_fleet *f)
{
	return f->self.url;
}

double vt_fleet_started(const vt_fleet *f)
{
	return f->self.started;
}

void vt_fleet_set_url(vt_fleet *f, const char *url)
{
	pthread_mutex_lock(&f->lock);
	snprintf(f->self.url, sizeof f->self.url, "%s", url);
	pthread_mutex_unlock(&f->lock);
}

void vt_fleet_set_services(vt_fleet *f, const char *const *names, size_t n)
{
	char **s = vt_xcalloc(n + 1, sizeof *s);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (service_name_ok(names[i]))
			s[m++] = vt_xstrdup(names[i]);
	m = services_sort(s, m);
	pthread_mutex_lock(&f->lock);
	services_free(f->self.services, f->self.nservices);
	f->self.services = s;
	f->self.nservices = m;
	pthread_mutex_unlock(&f->lock);
}

int vt_fleet_holds(vt_fleet *f, const char *service)
{
	pthread_mutex_lock(&f->lock);
	int r = services_has(f->self.services, f->self.nservices, service);
	pthread_mutex_unlock(&f->lock);
	return r;
}

void vt_fleet_announce_json(vt_fleet *f, struct vt_buf *out)
{
	pthread_mutex_lock(&f->lock);
	vt_buf_putc(out, '{');
	kv(out, "name", f->self.name);
	vt_buf_putc(out, ',');
	kv(out, "url", f->self.url);
	vt_buf_printf(out, ",\"started\":%.3f,\"announce\":%g,"
	    "\"services\":[", f->self.started, f->self.announce);
	for (size_t i = 0; i < f->self.nservices; i++) {
		if (i)
			vt_buf_putc(out, ',');
		vt_json_string(out, f->self.services[i]);
	}
	vt_buf_puts(out, "]}");
	pthread_mutex_unlock(&f->lock);
}

static struct member *find(vt_fleet *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->members[i].name, name) == 0)
			return &f->members[i];
	return NULL;
}

static int member_up(const struct member *m, double now)
{
	return now - m->last_seen < VT_FLEET_GONE_AFTER * m->announce;
}

int vt_fleet_heard(vt_fleet *f, struct vt_fleet_announce *a, double now)
{
	if (strcmp(a->name, f->self.name) == 0)
		return -EEXIST;
	pthread_mutex_lock(&f->lock);
	struct member *m = find(f, a->name);
	if (m == NULL && f->n < VT_FLEET_MAX_MEMBERS) {
		m = &f->members[f->n++];
	} else if (m == NULL) {
		/* full: the one gone longest makes room */
		for (size_t i = 0; i < f->n; i++) {
			struct member *c = &f->members[i];
			if (!member_up(c, now) && (m == NULL ||
			    c->last_seen < m->last_seen))
				m = c;
		}
		if (m == NULL) {
			pthread_mutex_unlock(&f->lock);
			return -ENOSPC;
		}
		services_free(m->services, m->nservices);
		memset(m, 0, sizeof *m);
	}
	snprintf(m->name, sizeof m->name, "%s", a->name);
	snprintf(m->url, sizeof m->url, "%s", a->url);
	m->started = a->started;
	m->announce = a->announce;
	m->last_seen = now;
	services_free(m->services, m->nservices);
	m->services = a->services;
	m->nservices = a->nservices;
	a->services = NULL;
	a->nservices = 0;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

enum vt_fleet_state vt_fleet_state(vt_fleet *f, const char *name,
    double now)
{
	if (name == NULL || name[0] == '\0' || strcmp(name, f->self.name) == 0)
		return VT_FLEET_UP;
	pthread_mutex_lock(&f->lock);
	const struct member *m = find(f, name);
	enum vt_fleet_state s = m == NULL ? VT_FLEET_UNKNOWN :
	    member_up(m, now) ? VT_FLEET_UP : VT_FLEET_GONE;
	pthread_mutex_unlock(&f->lock);
	return s;
}

int vt_fleet_metrics_owner(vt_fleet *f, const char *service, double now,
    char *url, size_t urllen)
{
	int found = 0;
	pthread_mutex_lock(&f->lock);
	if (!services_has(f->self.services, f->self.nservices, service)) {
		for (size_t i = 0; i < f->n && !found; i++) {
			const struct member *m = &f->members[i];
			if (member_up(m, now) && services_has(m->services,
			    m->nservices, service)) {
				snprintf(url, urllen, "%s", m->url);
				found = 1;
			}
		}
	}
	pthread_mutex_unlock(&f->lock);
	return found;
}

int vt_fleet_notifies(vt_fleet *f, const char *origin, double now)
{
	if (origin == NULL || origin[0] == '\0' ||
	    strcmp(origin, f->self.name) == 0)
		return 1;
	pthread_mutex_lock(&f->lock);
	const struct member *o = find(f, origin);
	int r;
	if (o != NULL && member_up(o, now)) {
		r = 0;                       /* its owner is there */
	} else {
		/* the owner is gone: the smallest up name takes over */
		r = 1;
		for (size_t i = 0; i < f->n && r; i++)
			if (member_up(&f->members[i], now) && strcmp(
			    f->members[i].name, f->self.name) < 0)
				r = 0;
	}
	pthread_mutex_unlock(&f->lock);
	return r;
}

size_t vt_fleet_size(vt_fleet *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->n + 1;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* Members and self, sorted by name (pointers into f; under the lock). */
static size_t sorted(vt_fleet *f, const struct member **out)
{
	size_t n = 0;
	out[n++] = &f->self;
	for (size_t i = 0; i < f->n; i++)
		out[n++] = &f->members[i];
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(out[j - 1]->name,
		    out[j]->name) > 0; j--) {
			const struct member *t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

void vt_fleet_collectors_json(vt_fleet *f, struct vt_buf *out, double now)
{
	const struct member *all[VT_FLEET_MAX_MEMBERS + 1];
	pthread_mutex_lock(&f->lock);
	size_t n = sorted(f, all);
	vt_buf_putc(out, '{');
	kv(out, "self", f->self.name);
	vt_buf_puts(out, ",\"collectors\":[");
	for (size_t i = 0; i < n; i++) {
		const struct member *m = all[i];
		int self = m == &f->self;
		vt_buf_puts(out, i ? ",{" : "{");
		kv(out, "name", m->name);
		vt_buf_putc(out, ',');
		kv(out, "url", m->url);
		vt_buf_printf(out, ",\"state\":\"%s\",\"self\":%s,"
		    "\"last_seen\":%.3f,\"started\":%.3f,\"services\":%zu}",
		    self || member_up(m, now) ? "up" : "gone",
		    self ? "true" : "false", self ? now : m->last_seen,
		    m->started, m->nservices);
	}
	vt_buf_puts(out, "]}");
	pthread_mutex_unlock(&f->lock);
}

void vt_fleet_sd_json(vt_fleet *f, struct vt_buf *out, double now)
{
	const struct member *all[VT_FLEET_MAX_MEMBERS + 1];
	char target[VT_FLEET_URL_MAX + 1];
	size_t k = 0;
	pthread_mutex_lock(&f->lock);
	size_t n = sorted(f, all);
	vt_buf_putc(out, '[');
	for (size_t i = 0; i < n; i++) {
		const struct member *m = all[i];
		if ((m != &f->self && !member_up(m, now)) ||
		    vt_fleet_url_target(m->url, target, sizeof target) < 0)
			continue;
		vt_buf_puts(out, k++ ? ",{\"targets\":[" : "{\"targets\":[");
		vt_json_string(out, target);
		vt_buf_puts(out, "],\"labels\":{");
		kv(out, "collector", m->name);
		if (strncmp(m->url, "https://", 8) == 0)
			vt_buf_puts(out, ",\"__scheme__\":\"https\"");
		vt_buf_puts(out, "}}");
	}
	vt_buf_putc(out, ']');
	pthread_mutex_unlock(&f->lock);
}
