/*
 * fdio.c - whole reads and writes on a file descriptor (fdio.h).
 */
#include <errno.h>
#include <unistd.h>

#include "collector/base/fdio.h"

/* off < 0: write(2) at the file position; else pwrite(2) at off. */
static int put(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

int vt_fd_write_all(int fd, const void *buf, size_t len)
{
	return put(fd, buf, len, -1);
}

int vt_fd_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	return put(fd, buf, len, off < 0 ? 0 : off);
}

int vt_fd_pread_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENODATA;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}
