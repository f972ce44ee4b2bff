#include "ci/post.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "exit.h"
#include "names.h"
#include "report/report_load.h"
#include "units.h"

#define GITHUB_API_DEFAULT "https://api.github.com"
#define DEFAULT_PREFIX "memgate/"
#define DEFAULT_CONFIG "memgate.json"
#define TRUNCATED_NOTE "\n\n… truncated"

/* ---- small helpers ----------------------------------------------------------- */

/* The value of name in envp; NULL when unset or empty (CI systems export
 * empty variables for things that do not apply). */
static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], name, n) && envp[i][n] == '=')
			return envp[i][n + 1] ? envp[i] + n + 1 : NULL;
	return NULL;
}

static bool env_true(char *const *envp, const char *name)
{
	const char *v = env_get(envp, name);
	return v && !strcmp(v, "true");
}

/* A switch of ours: "1" or "true". */
static bool env_on(char *const *envp, const char *name)
{
	const char *v = env_get(envp, name);
	return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

/* Set *dst to a copy of src (NULL stays NULL). -1 on OOM. */
static int set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -1 : 0;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Append ", NAME" to a list of missing variables. */
static void add_missing(char *list, size_t len, const char *name)
{
	size_t used = strlen(list);
	snprintf(list + used, len - used, "%s%s", used ? ", " : "", name);
}

static bool all_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return false;
	return true;
}

/* A commit id: 7 to 64 hex digits (abbreviated, SHA-1 or SHA-256). */
static bool valid_sha(const char *s)
{
	size_t n = strlen(s);
	return n >= 7 && n <= 64 && strspn(s, "0123456789abcdefABCDEF") == n;
}

/* GitHub "owner/name": one slash, no path tricks in the URL we build. */
static bool valid_github_repo(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
		return false;
	if (!strcmp(slash + 1, ".") || !strcmp(slash + 1, ".."))
		return false;
	char owner[256];
	size_t n = (size_t)(slash - s);
	if (n >= sizeof owner)
		return false;
	memcpy(owner, s, n);
	owner[n] = '\0';
	return all_chars(owner, "-_.") && all_chars(slash + 1, "-_.");
}

static long parse_ms(const char *v, long lo, long hi, bool *ok)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	*ok = !errno && end != v && !*end && x >= lo && x <= hi;
	return x;
}

/* The longest suffix of s[0, n) that is a prefix of secret, shorter than
 * secret (KMP over secret's failure function, which fail holds): linear in
 * n + k, whatever the text. */
static size_t prefix_at_end(const char *s, size_t n, const char *secret, size_t k, const size_t *fail)
{
	size_t q = 0;
	for (size_t i = 0; i < n; i++) {
		while (q > 0 && (q == k || secret[q] != s[i]))
			q = fail[q - 1];
		if (secret[q] == s[i])
			q++;
	}
	return q == k ? fail[k - 1] : q;
}

/* Replace every occurrence of secret in s (a heap string) by "***", and a
 * trailing prefix of it (4 bytes or more) too: a cut body may end in the
 * middle of it. Linear: memmem for the occurrences, one KMP pass over the
 * tail after the last one. */
static char *scrub(char *s, const char *secret)
{
	size_t k = secret ? strlen(secret) : 0;
	if (!s || !k)
		return s;
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1); /* "***" per byte at worst */
	size_t *fail = malloc(k * sizeof *fail);
	if (!out || !fail) {
		free(out);
		free(fail);
		memset(s, '*', n); /* never hand back the secret */
		return s;
	}
	fail[0] = 0;
	for (size_t i = 1, q = 0; i < k; i++) {
		while (q > 0 && secret[i] != secret[q])
			q = fail[q - 1];
		if (secret[i] == secret[q])
			q++;
		fail[i] = q;
	}
	size_t o = 0, at = 0;
	for (const char *hit; (hit = memmem(s + at, n - at, secret, k)); at = (size_t)(hit - s) + k) {
		memcpy(out + o, s + at, (size_t)(hit - s) - at);
		o += (size_t)(hit - s) - at;
		memcpy(out + o, "***", 3);
		o += 3;
	}
	size_t tail = prefix_at_end(s + at, n - at, secret, k, fail);
	if (tail < 4)
		tail = 0;
	memcpy(out + o, s + at, n - at - tail);
	o += n - at - tail;
	if (tail) {
		memcpy(out + o, "***", 3);
		o += 3;
	}
	out[o] = '\0';
	free(fail);
	free(s);
	return out;
}

/* Write text into err, token scrubbed, cut on a UTF-8 boundary. */
static void set_err(char *err, size_t errlen, const char *text, const char *token)
{
	char *copy = scrub(strdup(text), token);
	char *cut = copy ? mg_post_cut_bytes(copy, errlen ? errlen - 1 : 0, "…") : NULL;
	snprintf(err, errlen, "%s", cut ? cut : "out of memory");
	free(copy);
	free(cut);
}

/* ---- UTF-8 cutting --------------------------------------------------------------- */

static bool utf8_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

char *mg_post_cut_chars(const char *s, size_t max_chars)
{
	static const char ellipsis[] = "…";
	size_t chars = 0, keep_end = 0, len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		if (utf8_cont((unsigned char)s[i]))
			continue;
		if (chars == (max_chars ? max_chars - 1 : 0))
			keep_end = i; /* where the "…" goes if s is too long */
		chars++;
	}
	if (chars <= max_chars)
		return strdup(s);
	if (!max_chars)
		return strdup("");
	char *out = malloc(keep_end + sizeof ellipsis);
	if (out) {
		memcpy(out, s, keep_end);
		memcpy(out + keep_end, ellipsis, sizeof ellipsis);
	}
	return out;
}

char *mg_post_cut_bytes(const char *s, size_t max_bytes, const char *note)
{
	size_t len = strlen(s), nlen = strlen(note);
	if (len <= max_bytes)
		return strdup(s);
	if (nlen > max_bytes)
		nlen = 0, note = "";
	size_t cut = max_bytes - nlen;
	while (cut > 0 && utf8_cont((unsigned char)s[cut]))
		cut--; /* s[cut] starts a character: everything before it is whole */
	char *out = malloc(cut + nlen + 1);
	if (out) {
		memcpy(out, s, cut);
		memcpy(out + cut, note, nlen + 1);
	}
	return out;
}

/* ---- verdicts and states ----------------------------------------------------------- */

const char *mg_post_state(enum mg_forge forge, enum mg_verdict v)
{
	if (forge == MG_FORGE_GITLAB)
		return v == MG_VERDICT_PASS ? "success" : "failed";
	return v == MG_VERDICT_PASS ? "success" : v == MG_VERDICT_FAIL ? "failure" : "error";
}

/* Check run conclusion: an error is a failure too. "neutral" would count as
 * passing for a required check, and memgate never passes what it did not
 * measure. */
static const char *conclusion(enum mg_verdict v)
{
	return v == MG_VERDICT_PASS ? "success" : "failure";
}

/* ---- the report ------------------------------------------------------------------ */

static enum mg_verdict fixture_verdict(json_t *fixture)
{
	enum mg_verdict v = MG_VERDICT_ERROR;
	mg_verdict_from_name(json_string_value(json_object_get(fixture, "verdict")), &v);
	return v;
}

/* The reasons joined by sep, or fallback when there are none. */
static char *join_reasons(json_t *fixture, const char *sep, const char *fallback)
{
	json_t *reasons = json_object_get(fixture, "reasons");
	size_t len = 1, i;
	json_t *r;
	json_array_foreach(reasons, i, r)
		len += json_string_length(r) + strlen(sep);
	char *out = malloc(len + strlen(fallback));
	size_t used = 0, seplen = strlen(sep);
	if (!out)
		return NULL;
	/* appended at a running offset: strcat would rescan the text per reason */
	json_array_foreach(reasons, i, r) {
		if (i) {
			memcpy(out + used, sep, seplen);
			used += seplen;
		}
		memcpy(out + used, json_string_value(r) ? json_string_value(r) : "", json_string_length(r));
		used += json_string_length(r);
	}
	out[used] = '\0';
	if (!used)
		strcpy(out, fallback);
	return out;
}

/* Uncut description: "peak 65.3 MiB, within limits" or the reasons. */
static char *full_description(json_t *fixture)
{
	enum mg_verdict v = fixture_verdict(fixture);
	if (v != MG_VERDICT_PASS)
		return join_reasons(fixture, "; ", v == MG_VERDICT_FAIL ? "failed" : "could not measure");
	json_t *peak = json_object_get(json_object_get(fixture, "peak"), "tree_rss_bytes");
	if (!json_is_integer(peak))
		return strdup("within limits");
	char mib[32], buf[64];
	mg_format_mib(json_integer_value(peak), mib, sizeof mib);
	snprintf(buf, sizeof buf, "peak %s, within limits", mib);
	return strdup(buf);
}

char *mg_post_description(json_t *fixture)
{
	char *full = full_description(fixture);
	char *cut = full ? mg_post_cut_chars(full, MG_POST_DESCRIPTION_MAX) : NULL;
	free(full);
	return cut;
}

/* ---- the event file ---------------------------------------------------------------- */

int mg_post_event_sha(const char *event_name, const char *event_path, char *sha, size_t shalen,
		      char *err, size_t errlen)
{
	if (!event_name || (strcmp(event_name, "pull_request") && strcmp(event_name, "pull_request_target")))
		return 0;
	if (!event_path) {
		snprintf(err, errlen, "GITHUB_EVENT_NAME=%s but GITHUB_EVENT_PATH is not set: "
			 "cannot find the pull request's head commit (pass --sha)", event_name);
		return -1;
	}
	json_error_t je;
	json_t *ev = json_load_file(event_path, 0, &je);
	if (!ev) {
		snprintf(err, errlen, "%s:%d:%d: cannot read the %s event: %s", event_path, je.line,
			 je.column, event_name, je.text);
		return -1;
	}
	json_t *head = json_object_get(json_object_get(json_object_get(ev, "pull_request"), "head"), "sha");
	int rc = -1;
	if (!json_is_string(head) || !valid_sha(json_string_value(head)))
		snprintf(err, errlen, "%s: no pull_request.head.sha (a commit id) in the %s event",
			 event_path, event_name);
	else if ((size_t)snprintf(sha, shalen, "%s", json_string_value(head)) >= shalen)
		snprintf(err, errlen, "%s: pull_request.head.sha is too long", event_path);
	else
		rc = 1;
	json_decref(ev);
	return rc;
}

/* ---- options ------------------------------------------------------------------------ */

/* First line of path, trimmed, into *token (replacing and wiping the one
 * from the environment). 0, or -1 with err. */
static int read_token_file(const char *path, char **token, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "--token-file %s: %s", path, strerror(errno));
		return -1;
	}
	char line[4096];
	bool got = fgets(line, sizeof line, f) != NULL;
	bool rerr = ferror(f);
	fclose(f);
	if (rerr) {
		snprintf(err, errlen, "--token-file %s: read error", path);
		explicit_bzero(line, sizeof line);
		return -1;
	}
	char *start = got ? line : "";
	size_t n = got ? strlen(line) : 0;
	while (n && isspace((unsigned char)start[n - 1]))
		start[--n] = '\0';
	while (*start && isspace((unsigned char)*start))
		start++;
	int rc = -1;
	if (!*start) {
		snprintf(err, errlen, "--token-file %s: the first line is empty", path);
	} else {
		wipe_free(*token);
		*token = strdup(start);
		rc = *token ? 0 : -1;
		if (rc < 0)
			snprintf(err, errlen, "out of memory");
	}
	explicit_bzero(line, sizeof line);
	return rc;
}

/* A token goes into a header line: printable ASCII only, no spaces. */
static int check_token(const char *token, char *err, size_t errlen)
{
	for (const char *p = token; *p; p++)
		if (*p <= ' ' || *p > '~') {
			snprintf(err, errlen, "the token contains a space, a control or a non-ASCII "
				 "character (at offset %zu): it cannot be sent in a header", (size_t)(p - token));
			return -1;
		}
	return 0;
}

static int detect_forge(const struct mg_post_flags *f, char *const *envp, enum mg_forge *forge,
			char *err, size_t errlen)
{
	if (f->forge && !strcmp(f->forge, "github"))
		*forge = MG_FORGE_GITHUB;
	else if (f->forge && !strcmp(f->forge, "gitlab"))
		*forge = MG_FORGE_GITLAB;
	else if (f->forge) {
		snprintf(err, errlen, "--forge %s: expected github or gitlab", f->forge);
		return -1;
	} else if (env_true(envp, "GITHUB_ACTIONS"))
		*forge = MG_FORGE_GITHUB;
	else if (env_true(envp, "GITLAB_CI"))
		*forge = MG_FORGE_GITLAB;
	else {
		snprintf(err, errlen, "cannot tell where to post: neither GITHUB_ACTIONS=true (GitHub "
			 "Actions) nor GITLAB_CI=true (GitLab CI) is set; pass --forge github or --forge gitlab");
		return -1;
	}
	return 0;
}

static int http_from_env(struct mg_http_opts *h, char *const *envp, char *err, size_t errlen)
{
	static const struct { const char *name; long lo, hi; size_t off; } vars[] = {
		{"MEMGATE_HTTP_TIMEOUT_MS", 1, 3600000, offsetof(struct mg_http_opts, total_timeout_ms)},
		{"MEMGATE_HTTP_CONNECT_TIMEOUT_MS", 1, 3600000, offsetof(struct mg_http_opts, connect_timeout_ms)},
		{"MEMGATE_HTTP_BACKOFF_MS", 0, 600000, offsetof(struct mg_http_opts, backoff_ms)},
		{"MEMGATE_HTTP_RETRY_AFTER_CAP_MS", 0, 3600000, offsetof(struct mg_http_opts, retry_after_cap_ms)},
	};
	mg_http_opts_init(h);
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = env_get(envp, vars[i].name);
		bool ok = true;
		if (v)
			*(long *)((char *)h + vars[i].off) = parse_ms(v, vars[i].lo, vars[i].hi, &ok);
		if (!ok) {
			snprintf(err, errlen, "%s=%s: expected milliseconds, %ld to %ld", vars[i].name, v,
				 vars[i].lo, vars[i].hi);
			return -1;
		}
	}
	const char *r = env_get(envp, "MEMGATE_HTTP_RETRIES");
	bool ok = true;
	if (r)
		h->retries = (int)parse_ms(r, 0, 10, &ok);
	if (!ok) {
		snprintf(err, errlen, "MEMGATE_HTTP_RETRIES=%s: expected 0 to 10", r);
		return -1;
	}
	if (env_on(envp, "MEMGATE_HTTP_TRACE"))
		h->trace = stderr;
	return 0;
}

static int github_from_env(struct mg_post_opts *o, const struct mg_post_flags *f, char *const *envp,
			   char *missing, size_t mlen, char *err, size_t errlen)
{
	const char *repo = env_get(envp, "GITHUB_REPOSITORY"), *sha = f->sha;
	char head[80];
	if (!sha) {
		int rc = mg_post_event_sha(env_get(envp, "GITHUB_EVENT_NAME"), env_get(envp, "GITHUB_EVENT_PATH"),
					   head, sizeof head, err, errlen);
		if (rc < 0)
			return -1;
		sha = rc == 1 ? head : env_get(envp, "GITHUB_SHA");
	}
	if (!repo)
		add_missing(missing, mlen, "GITHUB_REPOSITORY");
	if (!sha)
		add_missing(missing, mlen, "GITHUB_SHA");
	if (!f->token_file && !env_get(envp, "GITHUB_TOKEN"))
		add_missing(missing, mlen, "GITHUB_TOKEN (or --token-file)");
	const char *server = env_get(envp, "GITHUB_SERVER_URL"), *run = env_get(envp, "GITHUB_RUN_ID");
	char run_url[2048] = "";
	if (server && repo && run)
		snprintf(run_url, sizeof run_url, "%s/%s/actions/runs/%s", server, repo, run);
	const char *api = env_get(envp, "GITHUB_API_URL");
	o->token_kind = MG_TOKEN_BEARER;
	if (set_str(&o->api_url, api ? api : GITHUB_API_DEFAULT) < 0 || set_str(&o->repo, repo) < 0 ||
	    set_str(&o->sha, sha) < 0 || set_str(&o->token, env_get(envp, "GITHUB_TOKEN")) < 0 ||
	    set_str(&o->target_url, f->target_url ? f->target_url : run_url[0] ? run_url : NULL) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (repo && !valid_github_repo(repo)) {
		snprintf(err, errlen, "GITHUB_REPOSITORY=%s: expected OWNER/NAME", repo);
		return -1;
	}
	return 0;
}

static int gitlab_from_env(struct mg_post_opts *o, const struct mg_post_flags *f, char *const *envp,
			   char *missing, size_t mlen, char *err, size_t errlen)
{
	const char *api = env_get(envp, "CI_API_V4_URL"), *project = env_get(envp, "CI_PROJECT_ID");
	const char *sha = f->sha ? f->sha : env_get(envp, "CI_COMMIT_SHA");
	const char *priv = env_get(envp, "GITLAB_TOKEN"), *job = env_get(envp, "CI_JOB_TOKEN");
	const char *target = f->target_url ? f->target_url : env_get(envp, "CI_JOB_URL");
	if (!target)
		target = env_get(envp, "CI_PIPELINE_URL");
	if (!api)
		add_missing(missing, mlen, "CI_API_V4_URL");
	if (!project)
		add_missing(missing, mlen, "CI_PROJECT_ID");
	if (!sha)
		add_missing(missing, mlen, "CI_COMMIT_SHA");
	if (!f->token_file && !priv && !job)
		add_missing(missing, mlen, "GITLAB_TOKEN or CI_JOB_TOKEN (or --token-file)");
	/* An access token can always create statuses; a job token only where allowed. */
	o->token_kind = f->token_file || priv ? MG_TOKEN_PRIVATE : MG_TOKEN_JOB;
	if (set_str(&o->api_url, api) < 0 || set_str(&o->repo, project) < 0 || set_str(&o->sha, sha) < 0 ||
	    set_str(&o->token, priv ? priv : job) < 0 || set_str(&o->target_url, target) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Checks that hold for both forges once everything is gathered. */
static int validate(struct mg_post_opts *o, char *err, size_t errlen)
{
	if (o->checks && o->forge != MG_FORGE_GITHUB) {
		snprintf(err, errlen, "--checks: check runs exist only on GitHub");
		return -1;
	}
	if (!valid_sha(o->sha)) {
		snprintf(err, errlen, "commit \"%s\": expected 7 to 64 hex digits", o->sha);
		return -1;
	}
	if (o->token && check_token(o->token, err, errlen) < 0)
		return -1;
	size_t n = strlen(o->api_url);
	while (n && o->api_url[n - 1] == '/')
		o->api_url[--n] = '\0';
	return mg_http_url_allowed(o->api_url, err, errlen);
}

static int gather(struct mg_post_opts *o, const struct mg_post_flags *f, char *const *envp, char *err,
		  size_t errlen)
{
	char missing[512] = "";
	o->checks = f->checks;
	o->require_post = f->require_post;
	if (http_from_env(&o->http, envp, err, errlen) < 0 || detect_forge(f, envp, &o->forge, err, errlen) < 0)
		return -1;
	int rc = o->forge == MG_FORGE_GITHUB ? github_from_env(o, f, envp, missing, sizeof missing, err, errlen)
					     : gitlab_from_env(o, f, envp, missing, sizeof missing, err, errlen);
	if (rc < 0)
		return -1;
	if (missing[0]) {
		snprintf(err, errlen, "cannot post to %s: %s not set",
			 o->forge == MG_FORGE_GITHUB ? "GitHub" : "GitLab", missing);
		return -1;
	}
	if (f->token_file && read_token_file(f->token_file, &o->token, err, errlen) < 0)
		return -1;
	if (set_str(&o->context_prefix, f->context_prefix ? f->context_prefix : DEFAULT_PREFIX) < 0 ||
	    set_str(&o->config_path, f->config_path ? f->config_path : DEFAULT_CONFIG) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return validate(o, err, errlen);
}

int mg_post_opts_from_env(struct mg_post_opts *o, const struct mg_post_flags *f, char *const *envp,
			  char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	int rc = gather(o, f, envp, err, errlen);
	if (rc < 0)
		set_err(err, errlen, err, o->token); /* a URL may hold it: https://user:TOKEN@host */
	return rc;
}

void mg_post_opts_free(struct mg_post_opts *o)
{
	wipe_free(o->token);
	free(o->api_url);
	free(o->repo);
	free(o->sha);
	free(o->context_prefix);
	free(o->target_url);
	free(o->config_path);
	memset(o, 0, sizeof *o);
}

int mg_post_exit_status(int status, bool posted, bool require_post)
{
	if (posted || !require_post || status != 0)
		return status;
	return EXIT_ERROR;
}

/* ---- requests ------------------------------------------------------------------------ */

/* %-encode a GitLab project path ("group/app" -> "group%2Fapp"). */
static char *url_escape(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *p = out;
	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c))
			*p++ = (char)c;
		else
			p += sprintf(p, "%%%02X", c);
	}
	*p = '\0';
	return out;
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	return rc < 0 ? NULL : s;
}

char *mg_post_status_url(const struct mg_post_opts *o)
{
	if (o->forge == MG_FORGE_GITHUB)
		return str_printf("%s/repos/%s/statuses/%s", o->api_url, o->repo, o->sha);
	char *project = url_escape(o->repo);
	char *url = project ? str_printf("%s/projects/%s/statuses/%s", o->api_url, project, o->sha) : NULL;
	free(project);
	return url;
}

/* The headers of a request; auth holds the token and is wiped by headers_free. */
struct headers {
	char *auth;
	const char *list[8];
};

static int headers_init(struct headers *h, const struct mg_post_opts *o)
{
	static const char *const kinds[] = {"Authorization: Bearer", "PRIVATE-TOKEN:", "JOB-TOKEN:"};
	size_t n = 0;
	memset(h, 0, sizeof *h);
	if (o->token) {
		h->auth = str_printf("%s %s", kinds[o->token_kind], o->token);
		if (!h->auth)
			return -1;
		h->list[n++] = h->auth;
	}
	if (o->forge == MG_FORGE_GITHUB) {
		h->list[n++] = "Accept: application/vnd.github+json";
		h->list[n++] = "X-GitHub-Api-Version: 2022-11-28";
	} else {
		h->list[n++] = "Accept: application/json";
	}
	h->list[n++] = "User-Agent: memgate/" MG_VERSION;
	h->list[n++] = "Content-Type: application/json";
	h->list[n] = NULL;
	return 0;
}

static void headers_free(struct headers *h)
{
	wipe_free(h->auth);
	h->auth = NULL;
}

/* "Validation Failed: description is too long ...; state is invalid" */
static void append_api_messages(FILE *m, json_t *doc)
{
	json_t *msg = json_object_get(doc, "message"), *errs = json_object_get(doc, "errors");
	json_t *error = json_object_get(doc, "error");
	const char *sep = ": ";
	if (json_is_string(msg))
		fprintf(m, "%s%s", sep, json_string_value(msg));
	else if (msg) { /* GitLab: {"message": {"state": ["is invalid"]}} */
		char *s = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(m, "%s%s", sep, s ? s : "");
		free(s);
	}
	if (json_is_string(error))
		fprintf(m, "%s%s", msg ? "; " : sep, json_string_value(error));
	size_t i;
	json_t *e;
	json_array_foreach(errs, i, e) {
		json_t *em = json_object_get(e, "message");
		const char *field = json_string_value(json_object_get(e, "field"));
		const char *code = json_string_value(json_object_get(e, "code"));
		sep = i ? "; " : ": ";
		if (json_is_string(em))
			fprintf(m, "%s%s", sep, json_string_value(em));
		else if (json_is_string(e))
			fprintf(m, "%s%s", sep, json_string_value(e));
		else if (field || code)
			fprintf(m, "%s%s%s%s", sep, field ? field : "", field && code ? " " : "", code ? code : "");
	}
}

/* Control characters (newlines of an HTML page...) become spaces. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = ' ';
}

void mg_post_api_error(long status, const char *body, const char *token, char *err, size_t errlen)
{
	char *text = NULL, *safe = scrub(body ? strdup(body) : NULL, token);
	size_t tlen = 0;
	FILE *m = open_memstream(&text, &tlen);
	if (!m) {
		snprintf(err, errlen, "%ld %s", status, mg_http_reason(status));
		free(safe);
		return;
	}
	const char *reason = mg_http_reason(status);
	fprintf(m, "%ld%s%s", status, reason[0] ? " " : "", reason);
	json_t *doc = safe ? json_loads(safe, 0, NULL) : NULL;
	if (json_is_object(doc))
		append_api_messages(m, doc);
	else if (safe && safe[0]) {
		char *excerpt = mg_post_cut_bytes(safe, 200, "…");
		fprintf(m, ": %s", excerpt ? excerpt : "");
		free(excerpt);
	}
	json_decref(doc);
	fclose(m);
	if (text)
		one_line(text);
	set_err(err, errlen, text ? text : "", token);
	free(text);
	free(safe);
}

/* Send body (a JSON object) with method to url. On a 2xx, 0 and *reply
 * (may be NULL) gets the parsed response; else -1 with err. */
static int send_json(const struct mg_post_opts *o, const char *method, const char *url, json_t *body,
		     json_t **reply, char *err, size_t errlen)
{
	struct headers h;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!text || headers_init(&h, o) < 0) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct mg_http_request req = {.method = method, .url = url, .headers = h.list, .body = text};
	struct mg_http_response resp;
	char herr[1024];
	int rc = mg_http_send(&req, &o->http, &resp, herr, sizeof herr);
	headers_free(&h);
	free(text);
	if (rc < 0)
		set_err(err, errlen, herr, o->token);
	else if (resp.status < 200 || resp.status > 299) {
		char aerr[1024];
		mg_post_api_error(resp.status, resp.body, o->token, aerr, sizeof aerr);
		char *full = str_printf("%s (%d attempt%s)", aerr, resp.attempts, resp.attempts == 1 ? "" : "s");
		set_err(err, errlen, full ? full : aerr, o->token);
		free(full);
		rc = -1;
	} else if (reply) {
		*reply = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
	}
	mg_http_response_free(&resp);
	return rc;
}

int mg_post_status(const struct mg_post_opts *o, const char *context, const char *state,
		   const char *description, char *err, size_t errlen)
{
	char *url = mg_post_status_url(o);
	json_t *body = json_pack("{s:s, s:s, s:s}", "state", state,
				 o->forge == MG_FORGE_GITHUB ? "context" : "name", context,
				 "description", description ? description : "");
	if (body && o->target_url && json_object_set_new(body, "target_url", json_string(o->target_url)) < 0) {
		json_decref(body);
		body = NULL;
	}
	int rc = -1;
	if (!url || !body)
		snprintf(err, errlen, "out of memory (or a string that is not UTF-8)");
	else
		rc = send_json(o, "POST", url, body, NULL, err, errlen);
	json_decref(body);
	free(url);
	return rc;
}

/* ---- check runs ------------------------------------------------------------------------ */

/* {title, summary (cut), annotations[from, from+50)} */
static json_t *check_output(const char *title, const char *summary, json_t *annotations, size_t from)
{
	char *cut = mg_post_cut_bytes(summary ? summary : "", MG_POST_SUMMARY_MAX, TRUNCATED_NOTE);
	json_t *batch = json_array();
	size_t n = json_array_size(annotations);
	for (size_t i = from; i < n && i < from + MG_POST_ANNOTATIONS_MAX; i++)
		json_array_append(batch, json_array_get(annotations, i));
	json_t *out = cut && batch
			      ? json_pack("{s:s, s:s, s:O}", "title", title, "summary", cut, "annotations", batch)
			      : NULL;
	free(cut);
	json_decref(batch);
	return out;
}

long long mg_post_check_run(const struct mg_post_opts *o, const char *conclusion_name, const char *title,
			    const char *summary, json_t *annotations, char *err, size_t errlen)
{
	char *url = str_printf("%s/repos/%s/check-runs", o->api_url, o->repo);
	json_t *output = check_output(title, summary, annotations, 0);
	json_t *body = output ? json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", "memgate", "head_sha", o->sha,
					  "status", "completed", "conclusion", conclusion_name, "output", output)
			      : NULL;
	if (body && o->target_url && json_object_set_new(body, "details_url", json_string(o->target_url)) < 0) {
		json_decref(body);
		body = NULL;
	}
	json_t *reply = NULL;
	long long id = -1;
	if (!url || !body)
		snprintf(err, errlen, "out of memory (or a string that is not UTF-8)");
	else if (send_json(o, "POST", url, body, &reply, err, errlen) == 0) {
		json_t *jid = json_object_get(reply, "id");
		if (json_is_integer(jid))
			id = json_integer_value(jid);
		else
			snprintf(err, errlen, "POST %s: the response has no check run id", url);
	}
	json_decref(reply);
	json_decref(body);
	free(url);
	/* GitHub takes 50 annotations per request: PATCH appends the rest */
	for (size_t from = MG_POST_ANNOTATIONS_MAX; id >= 0 && from < json_array_size(annotations);
	     from += MG_POST_ANNOTATIONS_MAX) {
		char *purl = str_printf("%s/repos/%s/check-runs/%lld", o->api_url, o->repo, id);
		json_t *pout = check_output(title, summary, annotations, from);
		json_t *pbody = pout ? json_pack("{s:o}", "output", pout) : NULL;
		if (!purl || !pbody) {
			snprintf(err, errlen, "out of memory");
			id = -1;
		} else if (send_json(o, "PATCH", purl, pbody, NULL, err, errlen) < 0)
			id = -1;
		json_decref(pbody);
		free(purl);
	}
	return id;
}

/* Where each fixture's `"name": "<fixture>"` is in the config, so its
 * annotation points there. The config is read once for all fixtures: every
 * string between two quotes on a line that holds "name", in a sorted
 * index (a config scan per fixture was quadratic). */
struct config_lines {
	char *text;
	struct mg_name_ref *v;
	size_t n;
};

#define CONFIG_LINES_MAX_BYTES ((size_t)16 << 20) /* config.c's own cap */

static char *read_small_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "r");
	char *buf = f ? malloc(max + 1) : NULL;
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	bool ok = buf && !ferror(f) && n <= max;
	if (f)
		fclose(f);
	if (!ok) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Index the quoted strings of one "name" line starting at line (NUL-terminated). */
static int index_line(struct config_lines *cl, size_t *cap, char *line, size_t lineno)
{
	char *q = strchr(line, '"');
	while (q) {
		char *next = strchr(q + 1, '"');
		if (!next)
			break;
		if (cl->n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			struct mg_name_ref *nv = realloc(cl->v, ncap * sizeof *nv);
			if (!nv)
				return -1;
			cl->v = nv;
			*cap = ncap;
		}
		cl->v[cl->n++] = (struct mg_name_ref){q + 1, lineno, 0};
		q = next;
	}
	/* cut the strings apart only now: each quote ends one and starts the next */
	for (q = strchr(line, '"'); q; q = strchr(q + 1, '"'))
		*q = '\0';
	return 0;
}

static void config_lines_load(const char *path, struct config_lines *cl)
{
	size_t cap = 0, lineno = 1;
	memset(cl, 0, sizeof *cl);
	if (!(cl->text = read_small_file(path, CONFIG_LINES_MAX_BYTES)))
		return; /* no config at hand: every annotation points at line 1 */
	for (char *line = cl->text; line; lineno++) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strstr(line, "\"name\"") && index_line(cl, &cap, line, lineno) < 0)
			cl->n = 0; /* out of memory: line 1 for all */
		line = nl ? nl + 1 : NULL;
	}
	mg_names_sort(cl->v, cl->n);
}

static void config_lines_free(struct config_lines *cl)
{
	free(cl->text);
	free(cl->v);
	memset(cl, 0, sizeof *cl);
}

/* Line of `"name": "<name>"` (1 when not found). */
static int config_line_of(const struct config_lines *cl, const char *name)
{
	const struct mg_name_ref *r = mg_names_find(cl->v, cl->n, name);
	return r && r->group <= (size_t)INT_MAX ? (int)r->group : 1;
}

/* One annotation per fixture, at its line of the config: a notice when it
 * passed, a failure otherwise (error included: see conclusion()). */
static json_t *annotation(const struct mg_post_opts *o, const struct config_lines *cl, json_t *fixture)
{
	const char *name = json_string_value(json_object_get(fixture, "name"));
	enum mg_verdict v = fixture_verdict(fixture);
	bool pass = v == MG_VERDICT_PASS;
	char *message = pass ? full_description(fixture)
			     : join_reasons(fixture, "\n", v == MG_VERDICT_FAIL ? "failed" : "could not measure");
	char title[300];
	snprintf(title, sizeof title, "%s%s: %s", o->context_prefix, name, mg_verdict_name(v));
	int line = config_line_of(cl, name);
	json_t *a = message ? json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "path", o->config_path,
					"start_line", line, "end_line", line,
					"annotation_level", pass ? "notice" : "failure",
					"title", title, "message", message)
			    : NULL;
	free(message);
	return a;
}

/* "- `api`: **fail**: tree_rss ..." per fixture: the summary when the
 * caller has no markdown of its own. */
static char *plain_summary(json_t *fixtures)
{
	char *text = NULL;
	size_t len = 0, i;
	json_t *f;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return NULL;
	json_array_foreach(fixtures, i, f) {
		char *d = full_description(f);
		fprintf(m, "- `%s`: **%s**: %s\n", json_string_value(json_object_get(f, "name")),
			json_string_value(json_object_get(f, "verdict")), d ? d : "");
		free(d);
	}
	if (fclose(m) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int post_checks(json_t *fixtures, const struct mg_post_opts *o, const char *markdown, FILE *out,
		       char *err, size_t errlen)
{
	size_t i, counts[3] = {0};
	json_t *f, *annotations = json_array();
	enum mg_verdict worst = MG_VERDICT_PASS;
	bool oom = !annotations;
	struct config_lines cl;
	config_lines_load(o->config_path, &cl);
	json_array_foreach(fixtures, i, f) {
		enum mg_verdict v = fixture_verdict(f);
		counts[v]++;
		worst = v > worst ? v : worst; /* as mg_verdict_worst: pass < fail < error */
		oom |= json_array_append_new(annotations, annotation(o, &cl, f)) < 0;
	}
	config_lines_free(&cl);
	char title[160];
	snprintf(title, sizeof title, "%zu passed, %zu failed, %zu not measured", counts[0], counts[1], counts[2]);
	char *plain = markdown ? NULL : plain_summary(fixtures);
	long long id = -1;
	if (oom || (!markdown && !plain))
		snprintf(err, errlen, "out of memory");
	else
		id = mg_post_check_run(o, conclusion(worst), title, markdown ? markdown : plain, annotations, err, errlen);
	if (id >= 0 && out)
		fprintf(out, "posted check run memgate: %s (%s, id %lld)\n", conclusion(worst), title, id);
	free(plain);
	json_decref(annotations);
	return id >= 0 ? 0 : -1;
}

int mg_post_report(json_t *report, const struct mg_post_opts *o, const char *summary_markdown, FILE *out,
		   char *err, size_t errlen)
{
	if (mg_report_validate(report, err, errlen) < 0)
		return -1;
	json_t *fixtures = json_object_get(report, "fixtures"), *f;
	size_t i, n = json_array_size(fixtures);
	json_array_foreach(fixtures, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *state = mg_post_state(o->forge, fixture_verdict(f));
		char *context = str_printf("%s%s", o->context_prefix, name);
		char *desc = mg_post_description(f);
		char perr[1024];
		int rc = context && desc ? mg_post_status(o, context, state, desc, perr, sizeof perr) : -1;
		if (rc == 0 && out)
			fprintf(out, "posted %s: %s (%s)\n", context, state, desc);
		else if (rc < 0) {
			char *msg = str_printf("%s%s: %s (%zu of %zu statuses not posted)", o->context_prefix, name,
					       context && desc ? perr : "out of memory", n - i, n);
			set_err(err, errlen, msg ? msg : perr, o->token);
			free(msg);
		}
		free(context);
		free(desc);
		if (rc < 0)
			return -1; /* the next ones would most likely fail the same way */
	}
	return o->checks ? post_checks(fixtures, o, summary_markdown, out, err, errlen) : 0;
}
