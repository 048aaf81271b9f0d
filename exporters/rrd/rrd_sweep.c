/*
 * rrd_sweep.c - unlink librrd's temporary files that a kill -9 during a
 * create left behind (rrd_sweep.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporters/rrd/rrd_sweep.h"

#define TEMP_SUFFIX_LEN 6   /* mkstemp's XXXXXX */

int vt_rrd_sweep_is_leftover(const char *name)
{
	size_t n = strlen(name);
	if (n < 4 + TEMP_SUFFIX_LEN + 1)
		return 0;
	const char *tail = name + n - TEMP_SUFFIX_LEN;
	if (memcmp(tail - 4, ".rrd", 4) != 0)
		return 0;
	for (int i = 0; i < TEMP_SUFFIX_LEN; i++)
		if (!isalnum((unsigned char)tail[i]))
			return 0;
	return 1;
}

/* Where files live, by depth below the data directory: */
enum depth {
	DATA_DIR = 0,      /* service directories only */
	SERVICE = 1,       /* metric files, and "checks" */
	CHECKS = 2,        /* instance directories only */
	INSTANCE = 3,      /* check files */
};

/* Sweep the directory dirfd (taken: closed here) at depth d. */
static size_t sweep_dir(int dirfd, enum depth d)
{
	DIR *dir = fdopendir(dirfd);
	if (dir == NULL) {
		close(dirfd);
		return 0;
	}
	size_t removed = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		struct stat sb;
		if (fstatat(dirfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(sb.st_mode) && (d == SERVICE || d == INSTANCE) &&
		    vt_rrd_sweep_is_leftover(e->d_name)) {
			if (unlinkat(dirfd, e->d_name, 0) == 0)
				removed++;
		} else if (S_ISDIR(sb.st_mode) && (d == DATA_DIR ||
		    d == CHECKS || (d == SERVICE &&
		    strcmp(e->d_name, "checks") == 0))) {
			int sub = openat(dirfd, e->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				removed += sweep_dir(sub, d + 1);
		}
	}
	closedir(dir);
	return removed;
}

size_t vt_rrd_sweep(const char *data_dir)
{
	int top = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return top < 0 ? 0 : sweep_dir(top, DATA_DIR);
}
