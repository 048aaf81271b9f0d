/*
 * dynlib.c - opening an optional library and resolving its symbols, once
 * (dynlib.h).
 */
#include <dlfcn.h>
#include <stdio.h>

#include "collector/base/dynlib.h"

static int open_now(struct vt_dynlib *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(l->err, sizeof l->err, "cannot load %s: %s", l->soname,
		    dlerror());
		return -1;
	}
	for (size_t i = 0; i < l->nsyms; i++) {
		*l->syms[i].slot = dlsym(h, l->syms[i].name);
		if (*l->syms[i].slot == NULL) {
			snprintf(l->err, sizeof l->err, "%s has no %s (is it "
			    "the version vitalsd was built for?)", l->soname,
			    l->syms[i].name);
			for (size_t j = 0; j < l->nsyms; j++)
				*l->syms[j].slot = NULL;
			dlclose(h);
			return -1;
		}
	}
	return 1;
}

int vt_dynlib_load(struct vt_dynlib *l, char *err, size_t errlen)
{
	if (__atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == 1)
		return 0;
	pthread_mutex_lock(&l->lock);
	if (l->state == 0)
		__atomic_store_n(&l->state, open_now(l), __ATOMIC_RELEASE);
	int state = l->state;
	pthread_mutex_unlock(&l->lock);
	if (state == 1)
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "%s", l->err);
	return -1;
}
