/*
 * utf8.h - well-formed UTF-8 out of any bytes: every text a client sent
 * passes through here before it reaches JSON, HTML, the exposition format
 * or a log. Pure functions over caller memory.
 */
#ifndef VT_UTF8_H
#define VT_UTF8_H

#include <stddef.h>

/*
 * Copy s[0..len) into out as valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF): each maximal ill-formed subpart
 * becomes one U+FFFD (the Unicode "substitution of maximal subparts"
 * practice). Returns the bytes needed, excluding the NUL (at most 3 * len:
 * compare with outlen to detect a cut); a character is never cut in half when out is too small.
 */
size_t vt_utf8_clean(char *out, size_t outlen, const char *s, size_t len);

/*
 * Decode step shared with the escapers: look at s[0..len), len > 0.
 * Returns 1 when it starts with a well-formed character of *n bytes, 0 when
 * it starts with an ill-formed subpart of *n bytes (to be replaced by one
 * U+FFFD). *n is always at least 1.
 */
int vt_utf8_next(const char *s, size_t len, size_t *n);

#endif
