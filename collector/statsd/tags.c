/* tags.c - walking an accepted DogStatsD tag list (tags.h). */
#include <string.h>

#include "collector/statsd/tags.h"

int vt_tags_next(struct vt_slice tags, size_t *pos, struct vt_slice *key,
    struct vt_slice *value)
{
	if (*pos >= tags.len)
		return 0;
	const char *s = tags.ptr + *pos, *end = tags.ptr + tags.len;
	const char *comma = memchr(s, ',', (size_t)(end - s));
	const char *tend = comma ? comma : end;
	const char *colon = memchr(s, ':', (size_t)(tend - s));

	if (colon) {
		*key = (struct vt_slice){ s, (size_t)(colon - s) };
		*value = (struct vt_slice){ colon + 1, (size_t)(tend - colon - 1) };
	} else {
		*key = (struct vt_slice){ s, (size_t)(tend - s) };
		*value = (struct vt_slice){ NULL, 0 };
	}
	*pos = (size_t)(tend - tags.ptr) + (comma ? 1 : 0);
	return 1;
}
