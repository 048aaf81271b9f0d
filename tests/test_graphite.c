/*
 * test_graphite.c - the Graphite sink: path components and dotted names
 * from hostile bytes, every line of a window in both tag styles, addresses
 * with and without a port, and the sender over real loopback sockets: what
 * a listener receives, a reconnect after the peer closed, the bounded
 * buffer (refused windows counted) and the bounded stop.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/agg/flush.h"
#include "collector/base/buf.h"
#include "collector/base/parse.h"
#include "exporters/graphite/graphite.h"
#include "suites.h"

/* ---- names ------------------------------------------------------------ */

static const struct {
	const char *in;
	size_t len;          /* 0: strlen */
	const char *out;
} components[] = {
	{ "requests", 0, "requests" },
	{ "Get-200_ok", 0, "Get-200_ok" },
	{ "a b\tc", 0, "a_b_c" },
	{ "/pay/now", 0, "-pay-now" },
	{ "a.b", 0, "a_b" },                  /* a service's dot is no level */
	{ "k;x=y", 0, "k_x_y" },              /* no Graphite tag from a name */
	{ "~v", 0, "_v" },
	{ "line\nbreak\r", 0, "line_break_" },
	{ "caf\xc3\xa9", 0, "caf__" },
	{ "", 0, "_" },
	{ "..", 0, "__" },                    /* never a parent directory */
	{ "nul\0in", 7, "nul_in" },
};

START_TEST(component_keeps_a_safe_alphabet)
{
	struct vt_buf b;
	vt_buf_init(&b);
	size_t len = components[_i].len ? components[_i].len - 1 :
	    strlen(components[_i].in);
	vt_graphite_component(&b, components[_i].in, len);
	ck_assert_str_eq(b.data, components[_i].out);
	vt_buf_fini(&b);
}
END_TEST

START_TEST(component_is_cut_at_its_bound)
{
	char name[VT_GRAPHITE_COMPONENT_MAX * 2];
	memset(name, 'x', sizeof name);
	struct vt_buf b;
	vt_buf_init(&b);
	vt_graphite_component(&b, name, sizeof name);
	ck_assert_uint_eq(b.len, VT_GRAPHITE_COMPONENT_MAX);
	vt_buf_fini(&b);
}
END_TEST

static const struct {
	const char *in, *out;
} dotted[] = {
	{ "http.get", "http.get" },
	{ ".a..b.", "a.b" },
	{ "...", "_" },
	{ "", "_" },
	{ "a b.c/d.e;f", "a_b.c-d.e_f" },
	{ "stats.dc-1", "stats.dc-1" },
};

START_TEST(dotted_names_keep_their_levels)
{
	struct vt_buf b;
	vt_buf_init(&b);
	vt_graphite_dotted(&b, dotted[_i].in);
	ck_assert_str_eq(b.data, dotted[_i].out);
	vt_buf_fini(&b);
}
END_TEST

static const struct {
	const char *in;
	int rc, port;
	const char *host;
} addrs[] = {
	{ "carbon", 0, 2003, "carbon" },
	{ "carbon:2103", 0, 2103, "carbon" },
	{ "10.0.0.7:2003", 0, 2003, "10.0.0.7" },
	{ "[::1]", 0, 2003, "::1" },
	{ "[::1]:2004", 0, 2004, "::1" },
	{ "", -1, 0, NULL },
	{ ":2003", -1, 0, NULL },
	{ "carbon:", -1, 0, NULL },
	{ "carbon:99999", -1, 0, NULL },
	{ "car bon", -1, 0, NULL },
	{ "::1", -1, 0, NULL },
	{ "carbon:2003\n", -1, 0, NULL },
};

START_TEST(addresses_take_a_default_port)
{
	char host[VT_ADDR_LEN] = "";
	int port = -1;
	int rc = vt_parse_addr_default(addrs[_i].in, VT_GRAPHITE_DEFAULT_PORT,
	    host, sizeof host, &port);
	ck_assert_int_eq(rc, addrs[_i].rc);
	if (rc == 0) {
		ck_assert_str_eq(host, addrs[_i].host);
		ck_assert_int_eq(port, addrs[_i].port);
	}
}
END_TEST

/* ---- windows ------------------------------------------------------------ */

static struct vt_series *series(enum vt_kind kind, const char *service,
    const char *metric, size_t nlabels, const char *const *kv)
{
	struct vt_slice svc = { service, strlen(service) };
	struct vt_slice met = { metric, strlen(metric) };
	struct vt_slice keys[16], vals[16];
	for (size_t i = 0; i < nlabels; i++) {
		keys[i] = (struct vt_slice){ kv[2 * i], strlen(kv[2 * i]) };
		vals[i] = (struct vt_slice){ kv[2 * i + 1],
		    strlen(kv[2 * i + 1]) };
	}
	return vt_series_create(kind, svc, met, met, 1, keys, vals, nlabels);
}

/* One window with each kind: a tagged counter, a gauge, a timer with
 * percentiles 50 and 99.9, a set, an empty timer and a hostile name. */
static struct vt_flush *sample_window(void)
{
	static const char *const tags[] = { "route", "/pay", "name", "x y",
	    "canary", "" };
	struct vt_flush *f = vt_flush_create(6, 6, 2);
	f->timestamp = 1700000000.75;
	f->interval = 10;
	f->percentiles[0] = 50;
	f->percentiles[1] = 99.9;
	struct vt_metric_window *w;

	w = &f->metrics[f->nmetrics++];
	w->series = series(VT_COUNTER, "api", "http.requests", 3, tags);
	w->samples = 3;
	w->count = 30;
	w->rate = 3;

	w = &f->metrics[f->nmetrics++];
	w->series = series(VT_GAUGE, "api", "queue", 0, NULL);
	w->samples = 1;
	w->value = -0.5;

	w = &f->metrics[f->nmetrics++];
	w->series = series(VT_TIMER, "api", "http.get", 0, NULL);
	w->samples = 4;
	w->count = 4;
	w->rate = 0.4;
	struct vt_timer_window *tw = vt_flush_add_timer(f, w);
	tw->sum = 100;
	tw->mean = 25;
	tw->min = 10;
	tw->max = 40;
	tw->stddev = 11.25;
	double *q = f->quantile_store;
	q[0] = 20;
	q[1] = 40;
	tw->quantiles = q;

	w = &f->metrics[f->nmetrics++];
	w->series = series(VT_SET, "api", "users", 0, NULL);
	w->samples = 7;
	w->value = 5;

	w = &f->metrics[f->nmetrics++];
	w->series = series(VT_HISTOGRAM, "api", "idle", 0, NULL);
	w->samples = 0;
	tw = vt_flush_add_timer(f, w);
	tw->min = tw->max = tw->mean = tw->stddev = NAN;
	q = f->quantile_store + 8;
	q[0] = q[1] = NAN;
	tw->quantiles = q;

	w = &f->metrics[f->nmetrics++];
	w->series = series(VT_GAUGE, "bad svc.x", "a..b c\n.;=", 0, NULL);
	w->samples = 1;
	w->value = INFINITY;   /* never sent */
	return f;
}

static const char graphite_tags[] =
    "stats.counters.api.http.requests.count;canary=true;name_=x_y;"
    "route=-pay 30 1700000000\n"
    "stats.counters.api.http.requests.rate;canary=true;name_=x_y;"
    "route=-pay 3 1700000000\n"
    "stats.gauges.api.queue -0.5 1700000000\n"
    "stats.timers.api.http.get.count 4 1700000000\n"
    "stats.timers.api.http.get.count_ps 0.4 1700000000\n"
    "stats.timers.api.http.get.sum 100 1700000000\n"
    "stats.timers.api.http.get.mean 25 1700000000\n"
    "stats.timers.api.http.get.lower 10 1700000000\n"
    "stats.timers.api.http.get.upper 40 1700000000\n"
    "stats.timers.api.http.get.std 11.25 1700000000\n"
    "stats.timers.api.http.get.median 20 1700000000\n"
    "stats.timers.api.http.get.upper_50 20 1700000000\n"
    "stats.timers.api.http.get.upper_99_9 40 1700000000\n"
    "stats.sets.api.users.count 5 1700000000\n"
    "stats.timers.api.idle.count 0 1700000000\n"
    "stats.timers.api.idle.count_ps 0 1700000000\n";

START_TEST(window_as_graphite_tags)
{
	struct vt_flush *f = sample_window();
	struct vt_graphite_names n = { "stats", VT_GRAPHITE_TAGS_GRAPHITE };
	struct vt_buf b;
	vt_buf_init(&b);
	size_t lines = vt_graphite_format(&b, &n, f, 1700000000, NULL);
	ck_assert_str_eq(b.data, graphite_tags);
	ck_assert_uint_eq(lines, 16);
	vt_buf_fini(&b);
	vt_flush_release(f);
}
END_TEST

START_TEST(window_with_tags_in_the_path)
{
	struct vt_flush *f = sample_window();
	struct vt_graphite_names n = { "dc1.vitals", VT_GRAPHITE_TAGS_PATH };
	struct vt_buf b;
	vt_buf_init(&b);
	vt_graphite_format(&b, &n, f, 1700000000, NULL);
	const char *first = "dc1.vitals.counters.api.http.requests.canary.true."
	    "name.x_y.route.-pay.count 30 1700000000\n"
	    "dc1.vitals.counters.api.http.requests.canary.true."
	    "name.x_y.route.-pay.rate 3 1700000000\n"
	    "dc1.vitals.gauges.api.queue -0.5 1700000000\n";
	ck_assert_int_eq(strncmp(b.data, first, strlen(first)), 0);
	ck_assert_ptr_null(strchr(b.data, ';'));
	vt_buf_fini(&b);
	vt_flush_release(f);
}
END_TEST

/* Whatever the names, every line is "path value time" with a path of
 * non-empty components of the safe alphabet. */
START_TEST(every_line_has_three_fields)
{
	struct vt_flush *f = vt_flush_create(1, 0, 0);
	f->timestamp = 1;
	struct vt_metric_window *w = &f->metrics[f->nmetrics++];
	static const char *const tags[] = { " ;=", "\x01~v;w", ".", "" };
	w->series = series(VT_GAUGE, "\t", "..\x7f.. ./..", 2, tags);
	w->samples = 1;
	w->value = 1;
	for (int mode = 0; mode < 2; mode++) {
		struct vt_graphite_names n = { "", (enum vt_graphite_tags)mode };
		struct vt_buf b;
		vt_buf_init(&b);
		ck_assert_uint_eq(vt_graphite_format(&b, &n, f, 1, NULL), 1);
		ck_assert_uint_eq(b.data[b.len - 1], '\n');
		ck_assert_ptr_eq(strchr(b.data, '\n'), b.data + b.len - 1);
		char *sp = strchr(b.data, ' ');
		ck_assert_ptr_nonnull(sp);
		ck_assert_str_eq(sp, " 1 1\n");
		*sp = '\0';
		ck_assert_ptr_null(strstr(b.data, ".."));
		ck_assert_int_ne(b.data[0], '.');
		for (const char *p = b.data; *p; p++)
			ck_assert_msg(strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.;=", *p),
			    "byte 0x%02x in %s", (unsigned char)*p, b.data);
		vt_buf_fini(&b);
	}
	vt_flush_release(f);
}
END_TEST

/* A series whose tags make a line longer than carbon takes is left out
 * and counted; the rest of the window is sent. */
START_TEST(overlong_lines_are_left_out_and_counted)
{
	static char keys[12][VT_GRAPHITE_COMPONENT_MAX + 1];
	static char vals[12][VT_GRAPHITE_COMPONENT_MAX + 1];
	const char *kv[24];
	for (size_t i = 0; i < 12; i++) {
		memset(keys[i], 'k', VT_GRAPHITE_COMPONENT_MAX);
		keys[i][0] = (char)('a' + i);
		memset(vals[i], 'v', VT_GRAPHITE_COMPONENT_MAX);
		kv[2 * i] = keys[i];
		kv[2 * i + 1] = vals[i];
	}
	struct vt_flush *f = vt_flush_create(2, 0, 0);
	f->timestamp = 1;
	/* 4 tags of 2 x 200 bytes: a line of about 1.6 KB, sent */
	struct vt_metric_window *w = &f->metrics[f->nmetrics++];
	w->series = series(VT_GAUGE, "svc", "m", 4, kv);
	w->samples = 1;
	w->value = 1;
	/* 12 of them: about 4.8 KB a line, left out */
	w = &f->metrics[f->nmetrics++];
	w->series = series(VT_COUNTER, "svc", "c", 12, kv);
	w->samples = 1;
	w->count = 1;
	for (int mode = 0; mode < 2; mode++) {
		struct vt_graphite_names n = { "stats",
		    (enum vt_graphite_tags)mode };
		struct vt_buf b;
		vt_buf_init(&b);
		size_t too_long = 0;
		ck_assert_uint_eq(vt_graphite_format(&b, &n, f, 1, &too_long),
		    1);
		ck_assert_uint_eq(too_long, 2);         /* count and rate */
		ck_assert_int_eq(strncmp(b.data, "stats.gauges.svc.m", 18), 0);
		ck_assert_uint_gt(b.len, 1600);
		ck_assert_uint_le(b.len, VT_GRAPHITE_LINE_MAX);
		ck_assert_ptr_eq(strchr(b.data, '\n'), b.data + b.len - 1);
		vt_buf_fini(&b);
	}
	vt_flush_release(f);
}
END_TEST

/* ---- the sender over real sockets ------------------------------------- */

/* A listening loopback socket; *port set. */
static int listener(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A loopback port nothing listens on (bound, never listening). */
static int dead_port(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static vt_graphite *sender(int port, size_t max_buffer)
{
	char addr[64], err[256];
	snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
	struct vt_graphite_config cfg = {
		.address = addr,
		.names = { "stats", VT_GRAPHITE_TAGS_GRAPHITE },
		.max_buffer = max_buffer,
		.timeout = 2,
		.reconnect_min = 0.01,
		.reconnect_max = 0.05,
	};
	vt_graphite *g = vt_graphite_create(&cfg, err, sizeof err);
	ck_assert_msg(g != NULL, "%s", err);
	return g;
}

/* A window of one gauge named metric with value v at time ts. */
static void flush_gauge(vt_graphite *g, const char *metric, double v,
    double ts)
{
	struct vt_flush *f = vt_flush_create(1, 0, 0);
	f->timestamp = ts;
	struct vt_metric_window *w = &f->metrics[f->nmetrics++];
	w->series = series(VT_GAUGE, "svc", metric, 0, NULL);
	w->samples = 1;
	w->value = v;
	ck_assert_int_eq(vt_graphite_flush(g, f), 0);
	vt_flush_release(f);
}

/* Read from fd until want bytes arrived (or 10 s of silence). */
static void read_exactly(int fd, struct vt_buf *b, size_t want)
{
	char chunk[4096];
	while (b->len < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		ssize_t n = read(fd, chunk, sizeof chunk);
		ck_assert_int_gt(n, 0);
		vt_buf_append(b, chunk, (size_t)n);
	}
}

START_TEST(sender_delivers_in_order_and_reconnects)
{
	int port, lfd = listener(&port);
	vt_graphite *g = sender(port, 1 << 20);
	flush_gauge(g, "a", 1, 100.2);
	flush_gauge(g, "b", 2, 100.9);     /* same second: one later */
	flush_gauge(g, "c", 3, 99);        /* earlier: after the last */
	const char *want = "stats.gauges.svc.a 1 100\n"
	    "stats.gauges.svc.b 2 101\n"
	    "stats.gauges.svc.c 3 102\n";
	int c = accept(lfd, NULL, NULL);
	ck_assert_int_ge(c, 0);
	struct vt_buf b;
	vt_buf_init(&b);
	read_exactly(c, &b, strlen(want));
	ck_assert_str_eq(b.data, want);

	/* carbon restarts: the sender notices and connects again */
	close(c);
	flush_gauge(g, "d", 4, 200);
	c = accept(lfd, NULL, NULL);
	ck_assert_int_ge(c, 0);
	vt_buf_reset(&b);
	read_exactly(c, &b, strlen("stats.gauges.svc.d 4 200\n"));
	ck_assert_str_eq(b.data, "stats.gauges.svc.d 4 200\n");

	ck_assert_int_eq(vt_graphite_stop(g, 5), 0);
	struct vt_graphite_stats s;
	vt_graphite_get_stats(g, &s);
	ck_assert_uint_eq(s.sent_lines, 4);
	ck_assert_uint_eq(s.windows, 4);
	ck_assert_uint_ge(s.connects, 2);
	ck_assert_uint_eq(s.dropped[VT_GRAPHITE_DROP_BUFFER_FULL], 0);
	ck_assert_double_eq(s.last_window, 200);
	vt_graphite_destroy(g);
	vt_buf_fini(&b);
	close(c);
	close(lfd);
}
END_TEST

/* "stats.gauges.svc.a 1 100\n" is 25 bytes: a 60-byte buffer holds two
 * such windows; the third is refused and counted, whatever the sender
 * does (held, it takes nothing). */
START_TEST(buffer_is_bounded_and_drops_are_counted)
{
	int port, dfd = dead_port(&port);
	vt_graphite *g = sender(port, 60);
	vt_graphite_hold(g, 1);
	flush_gauge(g, "a", 1, 100);
	flush_gauge(g, "b", 2, 101);
	flush_gauge(g, "c", 3, 102);
	flush_gauge(g, "d", 4, 103);
	struct vt_graphite_stats s;
	vt_graphite_get_stats(g, &s);
	ck_assert_uint_eq(s.buffered, 50);
	ck_assert_uint_eq(s.max_buffer, 60);
	ck_assert_uint_eq(s.dropped[VT_GRAPHITE_DROP_BUFFER_FULL], 2);

	struct vt_buf b;
	vt_buf_init(&b);
	vt_graphite_collect(g, &b, VT_PROM_TEXT);
	ck_assert_ptr_nonnull(strstr(b.data, "vitals_graphite_dropped_total"
	    "{reason=\"buffer_full\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "vitals_graphite_buffer_bytes 50\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "vitals_graphite_connected 0\n"));
	vt_buf_fini(&b);

	/* carbon never comes: the stop gives up at its bound and counts
	 * what it could not send */
	vt_graphite_hold(g, 0);
	ck_assert_int_eq(vt_graphite_stop(g, 0.3), -ETIMEDOUT);
	vt_graphite_get_stats(g, &s);
	ck_assert_uint_eq(s.dropped[VT_GRAPHITE_DROP_SHUTDOWN], 2);
	ck_assert_uint_eq(s.sent_lines, 0);
	ck_assert_uint_eq(s.buffered, 0);
	ck_assert_uint_ge(s.errors, 1);
	vt_graphite_destroy(g);
	close(dfd);
}
END_TEST

/* A window larger than the whole buffer can never be sent: refused. */
START_TEST(window_larger_than_the_buffer_is_dropped)
{
	int port, dfd = dead_port(&port);
	vt_graphite *g = sender(port, 10);
	vt_graphite_hold(g, 1);
	flush_gauge(g, "a", 1, 100);
	struct vt_graphite_stats s;
	vt_graphite_get_stats(g, &s);
	ck_assert_uint_eq(s.buffered, 0);
	ck_assert_uint_eq(s.dropped[VT_GRAPHITE_DROP_BUFFER_FULL], 1);
	vt_graphite_destroy(g);
	close(dfd);
}
END_TEST

Suite *vt_test_graphite_suite(void)
{
	Suite *s = suite_create("graphite");
	TCase *tc = tcase_create("names");
	tcase_add_loop_test(tc, component_keeps_a_safe_alphabet, 0,
	    sizeof components / sizeof components[0]);
	tcase_add_test(tc, component_is_cut_at_its_bound);
	tcase_add_loop_test(tc, dotted_names_keep_their_levels, 0,
	    sizeof dotted / sizeof dotted[0]);
	tcase_add_loop_test(tc, addresses_take_a_default_port, 0,
	    sizeof addrs / sizeof addrs[0]);
	tcase_add_test(tc, window_as_graphite_tags);
	tcase_add_test(tc, window_with_tags_in_the_path);
	tcase_add_test(tc, every_line_has_three_fields);
	tcase_add_test(tc, overlong_lines_are_left_out_and_counted);
	suite_add_tcase(s, tc);
	tc = tcase_create("sender");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sender_delivers_in_order_and_reconnects);
	tcase_add_test(tc, buffer_is_bounded_and_drops_are_counted);
	tcase_add_test(tc, window_larger_than_the_buffer_is_dropped);
	suite_add_tcase(s, tc);
	return s;
}
