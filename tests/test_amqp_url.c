/* test_amqp_url.c - AMQP URI parsing, environment credentials, redaction. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "collector/amqp/amqp_url.h"
#include "suites.h"

static const struct {
	const char *url;
	int tls, port;
	const char *host, *user, *password, *vhost;
} good[] = {
	{ "amqp://u:p@broker:5673/prod", 0, 5673, "broker", "u", "p", "prod" },
	{ "amqp://u:p@broker", 0, 5672, "broker", "u", "p", "/" },
	{ "amqp://u:p@broker/", 0, 5672, "broker", "u", "p", "/" },
	{ "amqp://u:p@broker/%2f", 0, 5672, "broker", "u", "p", "/" },
	{ "amqp://u:p@broker/%2Fteam", 0, 5672, "broker", "u", "p", "/team" },
	{ "amqps://u:p@broker", 1, 5671, "broker", "u", "p", "/" },
	{ "amqp://us%40er:p%3Aw%2F@h:1/v?heartbeat=5", 0, 1, "h", "us@er",
	  "p:w/", "v" },
	{ "amqp://u:pa:ss@h/", 0, 5672, "h", "u", "pa:ss", "/" },
	{ "amqp://u:p@[::1]:5999/x", 0, 5999, "::1", "u", "p", "x" },
	{ "amqp://u:@h", 0, 5672, "h", "u", "", "/" },
	{ "amqp://u:p@a@b@h", 0, 5672, "h", "u", "p@a@b", "/" },
};

START_TEST(parses_good_urls)
{
	struct vt_amqp_url u;
	char why[128];
	int i = _i;
	ck_assert_msg(vt_amqp_url_parse(good[i].url, &u, why, sizeof why) == 0,
	    "%s: %s", good[i].url, why);
	ck_assert_int_eq(u.tls, good[i].tls);
	ck_assert_int_eq(u.port, good[i].port);
	ck_assert_str_eq(u.host, good[i].host);
	ck_assert_str_eq(u.user, good[i].user);
	ck_assert_str_eq(u.password, good[i].password);
	ck_assert_str_eq(u.vhost, good[i].vhost);
}
END_TEST

static const struct {
	const char *url;
	const char *why;
} bad[] = {
	{ "http://h/", "expected an amqp:// or amqps:// URL" },
	{ "amqp://", "no host" },
	{ "amqp://u:p@:5672/", "no host" },
	{ "amqp://h:0/", "bad port" },
	{ "amqp://h:65536/", "bad port" },
	{ "amqp://h:12x/", "bad port" },
	{ "amqp://h/a/b", "vhost: write / as %2f" },
	{ "amqp://u:p%zz@h/", "bad password encoding" },
	{ "amqp://h/%0", "bad vhost" },
	{ "amqp://[::1/", "unclosed [ in host" },
};

START_TEST(rejects_bad_urls_without_showing_the_password)
{
	struct vt_amqp_url u;
	char why[128];
	int i = _i;
	ck_assert_int_eq(vt_amqp_url_parse(bad[i].url, &u, why, sizeof why),
	    -1);
	ck_assert_str_eq(why, bad[i].why);
}
END_TEST

START_TEST(credentials_from_environment_when_not_in_url)
{
	struct vt_amqp_url u;
	char why[128];
	setenv("VITALS_AMQP_USER", "svc", 1);
	setenv("VITALS_AMQP_PASSWORD", "envpw", 1);
	ck_assert_int_eq(vt_amqp_url_parse("amqp://broker", &u, why,
	    sizeof why), 0);
	ck_assert_str_eq(u.user, "svc");
	ck_assert_str_eq(u.password, "envpw");
	/* the URL wins */
	ck_assert_int_eq(vt_amqp_url_parse("amqp://a:b@broker", &u, why,
	    sizeof why), 0);
	ck_assert_str_eq(u.user, "a");
	ck_assert_str_eq(u.password, "b");
	/* a user in the URL, the password from the environment */
	ck_assert_int_eq(vt_amqp_url_parse("amqp://a@broker", &u, why,
	    sizeof why), 0);
	ck_assert_str_eq(u.user, "a");
	ck_assert_str_eq(u.password, "envpw");
	unsetenv("VITALS_AMQP_USER");
	unsetenv("VITALS_AMQP_PASSWORD");
	ck_assert_int_eq(vt_amqp_url_parse("amqp://broker", &u, why,
	    sizeof why), 0);
	ck_assert_str_eq(u.user, "guest");
	ck_assert_str_eq(u.password, "guest");
}
END_TEST

static const struct {
	const char *url, *shown;
} redact[] = {
	{ "amqp://u:secret@h:5672/v", "amqp://u:***@h:5672/v" },
	{ "amqps://u:pa:ss@h/v?x=@", "amqps://u:***@h/v?x=@" },
	{ "amqp://u@h/", "amqp://u@h/" },
	{ "amqp://h/", "amqp://h/" },
	{ "amqp://u:p@a@h", "amqp://u:***@h" },
	{ "amqp://:p@h", "amqp://:***@h" },
};

START_TEST(redacts_the_password)
{
	char out[256];
	int i = _i;
	ck_assert_str_eq(vt_amqp_url_redact(redact[i].url, out, sizeof out),
	    redact[i].shown);
}
END_TEST

START_TEST(describe_never_shows_the_password)
{
	struct vt_amqp_url u;
	char why[128], out[512];
	ck_assert_int_eq(vt_amqp_url_parse("amqps://me:topsecret@[::1]/",
	    &u, why, sizeof why), 0);
	vt_amqp_url_describe(&u, out, sizeof out);
	ck_assert_str_eq(out, "amqps://me@[::1]:5671/%2f");
	ck_assert_ptr_null(strstr(out, "topsecret"));
}
END_TEST

Suite *vt_test_amqp_url_suite(void)
{
	Suite *s = suite_create("amqp_url");
	TCase *tc = tcase_create("amqp_url");
	tcase_add_loop_test(tc, parses_good_urls, 0,
	    sizeof good / sizeof good[0]);
	tcase_add_loop_test(tc, rejects_bad_urls_without_showing_the_password,
	    0, sizeof bad / sizeof bad[0]);
	tcase_add_test(tc, credentials_from_environment_when_not_in_url);
	tcase_add_loop_test(tc, redacts_the_password, 0,
	    sizeof redact / sizeof redact[0]);
	tcase_add_test(tc, describe_never_shows_the_password);
	suite_add_tcase(s, tc);
	return s;
}
