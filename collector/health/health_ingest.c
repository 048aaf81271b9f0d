/*
 * health_ingest.c - the ways into the health registry from the wire
 * (health_ingest.h): JSON bodies and `_sc` lines, the instance defaulting
 * to the sender's IP address, every rejection counted by reason.
 */
#include <errno.h>

#include "collector/base/clock.h"
#include "collector/base/loop.h"
#include "collector/base/netaddr.h"
#include "collector/health/health_ingest.h"
#include "collector/health/health_json.h"

struct json_apply {
	vt_health *h;
	double now;
	const char *origin;          /* NULL: this collector's own */
};

static void json_on_check(void *ctx, const struct vt_check *c)
{
	struct json_apply *a = ctx;
	vt_health_apply_from(a->h, c, VT_CHECK_JSON, a->now, a->origin);
}

static void json_on_error(void *ctx, enum vt_check_result why,
    const char *msg)
{
	struct json_apply *a = ctx;
	(void)msg;
	vt_health_count(a->h, VT_CHECK_JSON, why);
}

static void peer_ip(const struct sockaddr *peer, char *ip, size_t iplen)
{
	ip[0] = '\0';
	if (peer != NULL)
		vt_netaddr_ip(peer, ip, iplen);
}

int vt_health_ingest_json(vt_health *h, const char *body, size_t len,
    const struct sockaddr *peer, double now)
{
	return vt_health_ingest_json_from(h, body, len, peer, now, NULL);
}

int vt_health_ingest_json_from(vt_health *h, const char *body, size_t len,
    const struct sockaddr *peer, double now, const char *origin)
{
	char ip[64];
	struct json_apply a = { h, now, origin };
	struct vt_health_json_hooks hooks = { json_on_check, json_on_error,
	    &a };
	struct vt_health_json_counts counts;

	peer_ip(peer, ip, sizeof ip);
	int rc = vt_health_json_parse(body, len, ip, &hooks, &counts);
	return rc < 0 || counts.accepted == 0 ? -EINVAL : 0;
}

void vt_health_ingest_report(vt_health *h, const struct vt_check_report *r,
    const struct sockaddr *peer, double now)
{
	char ip[64], why[VT_ERR_LEN];
	struct vt_check c;

	peer_ip(peer, ip, sizeof ip);
	enum vt_check_result res = vt_health_check_from_report(&c, r, ip, why,
	    sizeof why);
	if (res == VT_CHECK_OK)
		vt_health_apply(h, &c, VT_CHECK_SC, now);
	else
		vt_health_count(h, VT_CHECK_SC, res);
}

static void hook_service_check(void *ctx, const struct vt_check_report *r,
    const struct sockaddr *peer)
{
	vt_health_ingest_report(ctx, r, peer, vt_clock_now());
}

static void hook_json(void *ctx, const char *body, size_t len,
    const struct sockaddr *peer)
{
	vt_health_ingest_json(ctx, body, len, peer, vt_clock_now());
}

struct vt_ingest_checks vt_health_ingest_hooks(vt_health *h)
{
	struct vt_ingest_checks c = {
		.on_service_check = hook_service_check,
		.on_json = hook_json,
		.ctx = h,
	};
	return c;
}
