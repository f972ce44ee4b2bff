/* Integration tests of `memgate run` and `memgate validate` with config
 * files, usage errors, and interruption between fixtures. */
#include "itutil.h"

static char *fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *format, ...)
{
	static char buf[4096];
	va_list ap;
	va_start(ap, format);
	vsnprintf(buf, sizeof buf, format, ap);
	va_end(ap);
	return buf;
}

static const char *two_fixtures(void)
{
	const char *w = it_workload_path();
	return it_config("%s", fmt("{\"version\": 1,\n"
				" \"defaults\": {\"timeout\": \"20s\", \"limits\": {\"tree_rss\": \"48MiB\"}},\n"
				" \"fixtures\": [\n"
				"  {\"name\": \"small\", \"command\": [\"%s\", \"hold\", \"16\", \"100\"]},\n"
				"  {\"name\": \"big\", \"command\": [\"%s\", \"hold\", \"64\", \"100\"]}\n"
				" ]}\n", w, w));
}

static void run_judges_each_fixture(void **state)
{
	(void)state;
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", two_fixtures(), NULL});
	assert_int_equal(r.status, 1);
	assert_string_equal(it_str(r.report, "verdict"), "fail");
	assert_string_equal(it_str(r.report, "fixtures.0.name"), "small");
	assert_string_equal(it_str(r.report, "fixtures.0.verdict"), "pass");
	assert_string_equal(it_str(r.report, "fixtures.1.verdict"), "fail");
	assert_int_equal(it_int(r.report, "fixtures.1.limits.0.limit_bytes"), 48 * MiB); /* from defaults */
	assert_contains(it_str(r.report, "fixtures.1.reasons.0"), "> limit 48.0 MiB");
	assert_contains(r.err, "memgate: FAIL");
	it_free(&r);
}

static void only_selects(void **state)
{
	(void)state;
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", two_fixtures(), "--only", "small", NULL});
	assert_int_equal(r.status, 0);
	assert_int_equal(json_array_size(it_get(r.report, "fixtures")), 1);
	assert_string_equal(it_str(r.report, "fixtures.0.name"), "small");
	it_free(&r);

	it_memgate(&r, (const char *const[]){"run", "-c", two_fixtures(), "--only", "smol", NULL});
	assert_int_equal(r.status, 2);
	assert_null(r.report);
	assert_contains(r.err, "--only smol: no such fixture");
	assert_contains(r.err, "small big");
	it_free(&r);
}

static void validate_good_and_bad(void **state)
{
	(void)state;
	struct it_run r;
	it_memgate(&r, (const char *const[]){"validate", "-c", two_fixtures(), NULL});
	assert_int_equal(r.status, 0);
	it_free(&r);
	it_memgate(&r, (const char *const[]){"validate", "-c", "configs/demo.json", NULL});
	assert_int_equal(r.status, 0);
	it_free(&r);

	it_config("%s", "{\"version\": 1, \"fixtures\": [{\"name\": \"a\", \"command\": [\"true\"],\n"
		     "  \"limts\": {\"tree_rss\": \"1MiB\"}}]}");
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "fixtures[0].limts");
	assert_contains(r.err, "did you mean \"limits\"");
	it_free(&r);

	it_config("%s", "{\"version\": 1,\n \"fixtures\": [}");
	it_memgate(&r, (const char *const[]){"validate", "-c", it_cfg_path(), NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, fmt("%s:2:", it_cfg_path()));
	it_free(&r);

	it_memgate(&r, (const char *const[]){"run", "-c", "/nonexistent/memgate.json", NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "/nonexistent/memgate.json");
	it_free(&r);
}

/* A 143-byte config whose readiness regex made glibc's regcomp take seconds
 * and most of a GiB (each extra '+' doubles it; 23 of them crash it): it is
 * refused before regcomp, with the JSON path and a way to fix it. */
static void validate_refuses_explosive_regex(void **state)
{
	(void)state;
	struct it_run r;
	it_config("%s", "{\"version\":1,\"fixtures\":[{\"name\":\"s\",\"service\":{\"command\":[\"x\"],"
			"\"ready\":{\"stdout\":\"^r++++++++++++++++++++eady$\"}},\"driver\":{\"command\":[\"y\"]}}]}");
	it_memgate(&r, (const char *const[]){"validate", "-c", it_cfg_path(), NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, fmt("%s: fixtures[0].service.ready.stdout: ", it_cfg_path()));
	assert_contains(r.err, "follows another quantifier");
	it_free(&r);
	/* a back-reference makes matching exponential: refused too */
	it_config("%s", "{\"version\":1,\"fixtures\":[{\"name\":\"s\",\"service\":{\"command\":[\"x\"],"
			"\"ready\":{\"stdout\":\"(a*)*\\\\1b\"}},\"driver\":{\"command\":[\"y\"]}}]}");
	it_memgate(&r, (const char *const[]){"validate", "-c", it_cfg_path(), NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "fixtures[0].service.ready.stdout: byte 6 (\"(a*)*\\\"): back-reference \\1");
	it_free(&r);
}

static void usage_errors(void **state)
{
	(void)state;
	struct it_run r;
	it_memgate(&r, (const char *const[]){"measure", NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "no command given");
	it_free(&r);
	it_memgate(&r, (const char *const[]){"measure", "--limit", "rss=1MiB", "--", "true", NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "unknown metric \"rss\"");
	it_free(&r);
	it_memgate(&r, (const char *const[]){"measure", "--limit", "tree_rss=100", "--", "true", NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "needs a unit");
	it_free(&r);
	/* growth is a rate, as in the config ("1MiB" was taken as per second) */
	it_memgate(&r, (const char *const[]){"measure", "--limit", "growth=1MiB", "--", "true", NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "needs a time unit");
	it_free(&r);
	it_memgate(&r, (const char *const[]){"measure", "--limit", "growth=30MiB/min", "--", "true", NULL});
	/* too short to fit a slope: cannot be checked, never a pass */
	assert_int_equal(r.status, 3);
	assert_int_equal(it_int(r.report, "fixtures.0.limits.0.limit_bytes"), 524288);
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "cannot be checked");
	it_free(&r);
	/* a second limit for one metric loosened the first silently */
	it_memgate(&r, (const char *const[]){"measure", "--limit", "tree_rss=1MiB", "--limit", "tree_rss=2GiB", "--",
					     "true", NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "--limit tree_rss: given twice");
	it_free(&r);
	it_memgate(&r, (const char *const[]){"measure", "--timeout", "0s", "--", "true", NULL});
	assert_int_equal(r.status, 2);
	it_free(&r);
	/* the name goes into the report: one that reads back (report_load.h) */
	static char long_name[258];
	memset(long_name, 'n', 257);
	it_memgate(&r, (const char *const[]){"measure", "--name", long_name, "--", "true", NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "--name: a fixture name has 1 to 256 bytes, got 257");
	it_free(&r);
	/* with --artifacts the name is a file name in DIR: never a path out of it */
	it_memgate(&r, (const char *const[]){"measure", "--artifacts", "/tmp", "--name", "../../etc/x", "--", "true",
					     NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "with --artifacts the name is a file name");
	it_free(&r);
	it_memgate(&r, (const char *const[]){"measure", "--name", "", "--", "true", NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "got 0");
	it_free(&r);
	it_memgate(&r, (const char *const[]){"frobnicate", NULL});
	assert_int_equal(r.status, 2);
	it_free(&r);
}

/* An output that is the config, or two outputs that are one file: refused
 * before anything runs. Before, `--json memgate.json` (the default config's
 * name) replaced the config with the report, and `--junit F --markdown F`
 * kept only the markdown. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strdup(buf);
}

static void outputs_never_replace_the_config_or_each_other(void **state)
{
	(void)state;
	struct it_run r;
	const char *cfg = two_fixtures();
	char *before = slurp(cfg);
	it_memgate(&r, (const char *const[]){"run", "-c", cfg, "--json", cfg, NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "that is the config (-c); writing there would replace it");
	it_free(&r);
	it_memgate(&r, (const char *const[]){"run", "-c", cfg, "--only", "small", "--markdown", cfg, NULL});
	assert_int_equal(r.status, 2);
	it_free(&r);
	it_memgate(&r, (const char *const[]){"tune", "-c", cfg, "--runs", "1", "--json", cfg, NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "that is the config (-c)");
	it_free(&r);
	char *after = slurp(cfg);
	assert_string_equal(before, after);
	free(before);
	free(after);

	char out[64];
	snprintf(out, sizeof out, "/tmp/memgate-it-out-%d.xml", (int)getpid());
	unlink(out);
	it_memgate(&r, (const char *const[]){"run", "-c", cfg, "--only", "small", "--junit", out, "--markdown", out,
					     NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "the same file as --junit");
	assert_int_equal(access(out, F_OK), -1);
	it_free(&r);

	/* a report rendered over itself */
	it_memgate(&r, (const char *const[]){"run", "-c", cfg, "--only", "small", NULL});
	assert_int_equal(r.status, 0);
	char report[64];
	snprintf(report, sizeof report, "/tmp/memgate-it-rep-%d.json", (int)getpid());
	assert_int_equal(json_dump_file(r.report, report, 0), 0);
	char *saved = slurp(report);
	it_free(&r);
	it_memgate(&r, (const char *const[]){"report", "-f", "markdown", report, "-o", report, NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "that is the report read");
	it_free(&r);
	char *now = slurp(report);
	assert_string_equal(saved, now);
	unlink(report);
	free(saved), free(now);
}

/* cwd, env and stdin reach the command */
static void cwd_env_stdin(void **state)
{
	(void)state;
	char in[64];
	snprintf(in, sizeof in, "/tmp/memgate-it-stdin-%d", (int)getpid());
	FILE *f = fopen(in, "w");
	assert_non_null(f);
	fputs("hello\n", f);
	fclose(f);
	it_config("%s", fmt("{\"version\": 1, \"fixtures\": [{\"name\": \"ctx\", \"cwd\": \"/tmp\",\n"
			 " \"env\": {\"MG_X\": \"42\"}, \"stdin\": \"%s\",\n"
			 " \"command\": [\"sh\", \"-c\", \"read l && test \\\"$l\\\" = hello && test \\\"$MG_X\\\" = 42 "
			 "&& test \\\"$(pwd)\\\" = /tmp\"]}]}",
			 in));
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	unlink(in);
	assert_int_equal(r.status, 0);
	assert_int_equal(it_int(r.report, "fixtures.0.exit.code"), 0);
	it_free(&r);
}

/* stdin a FIFO that nobody writes: the child blocks in open() before exec,
 * where no timeout ran, and memgate waited for its exec forever. Now the
 * fixture's timeout bounds the start too: an error, and nothing left. */
static void stdin_fifo_nobody_writes(void **state)
{
	(void)state;
	char in[64];
	snprintf(in, sizeof in, "/tmp/memgate-it-fifo-%d", (int)getpid());
	unlink(in);
	assert_int_equal(mkfifo(in, 0600), 0);
	it_config("%s", fmt("{\"version\": 1, \"fixtures\": [{\"name\": \"fifo\", \"stdin\": \"%s\","
			 " \"timeout\": \"%ldms\", \"command\": [\"cat\"]}]}", in, it_ms(1000)));
	struct it_run r;
	it_start(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	long deadline = it_ms(15000);
	int st;
	for (long waited = 0; waitpid(r.pid, &st, WNOHANG) == 0; waited += 50) {
		if (waited > deadline) {
			kill(r.pid, SIGKILL);
			it_wait(&r);
			unlink(in);
			fail_msg("memgate still waits for a command whose stdin is a FIFO nobody writes");
		}
		it_sleep_ms(50);
	}
	/* reaped above: it_wait's waitpid would fail, so read what it reads here */
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	FILE *e = fopen(r.err_path, "r");
	if (e) {
		size_t n = fread(r.err, 1, sizeof r.err - 1, e);
		r.err[n] = '\0';
		fclose(e);
	}
	unlink(r.err_path);
	r.report = json_load_file(r.json_path, 0, NULL);
	unlink(r.json_path);
	unlink(in);
	assert_int_equal(r.status, 3);
	assert_non_null(r.report);
	assert_string_equal(it_str(r.report, "fixtures.0.verdict"), "error");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "did not start within");
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

/* SIGTERM to memgate alone while the command is blocked before exec (its
 * stdin a FIFO nobody writes): memgate waited on for the start, the
 * signal unread. Now it stops at once, exit 143, interrupted_by. */
static void interrupt_while_blocked_before_exec(void **state)
{
	(void)state;
	char in[64];
	snprintf(in, sizeof in, "/tmp/memgate-it-fifo2-%d", (int)getpid());
	unlink(in);
	assert_int_equal(mkfifo(in, 0600), 0);
	it_config("%s", fmt("{\"version\": 1, \"fixtures\": [{\"name\": \"fifo\", \"stdin\": \"%s\","
			 " \"timeout\": \"60s\", \"command\": [\"cat\"]}, {\"name\": \"next\", \"command\": [\"true\"]}]}",
			 in));
	struct it_run r;
	it_start(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	it_sleep_ms(500);
	assert_int_equal(kill(r.pid, SIGTERM), 0);
	int st;
	long waited = 0;
	while (waitpid(r.pid, &st, WNOHANG) == 0) {
		if (waited > it_ms(10000)) {
			kill(r.pid, SIGKILL);
			it_wait(&r);
			unlink(in);
			fail_msg("memgate ignored SIGTERM while its command was blocked before exec");
		}
		it_sleep_ms(20);
		waited += 20;
	}
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	unlink(r.err_path);
	r.report = json_load_file(r.json_path, 0, NULL);
	unlink(r.json_path);
	unlink(in);
	assert_int_equal(r.status, 143);
	assert_non_null(r.report);
	assert_string_equal(it_str(r.report, "interrupted_by"), "SIGTERM");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "interrupted by SIGTERM before the command started");
	assert_contains(it_str(r.report, "fixtures.1.reasons.0"), "not run");
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

/* memgate SIGKILLed while its command is blocked before exec: the child, a
 * fork of memgate until it execs, held the watchdog's pipe open, so the
 * watchdog never saw memgate die; child, watchdog and cgroup stayed
 * forever. Now the child lets go of the pipe first thing. */
static void sigkill_while_blocked_before_exec(void **state)
{
	(void)state;
	char in[64];
	snprintf(in, sizeof in, "/tmp/memgate-it-fifo3-%d", (int)getpid());
	unlink(in);
	assert_int_equal(mkfifo(in, 0600), 0);
	it_config("%s", fmt("{\"version\": 1, \"fixtures\": [{\"name\": \"fifo\", \"stdin\": \"%s\","
			 " \"timeout\": \"60s\", \"command\": [\"cat\"]}]}", in));
	struct it_run r;
	it_start(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	it_sleep_ms(500);
	assert_int_equal(kill(r.pid, SIGKILL), 0);
	it_wait(&r);
	assert_int_equal(r.status, 128 + SIGKILL);
	/* the watchdog's own work: kill the tree, remove the cgroup */
	char dir[PATH_MAX], pattern[PATH_MAX + 64];
	bool left = true;
	for (long waited = 0; waited < it_ms(5000) && left; waited += 100) {
		it_sleep_ms(100);
		left = false;
		for (int v2 = 0; v2 < 2; v2++) {
			glob_t g;
			if (!it_cgroup_dir(v2, dir, sizeof dir))
				continue;
			snprintf(pattern, sizeof pattern, "%s/memgate-%d-*", dir, (int)r.pid);
			if (glob(pattern, 0, NULL, &g) == 0)
				left = true;
			globfree(&g);
		}
	}
	if (left) { /* free what is stuck before failing: the child, then the watchdog sees EOF */
		for (int v2 = 0; v2 < 2; v2++) {
			glob_t g;
			if (!it_cgroup_dir(v2, dir, sizeof dir))
				continue;
			snprintf(pattern, sizeof pattern, "%s/memgate-%d-*/cgroup.procs", dir, (int)r.pid);
			if (glob(pattern, 0, NULL, &g) == 0) {
				for (size_t i = 0; i < g.gl_pathc; i++) {
					FILE *f = fopen(g.gl_pathv[i], "r");
					int pid;
					while (f && fscanf(f, "%d", &pid) == 1)
						kill(pid, SIGKILL);
					if (f)
						fclose(f);
				}
			}
			globfree(&g);
		}
	}
	unlink(in);
	if (left)
		fail_msg("memgate SIGKILLed while its command was blocked before exec: the cgroup and the "
			 "command outlived it (the watchdog never saw memgate die)");
	it_free(&r);
}

/* SIGINT during the first fixture: it is killed, the second is not run. */
static void interrupt_skips_the_rest(void **state)
{
	(void)state;
	const char *w = it_workload_path();
	it_config("%s", fmt("{\"version\": 1, \"fixtures\": [\n"
			 " {\"name\": \"long\", \"command\": [\"%s\", \"hold\", \"8\", \"30000\"]},\n"
			 " {\"name\": \"after\", \"command\": [\"%s\", \"exit\", \"0\"]}]}", w, w));
	struct it_run r;
	it_start(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	it_sleep_ms(400);
	kill(r.pid, SIGINT);
	it_wait(&r);
	assert_int_equal(r.status, 130);
	assert_string_equal(it_str(r.report, "verdict"), "error");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "interrupted by SIGINT");
	assert_string_equal(it_str(r.report, "fixtures.1.verdict"), "error");
	assert_contains(it_str(r.report, "fixtures.1.reasons.0"), "not run");
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

/* A limit on a figure the backend cannot give is an error, never a pass. */
static void unmeasurable_limit_is_error(void **state)
{
	(void)state;
	struct it_run r;
	it_memgate(&r, (const char *const[]){"measure", "--measurement", "proc", "--limit", "cgroup=1GiB", "--",
					    it_workload_path(), "exit", "0", NULL});
	assert_int_equal(r.status, 3);
	assert_string_equal(it_str(r.report, "fixtures.0.verdict"), "error");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "cannot be checked");
	it_free(&r);
	/* a growth limit over a handful of samples (every 200 ms for 0.4 s: 3
	 * steady points, a line of noise that passed or failed by chance) */
	it_memgate(&r, (const char *const[]){"measure", "--interval", "200ms", "--limit", "growth=1MiB/s", "--",
					    it_workload_path(), "hold", "4", "400", NULL});
	assert_int_equal(r.status, 3);
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "too few steady samples to fit a slope (at least 10");
	it_free(&r);
	/* 30 MiB touched and gone within a tick or two: PSS, sampled, read it
	 * low and a 20 MiB pss limit passed. Never a pass now: a fail when a
	 * read saw it (a slow machine), else an error saying why */
	it_memgate(&r, (const char *const[]){"measure", "--limit", "pss=20MiB", "--", it_workload_path(), "hold", "30",
					    "0", NULL});
	if (r.status != 1) {
		assert_int_equal(r.status, 3);
		assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "only between reads of PSS");
	}
	it_free(&r);
	if (it_have_v1()) { /* the same for the cgroup's anon, from memory.stat */
		it_memgate(&r, (const char *const[]){"measure", "--limit", "cgroup_anon=20MiB", "--", it_workload_path(),
						    "hold", "30", "0", NULL});
		if (r.status != 1) {
			assert_int_equal(r.status, 3);
			assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "only between reads of memory.stat");
		}
		it_free(&r);
	}
}

/* --post-status with nothing to post with is said before the run, not
 * after it; with --require-post the run does not start (exit 3). */
static void post_settings_checked_before_the_run(void **state)
{
	(void)state;
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"t\", \"command\": [\"true\"]}]}");
	struct it_run r;
	unsetenv("GITHUB_ACTIONS");
	unsetenv("GITLAB_CI");
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), "--post-status", "--require-post", NULL});
	assert_int_equal(r.status, 3);
	assert_contains(r.err, "error: nothing will be posted: cannot tell where to post");
	assert_null(strstr(r.err, "running t"));
	it_free(&r);
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), "--post-status", NULL});
	assert_int_equal(r.status, 0);
	const char *warn = strstr(r.err, "warning: nothing will be posted");
	assert_non_null(warn);
	assert_non_null(strstr(warn, "running t")); /* said first, and the run went on */
	it_free(&r);
}

static bool v2_memory_here(void)
{
	const char *files[] = {"/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/unified/cgroup.controllers"};
	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");
		char line[512] = "";
		if (f) {
			if (!fgets(line, sizeof line, f))
				line[0] = '\0';
			fclose(f);
		}
		if (strstr(line, "memory"))
			return true;
	}
	return false;
}

/* A config that demands cgroup v2 where there is none: exit 3, not a downgrade. */
static void forced_backend_unavailable(void **state)
{
	(void)state;
	if (v2_memory_here())
		skip_because("cgroup v2 with a memory controller is here: nothing is unavailable");
	struct it_run r;
	it_memgate(&r, (const char *const[]){"measure", "--measurement", "cgroup-v2", "--", it_workload_path(),
					    "exit", "0", NULL});
	assert_int_equal(r.status, 3);
	assert_string_equal(it_str(r.report, "fixtures.0.measurement.method"), "cgroup-v2");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "\"cgroup-v2\" is required");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "cgroup v2:");
	assert_int_equal(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), -1);
	it_free(&r);
}

/* Under sudo the cgroup is made as root but the command runs as the user. */
static void sudo_runs_command_as_invoking_user(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip_because("not root: sudo cannot be simulated");
	char out[64];
	snprintf(out, sizeof out, "/tmp/memgate-it-sudo-%d", (int)getpid());
	unlink(out);
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65534", 1);
	struct it_run r;
	it_memgate(&r, (const char *const[]){"measure", "--", "sh", "-c",
					    fmt("echo $(id -u) $(id -g) $(id -G) $HOME > %s", out), NULL});
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	assert_int_equal(r.status, 0);
	assert_contains(it_str(r.report, "fixtures.0.measurement.notes.0"), "uid 65534");
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	char line[256] = "";
	assert_non_null(fgets(line, sizeof line, f));
	fclose(f);
	unlink(out);
	assert_contains(line, "65534 65534 65534 ");
	if (it_have_v1())
		assert_string_equal(it_str(r.report, "fixtures.0.measurement.method"), "cgroup-v1");
	it_free(&r);

	setenv("SUDO_UID", "12ab", 1);
	it_memgate(&r, (const char *const[]){"measure", "--", "true", NULL});
	unsetenv("SUDO_UID");
	assert_int_equal(r.status, 3);
	assert_contains(r.err, "SUDO_UID=\"12ab\" is not a numeric id");
	it_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(run_judges_each_fixture),
		cmocka_unit_test(only_selects),
		cmocka_unit_test(validate_good_and_bad),
		cmocka_unit_test(validate_refuses_explosive_regex),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(outputs_never_replace_the_config_or_each_other),
		cmocka_unit_test(cwd_env_stdin),
		cmocka_unit_test(stdin_fifo_nobody_writes),
		cmocka_unit_test(interrupt_while_blocked_before_exec),
		cmocka_unit_test(sigkill_while_blocked_before_exec),
		cmocka_unit_test(interrupt_skips_the_rest),
		cmocka_unit_test(unmeasurable_limit_is_error),
		cmocka_unit_test(post_settings_checked_before_the_run),
		cmocka_unit_test(forced_backend_unavailable),
		cmocka_unit_test(sudo_runs_command_as_invoking_user),
	};
	return cmocka_run_group_tests_name("run (integration)", tests, NULL, it_config_cleanup);
}
