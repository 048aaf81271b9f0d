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

#include "rrd_sweep.h"

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

/* Open a subdirectory of dirfd without following a link. -1 if none. */
static int open_subdir(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

/* depth 0: a service directory (files, and "checks/<instance>/");
 * depth 1: "checks"; depth 2: an instance directory. Takes dirfd. */
static size_t sweep_dir(int dirfd, int depth)
{
	DIR *d = fdopendir(dirfd);
	if (d == NULL) {
		close(dirfd);
		return 0;
	}
	size_t removed = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		struct stat sb;
		if (fstatat(dirfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(sb.st_mode) && depth != 1 &&
		    vt_rrd_sweep_is_leftover(e->d_name)) {
			if (unlinkat(dirfd, e->d_name, 0) == 0)
				removed++;
		} else if (S_ISDIR(sb.st_mode) &&
		    ((depth == 0 && strcmp(e->d_name, "checks") == 0) ||
		    depth == 1)) {
			int sub = open_subdir(dirfd, e->d_name);
			if (sub >= 0)
				removed += sweep_dir(sub, depth + 1);
		}
	}
	closedir(d);
	return removed;
}

size_t vt_rrd_sweep(const char *data_dir)
{
	int top = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return 0;
	DIR *d = fdopendir(top);
	if (d == NULL) {
		close(top);
		return 0;
	}
	size_t removed = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		int sub = open_subdir(top, e->d_name);
		if (sub >= 0)
			removed += sweep_dir(sub, 0);
	}
	closedir(d);
	return removed;
}
