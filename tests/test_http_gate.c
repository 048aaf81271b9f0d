/* test_http_gate.c - HTTP connection admission: the total and
 * per-address caps, refusals counted by reason, IPv4-mapped IPv6 as
 * IPv4, and addresses that come and go in numbers. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dashboards/http/http_gate.h"
#include "suites.h"

static struct sockaddr_in v4(const char *ip, int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static struct sockaddr_in6 v6(const char *ip)
{
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof a);
	a.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
	return a;
}

#define SA(x) ((const struct sockaddr *)(const void *)&(x)), sizeof(x)

/* Admit, then open: what the server does for a connection it keeps. */
static int connect_one(struct vt_http_gate *g, const struct sockaddr *sa,
    socklen_t len)
{
	if (!vt_http_gate_admit(g, sa, len))
		return 0;
	vt_http_gate_opened(g, sa, len);
	return 1;
}

START_TEST(per_address_cap_counts_refusals)
{
	struct vt_http_gate *g = vt_http_gate_create(100, 3);
	struct sockaddr_in a = v4("10.0.0.1", 1000), b = v4("10.0.0.2", 1);
	for (int i = 0; i < 3; i++) {
		a.sin_port = htons((uint16_t)(1000 + i));   /* ports differ */
		ck_assert(connect_one(g, SA(a)));
	}
	ck_assert(!connect_one(g, SA(a)));
	ck_assert(!connect_one(g, SA(a)));
	ck_assert(connect_one(g, SA(b)));               /* others go on */
	ck_assert_uint_eq(vt_http_gate_refused(g, VT_GATE_MAX_PER_ADDRESS), 2);
	ck_assert_uint_eq(vt_http_gate_refused(g, VT_GATE_MAX_CONNECTIONS), 0);
	ck_assert_uint_eq(vt_http_gate_open(g), 4);
	vt_http_gate_closed(g, SA(a));
	ck_assert(connect_one(g, SA(a)));               /* a slot came free */
	/* The same address as an IPv4-mapped IPv6 one shares the cap. */
	struct sockaddr_in6 mapped = v6("::ffff:10.0.0.1");
	ck_assert(!connect_one(g, SA(mapped)));
	struct sockaddr_in6 other = v6("2001:db8::1");
	ck_assert(connect_one(g, SA(other)));
	ck_assert_uint_eq(vt_http_gate_refused(g, VT_GATE_MAX_PER_ADDRESS), 3);
	ck_assert_str_eq(vt_http_gate_reason_name(VT_GATE_MAX_PER_ADDRESS),
	    "max_connections_per_ip");
	vt_http_gate_destroy(g);
}
END_TEST

START_TEST(total_cap_counts_refusals)
{
	struct vt_http_gate *g = vt_http_gate_create(5, 0);
	char ip[32];
	for (int i = 0; i < 5; i++) {
		snprintf(ip, sizeof ip, "192.168.1.%d", i + 1);
		struct sockaddr_in a = v4(ip, 80);
		ck_assert(connect_one(g, SA(a)));
	}
	struct sockaddr_in late = v4("192.168.1.99", 80);
	ck_assert(!connect_one(g, SA(late)));
	ck_assert_uint_eq(vt_http_gate_refused(g, VT_GATE_MAX_CONNECTIONS), 1);
	struct sockaddr_in first = v4("192.168.1.1", 80);
	vt_http_gate_closed(g, SA(first));
	ck_assert(connect_one(g, SA(late)));
	ck_assert_uint_eq(vt_http_gate_open(g), 5);
	ck_assert_str_eq(vt_http_gate_reason_name(VT_GATE_MAX_CONNECTIONS),
	    "max_connections");
	vt_http_gate_destroy(g);
}
END_TEST

/* Many addresses opening and closing in a shuffled order: every count
 * comes back to zero and each address keeps its own count throughout
 * (removal from the table must not lose a neighbour's entry). */
START_TEST(churn_keeps_every_count)
{
	enum { ADDRS = 300, EACH = 3 };
	struct vt_http_gate *g = vt_http_gate_create(ADDRS * EACH, EACH);
	struct sockaddr_in a[ADDRS];
	char ip[32];
	for (int i = 0; i < ADDRS; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.1", i / 200, i % 200);
		a[i] = v4(ip, 1);
		for (int k = 0; k < EACH; k++)
			ck_assert(connect_one(g, SA(a[i])));
	}
	for (int i = 0; i < ADDRS; i++)
		ck_assert(!vt_http_gate_admit(g, SA(a[i])));
	/* close one connection of every third address, then re-check */
	for (int i = 0; i < ADDRS; i += 3)
		vt_http_gate_closed(g, SA(a[i]));
	for (int i = 0; i < ADDRS; i++)
		ck_assert_int_eq(vt_http_gate_admit(g, SA(a[i])), i % 3 == 0);
	/* close everything, in an order unlike the opening one */
	for (int k = 0; k < EACH; k++)
		for (int i = ADDRS - 1; i >= 0; i -= 2) {
			if (!(k == 0 && i % 3 == 0))
				vt_http_gate_closed(g, SA(a[i]));
		}
	for (int k = 0; k < EACH; k++)
		for (int i = ADDRS - 2; i >= 0; i -= 2) {
			if (!(k == 0 && i % 3 == 0))
				vt_http_gate_closed(g, SA(a[i]));
		}
	ck_assert_uint_eq(vt_http_gate_open(g), 0);
	for (int i = 0; i < ADDRS; i++)
		for (int k = 0; k < EACH; k++)
			ck_assert(connect_one(g, SA(a[i])));
	ck_assert_uint_eq(vt_http_gate_open(g), ADDRS * EACH);
	vt_http_gate_destroy(g);
}
END_TEST

Suite *vt_test_http_gate_suite(void)
{
	Suite *s = suite_create("http_gate");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, per_address_cap_counts_refusals);
	tcase_add_test(tc, total_cap_counts_refusals);
	tcase_add_test(tc, churn_keeps_every_count);
	suite_add_tcase(s, tc);
	return s;
}
