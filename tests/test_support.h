/*
 * test_support.h - small helpers several unit-test suites share.
 */
#ifndef VT_TEST_SUPPORT_H
#define VT_TEST_SUPPORT_H

#include <stddef.h>

#define VT_PROMTOOL "/usr/bin/promtool"

/* Number of elements of an array. */
#define VT_N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Run the real `promtool check metrics` on text: its exit status, and
 * what it printed in out (NUL-terminated, cut to outlen). */
int vt_test_promtool(const char *text, char *out, size_t outlen);

#endif
