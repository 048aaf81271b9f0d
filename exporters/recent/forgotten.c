/* forgotten.c - services the in-memory views hide (forgotten.h). */
#include <stdlib.h>
#include <string.h>

#include "collector/base/xmalloc.h"
#include "exporters/recent/forgotten.h"

void vt_forgotten_add(struct vt_forgotten *g, const char *service,
    double at)
{
	g->v = vt_xrealloc(g->v, (g->n + 1) * sizeof *g->v);
	g->v[g->n++] = (struct vt_forgotten_entry){ vt_xstrdup(service), at };
}

int vt_forgotten_hides(const struct vt_forgotten *g, const char *service,
    double t)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].at >= t && strcmp(g->v[i].service, service) == 0)
			return 1;
	return 0;
}

void vt_forgotten_prune(struct vt_forgotten *g, double t)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n; i++) {
		if (g->v[i].at >= t)
			g->v[n++] = g->v[i];
		else
			free(g->v[i].service);
	}
	g->n = n;
}

void vt_forgotten_fini(struct vt_forgotten *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].service);
	free(g->v);
	*g = (struct vt_forgotten){ 0 };
}
