/* `memgate post REPORT.json` end to end: the real binary ($MEMGATE) posts to
 * Prism mocks of GitHub and GitLab (tests/peer) on 127.0.0.1, with a clean
 * environment of our own making. Skips (with a message) while the binary
 * has no `post` command. */
#include <dlfcn.h>
#include <link.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "itutil.h"
#include "../peer/prism.h"

#define SHA40 "0123456789abcdef0123456789abcdef01234567"
#define TOKEN "ghp_ItPostS3cr3tT0ken77"

struct ctx {
	bool have_post;
	struct peer github, gitlab;
	char report[64];
};

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

/* Run argv (argv[0] a path) with exactly the environment env (plus PATH). */
static void run_argv(struct out *o, const char *const *argv, const char *const *env)
{
	char opath[64], epath[64];
	snprintf(opath, sizeof opath, "/tmp/memgate-itpost-o-XXXXXX");
	snprintf(epath, sizeof epath, "/tmp/memgate-itpost-e-XXXXXX");
	int ofd = mkstemp(opath), efd = mkstemp(epath);
	assert_true(ofd >= 0 && efd >= 0);
	const char *envp[40];
	size_t k = 0;
	envp[k++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	for (size_t i = 0; env && env[i] && k < 39; i++)
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
}

/* Run memgate with args (NULL-terminated, after the program name) and
 * exactly the environment env (plus PATH). */
static void run_memgate(struct out *o, const char *const *args, const char *const *env)
{
	const char *argv[32];
	size_t n = 0;
	argv[n++] = it_memgate_path();
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_argv(o, argv, env);
}

static const char report_text[] =
	"{\n"
	"  \"schema\": 1, \"memgate_version\": \"0.1.0\", \"verdict\": \"error\", \"interrupted_by\": null,\n"
	"  \"fixtures\": [\n"
	"    {\"name\": \"api\", \"verdict\": \"fail\", \"reasons\": [\"tree_rss 312.4 MiB > limit 200.0 MiB\"],\n"
	"     \"peak\": {\"cgroup_bytes\": 331350016, \"tree_rss_bytes\": 327577600,\n"
	"              \"max_process_hwm_bytes\": 301989888, \"tree_pss_bytes\": null}},\n"
	"    {\"name\": \"hold-64MiB\", \"verdict\": \"pass\", \"reasons\": [],\n"
	"     \"peak\": {\"cgroup_bytes\": null, \"tree_rss_bytes\": 68472422,\n"
	"              \"max_process_hwm_bytes\": 68472422, \"tree_pss_bytes\": null}},\n"
	"    {\"name\": \"web\", \"verdict\": \"error\", \"reasons\": [\"cgroup: not measured (no cgroup)\"]}\n"
	"  ]\n"
	"}\n";

static int write_temp(char *path, size_t len, const char *text)
{
	snprintf(path, len, "/tmp/memgate-itpost-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);
	if (!c || write_temp(c->report, sizeof c->report, report_text) < 0)
		return -1;
	*state = c;
	struct out o;
	const char *args[] = {"post", "--help", NULL};
	run_memgate(&o, args, NULL);
	c->have_post = o.status == 0 && strstr(o.stdout_text, "--require-post");
	if (!c->have_post) {
		fprintf(stderr, "it_post: %s post --help failed (status %d: %.200s)\n", it_memgate_path(), o.status,
			o.stderr_text);
		return -1;
	}
	if (peer_ensure() < 0 || peer_start(&c->github, "github-peer.json") < 0 ||
	    peer_start(&c->gitlab, "gitlab-peer.json") < 0) {
		peer_stop(&c->github);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	if (c) {
		peer_stop(&c->github);
		peer_stop(&c->gitlab);
		unlink(c->report);
		free(c);
	}
	return 0;
}

static struct ctx *need_post(void **state)
{
	struct ctx *c = *state;
	assert_true(c->have_post);
	return c;
}

/* The GitHub Actions variables memgate reads, API at port. */
#define GH_ENV(api)                                                                        \
	"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r", "GITHUB_SHA=" SHA40,               \
		"GITHUB_TOKEN=" TOKEN, "GITHUB_SERVER_URL=https://github.com",             \
		"GITHUB_RUN_ID=42", "GITHUB_EVENT_NAME=push", api,                         \
		"MEMGATE_HTTP_BACKOFF_MS=10", "MEMGATE_HTTP_TIMEOUT_MS=10000"

static void github_statuses_posted(void **state)
{
	struct ctx *c = need_post(state);
	char api[64];
	snprintf(api, sizeof api, "GITHUB_API_URL=http://127.0.0.1:%d", c->github.port);
	const char *env[] = {GH_ENV(api), NULL};
	const char *args[] = {"post", c->report, NULL};
	struct out o;
	run_memgate(&o, args, env);
	if (o.status != 0)
		fail_msg("status %d, stderr: %s", o.status, o.stderr_text);
	assert_string_equal(o.stdout_text, "posted memgate/api: failure (tree_rss 312.4 MiB > limit 200.0 MiB)\n"
					   "posted memgate/hold-64MiB: success (peak 65.3 MiB, within limits)\n"
					   "posted memgate/web: error (cgroup: not measured (no cgroup))\n");
	assert_true(strstr(o.stdout_text, TOKEN) == NULL && strstr(o.stderr_text, TOKEN) == NULL);
}

static void github_check_run_and_prefix(void **state)
{
	struct ctx *c = need_post(state);
	char api[64];
	snprintf(api, sizeof api, "GITHUB_API_URL=http://127.0.0.1:%d", c->github.port);
	const char *env[] = {GH_ENV(api), NULL};
	const char *args[] = {"post", "--checks", "--context-prefix", "mem/", c->report, NULL};
	struct out o;
	run_memgate(&o, args, env);
	if (o.status != 0)
		fail_msg("status %d, stderr: %s", o.status, o.stderr_text);
	assert_contains(o.stdout_text, "posted mem/api: failure (");
	assert_contains(o.stdout_text, "posted check run memgate: failure (1 passed, 1 failed, 1 not measured, id 4)\n");
}

static void gitlab_statuses_posted(void **state)
{
	struct ctx *c = need_post(state);
	char api[64];
	snprintf(api, sizeof api, "CI_API_V4_URL=http://127.0.0.1:%d", c->gitlab.port);
	const char *env[] = {"GITLAB_CI=true", api, "CI_PROJECT_ID=group/app", "CI_COMMIT_SHA=" SHA40,
			     "CI_JOB_TOKEN=" TOKEN, "CI_JOB_URL=https://gitlab.example.com/g/a/-/jobs/5", NULL};
	const char *args[] = {"post", c->report, NULL};
	struct out o;
	run_memgate(&o, args, env);
	if (o.status != 0)
		fail_msg("status %d, stderr: %s", o.status, o.stderr_text);
	assert_string_equal(o.stdout_text, "posted memgate/api: failed (tree_rss 312.4 MiB > limit 200.0 MiB)\n"
					   "posted memgate/hold-64MiB: success (peak 65.3 MiB, within limits)\n"
					   "posted memgate/web: failed (cgroup: not measured (no cgroup))\n");
}

/* Unreachable API: a warning, status 0; with --require-post, 3. The token
 * shows nowhere, not even in the libcurl trace. */
static void failed_post_warns_or_fails(void **state)
{
	need_post(state);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd); /* nobody listens on that port now */
	char api[64];
	snprintf(api, sizeof api, "GITHUB_API_URL=http://127.0.0.1:%d", ntohs(a.sin_port));
	const char *env[] = {GH_ENV(api), "MEMGATE_HTTP_RETRIES=1", "MEMGATE_HTTP_TRACE=1", NULL};
	const char *args[] = {"post", ((struct ctx *)*state)->report, NULL};
	struct out o;
	run_memgate(&o, args, env);
	assert_int_equal(o.status, 0);
	assert_contains(o.stderr_text, "memgate: warning: not posted: memgate/api: POST http://127.0.0.1:");
	assert_contains(o.stderr_text, "(2 attempts)");
	assert_true(strstr(o.stderr_text, TOKEN) == NULL);
	const char *args2[] = {"post", "--require-post", ((struct ctx *)*state)->report, NULL};
	run_memgate(&o, args2, env);
	assert_int_equal(o.status, 3);
	assert_contains(o.stderr_text, "memgate: error: not posted");
	assert_true(strstr(o.stderr_text, TOKEN) == NULL);
}

static void plain_http_refused_and_no_forge(void **state)
{
	struct ctx *c = need_post(state);
	const char *env[] = {GH_ENV("GITHUB_API_URL=http://api.github.com"), NULL};
	const char *args[] = {"post", "--require-post", c->report, NULL};
	struct out o;
	run_memgate(&o, args, env);
	assert_int_equal(o.status, 3);
	assert_contains(o.stderr_text, "refusing to send a token over plain http");
	const char *none[] = {"CI=true", NULL};
	const char *args2[] = {"post", c->report, NULL};
	run_memgate(&o, args2, none);
	assert_int_equal(o.status, 0);
	assert_contains(o.stderr_text, "GITHUB_ACTIONS=true");
	assert_contains(o.stderr_text, "GITLAB_CI=true");
}

/* Where the dynamic linker finds libcurl.so.4, resolved to the file itself;
 * -1 when it finds none. */
static int libcurl_file(char *path)
{
	void *h = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
	struct link_map *lm = NULL;
	int rc = h && dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && realpath(lm->l_name, path) ? 0 : -1;
	if (h)
		dlclose(h);
	return rc;
}

/* Without libcurl (an empty file mounted over it in a private mount
 * namespace): no crash, the package to install named. post warns and exits
 * 0, or 3 with --require-post; run --post-status warns. Skips where no user
 * and mount namespace can be made (unshare -rm). */
static void missing_libcurl_names_the_package(void **state)
{
	struct ctx *c = need_post(state);
	char lib[PATH_MAX], empty[64];
	if (access("/usr/bin/unshare", X_OK) != 0 || libcurl_file(lib) < 0) {
		skip_because("no /usr/bin/unshare or no libcurl.so.4 found");
	}
	assert_int_equal(write_temp(empty, sizeof empty, ""), 0);
	static const char hide[] = "mount --bind \"$1\" \"$2\" || exit 99; shift 2; exec \"$@\"";
	const char *probe[] = {"/usr/bin/unshare", "-rm", "/bin/sh", "-c", hide, "sh", empty, lib, "/bin/true", NULL};
	struct out o;
	run_argv(&o, probe, NULL);
	if (o.status != 0) {
		unlink(empty);
		skip_because("cannot hide libcurl in a mount namespace (unshare -rm: status %d)", o.status);
	}
	char api[64];
	snprintf(api, sizeof api, "GITHUB_API_URL=http://127.0.0.1:%d", c->github.port);
	const char *env[] = {GH_ENV(api), NULL};
	for (int require = 0; require < 2; require++) {
		const char *argv[] = {"/usr/bin/unshare", "-rm", "/bin/sh", "-c", hide, "sh", empty, lib,
				      it_memgate_path(), "post", require ? "--require-post" : c->report,
				      require ? c->report : NULL, NULL};
		run_argv(&o, argv, env);
		assert_int_equal(o.status, require ? 3 : 0);
		assert_contains(o.stderr_text, require ? "memgate: error: not posted: cannot initialise libcurl: "
						       : "memgate: warning: not posted: cannot initialise libcurl: ");
		assert_contains(o.stderr_text, "libcurl could not be loaded (");
		assert_contains(o.stderr_text, "install libcurl4 (Debian: apt-get install libcurl4)");
		assert_true(strstr(o.stdout_text, "posted") == NULL);
	}
	/* run --post-status: the fixture's verdict stands, the reason is given */
	char cfg[64];
	assert_int_equal(write_temp(cfg, sizeof cfg, "{\"version\": 1, \"fixtures\": "
						    "[{\"name\": \"t\", \"command\": [\"true\"]}]}"), 0);
	const char *argv[] = {"/usr/bin/unshare", "-rm", "/bin/sh", "-c", hide, "sh", empty, lib,
			      it_memgate_path(), "run", "-c", cfg, "--post-status", NULL};
	run_argv(&o, argv, env);
	unlink(cfg);
	unlink(empty);
	assert_true(o.status < 128); /* not killed by a signal, whatever the measurement gave */
	assert_contains(o.stderr_text, "memgate: warning: cannot initialise libcurl: libcurl could not be loaded (");
	assert_contains(o.stderr_text, "install libcurl4 (Debian: apt-get install libcurl4); statuses not posted");
}

static void malformed_report_is_a_usage_error(void **state)
{
	struct ctx *c = need_post(state);
	char bad[64];
	assert_int_equal(write_temp(bad, sizeof bad, "{\n  \"fixtures\": [\n    {\"name\": \"api\",, }\n"), 0);
	const char *args[] = {"post", bad, NULL};
	struct out o;
	run_memgate(&o, args, NULL);
	assert_int_equal(o.status, 2);
	char where[128];
	snprintf(where, sizeof where, "%s:3:", bad);
	assert_contains(o.stderr_text, where);
	unlink(bad);
	assert_int_equal(write_temp(bad, sizeof bad, "{\"schema\": 1, \"verdict\": \"pass\", "
						    "\"fixtures\": [{\"name\": \"api\", \"verdict\": \"ok\"}]}"), 0);
	run_memgate(&o, args, NULL);
	assert_int_equal(o.status, 2);
	assert_contains(o.stderr_text, "fixtures[0].verdict");
	unlink(bad);
	const char *args2[] = {"post", c->report, "extra", NULL};
	run_memgate(&o, args2, NULL);
	assert_int_equal(o.status, 2);
}

int main(void)
{
	struct CMUnitTest tests[] = {
		cmocka_unit_test(github_statuses_posted),
		cmocka_unit_test(github_check_run_and_prefix),
		cmocka_unit_test(gitlab_statuses_posted),
		cmocka_unit_test(failed_post_warns_or_fails),
		cmocka_unit_test(plain_http_refused_and_no_forge),
		cmocka_unit_test(missing_libcurl_names_the_package),
		cmocka_unit_test(malformed_report_is_a_usage_error),
	};
	if (peer_missing_offline()) {
		peer_skip_all(tests, sizeof tests / sizeof *tests);
		return cmocka_run_group_tests(tests, NULL, NULL);
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
