/*
 * series.h - the identity of one metric series: service, metric name,
 * kind and labels.
 *
 * A series is immutable once created and reference counted (atomically), so
 * the loop thread can expire a metric while a flush that still names it is
 * being read by a sink or an HTTP thread. The aggregator holds one reference
 * for as long as the metric lives; every struct vt_flush holds one for each
 * series it mentions.
 *
 * Strings are stored as sent by the client (bounded by VT_NAME_MAX, free of
 * control characters, but not necessarily valid UTF-8). Every sink must
 * sanitise or escape them for its own output.
 */
#ifndef VT_SERIES_H
#define VT_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "collector/base/ref.h"
#include "collector/base/vt_types.h"

/* The seed of vt_hash for a series' key (struct vt_series.hash). */
#define VT_SERIES_HASH_SEED 0x76697461u    /* "vita" */

struct vt_label {
	const char *key;    /* tag name as sent, never "service" */
	const char *value;  /* tag value as sent; "" for a valueless tag */
};

struct vt_series {
	struct vt_ref ref;       /* first; use retain/release */
	enum vt_kind kind;
	const char *service;     /* NUL-terminated, owned by the series */
	const char *metric;      /* metric name without the service prefix */
	const char *key;         /* the aggregator's lookup key */
	size_t key_len;
	size_t nlabels;
	const struct vt_label *labels; /* sorted by key, owned by the series */
	uint64_t hash;           /* vt_hash(key, VT_SERIES_HASH_SEED); the
	                            catalogue indexes by it */
	uint64_t id;             /* creation order, 1, 2, ... (set by the
	                            aggregator): the older series wins a
	                            naming conflict */
};

/*
 * Create a series from its parts. All strings are copied into one
 * allocation. labels need not be sorted. Returns a series with one
 * reference; aborts on out-of-memory (see vt_xmalloc).
 */
struct vt_series *vt_series_create(enum vt_kind kind,
    struct vt_slice service, struct vt_slice metric,
    struct vt_slice key, uint64_t hash,
    const struct vt_slice *label_keys, const struct vt_slice *label_values,
    size_t nlabels);

/* Take another reference. Thread-safe. Returns s. */
struct vt_series *vt_series_retain(const struct vt_series *s);

/* Drop a reference; frees the series on the last one. Thread-safe. NULL ok. */
void vt_series_release(struct vt_series *s);

/* "counter", "gauge", "timer", "histogram", "set". */
const char *vt_series_kind_name(enum vt_kind kind);

#endif
