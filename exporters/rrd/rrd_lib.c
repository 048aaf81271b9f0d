/*
 * rrd_lib.c - the only file that calls librrd (rrd_lib.h): opened on first
 * use, thread-safe _r variants, per-call error reset, the rrdcached client
 * under one lock; graphs drawn and, once the fork server runs, files read
 * by children of the fork server (forkserver.h).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <rrd.h>
#include <rrd_client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "collector/base/dynlib.h"
#include "collector/base/xmalloc.h"
#include "exporters/rrd/forkserver.h"
#include "exporters/rrd/rrd_lib.h"
#include "sonames.h"

#define ADDR_MAX 512

/*
 * librrd exports only the simple rrdcached interface (rrdc_*), which
 * talks over one process-wide connection. Every use of it happens under
 * rrdc_lock, after rrdc_connect() to the handle's address (a no-op while
 * the connection is up; a reconnect after librrd dropped it on an error).
 */
struct vt_rrdc {
	char addr[ADDR_MAX];
	int is_unix;
};

static pthread_mutex_t rrdc_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * librrd is opened on first use (dynlib.h): a daemon with storage off
 * never maps it and the ~40 libraries it pulls in. Every call below goes
 * through this table.
 */
static struct {
	__typeof__(rrd_clear_error) *rrd_clear_error;
	__typeof__(rrd_get_error) *rrd_get_error;
	__typeof__(rrd_test_error) *rrd_test_error;
	__typeof__(rrd_create_r2) *rrd_create_r2;
	__typeof__(rrd_update_r) *rrd_update_r;
	__typeof__(rrd_lastupdate_r) *rrd_lastupdate_r;
	__typeof__(rrd_fetch_r) *rrd_fetch_r;
	__typeof__(rrd_graph_v) *rrd_graph_v;
	__typeof__(rrd_info_free) *rrd_info_free;
	__typeof__(rrdc_connect) *rrdc_connect;
	__typeof__(rrdc_is_connected) *rrdc_is_connected;
	__typeof__(rrdc_is_any_connected) *rrdc_is_any_connected;
	__typeof__(rrdc_update) *rrdc_update;
	__typeof__(rrdc_flush) *rrdc_flush;
	__typeof__(rrdc_fetch) *rrdc_fetch;
} lib;

#define SYM(name) { #name, (void **)&lib.name }
static const struct vt_dynsym lib_syms[] = {
	SYM(rrd_clear_error), SYM(rrd_get_error), SYM(rrd_test_error),
	SYM(rrd_create_r2), SYM(rrd_update_r), SYM(rrd_lastupdate_r),
	SYM(rrd_fetch_r), SYM(rrd_graph_v), SYM(rrd_info_free),
	SYM(rrdc_connect), SYM(rrdc_is_connected), SYM(rrdc_is_any_connected),
	SYM(rrdc_update), SYM(rrdc_flush), SYM(rrdc_fetch),
};
#undef SYM

static struct vt_dynlib librrd = VT_DYNLIB_INIT(VT_LIBRRD_SONAME, lib_syms);

/* 0 when librrd is there (opened now or before), else -EIO with err. */
static int lib_ready(char *err, size_t errlen)
{
	return vt_dynlib_load(&librrd, err, errlen) == 0 ? 0 : -EIO;
}

/*
 * Once this process has started the fork server, it reads files through
 * the server's children too (lastupdate, fetch, rrdcached flush: one
 * short-lived child per call), so it never loads librrd itself. The
 * server and its children, forked before this is set, call librrd.
 */
static int remote;

static int remote_call(int argc, const char *const *argv, struct vt_buf *out,
    char *err, size_t errlen);

#define GRAPH_TIMEOUT_SECONDS 30        /* a renderer taking longer is killed */
#define GRAPH_MAX_BYTES (64 << 20)      /* largest image accepted */


/* librrd reports errors as text; map the ones callers act on. */
static const struct {
	const char *text;
	int err;
} known_errors[] = {
	{ "No such file", ENOENT },
	{ "No space left", ENOSPC },
	{ "Permission denied", EACCES },
	{ "Read-only file system", EROFS },
	{ "quota exceeded", EDQUOT },
	{ "File exists", EEXIST },
	{ "Unable to connect to rrdcached", ENOTCONN },
	{ "while talking to rrdcached", ENOTCONN },
	{ "Connection refused", ENOTCONN },
	{ "Broken pipe", ENOTCONN },
};

/*
 * librrd takes a non-blocking fcntl lock on every file it opens: a write
 * lock to update, a read lock to read. A reader (graph, fetch) and the
 * writer that meet on one file get "could not lock RRD"; both hold it for
 * well under a millisecond, so the loser waits a little and tries again.
 */
#define LOCK_TRIES 40

static int lock_busy(void)
{
	return lib.rrd_test_error() &&
	    strstr(lib.rrd_get_error(), "could not lock");
}

static void lock_wait(int attempt)
{
	struct timespec ts = { 0, 500000L * (1 + attempt % 8) };
	nanosleep(&ts, NULL);
}

/* After a failed call: copy librrd's message and classify it. */
static int fail(int saved_errno, const char *what, char *err, size_t errlen)
{
	const char *msg = lib.rrd_test_error() ? lib.rrd_get_error() : "";
	if (msg[0] == '\0')
		msg = saved_errno ? strerror(saved_errno) : "unknown error";
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, msg);
	int code = EIO;
	for (size_t i = 0; i < sizeof known_errors / sizeof known_errors[0];
	    i++) {
		if (strcasestr(msg, known_errors[i].text)) {
			code = known_errors[i].err;
			break;
		}
	}
	lib.rrd_clear_error();
	return -code;
}

/* ---- rrdcached ---- */

struct vt_rrdc *vt_rrd_lib_cached_create(const char *addr)
{
	if (addr == NULL || addr[0] == '\0')
		return NULL;
	struct vt_rrdc *c = vt_xcalloc(1, sizeof *c);
	snprintf(c->addr, sizeof c->addr, "%s", addr);
	c->is_unix = addr[0] == '/' || strncmp(addr, "unix:", 5) == 0;
	return c;
}

void vt_rrd_lib_cached_destroy(struct vt_rrdc *c)
{
	free(c);
}

int vt_rrd_lib_cached_is_unix(const struct vt_rrdc *c)
{
	return c ? c->is_unix : 1;
}

const char *vt_rrd_lib_cached_addr(const struct vt_rrdc *c)
{
	return c ? c->addr : "";
}

/* With rrdc_lock held: connect unless connected to c->addr already. */
static int rrdc_ready(struct vt_rrdc *c, char *err, size_t errlen)
{
	lib.rrd_clear_error();
	errno = 0;
	int st = lib.rrdc_connect(c->addr);
	if (st != 0 || !lib.rrdc_is_connected(c->addr)) {
		int rc = fail(st > 0 ? st : errno, "rrdcached", err, errlen);
		return rc == -EIO || rc == -ENOENT ? -ENOTCONN : rc;
	}
	return 0;
}

/* A failed rrdc_* call: -ENOTCONN when the connection went away. */
static int rrdc_fail(int st, const char *what, char *err, size_t errlen)
{
	int lost = !lib.rrdc_is_any_connected();
	int rc = fail(st > 0 ? st : 0, what, err, errlen);
	return lost ? -ENOTCONN : rc;
}

/* ---- files ---- */

/* 1 when the file system that holds path's directory has (about) no
 * space or no inodes left for an unprivileged writer: less than 4 MiB,
 * more than the largest file we create. */
static int disk_full(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else
		*slash = '\0';
	struct statvfs vfs;
	if (statvfs(dir, &vfs) != 0)
		return 0;
	return (double)vfs.f_bavail * (double)vfs.f_frsize < 4194304.0 ||
	    (vfs.f_files > 0 && vfs.f_favail == 0);
}

int vt_rrd_lib_create(const char *path, unsigned long step, time_t last_up,
    const struct vt_rrd_create_args *args, char *err, size_t errlen)
{
	const char *argv[VT_RRD_MAX_DS + VT_RRD_MAX_RRA];
	if (lib_ready(err, errlen) < 0)
		return -EIO;
	for (int i = 0; i < args->argc; i++)
		argv[i] = args->argv[i];
	lib.rrd_clear_error();
	errno = 0;
	if (lib.rrd_create_r2(path, step, last_up, 1, NULL, NULL, args->argc,
	    argv) != 0) {
		int saved = errno;
		/* librrd reports a full disk by the errno of its clean-up
		 * (often ENOENT); say what really happened. */
		if (disk_full(path)) {
			lib.rrd_clear_error();
			if (err && errlen)
				snprintf(err, errlen, "create: %s", strerror(ENOSPC));
			return -ENOSPC;
		}
		return fail(saved, "create", err, errlen);
	}
	return 0;
}

int vt_rrd_lib_update(struct vt_rrdc *c, const char *path, int argc,
    const char *const *argv, char *err, size_t errlen)
{
	int rc = 0;
	if (lib_ready(err, errlen) < 0)
		return -EIO;
	lib.rrd_clear_error();
	errno = 0;
	if (c == NULL) {
		/* rrd_update_r wants a mutable array of const strings. */
		const char *stack[64];
		const char **args = argc <= 64 ? stack :
		    vt_xmalloc((size_t)argc * sizeof *args);
		for (int i = 0; i < argc; i++)
			args[i] = argv[i];
		for (int i = 0; lib.rrd_update_r(path, NULL, argc, args) != 0; i++) {
			if (i < LOCK_TRIES && lock_busy()) {
				lock_wait(i);
				lib.rrd_clear_error();
				continue;
			}
			rc = fail(errno, "update", err, errlen);
			break;
		}
		if (args != stack)
			free(args);
		return rc;
	}
	pthread_mutex_lock(&rrdc_lock);
	rc = rrdc_ready(c, err, errlen);
	if (rc == 0) {
		lib.rrd_clear_error();
		int st = lib.rrdc_update(path, argc, argv);
		if (st != 0)
			rc = st == ENOBUFS ? -ENOBUFS :
			    rrdc_fail(st, "update", err, errlen);
	}
	pthread_mutex_unlock(&rrdc_lock);
	return rc;
}

int vt_rrd_lib_flush(struct vt_rrdc *c, const char *path, char *err,
    size_t errlen)
{
	if (c == NULL)
		return 0;
	if (remote) {
		const char *argv[] = { "flush", c->addr, path };
		struct vt_buf out;
		vt_buf_init(&out);
		int rc = remote_call(3, argv, &out, err, errlen);
		vt_buf_fini(&out);
		return rc;
	}
	if (lib_ready(err, errlen) < 0)
		return -EIO;
	pthread_mutex_lock(&rrdc_lock);
	int rc = rrdc_ready(c, err, errlen);
	if (rc == 0) {
		lib.rrd_clear_error();
		int st = lib.rrdc_flush(path);
		if (st != 0)
			rc = rrdc_fail(st, "flush", err, errlen);
	}
	pthread_mutex_unlock(&rrdc_lock);
	return rc;
}

/* ---- reading through the fork server ---- */

/* What a fetch child sends back: this, then rows * nds doubles. */
struct fetch_reply {
	int64_t start, end;
	uint64_t step, nds, rows;
	struct vt_rrd_ds_list ds;
};

#define READ_MAX_BYTES (256 << 20)      /* largest fetch accepted */

static int remote_call(int argc, const char *const *argv, struct vt_buf *out,
    char *err, size_t errlen)
{
	return vt_forkserver_call(argc, argv, READ_MAX_BYTES, out, err, errlen);
}

static int remote_lastupdate(const char *path, time_t *last,
    struct vt_rrd_ds_list *ds, double *values, char *err, size_t errlen)
{
	const char *argv[] = { "lastupdate", path };
	struct vt_buf out;
	struct vt_rrd_last r;
	vt_buf_init(&out);
	int rc = remote_call(2, argv, &out, err, errlen);
	if (rc == 0 && out.len != sizeof r) {
		snprintf(err, errlen, "lastupdate: malformed answer");
		rc = -EIO;
	}
	if (rc == 0) {
		memcpy(&r, out.data, sizeof r);
		*last = (time_t)r.last;
		if (ds)
			*ds = r.ds;
		if (values)
			memcpy(values, r.values, sizeof r.values);
	}
	vt_buf_fini(&out);
	return rc;
}

static int remote_fetch(struct vt_rrdc *c, const char *path, const char *cf,
    time_t start, time_t end, struct vt_rrd_data *out, char *err,
    size_t errlen)
{
	char s0[32], e0[32];
	snprintf(s0, sizeof s0, "%lld", (long long)start);
	snprintf(e0, sizeof e0, "%lld", (long long)end);
	const char *argv[] = { "fetch", c ? c->addr : "", path, cf, s0, e0 };
	struct vt_buf b;
	struct fetch_reply r;
	vt_buf_init(&b);
	int rc = remote_call(6, argv, &b, err, errlen);
	if (rc == 0) {
		if (b.len >= sizeof r)
			memcpy(&r, b.data, sizeof r);
		if (b.len < sizeof r || r.nds > VT_RRD_MAX_DS ||
		    r.rows > READ_MAX_BYTES / sizeof(double) ||
		    b.len != sizeof r + r.rows * r.nds * sizeof(double)) {
			snprintf(err, errlen, "fetch: malformed answer");
			rc = -EIO;
		}
	}
	if (rc == 0) {
		out->start = (time_t)r.start;
		out->end = (time_t)r.end;
		out->step = (unsigned long)r.step;
		out->nds = (size_t)r.nds;
		out->rows = (size_t)r.rows;
		out->ds = r.ds;
		size_t count = out->rows * out->nds;
		out->values = vt_xmalloc((count ? count : 1) * sizeof(double));
		memcpy(out->values, b.data + sizeof r, count * sizeof(double));
	}
	vt_buf_fini(&b);
	return rc;
}

int vt_rrd_lib_lastupdate(const char *path, time_t *last,
    struct vt_rrd_ds_list *ds, double *values, char *err, size_t errlen)
{
	unsigned long n = 0;
	char **names = NULL, **text = NULL;
	if (remote)
		return remote_lastupdate(path, last, ds, values, err, errlen);
	if (lib_ready(err, errlen) < 0)
		return -EIO;
	lib.rrd_clear_error();
	errno = 0;
	for (int i = 0; lib.rrd_lastupdate_r(path, last, &n, &names, &text) != 0;
	    i++) {
		if (i >= LOCK_TRIES || !lock_busy())
			return fail(errno, "lastupdate", err, errlen);
		lock_wait(i);
		lib.rrd_clear_error();
	}
	if (ds)
		ds->n = 0;
	for (unsigned long i = 0; i < n; i++) {
		if (values && i < VT_RRD_MAX_DS) {
			char *end;
			double v = strtod(text[i], &end);
			values[i] = end != text[i] && *end == '\0' ? v : NAN;
		}
		if (ds && ds->n < VT_RRD_MAX_DS)
			snprintf(ds->name[ds->n++], VT_RRD_DS_NAME_MAX, "%s",
			    names[i]);
		free(names[i]);
		free(text[i]);
	}
	free(names);
	free(text);
	return 0;
}

/* Move librrd's fetch result into out, freeing librrd's memory. */
static void take_fetch(struct vt_rrd_data *out, time_t start, time_t end,
    unsigned long step, unsigned long nds, char **names, rrd_value_t *data)
{
	memset(out, 0, sizeof *out);
	out->start = start;
	out->end = end;
	out->step = step;
	out->nds = nds;
	out->rows = step ? (size_t)((end - start) / (time_t)step) : 0;
	for (unsigned long i = 0; i < nds; i++) {
		if (out->ds.n < VT_RRD_MAX_DS)
			snprintf(out->ds.name[out->ds.n++], VT_RRD_DS_NAME_MAX,
			    "%s", names[i]);
		free(names[i]);
	}
	free(names);
	size_t count = out->rows * nds;
	out->values = vt_xmalloc((count ? count : 1) * sizeof(double));
	for (size_t i = 0; i < count; i++)
		out->values[i] = data[i];
	free(data);
}

int vt_rrd_lib_fetch(struct vt_rrdc *c, const char *path, const char *cf,
    time_t start, time_t end, struct vt_rrd_data *out, char *err,
    size_t errlen)
{
	unsigned long step = 1, nds = 0;
	char **names = NULL;
	rrd_value_t *data = NULL;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (remote)
		return remote_fetch(c, path, cf, start, end, out, err, errlen);
	if (lib_ready(err, errlen) < 0)
		return -EIO;
	lib.rrd_clear_error();
	errno = 0;
	if (c == NULL) {
		time_t s0 = start, e0 = end;
		for (int i = 0; lib.rrd_fetch_r(path, cf, &start, &end, &step, &nds,
		    &names, &data) != 0; i++) {
			if (i >= LOCK_TRIES || !lock_busy())
				return fail(errno, "fetch", err, errlen);
			lock_wait(i);
			lib.rrd_clear_error();
			start = s0;
			end = e0;
			step = 1;
		}
	} else {
		pthread_mutex_lock(&rrdc_lock);
		rc = rrdc_ready(c, err, errlen);
		if (rc == 0) {
			lib.rrd_clear_error();
			int st = lib.rrdc_fetch(path, cf, &start, &end, &step, &nds,
			    &names, &data);
			if (st != 0)
				rc = rrdc_fail(st, "fetch", err, errlen);
		}
		pthread_mutex_unlock(&rrdc_lock);
		if (rc < 0)
			return rc;
	}
	take_fetch(out, start, end, step, nds, names, data);
	return 0;
}

void vt_rrd_lib_data_fini(struct vt_rrd_data *d)
{
	VT_FREE(d->values);
	d->rows = 0;
}

/* Runs in a fork server child (forkserver.h): argv[0] is "graph",
 * argv[1] "-"; the image, or librrd's message, goes to out. */
static int render_job(int argc, char **argv, struct vt_buf *out)
{
	char err[VT_ERR_LEN] = "";
	rrd_info_t *info;
	if (lib_ready(err, sizeof err) < 0) {
		vt_buf_puts(out, err);
		return -EIO;
	}
	lib.rrd_clear_error();
	errno = 0;
	for (int i = 0; (info = lib.rrd_graph_v(argc, argv)) == NULL; i++) {
		if (i >= LOCK_TRIES || !lock_busy()) {
			int rc = fail(errno, "graph", err, sizeof err);
			vt_buf_puts(out, err);
			return rc;
		}
		lock_wait(i);
		lib.rrd_clear_error();
	}
	int rc = -EIO;
	for (rrd_info_t *p = info; p; p = p->next) {
		if (p->type == RD_I_BLO && strcmp(p->key, "image") == 0) {
			vt_buf_append(out, p->value.u_blo.ptr,
			    p->value.u_blo.size);
			rc = 0;
		}
	}
	if (rc != 0)
		vt_buf_puts(out, "graph: librrd returned no image");
	lib.rrd_info_free(info);
	return rc;
}

/* Runs in a fork server child: lastupdate <path>, answered with a
 * struct vt_rrd_last. */
static int lastupdate_job(int argc, char **argv, struct vt_buf *out)
{
	char err[VT_ERR_LEN] = "";
	struct vt_rrd_last r;
	time_t last = 0;
	memset(&r, 0, sizeof r);
	int rc = argc == 2 ? vt_rrd_lib_lastupdate(argv[1], &last, &r.ds,
	    r.values, err, sizeof err) : -EINVAL;
	if (rc < 0) {
		vt_buf_puts(out, err[0] ? err : "lastupdate: bad request");
		return rc;
	}
	r.last = last;
	vt_buf_append(out, &r, sizeof r);
	return 0;
}

/* fetch <rrdcached address or ""> <path> <cf> <start> <end>, answered
 * with a struct fetch_reply and the values. */
static int fetch_job(int argc, char **argv, struct vt_buf *out)
{
	char err[VT_ERR_LEN] = "";
	if (argc != 6) {
		vt_buf_puts(out, "fetch: bad request");
		return -EINVAL;
	}
	struct vt_rrdc *c = vt_rrd_lib_cached_create(argv[1]);
	struct vt_rrd_data d;
	int rc = vt_rrd_lib_fetch(c, argv[2], argv[3],
	    (time_t)strtoll(argv[4], NULL, 10),
	    (time_t)strtoll(argv[5], NULL, 10), &d, err, sizeof err);
	vt_rrd_lib_cached_destroy(c);
	if (rc < 0) {
		vt_buf_puts(out, err);
		return rc;
	}
	struct fetch_reply r;
	memset(&r, 0, sizeof r);
	r.start = d.start;
	r.end = d.end;
	r.step = d.step;
	r.nds = d.nds;
	r.rows = d.rows;
	r.ds = d.ds;
	vt_buf_append(out, &r, sizeof r);
	vt_buf_append(out, d.values, d.rows * d.nds * sizeof(double));
	vt_rrd_lib_data_fini(&d);
	return 0;
}

/* flush <rrdcached address> <path>. */
static int flush_job(int argc, char **argv, struct vt_buf *out)
{
	char err[VT_ERR_LEN] = "";
	if (argc != 3) {
		vt_buf_puts(out, "flush: bad request");
		return -EINVAL;
	}
	struct vt_rrdc *c = vt_rrd_lib_cached_create(argv[1]);
	int rc = vt_rrd_lib_flush(c, argv[2], err, sizeof err);
	vt_rrd_lib_cached_destroy(c);
	if (rc < 0)
		vt_buf_puts(out, err);
	return rc;
}

/* Every job of the fork server, by its first word. */
static int helper_job(int argc, char **argv, struct vt_buf *out)
{
	static const struct {
		const char *name;
		vt_forkserver_job run;
	} jobs[] = {
		{ "graph", render_job },
		{ "lastupdate", lastupdate_job },
		{ "fetch", fetch_job },
		{ "flush", flush_job },
	};
	for (size_t i = 0; argc > 0 && i < sizeof jobs / sizeof jobs[0]; i++)
		if (strcmp(argv[0], jobs[i].name) == 0)
			return jobs[i].run(argc, argv, out);
	vt_buf_puts(out, "unknown job");
	return -EINVAL;
}

/* Once in the fork server: a first graph loads the fonts and fills
 * fontconfig's and Pango's caches, so each child draws in ~10 ms. */
static void warm_fonts(void)
{
	char *argv[] = { "graph", "-", "--start", "end-1h", "--width", "100",
	    "--height", "50", "HRULE:0#000000:warm", NULL };
	struct vt_buf out;
	vt_buf_init(&out);
	render_job((int)(sizeof argv / sizeof argv[0]) - 1, argv, &out);
	vt_buf_fini(&out);
}

int vt_rrd_lib_forkserver_start(char *err, size_t errlen)
{
	if (vt_forkserver_start(helper_job, warm_fonts, GRAPH_TIMEOUT_SECONDS,
	    err, errlen) < 0)
		return -1;
	remote = 1;   /* in this process only: the server forked before */
	return 0;
}

void vt_rrd_lib_forkserver_stop(void)
{
	remote = 0;
	vt_forkserver_stop();
}

int vt_rrd_lib_graph(int argc, const char *const *argv, struct vt_buf *image,
    char *err, size_t errlen)
{
	if (vt_rrd_lib_forkserver_start(err, errlen) < 0)   /* 0 if running */
		return -EIO;
	const char **args = vt_xcalloc((size_t)argc + 3, sizeof *args);
	args[0] = "graph";
	args[1] = "-";
	for (int i = 0; i < argc; i++)
		args[i + 2] = argv[i];
	int rc = vt_forkserver_call(argc + 2, args, GRAPH_MAX_BYTES, image,
	    err, errlen);
	free(args);
	return rc;
}
