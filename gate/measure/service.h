/* service: what service mode needs besides process supervision: a free
 * loopback port, {port} substitution, readiness probes, bounded output
 * tails, and the driver's "requests=N" line. No process is started here. */
#ifndef MG_SERVICE_H
#define MG_SERVICE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A free TCP port on 127.0.0.1 (bound and released: the service binds it
 * next; a race with another process is possible but rare). */
int mg_free_port(int *port, char *err, size_t len);
/* s with every "{port}" replaced; malloc'd, NULL when out of memory. */
char *mg_subst_port(const char *s, int port);

/* Probes: 1 ready, 0 not yet, -1 the spec itself is wrong (why says how).
 * Only loopback targets: readiness is checked on the machine memgate runs. */
int mg_probe_tcp(const char *hostport, char *why, size_t len);
int mg_probe_http(const char *url, int timeout_ms, char *why, size_t len);

/* The last bytes a process wrote (kept for failure reports) and, for a
 * stdout readiness regex, whether any complete line matched. */
#define MG_TAIL_BYTES 8192
struct mg_tail {
	char buf[MG_TAIL_BYTES];
	size_t len;
	bool truncated;         /* older output was dropped */
	char line[1024];        /* the line being received */
	size_t line_len;
	char last_line[1024];   /* the last complete, non-empty line */
	bool matched;           /* a complete line matched `ready` */
};
void mg_tail_append(struct mg_tail *t, const char *data, size_t n, const regex_t *ready);
/* The stream ended: a last line without a newline ("printf requests=N")
 * is complete. */
void mg_tail_eof(struct mg_tail *t, const regex_t *ready);
/* NUL-terminated view of the kept bytes (valid until the next append) */
const char *mg_tail_text(struct mg_tail *t);
/* "requests=N" as the last line: N, or -1 when absent or malformed */
int64_t mg_parse_requests_line(const char *line);

#endif
