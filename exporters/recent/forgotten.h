/*
 * forgotten.h - the services a DELETE forgot, as the in-memory views
 * (latest.h, trends.h) must hide them: from the view already published,
 * at once, and from a window that closed before the DELETE but reaches
 * the view after it, so that window cannot bring the service back.
 *
 * A value (zero-initialise; vt_forgotten_fini) guarded by its owner's
 * lock. Windows reach a view in the order they closed, so an entry stops
 * mattering once a window closed after it arrives (vt_forgotten_prune).
 */
#ifndef VT_FORGOTTEN_H
#define VT_FORGOTTEN_H

#include <stddef.h>

struct vt_forgotten_entry {
	char *service;               /* owned */
	double at;                   /* unix time it was forgotten */
};

struct vt_forgotten {
	struct vt_forgotten_entry *v;
	size_t n;
};

/* Remember that service was forgotten at `at` (copies service). */
void vt_forgotten_add(struct vt_forgotten *g, const char *service,
    double at);

/* 1 when service was forgotten at or after a window that closed at t. */
int vt_forgotten_hides(const struct vt_forgotten *g, const char *service,
    double t);

/* A window that closed at t arrived: drop what it can no longer hide. */
void vt_forgotten_prune(struct vt_forgotten *g, double t);

void vt_forgotten_fini(struct vt_forgotten *g);

#endif
