/* memgate doctor on this machine: what it says as root and as a plain
 * user must match what a run then does, and it never prints a token. */
#include "itutil.h"

#include <pwd.h>

/* memgate doctor --json FILE [as uid], its exit status and stdout. */
static int doctor(uid_t as, json_t **report, char *out, size_t outlen, pid_t *mgpid)
{
	char path[64], log[64];
	snprintf(path, sizeof path, "/tmp/memgate-it-doctor-%d.json", (int)getpid());
	snprintf(log, sizeof log, "/tmp/memgate-it-doctor-%d.out", (int)getpid());
	unlink(path);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		if (fd < 0 || fchmod(fd, 0666) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(120);
		if (as != geteuid() && (setgid(as) < 0 || setuid(as) < 0))
			_exit(121);
		execl(it_memgate_path(), "memgate", "doctor", "--json", as != 0 ? "/dev/null" : path, (char *)NULL);
		_exit(127);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (mgpid)
		*mgpid = pid;
	FILE *f = fopen(log, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(log);
	json_error_t je;
	*report = as == 0 ? json_load_file(path, 0, &je) : NULL;
	unlink(path);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static json_t *check_named(json_t *report, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(report, "checks"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "name")), name))
			return c;
	fail_msg("doctor has no \"%s\" check", name);
	return NULL;
}

/* As root, where a v1 or v2 memory cgroup can be made: exact, and the
 * backend it names is the one a run then uses. */
static void root_with_a_cgroup_is_exact(void **state)
{
	(void)state;
	if (!it_have_v1() && !it_have_v2())
		skip_because("no cgroup memgate can write here (not root, or no memory controller)");
	json_t *rep;
	char out[8192];
	pid_t mg;
	int rc = doctor(0, &rep, out, sizeof out, &mg);
	assert_int_equal(rc, 0);
	it_assert_no_cgroup_left(mg); /* the cgroup it tried is gone */
	assert_non_null(rep);
	assert_true(json_is_true(json_object_get(rep, "exact")));
	const char *backend = json_string_value(json_object_get(rep, "backend"));
	assert_true(json_is_true(json_object_get(check_named(rep, "measurement"), "ok")));
	assert_contains(out, "exact measurement available");
	/* a run picks the same */
	struct it_run r;
	it_memgate(&r, (const char *const[]){"measure", "--", it_workload_path(), "hold", "1", "10", NULL});
	assert_non_null(r.report);
	assert_string_equal(it_str(r.report, "fixtures.0.measurement.method"), backend);
	it_free(&r);
	json_decref(rep);
}

/* As a plain user here: only /proc, exit 1, and each "no" has its fix. */
static void plain_user_gets_proc_and_fixes(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip_because("not root: cannot become another user to compare");
	json_t *rep;
	char out[8192];
	int rc = doctor(65534, &rep, out, sizeof out, NULL);
	if (rc == 0)
		skip_because("nobody (uid 65534) may make a memory cgroup here: nothing to compare");
	assert_int_equal(rc, 1);
	assert_contains(out, "only sampled measurement available (proc)");
	assert_contains(out, "fix: run through sudo");
	assert_contains(out, "uid 65534; fixtures run as you");
}

/* Under GitHub Actions with a token: names only, never the value. */
static void never_prints_a_token(void **state)
{
	(void)state;
	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_TOKEN", "ghp_doctor_secret_3f9a", 1);
	setenv("GITHUB_REPOSITORY", "o/r", 1);
	unsetenv("GITHUB_SHA");
	json_t *rep = NULL;
	char out[8192];
	int rc = doctor(geteuid(), &rep, out, sizeof out, NULL);
	unsetenv("GITHUB_ACTIONS");
	unsetenv("GITHUB_TOKEN");
	unsetenv("GITHUB_REPOSITORY");
	assert_true(rc == 0 || rc == 1);
	assert_null(strstr(out, "ghp_doctor_secret"));
	assert_contains(out, "not set: GITHUB_SHA");
	json_decref(rep);
}

static void usage(void **state)
{
	(void)state;
	struct it_run r;
	it_memgate(&r, (const char *const[]){"doctor", "--bogus", NULL});
	assert_int_equal(r.status, 2);
	it_free(&r);
	it_memgate(&r, (const char *const[]){"doctor", "--json", "/nonexistent-memgate/d.json", NULL});
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "/nonexistent-memgate does not exist");
	it_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(root_with_a_cgroup_is_exact),
		cmocka_unit_test(plain_user_gets_proc_and_fixes),
		cmocka_unit_test(never_prints_a_token),
		cmocka_unit_test(usage),
	};
	return cmocka_run_group_tests_name("doctor (integration)", tests, NULL, NULL);
}
