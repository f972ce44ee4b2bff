/* http: one JSON request over libcurl, with timeouts, retries and a capped
 * response body. Used by forge.c to talk to forge APIs.
 *
 * Secrets: request headers may carry a token. They never reach an error
 * message, and the optional debug trace (mg_http_opts.trace) prints
 * Authorization, PRIVATE-TOKEN and JOB-TOKEN headers as "<redacted>".
 *
 * libcurl is loaded at the first use (ci/curl_dl.h). The caller owns its
 * global state: mg_http_global_init() once per process before the first
 * request, mg_http_global_cleanup() at the end. */
#ifndef MG_HTTP_H
#define MG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct mg_http_opts {
	long connect_timeout_ms;  /* per attempt; default 10000 */
	long total_timeout_ms;    /* per attempt, connect included; default 30000 */
	int retries;              /* extra attempts on network errors, 429, 5xx; default 3 */
	long backoff_ms;          /* first retry delay, doubled each time; default 1000 */
	long retry_after_cap_ms;  /* longest Retry-After honoured; default 60000 */
	size_t max_body;          /* response bytes kept; the rest is dropped; default 64 KiB */
	FILE *trace;              /* NULL, or where to print a redacted request trace */
};

struct mg_http_request {
	const char *method;             /* "POST", "PATCH", ... */
	const char *url;                /* https://, or http:// to a loopback host */
	const char *const *headers;     /* NULL-terminated "Name: value" lines, or NULL */
	const char *body;               /* request body (JSON), or NULL (a GET sends none) */
};

struct mg_http_response {
	long status;     /* final HTTP status, 0 when none was received */
	char *body;      /* NUL-terminated, at most max_body bytes; NULL when empty */
	size_t len;
	bool truncated;  /* the body was longer than max_body */
	int attempts;    /* requests sent, retries included */
};

/* Load libcurl and initialise its global state (curl_global_init), once
 * per process, single-threaded. 0, or -1 with why in err: libcurl's error,
 * or that it could not be loaded and the package to install (libcurl4). */
int mg_http_global_init(char *err, size_t errlen);
/* Undo mg_http_global_init (nothing when libcurl could not be loaded). */
void mg_http_global_cleanup(void);

/* Defaults above. */
void mg_http_opts_init(struct mg_http_opts *o);

/* Is this URL one memgate may send a token to? https:// to any host, or
 * http:// to a loopback host (127.0.0.0/8, ::1, localhost). 0, or -1 with a
 * reason in err. */
int mg_http_url_allowed(const char *url, char *err, size_t errlen);

/* Send req, retrying network errors, 429 and 5xx up to o->retries times
 * (exponential backoff from o->backoff_ms, or the server's Retry-After,
 * capped). A plain http:// or loopback URL never goes through a proxy from
 * the environment (http_proxy, ALL_PROXY, ...): the proxy would read the
 * token; https:// to other hosts may (a proxy only tunnels TLS). Returns 0
 * when an HTTP response arrived (whatever its status: the caller judges it,
 * resp->status is set), or -1 with err when none did (refused URL,
 * connection failure, timeout) after the last attempt. resp must be freed
 * with mg_http_response_free either way. */
int mg_http_send(const struct mg_http_request *req, const struct mg_http_opts *o,
		 struct mg_http_response *resp, char *err, size_t errlen);

void mg_http_response_free(struct mg_http_response *resp);

/* "Unprocessable Entity" for 422; "" for an unknown status. */
const char *mg_http_reason(long status);

/* Would this status be retried? (429 and 5xx) */
bool mg_http_retryable_status(long status);

#endif
