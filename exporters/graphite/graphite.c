/*
 * graphite.c - the Graphite sink (graphite.h): windows formatted into
 * plaintext chunks on the sink thread, a bounded queue (queue.h) to one
 * sender thread that keeps a TCP connection to carbon.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector/amqp/amqp_backoff.h"
#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/parse.h"
#include "collector/base/queue.h"
#include "collector/base/xmalloc.h"
#include "exporters/graphite/graphite.h"

#define LOG_SUB "graphite"

/* ---- names (pure) ---- */

int vt_graphite_tags_parse(const char *text)
{
	if (strcmp(text, "graphite") == 0)
		return VT_GRAPHITE_TAGS_GRAPHITE;
	if (strcmp(text, "path") == 0)
		return VT_GRAPHITE_TAGS_PATH;
	return -1;
}

static int plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void vt_graphite_component(struct vt_buf *out, const char *s, size_t len)
{
	if (len > VT_GRAPHITE_COMPONENT_MAX)
		len = VT_GRAPHITE_COMPONENT_MAX;
	if (len == 0) {
		vt_buf_putc(out, '_');
		return;
	}
	vt_buf_reserve(out, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		vt_buf_putc(out, plain(c) ? (char)c : c == '/' ? '-' : '_');
	}
}

void vt_graphite_dotted(struct vt_buf *out, const char *s)
{
	size_t start = out->len;
	while (*s) {
		size_t n = strcspn(s, ".");
		if (n > 0) {
			if (out->len > start)
				vt_buf_putc(out, '.');
			vt_graphite_component(out, s, n);
		}
		s += n;
		if (*s == '.')
			s++;
	}
	if (out->len == start)
		vt_buf_putc(out, '_');
}

/* "<prefix>.<kind>.<service>.<metric>" and, for tags in the path, the
 * labels; the statistic and the Graphite tags come after. */
static void put_base(struct vt_buf *out, const struct vt_graphite_names *n,
    const char *kind, const struct vt_series *s)
{
	if (n->prefix && n->prefix[0]) {
		vt_graphite_dotted(out, n->prefix);
		vt_buf_putc(out, '.');
	}
	vt_buf_puts(out, kind);
	vt_buf_putc(out, '.');
	vt_graphite_component(out, s->service, strlen(s->service));
	vt_buf_putc(out, '.');
	vt_graphite_dotted(out, s->metric);
	if (n->tags != VT_GRAPHITE_TAGS_PATH)
		return;
	for (size_t i = 0; i < s->nlabels; i++) {
		const struct vt_label *l = &s->labels[i];
		vt_buf_putc(out, '.');
		vt_graphite_component(out, l->key, strlen(l->key));
		vt_buf_putc(out, '.');
		if (l->value[0] == '\0')
			vt_buf_puts(out, "true");
		else
			vt_graphite_component(out, l->value, strlen(l->value));
	}
}

static void put_tags(struct vt_buf *out, const struct vt_graphite_names *n,
    const struct vt_series *s)
{
	if (n->tags != VT_GRAPHITE_TAGS_GRAPHITE)
		return;
	for (size_t i = 0; i < s->nlabels; i++) {
		const struct vt_label *l = &s->labels[i];
		vt_buf_putc(out, ';');
		vt_graphite_component(out, l->key, strlen(l->key));
		if (strcmp(l->key, "name") == 0)
			vt_buf_putc(out, '_');
		vt_buf_putc(out, '=');
		if (l->value[0] == '\0')
			vt_buf_puts(out, "true");
		else
			vt_graphite_component(out, l->value, strlen(l->value));
	}
}

/* What the lines of one window are written into. */
struct lines {
	struct vt_buf *out;
	const struct vt_graphite_names *n;
	long long ts;
	size_t too_long;
};

/* One line: base path, ".stat" (NULL: none), tags, value, time. Values
 * that are not finite and lines over VT_GRAPHITE_LINE_MAX are left out.
 * Returns 1 when written. */
static size_t put_line(struct lines *l, const char *kind,
    const struct vt_series *s, const char *stat, double v)
{
	struct vt_buf *out = l->out;
	const struct vt_graphite_names *n = l->n;
	long long ts = l->ts;
	size_t start = out->len;
	if (!isfinite(v))
		return 0;
	put_base(out, n, kind, s);
	if (stat) {
		vt_buf_putc(out, '.');
		vt_buf_puts(out, stat);
	}
	put_tags(out, n, s);
	vt_buf_putc(out, ' ');
	vt_buf_put_double(out, v == 0 ? 0 : v);   /* no "-0" */
	vt_buf_printf(out, " %lld\n", ts);
	if (out->len - start > VT_GRAPHITE_LINE_MAX) {
		out->len = start;
		out->data[start] = '\0';
		l->too_long++;
		return 0;
	}
	return 1;
}

/* "upper_90", "upper_99_9". */
static void percentile_stat(char *out, size_t outlen, double p)
{
	snprintf(out, outlen, "upper_%g", p);
	for (char *c = out; *c; c++)
		if (*c == '.')
			*c = '_';
}

static size_t put_timer(struct lines *l, const struct vt_flush *f,
    const struct vt_metric_window *w)
{
	const struct vt_series *s = w->series;
	const char *k = "timers";
	size_t lines = 0;
	lines += put_line(l, k, s, "count", w->count);
	lines += put_line(l, k, s, "count_ps", w->rate);
	if (w->samples == 0)
		return lines;
	const struct vt_timer_window *t = vt_window_timer(w);
	lines += put_line(l, k, s, "sum", t->sum);
	lines += put_line(l, k, s, "mean", t->mean);
	lines += put_line(l, k, s, "lower", t->min);
	lines += put_line(l, k, s, "upper", t->max);
	lines += put_line(l, k, s, "std", t->stddev);
	for (size_t i = 0; t->quantiles && i < f->npercentiles &&
	    i < VT_MAX_PERCENTILES; i++) {
		char stat[48];
		if (f->percentiles[i] == 50)
			lines += put_line(l, k, s, "median", t->quantiles[i]);
		percentile_stat(stat, sizeof stat, f->percentiles[i]);
		lines += put_line(l, k, s, stat, t->quantiles[i]);
	}
	return lines;
}

size_t vt_graphite_format(struct vt_buf *out,
    const struct vt_graphite_names *n, const struct vt_flush *f,
    long long ts, size_t *too_long)
{
	struct lines l = { .out = out, .n = n, .ts = ts };
	size_t lines = 0;
	for (size_t i = 0; i < f->nmetrics; i++) {
		const struct vt_metric_window *w = &f->metrics[i];
		const struct vt_series *s = w->series;
		switch (s->kind) {
		case VT_COUNTER:
			lines += put_line(&l, "counters", s, "count",
			    w->count);
			lines += put_line(&l, "counters", s, "rate", w->rate);
			break;
		case VT_TIMER:
		case VT_HISTOGRAM:
			lines += put_timer(&l, f, w);
			break;
		case VT_GAUGE:
			lines += put_line(&l, "gauges", s, NULL, w->value);
			break;
		case VT_SET:
			lines += put_line(&l, "sets", s, "count", w->value);
			break;
		case VT_KIND_COUNT:
			break;
		}
	}
	if (too_long)
		*too_long += l.too_long;
	return lines;
}

/* ---- the sink ---- */

/* One window's lines. */
struct chunk {
	struct vt_queue_node node;   /* size: len */
	size_t lines;
	size_t len;
	double window;               /* its timestamp */
	char *data;
};

struct vt_graphite {
	struct vt_graphite_names names;
	char prefix[VT_ADDR_LEN];
	char host[VT_ADDR_LEN];
	char port[16];
	size_t max_buffer;
	double timeout;
	double reconnect_min, reconnect_max;

	/* sink thread only */
	struct vt_buf text;
	long long last_ts;
	struct vt_complaint full;

	struct vt_queue q;           /* chunks; size: bytes, held while sent */
	pthread_t thread;
	int started;

	pthread_mutex_t lock;        /* guards what follows */
	pthread_cond_t wake;         /* stop */
	int stopping;                /* no more waiting between attempts */
	int stopped;                 /* vt_graphite_stop ran: its result */
	int stop_rc;
	double deadline;             /* vt_clock_mono(); 0: none */
	struct vt_graphite_stats stats;
};

static void chunk_free(struct chunk *c)
{
	free(c->data);
	free(c);
}

static void count_drop(vt_graphite *g, enum vt_graphite_drop why,
    size_t lines)
{
	pthread_mutex_lock(&g->lock);
	g->stats.dropped[why] += lines;
	pthread_mutex_unlock(&g->lock);
}

int vt_graphite_flush(void *ctx, const struct vt_flush *f)
{
	vt_graphite *g = ctx;
	long long ts = (long long)floor(f->timestamp);
	if (ts <= g->last_ts)
		ts = g->last_ts + 1;
	g->last_ts = ts;
	vt_buf_reset(&g->text);
	size_t too_long = 0;
	size_t lines = vt_graphite_format(&g->text, &g->names, f, ts,
	    &too_long);
	if (too_long > 0)
		count_drop(g, VT_GRAPHITE_DROP_TOO_LONG, too_long);
	if (lines == 0)
		return 0;
	struct chunk *c = vt_xcalloc(1, sizeof *c);
	c->lines = lines;
	c->window = (double)ts;
	c->data = vt_buf_steal(&g->text, &c->len);
	if (vt_queue_push(&g->q, &c->node, c->len, NULL) < 0) {
		vt_log_complain(&g->full, VT_LOG_WARN, LOG_SUB, "buffer full "
		    "(graphite.max_buffer %zu bytes, carbon away or slow): "
		    "window of %zu lines (%zu bytes) dropped", g->max_buffer,
		    lines, c->len);
		count_drop(g, VT_GRAPHITE_DROP_BUFFER_FULL, lines);
		chunk_free(c);
		return 0;
	}
	vt_log_recovered(&g->full, LOG_SUB, "buffer has room again: windows "
	    "are queued for carbon");
	return 0;
}

/* ---- the sender thread ---- */

/* Seconds left before the stop deadline (a large number without one). */
static double left(vt_graphite *g)
{
	pthread_mutex_lock(&g->lock);
	double d = g->deadline;
	pthread_mutex_unlock(&g->lock);
	return d > 0 ? d - vt_clock_mono() : 1e9;
}

/* Wait up to seconds, or until stop. */
static void nap(vt_graphite *g, double seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	double whole = floor(seconds);
	ts.tv_sec += (time_t)whole;
	ts.tv_nsec += (long)((seconds - whole) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g->lock);
	while (!g->stopping &&
	    pthread_cond_timedwait(&g->wake, &g->lock, &ts) == 0)
		;
	pthread_mutex_unlock(&g->lock);
}

/* Milliseconds for one poll: the timeout, cut at the stop deadline. */
static int poll_ms(vt_graphite *g)
{
	double t = g->timeout, l = left(g);
	if (l < t)
		t = l;
	return t > 0 ? (int)(t * 1000) + 1 : 0;
}

static void set_connected(vt_graphite *g, int up)
{
	pthread_mutex_lock(&g->lock);
	g->stats.connected = up;
	if (up)
		g->stats.connects++;
	pthread_mutex_unlock(&g->lock);
}

static void count_error(vt_graphite *g)
{
	pthread_mutex_lock(&g->lock);
	g->stats.errors++;
	pthread_mutex_unlock(&g->lock);
}

/* A connected socket, or -1 with err set. */
static int dial(vt_graphite *g, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_family = AF_UNSPEC }, *res = NULL;
	int rc = getaddrinfo(g->host, g->port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%.200s: %s", g->host, gai_strerror(rc));
		return -1;
	}
	int fd = -1;
	snprintf(err, errlen, "no address");
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			continue;
		}
		int e = 0;
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			e = errno;
			if (e == EINPROGRESS) {
				struct pollfd p = { .fd = fd, .events = POLLOUT };
				int n = poll(&p, 1, poll_ms(g));
				socklen_t sl = sizeof e;
				if (n <= 0)
					e = n == 0 ? ETIMEDOUT : errno;
				else if (getsockopt(fd, SOL_SOCKET, SO_ERROR,
				    &e, &sl) < 0)
					e = errno;
			}
		}
		if (e != 0) {
			snprintf(err, errlen, "connect: %s", strerror(e));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Carbon never writes: a readable socket was closed (or reset) by it. */
static int peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	return poll(&p, 1, 0) > 0;
}

/* Write all of c. 0, or -1 with err set. */
static int write_chunk(vt_graphite *g, int fd, const struct chunk *c,
    char *err, size_t errlen)
{
	size_t off = 0;
	while (off < c->len) {
		ssize_t n = send(fd, c->data + off, c->len - off,
		    MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			return -1;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int r = poll(&p, 1, poll_ms(g));
		if (r == 0) {
			snprintf(err, errlen, "write: timed out");
			return -1;
		}
		if (r < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Deliver c, connecting as needed; 0 when sent, -1 when the stop deadline
 * passed first. */
static int deliver(vt_graphite *g, int *fd, const struct chunk *c,
    struct vt_amqp_backoff *bo, struct vt_complaint *down)
{
	char err[256];
	for (;;) {
		if (left(g) <= 0)
			return -1;
		if (*fd >= 0 && peer_gone(*fd)) {
			close(*fd);
			*fd = -1;
			set_connected(g, 0);
			vt_log_info(LOG_SUB, "carbon %s:%s closed the "
			    "connection; reconnecting", g->host, g->port);
		}
		if (*fd < 0) {
			*fd = dial(g, err, sizeof err);
			if (*fd < 0) {
				count_error(g);
				vt_log_complain(down, VT_LOG_WARN, LOG_SUB,
				    "carbon %s:%s: %s; buffering (at most "
				    "%zu bytes) and retrying with backoff",
				    g->host, g->port, err, g->max_buffer);
				double d = vt_amqp_backoff_next(bo);
				double l = left(g);
				nap(g, d < l ? d : l);
				continue;
			}
			set_connected(g, 1);
			vt_log_recovered(down, LOG_SUB, "connected to carbon "
			    "%s:%s", g->host, g->port);
		}
		if (write_chunk(g, *fd, c, err, sizeof err) == 0) {
			vt_amqp_backoff_reset(bo);   /* after a write, not a
			                                connect: a carbon that
			                                takes connections and
			                                drops them is backed off */
			return 0;
		}
		count_error(g);
		vt_log_complain(down, VT_LOG_WARN, LOG_SUB, "carbon %s:%s: %s; "
		    "sending the window again on a new connection", g->host,
		    g->port, err);
		close(*fd);
		*fd = -1;
		set_connected(g, 0);
		double d = vt_amqp_backoff_next(bo), l = left(g);
		nap(g, d < l ? d : l);
	}
}

static void *sender_main(void *arg)
{
	vt_graphite *g = arg;
	struct vt_amqp_backoff bo;
	struct vt_complaint down = { 0 };
	int fd = -1;
	vt_amqp_backoff_init(&bo, g->reconnect_min, g->reconnect_max,
	    (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	struct vt_queue_node *list;
	while ((list = vt_queue_take(&g->q, -1)) != NULL) {
		while (list) {
			struct chunk *c = VT_QUEUE_ITEM(list, struct chunk,
			    node);
			list = list->next;
			int rc = deliver(g, &fd, c, &bo, &down);
			pthread_mutex_lock(&g->lock);
			if (rc == 0) {
				g->stats.sent_lines += c->lines;
				g->stats.sent_bytes += c->len;
				g->stats.windows++;
				g->stats.last_window = c->window;
			} else {
				g->stats.dropped[VT_GRAPHITE_DROP_SHUTDOWN] +=
				    c->lines;
			}
			pthread_mutex_unlock(&g->lock);
			vt_queue_release(&g->q, 1, c->len);
			chunk_free(c);
		}
	}
	if (fd >= 0)
		close(fd);
	set_connected(g, 0);
	return NULL;
}

/* ---- life cycle ---- */

vt_graphite *vt_graphite_create(const struct vt_graphite_config *cfg,
    char *err, size_t errlen)
{
	vt_graphite *g = vt_xcalloc(1, sizeof *g);
	int port;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	vt_buf_init(&g->text);
	g->max_buffer = cfg->max_buffer ? cfg->max_buffer : 1;
	vt_queue_init(&g->q, 0, g->max_buffer, VT_QUEUE_KEEP);
	snprintf(g->prefix, sizeof g->prefix, "%s",
	    cfg->names.prefix ? cfg->names.prefix : "");
	g->names.prefix = g->prefix;
	g->names.tags = cfg->names.tags;
	g->timeout = cfg->timeout > 0 ? cfg->timeout : 5;
	g->reconnect_min = cfg->reconnect_min > 0 ? cfg->reconnect_min : 0.25;
	g->reconnect_max = cfg->reconnect_max > g->reconnect_min ?
	    cfg->reconnect_max : g->reconnect_min;
	g->stats.max_buffer = g->max_buffer;
	g->last_ts = -1;
	if (vt_parse_addr_default(cfg->address, VT_GRAPHITE_DEFAULT_PORT,
	    g->host, sizeof g->host, &port) < 0) {
		snprintf(err, errlen, "graphite.address: expected host:port "
		    "or host");
		goto fail;
	}
	snprintf(g->port, sizeof g->port, "%d", port);
	int rc = pthread_create(&g->thread, NULL, sender_main, g);
	if (rc != 0) {
		snprintf(err, errlen, "graphite sender thread: %s",
		    strerror(rc));
		goto fail;
	}
	g->started = 1;
	pthread_setname_np(g->thread, "vitals-graphite");
	vt_log_info(LOG_SUB, "sending every window to carbon at %s:%s "
	    "(prefix \"%s\", tags %s, buffer %zu bytes)", g->host, g->port,
	    g->prefix, g->names.tags == VT_GRAPHITE_TAGS_PATH ? "in the path" :
	    "as Graphite tags", g->max_buffer);
	return g;
fail:
	vt_graphite_destroy(g);
	return NULL;
}

struct vt_sink vt_graphite_sink(vt_graphite *g)
{
	struct vt_sink s = {
		.name = "graphite",
		.ctx = g,
		.flush = vt_graphite_flush,
	};
	return s;
}

void vt_graphite_hold(vt_graphite *g, int hold)
{
	vt_queue_hold(&g->q, hold);
}

int vt_graphite_stop(vt_graphite *g, double timeout)
{
	if (g == NULL || !g->started)
		return 0;
	if (g->stopped)
		return g->stop_rc;
	pthread_mutex_lock(&g->lock);
	g->deadline = vt_clock_mono() + (timeout > 0 ? timeout : 0.001);
	pthread_mutex_unlock(&g->lock);
	vt_queue_close(&g->q);       /* the sender takes what is left */
	while (vt_queue_size(&g->q) > 0 && left(g) > 0) {
		struct timespec ts = { 0, 5000000L };
		nanosleep(&ts, NULL);
	}
	/* Past the deadline: no more naps between attempts. */
	pthread_mutex_lock(&g->lock);
	g->stopping = 1;
	pthread_cond_broadcast(&g->wake);
	pthread_mutex_unlock(&g->lock);
	vt_queue_wait_idle(&g->q);
	pthread_mutex_lock(&g->lock);
	uint64_t lost = g->stats.dropped[VT_GRAPHITE_DROP_SHUTDOWN];
	pthread_mutex_unlock(&g->lock);
	if (lost > 0)
		vt_log_warn(LOG_SUB, "shutdown: %llu lines not sent to carbon "
		    "within shutdown_timeout", (unsigned long long)lost);
	g->stopped = 1;
	g->stop_rc = lost > 0 ? -ETIMEDOUT : 0;
	return g->stop_rc;
}

void vt_graphite_destroy(vt_graphite *g)
{
	if (g == NULL)
		return;
	if (g->started) {
		vt_graphite_stop(g, 0);
		pthread_join(g->thread, NULL);
	}
	struct vt_queue_node *n = vt_queue_take(&g->q, 0);
	while (n) {          /* only when the thread never started */
		struct chunk *c = VT_QUEUE_ITEM(n, struct chunk, node);
		n = n->next;
		chunk_free(c);
	}
	vt_buf_fini(&g->text);
	vt_queue_fini(&g->q);
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* ---- counters ---- */

void vt_graphite_get_stats(vt_graphite *g, struct vt_graphite_stats *out)
{
	pthread_mutex_lock(&g->lock);
	*out = g->stats;
	pthread_mutex_unlock(&g->lock);
	out->buffered = vt_queue_size(&g->q);
}

static void put_u64(struct vt_buf *out, const char *name, enum vt_prom_type
    type, const char *help, uint64_t v, enum vt_prom_format fmt)
{
	vt_prom_text_head(out, name, strlen(name), type, help, fmt);
	vt_buf_printf(out, "%s%s ", name, type == VT_PROM_COUNTER ? "_total" :
	    "");
	vt_prom_text_u64(out, v);
	vt_buf_putc(out, '\n');
}

void vt_graphite_collect(void *ctx, struct vt_buf *out,
    enum vt_prom_format fmt)
{
	static const char *const reasons[VT_GRAPHITE_DROP_COUNT] = {
		[VT_GRAPHITE_DROP_BUFFER_FULL] = "buffer_full",
		[VT_GRAPHITE_DROP_SHUTDOWN] = "shutdown",
		[VT_GRAPHITE_DROP_TOO_LONG] = "too_long",
	};
	struct vt_graphite_stats s;
	vt_graphite_get_stats(ctx, &s);
	put_u64(out, "vitals_graphite_buffer_bytes", VT_PROM_GAUGE,
	    "Bytes of Graphite lines queued for carbon or being sent.",
	    s.buffered, fmt);
	put_u64(out, "vitals_graphite_buffer_limit_bytes", VT_PROM_GAUGE,
	    "Most bytes the Graphite buffer holds (graphite.max_buffer).",
	    s.max_buffer, fmt);
	put_u64(out, "vitals_graphite_connected", VT_PROM_GAUGE,
	    "1 while connected to carbon, else 0.", (uint64_t)s.connected,
	    fmt);
	put_u64(out, "vitals_graphite_connections", VT_PROM_COUNTER,
	    "Connections made to carbon.", s.connects, fmt);
	vt_prom_text_head(out, "vitals_graphite_dropped",
	    strlen("vitals_graphite_dropped"), VT_PROM_COUNTER,
	    "Graphite lines not sent, by reason: buffer_full (the window did "
	    "not fit in graphite.max_buffer: carbon away or slow), shutdown "
	    "(still unsent when shutdown_timeout ran out), too_long (a line "
	    "over 4096 bytes, from a name with many long tags).", fmt);
	for (int i = 0; i < VT_GRAPHITE_DROP_COUNT; i++) {
		vt_buf_printf(out, "vitals_graphite_dropped_total{reason=\"%s\"} ",
		    reasons[i]);
		vt_prom_text_u64(out, s.dropped[i]);
		vt_buf_putc(out, '\n');
	}
	put_u64(out, "vitals_graphite_errors", VT_PROM_COUNTER,
	    "Failed connection attempts and writes to carbon.", s.errors, fmt);
	vt_prom_text_head(out, "vitals_graphite_last_window_timestamp_seconds",
	    strlen("vitals_graphite_last_window_timestamp_seconds"),
	    VT_PROM_GAUGE, "Timestamp of the last window sent to carbon.", fmt);
	vt_buf_puts(out, "vitals_graphite_last_window_timestamp_seconds ");
	vt_prom_text_value(out, s.last_window);
	vt_buf_putc(out, '\n');
	put_u64(out, "vitals_graphite_sent_bytes", VT_PROM_COUNTER,
	    "Bytes of Graphite lines written to carbon.", s.sent_bytes, fmt);
	put_u64(out, "vitals_graphite_sent", VT_PROM_COUNTER,
	    "Graphite lines written to carbon (one value each).",
	    s.sent_lines, fmt);
	put_u64(out, "vitals_graphite_windows", VT_PROM_COUNTER,
	    "Windows written to carbon whole.", s.windows, fmt);
}
