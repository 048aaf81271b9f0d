/*
 * prom_self.h - the daemon's own vitals_* families (internal to the exporter,
 * prom*.c, and its tests).
 */
#ifndef VT_PROM_SELF_H
#define VT_PROM_SELF_H

#include <stddef.h>

#include "collector/agg/selfstats.h"
#include "collector/base/buf.h"
#include "collector/base/prom_text.h"

/* The daemon's own vitals_* families, sorted by name. s NULL: zeros. */
void vt_prom_self_write(struct vt_buf *out, const struct vt_selfstats *s,
    size_t conflicts, enum vt_prom_format fmt);

#endif
