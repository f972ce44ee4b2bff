/* Unit tests for gate/ci without a network: description and summary cutting
 * on UTF-8 boundaries (text, status), event files and options from the
 * environment (env), URL building and API error texts (forge), the config
 * line index (checks), the https/loopback policy (http), token secrecy
 * (secret), errno wording, the pull-request comment's marker, number and
 * body (comment), and libcurl reached only through mg_curl(). */
#include <curl/curl.h>
#include <errno.h>

#include "error.h"
#include "testutil.h"
#include "ci/curl_dl.h"
#include "ci/checks.h"
#include "ci/comment.h"
#include "ci/env.h"
#include "ci/forge.h"
#include "ci/http.h"
#include "ci/post.h"
#include "ci/secret.h"
#include "ci/status.h"
#include "ci/text.h"
#include "report/report_load.h"

#define SHA40 "0123456789abcdef0123456789abcdef01234567"
#define HEAD40 "fedcba9876543210fedcba9876543210fedcba98"
#define TOKEN "ghp_S3cr3tT0kenValue4242"

/* ---- helpers ---------------------------------------------------------------- */

/* Number of UTF-8 characters; fails the test on malformed UTF-8. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
		if (!len)
			fail_msg("malformed UTF-8 at byte %zu", (size_t)(p - (const unsigned char *)s));
		for (int i = 1; i < len; i++)
			if ((p[i] & 0xC0) != 0x80)
				fail_msg("character cut at byte %zu", (size_t)(p - (const unsigned char *)s));
		p += len;
		n++;
	}
	return n;
}

/* prefix_ascii 'a's then count copies of ch then tail. */
static char *build(size_t prefix_ascii, const char *ch, size_t count, const char *tail)
{
	size_t len = prefix_ascii + strlen(ch) * count + strlen(tail);
	char *s = malloc(len + 1), *p = s;
	assert_non_null(s);
	memset(p, 'a', prefix_ascii);
	p += prefix_ascii;
	for (size_t i = 0; i < count; i++, p += strlen(ch))
		memcpy(p, ch, strlen(ch));
	strcpy(p, tail);
	return s;
}

static void write_file(char *path, size_t len, const char *text)
{
	snprintf(path, len, "/tmp/memgate-test-post-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

static json_t *fixture(const char *verdict, const char *const *reasons, long long tree_rss)
{
	json_t *f = json_pack("{s:s, s:s, s:[]}", "name", "api", "verdict", verdict, "reasons");
	for (size_t i = 0; reasons && reasons[i]; i++)
		json_array_append_new(json_object_get(f, "reasons"), json_string(reasons[i]));
	if (tree_rss >= 0)
		json_object_set_new(f, "peak", json_pack("{s:I}", "tree_rss_bytes", (json_int_t)tree_rss));
	return f;
}

/* ---- UTF-8 cutting --------------------------------------------------------------- */

static void cut_ascii_at_limit(void **state)
{
	(void)state;
	char *s140 = build(140, "", 0, ""), *s141 = build(141, "", 0, "");
	char *a = mg_post_cut_chars(s140, 140), *b = mg_post_cut_chars(s141, 140);
	assert_string_equal(a, s140);
	assert_int_equal(utf8_chars(b), 140);
	assert_int_equal(strlen(b), 139 + 3);
	assert_string_equal(b + 139, "…");
	free(s140), free(s141), free(a), free(b);
}

/* A character of width w ends exactly at the limit: kept whole. One more
 * character: the cut keeps 139 characters and the "…". */
static void cut_multibyte(const char *ch, size_t w)
{
	assert_int_equal(strlen(ch), w);
	char *exact = build(139, ch, 1, ""); /* 140 characters, the last one w bytes */
	char *r = mg_post_cut_chars(exact, 140);
	assert_string_equal(r, exact);
	free(r);

	char *over = build(139, ch, 1, "b"); /* 141: the w-byte one must go, not half of it */
	r = mg_post_cut_chars(over, 140);
	assert_int_equal(utf8_chars(r), 140);
	assert_int_equal(strlen(r), 139 + 3);
	assert_string_equal(r + 139, "…");
	free(r);

	char *all = build(0, ch, 141, ""); /* 141 wide characters */
	r = mg_post_cut_chars(all, 140);
	assert_int_equal(utf8_chars(r), 140);
	assert_int_equal(strlen(r), 139 * w + 3);
	assert_memory_equal(r, all, 139 * w);
	free(r);

	char *fits = build(0, ch, 140, "");
	r = mg_post_cut_chars(fits, 140);
	assert_string_equal(r, fits);
	free(r);
	free(exact), free(over), free(all), free(fits);
}

static void cut_two_byte(void **state)
{
	(void)state;
	cut_multibyte("é", 2);
}

static void cut_three_byte(void **state)
{
	(void)state;
	cut_multibyte("€", 3);
}

static void cut_four_byte(void **state)
{
	(void)state;
	cut_multibyte("😀", 4);
}

static void cut_zero_and_empty(void **state)
{
	(void)state;
	char *a = mg_post_cut_chars("abc", 0), *b = mg_post_cut_chars("", 140);
	assert_string_equal(a, "");
	assert_string_equal(b, "");
	free(a), free(b);
}

/* Byte cut (check-run summary): each character width, every offset of the
 * cut inside it; never more than max bytes, note at the end, valid UTF-8. */
static void cut_bytes_boundaries(void **state)
{
	(void)state;
	const char *chars[] = {"é", "€", "😀"};
	const char *note = "\n\n… truncated";
	for (size_t c = 0; c < 3; c++) {
		for (size_t shift = 0; shift < 4; shift++) {
			char *s = build(100 + shift, chars[c], 50, "");
			char *r = mg_post_cut_bytes(s, 120, note);
			assert_true(strlen(r) <= 120);
			utf8_chars(r);
			assert_true(strlen(r) > 120 - strlen(note) - 4);
			assert_string_equal(r + strlen(r) - strlen(note), note);
			assert_memory_equal(r, s, strlen(r) - strlen(note));
			free(s), free(r);
		}
	}
	char *whole = build(120, "", 0, ""), *r = mg_post_cut_bytes(whole, 120, note);
	assert_string_equal(r, whole); /* exactly at the limit: untouched */
	free(whole), free(r);
}

static void cut_summary_at_github_limit(void **state)
{
	(void)state;
	char *big = build(1, "é", 40000, ""); /* 80001 bytes */
	char *r = mg_post_cut_bytes(big, MG_POST_SUMMARY_MAX, "\n\n… truncated");
	assert_true(strlen(r) <= MG_POST_SUMMARY_MAX);
	assert_true(utf8_chars(r) <= MG_POST_SUMMARY_MAX);
	assert_contains(r, "… truncated");
	free(big), free(r);
}

/* ---- descriptions ------------------------------------------------------------------ */

static void description_pass_fail_error(void **state)
{
	(void)state;
	json_t *pass = fixture("pass", NULL, 68472422LL); /* 65.3 MiB */
	const char *why[] = {"tree_rss 312.4 MiB > limit 200.0 MiB", "exit code 1", NULL};
	json_t *fail = fixture("fail", why, 1);
	json_t *err = fixture("error", NULL, -1);
	json_t *nopeak = fixture("pass", NULL, -1);
	char *d1 = mg_post_description(pass), *d2 = mg_post_description(fail);
	char *d3 = mg_post_description(err), *d4 = mg_post_description(nopeak);
	assert_string_equal(d1, "peak 65.3 MiB, within limits");
	assert_string_equal(d2, "tree_rss 312.4 MiB > limit 200.0 MiB; exit code 1");
	assert_string_equal(d3, "could not measure");
	assert_string_equal(d4, "within limits");
	free(d1), free(d2), free(d3), free(d4);
	json_decref(pass), json_decref(fail), json_decref(err), json_decref(nopeak);
}

static void description_long_reasons_cut(void **state)
{
	(void)state;
	const char *why[] = {"tree_rss 312.4 MiB > limit 200.0 MiB — measured with cgroup-v2 (très précis)",
			     "max_process_hwm 290.0 MiB > limit 120.0 MiB 😀😀😀",
			     "cgroup 500.0 MiB > limit 300.0 MiB", NULL};
	json_t *f = fixture("fail", why, 1);
	char *d = mg_post_description(f);
	assert_int_equal(utf8_chars(d), MG_POST_DESCRIPTION_MAX);
	assert_string_equal(d + strlen(d) - 3, "…");
	assert_memory_equal(d, why[0], strlen(why[0]));
	free(d);
	json_decref(f);
}

/* 300000 reasons: joined at a running offset (strcat rescanned the text
 * per reason: 150000 took 2.4 s), then cut to 140 characters. */
static void description_of_many_reasons(void **state)
{
	(void)state;
	json_t *reasons = json_array();
	char r[32];
	for (int i = 0; i < 300000; i++) {
		snprintf(r, sizeof r, "reason %d", i);
		json_array_append_new(reasons, json_string(r));
	}
	json_t *f = json_pack("{s:s, s:s, s:o}", "name", "api", "verdict", "fail", "reasons", reasons);
	char *d = mg_post_description(f);
	assert_int_equal(utf8_chars(d), MG_POST_DESCRIPTION_MAX);
	assert_memory_equal(d, "reason 0; reason 1; reason 2; ", 30);
	free(d);
	/* empty reasons still count as text; no reasons give the fallback */
	json_object_set_new(f, "reasons", json_pack("[s, s]", "", ""));
	d = mg_post_description(f);
	assert_string_equal(d, "; ");
	free(d);
	json_object_set_new(f, "reasons", json_array());
	d = mg_post_description(f);
	assert_string_equal(d, "failed");
	free(d);
	json_decref(f);
}

/* The parts of a description (status.h), and what an annotation uses. */
static void status_parts(void **state)
{
	(void)state;
	const char *why[] = {"tree_rss 312.4 MiB > limit 200.0 MiB", "exit code 1", NULL};
	json_t *fail = fixture("fail", why, 1), *err = fixture("error", NULL, -1);
	json_t *pass = fixture("pass", NULL, 68472422LL), *odd = fixture("maybe", NULL, -1);
	json_t *none = json_object();
	assert_int_equal(mg_post_fixture_verdict(pass), MG_VERDICT_PASS);
	assert_int_equal(mg_post_fixture_verdict(fail), MG_VERDICT_FAIL);
	assert_int_equal(mg_post_fixture_verdict(odd), MG_VERDICT_ERROR); /* unknown: never a pass */
	assert_int_equal(mg_post_fixture_verdict(none), MG_VERDICT_ERROR);
	char *r1 = mg_post_reasons(fail, "\n"), *r2 = mg_post_reasons(err, "\n"), *r3 = mg_post_reasons(pass, "; ");
	assert_string_equal(r1, "tree_rss 312.4 MiB > limit 200.0 MiB\nexit code 1");
	assert_string_equal(r2, "could not measure");
	assert_string_equal(r3, "");
	char *f1 = mg_post_full_description(pass), *f2 = mg_post_full_description(fail);
	assert_string_equal(f1, "peak 65.3 MiB, within limits");
	assert_string_equal(f2, "tree_rss 312.4 MiB > limit 200.0 MiB; exit code 1");
	char *c1 = mg_post_context("memgate/", "api"), *c2 = mg_post_context("", "api");
	assert_string_equal(c1, "memgate/api");
	assert_string_equal(c2, "api");
	/* the full text is not cut: the annotation's message may be long */
	json_t *many = json_array();
	for (int i = 0; i < 40; i++)
		json_array_append_new(many, json_string("max_process_hwm 290.0 MiB > limit 120.0 MiB"));
	json_object_set_new(fail, "reasons", many);
	char *f3 = mg_post_full_description(fail), *d3 = mg_post_description(fail);
	assert_true(strlen(f3) > 40 * 40);
	assert_int_equal(utf8_chars(d3), MG_POST_DESCRIPTION_MAX);
	free(r1), free(r2), free(r3), free(f1), free(f2), free(f3), free(d3), free(c1), free(c2);
	json_decref(fail), json_decref(err), json_decref(pass), json_decref(odd), json_decref(none);
}

static void states_per_forge(void **state)
{
	(void)state;
	assert_string_equal(mg_post_state(MG_FORGE_GITHUB, MG_VERDICT_PASS), "success");
	assert_string_equal(mg_post_state(MG_FORGE_GITHUB, MG_VERDICT_FAIL), "failure");
	assert_string_equal(mg_post_state(MG_FORGE_GITHUB, MG_VERDICT_ERROR), "error");
	assert_string_equal(mg_post_state(MG_FORGE_GITLAB, MG_VERDICT_PASS), "success");
	assert_string_equal(mg_post_state(MG_FORGE_GITLAB, MG_VERDICT_FAIL), "failed");
	assert_string_equal(mg_post_state(MG_FORGE_GITLAB, MG_VERDICT_ERROR), "failed");
	enum mg_verdict v;
	assert_int_equal(mg_verdict_from_name("error", &v), 0);
	assert_int_equal(v, MG_VERDICT_ERROR);
	assert_int_equal(mg_verdict_from_name("PASS", &v), -1);
}

/* ---- event files -------------------------------------------------------------------- */

static void event_push_is_not_a_pr(void **state)
{
	(void)state;
	char sha[80] = "", err[256] = "";
	assert_int_equal(mg_post_event_sha("push", "/nonexistent", sha, sizeof sha, err, sizeof err), 0);
	assert_int_equal(mg_post_event_sha(NULL, NULL, sha, sizeof sha, err, sizeof err), 0);
	assert_string_equal(sha, "");
}

static void event_pull_request_head(void **state)
{
	(void)state;
	char path[64], sha[80], err[256];
	write_file(path, sizeof path, "{\"action\":\"synchronize\",\"number\":7,\"pull_request\":{"
				      "\"merge_commit_sha\":\"" SHA40 "\",\"head\":{\"ref\":\"topic\",\"sha\":\"" HEAD40 "\"}}}");
	assert_int_equal(mg_post_event_sha("pull_request", path, sha, sizeof sha, err, sizeof err), 1);
	assert_string_equal(sha, HEAD40);
	sha[0] = '\0';
	assert_int_equal(mg_post_event_sha("pull_request_target", path, sha, sizeof sha, err, sizeof err), 1);
	assert_string_equal(sha, HEAD40);
	unlink(path);
}

static void event_pull_request_broken(void **state)
{
	(void)state;
	char path[64], sha[80], err[256];
	write_file(path, sizeof path, "{\"pull_request\": {\"head\": {}}}");
	assert_int_equal(mg_post_event_sha("pull_request", path, sha, sizeof sha, err, sizeof err), -1);
	assert_contains(err, "pull_request.head.sha");
	unlink(path);
	write_file(path, sizeof path, "{\"pull_request\":\n  {\"head\": ");
	assert_int_equal(mg_post_event_sha("pull_request", path, sha, sizeof sha, err, sizeof err), -1);
	assert_contains(err, path);
	assert_contains(err, ":2:"); /* file:line:column */
	unlink(path);
	assert_int_equal(mg_post_event_sha("pull_request", NULL, sha, sizeof sha, err, sizeof err), -1);
	assert_contains(err, "GITHUB_EVENT_PATH");
}

/* A file that cannot be read is an errno, not a JSON error at 0:0 or "end
 * of file". */
static void event_file_unreadable(void **state)
{
	(void)state;
	char sha[80], err[256];
	assert_int_equal(mg_post_event_sha("pull_request", "/nonexistent/event.json", sha, sizeof sha, err,
					   sizeof err), -1);
	assert_string_equal(err, "cannot read /nonexistent/event.json: ENOENT (No such file or directory)");
	assert_int_equal(mg_post_event_sha("pull_request", "/", sha, sizeof sha, err, sizeof err), -1);
	assert_string_equal(err, "cannot read /: EISDIR (Is a directory)");
	/* through the options too, as the poster reports it */
	char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40, "GITHUB_TOKEN=" TOKEN,
		       "GITHUB_EVENT_NAME=pull_request_target", "GITHUB_EVENT_PATH=/nonexistent/event.json", NULL};
	struct mg_post_flags fl = {0};
	struct mg_post_opts o;
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), -1);
	assert_string_equal(err, "cannot read /nonexistent/event.json: ENOENT (No such file or directory)");
	mg_post_opts_free(&o);
}

/* ---- the pull-request comment -------------------------------------------------------- */

static void comment_marker(void **state)
{
	(void)state;
	char *m = mg_comment_marker(NULL);
	assert_string_equal(m, "<!-- memgate:comment config=memgate.json -->");
	free(m);
	m = mg_comment_marker("./configs/ci-mem.json");
	assert_string_equal(m, "<!-- memgate:comment config=configs/ci-mem.json -->");
	free(m);
	/* one line, and nothing in it can end the HTML comment */
	m = mg_comment_marker("a b-->\n<x>%é!.json");
	assert_string_equal(m, "<!-- memgate:comment config=a%20b--%3E%0A%3Cx%3E%25%C3%A9%21.json -->");
	free(m);

	const char *marker = "<!-- memgate:comment config=memgate.json -->";
	assert_true(mg_comment_is_ours("<!-- memgate:comment config=memgate.json -->\n**memgate: PASS**", marker));
	assert_true(mg_comment_is_ours("<!-- memgate:comment config=memgate.json --> \r\nx", marker));
	assert_true(mg_comment_is_ours("<!-- memgate:comment config=memgate.json -->", marker));
	assert_false(mg_comment_is_ours("> <!-- memgate:comment config=memgate.json -->\n", marker));
	assert_false(mg_comment_is_ours("hi\n<!-- memgate:comment config=memgate.json -->\n", marker));
	assert_false(mg_comment_is_ours("<!-- memgate:comment config=memgate.json --> said memgate\n", marker));
	assert_false(mg_comment_is_ours("<!-- memgate:comment config=memgate.jsonx -->\n", marker));
	assert_false(mg_comment_is_ours("<!-- memgate:comment config=memgate.json -", marker));
	assert_false(mg_comment_is_ours(NULL, marker));
}

static void comment_pr_number(void **state)
{
	(void)state;
	long long pr = 0;
	assert_int_equal(mg_post_parse_pr("7", &pr), 0);
	assert_int_equal(pr, 7);
	assert_int_equal(mg_post_parse_pr("9007199254740992", &pr), 0);
	static const char *const bad[] = {"", "0", "07", "-1", "7x", " 7", "+7", "9007199254740993", "99999999999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (mg_post_parse_pr(bad[i], &pr) == 0)
			fail_msg("\"%s\" taken as a pull request number", bad[i]);

	char path[64], err[256];
	write_file(path, sizeof path, "{\"number\":7,\"pull_request\":{\"number\":7,\"head\":{\"sha\":\"" HEAD40 "\"}}}");
	pr = 0;
	assert_int_equal(mg_post_event_pr("push", path, &pr, err, sizeof err), 0);
	assert_int_equal(mg_post_event_pr("pull_request_target", path, &pr, err, sizeof err), 1);
	assert_int_equal(pr, 7);
	unlink(path);
	write_file(path, sizeof path, "{\"pull_request\":{\"number\":\"7\"}}");
	assert_int_equal(mg_post_event_pr("pull_request", path, &pr, err, sizeof err), -1);
	assert_contains(err, "no pull_request.number (a positive integer) in the pull_request event (pass --pr)");
	unlink(path);

	/* through the options: the event, then GITHUB_REF, then nothing and why */
	write_file(path, sizeof path, "{\"pull_request\":{\"number\":31,\"head\":{\"sha\":\"" HEAD40 "\"}}}");
	char ev[96];
	snprintf(ev, sizeof ev, "GITHUB_EVENT_PATH=%s", path);
	char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_TOKEN=" TOKEN,
		       "GITHUB_EVENT_NAME=pull_request", ev, "GITHUB_REF=refs/pull/5/merge", NULL};
	struct mg_post_flags fl = {.comment = true};
	struct mg_post_opts o;
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), 0);
	assert_int_equal(o.pr, 31);
	assert_string_equal(o.sha, HEAD40);
	mg_post_opts_free(&o);
	env[3] = "GITHUB_EVENT_NAME=workflow_run";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), -1); /* statuses need a commit */
	assert_contains(err, "GITHUB_SHA not set");
	mg_post_opts_free(&o);
	fl.no_statuses = true; /* run --comment alone needs none */
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), 0);
	assert_int_equal(o.pr, 5);
	assert_null(o.sha);
	mg_post_opts_free(&o);
	env[5] = "GITHUB_REF=refs/pull/5x/merge";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), 0);
	assert_int_equal(o.pr, 0);
	assert_string_equal(o.no_pr, "GITHUB_EVENT_NAME=workflow_run is not a pull request event");
	mg_post_opts_free(&o);
	fl.pr = "12";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), 0);
	assert_int_equal(o.pr, 12);
	mg_post_opts_free(&o);
	/* without --comment nothing about a pull request is read */
	fl = (struct mg_post_flags){.no_statuses = false};
	env[3] = "GITHUB_EVENT_NAME=push";
	char *env_sha[] = {env[0], env[1], env[2], env[3], "GITHUB_SHA=" SHA40, NULL};
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env_sha, err, sizeof err), 0);
	assert_int_equal(o.pr, 0);
	assert_null(o.no_pr);
	mg_post_opts_free(&o);
	unlink(path);

	char *gl[] = {"GITLAB_CI=true", "CI_API_V4_URL=https://gitlab.example.com/api/v4", "CI_PROJECT_ID=77",
		      "CI_COMMIT_SHA=" SHA40, "GITLAB_TOKEN=glpat-" TOKEN, "CI_MERGE_REQUEST_IID=9", NULL};
	fl = (struct mg_post_flags){.comment = true};
	assert_int_equal(mg_post_opts_from_env(&o, &fl, gl, err, sizeof err), 0);
	assert_int_equal(o.pr, 9);
	mg_post_opts_free(&o);
	gl[5] = NULL;
	assert_int_equal(mg_post_opts_from_env(&o, &fl, gl, err, sizeof err), 0);
	assert_int_equal(o.pr, 0);
	assert_string_equal(o.no_pr, "CI_MERGE_REQUEST_IID is not set: not a merge request pipeline");
	mg_post_opts_free(&o);
}

/* The body: the marker first, the table, the commit; within the limit. */
static void comment_body(void **state)
{
	(void)state;
	char *text = tu_read_data("reports/baseline.json");
	json_t *rep = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(rep);
	struct mg_post_opts o = {.forge = MG_FORGE_GITHUB, .sha = SHA40, .config_path = "ci/mem.json",
				 .target_url = "https://github.com/o/r/actions/runs/42"};
	char err[256] = "";
	char *body = mg_comment_body(rep, &o, 0, err, sizeof err);
	if (!body)
		fail_msg("%s", err);
	assert_true(strncmp(body, "<!-- memgate:comment config=ci/mem.json -->\n**memgate: FAIL** — 2 of 3 fixtures "
				  "failed\n\n| fixture | verdict |", 98) == 0);
	const char *tail = "_The full report is in [the CI run](https://github.com/o/r/actions/runs/42)._\n\n"
			   "<sub>memgate " MG_VERSION ", commit 0123456789ab</sub>\n";
	assert_true(strlen(body) > strlen(tail) && strcmp(body + strlen(body) - strlen(tail), tail) == 0);
	size_t whole = strlen(body);
	free(body);
	/* a smaller limit: fixtures left out, never more than the limit */
	for (size_t max = whole - 1; max > 200; max -= 97) {
		body = mg_comment_body(rep, &o, max, err, sizeof err);
		assert_non_null(body);
		if (strlen(body) > max)
			fail_msg("%zu bytes for a limit of %zu", strlen(body), max);
		assert_true(strncmp(body, "<!-- memgate:comment config=ci/mem.json -->\n", 44) == 0);
		free(body);
	}
	/* smaller than the verdict itself: cut, still whole characters */
	body = mg_comment_body(rep, &o, 60, err, sizeof err);
	assert_non_null(body);
	assert_true(strlen(body) <= 60);
	utf8_chars(body);
	free(body);
	/* an invalid report is refused with the JSON path */
	json_object_set_new(rep, "fixtures", json_string("no"));
	assert_null(mg_comment_body(rep, &o, 0, err, sizeof err));
	assert_contains(err, "fixtures");
	json_decref(rep);

	assert_contains(mg_comment_hint(MG_FORGE_GITHUB, 403), "issues: write and pull-requests: write");
	assert_contains(mg_comment_hint(MG_FORGE_GITLAB, 403), "api scope");
	assert_string_equal(mg_comment_hint(MG_FORGE_GITHUB, 409), "");
}

static void errno_wording(void **state)
{
	(void)state;
	char err[128];
	mg_cannot(err, sizeof err, "read", "/x/token", EACCES);
	assert_string_equal(err, "cannot read /x/token: EACCES (Permission denied)");
	mg_cannot(err, sizeof err, "write", "out.json", ENOSPC);
	assert_string_equal(err, "cannot write out.json: ENOSPC (No space left on device)");
	mg_cannot(err, sizeof err, "open", "/y", 4242);
	assert_contains(err, "cannot open /y: errno 4242 (");
	char small[16];
	mg_cannot(small, sizeof small, "read", "/x/token", EACCES);
	assert_string_equal(small, "cannot read /x/"); /* cut, still terminated */
}

/* ---- options from the environment ----------------------------------------------- */

static void github_push_env(void **state)
{
	(void)state;
	char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=octo/hello.world", "GITHUB_SHA=" SHA40,
		       "GITHUB_TOKEN=" TOKEN, "GITHUB_EVENT_NAME=push", "GITHUB_SERVER_URL=https://github.com",
		       "GITHUB_RUN_ID=42", "GITHUB_EVENT_PATH=/nonexistent", NULL};
	struct mg_post_flags fl = {0};
	struct mg_post_opts o;
	char err[512] = "";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), 0);
	assert_int_equal(o.forge, MG_FORGE_GITHUB);
	assert_string_equal(o.api_url, "https://api.github.com");
	assert_string_equal(o.sha, SHA40);
	assert_string_equal(o.token, TOKEN);
	assert_int_equal(o.token_kind, MG_TOKEN_BEARER);
	assert_string_equal(o.context_prefix, "memgate/");
	assert_string_equal(o.target_url, "https://github.com/octo/hello.world/actions/runs/42");
	assert_int_equal(o.http.total_timeout_ms, 30000);
	assert_int_equal(o.http.connect_timeout_ms, 10000);
	assert_int_equal(o.http.retries, 3);
	char *url = mg_post_status_url(&o);
	assert_string_equal(url, "https://api.github.com/repos/octo/hello.world/statuses/" SHA40);
	free(url);
	mg_post_opts_free(&o);
}

static void github_pull_request_env(void **state)
{
	(void)state;
	char path[64], evp[128], err[512] = "";
	write_file(path, sizeof path, "{\"pull_request\":{\"head\":{\"sha\":\"" HEAD40 "\"}}}");
	snprintf(evp, sizeof evp, "GITHUB_EVENT_PATH=%s", path);
	char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40, "GITHUB_TOKEN=" TOKEN,
		       "GITHUB_EVENT_NAME=pull_request", evp, "GITHUB_API_URL=https://ghe.example.com/api/v3/", NULL};
	struct mg_post_flags fl = {.context_prefix = "ci/mem:", .target_url = "https://ci.example.com/7"};
	struct mg_post_opts o;
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), 0);
	assert_string_equal(o.sha, HEAD40); /* not the merge commit */
	assert_string_equal(o.api_url, "https://ghe.example.com/api/v3");
	assert_string_equal(o.context_prefix, "ci/mem:");
	assert_string_equal(o.target_url, "https://ci.example.com/7");
	char *url = mg_post_status_url(&o);
	assert_string_equal(url, "https://ghe.example.com/api/v3/repos/o/r/statuses/" HEAD40);
	free(url);
	mg_post_opts_free(&o);
	fl.sha = "abcdef1"; /* --sha wins over the event */
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), 0);
	assert_string_equal(o.sha, "abcdef1");
	mg_post_opts_free(&o);
	unlink(path);
}

static void github_missing_names_all(void **state)
{
	(void)state;
	char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=", NULL};
	struct mg_post_flags fl = {0};
	struct mg_post_opts o;
	char err[512] = "";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), -1);
	assert_contains(err, "GITHUB_REPOSITORY");
	assert_contains(err, "GITHUB_SHA");
	assert_contains(err, "GITHUB_TOKEN");
	mg_post_opts_free(&o);
	char *bad[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r/../x", "GITHUB_SHA=" SHA40,
		       "GITHUB_TOKEN=" TOKEN, NULL};
	assert_int_equal(mg_post_opts_from_env(&o, &fl, bad, err, sizeof err), -1);
	assert_contains(err, "OWNER/NAME");
	mg_post_opts_free(&o);
	char *badsha[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=main/../x",
			  "GITHUB_TOKEN=" TOKEN, NULL};
	assert_int_equal(mg_post_opts_from_env(&o, &fl, badsha, err, sizeof err), -1);
	assert_contains(err, "hex digits");
	mg_post_opts_free(&o);
}

static void forge_detection(void **state)
{
	(void)state;
	char *none[] = {"GITHUB_ACTIONS=false", "CI=true", NULL};
	struct mg_post_flags fl = {0};
	struct mg_post_opts o;
	char err[512] = "";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, none, err, sizeof err), -1);
	assert_contains(err, "GITHUB_ACTIONS=true");
	assert_contains(err, "GITLAB_CI=true");
	assert_contains(err, "--forge");
	mg_post_opts_free(&o);
	char *gl[] = {"GITLAB_CI=true", NULL};
	assert_int_equal(mg_post_opts_from_env(&o, &fl, gl, err, sizeof err), -1);
	assert_int_equal(o.forge, MG_FORGE_GITLAB);
	assert_contains(err, "GitLab");
	assert_contains(err, "CI_API_V4_URL");
	assert_contains(err, "CI_PROJECT_ID");
	assert_contains(err, "CI_COMMIT_SHA");
	mg_post_opts_free(&o);
	fl.forge = "github"; /* the flag wins over GITLAB_CI */
	assert_int_equal(mg_post_opts_from_env(&o, &fl, gl, err, sizeof err), -1);
	assert_int_equal(o.forge, MG_FORGE_GITHUB);
	assert_contains(err, "GITHUB_REPOSITORY");
	mg_post_opts_free(&o);
	fl.forge = "bitbucket";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, gl, err, sizeof err), -1);
	assert_contains(err, "github or gitlab");
	mg_post_opts_free(&o);
}

static void gitlab_env_tokens_and_urls(void **state)
{
	(void)state;
	char *env[] = {"GITLAB_CI=true", "CI_API_V4_URL=https://gitlab.example.com/api/v4",
		       "CI_PROJECT_ID=group/sub/app", "CI_COMMIT_SHA=" SHA40, "CI_JOB_TOKEN=job-" TOKEN,
		       "CI_PIPELINE_URL=https://gitlab.example.com/g/a/-/pipelines/9", NULL};
	struct mg_post_flags fl = {0};
	struct mg_post_opts o;
	char err[512] = "";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), 0);
	assert_int_equal(o.token_kind, MG_TOKEN_JOB);
	assert_string_equal(o.token, "job-" TOKEN);
	assert_string_equal(o.target_url, "https://gitlab.example.com/g/a/-/pipelines/9");
	char *url = mg_post_status_url(&o);
	assert_string_equal(url, "https://gitlab.example.com/api/v4/projects/group%2Fsub%2Fapp/statuses/" SHA40);
	free(url);
	mg_post_opts_free(&o);

	char *env2[] = {"GITLAB_CI=true", "CI_API_V4_URL=https://gitlab.example.com/api/v4", "CI_PROJECT_ID=77",
			"CI_COMMIT_SHA=" SHA40, "CI_JOB_TOKEN=job", "GITLAB_TOKEN=glpat-" TOKEN,
			"CI_JOB_URL=https://gitlab.example.com/g/a/-/jobs/5", "CI_PIPELINE_URL=https://x/p", NULL};
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env2, err, sizeof err), 0);
	assert_int_equal(o.token_kind, MG_TOKEN_PRIVATE); /* an access token beats the job token */
	assert_string_equal(o.token, "glpat-" TOKEN);
	assert_string_equal(o.target_url, "https://gitlab.example.com/g/a/-/jobs/5");
	url = mg_post_status_url(&o);
	assert_string_equal(url, "https://gitlab.example.com/api/v4/projects/77/statuses/" SHA40);
	free(url);
	mg_post_opts_free(&o);

	fl.checks = true;
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env2, err, sizeof err), -1);
	assert_contains(err, "only on GitHub");
	mg_post_opts_free(&o);
}

static void http_env_knobs(void **state)
{
	(void)state;
	char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40, "GITHUB_TOKEN=" TOKEN,
		       "MEMGATE_HTTP_TIMEOUT_MS=750", "MEMGATE_HTTP_CONNECT_TIMEOUT_MS=250",
		       "MEMGATE_HTTP_RETRIES=1", "MEMGATE_HTTP_BACKOFF_MS=5", NULL};
	struct mg_post_flags fl = {0};
	struct mg_post_opts o;
	char err[512] = "";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), 0);
	assert_int_equal(o.http.total_timeout_ms, 750);
	assert_int_equal(o.http.connect_timeout_ms, 250);
	assert_int_equal(o.http.retries, 1);
	assert_int_equal(o.http.backoff_ms, 5);
	mg_post_opts_free(&o);
	env[4] = "MEMGATE_HTTP_TIMEOUT_MS=soon";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), -1);
	assert_contains(err, "MEMGATE_HTTP_TIMEOUT_MS=soon");
	mg_post_opts_free(&o);
}

/* ---- https / loopback policy ------------------------------------------------------- */

static void url_policy(void **state)
{
	(void)state;
	const char *ok[] = {"https://api.github.com", "https://gitlab.example.com/api/v4",
			    "http://127.0.0.1:4010", "http://127.3.2.1/x", "http://[::1]:8080/api",
			    "http://localhost:3000", "http://LocalHost/", "http://[::ffff:127.0.0.1]:9/", NULL};
	const char *refused[] = {"http://api.github.com", "http://10.0.0.1:4010", "http://127.0.0.1.evil.example/",
				 "http://localhost.evil.example/", "http://[::2]/", "ftp://127.0.0.1/",
				 "not a url", "http://128.0.0.1/", NULL};
	char err[512];
	for (size_t i = 0; ok[i]; i++)
		if (mg_http_url_allowed(ok[i], err, sizeof err) != 0)
			fail_msg("%s refused: %s", ok[i], err);
	for (size_t i = 0; refused[i]; i++) {
		err[0] = '\0';
		if (mg_http_url_allowed(refused[i], err, sizeof err) != -1)
			fail_msg("%s allowed", refused[i]);
		assert_true(err[0] != '\0');
	}
	mg_http_url_allowed("http://api.github.com/x", err, sizeof err);
	assert_contains(err, "https://");
	assert_contains(err, "api.github.com");

	char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40, "GITHUB_TOKEN=" TOKEN,
		       "GITHUB_API_URL=http://github.example.com/api/v3", NULL};
	struct mg_post_flags fl = {0};
	struct mg_post_opts o;
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), -1);
	assert_contains(err, "refusing");
	assert_true(strstr(err, TOKEN) == NULL);
	mg_post_opts_free(&o);
}

/* ---- tokens ---------------------------------------------------------------------------- */

static void token_file_first_line_trimmed(void **state)
{
	(void)state;
	char path[64], err[512] = "";
	write_file(path, sizeof path, "  " TOKEN " \r\nsecond line\n");
	char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40, NULL};
	struct mg_post_flags fl = {.token_file = path};
	struct mg_post_opts o;
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), 0);
	assert_string_equal(o.token, TOKEN);
	mg_post_opts_free(&o);
	unlink(path);

	write_file(path, sizeof path, "\n" TOKEN "\n");
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), -1);
	assert_contains(err, "empty");
	mg_post_opts_free(&o);
	unlink(path);
	char want[256];
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), -1);
	snprintf(want, sizeof want, "cannot read %s: ENOENT (No such file or directory)", path);
	assert_string_equal(err, want);
	mg_post_opts_free(&o);
	/* a directory opens, and fails at the first read */
	fl.token_file = "/";
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), -1);
	assert_string_equal(err, "cannot read /: EISDIR (Is a directory)");
	mg_post_opts_free(&o);
}

static void token_never_in_errors(void **state)
{
	(void)state;
	char err[512] = "";
	/* a header-breaking token is refused without being quoted */
	char *env[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40,
		       "GITHUB_TOKEN=" TOKEN "\nX-Evil: 1", NULL};
	struct mg_post_flags fl = {0};
	struct mg_post_opts o;
	assert_int_equal(mg_post_opts_from_env(&o, &fl, env, err, sizeof err), -1);
	assert_contains(err, "token");
	assert_true(strstr(err, TOKEN) == NULL);
	mg_post_opts_free(&o);

	/* a token inside a refused URL */
	char *inurl[] = {"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40, "GITHUB_TOKEN=" TOKEN,
			 "GITHUB_API_URL=http://x:" TOKEN "@github.example.com", NULL};
	assert_int_equal(mg_post_opts_from_env(&o, &fl, inurl, err, sizeof err), -1);
	assert_contains(err, "refusing");
	assert_contains(err, "http://x:***@github.example.com");
	assert_true(strstr(err, TOKEN) == NULL);
	mg_post_opts_free(&o);

	/* a server that echoes the token back: the error quotes it scrubbed */
	mg_post_api_error(401, "{\"message\":\"Bad credentials: Bearer " TOKEN "\"}", TOKEN, err, sizeof err);
	assert_contains(err, "401 Unauthorized: Bad credentials: Bearer ***");
	assert_true(strstr(err, TOKEN) == NULL);
	/* ... even when the body was cut in the middle of it */
	mg_post_api_error(500, "<html>oops Bearer ghp_S3cr3tT0ken", TOKEN, err, sizeof err);
	assert_true(strstr(err, "ghp_S3cr3t") == NULL);
	assert_contains(err, "500 Internal Server Error: <html>oops Bearer ***");
	/* ... and when err is too short to hold all of it */
	char small[40];
	mg_post_api_error(400, "{\"message\":\"xxxxxxxxxxxxxxxxxxxx " TOKEN "\"}", TOKEN, small, sizeof small);
	assert_true(strstr(small, "ghp_") == NULL);
}

/* ---- the secret and text helpers ------------------------------------------------- */

static void scrub_and_wipe(void **state)
{
	(void)state;
	assert_null(mg_ci_scrub(NULL, TOKEN));
	char *s = mg_ci_scrub(strdup("x " TOKEN " y " TOKEN), TOKEN);
	assert_string_equal(s, "x *** y ***");
	free(s);
	s = mg_ci_scrub(strdup("nothing to hide"), NULL);
	assert_string_equal(s, "nothing to hide");
	free(s);
	s = mg_ci_scrub(strdup("nothing to hide"), "");
	assert_string_equal(s, "nothing to hide");
	free(s);
	s = mg_ci_scrub(strdup("cut at ghp_"), TOKEN); /* 4 bytes of it at the end: gone */
	assert_string_equal(s, "cut at ***");
	free(s);
	s = mg_ci_scrub(strdup("cut at ghp"), TOKEN); /* 3 bytes: not the token */
	assert_string_equal(s, "cut at ghp");
	free(s);

	/* set_err: text may be err itself (in place), the token scrubbed, cut */
	char err[32];
	snprintf(err, sizeof err, "bad " TOKEN);
	mg_ci_set_err(err, sizeof err, err, TOKEN);
	assert_string_equal(err, "bad ***");
	mg_ci_set_err(err, sizeof err, "ééééééééééééééééééééééééééééééé", NULL);
	assert_true(strlen(err) < sizeof err);
	assert_string_equal(err + strlen(err) - 3, "…");
	utf8_chars(err);

	mg_ci_wipe_free(NULL);
	mg_ci_wipe_free(strdup(TOKEN));

	char *p = mg_ci_printf("%s/%d", "memgate", 7);
	assert_string_equal(p, "memgate/7");
	free(p);
}

/* ---- API error texts --------------------------------------------------------------- */

static void api_error_texts(void **state)
{
	(void)state;
	char err[512];
	mg_post_api_error(422, "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"Status\",\"code\":"
			       "\"custom\",\"field\":\"description\",\"message\":\"description is too long "
			       "(maximum is 140 characters)\"}],\"documentation_url\":\"https://docs.github.com\"}",
			  NULL, err, sizeof err);
	assert_string_equal(err, "422 Unprocessable Entity: Validation Failed: description is too long "
				 "(maximum is 140 characters)");
	mg_post_api_error(422, "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"Status\","
			       "\"field\":\"state\",\"code\":\"invalid\"},{\"message\":\"two\"}]}",
			  NULL, err, sizeof err);
	assert_string_equal(err, "422 Unprocessable Entity: Validation Failed: state invalid; two");
	mg_post_api_error(400, "{\"error\":\"state does not have a valid value\"}", NULL, err, sizeof err);
	assert_string_equal(err, "400 Bad Request: state does not have a valid value");
	mg_post_api_error(400, "{\"message\":{\"state\":[\"is invalid\"]}}", NULL, err, sizeof err);
	assert_string_equal(err, "400 Bad Request: {\"state\":[\"is invalid\"]}");
	mg_post_api_error(502, "<html>\n<b>Bad\tGateway</b>\n</html>", NULL, err, sizeof err);
	assert_string_equal(err, "502 Bad Gateway: <html> <b>Bad Gateway</b> </html>");
	mg_post_api_error(404, NULL, NULL, err, sizeof err);
	assert_string_equal(err, "404 Not Found");
	mg_post_api_error(599, "", NULL, err, sizeof err);
	assert_string_equal(err, "599");
}

/* post validates with the loader every command shares (report_load.h):
 * schema 1 exactly, verdicts, reasons as strings. */
/* Scrubbing: every occurrence, self-overlapping tokens, a cut tail of 4
 * bytes or more (3 are not the token), and a long body in linear time
 * (strlen per byte made 8 MiB take minutes). */
static void scrub_edge_cases(void **state)
{
	(void)state;
	char err[512];
	mg_post_api_error(500, "xabcabcabd", "abcabd", err, sizeof err);
	assert_string_equal(err, "500 Internal Server Error: xabc***");
	mg_post_api_error(500, "abcabd abcabd.", "abcabd", err, sizeof err);
	assert_string_equal(err, "500 Internal Server Error: *** ***.");
	mg_post_api_error(500, "xxabcab", "abcabd", err, sizeof err);
	assert_string_equal(err, "500 Internal Server Error: xx***");
	mg_post_api_error(500, "abcabdabc", "abcabd", err, sizeof err);
	assert_string_equal(err, "500 Internal Server Error: ***abc");
	mg_post_api_error(500, "abcabdabca", "abcabd", err, sizeof err);
	assert_string_equal(err, "500 Internal Server Error: ******");
	mg_post_api_error(500, "aaaaaaab", "aaab", err, sizeof err);
	assert_string_equal(err, "500 Internal Server Error: aaaa***");
	mg_post_api_error(500, "zaaaa", "aaaaab", err, sizeof err);
	assert_string_equal(err, "500 Internal Server Error: z***");

	size_t n = (size_t)8 << 20;
	char *body = malloc(n + sizeof TOKEN);
	assert_non_null(body);
	memset(body, 'g', n);
	memcpy(body + n - 10, TOKEN, sizeof TOKEN); /* ends in the token */
	mg_post_api_error(500, body, TOKEN, err, sizeof err);
	assert_null(strstr(err, "ghp_"));
	assert_contains(err, "500 Internal Server Error: gggg");
	free(body);
}

static void report_shape(void **state)
{
	(void)state;
	char err[256];
	json_t *ok = json_pack("{s:i, s:s, s:[{s:s, s:s, s:[s]}]}", "schema", 1, "verdict", "fail", "fixtures", "name",
			       "api", "verdict", "fail", "reasons", "x");
	assert_int_equal(mg_report_validate(ok, err, sizeof err), 0);
	json_t *bad_verdict = json_pack("{s:i, s:s, s:[{s:s, s:s}]}", "schema", 1, "verdict", "pass", "fixtures", "name",
					"api", "verdict", "PASS");
	assert_int_equal(mg_report_validate(bad_verdict, err, sizeof err), -1);
	assert_contains(err, "fixtures[0].verdict");
	json_t *bad_reason = json_pack("{s:i, s:s, s:[{s:s,s:s},{s:s, s:s, s:[i]}]}", "schema", 1, "verdict", "fail",
				       "fixtures", "name", "a", "verdict", "pass", "name", "b", "verdict", "fail",
				       "reasons", 3);
	assert_int_equal(mg_report_validate(bad_reason, err, sizeof err), -1);
	assert_contains(err, "fixtures[1].reasons[0]");
	json_t *no_fixtures = json_pack("{s:i, s:s}", "schema", 1, "verdict", "pass");
	assert_int_equal(mg_report_validate(no_fixtures, err, sizeof err), -1);
	assert_contains(err, "fixtures");
	/* what post used to take: any schema, or none */
	json_t *no_schema = json_pack("{s:s, s:[{s:s, s:s}]}", "verdict", "pass", "fixtures", "name", "api", "verdict",
				      "pass");
	assert_int_equal(mg_report_validate(no_schema, err, sizeof err), -1);
	assert_string_equal(err, "schema: missing (is this a memgate --json report?)");
	json_object_set_new(no_schema, "schema", json_integer(2));
	assert_int_equal(mg_report_validate(no_schema, err, sizeof err), -1);
	assert_string_equal(err, "schema: expected 1, got 2 (this memgate reads report schema 1)");
	json_decref(ok), json_decref(bad_verdict), json_decref(bad_reason), json_decref(no_fixtures);
	json_decref(no_schema);
}

/* ---- the config's "name" lines (checks.h) ------------------------------------------ */

static void config_line_index(void **state)
{
	(void)state;
	char path[64];
	write_file(path, sizeof path,
		   "{\n"
		   "  \"version\": 1,\n"
		   "  \"defaults\": {\"env\": {\"NOT_A_NAME\": \"api\"}},\n"
		   "  \"fixtures\": [\n"
		   "    {\"command\": [\"true\"], \"name\": \"fx2\"},\n"
		   "    {\"name\": \"api\",\n"
		   "     \"command\": [\"true\"]},\n"
		   "    {\"name\": \"fx1\", \"cwd\": \"fx2\"},\n"
		   "    {\"name\": \"api\"}\n"
		   "  ]\n"
		   "}");
	struct mg_post_config_lines cl;
	mg_post_config_lines_load(path, &cl);
	assert_int_equal(mg_post_config_line(&cl, "api"), 6);  /* the first "name" line quoting it */
	assert_int_equal(mg_post_config_line(&cl, "fx1"), 8);
	assert_int_equal(mg_post_config_line(&cl, "fx2"), 5);  /* line 8 quotes it later */
	assert_int_equal(mg_post_config_line(&cl, "fx3"), 1);  /* absent */
	assert_int_equal(mg_post_config_line(&cl, "NOT_A_NAME"), 1); /* not on a "name" line */
	mg_post_config_lines_free(&cl);
	assert_null(cl.text);
	unlink(path);
	/* no config at hand: every fixture at line 1 */
	mg_post_config_lines_load(path, &cl);
	assert_int_equal(cl.n, 0);
	assert_int_equal(mg_post_config_line(&cl, "api"), 1);
	mg_post_config_lines_free(&cl);
}

static void exit_status_policy(void **state)
{
	(void)state;
	assert_int_equal(mg_post_exit_status(0, true, true), 0);
	assert_int_equal(mg_post_exit_status(0, false, false), 0);
	assert_int_equal(mg_post_exit_status(0, false, true), 3);
	assert_int_equal(mg_post_exit_status(1, false, false), 1);
	assert_int_equal(mg_post_exit_status(1, false, true), 1); /* a failing fixture says more */
	assert_int_equal(mg_post_exit_status(1, true, true), 1);
}

/* memgate calls libcurl only through mg_curl()'s table and never defines
 * libcurl's own names (ci/curl_dl.h). Nothing here links libcurl, so a
 * weak reference to any of them must stay null. */
#pragma weak curl_global_init
#pragma weak curl_global_cleanup
#pragma weak curl_easy_init
#pragma weak curl_easy_setopt
#pragma weak curl_easy_perform
#pragma weak curl_easy_getinfo
#pragma weak curl_easy_cleanup
#pragma weak curl_easy_strerror
#pragma weak curl_slist_append
#pragma weak curl_slist_free_all
#pragma weak curl_free
#pragma weak curl_url
#pragma weak curl_url_cleanup
#pragma weak curl_url_get
#pragma weak curl_url_set

static void no_libcurl_names_defined(void **state)
{
	(void)state;
	typedef void (*fn)(void);
	const struct { const char *name; fn f; } names[] = {
		{"curl_global_init", (fn)curl_global_init}, {"curl_global_cleanup", (fn)curl_global_cleanup},
		{"curl_easy_init", (fn)curl_easy_init}, {"curl_easy_setopt", (fn)curl_easy_setopt},
		{"curl_easy_perform", (fn)curl_easy_perform}, {"curl_easy_getinfo", (fn)curl_easy_getinfo},
		{"curl_easy_cleanup", (fn)curl_easy_cleanup}, {"curl_easy_strerror", (fn)curl_easy_strerror},
		{"curl_slist_append", (fn)curl_slist_append}, {"curl_slist_free_all", (fn)curl_slist_free_all},
		{"curl_free", (fn)curl_free}, {"curl_url", (fn)curl_url}, {"curl_url_cleanup", (fn)curl_url_cleanup},
		{"curl_url_get", (fn)curl_url_get}, {"curl_url_set", (fn)curl_url_set},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].f)
			fail_msg("%s is defined: memgate must call libcurl through mg_curl() only", names[i].name);
	/* and the table is there, loaded once */
	char err[256] = "";
	const struct mg_curl *c = mg_curl(err, sizeof err);
	if (!c)
		fail_msg("libcurl: %s", err);
	assert_ptr_equal(mg_curl(NULL, 0), c);
	assert_non_null(c->easy_setopt);
	assert_string_equal(c->easy_strerror(CURLE_OK), "No error");
}

static int curl_up(void **state)
{
	(void)state;
	char err[512];
	if (mg_http_global_init(err, sizeof err) == 0)
		return 0;
	fprintf(stderr, "%s\n", err);
	return -1;
}

static int curl_down(void **state)
{
	(void)state;
	mg_http_global_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cut_ascii_at_limit),
		cmocka_unit_test(cut_two_byte),
		cmocka_unit_test(cut_three_byte),
		cmocka_unit_test(cut_four_byte),
		cmocka_unit_test(cut_zero_and_empty),
		cmocka_unit_test(cut_bytes_boundaries),
		cmocka_unit_test(cut_summary_at_github_limit),
		cmocka_unit_test(description_pass_fail_error),
		cmocka_unit_test(description_long_reasons_cut),
		cmocka_unit_test(description_of_many_reasons),
		cmocka_unit_test(status_parts),
		cmocka_unit_test(states_per_forge),
		cmocka_unit_test(event_push_is_not_a_pr),
		cmocka_unit_test(event_pull_request_head),
		cmocka_unit_test(event_pull_request_broken),
		cmocka_unit_test(event_file_unreadable),
		cmocka_unit_test(comment_marker),
		cmocka_unit_test(comment_pr_number),
		cmocka_unit_test(comment_body),
		cmocka_unit_test(errno_wording),
		cmocka_unit_test(github_push_env),
		cmocka_unit_test(github_pull_request_env),
		cmocka_unit_test(github_missing_names_all),
		cmocka_unit_test(forge_detection),
		cmocka_unit_test(gitlab_env_tokens_and_urls),
		cmocka_unit_test(http_env_knobs),
		cmocka_unit_test(url_policy),
		cmocka_unit_test(token_file_first_line_trimmed),
		cmocka_unit_test(token_never_in_errors),
		cmocka_unit_test(scrub_and_wipe),
		cmocka_unit_test(api_error_texts),
		cmocka_unit_test(scrub_edge_cases),
		cmocka_unit_test(report_shape),
		cmocka_unit_test(config_line_index),
		cmocka_unit_test(exit_status_policy),
		cmocka_unit_test(no_libcurl_names_defined),
	};
	return cmocka_run_group_tests(tests, curl_up, curl_down);
}
