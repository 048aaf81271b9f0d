/*
 * log.h - one line per event on stderr: "<time> <LEVEL> <subsystem>: <msg>",
 * e.g. "2026-11-22T10:00:00.123Z INFO statsd: listening on 0.0.0.0:8125".
 * The time is UTC with milliseconds. Each line goes out in one write(2), so
 * lines from different threads never interleave; control characters in the
 * message are replaced by '?' so an event is always exactly one line, and a
 * message longer than VT_LOG_LINE_MAX is cut and ends in "...". errno is
 * preserved across every call here.
 *
 * Under systemd, when stderr is the journal ($JOURNAL_STREAM names stderr's
 * device and inode, see systemd.exec(5)), a line is instead
 * "<N>subsystem: msg" with the syslog priority N (3 error, 4 warn, 6 info,
 * 7 debug) that journald turns into the entry's level, and no time of its
 * own: the journal stamps every entry.
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

#define VT_LOG_LINE_MAX 2048          /* bytes in one log line, with '\n' */
#define VT_LOG_COMPLAIN_FIRST 10      /* first backoff period, seconds */
#define VT_LOG_COMPLAIN_MAX 3600      /* longest backoff period, seconds */

/* Set the minimum level printed (default VT_LOG_INFO). Thread-safe; values
 * outside the enum are clamped. */
void vt_log_set_level(enum vt_log_level level);
/* Whether a message at this level would be printed now. Thread-safe. */
int vt_log_enabled(enum vt_log_level level);
/* "debug", "info", "warn" (or "warning"), "error" -> level; -1 if unknown. */
int vt_log_level_parse(const char *name);
/* The config-file name of a level ("debug", ...); "?" if out of range.
 * Returns a static string. */
const char *vt_log_level_name(enum vt_log_level level);

/* Look (again) whether stderr is the journal, and write lines for it from
 * now on if so. Done by the first line logged; call it again after
 * redirecting fd 2. Returns 1 for the journal, 0 for plain lines. */
int vt_log_detect_journal(void);

void vt_log(enum vt_log_level level, const char *subsystem,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define vt_log_debug(sub, ...) vt_log(VT_LOG_DEBUG, sub, __VA_ARGS__)
#define vt_log_info(sub, ...)  vt_log(VT_LOG_INFO, sub, __VA_ARGS__)
#define vt_log_warn(sub, ...)  vt_log(VT_LOG_WARN, sub, __VA_ARGS__)
#define vt_log_error(sub, ...) vt_log(VT_LOG_ERROR, sub, __VA_ARGS__)

/* Like vt_log_warn, with ": <strerror(errno)>" appended (errno as it was
 * on entry). */
void vt_log_warn_errno(const char *subsystem, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Rate-limited complaints about one recurring condition. Zero-initialise.
 * One struct per condition, used by one thread (it is not locked). Times
 * are CLOCK_MONOTONIC seconds. A report after suppressed repeats ends in
 * " (N more since last report)".
 */
struct vt_complaint {
	time_t last;       /* when we last logged */
	int interval;      /* current backoff, seconds */
	unsigned long suppressed;
	int active;
};

void vt_log_complain(struct vt_complaint *c, enum vt_log_level level,
    const char *subsystem, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The condition cleared: log it once at INFO (if we complained) and reset. */
void vt_log_recovered(struct vt_complaint *c, const char *subsystem,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The backoff decision behind vt_log_complain, with the clock passed in
 * (for tests). Returns 1 if the occurrence at `now` should be logged, and
 * then sets *suppressed to the number of occurrences swallowed since the
 * last report; returns 0 (and counts it) otherwise.
 */
int vt_log_complain_due(struct vt_complaint *c, time_t now,
    unsigned long *suppressed);

#endif
