/*
 * pages_service.h - GET /services/<service>: its checks, a graph per
 * metric and the latest values (pages.h routes it).
 */
#ifndef VT_PAGES_SERVICE_H
#define VT_PAGES_SERVICE_H

#include "collector/agg/flush.h"
#include "collector/base/buf.h"
#include "collector/health/health.h"
#include "collector/health/health_snapshot.h"
#include "exporters/recent/latest.h"

/* Render the service page; 0, or -1 when no such service is known.
 * latest (may be NULL) gives what the catalogue kept of each metric: its
 * first data (the "auto" range) and its last window with samples. */
int vt_pages_service(const struct vt_health_snapshot *hs,
    const struct vt_flush *f, vt_latest *latest, const char *service,
    const char *range, double now, struct vt_buf *out);

/* The ?range= value if it is one the page offers ("auto" when absent:
 * from the service's first data to now), else NULL (a 400). */
const char *vt_pages_service_range(const char *arg);

#endif
