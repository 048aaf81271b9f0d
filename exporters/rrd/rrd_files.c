/*
 * rrd_files.c - the RRD writer's file table (rrd_files.h): safe creation,
 * last timestamps, one owner per file, and the per-round coalescing of
 * updates (several windows of a file in one update: written in place by
 * rrd_direct in direct mode, else one librrd or rrdcached call).
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/base/buf.h"
#include "collector/base/clock.h"
#include "collector/base/hash.h"
#include "collector/base/log.h"
#include "collector/base/parse.h"
#include "collector/base/xmalloc.h"
#include "collector/config/config_json.h"
#include "exporters/rrd/rrd_direct.h"
#include "exporters/rrd/rrd_files.h"
#include "exporters/rrd/rrd_held.h"
#include "exporters/rrd/rrd_layout.h"
#include "exporters/rrd/rrd_updater.h"

#define LOG_SUB "rrd"
#define RETRY_ROUNDS 60          /* re-check a mismatched file this often */
#define DIRECT_ARGS_MAX 256      /* windows per direct update call */
#define CACHED_CMD_BUDGET 3800   /* bytes of one rrdcached command (< 4096) */
#define KIND_CAP_MAX (1u << 23)  /* slots of the kind registry at most */
#define PATH_SEED 0x72726470617468ull
#define ERR_MAX (PATH_MAX + 512)     /* messages name a path and a reason */
#define RRDW_WINDOW 32           /* update calls in flight to the worker */
#define CREATE_SHARE 0.5         /* of a window a round may spend creating */

enum file_state {
	FILE_NEW = 0,     /* not checked or created yet (or to re-check) */
	FILE_READY,       /* exists with our data sources; last is known */
	FILE_CLASH,       /* another (older) series owns the path */
	FILE_MISMATCH,    /* the file has other data sources */
	FILE_STEP,        /* the file's step is not the flush interval */
	FILE_WAIT         /* to be created when create_rate allows; its
	                     windows are held meanwhile */
};

struct rrd_file {
	struct rrd_file *next_id;       /* chain in the series map */
	struct rrd_file *next_path;     /* chain in the path map (owners) */
	struct rrd_file *next_touched;  /* this round's list */
	struct rrd_file *next_held;     /* files holding windows */
	struct rrd_file *next_wait;     /* FILE_WAIT, oldest first */
	struct vt_series *series;       /* one reference; NULL for checks */
	char *rel;                      /* owned */
	uint64_t path_hash;
	time_t last;
	double last_window;             /* close time of the window at last,
	                                   when wrote */
	double last_value;              /* checks: the status written at last */
	time_t held;                    /* checks: the newest window folded
	                                   (same status as last_value), or 0 */
	struct vt_rrd_held hold;        /* write-behind (rrd_files.h) */
	time_t first, due;              /* oldest window held; when it goes */
	uint32_t seen;                  /* round it was last updated in */
	uint32_t retry;                 /* round to re-check a mismatch */
	uint32_t pend_head, pend_tail, npend;
	/* Small fields last, packed: 10,000 files are a few MB. */
	uint8_t kind;                   /* enum vt_rrd_kind */
	uint8_t state;                  /* enum file_state */
	uint8_t owner;                  /* in the path map */
	uint8_t wrote;                  /* `last` was written by us */
	uint8_t created;                /* made by this table: holds nothing
	                                   from before */
	uint8_t touched;
	uint8_t step_bad;               /* counted in step_mismatch */
	uint8_t in_held;                /* on the held list */
	uint8_t via_lib;                /* direct mode, but a file the direct
	                                   writer does not write (rrd_direct.h):
	                                   through the worker's librrd */
	uint8_t nmap;                   /* the file's data sources: */
	uint8_t map[VT_RRD_MAX_DS];     /* index of each in the window's
	                                   values (vt_rrd_layout_ds order) */
};

struct map {
	struct rrd_file **b;
	size_t nb, n;
};

/* One gathered update: text in the round arena, chained per file. */
struct pend {
	size_t off;
	uint32_t next;
};

/* An update call sent to the worker, waiting for its answer. */
struct inflight {
	struct rrd_file *f;
	size_t k;                       /* windows it carries */
};

/* A slot of the kind registry: 56 bits of the path's hash (never 0),
 * then the kind in the low byte; 0 = empty. 8 bytes a file. */
typedef uint64_t kind_slot;
#define KIND_KEY(v) ((v) & ~(uint64_t)0xff)

struct vt_rrd_files {
	struct vt_rrd_files_config cfg;
	char dir[PATH_MAX];
	double started;                 /* unix time the table was made */
	struct map ids;                 /* by series pointer */
	struct map paths;               /* by relative path: owners */
	uint32_t round;                 /* rounds so far (wraps in 136 years
	                                   of 1 s windows) */
	size_t nready;
	struct vt_buf text;             /* this round's update strings */
	struct pend *pend;
	size_t npend, cappend;
	const char **argv;
	size_t capargv;
	struct rrd_file *touched;
	struct inflight inflight[RRDW_WINDOW];
	struct vt_rrd_direct *direct;   /* direct mode: the in-place writer */
	struct vt_rrd_direct_row *drows;    /* a file's held windows, */
	time_t *dts;                        /* decoded (held_rows) */
	double *dvals;
	size_t capdrows;
	size_t inflight_head, ninflight;
	uint64_t created_round, adopted_round, updated_round;
	uint64_t update_errors_round, create_errors_round;
	uint64_t cut_round;             /* windows stored unknown: a restart */
	struct vt_complaint c_create, c_update, c_cached, c_conflict;
	struct vt_rrd_layout_opts opts;  /* what new files store */
	size_t step_mismatch;           /* FILE_STEP files found */
	size_t step_round;              /* ... of them this round */
	unsigned long step_seen;        /* the step of the last one */
	/* Write-behind and creation at a bounded rate. */
	struct rrd_file *held;          /* files holding windows */
	struct rrd_file *wait_head, *wait_tail;
	uint64_t nwaiting, held_rows, held_bytes;
	time_t newest;                  /* newest window added: the clock */
	double oldest;                  /* oldest held window, at commit */
	double tokens, token_time;      /* creations allowed now; refilled */
	double create_spent;            /* seconds spent creating this round */
	int force;                      /* write everything held (stop) */
	double pct[VT_MAX_PERCENTILES]; /* of the newest window prepared: */
	size_t npct;                    /* what waiting files are made with */
	pthread_mutex_t kind_lock;      /* guards kinds */
	kind_slot *kinds;
	size_t kind_cap, kind_n;
};

/* ---- maps ---- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static uint64_t id_hash(const struct vt_series *s)
{
	return mix((uint64_t)(uintptr_t)s);
}

static struct rrd_file **chain_next(struct rrd_file *f, int by_path)
{
	return by_path ? &f->next_path : &f->next_id;
}

static uint64_t key_of(const struct rrd_file *f, int by_path)
{
	return by_path ? f->path_hash : id_hash(f->series);
}

static void map_grow(struct map *m, int by_path)
{
	size_t nb = m->nb ? m->nb * 2 : 1024;
	struct rrd_file **b = vt_xcalloc(nb, sizeof *b);
	for (size_t i = 0; i < m->nb; i++) {
		struct rrd_file *f = m->b[i];
		while (f) {
			struct rrd_file *next = *chain_next(f, by_path);
			size_t j = key_of(f, by_path) & (nb - 1);
			*chain_next(f, by_path) = b[j];
			b[j] = f;
			f = next;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

static void map_insert(struct map *m, struct rrd_file *f, int by_path)
{
	if (m->n >= m->nb)
		map_grow(m, by_path);
	size_t j = key_of(f, by_path) & (m->nb - 1);
	*chain_next(f, by_path) = m->b[j];
	m->b[j] = f;
	m->n++;
}

static void map_remove(struct map *m, struct rrd_file *f, int by_path)
{
	if (m->nb == 0)
		return;
	struct rrd_file **pp = &m->b[key_of(f, by_path) & (m->nb - 1)];
	for (; *pp; pp = chain_next(*pp, by_path)) {
		if (*pp == f) {
			*pp = *chain_next(f, by_path);
			m->n--;
			return;
		}
	}
}

static struct rrd_file *find_series(struct vt_rrd_files *t,
    const struct vt_series *s)
{
	if (t->ids.nb == 0)
		return NULL;
	struct rrd_file *f = t->ids.b[id_hash(s) & (t->ids.nb - 1)];
	for (; f; f = f->next_id)
		if (f->series == s)
			return f;
	return NULL;
}

static struct rrd_file *find_path(struct vt_rrd_files *t, uint64_t h,
    const char *rel)
{
	if (t->paths.nb == 0)
		return NULL;
	struct rrd_file *f = t->paths.b[h & (t->paths.nb - 1)];
	for (; f; f = f->next_path)
		if (f->path_hash == h && strcmp(f->rel, rel) == 0)
			return f;
	return NULL;
}

/* ---- the kind registry (read by HTTP threads) ---- */

static uint64_t kind_key(const char *rel)
{
	return KIND_KEY(vt_hash(rel, strlen(rel), PATH_SEED)) | 0x100;
}

/* Up to three quarters full, then doubled (at most KIND_CAP_MAX). */
static void kind_put(struct vt_rrd_files *t, const char *rel, int kind)
{
	uint64_t key = kind_key(rel);
	pthread_mutex_lock(&t->kind_lock);
	if ((t->kind_n + 1) * 4 > t->kind_cap * 3 && t->kind_cap < KIND_CAP_MAX) {
		size_t cap = t->kind_cap ? t->kind_cap * 2 : 1024;
		kind_slot *k = vt_xcalloc(cap, sizeof *k);
		for (size_t i = 0; i < t->kind_cap; i++) {
			if (t->kinds[i] == 0)
				continue;
			size_t j = (t->kinds[i] >> 8) & (cap - 1);
			while (k[j])
				j = (j + 1) & (cap - 1);
			k[j] = t->kinds[i];
		}
		free(t->kinds);
		t->kinds = k;
		t->kind_cap = cap;
	}
	if ((t->kind_n + 1) * 4 <= t->kind_cap * 3) {
		size_t j = (key >> 8) & (t->kind_cap - 1);
		while (t->kinds[j] && KIND_KEY(t->kinds[j]) != key)
			j = (j + 1) & (t->kind_cap - 1);
		if (t->kinds[j] == 0)
			t->kind_n++;
		t->kinds[j] = key | (uint8_t)kind;
	}
	pthread_mutex_unlock(&t->kind_lock);
}

int vt_rrd_files_kind_of(struct vt_rrd_files *t, const char *rel)
{
	uint64_t key = kind_key(rel);
	int kind = -1;
	pthread_mutex_lock(&t->kind_lock);
	if (t->kind_cap) {
		size_t j = (key >> 8) & (t->kind_cap - 1);
		while (t->kinds[j]) {
			if (KIND_KEY(t->kinds[j]) == key) {
				kind = (int)(t->kinds[j] & 0xff);
				break;
			}
			j = (j + 1) & (t->kind_cap - 1);
		}
	}
	pthread_mutex_unlock(&t->kind_lock);
	return kind;
}

/* ---- the header of a file ---- */

int vt_rrd_files_read_header(const char *path, struct vt_rrd_header *h,
    char *err, size_t errlen)
{
	struct vt_rrd_stat_head st;
	memset(h, 0, sizeof *h);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	int rc = -EINVAL;
	off_t off = 0;
	if (pread(fd, &st, sizeof st, off) != (ssize_t)sizeof st ||
	    memcmp(st.cookie, "RRD", 4) != 0 ||
	    st.float_cookie != VT_RRD_FLOAT_COOKIE ||
	    st.ds_cnt == 0 || st.ds_cnt > 4096 || st.rra_cnt == 0 ||
	    st.rra_cnt > 4096 || st.pdp_step == 0)
		goto out;
	off += (off_t)sizeof st;
	h->step = st.pdp_step;
	for (unsigned long i = 0; i < st.ds_cnt; i++,
	    off += sizeof(struct vt_rrd_ds_def)) {
		struct vt_rrd_ds_def d;
		if (pread(fd, &d, sizeof d, off) != (ssize_t)sizeof d)
			goto out;
		if (h->ds.n < VT_RRD_MAX_DS)
			snprintf(h->ds.name[h->ds.n++], VT_RRD_DS_NAME_MAX,
			    "%.19s", d.name);
	}
	for (unsigned long i = 0; i < st.rra_cnt; i++,
	    off += sizeof(struct vt_rrd_rra_def)) {
		struct vt_rrd_rra_def a;
		if (pread(fd, &a, sizeof a, off) != (ssize_t)sizeof a)
			goto out;
		if (h->nrra < VT_RRD_HEADER_RRA_MAX) {
			snprintf(h->rra[h->nrra].cf, VT_RRD_DS_NAME_MAX, "%.19s",
			    a.cf);
			h->rra[h->nrra].rows = a.row_cnt;
			h->rra[h->nrra].pdp_per_row = a.pdp_cnt;
			h->nrra++;
		}
	}
	time_t last;
	if (pread(fd, &last, sizeof last, off) != (ssize_t)sizeof last)
		goto out;
	h->last = last;
	rc = 0;
out:
	if (rc < 0)
		snprintf(err, errlen, "%s: not an RRD file of this platform",
		    path);
	close(fd);
	return rc;
}

int vt_rrd_header_has(const struct vt_rrd_header *h, const char *cf,
    unsigned long pdp_per_row)
{
	for (size_t i = 0; i < h->nrra; i++)
		if (strcmp(h->rra[i].cf, cf) == 0 && (pdp_per_row == 0 ||
		    h->rra[i].pdp_per_row == pdp_per_row))
			return 1;
	return 0;
}

/* One entry of rrd.overrides into o. 0, or -1 with why. */
static int override_from(const cJSON *e, const struct vt_rrd_layout_opts *base,
    struct vt_rrd_override *o, char *why, size_t whylen)
{
	const cJSON *item;
	memset(o, 0, sizeof *o);
	o->opts = *base;
	if (!cJSON_IsObject(e)) {
		snprintf(why, whylen, "expected an object");
		return -1;
	}
	cJSON_ArrayForEach(item, e) {
		const char *k = item->string;
		char sub[160];
		int glob = strcmp(k, "service") == 0 || strcmp(k, "metric") == 0;
		int stats = strcmp(k, "timer_stats") == 0 ||
		    strcmp(k, "counter_stats") == 0;
		if (glob || stats) {
			if (!cJSON_IsString(item) || item->valuestring[0] == '\0' ||
			    strlen(item->valuestring) >= VT_RRD_PATTERN_MAX) {
				snprintf(why, whylen, "%s: expected a string of 1 "
				    "to %d bytes", k, VT_RRD_PATTERN_MAX - 1);
				return -1;
			}
			if (glob) {
				snprintf(k[0] == 's' ? o->service : o->metric,
				    VT_RRD_PATTERN_MAX, "%s", item->valuestring);
				continue;
			}
			int counter = k[0] == 'c';
			if (vt_rrd_layout_parse_stats(item->valuestring,
			    counter ? VT_RRD_COUNTER : VT_RRD_TIMER,
			    counter ? &o->opts.counter_stats :
			    &o->opts.timer_stats, sub, sizeof sub) < 0) {
				snprintf(why, whylen, "%s: %s", k, sub);
				return -1;
			}
		} else if (strcmp(k, "max_archives") == 0) {
			if (!cJSON_IsBool(item)) {
				snprintf(why, whylen, "%s: expected true or false",
				    k);
				return -1;
			}
			o->opts.max = cJSON_IsTrue(item) ? VT_RRD_MAX_COARSE :
			    VT_RRD_MAX_NONE;
		} else if (strcmp(k, "retention") == 0) {
			double v = cJSON_GetNumberValue(item);
			if ((cJSON_IsString(item) &&
			    vt_parse_duration(item->valuestring, &v) < 0) ||
			    !(cJSON_IsString(item) || cJSON_IsNumber(item)) ||
			    !(v >= (double)VT_RRD_RETENTION_MIN &&
			    v <= (double)VT_RRD_RETENTION_MAX)) {
				snprintf(why, whylen, "%s: expected a duration "
				    "from 1h to 3660d", k);
				return -1;
			}
			o->opts.retention = (unsigned long)llround(v);
		} else if (strcmp(k, "points_per_range") == 0) {
			double v = cJSON_GetNumberValue(item);
			if (!cJSON_IsNumber(item) || v != (double)(long)v ||
			    v < 10 || v > 100000) {
				snprintf(why, whylen, "%s: expected a whole number "
				    "from 10 to 100000", k);
				return -1;
			}
			o->points = (size_t)v;
		} else {
			snprintf(why, whylen, "%.40s: unknown key (service, "
			    "metric, timer_stats, counter_stats, max_archives, "
			    "retention, points_per_range)", k);
			return -1;
		}
	}
	if (o->service[0] == '\0' && o->metric[0] == '\0') {
		snprintf(why, whylen, "needs \"service\" or \"metric\" (a "
		    "pattern); for every file set the rrd keys themselves");
		return -1;
	}
	return 0;
}

int vt_rrd_files_load_overrides(const char *path,
    const struct vt_rrd_layout_opts *base, char *err, size_t errlen)
{
	static struct vt_rrd_override list[VT_RRD_OVERRIDES_MAX];
	vt_rrd_layout_set_overrides(NULL, 0);
	if (path == NULL || path[0] == '\0')
		return 0;
	cJSON *doc = vt_config_json_read(path, err, errlen);
	if (doc == NULL)
		return -1;
	const cJSON *rrd = cJSON_GetObjectItemCaseSensitive(doc, "rrd");
	const cJSON *arr = cJSON_IsObject(rrd) ?
	    cJSON_GetObjectItemCaseSensitive(rrd, "overrides") : NULL;
	int n = 0, rc = 0;
	if (arr && !cJSON_IsArray(arr)) {
		snprintf(err, errlen, "vitalsd: %s: rrd.overrides: expected a "
		    "list of objects", path);
		rc = -1;
	} else if (arr && cJSON_GetArraySize(arr) > VT_RRD_OVERRIDES_MAX) {
		snprintf(err, errlen, "vitalsd: %s: rrd.overrides: at most %d "
		    "entries", path, VT_RRD_OVERRIDES_MAX);
		rc = -1;
	} else if (arr) {
		const cJSON *e;
		cJSON_ArrayForEach(e, arr) {
			char why[256];
			if (override_from(e, base, &list[n], why,
			    sizeof why) < 0) {
				snprintf(err, errlen, "vitalsd: %.512s: "
				    "rrd.overrides[%d]: %s", path, n, why);
				rc = -1;
				break;
			}
			n++;
		}
	}
	cJSON_Delete(doc);
	if (rc < 0)
		return -1;
	vt_rrd_layout_set_overrides(list, (size_t)n);
	return n;
}

void vt_rrd_files_print_sizes(FILE *out, double flush_interval,
    size_t points, const double *percentiles, size_t npercentiles)
{
	static const struct {
		enum vt_rrd_kind kind;
		const char *name;
	} kinds[] = {
		{ VT_RRD_COUNTER, "counter" }, { VT_RRD_GAUGE, "gauge" },
		{ VT_RRD_SET, "set" }, { VT_RRD_TIMER, "timer" },
		{ VT_RRD_HISTOGRAM, "histogram" }, { VT_RRD_CHECK, "check" },
	};
	const struct vt_rrd_layout_opts *o = vt_rrd_layout_opts();
	unsigned long step = vt_rrd_layout_step(flush_interval);
	uint64_t mix = 0;
	if (points == 0)
		points = VT_RRD_DEFAULT_POINTS;
	fprintf(out, "storage: new files at a %lus step, %zu points per "
	    "range, MAX archives %s, %lu days back:\n", step, points,
	    o->max == VT_RRD_MAX_NONE ? "none" : "past the 1-hour range",
	    (o->retention ? o->retention : 366UL * 86400UL) / 86400UL);
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		struct vt_rrd_ds_list ds;
		vt_rrd_layout_stored_ds(kinds[i].kind, percentiles,
		    npercentiles, o, &ds);
		uint64_t bytes = vt_rrd_layout_file_size(ds.n, step, points);
		fprintf(out, "  %-9s %9llu bytes (", kinds[i].name,
		    (unsigned long long)bytes);
		for (size_t k = 0; k < ds.n; k++)
			fprintf(out, "%s%s", k ? ", " : "", ds.name[k]);
		fprintf(out, ")\n");
		if (i < 4)
			mix += bytes;
	}
	for (unsigned long n = 10000; n <= 100000; n *= 10)
		fprintf(out, "  %lu metrics, a quarter each counters, gauges, "
		    "sets and timers: %.2f GB\n", n,
		    (double)mix / 4.0 * (double)n / 1e9);
	for (size_t i = 0; i < VT_RRD_OVERRIDES_MAX; i++) {
		const struct vt_rrd_override *ov = vt_rrd_layout_override_at(i);
		if (ov == NULL)
			break;
		size_t p = ov->points ? ov->points : points;
		fprintf(out, "  override %zu (service \"%s\", metric \"%s\"): "
		    "%zu points, MAX archives %s, %lu days back:", i,
		    ov->service, ov->metric, p,
		    ov->opts.max == VT_RRD_MAX_NONE ? "none" : "past 1 h",
		    (ov->opts.retention ? ov->opts.retention :
		    366UL * 86400UL) / 86400UL);
		for (size_t k = 0; k < 4; k++) {
			struct vt_rrd_ds_list ds;
			vt_rrd_layout_stored_ds(kinds[k].kind, percentiles,
			    npercentiles, &ov->opts, &ds);
			fprintf(out, " %s %llu", kinds[k].name,
			    (unsigned long long)vt_rrd_layout_file_size_opts(
			    ds.n, step, p, &ov->opts));
		}
		fprintf(out, " bytes\n");
	}
}

const char *vt_rrd_files_cf(const char *path, const char *cf, time_t from)
{
	struct vt_rrd_header h;
	char err[PATH_MAX + 64];
	if (strcmp(cf, "MAX") != 0 ||
	    vt_rrd_files_read_header(path, &h, err, sizeof err) < 0 ||
	    vt_rrd_header_has(&h, "MAX", 1))
		return cf;
	for (size_t i = 0; i < h.nrra; i++) {
		if (strcmp(h.rra[i].cf, "AVERAGE") != 0 ||
		    h.rra[i].pdp_per_row != 1 || h.rra[i].rows < 2)
			continue;
		time_t first = h.last - h.last % (time_t)h.step -
		    (time_t)((h.rra[i].rows - 1) * h.step);
		if (from >= first)
			return "AVERAGE";
	}
	return vt_rrd_header_has(&h, "MAX", 0) ? "MAX" : "AVERAGE";
}

size_t vt_rrd_files_step_mismatches(const struct vt_rrd_files *t)
{
	return t->step_mismatch;
}

/* ---- life cycle ---- */

struct vt_rrd_files *vt_rrd_files_create(const struct vt_rrd_files_config
    *cfg)
{
	struct vt_rrd_files *t = vt_xcalloc(1, sizeof *t);
	t->cfg = *cfg;
	snprintf(t->dir, sizeof t->dir, "%s", cfg->data_dir);
	t->cfg.data_dir = t->dir;
	t->started = vt_clock_now();
	t->opts = *vt_rrd_layout_opts();
	vt_buf_init(&t->text);
	if (cfg->rrdc == NULL)
		t->direct = vt_rrd_direct_create();
	pthread_mutex_init(&t->kind_lock, NULL);
	return t;
}

static void file_free(struct rrd_file *f)
{
	vt_series_release(f->series);
	vt_rrd_held_clear(&f->hold);
	free(f->rel);
	free(f);
}

void vt_rrd_files_destroy(struct vt_rrd_files *t)
{
	if (t == NULL)
		return;
	/* Checks are only in the path map, metric entries all in the id
	 * map: free the checks first, while the metric entries they share
	 * chains with are still valid. */
	for (size_t i = 0; i < t->paths.nb; i++) {
		for (struct rrd_file *f = t->paths.b[i], *n; f; f = n) {
			n = f->next_path;
			if (f->series == NULL)
				file_free(f);
		}
	}
	for (size_t i = 0; i < t->ids.nb; i++) {
		for (struct rrd_file *f = t->ids.b[i], *n; f; f = n) {
			n = f->next_id;
			file_free(f);
		}
	}
	free(t->ids.b);
	free(t->paths.b);
	vt_buf_fini(&t->text);
	free(t->pend);
	free(t->argv);
	vt_rrd_direct_destroy(t->direct);
	free(t->drows);
	free(t->dts);
	free(t->dvals);
	free(t->kinds);
	pthread_mutex_destroy(&t->kind_lock);
	free(t);
}

size_t vt_rrd_files_ready(const struct vt_rrd_files *t)
{
	return t->nready;
}

/* ---- preparing a file ---- */

static void set_state(struct vt_rrd_files *t, struct rrd_file *f,
    enum file_state st)
{
	if (f->state == FILE_READY && st != FILE_READY)
		t->nready--;
	else if (f->state != FILE_READY && st == FILE_READY)
		t->nready++;
	f->state = st;
}

/* The absolute path of rel. */
static int abs_path(const struct vt_rrd_files *t, const char *rel,
    char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", t->dir, rel);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* Create the directories on the way to rel (0755), refusing anything
 * that is not a real directory (a symbolic link in particular). */
static int ensure_dirs(struct vt_rrd_files *t, const char *rel, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	size_t base = strlen(t->dir);
	if (abs_path(t, rel, path, sizeof path) < 0) {
		snprintf(err, errlen, "path too long: %.256s/%.256s", t->dir, rel);
		return -ENAMETOOLONG;
	}
	for (char *p = path + base + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		struct stat st;
		int rc = mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
		if (rc == 0 && lstat(path, &st) < 0)
			rc = -errno;
		if (rc == 0 && !S_ISDIR(st.st_mode))
			rc = -ENOTDIR;
		if (rc < 0) {
			snprintf(err, errlen, "directory %s: %s", path,
			    rc == -ENOTDIR ? "not a directory (refusing a "
			    "symbolic link or file there)" : strerror(-rc));
			return rc;
		}
		*p = '/';
	}
	return 0;
}

/* The path to send to rrdcached: absolute over a unix socket, relative to
 * the data directory over TCP. */
static const char *cached_path(const struct vt_rrd_files *t,
    const struct rrd_file *f, const char *abs)
{
	return vt_rrd_lib_cached_is_unix(t->cfg.rrdc) ? abs : f->rel;
}

/* The map from f's data sources (have) to the window's values (all):
 * 0, or -1 when the file has one the window does not. */
static int map_ds(struct rrd_file *f, const struct vt_rrd_ds_list *have,
    const struct vt_rrd_ds_list *all)
{
	if (have->n == 0 || have->n > VT_RRD_MAX_DS)
		return -1;
	for (size_t i = 0; i < have->n; i++) {
		int j = vt_rrd_layout_ds_index(all, have->name[i]);
		if (j < 0)
			return -1;
		f->map[i] = (unsigned char)j;
	}
	f->nmap = (unsigned char)have->n;
	return 0;
}

/* An existing file: read its last update (after rrdcached wrote what it
 * holds for it), check its step and map its data sources. A file of any
 * layout whose data sources are all statistics the window has is written
 * as it is (layout 1 with all of them, or files made with other
 * rrd.*_stats); one with a data source the window lacks (a percentile no
 * longer configured), or with another step, is not written. */
static int adopt(struct vt_rrd_files *t, struct rrd_file *f, const char *path,
    const struct vt_rrd_ds_list *all, char *err, size_t errlen)
{
	time_t last = 0;
	struct vt_rrd_ds_list have;
	struct vt_rrd_header h;
	if (vt_rrd_files_read_header(path, &h, err, errlen) == 0 &&
	    h.step != t->cfg.step) {
		if (!f->step_bad) {
			f->step_bad = 1;
			t->step_mismatch++;
			t->step_round++;
			t->step_seen = h.step;
		}
		set_state(t, f, FILE_STEP);
		f->retry = t->round + RETRY_ROUNDS;
		return -EEXIST;
	}
	if (t->cfg.rrdc) {
		int rc = vt_rrd_updater_flush(t->cfg.rrdw, cached_path(t, f, path),
		    err, errlen);
		if (rc == -ENOTCONN)
			return rc;
	}
	/* Direct mode reads the last update from the header (as librrd's
	 * lastupdate does); through rrdcached, after its flush above. */
	int rc;
	if (t->direct) {
		rc = vt_rrd_files_read_header(path, &h, err, errlen);
		last = h.last;
		have = h.ds;
	} else {
		rc = vt_rrd_updater_lastupdate(t->cfg.rrdw, path, &last, &have,
		    err, errlen);
	}
	if (rc < 0)
		return rc;
	if (map_ds(f, &have, all) < 0) {
		set_state(t, f, FILE_MISMATCH);
		f->retry = t->round + RETRY_ROUNDS;
		vt_log_complain(&t->c_conflict, VT_LOG_WARN, LOG_SUB,
		    "%s: it has data sources a %s's window does not; not "
		    "writing it (move it away to start a new file)", path,
		    f->kind == VT_RRD_CHECK ? "check" :
		    vt_series_kind_name((enum vt_kind)f->kind));
		return -EEXIST;
	}
	f->last = last;
	f->wrote = 0;
	f->created = 0;
	set_state(t, f, FILE_READY);
	t->adopted_round++;
	return 0;
}

/* The options and points a new file of f takes (rrd.overrides). */
static const struct vt_rrd_layout_opts *opts_for(const struct vt_rrd_files *t,
    const struct rrd_file *f, size_t *points)
{
	const struct vt_rrd_override *ov = f->series ?
	    vt_rrd_layout_override_for(f->series->service,
	    f->series->metric) : NULL;
	*points = t->cfg.points;
	if (ov == NULL)
		return &t->opts;
	if (ov->points)
		*points = ov->points;
	return &ov->opts;
}

/* A creation allowed by create_rate now (always while stopping), and
 * while this round has spent less than CREATE_SHARE of a window creating
 * files: where a file takes longer to make than the rate allows (large
 * timer files, a slow disk) the writer still writes every window. */
static int take_token(struct vt_rrd_files *t)
{
	if (t->cfg.create_rate <= 0 || t->force)
		return 1;
	if (t->tokens < 1 || t->create_spent >= CREATE_SHARE *
	    (double)(t->cfg.step ? t->cfg.step : 1))
		return 0;
	t->tokens -= 1;
	return 1;
}

/* Tokens for the time since the last refill, at most one window's. */
static void refill(struct vt_rrd_files *t)
{
	double rate = t->cfg.create_rate, now = vt_clock_mono();
	if (rate <= 0)
		return;
	double cap = rate * (double)(t->cfg.step ? t->cfg.step : 1);
	t->tokens = t->token_time == 0 ? cap :
	    t->tokens + rate * (now - t->token_time);
	if (t->tokens > cap)
		t->tokens = cap;
	t->token_time = now;
}

/* Forget f's held windows and give their memory back. */
static void release_rows(struct vt_rrd_files *t, struct rrd_file *f)
{
	t->held_rows -= f->hold.nrows;
	t->held_bytes -= vt_rrd_held_clear(&f->hold);
}

/* Forget f's held windows (counted by the caller). */
static void drop_rows(struct vt_rrd_files *t, struct rrd_file *f,
    uint64_t *count)
{
	*count += f->hold.nrows;
	release_rows(t, f);
}

static void wait_push(struct vt_rrd_files *t, struct rrd_file *f)
{
	f->next_wait = NULL;
	if (t->wait_tail)
		t->wait_tail->next_wait = f;
	else
		t->wait_head = f;
	t->wait_tail = f;
	t->nwaiting++;
}

static void wait_remove(struct vt_rrd_files *t, struct rrd_file *f)
{
	struct rrd_file *prev = NULL;
	for (struct rrd_file *w = t->wait_head; w; prev = w, w = w->next_wait) {
		if (w != f)
			continue;
		if (prev)
			prev->next_wait = w->next_wait;
		else
			t->wait_head = w->next_wait;
		if (t->wait_tail == w)
			t->wait_tail = prev;
		t->nwaiting--;
		return;
	}
}

/* Create f's file, whose first window closes at first (its data sources
 * already mapped into f). 0; -EEXIST when one appeared meanwhile (not
 * adopted here); another negative errno with err set. */
static int create_file(struct vt_rrd_files *t, struct rrd_file *f,
    time_t first, const char *path, char *err, size_t errlen)
{
	struct vt_rrd_ds_list want;
	struct vt_rrd_create_args args;
	size_t points;
	const struct vt_rrd_layout_opts *opts = opts_for(t, f, &points);
	unsigned long step = t->cfg.step;
	double t0 = vt_clock_mono();
	vt_rrd_layout_stored_ds(f->kind, t->pct, t->npct, opts, &want);
	vt_rrd_layout_create_args_opts(&want, step, points, opts, &args);
	int rc = -ENOTSUP;
	if (t->direct)
		rc = vt_rrd_direct_make(t->direct, path, step,
		    first - (time_t)step, &args, err, errlen);
	if (rc == -ENOTSUP)
		rc = vt_rrd_updater_create(t->cfg.rrdw, path, step,
		    first - (time_t)step, &args, err, errlen);
	t->create_spent += vt_clock_mono() - t0;
	return rc;
}

static void create_failed(struct vt_rrd_files *t, int rc, const char *err)
{
	if (rc == -ENOTCONN)
		vt_log_complain(&t->c_cached, VT_LOG_WARN, LOG_SUB,
		    "rrdcached %s: %s", vt_rrd_lib_cached_addr(t->cfg.rrdc), err);
	else {
		t->create_errors_round++;
		vt_log_complain(&t->c_create, VT_LOG_ERROR, LOG_SUB,
		    "cannot create or open files (will retry every window): "
		    "%s", err);
	}
}

/* Make f writable: adopt its file, create it (the first update is at ts)
 * or, past create_rate, put it on the wait list (FILE_WAIT). */
static int prepare(struct vt_rrd_files *t, struct rrd_file *f,
    const struct vt_rrd_update *u, time_t ts, struct vt_rrd_round *r)
{
	char path[PATH_MAX], err[ERR_MAX];
	struct vt_rrd_ds_list want, all;
	struct stat st;
	int rc;
	size_t points;
	const struct vt_rrd_layout_opts *opts = opts_for(t, f, &points);

	if (f->hold.nrows)                    /* held for a layout read before */
		drop_rows(t, f, &r->errors);
	t->npct = u->npercentiles > VT_MAX_PERCENTILES ? VT_MAX_PERCENTILES :
	    u->npercentiles;
	memcpy(t->pct, u->percentiles, t->npct * sizeof *t->pct);
	vt_rrd_layout_ds(f->kind, u->percentiles, u->npercentiles, &all);
	vt_rrd_layout_stored_ds(f->kind, u->percentiles, u->npercentiles,
	    opts, &want);
	rc = ensure_dirs(t, f->rel, err, sizeof err);
	if (rc < 0)
		goto fail;
	abs_path(t, f->rel, path, sizeof path);
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			rc = -EPERM;
			snprintf(err, sizeof err, "%s: not a regular file "
			    "(refusing a symbolic link there)", path);
			goto fail;
		}
		rc = adopt(t, f, path, &all, err, sizeof err);
	} else if (t->wait_head != NULL || !take_token(t)) {
		/* Past create_rate: made later, in order; its windows are
		 * held meanwhile as if it existed from this one on. */
		map_ds(f, &want, &all);
		f->last = ts - (time_t)t->cfg.step;
		f->wrote = 0;
		f->created = 1;
		set_state(t, f, FILE_WAIT);
		wait_push(t, f);
		return 0;
	} else {
		rc = create_file(t, f, ts, path, err, sizeof err);
		if (rc == -EEXIST) {
			rc = adopt(t, f, path, &all, err, sizeof err);
		} else if (rc == 0) {
			map_ds(f, &want, &all);
			f->last = ts - (time_t)t->cfg.step;
			f->wrote = 0;
			f->created = 1;
			set_state(t, f, FILE_READY);
			r->created++;
			t->created_round++;
		}
	}
	if (rc == 0) {
		kind_put(t, f->rel, (int)f->kind);
		return 0;
	}
	if (f->state == FILE_MISMATCH || f->state == FILE_STEP)
		return rc;
fail:
	create_failed(t, rc, err);
	return rc;
}

/* Create the files waiting, oldest first, as far as create_rate allows
 * (all of them while stopping). One that fails loses its windows and is
 * prepared again with its next one. */
static void create_waiting(struct vt_rrd_files *t, struct vt_rrd_round *r)
{
	while (t->wait_head && take_token(t)) {
		char path[PATH_MAX + VT_RRD_REL_MAX], err[ERR_MAX];
		struct rrd_file *f = t->wait_head;
		wait_remove(t, f);
		int rc = abs_path(t, f->rel, path, sizeof path) < 0 ?
		    -ENAMETOOLONG : create_file(t, f, f->hold.nrows ? f->first : f->last +
		    (time_t)t->cfg.step, path, err, sizeof err);
		if (rc == 0) {
			set_state(t, f, FILE_READY);
			kind_put(t, f->rel, (int)f->kind);
			r->created++;
			t->created_round++;
			continue;
		}
		if (rc == -EEXIST)
			snprintf(err, sizeof err, "%.4000s: made by someone else "
			    "while it waited to be created; reading it again",
			    path);
		drop_rows(t, f, &r->errors);
		set_state(t, f, FILE_NEW);
		create_failed(t, rc, err);
	}
}

/* ---- a round ---- */

void vt_rrd_files_begin(struct vt_rrd_files *t)
{
	t->round++;
	vt_buf_reset(&t->text);
	t->npend = 0;
	t->touched = NULL;
	t->created_round = t->adopted_round = t->updated_round = 0;
	t->update_errors_round = t->create_errors_round = 0;
	t->cut_round = 0;
	t->step_round = 0;
	t->create_spent = 0;
	refill(t);
}

/* Take the path for f unless an older series has it. */
static int claim(struct vt_rrd_files *t, struct rrd_file *f,
    struct vt_rrd_round *r)
{
	struct rrd_file *o = find_path(t, f->path_hash, f->rel);
	if (o == f)
		return 1;
	if (o && !(o->series && f->series && f->series->id < o->series->id)) {
		set_state(t, f, FILE_CLASH);
		return 0;
	}
	if (o) {   /* f is older: it takes the file over */
		map_remove(&t->paths, o, 1);
		o->owner = 0;
		drop_rows(t, o, &r->conflict);
		if (o->state == FILE_WAIT)
			wait_remove(t, o);
		set_state(t, o, FILE_CLASH);
	}
	map_insert(&t->paths, f, 1);
	f->owner = 1;
	set_state(t, f, FILE_NEW);
	return 1;
}

static struct rrd_file *file_new(struct vt_rrd_files *t,
    const struct vt_rrd_update *u, struct vt_rrd_round *r)
{
	char rel[VT_RRD_REL_MAX];
	struct rrd_file *f = vt_xcalloc(1, sizeof *f);
	if (u->series) {
		const struct vt_series *s = u->series;
		vt_rrd_layout_series_path(rel, sizeof rel, s->service,
		    s->metric, s->labels, s->nlabels);
		f->series = vt_series_retain(u->series);
		map_insert(&t->ids, f, 0);
	} else {
		snprintf(rel, sizeof rel, "%s", u->rel);
	}
	f->rel = vt_xstrdup(rel);
	f->path_hash = vt_hash(rel, strlen(rel), PATH_SEED);
	f->kind = u->kind;
	f->state = FILE_CLASH;   /* until claimed */
	claim(t, f, r);
	return f;
}

static void put_value(struct vt_buf *b, double v)
{
	if (isfinite(v))
		vt_buf_put_double(b, v);
	else
		vt_buf_putc(b, 'U');
}

static void gather(struct vt_rrd_files *t, struct rrd_file *f, time_t ts,
    const double *values, size_t nvalues)
{
	if (t->npend == t->cappend) {
		t->cappend = t->cappend ? t->cappend * 2 : 4096;
		t->pend = vt_xrealloc(t->pend, t->cappend * sizeof *t->pend);
	}
	uint32_t i = (uint32_t)t->npend++;
	t->pend[i].off = t->text.len;
	t->pend[i].next = UINT32_MAX;
	vt_buf_printf(&t->text, "%lld", (long long)ts);
	for (size_t k = 0; k < nvalues; k++) {
		vt_buf_putc(&t->text, ':');
		put_value(&t->text, values[k]);
	}
	vt_buf_putc(&t->text, '\0');
	if (f->npend == 0)
		f->pend_head = i;
	else
		t->pend[f->pend_tail].next = i;
	f->pend_tail = i;
	f->npend++;
	if (!f->touched) {
		f->touched = 1;
		f->next_touched = t->touched;
		t->touched = f;
	}
}

static int same_value(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

time_t vt_rrd_files_due(unsigned long delay, uint64_t path_hash,
    time_t first)
{
	if (delay == 0)
		return first;
	time_t d = (time_t)delay, phase = (time_t)(path_hash % delay);
	return first - (first + phase) % d + d;
}

/* Hold a window of f for write-behind (rrd_files.h). */
static void hold_row(struct vt_rrd_files *t, struct rrd_file *f, time_t ts,
    const double *v, size_t n)
{
	if (f->hold.nrows == 0) {
		f->first = ts;
		f->due = vt_rrd_files_due((unsigned long)llround(
		    t->cfg.write_delay), f->path_hash, ts);
		if (!f->in_held) {
			f->in_held = 1;
			f->next_held = t->held;
			t->held = f;
		}
	}
	t->held_bytes += vt_rrd_held_add(&f->hold, ts, v, n);
	t->held_rows++;
	if (ts > t->newest)
		t->newest = ts;
}

/* f's held windows, decoded into the table's scratch arrays: times in
 * t->dts, values (nmap a window) in t->dvals. Returns how many. */
static size_t held_rows(struct vt_rrd_files *t, const struct rrd_file *f)
{
	size_t k = f->hold.nrows;
	if (t->capdrows < k) {
		t->capdrows = k * 2;
		t->drows = vt_xrealloc(t->drows, t->capdrows * sizeof *t->drows);
		t->dts = vt_xrealloc(t->dts, t->capdrows * sizeof *t->dts);
		t->dvals = vt_xrealloc(t->dvals, t->capdrows *
		    VT_RRD_MAX_DS * sizeof *t->dvals);
	}
	vt_rrd_held_rows(&f->hold, t->dts, t->dvals);
	return k;
}

/* Turn f's held windows into update strings (gather). */
static void emit_rows(struct vt_rrd_files *t, struct rrd_file *f)
{
	size_t k = held_rows(t, f);
	for (size_t i = 0; i < k; i++)
		gather(t, f, t->dts[i], t->dvals + i * f->nmap, f->nmap);
	release_rows(t, f);
}

/* A check's window: fold it when its status is the one written last and
 * the file was written less than VT_RRD_CHECK_REFRESH ago (1: folded).
 * When the status changed after folded windows, the old status is first
 * written at the newest folded window, so RRDtool sees it held up to
 * there and the change at the window it happened in. */
static int fold_check(struct vt_rrd_files *t, struct rrd_file *f, time_t ts,
    const struct vt_rrd_update *u, struct vt_rrd_round *r)
{
	if (!f->wrote)
		return 0;
	int same = same_value(u->values[0], f->last_value);
	if (same && ts - f->last < VT_RRD_CHECK_REFRESH) {
		f->held = ts;
		f->last_window = u->timestamp;
		r->folded++;
		return 1;
	}
	if (!same && f->held > f->last)
		hold_row(t, f, f->held, &f->last_value, 1);
	f->held = 0;
	return 0;
}

/*
 * Windows the daemon never closed are stored as unknown, never filled in.
 * librrd stretches an update over the time since the previous one when
 * that is within the heartbeat (2 x step, so that a window closed a
 * little late is not lost), so a value written after a hole would also
 * stand for the hole. What lies between the file's last update and a
 * window closing at ts:
 *   HOLE_NONE    nothing: the window joins up with the last update;
 *   HOLE_BEFORE  one or more whole windows (the series expired and came
 *                back, a full queue dropped windows, the file was written
 *                by an earlier run): an unknown update at the window's
 *                start goes first, so the gap is unknown and the value
 *                stands for its own window only;
 *   HOLE_CUT     the window began before this table existed (the first
 *                window after a start) and the file, written by an
 *                earlier run, holds nothing inside it: that run died
 *                before closing it (kill -9, a crash, power) and this run
 *                saw only its end, so the whole window is unknown rather
 *                than a part counted as the whole. After a clean stop the
 *                final window ends inside it and the two parts join up.
 * A file made by this run holds nothing before its first window; check
 * files written by this run fold unchanged windows (VT_RRD_CHECK_REFRESH),
 * so a gap there is not a hole.
 */
enum hole { HOLE_NONE, HOLE_BEFORE, HOLE_CUT };

static enum hole hole_before(const struct vt_rrd_files *t,
    const struct rrd_file *f, const struct vt_rrd_update *u, time_t ts)
{
	double step = (double)t->cfg.step;
	time_t start = ts - (time_t)t->cfg.step;
	if (f->last > start)
		return HOLE_NONE;   /* the file ends inside this window */
	if (f->wrote) {
		/* Windows close a step apart, give or take the timer's
		 * latency: a window is missing when more than 1.5 steps
		 * passed since the last one. */
		if (f->kind == VT_RRD_CHECK || f->last == start ||
		    u->timestamp - f->last_window <= 1.5 * step)
			return HOLE_NONE;
		return HOLE_BEFORE;
	}
	if (f->created)
		return HOLE_NONE;   /* nothing before its first window */
	if (u->timestamp >= t->started && u->timestamp - step < t->started)
		return HOLE_CUT;
	return f->last < start && 2.0 * (double)(ts - f->last) > 3.0 * step ?
	    HOLE_BEFORE : HOLE_NONE;
}

void vt_rrd_files_add(struct vt_rrd_files *t, const struct vt_rrd_update *u,
    struct vt_rrd_round *r)
{
	struct rrd_file *f;
	if (u->series) {
		f = find_series(t, u->series);
	} else {
		f = find_path(t, vt_hash(u->rel, strlen(u->rel), PATH_SEED),
		    u->rel);
	}
	if (f == NULL)
		f = file_new(t, u, r);
	f->seen = t->round;
	if (f->state == FILE_CLASH && !claim(t, f, r)) {
		r->conflict++;
		return;
	}
	if (f->state == FILE_MISMATCH || f->state == FILE_STEP) {
		if (t->round < f->retry) {
			r->conflict++;
			return;
		}
		set_state(t, f, FILE_NEW);
	}
	time_t ts = (time_t)llround(u->timestamp);
	if (f->state == FILE_NEW && prepare(t, f, u, ts, r) < 0) {
		if (f->state == FILE_MISMATCH || f->state == FILE_STEP)
			r->conflict++;
		else
			r->errors++;
		return;
	}
	if (ts <= f->last) {
		/* The final window may close within the second of the one
		 * before: it is newer, so it goes one second later. Anything
		 * else not after the last update was written already. */
		if (!(f->wrote && ts == f->last &&
		    u->timestamp > f->last_window)) {
			r->late++;
			return;
		}
		ts = f->last + 1;
	}
	/* The values of the file's data sources, in its order. */
	double mine[VT_RRD_MAX_DS], unknown[VT_RRD_MAX_DS];
	const double *values = mine;
	size_t nvalues = f->nmap;
	for (size_t k = 0; k < nvalues; k++)
		mine[k] = f->map[k] < u->nvalues ? u->values[f->map[k]] : NAN;
	enum hole hole = hole_before(t, f, u, ts);
	if (hole != HOLE_NONE) {
		for (size_t k = 0; k < nvalues; k++)
			unknown[k] = NAN;
		if (hole == HOLE_CUT) {
			values = unknown;
			t->cut_round++;
		}
	}
	if (f->kind == VT_RRD_CHECK && fold_check(t, f, ts, u, r))
		return;
	if (f->state == FILE_WAIT && f->hold.nrows + 2 > VT_RRD_WAIT_ROWS) {
		r->backlog++;         /* waited too long to be created */
		return;
	}
	if (hole == HOLE_BEFORE)
		hold_row(t, f, ts - (time_t)t->cfg.step, unknown, nvalues);
	hold_row(t, f, ts, values, nvalues);
	f->last = ts;
	f->last_window = u->timestamp;
	f->last_value = values[0];
	f->wrote = 1;
}


/* The outcome of one update call for k windows of f. */
static void account(struct vt_rrd_files *t, struct rrd_file *f, size_t k,
    int rc, const char *err, struct vt_rrd_round *r)
{
	if (rc == 0) {
		r->updates += k;
		t->updated_round += k;
		return;
	}
	r->errors += k;
	if (rc == -ENOTCONN) {
		vt_log_complain(&t->c_cached, VT_LOG_WARN, LOG_SUB,
		    "rrdcached %s: %s", vt_rrd_lib_cached_addr(t->cfg.rrdc), err);
		return;
	}
	t->update_errors_round += k;
	vt_log_complain(&t->c_update, VT_LOG_ERROR, LOG_SUB, "%s/%s: %s",
	    t->dir, f->rel, err);
	set_state(t, f, FILE_NEW);   /* re-read the file before the next window */
}

/* Collect the oldest answer of the update worker. */
static void collect(struct vt_rrd_files *t, struct vt_rrd_round *r)
{
	char err[ERR_MAX];
	struct inflight *q = &t->inflight[t->inflight_head];
	int rc = vt_rrd_updater_result(t->cfg.rrdw, err, sizeof err);
	t->inflight_head = (t->inflight_head + 1) % RRDW_WINDOW;
	t->ninflight--;
	account(t, q->f, q->k, rc, err, r);
}

/* One update call, through the worker; its answer is collected later. */
static void submit(struct vt_rrd_files *t, struct rrd_file *f,
    const char *target, size_t k, const char *const *argv,
    struct vt_rrd_round *r)
{
	char err[ERR_MAX];
	r->calls++;
	while (t->ninflight == RRDW_WINDOW)
		collect(t, r);
	int rc = vt_rrd_updater_send(t->cfg.rrdw, target, (int)k, argv);
	if (rc < 0) {
		snprintf(err, sizeof err, "rrd worker: %s", strerror(-rc));
		account(t, f, k, rc, err, r);
		return;
	}
	struct inflight *q = &t->inflight[(t->inflight_head + t->ninflight) %
	    RRDW_WINDOW];
	q->f = f;
	q->k = k;
	t->ninflight++;
}

/* Send f's gathered updates, in as few calls as the transport allows. */
static void send_file(struct vt_rrd_files *t, struct rrd_file *f,
    struct vt_rrd_round *r)
{
	char path[PATH_MAX];
	if (t->capargv < f->npend) {
		t->capargv = f->npend * 2;
		t->argv = vt_xrealloc(t->argv, t->capargv * sizeof *t->argv);
	}
	size_t n = 0;
	for (uint32_t i = f->pend_head; n < f->npend; i = t->pend[i].next)
		t->argv[n++] = t->text.data + t->pend[i].off;
	if (abs_path(t, f->rel, path, sizeof path) < 0) {
		r->errors += n;
		return;
	}
	const char *target = t->cfg.rrdc ? cached_path(t, f, path) : path;
	size_t budget = CACHED_CMD_BUDGET > strlen(target) + 16 ?
	    CACHED_CMD_BUDGET - strlen(target) - 16 : 1;

	for (size_t i = 0; i < n;) {
		size_t k = 0, bytes = 0;
		while (i + k < n && k < DIRECT_ARGS_MAX) {
			size_t len = strlen(t->argv[i + k]) + 1;
			if (t->cfg.rrdc && k > 0 && bytes + len > budget)
				break;
			bytes += len;
			k++;
		}
		submit(t, f, target, k, t->argv + i, r);
		i += k;
	}
}

/* Free f, out of every list (send_held took it off the held list). */
static void forget(struct vt_rrd_files *t, struct rrd_file *f)
{
	if (f->state == FILE_WAIT)
		wait_remove(t, f);
	release_rows(t, f);
	set_state(t, f, FILE_NEW);
	file_free(f);
}

/* Forget files whose series did not appear this round (expired). */
static void evict(struct vt_rrd_files *t)
{
	for (size_t i = 0; i < t->ids.nb; i++) {
		struct rrd_file **pp = &t->ids.b[i];
		while (*pp) {
			struct rrd_file *f = *pp;
			if (f->seen == t->round) {
				pp = &f->next_id;
				continue;
			}
			*pp = f->next_id;
			t->ids.n--;
			if (f->owner)
				map_remove(&t->paths, f, 1);
			forget(t, f);
		}
	}
	for (size_t i = 0; i < t->paths.nb; i++) {
		struct rrd_file **pp = &t->paths.b[i];
		while (*pp) {
			struct rrd_file *f = *pp;
			if (f->series || f->seen == t->round) {
				pp = &f->next_path;
				continue;
			}
			*pp = f->next_path;
			t->paths.n--;
			forget(t, f);
		}
	}
}

/* Direct mode: write f's held windows in place (rrd_direct.h), in this
 * thread. 0, or -ENOTSUP when the file is one only librrd writes: it is
 * then marked for the worker, and nothing was written. */
static int write_direct(struct vt_rrd_files *t, struct rrd_file *f,
    struct vt_rrd_round *r)
{
	char path[PATH_MAX], err[ERR_MAX];
	if (abs_path(t, f->rel, path, sizeof path) < 0) {
		drop_rows(t, f, &r->errors);
		return 0;
	}
	size_t k = held_rows(t, f);
	for (size_t i = 0; i < k; i++) {
		t->drows[i].t = t->dts[i];
		t->drows[i].values = t->dvals + i * f->nmap;
	}
	int rc = vt_rrd_direct_update(t->direct, path, t->drows, k, f->nmap,
	    err, sizeof err);
	if (rc == -ENOTSUP) {
		vt_log_info(LOG_SUB, "%s: written through librrd (%s)", f->rel,
		    err);
		f->via_lib = 1;
		return rc;
	}
	r->calls++;
	release_rows(t, f);
	account(t, f, k, rc, err, r);
	return 0;
}

/* Write f's held windows now (answers of the worker collected later). */
static void write_now(struct vt_rrd_files *t, struct rrd_file *f,
    struct vt_rrd_round *r)
{
	if (t->direct && !f->via_lib && write_direct(t, f, r) == 0) {
		f->touched = 0;
		return;
	}
	emit_rows(t, f);
	if (f->npend)
		send_file(t, f, r);
	f->npend = 0;
	f->touched = 0;
}

/* Write the files that are due (all when forced, and those about to be
 * forgotten); drop what files that cannot be written hold; keep the
 * rest, noting the oldest window held. */
static void send_held(struct vt_rrd_files *t, struct vt_rrd_round *r)
{
	struct rrd_file *keep = NULL, *next;
	double oldest = 0;
	for (struct rrd_file *f = t->held; f; f = next) {
		next = f->next_held;
		int gone = f->seen != t->round;
		if (f->hold.nrows == 0) {
			f->in_held = 0;
			continue;
		}
		if (f->state == FILE_READY) {
			if (t->force || gone || t->newest >= f->due ||
			    f->hold.nrows >= DIRECT_ARGS_MAX) {
				write_now(t, f, r);
				f->in_held = 0;
				continue;
			}
		} else if (f->state != FILE_WAIT || gone) {
			drop_rows(t, f, f->state == FILE_WAIT ? &r->backlog :
			    &r->errors);
			f->in_held = 0;
			continue;
		}
		if (oldest == 0 || (double)f->first < oldest)
			oldest = (double)f->first;
		f->next_held = keep;
		keep = f;
	}
	t->held = keep;
	t->oldest = oldest;
}

void vt_rrd_files_commit(struct vt_rrd_files *t, struct vt_rrd_round *r)
{
	create_waiting(t, r);
	send_held(t, r);
	while (t->ninflight > 0)
		collect(t, r);
	t->touched = NULL;
	evict(t);
	if ((t->created_round || t->adopted_round) &&
	    t->create_errors_round == 0)
		vt_log_recovered(&t->c_create, LOG_SUB,
		    "files can be created again");
	if (t->updated_round && t->update_errors_round == 0)
		vt_log_recovered(&t->c_update, LOG_SUB, "updates succeed again");
	if (t->step_round)
		vt_log_warn(LOG_SUB, "%zu existing files (%zu so far) have a "
		    "step of %lus, not the flush interval's %lus: not writing "
		    "them, so windows of two lengths never mix in a file (run "
		    "with --flush %lu, or move them away to start new files)",
		    t->step_round, t->step_mismatch, t->step_seen,
		    t->cfg.step, t->step_seen);
	if (t->cut_round)
		vt_log_info(LOG_SUB, "%llu files end before this run's first "
		    "window began (the previous run died in that window, or "
		    "stopped before it): that window, seen only in part, is "
		    "stored as unknown", (unsigned long long)t->cut_round);
	if (t->cfg.rrdc && t->updated_round)
		vt_log_recovered(&t->c_cached, LOG_SUB, "rrdcached %s is back",
		    vt_rrd_lib_cached_addr(t->cfg.rrdc));
}

size_t vt_rrd_files_sync(struct vt_rrd_files *t, const char *rel,
    struct vt_rrd_round *r)
{
	struct rrd_file *f = find_path(t, vt_hash(rel, strlen(rel), PATH_SEED),
	    rel);
	if (f == NULL || f->state != FILE_READY || f->hold.nrows == 0)
		return 0;
	size_t n = f->hold.nrows;
	vt_buf_reset(&t->text);
	t->npend = 0;
	write_now(t, f, r);
	while (t->ninflight > 0)
		collect(t, r);
	return n;
}

void vt_rrd_files_held(const struct vt_rrd_files *t,
    struct vt_rrd_files_held *out)
{
	out->rows = t->held_rows;
	out->bytes = t->held_bytes;
	out->oldest = t->held_rows ? t->oldest : 0;
	out->waiting = t->nwaiting;
}

void vt_rrd_files_write_held(struct vt_rrd_files *t, struct vt_rrd_round *r)
{
	vt_rrd_files_begin(t);
	for (size_t i = 0; i < t->paths.nb; i++) {
		for (struct rrd_file *f = t->paths.b[i]; f; f = f->next_path) {
			f->seen = t->round;          /* not an eviction round */
			if (f->kind != VT_RRD_CHECK || f->state != FILE_READY ||
			    f->held <= f->last)
				continue;
			hold_row(t, f, f->held, &f->last_value, 1);
			f->last = f->held;
			f->held = 0;
		}
	}
	for (size_t i = 0; i < t->ids.nb; i++)
		for (struct rrd_file *f = t->ids.b[i]; f; f = f->next_id)
			f->seen = t->round;
	t->force = 1;
	vt_rrd_files_commit(t, r);
	t->force = 0;
}
