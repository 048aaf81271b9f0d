/*
 * test_prom_proto.c - the protobuf exposition (prom_proto.h) and the
 * native histograms built from sketches (native_hist.h).
 *
 * What is encoded is decoded back by a small protobuf reader in this file
 * (written from the wire format, not from the encoder), and the native
 * buckets are checked against the stated error by walking them the way
 * histogram_quantile does.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/agg.h"
#include "collector/agg/flush.h"
#include "collector/agg/native_hist.h"
#include "collector/agg/series.h"
#include "collector/agg/sketch.h"
#include "collector/base/buf.h"
#include "exporters/prom/prom.h"
#include "exporters/prom/prom_proto.h"
#include "suites.h"

/* ---- a protobuf reader ---- */

struct field {
	uint32_t num;
	int wire;
	uint64_t v;             /* varint */
	double d;               /* fixed64 */
	const uint8_t *p;       /* length-delimited */
	size_t len;
};

struct reader {
	const uint8_t *p, *end;
};

static uint64_t rd_varint(struct reader *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0;; shift += 7) {
		ck_assert_msg(r->p < r->end, "varint runs past the end");
		ck_assert_uint_lt(shift, 64);
		uint8_t b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
}

static int rd_field(struct reader *r, struct field *f)
{
	if (r->p >= r->end)
		return 0;
	uint64_t key = rd_varint(r);
	memset(f, 0, sizeof *f);
	f->num = (uint32_t)(key >> 3);
	f->wire = (int)(key & 7);
	switch (f->wire) {
	case 0:
		f->v = rd_varint(r);
		break;
	case 1: {
		uint64_t bits = 0;
		ck_assert_int_ge(r->end - r->p, 8);
		for (int i = 0; i < 8; i++)
			bits |= (uint64_t)r->p[i] << (8 * i);
		memcpy(&f->d, &bits, sizeof f->d);
		r->p += 8;
		break;
	}
	case 2:
		f->len = (size_t)rd_varint(r);
		ck_assert_uint_le(f->len, (size_t)(r->end - r->p));
		f->p = r->p;
		r->p += f->len;
		break;
	default:
		ck_abort_msg("unexpected wire type %d", f->wire);
	}
	return 1;
}

static struct reader sub(const struct field *f)
{
	struct reader r = { f->p, f->p + f->len };
	return r;
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* A decoded native histogram. */
#define MAXB 4096
struct dec_hist {
	uint64_t count, zero;
	double sum, zero_threshold;
	int64_t schema;
	int has_schema, nspans_pos, nspans_neg;
	size_t npos, nneg, nclassic;
	int32_t pos_index[MAXB], neg_index[MAXB];
	uint64_t pos[MAXB], neg[MAXB];
	double classic_le[64];
	uint64_t classic_count[64];
};

/* Spans then deltas into absolute (index, count). */
static void apply_spans(const int32_t *offs, const uint32_t *lens,
    size_t nspans, const int64_t *deltas, size_t ndeltas, int32_t *index,
    uint64_t *count, size_t *n)
{
	int32_t at = 0;
	int64_t c = 0;
	size_t k = 0;
	for (size_t s = 0; s < nspans; s++) {
		at += offs[s];
		for (uint32_t i = 0; i < lens[s]; i++, at++) {
			ck_assert_uint_lt(k, ndeltas);
			c += deltas[k++];
			ck_assert_int_ge(c, 0);
			index[*n] = at;
			count[(*n)++] = (uint64_t)c;
		}
	}
	ck_assert_uint_eq(k, ndeltas);
}

static void decode_hist(struct reader r, struct dec_hist *h)
{
	static int32_t offs[2][MAXB];
	static uint32_t lens[2][MAXB];
	static int64_t deltas[2][MAXB];
	size_t ns[2] = { 0, 0 }, nd[2] = { 0, 0 };
	struct field f;

	memset(h, 0, sizeof *h);
	while (rd_field(&r, &f)) {
		int neg = f.num == 9 || f.num == 10;
		switch (f.num) {
		case 1: h->count = f.v; break;
		case 2: h->sum = f.d; break;
		case 3: {
			struct reader b = sub(&f);
			struct field g;
			while (rd_field(&b, &g)) {
				if (g.num == 1)
					h->classic_count[h->nclassic] = g.v;
				if (g.num == 2)
					h->classic_le[h->nclassic] = g.d;
			}
			h->nclassic++;
			break;
		}
		case 5: h->schema = unzigzag(f.v); h->has_schema = 1; break;
		case 6: h->zero_threshold = f.d; break;
		case 7: h->zero = f.v; break;
		case 9:
		case 12: {
			struct reader b = sub(&f);
			struct field g;
			int side = neg;
			offs[side][ns[side]] = 0;
			lens[side][ns[side]] = 0;
			while (rd_field(&b, &g)) {
				if (g.num == 1)
					offs[side][ns[side]] =
					    (int32_t)unzigzag(g.v);
				if (g.num == 2)
					lens[side][ns[side]] = (uint32_t)g.v;
			}
			ns[side]++;
			break;
		}
		case 10:
		case 13: {
			ck_assert_int_eq(f.wire, 2);    /* packed */
			struct reader b = sub(&f);
			while (b.p < b.end)
				deltas[neg][nd[neg]++] = unzigzag(rd_varint(&b));
			break;
		}
		default:
			ck_abort_msg("unexpected histogram field %u", f.num);
		}
	}
	h->nspans_pos = (int)ns[0];
	h->nspans_neg = (int)ns[1];
	apply_spans(offs[0], lens[0], ns[0], deltas[0], nd[0], h->pos_index,
	    h->pos, &h->npos);
	apply_spans(offs[1], lens[1], ns[1], deltas[1], nd[1], h->neg_index,
	    h->neg, &h->nneg);
}

/* ---- the wire format ---- */

static const struct {
	uint64_t v;
	const char *bytes;
	size_t len;
} varints[] = {
	{ 0, "\x00", 1 },
	{ 1, "\x01", 1 },
	{ 127, "\x7f", 1 },
	{ 128, "\x80\x01", 2 },
	{ 300, "\xac\x02", 2 },
	{ 16384, "\x80\x80\x01", 3 },
	{ UINT64_C(4294967296), "\x80\x80\x80\x80\x10", 5 },
	{ UINT64_MAX, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10 },
};

START_TEST(varint_table)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_prom_proto_varint(&b, varints[_i].v);
	ck_assert_uint_eq(b.len, varints[_i].len);
	ck_assert(memcmp(b.data, varints[_i].bytes, b.len) == 0);
	struct reader r = { (const uint8_t *)b.data,
	    (const uint8_t *)b.data + b.len };
	ck_assert(rd_varint(&r) == varints[_i].v);
	vt_buf_fini(&b);
}
END_TEST

START_TEST(scalar_fields_read_back)
{
	static const int64_t sints[] = { 0, -1, 1, -64, 63, -65, INT32_MIN,
	    INT64_MIN, INT64_MAX };
	struct vt_buf b;
	struct field f;
	vt_buf_init(&b);
	for (size_t i = 0; i < sizeof sints / sizeof sints[0]; i++)
		vt_prom_proto_sint(&b, 5, sints[i]);
	vt_prom_proto_double(&b, 6, 0.1);
	vt_prom_proto_double(&b, 6, -INFINITY);
	vt_prom_proto_uint(&b, 15, 42);
	vt_prom_proto_bytes(&b, 16, "h\0i", 3);
	/* the zigzag mapping itself: -1 -> 1, 1 -> 2 */
	ck_assert_uint_eq((uint8_t)b.data[1], 0);
	ck_assert_uint_eq((uint8_t)b.data[3], 1);
	ck_assert_uint_eq((uint8_t)b.data[5], 2);

	struct reader r = { (const uint8_t *)b.data,
	    (const uint8_t *)b.data + b.len };
	for (size_t i = 0; i < sizeof sints / sizeof sints[0]; i++) {
		ck_assert(rd_field(&r, &f));
		ck_assert_uint_eq(f.num, 5);
		ck_assert_int_eq(f.wire, 0);
		ck_assert(unzigzag(f.v) == sints[i]);
	}
	ck_assert(rd_field(&r, &f) && f.num == 6 && f.wire == 1 && f.d == 0.1);
	ck_assert(rd_field(&r, &f) && f.d == -INFINITY);
	ck_assert(rd_field(&r, &f) && f.num == 15 && f.v == 42);
	ck_assert(rd_field(&r, &f) && f.num == 16 && f.len == 3 &&
	    memcmp(f.p, "h\0i", 3) == 0);
	ck_assert(!rd_field(&r, &f));
	vt_buf_fini(&b);
}
END_TEST

/* Nested messages whose bodies need 1, 2 and 3 length bytes. */
START_TEST(nested_lengths_are_patched)
{
	static const size_t sizes[] = { 0, 1, 126, 127, 128, 300, 16383, 16384,
	    70000 };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		struct vt_buf b;
		vt_buf_init(&b);
		vt_buf_puts(&b, "x");                  /* something before */
		size_t outer = vt_prom_proto_open(&b, 0);
		size_t inner = vt_prom_proto_open(&b, 4);
		char *blob = malloc(sizes[k] + 1);
		for (size_t i = 0; i < sizes[k]; i++)
			blob[i] = (char)(i * 7);
		vt_prom_proto_bytes(&b, 1, blob, sizes[k]);
		vt_prom_proto_close(&b, inner);
		vt_prom_proto_uint(&b, 2, 9);
		vt_prom_proto_close(&b, outer);

		struct reader r = { (const uint8_t *)b.data + 1,
		    (const uint8_t *)b.data + b.len };
		size_t n = (size_t)rd_varint(&r);
		ck_assert_uint_eq(n, (size_t)(r.end - r.p));
		struct field f, g;
		ck_assert(rd_field(&r, &f) && f.num == 4 && f.wire == 2);
		struct reader in = sub(&f);
		ck_assert(rd_field(&in, &g) && g.num == 1 && g.len == sizes[k]);
		ck_assert(memcmp(g.p, blob, sizes[k]) == 0);
		ck_assert(!rd_field(&in, &g));
		ck_assert(rd_field(&r, &f) && f.num == 2 && f.v == 9);
		ck_assert(!rd_field(&r, &f));
		free(blob);
		vt_buf_fini(&b);
	}
}
END_TEST

/* ---- labels ---- */

START_TEST(labels_are_unescaped)
{
	const char *text = "service=\"shop\",path=\"a\\\"b\\\\c\\nd\",e=\"\"";
	struct vt_buf b;
	struct field f, g;
	const char *want[][2] = { { "service", "shop" },
	    { "path", "a\"b\\c\nd" }, { "e", "" } };
	vt_buf_init(&b);
	ck_assert_int_eq(vt_prom_proto_labels(&b, text, strlen(text)), 0);
	struct reader r = { (const uint8_t *)b.data,
	    (const uint8_t *)b.data + b.len };
	for (size_t i = 0; i < 3; i++) {
		ck_assert(rd_field(&r, &f) && f.num == 1);
		struct reader l = sub(&f);
		ck_assert(rd_field(&l, &g) && g.num == 1);
		ck_assert_uint_eq(g.len, strlen(want[i][0]));
		ck_assert(memcmp(g.p, want[i][0], g.len) == 0);
		ck_assert(rd_field(&l, &g) && g.num == 2);
		ck_assert_uint_eq(g.len, strlen(want[i][1]));
		ck_assert(g.len == 0 || memcmp(g.p, want[i][1], g.len) == 0);
	}
	ck_assert(!rd_field(&r, &f));

	static const char *const bad[] = { "a", "a=b", "a=\"x", "=\"x\"",
	    "a=\"x\"b=\"y\"", "a=\"x\\" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		vt_buf_reset(&b);
		ck_assert_msg(vt_prom_proto_labels(&b, bad[i],
		    strlen(bad[i])) < 0, "%s", bad[i]);
	}
	vt_buf_fini(&b);
}
END_TEST

/* ---- re-bucketing ---- */

#define GAMMA 1.0200016094211991
#define BASE 1.0218971486541166     /* 2^(1/32) */
#define NATIVE_ERR 0.033            /* native_hist.h */

/* Every sketch bucket's representative lands in the native bucket the
 * mapping names, for both units. */
START_TEST(index_holds_the_representative)
{
	static const double scales[] = { 1, 1000 };
	for (size_t s = 0; s < 2; s++) {
		for (int32_t k = -1200; k <= 1200; k++) {
			double rep = 2 * pow(GAMMA, k) / (GAMMA + 1) / scales[s];
			int32_t j = vt_native_hist_index(k, scales[s]);
			double lo = pow(2, (j - 1) / 32.0), hi = pow(2, j / 32.0);
			ck_assert_msg(rep > lo * (1 - 1e-12) &&
			    rep <= hi * (1 + 1e-12), "k=%d scale %g: %g not in "
			    "(%g, %g]", k, scales[s], rep, lo, hi);
			if (k > -1200)
				ck_assert_int_ge(j, vt_native_hist_index(k - 1,
				    scales[s]));
		}
	}
}
END_TEST

static struct vt_native_hist *hist_of(const double *v, size_t n,
    double scale, struct vt_native_hist *old)
{
	struct vt_sketch s;
	vt_sketch_init(&s);
	for (size_t i = 0; i < n; i++)
		vt_sketch_add(&s, v[i], 1);
	struct vt_native_hist *h = vt_native_hist_add(old, &s, scale);
	vt_sketch_fini(&s);
	return h;
}

/* Every value's native bucket bounds lie within the stated error of it. */
START_TEST(every_value_within_stated_error)
{
	uint64_t rng = 12345;
	for (int i = 0; i < 20000; i++) {
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		double u = (double)(rng >> 11) / 9007199254740992.0;
		double x = pow(10, -6 + 12 * u) * (i & 1 ? -1 : 1);
		double scale = i % 3 == 0 ? 1000 : 1;
		struct vt_native_hist *h = hist_of(&x, 1, scale, NULL);
		struct vt_native_hist_iter it;
		vt_native_hist_iter_init(&it, h, x < 0);
		ck_assert(vt_native_hist_next(&it));
		ck_assert_uint_eq(it.count, 1);
		double lo = pow(2, (it.index - 1) / 32.0);
		double hi = pow(2, it.index / 32.0);
		double a = fabs(x) / scale;
		ck_assert_msg(lo >= a / (1 + NATIVE_ERR) &&
		    hi <= a * (1 + NATIVE_ERR), "%g: bucket (%g, %g]", x, lo,
		    hi);
		ck_assert(!vt_native_hist_next(&it));
		vt_native_hist_iter_init(&it, h, x >= 0);
		ck_assert(!vt_native_hist_next(&it));
		ck_assert_uint_eq(h->count, 1);
		vt_native_hist_release(h);
	}
}
END_TEST

/* Windows add up bucket by bucket: the cumulative histogram equals one
 * built from all the values at once, zero and negative buckets too. */
START_TEST(windows_accumulate)
{
	double w1[400], w2[300], all[700];
	size_t n = 0;
	for (size_t i = 0; i < 400; i++)
		all[n++] = w1[i] = i % 50 == 0 ? 0 : 0.5 + i * 0.37;
	for (size_t i = 0; i < 300; i++)
		all[n++] = w2[i] = i % 7 == 0 ? -3.0 * i : 1e4 + i * i;
	struct vt_native_hist *h = hist_of(w1, 400, 1000, NULL);
	struct vt_native_hist *h0 = vt_native_hist_retain(h);
	h = hist_of(w2, 300, 1000, h);
	ck_assert_ptr_ne(h, h0);                  /* a new one */
	ck_assert_uint_eq(h0->count, 400);        /* the old one unchanged */
	struct vt_native_hist *whole = hist_of(all, 700, 1000, NULL);

	ck_assert_uint_eq(h->count, 700);
	ck_assert_uint_eq(h->zero, 9);            /* 8 zeros and a -0 */
	ck_assert_uint_eq(h->count, whole->count);
	ck_assert_uint_eq(h->zero, whole->zero);
	for (int neg = 0; neg < 2; neg++) {
		struct vt_native_hist_iter a, b;
		vt_native_hist_iter_init(&a, h, neg);
		vt_native_hist_iter_init(&b, whole, neg);
		size_t nb = 0;
		while (vt_native_hist_next(&a)) {
			ck_assert(vt_native_hist_next(&b));
			ck_assert_int_eq(a.index, b.index);
			ck_assert_uint_eq(a.count, b.count);
			nb++;
		}
		ck_assert(!vt_native_hist_next(&b));
		ck_assert_uint_gt(nb, 10);
	}
	/* an empty window keeps the same histogram */
	struct vt_sketch empty;
	vt_sketch_init(&empty);
	ck_assert_ptr_eq(vt_native_hist_add(h, &empty, 1000), h);
	ck_assert_ptr_null(vt_native_hist_add(NULL, &empty, 1000));
	vt_sketch_fini(&empty);
	/* small: a few bytes per bucket */
	ck_assert_uint_lt(vt_native_hist_memory(h), 64 + 3 * 700);
	vt_native_hist_release(h0);
	vt_native_hist_release(h);
	vt_native_hist_release(whole);
}
END_TEST

/* Many small windows: the histogram goes through both shapes (flat, and
 * a base with a small part of its own) and always equals one built from
 * every value at once. */
START_TEST(many_windows_two_levels)
{
	enum { WINDOWS = 300, PER = 5 };
	static double all[WINDOWS * PER];
	struct vt_native_hist *h = NULL;
	uint64_t rng = 7;
	int layered = 0, flat_again = 0;
	for (int w = 0; w < WINDOWS; w++) {
		double v[PER];
		for (int i = 0; i < PER; i++) {
			rng = rng * 6364136223846793005u + 1442695040888963407u;
			double u = (double)(rng >> 11) / 9007199254740992.0;
			v[i] = all[w * PER + i] = pow(200, u) * (i == 4 ? -1 : 1);
		}
		int had_base = h && h->base;
		h = hist_of(v, PER, 1000, h);
		layered |= h->base != NULL;
		flat_again |= had_base && h->base == NULL;
		ck_assert_ptr_null(h->base ? h->base->base : NULL);
		if (h->base)
			ck_assert_uint_le(h->len * 4, h->base->len + 64);
	}
	ck_assert(layered && flat_again);
	struct vt_native_hist *whole = hist_of(all, WINDOWS * PER, 1000, NULL);
	ck_assert_uint_eq(h->count, WINDOWS * PER);
	for (int neg = 0; neg < 2; neg++) {
		struct vt_native_hist_iter a, b;
		vt_native_hist_iter_init(&a, h, neg);
		vt_native_hist_iter_init(&b, whole, neg);
		while (vt_native_hist_next(&a)) {
			ck_assert(vt_native_hist_next(&b));
			ck_assert_int_eq(a.index, b.index);
			ck_assert_uint_eq(a.count, b.count);
		}
		ck_assert(!vt_native_hist_next(&b));
	}
	vt_native_hist_release(h);
	vt_native_hist_release(whole);
}
END_TEST

/* ---- native histograms on the wire ---- */

static void encode_hist(struct vt_buf *b, const struct vt_native_hist *h,
    double scale, struct dec_hist *d)
{
	vt_buf_reset(b);
	vt_prom_proto_native(b, h, scale);
	struct reader r = { (const uint8_t *)b->data,
	    (const uint8_t *)b->data + b->len };
	decode_hist(r, d);
}

START_TEST(native_spans_and_deltas_read_back)
{
	/* clusters far apart (spans with gaps), negatives, zeros */
	double v[] = { 1, 1, 1.01, 2, 2, 2, 2, 3, 100, 101, 1e6, -5, -5, -6,
	    -1e-3, 0, 0, 0 };
	static struct dec_hist d;
	struct vt_buf b;
	vt_buf_init(&b);
	struct vt_native_hist *h = hist_of(v, sizeof v / sizeof v[0], 1, NULL);
	encode_hist(&b, h, 1, &d);
	ck_assert(d.has_schema);
	ck_assert_int_eq(d.schema, 5);
	ck_assert_double_eq(d.zero_threshold, VT_SKETCH_MIN_VALUE);
	ck_assert_uint_eq(d.zero, 3);
	ck_assert_uint_eq(d.count, sizeof v / sizeof v[0]);
	for (int neg = 0; neg < 2; neg++) {
		struct vt_native_hist_iter it;
		size_t k = 0;
		uint64_t sum = 0;
		vt_native_hist_iter_init(&it, h, neg);
		while (vt_native_hist_next(&it)) {
			ck_assert_uint_lt(k, neg ? d.nneg : d.npos);
			ck_assert_int_eq(it.index, neg ? d.neg_index[k] :
			    d.pos_index[k]);
			ck_assert_uint_eq(it.count, neg ? d.neg[k] : d.pos[k]);
			sum += it.count;
			k++;
		}
		ck_assert_uint_eq(k, neg ? d.nneg : d.npos);
		ck_assert_uint_eq(sum, neg ? 4 : 11);
	}
	ck_assert_int_ge(d.nspans_pos, 3);
	/* the two 1s share the first bucket; 1e6 is alone in the last */
	ck_assert_uint_ge(d.pos[0], 2);
	ck_assert_uint_eq(d.pos[d.npos - 1], 1);
	vt_native_hist_release(h);

	/* empty: zero threshold and a no-op span mark it native */
	encode_hist(&b, NULL, 1000, &d);
	ck_assert(d.has_schema);
	ck_assert_double_eq(d.zero_threshold, VT_SKETCH_MIN_VALUE / 1000);
	ck_assert_int_eq(d.nspans_pos, 1);
	ck_assert_uint_eq(d.npos + d.nneg + d.count, 0);
	vt_buf_fini(&b);
}
END_TEST

/*
 * The quantile Prometheus computes from native buckets (the bucket where
 * the cumulative count reaches q * count, interpolated in it), against
 * the exact quantile of the values and the sketch's own: within the
 * stated 3.3 % of the value of that rank, and within 4.3 % of the sketch.
 */
static double native_quantile(const struct vt_native_hist *h, double q)
{
	struct vt_native_hist_iter it;
	double rank = q * (double)h->count, cum = 0;
	vt_native_hist_iter_init(&it, h, 0);
	while (vt_native_hist_next(&it)) {
		if (cum + (double)it.count >= rank) {
			double lo = pow(2, (it.index - 1) / 32.0);
			double hi = pow(2, it.index / 32.0);
			return lo + (hi - lo) * (rank - cum) / (double)it.count;
		}
		cum += (double)it.count;
	}
	return NAN;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

START_TEST(quantiles_agree_with_the_sketch)
{
	enum { N = 5000 };
	static double v[N], sorted[N];
	uint64_t rng = 99;
	for (int i = 0; i < N; i++) {
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		double u = ((double)(rng >> 11) + 1) / 9007199254740993.0;
		v[i] = sorted[i] = 5 * exp(1.2 * sqrt(-2 * log(u)) *
		    cos(6.283 * (double)(rng & 0xffff) / 65536.0)); /* ms */
	}
	qsort(sorted, N, sizeof sorted[0], cmp_double);
	struct vt_sketch s;
	vt_sketch_init(&s);
	for (int i = 0; i < N; i++)
		vt_sketch_add(&s, v[i], 1);
	/* two collectors, half each: summed like sum(rate(...)) does */
	struct vt_native_hist *a = hist_of(v, N / 2, 1000, NULL);
	struct vt_native_hist *both = hist_of(v + N / 2, N - N / 2, 1000, a);
	static const double qs[] = { 0.5, 0.9, 0.95, 0.99 };
	for (size_t i = 0; i < 4; i++) {
		double nq = native_quantile(both, qs[i]) * 1000;
		double sq = vt_sketch_quantile(&s, qs[i]);
		size_t r = (size_t)floor(qs[i] * (N - 1));
		double lo = sorted[r], hi = sorted[r + 1];
		ck_assert_msg(nq >= lo / (1 + NATIVE_ERR) &&
		    nq <= hi * (1 + NATIVE_ERR), "q %g: native %g, exact "
		    "[%g, %g]", qs[i], nq, lo, hi);
		ck_assert_msg(fabs(nq - sq) <= 0.043 * sq, "q %g: native %g, "
		    "sketch %g", qs[i], nq, sq);
	}
	vt_native_hist_release(both);
	vt_sketch_fini(&s);
}
END_TEST

/* ---- from text ---- */

struct dec_family {
	char name[128];
	char help[256];
	int type;
	size_t nmetrics;
	struct reader metrics[16];
};

static size_t decode_families(const struct vt_buf *b, struct dec_family *fam,
    size_t cap)
{
	struct reader r = { (const uint8_t *)b->data,
	    (const uint8_t *)b->data + b->len };
	size_t n = 0;
	while (r.p < r.end) {
		ck_assert_uint_lt(n, cap);
		size_t len = (size_t)rd_varint(&r);
		ck_assert_uint_le(len, (size_t)(r.end - r.p));
		struct reader m = { r.p, r.p + len };
		struct field f;
		struct dec_family *d = &fam[n++];
		memset(d, 0, sizeof *d);
		d->type = -1;
		while (rd_field(&m, &f)) {
			if (f.num == 1)
				snprintf(d->name, sizeof d->name, "%.*s",
				    (int)f.len, (const char *)f.p);
			else if (f.num == 2)
				snprintf(d->help, sizeof d->help, "%.*s",
				    (int)f.len, (const char *)f.p);
			else if (f.num == 3)
				d->type = (int)f.v;
			else if (f.num == 4 && d->nmetrics < 16)
				d->metrics[d->nmetrics++] = sub(&f);
		}
		r.p += len;
	}
	return n;
}

/* The label values of a Metric joined as "k=v,k=v", and its field
 * `want` (2 gauge, 3 counter, 4 summary, 5 untyped, 7 histogram). */
static struct reader metric_part(struct reader m, int want, char *labels,
    size_t cap)
{
	struct field f, g;
	struct reader out = { NULL, NULL };
	labels[0] = '\0';
	while (rd_field(&m, &f)) {
		if (f.num == 1) {
			struct reader l = sub(&f);
			while (rd_field(&l, &g))
				snprintf(labels + strlen(labels), cap -
				    strlen(labels), "%s%.*s", g.num == 1 &&
				    labels[0] ? "," : g.num == 2 ? "=" : "",
				    (int)g.len, (const char *)g.p);
		} else if ((int)f.num == want) {
			out = sub(&f);
		} else {
			ck_abort_msg("Metric field %u, expected %d", f.num, want);
		}
	}
	ck_assert_ptr_nonnull(out.p);
	return out;
}

static double value_of(struct reader r)
{
	struct field f;
	double v = NAN;
	while (rd_field(&r, &f))
		if (f.num == 1 && f.wire == 1)
			v = f.d;
	return v;
}

START_TEST(text_is_reencoded)
{
	const char *text =
	    "# HELP vitals_checks_received_total Checks by \\\\ and\\n\"x\".\n"
	    "# TYPE vitals_checks_received_total counter\n"
	    "vitals_checks_received_total{source=\"udp\"} 3\n"
	    "vitals_checks_received_total{source=\"a\\\"b\"} 4\n"
	    "# HELP g A gauge.\n"
	    "# TYPE g gauge\n"
	    "g 1.5\n"
	    "g{k=\"v\"} -Inf\n"
	    "# HELP s A summary.\n"
	    "# TYPE s summary\n"
	    "s{q=\"1\",quantile=\"0.5\"} 0.25\n"
	    "s{q=\"1\",quantile=\"0.99\"} NaN\n"
	    "s_sum{q=\"1\"} 12.5\n"
	    "s_count{q=\"1\"} 7\n"
	    "# HELP h A histogram.\n"
	    "# TYPE h histogram\n"
	    "h_bucket{le=\"0.1\"} 1\n"
	    "h_bucket{le=\"+Inf\"} 5\n"
	    "h_sum 2\n"
	    "h_count 5\n"
	    "loose 9\n"
	    "# HELP empty No samples: left out.\n"
	    "# TYPE empty histogram\n"
	    "broken{a=\"x} 1\n"
	    "# a comment\n";
	struct vt_buf b;
	static struct dec_family fam[8];
	char labels[256];
	struct field f;

	vt_buf_init(&b);
	ck_assert_uint_eq(vt_prom_proto_from_text(&b, text, strlen(text)), 1);
	ck_assert_uint_eq(decode_families(&b, fam, 8), 5);

	ck_assert_str_eq(fam[0].name, "vitals_checks_received_total");
	ck_assert_str_eq(fam[0].help, "Checks by \\ and\n\"x\".");
	ck_assert_int_eq(fam[0].type, 0);
	ck_assert_uint_eq(fam[0].nmetrics, 2);
	ck_assert_double_eq(value_of(metric_part(fam[0].metrics[0], 3, labels,
	    sizeof labels)), 3);
	ck_assert_str_eq(labels, "source=udp");
	ck_assert_double_eq(value_of(metric_part(fam[0].metrics[1], 3, labels,
	    sizeof labels)), 4);
	ck_assert_str_eq(labels, "source=a\"b");

	ck_assert_str_eq(fam[1].name, "g");
	ck_assert_int_eq(fam[1].type, 1);
	ck_assert_uint_eq(fam[1].nmetrics, 2);
	ck_assert_double_eq(value_of(metric_part(fam[1].metrics[0], 2, labels,
	    sizeof labels)), 1.5);
	ck_assert_str_eq(labels, "");
	ck_assert(value_of(metric_part(fam[1].metrics[1], 2, labels,
	    sizeof labels)) == -INFINITY);

	ck_assert_str_eq(fam[2].name, "s");
	ck_assert_int_eq(fam[2].type, 2);
	ck_assert_uint_eq(fam[2].nmetrics, 1);
	struct reader s = metric_part(fam[2].metrics[0], 4, labels,
	    sizeof labels);
	ck_assert_str_eq(labels, "q=1");
	int nq = 0;
	while (rd_field(&s, &f)) {
		if (f.num == 1)
			ck_assert_uint_eq(f.v, 7);
		else if (f.num == 2)
			ck_assert_double_eq(f.d, 12.5);
		else if (f.num == 3) {
			struct reader q = sub(&f);
			struct field g;
			double qq = NAN, qv = NAN;
			while (rd_field(&q, &g))
				*(g.num == 1 ? &qq : &qv) = g.d;
			ck_assert(nq == 0 ? qq == 0.5 && qv == 0.25 :
			    qq == 0.99 && isnan(qv));
			nq++;
		}
	}
	ck_assert_int_eq(nq, 2);

	ck_assert_str_eq(fam[3].name, "h");
	ck_assert_int_eq(fam[3].type, 4);
	static struct dec_hist d;
	decode_hist(metric_part(fam[3].metrics[0], 7, labels, sizeof labels),
	    &d);
	ck_assert_uint_eq(d.nclassic, 2);
	ck_assert(d.classic_le[0] == 0.1 && d.classic_count[0] == 1);
	ck_assert(isinf(d.classic_le[1]) && d.classic_count[1] == 5);
	ck_assert_uint_eq(d.count, 5);
	ck_assert_double_eq(d.sum, 2);
	ck_assert(!d.has_schema);

	ck_assert_str_eq(fam[4].name, "loose");
	ck_assert_int_eq(fam[4].type, 3);
	ck_assert_double_eq(value_of(metric_part(fam[4].metrics[0], 5, labels,
	    sizeof labels)), 9);
	vt_buf_fini(&b);
}
END_TEST

/* ---- the exporter end to end ---- */

static struct vt_slice sl(const char *s)
{
	struct vt_slice r = { s, strlen(s) };
	return r;
}

/* A flush from a real aggregator: timings of shop.lat in two windows. */
START_TEST(exporter_sends_native_histograms)
{
	struct vt_selfstats stats;
	struct vt_agg_config cfg = { .max_metrics = 100, .metric_ttl = 3600,
	    .npercentiles = 2, .percentiles = { 50, 99 },
	    .native_histograms = _i };
	memset(&stats, 0, sizeof stats);
	vt_agg *a = vt_agg_create(&cfg, &stats);
	for (int i = 1; i <= 100; i++) {
		struct vt_sample s = { .name = sl("shop.lat"), .tags = sl(""),
		    .value = i, .sample_rate = 1, .kind = VT_TIMER };
		ck_assert_int_eq(vt_agg_record(a, &s), 0);
		struct vt_sample c = { .name = sl("shop.hits"), .tags = sl(""),
		    .value = 1, .sample_rate = 1, .kind = VT_COUNTER };
		ck_assert_int_eq(vt_agg_record(a, &c), 0);
	}
	vt_flush_release(vt_agg_close_window(a, 1000, 10));
	struct vt_sample s = { .name = sl("shop.lat"), .tags = sl(""),
	    .value = 250, .sample_rate = 1, .kind = VT_TIMER };
	vt_agg_record(a, &s);
	struct vt_flush *f = vt_agg_close_window(a, 1010, 10);

	struct vt_prom *p = vt_prom_create();
	struct vt_sink sink = vt_prom_sink(p);
	ck_assert_int_eq(sink.flush(sink.ctx, f), 0);
	vt_flush_release(f);
	struct vt_buf out, text;
	vt_buf_init(&out);
	vt_buf_init(&text);
	vt_prom_render(p, &out, VT_PROM_PROTOBUF);
	vt_prom_render(p, &text, VT_PROM_TEXT);
	ck_assert_ptr_nonnull(strstr(text.data, "# TYPE lat_seconds summary\n"));

	static struct dec_family fam[64];
	size_t n = decode_families(&out, fam, 64);
	int seen_lat = 0, seen_hits = 0, seen_self = 0;
	char labels[256];
	for (size_t i = 0; i < n; i++) {
		if (strcmp(fam[i].name, "hits_total") == 0) {
			ck_assert_int_eq(fam[i].type, 0);
			ck_assert_double_eq(value_of(metric_part(
			    fam[i].metrics[0], 3, labels, sizeof labels)), 100);
			ck_assert_str_eq(labels, "service=shop");
			seen_hits = 1;
		}
		if (strcmp(fam[i].name, "vitals_metrics") == 0)
			seen_self = 1;
		if (strcmp(fam[i].name, "lat_seconds") != 0)
			continue;
		seen_lat = 1;
		ck_assert_str_eq(fam[i].help,
		    "statsd timer lat (sent in milliseconds)");
		if (!_i) {              /* off: a summary, as in text */
			ck_assert_int_eq(fam[i].type, 2);
			metric_part(fam[i].metrics[0], 4, labels, sizeof labels);
			continue;
		}
		ck_assert_int_eq(fam[i].type, 4);
		static struct dec_hist d;
		decode_hist(metric_part(fam[i].metrics[0], 7, labels,
		    sizeof labels), &d);
		ck_assert_str_eq(labels, "service=shop");
		ck_assert_int_eq(d.schema, 5);
		ck_assert_uint_eq(d.count, 101);      /* cumulative */
		ck_assert_double_eq_tol(d.sum, (5050 + 250) / 1000.0, 1e-9);
		uint64_t sum = 0;
		for (size_t k = 0; k < d.npos; k++) {
			sum += d.pos[k];
			double hi = pow(2, d.pos_index[k] / 32.0);
			ck_assert(hi > 0.001 / (1 + NATIVE_ERR) &&
			    hi < 0.25 * (1 + NATIVE_ERR) * BASE);
		}
		ck_assert_uint_eq(sum, 101);
	}
	ck_assert(seen_lat && seen_hits && seen_self);
	vt_buf_fini(&out);
	vt_buf_fini(&text);
	vt_prom_destroy(p);
	vt_agg_destroy(a);
}
END_TEST

/* Render f in fmt through a fresh exporter. */
static char *render_flush(struct vt_flush *f, enum vt_prom_format fmt,
    size_t *len)
{
	struct vt_prom *p = vt_prom_create();
	struct vt_sink sink = vt_prom_sink(p);
	struct vt_buf out;
	ck_assert_int_eq(sink.flush(sink.ctx, f), 0);
	vt_buf_init(&out);
	vt_prom_render(p, &out, fmt);
	vt_prom_destroy(p);
	return vt_buf_steal(&out, len);
}

/* Native histograms change nothing in the text formats: the same windows
 * with and without them render byte for byte the same. */
START_TEST(text_is_the_same_with_native_histograms)
{
	struct vt_selfstats stats;
	struct vt_agg_config cfg = { .max_metrics = 100, .metric_ttl = 3600,
	    .npercentiles = 3, .percentiles = { 50, 90, 99 },
	    .native_histograms = 1 };
	memset(&stats, 0, sizeof stats);
	vt_agg *a = vt_agg_create(&cfg, &stats);
	static const char *const names[] = { "shop.lat", "api.size" };
	for (int i = 1; i <= 300; i++) {
		struct vt_sample s = { .name = sl(names[i & 1]), .tags =
		    sl(i % 3 ? "route:/pay" : ""), .value = i * 0.7 - 20,
		    .sample_rate = i % 5 ? 1 : 0.5,
		    .kind = i & 1 ? VT_HISTOGRAM : VT_TIMER };
		ck_assert_int_eq(vt_agg_record(a, &s), 0);
	}
	struct vt_flush *on = vt_agg_close_window(a, 1000, 10);
	struct vt_flush *off = vt_flush_copy(on, NULL, NULL, 0);
	off->native_histograms = 0;
	size_t natives = 0;
	for (size_t i = 0; i < off->ntimers; i++) {   /* all timers */
		natives += off->timers[i].native != NULL;
		vt_native_hist_release(off->timers[i].native);
		off->timers[i].native = NULL;
	}
	ck_assert_uint_eq(natives, 4);
	for (int fmt = VT_PROM_TEXT; fmt <= VT_PROM_OPENMETRICS; fmt++) {
		size_t n1, n2;
		char *t1 = render_flush(on, (enum vt_prom_format)fmt, &n1);
		char *t2 = render_flush(off, (enum vt_prom_format)fmt, &n2);
		ck_assert_uint_eq(n1, n2);
		ck_assert(memcmp(t1, t2, n1) == 0);
		ck_assert_ptr_nonnull(strstr(t1, "# TYPE lat_seconds summary\n"));
		free(t1);
		free(t2);
	}
	/* and protobuf without them: summaries, as in text */
	struct vt_buf b = { NULL, 0, 0 };
	size_t n;
	b.data = render_flush(off, VT_PROM_PROTOBUF, &n);
	b.len = n;
	static struct dec_family fam[32];
	size_t nf = decode_families(&b, fam, 32);
	int seen = 0;
	for (size_t i = 0; i < nf; i++) {
		if (strcmp(fam[i].name, "lat_seconds") == 0 ||
		    strcmp(fam[i].name, "size") == 0) {
			ck_assert_int_eq(fam[i].type, 2);
			seen++;
		}
	}
	ck_assert_int_eq(seen, 2);
	free(b.data);
	vt_flush_release(on);
	vt_flush_release(off);
	vt_agg_destroy(a);
}
END_TEST

/* A timer a mapping rule made a classic histogram: in protobuf, one
 * histogram with both the rule's buckets and the native ones. */
START_TEST(classic_and_native_in_one_histogram)
{
	static const double le[] = { 0.01, 0.05, 0.1 };
	static const double counts[] = { 9, 50, 100 };
	struct vt_selfstats stats;
	struct vt_agg_config cfg = { .max_metrics = 10, .metric_ttl = 3600,
	    .npercentiles = 1, .percentiles = { 50 }, .native_histograms = 1 };
	memset(&stats, 0, sizeof stats);
	vt_agg *a = vt_agg_create(&cfg, &stats);
	for (int i = 1; i <= 100; i++) {
		struct vt_sample s = { .name = sl("shop.lat"), .tags = sl(""),
		    .value = i, .sample_rate = 1, .kind = VT_TIMER };
		ck_assert_int_eq(vt_agg_record(a, &s), 0);
	}
	struct vt_flush *f = vt_agg_close_window(a, 1000, 10);
	ck_assert_uint_eq(f->nmetrics, 1);
	ck_assert_ptr_eq(f->metrics[0].timer, &f->timers[0]);
	f->timers[0].nbuckets = 3;           /* as close_hist sets them */
	f->timers[0].bucket_le = le;
	f->timers[0].bucket_counts = counts;
	size_t n;
	struct vt_buf b = { NULL, 0, 0 };
	b.data = render_flush(f, VT_PROM_PROTOBUF, &n);
	b.len = n;
	static struct dec_family fam[32];
	size_t nf = decode_families(&b, fam, 32);
	char labels[64];
	int seen = 0;
	for (size_t i = 0; i < nf; i++) {
		if (strcmp(fam[i].name, "lat_seconds") != 0)
			continue;
		seen = 1;
		ck_assert_int_eq(fam[i].type, 4);
		static struct dec_hist d;
		decode_hist(metric_part(fam[i].metrics[0], 7, labels,
		    sizeof labels), &d);
		ck_assert_uint_eq(d.nclassic, 3);
		for (size_t k = 0; k < 3; k++) {
			ck_assert_double_eq(d.classic_le[k], le[k]);
			ck_assert_uint_eq(d.classic_count[k], (uint64_t)counts[k]);
		}
		ck_assert(d.has_schema);
		ck_assert_uint_eq(d.count, 100);
		ck_assert_uint_gt(d.npos, 50);
	}
	ck_assert(seen);
	free(b.data);
	vt_flush_release(f);
	vt_agg_destroy(a);
}
END_TEST

static const struct {
	const char *accept;
	enum vt_prom_format want;
} accepts[] = {
	/* Prometheus 2.42 with --enable-feature=native-histograms */
	{ "application/vnd.google.protobuf;proto=io.prometheus.client."
	  "MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;"
	  "q=0.3,*/*;q=0.2", VT_PROM_PROTOBUF },
	{ "application/vnd.google.protobuf;proto=io.prometheus.client."
	  "MetricFamily;encoding=delimited,application/openmetrics-text;"
	  "version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	  VT_PROM_PROTOBUF },
	/* without it */
	{ "application/openmetrics-text;version=1.0.0,application/"
	  "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
	  "q=0.5,*/*;q=0.1", VT_PROM_OPENMETRICS },
	{ NULL, VT_PROM_TEXT },
	{ "", VT_PROM_TEXT },
	{ "*/*", VT_PROM_TEXT },
	{ "text/plain", VT_PROM_TEXT },
	/* refused or outranked protobuf, other encodings */
	{ "application/vnd.google.protobuf;proto=io.prometheus.client."
	  "MetricFamily;encoding=delimited;q=0", VT_PROM_TEXT },
	{ "application/vnd.google.protobuf;proto=io.prometheus.client."
	  "MetricFamily;encoding=delimited;q=0.2,text/plain;q=0.9",
	  VT_PROM_TEXT },
	{ "application/vnd.google.protobuf;proto=io.prometheus.client."
	  "MetricFamily;encoding=text", VT_PROM_TEXT },
	{ "application/vnd.google.protobuf", VT_PROM_TEXT },
};

START_TEST(negotiate_table)
{
	ck_assert_int_eq(vt_prom_stream_negotiate(accepts[_i].accept),
	    accepts[_i].want);
	/* the text-only negotiation never says protobuf */
	ck_assert_int_ne(vt_prom_negotiate(accepts[_i].accept),
	    VT_PROM_PROTOBUF);
}
END_TEST

Suite *vt_test_prom_proto_suite(void)
{
	Suite *s = suite_create("prom_proto");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, varint_table, 0,
	    (int)(sizeof varints / sizeof varints[0]));
	tcase_add_test(tc, scalar_fields_read_back);
	tcase_add_test(tc, nested_lengths_are_patched);
	tcase_add_test(tc, labels_are_unescaped);
	tcase_add_test(tc, index_holds_the_representative);
	tcase_add_test(tc, every_value_within_stated_error);
	tcase_add_test(tc, windows_accumulate);
	tcase_add_test(tc, many_windows_two_levels);
	tcase_add_test(tc, native_spans_and_deltas_read_back);
	tcase_add_test(tc, quantiles_agree_with_the_sketch);
	tcase_add_test(tc, text_is_reencoded);
	tcase_add_loop_test(tc, exporter_sends_native_histograms, 0, 2);
	tcase_add_test(tc, text_is_the_same_with_native_histograms);
	tcase_add_test(tc, classic_and_native_in_one_histogram);
	tcase_add_loop_test(tc, negotiate_table, 0,
	    (int)(sizeof accepts / sizeof accepts[0]));
	suite_add_tcase(s, tc);
	return s;
}
