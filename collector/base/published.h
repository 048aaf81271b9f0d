/*
 * published.h - the latest of a series of immutable, reference-counted
 * objects (ref.h), published by one thread and read by others: the last
 * closed window, the tile trends, the health snapshot, the Prometheus
 * model.
 *
 * struct vt_published is a slot holding one reference to the latest
 * object (or NULL), under a mutex held only to swap or retain the
 * pointer: a reader never waits on the publisher's work, and the old
 * object is released outside the lock (so its destroy may be slow).
 *
 * Threads: every function here may be called from any thread. Objects
 * reached through a slot must be immutable once published, apart from
 * their count.
 */
#ifndef VT_PUBLISHED_H
#define VT_PUBLISHED_H

#include <pthread.h>

#include "collector/base/ref.h"

struct vt_published {
	pthread_mutex_t lock;        /* guards obj */
	void *obj;                   /* one reference, or NULL */
};

/* An empty slot: vt_published_get returns NULL until the first set. */
void vt_published_init(struct vt_published *p);

/* Release the object held, if any. No thread may use p any more. */
void vt_published_fini(struct vt_published *p);

/*
 * Publish obj (an object beginning with struct vt_ref, or NULL), taking
 * over the caller's reference to it. The previous object's reference is
 * released after the lock is dropped; readers holding their own keep it.
 */
void vt_published_set(struct vt_published *p, void *obj);

/* The latest object with a new reference for the caller (release it with
 * the type's release), or NULL when nothing is published. */
void *vt_published_get(struct vt_published *p);

#endif
