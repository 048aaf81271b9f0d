/*
 * check_main.c - runs every unit-test suite listed in suites.h.
 * `check_vitals [SUITE]` runs one suite by name. CK_FORK is on by default
 * (a crash fails one test, not the run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef VT_TEST_ONLY
#include <check.h>
#define VT_CAT2(a, b) a##b
#define VT_CAT(a, b) VT_CAT2(a, b)
Suite *VT_CAT(VT_CAT(vt_test_, VT_TEST_ONLY), _suite)(void);
#else
#include "suites.h"
#endif

struct suite_entry {
	const char *name;
	Suite *(*make)(void);
};

/* -DVT_TEST_ONLY=<module> builds a runner for one suite, so a module can
 * be tested alone: cc ... tests/check_main.c tests/test_<module>.c ... */
#ifdef VT_TEST_ONLY
#define VT_SUITE_LIST(X) X(VT_TEST_ONLY)
#else
#define VT_SUITE_LIST VT_TEST_SUITES
#endif

#define VT_SUITE_ENTRY2(m) { #m, vt_test_##m##_suite },
#define VT_SUITE_ENTRY(m) VT_SUITE_ENTRY2(m)
static const struct suite_entry all_suites[] = {
	VT_SUITE_LIST(VT_SUITE_ENTRY)
};
#undef VT_SUITE_ENTRY

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	SRunner *runner = NULL;

	for (size_t i = 0; i < sizeof all_suites / sizeof all_suites[0]; i++) {
		if (only && strcmp(only, all_suites[i].name) != 0)
			continue;
		Suite *s = all_suites[i].make();
		if (runner == NULL)
			runner = srunner_create(s);
		else
			srunner_add_suite(runner, s);
	}
	if (runner == NULL) {
		fprintf(stderr, "check_vitals: no suite named %s\n", only);
		return 2;
	}
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
