/*
 * alerts_api.c - GET /api/v1/alerts (alerts_api.h).
 */
#include "dashboards/api/alerts_api.h"

static void get_alerts(void *ctx, const struct vt_http_request *req,
    struct vt_http_response *resp)
{
	(void)req;
	resp->no_cache = 1;
	vt_alert_engine_json(ctx, &resp->body);
}

void vt_alerts_api_register(vt_http *h, vt_alert_engine *engine)
{
	vt_http_route(h, "GET", "/api/v1/alerts", 0, get_alerts, engine);
}
