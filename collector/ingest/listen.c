/*
 * listen.c - statsd over UDP and TCP (listen.h).
 *
 * UDP: recvmmsg into BATCH buffers of VT_LINE_MAX bytes (pages are touched
 * only as far as datagrams reach; staggered so they do not share cache
 * sets), a receive buffer forced as large as the
 * config asks, MSG_TRUNC counted, and the socket's running count of
 * kernel drops (SO_MEMINFO) copied into the self stats after every round
 * of reads: once per poll, where a per-datagram SO_RXQ_OVFL control
 * message cost kernel time on every datagram.
 *
 * Interrupt moderation: waking up for every datagram costs more than the
 * datagram (on a VM, about 10 us per wake-up). So after a wake-up the
 * socket's readiness is switched off and a timer polls it while traffic
 * keeps coming; the first poll that finds the socket empty switches
 * readiness back on. The timer runs every UDP_POLL_NS under heavy traffic
 * and every light interval when a poll found fewer than
 * UDP_BUSY_DATAGRAMS: light traffic then costs a wake-up per few thousand
 * lines instead of per few. Each wake-up after a sleep pays for caches,
 * TLB and predictors the VM lost meanwhile, so fewer, longer polls cost
 * less per line (scenario c: about a fifth less at 64 ms than at 20 ms).
 * The light interval is as long as half the receive buffer would last if
 * traffic jumped to 8 million lines/s, which fills about
 * UDP_JUMP_BYTES_PER_S of buffer (10 MB in 20 ms): 67 ms with the
 * default 64 MB, between UDP_POLL_NS and UDP_POLL_LIGHT_MAX_NS. This adds
 * that much latency (nothing, for 10 s windows; the first datagram after
 * a quiet spell is read at once; SIGTERM drains the socket). Moderation
 * needs a receive buffer that holds a poll period of traffic, so it is
 * used only when the kernel granted at least UDP_POLL_MIN_RCVBUF.
 *
 * TCP: each client has a line buffer that grows to VT_LINE_MAX; a longer
 * line is discarded up to its newline and counted. Clients past
 * tcp_max_clients are refused (accepted and closed at once, counted), idle
 * ones are closed by vt_listen_expire_idle (counted). So a client costs at
 * most one fd and VT_LINE_MAX bytes of buffer, whatever it sends.
 *
 * Out of file descriptors (EMFILE/ENFILE), accept() fails and leaves the
 * connection queued, so the level-triggered listening socket would wake
 * the loop at once, forever. A spare descriptor is kept for that moment:
 * closed to make room, the pending connection accepted and closed
 * (counted as refused), the spare reopened.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "collector/base/clock.h"
#include "collector/base/netaddr.h"
#include "collector/base/xmalloc.h"
#include "collector/ingest/listen.h"

#define BATCH 32
/* Slots start 25 cache lines apart beyond VT_LINE_MAX: at an exact 64 KiB
 * stride every datagram's first bytes map to the same L1 and L2 cache
 * sets, so a batch of 32 evicted itself before it was parsed. */
#define UDP_SLOT_STRIDE (VT_LINE_MAX + 25 * 64)
#define UDP_READS_PER_EVENT 16
#define UDP_POLL_NS 4000000L            /* 4 ms */
#define UDP_POLL_LIGHT_MAX_NS 100000000L /* 100 ms */
#define UDP_JUMP_BYTES_PER_S 500000000.0  /* 8M lines/s, in receive buffer */
#define UDP_BUSY_DATAGRAMS 256          /* per poll: heavy traffic */
#define UDP_POLL_MIN_RCVBUF (4 << 20)
#define UDP_MAX_PER_POLL 4096           /* datagrams, then serve others */
#define TCP_INITIAL_BUFFER 4096
#define TCP_BACKLOG 512

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

struct tcp_client {
	int fd;
	char *buf;
	size_t len, cap;
	int discarding;              /* inside a line longer than VT_LINE_MAX */
	double last_active;
	struct sockaddr_storage peer;
	struct tcp_client *prev, *next;
	vt_listen *owner;
};

struct vt_listen {
	struct vt_listen_config cfg;
	vt_loop *loop;               /* borrowed */
	vt_ingest *ingest;           /* borrowed */
	struct vt_selfstats *stats;  /* borrowed */
	int udp_fd, tcp_fd;
	int spare_fd;                /* /dev/null, given up on EMFILE */
	int udp_timer_fd;            /* moderation timer, -1 when not used */
	long udp_light_ns;           /* poll period under light traffic */
	/* UDP batch */
	char *udp_bufs;              /* BATCH * UDP_SLOT_STRIDE */
	struct mmsghdr msgs[BATCH];
	struct iovec iovs[BATCH];
	struct sockaddr_storage peers[BATCH];
	/* TCP clients */
	struct tcp_client *clients;
	size_t nclients;
};

/* ---- UDP -------------------------------------------------------------- */

static void udp_prepare(vt_listen *l)
{
	for (int i = 0; i < BATCH; i++) {
		l->iovs[i].iov_base = l->udp_bufs + (size_t)i * UDP_SLOT_STRIDE;
		l->iovs[i].iov_len = VT_LINE_MAX;
		struct msghdr *h = &l->msgs[i].msg_hdr;
		h->msg_name = &l->peers[i];
		h->msg_namelen = sizeof l->peers[i];
		h->msg_iov = &l->iovs[i];
		h->msg_iovlen = 1;
		h->msg_control = NULL;
		h->msg_controllen = 0;
		h->msg_flags = 0;
	}
}

/* The kernel's count of datagrams dropped on this socket (a full receive
 * buffer), as SO_MEMINFO reports it. */
static void udp_note_drops(vt_listen *l)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof mem;
	if (getsockopt(l->udp_fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
	    len > SK_MEMINFO_DROPS * sizeof mem[0])
		l->stats->udp_kernel_drops = mem[SK_MEMINFO_DROPS];
}

/* One recvmmsg batch. Returns datagrams read (0 when the socket is dry). */
static int udp_read_batch(vt_listen *l)
{
	udp_prepare(l);
	int n = recvmmsg(l->udp_fd, l->msgs, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &l->msgs[i].msg_hdr;
		size_t len = l->msgs[i].msg_len;
		if (h->msg_flags & MSG_TRUNC) {
			l->stats->udp_truncated++;
			len = VT_LINE_MAX;
		}
		l->stats->udp_packets++;
		l->stats->udp_bytes += len;
		vt_ingest_datagram_held(l->ingest, l->iovs[i].iov_base, len,
		    (const struct sockaddr *)&l->peers[i]);
	}
	vt_ingest_apply_held(l->ingest);   /* before recvmmsg reuses the slots */
	return n;
}

/* Read up to max datagrams. Returns how many; *dry tells whether the
 * socket ran empty. */
static int udp_read_up_to(vt_listen *l, int max, int *dry)
{
	int total = 0;
	*dry = 0;
	while (total < max) {
		int n = udp_read_batch(l);
		total += n;
		if (n < BATCH) {
			*dry = 1;
			break;
		}
	}
	udp_note_drops(l);
	return total;
}

static void udp_arm_poll(vt_listen *l, long ns)
{
	struct itimerspec its = { .it_value = { 0, ns } };
	timerfd_settime(l->udp_timer_fd, 0, &its, NULL);
}

static void udp_on_readable(void *ctx, int fd, uint32_t events)
{
	vt_listen *l = ctx;
	int dry;
	(void)events;
	udp_read_up_to(l, UDP_READS_PER_EVENT * BATCH, &dry);
	if (l->udp_timer_fd >= 0) {
		/* Traffic: poll on the timer until it stops. */
		vt_loop_mod_fd(l->loop, fd, 0);
		udp_arm_poll(l, dry ? UDP_POLL_NS : 1000);
	}
}

static void udp_on_poll(void *ctx, int fd, uint32_t events)
{
	vt_listen *l = ctx;
	uint64_t expirations;
	int dry;
	(void)events;
	if (read(fd, &expirations, sizeof expirations) < 0)
		return;
	int n = udp_read_up_to(l, UDP_MAX_PER_POLL, &dry);
	if (!dry)
		udp_arm_poll(l, 1000);          /* more waiting: soon */
	else if (n > 0)                     /* traffic goes on */
		udp_arm_poll(l, n >= UDP_BUSY_DATAGRAMS ? UDP_POLL_NS :
		    l->udp_light_ns);
	else
		vt_loop_mod_fd(l->loop, l->udp_fd, EPOLLIN);  /* quiet again */
}

/* Use the moderation timer when the receive buffer can hold a poll
 * period of traffic. */
static void udp_setup_moderation(vt_listen *l)
{
	int granted = 0;
	socklen_t len = sizeof granted;
	if (getsockopt(l->udp_fd, SOL_SOCKET, SO_RCVBUF, &granted, &len) < 0 ||
	    granted < UDP_POLL_MIN_RCVBUF)
		return;
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0)
		return;
	if (vt_loop_add_fd(l->loop, tfd, EPOLLIN, udp_on_poll, l) < 0) {
		close(tfd);
		return;
	}
	l->udp_timer_fd = tfd;
	double half_fill_ns = granted / (2 * UDP_JUMP_BYTES_PER_S) * 1e9;
	l->udp_light_ns = half_fill_ns > UDP_POLL_LIGHT_MAX_NS ?
	    UDP_POLL_LIGHT_MAX_NS : half_fill_ns < UDP_POLL_NS ? UDP_POLL_NS :
	    (long)half_fill_ns;
}

static int udp_open(vt_listen *l, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (vt_netaddr_resolve(l->cfg.addr, SOCK_DGRAM, &ss, &sslen, err,
	    errlen) < 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		goto fail;
	/* No SO_REUSEADDR: on UDP it would let a second process bind the
	 * same port and silently take half the datagrams. */
	int size = (int)l->cfg.udp_receive_buffer;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0)
		goto fail;
	l->udp_fd = fd;
	l->udp_bufs = vt_xmalloc((size_t)BATCH * UDP_SLOT_STRIDE);
	int rc = vt_loop_add_fd(l->loop, fd, EPOLLIN, udp_on_readable, l);
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	udp_setup_moderation(l);
	return 0;
fail:
	snprintf(err, errlen, "statsd udp %s: %s", l->cfg.addr, strerror(errno));
	return -1;
}

/* ---- TCP -------------------------------------------------------------- */

static void tcp_client_close(struct tcp_client *c)
{
	vt_listen *l = c->owner;
	vt_loop_del_fd(l->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->nclients--;
	l->stats->tcp_open = l->nclients;
	free(c->buf);
	free(c);
}

/* Apply every complete line in the buffer; keep the partial tail. */
static void tcp_consume(struct tcp_client *c, int at_eof)
{
	vt_listen *l = c->owner;
	const struct sockaddr *peer = (const struct sockaddr *)&c->peer;
	size_t start = 0;
	for (;;) {
		char *nl = memchr(c->buf + start, '\n', c->len - start);
		if (nl == NULL)
			break;
		size_t end = (size_t)(nl - c->buf);
		if (c->discarding)
			c->discarding = 0;
		else
			vt_ingest_line(l->ingest, c->buf + start, end - start,
			    peer);
		start = end + 1;
	}
	if (at_eof && start < c->len && !c->discarding) {
		vt_ingest_line(l->ingest, c->buf + start, c->len - start, peer);
		start = c->len;
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	if (c->len == VT_LINE_MAX || (c->discarding && c->len > 0)) {
		/* A line longer than we accept: drop it up to its newline. */
		if (!c->discarding)
			l->stats->tcp_lines_too_long++;
		c->discarding = 1;
		c->len = 0;
	}
}

static void tcp_on_client(void *ctx, int fd, uint32_t events)
{
	struct tcp_client *c = ctx;
	(void)events;
	for (;;) {
		if (c->len == c->cap) {
			size_t cap = c->cap * 2;
			c->cap = cap > VT_LINE_MAX ? VT_LINE_MAX : cap;
			c->buf = vt_xrealloc(c->buf, c->cap);
		}
		ssize_t n = recv(fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			c->owner->stats->tcp_bytes += (uint64_t)n;
			c->last_active = vt_clock_now();
			tcp_consume(c, 0);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		tcp_consume(c, 1);   /* EOF or error: last line, then close */
		tcp_client_close(c);
		return;
	}
}

static void tcp_on_accept(void *ctx, int fd, uint32_t events)
{
	vt_listen *l = ctx;
	(void)events;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		int cfd = accept4(fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    l->spare_fd >= 0) {
			close(l->spare_fd);
			cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
			if (cfd >= 0) {
				close(cfd);
				l->stats->tcp_refused++;
			}
			l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (cfd >= 0)
				continue;
		}
		if (cfd < 0)
			return;   /* EAGAIN (or no spare fd: next event) */
		if (l->nclients >= l->cfg.tcp_max_clients) {
			l->stats->tcp_refused++;
			close(cfd);
			continue;
		}
		struct tcp_client *c = vt_xcalloc(1, sizeof *c);
		c->fd = cfd;
		c->owner = l;
		c->peer = peer;
		c->cap = TCP_INITIAL_BUFFER;
		c->buf = vt_xmalloc(c->cap);
		c->last_active = vt_clock_now();
		if (vt_loop_add_fd(l->loop, cfd, EPOLLIN, tcp_on_client, c) < 0) {
			close(cfd);
			free(c->buf);
			free(c);
			continue;
		}
		c->next = l->clients;
		if (l->clients)
			l->clients->prev = c;
		l->clients = c;
		l->nclients++;
		l->stats->tcp_connections++;
		l->stats->tcp_open = l->nclients;
	}
}

static int tcp_open(vt_listen *l, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (vt_netaddr_resolve(l->cfg.addr, SOCK_STREAM, &ss, &sslen, err,
	    errlen) < 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		goto fail;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	l->tcp_fd = fd;
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 ||
	    listen(fd, TCP_BACKLOG) < 0)
		goto fail;
	int rc = vt_loop_add_fd(l->loop, fd, EPOLLIN, tcp_on_accept, l);
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "statsd tcp %s: %s", l->cfg.addr, strerror(errno));
	return -1;
}

/* ---- life cycle ------------------------------------------------------- */

vt_listen *vt_listen_create(const struct vt_listen_config *cfg,
    vt_loop *loop, vt_ingest *ingest, struct vt_selfstats *stats,
    char *err, size_t errlen)
{
	vt_listen *l = vt_xcalloc(1, sizeof *l);
	l->cfg = *cfg;
	l->loop = loop;
	l->ingest = ingest;
	l->stats = stats;
	l->udp_fd = l->tcp_fd = l->udp_timer_fd = -1;
	l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (cfg->udp && udp_open(l, err, errlen) < 0)
		goto fail;
	if (cfg->tcp && tcp_open(l, err, errlen) < 0)
		goto fail;
	return l;
fail:
	vt_listen_destroy(l);
	return NULL;
}

void vt_listen_expire_idle(vt_listen *l, double now)
{
	struct tcp_client *c = l->clients, *next;
	for (; c; c = next) {
		next = c->next;
		if (now - c->last_active >= l->cfg.tcp_idle_timeout) {
			l->stats->tcp_idle_closed++;
			tcp_consume(c, 1);
			tcp_client_close(c);
		}
	}
}

void vt_listen_set_limits(vt_listen *l, size_t tcp_max_clients,
    double tcp_idle_timeout)
{
	l->cfg.tcp_max_clients = tcp_max_clients;
	l->cfg.tcp_idle_timeout = tcp_idle_timeout;
}

void vt_listen_drain(vt_listen *l)
{
	/* Bounded: under a flood the kernel never runs dry. */
	for (int i = 0; l->udp_fd >= 0 && i < 1024; i++)
		if (udp_read_batch(l) == 0)
			break;
	for (struct tcp_client *c = l->clients, *next; c; c = next) {
		next = c->next;
		tcp_on_client(c, c->fd, EPOLLIN);
	}
}

int vt_listen_udp_port(const vt_listen *l)
{
	return l->udp_fd >= 0 ? vt_netaddr_local_port(l->udp_fd) : -1;
}

int vt_listen_tcp_port(const vt_listen *l)
{
	return l->tcp_fd >= 0 ? vt_netaddr_local_port(l->tcp_fd) : -1;
}

void vt_listen_destroy(vt_listen *l)
{
	if (l == NULL)
		return;
	while (l->clients)
		tcp_client_close(l->clients);
	if (l->udp_timer_fd >= 0) {
		vt_loop_del_fd(l->loop, l->udp_timer_fd);
		close(l->udp_timer_fd);
	}
	if (l->udp_fd >= 0) {
		vt_loop_del_fd(l->loop, l->udp_fd);
		close(l->udp_fd);
	}
	if (l->tcp_fd >= 0) {
		vt_loop_del_fd(l->loop, l->tcp_fd);
		close(l->tcp_fd);
	}
	if (l->spare_fd >= 0)
		close(l->spare_fd);
	free(l->udp_bufs);
	free(l);
}
