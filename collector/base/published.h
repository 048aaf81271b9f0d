/*
 * published.h - the latest of a series of immutable, reference-counted
 * objects, published by one thread and read by others: the last closed
 * window, the tile trends, the health snapshot, the Prometheus model.
 *
 * Two pieces, written once:
 *
 * struct vt_ref, the reference count such an object embeds as its FIRST
 * member (VT_REF_FIRST checks that at compile time), with the function
 * that frees the object on its last release. The type keeps its own
 * typed retain/release (vt_flush_retain, vt_trends_release, ...), each a
 * line over vt_ref_retain/vt_ref_release.
 *
 * struct vt_published, a slot holding one reference to the latest object
 * (or NULL), under a mutex held only to swap or retain the pointer: a
 * reader never waits on the publisher's work, and the old object is
 * released outside the lock (so its destroy may be slow).
 *
 * Threads: every function here may be called from any thread. Objects
 * reached through a slot must be immutable once published, apart from
 * their count.
 */
#ifndef VT_PUBLISHED_H
#define VT_PUBLISHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

struct vt_ref {
	atomic_int count;
	void (*destroy)(void *obj);  /* frees the object on the last release */
};

/* For a type that embeds `struct vt_ref ref`: fail the build unless ref
 * is its first member, which vt_ref_retain and the slot rely on. */
#define VT_REF_FIRST(type) \
	_Static_assert(offsetof(type, ref) == 0, \
	    #type " must begin with its struct vt_ref")

/* One reference, held by the caller; destroy(obj) runs on the last
 * release, with obj the object that begins with r. */
void vt_ref_init(struct vt_ref *r, void (*destroy)(void *obj));

/*
 * Take another reference to the object that begins with r and return
 * that object. The object is const to its readers; the count is its one
 * mutable field, so a holder of a const pointer may retain it and gets a
 * non-const pointer back, for the release. (The one cast that drops
 * const for this is inside.)
 */
void *vt_ref_retain(const struct vt_ref *r);

/* Drop a reference; the last one calls destroy. */
void vt_ref_release(struct vt_ref *r);

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
