/* netaddr.c - address parsing and small socket helpers (netaddr.h). */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "collector/base/netaddr.h"
#include "collector/base/parse.h"

int vt_netaddr_resolve(const char *addr, int socktype,
    struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen)
{
	char host[VT_ADDR_LEN], service[16];
	int port;
	if (vt_parse_addr(addr, host, sizeof host, &port) < 0) {
		snprintf(err, errlen, "%s: expected host:port", addr);
		return -1;
	}
	snprintf(service, sizeof service, "%d", port);
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = socktype,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host[0] ? host : NULL, service, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "%s: %s", addr, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int vt_netaddr_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

void vt_netaddr_ip(const struct sockaddr *sa, char *out, size_t outlen)
{
	const void *src = NULL;
	if (sa && sa->sa_family == AF_INET)
		src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa && sa->sa_family == AF_INET6)
		src = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (src == NULL || inet_ntop(sa->sa_family, src, out,
	    (socklen_t)outlen) == NULL)
		snprintf(out, outlen, "unknown");
}

int vt_netaddr_is_loopback(const struct sockaddr *sa)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		const uint8_t *b = in6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127;
	}
	return 0;
}
