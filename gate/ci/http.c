#include "ci/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ci/curl_dl.h"

int mg_http_global_init(char *err, size_t errlen)
{
	const struct mg_curl *c = mg_curl(err, errlen);
	if (!c)
		return -1;
	CURLcode rc = c->global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", c->easy_strerror(rc));
		return -1;
	}
	return 0;
}

void mg_http_global_cleanup(void)
{
	const struct mg_curl *c = mg_curl(NULL, 0);
	if (c)
		c->global_cleanup();
}

void mg_http_opts_init(struct mg_http_opts *o)
{
	*o = (struct mg_http_opts){
		.connect_timeout_ms = 10000,
		.total_timeout_ms = 30000,
		.retries = 3,
		.backoff_ms = 1000,
		.retry_after_cap_ms = 60000,
		.max_body = 64 * 1024,
		.trace = NULL,
	};
}

const char *mg_http_reason(long status)
{
	static const struct { long code; const char *text; } reasons[] = {
		{200, "OK"}, {201, "Created"}, {204, "No Content"},
		{301, "Moved Permanently"}, {302, "Found"}, {304, "Not Modified"},
		{307, "Temporary Redirect"}, {308, "Permanent Redirect"},
		{400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
		{404, "Not Found"}, {405, "Method Not Allowed"}, {409, "Conflict"},
		{410, "Gone"}, {413, "Payload Too Large"}, {415, "Unsupported Media Type"},
		{422, "Unprocessable Entity"}, {429, "Too Many Requests"},
		{500, "Internal Server Error"}, {502, "Bad Gateway"},
		{503, "Service Unavailable"}, {504, "Gateway Timeout"},
	};
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].code == status)
			return reasons[i].text;
	return "";
}

bool mg_http_retryable_status(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

/* Transient transport failures: worth another attempt. A bad URL, a refused
 * certificate or our own out-of-memory would fail the same way again. */
static bool retryable_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* ---- URL policy ---------------------------------------------------------- */

static bool loopback_host(const char *host)
{
	char buf[256];
	size_t n = strlen(host);
	if (n >= sizeof buf)
		return false;
	/* curl gives IPv6 literals in brackets */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
	} else {
		memcpy(buf, host, n + 1);
	}
	if (!strcasecmp(buf, "localhost"))
		return true; /* curl resolves it to loopback itself, never via DNS */
	struct in_addr a4;
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	struct in6_addr a6;
	if (inet_pton(AF_INET6, buf, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/* The policy for url: -1 (err set) when a token may not go there; else 0,
 * and *direct when the request must not go through a proxy: a loopback
 * host (a proxy elsewhere cannot even reach it), and any plain http://,
 * whose every byte, the token included, a proxy would read. https:// to
 * another host may use the environment's proxy: it only tunnels TLS. */
static int url_policy(const struct mg_curl *c, const char *url, bool *direct, char *err, size_t errlen)
{
	CURLU *u = c->url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!url || c->url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    c->url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    c->url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		snprintf(err, errlen, "%s: not a valid URL", url ? url : "(null)");
	else if (!strcasecmp(scheme, "https"))
		rc = 0;
	else if (strcasecmp(scheme, "http"))
		snprintf(err, errlen, "%s: only https:// URLs are allowed", url);
	else if (loopback_host(host))
		rc = 0;
	else
		snprintf(err, errlen,
			 "%s: refusing to send a token over plain http to %s; use https:// "
			 "(http:// is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)",
			 url, host);
	if (rc == 0)
		*direct = strcasecmp(scheme, "https") != 0 || loopback_host(host);
	c->free(scheme);
	c->free(host);
	c->url_cleanup(u);
	return rc;
}

int mg_http_url_allowed(const char *url, char *err, size_t errlen)
{
	bool direct;
	const struct mg_curl *c = mg_curl(err, errlen);
	return c ? url_policy(c, url, &direct, err, errlen) : -1;
}

/* ---- one attempt --------------------------------------------------------- */

struct sink {
	struct mg_http_response *resp;
	size_t max;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, room = s->max - s->resp->len;
	size_t keep = n < room ? n : room;
	if (keep < n)
		s->resp->truncated = true;
	if (keep) {
		char *b = realloc(s->resp->body, s->resp->len + keep + 1);
		if (!b)
			return 0; /* curl reports a write error: no silent loss */
		memcpy(b + s->resp->len, data, keep);
		s->resp->len += keep;
		b[s->resp->len] = '\0';
		s->resp->body = b;
	}
	return n; /* the dropped tail is not an error: the cap is ours */
}

/* Header lines that carry a secret, printed as "<redacted>" in traces. */
static bool secret_header(const char *line, size_t n)
{
	static const char *const names[] = {"authorization:", "private-token:", "job-token:",
					    "proxy-authorization:", "cookie:"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t k = strlen(names[i]);
		if (n >= k && !strncasecmp(line, names[i], k))
			return true;
	}
	return false;
}

/* Print a block of header lines, one per line, secrets redacted. */
static void trace_headers(FILE *f, char mark, const char *data, size_t size)
{
	size_t i = 0;
	while (i < size) {
		const char *line = data + i;
		const char *nl = memchr(line, '\n', size - i);
		size_t n = nl ? (size_t)(nl - line) + 1 : size - i;
		size_t shown = n;
		while (shown && (line[shown - 1] == '\n' || line[shown - 1] == '\r'))
			shown--;
		if (shown && secret_header(line, shown)) {
			const char *colon = memchr(line, ':', shown);
			fprintf(f, "%c %.*s <redacted>\n", mark, (int)(colon - line + 1), line);
		} else if (shown) {
			fprintf(f, "%c %.*s\n", mark, (int)shown, line);
		}
		i += n;
	}
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	(void)h;
	FILE *f = arg;
	if (type == CURLINFO_TEXT)
		fprintf(f, "* %.*s", (int)size, data);
	else if (type == CURLINFO_HEADER_OUT)
		trace_headers(f, '>', data, size);
	else if (type == CURLINFO_HEADER_IN)
		trace_headers(f, '<', data, size);
	/* bodies are not traced: responses may echo anything */
	return 0;
}

/* Options that stay the same for every attempt. 0, or -1 with err. */
static int setup(const struct mg_curl *c, CURL *h, const struct mg_http_request *req, const struct mg_http_opts *o, bool direct,
		 struct curl_slist *hdrs, struct sink *sink, char *curlerr, char *err, size_t errlen)
{
	CURLcode rc = CURLE_OK;
#define SET(opt, val) \
	if (rc == CURLE_OK) \
		rc = c->easy_setopt(h, opt, val)
	SET(CURLOPT_URL, req->url);
	/* "" overrides http_proxy, HTTPS_PROXY, ALL_PROXY and the like */
	if (direct)
		SET(CURLOPT_PROXY, "");
	/* a GET without a body is a plain GET: no Content-Length: 0 body */
	bool get = !req->body && strcmp(req->method, "GET") == 0;
	if (get) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, req->method);
		SET(CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
	SET(CURLOPT_HTTPHEADER, hdrs);
	/* never follow a redirect: it could carry the token elsewhere */
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	if (rc == CURLE_UNKNOWN_OPTION) /* libcurl before 7.85 (Ubuntu 22.04, Debian 11): the bitmask form, */
		rc = c->easy_setopt(h, (CURLoption)181 /* CURLOPT_PROTOCOLS, deprecated since */,
				    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, o->total_timeout_ms);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, sink);
	SET(CURLOPT_ERRORBUFFER, curlerr);
	SET(CURLOPT_VERBOSE, o->trace ? 1L : 0L);
	if (o->trace) {
		SET(CURLOPT_DEBUGFUNCTION, on_debug);
		SET(CURLOPT_DEBUGDATA, o->trace);
	}
#undef SET
	if (rc == CURLE_OK && !req->body && !get)
		rc = c->easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "cannot set up the request: %s", c->easy_strerror(rc));
		return -1;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Delay before retry number `retry` (0 = first): the server's Retry-After
 * when it sent one, capped; else backoff_ms doubled per retry. */
static long retry_delay_ms(const struct mg_http_opts *o, int retry, curl_off_t retry_after_s)
{
	if (retry_after_s > 0) {
		long cap = o->retry_after_cap_ms;
		return retry_after_s > cap / 1000 ? cap : (long)retry_after_s * 1000;
	}
	long d = o->backoff_ms;
	for (int i = 0; i < retry && d < 3600000L; i++)
		d *= 2;
	return d;
}

static struct curl_slist *header_list(const struct mg_curl *c, const char *const *headers)
{
	struct curl_slist *list = NULL;
	for (size_t i = 0; headers && headers[i]; i++) {
		struct curl_slist *l = c->slist_append(list, headers[i]);
		if (!l) {
			c->slist_free_all(list);
			return NULL;
		}
		list = l;
	}
	/* no "Expect: 100-continue" round trip for larger bodies */
	struct curl_slist *l = c->slist_append(list, "Expect:");
	if (!l)
		c->slist_free_all(list);
	return l;
}

static void reset_body(struct mg_http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
	resp->truncated = false;
}

/* Attempts until a final answer. Returns the last CURLcode. */
static CURLcode attempts(const struct mg_curl *c, CURL *h, const struct mg_http_opts *o, struct mg_http_response *resp,
			 char *curlerr)
{
	for (int retry = 0;; retry++) {
		reset_body(resp);
		curlerr[0] = '\0';
		resp->status = 0;
		CURLcode rc = c->easy_perform(h);
		resp->attempts++;
		curl_off_t retry_after = 0;
		if (rc == CURLE_OK) {
			if (c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK)
				resp->status = 0;
			if (c->easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK)
				retry_after = 0;
		}
		bool again = rc == CURLE_OK ? mg_http_retryable_status(resp->status) : retryable_code(rc);
		if (!again || retry >= o->retries)
			return rc;
		sleep_ms(retry_delay_ms(o, retry, retry_after));
	}
}

int mg_http_send(const struct mg_http_request *req, const struct mg_http_opts *o,
		 struct mg_http_response *resp, char *err, size_t errlen)
{
	bool direct = true;
	memset(resp, 0, sizeof *resp);
	const struct mg_curl *c = mg_curl(err, errlen);
	if (!c || url_policy(c, req->url, &direct, err, errlen) < 0)
		return -1;
	CURL *h = c->easy_init();
	struct curl_slist *hdrs = header_list(c, req->headers);
	if (!h || !hdrs) {
		snprintf(err, errlen, "cannot start a request: libcurl is out of memory");
		c->slist_free_all(hdrs);
		c->easy_cleanup(h);
		return -1;
	}
	char curlerr[CURL_ERROR_SIZE];
	curlerr[0] = '\0';
	struct sink sink = {resp, o->max_body};
	int ret = setup(c, h, req, o, direct, hdrs, &sink, curlerr, err, errlen);
	if (ret == 0) {
		CURLcode rc = attempts(c, h, o, resp, curlerr);
		if (rc != CURLE_OK) {
			snprintf(err, errlen, "%s %s: %s (%d attempt%s)", req->method, req->url,
				 curlerr[0] ? curlerr : c->easy_strerror(rc), resp->attempts,
				 resp->attempts == 1 ? "" : "s");
			ret = -1;
		}
	}
	c->easy_cleanup(h);
	c->slist_free_all(hdrs);
	return ret;
}

void mg_http_response_free(struct mg_http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}
