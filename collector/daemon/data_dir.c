/* data_dir.c - create, resolve and vet the data directory (data_dir.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collector/daemon/data_dir.h"

const char *vt_data_dir_system(const char *resolved)
{
	static const char *const exact[] = {
		"/", "/bin", "/boot", "/etc", "/home", "/lib", "/lib32",
		"/lib64", "/opt", "/root", "/run", "/sbin", "/srv", "/tmp",
		"/usr", "/var", "/var/lib",
	};
	static const char *const trees[] = { "/proc", "/sys", "/dev" };
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (strcmp(resolved, exact[i]) == 0)
			return exact[i];
	for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
		size_t n = strlen(trees[i]);
		if (strncmp(resolved, trees[i], n) == 0 &&
		    (resolved[n] == '\0' || resolved[n] == '/'))
			return trees[i];
	}
	return NULL;
}

int vt_data_dir_prepare(const char *dir, char *resolved, size_t resolvedlen,
    char *err, size_t errlen)
{
	char path[PATH_MAX], real[PATH_MAX];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
		snprintf(err, errlen, "data_dir %s: path too long", dir);
		return -1;
	}
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "data_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (realpath(path, real) == NULL) {
		snprintf(err, errlen, "data_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	const char *sys = vt_data_dir_system(real);
	if (sys != NULL) {
		snprintf(err, errlen, "data_dir %s resolves to %s: refusing %s "
		    "(services would get directories there); choose a "
		    "directory of its own, e.g. /var/lib/vitals", dir, real,
		    strcmp(sys, real) == 0 ? "a system directory" :
		    "a directory inside a system tree");
		return -1;
	}
	snprintf(resolved, resolvedlen, "%s", real);
	return 0;
}
