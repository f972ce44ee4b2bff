/* Python heap attribution end to end, with the real tools: tracemalloc
 * injected into the measured run, and the real memray 1.20.0 (build/venv,
 * made by tests/venv) in a second run: the lab's leaky and fixed services,
 * plain, raising and exit-3 scripts, -m of a module that does not exist,
 * --native on NumPy, a forked pool, memray missing or hidden, the flame
 * graph in --artifacts, and all of it as the invoking user under sudo.
 * Needs python3 on PATH; the memray tests fail (never skip) without the
 * venv, except offline (make check), where they skip saying so. */
#include "itutil.h"

#define WORKLOAD_PY "tests/data/memray-real/workload.py"

static bool have_python(void)
{
	return system("python3 -c 'import tracemalloc' >/dev/null 2>&1") == 0;
}

static void write_config(const char *python_obj, const char *limits)
{
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"grow\", \"command\": [\"python3\", "
		  "\"tests/data/py/grow.py\"], \"python\": %s, \"limits\": %s}]}\n", python_obj, limits);
}

/* The site in the heap block at location, or NULL. */
static json_t *site_at(json_t *report, const char *fixture_path, const char *list, const char *location)
{
	char path[128];
	snprintf(path, sizeof path, "%s.heap.%s", fixture_path, list);
	json_t *top = it_get(report, path);
	for (size_t i = 0; i < json_array_size(top); i++) {
		json_t *s = json_array_get(top, i);
		if (strcmp(json_string_value(json_object_get(s, "location")), location) == 0)
			return s;
	}
	return NULL;
}

static long long site_bytes(json_t *site)
{
	return json_integer_value(json_object_get(site, "size_bytes"));
}

/* "file:line" of the first line of file holding marker */
static const char *loc(char *buf, size_t len, const char *file, const char *marker)
{
	snprintf(buf, len, "%s:%d", file, it_marker_line(file, marker));
	return buf;
}

/* One fixture {"name": "m", "command": [PY, args...], "heap": HEAP}, run.
 * args: a JSON list's inside, e.g. "\"w.py\", \"ok\"". */
static void run_memray(struct it_run *r, const char *py, const char *args, const char *heap,
		       const char *const *extra)
{
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"m\", \"command\": [\"%s\", %s], \"heap\": %s}]}\n", py,
		  args, heap);
	const char *argv[16] = {"run", "-c", it_cfg_path()};
	size_t n = 3;
	for (size_t i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	it_memgate(r, argv);
	if (!r->report)
		fail_msg("no report; exit %d; stderr:\n%s", r->status, r->err);
}

/* The note that holds text, or NULL. */
static const char *note_with(json_t *report, const char *text)
{
	json_t *notes = it_get(report, "fixtures.0.measurement.notes");
	for (size_t i = 0; i < json_array_size(notes); i++) {
		const char *s = json_string_value(json_array_get(notes, i));
		if (s && strstr(s, text))
			return s;
	}
	return NULL;
}

/* ---- tracemalloc ------------------------------------------------------- */

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
	loc(want, sizeof want, "tests/data/py/grow.py", "GROWTH-LINE");
	assert_string_equal(it_str(r.report, "fixtures.0.python_heap.top.0.location"), want);
	assert_between(it_int(r.report, "fixtures.0.python_heap.top.0.size_bytes"), 10 * MiB, 10 * MiB + MiB / 2);
	assert_between(it_int(r.report, "fixtures.0.python_heap.top.0.count"), 40, 120); /* object + buffer */
	assert_true(json_array_size(it_get(r.report, "fixtures.0.python_heap.top")) <= 3);
	/* "heap" is the block's name now, "python_heap" the same content under its first name */
	assert_true(json_equal(it_get(r.report, "fixtures.0.heap"), it_get(r.report, "fixtures.0.python_heap")));
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "python_heap");
	assert_contains(r.err, want); /* the failing fixture lists its top sites */
	it_free(&r);
}

/* A script whose file name is not UTF-8: its sites are shown with the
 * odd byte escaped, and the report stays readable (json.dump wrote a lone
 * surrogate, which memgate's reader refused: the whole heap block lost). */
static void a_file_name_not_utf8_keeps_the_report(void **state)
{
	(void)state;
	if (!have_python())
		skip_because("python3 is not installed");
	char dir[] = "/tmp/memgate-it-py-XXXXXX", script[128], cmd[512];
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof script, "%s/grow\xff.py", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fputs("keep = [bytearray(1 << 20) for _ in range(8)]\n", f);
	fclose(f);
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"odd\", \"command\": [\"sh\", \"-c\", "
		  "\"exec python3 %s/grow*.py\"], \"python\": {\"heap\": \"tracemalloc\", \"top\": 3}}]}\n", dir);
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		print_message("could not remove %s\n", dir);
	assert_non_null(r.report);
	assert_int_equal(r.status, 0);
	assert_contains(it_str(r.report, "fixtures.0.python_heap.top.0.location"), "grow\\udcff.py:1");
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

/* The program put a FIFO where the tracemalloc helper writes its report
 * (MEMGATE_PYHEAP_OUT) and left without writing: memgate's fopen waited
 * for a writer for ever, and its SIGTERM handler could not end the wait.
 * Now: done within seconds, the report named unreadable in a note. */
static void a_fifo_for_the_heap_report_does_not_hang(void **state)
{
	(void)state;
	if (!have_python())
		skip_because("python3 is not installed");
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"f\", \"heap\": {\"tool\": \"tracemalloc\"}, "
		  "\"command\": [\"python3\", \"-c\", \"import os; os.mkfifo(os.environ['MEMGATE_PYHEAP_OUT']); "
		  "os._exit(0)\"]}]}");
	struct it_run r;
	it_start(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	if (!it_wait_at_most(&r, it_ms(30000)))
		fail_msg("memgate hung on a FIFO at MEMGATE_PYHEAP_OUT (killed after 30 s)");
	assert_int_equal(r.status, 0);
	assert_contains(r.err, "not a regular file");
	it_free(&r);
}

/* ---- memray: the lab --------------------------------------------------- */

/* The lab's leaky service under memray names its three leaking lines, each
 * holding tens of MiB at the peak; the fixed service holds little at the
 * same three sites. What is reported is what holds the memory at the peak,
 * not what was allocated over the run (memray stats' totals). */
static void memray_lab_services(void **state)
{
	(void)state;
	char py[PATH_MAX];
	it_venv_python(py, sizeof py);
	it_config("{\"version\": 1, \"defaults\": {\"heap\": {\"tool\": \"memray\", \"top\": 5}, \"timeout\": \"2min\"},"
		  " \"fixtures\": ["
		  "{\"name\": \"leaky\", \"service\": {\"command\": [\"%s\", \"configs/lab/service.py\", \"--port\", "
		  "\"{port}\", \"--leak\", \"cache,closure,cycle\"], \"ready\": {\"http\": \"http://127.0.0.1:{port}/health\"},"
		  " \"ready_timeout\": \"20s\"}, \"driver\": {\"command\": [\"python3\", \"configs/lab/driver.py\", "
		  "\"--port\", \"{port}\", \"--requests\", \"1000\"]}},"
		  "{\"name\": \"fixed\", \"service\": {\"command\": [\"%s\", \"configs/lab/service_fixed.py\", \"--port\", "
		  "\"{port}\"], \"ready\": {\"http\": \"http://127.0.0.1:{port}/health\"}, \"ready_timeout\": \"20s\"},"
		  " \"driver\": {\"command\": [\"python3\", \"configs/lab/driver.py\", \"--port\", \"{port}\", "
		  "\"--requests\", \"1000\"]}}]}\n", py, py);
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	if (!r.report)
		fail_msg("no report; exit %d; stderr:\n%s", r.status, r.err);
	assert_int_equal(r.status, 0);
	assert_string_equal(it_str(r.report, "fixtures.0.heap.tool"), "memray");
	static const char *const markers[] = {"# site: cache", "# site: closure", "# site: cycle"};
	char where[64];
	/* the three leaking lines are the top three, about 64 MiB each */
	for (int i = 0; i < 3; i++) {
		json_t *s = site_at(r.report, "fixtures.0", "top", loc(where, sizeof where, "configs/lab/service.py", markers[i]));
		if (!s)
			fail_msg("leaky: %s is not among the top sites:\n%s", where, r.err);
		assert_between(site_bytes(s), 40 * MiB, 100 * MiB);
	}
	for (int i = 0; i < 3; i++) {
		char path[64];
		snprintf(path, sizeof path, "fixtures.0.heap.top.%d.location", i);
		assert_contains(it_str(r.report, path), "configs/lab/service.py:");
	}
	assert_between(it_int(r.report, "fixtures.0.heap.peak_bytes"), 150 * MiB, 300 * MiB);
	assert_int_equal(it_int(r.report, "fixtures.0.heap.processes.0.pid") > 0, 1);
	/* the fixed service: nothing at the same three sites grows */
	for (int i = 0; i < 3; i++) {
		json_t *s = site_at(r.report, "fixtures.1", "top",
				    loc(where, sizeof where, "configs/lab/service_fixed.py", markers[i]));
		if (s)
			assert_between(site_bytes(s), 0, 2 * MiB);
	}
	json_t *top = it_get(r.report, "fixtures.1.heap.top");
	for (size_t i = 0; i < json_array_size(top); i++)
		assert_between(site_bytes(json_array_get(top, i)), 0, 4 * MiB);
	assert_between(it_int(r.report, "fixtures.1.heap.peak_bytes"), 0, 16 * MiB);
	assert_true(json_equal(it_get(r.report, "fixtures.0.heap"), it_get(r.report, "fixtures.0.python_heap")));
	it_free(&r);
}

/* ---- memray: how the program ends ---------------------------------------- */

/* A plain script: its two lines that keep memory are named, with sizes at
 * the peak (the cache ~5.3 MiB, 48 x 64 KiB buffers). */
static void memray_plain_script(void **state)
{
	(void)state;
	char py[PATH_MAX], cache[64], held[64];
	it_venv_python(py, sizeof py);
	struct it_run r;
	run_memray(&r, py, "\"" WORKLOAD_PY "\", \"ok\"", "{\"tool\": \"memray\", \"top\": 3}", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(it_str(r.report, "fixtures.0.heap.top.0.location"),
			    loc(cache, sizeof cache, WORKLOAD_PY, "CACHE-LINE"));
	assert_string_equal(it_str(r.report, "fixtures.0.heap.top.0.function"), "fill_cache");
	assert_between(it_int(r.report, "fixtures.0.heap.top.0.size_bytes"), 4 * MiB, 7 * MiB);
	assert_string_equal(it_str(r.report, "fixtures.0.heap.top.1.location"),
			    loc(held, sizeof held, WORKLOAD_PY, "HELD-LINE"));
	assert_between(it_int(r.report, "fixtures.0.heap.top.1.size_bytes"), 3 * MiB, 3 * MiB + 64 * 1024);
	assert_int_equal(it_int(r.report, "fixtures.0.heap.top.1.count"), 48);
	assert_true(json_array_size(it_get(r.report, "fixtures.0.heap.top")) <= 3);
	assert_non_null(note_with(r.report, "second run under memray"));
	/* RSS comes from the run without memray */
	assert_between(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), 6 * MiB, 80 * MiB);
	it_free(&r);
}

/* A script that raises, one that exits 3: memray passes the status
 * through; the fixture fails for the program's exit (1, not memgate's 3),
 * and the heap of the run is still reported. */
static void memray_failing_scripts(void **state)
{
	(void)state;
	char py[PATH_MAX], cache[64];
	it_venv_python(py, sizeof py);
	loc(cache, sizeof cache, WORKLOAD_PY, "CACHE-LINE");
	static const struct {
		const char *mode;
		int code;
	} cases[] = {{"raise", 1}, {"exit3", 3}};
	for (size_t i = 0; i < 2; i++) {
		char args[128], want[64];
		snprintf(args, sizeof args, "\"%s\", \"%s\"", WORKLOAD_PY, cases[i].mode);
		struct it_run r;
		run_memray(&r, py, args, "{\"tool\": \"memray\"}", NULL);
		assert_int_equal(r.status, 1);
		assert_string_equal(it_str(r.report, "fixtures.0.verdict"), "fail");
		assert_int_equal(it_int(r.report, "fixtures.0.exit.code"), cases[i].code);
		assert_string_equal(it_str(r.report, "fixtures.0.heap.top.0.location"), cache);
		snprintf(want, sizeof want, "under memray, the program exited with status %d", cases[i].code);
		if (!note_with(r.report, want))
			fail_msg("%s: no note \"%s\":\n%s", cases[i].mode, want, r.err);
		it_free(&r);
	}
}

/* -m MODULE that cannot be imported: memray exits 1 with a capture of the
 * import machinery (NOTES.md item 1), which once was reported as the
 * program's heap. The probe finds no module: the fixture fails for the
 * program (exit 1), without a heap, and says why. */
static void memray_module_missing(void **state)
{
	(void)state;
	char py[PATH_MAX];
	it_venv_python(py, sizeof py);
	struct it_run r;
	run_memray(&r, py, "\"-m\", \"no_such_module_xyz\"", "{\"tool\": \"memray\"}", NULL);
	assert_int_equal(r.status, 1);
	assert_int_equal(it_int(r.report, "fixtures.0.exit.code"), 1);
	assert_true(json_is_null(it_get(r.report, "fixtures.0.heap")));
	const char *n = note_with(r.report, "memray: skipped");
	if (!n)
		fail_msg("no note on the skipped attribution:\n%s", r.err);
	assert_contains(n, "No module named no_such_module_xyz");
	it_free(&r);
}

/* ---- memray: --native, a fork pool ----------------------------------------- */

/* --native on the NumPy workload: the lines that made the arrays, 4 MiB
 * each at the peak, with the native function under them where memray
 * names one. */
static void memray_native_numpy(void **state)
{
	(void)state;
	char py[PATH_MAX];
	it_venv_python(py, sizeof py);
	char check[PATH_MAX + 64];
	snprintf(check, sizeof check, "%s -c 'import numpy' >/dev/null 2>&1", py);
	if (system(check) != 0)
		fail_msg("%s cannot import numpy: run: apt-get install -y python3-numpy (the venv sees Debian's)", py);
	struct it_run r;
	run_memray(&r, py, "\"configs/lab/numpy_workload.py\", \"--mib\", \"16\"",
		   "{\"tool\": \"memray\", \"native\": true, \"top\": 10}", NULL);
	assert_int_equal(r.status, 0);
	json_t *top = it_get(r.report, "fixtures.0.heap.top");
	int arrays = 0, named = 0;
	for (size_t i = 0; i < json_array_size(top); i++) {
		json_t *s = json_array_get(top, i);
		const char *l = json_string_value(json_object_get(s, "location"));
		/* a Python line; or, for memory a native thread took with no
		 * Python frame above it (NumPy's BLAS threads, under load at
		 * the peak), at least the native function: never unnamed */
		if (strstr(l, "<unknown>") && !json_is_string(json_object_get(s, "native")))
			fail_msg("a site with neither a Python line nor a native function: %s",
				 json_dumps(s, JSON_COMPACT));
		if (strstr(l, "numpy") && site_bytes(s) >= 4 * MiB - 4096 && site_bytes(s) <= 4 * MiB + 4096)
			arrays++;
		if (json_object_get(s, "native"))
			named++;
	}
	if (arrays < 3 || named < 3)
		fail_msg("expected the NumPy arrays (4 MiB each) with native frames, got %d arrays, %d named:\n%s", arrays,
			 named, json_dumps(top, JSON_INDENT(1)));
	it_free(&r);
}

/* A pool of forked workers under --follow-fork: every child's capture is
 * summarised and merged into the one table, with each process's peak, and
 * every capture file is removed (NOTES.md item 3). */
static void memray_fork_pool(void **state)
{
	(void)state;
	char py[PATH_MAX], worker[64], tmp[64];
	it_venv_python(py, sizeof py);
	snprintf(tmp, sizeof tmp, "/tmp/memgate-it-tmp-%d-XXXXXX", (int)getpid());
	assert_non_null(mkdtemp(tmp));
	setenv("TMPDIR", tmp, 1);
	struct it_run r;
	run_memray(&r, py, "\"" WORKLOAD_PY "\", \"pool\"", "{\"tool\": \"memray\", \"follow_fork\": true, \"top\": 3}",
		   NULL);
	unsetenv("TMPDIR");
	assert_int_equal(r.status, 0);
	json_t *procs = it_get(r.report, "fixtures.0.heap.processes");
	assert_int_equal(json_array_size(procs), 3); /* the program and its 2 workers */
	assert_false(it_bool(r.report, "fixtures.0.heap.processes.0.forked"));
	long long sum = 0, workers = 0;
	for (size_t i = 0; i < 3; i++) {
		json_t *p = json_array_get(procs, i);
		long long peak = json_integer_value(json_object_get(p, "peak_bytes"));
		sum += peak;
		if (i) { /* which worker takes how many of the 4 tasks is the pool's choice */
			assert_true(json_is_true(json_object_get(p, "forked")));
			assert_true(json_integer_value(json_object_get(p, "pid")) > 0);
			workers += peak;
		}
	}
	assert_between(workers, 8 * MiB, 20 * MiB); /* 4 tasks x 2 MiB, whoever ran them */
	assert_int_equal(it_int(r.report, "fixtures.0.heap.peak_bytes"), sum);
	/* 4 tasks x 65536 floats, in the workers: the largest site of all */
	assert_string_equal(it_str(r.report, "fixtures.0.heap.top.0.location"),
			    loc(worker, sizeof worker, WORKLOAD_PY, "WORKER-LINE"));
	assert_between(it_int(r.report, "fixtures.0.heap.top.0.size_bytes"), 8 * MiB, 14 * MiB);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rmdir %s", tmp); /* fails when anything was left in it */
	if (system(cmd) != 0)
		fail_msg("memgate left files in its TMPDIR %s", tmp);
	it_free(&r);
}

/* ---- memray: missing -------------------------------------------------------- */

/* Debian's own python3 has no memray: an error (exit 3) with the install
 * that works on Debian 12 (a venv, NOTES.md item 7), or a note with
 * "optional": true. The probe runs with the command's own interpreter
 * options: the venv's python with -S cannot import memray either (item 2),
 * and the message names the option. */
static void memray_missing(void **state)
{
	(void)state;
	char py[PATH_MAX];
	it_venv_python(py, sizeof py);
	if (system("/usr/bin/python3 -c 'import memray' >/dev/null 2>&1") == 0)
		fail_msg("/usr/bin/python3 imports memray: this test needs an interpreter without it");
	struct it_run r;
	run_memray(&r, "/usr/bin/python3", "\"" WORKLOAD_PY "\", \"ok\"", "{\"tool\": \"memray\"}", NULL);
	assert_int_equal(r.status, 3);
	const char *why = it_str(r.report, "fixtures.0.reasons.0");
	assert_contains(why, "/usr/bin/python3 cannot import memray");
	assert_contains(why, "/usr/bin/python3 -m venv --system-site-packages .venv && .venv/bin/python -m pip install "
			     "memray==1.20.0");
	it_free(&r);

	run_memray(&r, "/usr/bin/python3", "\"" WORKLOAD_PY "\", \"ok\"", "{\"tool\": \"memray\", \"optional\": true}",
		   NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(note_with(r.report, "skipped (\"optional\": true)"));
	assert_true(json_is_null(it_get(r.report, "fixtures.0.heap")));
	it_free(&r);

	run_memray(&r, py, "\"-S\", \"" WORKLOAD_PY "\", \"ok\"", "{\"tool\": \"memray\"}", NULL);
	assert_int_equal(r.status, 3);
	why = it_str(r.report, "fixtures.0.reasons.0");
	assert_contains(why, " -S cannot import memray");
	assert_contains(why, "-S hides site-packages");
	it_free(&r);
}

/* ---- memray: artifacts, and the user under sudo ---------------------------- */

/* --artifacts DIR: memray's flame graph of the run, DIR/NAME.html, named in
 * the report and in the markdown summary. */
static void memray_flamegraph_artifact(void **state)
{
	(void)state;
	char py[PATH_MAX], dir[64], html[96], md[64];
	it_venv_python(py, sizeof py);
	snprintf(dir, sizeof dir, "/tmp/memgate-it-art-%d/sub", (int)getpid());
	snprintf(html, sizeof html, "%s/m.html", dir);
	snprintf(md, sizeof md, "/tmp/memgate-it-md-%d.md", (int)getpid());
	struct it_run r;
	run_memray(&r, py, "\"" WORKLOAD_PY "\", \"ok\"", "{\"tool\": \"memray\"}",
		   (const char *const[]){"--artifacts", dir, "--markdown", md, NULL});
	assert_int_equal(r.status, 0);
	assert_string_equal(it_str(r.report, "fixtures.0.heap.flamegraph"), html);
	struct stat st;
	assert_int_equal(stat(html, &st), 0);
	assert_true(st.st_size > 10000);
	FILE *f = fopen(md, "r");
	assert_non_null(f);
	char text[65536];
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	assert_contains(text, html);
	unlink(md);
	unlink(html);
	rmdir(dir);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	it_free(&r);
}

/* Under sudo, memray (the probe, the run, the summaries, the flame graph)
 * runs as the invoking user, never as root: the program says whose it is,
 * and the flame graph memray wrote is the user's. */
static void memray_runs_as_the_invoking_user(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip_because("not root (switching users needs root)");
	char py[PATH_MAX], dir[64], html[96], uidlog[64], args[256];
	it_venv_python(py, sizeof py);
	snprintf(dir, sizeof dir, "/tmp/memgate-it-art-uid-%d", (int)getpid());
	snprintf(html, sizeof html, "%s/m.html", dir);
	snprintf(uidlog, sizeof uidlog, "/tmp/memgate-it-memray-uid-%d", (int)getpid());
	int fd = open(uidlog, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	assert_true(fd >= 0 && fchmod(fd, 0666) == 0);
	close(fd);
	snprintf(args, sizeof args, "\"-c\", \"import os; open('%s', 'a').write('%%d\\\\n' %% os.getuid()); "
		 "x = bytearray(4 << 20)\"", uidlog);
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65534", 1);
	struct it_run r;
	run_memray(&r, py, args, "{\"tool\": \"memray\"}", (const char *const[]){"--artifacts", dir, NULL});
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	if (r.status != 0)
		fail_msg("exit %d:\n%s", r.status, r.err);
	assert_string_equal(it_str(r.report, "fixtures.0.heap.tool"), "memray");
	FILE *f = fopen(uidlog, "r");
	assert_non_null(f);
	char line[64];
	int lines = 0;
	while (fgets(line, sizeof line, f)) {
		assert_string_equal(line, "65534\n");
		lines++;
	}
	fclose(f);
	unlink(uidlog);
	assert_int_equal(lines, 2); /* the measured run and memray's */
	struct stat st;
	assert_int_equal(stat(html, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	unlink(html);
	rmdir(dir);
	it_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tracemalloc_names_the_line),
		cmocka_unit_test(a_file_name_not_utf8_keeps_the_report),
		cmocka_unit_test(not_python_is_noted),
		cmocka_unit_test(a_fifo_for_the_heap_report_does_not_hang),
		cmocka_unit_test(memray_lab_services),
		cmocka_unit_test(memray_plain_script),
		cmocka_unit_test(memray_failing_scripts),
		cmocka_unit_test(memray_module_missing),
		cmocka_unit_test(memray_native_numpy),
		cmocka_unit_test(memray_fork_pool),
		cmocka_unit_test(memray_missing),
		cmocka_unit_test(memray_flamegraph_artifact),
		cmocka_unit_test(memray_runs_as_the_invoking_user),
	};
	return cmocka_run_group_tests_name("python heap (integration)", tests, NULL, it_config_cleanup);
}
