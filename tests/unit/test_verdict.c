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

static struct mg_phase_limits pl(const char *match, enum mg_metric m, int64_t bytes)
{
	struct mg_phase_limits l = {.match = (char *)match};
	for (int i = 0; i < MG_METRIC_COUNT; i++)
		l.limits[i] = MG_NO_LIMIT;
	l.limits[m] = bytes;
	return l;
}

/* A phase's limit per metric: the entry naming it exactly, else the
 * tightest glob (order never matters); test ids with [] are names. */
static void phase_limit_choice(void **state)
{
	(void)state;
	struct mg_fixture f;
	struct mg_result r;
	setup_pair(&f, &r);
	struct mg_phase_limits lims[] = {
		pl("t.py::*", MG_METRIC_MAX_PROCESS_HWM, 100 * MiB),
		pl("t.py::test_a[1]", MG_METRIC_MAX_PROCESS_HWM, 300 * MiB),
		pl("t.py::test_*", MG_METRIC_MAX_PROCESS_HWM, 50 * MiB),
		pl("startup", MG_METRIC_CGROUP, 10 * MiB),
	};
	f.phase_limits = lims;
	f.nphase_limits = 4;
	struct mg_phase p = {.name = "t.py::test_a[1]", .max_process_hwm_bytes = 200 * MiB, .cgroup_bytes = 1,
			     .tree_rss_bytes = MG_UNKNOWN, .exact = true};
	struct mg_check checks[MG_METRIC_COUNT];
	int n;
	assert_int_equal(mg_judge_phase(&f, &p, checks, &n), MG_VERDICT_PASS); /* the exact name: 300 MiB */
	assert_int_equal(n, 1);
	assert_int_equal(checks[0].limit_bytes, 300 * MiB);
	snprintf(p.name, sizeof p.name, "t.py::test_b");
	assert_int_equal(mg_judge_phase(&f, &p, checks, &n), MG_VERDICT_FAIL); /* the tightest glob: 50 MiB */
	assert_int_equal(checks[0].limit_bytes, 50 * MiB);
	snprintf(p.name, sizeof p.name, "other");
	assert_int_equal(mg_judge_phase(&f, &p, checks, &n), MG_VERDICT_PASS);
	assert_int_equal(n, 0);

	/* in the fixture's judgement: failures named, the worst first; a
	 * figure not measured for the phase is an error, never a pass */
	struct mg_phase phases[] = {
		{.name = "t.py::test_b", .max_process_hwm_bytes = 60 * MiB, .exact = true},
		{.name = "t.py::test_c", .max_process_hwm_bytes = 90 * MiB, .exact = false},
		{.name = "startup", .cgroup_bytes = MG_UNKNOWN},
	};
	r.phases = phases;
	r.nphases = 3;
	struct mg_judgement j;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_ERROR);
	assert_int_equal(j.nreasons, 3);
	assert_non_null(strstr(j.reasons[0], "phase startup: cgroup limit 10.0 MiB cannot be checked"));
	assert_non_null(strstr(j.reasons[1], "phase t.py::test_c: max_process_hwm 90.0 MiB > limit 50.0 MiB (sampled)"));
	assert_non_null(strstr(j.reasons[2], "phase t.py::test_b: max_process_hwm 60.0 MiB > limit 50.0 MiB"));
	r.phases = NULL;
	r.nphases = 0;
}

/* A phase_limits entry that no phase of the run matched (a typo, a glob
 * for pytest's tests without the plugin): its limits were never checked,
 * and the gate passed as if they were met. Now an error, only when the
 * run would otherwise pass. */
static void unmatched_phase_limit_is_an_error(void **state)
{
	(void)state;
	struct mg_fixture f;
	struct mg_result r;
	setup_pair(&f, &r);
	struct mg_phase_limits lims[] = {
		pl("statup", MG_METRIC_TREE_RSS, 1 * MiB),
		pl("run", MG_METRIC_TREE_RSS, 200 * MiB),
		pl("tests/*::*", MG_METRIC_CGROUP, 1 * MiB),
	};
	f.phase_limits = lims;
	f.nphase_limits = 3;
	struct mg_phase phases[] = {{.name = "run", .tree_rss_bytes = 100 * MiB, .cgroup_bytes = 110 * MiB,
				     .max_process_hwm_bytes = 60 * MiB, .exact = true}};
	r.phases = phases;
	r.nphases = 1;
	struct mg_judgement j;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_ERROR);
	assert_int_equal(j.nreasons, 2);
	assert_string_equal(j.reasons[0], "phase_limits \"statup\": no phase of this run matched it, so its limits "
					  "were not checked (the run's phases: run)");
	assert_non_null(strstr(j.reasons[1], "phase_limits \"tests/*::*\": no phase"));
	/* every entry matched: a pass */
	f.nphase_limits = 2;
	snprintf(phases[0].name, sizeof phases[0].name, "statup");
	struct mg_phase two[] = {phases[0], phases[0]};
	snprintf(two[1].name, sizeof two[1].name, "run");
	r.phases = two;
	r.nphases = 2;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_FAIL); /* statup's 1 MiB */
	lims[0] = pl("statup", MG_METRIC_TREE_RSS, 200 * MiB);
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_PASS);
	/* a failing run is not made an error by it */
	f.nphase_limits = 3;
	r.exit_code = 1;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_FAIL);
	r.phases = NULL;
	r.nphases = 0;
}

/* Hundreds of tests over their limits: the ten worst are named, the rest
 * counted. */
static void many_phase_failures_are_counted(void **state)
{
	(void)state;
	struct mg_fixture f;
	struct mg_result r;
	setup_pair(&f, &r);
	struct mg_phase_limits lims[] = {pl("*", MG_METRIC_MAX_PROCESS_HWM, 10 * MiB)};
	f.phase_limits = lims;
	f.nphase_limits = 1;
	static struct mg_phase phases[400];
	for (int i = 0; i < 400; i++) {
		snprintf(phases[i].name, sizeof phases[i].name, "test_%d", i);
		phases[i].max_process_hwm_bytes = (11 + i % 97) * MiB;
		phases[i].exact = true;
	}
	r.phases = phases;
	r.nphases = 400;
	struct mg_judgement j;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_FAIL);
	assert_int_equal(j.nreasons, 11);
	assert_non_null(strstr(j.reasons[0], "107.0 MiB"));
	assert_non_null(strstr(j.reasons[10], "and 390 more phase limits exceeded"));
	r.phases = NULL;
	r.nphases = 0;
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

/* The heap tool's peak is the figure of both heap and python_heap (its
 * first name); without it each says why it cannot be checked. */
static void heap_limits(void **state)
{
	(void)state;
	struct mg_fixture f;
	struct mg_result r;
	struct mg_judgement j;
	setup_pair(&f, &r);
	f.heap.tool = MG_HEAP_HEAPTRACK;
	r.python_heap_bytes = 40 * MiB;
	f.limits[MG_METRIC_HEAP] = 32 * MiB;
	f.limits[MG_METRIC_PYTHON_HEAP] = 64 * MiB;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_FAIL);
	assert_int_equal(j.nchecks, 2);
	assert_int_equal(j.checks[0].metric, MG_METRIC_PYTHON_HEAP); /* the table's order */
	assert_int_equal(j.checks[0].value_bytes, 40 * MiB);
	assert_true(j.checks[0].ok);
	assert_int_equal(j.checks[1].metric, MG_METRIC_HEAP);
	assert_int_equal(j.checks[1].value_bytes, 40 * MiB);
	assert_false(j.checks[1].ok);
	assert_int_equal(j.nreasons, 1);
	assert_string_equal(j.reasons[0], "heap 40.0 MiB > limit 32.0 MiB");

	/* the tool gave nothing (optional and missing): the notes say why */
	r.python_heap_bytes = MG_UNKNOWN;
	mg_judge(&f, &r, &j);
	assert_int_equal(j.verdict, MG_VERDICT_ERROR);
	assert_string_equal(j.reasons[1], "heap limit 32.0 MiB cannot be checked: the heap tool gave no figure (the "
					  "notes say why)");
	/* no tool at all: each name says what to set */
	f.heap.tool = MG_HEAP_NONE;
	mg_judge(&f, &r, &j);
	assert_string_equal(j.reasons[0], "python_heap limit 64.0 MiB cannot be checked: no Python heap report (set "
					  "\"python\": {\"heap\": \"tracemalloc\"})");
	assert_string_equal(j.reasons[1], "heap limit 32.0 MiB cannot be checked: no heap attribution (set \"heap\": "
					  "{\"tool\": \"tracemalloc\"}, or \"memray\" or \"heaptrack\")");
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
		cmocka_unit_test(heap_limits),
		cmocka_unit_test(phase_limit_choice),
		cmocka_unit_test(unmatched_phase_limit_is_an_error),
		cmocka_unit_test(many_phase_failures_are_counted),
		cmocka_unit_test(one_byte_over_fails),
		cmocka_unit_test(unmeasured_limit_is_an_error),
		cmocka_unit_test(exit_faults_fail),
		cmocka_unit_test(error_dominates),
		cmocka_unit_test(interrupted_exit_status),
		cmocka_unit_test(interrupted_exit_status_documented),
	};
	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
