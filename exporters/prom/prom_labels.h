/*
 * prom_labels.h - the label text of a series in the exposition (internal to the
 * exporter, prom*.c, and its tests).
 */
#ifndef VT_PROM_LABELS_H
#define VT_PROM_LABELS_H

#include "collector/agg/series.h"
#include "collector/base/buf.h"

/*
 * The label text of one series: `service="<service>"` then its tags,
 * names sanitised, reserved ones renamed exported_*, sorted; values
 * escaped. A scratch object reused across series; create/destroy pair.
 * vt_prom_labels_put appends the text (no NUL) to out and returns 0, or
 * -1 when two tags end up with one label name (text written anyway).
 */
struct vt_prom_labels;
struct vt_prom_labels *vt_prom_labels_create(void);
void vt_prom_labels_destroy(struct vt_prom_labels *sc);   /* NULL ok */
int vt_prom_labels_put(struct vt_prom_labels *sc, struct vt_buf *out,
    const struct vt_series *s);

#endif
