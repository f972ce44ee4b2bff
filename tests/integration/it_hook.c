/* The pre-push hook with real git: a work repository pushing to a bare one. */
#include "itutil.h"

static char base[64];

static char *log_text(void)
{
	static char buf[8192];
	char path[128];
	snprintf(path, sizeof path, "%s/log", base);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Run a shell command in the work repo; its exit status. Output to log. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096], full[4600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "cd %s/work && (%s) >%s/log 2>&1", base, cmd, base);
	int st = system(full);
	if (getenv("IT_DEBUG"))
		fprintf(stderr, "$ %s\n%s\n", cmd, log_text());
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static const char *abs_path(const char *rel)
{
	static char buf[PATH_MAX];
	if (rel[0] == '/')
		return rel;
	assert_non_null(getcwd(buf, sizeof buf - strlen(rel) - 2));
	strcat(buf, "/");
	strcat(buf, rel);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	if (system("git --version >/dev/null 2>&1") != 0)
		return 0; /* tests skip */
	snprintf(base, sizeof base, "/tmp/memgate-it-hook-%d", (int)getpid());
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "rm -rf %s && mkdir -p %s && cd %s && git init -q --bare remote.git && git init -q work && cd work && "
		 "git config user.email t@t && git config user.name t && git remote add origin ../remote.git && "
		 "echo a > a && git add a && git commit -qm a",
		 base, base, base);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", base);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_gate(const char *limit)
{
	char path[128];
	snprintf(path, sizeof path, "%s/work/memgate.json", base);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"version\": 1, \"fixtures\": [{\"name\": \"hold\", \"command\": [\"%s\", \"hold\", \"32\", \"50\"], "
		   "\"limits\": {\"tree_rss\": \"%s\"}}]}\n", abs_path(it_workload_path()), limit);
	assert_int_equal(fclose(f), 0);
}

static void blocks_and_lets_through(void **state)
{
	(void)state;
	if (system("git --version >/dev/null 2>&1") != 0)
		skip_because("git is not installed (apt-get install git)");
	char mg[PATH_MAX];
	snprintf(mg, sizeof mg, "%s", abs_path(it_memgate_path())); /* abs_path's buffer is reused */
	write_gate("16MiB"); /* 32 MiB held: over */
	assert_int_equal(sh("%s hook install -c memgate.json", mg), 0);
	assert_contains(log_text(), "installed");
	assert_int_equal(sh("git push -q origin HEAD:main"), 1);
	assert_contains(log_text(), "memgate: push blocked: a fixture is over its memory limit or failed");
	assert_contains(log_text(), "git push --no-verify");
	assert_contains(log_text(), "tree_rss"); /* memgate's own summary is shown too */
	assert_int_equal(sh("git push -q --no-verify origin HEAD:main"), 0);

	write_gate("64MiB");
	assert_int_equal(sh("echo b > b && git add b && git commit -qm b && git push -q origin HEAD:main"), 0);
	assert_int_equal(sh("git --git-dir=../remote.git log --oneline main | wc -l | grep -qx 2"), 0);

	assert_int_equal(sh("%s hook uninstall", mg), 0);
	assert_int_equal(sh("test ! -e .git/hooks/pre-push"), 0);
}

static void foreign_hooks_are_respected(void **state)
{
	(void)state;
	if (system("git --version >/dev/null 2>&1") != 0)
		skip_because("git is not installed (apt-get install git)");
	char mg[PATH_MAX];
	snprintf(mg, sizeof mg, "%s", abs_path(it_memgate_path())); /* abs_path's buffer is reused */
	write_gate("64MiB");
	assert_int_equal(sh("printf '#!/bin/sh\\nexit 0\\n' > .git/hooks/pre-push && chmod +x .git/hooks/pre-push"), 0);
	assert_int_equal(sh("%s hook install -c memgate.json", mg), 2);
	assert_contains(log_text(), "not written by memgate");
	assert_int_equal(sh("%s hook uninstall", mg), 2);
	assert_int_equal(sh("test -e .git/hooks/pre-push"), 0); /* left alone */
	assert_int_equal(sh("%s hook install -c memgate.json --force", mg), 0);
	assert_int_equal(sh("grep -q 'memgate-hook v1' .git/hooks/pre-push"), 0);
	/* a config that does not load is refused: it would block every push */
	assert_int_equal(sh("echo '{' > bad.json && %s hook install -c bad.json", mg), 2);
	assert_contains(log_text(), "bad.json:");
	assert_int_equal(sh("%s hook uninstall", mg), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocks_and_lets_through),
		cmocka_unit_test(foreign_hooks_are_respected),
	};
	return cmocka_run_group_tests_name("hook (integration)", tests, setup, teardown);
}
