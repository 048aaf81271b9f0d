/*
 * tags.h - reading the DogStatsD tag list of an accepted line
 * ("a:1,b,c:x:y", the raw text of struct vt_sample.tags or
 * vt_check_report.tags). The parser (statsd.h) decides what a valid list
 * is; this only walks one it accepted, so the aggregator, the relay and
 * the healthchecks read tags without calling the parser. Pure.
 */
#ifndef VT_TAGS_H
#define VT_TAGS_H

#include <stddef.h>

#include "collector/base/vt_types.h"

/*
 * The next tag of a list. *pos starts at 0. Returns 1 and fills key and
 * value (value.len 0 and value.ptr NULL for a valueless tag; the value is
 * everything after the first ':'), or 0 at the end. Both borrow the list.
 */
int vt_tags_next(struct vt_slice tags, size_t *pos, struct vt_slice *key,
    struct vt_slice *value);

#endif
