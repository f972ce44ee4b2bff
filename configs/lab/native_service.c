/* Find the Leak lab, native: a small HTTP/1.0 service in C with two
 * deliberate leaks, for heap profilers of native code (heaptrack).
 *
 *     native_service [--port] PORT [--fixed]
 *
 * GET /health     -> 200 "ok"
 * GET /item?id=K  -> 200, a small JSON body {"id": "K", "digest": "...", "cached": N}
 *
 * Leaky (default), per /item request:
 *   cache   every rendered payload (32 KiB) is kept in a cache that is never
 *           evicted: a list that only grows (site: cache, cache_insert)
 *   buffer  the response is formatted into a 16 KiB scratch buffer that is
 *           never freed (site: buffer, format_response)
 * so 1000 requests keep about 48 MiB. With --fixed the cache is a ring of
 * CACHE_SLOTS entries (the oldest is freed when a new one comes) and the
 * scratch buffer is freed after the reply: memory stays flat.
 *
 * Binds 127.0.0.1 only (PORT 0: any free port). Prints "listening on
 * 127.0.0.1:N" (flushed) when ready. One request at a time, one request per
 * connection. On SIGTERM or SIGINT it stops accepting, and exits 0 through
 * exit(), so that a profiler's exit handlers (heaptrack's) run; --fixed
 * frees its cache first, the leaky one leaves everything to the exit.
 * The allocation sites carry the marker comments "site: cache" and "site:
 * buffer" (tests find them by these markers, not by line numbers).
 *
 * Build: cc -std=c11 -g -O1 -Wall -Wextra -o build/native_service configs/lab/native_service.c
 * Drive: python3 configs/lab/driver.py --port PORT --requests 1000
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PAYLOAD_BYTES (32 * 1024) /* one cached payload per request */
#define SCRATCH_BYTES (16 * 1024) /* the response's scratch buffer */
#define CACHE_SLOTS 64            /* --fixed: ring size */
#define REQUEST_MAX 4096
#define NOINLINE __attribute__((noinline))

struct entry {
	struct entry *next;
	char key[64];
	uint64_t digest;
	unsigned char payload[]; /* PAYLOAD_BYTES */
};

static volatile sig_atomic_t stop_requested;
static bool fixed;

/* the leaky cache: a list that only grows */
static struct entry *cache_head;
static size_t cache_count;
/* the fixed cache: a ring that frees its oldest entry */
static struct entry *ring[CACHE_SLOTS];
static size_t ring_next;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t fnv1a(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The expensive part of a response: PAYLOAD_BYTES derived from the key. */
static NOINLINE struct entry *render_entry(const char *key)
{
	struct entry *e = malloc(sizeof *e + PAYLOAD_BYTES); /* site: cache */
	if (!e)
		return NULL;
	e->next = NULL;
	snprintf(e->key, sizeof e->key, "%s", key);
	uint64_t h = fnv1a(key, strlen(key), 0xcbf29ce484222325ULL);
	for (size_t i = 0; i < PAYLOAD_BYTES; i += 8) {
		h = fnv1a(&i, sizeof i, h);
		memcpy(e->payload + i, &h, 8);
	}
	e->digest = fnv1a(e->payload, PAYLOAD_BYTES, 0xcbf29ce484222325ULL);
	return e;
}

static NOINLINE struct entry *cache_insert(const char *key)
{
	for (struct entry *e = cache_head; !fixed && e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	struct entry *e = render_entry(key);
	if (!e)
		return NULL;
	if (fixed) {
		free(ring[ring_next]);
		ring[ring_next] = e;
		ring_next = (ring_next + 1) % CACHE_SLOTS;
	} else {
		e->next = cache_head; /* never evicted */
		cache_head = e;
		cache_count++;
	}
	return e;
}

/* Formats the reply into a fresh scratch buffer, which the leaky service
 * never frees. Returns the buffer (caller frees it when fixed) and its length. */
static NOINLINE char *format_response(const struct entry *e, size_t *len)
{
	char *scratch = malloc(SCRATCH_BYTES); /* site: buffer */
	if (!scratch)
		return NULL;
	memset(scratch, ' ', SCRATCH_BYTES);
	char body[256];
	int blen = snprintf(body, sizeof body, "{\"id\": \"%s\", \"digest\": \"%016llx\", \"cached\": %zu}\n", e->key,
			    (unsigned long long)e->digest, fixed ? (size_t)CACHE_SLOTS : cache_count);
	int n = snprintf(scratch, SCRATCH_BYTES,
			 "HTTP/1.0 200 OK\r\nServer: memgate-lab-native/1\r\nContent-Type: application/json\r\n"
			 "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			 blen, body);
	*len = (size_t)n;
	return scratch;
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

static void reply_text(int fd, const char *status, const char *text)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf,
			 "HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 status, strlen(text), text);
	send_all(fd, buf, (size_t)n);
}

/* The id of "GET /item?id=K HTTP/1.x" into key: 1..63 characters of
 * [A-Za-z0-9_-]; false when there is none. */
static bool item_id(const char *target, char *key, size_t keylen)
{
	const char *q = strchr(target, '?');
	for (const char *p = q; p && *p;) {
		p++;
		if (strncmp(p, "id=", 3) == 0) {
			p += 3;
			size_t n = 0;
			while (n + 1 < keylen && ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'z') ||
						  (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_' || p[n] == '-'))
				n++;
			memcpy(key, p, n);
			key[n] = '\0';
			return n > 0;
		}
		p = strchr(p, '&');
	}
	return false;
}

static void serve(int fd)
{
	char req[REQUEST_MAX + 1];
	size_t len = 0;
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	while (len < REQUEST_MAX) {
		ssize_t r = recv(fd, req + len, REQUEST_MAX - len, 0);
		if (r < 0 && errno == EINTR && !stop_requested)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[len] = '\0';
	char method[8], target[1024];
	if (sscanf(req, "%7s %1023s", method, target) != 2) {
		reply_text(fd, "400 Bad Request", "bad request\n");
		return;
	}
	if (strcmp(method, "GET") != 0) {
		reply_text(fd, "405 Method Not Allowed", "GET only\n");
		return;
	}
	if (strcmp(target, "/health") == 0) {
		reply_text(fd, "200 OK", "ok");
		return;
	}
	char key[64];
	if (strncmp(target, "/item", 5) != 0 || (target[5] != '?' && target[5] != '\0')) {
		reply_text(fd, "404 Not Found", "not found\n");
		return;
	}
	if (!item_id(target, key, sizeof key)) {
		reply_text(fd, "400 Bad Request", "missing id\n");
		return;
	}
	struct entry *e = cache_insert(key);
	size_t n = 0;
	char *resp = e ? format_response(e, &n) : NULL;
	if (!resp) {
		reply_text(fd, "503 Service Unavailable", "out of memory\n");
		return;
	}
	send_all(fd, resp, n);
	if (fixed)
		free(resp);
	/* leaky: resp is lost here */
}

static void usage(void)
{
	fprintf(stderr, "usage: native_service [--port] PORT [--fixed]\n"
			"  PORT: TCP port on 127.0.0.1, 0..65535 (0: any free port)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long port = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--fixed") == 0) {
			fixed = true;
			continue;
		}
		if (strcmp(a, "--port") == 0) {
			if (++i >= argc)
				usage();
			a = argv[i];
		} else if (a[0] == '-') {
			fprintf(stderr, "native_service: unknown option %s\n", a);
			usage();
		}
		char *end;
		errno = 0;
		port = strtol(a, &end, 10);
		if (errno || *end || end == a || port < 0 || port > 65535) {
			fprintf(stderr, "native_service: bad port \"%s\"\n", a);
			usage();
		}
	}
	if (port < 0)
		usage();

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop; /* no SA_RESTART: a blocked call returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0) {
		perror("native_service: socket");
		return 1;
	}
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0) {
		fprintf(stderr, "native_service: cannot bind 127.0.0.1:%ld: %s\n", port, strerror(errno));
		return 1;
	}
	if (listen(ls, 128) < 0) {
		perror("native_service: listen");
		return 1;
	}
	socklen_t alen = sizeof addr;
	getsockname(ls, (struct sockaddr *)&addr, &alen);
	printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(addr.sin_port));
	fflush(stdout);

	while (!stop_requested) {
		/* poll with a timeout, so a signal between the check and the wait
		 * is seen within 200 ms */
		struct pollfd pfd = {.fd = ls, .events = POLLIN};
		int pr = poll(&pfd, 1, 200);
		if (pr <= 0)
			continue;
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
	close(ls);
	if (fixed)
		for (size_t i = 0; i < CACHE_SLOTS; i++)
			free(ring[i]);
	exit(0);
}
