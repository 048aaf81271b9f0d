/*
 * main.c - vitalsd: configuration in, daemon run, exit status out.
 * Exit 0 after an orderly stop, 1 when the daemon cannot start (a port in
 * use, say), 2 for bad configuration or an unknown flag.
 */
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "collector/alerts/alert_config.h"
#include "collector/alerts/expect.h"
#include "collector/base/log.h"
#include "collector/config/config.h"
#include "collector/config/config_json.h"
#include "collector/daemon/daemon.h"
#include "collector/relay/relay.h"
#include "collector/statsd/mapping_yaml.h"
#include "exporters/rrd/rrd_files.h"
#include "exporters/rrd/rrd_layout.h"

/*
 * Two malloc settings, set before any thread starts (docs/benchmarks.md):
 * - A fixed mmap threshold. glibc raises it after each large block it
 *   frees (up to 32 MiB), so a closed window's arrays (about 2 MB at
 *   10,000 metrics, one per window) and a scrape's model soon come from
 *   the heap, where what they leave behind stays in RSS. Fixed, every
 *   block of 128 KiB or more is its own mapping and goes back to the
 *   kernel when freed: at 10,000 mixed names the peak RSS drops by 2.6 MB.
 * - One arena. glibc gives threads arenas of their own (up to 8 per
 *   core), each keeping freed memory; the daemon's threads allocate
 *   little on their hot paths (the ingest loop nothing per line; small
 *   blocks come from each thread's cache), so sharing one costs no
 *   measurable CPU (bench-load c: 120 ns/line either way) and saves
 *   about 0.3 MB.
 */
static void tune_malloc(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_ARENA_MAX, 1);
#endif
}

/* A configuration error: printed with its line (config_json.h), exit 2. */
static int bad_config(char *err, size_t errlen)
{
	vt_config_json_add_line(err, errlen);
	fprintf(stderr, "%s\n", err);
	return 2;
}

int main(int argc, char **argv)
{
	struct vt_config cfg;
	char err[VT_ERR_LEN * 2];

	tune_malloc();

	switch (vt_config_from_args(&cfg, argc, argv, err, sizeof err)) {
	case VT_CONFIG_EXIT_OK:
		return 0;
	case VT_CONFIG_ERROR:
		return bad_config(err, sizeof err);
	case VT_CONFIG_RUN:
		break;
	}
	/* The "alerts" section belongs to the alert engine (read again on
	 * SIGHUP); a bad rule stops the start and --check-config too. */
	struct vt_alert_config *ac = vt_alert_config_load(cfg.config_file,
	    cfg.percentiles, cfg.npercentiles, err, sizeof err);
	if (ac == NULL) {
		return bad_config(err, sizeof err);
	}
	vt_alert_config_release(ac);
	/* So do the expectations (alerts/expect.h), their own section. */
	struct vt_expect_config *xc = vt_expect_config_load(cfg.config_file,
	    cfg.percentiles, cfg.npercentiles, err, sizeof err);
	if (xc == NULL) {
		return bad_config(err, sizeof err);
	}
	vt_expect_config_release(xc);
	/* Mapping rules (mapping_file, the "mappings" section): the daemon
	 * reads them again at start; a bad rule stops the start here. */
	vt_mapping *maps;
	if (vt_mapping_load(cfg.mapping_file, cfg.config_file, &maps, err,
	    sizeof err) < 0) {
		return bad_config(err, sizeof err);
	}
	vt_mapping_destroy(maps);
	/* What new RRD files store (rrd_layout.h), before any file is made. */
	struct vt_rrd_layout_opts lo;
	if (vt_rrd_layout_opts_from_config(cfg.rrd_timer_stats,
	    cfg.rrd_counter_stats, cfg.rrd_max_archives, cfg.rrd_retention,
	    &lo, err,
	    sizeof err) < 0) {
		return bad_config(err, sizeof err);
	}
	vt_rrd_layout_set_opts(&lo);
	if (vt_rrd_files_load_overrides(cfg.config_file, &lo, err,
	    sizeof err) < 0) {
		return bad_config(err, sizeof err);
	}
	vt_log_set_level((enum vt_log_level)cfg.log_level);
	if (cfg.check_config) {
		/* stdout carries the JSON document alone (so it pipes into
		 * jq); the verdict is for the person, on stderr, with the
		 * bytes each kind of file takes. */
		vt_config_print(&cfg, stdout);
		if (fflush(stdout) != 0) {
			perror("vitalsd: stdout");
			return 1;
		}
		vt_rrd_files_print_sizes(stderr, cfg.flush_interval,
		    cfg.rrd_points, cfg.percentiles, cfg.npercentiles);
		fprintf(stderr, "configuration ok\n");
		return 0;
	}

	if (cfg.relay_enabled) {
		vt_relay *r = vt_relay_create(&cfg, err, sizeof err);
		if (r == NULL) {
			vt_log_error("main", "cannot start: %s", err);
			return 1;
		}
		int status = vt_relay_run(r);
		vt_relay_destroy(r);
		return status;
	}
	vt_daemon *d = vt_daemon_create(&cfg, err, sizeof err);
	if (d == NULL) {
		vt_log_error("main", "cannot start: %s", err);
		return 1;
	}
	vt_daemon_set_args(d, argc, argv);     /* read again on SIGHUP */
	int status = vt_daemon_run(d);
	vt_daemon_destroy(d);
	return status;
}
