#include "error.h"
#include "ci/env.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ci/secret.h"
#include "ci/text.h"

#define GITHUB_API_DEFAULT "https://api.github.com"
#define DEFAULT_PREFIX "memgate/"
#define DEFAULT_CONFIG "memgate.json"

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

/* ---- the event file ---------------------------------------------------------------- */

static bool pr_event(const char *event_name)
{
	return event_name && (!strcmp(event_name, "pull_request") || !strcmp(event_name, "pull_request_target"));
}

/* The event file of a pull request event; NULL with err. what names what
 * it was read for ("head commit (pass --sha)"). */
static json_t *load_event(const char *event_name, const char *event_path, const char *what, char *err,
			  size_t errlen)
{
	if (!event_path) {
		snprintf(err, errlen, "GITHUB_EVENT_NAME=%s but GITHUB_EVENT_PATH is not set: "
			 "cannot find the pull request's %s", event_name, what);
		return NULL;
	}
	FILE *f = fopen(event_path, "r");
	if (!f) {
		mg_cannot(err, errlen, "read", event_path, errno);
		return NULL;
	}
	json_error_t je;
	errno = 0;
	json_t *ev = json_loadf(f, 0, &je);
	int e = errno;
	bool rerr = ferror(f);
	fclose(f);
	if (!ev && rerr) { /* a directory, an I/O error: jansson would call it an early end */
		mg_cannot(err, errlen, "read", event_path, e ? e : EIO);
		return NULL;
	}
	if (!ev)
		snprintf(err, errlen, "%s:%d:%d: cannot read the %s event: %s", event_path, je.line,
			 je.column, event_name, je.text);
	return ev;
}

int mg_post_event_sha(const char *event_name, const char *event_path, char *sha, size_t shalen,
		      char *err, size_t errlen)
{
	if (!pr_event(event_name))
		return 0;
	json_t *ev = load_event(event_name, event_path, "head commit (pass --sha)", err, errlen);
	if (!ev)
		return -1;
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

int mg_post_parse_pr(const char *s, long long *pr)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > 16 || strspn(s, "0123456789") != n || s[0] == '0')
		return -1;
	long long v = strtoll(s, NULL, 10);
	if (v < 1 || v > (1LL << 53))
		return -1;
	*pr = v;
	return 0;
}

int mg_post_event_pr(const char *event_name, const char *event_path, long long *pr, char *err, size_t errlen)
{
	if (!pr_event(event_name))
		return 0;
	json_t *ev = load_event(event_name, event_path, "number (pass --pr)", err, errlen);
	if (!ev)
		return -1;
	json_t *num = json_object_get(json_object_get(ev, "pull_request"), "number");
	int rc = -1;
	if (!json_is_integer(num) || json_integer_value(num) < 1 || json_integer_value(num) > (1LL << 53))
		snprintf(err, errlen, "%s: no pull_request.number (a positive integer) in the %s event (pass --pr)",
			 event_path, event_name);
	else {
		*pr = json_integer_value(num);
		rc = 1;
	}
	json_decref(ev);
	return rc;
}

/* N of refs/pull/N/merge or refs/pull/N/head; 0 when ref is not one. */
static long long pr_of_ref(const char *ref)
{
	static const char prefix[] = "refs/pull/";
	char num[24];
	long long pr = 0;
	if (!ref || strncmp(ref, prefix, sizeof prefix - 1) != 0)
		return 0;
	const char *p = ref + sizeof prefix - 1, *slash = strchr(p, '/');
	if (!slash || (strcmp(slash, "/merge") && strcmp(slash, "/head")) || (size_t)(slash - p) >= sizeof num)
		return 0;
	memcpy(num, p, (size_t)(slash - p));
	num[slash - p] = '\0';
	return mg_post_parse_pr(num, &pr) == 0 ? pr : 0;
}

/* For --comment: the pull (merge) request, into o->pr, or why there is
 * none into o->no_pr. 0, or -1 with err. */
static int find_pr(struct mg_post_opts *o, const struct mg_post_flags *f, char *const *envp, char *err,
		   size_t errlen)
{
	char why[256];
	if (f->pr) {
		if (mg_post_parse_pr(f->pr, &o->pr) < 0) {
			snprintf(err, errlen, "--pr %s: expected a pull request number", f->pr);
			return -1;
		}
		return 0;
	}
	if (o->forge == MG_FORGE_GITLAB) {
		const char *iid = env_get(envp, "CI_MERGE_REQUEST_IID");
		if (iid && mg_post_parse_pr(iid, &o->pr) < 0) {
			snprintf(err, errlen, "CI_MERGE_REQUEST_IID=%s: expected a merge request number", iid);
			return -1;
		}
		snprintf(why, sizeof why, "CI_MERGE_REQUEST_IID is not set: not a merge request pipeline");
	} else {
		const char *event = env_get(envp, "GITHUB_EVENT_NAME");
		int rc = mg_post_event_pr(event, env_get(envp, "GITHUB_EVENT_PATH"), &o->pr, err, errlen);
		if (rc < 0)
			return -1;
		if (rc == 0)
			o->pr = pr_of_ref(env_get(envp, "GITHUB_REF"));
		snprintf(why, sizeof why, "%s%s is not a pull request event", event ? "GITHUB_EVENT_NAME=" : "",
			 event ? event : "no GITHUB_EVENT_NAME: this");
	}
	if (!o->pr && set_str(&o->no_pr, why) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- options ------------------------------------------------------------------------ */

/* First line of path, trimmed, into *token (replacing and wiping the one
 * from the environment). 0, or -1 with err. */
static int read_token_file(const char *path, char **token, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		mg_cannot(err, errlen, "read", path, errno);
		return -1;
	}
	char line[4096];
	errno = 0;
	bool got = fgets(line, sizeof line, f) != NULL;
	int e = errno;
	bool rerr = ferror(f);
	fclose(f);
	if (rerr) {
		mg_cannot(err, errlen, "read", path, e ? e : EIO);
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
		mg_ci_wipe_free(*token);
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
	if (!sha && !f->no_statuses)
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
	if (!sha && !f->no_statuses)
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
	if (o->sha && !valid_sha(o->sha)) {
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
	o->comment = f->comment;
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
	if (f->comment && find_pr(o, f, envp, err, errlen) < 0)
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
		mg_ci_set_err(err, errlen, err, o->token); /* a URL may hold it: https://user:TOKEN@host */
	return rc;
}

void mg_post_opts_free(struct mg_post_opts *o)
{
	mg_ci_wipe_free(o->token);
	free(o->api_url);
	free(o->repo);
	free(o->sha);
	free(o->context_prefix);
	free(o->target_url);
	free(o->config_path);
	free(o->no_pr);
	memset(o, 0, sizeof *o);
}
