/* relay_batch.c - per-service batches for the relay (relay_batch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/buf.h"
#include "collector/base/xmalloc.h"
#include "collector/relay/relay_batch.h"

struct open_batch {
	enum vt_relay_kind kind;
	size_t slen;
	char service[VT_NAME_MAX + 1];
	struct vt_buf body;
	size_t records;
	double opened;
};

struct vt_relay_batch {
	size_t max_bytes;
	double max_age;
	vt_relay_emit_fn emit;
	void *ctx;
	size_t n;
	struct open_batch *open[VT_RELAY_BATCH_MAX_OPEN];
	size_t last;                  /* index of the last hit */
};

void vt_relay_batch_msg_free(struct vt_relay_msg *m)
{
	if (m == NULL)
		return;
	free(m->body);
	free(m);
}

const char *vt_relay_batch_content_type(enum vt_relay_kind k)
{
	return k == VT_RELAY_HEALTH_JSON ? "application/json" : "text/plain";
}

vt_relay_batch *vt_relay_batch_create(size_t max_bytes, double max_age,
    vt_relay_emit_fn emit, void *ctx)
{
	vt_relay_batch *b = vt_xcalloc(1, sizeof *b);
	b->max_bytes = max_bytes;
	b->max_age = max_age;
	b->emit = emit;
	b->ctx = ctx;
	return b;
}

static void batch_free(struct open_batch *ob)
{
	vt_buf_fini(&ob->body);
	free(ob);
}

void vt_relay_batch_destroy(vt_relay_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		batch_free(b->open[i]);
	free(b);
}

/* Hand the batch at index i to emit and close it. */
static void emit_at(vt_relay_batch *b, size_t i)
{
	struct open_batch *ob = b->open[i];
	b->open[i] = b->open[--b->n];
	b->last = 0;
	struct vt_relay_msg *m = vt_xcalloc(1, sizeof *m);
	m->kind = ob->kind;
	memcpy(m->service, ob->service, ob->slen + 1);
	/* "<service>.metrics"; a long service is cut, the suffix kept */
	const char *suffix = ob->kind == VT_RELAY_METRICS ? "metrics" :
	    "health";
	size_t keep = VT_RELAY_KEY_MAX - 1 - strlen(suffix);
	if (ob->slen < keep)
		keep = ob->slen;
	memcpy(m->routing_key, m->service, keep);
	m->routing_key[keep] = '.';
	memcpy(m->routing_key + keep + 1, suffix, strlen(suffix) + 1);
	if (ob->kind == VT_RELAY_HEALTH_JSON)
		vt_buf_putc(&ob->body, ']');
	m->records = ob->records;
	m->body = vt_buf_steal(&ob->body, &m->len);
	batch_free(ob);
	b->emit(b->ctx, m);
}

static size_t find(vt_relay_batch *b, enum vt_relay_kind kind,
    const char *service, size_t slen)
{
	if (b->last < b->n) {
		struct open_batch *ob = b->open[b->last];
		if (ob->kind == kind && ob->slen == slen &&
		    memcmp(ob->service, service, slen) == 0)
			return b->last;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct open_batch *ob = b->open[i];
		if (ob->kind == kind && ob->slen == slen &&
		    memcmp(ob->service, service, slen) == 0)
			return b->last = i;
	}
	return b->n;
}

static size_t open_new(vt_relay_batch *b, enum vt_relay_kind kind,
    const char *service, size_t slen, double now)
{
	if (b->n == VT_RELAY_BATCH_MAX_OPEN) {
		size_t oldest = 0;
		for (size_t i = 1; i < b->n; i++)
			if (b->open[i]->opened < b->open[oldest]->opened)
				oldest = i;
		emit_at(b, oldest);
	}
	struct open_batch *ob = vt_xcalloc(1, sizeof *ob);
	ob->kind = kind;
	ob->slen = slen;
	memcpy(ob->service, service, slen);
	ob->service[slen] = '\0';
	vt_buf_init(&ob->body);
	ob->opened = now;
	b->open[b->n] = ob;
	return b->last = b->n++;
}

void vt_relay_batch_add(vt_relay_batch *b, enum vt_relay_kind kind,
    const char *service, size_t slen, const char *rec, size_t len,
    double now)
{
	if (slen > VT_NAME_MAX)
		slen = VT_NAME_MAX;
	size_t i = find(b, kind, service, slen);
	if (i < b->n && b->open[i]->body.len + len + 2 > b->max_bytes) {
		emit_at(b, i);
		i = b->n;
	}
	if (i == b->n)
		i = open_new(b, kind, service, slen, now);
	struct open_batch *ob = b->open[i];
	if (kind == VT_RELAY_HEALTH_JSON)
		vt_buf_putc(&ob->body, ob->records ? ',' : '[');
	else if (ob->records)
		vt_buf_putc(&ob->body, '\n');
	vt_buf_append(&ob->body, rec, len);
	ob->records++;
	if (ob->body.len + 1 >= b->max_bytes)
		emit_at(b, i);
}

void vt_relay_batch_tick(vt_relay_batch *b, double now)
{
	for (size_t i = 0; i < b->n;) {
		if (now - b->open[i]->opened >= b->max_age)
			emit_at(b, i);     /* moves the last one to i */
		else
			i++;
	}
}

void vt_relay_batch_flush(vt_relay_batch *b)
{
	while (b->n > 0)
		emit_at(b, b->n - 1);
}

size_t vt_relay_batch_open(const vt_relay_batch *b)
{
	return b->n;
}
