/*
 * ingest.c - split, parse, apply, count (see ingest.h). The per-line path:
 * vt_statsd_parse_run parses runs of plain lines straight into a batch of
 * up to VT_AGG_BATCH samples (they borrow the receive buffer, which
 * outlives the batch); a line it declines is cut at its newline and goes
 * through vt_statsd_classify and vt_statsd_parse. Then vt_agg_record_batch
 * and one counter increment per line. A round of UDP datagrams shares its
 * batches (vt_ingest_datagram_held), so they fill up across datagrams:
 * a 1,400-byte datagram holds only about 40 lines.
 * Nothing allocates, nothing locks, nothing logs.
 */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "statsd.h"
#include "xmalloc.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Parsed metric lines waiting to be applied as one batch. */
struct pending {
	size_t n;
	struct vt_sample samples[VT_AGG_BATCH];
	enum vt_line_result results[VT_AGG_BATCH];
};

struct vt_ingest {
	vt_agg *agg;                  /* borrowed */
	struct vt_selfstats *stats;   /* borrowed */
	struct vt_ingest_checks checks;
	struct vt_ingest_forward forward;
	/* The batch every entry point parses into. Samples of
	 * vt_ingest_datagram_held borrow its buffers until
	 * vt_ingest_apply_held (or any other entry point) applies them. */
	struct pending held;
};

vt_ingest *vt_ingest_create(vt_agg *agg, struct vt_selfstats *stats)
{
	vt_ingest *in = vt_xcalloc(1, sizeof *in);
	in->agg = agg;
	in->stats = stats;
	return in;
}

void vt_ingest_destroy(vt_ingest *in)
{
	free(in);
}

void vt_ingest_set_checks(vt_ingest *in, const struct vt_ingest_checks *c)
{
	in->checks = *c;
}

void vt_ingest_set_forward(vt_ingest *in, const struct vt_ingest_forward *f)
{
	in->forward = *f;
}

static void ingest_service_check(vt_ingest *in, const char *line,
    size_t len, const struct sockaddr *peer)
{
	struct vt_check_report r;
	enum vt_line_result res = vt_statsd_parse_check(line, len, &r);
	if (res == VT_LINE_OK) {
		in->stats->service_checks++;
		if (in->checks.on_service_check)
			in->checks.on_service_check(in->checks.ctx, &r, peer);
	}
	in->stats->lines[res]++;
}

static void pending_apply(vt_ingest *in, struct pending *p)
{
	if (p->n == 0)
		return;
	vt_agg_record_batch(in->agg, p->samples, p->n, p->results);
	/* OK lines counted in a register: one memory counter bumped per
	 * line is a chain of dependent increments. */
	uint64_t ok = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (p->results[i] == VT_LINE_OK)
			ok++;
		else
			in->stats->lines[p->results[i]]++;
	}
	in->stats->lines[VT_LINE_OK] += ok;
	p->n = 0;
}

/* One line; metric lines are parsed into the batch, the rest applied. */
static void ingest_one(vt_ingest *in, const char *line, size_t len,
    const struct sockaddr *peer)
{
	struct pending *p = &in->held;
	enum vt_line_result res;

	switch (vt_statsd_classify(line, len)) {
	case VT_LINE_KIND_METRIC:
		res = vt_statsd_parse(line, len, &p->samples[p->n]);
		if (res != VT_LINE_OK) {
			in->stats->lines[res]++;
			return;
		}
		if (++p->n == VT_AGG_BATCH)
			pending_apply(in, p);
		return;
	case VT_LINE_KIND_SERVICE_CHECK:
		ingest_service_check(in, line, len, peer);
		return;
	case VT_LINE_KIND_EVENT:
		in->stats->lines[VT_LINE_UNSUPPORTED]++;
		return;
	case VT_LINE_KIND_EMPTY:
		return;
	}
}

void vt_ingest_apply_held(vt_ingest *in)
{
	pending_apply(in, &in->held);
}

/* The other entry points parse into the held batch too, after what it
 * holds, and apply it before they return: lines keep their order. */
void vt_ingest_line(vt_ingest *in, const char *line, size_t len,
    const struct sockaddr *peer)
{
	if (in->forward.on_datagram) {
		in->forward.on_datagram(in->forward.ctx, line, len, peer);
		return;
	}
	ingest_one(in, line, len, peer);
	pending_apply(in, &in->held);
}

/* The first '\n' in [p, end), or end. Inline, sixteen bytes a step:
 * lines are short, and a libc memchr call per line cost more than the
 * search. */
static inline const char *find_newline(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n');
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned hits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl));
		if (hits)
			return p + __builtin_ctz(hits);
		p += 16;
	}
#endif
	while (p < end && *p != '\n')
		p++;
	return p;
}

/* Parse buf's lines into the held batch, applying it whenever it fills;
 * what is left in it borrows buf. */
static void lines_into_held(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer)
{
	struct pending *p = &in->held;
	const char *q = buf, *end = buf + len;
	while (q < end) {
		/* Plain lines in one pass, straight into the batch... */
		p->n += vt_statsd_parse_run(q, end, &p->samples[p->n],
		    VT_AGG_BATCH - p->n, &q);
		if (p->n == VT_AGG_BATCH) {
			pending_apply(in, p);
			continue;
		}
		if (q == end)
			break;
		/* ...and the line the run declined, the long way. */
		const char *eol = find_newline(q, end);
		ingest_one(in, q, (size_t)(eol - q), peer);
		q = eol + 1;
	}
}

void vt_ingest_lines(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer)
{
	lines_into_held(in, buf, len, peer);
	pending_apply(in, &in->held);
}

/* JSON checks, relay, or statsd lines into the held batch. */
void vt_ingest_datagram_held(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer)
{
	if (in->forward.on_datagram) {
		in->forward.on_datagram(in->forward.ctx, buf, len, peer);
		return;
	}
	if (len > 0 && (buf[0] == '{' || buf[0] == '[')) {
		if (in->checks.on_json)
			in->checks.on_json(in->checks.ctx, buf, len, peer);
		else
			in->stats->lines[VT_LINE_UNSUPPORTED]++;
		return;
	}
	lines_into_held(in, buf, len, peer);
}

void vt_ingest_datagram(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer)
{
	vt_ingest_datagram_held(in, buf, len, peer);
	pending_apply(in, &in->held);
}
