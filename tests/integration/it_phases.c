/* Phases end to end (issue 15): service mode's startup / load / shutdown,
 * the program's own marks through $MEMGATE_MARK (from C and from a shell),
 * and one phase per pytest test, plain and under pytest-xdist; limits per
 * phase. Real processes of known size (build/workload), in every
 * measurement mode this host offers. */
#include <sys/utsname.h>

#include "itutil.h"

#define BASE (8 * MiB) /* a small C process (RSS) or its cgroup's extras */

struct mode {
	const char *name;
	bool cgroup;
};
static struct mode MODES[] = {{"proc", false}, {"cgroup-v1", true}, {"cgroup-v2", true}};

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

/* Linux 6.12 and later reset a v2 memory.peak through the descriptor that
 * writes to it; before, a phase's v2 peak is exact only when it is a new
 * record for the run. */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int a = 0, b = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return false;
	return a > major || (a == major && b >= minor);
}

static bool cg_resets(const struct mode *m)
{
	return !strcmp(m->name, "cgroup-v1") || (!strcmp(m->name, "cgroup-v2") && kernel_at_least(6, 12));
}

static json_t *phase(json_t *report, const char *name)
{
	json_t *ph = it_get(report, "fixtures.0.phases"), *p;
	size_t i;
	json_array_foreach(ph, i, p) {
		if (!strcmp(json_string_value(json_object_get(p, "name")), name))
			return p;
	}
	fail_msg("no phase \"%s\" in the report", name);
	return NULL;
}

static long long peak_of(json_t *p, const char *key)
{
	json_t *v = json_object_get(json_object_get(p, "peak"), key);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static bool exact(json_t *p)
{
	return json_is_true(json_object_get(p, "exact"));
}

static const char *config(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *config(const char *fmt, ...)
{
	char body[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	return it_config("{\"version\": 1, \"fixtures\": [%s]}\n", body);
}

static void run_config(struct it_run *r)
{
	it_memgate(r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	if (!r->report)
		fail_msg("no report; exit %d; stderr:\n%s", r->status, r->err);
}

/* Every phase lies inside the run, in order of its start, and the
 * fixture's peak is at least each phase's. */
static void assert_phases_consistent(json_t *report)
{
	json_t *ph = it_get(report, "fixtures.0.phases"), *p;
	size_t i;
	long long last_from = 0;
	assert_true(json_array_size(ph) >= 1);
	json_array_foreach(ph, i, p) {
		long long from = json_integer_value(json_object_get(p, "from_ms"));
		long long to = json_integer_value(json_object_get(p, "to_ms"));
		assert_true(from >= last_from);
		assert_true(to >= from);
		last_from = from;
		const char *keys[] = {"cgroup_bytes", "tree_rss_bytes", "max_process_hwm_bytes"};
		for (size_t k = 0; k < 3; k++) {
			char path[64];
			snprintf(path, sizeof path, "fixtures.0.peak.%s", keys[k]);
			long long whole = it_int(report, path);
			if (peak_of(p, keys[k]) >= 0 && whole >= 0 && peak_of(p, keys[k]) > whole)
				fail_msg("phase %zu: %s %lld above the fixture's %lld", i, keys[k], peak_of(p, keys[k]),
					 whole);
		}
	}
}

/* A service that spikes to 300 MiB while it starts and frees it before it
 * is ready, then holds 50 MiB while the driver runs: startup ~300 MiB and
 * load ~50 MiB, the kernel's own figures where it can reset its peaks. */
static void service_phases(void **state)
{
	struct mode *m = *state;
	const char *w = it_workload_path();
	config("{\"name\": \"phased\", \"measurement\": \"%s\", \"service\": {\"command\": [\"%s\", \"phased\", "
	       "\"{port}\", \"300\", \"50\"], \"ready\": {\"tcp\": \"127.0.0.1:{port}\"}},"
	       " \"driver\": {\"command\": [\"%s\", \"drive\", \"{port}\", \"300\"]}}",
	       m->name, w, w);
	struct it_run r;
	run_config(&r);
	if (r.status != 0)
		fail_msg("exit %d; stderr:\n%s", r.status, r.err);
	json_t *ph = it_get(r.report, "fixtures.0.phases");
	assert_int_equal(json_array_size(ph), 3);
	assert_string_equal(it_str(r.report, "fixtures.0.phases.0.name"), "startup");
	assert_string_equal(it_str(r.report, "fixtures.0.phases.1.name"), "load");
	assert_string_equal(it_str(r.report, "fixtures.0.phases.2.name"), "shutdown");
	json_t *startup = phase(r.report, "startup"), *load = phase(r.report, "load");
	/* the server lives through every boundary: its VmHWM, reset at each,
	 * is exact in every mode */
	assert_between(peak_of(startup, "max_process_hwm_bytes"), 300 * MiB, 300 * MiB + BASE);
	assert_between(peak_of(load, "max_process_hwm_bytes"), 50 * MiB, 50 * MiB + BASE);
	if (m->cgroup) {
		assert_between(peak_of(startup, "cgroup_bytes"), 300 * MiB, 300 * MiB + BASE);
		/* a new record for the run: exact even where v2 cannot reset */
		assert_true(exact(startup));
		if (cg_resets(m)) {
			assert_between(peak_of(load, "cgroup_bytes"), 50 * MiB, 50 * MiB + BASE);
			assert_true(exact(load));
		} else {
			assert_false(exact(load)); /* v2 before 6.12: sampled, and said so */
			assert_between(peak_of(load, "cgroup_bytes"), 50 * MiB, 300 * MiB + BASE);
		}
	} else {
		assert_int_equal(peak_of(startup, "cgroup_bytes"), -1);
	}
	assert_phases_consistent(r.report);
	assert_between(it_int(r.report, "fixtures.0.peak.max_process_hwm_bytes"), 300 * MiB, 300 * MiB + BASE);
	it_free(&r);
}

/* memgate measure --measurement MODE -- ARGV... */
static void measure(struct it_run *r, struct mode *m, const char *const *argv)
{
	const char *args[32];
	size_t n = 0;
	args[n++] = "measure";
	args[n++] = "--measurement";
	args[n++] = m->name;
	args[n++] = "--";
	for (size_t i = 0; argv[i] && n < 31; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	it_memgate(r, args);
	if (!r->report)
		fail_msg("no JSON report; exit %d; stderr:\n%s", r->status, r->err);
}

/* A program marks "before", "spike" and "after"; in "spike" it touches
 * 200 MiB and frees it at once. The spike lands in "spike" only, in every
 * mode: its own VmHWM is reset at each mark. */
static void marked_spike(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	char ms[32];
	measure(&r, m, (const char *const[]){it_workload_path(), "phases", "200", it_ms_arg(ms, sizeof ms, 80), NULL});
	assert_int_equal(r.status, 0);
	assert_string_equal(it_str(r.report, "fixtures.0.phases.0.name"), "start");
	json_t *before = phase(r.report, "before"), *spike = phase(r.report, "spike"), *after = phase(r.report, "after");
	assert_between(peak_of(spike, "max_process_hwm_bytes"), 200 * MiB, 200 * MiB + BASE);
	assert_true(peak_of(before, "max_process_hwm_bytes") < BASE);
	assert_true(peak_of(after, "max_process_hwm_bytes") < BASE);
	assert_true(exact(spike) || !cg_resets(m));
	if (m->cgroup) {
		assert_between(peak_of(spike, "cgroup_bytes"), 200 * MiB, 200 * MiB + BASE);
		if (cg_resets(m)) {
			assert_true(peak_of(after, "cgroup_bytes") < BASE);
			assert_true(exact(before) && exact(after));
		}
	} else {
		assert_true(exact(before) && exact(spike) && exact(after)); /* one process, never left */
	}
	assert_phases_consistent(r.report);
	it_free(&r);
}

/* A shell marks three phases; the middle one runs a child that spikes to
 * 150 MiB for a moment. With `memgate mark` (synchronous) each boundary is
 * exactly where it is written; with echo to the FIFO it falls when memgate
 * reads it, so that script leaves memgate 100 ms before it goes on. With a
 * cgroup the spike is the middle phase's, exactly; without one it is never
 * given to another phase, and a phase that lost a process before reading
 * its peak says it is not exact. */
static void shell_marks_with(struct mode *m, bool sync)
{
	char script[PATH_MAX + 2048], mg[PATH_MAX];
	if (!realpath(it_memgate_path(), mg))
		fail_msg("realpath %s: %s", it_memgate_path(), strerror(errno));
	const char *w = it_workload_path();
	long ms = it_ms(60);
	if (sync)
		snprintf(script, sizeof script, "m() { %s mark \"$1\"; }\n", mg);
	else
		snprintf(script, sizeof script,
			 "m() { [ -n \"$MEMGATE_MARK\" ] && echo \"phase $1\" > \"$MEMGATE_MARK\"; sleep 0.1; }\n");
	size_t n = strlen(script);
	snprintf(script + n, sizeof script - n,
		 "m one; %s hold 10 %ld\n"
		 "m two; %s spike 150 0; %s hold 10 %ld\n"
		 "m three; %s hold 10 %ld\n",
		 w, ms, w, w, ms, w, ms);
	struct it_run r;
	measure(&r, m, (const char *const[]){"/bin/sh", "-c", script, NULL});
	assert_int_equal(r.status, 0);
	json_t *one = phase(r.report, "one"), *two = phase(r.report, "two"), *three = phase(r.report, "three");
	if (m->cgroup) {
		assert_between(peak_of(two, "cgroup_bytes"), 150 * MiB, 150 * MiB + BASE);
		assert_true(exact(two));
		if (cg_resets(m)) {
			assert_between(peak_of(one, "cgroup_bytes"), 10 * MiB, 10 * MiB + BASE);
			assert_between(peak_of(three, "cgroup_bytes"), 10 * MiB, 10 * MiB + BASE);
		}
	} else if (peak_of(two, "max_process_hwm_bytes") < 150 * MiB) {
		assert_false(exact(two)); /* missed: then it must say so */
	}
	/* never in the wrong phase */
	assert_true(peak_of(one, "max_process_hwm_bytes") < 10 * MiB + BASE);
	assert_true(peak_of(three, "max_process_hwm_bytes") < 10 * MiB + BASE);
	assert_true(peak_of(one, "tree_rss_bytes") < 10 * MiB + 2 * BASE);
	assert_true(peak_of(three, "tree_rss_bytes") < 10 * MiB + 2 * BASE);
	assert_phases_consistent(r.report);
	it_free(&r);
}

static void shell_marks_sync(void **state)
{
	shell_marks_with(*state, true);
}

static void shell_marks_fifo(void **state)
{
	shell_marks_with(*state, false);
}

/* A plain command without marks is one phase, "run", the whole run. */
static void plain_is_one_phase(void **state)
{
	struct mode *m = *state;
	struct it_run r;
	char ms[32];
	measure(&r, m, (const char *const[]){it_workload_path(), "hold", "40", it_ms_arg(ms, sizeof ms, 100), NULL});
	assert_int_equal(r.status, 0);
	assert_int_equal(json_array_size(it_get(r.report, "fixtures.0.phases")), 1);
	assert_string_equal(it_str(r.report, "fixtures.0.phases.0.name"), "run");
	json_t *run = phase(r.report, "run");
	assert_int_equal(peak_of(run, "max_process_hwm_bytes"), it_int(r.report, "fixtures.0.peak.max_process_hwm_bytes"));
	if (m->cgroup)
		assert_int_equal(peak_of(run, "cgroup_bytes"), it_int(r.report, "fixtures.0.peak.cgroup_bytes"));
	it_free(&r);
}

/* Without memgate a marking program behaves as it would unmarked: the
 * variable unset, or naming a path where nothing listens. */
static void marks_without_memgate(void **state)
{
	(void)state;
	const char *envs[] = {NULL, "MEMGATE_MARK=/nonexistent/memgate-mark", "MEMGATE_MARK=/dev/null/x"};
	for (size_t i = 0; i < 3; i++) {
		char cmd[512];
		snprintf(cmd, sizeof cmd, "env -u MEMGATE_MARK %s %s marks 200 1", envs[i] ? envs[i] : "",
			 it_workload_path());
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		char out[128] = "";
		size_t n = fread(out, 1, sizeof out - 1, p);
		out[n] = '\0';
		assert_int_equal(pclose(p), 0);
		assert_true(strncmp(out, "marks=200\nelapsed_us=", 21) == 0);
	}
}

/* Lines that are not marks are noted and ignored; the program is never
 * held up or failed by them; a name too long is cut, not refused. */
static void bad_marks_are_noted(void **state)
{
	(void)state;
	char script[2048];
	char longname[700];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	snprintf(script, sizeof script,
		 "printf 'hello\\n\\nphase \\nend pid=abc\\nphase ok\\n' > \"$MEMGATE_MARK\"; "
		 "echo 'phase %s' > \"$MEMGATE_MARK\"; echo end > \"$MEMGATE_MARK\"; echo done",
		 longname);
	struct it_run r;
	measure(&r, &MODES[0], (const char *const[]){"/bin/sh", "-c", script, NULL});
	assert_int_equal(r.status, 0);
	json_t *notes = it_get(r.report, "fixtures.0.measurement.notes");
	char all[8192] = "";
	size_t i;
	json_t *n;
	json_array_foreach(notes, i, n) {
		strncat(all, json_string_value(n), sizeof all - strlen(all) - 2);
		strcat(all, "\n");
	}
	assert_contains(all, "\"hello\"");
	(void)phase(r.report, "ok");
	it_free(&r);

	/* a scoped mark names a process of the fixture, or it is ignored:
	 * memgate read and reset (clear_refs) the counters of whatever pid a
	 * mark named, as root any process's (here the test's own) */
	snprintf(script, sizeof script,
		 "echo 'phase foreign pid=%d' > \"$MEMGATE_MARK\"; echo \"phase own pid=$$\" > \"$MEMGATE_MARK\"; "
		 "sleep 0.1; echo \"end pid=$$\" > \"$MEMGATE_MARK\"", (int)getpid());
	measure(&r, &MODES[0], (const char *const[]){"/bin/sh", "-c", script, NULL});
	assert_int_equal(r.status, 0);
	all[0] = '\0';
	json_array_foreach(it_get(r.report, "fixtures.0.measurement.notes"), i, n) {
		strncat(all, json_string_value(n), sizeof all - strlen(all) - 2);
		strcat(all, "\n");
	}
	char want[96];
	snprintf(want, sizeof want, "a mark for pid %d was ignored: not a process of the fixture", (int)getpid());
	assert_contains(all, want);
	json_array_foreach(it_get(r.report, "fixtures.0.phases"), i, n)
		assert_string_not_equal(json_string_value(json_object_get(n, "name")), "foreign");
	(void)phase(r.report, "own");
	it_free(&r);
}

/* A program that marks through the FIFO without pause: memgate keeps up
 * or says which phases it could not measure (listed, no figures, never
 * "exact"); the run still samples and ends normally; every mark is there,
 * in order. */
static void fifo_marks_faster_than_memgate(void **state)
{
	(void)state;
	struct it_run r;
	char *env = "MARKS_ASYNC=1";
	putenv(env);
	measure(&r, &MODES[it_have_v1() ? 1 : 0], (const char *const[]){it_workload_path(), "marks", "3000", "0", NULL});
	unsetenv("MARKS_ASYNC");
	assert_int_equal(r.status, 0);
	json_t *ph = it_get(r.report, "fixtures.0.phases"), *p;
	assert_int_equal(json_array_size(ph), 3001); /* "start" and m0 .. m2999 */
	size_t i, missed = 0;
	json_array_foreach(ph, i, p) {
		if (i == 0)
			continue;
		char want[32];
		snprintf(want, sizeof want, "m%zu", i - 1);
		assert_string_equal(json_string_value(json_object_get(p, "name")), want);
		if (peak_of(p, "max_process_hwm_bytes") < 0) {
			missed++;
			assert_false(exact(p));
		}
	}
	if (missed) {
		char all[4096] = "";
		json_t *n;
		json_array_foreach(it_get(r.report, "fixtures.0.measurement.notes"), i, n)
			strncat(all, json_string_value(n), sizeof all - strlen(all) - 1);
		assert_contains(all, "marked faster than memgate read the FIFO");
	}
	assert_true(it_int(r.report, "fixtures.0.measurement.samples") >= 2);
	it_free(&r);
}

/* ---- pytest ---------------------------------------------------------------- */

/* The venv's python with pytest and pytest-xdist (tests/venv makes it;
 * offline without it: skipped, saying so; else a failure with its words). */
static const char *venv_python(void)
{
	static char py[PATH_MAX];
	if (!py[0])
		it_venv_python(py, sizeof py);
	return py;
}

/* test_size[i] holds i * 8 MiB; test_00_baseline nothing */
static long long test_size(const char *name)
{
	const char *b = strstr(name, "test_size[");
	return b ? atoll(b + 10) * 8 * MiB : 0;
}

/* Each test's peak, less its size, is the same interpreter baseline for
 * every test of one process, to 2 MiB: no test sees another's memory. */
static void assert_per_test_peaks(json_t *report, bool xdist)
{
	json_t *ph = it_get(report, "fixtures.0.phases"), *p;
	size_t i, ntests = 0;
	struct base {
		long long pid, lo, hi;
	} base[8];
	size_t nbase = 0;
	json_array_foreach(ph, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		if (!strstr(name, "test_sizes.py::"))
			continue;
		ntests++;
		long long pid = json_integer_value(json_object_get(p, "pid"));
		assert_true(xdist ? pid > 1 : pid == 0);
		long long rest = peak_of(p, "max_process_hwm_bytes") - test_size(name);
		size_t k = 0;
		while (k < nbase && base[k].pid != pid)
			k++;
		if (k == nbase) {
			assert_true(nbase < 8);
			base[nbase++] = (struct base){pid, rest, rest};
		}
		if (rest < base[k].lo)
			base[k].lo = rest;
		if (rest > base[k].hi)
			base[k].hi = rest;
		if (!xdist)
			assert_true(exact(p));
		/* either way each test's own VmHWM is the kernel's, reset at its start */
		json_t *ex = json_object_get(p, "exact_figures"), *e;
		size_t k2;
		bool hwm = false;
		json_array_foreach(ex, k2, e) hwm |= !strcmp(json_string_value(e), "max_process_hwm_bytes");
		assert_true(hwm);
	}
	assert_int_equal(ntests, 20);
	assert_int_equal(nbase, xdist ? 2 : 1);
	for (size_t k = 0; k < nbase; k++) {
		if (base[k].hi - base[k].lo > 2 * MiB)
			fail_msg("process %lld: test peaks less their sizes span %lld..%lld bytes (> 2 MiB)", base[k].pid,
				 base[k].lo, base[k].hi);
		assert_between(base[k].lo, 4 * MiB, 120 * MiB); /* an interpreter with pytest loaded */
	}
}

static void pytest_run(struct it_run *r, const char *workers, const char *limits)
{
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof cwd));
	config("{\"name\": \"tests\", \"cwd\": \"%s/tests/data/pytest-phases\", \"command\": [\"%s\", \"-m\", "
	       "\"pytest\", \"-q\", \"-p\", \"memgate_pytest\", \"-p\", \"no:cacheprovider\"%s%s%s, \".\"]%s%s}",
	       cwd, venv_python(), workers ? ", \"-n\", \"" : "", workers ? workers : "", workers ? "\"" : "",
	       limits ? ", " : "", limits ? limits : "");
	run_config(r);
}

static void pytest_per_test(void **state)
{
	(void)state;
	struct it_run r;
	pytest_run(&r, NULL, NULL);
	assert_int_equal(r.status, 0);
	assert_per_test_peaks(r.report, false);
	assert_phases_consistent(r.report);
	it_free(&r);
}

static void pytest_xdist_per_test(void **state)
{
	(void)state;
	struct it_run r;
	pytest_run(&r, "2", NULL);
	assert_int_equal(r.status, 0);
	assert_per_test_peaks(r.report, true);
	/* no whole-tree mark: the run stays one phase "run", beside the tests */
	assert_string_equal(it_str(r.report, "fixtures.0.phases.0.name"), "run");
	it_free(&r);
}

/* A glob of test ids with a limit: the tests over it fail the gate, each
 * named, the worst first; the others pass. */
static void pytest_phase_limit_fails_named(void **state)
{
	(void)state;
	struct it_run r;
	pytest_run(&r, NULL,
		   "\"phase_limits\": {\"test_sizes.py::test_size*\": {\"max_process_hwm\": \"140MiB\"},"
		   " \"test_sizes.py::test_size[3]\": {\"max_process_hwm\": \"20MiB\"}}");
	assert_int_equal(r.status, 1);
	assert_string_equal(it_str(r.report, "fixtures.0.verdict"), "fail");
	/* the worst first, by how far over: 24 MiB + baseline against 20 MiB,
	 * then 152 MiB + baseline against 140 */
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "test_sizes.py::test_size[3]:");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "max_process_hwm");
	assert_contains(it_str(r.report, "fixtures.0.reasons.1"), "test_sizes.py::test_size[19]:");
	json_t *ph = it_get(r.report, "fixtures.0.phases"), *p;
	size_t i;
	bool saw3 = false;
	json_array_foreach(ph, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		const char *v = json_string_value(json_object_get(p, "verdict"));
		if (!strcmp(name, "test_sizes.py::test_size[3]")) {
			/* the exact name wins over the glob: 24 MiB + baseline > 20 MiB */
			saw3 = true;
			assert_string_equal(v, "fail");
			assert_int_equal(json_integer_value(json_object_get(
						 json_array_get(json_object_get(p, "limits"), 0), "limit_bytes")),
					 20 * MiB);
		} else if (test_size(name) > 0) {
			long long peak = peak_of(p, "max_process_hwm_bytes");
			assert_string_equal(v, peak > 140 * MiB ? "fail" : "pass");
		} else if (!strcmp(name, "start")) {
			assert_string_equal(v, "pass"); /* no limit: nothing to fail */
			assert_int_equal(json_array_size(json_object_get(p, "limits")), 0);
		}
	}
	assert_true(saw3);
	it_free(&r);
}

int main(void)
{
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
	} per_mode[] = {
#define CASE(fn) {#fn, fn}
		CASE(service_phases), CASE(marked_spike), CASE(shell_marks_sync), CASE(shell_marks_fifo),
		CASE(plain_is_one_phase),
	};
	/* the modes as in it_measure: MG_IT_MODES, default proc and cgroup-v1
	 * (tests/vm sets cgroup-v2) */
	const char *env = getenv("MG_IT_MODES");
	char modes[128];
	snprintf(modes, sizeof modes, "%s", env && *env ? env : "proc,cgroup-v1");
	static struct CMUnitTest tests[32];
	static struct mode_case states[32];
	static char names[32][96];
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
		for (size_t i = 0; i < sizeof per_mode / sizeof *per_mode && n < 24; i++) {
			snprintf(names[n], sizeof names[n], "%s: %s", m->name, per_mode[i].name);
			states[n] = (struct mode_case){m, per_mode[i].fn};
			tests[n] = (struct CMUnitTest){names[n], dispatch, NULL, NULL, &states[n]};
			n++;
		}
	}
	const struct CMUnitTest once[] = {
		cmocka_unit_test(marks_without_memgate),
		cmocka_unit_test(bad_marks_are_noted),
		cmocka_unit_test(fifo_marks_faster_than_memgate),
		cmocka_unit_test(pytest_per_test),
		cmocka_unit_test(pytest_xdist_per_test),
		cmocka_unit_test(pytest_phase_limit_fails_named),
	};
	for (size_t i = 0; i < sizeof once / sizeof *once; i++)
		tests[n++] = once[i];
	/* MG_IT_FILTER: a cmocka pattern of the tests to run (tests/vm runs
	 * the per-mode ones: no Python in its guest) */
	const char *filter = getenv("MG_IT_FILTER");
	if (filter && *filter)
		cmocka_set_test_filter(filter);
	return _cmocka_run_group_tests("phases (integration)", tests, n, NULL, it_config_cleanup);
}
