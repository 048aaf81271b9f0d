/*
 * native_hist.c - cumulative native histograms from window sketches (see
 * native_hist.h for the re-bucketing and its error).
 *
 * Encoding of the buckets of one sign (all varints are LEB128):
 *   varint(vt_zigzag(first index)) token...
 *   token = varint t: t & 1 == 0: the next bucket, its count minus the
 *   previous bucket's in vt_zigzag(t >> 1); t & 1 == 1: (t >> 1) + 1 empty
 *   indices skipped. No bucket is ever 0 (counts only grow), so the
 *   tokens say which indices hold something. An empty sign is no bytes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/native_hist.h"
#include "collector/base/varint.h"
#include "collector/base/xmalloc.h"

#define GAMMA 1.0200016094211991   /* 2^(1/35), sketch.c */

int32_t vt_native_hist_index(int32_t k, double scale)
{
	/* log2 of the representative 2 gamma^k / (gamma + 1), in the unit
	 * value / scale, times 32; ceil gives the bucket (b^(j-1), b^j]. */
	double l = (double)k / VT_SKETCH_BUCKETS_PER_OCTAVE +
	    log2(2 / (GAMMA + 1)) - log2(scale);
	return (int32_t)ceil(l * VT_NATIVE_HIST_PER_OCTAVE);
}

static void cursor_init(struct vt_native_hist_cursor *c,
    const struct vt_native_hist *h, int negative)
{
	memset(c, 0, sizeof *c);
	if (h == NULL)
		return;
	c->p = h->data + (negative ? h->neg_off : 0);
	c->end = h->data + (negative ? h->len : h->neg_off);
	if (c->p < c->end)
		c->index = (int32_t)vt_unzigzag(vt_varint_get(&c->p, c->end));
}

static int cursor_next(struct vt_native_hist_cursor *c)
{
	if (c->started)
		c->index++;
	while (c->p < c->end) {
		uint64_t t = vt_varint_get(&c->p, c->end);
		if (t & 1) {
			c->index += (int32_t)(t >> 1) + 1;
			continue;
		}
		c->count += (uint64_t)vt_unzigzag(t >> 1);
		c->started = 1;
		return 1;
	}
	return 0;
}

/* The buckets of h, with its base's unless own_only. */
static void iter_init(struct vt_native_hist_iter *it,
    const struct vt_native_hist *h, int negative, int own_only)
{
	memset(it, 0, sizeof *it);
	cursor_init(&it->own, h, negative);
	it->has_own = cursor_next(&it->own);
	if (h && h->base && !own_only) {
		cursor_init(&it->base, h->base, negative);
		it->has_base = cursor_next(&it->base);
	}
}

void vt_native_hist_iter_init(struct vt_native_hist_iter *it,
    const struct vt_native_hist *h, int negative)
{
	iter_init(it, h, negative, 0);
}

int vt_native_hist_next(struct vt_native_hist_iter *it)
{
	struct vt_native_hist_cursor *a = &it->base, *b = &it->own;
	if (it->has_base && (!it->has_own || a->index < b->index)) {
		it->index = a->index;
		it->count = a->count;
		it->has_base = cursor_next(a);
	} else if (it->has_own && (!it->has_base || b->index < a->index)) {
		it->index = b->index;
		it->count = b->count;
		it->has_own = cursor_next(b);
	} else if (it->has_own) {               /* the same index in both */
		it->index = a->index;
		it->count = a->count + b->count;
		it->has_base = cursor_next(a);
		it->has_own = cursor_next(b);
	} else {
		return 0;
	}
	return 1;
}

/* The non-empty native buckets of one sketch store, ascending. */
struct win_iter {
	const struct vt_sketch_store *st;
	uint32_t i;                /* next sketch slot */
	double scale;
	int32_t index;
	uint64_t count;
};

static int win_next(struct win_iter *w)
{
	const struct vt_sketch_store *st = w->st;
	while (w->i < st->len) {
		if (st->counts[w->i] <= 0) {
			w->i++;
			continue;
		}
		int32_t j = vt_native_hist_index(st->offset + (int32_t)w->i,
		    w->scale);
		double sum = 0;
		while (w->i < st->len) {
			float c = st->counts[w->i];
			if (c > 0) {
				if (vt_native_hist_index(st->offset +
				    (int32_t)w->i, w->scale) != j)
					break;
				sum += c;
			}
			w->i++;
		}
		uint64_t n = (uint64_t)llround(sum);
		if (n == 0)
			continue;
		w->index = j;
		w->count = n;
		return 1;
	}
	return 0;
}

/* Writes buckets in ascending index. */
struct writer {
	uint8_t *p;
	int started;
	int32_t next;              /* index after the last bucket */
	uint64_t prev;
	uint64_t total;
};

static void put_bucket(struct writer *w, int32_t index, uint64_t count)
{
	if (!w->started) {
		w->p += vt_varint_put(w->p, vt_zigzag(index));
		w->started = 1;
	} else if (index > w->next) {
		w->p += vt_varint_put(w->p,
		    (uint64_t)(index - w->next - 1) << 1 | 1);
	}
	w->p += vt_varint_put(w->p, vt_zigzag((int64_t)(count - w->prev)) << 1);
	w->prev = count;
	w->next = index + 1;
	w->total += count;
}

/* old's buckets of one sign (only its own: own_only) plus the window
 * store's, into out; returns the bytes written and adds the bucket counts
 * to *total. */
static size_t merge_sign(uint8_t *out, const struct vt_native_hist *old,
    int own_only, int negative, const struct vt_sketch_store *st,
    double scale, uint64_t *total)
{
	struct vt_native_hist_iter a;
	struct win_iter b = { .st = st, .scale = scale };
	struct writer w = { .p = out };

	iter_init(&a, old, negative, own_only);
	int has_a = vt_native_hist_next(&a);
	int has_b = st->counts ? win_next(&b) : 0;
	while (has_a || has_b) {
		if (has_a && (!has_b || a.index < b.index)) {
			put_bucket(&w, a.index, a.count);
			has_a = vt_native_hist_next(&a);
		} else if (has_b && (!has_a || b.index < a.index)) {
			put_bucket(&w, b.index, b.count);
			has_b = win_next(&b);
		} else {
			put_bucket(&w, a.index, a.count + b.count);
			has_a = vt_native_hist_next(&a);
			has_b = win_next(&b);
		}
	}
	*total += w.total;
	return (size_t)(w.p - out);
}

VT_REF_FIRST(struct vt_native_hist);

static void hist_destroy(void *obj)
{
	struct vt_native_hist *h = obj;
	vt_native_hist_release(h->base);
	free(h);
}

/* Below this many bytes a histogram stays flat (one level). */
#define FLAT_BYTES 64

/* Upper bound of the bytes one sign can take after the merge: each bucket
 * a token and a run token before it. */
static size_t sign_bound(size_t old_bytes, const struct vt_sketch_store *st)
{
	return (old_bytes + st->len + 2) * 2 * VT_VARINT_MAX;
}

struct vt_native_hist *vt_native_hist_add(struct vt_native_hist *old,
    const struct vt_sketch *window, double scale)
{
	if (window->count <= 0)
		return old;
	uint64_t zero = (uint64_t)llround(window->zero);
	/* The base the new one keeps (NULL: flat), and whether only old's
	 * own buckets are merged (the base's stay where they are). */
	struct vt_native_hist *base = NULL;
	int own_only = 0;
	if (old && old->base && old->len * 4 <= old->base->len) {
		base = old->base;               /* rebuild the small part */
		own_only = 1;
	} else if (old && !old->base && old->len > FLAT_BYTES) {
		base = old;                     /* old becomes the base */
	}
	const struct vt_native_hist *src = base == old ? NULL : old;
	size_t src_bytes = src ? old->len + (own_only ? 0 : old->base ?
	    old->base->len : 0) : 0;
	size_t bound = sign_bound(src_bytes, &window->pos) +
	    sign_bound(src_bytes, &window->neg);
	uint8_t stack[4096];
	uint8_t *tmp = bound <= sizeof stack ? stack : vt_xmalloc(bound);
	uint64_t total = 0;

	size_t npos = merge_sign(tmp, src, own_only, 0, &window->pos, scale,
	    &total);
	size_t nneg = merge_sign(tmp + npos, src, own_only, 1, &window->neg,
	    scale, &total);
	struct vt_native_hist *h = vt_xmalloc(sizeof *h + npos + nneg);
	vt_ref_init(&h->ref, hist_destroy);
	h->base = base ? vt_native_hist_retain(base) : NULL;
	h->zero = (old ? old->zero : 0) + zero;
	h->count = h->zero + total + (base ? base->count - base->zero : 0);
	h->zero_threshold = VT_SKETCH_MIN_VALUE / scale;
	h->neg_off = (uint32_t)npos;
	h->len = (uint32_t)(npos + nneg);
	memcpy(h->data, tmp, npos + nneg);
	if (tmp != stack)
		free(tmp);
	vt_native_hist_release(old);
	return h;
}

struct vt_native_hist *vt_native_hist_retain(const struct vt_native_hist *h)
{
	return vt_ref_retain(&h->ref);
}

void vt_native_hist_release(struct vt_native_hist *h)
{
	if (h != NULL)
		vt_ref_release(&h->ref);
}

size_t vt_native_hist_memory(const struct vt_native_hist *h)
{
	return h ? sizeof *h + h->len + vt_native_hist_memory(h->base) : 0;
}
