/*
 * fuzz_common.h - what every libFuzzer target under tests/fuzz/ shares:
 * an assertion that reports the broken invariant and aborts (so libFuzzer
 * saves the input as a crash), and helpers to check the text rules that
 * several parsers promise.
 *
 * Targets are built with clang -fsanitize=fuzzer,address,undefined by
 * `make fuzz`; they check invariants, not just "does not crash".
 */
#ifndef VT_FUZZ_COMMON_H
#define VT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/base/utf8.h"
#include "collector/health/health_check.h"
#include "collector/statsd/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, \
		    __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* A slice lies inside buf[0..len) (or is the empty { NULL, 0 }). */
static inline int fuzz_inside(const char *ptr, size_t n, const char *buf,
    size_t len)
{
	if (ptr == NULL)
		return n == 0;
	return ptr >= buf && ptr <= buf + len && n <= (size_t)(buf + len - ptr);
}

/* s is valid UTF-8 (vt_utf8_clean would not change it). */
static inline int fuzz_valid_utf8(const char *s, size_t len)
{
	size_t i = 0, n;
	while (i < len) {
		if (!vt_utf8_next(s + i, len - i, &n))
			return 0;
		i += n;
	}
	return 1;
}

/* No byte below 0x20 and no 0x7f, except those in `allowed`. */
static inline int fuzz_no_controls(const char *s, size_t len,
    const char *allowed)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 || c == 0x7f) && (c == 0 ||
		    strchr(allowed, c) == NULL))
			return 0;
	}
	return 1;
}

/* A NUL-terminated field of cap bytes holds a string of 1..cap-1 bytes. */
static inline size_t fuzz_field_len(const char *field, size_t cap)
{
	return strnlen(field, cap);
}

/* A name field of struct vt_check: 1..VT_CHECK_TEXT_MAX bytes of valid
 * UTF-8 without control characters, NUL-terminated inside the field. */
static inline void fuzz_check_name(const char *field, const char *what)
{
	size_t n = strnlen(field, VT_CHECK_TEXT_MAX + 1);
	FUZZ_ASSERT(n >= 1 && n <= VT_CHECK_TEXT_MAX, "%s: %zu bytes", what, n);
	FUZZ_ASSERT(fuzz_valid_utf8(field, n), "%s: invalid UTF-8", what);
	FUZZ_ASSERT(fuzz_no_controls(field, n, ""), "%s: control byte", what);
}

/* Every rule health_check.h promises for an accepted check. */
static inline void fuzz_check_valid(const struct vt_check *c)
{
	fuzz_check_name(c->service, "service");
	fuzz_check_name(c->instance, "instance");
	fuzz_check_name(c->check, "check");
	size_t n = strnlen(c->output, VT_CHECK_OUTPUT_MAX + 1);
	FUZZ_ASSERT(n <= VT_CHECK_OUTPUT_MAX, "output: %zu bytes", n);
	FUZZ_ASSERT(fuzz_valid_utf8(c->output, n), "output: invalid UTF-8");
	FUZZ_ASSERT(fuzz_no_controls(c->output, n, "\n\t"),
	    "output: control byte");
	FUZZ_ASSERT((unsigned)c->status <= VT_STATUS_UNKNOWN, "status %d",
	    c->status);
	FUZZ_ASSERT(vt_health_check_ttl_ok(c->ttl), "ttl %g", c->ttl);
	FUZZ_ASSERT(c->timestamp == c->timestamp, "timestamp NaN");
}

/* An error message: non-empty, one line, NUL-terminated in its buffer. */
static inline void fuzz_message(const char *msg, size_t cap, const char *what)
{
	size_t n = strnlen(msg, cap);
	FUZZ_ASSERT(n > 0 && n < cap, "%s: message of %zu bytes", what, n);
	FUZZ_ASSERT(memchr(msg, '\n', n) == NULL, "%s: message \"%s\" has a "
	    "newline", what, msg);
}

#endif
