/* utf8.c - well-formed UTF-8 out of any bytes (utf8.h). */
#include <string.h>

#include "collector/base/utf8.h"

static int is_cont(unsigned char c)
{
	return c >= 0x80 && c <= 0xBF;
}

int vt_utf8_next(const char *s, size_t len, size_t *n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;  /* range of the second byte */

	*n = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;      /* overlong below U+0800 */
		else if (c == 0xED)
			hi = 0x9F;      /* UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;      /* overlong below U+10000 */
		else if (c == 0xF4)
			hi = 0x8F;      /* above U+10FFFF */
	} else {
		return 0;               /* 80-C1, F5-FF: never valid */
	}
	if (len < 2 || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++) {
		if (i >= len || !is_cont(p[i])) {
			*n = i;
			return 0;
		}
	}
	*n = need;
	return 1;
}

size_t vt_utf8_clean(char *out, size_t outlen, const char *s, size_t len)
{
	static const char replacement[] = "\xEF\xBF\xBD";
	size_t pos = 0;      /* bytes needed so far */
	size_t written = 0;  /* bytes written: whole characters only */

	for (size_t i = 0; i < len;) {
		size_t n;
		const char *src = s + i;
		size_t w;
		if (vt_utf8_next(s + i, len - i, &n)) {
			w = n;
		} else {
			src = replacement;
			w = 3;
		}
		/* Once one character does not fit, write no later ones. */
		if (written == pos && pos + w < outlen) {
			memcpy(out + pos, src, w);
			written += w;
		}
		pos += w;
		i += n;
	}
	if (outlen > 0)
		out[written] = '\0';
	return pos;
}
