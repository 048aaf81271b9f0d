/* series.c - immutable, reference-counted metric identities (series.h). */
#include <stdlib.h>
#include <string.h>

#include "collector/agg/series.h"
#include "collector/base/ref.h"
#include "collector/base/xmalloc.h"

static const char *const kind_names[VT_KIND_COUNT] = {
	[VT_COUNTER] = "counter",
	[VT_GAUGE] = "gauge",
	[VT_TIMER] = "timer",
	[VT_HISTOGRAM] = "histogram",
	[VT_SET] = "set",
};

const char *vt_series_kind_name(enum vt_kind kind)
{
	return (unsigned)kind < VT_KIND_COUNT ? kind_names[kind] : "unknown";
}

static int label_cmp(const void *a, const void *b)
{
	const struct vt_label *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

/* Copy a slice into the arena at *cursor, NUL-terminated. */
static const char *arena_put(char **cursor, struct vt_slice s)
{
	char *dst = *cursor;
	if (s.len)
		memcpy(dst, s.ptr, s.len);
	dst[s.len] = '\0';
	*cursor += s.len + 1;
	return dst;
}

struct vt_series *vt_series_create(enum vt_kind kind,
    struct vt_slice service, struct vt_slice metric,
    struct vt_slice key, uint64_t hash,
    const struct vt_slice *label_keys, const struct vt_slice *label_values,
    size_t nlabels)
{
	size_t bytes = sizeof(struct vt_series) +
	    nlabels * sizeof(struct vt_label) +
	    service.len + 1 + metric.len + 1 + key.len + 1;
	for (size_t i = 0; i < nlabels; i++)
		bytes += label_keys[i].len + 1 + label_values[i].len + 1;

	struct vt_series *s = vt_xmalloc(bytes);
	struct vt_label *labels = (struct vt_label *)(s + 1);
	char *cursor = (char *)(labels + nlabels);

	vt_ref_init(&s->ref, free);
	s->kind = kind;
	s->service = arena_put(&cursor, service);
	s->metric = arena_put(&cursor, metric);
	s->key = arena_put(&cursor, key);
	s->key_len = key.len;
	s->hash = hash;
	s->nlabels = nlabels;
	for (size_t i = 0; i < nlabels; i++) {
		labels[i].key = arena_put(&cursor, label_keys[i]);
		labels[i].value = arena_put(&cursor, label_values[i]);
	}
	if (nlabels > 1)
		qsort(labels, nlabels, sizeof *labels, label_cmp);
	s->labels = labels;
	return s;
}

VT_REF_FIRST(struct vt_series);

struct vt_series *vt_series_retain(const struct vt_series *s)
{
	return vt_ref_retain(&s->ref);
}

void vt_series_release(struct vt_series *s)
{
	if (s)
		vt_ref_release(&s->ref);
}
