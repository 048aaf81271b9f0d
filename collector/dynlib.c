/*
 * dynlib.c - opening an optional library and resolving its symbols
 * (dynlib.h).
 */
#include <dlfcn.h>
#include <stdio.h>

#include "dynlib.h"

int vt_dynlib_open(const char *soname, const struct vt_dynsym *syms,
    size_t nsyms, char *err, size_t errlen)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(err, errlen, "cannot load %s: %s", soname, dlerror());
		return -1;
	}
	for (size_t i = 0; i < nsyms; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (*syms[i].slot == NULL) {
			snprintf(err, errlen, "%s has no %s (%s)", soname,
			    syms[i].name, "is it the version vitalsd was built for?");
			for (size_t j = 0; j < nsyms; j++)
				*syms[j].slot = NULL;
			dlclose(h);
			return -1;
		}
	}
	return 0;
}
