/*
 * ref.h - the reference count of an immutable object shared between
 * threads (a closed window, a snapshot, a model), written once.
 *
 * The object embeds struct vt_ref as its FIRST member (VT_REF_FIRST
 * checks that at compile time), with the function that frees the object
 * on its last release. The type keeps its own typed retain/release
 * (vt_flush_retain, vt_trends_release, ...), each a line over
 * vt_ref_retain/vt_ref_release. Thread-safe.
 */
#ifndef VT_REF_H
#define VT_REF_H

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

#endif
