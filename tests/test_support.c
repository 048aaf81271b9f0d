/*
 * test_support.c - helpers shared by the unit-test suites
 * (test_support.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

int vt_test_promtool(const char *text, char *out, size_t outlen)
{
	char path[] = "/tmp/vt_promtool_XXXXXX";
	char cmd[128];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	size_t len = strlen(text);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof cmd, VT_PROMTOOL " check metrics < %s 2>&1", path);
	FILE *pp = popen(cmd, "r");
	ck_assert_ptr_nonnull(pp);
	size_t n = fread(out, 1, outlen - 1, pp);
	out[n] = '\0';
	int status = pclose(pp);
	unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
