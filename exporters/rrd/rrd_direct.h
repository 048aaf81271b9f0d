/*
 * rrd_direct.h - updating an RRD file in place, without librrd: the
 * writer's direct mode (rrd_files.c).
 *
 * Why: librrd maps the whole file, takes its lock, reads and checks it,
 * and on close gives the pages back to the kernel (posix_fadvise), about
 * 350 us of CPU per update call on the reference machine whatever the
 * call carries. An update is a few small reads and writes: the header,
 * one row per archive that advances, the header's live part again. Done
 * here with pread/pwrite it costs about 20 us, in the writer's own thread.
 *
 * What it does is what rrd_update does with "<time>:<v>:<v>..." strings,
 * byte for byte (tests/test_rrd_direct.c holds it to librrd on the same
 * files): primary data points from the time since the last update and
 * the heartbeat, consolidation into every archive (xff, unknown counts,
 * the carried-over partial row), rows written at the archive's next row,
 * the text of each value kept as the file's last reading. It takes the
 * file's write lock as librrd does (a concurrent `rrdtool update` of the
 * same file fails rather than interleaving). It makes new files too, as
 * rrd_create does, in about half of librrd's CPU (110 against 240 us for
 * a 214 KB timer file here, and no round trip to the worker).
 *
 * It handles the files vitalsd makes, and any like them: format 0003 or
 * 0004 of this platform's word size, GAUGE data sources, AVERAGE, MIN,
 * MAX and LAST archives. Anything else (COUNTER or DERIVE sources,
 * Holt-Winters archives, another platform's files) is -ENOTSUP: the
 * caller then goes through librrd. What a file says is bounded before it
 * is used (tests/fuzz/fuzz_rrd_direct.c): a broken file is refused, never
 * written past its end.
 *
 * The on-disk structures are declared here once, for this module and for
 * the plain header reader (vt_rrd_files_read_header).
 *
 * One owner thread per struct vt_rrd_direct (its scratch buffers).
 */
#ifndef VT_RRD_DIRECT_H
#define VT_RRD_DIRECT_H

#include <stddef.h>
#include <time.h>

/* RRDtool's format (rrd_format.h) as this platform lays it out. */
union vt_rrd_unival {
	unsigned long cnt;
	double val;
};
struct vt_rrd_stat_head {
	char cookie[4];                 /* "RRD" */
	char version[5];                /* "0003" */
	double float_cookie;            /* VT_RRD_FLOAT_COOKIE */
	unsigned long ds_cnt, rra_cnt, pdp_step;
	union vt_rrd_unival par[10];
};
struct vt_rrd_ds_def {
	char name[20];
	char dst[20];                   /* "GAUGE" */
	union vt_rrd_unival par[10];    /* heartbeat, min, max */
};
struct vt_rrd_rra_def {
	char cf[20];                    /* "AVERAGE" */
	unsigned long row_cnt, pdp_cnt;
	union vt_rrd_unival par[10];    /* xff */
};
struct vt_rrd_live_head {
	time_t last_up;
	long last_up_usec;
};
struct vt_rrd_pdp_prep {
	char last_ds[30];               /* text of the last reading */
	union vt_rrd_unival scratch[10];
};
struct vt_rrd_cdp_prep {
	union vt_rrd_unival scratch[10];
};
#define VT_RRD_FLOAT_COOKIE 8.642135E130

/* One update: the window closing at t (whole seconds, after the file's
 * last update), nvalues values in the file's data source order (NaN or
 * infinite: unknown). */
struct vt_rrd_direct_row {
	time_t t;
	const double *values;
};

struct vt_rrd_direct;
struct vt_rrd_create_args;

struct vt_rrd_direct *vt_rrd_direct_create(void);
void vt_rrd_direct_destroy(struct vt_rrd_direct *d);   /* NULL ok */

/* Make the file at path, as rrd_create would with these "DS:..." and
 * "RRA:..." arguments (GAUGE sources, AVERAGE/MIN/MAX/LAST archives: else
 * -ENOTSUP and nothing is made), the step and the time before its first
 * update: every row unknown, each archive's current row picked from a
 * hash of the path (librrd picks at random; either spreads the writes).
 * It is written under a temporary name and linked into place, so the
 * file is whole or absent, never overwritten (-EEXIST). 0 or a negative
 * errno with err set. */
int vt_rrd_direct_make(struct vt_rrd_direct *d, const char *path,
    unsigned long step, time_t last_up, const struct vt_rrd_create_args *args,
    char *err, size_t errlen);

/* Apply rows (oldest first) to the file at path. 0; or a negative errno
 * with err set: -ENOTSUP (a file this does not write; nothing was
 * changed: use librrd), -EINVAL (not an RRD file, another number of data
 * sources, a row not after the last update: the rows before it are
 * written), -EAGAIN (locked by another writer), or the system's error. */
int vt_rrd_direct_update(struct vt_rrd_direct *d, const char *path,
    const struct vt_rrd_direct_row *rows, size_t nrows, size_t nvalues,
    char *err, size_t errlen);

#endif
