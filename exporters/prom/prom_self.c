/*
 * prom_self.c - the daemon's own vitals_* families (SPEC 7, STYLE 15),
 * from the struct vt_selfstats copy that travels in every flush. One
 * table row per family, kept sorted by name so the exposition is too.
 */
#include <stddef.h>
#include <string.h>

#include "collector/base/line_result.h"
#include "collector/base/prom_text.h"
#include "exporters/prom/prom.h"
#include "exporters/prom/prom_self.h"

#ifndef VT_VERSION
#define VT_VERSION "dev"
#endif

enum self_source {
	SRC_U64,        /* uint64_t field at offset */
	SRC_DOUBLE,     /* double field at offset */
	SRC_LINES,      /* lines[], one sample per result */
	SRC_BUILD,      /* constant 1 with the version label */
	SRC_CONFLICTS   /* series left out of this exposition */
};

struct self_family {
	const char *name;          /* base name: counters without _total */
	enum vt_prom_type type;
	enum self_source source;
	size_t offset;
	const char *help;          /* plain ASCII, nothing to escape */
};

#define U64(field) SRC_U64, offsetof(struct vt_selfstats, field)
#define DBL(field) SRC_DOUBLE, offsetof(struct vt_selfstats, field)

/* Sorted by name (a unit test checks the rendered order). */
static const struct self_family self_families[] = {
	{ "vitals_build_info", VT_PROM_GAUGE, SRC_BUILD, 0,
	  "Version of vitalsd; the value is always 1." },
	{ "vitals_flush_duration_seconds", VT_PROM_GAUGE,
	  DBL(last_flush_seconds),
	  "Time taken to close the last aggregation window." },
	{ "vitals_flushes", VT_PROM_COUNTER, U64(flushes),
	  "Aggregation windows closed." },
	{ "vitals_flushes_dropped", VT_PROM_COUNTER, U64(flushes_dropped),
	  "Closed windows dropped before reaching the sinks, because the "
	  "sinks were too far behind." },
	{ "vitals_inbox_dropped", VT_PROM_COUNTER, U64(inbox_dropped),
	  "HTTP and AMQP bodies refused because the inbox was full." },
	{ "vitals_inbox_messages", VT_PROM_COUNTER, U64(inbox_messages),
	  "HTTP and AMQP bodies applied." },
	{ "vitals_lines", VT_PROM_COUNTER, SRC_LINES, 0,
	  "Received statsd lines by result: ok or the reason it was skipped." },
	{ "vitals_metrics", VT_PROM_GAUGE, U64(metrics_live),
	  "Distinct metrics in memory." },
	{ "vitals_metrics_created", VT_PROM_COUNTER, U64(metrics_created),
	  "Metrics created." },
	{ "vitals_metrics_expired", VT_PROM_COUNTER, U64(metrics_expired),
	  "Metrics freed after metric_ttl without samples." },
	{ "vitals_metrics_max", VT_PROM_GAUGE, U64(max_metrics),
	  "Configured cap on distinct metrics (max_metrics)." },
	{ "vitals_prometheus_conflicts", VT_PROM_GAUGE, SRC_CONFLICTS, 0,
	  "Series left out of this exposition because their family name, "
	  "type or labels clash with an older series." },
	{ "vitals_service_checks", VT_PROM_COUNTER, U64(service_checks),
	  "DogStatsD service check lines parsed." },
	{ "vitals_start_time_seconds", VT_PROM_GAUGE, DBL(start_time),
	  "Unix time vitalsd started." },
	{ "vitals_tcp_bytes", VT_PROM_COUNTER, U64(tcp_bytes),
	  "Bytes received on statsd TCP connections." },
	{ "vitals_tcp_connections", VT_PROM_COUNTER, U64(tcp_connections),
	  "statsd TCP connections accepted." },
	{ "vitals_tcp_idle_closed", VT_PROM_COUNTER, U64(tcp_idle_closed),
	  "statsd TCP connections closed after tcp_idle_timeout silent." },
	{ "vitals_tcp_lines_too_long", VT_PROM_COUNTER,
	  U64(tcp_lines_too_long),
	  "statsd TCP lines over 64 KiB, discarded." },
	{ "vitals_tcp_open_connections", VT_PROM_GAUGE, U64(tcp_open),
	  "Open statsd TCP connections." },
	{ "vitals_tcp_refused", VT_PROM_COUNTER, U64(tcp_refused),
	  "statsd TCP connections refused at tcp_max_clients or when out "
	  "of file descriptors." },
	{ "vitals_udp_bytes", VT_PROM_COUNTER, U64(udp_bytes),
	  "Bytes received in statsd UDP datagrams." },
	{ "vitals_udp_kernel_drops", VT_PROM_COUNTER, U64(udp_kernel_drops),
	  "statsd UDP datagrams dropped by the kernel (receive queue full)." },
	{ "vitals_udp_packets", VT_PROM_COUNTER, U64(udp_packets),
	  "statsd UDP datagrams received." },
	{ "vitals_udp_truncated", VT_PROM_COUNTER, U64(udp_truncated),
	  "statsd UDP datagrams over 64 KiB, truncated." },
};

/* "<name>[_total]" as a sample name, then the labels and value follow. */
static void put_sample_name(struct vt_buf *out, const struct self_family *sf)
{
	vt_buf_puts(out, sf->name);
	if (sf->type == VT_PROM_COUNTER)
		vt_buf_append(out, "_total", 6);
}

static void write_family(struct vt_buf *out, const struct self_family *sf,
    const struct vt_selfstats *s, size_t conflicts, enum vt_prom_format fmt)
{
	const char *base = (const char *)s;
	uint64_t u;
	double d;

	vt_prom_text_head(out, sf->name, strlen(sf->name), sf->type, sf->help,
	    fmt);
	switch (sf->source) {
	case SRC_U64:
		memcpy(&u, base + sf->offset, sizeof u);
		put_sample_name(out, sf);
		vt_buf_putc(out, ' ');
		vt_prom_text_u64(out, u);
		vt_buf_putc(out, '\n');
		break;
	case SRC_DOUBLE:
		memcpy(&d, base + sf->offset, sizeof d);
		put_sample_name(out, sf);
		vt_buf_putc(out, ' ');
		vt_prom_text_value(out, d);
		vt_buf_putc(out, '\n');
		break;
	case SRC_LINES:
		for (int r = 0; r < VT_LINE_RESULT_COUNT; r++) {
			put_sample_name(out, sf);
			vt_buf_append(out, "{result=\"", 9);
			vt_prom_text_escape_label(out,
			    vt_line_result_name((enum vt_line_result)r));
			vt_buf_append(out, "\"} ", 3);
			vt_prom_text_u64(out, s->lines[r]);
			vt_buf_putc(out, '\n');
		}
		break;
	case SRC_BUILD:
		put_sample_name(out, sf);
		vt_buf_append(out, "{version=\"", 10);
		vt_prom_text_escape_label(out, VT_VERSION);
		vt_buf_append(out, "\"} 1\n", 5);
		break;
	case SRC_CONFLICTS:
		put_sample_name(out, sf);
		vt_buf_putc(out, ' ');
		vt_prom_text_u64(out, (uint64_t)conflicts);
		vt_buf_putc(out, '\n');
		break;
	}
}

void vt_prom_self_write(struct vt_buf *out, const struct vt_selfstats *s,
    size_t conflicts, enum vt_prom_format fmt)
{
	static const struct vt_selfstats zero;

	if (s == NULL)
		s = &zero;
	for (size_t i = 0; i < sizeof self_families / sizeof self_families[0];
	    i++)
		write_family(out, &self_families[i], s, conflicts, fmt);
}
