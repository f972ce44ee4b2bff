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
	it_memgate(&r, (const char *const[]){"measure", "--name", "", "--", "true", NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "got 0");
	it_free(&r);
	it_memgate(&r, (const char *const[]){"frobnicate", NULL});
	assert_int_equal(r.status, 2);
	it_free(&r);
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

/* stdin a FIFO nobody writes to: the child's open waited for a writer,
 * memgate waited for the child before the 2 s timeout even started, and
 * the run hung for ever. Now: refused at once, naming the path and what
 * to give instead (exit 3, the fixture did not start). */
static void a_fifo_as_stdin_is_refused(void **state)
{
	(void)state;
	char in[64];
	snprintf(in, sizeof in, "/tmp/memgate-it-fifo-%d", (int)getpid());
	unlink(in);
	assert_int_equal(mkfifo(in, 0600), 0);
	it_config("%s", fmt("{\"version\": 1, \"fixtures\": [{\"name\": \"fifo\", \"stdin\": \"%s\", "
			 "\"timeout\": \"2s\", \"command\": [\"cat\"]}]}", in));
	struct it_run r;
	it_start(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	bool ended = it_wait_at_most(&r, it_ms(20000));
	unlink(in);
	if (!ended)
		fail_msg("memgate hung on a FIFO as stdin (killed after 20 s)");
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(r.err, in));
	assert_non_null(strstr(r.err, "is a FIFO"));
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
		cmocka_unit_test(cwd_env_stdin),
		cmocka_unit_test(a_fifo_as_stdin_is_refused),
		cmocka_unit_test(interrupt_skips_the_rest),
		cmocka_unit_test(unmeasurable_limit_is_error),
		cmocka_unit_test(forced_backend_unavailable),
		cmocka_unit_test(sudo_runs_command_as_invoking_user),
	};
	return cmocka_run_group_tests_name("run (integration)", tests, NULL, it_config_cleanup);
}
