/*
 * prom.c - the Prometheus exporter sink (prom.h): keeps the latest closed
 * window and renders it on scrape, with the daemon's own families and the
 * registered collectors' families.
 *
 * Ownership: struct vt_prom publishes the latest flush (set by the
 * flusher thread) in a struct vt_published slot; each scrape builds its
 * own model of it and frees it at the end. A render takes its own
 * references and renders without any lock, so a slow scrape never delays
 * a flush. The collector
 * table is written before the HTTP server starts and copied under the
 * mutex on each render.
 *
 * The protobuf exposition (prom_proto.h) comes from the same model; the
 * daemon's own families and the collectors' are asked for as text and
 * re-encoded, a piece at a time as the text is.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/prom_text.h"
#include "collector/base/published.h"
#include "collector/base/xmalloc.h"
#include "exporters/prom/prom.h"
#include "exporters/prom/prom_model.h"
#include "exporters/prom/prom_proto.h"
#include "exporters/prom/prom_self.h"

struct collector {
	vt_prom_collector_fn fn;
	void *ctx;
};

struct vt_prom {
	struct vt_published latest;     /* struct vt_flush; NULL at start */
	pthread_mutex_t lock;           /* guards the collectors */
	struct collector collectors[VT_PROM_MAX_COLLECTORS];
	size_t ncollectors;
};

struct vt_prom *vt_prom_create(void)
{
	struct vt_prom *p = vt_xcalloc(1, sizeof *p);
	vt_published_init(&p->latest);
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void vt_prom_destroy(struct vt_prom *p)
{
	if (p == NULL)
		return;
	vt_published_fini(&p->latest);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int prom_flush(void *ctx, const struct vt_flush *f)
{
	struct vt_prom *p = ctx;
	vt_published_set(&p->latest, vt_flush_retain(f));
	return 0;
}

struct vt_sink vt_prom_sink(struct vt_prom *p)
{
	return (struct vt_sink){ .name = "prometheus", .ctx = p,
	    .flush = prom_flush };
}

void vt_prom_add_collector(struct vt_prom *p, vt_prom_collector_fn fn,
    void *ctx)
{
	pthread_mutex_lock(&p->lock);
	if (p->ncollectors < VT_PROM_MAX_COLLECTORS) {
		p->collectors[p->ncollectors].fn = fn;
		p->collectors[p->ncollectors].ctx = ctx;
		p->ncollectors++;
	}
	pthread_mutex_unlock(&p->lock);
}

/* A model of the latest flush, built for this scrape and freed when it
 * ends. Not cached: with a flush every 10 s and a scrape every 15 s most
 * scrapes would rebuild it anyway, and a cached model (about 1.5 MB at
 * 10,000 series) kept in memory between scrapes lifted the daemon's peak
 * RSS by as much. Returns a reference. */
static struct vt_prom_model *current_model(struct vt_prom *p)
{
	struct vt_flush *f = vt_published_get(&p->latest);
	struct vt_prom_model *m = vt_prom_model_build(f);
	vt_flush_release(f);    /* the model holds its own reference */
	return m;
}

/* Where a stream is: the client families sort around the reserved
 * vitals_ block, so the whole built-in part is in name order. */
enum stream_phase {
	BEFORE_SELF,     /* client families before "vitals_" */
	SELF,            /* the daemon's own vitals_* families */
	AFTER_SELF,      /* the remaining client families */
	COLLECTORS,      /* health, storage, HTTP, ... */
	END,             /* "# EOF" for OpenMetrics */
	DONE
};

struct vt_prom_stream {
	struct vt_prom_model *m;        /* owned reference */
	struct collector collectors[VT_PROM_MAX_COLLECTORS];
	size_t ncollectors;
	enum vt_prom_format fmt;
	enum stream_phase phase;
	size_t next;                    /* family index to continue from */
	struct vt_buf text;             /* protobuf: text to re-encode */
};

struct vt_prom_stream *vt_prom_stream_open(struct vt_prom *p,
    enum vt_prom_format fmt)
{
	struct vt_prom_stream *s = vt_xcalloc(1, sizeof *s);
	s->m = current_model(p);
	pthread_mutex_lock(&p->lock);
	s->ncollectors = p->ncollectors;
	memcpy(s->collectors, p->collectors,
	    s->ncollectors * sizeof *s->collectors);
	pthread_mutex_unlock(&p->lock);
	s->fmt = fmt;
	s->phase = BEFORE_SELF;
	vt_buf_init(&s->text);
	return s;
}

size_t vt_prom_stream_next(struct vt_prom_stream *s, struct vt_buf *out)
{
	size_t start = out->len, limit = out->len + VT_PROM_CHUNK;
	while (s->phase != DONE && out->len < limit) {
		switch (s->phase) {
		case BEFORE_SELF:
		case AFTER_SELF: {
			const char *stop = s->phase == BEFORE_SELF ? "vitals_" :
			    NULL;
			size_t r = vt_prom_model_write(s->m, out, s->fmt, s->next,
			    stop, limit);
			int finished = r == s->next || out->len < limit;
			s->next = r;
			if (finished)
				s->phase++;
			break;
		}
		case SELF:
			if (s->fmt == VT_PROM_PROTOBUF) {
				vt_buf_reset(&s->text);
				vt_prom_self_write(&s->text,
				    vt_prom_model_self(s->m),
				    vt_prom_model_conflicts(s->m), VT_PROM_TEXT);
				vt_prom_proto_from_text(out, s->text.data,
				    s->text.len);
			} else {
				vt_prom_self_write(out, vt_prom_model_self(s->m),
				    vt_prom_model_conflicts(s->m), s->fmt);
			}
			s->phase++;
			break;
		case COLLECTORS:
			for (size_t i = 0; i < s->ncollectors; i++) {
				if (s->fmt != VT_PROM_PROTOBUF) {
					s->collectors[i].fn(s->collectors[i].ctx,
					    out, s->fmt);
					continue;
				}
				vt_buf_reset(&s->text);
				s->collectors[i].fn(s->collectors[i].ctx,
				    &s->text, VT_PROM_TEXT);
				vt_prom_proto_from_text(out, s->text.data,
				    s->text.len);
			}
			s->phase++;
			break;
		case END:
			if (s->fmt == VT_PROM_OPENMETRICS)
				vt_buf_puts(out, "# EOF\n");
			s->phase++;
			break;
		case DONE:
			break;
		}
	}
	return out->len - start;
}

void vt_prom_stream_close(struct vt_prom_stream *s)
{
	if (s == NULL)
		return;
	vt_prom_model_release(s->m);
	vt_buf_fini(&s->text);
	free(s);
}

void vt_prom_render(struct vt_prom *p, struct vt_buf *out,
    enum vt_prom_format fmt)
{
	struct vt_prom_stream *s = vt_prom_stream_open(p, fmt);
	while (vt_prom_stream_next(s, out) > 0)
		;
	vt_prom_stream_close(s);
}

enum vt_prom_format vt_prom_negotiate(const char *accept)
{
	/* Media types are case-insensitive (RFC 9110). */
	if (accept && strcasestr(accept, "application/openmetrics-text"))
		return VT_PROM_OPENMETRICS;
	return VT_PROM_TEXT;
}

/* The q value of one media range's parameters ("; q=0.5"), 1 when none. */
static double media_q(const char *params, size_t len)
{
	const char *p = params, *end = params + len;
	while (p < end) {
		while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
			p++;
		if (end - p > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			char num[16];
			size_t n = 0;
			for (p += 2; p < end && *p != ';' && n + 1 < sizeof num;)
				num[n++] = *p++;
			num[n] = '\0';
			return strtod(num, NULL);
		}
		while (p < end && *p != ';')
			p++;
	}
	return 1;
}

/*
 * The protobuf exposition when the Accept header lists the delimited
 * MetricFamily type with a q value above 0 and no lower than any other
 * type's; else vt_prom_negotiate. Prometheus (2.40 on, with native
 * histograms enabled) lists it first, without a q value.
 */
enum vt_prom_format vt_prom_stream_negotiate(const char *accept)
{
	double proto_q = 0, other_q = 0;
	const char *p = accept;

	while (p && *p) {
		size_t len = strcspn(p, ",");
		const char *semi = memchr(p, ';', len);
		size_t plen = semi ? (size_t)(semi - p) : len;
		double q = media_q(p + plen, len - plen);
		char range[512];
		snprintf(range, sizeof range, "%.*s", (int)len, p);
		if (strcasestr(range, "application/vnd.google.protobuf") &&
		    strstr(range, "proto=io.prometheus.client.MetricFamily") &&
		    strstr(range, "encoding=delimited")) {
			if (q > proto_q)
				proto_q = q;
		} else if (q > other_q) {
			other_q = q;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (proto_q > 0 && proto_q >= other_q)
		return VT_PROM_PROTOBUF;
	return vt_prom_negotiate(accept);
}
