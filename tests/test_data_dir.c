/* test_data_dir.c - the data directory: created, resolved through
 * symbolic links, and refused at the root or in a system directory. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/daemon/data_dir.h"
#include "suites.h"

static const struct {
	const char *path;
	const char *system;          /* NULL: allowed */
} paths[] = {
	{ "/", "/" },
	{ "/etc", "/etc" },
	{ "/usr", "/usr" },
	{ "/var", "/var" },
	{ "/proc", "/proc" },
	{ "/proc/1/cwd", "/proc" },
	{ "/sys/fs", "/sys" },
	{ "/dev/shm", "/dev" },
	{ "/var/lib/vitals", NULL },
	{ "/usr/local/var/vitals", NULL },
	{ "/srv/vitals", NULL },
	{ "/tmp/vitals-data", NULL },
	{ "/etcetera", NULL },
	{ "/devices", NULL },
};

START_TEST(system_directories)
{
	const char *got = vt_data_dir_system(paths[_i].path);
	if (paths[_i].system == NULL)
		ck_assert_msg(got == NULL, "%s refused as %s", paths[_i].path,
		    got);
	else
		ck_assert_msg(got && strcmp(got, paths[_i].system) == 0,
		    "%s: %s", paths[_i].path, got ? got : "(allowed)");
}
END_TEST

START_TEST(prepare_creates_resolves_and_refuses)
{
	char base[] = "/tmp/vt-data-dir-XXXXXX", path[PATH_MAX];
	char resolved[PATH_MAX], err[512];
	ck_assert_ptr_nonnull(mkdtemp(base));

	/* created with its parents, resolved ("b/.." is made, then left) */
	snprintf(path, sizeof path, "%s/a/b/../c", base);
	ck_assert_int_eq(vt_data_dir_prepare(path, resolved, sizeof resolved,
	    err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/a/c", base);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_str_eq(resolved, path);

	/* a symbolic link to / or into /proc is refused, naming both */
	snprintf(path, sizeof path, "%s/root", base);
	ck_assert_int_eq(symlink("/", path), 0);
	ck_assert_int_eq(vt_data_dir_prepare(path, resolved, sizeof resolved,
	    err, sizeof err), -1);
	ck_assert_msg(strstr(err, "resolves to /:") != NULL, "%s", err);
	snprintf(path, sizeof path, "%s/proc", base);
	ck_assert_int_eq(symlink("/proc/self", path), 0);
	ck_assert_int_eq(vt_data_dir_prepare(path, resolved, sizeof resolved,
	    err, sizeof err), -1);
	ck_assert_msg(strstr(err, "inside a system tree") != NULL, "%s", err);
	unlink(path);
	snprintf(path, sizeof path, "%s/root", base);
	unlink(path);
	snprintf(path, sizeof path, "%s/a/c", base);
	rmdir(path);
	snprintf(path, sizeof path, "%s/a/b", base);
	rmdir(path);
	snprintf(path, sizeof path, "%s/a", base);
	rmdir(path);
	rmdir(base);
}
END_TEST

Suite *vt_test_data_dir_suite(void)
{
	Suite *s = suite_create("data_dir");
	TCase *tc = tcase_create("data_dir");
	tcase_add_loop_test(tc, system_directories, 0,
	    (int)(sizeof paths / sizeof paths[0]));
	tcase_add_test(tc, prepare_creates_resolves_and_refuses);
	suite_add_tcase(s, tc);
	return s;
}
