/* gate/ci's posting (post, forge, checks) and http.c over real HTTP, all on
 * 127.0.0.1:
 * - a small server of our own (a thread) with scripted answers: retries on
 *   500 and 429 (Retry-After), none on 404/422, a server that never answers
 *   (timeouts), refused connections, headers sent, check-run batches, token
 *   secrecy in errors and traces;
 * - Prism mocks of GitHub (tests/peer/github-peer.json) and GitLab
 *   (tests/peer/gitlab-peer.json), which validate every request against the
 *   API description: 201 for good posts, 422/400 for bad ones, 401 without a
 *   token; and the pull-request comment's list and create requests (the
 *   update, through the binary: it_comment.c).
 *   Prism is installed by tests/peer/ensure (npm ci, a no-op when up to
 *   date) and killed in the group teardown (and by PDEATHSIG if we crash). */
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "../unit/testutil.h"
#include "../peer/prism.h"
#include "ci/checks.h"
#include "ci/comment.h"
#include "ci/env.h"
#include "ci/forge.h"
#include "ci/http.h"
#include "ci/post.h"
#include "ci/status.h"
#include "ci/text.h"

#define SHA40 "0123456789abcdef0123456789abcdef01234567"
#define TOKEN "ghp_S3cr3tT0kenValue4242"

/* ---- a scripted loopback server -------------------------------------------------- */

#define SRV_MAX_REQUESTS 200   /* then it stops answering: bounded whatever the client does */
#define SRV_LIFETIME_MS 30000
#define SRV_HANG_MS 10000      /* a hanging answer waits at most this long */
#define SRV_KEEP 8             /* requests recorded in full */
#define SRV_BUF (512 * 1024)

struct step {
	int status;
	const char *headers;   /* extra header lines, each ending in \r\n */
	const char *body;
	bool hang;             /* read the request, never answer */
};

struct recorded {
	char *head;            /* request line and headers */
	char *body;
};

struct srv {
	int lfd, port, stop[2];
	bool running;
	pthread_t thread;
	const struct step *steps;
	size_t nsteps;
	int count;             /* requests received; read after srv_stop */
	struct recorded req[SRV_KEEP];
};

/* Read one request (head and Content-Length body) within 5 s. */
static bool srv_read(int fd, char *buf, size_t cap, size_t *head_len, size_t *total)
{
	size_t n = 0, need = 0;
	char *end = NULL;
	while (!end || n < need) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 5000) <= 0 || n >= cap - 1)
			return false;
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			return false;
		n += (size_t)r;
		buf[n] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			*head_len = (size_t)(end - buf) + 4;
			const char *cl = strcasestr(buf, "\r\ncontent-length:");
			need = *head_len + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
		}
	}
	*total = n;
	return true;
}

/* Wait until the client gives up (closes) or the test stops us. */
static void srv_hang(struct srv *s, int fd)
{
	struct pollfd p[2] = {{fd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
	long deadline = peer_now_ms() + SRV_HANG_MS;
	char c;
	while (peer_now_ms() < deadline && poll(p, 2, 100) >= 0) {
		if (p[1].revents || (p[0].revents && read(fd, &c, 1) <= 0))
			return;
	}
}

static void srv_answer(struct srv *s, int fd, const struct step *st)
{
	char head[1024];
	const char *body = st->body ? st->body : "";
	int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
			 st->status, mg_http_reason(st->status), strlen(body), st->headers ? st->headers : "");
	(void)s;
	if (write(fd, head, (size_t)n) != n || write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		fprintf(stderr, "srv: short write\n");
}

static void srv_handle(struct srv *s, int fd, char *buf)
{
	size_t head_len = 0, total = 0;
	if (!srv_read(fd, buf, SRV_BUF, &head_len, &total))
		return;
	if (s->count < SRV_KEEP) {
		s->req[s->count].head = strndup(buf, head_len);
		s->req[s->count].body = strndup(buf + head_len, total - head_len);
	}
	const struct step *st = &s->steps[(size_t)s->count < s->nsteps ? (size_t)s->count : s->nsteps - 1];
	s->count++;
	if (st->hang)
		srv_hang(s, fd);
	else
		srv_answer(s, fd, st);
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	char *buf = malloc(SRV_BUF);
	long deadline = peer_now_ms() + SRV_LIFETIME_MS;
	while (buf && s->count < SRV_MAX_REQUESTS && peer_now_ms() < deadline) {
		struct pollfd p[2] = {{s->lfd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
		if (poll(p, 2, 100) < 0 || p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		srv_handle(s, fd, buf);
		close(fd);
	}
	free(buf);
	return NULL;
}

static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void srv_start(struct srv *s, const struct step *steps, size_t n)
{
	s->steps = steps;
	s->nsteps = n;
	s->lfd = listen_loopback(&s->port);
	assert_int_equal(pipe(s->stop), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
	s->running = true;
}

/* Stop the thread; afterwards s->count and s->req are stable. */
static void srv_stop(struct srv *s)
{
	if (!s->running)
		return;
	s->running = false;
	if (write(s->stop[1], "x", 1) != 1)
		fprintf(stderr, "srv: cannot signal stop\n");
	pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
}

static int srv_setup(void **state)
{
	*state = calloc(1, sizeof(struct srv));
	return *state ? 0 : -1;
}

static int srv_teardown(void **state)
{
	struct srv *s = *state;
	srv_stop(s);
	for (int i = 0; i < SRV_KEEP; i++) {
		free(s->req[i].head);
		free(s->req[i].body);
	}
	free(s);
	return 0;
}

/* ---- options pointing at a loopback port --------------------------------------------- */

/* GitHub (or GitLab) options from a CI-like environment; extra is one more
 * "NAME=value" (or NULL). Fast retries: backoff 10 ms. */
static void opts_for(struct mg_post_opts *o, enum mg_forge forge, int port, const char *extra)
{
	char api[64], gl_api[64];
	snprintf(api, sizeof api, "GITHUB_API_URL=http://127.0.0.1:%d", port);
	snprintf(gl_api, sizeof gl_api, "CI_API_V4_URL=http://127.0.0.1:%d", port);
	/* extra first: the first of two equal names wins */
	char *first = (char *)(extra ? extra : "MEMGATE_TEST=1");
	char *gh[] = {first, "GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40,
		      "GITHUB_TOKEN=" TOKEN, "GITHUB_SERVER_URL=https://github.com", "GITHUB_RUN_ID=42", api,
		      "MEMGATE_HTTP_BACKOFF_MS=10", "MEMGATE_HTTP_TIMEOUT_MS=10000", NULL};
	char *gl[] = {first, "GITLAB_CI=true", gl_api, "CI_PROJECT_ID=group/app", "CI_COMMIT_SHA=" SHA40,
		      "GITLAB_TOKEN=glpat-" TOKEN, "CI_JOB_URL=https://gitlab.example.com/g/a/-/jobs/5",
		      "MEMGATE_HTTP_BACKOFF_MS=10", "MEMGATE_HTTP_TIMEOUT_MS=10000", NULL};
	struct mg_post_flags fl = {0};
	char err[512];
	if (mg_post_opts_from_env(o, &fl, forge == MG_FORGE_GITHUB ? gh : gl, err, sizeof err) < 0)
		fail_msg("options: %s", err);
}

/* A report of n fixtures: pass, fail, error, pass, ... */
static json_t *report(size_t n)
{
	json_t *fixtures = json_array();
	for (size_t i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof name, i == 0 ? "api" : "fx%zu", i);
		json_t *f = i % 3 == 0 ? json_pack("{s:s, s:s, s:[], s:{s:I}}", "name", name, "verdict", "pass", "reasons",
						  "peak", "tree_rss_bytes", (json_int_t)68472422)
			  : i % 3 == 1 ? json_pack("{s:s, s:s, s:[s]}", "name", name, "verdict", "fail", "reasons",
						  "tree_rss 312.4 MiB > limit 200.0 MiB")
				       : json_pack("{s:s, s:s, s:[s]}", "name", name, "verdict", "error", "reasons",
						  "cgroup: not measured (no cgroup)");
		json_array_append_new(fixtures, f);
	}
	return json_pack("{s:i, s:s, s:o}", "schema", 1, "verdict", n > 1 ? "error" : "pass", "fixtures", fixtures);
}

static char *repeat(const char *s, size_t n)
{
	size_t k = strlen(s);
	char *out = malloc(k * n + 1);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * k, s, k);
	out[k * n] = '\0';
	return out;
}

/* ---- own server: retries, timeouts, headers ------------------------------------------------- */

static const char created[] = "{\"id\":1,\"state\":\"success\"}";

static void retries_500_then_201(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{500, NULL, "{\"message\":\"Server Error\"}", false}, {201, NULL, created, false}};
	srv_start(s, steps, 2);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	char err[512] = "";
	int rc = mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err);
	srv_stop(s);
	mg_post_opts_free(&o);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(s->count, 2);
}

static void retries_429_honours_retry_after(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{429, "Retry-After: 1\r\n", "{\"message\":\"slow down\"}", false},
					    {201, NULL, created, false}};
	srv_start(s, steps, 2);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	char err[512] = "";
	long t0 = peer_now_ms();
	int rc = mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err);
	long took = peer_now_ms() - t0;
	srv_stop(s);
	mg_post_opts_free(&o);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(s->count, 2);
	if (took < 950 || took > 5000) /* 1 s asked; the backoff alone would be 10 ms */
		fail_msg("retry after %ld ms, expected about 1000", took);
}

static void retry_after_is_capped(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{503, "Retry-After: 3600\r\n", NULL, false}, {201, NULL, created, false}};
	srv_start(s, steps, 2);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, "MEMGATE_HTTP_RETRY_AFTER_CAP_MS=100");
	char err[512] = "";
	long t0 = peer_now_ms();
	int rc = mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err);
	long took = peer_now_ms() - t0;
	srv_stop(s);
	mg_post_opts_free(&o);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(s->count, 2);
	if (took < 90 || took > 3000)
		fail_msg("retry after %ld ms, expected the 100 ms cap", took);
}

static void retries_exhausted_on_503(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{503, NULL, "{\"message\":\"down for maintenance\"}", false}};
	srv_start(s, steps, 1);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, "MEMGATE_HTTP_RETRIES=2");
	char err[512] = "";
	assert_int_equal(mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err), -1);
	srv_stop(s);
	mg_post_opts_free(&o);
	assert_int_equal(s->count, 3);
	assert_string_equal(err, "503 Service Unavailable: down for maintenance (3 attempts)");
}

static void no_retry_on_404(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{404, NULL, "{\"message\":\"Not Found\",\"documentation_url\":\"x\"}", false},
					    {201, NULL, created, false}};
	srv_start(s, steps, 2);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	char err[512] = "";
	assert_int_equal(mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err), -1);
	srv_stop(s);
	mg_post_opts_free(&o);
	assert_int_equal(s->count, 1);
	assert_string_equal(err, "404 Not Found: Not Found (1 attempt)");
}

static void no_retry_on_422_message_quoted(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {
		{422, NULL, "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"Status\",\"code\":\"custom\","
			    "\"field\":\"description\",\"message\":\"description is too long (maximum is 140 characters)\"}]}",
		 false},
		{201, NULL, created, false}};
	srv_start(s, steps, 2);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	char err[512] = "";
	assert_int_equal(mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err), -1);
	srv_stop(s);
	mg_post_opts_free(&o);
	assert_int_equal(s->count, 1);
	assert_string_equal(err, "422 Unprocessable Entity: Validation Failed: description is too long "
				 "(maximum is 140 characters) (1 attempt)");
}

static void timeout_when_server_never_answers(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{0, NULL, NULL, true}};
	srv_start(s, steps, 1);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, "MEMGATE_HTTP_RETRIES=0");
	o.http.total_timeout_ms = 300;
	char err[512] = "";
	long t0 = peer_now_ms();
	int rc = mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err);
	long took = peer_now_ms() - t0;
	srv_stop(s);
	mg_post_opts_free(&o);
	assert_int_equal(rc, -1);
	assert_int_equal(s->count, 1);
	assert_contains(err, "timed out");
	assert_contains(err, "(1 attempt)");
	if (took < 280 || took > 1500)
		fail_msg("gave up after %ld ms, expected the 300 ms total timeout", took);
}

static void timeout_is_retried(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{0, NULL, NULL, true}, {201, NULL, created, false}};
	srv_start(s, steps, 2);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, "MEMGATE_HTTP_TIMEOUT_MS=300");
	char err[512] = "";
	int rc = mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err);
	srv_stop(s);
	mg_post_opts_free(&o);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(s->count, 2);
}

static void connection_refused_retried_then_reported(void **state)
{
	(void)state;
	int port;
	close(listen_loopback(&port)); /* nobody listens there now */
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, port, "MEMGATE_HTTP_RETRIES=2");
	char err[512] = "";
	struct mg_http_response resp;
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
	struct mg_http_request req = {"POST", url, NULL, "{}"};
	assert_int_equal(mg_http_send(&req, &o.http, &resp, err, sizeof err), -1);
	assert_int_equal(resp.attempts, 3);
	assert_int_equal(resp.status, 0);
	assert_contains(err, url);
	assert_contains(err, "(3 attempts)");
	mg_http_response_free(&resp);
	mg_post_opts_free(&o);
}

/* A token someone put in the API URL itself is scrubbed from transport
 * errors too (they quote the URL). */
static void token_in_url_not_in_transport_error(void **state)
{
	(void)state;
	int port;
	close(listen_loopback(&port));
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, port, "MEMGATE_HTTP_RETRIES=0");
	free(o.api_url);
	o.api_url = NULL;
	assert_true(asprintf(&o.api_url, "http://x-access-token:%s@127.0.0.1:%d", TOKEN, port) > 0);
	char err[512] = "";
	assert_int_equal(mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err), -1);
	mg_post_opts_free(&o);
	assert_contains(err, "x-access-token:***@127.0.0.1");
	assert_true(strstr(err, TOKEN) == NULL);
}

static void response_body_capped(void **state)
{
	struct srv *s = *state;
	char *big = repeat("x", 100000);
	const struct step steps[] = {{200, NULL, big, false}};
	srv_start(s, steps, 1);
	struct mg_http_opts ho;
	mg_http_opts_init(&ho);
	ho.max_body = 1000;
	char url[64], err[512] = "";
	snprintf(url, sizeof url, "http://127.0.0.1:%d/big", s->port);
	struct mg_http_request req = {"POST", url, NULL, NULL};
	struct mg_http_response resp;
	int rc = mg_http_send(&req, &ho, &resp, err, sizeof err);
	srv_stop(s);
	free(big);
	assert_int_equal(rc, 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.len, 1000);
	assert_true(resp.truncated);
	assert_int_equal(strlen(resp.body), 1000);
	mg_http_response_free(&resp);
}

static void github_headers_and_body(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{201, NULL, created, false}};
	srv_start(s, steps, 1);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	char err[512] = "";
	int rc = mg_post_status(&o, "memgate/api", "failure", "tree_rss 312.4 MiB > limit 200.0 MiB", err, sizeof err);
	srv_stop(s);
	mg_post_opts_free(&o);
	if (rc != 0)
		fail_msg("%s", err);
	const char *h = s->req[0].head;
	assert_contains(h, "POST /repos/o/r/statuses/" SHA40 " HTTP/1.1\r\n");
	assert_contains(h, "\r\nAuthorization: Bearer " TOKEN "\r\n");
	assert_contains(h, "\r\nAccept: application/vnd.github+json\r\n");
	assert_contains(h, "\r\nX-GitHub-Api-Version: 2022-11-28\r\n");
	assert_contains(h, "\r\nUser-Agent: memgate/" MG_VERSION "\r\n");
	assert_contains(h, "\r\nContent-Type: application/json\r\n");
	json_t *body = json_loads(s->req[0].body, 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "state")), "failure");
	assert_string_equal(json_string_value(json_object_get(body, "context")), "memgate/api");
	assert_string_equal(json_string_value(json_object_get(body, "description")), "tree_rss 312.4 MiB > limit 200.0 MiB");
	assert_string_equal(json_string_value(json_object_get(body, "target_url")), "https://github.com/o/r/actions/runs/42");
	json_decref(body);
}

/* mg_post_send_json, the one request every forge call makes: the reply of a
 * 2xx parsed (none when it is not JSON), the method and body sent as given,
 * and a refusal quoted with its attempts. */
static void send_json_replies(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{200, NULL, "{\"id\":12,\"ok\":true}", false},
					    {204, NULL, "not json", false},
					    {409, NULL, "{\"message\":\"Conflict here\"}", false}};
	srv_start(s, steps, 3);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	char url[96], err[512] = "";
	snprintf(url, sizeof url, "http://127.0.0.1:%d/repos/o/r/check-runs/12", s->port);
	json_t *body = json_pack("{s:s}", "status", "completed"), *reply = NULL, *none = NULL;
	int rc1 = mg_post_send_json(&o, "PATCH", url, body, &reply, err, sizeof err);
	int rc2 = mg_post_send_json(&o, "PATCH", url, body, &none, err, sizeof err);
	char err3[512] = "";
	int rc3 = mg_post_send_json(&o, "POST", url, body, NULL, err3, sizeof err3);
	srv_stop(s);
	mg_post_opts_free(&o);
	json_decref(body);
	if (rc1 != 0 || rc2 != 0)
		fail_msg("%s", err);
	assert_int_equal(json_integer_value(json_object_get(reply, "id")), 12);
	assert_null(none);
	assert_int_equal(rc3, -1);
	assert_string_equal(err3, "409 Conflict: Conflict here (1 attempt)");
	assert_contains(s->req[0].head, "PATCH /repos/o/r/check-runs/12 HTTP/1.1\r\n");
	assert_contains(s->req[0].head, "\r\nAuthorization: Bearer " TOKEN "\r\n");
	assert_string_equal(s->req[0].body, "{\"status\":\"completed\"}");
	json_decref(reply);
}

static void gitlab_headers_and_body(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{201, NULL, created, false}};
	srv_start(s, steps, 1);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITLAB, s->port, NULL);
	char err[512] = "";
	json_t *rep = report(3);
	int rc = mg_post_report(rep, &o, NULL, NULL, err, sizeof err);
	srv_stop(s);
	mg_post_opts_free(&o);
	json_decref(rep);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(s->count, 3);
	const char *h = s->req[0].head;
	assert_contains(h, "POST /projects/group%2Fapp/statuses/" SHA40 " HTTP/1.1\r\n");
	assert_contains(h, "\r\nPRIVATE-TOKEN: glpat-" TOKEN "\r\n");
	assert_true(strstr(h, "Authorization") == NULL);
	json_t *b1 = json_loads(s->req[1].body, 0, NULL), *b2 = json_loads(s->req[2].body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(b1, "state")), "failed");
	assert_string_equal(json_string_value(json_object_get(b1, "name")), "memgate/fx1");
	assert_string_equal(json_string_value(json_object_get(b1, "target_url")), "https://gitlab.example.com/g/a/-/jobs/5");
	assert_string_equal(json_string_value(json_object_get(b2, "state")), "failed"); /* error -> failed */
	json_decref(b1), json_decref(b2);
}

static void stops_at_first_failure(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{201, NULL, created, false}, {401, NULL, "{\"message\":\"Bad credentials\"}", false}};
	srv_start(s, steps, 2);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	char err[512] = "", *out = NULL;
	size_t outlen = 0;
	FILE *m = open_memstream(&out, &outlen);
	json_t *rep = report(5);
	int rc = mg_post_report(rep, &o, NULL, m, err, sizeof err);
	fclose(m);
	srv_stop(s);
	mg_post_opts_free(&o);
	json_decref(rep);
	assert_int_equal(rc, -1);
	assert_int_equal(s->count, 2);
	assert_string_equal(out, "posted memgate/api: success (peak 65.3 MiB, within limits)\n");
	assert_string_equal(err, "memgate/fx1: 401 Unauthorized: Bad credentials (1 attempt) (4 of 5 statuses not posted)");
	free(out);
}

/* A server that quotes the Authorization header back: the error must not. */
static void token_not_in_failing_request_error(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {
		{401, NULL, "{\"message\":\"Bad credentials: Authorization: Bearer " TOKEN "\",\"errors\":[\"" TOKEN "\"]}", false}};
	srv_start(s, steps, 1);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	char err[512] = "";
	json_t *rep = report(1);
	int rc = mg_post_report(rep, &o, NULL, NULL, err, sizeof err);
	srv_stop(s);
	mg_post_opts_free(&o);
	json_decref(rep);
	assert_int_equal(rc, -1);
	assert_contains(s->req[0].head, TOKEN); /* it was sent... */
	assert_contains(err, "401 Unauthorized: Bad credentials");
	assert_true(strstr(err, TOKEN) == NULL); /* ...but never shown */
	assert_true(strstr(err, "S3cr3t") == NULL);
}

static void trace_redacts_token(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{201, NULL, created, false}};
	srv_start(s, steps, 1);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	char *trace = NULL, err[512] = "";
	size_t tlen = 0;
	o.http.trace = open_memstream(&trace, &tlen);
	int rc = mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err);
	fclose(o.http.trace);
	srv_stop(s);
	mg_post_opts_free(&o);
	if (rc != 0)
		fail_msg("%s", err);
	assert_contains(trace, "> POST /repos/o/r/statuses/" SHA40);
	assert_contains(trace, "> Authorization: <redacted>");
	assert_contains(trace, "< HTTP/1.1 201 Created");
	assert_true(strstr(trace, TOKEN) == NULL);
	free(trace);
}

static void check_run_annotations_in_batches(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{201, NULL, "{\"id\":99}", false}, {200, NULL, "{\"id\":99}", false}};
	srv_start(s, steps, 2);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	json_t *ann = json_array();
	for (int i = 0; i < 120; i++)
		json_array_append_new(ann, json_pack("{s:s, s:i, s:i, s:s, s:s}", "path", "memgate.json", "start_line", i + 1,
						     "end_line", i + 1, "annotation_level", "notice", "message", "m"));
	char err[512] = "";
	long long id = mg_post_check_run(&o, "failure", "title", "# summary", ann, err, sizeof err);
	srv_stop(s);
	mg_post_opts_free(&o);
	json_decref(ann);
	if (id != 99)
		fail_msg("id %lld: %s", id, err);
	assert_int_equal(s->count, 3);
	assert_contains(s->req[0].head, "POST /repos/o/r/check-runs HTTP/1.1");
	assert_contains(s->req[1].head, "PATCH /repos/o/r/check-runs/99 HTTP/1.1");
	assert_contains(s->req[2].head, "PATCH /repos/o/r/check-runs/99 HTTP/1.1");
	size_t want[3] = {50, 50, 20};
	for (int i = 0; i < 3; i++) {
		json_t *b = json_loads(s->req[i].body, 0, NULL);
		json_t *a = json_object_get(json_object_get(b, "output"), "annotations");
		assert_int_equal(json_array_size(a), want[i]);
		assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "start_line")), 1 + 50 * i);
		if (i == 0) {
			assert_string_equal(json_string_value(json_object_get(b, "conclusion")), "failure");
			assert_string_equal(json_string_value(json_object_get(b, "status")), "completed");
			assert_string_equal(json_string_value(json_object_get(b, "head_sha")), SHA40);
			assert_string_equal(json_string_value(json_object_get(b, "details_url")),
					    "https://github.com/o/r/actions/runs/42");
		}
		json_decref(b);
	}
}

/* Annotations point at the fixture's line in the config. */
static void check_run_annotation_lines(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{201, NULL, created, false}, {201, NULL, "{\"id\":7}", false}};
	srv_start(s, steps, 2);
	char cfg[64];
	snprintf(cfg, sizeof cfg, "/tmp/memgate-cfg-XXXXXX");
	int fd = mkstemp(cfg);
	const char text[] = "{\n  \"version\": 1,\n  \"fixtures\": [\n    {\n      \"name\": \"api\",\n      \"command\": [\"true\"]\n    }\n  ]\n}\n";
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)sizeof text - 1);
	close(fd);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	o.checks = true;
	free(o.config_path);
	o.config_path = strdup(cfg);
	char err[512] = "";
	json_t *rep = report(1);
	int rc = mg_post_report(rep, &o, NULL, NULL, err, sizeof err);
	srv_stop(s);
	mg_post_opts_free(&o);
	json_decref(rep);
	unlink(cfg);
	if (rc != 0)
		fail_msg("%s", err);
	json_t *b = json_loads(s->req[1].body, 0, NULL);
	json_t *a = json_array_get(json_object_get(json_object_get(b, "output"), "annotations"), 0);
	assert_int_equal(json_integer_value(json_object_get(a, "start_line")), 5);
	assert_string_equal(json_string_value(json_object_get(a, "path")), cfg);
	assert_string_equal(json_string_value(json_object_get(a, "annotation_level")), "notice");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "output"), "summary")),
			    "- `api`: **pass**: peak 65.3 MiB, within limits\n");
	json_decref(b);
}

/* Several fixtures: each at the first "name" line that quotes it (the
 * config is indexed once, not scanned per fixture), line 1 when absent. */
static void check_run_annotation_lines_many(void **state)
{
	struct srv *s = *state;
	static const struct step steps[] = {{201, NULL, created, false}, {201, NULL, created, false},
					    {201, NULL, created, false}, {201, NULL, created, false},
					    {201, NULL, "{\"id\":7}", false}};
	srv_start(s, steps, 5);
	char cfg[64];
	snprintf(cfg, sizeof cfg, "/tmp/memgate-cfg-XXXXXX");
	int fd = mkstemp(cfg);
	const char text[] = "{\n"
			    "  \"version\": 1,\n"
			    "  \"defaults\": {\"env\": {\"NOT_A_NAME\": \"api\"}},\n"
			    "  \"fixtures\": [\n"
			    "    {\"command\": [\"true\"], \"name\": \"fx2\"},\n"
			    "    {\"name\": \"api\",\n"
			    "     \"command\": [\"true\"]},\n"
			    "    {\"name\": \"fx1\", \"cwd\": \"fx2\"}\n"
			    "  ]\n"
			    "}\n";
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)sizeof text - 1);
	close(fd);
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, s->port, NULL);
	o.checks = true;
	free(o.config_path);
	o.config_path = strdup(cfg);
	char err[512] = "";
	json_t *rep = report(4); /* api, fx1, fx2, fx3 (not in the config) */
	int rc = mg_post_report(rep, &o, NULL, NULL, err, sizeof err);
	srv_stop(s);
	mg_post_opts_free(&o);
	json_decref(rep);
	unlink(cfg);
	if (rc != 0)
		fail_msg("%s", err);
	json_t *b = json_loads(s->req[4].body, 0, NULL);
	json_t *a = json_object_get(json_object_get(b, "output"), "annotations");
	const int want[] = {6, 8, 5, 1};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(json_integer_value(json_object_get(json_array_get(a, i), "start_line")), want[i]);
	json_decref(b);
}

/* A proxy in the environment (CI runners often have one) must never see
 * a plain-http request: it would read the token in clear text. A loopback
 * API is reached directly, whatever http_proxy, HTTPS_PROXY or ALL_PROXY
 * say; the "proxy" here is a second server that counts what reaches it. */
static void loopback_never_through_a_proxy(void **state)
{
	struct srv *api = *state, proxy = {0};
	static const struct step answer[] = {{201, NULL, created, false}};
	static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
					   "all_proxy", "ALL_PROXY"};
	srv_start(api, answer, 1);
	srv_start(&proxy, answer, 1);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", proxy.port);
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		setenv(vars[i], url, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	static const char *const hosts[] = {"127.0.0.1", "localhost"};
	int rc[2];
	char err[2][512] = {"", ""};
	for (size_t h = 0; h < 2; h++) {
		struct mg_post_opts o;
		opts_for(&o, MG_FORGE_GITHUB, api->port, NULL);
		free(o.api_url);
		o.api_url = malloc(64);
		snprintf(o.api_url, 64, "http://%s:%d", hosts[h], api->port);
		o.http.retries = 0;
		rc[h] = mg_post_status(&o, "memgate/api", "success", "ok", err[h], sizeof err[h]);
		mg_post_opts_free(&o);
	}
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	srv_stop(api);
	srv_stop(&proxy);
	for (int i = 0; i < SRV_KEEP; i++) {
		if (proxy.req[i].head && strstr(proxy.req[i].head, TOKEN))
			fail_msg("the proxy got the token: %s", proxy.req[i].head);
		free(proxy.req[i].head);
		free(proxy.req[i].body);
	}
	assert_int_equal(proxy.count, 0);
	for (size_t h = 0; h < 2; h++)
		if (rc[h] != 0)
			fail_msg("%s: %s", hosts[h], err[h]);
	assert_int_equal(api->count, 2);
	assert_contains(api->req[0].head, "Authorization: Bearer " TOKEN);
}

static void plain_http_to_remote_host_refused(void **state)
{
	(void)state;
	struct mg_http_opts ho;
	mg_http_opts_init(&ho);
	struct mg_http_request req = {"POST", "http://api.github.com/repos/o/r/statuses/" SHA40, NULL, "{}"};
	struct mg_http_response resp;
	char err[512] = "";
	assert_int_equal(mg_http_send(&req, &ho, &resp, err, sizeof err), -1);
	assert_int_equal(resp.attempts, 0); /* nothing was sent */
	assert_contains(err, "refusing");
	mg_http_response_free(&resp);
}

/* ---- Prism: GitHub and GitLab as described by their API documents -------------------------- */

struct peers {
	struct peer github, gitlab;
};

static int peers_up(void **state)
{
	struct peers *p = calloc(1, sizeof *p);
	if (!p || peer_ensure() < 0 || peer_start(&p->github, "github-peer.json") < 0 ||
	    peer_start(&p->gitlab, "gitlab-peer.json") < 0) {
		if (p)
			peer_stop(&p->github);
		free(p);
		return -1;
	}
	*state = p;
	return 0;
}

static int peers_down(void **state)
{
	struct peers *p = *state;
	if (p) {
		peer_stop(&p->github);
		peer_stop(&p->gitlab);
		free(p);
	}
	return 0;
}

static void prism_github_report(void **state)
{
	struct peers *p = *state;
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, p->github.port, NULL);
	char err[512] = "", *out = NULL;
	size_t outlen = 0;
	FILE *m = open_memstream(&out, &outlen);
	json_t *rep = report(3);
	int rc = mg_post_report(rep, &o, NULL, m, err, sizeof err);
	fclose(m);
	mg_post_opts_free(&o);
	json_decref(rep);
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(out, "posted memgate/api: success (peak 65.3 MiB, within limits)\n"
				 "posted memgate/fx1: failure (tree_rss 312.4 MiB > limit 200.0 MiB)\n"
				 "posted memgate/fx2: error (cgroup: not measured (no cgroup))\n");
	free(out);
}

/* The request memgate builds, sent raw: Prism answers 201, and 422 once the
 * state is one GitHub does not know. */
static void prism_github_raw_201_and_422(void **state)
{
	struct peers *p = *state;
	char url[128], err[512] = "";
	snprintf(url, sizeof url, "http://127.0.0.1:%d/repos/o/r/statuses/" SHA40, p->github.port);
	const char *headers[] = {"Authorization: Bearer " TOKEN, "Accept: application/vnd.github+json",
				 "X-GitHub-Api-Version: 2022-11-28", "User-Agent: memgate/" MG_VERSION,
				 "Content-Type: application/json", NULL};
	struct mg_http_opts ho;
	mg_http_opts_init(&ho);
	struct mg_http_request req = {"POST", url, headers, "{\"state\":\"success\",\"context\":\"memgate/api\","
							     "\"description\":\"peak 65.3 MiB, within limits\"}"};
	struct mg_http_response resp;
	assert_int_equal(mg_http_send(&req, &ho, &resp, err, sizeof err), 0);
	assert_int_equal(resp.status, 201);
	mg_http_response_free(&resp);
	req.body = "{\"state\":\"passed\",\"context\":\"memgate/api\"}";
	assert_int_equal(mg_http_send(&req, &ho, &resp, err, sizeof err), 0);
	assert_int_equal(resp.status, 422);
	assert_int_equal(resp.attempts, 1);
	mg_http_response_free(&resp);
}

static void prism_github_bad_state_422(void **state)
{
	struct peers *p = *state;
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, p->github.port, NULL);
	char err[512] = "";
	assert_int_equal(mg_post_status(&o, "memgate/api", "passed", "ok", err, sizeof err), -1);
	mg_post_opts_free(&o);
	assert_contains(err, "422 Unprocessable Entity: Validation Failed");
	assert_contains(err, "(1 attempt)");
}

static void prism_github_description_limit(void **state)
{
	struct peers *p = *state;
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, p->github.port, NULL);
	char err[512] = "";
	char *exact = repeat("😀", 140), *over = repeat("😀", 141);
	/* 140 four-byte characters (560 bytes): at the limit, accepted */
	if (mg_post_status(&o, "memgate/api", "success", exact, err, sizeof err) != 0)
		fail_msg("140 characters refused: %s", err);
	/* one more, sent uncut: refused, and the API's words are quoted */
	assert_int_equal(mg_post_status(&o, "memgate/api", "success", over, err, sizeof err), -1);
	assert_string_equal(err, "422 Unprocessable Entity: Validation Failed: description is too long "
				 "(maximum is 140 characters) (1 attempt)");
	/* the same through the cutting: accepted */
	char *cut = mg_post_cut_chars(over, MG_POST_DESCRIPTION_MAX);
	if (mg_post_status(&o, "memgate/api", "success", cut, err, sizeof err) != 0)
		fail_msg("cut description refused: %s", err);
	free(exact), free(over), free(cut);
	mg_post_opts_free(&o);
}

static void prism_github_without_token_401(void **state)
{
	struct peers *p = *state;
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, p->github.port, NULL);
	free(o.token);
	o.token = NULL;
	char err[512] = "";
	assert_int_equal(mg_post_status(&o, "memgate/api", "success", "ok", err, sizeof err), -1);
	mg_post_opts_free(&o);
	assert_string_equal(err, "401 Unauthorized: Requires authentication (1 attempt)");
}

static void prism_github_check_run(void **state)
{
	struct peers *p = *state;
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, p->github.port, NULL);
	o.checks = true;
	char err[512] = "", *out = NULL;
	size_t outlen = 0;
	FILE *m = open_memstream(&out, &outlen);
	json_t *rep = report(3);
	char *markdown = repeat("| é | ü |\n", 6000); /* 72000 bytes: cut to 65535 */
	int rc = mg_post_report(rep, &o, markdown, m, err, sizeof err);
	fclose(m);
	mg_post_opts_free(&o);
	json_decref(rep);
	free(markdown);
	if (rc != 0)
		fail_msg("%s", err);
	assert_contains(out, "posted check run memgate: failure (1 passed, 1 failed, 1 not measured, id 4)\n");
	free(out);
}

static void prism_gitlab_tokens(void **state)
{
	struct peers *p = *state;
	struct mg_post_opts o;
	char err[512] = "", *out = NULL;
	size_t outlen = 0;
	FILE *m = open_memstream(&out, &outlen);
	json_t *rep = report(3);
	opts_for(&o, MG_FORGE_GITLAB, p->gitlab.port, NULL);
	assert_int_equal(o.token_kind, MG_TOKEN_PRIVATE);
	int rc = mg_post_report(rep, &o, NULL, m, err, sizeof err);
	fclose(m);
	mg_post_opts_free(&o);
	if (rc != 0)
		fail_msg("PRIVATE-TOKEN: %s", err);
	assert_string_equal(out, "posted memgate/api: success (peak 65.3 MiB, within limits)\n"
				 "posted memgate/fx1: failed (tree_rss 312.4 MiB > limit 200.0 MiB)\n"
				 "posted memgate/fx2: failed (cgroup: not measured (no cgroup))\n");
	free(out);

	opts_for(&o, MG_FORGE_GITLAB, p->gitlab.port, NULL);
	o.token_kind = MG_TOKEN_JOB;
	rc = mg_post_report(rep, &o, NULL, NULL, err, sizeof err);
	if (rc != 0)
		fail_msg("JOB-TOKEN: %s", err);
	free(o.token);
	o.token = NULL;
	assert_int_equal(mg_post_report(rep, &o, NULL, NULL, err, sizeof err), -1);
	assert_string_equal(err, "memgate/api: 401 Unauthorized: 401 Unauthorized (1 attempt) (3 of 3 statuses not posted)");
	mg_post_opts_free(&o);
	json_decref(rep);
}

static void prism_gitlab_bad_state_400(void **state)
{
	struct peers *p = *state;
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITLAB, p->gitlab.port, NULL);
	char err[512] = "";
	/* GitHub's word for it; GitLab says "failed" */
	assert_int_equal(mg_post_status(&o, "memgate/api", "failure", "x", err, sizeof err), -1);
	mg_post_opts_free(&o);
	assert_string_equal(err, "400 Bad Request: state does not have a valid value (1 attempt)");
}

/* ---- Prism: the pull-request comment ---------------------------------------------- */

/* mg_post_comment's requests as GitHub describes them: the list (its
 * per_page and page), then, the example comment not being memgate's, the
 * create with the whole body. */
static void prism_github_comment_create(void **state)
{
	struct peers *p = *state;
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, p->github.port, NULL);
	o.comment = true;
	o.pr = 7;
	char *text = tu_read_data("reports/baseline.json"), err[1024] = "", *out = NULL;
	json_t *rep = json_loads(text, 0, NULL);
	size_t outlen = 0;
	FILE *m = open_memstream(&out, &outlen);
	int rc = mg_post_comment(rep, &o, m, err, sizeof err);
	fclose(m);
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(out, "commented on pull request #7: created comment 1\n");
	free(out);
	/* the 404 of a repository GitHub does not know is one clear line too:
	 * no token, 401, said with what to fix */
	free(o.token);
	o.token = NULL;
	assert_int_equal(mg_post_comment(rep, &o, NULL, err, sizeof err), -1);
	assert_string_equal(err, "GET /repos/o/r/issues/7/comments?per_page=100&page=1: 401 Unauthorized: Requires "
				 "authentication (1 attempt); the token is missing, expired or wrong (GITHUB_TOKEN, or "
				 "--token-file)");
	mg_post_opts_free(&o);
	json_decref(rep);
	free(text);
}

/* A body over 65536 characters is refused by the description (422): the
 * limit memgate cuts under is the real one, and the cut body passes. */
static void prism_github_comment_limit(void **state)
{
	struct peers *p = *state;
	struct mg_post_opts o;
	opts_for(&o, MG_FORGE_GITHUB, p->github.port, NULL);
	char url[128], err[512] = "";
	snprintf(url, sizeof url, "http://127.0.0.1:%d/repos/o/r/issues/7/comments", p->github.port);
	char *over = repeat("x", MG_COMMENT_MAX_GITHUB + 1);
	json_t *body = json_pack("{s:s}", "body", over);
	long status = 0;
	assert_int_equal(mg_forge_request(&o, "POST", url, body, 0, &status, NULL, err, sizeof err), -1);
	assert_int_equal(status, 422);
	json_decref(body);
	over[MG_COMMENT_MAX_GITHUB] = '\0';
	body = json_pack("{s:s}", "body", over);
	if (mg_forge_request(&o, "POST", url, body, 0, &status, NULL, err, sizeof err) != 0)
		fail_msg("65536 characters refused: %s", err);
	json_decref(body);
	free(over);
	/* a report of 2000 fixtures: cut by memgate, accepted */
	char *text = tu_read_data("reports/baseline.json");
	json_t *rep = json_loads(text, 0, NULL), *all = json_array();
	free(text);
	for (size_t i = 0; i < 2000; i++) {
		json_t *f = json_deep_copy(json_array_get(json_object_get(rep, "fixtures"), i % 3));
		char name[48];
		snprintf(name, sizeof name, "fixture-%04zu", i);
		json_object_set_new(f, "name", json_string(name));
		json_array_append_new(all, f);
	}
	json_object_set_new(rep, "fixtures", all);
	o.pr = 7;
	if (mg_post_comment(rep, &o, NULL, err, sizeof err) != 0)
		fail_msg("%s", err);
	json_decref(rep);
	mg_post_opts_free(&o);
}

#define SRV_TEST(f) cmocka_unit_test_setup_teardown(f, srv_setup, srv_teardown)

int main(void)
{
	const struct CMUnitTest own_server[] = {
		SRV_TEST(retries_500_then_201),
		SRV_TEST(retries_429_honours_retry_after),
		SRV_TEST(retry_after_is_capped),
		SRV_TEST(retries_exhausted_on_503),
		SRV_TEST(no_retry_on_404),
		SRV_TEST(no_retry_on_422_message_quoted),
		SRV_TEST(timeout_when_server_never_answers),
		SRV_TEST(timeout_is_retried),
		cmocka_unit_test(connection_refused_retried_then_reported),
		cmocka_unit_test(token_in_url_not_in_transport_error),
		SRV_TEST(response_body_capped),
		SRV_TEST(github_headers_and_body),
		SRV_TEST(send_json_replies),
		SRV_TEST(gitlab_headers_and_body),
		SRV_TEST(stops_at_first_failure),
		SRV_TEST(token_not_in_failing_request_error),
		SRV_TEST(trace_redacts_token),
		SRV_TEST(check_run_annotations_in_batches),
		SRV_TEST(check_run_annotation_lines),
		SRV_TEST(check_run_annotation_lines_many),
		SRV_TEST(loopback_never_through_a_proxy),
		cmocka_unit_test(plain_http_to_remote_host_refused),
	};
	struct CMUnitTest prism[] = {
		cmocka_unit_test(prism_github_report),
		cmocka_unit_test(prism_github_raw_201_and_422),
		cmocka_unit_test(prism_github_bad_state_422),
		cmocka_unit_test(prism_github_description_limit),
		cmocka_unit_test(prism_github_without_token_401),
		cmocka_unit_test(prism_github_check_run),
		cmocka_unit_test(prism_gitlab_tokens),
		cmocka_unit_test(prism_gitlab_bad_state_400),
		cmocka_unit_test(prism_github_comment_create),
		cmocka_unit_test(prism_github_comment_limit),
	};
	char err[512];
	if (mg_http_global_init(err, sizeof err) < 0) {
		fprintf(stderr, "it_post_http: %s\n", err);
		return 1;
	}
	int failed = cmocka_run_group_tests_name("post over HTTP: own loopback server", own_server, NULL, NULL);
	if (peer_missing_offline()) {
		peer_skip_all(prism, sizeof prism / sizeof *prism);
		failed += cmocka_run_group_tests_name("post over HTTP: Prism peers", prism, NULL, NULL);
	} else {
		failed += cmocka_run_group_tests_name("post over HTTP: Prism peers", prism, peers_up, peers_down);
	}
	mg_http_global_cleanup();
	return failed;
}
