/*
 * alerts_api.h - GET /api/v1/alerts: the pending and firing alerts as
 * JSON (docs/alerts.md), read from the engine under its lock.
 */
#ifndef VT_ALERTS_API_H
#define VT_ALERTS_API_H

#include "collector/alerts/alert_engine.h"
#include "dashboards/http/http.h"

/* engine is borrowed and must outlive the server. */
void vt_alerts_api_register(vt_http *h, vt_alert_engine *engine);

#endif
