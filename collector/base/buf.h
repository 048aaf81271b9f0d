/*
 * buf.h - a growable byte buffer for building output (exposition text,
 * JSON, HTML). Appends never fail (vt_xrealloc aborts on out-of-memory) and
 * never truncate. The buffer always holds a terminating NUL after len.
 *
 * A struct vt_buf is a value: zero-initialise or vt_buf_init, vt_buf_fini.
 */
#ifndef VT_BUF_H
#define VT_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct vt_buf {
	char *data;   /* NUL-terminated when non-NULL; owned */
	size_t len;
	size_t cap;
};

void vt_buf_init(struct vt_buf *b);
void vt_buf_fini(struct vt_buf *b);
void vt_buf_reset(struct vt_buf *b);              /* len = 0, keeps memory */
void vt_buf_reserve(struct vt_buf *b, size_t extra);
void vt_buf_append(struct vt_buf *b, const void *data, size_t len);
void vt_buf_puts(struct vt_buf *b, const char *s);
void vt_buf_putc(struct vt_buf *b, char c);
void vt_buf_printf(struct vt_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vt_buf_vprintf(struct vt_buf *b, const char *fmt, va_list ap);
/* Shortest round-tripping text of a double ("NaN", "+Inf", "-Inf"). */
void vt_buf_put_double(struct vt_buf *b, double v);
/* The same for a finite v, into out rather than a buffer (an RRD file
 * keeps the text of its last update); returns its length. */
#define VT_DOUBLE_TEXT 32
int vt_double_text(char out[VT_DOUBLE_TEXT], double v);
/* Take the data out (caller frees); the buffer is left empty. */
char *vt_buf_steal(struct vt_buf *b, size_t *len);

#endif
