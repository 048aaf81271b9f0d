/*
 * rrd_sweep.h - remove what a killed daemon left half-made in the data
 * directory.
 *
 * librrd creates a file as "<name>.rrdXXXXXX" (mkstemp) and renames it to
 * "<name>.rrd" when it is complete, so a kill -9 during a create leaves
 * the temporary file behind and never a torn ".rrd". Our own names always
 * end in ".rrd" (rrd_layout.h), so a regular file whose name is ".rrd"
 * plus six letters or digits can only be such a leftover.
 *
 * The sweep looks where rrd_layout puts files: <dir>/<service>/ and
 * <dir>/<service>/checks/<instance>/. It never follows a symbolic link and
 * never leaves the directory. Runs on the writer thread before its first
 * round, so start-up does not wait for it.
 */
#ifndef VT_RRD_SWEEP_H
#define VT_RRD_SWEEP_H

#include <stddef.h>

/* 1 when name is a librrd create leftover ("x.rrdAb12Cd"). */
int vt_rrd_sweep_is_leftover(const char *name);

/* Unlink every leftover under data_dir (absolute). Returns how many. */
size_t vt_rrd_sweep(const char *data_dir);

#endif
