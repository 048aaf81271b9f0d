/*
 * loadgen.c - statsd UDP load generator for the vitalsd benchmarks.
 *
 *   vitals-loadgen [--host 127.0.0.1] [--port 8125] [--duration SECONDS]
 *                  [--rate LINES_PER_SEC] [--names N] [--mix counter|mixed]
 *                  [--datagram BYTES] [--cpu N] [--service-prefix P]
 *                  [--services N] [--threads N] [--max-lines N] [--seed N]
 *                  [--dump]
 *
 * Loopback only: any destination outside 127.0.0.0/8 and ::1 is refused.
 *
 * Every line the run will send is formatted before the clock starts: a pool
 * of datagrams, each packed with as many whole lines as fit in --datagram
 * bytes. The pool walks all N names in a fresh random order per cycle, so
 * every name is covered the same number of times, and the values (timer
 * latencies, gauge readings, set members) differ from line to line. The
 * sending loop then only hands slices of that pool to sendmmsg(2).
 *
 * Pacing (--rate > 0) is a token bucket in lines, refilled from
 * CLOCK_MONOTONIC before every batch. Batches are sized by the tokens at
 * hand, so the receiver sees a steady stream rather than bursts; after a
 * stall (the generator descheduled) it catches up at most 10 ms of backlog,
 * and what it could not catch up is reported as "pacing_shortfall_lines".
 * --rate 0 sends as fast as possible.
 *
 * The run ends after --duration seconds (at most 600), after --max-lines
 * lines if given, or on SIGINT/SIGTERM, and prints one JSON line to stdout:
 *   {"offered_lines":..,"datagrams":..,"seconds":..,"offered_lines_per_s":..,
 *    "send_errors":.., ...}
 * --dump writes the pool to stdout instead of sending it, each datagram as
 * a 4-byte little-endian length and its bytes (vitals-ingestbench reads
 * that), and exits.
 *
 * Exit status: 0 after a run, 2 for bad arguments, 1 for setup failures.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define LG_MAX_DURATION 600.0
#define LG_MAX_NAMES 1000000u
#define LG_MAX_THREADS 64u
#define LG_MIN_DATAGRAM 128u
#define LG_MAX_DATAGRAM 65000u
#define LG_LINE_MAX 256            /* longest line we ever format */
#define LG_MIN_POOL_DGRAMS 1024u   /* pool at least this many datagrams */
#define LG_MAX_POOL_BYTES (64u << 20)
#define LG_BATCH 64u               /* datagrams per sendmmsg call */
#define LG_BURST_SECONDS 0.010     /* token bucket depth, in time */
#define LG_SET_POOL 500u           /* distinct set members */

enum lg_mix { LG_MIX_COUNTER = 0, LG_MIX_MIXED };
enum lg_kind { LG_COUNTER = 0, LG_TIMER, LG_GAUGE, LG_SET, LG_KINDS };

struct lg_opts {
	const char *host;
	unsigned port;
	double duration;
	double rate;
	unsigned names;
	enum lg_mix mix;
	unsigned datagram;
	int cpu;                   /* -1: no pinning */
	const char *prefix;
	unsigned services;
	unsigned threads;
	uint64_t max_lines;        /* 0: no cap but the duration */
	uint64_t seed;
	int dump;                  /* write the pool to stdout, send nothing */
};

/* One pre-built datagram: a slice of pool.buf. */
struct lg_dgram {
	size_t off;
	uint32_t len;
	uint32_t lines;
};

struct lg_pool {
	char *buf;
	size_t used, cap;
	struct lg_dgram *d;
	size_t n, dcap;
	uint64_t lines;
	unsigned max_lines_per_dgram;
};

struct lg_worker {
	pthread_t tid;
	unsigned idx;
	int fd;
	size_t start;              /* first pool index this worker sends */
	double rate;               /* lines/s for this worker, 0 = unpaced */
	uint64_t max_lines;        /* 0 = unbounded */
	double deadline;           /* CLOCK_MONOTONIC seconds */
	struct mmsghdr *mm;        /* one per pool datagram, private copy */
	uint64_t lines, dgrams, bytes, errors;
	double shortfall;          /* lines the bucket overflowed (stalls) */
	int fatal;                 /* errno of a fatal send error, or 0 */
};

static atomic_int g_stop;
static struct lg_pool g_pool;
static struct iovec *g_iov;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&g_stop, 1);
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "vitals-loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "vitals-loadgen: %s%s%s\n", msg, arg ? ": " : "",
	        arg ? arg : "");
	fprintf(stderr, "try 'vitals-loadgen --help'\n");
	exit(2);
}

static void usage(void)
{
	fputs(
	    "usage: vitals-loadgen [options]\n"
	    "  --host ADDR          destination, loopback only (127.0.0.0/8, ::1;"
	    " default 127.0.0.1)\n"
	    "  --port N             destination UDP port (default 8125)\n"
	    "  --duration SECONDS   run time, hard bound (default 10, max 600)\n"
	    "  --rate LINES         lines per second, 0 = as fast as possible"
	    " (default 0)\n"
	    "  --names N            distinct metric names (default 1000)\n"
	    "  --mix counter|mixed  counters only, or counters, timers, gauges"
	    " and sets\n"
	    "                       in equal parts (default counter)\n"
	    "  --datagram BYTES     datagram size to pack lines into"
	    " (default 1400)\n"
	    "  --cpu N              pin the generator (all threads) to core N\n"
	    "  --service-prefix P   names start with P00..P<services-1>"
	    " (default svc)\n"
	    "  --services N         number of services (default 10)\n"
	    "  --threads N          sending threads (default 1)\n"
	    "  --max-lines N        stop after about N lines (default: no cap)\n"
	    "  --seed N             random seed (default 1)\n"
	    "  --dump               write the datagrams to stdout (4-byte LE"
	    " length,\n"
	    "                       then the bytes) instead of sending them\n"
	    "Prints one JSON line with the offered load when done.\n",
	    stdout);
}

/* ---- numbers from the command line ---------------------------------- */

static uint64_t parse_u64(const char *opt, const char *s, uint64_t lo,
                          uint64_t hi)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		usage_error("not a non-negative integer", opt);
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		usage_error("not a non-negative integer", opt);
	if (v < lo || v > hi) {
		fprintf(stderr, "vitals-loadgen: %s must be in [%" PRIu64
		        ", %" PRIu64 "]\n", opt, lo, hi);
		exit(2);
	}
	return (uint64_t)v;
}

static double parse_double(const char *opt, const char *s, double lo,
                           double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v))
		usage_error("not a number", opt);
	if (v < lo || v > hi) {
		fprintf(stderr, "vitals-loadgen: %s must be in [%g, %g]\n",
		        opt, lo, hi);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv, struct lg_opts *o)
{
	enum {
		O_HOST = 256, O_PORT, O_DURATION, O_RATE, O_NAMES, O_MIX,
		O_DATAGRAM, O_CPU, O_PREFIX, O_SERVICES, O_THREADS,
		O_MAX_LINES, O_SEED, O_DUMP, O_HELP
	};
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, O_HOST },
		{ "port", required_argument, NULL, O_PORT },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "rate", required_argument, NULL, O_RATE },
		{ "names", required_argument, NULL, O_NAMES },
		{ "mix", required_argument, NULL, O_MIX },
		{ "datagram", required_argument, NULL, O_DATAGRAM },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "service-prefix", required_argument, NULL, O_PREFIX },
		{ "services", required_argument, NULL, O_SERVICES },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "max-lines", required_argument, NULL, O_MAX_LINES },
		{ "seed", required_argument, NULL, O_SEED },
		{ "dump", no_argument, NULL, O_DUMP },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->host = "127.0.0.1";
	o->port = 8125;
	o->duration = 10.0;
	o->rate = 0.0;
	o->names = 1000;
	o->mix = LG_MIX_COUNTER;
	o->datagram = 1400;
	o->cpu = -1;
	o->prefix = "svc";
	o->services = 10;
	o->threads = 1;
	o->max_lines = 0;
	o->seed = 1;
	o->dump = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_HOST:
			o->host = optarg;
			break;
		case O_PORT:
			o->port = (unsigned)parse_u64("--port", optarg, 1, 65535);
			break;
		case O_DURATION:
			o->duration = parse_double("--duration", optarg, 0.001,
			                           LG_MAX_DURATION);
			break;
		case O_RATE:
			o->rate = parse_double("--rate", optarg, 0.0, 1e10);
			break;
		case O_NAMES:
			o->names = (unsigned)parse_u64("--names", optarg, 1,
			                               LG_MAX_NAMES);
			break;
		case O_MIX:
			if (strcmp(optarg, "counter") == 0)
				o->mix = LG_MIX_COUNTER;
			else if (strcmp(optarg, "mixed") == 0)
				o->mix = LG_MIX_MIXED;
			else
				usage_error("--mix must be counter or mixed",
				            optarg);
			break;
		case O_DATAGRAM:
			o->datagram = (unsigned)parse_u64("--datagram", optarg,
			                                  LG_MIN_DATAGRAM,
			                                  LG_MAX_DATAGRAM);
			break;
		case O_CPU:
			o->cpu = (int)parse_u64("--cpu", optarg, 0,
			                        CPU_SETSIZE - 1);
			break;
		case O_PREFIX:
			o->prefix = optarg;
			break;
		case O_SERVICES:
			o->services = (unsigned)parse_u64("--services", optarg,
			                                  1, 1000);
			break;
		case O_THREADS:
			o->threads = (unsigned)parse_u64("--threads", optarg, 1,
			                                 LG_MAX_THREADS);
			break;
		case O_MAX_LINES:
			o->max_lines = parse_u64("--max-lines", optarg, 1,
			                         UINT64_MAX);
			break;
		case O_SEED:
			o->seed = parse_u64("--seed", optarg, 0, UINT64_MAX);
			break;
		case O_DUMP:
			o->dump = 1;
			break;
		case 'h':
		case O_HELP:
			usage();
			exit(0);
		default:
			usage_error("bad option", NULL);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument", argv[optind]);

	{
		size_t n = strlen(o->prefix);
		size_t i;

		if (n == 0 || n > 32)
			usage_error("--service-prefix must be 1 to 32 "
			            "characters", o->prefix);
		for (i = 0; i < n; i++) {
			char ch = o->prefix[i];

			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
			      || (ch >= '0' && ch <= '9') || ch == '_'
			      || ch == '-'))
				usage_error("--service-prefix allows only "
				            "[A-Za-z0-9_-]", o->prefix);
		}
	}
}

/* ---- destination: loopback only ------------------------------------- */

static socklen_t resolve_loopback(const char *host, unsigned port,
                                  struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			usage_error("refusing a destination outside "
			            "127.0.0.0/8 and ::1", host);
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		if (memcmp(&sin6->sin6_addr, &in6addr_loopback,
		           sizeof(in6addr_loopback)) != 0)
			usage_error("refusing a destination outside "
			            "127.0.0.0/8 and ::1", host);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return sizeof(*sin6);
	}
	usage_error("--host must be a numeric loopback address "
	            "(127.0.0.0/8 or ::1)", host);
	return 0;
}

/* ---- randomness (splitmix64; quality is plenty for load shapes) ----- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((rng_next(s) >> 32) * (uint64_t)n) >> 32);
}

/*
 * A request latency in ms: lognormal with median ~12 ms and a long right
 * tail, kept inside [1, 200] by drawing again (clamped after a few tries).
 */
static double rng_latency_ms(uint64_t *s)
{
	const double mu = log(12.0), sigma = 0.9;
	double v = 12.0;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		double u1 = 1.0 - rng_unit(s); /* (0, 1] */
		double u2 = rng_unit(s);
		double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);

		v = exp(mu + sigma * z);
		if (v >= 1.0 && v <= 200.0)
			return v;
	}
	return v < 1.0 ? 1.0 : (v > 200.0 ? 200.0 : v);
}

/* ---- the pool of datagrams ------------------------------------------ */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		fprintf(stderr, "vitals-loadgen: out of memory (%zu bytes)\n",
		        n);
		exit(1);
	}
	return q;
}

/* Names: "<prefix>NN.<area>.<thing>NNNN.<what>", one kind per name. */
struct lg_names {
	char *buf;
	uint32_t *off;
	uint16_t *len;
	uint8_t *kind;
	unsigned n;
};

static void build_names(const struct lg_opts *o, struct lg_names *nm)
{
	static const char *const fmt_area[LG_KINDS] = {
		"api.endpoint", "db.query", "pool.conn", "users.page"
	};
	static const char *const fmt_what[LG_KINDS] = {
		"requests", "latency", "active", "visitors"
	};
	size_t cap = (size_t)o->names * 80, used = 0;
	unsigned i;

	nm->n = o->names;
	nm->buf = xrealloc(NULL, cap);
	nm->off = xrealloc(NULL, sizeof(*nm->off) * o->names);
	nm->len = xrealloc(NULL, sizeof(*nm->len) * o->names);
	nm->kind = xrealloc(NULL, o->names);
	for (i = 0; i < o->names; i++) {
		unsigned kind = o->mix == LG_MIX_MIXED ? i % LG_KINDS : 0;
		unsigned j = o->mix == LG_MIX_MIXED ? i / LG_KINDS : i;
		int w = snprintf(nm->buf + used, cap - used, "%s%02u.%s%04u.%s",
		                 o->prefix, j % o->services, fmt_area[kind], j,
		                 fmt_what[kind]);

		if (w < 0 || (size_t)w >= cap - used) {
			fprintf(stderr, "vitals-loadgen: name too long\n");
			exit(1);
		}
		nm->off[i] = (uint32_t)used;
		nm->len[i] = (uint16_t)w;
		nm->kind[i] = (uint8_t)kind;
		used += (size_t)w;
	}
}

/* Format the line for name i into out (no newline); returns its length. */
static size_t format_line(const struct lg_names *nm, unsigned i,
                          uint64_t *rng, char *out)
{
	size_t n = nm->len[i];
	int w = 0;

	memcpy(out, nm->buf + nm->off[i], n);
	switch (nm->kind[i]) {
	case LG_COUNTER:
		w = snprintf(out + n, LG_LINE_MAX - n, ":1|c");
		break;
	case LG_TIMER:
		w = snprintf(out + n, LG_LINE_MAX - n, ":%.1f|ms",
		             rng_latency_ms(rng));
		break;
	case LG_GAUGE:
		/* One line in eight is a delta, the rest set a level. */
		if (rng_below(rng, 8) == 0)
			w = snprintf(out + n, LG_LINE_MAX - n, ":%c%u|g",
			             rng_below(rng, 2) ? '+' : '-',
			             1 + rng_below(rng, 5));
		else
			w = snprintf(out + n, LG_LINE_MAX - n, ":%u|g",
			             rng_below(rng, 1000));
		break;
	case LG_SET:
		w = snprintf(out + n, LG_LINE_MAX - n, ":u%u|s",
		             1000 + rng_below(rng, LG_SET_POOL));
		break;
	default:
		break;
	}
	if (w < 0 || (size_t)w >= LG_LINE_MAX - n) {
		fprintf(stderr, "vitals-loadgen: line too long\n");
		exit(1);
	}
	return n + (size_t)w;
}

static void pool_reserve(struct lg_pool *p, size_t more)
{
	if (p->used + more > p->cap) {
		size_t cap = p->cap ? p->cap : (size_t)1 << 20;

		while (p->used + more > cap)
			cap *= 2;
		p->buf = xrealloc(p->buf, cap);
		p->cap = cap;
	}
}

static void pool_push(struct lg_pool *p, size_t off, size_t len,
                      unsigned lines)
{
	if (p->n == p->dcap) {
		p->dcap = p->dcap ? p->dcap * 2 : 1024;
		p->d = xrealloc(p->d, p->dcap * sizeof(*p->d));
	}
	p->d[p->n].off = off;
	p->d[p->n].len = (uint32_t)len;
	p->d[p->n].lines = lines;
	p->n++;
	p->lines += lines;
	if (lines > p->max_lines_per_dgram)
		p->max_lines_per_dgram = lines;
}

/*
 * Whole cycles over all names (each cycle in a new random order) until the
 * pool holds at least LG_MIN_POOL_DGRAMS datagrams, or LG_MAX_POOL_BYTES
 * (then a huge --names is covered only partly: reported in the JSON).
 */
static void build_pool(const struct lg_opts *o, const struct lg_names *nm,
                       struct lg_pool *p, uint64_t *names_covered)
{
	uint64_t rng = o->seed ^ 0x5EEDC0FFEEull;
	uint32_t *perm = xrealloc(NULL, sizeof(*perm) * nm->n);
	char line[LG_LINE_MAX];
	size_t cur_off = 0, cur_len = 0;
	unsigned cur_lines = 0;
	uint64_t covered = 0;
	unsigned i;
	int full = 0;

	for (i = 0; i < nm->n; i++)
		perm[i] = i;
	memset(p, 0, sizeof(*p));
	while (!full) {
		for (i = nm->n - 1; i > 0; i--) {
			uint32_t k = rng_below(&rng, i + 1), t = perm[i];

			perm[i] = perm[k];
			perm[k] = t;
		}
		for (i = 0; i < nm->n; i++) {
			size_t len = format_line(nm, perm[i], &rng, line);

			if (cur_len > 0 && cur_len + 1 + len > o->datagram) {
				pool_push(p, cur_off, cur_len, cur_lines);
				cur_len = 0;
				cur_lines = 0;
				if (p->used >= LG_MAX_POOL_BYTES) {
					full = 1;
					break;
				}
			}
			pool_reserve(p, len + 1);
			if (cur_len == 0) {
				cur_off = p->used;
			} else {
				p->buf[p->used++] = '\n';
				cur_len++;
			}
			memcpy(p->buf + p->used, line, len);
			p->used += len;
			cur_len += len;
			cur_lines++;
			if (covered < nm->n)
				covered++;
		}
		if (p->n >= LG_MIN_POOL_DGRAMS)
			break;
	}
	if (cur_len > 0)
		pool_push(p, cur_off, cur_len, cur_lines);
	free(perm);
	*names_covered = covered;
}

/* ---- sending -------------------------------------------------------- */

static void sleep_seconds(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

static void *worker_run(void *arg)
{
	struct lg_worker *w = arg;
	const struct lg_dgram *d = g_pool.d;
	const size_t n = g_pool.n;
	size_t pos = w->start % n;
	double burst = 0, tokens = 0, last = now_mono();
	size_t i;

	w->mm = calloc(n, sizeof(*w->mm));
	if (!w->mm) {
		w->fatal = ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		w->mm[i].msg_hdr.msg_iov = &g_iov[i];
		w->mm[i].msg_hdr.msg_iovlen = 1;
	}
	if (w->rate > 0) {
		burst = w->rate * LG_BURST_SECONDS;
		if (burst < (double)g_pool.max_lines_per_dgram)
			burst = (double)g_pool.max_lines_per_dgram;
		tokens = (double)d[pos].lines;
	}

	while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
		double now = now_mono();
		unsigned k = LG_BATCH, sent_lines = 0;
		int r;

		if (now >= w->deadline)
			break;
		if (w->max_lines && w->lines >= w->max_lines)
			break;
		if (k > n - pos)
			k = (unsigned)(n - pos);
		if (w->rate > 0) {
			double need = 0;
			unsigned fit = 0;

			tokens += (now - last) * w->rate;
			last = now;
			if (tokens > burst) {
				w->shortfall += tokens - burst;
				tokens = burst;
			}
			while (fit < k && need + d[pos + fit].lines <= tokens)
				need += d[pos + fit++].lines;
			if (fit == 0) {
				double wait = ((double)d[pos].lines - tokens)
				              / w->rate;

				if (now + wait > w->deadline)
					wait = w->deadline - now;
				sleep_seconds(wait);
				continue;
			}
			k = fit;
		}
		r = sendmmsg(w->fd, &w->mm[pos], k, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			w->errors++;
			if (errno != ECONNREFUSED && errno != ENOBUFS
			    && errno != EAGAIN && errno != ENOMEM) {
				w->fatal = errno;
				break;
			}
			/* This datagram was not offered; go on. */
			pos = pos + 1 == n ? 0 : pos + 1;
			continue;
		}
		for (i = 0; i < (size_t)r; i++) {
			sent_lines += d[pos + i].lines;
			w->bytes += d[pos + i].len;
		}
		w->lines += sent_lines;
		w->dgrams += (uint64_t)r;
		tokens -= sent_lines;
		pos += (size_t)r;
		if (pos == n)
			pos = 0;
	}
	free(w->mm);
	w->mm = NULL;
	return NULL;
}

/* --dump: every datagram as a 4-byte little-endian length, then its bytes. */
static int dump_pool(const struct lg_pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		uint32_t n = p->d[i].len;
		unsigned char len[4] = { n & 0xff, (n >> 8) & 0xff,
		                         (n >> 16) & 0xff, n >> 24 };

		if (fwrite(len, 1, 4, stdout) != 4 ||
		    fwrite(p->buf + p->d[i].off, 1, n, stdout) != n)
			die("writing the pool");
	}
	if (fflush(stdout) != 0)
		die("writing the pool");
	return 0;
}

int main(int argc, char **argv)
{
	struct lg_opts o;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	struct lg_names nm;
	struct lg_worker *workers;
	struct sigaction sa;
	uint64_t covered = 0, lines = 0, dgrams = 0, bytes = 0, errors = 0;
	double t0, t1, secs, shortfall = 0;
	unsigned t;
	int fatal = 0;
	size_t i;

	parse_args(argc, argv, &o);
	dstlen = resolve_loopback(o.host, o.port, &dst);

	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			die("sched_setaffinity (--cpu)");
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	build_names(&o, &nm);
	build_pool(&o, &nm, &g_pool, &covered);
	if (o.dump)
		return dump_pool(&g_pool);
	g_iov = xrealloc(NULL, sizeof(*g_iov) * g_pool.n);
	for (i = 0; i < g_pool.n; i++) {
		g_iov[i].iov_base = g_pool.buf + g_pool.d[i].off;
		g_iov[i].iov_len = g_pool.d[i].len;
	}

	workers = calloc(o.threads, sizeof(*workers));
	if (!workers)
		die("calloc");
	for (t = 0; t < o.threads; t++) {
		struct lg_worker *w = &workers[t];
		int sndbuf = 4 << 20;

		w->idx = t;
		w->fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (w->fd < 0)
			die("socket");
		/* Best effort; capped by net.core.wmem_max. */
		(void)setsockopt(w->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
		                 sizeof(sndbuf));
		if (connect(w->fd, (struct sockaddr *)&dst, dstlen) != 0)
			die("connect");
		w->start = (g_pool.n * t) / o.threads;
		w->rate = o.rate / o.threads;
		w->max_lines = o.max_lines
		               ? (o.max_lines + o.threads - 1) / o.threads : 0;
	}

	t0 = now_mono();
	for (t = 0; t < o.threads; t++) {
		int rc;

		workers[t].deadline = t0 + o.duration;
		rc = pthread_create(&workers[t].tid, NULL, worker_run,
		                    &workers[t]);
		if (rc != 0) {
			errno = rc;
			die("pthread_create");
		}
	}
	for (t = 0; t < o.threads; t++) {
		pthread_join(workers[t].tid, NULL);
		lines += workers[t].lines;
		dgrams += workers[t].dgrams;
		bytes += workers[t].bytes;
		errors += workers[t].errors;
		shortfall += workers[t].shortfall;
		if (workers[t].fatal && !fatal)
			fatal = workers[t].fatal;
		close(workers[t].fd);
	}
	t1 = now_mono();
	secs = t1 - t0;

	if (fatal)
		fprintf(stderr, "vitals-loadgen: send failed: %s\n",
		        strerror(fatal));
	printf("{\"offered_lines\":%" PRIu64 ",\"datagrams\":%" PRIu64
	       ",\"seconds\":%.6f,\"offered_lines_per_s\":%.1f"
	       ",\"send_errors\":%" PRIu64 ",\"bytes\":%" PRIu64
	       ",\"lines_per_datagram\":%.2f,\"rate_target\":%.1f"
	       ",\"names\":%u,\"names_in_pool\":%" PRIu64
	       ",\"mix\":\"%s\",\"datagram_max\":%u,\"pool_datagrams\":%zu"
	       ",\"pacing_shortfall_lines\":%.0f"
	       ",\"threads\":%u,\"cpu\":%d,\"fatal\":%s}\n",
	       lines, dgrams, secs, secs > 0 ? (double)lines / secs : 0.0,
	       errors, bytes,
	       g_pool.n ? (double)g_pool.lines / (double)g_pool.n : 0.0,
	       o.rate, o.names, covered,
	       o.mix == LG_MIX_MIXED ? "mixed" : "counter", o.datagram,
	       g_pool.n, shortfall, o.threads, o.cpu,
	       fatal ? "true" : "false");
	fflush(stdout);

	free(workers);
	free(g_iov);
	free(g_pool.buf);
	free(g_pool.d);
	free(nm.buf);
	free(nm.off);
	free(nm.len);
	free(nm.kind);
	return fatal ? 1 : 0;
}
