/*
 * data_dir.h - the data directory made ready at start: created with its
 * parents, resolved (symbolic links followed), and refused when it is the
 * root or a system directory, where a sending service named "etc" or
 * "usr" would get a directory of its own (the store makes one per
 * service).
 */
#ifndef VT_DATA_DIR_H
#define VT_DATA_DIR_H

#include <stddef.h>

/* The system directory resolved lies in ("/", "/etc", ..., or anything
 * under /proc, /sys or /dev), or NULL when it is none of them. resolved
 * is an absolute path without symbolic links or "..". Pure. */
const char *vt_data_dir_system(const char *resolved);

/* Create dir and its parents (0755), resolve it into resolved (at least
 * PATH_MAX bytes) and refuse a system directory. 0, or -1 with err set
 * ("data_dir ./d resolves to /etc: ..."). */
int vt_data_dir_prepare(const char *dir, char *resolved, size_t resolvedlen,
    char *err, size_t errlen);

#endif
