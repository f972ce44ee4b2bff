/* `memgate post --comment` and `memgate run --comment` end to end: the real
 * binary ($MEMGATE) talks to a small forge of our own on 127.0.0.1 (a
 * thread of this test), which keeps the comments in memory and checks every
 * request as GitHub (and GitLab) do: the method and path, the token header,
 * a JSON body with a "body" of at most 65536 characters (422 otherwise).
 * Prism shows that the requests match GitHub's own API description (the
 * create and the update here, through the binary; more in it_post_http.c);
 * it answers with examples, so it cannot show what this forge does: the
 * first run creates the comment, the next one edits the same comment, a
 * comment that is not memgate's is never touched, the marker is found on
 * page 2, and failures give one clear line. */
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "itutil.h"
#include "../peer/prism.h"

#define SHA40 "0123456789abcdef0123456789abcdef01234567"
#define TOKEN "ghp_ItCommentS3cr3t99"
#define GL_TOKEN "glpat-ItCommentS3cr3t98"
#define GH_MAX_BODY 65536
#define MAX_COMMENTS 400
#define MAX_LOG 64

/* ---- the forge ----------------------------------------------------------------- */

struct comment {
	long long id;
	long long thread;        /* the pull (merge) request */
	char *body;
	const char *author;
	bool gitlab;
};

struct forge {
	int lfd, port, stop[2];
	pthread_t thread;
	pthread_mutex_t lock;
	bool running;
	struct comment c[MAX_COMMENTS];
	size_t n;
	long long next_id;
	/* failure injection: answer every request with this status (0: none) */
	int fail_status;
	bool garbage;            /* GET answers 200 with a body that is not JSON */
	bool hang;               /* read requests, never answer */
	bool delete_on_update;   /* the comment is deleted (by someone) just before memgate's edit */
	/* what came */
	int gets, posts, patches, puts, statuses, refused; /* posts: of comments */
	char log[MAX_LOG][160];  /* "GET /repos/o/r/issues/7/comments?per_page=100&page=1 -> 200" */
	int nlog;
	char *last_body;         /* the last accepted comment body */
};

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static bool read_request(int fd, char **buf, size_t *head_len, size_t *total)
{
	size_t cap = 1 << 16, n = 0, need = 0;
	char *b = malloc(cap), *end = NULL;
	while (b && (!end || n < need)) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 5000) <= 0)
			break;
		if (n + 4096 + 1 > cap) {
			char *nb = cap < (64u << 20) ? realloc(b, cap *= 2) : NULL;
			if (!nb)
				break;
			b = nb;
		}
		ssize_t r = read(fd, b + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		b[n] = '\0';
		if (!end && (end = strstr(b, "\r\n\r\n"))) {
			*head_len = (size_t)(end - b) + 4;
			const char *cl = strcasestr(b, "\r\ncontent-length:");
			need = *head_len + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
		}
	}
	if (!end || n < need) {
		free(b);
		return false;
	}
	*buf = b;
	*total = n;
	return true;
}

/* The value of header name (with its colon) in head, copied; "" when absent. */
static void header(const char *head, const char *name, char *out, size_t len)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\r\n%s", name);
	const char *h = strcasestr(head, pat);
	out[0] = '\0';
	if (!h)
		return;
	h += strlen(pat);
	while (*h == ' ')
		h++;
	size_t k = strcspn(h, "\r\n");
	snprintf(out, len, "%.*s", (int)(k < len ? k : len - 1), h);
}

static void reply(int fd, int status, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: application/json; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, strlen(body));
	if (write(fd, head, (size_t)n) != n)
		return;
	for (size_t off = 0, len = strlen(body); off < len;) {
		ssize_t w = write(fd, body + off, len - off);
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static char *comment_json(const struct comment *c)
{
	json_t *j = c->gitlab ? json_pack("{s:I, s:s, s:{s:s}, s:b}", "id", (json_int_t)c->id, "body", c->body,
					  "author", "username", c->author, "system", 0)
			      : json_pack("{s:I, s:s, s:{s:s, s:s}, s:s}", "id", (json_int_t)c->id, "body", c->body,
					  "user", "login", c->author, "type", strcmp(c->author, "memgate-bot") ? "User" : "Bot",
					  "html_url", "https://github.com/o/r/pull/7#issuecomment-1");
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* The body of a create or update, checked as the forge does: 0 and *text,
 * or the status to answer with (and *err its JSON). */
static int check_body(const char *raw, const char *ctype, bool gitlab, char **text, const char **err)
{
	if (!strstr(ctype, "application/json")) {
		*err = "{\"message\":\"Content-Type must be application/json\"}";
		return 415;
	}
	json_t *j = json_loads(raw, 0, NULL);
	const char *b = json_string_value(json_object_get(j, "body"));
	int rc = 0;
	if (!json_is_object(j)) {
		*err = "{\"message\":\"Problems parsing JSON\"}";
		rc = 400;
	} else if (!b) {
		*err = gitlab ? "{\"error\":\"body is missing\"}"
			      : "{\"message\":\"Invalid request.\\n\\n\\\"body\\\" wasn't supplied.\"}";
		rc = gitlab ? 400 : 422;
	} else if (!gitlab && utf8_chars(b) > GH_MAX_BODY) {
		*err = "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"IssueComment\",\"code\":\"custom\","
		       "\"field\":\"body\",\"message\":\"body is too long (maximum is 65536 characters)\"}]}";
		rc = 422;
	} else {
		*text = strdup(b);
	}
	json_decref(j);
	return rc;
}

/* One request: the forge's answer. Called with the lock held. */
static void handle(struct forge *s, int fd, char *req, size_t head_len, size_t total)
{
	char method[16] = "", target[512] = "", auth[256], priv[256], ctype[128];
	req[head_len - 2] = '\0'; /* the head alone, for the header lookups */
	sscanf(req, "%15s %511s", method, target);
	header(req, "Authorization:", auth, sizeof auth);
	header(req, "PRIVATE-TOKEN:", priv, sizeof priv);
	header(req, "Content-Type:", ctype, sizeof ctype);
	const char *raw = req + head_len;
	(void)total;
	long long thread = 0, id = 0;
	int per_page = 30, page = 1, consumed = 0, status = 404;
	char *out = NULL;
	const char *fixed = "{\"message\":\"Not Found\"}";
	bool gitlab = strncmp(target, "/projects/", 10) == 0;
	bool list = false, create = false, update = false;
	bool status_post = !strcmp(method, "POST") && (!strncmp(target, "/repos/o/r/statuses/", 20) ||
						       !strncmp(target, "/projects/group%2Fapp/statuses/", 31));
	if (!gitlab && sscanf(target, "/repos/o/r/issues/%lld/comments%n", &thread, &consumed) == 1) {
		list = !strcmp(method, "GET") && (target[consumed] == '?' || !target[consumed]);
		create = !strcmp(method, "POST") && !target[consumed];
	} else if (!gitlab && sscanf(target, "/repos/o/r/issues/comments/%lld%n", &id, &consumed) == 1) {
		update = !strcmp(method, "PATCH") && !target[consumed];
	} else if (gitlab && sscanf(target, "/projects/group%%2Fapp/merge_requests/%lld/notes%n", &thread,
				    &consumed) == 1) {
		if (target[consumed] == '/' && sscanf(target + consumed, "/%lld", &id) == 1)
			update = !strcmp(method, "PUT");
		else {
			list = !strcmp(method, "GET") && (target[consumed] == '?' || !target[consumed]);
			create = !strcmp(method, "POST") && !target[consumed];
		}
	}
	const char *q = strchr(target, '?');
	for (const char *p = q; p; p = strchr(p + 1, '&')) {
		sscanf(p + 1, "per_page=%d", &per_page);
		sscanf(p + 1, "page=%d", &page);
	}
	s->gets += !strcmp(method, "GET");
	s->posts += !strcmp(method, "POST") && !status_post;
	s->statuses += status_post;
	s->patches += !strcmp(method, "PATCH");
	s->puts += !strcmp(method, "PUT");
	bool authed = gitlab ? !strcmp(priv, GL_TOKEN) : !strcmp(auth, "Bearer " TOKEN);
	if (s->fail_status) {
		status = s->fail_status;
		fixed = s->fail_status == 403 ? "{\"message\":\"Resource not accessible by integration\","
					       "\"documentation_url\":\"https://docs.github.com/rest\"}"
						: "{\"message\":\"Server Error\"}";
	} else if (!authed) {
		status = 401;
		fixed = gitlab ? "{\"message\":\"401 Unauthorized\"}" : "{\"message\":\"Requires authentication\"}";
		s->refused++;
	} else if (status_post) {
		status = 201;
		fixed = "{\"id\":1,\"state\":\"success\"}";
	} else if (list && (per_page < 1 || per_page > 100 || page < 1)) {
		status = 422;
		fixed = "{\"message\":\"Validation Failed\"}";
	} else if (list && s->garbage) {
		status = 200;
		fixed = "<html>rate limited by a proxy</html>";
	} else if (list) {
		size_t from = (size_t)(page - 1) * (size_t)per_page, seen = 0;
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		fputc('[', m);
		for (size_t i = 0, k = 0; i < s->n; i++) {
			if (s->c[i].thread != thread || s->c[i].gitlab != gitlab)
				continue;
			if (seen++ < from || k >= (size_t)per_page)
				continue;
			char *cj = comment_json(&s->c[i]);
			fprintf(m, "%s%s", k++ ? "," : "", cj);
			free(cj);
		}
		fputc(']', m);
		fclose(m);
		out = buf;
		status = 200;
	} else if (create || update) {
		char *text = NULL;
		const char *err = NULL;
		struct comment *c = NULL;
		for (size_t i = 0; update && i < s->n; i++)
			if (s->c[i].id == id && s->c[i].gitlab == gitlab && (!gitlab || s->c[i].thread == thread))
				c = &s->c[i];
		if (update && c && s->delete_on_update) { /* someone deleted it after memgate listed them */
			free(c->body);
			*c = s->c[--s->n];
			c = NULL;
			s->delete_on_update = false;
		}
		if (update && !c) {
			status = 404;
		} else if ((status = check_body(raw, ctype, gitlab, &text, &err)) != 0) {
			fixed = err;
		} else if (create && s->n < MAX_COMMENTS) {
			c = &s->c[s->n++];
			*c = (struct comment){s->next_id++, thread, text, "memgate-bot", gitlab};
			status = 201;
		} else if (update) {
			free(c->body);
			c->body = text;
			status = 200;
		}
		if (c && status < 300) {
			free(s->last_body);
			s->last_body = strdup(c->body);
			out = comment_json(c);
		}
	}
	if (s->nlog < MAX_LOG)
		snprintf(s->log[s->nlog++], sizeof s->log[0], "%s %s -> %d", method, target, status);
	reply(fd, status, out ? out : fixed);
	free(out);
}

static void *forge_main(void *arg)
{
	struct forge *s = arg;
	for (;;) {
		struct pollfd p[2] = {{s->lfd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
		if (poll(p, 2, 100) < 0 || p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		char *req = NULL;
		size_t head_len = 0, total = 0;
		if (read_request(fd, &req, &head_len, &total)) {
			pthread_mutex_lock(&s->lock);
			bool hang = s->hang;
			if (!hang)
				handle(s, fd, req, head_len, total);
			else
				s->gets++;
			pthread_mutex_unlock(&s->lock);
			if (hang) { /* until the client gives up */
				struct pollfd h = {fd, POLLIN, 0};
				char c;
				while (poll(&h, 1, 5000) > 0 && read(fd, &c, 1) > 0)
					;
			}
		}
		free(req);
		close(fd);
	}
	return NULL;
}

static void forge_start(struct forge *s)
{
	memset(s, 0, sizeof *s);
	s->next_id = 3000000001LL; /* GitHub's comment ids are past 2^31 now */
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pipe(s->stop), 0);
	pthread_mutex_init(&s->lock, NULL);
	assert_int_equal(pthread_create(&s->thread, NULL, forge_main, s), 0);
	s->running = true;
}

static void forge_stop(struct forge *s)
{
	if (!s->running)
		return;
	s->running = false;
	if (write(s->stop[1], "x", 1) != 1)
		fprintf(stderr, "forge: cannot signal stop\n");
	pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
	pthread_mutex_destroy(&s->lock);
}

/* The comments, once the forge is stopped and read. */
static void forge_free(struct forge *s)
{
	forge_stop(s);
	for (size_t i = 0; i < s->n; i++)
		free(s->c[i].body);
	free(s->last_body);
	s->n = 0;
	s->last_body = NULL;
}

/* Did the forge log this line ("GET /path -> 200")? */
static bool forge_logged(struct forge *s, const char *line)
{
	for (int i = 0; i < s->nlog; i++)
		if (!strcmp(s->log[i], line))
			return true;
	return false;
}

/* A comment someone else wrote, before memgate's. */
static long long forge_add(struct forge *s, long long thread, const char *body, const char *author, bool gitlab)
{
	pthread_mutex_lock(&s->lock);
	assert_true(s->n < MAX_COMMENTS);
	struct comment *c = &s->c[s->n++];
	*c = (struct comment){s->next_id++, thread, strdup(body), author, gitlab};
	long long id = c->id;
	pthread_mutex_unlock(&s->lock);
	return id;
}

static const struct comment *forge_find(struct forge *s, long long id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->c[i].id == id)
			return &s->c[i];
	return NULL;
}

/* After memgate exited no request is in flight: a lock and unlock make the
 * forge thread's writes visible here. */
static void forge_sync(struct forge *s)
{
	pthread_mutex_lock(&s->lock);
	pthread_mutex_unlock(&s->lock);
}

static void forge_reset_counts(struct forge *s)
{
	pthread_mutex_lock(&s->lock);
	s->gets = s->posts = s->patches = s->puts = s->statuses = s->refused = s->nlog = 0;
	pthread_mutex_unlock(&s->lock);
}

/* ---- running memgate ---------------------------------------------------------------- */

struct out {
	int status;
	char stdout_text[16384];
	char stderr_text[32768];
};

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	unlink(path);
}

/* memgate with args (NULL-terminated) and exactly the environment env (plus PATH). */
static void run_memgate(struct out *o, const char *const *args, const char *const *env)
{
	char opath[64], epath[64];
	snprintf(opath, sizeof opath, "/tmp/memgate-itcomment-o-XXXXXX");
	snprintf(epath, sizeof epath, "/tmp/memgate-itcomment-e-XXXXXX");
	int ofd = mkstemp(opath), efd = mkstemp(epath);
	assert_true(ofd >= 0 && efd >= 0);
	const char *argv[32], *envp[48];
	size_t n = 0, k = 0;
	argv[n++] = it_memgate_path();
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	envp[k++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	for (size_t i = 0; env && env[i] && k < 47; i++)
		envp[k++] = env[i];
	envp[k] = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, STDIN_FILENO);
		dup2(ofd, STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		execve(argv[0], (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	close(ofd);
	close(efd);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	slurp(opath, o->stdout_text, sizeof o->stdout_text);
	slurp(epath, o->stderr_text, sizeof o->stderr_text);
	if (strstr(o->stdout_text, TOKEN) || strstr(o->stderr_text, TOKEN) || strstr(o->stdout_text, GL_TOKEN) ||
	    strstr(o->stderr_text, GL_TOKEN))
		fail_msg("the token was printed: %s%s", o->stdout_text, o->stderr_text);
}

/* ---- fixtures ---------------------------------------------------------------------- */

struct ctx {
	bool have_comment;
	struct forge forge;
	char report[64];      /* tests/data/reports/baseline.json, copied */
	char event[64];       /* a pull_request event for PR 7 */
	char api[64];         /* GITHUB_API_URL=... */
	char gl_api[64];      /* CI_API_V4_URL=... */
};

static int write_temp(char *path, size_t len, const char *text)
{
	snprintf(path, len, "/tmp/memgate-itcomment-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int c;
	while (f && (c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	if (f)
		fclose(f);
	return buf;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	*state = c;
	char *rep = read_file("tests/data/reports/baseline.json");
	int rc = rep && *rep ? write_temp(c->report, sizeof c->report, rep) : -1;
	free(rep);
	if (rc < 0 || write_temp(c->event, sizeof c->event,
				 "{\"action\": \"synchronize\", \"number\": 7, \"pull_request\": {\"number\": 7, "
				 "\"head\": {\"sha\": \"" SHA40 "\"}}}") < 0)
		return -1;
	const char *args[] = {"post", "--help", NULL};
	struct out o;
	run_memgate(&o, args, NULL);
	c->have_comment = o.status == 0 && strstr(o.stdout_text, "--comment");
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	if (c) {
		forge_free(&c->forge);
		unlink(c->report);
		unlink(c->event);
		free(c);
	}
	return 0;
}

/* Each test: a fresh forge. Fails (not skips) when the binary has no
 * --comment: this test is about it. */
static struct ctx *begin(void **state)
{
	struct ctx *c = *state;
	if (!c->have_comment)
		fail_msg("%s post --help does not offer --comment", it_memgate_path());
	forge_free(&c->forge);
	forge_start(&c->forge);
	snprintf(c->api, sizeof c->api, "GITHUB_API_URL=http://127.0.0.1:%d", c->forge.port);
	snprintf(c->gl_api, sizeof c->gl_api, "CI_API_V4_URL=http://127.0.0.1:%d", c->forge.port);
	return c;
}

/* GitHub Actions on a pull_request event for PR 7 (event file at ev). */
#define GH_PR_ENV(c)                                                                         \
	"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40, "GITHUB_TOKEN=" TOKEN, \
		"GITHUB_SERVER_URL=https://github.com", "GITHUB_RUN_ID=42",                  \
		"GITHUB_EVENT_NAME=pull_request", ev, (c)->api, "MEMGATE_HTTP_BACKOFF_MS=10",   \
		"MEMGATE_HTTP_TIMEOUT_MS=10000"

/* `memgate post --comment [more...] REPORT` under GH_PR_ENV; statuses go to
 * the same forge, which answers them 404 (not its business): --comment
 * alone is what is checked, so the statuses' warning is expected. */
static void post_comment(struct ctx *c, struct out *o, const char *const *more, const char *const *extra_env)
{
	char ev[96];
	snprintf(ev, sizeof ev, "GITHUB_EVENT_PATH=%s", c->event);
	const char *env[48] = {GH_PR_ENV(c)};
	size_t k = 0;
	while (env[k])
		k++;
	for (size_t i = 0; extra_env && extra_env[i]; i++)
		env[k++] = extra_env[i];
	env[k] = NULL;
	const char *args[24] = {"post", "--comment"};
	size_t n = 2;
	for (size_t i = 0; more && more[i]; i++)
		args[n++] = more[i];
	args[n++] = c->report;
	args[n] = NULL;
	run_memgate(o, args, env);
}

static const char marker[] = "<!-- memgate:comment config=memgate.json -->\n";

/* ---- tests ------------------------------------------------------------------------- */

/* The first push creates the comment; the second edits that same comment:
 * one memgate comment remains, with the new figures. */
static void first_creates_then_edits_in_place(void **state)
{
	struct ctx *c = begin(state);
	struct out o;
	post_comment(c, &o, NULL, NULL);
	forge_sync(&c->forge);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	assert_int_equal(c->forge.n, 1);
	const struct comment *cm = &c->forge.c[0];
	long long id = cm->id;
	assert_int_equal(cm->thread, 7);
	assert_true(strncmp(cm->body, marker, strlen(marker)) == 0);
	assert_contains(cm->body, "**memgate: FAIL** — 2 of 3 fixtures failed\n\n| fixture | verdict | metric |");
	assert_contains(cm->body, "| hold-64MiB | FAIL | tree_rss | 65.4 MiB | 80.0 MiB | +12.1 MiB, +22.7% (over baseline) |\n");
	assert_contains(cm->body, "_The full report is in [the CI run](https://github.com/o/r/actions/runs/42)._\n");
	assert_contains(cm->body, "<sub>memgate 0.1.0, commit 0123456789ab</sub>\n");
	assert_int_equal(c->forge.gets, 1);
	assert_int_equal(c->forge.posts, 1);
	assert_int_equal(c->forge.statuses, 3); /* post --comment posts the statuses too */
	assert_int_equal(c->forge.patches, 0);
	assert_true(forge_logged(&c->forge, "GET /repos/o/r/issues/7/comments?per_page=100&page=1 -> 200"));
	char want[96];
	snprintf(want, sizeof want, "commented on pull request #7: created comment %lld\n", id);
	assert_contains(o.stdout_text, want);

	/* the next push, with new figures (every fixture passed): the same
	 * comment, edited; nothing new */
	forge_reset_counts(&c->forge);
	char keep[64];
	snprintf(keep, sizeof keep, "%s", c->report);
	char *text = read_file("tests/data/reports/demo.json");
	assert_int_equal(write_temp(c->report, sizeof c->report, text), 0);
	free(text);
	post_comment(c, &o, NULL, NULL);
	unlink(c->report);
	snprintf(c->report, sizeof c->report, "%s", keep);
	forge_stop(&c->forge);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	assert_int_equal(c->forge.n, 1);
	assert_int_equal(c->forge.c[0].id, id);
	assert_int_equal(c->forge.patches, 1);
	assert_int_equal(c->forge.posts, 0);
	snprintf(want, sizeof want, "PATCH /repos/o/r/issues/comments/%lld -> 200", id);
	assert_true(forge_logged(&c->forge, want));
	assert_true(strncmp(c->forge.c[0].body, marker, strlen(marker)) == 0);
	/* the new figures, not the old ones */
	assert_contains(c->forge.c[0].body, "**memgate: PASS** — 3 fixtures within limits\n");
	assert_contains(c->forge.c[0].body, "| hold-64MiB | PASS | tree_rss | 65.3 MiB | 80.0 MiB | — |\n");
	assert_true(strstr(c->forge.c[0].body, "FAIL") == NULL);
	snprintf(want, sizeof want, "commented on pull request #7: updated comment %lld\n", id);
	assert_contains(o.stdout_text, want);
}

/* The comment was deleted between memgate's list and its edit: the edit
 * is answered 404, and memgate makes the comment again (once). */
static void deleted_meanwhile_is_made_again(void **state)
{
	struct ctx *c = begin(state);
	struct out o;
	post_comment(c, &o, NULL, NULL);
	forge_sync(&c->forge);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	assert_int_equal(c->forge.n, 1);
	long long first = c->forge.c[0].id;
	forge_reset_counts(&c->forge);
	c->forge.delete_on_update = true;
	post_comment(c, &o, NULL, NULL);
	forge_stop(&c->forge);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	assert_int_equal(c->forge.patches, 1);
	assert_int_equal(c->forge.posts, 1);
	assert_int_equal(c->forge.n, 1);
	assert_true(c->forge.c[0].id != first);
	assert_true(strncmp(c->forge.c[0].body, marker, strlen(marker)) == 0);
	assert_contains(o.stdout_text, "commented on pull request #7: created comment");
}

/* Others' comments are never edited: one without the marker, one that
 * quotes it further down, and memgate's own for another config. */
static void never_edits_what_is_not_its_own(void **state)
{
	struct ctx *c = begin(state);
	static const char *const others[] = {
		"LGTM, but the memory went up",
		"> <!-- memgate:comment config=memgate.json -->\n> quoted from memgate's comment",
		"see below\n<!-- memgate:comment config=memgate.json -->",
		"<!-- memgate:comment config=memgate.json --> and then some text on the same line",
		"<!-- memgate:comment config=other.json -->\nthe table of another config",
	};
	long long ids[5];
	for (size_t i = 0; i < 5; i++)
		ids[i] = forge_add(&c->forge, 7, others[i], "octocat", false);
	forge_add(&c->forge, 8, marker, "memgate-bot", false); /* another pull request */
	struct out o;
	post_comment(c, &o, NULL, NULL);
	forge_stop(&c->forge);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	assert_int_equal(c->forge.patches, 0);
	assert_int_equal(c->forge.n, 7); /* one new */
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(forge_find(&c->forge, ids[i])->body, others[i]);
	assert_int_equal(c->forge.c[6].thread, 7);
	assert_true(strncmp(c->forge.c[6].body, marker, strlen(marker)) == 0);
}

/* 150 comments before memgate's: it is on page 2, found and edited there;
 * page 2 is short, so no page 3 is asked for. */
static void marker_on_page_two(void **state)
{
	struct ctx *c = begin(state);
	for (int i = 0; i < 150; i++)
		forge_add(&c->forge, 7, "a comment", "octocat", false);
	long long ours = forge_add(&c->forge, 7, "<!-- memgate:comment config=memgate.json -->\nold table", "memgate-bot",
				   false);
	forge_add(&c->forge, 7, "<!-- memgate:comment config=memgate.json -->\na duplicate", "memgate-bot", false);
	struct out o;
	post_comment(c, &o, NULL, NULL);
	forge_stop(&c->forge);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	assert_int_equal(c->forge.gets, 2);
	assert_true(forge_logged(&c->forge, "GET /repos/o/r/issues/7/comments?per_page=100&page=1 -> 200"));
	assert_true(forge_logged(&c->forge, "GET /repos/o/r/issues/7/comments?per_page=100&page=2 -> 200"));
	assert_int_equal(c->forge.patches, 1);
	assert_int_equal(c->forge.n, 152);
	assert_contains(forge_find(&c->forge, ours)->body, "| hold-64MiB | FAIL |");
	assert_contains(forge_find(&c->forge, ours + 1)->body, "a duplicate"); /* the first one only */

	/* exactly 100 before it: page 1 is full, so page 2 is read too */
	c = begin(state);
	for (int i = 0; i < 100; i++)
		forge_add(&c->forge, 7, "a comment", "octocat", false);
	post_comment(c, &o, NULL, NULL);
	forge_stop(&c->forge);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	assert_int_equal(c->forge.gets, 2);
	assert_int_equal(c->forge.n, 101);
}

/* 403 and 500: one clear line naming the request, the status and the fix;
 * a warning and exit 0, or exit 3 with --require-post. An answer that is
 * not JSON, and none at all, the same. Nothing is created blindly. */
static void refusals_give_one_clear_line(void **state)
{
	struct ctx *c = begin(state);
	c->forge.fail_status = 403;
	struct out o;
	const char *one_retry[] = {"MEMGATE_HTTP_RETRIES=1", NULL};
	post_comment(c, &o, NULL, one_retry);
	assert_int_equal(o.status, 0);
	assert_contains(o.stderr_text, "memgate: warning: comment not posted: GET /repos/o/r/issues/7/comments?"
				       "per_page=100&page=1: 403 Forbidden: Resource not accessible by integration "
				       "(1 attempt); the token needs issues: write and pull-requests: write "
				       "(`permissions:` in the workflow); on a pull request from a fork GITHUB_TOKEN is "
				       "read-only\n");
	const char *req[] = {"--require-post", NULL};
	post_comment(c, &o, req, one_retry);
	assert_int_equal(o.status, 3);
	assert_contains(o.stderr_text, "memgate: error: comment not posted: GET /repos/o/r/issues/7/comments?");

	/* 500: retried, then said */
	c->forge.fail_status = 500;
	post_comment(c, &o, req, one_retry);
	assert_int_equal(o.status, 3);
	assert_contains(o.stderr_text, "memgate: error: comment not posted: GET /repos/o/r/issues/7/comments?"
				       "per_page=100&page=1: 500 Internal Server Error: Server Error (2 attempts); the "
				       "API kept failing after the retries (MEMGATE_HTTP_RETRIES); the next run posts "
				       "the comment\n");
	forge_stop(&c->forge);
	assert_int_equal(c->forge.n, 0);

	/* an answer that is not JSON */
	c = begin(state);
	c->forge.garbage = true;
	post_comment(c, &o, req, NULL);
	forge_stop(&c->forge);
	assert_int_equal(o.status, 3);
	assert_contains(o.stderr_text, "memgate: error: comment not posted: GET /repos/o/r/issues/7/comments?"
				       "per_page=100&page=1: 200 OK, but the answer is not a JSON array of comments\n");
	assert_int_equal(c->forge.posts, 0);

	/* no answer at all: the timeout, with the URL */
	c = begin(state);
	c->forge.hang = true;
	char ev[96];
	snprintf(ev, sizeof ev, "GITHUB_EVENT_PATH=%s", c->event);
	const char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_TOKEN=" TOKEN,
			     "GITHUB_EVENT_NAME=pull_request", ev, c->api, "MEMGATE_HTTP_RETRIES=0",
			     "MEMGATE_HTTP_TIMEOUT_MS=300", NULL};
	char cfg[64];
	assert_int_equal(write_temp(cfg, sizeof cfg, "{\"version\": 1, \"fixtures\": [{\"name\": \"t\", "
						    "\"command\": [\"true\"]}]}"), 0);
	const char *run[] = {"run", "-c", cfg, "--comment", "--require-post", NULL};
	long t0 = time(NULL);
	run_memgate(&o, run, env);
	forge_stop(&c->forge);
	unlink(cfg);
	assert_int_equal(o.status, 3);
	assert_true(time(NULL) - t0 < 10);
	assert_contains(o.stderr_text, "memgate: error: comment not posted: GET http://127.0.0.1:");
	assert_contains(o.stderr_text, "/repos/o/r/issues/7/comments?per_page=100&page=1: ");
	assert_contains(o.stderr_text, "(1 attempt)");
	assert_int_equal(c->forge.posts, 0);
}

/* A report too long for one comment: cut at a fixture, under GitHub's
 * limit (the forge says 422 past it), saying how many were left out. */
static void oversize_body_is_cut(void **state)
{
	struct ctx *c = begin(state);
	json_t *rep = json_load_file("tests/data/reports/baseline.json", 0, NULL);
	assert_non_null(rep);
	json_t *fx = json_object_get(rep, "fixtures"), *all = json_array();
	for (size_t i = 0; i < 1200; i++) {
		json_t *f = json_deep_copy(json_array_get(fx, i % 3));
		char name[64];
		snprintf(name, sizeof name, "fixture-%04zu-%s", i, json_string_value(json_object_get(f, "name")));
		json_object_set_new(f, "name", json_string(name));
		json_array_append_new(all, f);
	}
	json_object_set_new(rep, "fixtures", all);
	char big[64];
	snprintf(big, sizeof big, "/tmp/memgate-itcomment-big-XXXXXX");
	int fd = mkstemp(big);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(json_dump_file(rep, big, 0), 0);
	json_decref(rep);
	char keep[64];
	snprintf(keep, sizeof keep, "%s", c->report);
	snprintf(c->report, sizeof c->report, "%s", big);
	struct out o;
	post_comment(c, &o, NULL, NULL);
	snprintf(c->report, sizeof c->report, "%s", keep);
	unlink(big);
	forge_stop(&c->forge);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	assert_int_equal(c->forge.n, 1);
	const char *body = c->forge.c[0].body;
	assert_true(strlen(body) <= GH_MAX_BODY);
	assert_true(strlen(body) > GH_MAX_BODY - 4096);
	assert_contains(body, " of 1200 fixtures left out to stay under the comment size limit; the full report is "
			      "in [the CI run](https://github.com/o/r/actions/runs/42)._\n");
	assert_contains(body, "<sub>memgate 0.1.0, commit 0123456789ab</sub>\n");
}

/* Not a pull request: a note, no request, exit 0; an error with
 * --require-post. GITHUB_REF refs/pull/N/merge and --pr say which. */
static void which_pull_request(void **state)
{
	struct ctx *c = begin(state);
	char ev[96];
	snprintf(ev, sizeof ev, "GITHUB_EVENT_PATH=%s", c->event);
	const char *push[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40,
			      "GITHUB_TOKEN=" TOKEN, "GITHUB_EVENT_NAME=push", "GITHUB_REF=refs/heads/main",
			      c->api, "MEMGATE_HTTP_BACKOFF_MS=10", NULL};
	const char *args[] = {"post", "--comment", c->report, NULL};
	struct out o;
	run_memgate(&o, args, push);
	assert_int_equal(o.status, 0);
	assert_contains(o.stderr_text, "memgate: note: no pull request comment posted: GITHUB_EVENT_NAME=push is "
				       "not a pull request event (pass --pr N to comment on one)\n");
	const char *req[] = {"post", "--comment", "--require-post", c->report, NULL};
	run_memgate(&o, req, push);
	assert_int_equal(o.status, 3);
	assert_contains(o.stderr_text, "memgate: error: no pull request comment posted: GITHUB_EVENT_NAME=push");
	pthread_mutex_lock(&c->forge.lock);
	assert_int_equal(c->forge.gets, 0);
	assert_int_equal(c->forge.n, 0);
	pthread_mutex_unlock(&c->forge.lock);

	/* --pr on a push */
	const char *pr[] = {"post", "--comment", "--pr", "12", c->report, NULL};
	run_memgate(&o, pr, push);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	/* a merge ref without an event file (a workflow_run, a re-run) */
	const char *ref[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40,
			     "GITHUB_TOKEN=" TOKEN, "GITHUB_EVENT_NAME=workflow_dispatch",
			     "GITHUB_REF=refs/pull/31/merge", c->api, NULL};
	run_memgate(&o, args, ref);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	/* --pr wins over the event */
	const char *both[] = {"--pr", "44", NULL};
	post_comment(c, &o, both, NULL);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	const char *bad[] = {"post", "--comment", "--pr", "7x", c->report, NULL};
	run_memgate(&o, bad, push);
	assert_int_equal(o.status, 2);
	assert_contains(o.stderr_text, "--pr 7x: expected a pull request number");
	forge_stop(&c->forge);
	assert_int_equal(c->forge.n, 3);
	assert_int_equal(c->forge.c[0].thread, 12);
	assert_int_equal(c->forge.c[1].thread, 31);
	assert_int_equal(c->forge.c[2].thread, 44);
}

/* `run --comment` without --post-status: the comment only, no status, no
 * commit needed; the marker names the config. */
static void run_comment_alone(void **state)
{
	struct ctx *c = begin(state);
	char cfg[64];
	assert_int_equal(write_temp(cfg, sizeof cfg, "{\"version\": 1, \"fixtures\": [{\"name\": \"t\", "
						    "\"command\": [\"true\"], \"limits\": {\"tree_rss\": \"64MiB\"}}]}"),
			 0);
	char ev[96];
	snprintf(ev, sizeof ev, "GITHUB_EVENT_PATH=%s", c->event);
	const char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_TOKEN=" TOKEN,
			     "GITHUB_EVENT_NAME=pull_request", ev, c->api, NULL};
	const char *args[] = {"run", "-c", cfg, "--comment", "--require-post", NULL};
	struct out o;
	run_memgate(&o, args, env);
	run_memgate(&o, args, env);
	forge_stop(&c->forge);
	unlink(cfg);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	assert_int_equal(c->forge.posts, 1);
	assert_int_equal(c->forge.patches, 1);
	assert_int_equal(c->forge.statuses, 0);
	assert_int_equal(c->forge.n, 1);
	char want[256];
	snprintf(want, sizeof want, "<!-- memgate:comment config=%s -->\n**memgate: PASS** — 1 fixture within limits\n",
		 cfg);
	assert_true(strncmp(c->forge.c[0].body, want, strlen(want)) == 0);
	assert_contains(c->forge.c[0].body, "| t | PASS | tree_rss |");
	assert_contains(o.stderr_text, "commented on pull request #7: updated comment ");
}

/* GitLab: a merge request note, found among the notes and updated with PUT,
 * with the PRIVATE-TOKEN header. */
static void gitlab_merge_request_note(void **state)
{
	struct ctx *c = begin(state);
	long long theirs = forge_add(&c->forge, 5, "nice", "alice", true);
	const char *env[] = {"GITLAB_CI=true", c->gl_api, "CI_PROJECT_ID=group/app", "CI_COMMIT_SHA=" SHA40,
			     "GITLAB_TOKEN=" GL_TOKEN, "CI_MERGE_REQUEST_IID=5",
			     "CI_JOB_URL=https://gitlab.example.com/g/a/-/jobs/5", NULL};
	const char *args[] = {"post", "--comment", "--require-post", c->report, NULL};
	struct out o;
	run_memgate(&o, args, env);
	if (o.status != 0)
		fail_msg("status %d: %s", o.status, o.stderr_text);
	assert_contains(o.stdout_text, "posted memgate/hold-64MiB: failed (");
	assert_contains(o.stdout_text, "commented on merge request !5: created note ");
	run_memgate(&o, args, env);
	assert_contains(o.stdout_text, "commented on merge request !5: updated note ");
	forge_stop(&c->forge);
	assert_int_equal(c->forge.n, 2);
	assert_string_equal(forge_find(&c->forge, theirs)->body, "nice");
	assert_true(strncmp(c->forge.c[1].body, marker, strlen(marker)) == 0);
	assert_int_equal(c->forge.puts, 1);
	assert_true(forge_logged(&c->forge, "GET /projects/group%2Fapp/merge_requests/5/notes?sort=asc&order_by="
					    "created_at&per_page=100&page=1 -> 200"));
	/* a job token cannot write notes: said so */
	c = begin(state);
	const char *job[] = {"GITLAB_CI=true", c->gl_api, "CI_PROJECT_ID=group/app", "CI_COMMIT_SHA=" SHA40,
			     "CI_JOB_TOKEN=" GL_TOKEN, "CI_MERGE_REQUEST_IID=5", NULL};
	run_memgate(&o, args, job);
	forge_stop(&c->forge);
	assert_int_equal(o.status, 3);
	assert_contains(o.stderr_text, "memgate: error: comment not posted: GET /projects/group%2Fapp/merge_requests/5/"
				       "notes?sort=asc&order_by=created_at&per_page=100&page=1: 401 Unauthorized: 401 "
				       "Unauthorized (1 attempt); the token is missing, expired or wrong: set "
				       "GITLAB_TOKEN (or --token-file) to an access token with the api scope; a "
				       "CI_JOB_TOKEN cannot write merge request notes\n");
}

/* Does Prism's log block of one request (from its line to the next
 * request's) hold needle? */
static bool block_has(const char *block, const char *needle)
{
	const char *end = strstr(block + 1, "[HTTP SERVER]"), *hit = strstr(block, needle);
	return hit && (!end || hit < end);
}

/* The binary's requests against GitHub's own description: Prism answers
 * with examples, so it serves a copy of tests/peer/github-peer.json whose
 * example comment begins with memgate's marker for memgate.json. With that
 * config memgate finds it and PATCHes; with another it creates one. Prism
 * must pass both requests (and the statuses). */
static void prism_validates_create_and_update(void **state)
{
	struct ctx *c = *state;
	if (!c->have_comment)
		fail_msg("%s post --help does not offer --comment", it_memgate_path());
	if (peer_missing_offline())
		skip_because("offline, and Prism (the API peer) is not installed: run tests/peer/ensure once online");
	assert_int_equal(peer_ensure(), 0);
	json_t *spec = json_load_file("tests/peer/github-peer.json", 0, NULL);
	assert_non_null(spec);
	json_t *ex = json_object_get(json_object_get(json_object_get(spec, "components"), "examples"),
				     "issue-comment-items");
	json_t *first = json_array_get(json_object_get(ex, "value"), 0);
	assert_non_null(first);
	json_object_set_new(first, "body", json_string("<!-- memgate:comment config=memgate.json -->\nold figures"));
	char path[64];
	snprintf(path, sizeof path, "/tmp/memgate-peer-XXXXXX.json");
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(json_dump_file(spec, path, JSON_COMPACT), 0);
	json_decref(spec);
	struct peer peer;
	int started = peer_start(&peer, path);
	unlink(path);
	assert_int_equal(started, 0);
	char api[64], ev[96];
	snprintf(api, sizeof api, "GITHUB_API_URL=http://127.0.0.1:%d", peer.port);
	snprintf(ev, sizeof ev, "GITHUB_EVENT_PATH=%s", c->event);
	const char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_TOKEN=" TOKEN,
			     "GITHUB_SERVER_URL=https://github.com", "GITHUB_RUN_ID=42",
			     "GITHUB_EVENT_NAME=pull_request", ev, api, NULL};
	const char *update[] = {"post", "--comment", "--require-post", c->report, NULL};
	const char *create[] = {"post", "--comment", "--require-post", "-c", "other.json", c->report, NULL};
	struct out o1, o2;
	run_memgate(&o1, update, env);
	run_memgate(&o2, create, env);
	/* what Prism made of them: it logs a request after answering it */
	char log[65536] = "";
	const char *patch = NULL, *post = NULL;
	for (long deadline = peer_now_ms() + 5000; peer_now_ms() < deadline; peer_sleep_ms(100)) {
		FILE *lf = fopen(peer.log, "r");
		size_t n = lf ? fread(log, 1, sizeof log - 1, lf) : 0;
		log[n] = '\0';
		if (lf)
			fclose(lf);
		patch = strstr(log, "patch /repos/o/r/issues/comments/1 ");
		post = strstr(log, "post /repos/o/r/issues/7/comments ");
		if (patch && post && strstr(patch, "Responding with") && strstr(post, "Responding with"))
			break;
	}
	peer_stop(&peer);
	if (o1.status != 0 || o2.status != 0)
		fail_msg("status %d: %s\nstatus %d: %s", o1.status, o1.stderr_text, o2.status, o2.stderr_text);
	assert_contains(o1.stdout_text, "commented on pull request #7: updated comment 1\n");
	assert_contains(o2.stdout_text, "commented on pull request #7: created comment 1\n");
	/* each request's lines, from "Request received" to the next request */
	bool ok = patch && post && !strstr(log, "Violation") && !strstr(log, "Responding with \"4") &&
		  block_has(patch, "request passed the validation rules") && block_has(patch, "Responding with \"200\"") &&
		  block_has(post, "request passed the validation rules") && block_has(post, "Responding with \"201\"");
	if (!ok) {
		FILE *dump = fopen("build/it_comment-prism.log", "w");
		if (dump)
			fputs(log, dump), fclose(dump);
		fail_msg("Prism did not pass the PATCH and the POST (its log: build/it_comment-prism.log)");
	}
}

int main(void)
{
	struct CMUnitTest tests[] = {
		cmocka_unit_test(first_creates_then_edits_in_place),
		cmocka_unit_test(deleted_meanwhile_is_made_again),
		cmocka_unit_test(never_edits_what_is_not_its_own),
		cmocka_unit_test(marker_on_page_two),
		cmocka_unit_test(refusals_give_one_clear_line),
		cmocka_unit_test(oversize_body_is_cut),
		cmocka_unit_test(which_pull_request),
		cmocka_unit_test(run_comment_alone),
		cmocka_unit_test(gitlab_merge_request_note),
		cmocka_unit_test(prism_validates_create_and_update),
	};
	return cmocka_run_group_tests_name("pull-request comment", tests, setup, teardown);
}
