/*
 * http_gate.c - HTTP connection admission with counted refusals
 * (http_gate.h): an open-addressing table of client addresses and how
 * many connections each has open, under one mutex.
 */
#include <linux/tcp.h>        /* struct tcp_info with tcpi_bytes_received */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "collector/base/clock.h"
#include "collector/base/hash.h"
#include "collector/base/xmalloc.h"
#include "dashboards/http/http_gate.h"

#define KEY_LEN 17      /* family byte + 16 address bytes */

struct slot {
	uint32_t open;      /* 0: empty */
	unsigned char key[KEY_LEN];
};

enum conn_state { WAITING, BUSY, DYING };

struct vt_http_gate_conn {
	struct vt_http_gate_conn *prev, *next;   /* in the waiting list */
	int fd;
	enum conn_state state;
	double since;        /* waiting: for its head since (monotonic) */
	uint64_t bytes;      /* waiting: bytes received when it began */
};

struct vt_http_gate {
	pthread_mutex_t lock;
	size_t max_total, max_per_addr, reserve;
	size_t open;
	size_t dying;        /* shut down by us, not yet closed */
	uint64_t refused[VT_GATE_REASON_COUNT];
	uint64_t dropped[VT_GATE_DROP_COUNT];
	struct vt_http_gate_conn *wait_head, *wait_tail;  /* oldest first */
	double full_refusal;  /* when a client was last refused at the total
	                       * cap with nothing to evict (monotonic) */
	struct slot *slots;
	size_t mask;        /* slots - 1, a power of two minus one */
};

static const char *const reason_names[VT_GATE_REASON_COUNT] = {
	[VT_GATE_MAX_CONNECTIONS] = "max_connections",
	[VT_GATE_MAX_PER_ADDRESS] = "max_connections_per_ip",
};

static const char *const drop_names[VT_GATE_DROP_COUNT] = {
	[VT_GATE_HEAD_TIMEOUT] = "head_timeout",
	[VT_GATE_EVICTED] = "evicted",
};

const char *vt_http_gate_reason_name(enum vt_http_gate_reason r)
{
	return (unsigned)r < VT_GATE_REASON_COUNT ? reason_names[r] : "?";
}

const char *vt_http_gate_drop_name(enum vt_http_gate_drop d)
{
	return (unsigned)d < VT_GATE_DROP_COUNT ? drop_names[d] : "?";
}

struct vt_http_gate *vt_http_gate_create(size_t max_total,
    size_t max_per_addr)
{
	struct vt_http_gate *g = vt_xcalloc(1, sizeof *g);
	pthread_mutex_init(&g->lock, NULL);
	g->max_total = max_total;
	g->max_per_addr = max_per_addr;
	size_t n = 16;
	while (n < 2 * max_total + 8)   /* room for a few past the cap */
		n *= 2;
	g->slots = vt_xcalloc(n, sizeof *g->slots);
	g->mask = n - 1;
	g->full_refusal = -1e300;
	return g;
}

void vt_http_gate_destroy(struct vt_http_gate *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->lock);
	free(g->slots);
	free(g);
}

/* The address alone (no port); an IPv4-mapped IPv6 address is IPv4. */
static void make_key(unsigned char key[KEY_LEN], const struct sockaddr *sa,
    socklen_t len)
{
	memset(key, 0, KEY_LEN);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct
	    sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)
		    (const void *)sa;
		key[0] = 4;
		memcpy(key + 1, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(
	    struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)
		    (const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, in6->sin6_addr.s6_addr + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, in6->sin6_addr.s6_addr, 16);
		}
	} else {
		key[0] = (unsigned char)sa->sa_family;
	}
}

/* With the lock held: the slot of key, or the empty slot where it would
 * go (NULL when the table is full). */
static struct slot *find(struct vt_http_gate *g,
    const unsigned char key[KEY_LEN])
{
	size_t i = (size_t)vt_hash(key, KEY_LEN, 0) & g->mask;
	for (size_t probes = 0; probes <= g->mask; probes++) {
		struct slot *s = &g->slots[i];
		if (s->open == 0 || memcmp(s->key, key, KEY_LEN) == 0)
			return s;
		i = (i + 1) & g->mask;
	}
	return NULL;
}

/* With the lock held: empty slot s and shift later ones of its probe run
 * back, so that every key stays reachable from its home slot. */
static void remove_slot(struct vt_http_gate *g, struct slot *s)
{
	size_t hole = (size_t)(s - g->slots);
	size_t i = hole;
	g->slots[hole].open = 0;
	for (;;) {
		i = (i + 1) & g->mask;
		struct slot *t = &g->slots[i];
		if (t->open == 0)
			return;
		size_t home = (size_t)vt_hash(t->key, KEY_LEN, 0) & g->mask;
		/* t may move to the hole when its home is not in (hole, i]. */
		int stays = hole <= i ? (home > hole && home <= i) :
		    (home > hole || home <= i);
		if (!stays) {
			g->slots[hole] = *t;
			t->open = 0;
			hole = i;
		}
	}
}

void vt_http_gate_set_reserve(struct vt_http_gate *g, size_t reserve)
{
	pthread_mutex_lock(&g->lock);
	g->reserve = reserve;
	pthread_mutex_unlock(&g->lock);
}

/* Bytes the kernel has received on fd so far (0 when unknown). */
static uint64_t bytes_in(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < (socklen_t)(offsetof(struct tcp_info, tcpi_bytes_received) +
	    sizeof ti.tcpi_bytes_received))
		return 0;
	return ti.tcpi_bytes_received;
}

/* With the lock held. */
static void wait_unlink(struct vt_http_gate *g, struct vt_http_gate_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		g->wait_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		g->wait_tail = c->prev;
	c->prev = c->next = NULL;
}

static void wait_append(struct vt_http_gate *g, struct vt_http_gate_conn *c)
{
	c->next = NULL;
	c->prev = g->wait_tail;
	if (g->wait_tail)
		g->wait_tail->next = c;
	else
		g->wait_head = c;
	g->wait_tail = c;
}

/* With the lock held: shut a waiting connection down; libmicrohttpd
 * reads end-of-file and closes it. */
static void drop(struct vt_http_gate *g, struct vt_http_gate_conn *c,
    enum vt_http_gate_drop why)
{
	wait_unlink(g, c);
	c->state = DYING;
	g->dying++;
	g->dropped[why]++;
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
}

/* With the lock held: the oldest waiting connection that may go to make
 * room: one that has sent part of a head (a slow or stalled sender), or
 * has sat silent past the grace period, or any at all while the server
 * is under pressure (it refused someone at the cap lately). NULL when
 * none. */
static struct vt_http_gate_conn *victim(struct vt_http_gate *g, double now)
{
	if (now - g->full_refusal < VT_GATE_PRESSURE)
		return g->wait_head;
	for (struct vt_http_gate_conn *c = g->wait_head; c; c = c->next) {
		if (now - c->since >= VT_GATE_EVICT_GRACE ||
		    bytes_in(c->fd) > c->bytes)
			return c;
	}
	return NULL;
}

/* IPv4 127/8, IPv6 ::1, or IPv4-mapped 127/8 (from the key). */
static int key_is_loopback(const unsigned char key[KEY_LEN])
{
	static const unsigned char one6[16] = { [15] = 1 };
	if (key[0] == 4)
		return key[1] == 127;
	return key[0] == 6 && memcmp(key + 1, one6, 16) == 0;
}

int vt_http_gate_admit_at(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len, double now)
{
	unsigned char key[KEY_LEN];
	make_key(key, sa, len);
	pthread_mutex_lock(&g->lock);
	int ok = 1;
	size_t live = g->open - g->dying;
	if (g->max_per_addr > 0) {
		struct slot *s = find(g, key);
		if (s && s->open >= g->max_per_addr) {
			g->refused[VT_GATE_MAX_PER_ADDRESS]++;
			ok = 0;
		}
	}
	if (ok && live >= g->max_total) {
		struct vt_http_gate_conn *c = victim(g, now);
		if (c != NULL) {
			drop(g, c, VT_GATE_EVICTED);
			live--;
		}
		if (live >= g->max_total && !(key_is_loopback(key) &&
		    live < g->max_total + g->reserve)) {
			g->refused[VT_GATE_MAX_CONNECTIONS]++;
			g->full_refusal = now;
			ok = 0;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return ok;
}

int vt_http_gate_admit(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len)
{
	return vt_http_gate_admit_at(g, sa, len, vt_clock_mono());
}

void vt_http_gate_opened(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len)
{
	unsigned char key[KEY_LEN];
	make_key(key, sa, len);
	pthread_mutex_lock(&g->lock);
	g->open++;
	struct slot *s = find(g, key);
	if (s) {                     /* full: that one goes uncounted */
		if (s->open == 0)
			memcpy(s->key, key, KEY_LEN);
		s->open++;
	}
	pthread_mutex_unlock(&g->lock);
}

void vt_http_gate_closed(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len)
{
	unsigned char key[KEY_LEN];
	make_key(key, sa, len);
	pthread_mutex_lock(&g->lock);
	if (g->open > 0)
		g->open--;
	struct slot *s = find(g, key);
	if (s && s->open > 0 && --s->open == 0)
		remove_slot(g, s);
	pthread_mutex_unlock(&g->lock);
}

struct vt_http_gate_conn *vt_http_gate_conn_opened(struct vt_http_gate *g,
    const struct sockaddr *sa, socklen_t len, int fd, double now)
{
	struct vt_http_gate_conn *c = vt_xcalloc(1, sizeof *c);
	c->fd = fd;
	c->state = fd >= 0 ? WAITING : BUSY;  /* unknown socket: left alone */
	c->since = now;
	vt_http_gate_opened(g, sa, len);
	pthread_mutex_lock(&g->lock);
	if (c->state == WAITING)
		wait_append(g, c);
	pthread_mutex_unlock(&g->lock);
	return c;
}

void vt_http_gate_conn_closed(struct vt_http_gate *g,
    struct vt_http_gate_conn *c, const struct sockaddr *sa, socklen_t len)
{
	if (c != NULL) {
		pthread_mutex_lock(&g->lock);
		if (c->state == WAITING)
			wait_unlink(g, c);
		else if (c->state == DYING && g->dying > 0)
			g->dying--;
		pthread_mutex_unlock(&g->lock);
		free(c);
	}
	vt_http_gate_closed(g, sa, len);
}

void vt_http_gate_conn_busy(struct vt_http_gate *g,
    struct vt_http_gate_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	if (c->state == WAITING) {
		wait_unlink(g, c);
		c->state = BUSY;
	}
	pthread_mutex_unlock(&g->lock);
}

void vt_http_gate_conn_waiting(struct vt_http_gate *g,
    struct vt_http_gate_conn *c, double now)
{
	if (c == NULL || c->fd < 0)
		return;
	uint64_t bytes = bytes_in(c->fd);   /* outside the lock */
	pthread_mutex_lock(&g->lock);
	if (c->state == BUSY) {
		c->state = WAITING;
		c->since = now;
		c->bytes = bytes;
		wait_append(g, c);
	}
	pthread_mutex_unlock(&g->lock);
}

size_t vt_http_gate_sweep(struct vt_http_gate *g, double now,
    double head_timeout)
{
	size_t n = 0;
	pthread_mutex_lock(&g->lock);
	/* Oldest first; a connection appended a moment late with an older
	 * time only waits for the next sweep. */
	while (g->wait_head && now - g->wait_head->since >= head_timeout) {
		drop(g, g->wait_head, VT_GATE_HEAD_TIMEOUT);
		n++;
	}
	pthread_mutex_unlock(&g->lock);
	return n;
}

uint64_t vt_http_gate_dropped(struct vt_http_gate *g,
    enum vt_http_gate_drop d)
{
	pthread_mutex_lock(&g->lock);
	uint64_t n = (unsigned)d < VT_GATE_DROP_COUNT ? g->dropped[d] : 0;
	pthread_mutex_unlock(&g->lock);
	return n;
}

size_t vt_http_gate_open(struct vt_http_gate *g)
{
	pthread_mutex_lock(&g->lock);
	size_t n = g->open;
	pthread_mutex_unlock(&g->lock);
	return n;
}

uint64_t vt_http_gate_refused(struct vt_http_gate *g,
    enum vt_http_gate_reason r)
{
	pthread_mutex_lock(&g->lock);
	uint64_t n = (unsigned)r < VT_GATE_REASON_COUNT ? g->refused[r] : 0;
	pthread_mutex_unlock(&g->lock);
	return n;
}
