#include "error.h"
#include "measure/service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int mg_free_port(int *port, char *err, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, len, "socket: %s (%s)", MG_ERRNO(errno));
		return -1;
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
		snprintf(err, len, "cannot find a free port on 127.0.0.1: %s (%s)", MG_ERRNO(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	close(fd);
	return 0;
}

char *mg_subst_port(const char *s, int port)
{
	char num[16];
	snprintf(num, sizeof num, "%d", port);
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, "{port}")); p += 6)
		n++;
	char *out = malloc(strlen(s) + n * strlen(num) + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = s; *p;) {
		if (strncmp(p, "{port}", 6) == 0) {
			o = stpcpy(o, num);
			p += 6;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* "host:port" or "[v6]:port" -> a loopback sockaddr; -1 with why otherwise. */
static int loopback_addr(const char *hostport, struct sockaddr_storage *ss, socklen_t *sl, char *why, size_t len)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	if (!colon || colon == hostport || !colon[1] || (size_t)(colon - hostport) >= sizeof host) {
		snprintf(why, len, "\"%s\" is not HOST:PORT", hostport);
		return -1;
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	if (host[0] == '[') { /* [::1] */
		size_t hl = strlen(host);
		if (hl < 3 || host[hl - 1] != ']') {
			snprintf(why, len, "\"%s\": bad IPv6 literal", hostport);
			return -1;
		}
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535) {
		snprintf(why, len, "\"%s\": bad port", hostport);
		return -1;
	}
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) {
			snprintf(why, len, "\"%s\" is not a loopback address (127.0.0.0/8, ::1, localhost)", host);
			return -1;
		}
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*sl = sizeof *v4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1 && IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*sl = sizeof *v6;
		return 0;
	}
	snprintf(why, len, "\"%s\" is not a loopback address (127.0.0.0/8, ::1, localhost)", host);
	return -1;
}

/* Connect within timeout_ms: fd, or -1 (not listening yet / timed out). */
static int connect_within(const struct sockaddr_storage *ss, socklen_t sl, int timeout_ms)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)ss, sl) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	struct pollfd p = {fd, POLLOUT, 0};
	int soerr = 0;
	socklen_t el = sizeof soerr;
	if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) < 0 || soerr) {
		close(fd);
		return -1;
	}
	return fd;
}

int mg_probe_tcp(const char *hostport, char *why, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (loopback_addr(hostport, &ss, &sl, why, len) < 0)
		return -1;
	int fd = connect_within(&ss, sl, 100);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int mg_probe_http(const char *url, int timeout_ms, char *why, size_t len)
{
	if (strncmp(url, "http://", 7) != 0) {
		snprintf(why, len, "\"%s\": only http:// URLs on loopback are probed", url);
		return -1;
	}
	const char *hp = url + 7, *slash = strchr(hp, '/');
	char hostport[300];
	size_t hl = slash ? (size_t)(slash - hp) : strlen(hp);
	if (hl == 0 || hl >= sizeof hostport) {
		snprintf(why, len, "\"%s\": no host", url);
		return -1;
	}
	memcpy(hostport, hp, hl);
	hostport[hl] = '\0';
	const char *colon = strrchr(hostport, ':');
	if ((!colon || hostport[hl - 1] == ']') && hl + 3 < sizeof hostport)
		strcat(hostport, ":80"); /* the scheme's default port */
	struct sockaddr_storage ss;
	socklen_t sl;
	if (loopback_addr(hostport, &ss, &sl, why, len) < 0)
		return -1;
	int fd = connect_within(&ss, sl, timeout_ms);
	if (fd < 0)
		return 0;
	char req[2048];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: memgate\r\n\r\n",
			 slash ? slash : "/", hostport);
	int ready = 0;
	if (n > 0 && (size_t)n < sizeof req && send(fd, req, (size_t)n, MSG_NOSIGNAL) == n) {
		char resp[64] = "", sink[4096];
		size_t got = 0;
		struct pollfd p = {fd, POLLIN, 0};
		/* Read the whole (bounded) answer: closing early makes the service's
		 * write fail, and its log fill with broken-pipe tracebacks. Bounded
		 * in time too, as a whole: a service that sends a byte at a time
		 * kept memgate here for hours (64 KiB of polls of timeout_ms each),
		 * sampling nothing and deaf to its timeouts and signals. */
		struct timespec t0, now;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (size_t total = 0; total < 65536;) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			long spent = (long)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
			if (spent >= timeout_ms || poll(&p, 1, (int)(timeout_ms - spent)) != 1)
				break;
			ssize_t r = recv(fd, sink, sizeof sink, 0);
			if (r <= 0)
				break;
			size_t take = got + (size_t)r < sizeof resp - 1 ? (size_t)r : sizeof resp - 1 - got;
			memcpy(resp + got, sink, take);
			got += take;
			total += (size_t)r;
		}
		resp[got] = '\0';
		/* "HTTP/1.x 2xx": anything else (503 while warming up) is not ready */
		ready = got >= 12 && strncmp(resp, "HTTP/1.", 7) == 0 && resp[9] == '2';
	}
	close(fd);
	return ready;
}

static void keep(struct mg_tail *t, const char *data, size_t n)
{
	if (n >= sizeof t->buf - 1) { /* only the newest bytes fit */
		data += n - (sizeof t->buf - 1);
		n = sizeof t->buf - 1;
		t->truncated = true;
	}
	if (t->len + n > sizeof t->buf - 1) {
		size_t drop = t->len + n - (sizeof t->buf - 1);
		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
		t->truncated = true;
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
}

static void end_line(struct mg_tail *t, const regex_t *ready)
{
	t->line[t->line_len] = '\0';
	if (t->line_len && t->line[t->line_len - 1] == '\r')
		t->line[--t->line_len] = '\0';
	if (t->line_len)
		memcpy(t->last_line, t->line, t->line_len + 1);
	if (ready && !t->matched && regexec(ready, t->line, 0, NULL, 0) == 0)
		t->matched = true;
	t->line_len = 0;
}

void mg_tail_append(struct mg_tail *t, const char *data, size_t n, const regex_t *ready)
{
	keep(t, data, n);
	for (size_t i = 0; i < n; i++) {
		if (data[i] != '\n') {
			if (t->line_len < sizeof t->line - 1) /* longer lines are cut */
				t->line[t->line_len++] = data[i];
			continue;
		}
		end_line(t, ready);
	}
}

void mg_tail_eof(struct mg_tail *t, const regex_t *ready)
{
	if (t && t->line_len)
		end_line(t, ready);
}

const char *mg_tail_text(struct mg_tail *t)
{
	t->buf[t->len] = '\0';
	return t->buf;
}

int64_t mg_parse_requests_line(const char *line)
{
	if (strncmp(line, "requests=", 9) != 0)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(line + 9, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || end == line + 9 || *end || v < 0)
		return -1;
	return v;
}
