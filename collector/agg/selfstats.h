/*
 * selfstats.h - the daemon's own counters, reported as vitals_* metrics.
 *
 * The loop thread owns one struct vt_selfstats and bumps plain (non-atomic)
 * fields on the hot path; a copy travels in every struct vt_flush. Counters
 * are cumulative since start; fields marked "gauge" are current values.
 */
#ifndef VT_SELFSTATS_H
#define VT_SELFSTATS_H

#include <stdint.h>

#include "collector/base/line_result.h"
#include "collector/base/vt_types.h"

struct vt_selfstats {
	double start_time;            /* unix time the daemon started */
	uint64_t udp_packets;         /* datagrams received */
	uint64_t udp_bytes;
	uint64_t udp_truncated;       /* datagrams over VT_LINE_MAX, cut */
	uint64_t udp_kernel_drops;    /* SO_RXQ_OVFL: dropped by the kernel */
	uint64_t tcp_connections;     /* accepted */
	uint64_t tcp_refused;         /* refused: tcp_max_clients or no fd */
	uint64_t tcp_idle_closed;     /* closed after tcp_idle_timeout */
	uint64_t tcp_open;            /* gauge */
	uint64_t tcp_bytes;
	uint64_t tcp_lines_too_long;  /* lines over VT_LINE_MAX, discarded */
	uint64_t inbox_messages;      /* bodies from HTTP/AMQP applied */
	uint64_t inbox_dropped;       /* bodies refused: inbox full */
	uint64_t lines[VT_LINE_RESULT_COUNT]; /* by result */
	uint64_t service_checks;      /* _sc lines parsed */
	uint64_t metrics_live;        /* gauge: distinct metrics in memory */
	uint64_t metrics_created;
	uint64_t metrics_expired;     /* freed after metric_ttl idle */
	uint64_t flushes;
	uint64_t flushes_dropped;     /* closed windows the sinks never got */
	double last_flush_seconds;    /* gauge: time to close the last window */
	uint64_t max_metrics;         /* gauge: the configured cap */
};

#endif
