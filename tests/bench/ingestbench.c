/*
 * ingestbench.c - the user-space share of a load scenario: the daemon's own
 * ingest (split, parse, aggregate) run over the very datagrams
 * vitals-loadgen would send, with no socket in between.
 *
 *   vitals-loadgen --dump --names 1000 --mix counter | \
 *       vitals-ingestbench [--seconds S] [--passes N] [--flush-lines N]
 *                          [--cpu N] [--evict-every N] [--mapping FILE]
 *
 * Reads the datagrams from stdin (loadgen's --dump format: a 4-byte
 * little-endian length, then the bytes), builds the aggregator with the
 * daemon's defaults, warms it up with one pass (every name exists, as in
 * the load scenarios after their warm-up), then hands the datagrams to
 * vt_ingest_datagram_held round and round (applied every UDP_ROUND
 * datagrams, as the daemon's recvmmsg rounds are) for --seconds of CPU
 * time, closing a window every --flush-lines lines (default 80,000,000: a 10 s window at
 * 8,000,000 lines/s) and releasing it, as the flush would.
 *
 * --evict-every N walks 64 MB of other memory after every N datagrams,
 * outside the clock: the daemon under a paced load (scenario c) finds its
 * metrics cold at every poll, and this measures ingest in that state
 * (wall time of the ingest calls only, then).
 *
 * --mapping FILE gives the aggregator the rules of a statsd_exporter
 * mapping file, as mapping_file does the daemon's.
 *
 * Prints one JSON line: lines, seconds measured (this thread's CPU time,
 * or wall time of the ingest calls with --evict-every), ns per line, and
 * the lines not ingested OK. The load scenarios' figure minus the floor's is the
 * same thing measured with the kernel around it; this one is steady enough
 * to compare two builds of the parser or the table. Exit status: 0 after a
 * run, 1 when stdin holds no datagrams or a line was not ingested, 2 for
 * bad arguments.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/agg/agg.h"
#include "collector/agg/flush.h"
#include "collector/agg/selfstats.h"
#include "collector/base/line_result.h"
#include "collector/ingest/ingest.h"
#include "collector/statsd/mapping_yaml.h"
#include "collector/statsd/statsd.h"

struct pool {
	char *buf;
	size_t used, cap;
	size_t *off;
	uint32_t *len;
	size_t n, ncap;
};

static void *grow(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (q == NULL) {
		fprintf(stderr, "vitals-ingestbench: out of memory\n");
		exit(1);
	}
	return q;
}

static void read_pool(FILE *in, struct pool *p)
{
	unsigned char h[4];
	while (fread(h, 1, 4, in) == 4) {
		uint32_t n = (uint32_t)h[0] | (uint32_t)h[1] << 8 |
		    (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
		if (n > 65536) {
			fprintf(stderr, "vitals-ingestbench: datagram of %u bytes:"
			    " not loadgen --dump output\n", n);
			exit(1);
		}
		if (p->used + n > p->cap) {
			p->cap = (p->cap + n) * 2;
			p->buf = grow(p->buf, p->cap);
		}
		if (p->n == p->ncap) {
			p->ncap = p->ncap ? p->ncap * 2 : 1024;
			p->off = grow(p->off, p->ncap * sizeof *p->off);
			p->len = grow(p->len, p->ncap * sizeof *p->len);
		}
		if (fread(p->buf + p->used, 1, n, in) != n) {
			fprintf(stderr, "vitals-ingestbench: short datagram\n");
			exit(1);
		}
		p->off[p->n] = p->used;
		p->len[p->n++] = n;
		p->used += n;
	}
}

#define EVICT_BYTES (64u << 20)
#define UDP_ROUND 32                /* datagrams per recvmmsg (listen.c BATCH) */

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Touch every cache line of junk: what was cached before is gone. */
static void evict(unsigned char *junk)
{
	for (size_t i = 0; i < EVICT_BYTES; i += 64)
		junk[i]++;
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t lines_seen(const struct vt_selfstats *st)
{
	uint64_t n = 0;
	for (int r = 0; r < VT_LINE_RESULT_COUNT; r++)
		n += st->lines[r];
	return n;
}

static double arg_number(const char *opt, const char *s, double lo,
    double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "vitals-ingestbench: %s must be a number in"
		    " [%g, %g]\n", opt, lo, hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	double seconds = 5;
	uint64_t flush_lines = 80000000;
	uint64_t passes = 0;          /* 0: run for --seconds */
	int cpu = -1;
	size_t evict_every = 0;
	const char *mapping = NULL;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0)
			seconds = arg_number("--seconds", argv[++i], 0.1, 600);
		else if (i + 1 < argc && strcmp(argv[i], "--flush-lines") == 0)
			flush_lines = (uint64_t)arg_number("--flush-lines",
			    argv[++i], 1, 1e12);
		else if (i + 1 < argc && strcmp(argv[i], "--passes") == 0)
			passes = (uint64_t)arg_number("--passes", argv[++i], 1,
			    1e9);
		else if (i + 1 < argc && strcmp(argv[i], "--evict-every") == 0)
			evict_every = (size_t)arg_number("--evict-every",
			    argv[++i], 1, 1e6);
		else if (i + 1 < argc && strcmp(argv[i], "--cpu") == 0)
			cpu = (int)arg_number("--cpu", argv[++i], 0, 1023);
		else if (i + 1 < argc && strcmp(argv[i], "--mapping") == 0)
			mapping = argv[++i];
		else {
			fprintf(stderr, "usage: vitals-loadgen --dump ... | "
			    "vitals-ingestbench [--seconds S] [--passes N]"
			    " [--flush-lines N] [--cpu N] [--evict-every N]"
			    " [--mapping FILE]\n");
			return 2;
		}
	}
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof set, &set) != 0)
			perror("vitals-ingestbench: sched_setaffinity");
	}

	struct pool pool = { 0 };
	read_pool(stdin, &pool);
	if (pool.n == 0) {
		fprintf(stderr, "vitals-ingestbench: no datagrams on stdin\n");
		return 1;
	}

	struct vt_selfstats stats = { 0 };
	struct vt_agg_config ac = {
		.max_metrics = 100000, .metric_ttl = 3600, .npercentiles = 4,
		.percentiles = { 50, 90, 95, 99 },
	};
	char err[512];
	if (mapping && vt_mapping_load(mapping, NULL, &ac.mapping, err,
	    sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	vt_agg *agg = vt_agg_create(&ac, &stats);
	vt_ingest *in = vt_ingest_create(agg, &stats);

	for (size_t d = 0; d < pool.n; d++)       /* warm-up: every name */
		vt_ingest_datagram(in, pool.buf + pool.off[d], pool.len[d], NULL);
	vt_flush_release(vt_agg_close_window(agg, 0, 10));

	uint64_t base = lines_seen(&stats), next_flush = base + flush_lines;
	uint64_t windows = 0;
	unsigned char *junk = NULL;
	if (evict_every)
		junk = calloc(EVICT_BYTES, 1);
	double spent = 0, t0 = evict_every ? wall_s() : thread_cpu_s(), t1 = t0;
	for (uint64_t pass = 0; passes ? pass < passes : spent < seconds;
	    pass++) {
		for (size_t d = 0; d < pool.n; d++) {
			/* In rounds, as the daemon's recvmmsg reads them. */
			vt_ingest_datagram_held(in, pool.buf + pool.off[d],
			    pool.len[d], NULL);
			int evicting = evict_every && (d + 1) % evict_every == 0;
			if ((d + 1) % UDP_ROUND == 0 || d + 1 == pool.n ||
			    evicting)
				vt_ingest_apply_held(in);
			if (evicting) {
				spent += wall_s() - t0;
				evict(junk);
				t0 = wall_s();
			}
		}
		if (lines_seen(&stats) >= next_flush) {
			vt_flush_release(vt_agg_close_window(agg,
			    (double)++windows * 10, 10));
			next_flush += flush_lines;
		}
		t1 = evict_every ? wall_s() : thread_cpu_s();
		spent += t1 - t0;
		t0 = t1;
	}
	free(junk);
	uint64_t lines = lines_seen(&stats) - base;
	uint64_t not_ok = 0;
	for (int r = 0; r < VT_LINE_RESULT_COUNT; r++)
		if (r != VT_LINE_OK)
			not_ok += stats.lines[r];

	printf("{\"datagrams\": %zu, \"metrics\": %zu, \"lines\": %llu, "
	    "\"seconds\": %.3f, \"clock\": \"%s\", \"ns_per_line\": %.2f, "
	    "\"windows\": %llu, "
	    "\"lines_not_ok\": %llu}\n", pool.n, vt_agg_size(agg),
	    (unsigned long long)lines, spent,
	    evict_every ? "wall, caches evicted" : "thread cpu",
	    spent * 1e9 / (double)(lines ? lines : 1),
	    (unsigned long long)windows, (unsigned long long)not_ok);

	vt_ingest_destroy(in);
	vt_agg_destroy(agg);
	free(pool.buf);
	free(pool.off);
	free(pool.len);
	return not_ok ? 1 : 0;
}
