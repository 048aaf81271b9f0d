/*
 * check_main.c - runs every unit-test suite listed in suites.h.
 * `check_vitals [SUITE]` runs one suite by name. CK_FORK is on by default
 * (a crash fails one test, not the run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

struct suite_entry {
	const char *name;
	Suite *(*make)(void);
};

#define VT_SUITE_ENTRY(m) { #m, vt_test_##m##_suite },
static const struct suite_entry all_suites[] = {
	VT_TEST_SUITES(VT_SUITE_ENTRY)
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
