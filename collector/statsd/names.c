/*
 * names.c - service attribution (SPEC 3.1) and the name sanitisers every
 * output needs: Prometheus names, file names and valid UTF-8 text.
 *
 * All functions are pure: they read caller memory and write into a caller
 * buffer with snprintf-like truncation, returning the length they needed.
 */
#include <string.h>

#include "collector/statsd/names.h"

void vt_names_split(struct vt_slice name, struct vt_slice service_tag,
    struct vt_slice *service, struct vt_slice *metric)
{
	static const char default_service[] = VT_DEFAULT_SERVICE;

	*metric = name;
	if (service_tag.len > 0) {
		*service = service_tag;
		return;
	}
	const char *dot = name.len ? memchr(name.ptr, '.', name.len) : NULL;
	/* Split only when both the service and the metric are non-empty. */
	if (dot != NULL && dot != name.ptr && dot + 1 != name.ptr + name.len) {
		service->ptr = name.ptr;
		service->len = (size_t)(dot - name.ptr);
		metric->ptr = dot + 1;
		metric->len = name.len - service->len - 1;
		return;
	}
	service->ptr = default_service;
	service->len = sizeof default_service - 1;
}

/* Append byte c at position pos when it fits (leaving room for the NUL). */
static void put_byte(char *out, size_t outlen, size_t pos, char c)
{
	if (pos + 1 < outlen)
		out[pos] = c;
}

static void terminate(char *out, size_t outlen, size_t pos)
{
	if (outlen == 0)
		return;
	out[pos < outlen ? pos : outlen - 1] = '\0';
}

static int is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

size_t vt_names_prometheus(char *out, size_t outlen, const char *name,
    size_t len)
{
	size_t pos = 0;

	if (len == 0 || is_digit((unsigned char)name[0]))
		put_byte(out, outlen, pos++, '_');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		char keep = (is_alpha(c) || is_digit(c) || c == '_') ?
		    (char)c : '_';
		put_byte(out, outlen, pos++, keep);
	}
	terminate(out, outlen, pos);
	return pos;
}

size_t vt_names_file(char *out, size_t outlen, const char *name, size_t len)
{
	size_t pos = 0;

	/* Empty, ".", ".." and every dot-file start with '.' or are empty:
	 * one rule covers them all. */
	if (len == 0 || name[0] == '.')
		put_byte(out, outlen, pos++, '_');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		int ok = is_alpha(c) || is_digit(c) || c == '.' || c == '_' ||
		    c == '-';
		put_byte(out, outlen, pos++, ok ? (char)c : '_');
	}
	terminate(out, outlen, pos);
	return pos;
}

