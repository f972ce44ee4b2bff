/* Python heap attribution end to end: tracemalloc injected into the measured
 * run, memray as a second run (a test double of its CLI stands in: memray
 * cannot be installed here), and memray missing. Needs python3 on PATH. */
#include "itutil.h"

static bool have_python(void)
{
	return system("python3 -c 'import tracemalloc' >/dev/null 2>&1") == 0;
}

static void write_config(const char *python_obj, const char *limits)
{
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"grow\", \"command\": [\"python3\", "
		  "\"tests/data/py/grow.py\"], \"python\": %s, \"limits\": %s}]}\n", python_obj, limits);
}

/* The line that allocates, from the source itself (never a hard-coded number). */
static int growth_line(void)
{
	FILE *f = fopen("tests/data/py/grow.py", "r");
	assert_non_null(f);
	char line[256];
	for (int n = 1; fgets(line, sizeof line, f); n++)
		if (strstr(line, "GROWTH-LINE")) {
			fclose(f);
			return n;
		}
	fclose(f);
	fail_msg("no GROWTH-LINE marker");
	return 0;
}

static void tracemalloc_names_the_line(void **state)
{
	(void)state;
	if (!have_python())
		skip_because("python3 is not installed");
	write_config("{\"heap\": \"tracemalloc\", \"top\": 3}", "{\"python_heap\": \"4MiB\"}");
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	assert_non_null(r.report);
	assert_int_equal(r.status, 1); /* 10 MiB kept > 4 MiB */
	assert_string_equal(it_str(r.report, "fixtures.0.python_heap.tool"), "tracemalloc");
	char want[64];
	snprintf(want, sizeof want, "tests/data/py/grow.py:%d", growth_line());
	assert_string_equal(it_str(r.report, "fixtures.0.python_heap.top.0.location"), want);
	assert_between(it_int(r.report, "fixtures.0.python_heap.top.0.size_bytes"), 10 * MiB, 10 * MiB + MiB / 2);
	assert_between(it_int(r.report, "fixtures.0.python_heap.top.0.count"), 40, 120); /* object + buffer */
	assert_true(json_array_size(it_get(r.report, "fixtures.0.python_heap.top")) <= 3);
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "python_heap");
	assert_contains(r.err, want); /* the failing fixture lists its top sites */
	it_free(&r);
}

static void memray_missing_is_an_error_unless_optional(void **state)
{
	(void)state;
	if (!have_python() || system("python3 -c 'import memray' >/dev/null 2>&1") == 0)
		skip_because("a real memray is importable by python3: nothing is missing");
	write_config("{\"heap\": \"memray\"}", "{}");
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	assert_int_equal(r.status, 3);
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "memray is not installed");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "pip install memray");
	it_free(&r);

	write_config("{\"heap\": \"memray\", \"optional\": true}", "{}");
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	assert_int_equal(r.status, 0);
	assert_contains(it_str(r.report, "fixtures.0.measurement.notes.0"), "skipped");
	assert_true(json_is_null(it_get(r.report, "fixtures.0.python_heap")));
	it_free(&r);
}

/* With memray importable (the test double), the attribution comes from a
 * second run and the real stats file memray 1.20.0 wrote. */
static void memray_second_run(void **state)
{
	(void)state;
	if (!have_python())
		skip_because("python3 is not installed");
	char pp[PATH_MAX];
	assert_non_null(getcwd(pp, sizeof pp - 16));
	strcat(pp, "/tests/fakes");
	setenv("PYTHONPATH", pp, 1);
	write_config("{\"heap\": \"memray\", \"top\": 5}", "{\"python_heap\": \"1GiB\"}");
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	unsetenv("PYTHONPATH");
	assert_non_null(r.report);
	assert_int_equal(r.status, 0);
	assert_string_equal(it_str(r.report, "fixtures.0.python_heap.tool"), "memray");
	assert_int_equal(it_int(r.report, "fixtures.0.python_heap.peak_bytes"), 73916894);
	assert_int_equal(it_int(r.report, "fixtures.0.limits.0.value_bytes"), 73916894);
	assert_contains(it_str(r.report, "fixtures.0.measurement.notes.0"), "second run under memray");
	/* RSS comes from the run without memray: the script's 10 MiB plus the interpreter */
	assert_between(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), 10 * MiB, 60 * MiB);
	it_free(&r);
}

/* Under sudo, memray (the probe, the run, the stats) runs as the invoking
 * user, never as root, and its files are the user's. */
static void memray_runs_as_the_invoking_user(void **state)
{
	(void)state;
	if (!have_python() || geteuid() != 0)
		skip_because("python3 missing, or not root (switching users needs root)");
	if (!it_uid_can_reach(65534, "tests/fakes/memray/__init__.py"))
		skip_because("uid 65534 cannot read this tree (a directory only root may enter)");
	char pp[PATH_MAX], log[64];
	assert_non_null(getcwd(pp, sizeof pp - 16));
	strcat(pp, "/tests/fakes");
	snprintf(log, sizeof log, "/tmp/memgate-it-memray-uid-%d", (int)getpid());
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	assert_true(fd >= 0 && fchmod(fd, 0666) == 0);
	close(fd);
	setenv("PYTHONPATH", pp, 1);
	setenv("MEMRAY_FAKE_UID_LOG", log, 1);
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65534", 1);
	write_config("{\"heap\": \"memray\", \"top\": 5}", "{\"python_heap\": \"1GiB\"}");
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	unsetenv("PYTHONPATH");
	unsetenv("MEMRAY_FAKE_UID_LOG");
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	if (!r.report)
		fail_msg("no report; exit %d; stderr:\n%s", r.status, r.err);
	assert_int_equal(r.status, 0);
	assert_string_equal(it_str(r.report, "fixtures.0.python_heap.tool"), "memray");
	FILE *f = fopen(log, "r");
	assert_non_null(f);
	char line[64];
	int lines = 0;
	while (fgets(line, sizeof line, f)) {
		assert_string_equal(line, "65534\n");
		lines++;
	}
	fclose(f);
	unlink(log);
	assert_true(lines >= 3); /* the probe, the run, the stats */
	it_free(&r);
}

static void not_python_is_noted(void **state)
{
	(void)state;
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"c\", \"command\": [\"%s\", \"exit\", \"0\"], "
		  "\"python\": {\"heap\": \"tracemalloc\"}}]}", it_workload_path());
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	assert_int_equal(r.status, 0);
	assert_contains(it_str(r.report, "fixtures.0.measurement.notes.0"), "a Python program?");
	it_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tracemalloc_names_the_line),
		cmocka_unit_test(memray_missing_is_an_error_unless_optional),
		cmocka_unit_test(memray_second_run),
		cmocka_unit_test(memray_runs_as_the_invoking_user),
		cmocka_unit_test(not_python_is_noted),
	};
	return cmocka_run_group_tests_name("python heap (integration)", tests, NULL, it_config_cleanup);
}
