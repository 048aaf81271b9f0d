/* ref.c - reference counts of shared immutable objects (ref.h). */
#include <stdint.h>

#include "collector/base/ref.h"

void vt_ref_init(struct vt_ref *r, void (*destroy)(void *obj))
{
	atomic_init(&r->count, 1);
	r->destroy = destroy;
}

void *vt_ref_retain(const struct vt_ref *r)
{
	/* The count is the one field a reader changes: objects are const
	 * to their readers but never defined const (they are allocated),
	 * so writing the count through this pointer is defined. The cast
	 * through uintptr_t says so to -Wcast-qual. */
	struct vt_ref *m = (struct vt_ref *)(uintptr_t)r;
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
	return m;
}

void vt_ref_release(struct vt_ref *r)
{
	/* acq_rel: every holder's use happens before the destroy. */
	if (atomic_fetch_sub_explicit(&r->count, 1,
	    memory_order_acq_rel) == 1)
		r->destroy(r);
}
