/*
 * log.c - event log on stderr (see log.h).
 *
 * Each line is formatted into a stack buffer and written with a single
 * write(2) on fd 2, which is what keeps lines of concurrent threads whole.
 * The minimum level and whether stderr is the journal are the only state:
 * static atomics, read relaxed.
 * Complaints (struct vt_complaint) belong to their caller.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector/base/clock.h"
#include "collector/base/log.h"

static _Atomic int vt_log_min_level = VT_LOG_INFO;
/* -1: not looked yet; 0: plain lines; 1: stderr is the journal. */
static _Atomic int vt_log_journal = -1;

/* syslog priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const char level_priorities[] = {
	[VT_LOG_DEBUG] = '7',
	[VT_LOG_INFO] = '6',
	[VT_LOG_WARN] = '4',
	[VT_LOG_ERROR] = '3',
};

static const char *const level_tags[] = {
	[VT_LOG_DEBUG] = "DEBUG",
	[VT_LOG_INFO] = "INFO",
	[VT_LOG_WARN] = "WARN",
	[VT_LOG_ERROR] = "ERROR",
};

static const char *const level_names[] = {
	[VT_LOG_DEBUG] = "debug",
	[VT_LOG_INFO] = "info",
	[VT_LOG_WARN] = "warn",
	[VT_LOG_ERROR] = "error",
};

static int clamp_level(int level)
{
	if (level < VT_LOG_DEBUG)
		return VT_LOG_DEBUG;
	if (level > VT_LOG_ERROR)
		return VT_LOG_ERROR;
	return level;
}

void vt_log_set_level(enum vt_log_level level)
{
	atomic_store_explicit(&vt_log_min_level, clamp_level((int)level),
	    memory_order_relaxed);
}

int vt_log_enabled(enum vt_log_level level)
{
	return clamp_level((int)level) >=
	    atomic_load_explicit(&vt_log_min_level, memory_order_relaxed);
}

int vt_log_level_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = VT_LOG_DEBUG; i <= VT_LOG_ERROR; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	if (strcmp(name, "warning") == 0)
		return VT_LOG_WARN;
	return -1;
}

const char *vt_log_level_name(enum vt_log_level level)
{
	if ((int)level < VT_LOG_DEBUG || (int)level > VT_LOG_ERROR)
		return "?";
	return level_names[level];
}

int vt_log_detect_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int saved = errno, on = 0, end = 0;

	if (env != NULL && sscanf(env, "%llu:%llu%n", &dev, &ino, &end) == 2 &&
	    env[end] == '\0' && fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino)
		on = 1;
	atomic_store_explicit(&vt_log_journal, on, memory_order_relaxed);
	errno = saved;
	return on;
}

static int to_journal(void)
{
	int on = atomic_load_explicit(&vt_log_journal, memory_order_relaxed);
	return on >= 0 ? on : vt_log_detect_journal();
}

/* Write all of [p, p+len) to stderr; a log line has nowhere to report a
 * failure, so errors other than EINTR just drop the rest. */
static void write_all(const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Append printf output at *len, clamping at the end of the line buffer
 * (keeping room for "...\n"). Returns 1 if the output was cut. */
static int line_vappend(char *line, size_t *len, const char *fmt, va_list ap)
{
	size_t room = VT_LOG_LINE_MAX - 4 - *len;
	int n = vsnprintf(line + *len, room + 1, fmt, ap);
	if (n < 0)
		return 0;
	if ((size_t)n > room) {
		*len += room;
		return 1;
	}
	*len += (size_t)n;
	return 0;
}

static int line_append(char *line, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int line_append(char *line, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int cut = line_vappend(line, len, fmt, ap);
	va_end(ap);
	return cut;
}

/*
 * Format and write one line. `errnum` >= 0 appends ": strerror(errnum)";
 * `suppressed` > 0 appends the repeat count of a complaint.
 */
static void emit(enum vt_log_level level, const char *subsystem, int errnum,
    unsigned long suppressed, const char *fmt, va_list ap)
{
	char line[VT_LOG_LINE_MAX];
	size_t len = 0;
	struct timespec ts;
	struct tm tm;
	size_t head;
	int cut;

	if (to_journal()) {     /* the journal adds time and keeps the level */
		head = 3;
		cut = line_append(line, &len, "<%c>%s: ",
		    level_priorities[clamp_level((int)level)],
		    subsystem ? subsystem : "vitalsd");
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		len = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
		head = len;
		cut = line_append(line, &len, ".%03ldZ %s %s: ",
		    ts.tv_nsec / 1000000L, level_tags[clamp_level((int)level)],
		    subsystem ? subsystem : "vitalsd");
	}
	if (!cut)
		cut = line_vappend(line, &len, fmt, ap);
	if (!cut && errnum >= 0) {
		char ebuf[128];
		/* GNU strerror_r (-D_GNU_SOURCE): returns the message. */
		cut = line_append(line, &len, ": %s",
		    strerror_r(errnum, ebuf, sizeof ebuf));
	}
	if (!cut && suppressed > 0)
		cut = line_append(line, &len, " (%lu more since last report)",
		    suppressed);
	for (size_t i = head; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}
	if (cut) {
		memcpy(line + len, "...", 3);
		len += 3;
	}
	line[len++] = '\n';
	write_all(line, len);
}

void vt_log(enum vt_log_level level, const char *subsystem,
    const char *fmt, ...)
{
	if (!vt_log_enabled(level))
		return;
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	emit(level, subsystem, -1, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void vt_log_warn_errno(const char *subsystem, const char *fmt, ...)
{
	int saved = errno;
	if (!vt_log_enabled(VT_LOG_WARN))
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(VT_LOG_WARN, subsystem, saved, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

int vt_log_complain_due(struct vt_complaint *c, time_t now,
    unsigned long *suppressed)
{
	if (!c->active) {
		c->active = 1;
		c->last = now;
		c->interval = VT_LOG_COMPLAIN_FIRST;
		c->suppressed = 0;
		*suppressed = 0;
		return 1;
	}
	if (now - c->last < c->interval) {
		c->suppressed++;
		return 0;
	}
	*suppressed = c->suppressed;
	c->suppressed = 0;
	c->last = now;
	c->interval = c->interval >= VT_LOG_COMPLAIN_MAX / 2 ?
	    VT_LOG_COMPLAIN_MAX : c->interval * 2;
	return 1;
}

void vt_log_complain(struct vt_complaint *c, enum vt_log_level level,
    const char *subsystem, const char *fmt, ...)
{
	int saved = errno;
	unsigned long suppressed;
	if (!vt_log_complain_due(c, (time_t)vt_clock_mono(), &suppressed))
		return;
	if (vt_log_enabled(level)) {
		va_list ap;
		va_start(ap, fmt);
		emit(level, subsystem, -1, suppressed, fmt, ap);
		va_end(ap);
	}
	errno = saved;
}

void vt_log_recovered(struct vt_complaint *c, const char *subsystem,
    const char *fmt, ...)
{
	int saved = errno;
	if (!c->active)
		return;
	unsigned long suppressed = c->suppressed;
	c->active = 0;
	c->last = 0;
	c->interval = 0;
	c->suppressed = 0;
	if (vt_log_enabled(VT_LOG_INFO)) {
		va_list ap;
		va_start(ap, fmt);
		emit(VT_LOG_INFO, subsystem, -1, suppressed, fmt, ap);
		va_end(ap);
	}
	errno = saved;
}
