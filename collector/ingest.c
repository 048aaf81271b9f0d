/*
 * ingest.c - split, parse, apply, count (see ingest.h). The per-line path:
 * memchr for the newline, vt_statsd_parse, vt_agg_record, one counter
 * increment. Nothing allocates, nothing locks, nothing logs.
 */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "statsd.h"
#include "xmalloc.h"

struct vt_ingest {
	vt_agg *agg;                  /* borrowed */
	struct vt_selfstats *stats;   /* borrowed */
	struct vt_ingest_checks checks;
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

void vt_ingest_line(vt_ingest *in, const char *line, size_t len,
    const struct sockaddr *peer)
{
	struct vt_sample s;
	enum vt_line_result res;

	switch (vt_statsd_classify(line, len)) {
	case VT_LINE_KIND_METRIC:
		res = vt_statsd_parse(line, len, &s);
		if (res == VT_LINE_OK)
			res = vt_agg_record(in->agg, &s);
		in->stats->lines[res]++;
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

void vt_ingest_lines(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer)
{
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		vt_ingest_line(in, p, (size_t)(eol - p), peer);
		p = eol + 1;
	}
}

void vt_ingest_datagram(vt_ingest *in, const char *buf, size_t len,
    const struct sockaddr *peer)
{
	if (len > 0 && (buf[0] == '{' || buf[0] == '[')) {
		if (in->checks.on_json)
			in->checks.on_json(in->checks.ctx, buf, len, peer);
		else
			in->stats->lines[VT_LINE_UNSUPPORTED]++;
		return;
	}
	vt_ingest_lines(in, buf, len, peer);
}
