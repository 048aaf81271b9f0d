/*
 * log.h - one line per event on stderr: "<time> <LEVEL> <subsystem>: <msg>".
 *
 * Never log per received line: bad input becomes a counter. For repeated
 * failures (disk full, broker down) use a struct vt_complaint, which logs
 * the first occurrence and then at most once per backoff period, doubling
 * up to an hour, and logs once more when vt_log_recovered() is called.
 */
#ifndef VT_LOG_H
#define VT_LOG_H

#include <time.h>

enum vt_log_level { VT_LOG_DEBUG = 0, VT_LOG_INFO, VT_LOG_WARN, VT_LOG_ERROR };

/* Set the minimum level printed (default VT_LOG_INFO). Thread-safe. */
void vt_log_set_level(enum vt_log_level level);
/* "debug", "info", "warn", "error" -> level; returns -1 if unknown. */
int vt_log_level_parse(const char *name);

void vt_log(enum vt_log_level level, const char *subsystem,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define vt_log_debug(sub, ...) vt_log(VT_LOG_DEBUG, sub, __VA_ARGS__)
#define vt_log_info(sub, ...)  vt_log(VT_LOG_INFO, sub, __VA_ARGS__)
#define vt_log_warn(sub, ...)  vt_log(VT_LOG_WARN, sub, __VA_ARGS__)
#define vt_log_error(sub, ...) vt_log(VT_LOG_ERROR, sub, __VA_ARGS__)

/* Like vt_log_warn, with ": <strerror(errno)>" appended. */
void vt_log_warn_errno(const char *subsystem, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Rate-limited complaints about one recurring condition. Zero-initialise. */
struct vt_complaint {
	time_t last;       /* when we last logged */
	int interval;      /* current backoff, seconds */
	unsigned long suppressed;
	int active;
};

void vt_log_complain(struct vt_complaint *c, enum vt_log_level level,
    const char *subsystem, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The condition cleared: log it once (if we complained) and reset. */
void vt_log_recovered(struct vt_complaint *c, const char *subsystem,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
