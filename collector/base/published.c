/* published.c - the latest-object slot (published.h). */

#include "collector/base/published.h"
#include "collector/base/ref.h"

void vt_published_init(struct vt_published *p)
{
	pthread_mutex_init(&p->lock, NULL);
	p->obj = NULL;
}

void vt_published_fini(struct vt_published *p)
{
	if (p->obj != NULL)
		vt_ref_release(p->obj);
	p->obj = NULL;
	pthread_mutex_destroy(&p->lock);
}

void vt_published_set(struct vt_published *p, void *obj)
{
	pthread_mutex_lock(&p->lock);
	void *old = p->obj;
	p->obj = obj;
	pthread_mutex_unlock(&p->lock);
	if (old != NULL)
		vt_ref_release(old);
}

void *vt_published_get(struct vt_published *p)
{
	pthread_mutex_lock(&p->lock);
	void *obj = p->obj;
	if (obj != NULL)
		vt_ref_retain(obj);
	pthread_mutex_unlock(&p->lock);
	return obj;
}
