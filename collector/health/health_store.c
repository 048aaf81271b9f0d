/*
 * health_store.c - save and restore healthcheck state (health_store.h).
 * Writing: snapshot -> cJSON document -> an atomic state file
 * (base/state_file.h). Reading: whole file -> cJSON -> vt_health_restore
 * per entry; a document that cannot be used is renamed aside.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/loop.h"
#include "collector/base/state_file.h"
#include "collector/base/xmalloc.h"
#include "collector/config/config.h"
#include "collector/health/health_snapshot.h"
#include "collector/health/health_store.h"

#define FORMAT_NAME "vitals-health"
#define FORMAT_VERSION 1

/* ---- writing ---- */

/* A number that reads back exactly (cJSON's own printing keeps 15
 * digits when they compare equal within an epsilon). */
static void add_number(cJSON *o, const char *name, double v)
{
	char text[40];
	snprintf(text, sizeof text, "%.17g", isfinite(v) ? v : 0);
	cJSON_AddRawToObject(o, name, text);
}

static cJSON *check_json(const struct vt_health_check_view *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "service", c->service);
	cJSON_AddStringToObject(o, "instance", c->instance);
	cJSON_AddStringToObject(o, "check", c->check);
	cJSON_AddStringToObject(o, "status", vt_health_check_status_name(c->status));
	cJSON_AddStringToObject(o, "output", c->output);
	cJSON_AddBoolToObject(o, "stale", c->stale);
	add_number(o, "ttl", c->ttl);
	add_number(o, "first_seen", c->first_seen);
	add_number(o, "last_report", c->last_report);
	add_number(o, "last_change", c->last_change);
	add_number(o, "timestamp", c->timestamp);
	if (c->origin != NULL)
		cJSON_AddStringToObject(o, "origin", c->origin);
	cJSON *hist = cJSON_AddArrayToObject(o, "history");
	for (size_t i = 0; i < c->nhistory; i++) {
		const struct vt_health_transition *t = &c->history[i];
		cJSON *e = cJSON_CreateObject();
		add_number(e, "time", t->time);
		cJSON_AddStringToObject(e, "from", vt_health_check_status_name(t->from));
		cJSON_AddStringToObject(e, "to", vt_health_check_status_name(t->to));
		cJSON_AddBoolToObject(e, "stale", t->stale);
		cJSON_AddStringToObject(e, "output", t->output);
		cJSON_AddItemToArray(hist, e);
	}
	return o;
}

static char *render(const struct vt_health_snapshot *snap, double now)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "format", FORMAT_NAME);
	add_number(root, "version", FORMAT_VERSION);
	add_number(root, "saved", now);
	cJSON *checks = cJSON_AddArrayToObject(root, "checks");
	for (size_t i = 0; i < snap->nservices; i++) {
		const struct vt_health_service_view *s = &snap->services[i];
		for (size_t j = 0; j < s->nchecks; j++)
			cJSON_AddItemToArray(checks, check_json(&s->checks[j]));
	}
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL) {
		/* cJSON allocates with malloc: same policy as vt_xmalloc. */
		fprintf(stderr, "vitalsd: out of memory (health state)\n");
		abort();
	}
	return text;
}

int vt_health_store_save(const struct vt_health_snapshot *snap,
    const char *dir, double now, char *err, size_t errlen)
{
	char *text = render(snap, now);
	size_t len = strlen(text);
	text[len] = '\n';      /* over the NUL: the file ends in a newline */
	int rc = vt_state_file_write(dir, VT_HEALTH_STORE_FILE, text, len + 1,
	    err, errlen);
	free(text);
	return rc;
}

/* ---- reading ---- */

static const char *str_field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int num_field(const cJSON *o, const char *name, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return -1;
	*out = v->valuedouble;
	return 0;
}

static int status_field(const cJSON *o, const char *name, enum vt_status *out)
{
	const char *s = str_field(o, name);
	return s ? vt_health_check_status_parse(s, out) : -1;
}

static int name_ok(const char *s)
{
	char tmp[VT_CHECK_TEXT_MAX + 1];
	return s && vt_health_check_set_name(tmp, s, strlen(s)) == VT_CHECK_OK &&
	    strcmp(tmp, s) == 0;
}

/* One saved check to a view (strings borrowed from the cJSON tree;
 * history written into hist[VT_HEALTH_HISTORY]). 0 or -1. */
static int parse_check(const cJSON *o, struct vt_health_check_view *v,
    struct vt_health_transition *hist)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "history");
	const cJSON *e;

	memset(v, 0, sizeof *v);
	v->service = str_field(o, "service");
	v->instance = str_field(o, "instance");
	v->check = str_field(o, "check");
	v->output = str_field(o, "output");
	v->stale = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "stale"));
	v->origin = str_field(o, "origin");
	if (cJSON_GetObjectItemCaseSensitive(o, "origin") != NULL &&
	    !name_ok(v->origin))
		return -1;
	if (!name_ok(v->service) || !name_ok(v->instance) ||
	    !name_ok(v->check) || v->output == NULL ||
	    status_field(o, "status", &v->status) < 0 ||
	    num_field(o, "ttl", &v->ttl) < 0 || !vt_health_check_ttl_ok(v->ttl) ||
	    num_field(o, "first_seen", &v->first_seen) < 0 ||
	    num_field(o, "last_report", &v->last_report) < 0 ||
	    num_field(o, "last_change", &v->last_change) < 0 ||
	    num_field(o, "timestamp", &v->timestamp) < 0 ||
	    (h != NULL && !cJSON_IsArray(h)))
		return -1;
	if (strlen(v->output) > VT_CHECK_OUTPUT_MAX)
		return -1;
	v->history = hist;
	cJSON_ArrayForEach(e, h) {
		struct vt_health_transition *t = &hist[v->nhistory %
		    VT_HEALTH_HISTORY];
		t->output = str_field(e, "output");
		t->stale = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(e, "stale"));
		if (num_field(e, "time", &t->time) < 0 || t->output == NULL ||
		    status_field(e, "from", &t->from) < 0 ||
		    status_field(e, "to", &t->to) < 0)
			return -1;
		v->nhistory++;
	}
	/* More than the ring holds: the file was not ours; keep it sane. */
	return v->nhistory <= VT_HEALTH_HISTORY ? 0 : -1;
}

int vt_health_store_load(vt_health *h, const char *dir, double now,
    size_t *skipped, char *err, size_t errlen)
{
	struct vt_health_transition hist[VT_HEALTH_HISTORY];
	size_t bad = 0;
	const cJSON *e, *checks;
	cJSON *root;
	int restored = 0;

	if (skipped)
		*skipped = 0;
	int rc = vt_state_file_load_json(dir, VT_HEALTH_STORE_FILE,
	    VT_HEALTH_STORE_MAX, FORMAT_NAME, FORMAT_VERSION, "checks",
	    "check state", now, &root, &checks, err, errlen);
	if (rc <= 0)
		return rc;
	cJSON_ArrayForEach(e, checks) {
		struct vt_health_check_view v;
		if (parse_check(e, &v, hist) < 0 ||
		    vt_health_restore(h, &v, now) != VT_CHECK_OK)
			bad++;
		else
			restored++;
	}
	rc = restored;
	if (skipped)
		*skipped = bad;
	if (bad)
		snprintf(err, errlen, "%s/%s: %zu unusable entries skipped", dir,
		    VT_HEALTH_STORE_FILE, bad);
	cJSON_Delete(root);
	return rc;
}

/* ---- the saver thread ---- */

struct vt_health_saver {
	vt_health *h;
	const char *dir;
	double interval;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	uint64_t saved_version;      /* saver thread, then the stopper */
	uint64_t saved_changes;      /* changes_of() of what was saved */
	double saved_at;             /* monotonic */
	struct vt_complaint complaint;
};

/* Grows with every change of status, staleness or the set of checks: the
 * changes a restart must not lose, saved at once. */
static uint64_t changes_of(const struct vt_health_snapshot *snap)
{
	return snap->stats.transitions + snap->stats.stale +
	    snap->stats.forgotten + snap->nchecks;
}

/* Save the published snapshot when its version changed and either force
 * is set, its status changes differ from the saved ones, or `interval`
 * passed since the last save. */
static int save_if_changed(vt_health_saver *s, int force)
{
	char err[VT_ERR_LEN];
	struct vt_health_snapshot *snap = vt_health_snapshot_get(s->h);
	int rc = 0;
	double now = vt_clock_mono();
	if (snap->version != s->saved_version && (force ||
	    changes_of(snap) != s->saved_changes ||
	    now - s->saved_at >= s->interval)) {
		rc = vt_health_store_save(snap, s->dir, vt_clock_now(), err,
		    sizeof err);
		if (rc < 0) {
			vt_log_complain(&s->complaint, VT_LOG_ERROR, "health",
			    "saving check state: %s", err);
		} else {
			s->saved_version = snap->version;
			s->saved_changes = changes_of(snap);
			s->saved_at = now;
			vt_log_recovered(&s->complaint, "health",
			    "check state saved again");
		}
	}
	vt_health_snapshot_release(snap);
	return rc;
}

static void *saver_main(void *arg)
{
	vt_health_saver *s = arg;

	double step = s->interval < VT_HEALTH_STORE_CHANGE_GAP ? s->interval :
	    VT_HEALTH_STORE_CHANGE_GAP;
	save_if_changed(s, 1);       /* at start */
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		struct timespec deadline = vt_clock_deadline(step);
		while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock,
		    &deadline) != ETIMEDOUT)
			;
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->lock);
		save_if_changed(s, 0);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

vt_health_saver *vt_health_store_saver_start(vt_health *h, const char *dir,
    double interval, char *err, size_t errlen)
{
	vt_health_saver *s = vt_xcalloc(1, sizeof *s);
	s->h = h;
	s->dir = dir;
	s->interval = interval > 0.05 ? interval : 0.05;
	s->saved_version = UINT64_MAX;   /* nothing saved yet: save at start */
	s->saved_at = vt_clock_mono();
	pthread_mutex_init(&s->lock, NULL);
	vt_clock_cond_init(&s->cond);
	int rc = pthread_create(&s->thread, NULL, saver_main, s);
	if (rc != 0) {
		snprintf(err, errlen, "health saver thread: %s", strerror(rc));
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

int vt_health_store_saver_stop(vt_health_saver *s)
{
	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	int rc = save_if_changed(s, 1);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return rc;
}
