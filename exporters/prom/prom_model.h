/*
 * prom_model.h - a closed window resolved into Prometheus families
 * (internal to the exporter, prom*.c, and its tests).
 */
#ifndef VT_PROM_MODEL_H
#define VT_PROM_MODEL_H

#include <stddef.h>

#include "collector/agg/flush.h"
#include "collector/agg/selfstats.h"
#include "collector/base/buf.h"
#include "collector/base/prom_text.h"

/*
 * The client series of one flush resolved into families: names, label
 * sets, conflicts, order. Immutable once built; each scrape builds its
 * own and releases it at the end (prom.c). Holds a reference to f (NULL
 * ok: no series).
 */
struct vt_prom_model;
struct vt_prom_model *vt_prom_model_build(const struct vt_flush *f);
void vt_prom_model_release(struct vt_prom_model *m);   /* NULL ok */
/* The flush's self stats, NULL when built without a flush. */
const struct vt_selfstats *vt_prom_model_self(const struct vt_prom_model *m);
/* Series left out. */
size_t vt_prom_model_conflicts(const struct vt_prom_model *m);
/* Write families in name order starting at the from-th, stopping before
 * the first whose name is >= stop (NULL: write all), and once out holds
 * limit bytes or more after a family (0: no limit). Returns the index to
 * continue from. */
size_t vt_prom_model_write(const struct vt_prom_model *m,
    struct vt_buf *out, enum vt_prom_format fmt, size_t from,
    const char *stop, size_t limit);

#endif
