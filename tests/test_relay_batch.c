/* test_relay_batch.c - the relay's batches: per service and kind, bounded
 * by size and age, JSON arrays, routing keys. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/relay/relay_batch.h"
#include "suites.h"

#define MAX_MSGS 64

struct sink {
	size_t n;
	struct vt_relay_msg *m[MAX_MSGS];
};

static void collect(void *ctx, struct vt_relay_msg *m)
{
	struct sink *s = ctx;
	ck_assert_uint_lt(s->n, MAX_MSGS);
	s->m[s->n++] = m;
}

static void sink_free(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		vt_relay_batch_msg_free(s->m[i]);
	s->n = 0;
}

static void add(vt_relay_batch *b, enum vt_relay_kind k, const char *svc,
    const char *rec, double now)
{
	vt_relay_batch_add(b, k, svc, strlen(svc), rec, strlen(rec), now);
}

START_TEST(one_batch_per_service_and_kind)
{
	struct sink s = { 0 };
	vt_relay_batch *b = vt_relay_batch_create(1024, 1.0, collect, &s);
	add(b, VT_RELAY_METRICS, "pay", "pay.a:1|c", 0);
	add(b, VT_RELAY_METRICS, "shop", "shop.a:1|c", 0);
	add(b, VT_RELAY_METRICS, "pay", "pay.b:2|ms", 0);
	add(b, VT_RELAY_HEALTH_LINES, "pay", "_sc|pay.db|0", 0);
	ck_assert_uint_eq(vt_relay_batch_open(b), 3);
	ck_assert_uint_eq(s.n, 0);
	vt_relay_batch_flush(b);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(vt_relay_batch_open(b), 0);
	int seen = 0;
	for (size_t i = 0; i < s.n; i++) {
		struct vt_relay_msg *m = s.m[i];
		if (strcmp(m->routing_key, "pay.metrics") == 0) {
			ck_assert_str_eq(m->body, "pay.a:1|c\npay.b:2|ms");
			ck_assert_uint_eq(m->len, strlen(m->body));
			ck_assert_uint_eq(m->records, 2);
			ck_assert_str_eq(m->service, "pay");
			seen |= 1;
		} else if (strcmp(m->routing_key, "shop.metrics") == 0) {
			ck_assert_str_eq(m->body, "shop.a:1|c");
			seen |= 2;
		} else {
			ck_assert_str_eq(m->routing_key, "pay.health");
			ck_assert_str_eq(m->body, "_sc|pay.db|0");
			ck_assert_str_eq(vt_relay_batch_content_type(m->kind),
			    "text/plain");
			seen |= 4;
		}
	}
	ck_assert_int_eq(seen, 7);
	sink_free(&s);
	vt_relay_batch_destroy(b);
}
END_TEST

START_TEST(size_bound_closes_a_batch)
{
	struct sink s = { 0 };
	vt_relay_batch *b = vt_relay_batch_create(32, 100.0, collect, &s);
	add(b, VT_RELAY_METRICS, "a", "a.x:1|c", 0);     /* 7 bytes */
	add(b, VT_RELAY_METRICS, "a", "a.y:1|c", 0);     /* 15 */
	add(b, VT_RELAY_METRICS, "a", "a.z:1|c", 0);     /* 23 */
	ck_assert_uint_eq(s.n, 0);
	add(b, VT_RELAY_METRICS, "a", "a.w:12|c", 0);    /* would be 32 */
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.m[0]->body, "a.x:1|c\na.y:1|c\na.z:1|c");
	ck_assert_uint_le(s.m[0]->len, 32);
	/* a record larger than the bound travels alone */
	add(b, VT_RELAY_METRICS, "a",
	    "a.long.name.beyond.the.bound:1|c", 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.m[1]->body, "a.w:12|c");
	ck_assert_str_eq(s.m[2]->body, "a.long.name.beyond.the.bound:1|c");
	ck_assert_uint_eq(vt_relay_batch_open(b), 0);
	sink_free(&s);
	vt_relay_batch_destroy(b);
}
END_TEST

START_TEST(age_bound_closes_a_batch)
{
	struct sink s = { 0 };
	vt_relay_batch *b = vt_relay_batch_create(1 << 20, 0.5, collect, &s);
	add(b, VT_RELAY_METRICS, "old", "old.x:1|c", 10.0);
	add(b, VT_RELAY_METRICS, "new", "new.x:1|c", 10.4);
	vt_relay_batch_tick(b, 10.3);
	ck_assert_uint_eq(s.n, 0);
	vt_relay_batch_tick(b, 10.5);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.m[0]->routing_key, "old.metrics");
	add(b, VT_RELAY_METRICS, "old", "old.y:1|c", 10.6);  /* a new one */
	vt_relay_batch_tick(b, 10.95);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.m[1]->routing_key, "new.metrics");
	vt_relay_batch_tick(b, 11.1);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.m[2]->body, "old.y:1|c");
	sink_free(&s);
	vt_relay_batch_destroy(b);
}
END_TEST

START_TEST(json_checks_become_an_array)
{
	struct sink s = { 0 };
	vt_relay_batch *b = vt_relay_batch_create(1024, 1.0, collect, &s);
	add(b, VT_RELAY_HEALTH_JSON, "pay", "{\"check\":\"a\"}", 0);
	add(b, VT_RELAY_HEALTH_JSON, "pay", "{\"check\":\"b\"}", 0);
	vt_relay_batch_flush(b);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.m[0]->body, "[{\"check\":\"a\"},{\"check\":\"b\"}]");
	ck_assert_str_eq(s.m[0]->routing_key, "pay.health");
	ck_assert_str_eq(vt_relay_batch_content_type(s.m[0]->kind),
	    "application/json");
	sink_free(&s);
	vt_relay_batch_destroy(b);
}
END_TEST

START_TEST(open_batches_are_bounded)
{
	struct sink s = { 0 };
	char svc[32];
	vt_relay_batch *b = vt_relay_batch_create(1024, 100.0, collect, &s);
	for (int i = 0; i < VT_RELAY_BATCH_MAX_OPEN; i++) {
		snprintf(svc, sizeof svc, "s%d", i);
		add(b, VT_RELAY_METRICS, svc, "x:1|c", (double)i);
	}
	ck_assert_uint_eq(s.n, 0);
	add(b, VT_RELAY_METRICS, "one.more", "x:1|c", 1000.0);
	ck_assert_uint_eq(s.n, 1);                 /* the oldest went out */
	ck_assert_str_eq(s.m[0]->service, "s0");
	ck_assert_uint_eq(vt_relay_batch_open(b), VT_RELAY_BATCH_MAX_OPEN);
	sink_free(&s);
	vt_relay_batch_destroy(b);                     /* frees the open ones */
}
END_TEST

START_TEST(long_service_keeps_the_routing_key_suffix)
{
	struct sink s = { 0 };
	char svc[400];
	memset(svc, 'a', sizeof svc - 1);
	svc[sizeof svc - 1] = '\0';
	vt_relay_batch *b = vt_relay_batch_create(1024, 1.0, collect, &s);
	add(b, VT_RELAY_METRICS, svc, "x:1|c", 0);
	vt_relay_batch_flush(b);
	ck_assert_uint_eq(strlen(s.m[0]->routing_key), VT_RELAY_KEY_MAX);
	const char *k = s.m[0]->routing_key;
	ck_assert_str_eq(k + strlen(k) - 8, ".metrics");
	ck_assert_str_eq(s.m[0]->service, svc);    /* whole, for the header */
	sink_free(&s);
	vt_relay_batch_destroy(b);
}
END_TEST

Suite *vt_test_relay_batch_suite(void)
{
	Suite *s = suite_create("relay_batch");
	TCase *tc = tcase_create("relay_batch");
	tcase_add_test(tc, one_batch_per_service_and_kind);
	tcase_add_test(tc, size_bound_closes_a_batch);
	tcase_add_test(tc, age_bound_closes_a_batch);
	tcase_add_test(tc, json_checks_become_an_array);
	tcase_add_test(tc, open_batches_are_bounded);
	tcase_add_test(tc, long_service_keeps_the_routing_key_suffix);
	suite_add_tcase(s, tc);
	return s;
}
