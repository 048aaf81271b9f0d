/* state_file.c - atomic state files in the data directory (state_file.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/base/fdio.h"
#include "collector/base/state_file.h"
#include "collector/base/xmalloc.h"

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int vt_state_file_write(const char *dir, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 72];
	int rc;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(-rc));
		return rc;
	}
	if ((rc = vt_fd_write_all(fd, text, len)) < 0 ||
	    (rc = fsync(fd) < 0 ? -errno : 0) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(-rc));
		close(fd);
		goto fail;
	}
	if (close(fd) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(-rc));
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "rename %s: %s", tmp, strerror(-rc));
		goto fail;
	}
	if ((rc = fsync_dir(dir)) < 0)
		snprintf(err, errlen, "fsync %s: %s", dir, strerror(-rc));
	return rc;
fail:
	unlink(tmp);
	return rc;
}

int vt_state_file_read(const char *dir, const char *name, size_t max,
    char **out, size_t *len)
{
	char path[PATH_MAX + 64];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (st.st_size > (off_t)max) {
		close(fd);
		return -EFBIG;
	}
	size_t cap = (size_t)st.st_size, n = 0;
	char *buf = vt_xmalloc(cap + 1);
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int vt_state_file_load_json(const char *dir, const char *name, size_t max,
    const char *format, int version, const char *list, const char *what,
    double now, struct cJSON **root, const struct cJSON **items, char *err,
    size_t errlen)
{
	char *text = NULL, why[160];
	const char *end = NULL;
	size_t len = 0;
	*root = NULL;
	*items = NULL;
	int rc = vt_state_file_read(dir, name, max, &text, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(-rc));
		return rc;
	}
	cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "format");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "version");
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(doc, list);
	if (doc == NULL)
		snprintf(why, sizeof why, "not valid JSON (truncated or corrupt "
		    "at byte %zu of %zu)", end ? (size_t)(end - text) : 0, len);
	else
		snprintf(why, sizeof why, "not a %s version %d document",
		    format, version);
	free(text);
	if (doc == NULL || !cJSON_IsString(f) ||
	    strcmp(f->valuestring, format) != 0 || !cJSON_IsNumber(v) ||
	    v->valuedouble != version || !cJSON_IsArray(l)) {
		cJSON_Delete(doc);
		return vt_state_file_set_aside(dir, name, why, what, now, err,
		    errlen);
	}
	*root = doc;
	*items = l;
	return 1;
}

int vt_state_file_set_aside(const char *dir, const char *name,
    const char *why, const char *what, double now, char *err,
    size_t errlen)
{
	char path[PATH_MAX + 64], aside[PATH_MAX + 96];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(aside, sizeof aside, "%s.corrupt-%.0f", path, floor(now));
	if (rename(path, aside) < 0)
		snprintf(err, errlen, "%s: %s; cannot move it aside: %s", path,
		    why, strerror(errno));
	else
		snprintf(err, errlen, "%s: %s; moved to %s, starting with no "
		    "%s", path, why, aside, what);
	return -EINVAL;
}
