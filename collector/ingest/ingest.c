/*
 * ingest.c - split, parse, apply, count (see ingest.h). The per-line path:
 * vt_statsd_parse_run parses runs of plain lines straight into a batch of
 * up to VT_AGG_BATCH samples (they borrow the receive buffer, which
 * outlives the batch); a line it declines is cut at its newline and goes
 * through vt_statsd_classify and vt_statsd_parse. Then the batch goes
 * through the aggregator's three steps (agg.h), overlapped with the
 * parsing of the next batches (below), and one counter increment per
 * line. A round of UDP datagrams shares its batches
 * (vt_ingest_datagram_held), so they fill up across datagrams: a
 * 1,400-byte datagram holds only about 40 lines.
 * Nothing allocates, nothing locks, nothing logs.
 */
#include <stdlib.h>
#include <string.h>

#include "collector/base/line_result.h"
#include "collector/base/xmalloc.h"
#include "collector/ingest/ingest.h"
#include "collector/statsd/statsd.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Parsed metric lines on their way into the aggregator, a batch at a
 * time, through a pipeline INGEST_DEPTH batches deep: while one batch is
 * parsed, the one before it is probed (its home slots, prefetched a batch
 * ago, have arrived; its metrics are prefetched now) and the one before
 * that applied (its metrics have arrived). So each step's cache misses
 * have a batch's parsing to arrive in, where in a lone batch every step
 * waited for the one before. Batches apply in order, and every entry
 * point applies all of them before it returns (vt_ingest_apply_held for
 * vt_ingest_datagram_held), so none outlives the text it borrows and none
 * is in flight when a window closes.
 */
#define INGEST_DEPTH 3

enum batch_step { STEP_FILLING, STEP_HASHED, STEP_PROBED };

struct pending {
	size_t n;
	enum batch_step step;
	struct vt_sample samples[VT_AGG_BATCH];
	enum vt_line_result results[VT_AGG_BATCH];
	struct vt_agg_batch batch;
};

struct vt_ingest {
	vt_agg *agg;                  /* borrowed */
	struct vt_selfstats *stats;   /* borrowed */
	struct vt_ingest_checks checks;
	struct vt_ingest_forward forward;
	/* pipe[fill] is being parsed into; the one before it is hashed,
	 * the one before that probed. */
	struct pending pipe[INGEST_DEPTH];
	unsigned fill;
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

static int ingest_service_check(vt_ingest *in, const char *line,
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
	return res == VT_LINE_OK;
}

/* Apply a probed batch, count its lines, and make it the next to fill. */
static void batch_apply(vt_ingest *in, struct pending *p)
{
	vt_agg_batch_apply(in->agg, &p->batch, p->results);
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
	p->step = STEP_FILLING;
}

static struct pending *filling(vt_ingest *in)
{
	return &in->pipe[in->fill];
}

/* The batch being filled is full: every batch moves one step on, and the
 * oldest, applied, is the next to fill. */
_Static_assert(INGEST_DEPTH == 3, "pipe_advance names its three batches");
static void pipe_advance(vt_ingest *in)
{
	struct pending *hashed = &in->pipe[(in->fill + 2) % INGEST_DEPTH];
	struct pending *probed = &in->pipe[(in->fill + 1) % INGEST_DEPTH];
	struct pending *full = filling(in);

	if (probed->step == STEP_PROBED)
		batch_apply(in, probed);
	if (hashed->step == STEP_HASHED) {
		vt_agg_batch_probe(in->agg, &hashed->batch);
		hashed->step = STEP_PROBED;
	}
	vt_agg_batch_hash(in->agg, &full->batch, full->samples, full->n);
	full->step = STEP_HASHED;
	in->fill = (in->fill + 1) % INGEST_DEPTH;
}

/* Apply every batch in flight and the one being filled, oldest first. */
static void pipe_drain(vt_ingest *in)
{
	for (unsigned k = 1; k <= INGEST_DEPTH; k++) {
		struct pending *p = &in->pipe[(in->fill + k) % INGEST_DEPTH];
		if (p->step == STEP_FILLING) {
			if (p->n == 0)
				continue;
			vt_agg_batch_hash(in->agg, &p->batch, p->samples, p->n);
			p->step = STEP_HASHED;
		}
		if (p->step == STEP_HASHED)
			vt_agg_batch_probe(in->agg, &p->batch);
		batch_apply(in, p);
	}
}

/* One line; metric lines are parsed into the batch, the rest applied.
 * 1 when the line parsed (a metric or a service check), else 0. */
static int ingest_one(vt_ingest *in, const char *line, size_t len,
    const struct sockaddr *peer)
{
	struct pending *p = filling(in);
	enum vt_line_result res;

	switch (vt_statsd_classify(line, len)) {
	case VT_LINE_KIND_METRIC:
		res = vt_statsd_parse(line, len, &p->samples[p->n]);
		if (res != VT_LINE_OK) {
			in->stats->lines[res]++;
			return 0;
		}
		if (++p->n == VT_AGG_BATCH)
			pipe_advance(in);
		return 1;
	case VT_LINE_KIND_SERVICE_CHECK:
		return ingest_service_check(in, line, len, peer);
	case VT_LINE_KIND_EVENT:
		in->stats->lines[VT_LINE_UNSUPPORTED]++;
		return 0;
	case VT_LINE_KIND_EMPTY:
		return 0;
	}
	return 0;
}

void vt_ingest_apply_held(vt_ingest *in)
{
	pipe_drain(in);
}

/* The other entry points parse into the same batches, after what they
 * hold, and apply them all before they return: lines keep their order. */
void vt_ingest_line(vt_ingest *in, const char *line, size_t len,
    const struct sockaddr *peer)
{
	if (in->forward.on_datagram) {
		in->forward.on_datagram(in->forward.ctx, line, len, peer);
		return;
	}
	(void)ingest_one(in, line, len, peer);
	pipe_drain(in);
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

/* Parse buf's lines into the batches, moving the pipeline on whenever one
 * fills; what is left in flight borrows buf. Returns the lines that
 * parsed. */
static size_t lines_into_held(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer)
{
	const char *q = buf, *end = buf + len;
	size_t parsed = 0;
	while (q < end) {
		/* Plain lines in one pass, straight into the batch... */
		struct pending *p = filling(in);
		size_t run = vt_statsd_parse_run(q, end, &p->samples[p->n],
		    VT_AGG_BATCH - p->n, &q);
		p->n += run;
		parsed += run;
		if (p->n == VT_AGG_BATCH) {
			pipe_advance(in);
			continue;
		}
		if (q == end)
			break;
		/* ...and the line the run declined, the long way. */
		const char *eol = find_newline(q, end);
		parsed += (size_t)ingest_one(in, q, (size_t)(eol - q), peer);
		q = eol + 1;
	}
	return parsed;
}

size_t vt_ingest_lines(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer)
{
	size_t parsed = lines_into_held(in, buf, len, peer);
	pipe_drain(in);
	return parsed;
}

/* JSON checks, relay, or statsd lines into the batches (held in flight). */
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
	(void)lines_into_held(in, buf, len, peer);
}

void vt_ingest_datagram(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer)
{
	vt_ingest_datagram_held(in, buf, len, peer);
	pipe_drain(in);
}
