/*
 * fdio.h - whole reads and writes on a file descriptor, the one copy:
 * loops over short counts and EINTR, so callers see all or an error.
 * Used by the state files, the fork server's replies and the RRD files
 * written in place.
 *
 * Each returns 0, or a negative errno (-EIO for a write that wrote
 * nothing; -ENODATA for a read that met the end of the file first).
 */
#ifndef VT_FDIO_H
#define VT_FDIO_H

#include <stddef.h>
#include <sys/types.h>

int vt_fd_write_all(int fd, const void *buf, size_t len);
int vt_fd_pwrite_all(int fd, const void *buf, size_t len, off_t off);
int vt_fd_pread_all(int fd, void *buf, size_t len, off_t off);

#endif
