/*
 * xmalloc.h - the one out-of-memory policy: allocation failure aborts with
 * a message, so callers never test for NULL. Sizes that come from the
 * network are capped before they reach these functions.
 */
#ifndef VT_XMALLOC_H
#define VT_XMALLOC_H

#include <stddef.h>

void *vt_xmalloc(size_t n);
void *vt_xcalloc(size_t nmemb, size_t size);
void *vt_xrealloc(void *p, size_t n);
char *vt_xstrdup(const char *s);
char *vt_xstrndup(const char *s, size_t n);

/* Free and set the pointer to NULL. */
#define VT_FREE(p) do { free(p); (p) = NULL; } while (0)

#endif
