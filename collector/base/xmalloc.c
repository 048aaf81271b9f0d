/* xmalloc.c - allocation that aborts on failure (see xmalloc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/xmalloc.h"

static void out_of_memory(size_t n)
{
	fprintf(stderr, "vitalsd: out of memory allocating %zu bytes\n", n);
	abort();
}

void *vt_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		out_of_memory(n);
	return p;
}

void *vt_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (p == NULL)
		out_of_memory(nmemb * size);
	return p;
}

void *vt_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		out_of_memory(n);
	return q;
}

char *vt_xstrndup(const char *s, size_t n)
{
	char *d = vt_xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *vt_xstrdup(const char *s)
{
	return vt_xstrndup(s, strlen(s));
}
