/*
 * suites.h - every Check suite of the unit tests, one per module. Each
 * tests/test_<module>.c defines `Suite *vt_test_<module>_suite(void)`;
 * add one X(<module>) line here for it.
 */
#ifndef VT_SUITES_H
#define VT_SUITES_H

#include <check.h>

#define VT_TEST_SUITES(X) \
	X(config) \
	X(log) \
	X(sd_notify) \
	X(sketch) \
	X(ewma) \
	X(cardinality) \
	X(hash) \
	X(statsd) \
	X(mapping) \
	X(agg) \
	X(ingest) \
	X(names) \
	X(prom) \
	X(prom_proto) \
	X(buf) \
	X(queue) \
	X(published) \
	X(rrd_layout) \
	X(rrd_direct) \
	X(rrd_held) \
	X(rrd_store) \
	X(rrd_write_behind) \
	X(forkserver) \
	X(rrd_updater) \
	X(dynlib) \
	X(health_json) \
	X(health) \
	X(health_store) \
	X(alert_config) \
	X(alert_state) \
	X(alert_flap) \
	X(alert_engine) \
	X(expect) \
	X(html) \
	X(http_gate) \
	X(trends) \
	X(calls) \
	X(catalogue) \
	X(amqp_url) \
	X(amqp_backoff) \
	X(amqp_link) \
	X(fleet) \
	X(relay_batch) \
	X(graphite) \
	X(data_dir)

#define VT_DECLARE_SUITE(m) Suite *vt_test_##m##_suite(void);
VT_TEST_SUITES(VT_DECLARE_SUITE)
#undef VT_DECLARE_SUITE

#endif
