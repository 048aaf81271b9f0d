/*
 * fuzz_rrd_direct.c - RRD files updated in place (rrd_direct.h): a file
 * in the data directory may be broken, truncated or planted, and the
 * writer must refuse it or update it, never crash or write past it.
 *
 * Input: a control byte (how many rows, 0-7), then per row a time step
 * byte and eight value bytes (an integer, a double or unknown, chosen by
 * the step byte's high bits), then the file's bytes.
 *
 * Invariants: the return is 0 or a negative errno with a one-line
 * message naming the file; the file never changes size; -ENOTSUP leaves
 * it byte for byte as it was; a file that was updated (0) reads again
 * without error (an empty update), and a second update after the first
 * is accepted or refused, never crashes.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporters/rrd/rrd_direct.h"
#include "fuzz_common.h"

#define ROWS_MAX 7
#define VALUES 64

static struct vt_rrd_direct *d;
static char path[64];

static long file_size(void)
{
	struct stat st;
	FUZZ_ASSERT(stat(path, &st) == 0, "stat %s", path);
	return (long)st.st_size;
}

static void check_err(int rc, const char *err)
{
	FUZZ_ASSERT(rc == 0 || (rc < 0 && rc > -4096), "rc %d", rc);
	if (rc < 0) {
		FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0, "%s", err);
		FUZZ_ASSERT(strchr(err, '\n') == NULL, "%s", err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (d == NULL) {
		d = vt_rrd_direct_create();
		snprintf(path, sizeof path, "/tmp/fuzz-rrd-direct-%d.rrd",
		    (int)getpid());
	}
	if (size < 1)
		return 0;
	size_t nrows = data[0] % (ROWS_MAX + 1);
	size_t at = 1;
	if (size < at + nrows * 9)
		return 0;
	/* Times follow the file's own last update when it has one. */
	time_t t0 = 1700000000;
	const uint8_t *file = data + at + nrows * 9;
	size_t flen = size - at - nrows * 9;
	if (flen >= sizeof(struct vt_rrd_stat_head)) {
		struct vt_rrd_stat_head st;
		memcpy(&st, file, sizeof st);
		size_t live = sizeof st + st.ds_cnt * sizeof(struct vt_rrd_ds_def) +
		    st.rra_cnt * sizeof(struct vt_rrd_rra_def);
		if (st.ds_cnt < 64 && st.rra_cnt < 64 &&
		    live + sizeof(time_t) <= flen) {
			memcpy(&t0, file + live, sizeof t0);
			if (t0 < 0 || t0 > ((time_t)1 << 40))
				t0 = 1700000000;
		}
	}
	static double vals[ROWS_MAX][VALUES];
	struct vt_rrd_direct_row rows[ROWS_MAX];
	time_t t = t0;
	for (size_t r = 0; r < nrows; r++) {
		const uint8_t *p = data + at + r * 9;
		t += (p[0] & 0x3f);           /* 0: a late row */
		uint64_t bits;
		memcpy(&bits, p + 1, 8);
		for (size_t i = 0; i < VALUES; i++) {
			switch (p[0] >> 6) {
			case 0:
				vals[r][i] = (double)(int32_t)(bits + i);
				break;
			case 1:
				memcpy(&vals[r][i], &bits, 8);
				break;
			case 2:
				vals[r][i] = NAN;
				break;
			default:
				vals[r][i] = (double)(bits % 1000) / 8.0;
				break;
			}
		}
		rows[r].t = t;
		rows[r].values = vals[r];
	}

	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_ASSERT(fd >= 0, "open %s", path);
	FUZZ_ASSERT(write(fd, file, flen) == (ssize_t)flen, "write");
	close(fd);

	/* The number of values the file asks for, when it says. */
	size_t nvalues = 1;
	if (flen >= sizeof(struct vt_rrd_stat_head)) {
		struct vt_rrd_stat_head st;
		memcpy(&st, file, sizeof st);
		if (st.ds_cnt >= 1 && st.ds_cnt <= VALUES)
			nvalues = st.ds_cnt;
	}
	char err[512];
	err[0] = '\0';
	int rc = vt_rrd_direct_update(d, path, rows, nrows, nvalues, err,
	    sizeof err);
	check_err(rc, err);
	FUZZ_ASSERT(file_size() == (long)flen, "size %ld, was %zu", file_size(),
	    flen);
	if (rc == -ENOTSUP) {
		uint8_t *back = malloc(flen ? flen : 1);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		FUZZ_ASSERT(read(fd, back, flen) == (ssize_t)flen, "read back");
		close(fd);
		FUZZ_ASSERT(flen == 0 || memcmp(back, file, flen) == 0,
		    "changed but refused");
		free(back);
	}
	if (rc == 0 && nrows > 0) {
		rc = vt_rrd_direct_update(d, path, rows, 0, nvalues, err,
		    sizeof err);
		FUZZ_ASSERT(rc == 0, "an updated file reads back: %s", err);
		/* The same rows again are late now (or, with nothing
		 * elapsed, refused): never a crash, the size unchanged. */
		rc = vt_rrd_direct_update(d, path, rows, nrows, nvalues, err,
		    sizeof err);
		check_err(rc, err);
		FUZZ_ASSERT(file_size() == (long)flen, "size after twice");
	}
	unlink(path);
	return 0;
}
