/*
 * prom_labels.c - the label text of one series for the Prometheus
 * exporter (SPEC 7): `service="<service>"` first, then the tags with their
 * names sanitised like metric names, the names Prometheus owns (instance,
 * job, le, quantile, service, __*) renamed exported_<name>, sorted by the
 * final name, and values escaped as valid UTF-8.
 *
 * The scratch object owns two growable buffers reused from series to
 * series, so building the text of many series allocates only while they
 * grow.
 */
#include <stdlib.h>
#include <string.h>

#include "collector/base/prom_text.h"
#include "collector/base/xmalloc.h"
#include "collector/statsd/names.h"
#include "exporters/prom/prom.h"
#include "exporters/prom/prom_labels.h"

struct label_ref {
	size_t off;     /* final label name in keys */
	size_t idx;     /* index of the tag in the series */
};

struct vt_prom_labels {
	struct vt_buf keys;          /* NUL-separated label names */
	struct label_ref *refs;
	size_t cap;
};

struct vt_prom_labels *vt_prom_labels_create(void)
{
	struct vt_prom_labels *sc = vt_xcalloc(1, sizeof *sc);
	vt_buf_init(&sc->keys);
	return sc;
}

void vt_prom_labels_destroy(struct vt_prom_labels *sc)
{
	if (sc == NULL)
		return;
	vt_buf_fini(&sc->keys);
	free(sc->refs);
	free(sc);
}

static int reserved_label(const char *k, size_t n)
{
	static const char *const names[] = {
		"instance", "job", "le", "quantile", "service",
	};
	if (n >= 2 && k[0] == '_' && k[1] == '_')
		return 1;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(k, names[i]) == 0)
			return 1;
	return 0;
}

/* Append the final label name of key to sc->keys; returns its offset. */
static size_t put_label_name(struct vt_prom_labels *sc, const char *key)
{
	size_t klen = strlen(key);
	vt_buf_reserve(&sc->keys, klen + 12);
	size_t off = sc->keys.len;
	char *dst = sc->keys.data + off;
	/* Sanitise behind room for the prefix, then move it if unneeded. */
	size_t n = vt_names_prometheus(dst + 9, klen + 2, key, klen);
	if (reserved_label(dst + 9, n)) {
		memcpy(dst, "exported_", 9);
		n += 9;
	} else {
		memmove(dst, dst + 9, n);
	}
	dst[n] = '\0';
	sc->keys.len += n + 1;
	sc->keys.data[sc->keys.len] = '\0';
	return off;
}

int vt_prom_labels_put(struct vt_prom_labels *sc, struct vt_buf *out,
    const struct vt_series *s)
{
	size_t n = s->nlabels;
	int dup = 0;

	if (n > sc->cap) {
		sc->cap = n * 2;
		sc->refs = vt_xrealloc(sc->refs, sc->cap * sizeof *sc->refs);
	}
	vt_buf_reset(&sc->keys);
	for (size_t i = 0; i < n; i++) {
		sc->refs[i].off = put_label_name(sc, s->labels[i].key);
		sc->refs[i].idx = i;
	}
	/* Insertion sort by final name: tags arrive sorted by their raw key
	 * and sanitising rarely reorders them, so this is near linear. */
	const char *keys = sc->keys.data;
	for (size_t i = 1; i < n; i++) {
		struct label_ref cur = sc->refs[i];
		size_t j = i;
		while (j > 0 && strcmp(keys + sc->refs[j - 1].off,
		    keys + cur.off) > 0) {
			sc->refs[j] = sc->refs[j - 1];
			j--;
		}
		sc->refs[j] = cur;
	}

	vt_buf_append(out, "service=\"", 9);
	vt_prom_text_escape_label(out, s->service);
	vt_buf_putc(out, '"');
	for (size_t i = 0; i < n; i++) {
		const char *k = keys + sc->refs[i].off;
		if (i > 0 && strcmp(k, keys + sc->refs[i - 1].off) == 0)
			dup = 1;
		vt_buf_putc(out, ',');
		vt_buf_puts(out, k);
		vt_buf_append(out, "=\"", 2);
		vt_prom_text_escape_label(out, s->labels[sc->refs[i].idx].value);
		vt_buf_putc(out, '"');
	}
	return dup ? -1 : 0;
}
