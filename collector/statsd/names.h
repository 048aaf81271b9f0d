/*
 * names.h - service attribution and name sanitising.
 *
 * SPEC 3.1: the tag service:<name> names the service and the whole name is
 * the metric; without it the service is the first dotted component of the
 * name and the metric the rest; a name without a dot belongs to service
 * "default".
 *
 * Pure functions over caller memory: nothing here allocates or keeps state.
 */
#ifndef VT_NAMES_H
#define VT_NAMES_H

#include <stddef.h>

#include "collector/base/vt_types.h"

#define VT_DEFAULT_SERVICE "default"

/*
 * Split a metric name into service and metric. service_tag is the value of
 * the service: tag (len 0 when absent). Outputs borrow name/service_tag,
 * except that "default" is a static string.
 *
 * Edge cases: the name is split at its first dot only when both sides are
 * non-empty. So ".x", "x." and "." (an empty service or an empty metric)
 * belong to service "default" with the whole name as the metric, and
 * "a..b" is service "a", metric ".b". With a service tag the whole name is
 * the metric, dots and all.
 */
void vt_names_split(struct vt_slice name, struct vt_slice service_tag,
    struct vt_slice *service, struct vt_slice *metric);

/*
 * Write a Prometheus-safe name: every byte outside [A-Za-z0-9_] becomes
 * '_', a leading digit gets a '_' prefix, case is kept; an empty name
 * becomes "_". Writes at most outlen-1 bytes plus NUL (nothing when outlen
 * is 0); returns the length it needed (like snprintf), never more than
 * len + 1.
 */
size_t vt_names_prometheus(char *out, size_t outlen, const char *name,
    size_t len);

/*
 * Write a file-name-safe name: bytes outside [A-Za-z0-9._-] become '_',
 * and a result that is empty, "." or ".." or starts with '.' gets a '_'
 * prefix, so it can never leave its directory. Same return as above
 * (at most len + 1). NUL bytes inside name[0..len) become '_'.
 */
size_t vt_names_file(char *out, size_t outlen, const char *name, size_t len);

#endif
