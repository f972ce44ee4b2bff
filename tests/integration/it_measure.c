/* Integration tests: the real memgate binary measuring real processes of
 * known size (build/workload), in each measurement mode this host offers.
 * Tolerances cover the libc/process baseline only, never the workload. */
#include "itutil.h"

#define RSS_BASE (3 * MiB) /* one small C process: libc, stack, loader */
#define CG_BASE (6 * MiB)  /* + page tables and kernel memory in the cgroup */

struct mode {
	const char *name;  /* --measurement value */
	bool cgroup;
};
static struct mode MODES[] = {{"proc", false}, {"cgroup-v1", true}, {"cgroup-v2", true}};

/* One test case in one mode; skipped where the host lacks the backend. */
struct mode_case {
	struct mode *mode;
	CMUnitTestFunction fn;
};

static void dispatch(void **state)
{
	struct mode_case *c = *state;
	if (!strcmp(c->mode->name, "cgroup-v1") && !it_have_v1())
		skip_because("cgroup v1: not root, or no v1 memory controller here");
	if (!strcmp(c->mode->name, "cgroup-v2") && !it_have_v2())
		skip_because("cgroup v2: no v2 memory controller here (make test-vm boots kernels that have one)");
	void *m = c->mode;
	c->fn(&m);
}

/* memgate measure --measurement MODE [extra...] -- workload ARGS... */
static void measure(struct it_run *r, struct mode *m, const char *const *extra, const char *const *work)
{
	const char *args[48];
	size_t n = 0;
	args[n++] = "measure";
	args[n++] = "--measurement";
	args[n++] = m->name;
	for (size_t i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n++] = "--";
	args[n++] = it_workload_path();
	for (size_t i = 0; work[i]; i++)
		args[n++] = work[i];
	args[n] = NULL;
	it_memgate(r, args);
	if (!r->report)
		fail_msg("no JSON report; exit %d; stderr:\n%s", r->status, r->err);
	assert_string_equal(it_str(r->report, "fixtures.0.measurement.method"), m->name);
}

static void assert_cgroup(struct it_run *r, struct mode *m, long long lo, long long hi)
{
	long long cg = it_int(r->report, "fixtures.0.peak.cgroup_bytes");
	if (m->cgroup)
		assert_between(cg, lo, hi);
	else
		assert_int_equal(cg, -1); /* null: no cgroup, no pretending */
}

static void test_hold(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	char ms[32];
	measure(&r, m, NULL, (const char *const[]){"hold", "64", it_ms_arg(ms, sizeof ms, 300), NULL});
	assert_int_equal(r.status, 0);
	assert_string_equal(it_str(r.report, "verdict"), "pass");
	assert_int_equal(it_int(r.report, "fixtures.0.exit.code"), 0);
	assert_between(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), 64 * MiB, 64 * MiB + RSS_BASE);
	assert_between(it_int(r.report, "fixtures.0.peak.max_process_hwm_bytes"), 64 * MiB, 64 * MiB + RSS_BASE);
	assert_cgroup(&r, m, 64 * MiB, 64 * MiB + CG_BASE);
	assert_between(it_int(r.report, "fixtures.0.measurement.samples"), 10, 1000);
	assert_int_equal(it_int(r.report, "fixtures.0.measurement.interval_ms"), 10);
	assert_true(json_array_size(it_get(r.report, "fixtures.0.series")) >= 10);
	assert_int_equal(it_int(r.report, "fixtures.0.leftover_processes"), 0);
	assert_between(it_int(r.report, "fixtures.0.wall_ms"), it_ms(300), it_ms(5000));
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

static void test_tree(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	char ms[32];
	measure(&r, m, NULL, (const char *const[]){"tree", "4", "16", it_ms_arg(ms, sizeof ms, 300), NULL});
	assert_int_equal(r.status, 0);
	/* four children hold 16 MiB each at the same moment, plus the parent */
	assert_between(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), 64 * MiB, 64 * MiB + 5 * RSS_BASE);
	assert_between(it_int(r.report, "fixtures.0.peak.max_process_hwm_bytes"), 16 * MiB, 16 * MiB + RSS_BASE);
	assert_cgroup(&r, m, 64 * MiB, 64 * MiB + CG_BASE);
	assert_true(json_array_size(it_get(r.report, "fixtures.0.processes")) >= 5);
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

/* A spike between two samples: only the kernel's high-water marks see it. */
static void test_spike(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	char interval[32];
	snprintf(interval, sizeof interval, "%lds", 2 * it_slow());
	measure(&r, m, (const char *const[]){"--interval", interval, NULL},
		(const char *const[]){"spike", "64", "300", NULL});
	assert_int_equal(r.status, 0);
	assert_between(it_int(r.report, "fixtures.0.peak.max_process_hwm_bytes"), 64 * MiB, 64 * MiB + RSS_BASE);
	assert_between(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), 64 * MiB, 64 * MiB + RSS_BASE);
	assert_cgroup(&r, m, 64 * MiB, 64 * MiB + CG_BASE);
	/* two samples (at exec and after exit) never saw the spike itself */
	assert_int_equal(it_int(r.report, "fixtures.0.measurement.samples"), 2);
	json_t *series = it_get(r.report, "fixtures.0.series");
	for (size_t i = 0; i < json_array_size(series); i++)
		assert_true(json_integer_value(json_array_get(json_array_get(series, i), 1)) < 64 * MiB);
	it_free(&r);
}

/* A double-forked daemon outlives the command: measured, counted, killed. */
static void test_daemon(void **state)
{
	struct mode *m = *state;
	char pidfile[64];
	snprintf(pidfile, sizeof pidfile, "/tmp/memgate-it-daemon-%d", (int)getpid());
	unlink(pidfile);
	struct it_run r;
	measure(&r, m, NULL, (const char *const[]){"daemon", "32", pidfile, NULL});
	assert_int_equal(r.status, 0);
	assert_int_equal(it_int(r.report, "fixtures.0.leftover_processes"), 1);
	assert_between(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), 32 * MiB, 32 * MiB + 3 * RSS_BASE);
	assert_cgroup(&r, m, 32 * MiB, 32 * MiB + CG_BASE);
	FILE *f = fopen(pidfile, "r");
	assert_non_null(f);
	int pid = 0;
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	unlink(pidfile);
	assert_true(pid > 0);
	assert_false(it_pid_alive(pid));
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

static void test_crash(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	measure(&r, m, NULL, (const char *const[]){"crash", "8", NULL});
	assert_int_equal(r.status, 1);
	assert_string_equal(it_str(r.report, "fixtures.0.verdict"), "fail");
	assert_int_equal(it_int(r.report, "fixtures.0.exit.signal"), SIGSEGV);
	assert_string_equal(it_str(r.report, "fixtures.0.exit.signal_name"), "SIGSEGV");
	assert_int_equal(it_int(r.report, "fixtures.0.exit.code"), -1);
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "SIGSEGV");
	assert_between(it_int(r.report, "fixtures.0.peak.max_process_hwm_bytes"), 8 * MiB, 8 * MiB + RSS_BASE);
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

static void test_hang_timeout(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	measure(&r, m, (const char *const[]){"--timeout", "300ms", NULL}, (const char *const[]){"hang", NULL});
	assert_int_equal(r.status, 1);
	assert_true(it_bool(r.report, "fixtures.0.exit.timed_out"));
	assert_int_equal(it_int(r.report, "fixtures.0.exit.signal"), SIGKILL);
	assert_between(it_int(r.report, "fixtures.0.wall_ms"), 300, it_ms(5000));
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "timed out after 300 ms");
	long long pid = it_int(r.report, "fixtures.0.processes.0.pid");
	assert_false(it_pid_alive((pid_t)pid));
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

/* The largest timeout the parser takes (INT64_MAX ms): exec time plus it
 * overflowed, and the fixture "timed out" at its first tick. */
static void test_huge_timeout(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	measure(&r, m, (const char *const[]){"--timeout", "9223372036854775807ms", NULL},
		(const char *const[]){"hold", "1", "100", NULL});
	if (r.status != 0)
		fail_msg("exit %d; stderr:\n%s", r.status, r.err);
	assert_false(it_bool(r.report, "fixtures.0.exit.timed_out"));
	assert_int_equal(it_int(r.report, "fixtures.0.exit.code"), 0);
	it_free(&r);
}

/* A fixture that moves itself out of its cgroup (root, or a delegated
 * subtree, may write its pid to another cgroup.procs) takes its memory out
 * of the cgroup's figures: a cgroup limit passed over 64 MiB held outside.
 * Now it is an error, and what left is still killed. */
static void test_leaving_the_cgroup(void **state)
{
	struct mode *m = *state;
	char dir[PATH_MAX], sh[PATH_MAX + 256];
	if (geteuid() != 0)
		skip_because("moving a process into another cgroup needs root");
	if (!it_cgroup_dir(!strcmp(m->name, "cgroup-v2"), dir, sizeof dir))
		skip_because("no other memory cgroup to move into here");
	snprintf(sh, sizeof sh, "echo $$ > %s/cgroup.procs && { %s hold 64 %ld & } ; sleep %ld.5", dir,
		 it_workload_path(), it_ms(4321), it_slow() * 2);
	struct it_run r;
	const char *args[] = {"measure", "--measurement", m->name, "--limit", "cgroup=32MiB", "--", "sh", "-c", sh,
			      NULL};
	it_memgate(&r, args);
	if (!r.report)
		fail_msg("no JSON report; exit %d; stderr:\n%s", r.status, r.err);
	assert_int_equal(r.status, 3);
	assert_string_equal(it_str(r.report, "fixtures.0.verdict"), "error");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "left its cgroup");
	it_sleep_ms(200);
	char pg[96];
	snprintf(pg, sizeof pg, "pgrep -f '[w]orkload hold 64 %ld$' >/dev/null", it_ms(4321));
	if (system(pg) == 0)
		fail_msg("the process that left the cgroup outlived memgate");
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

static void test_exit_code(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	measure(&r, m, NULL, (const char *const[]){"exit", "3", NULL});
	assert_int_equal(r.status, 1);
	assert_int_equal(it_int(r.report, "fixtures.0.exit.code"), 3);
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "exited with code 3");
	it_free(&r);
}

static void test_limit_exceeded(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	char ms[32];
	measure(&r, m, (const char *const[]){"--limit", "tree_rss=32MiB", "--limit", "max_process_hwm=1GiB", NULL},
		(const char *const[]){"hold", "64", it_ms_arg(ms, sizeof ms, 100), NULL});
	assert_int_equal(r.status, 1);
	assert_string_equal(it_str(r.report, "verdict"), "fail");
	assert_string_equal(it_str(r.report, "fixtures.0.limits.0.metric"), "tree_rss");
	assert_int_equal(it_int(r.report, "fixtures.0.limits.0.limit_bytes"), 32 * MiB);
	assert_false(it_bool(r.report, "fixtures.0.limits.0.ok"));
	assert_between(it_int(r.report, "fixtures.0.limits.0.value_bytes"), 64 * MiB, 64 * MiB + RSS_BASE);
	assert_true(it_bool(r.report, "fixtures.0.limits.1.ok"));
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "> limit 32.0 MiB");
	assert_contains(r.err, "FAIL");
	it_free(&r);
}

static void test_kill_above(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	char ms[32];
	measure(&r, m, (const char *const[]){"--kill-above", "64MiB", NULL},
		(const char *const[]){"grow", "16", "512", it_ms_arg(ms, sizeof ms, 30), NULL});
	assert_int_equal(r.status, 1);
	assert_true(it_bool(r.report, "fixtures.0.exit.oom_killed"));
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "OOM-killed");
	if (m->cgroup) /* the kernel enforces the cap: the peak can't pass it */
		assert_between(it_int(r.report, "fixtures.0.peak.cgroup_bytes"), 48 * MiB, 64 * MiB);
	else /* sampled: killed at the first sample above the cap */
		assert_between(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), 64 * MiB, 96 * MiB);
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

static void interrupt_with(struct mode *m, int sig, int want_status, const char *want_name)
{
	struct it_run r;
	const char *args[] = {"measure", "--measurement", m->name, "--", it_workload_path(), "hold", "16", "30000", NULL};
	it_start(&r, args);
	it_sleep_ms(it_ms(400));
	assert_int_equal(kill(r.pid, sig), 0);
	it_wait(&r);
	assert_int_equal(r.status, want_status);
	assert_non_null(r.report);
	assert_string_equal(it_str(r.report, "verdict"), "error");
	assert_string_equal(it_str(r.report, "interrupted_by"), want_name);
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "interrupted");
	long long pid = it_int(r.report, "fixtures.0.processes.0.pid");
	assert_true(pid > 0);
	assert_false(it_pid_alive((pid_t)pid));
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

static void test_sigint(void **state)
{
	interrupt_with(*state, SIGINT, 130, "SIGINT");
}

static void test_sigterm(void **state)
{
	interrupt_with(*state, SIGTERM, 143, "SIGTERM");
}

/* SIGHUP (a closed terminal or CI session) and SIGQUIT are interruptions
 * too: 128 + the signal, as README's exit status table says. */
static void test_sighup(void **state)
{
	interrupt_with(*state, SIGHUP, 129, "SIGHUP");
}

static void test_sigquit(void **state)
{
	interrupt_with(*state, SIGQUIT, 131, "SIGQUIT");
}

/* Forked workers share pages: summed RSS counts them K+1 times, PSS once. */
static void test_pss(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	char ms[32];
	measure(&r, m, (const char *const[]){"--pss", NULL},
		(const char *const[]){"shared", "32", "3", it_ms_arg(ms, sizeof ms, 400), NULL});
	assert_int_equal(r.status, 0);
	assert_between(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), 4 * 32 * MiB, 4 * 32 * MiB + 4 * RSS_BASE);
	assert_between(it_int(r.report, "fixtures.0.peak.tree_pss_bytes"), 32 * MiB, 32 * MiB + 4 * RSS_BASE);
	it_free(&r);
}

static void test_not_found(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	const char *args[] = {"measure", "--measurement", m->name, "--", "/nonexistent/memgate-no-such-cmd", NULL};
	it_memgate(&r, args);
	assert_int_equal(r.status, 3);
	assert_string_equal(it_str(r.report, "verdict"), "error");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "command not found");
	assert_int_equal(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), -1);
	it_assert_no_cgroup_left(r.pid);
	it_free(&r);
}

static void test_not_executable(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	const char *args[] = {"measure", "--measurement", m->name, "--", "tests/workload.c", NULL};
	it_memgate(&r, args);
	assert_int_equal(r.status, 3);
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "permission denied");
	it_free(&r);
}

/* Output paths are checked before anything runs: a bad one costs no run. */
static void test_outputs_checked_first(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	time_t t0 = time(NULL);
	const char *args[] = {"measure", "--measurement", m->name, "--json", "/nonexistent-memgate/dir/r.json", "--",
			      it_workload_path(), "hold", "1", "30000", NULL};
	it_memgate(&r, args);
	assert_int_equal(r.status, 2);
	assert_true(time(NULL) - t0 < 10);
	assert_contains(r.err, "/nonexistent-memgate/dir");
	assert_null(r.report);
	it_free(&r);
}

/* The credentials memgate may use never reach the measured code, unless
 * the fixture's own env sets them. */
static void test_credentials_not_inherited(void **state)
{
	struct mode *m = *state;
	static const char *const names[] = {"GITHUB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN", "ACTIONS_RUNTIME_TOKEN",
					    "ACTIONS_ID_TOKEN_REQUEST_TOKEN"};
	char out[64], cmd[160];
	snprintf(out, sizeof out, "/tmp/memgate-it-env-%d", (int)getpid());
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		setenv(names[i], "it-secret-7f3a", 1);
	snprintf(cmd, sizeof cmd, "env > %s; sleep 0.05", out);
	struct it_run r;
	const char *args[] = {"measure", "--measurement", m->name, "--", "sh", "-c", cmd, NULL};
	it_memgate(&r, args);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		unsetenv(names[i]);
	assert_int_equal(r.status, 0);
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	char line[4096];
	bool seen_path = false;
	while (fgets(line, sizeof line, f)) {
		if (strstr(line, "it-secret-7f3a"))
			fail_msg("the fixture saw a credential: %s", line);
		seen_path |= strncmp(line, "PATH=", 5) == 0;
	}
	fclose(f);
	unlink(out);
	assert_true(seen_path); /* the rest of the environment is there */
	it_free(&r);
}

/* Pids of memgate's children but its watchdog (comm "memgate-watch"). */
static size_t fixture_children(pid_t memgate, pid_t *out, size_t max)
{
	char path[128], buf[4096];
	size_t n = 0;
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)memgate, (int)memgate);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t got = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[got] = '\0';
	for (char *tok = strtok(buf, " \n"); tok && n < max; tok = strtok(NULL, " \n")) {
		char comm[64] = "";
		snprintf(path, sizeof path, "/proc/%s/comm", tok);
		FILE *c = fopen(path, "r");
		if (c) {
			if (!fgets(comm, sizeof comm, c))
				comm[0] = '\0';
			fclose(c);
		}
		if (strncmp(comm, "memgate-watch", 13) != 0)
			out[n++] = (pid_t)atoi(tok);
	}
	return n;
}

/* kill -9 memgate mid-run: its watchdog kills the fixture and removes the
 * cgroup within 2 s. */
static void test_sigkill_orphans_nothing(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	/* a TMPDIR of its own: what memgate makes there (the phase mark
	 * channel) must go with it */
	char tmp[64];
	snprintf(tmp, sizeof tmp, "/tmp/memgate-it-sigkill-%d", (int)getpid());
	assert_true(mkdir(tmp, 0777) == 0 || errno == EEXIST);
	assert_int_equal(chmod(tmp, 01777), 0);
	const char *old_tmp = getenv("TMPDIR");
	char saved[PATH_MAX] = "";
	if (old_tmp)
		snprintf(saved, sizeof saved, "%s", old_tmp);
	setenv("TMPDIR", tmp, 1);
	const char *args[] = {"measure", "--measurement", m->name, "--", it_workload_path(), "tree", "3", "8", "60000", NULL};
	it_start(&r, args);
	if (saved[0])
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	/* the whole tree: the main process and its three children (the
	 * watchdog, memgate's other child, names itself memgate-watch) */
	pid_t tree[64];
	size_t ntree = 0;
	for (int i = 0; i < 1000 && ntree < 4; i++) {
		it_sleep_ms(10);
		pid_t kids[16];
		size_t nkids = fixture_children(r.pid, kids, 16);
		ntree = 0;
		for (size_t k = 0; k < nkids; k++) {
			tree[ntree++] = kids[k];
			ntree += fixture_children(kids[k], tree + ntree, 64 - ntree);
		}
	}
	if (ntree < 4) {
		kill(r.pid, SIGKILL);
		fail_msg("the fixture's tree did not appear (%zu processes)", ntree);
	}
	assert_int_equal(kill(r.pid, SIGKILL), 0);
	it_wait(&r);
	assert_int_equal(r.status, 128 + SIGKILL);
	bool any = true;
	for (int i = 0; i < 200 && any; i++) {
		any = false;
		for (size_t k = 0; k < ntree; k++)
			any |= it_pid_alive(tree[k]);
		if (any)
			it_sleep_ms(10);
	}
	if (any)
		fail_msg("a fixture process outlived a SIGKILLed memgate by 2 s");
	for (int i = 0; i < 200; i++) { /* the cgroup goes too */
		char dir[PATH_MAX], pattern[PATH_MAX + 64];
		bool left = false;
		for (int v2 = 0; v2 < 2; v2++) {
			if (!it_cgroup_dir(v2, dir, sizeof dir))
				continue;
			snprintf(pattern, sizeof pattern, "%s/memgate-%d-*", dir, (int)r.pid);
			glob_t g;
			if (glob(pattern, 0, NULL, &g) == 0) {
				left = g.gl_pathc > 0;
				globfree(&g);
			}
		}
		if (!left)
			break;
		it_sleep_ms(10);
	}
	it_assert_no_cgroup_left(r.pid);
	/* and its temp dirs (the watchdog removes them last) */
	char pattern[128];
	snprintf(pattern, sizeof pattern, "%s/memgate-*", tmp);
	size_t left = 1;
	for (int i = 0; i < 200 && left; i++) {
		glob_t g;
		int rc = glob(pattern, 0, NULL, &g);
		left = rc == 0 ? g.gl_pathc : 0;
		if (rc == 0)
			globfree(&g);
		if (left)
			it_sleep_ms(10);
	}
	if (left)
		fail_msg("%zu temp dir(s) of a SIGKILLed memgate left in %s", left, tmp);
	rmdir(tmp);
	it_free(&r);
}

/* What a memgate killed with its watchdog left behind is swept by the next run. */
static void test_next_run_sweeps_stale_cgroups(void **state)
{
	struct mode *m = *state;
	assert_true(m->cgroup); /* registered for cgroup modes only */
	char top[PATH_MAX], dir[PATH_MAX + 64], stale[PATH_MAX + 128], procs[PATH_MAX + 160];
	assert_true(it_cgroup_dir(!strcmp(m->name, "cgroup-v2"), top, sizeof top));
	/* a parent of this test's own (--cgroup-root): the memgates the other
	 * tests start at the same time sweep theirs, never this one */
	snprintf(dir, sizeof dir, "%s/memgate-ittest-%d", top, (int)getpid());
	assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
	pid_t dead = fork(); /* a pid that is no memgate any more */
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(stale, sizeof stale, "%s/memgate-%d-0", dir, (int)dead);
	assert_int_equal(mkdir(stale, 0755), 0);
	pid_t orphan = fork();
	assert_true(orphan >= 0);
	if (orphan == 0) {
		char me[32];
		snprintf(procs, sizeof procs, "%s/cgroup.procs", stale);
		snprintf(me, sizeof me, "%d", (int)getpid());
		FILE *f = fopen(procs, "w");
		if (!f || fputs(me, f) < 0 || fclose(f) != 0)
			_exit(1);
		pause();
		_exit(0);
	}
	for (int i = 0; i < 200; i++) { /* until it is in */
		snprintf(procs, sizeof procs, "%s/cgroup.procs", stale);
		FILE *f = fopen(procs, "r");
		int first = 0;
		if (f) {
			if (fscanf(f, "%d", &first) != 1)
				first = 0;
			fclose(f);
		}
		if (first == orphan)
			break;
		it_sleep_ms(5);
	}
	struct it_run r;
	char ms[32];
	const char *args[] = {"measure", "--measurement", m->name, "--cgroup-root", dir, "--", it_workload_path(),
			      "hold", "1", it_ms_arg(ms, sizeof ms, 50), NULL};
	it_memgate(&r, args);
	int st;
	pid_t w = waitpid(orphan, &st, 0); /* the test's own child: killed by the sweep */
	rmdir(dir);
	assert_int_equal(r.status, 0);
	assert_int_equal(w, orphan);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(access(stale, F_OK), -1);
	assert_contains(r.err, "stale cgroup");
	it_free(&r);
}

/* MG_IT_MODES (default "proc,cgroup-v1") picks the backends to test; the VM
 * suite runs "proc,cgroup-v2" inside a cgroup-v2 guest. */
int main(void)
{
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
		bool cgroup_only;
	} cases[] = {
#define CASE(fn) {#fn, fn, false}
#define CGROUP_CASE(fn) {#fn, fn, true}
		CASE(test_hold), CASE(test_tree), CASE(test_spike), CASE(test_daemon),
		CASE(test_crash), CASE(test_hang_timeout), CASE(test_huge_timeout), CGROUP_CASE(test_leaving_the_cgroup), CASE(test_exit_code), CASE(test_limit_exceeded),
		CASE(test_kill_above), CASE(test_sigint), CASE(test_sigterm), CASE(test_sighup), CASE(test_sigquit),
		CASE(test_pss), CASE(test_not_found), CASE(test_not_executable), CASE(test_outputs_checked_first),
		CASE(test_credentials_not_inherited), CASE(test_sigkill_orphans_nothing),
		CGROUP_CASE(test_next_run_sweeps_stale_cgroups),
	};
	const char *env = getenv("MG_IT_MODES");
	char modes[128];
	snprintf(modes, sizeof modes, "%s", env && *env ? env : "proc,cgroup-v1");
	static struct CMUnitTest tests[64];
	static struct mode_case states[64];
	static char names[64][96];
	size_t n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(modes, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct mode *m = NULL;
		for (size_t i = 0; i < sizeof MODES / sizeof *MODES; i++)
			if (!strcmp(MODES[i].name, tok))
				m = &MODES[i];
		if (!m) {
			fprintf(stderr, "MG_IT_MODES: unknown mode %s\n", tok);
			return 2;
		}
		for (size_t i = 0; i < sizeof cases / sizeof *cases && n < 64; i++) {
			if (cases[i].cgroup_only && !m->cgroup)
				continue; /* nothing to test without a cgroup: not a skip */
			snprintf(names[n], sizeof names[n], "%s: %s", m->name, cases[i].name);
			states[n] = (struct mode_case){m, cases[i].fn};
			tests[n] = (struct CMUnitTest){names[n], dispatch, NULL, NULL, &states[n]};
			n++;
		}
	}
	return _cmocka_run_group_tests("measure (integration)", tests, n, NULL, NULL);
}
