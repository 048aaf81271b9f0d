/*
 * netaddr.h - "host:port" text to a bound socket.
 */
#ifndef VT_NETADDR_H
#define VT_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * Resolve addr ("0.0.0.0:8125", "[::1]:8080", ":8125") and fill *ss.
 * 0, or -1 with err set.
 */
int vt_netaddr_resolve(const char *addr, int socktype,
    struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen);

/* The port a socket is bound to, or -1. */
int vt_netaddr_local_port(int fd);

/* The IP address of sa as text, no port ("10.0.0.7", "::1"). */
void vt_netaddr_ip(const struct sockaddr *sa, char *out, size_t outlen);

/* 1 when sa is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x). */
int vt_netaddr_is_loopback(const struct sockaddr *sa);

#endif
