/* Verdicts: pass only when measured and within every limit. */
#include "testutil.h"

#include "cmd/cmd.h"
#include "verdict.h"

#define MiB (1024LL * 1024)

static void setup_pair(struct mg_fixture *f, struct mg_result *r)
{
	mg_fixture_init(f);
	mg_result_init(r);
	r->started = true;
	r->exited = true;
	r->exit_code = 0;
	r->method = MG_METHOD_CGROUP_V1;
	r->tree_rss_bytes = 100 * MiB;
	r->max_process_hwm_bytes = 60 * MiB;
	r->cgroup_bytes = 110 * MiB;
}

static void within_limits_passes(void **state)
{
	(void)state;
	struct mg_fixture f;
	struct mg_result r;
	struct mg_judgement j;
	setup_pair(&f, &r);
	f.limits[MG_METRIC_TREE_RSS] = 100 * MiB; /* equal is within */
	f.limits[MG_METRIC_CGROUP] = 200 * MiB;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_PASS);
	assert_int_equal(j.nreasons, 0);
	assert_int_equal(j.nchecks, 2);
	assert_true(j.checks[0].ok && j.checks[1].ok);
	assert_int_equal(j.checks[0].value_bytes, 100 * MiB);
	assert_int_equal(mg_exit_status(j.verdict, 0), 0);
}

static void one_byte_over_fails(void **state)
{
	(void)state;
	struct mg_fixture f;
	struct mg_result r;
	struct mg_judgement j;
	setup_pair(&f, &r);
	f.limits[MG_METRIC_TREE_RSS] = 100 * MiB - 1;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_FAIL);
	assert_false(j.checks[0].ok);
	assert_string_equal(j.reasons[0], "tree_rss 100.0 MiB > limit 100.0 MiB");
	assert_int_equal(mg_exit_status(j.verdict, 0), 1);
}

static void unmeasured_limit_is_an_error(void **state)
{
	(void)state;
	struct mg_fixture f;
	struct mg_result r;
	struct mg_judgement j;
	setup_pair(&f, &r);
	r.method = MG_METHOD_PROC;
	r.cgroup_bytes = MG_UNKNOWN;
	snprintf(r.fallback_reason, sizeof r.fallback_reason, "cgroup v1 root not writable: EACCES");
	f.limits[MG_METRIC_CGROUP] = 1024 * MiB;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_ERROR);
	assert_contains(j.reasons[0], "cgroup limit 1024.0 MiB cannot be checked");
	assert_contains(j.reasons[0], "EACCES");
	assert_false(j.checks[0].ok);
	assert_int_equal(mg_exit_status(j.verdict, 0), 3);
}

static void exit_faults_fail(void **state)
{
	(void)state;
	struct mg_fixture f;
	struct mg_result r;
	struct mg_judgement j;
	setup_pair(&f, &r);
	r.exit_code = 2;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_FAIL);
	assert_string_equal(j.reasons[0], "exited with code 2");

	setup_pair(&f, &r);
	r.exited = false;
	r.signal = 11;
	mg_judge(&f, &r, &j);
	assert_string_equal(j.reasons[0], "killed by signal 11 (SIGSEGV)");

	setup_pair(&f, &r);
	r.exited = false;
	r.signal = 9;
	r.timed_out = true;
	f.timeout_ms = 1500;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.nreasons, 1); /* the timeout explains the SIGKILL */
	assert_string_equal(j.reasons[0], "timed out after 1.50 s: the tree was killed");

	setup_pair(&f, &r);
	r.exited = false;
	r.signal = 9;
	r.oom_killed = true;
	f.kill_above = 64 * MiB;
	mg_judge(&f, &r, &j);
	assert_string_equal(j.reasons[0], "OOM-killed: the tree reached kill_above 64.0 MiB");
}

static void error_dominates(void **state)
{
	(void)state;
	struct mg_fixture f;
	struct mg_result r;
	struct mg_judgement j;
	setup_pair(&f, &r);
	r.exit_code = 1;
	snprintf(r.error, sizeof r.error, "/proc/7/status: malformed VmRSS line");
	f.limits[MG_METRIC_TREE_RSS] = 1;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_ERROR);
	assert_string_equal(j.reasons[0], "/proc/7/status: malformed VmRSS line");
	assert_int_equal(mg_verdict_worst(MG_VERDICT_FAIL, MG_VERDICT_ERROR), MG_VERDICT_ERROR);
	assert_int_equal(mg_verdict_worst(MG_VERDICT_PASS, MG_VERDICT_FAIL), MG_VERDICT_FAIL);
}

static void interrupted_exit_status(void **state)
{
	(void)state;
	assert_int_equal(mg_exit_status(MG_VERDICT_ERROR, 2), 130);
	assert_int_equal(mg_exit_status(MG_VERDICT_PASS, 15), 143);
	assert_string_equal(mg_verdict_name(MG_VERDICT_ERROR), "error");
}

/* Every signal memgate takes as an interruption (supervise.c: SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT) gives 128 + its number, and that status is
 * documented where users look: README's "Exit status" table, the man page
 * and --help. */
static void interrupted_exit_status_documented(void **state)
{
	(void)state;
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	char *readme = tu_read_data("../../README.md");
	char *man = tu_read_data("../../memgate.1");
	char *table = strstr(readme, "### Exit status");
	assert_non_null(table);
	char *end = strstr(table + 4, "\n## ");
	if (end)
		*end = '\0';
	char *exit_man = strstr(man, ".SH EXIT STATUS");
	assert_non_null(exit_man);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		char code[16], name[16];
		snprintf(code, sizeof code, "%d", mg_exit_status(MG_VERDICT_PASS, sigs[i]));
		assert_int_equal(mg_exit_status(MG_VERDICT_FAIL, sigs[i]), 128 + sigs[i]);
		snprintf(name, sizeof name, "SIG%s", sigabbrev_np(sigs[i]));
		const char *docs[] = {table, exit_man, mg_usage_text};
		for (size_t d = 0; d < 3; d++) {
			assert_contains(docs[d], code);
			assert_contains(docs[d], name);
		}
	}
	free(readme);
	free(man);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(within_limits_passes),
		cmocka_unit_test(one_byte_over_fails),
		cmocka_unit_test(unmeasured_limit_is_an_error),
		cmocka_unit_test(exit_faults_fail),
		cmocka_unit_test(error_dominates),
		cmocka_unit_test(interrupted_exit_status),
		cmocka_unit_test(interrupted_exit_status_documented),
	};
	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
