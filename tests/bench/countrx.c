/*
 * countrx.c - the benchmark's floor: a UDP receiver that only counts the
 * lines it receives, without parsing or aggregating them.
 *
 * It reads the way vitalsd does (recvmmsg batches of 32 into 64 KiB slots
 * at the same staggered stride,
 * the same 32 MiB receive buffer, and the same moderation: after a wake-up
 * it polls the socket every 4 ms until a poll finds it empty), so its CPU
 * per line is what the kernel's receive path costs on this machine at this
 * moment. `bench.py --scenario floor` runs it under scenario a8's load;
 * the daemon's figure minus this one is what parsing and aggregating cost.
 *
 * usage: vitals-countrx PORT
 * Prints "ready" once bound, its counts so far as one JSON line on
 * SIGUSR1, and again on SIGTERM or SIGINT, then exits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define SLOT 65536
#define STRIDE (SLOT + 25 * 64)   /* staggered as in listen.c */
#define POLL_NS 4000000L
#define RCVBUF (32 << 20)

static volatile sig_atomic_t stop, report;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

struct receiver {
	int fd;
	char *bufs;
	struct mmsghdr msgs[BATCH];
	struct iovec iovs[BATCH];
	unsigned long long lines, datagrams;
};

/* Read until the socket is dry; returns the datagrams read. */
static unsigned long read_all(struct receiver *r)
{
	unsigned long total = 0;
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			r->iovs[i].iov_base = r->bufs + (size_t)i * STRIDE;
			r->iovs[i].iov_len = SLOT;
			memset(&r->msgs[i].msg_hdr, 0, sizeof r->msgs[i].msg_hdr);
			r->msgs[i].msg_hdr.msg_iov = &r->iovs[i];
			r->msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(r->fd, r->msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return total;
		for (int i = 0; i < n; i++) {
			const char *p = r->iovs[i].iov_base;
			const char *end = p + r->msgs[i].msg_len;
			while (p < end) {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				r->lines++;
				p = nl ? nl + 1 : end;
			}
		}
		r->datagrams += (unsigned)n;
		total += (unsigned)n;
		if (n < BATCH)
			return total;
	}
}

static void print_counts(const struct receiver *r)
{
	printf("{\"lines\":%llu,\"datagrams\":%llu}\n", r->lines,
	    r->datagrams);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: vitals-countrx PORT\n");
		return 2;
	}
	struct receiver r = { .fd = socket(AF_INET, SOCK_DGRAM, 0) };
	int size = RCVBUF;
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons((unsigned short)atoi(argv[1])),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	if (r.fd < 0 ||
	    (setsockopt(r.fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) &&
	     setsockopt(r.fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size)) ||
	    bind(r.fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("vitals-countrx");
		return 1;
	}
	r.bufs = malloc((size_t)BATCH * STRIDE);
	if (r.bufs == NULL)
		return 1;
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd pf = { .fd = r.fd, .events = POLLIN };
		if (poll(&pf, 1, -1) < 0 && errno != EINTR)
			break;
		/* Traffic: poll on a timer until a poll finds nothing. */
		while (!stop && read_all(&r) > 0) {
			struct timespec ts = { 0, POLL_NS };
			nanosleep(&ts, NULL);
		}
		if (report) {
			report = 0;
			print_counts(&r);
		}
	}
	print_counts(&r);
	free(r.bufs);
	close(r.fd);
	return 0;
}
