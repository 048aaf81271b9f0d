/*
 * http_gate.c - HTTP connection admission with counted refusals
 * (http_gate.h): an open-addressing table of client addresses and how
 * many connections each has open, under one mutex.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/hash.h"
#include "collector/base/xmalloc.h"
#include "dashboards/http/http_gate.h"

#define KEY_LEN 17      /* family byte + 16 address bytes */

struct slot {
	uint32_t open;      /* 0: empty */
	unsigned char key[KEY_LEN];
};

struct vt_http_gate {
	pthread_mutex_t lock;
	size_t max_total, max_per_addr;
	size_t open;
	uint64_t refused[VT_GATE_REASON_COUNT];
	struct slot *slots;
	size_t mask;        /* slots - 1, a power of two minus one */
};

static const char *const reason_names[VT_GATE_REASON_COUNT] = {
	[VT_GATE_MAX_CONNECTIONS] = "max_connections",
	[VT_GATE_MAX_PER_ADDRESS] = "max_connections_per_ip",
};

const char *vt_http_gate_reason_name(enum vt_http_gate_reason r)
{
	return (unsigned)r < VT_GATE_REASON_COUNT ? reason_names[r] : "?";
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

int vt_http_gate_admit(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len)
{
	unsigned char key[KEY_LEN];
	make_key(key, sa, len);
	pthread_mutex_lock(&g->lock);
	int ok = 1;
	if (g->open >= g->max_total) {
		g->refused[VT_GATE_MAX_CONNECTIONS]++;
		ok = 0;
	} else if (g->max_per_addr > 0) {
		struct slot *s = find(g, key);
		if (s && s->open >= g->max_per_addr) {
			g->refused[VT_GATE_MAX_PER_ADDRESS]++;
			ok = 0;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return ok;
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
