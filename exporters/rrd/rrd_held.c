/*
 * rrd_held.c - the windows a file holds, compactly (rrd_held.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/varint.h"
#include "collector/base/xmalloc.h"
#include "exporters/rrd/rrd_held.h"

/* Two bits per value. */
enum { TAG_SAME = 0, TAG_UNKNOWN = 1, TAG_INT = 2, TAG_DOUBLE = 3 };

#define INT_MAX_EXACT 9007199254740992.0    /* 2^53 */

static int tag_of(double v, const double *prev, int have_prev)
{
	if (!isfinite(v))
		return have_prev && isnan(*prev) ? TAG_SAME : TAG_UNKNOWN;
	if (have_prev && v == *prev && !isnan(*prev))
		return TAG_SAME;
	if (fabs(v) < INT_MAX_EXACT && v == (double)(int64_t)v)
		return TAG_INT;
	return TAG_DOUBLE;
}

static long reserve(struct vt_rrd_held *h, size_t more)
{
	size_t need = (size_t)h->len + more;
	if (need <= h->cap)
		return 0;
	size_t cap = h->cap ? (size_t)h->cap + h->cap / 2 : need + 32;
	if (cap < need)
		cap = need;
	h->buf = vt_xrealloc(h->buf, cap);
	long grew = (long)(cap - h->cap);
	h->cap = (uint32_t)cap;
	return grew;
}

long vt_rrd_held_add(struct vt_rrd_held *h, time_t t, const double *v,
    size_t n)
{
	long grew = 0;
	if (h->nrows == 0) {
		h->nval = (uint32_t)n;
		h->len = 0;
		grew += reserve(h, n * sizeof(double));
		h->len = (uint32_t)(n * sizeof(double));
	}
	double *prev = (double *)(void *)h->buf;
	int have_prev = h->nrows > 0;
	int same = have_prev;
	uint8_t tags[(VT_RRD_HELD_VALUES + 3) / 4];
	size_t ntags = (n + 3) / 4, payload = 0;
	memset(tags, 0, ntags);
	for (size_t i = 0; i < n; i++) {
		int tag = tag_of(v[i], &prev[i], have_prev);
		if (tag != TAG_SAME)
			same = 0;
		tags[i / 4] |= (uint8_t)(tag << (2 * (i % 4)));
		if (tag == TAG_INT)
			payload += vt_varint_len(vt_zigzag((int64_t)v[i]));
		else if (tag == TAG_DOUBLE)
			payload += sizeof(double);
	}
	uint64_t head = have_prev ?
	    vt_zigzag((int64_t)(t - h->last)) << 1 | (uint64_t)same :
	    (uint64_t)t << 1;
	grew += reserve(h, VT_VARINT_MAX + (same ? 0 : ntags + payload));
	prev = (double *)(void *)h->buf;
	uint8_t *p = h->buf + h->len;
	p += vt_varint_put(p, head);
	if (!same) {
		memcpy(p, tags, ntags);
		p += ntags;
		for (size_t i = 0; i < n; i++) {
			int tag = (tags[i / 4] >> (2 * (i % 4))) & 3;
			if (tag == TAG_INT) {
				p += vt_varint_put(p, vt_zigzag((int64_t)v[i]));
			} else if (tag == TAG_DOUBLE) {
				memcpy(p, &v[i], sizeof(double));
				p += sizeof(double);
			}
			prev[i] = tag == TAG_UNKNOWN ? NAN :
			    tag == TAG_SAME ? prev[i] : v[i] + 0.0;
		}
	}
	h->len = (uint32_t)(p - h->buf);
	h->last = t;
	h->nrows++;
	return grew;
}

void vt_rrd_held_rows(const struct vt_rrd_held *h, time_t *t, double *vals)
{
	const uint8_t *p = h->buf + (size_t)h->nval * sizeof(double);
	const uint8_t *end = h->buf + h->len;
	size_t n = h->nval;
	time_t now = 0;
	for (uint32_t r = 0; r < h->nrows; r++) {
		uint64_t head = vt_varint_get(&p, end);
		double *row = vals + (size_t)r * n;
		const double *before = r > 0 ? row - n : NULL;
		if (r == 0) {
			now = (time_t)(head >> 1);
		} else {
			now += (time_t)vt_unzigzag(head >> 1);
			if (head & 1) {
				memcpy(row, before, n * sizeof *row);
				t[r] = now;
				continue;
			}
		}
		t[r] = now;
		const uint8_t *tags = p;
		p += (n + 3) / 4;
		for (size_t i = 0; i < n; i++) {
			int tag = (tags[i / 4] >> (2 * (i % 4))) & 3;
			switch (tag) {
			case TAG_SAME:
				row[i] = before ? before[i] : NAN;
				break;
			case TAG_UNKNOWN:
				row[i] = NAN;
				break;
			case TAG_INT:
				row[i] = (double)vt_unzigzag(vt_varint_get(&p, end));
				break;
			default:
				memcpy(&row[i], p, sizeof(double));
				row[i] += 0.0;
				p += sizeof(double);
				break;
			}
		}
	}
}

size_t vt_rrd_held_clear(struct vt_rrd_held *h)
{
	size_t freed = h->cap;
	free(h->buf);
	memset(h, 0, sizeof *h);
	return freed;
}
