/* The GitHub Actions renderer: job summary, step outputs, annotations. */
#include "testutil.h"

#include <jansson.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd/cmd.h"
#include "report/render.h"

#define MIB ((json_int_t)1 << 20)

static json_t *load_report(const char *name)
{
	char path[128];
	snprintf(path, sizeof path, "reports/%s.json", name);
	char *text = tu_read_data(path);
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	free(text);
	return j;
}

/* A temporary file holding `content`; path written to buf. */
static void temp_file(char *buf, size_t len, const char *content)
{
	snprintf(buf, len, "/tmp/memgate-gh-XXXXXX");
	int fd = mkstemp(buf);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* GITHUB_OUTPUT's content as GitHub reads it: "name=value" lines and
 * "name<<DELIM" ... "DELIM" blocks, into an object of strings; a name
 * given twice fails the test (GitHub would keep the last one). */
static json_t *parse_outputs(const char *text)
{
	json_t *o = json_object();
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		char line[1024];
		snprintf(line, sizeof line, "%.*s", (int)(nl - p), p);
		char *heredoc = strstr(line, "<<"), *eq = strchr(line, '=');
		if (heredoc && (!eq || heredoc < eq)) {
			*heredoc = '\0';
			char end[160];
			snprintf(end, sizeof end, "\n%s\n", heredoc + 2);
			const char *stop = strstr(nl, end);
			assert_non_null(stop);
			if (json_object_get(o, line))
				fail_msg("output %s given twice", line);
			json_object_set_new(o, line, json_stringn(nl + 1, stop > nl ? (size_t)(stop - nl - 1) : 0));
			p = stop + strlen(end);
		} else {
			assert_non_null(eq);
			*eq = '\0';
			if (json_object_get(o, line))
				fail_msg("output %s given twice", line);
			json_object_set_new(o, line, json_string(eq + 1));
			p = nl + 1;
		}
	}
	return o;
}

/* Render with annotations captured; returns rc. */
struct run {
	int rc;
	char err[512];
	char *annotations;
	size_t len;
};

static struct run github(json_t *rep, const char *report_path, const char *summary, const char *output)
{
	struct run r = {0};
	FILE *ann = open_memstream(&r.annotations, &r.len);
	struct mg_github_env env = {summary, output, ann};
	r.rc = mg_render_github(rep, report_path, &env, r.err, sizeof r.err);
	fclose(ann);
	return r;
}

/* A failing fixture, valid in every key report_json.c writes. */
static json_t *fixture(const char *name, const char *verdict, json_int_t rss, json_int_t limit, const char *reason)
{
	json_t *f = json_pack("{s:s, s:s, s:[s], s:[s], s:{s:i, s:n, s:n, s:b, s:b}, s:i,"
			      " s:{s:s, s:i, s:i, s:n, s:[], s:i, s:i},"
			      " s:{s:I, s:I, s:I, s:n}, s:[{s:s, s:I, s:I, s:b}], s:n, s:i, s:i, s:[], s:[]}",
			      "name", name, "verdict", verdict, "reasons", reason, "command", "true",
			      "exit", "code", 0, "signal", "signal_name", "timed_out", 0, "oom_killed", 0, "wall_ms", 100,
			      "measurement", "method", "cgroup-v2", "interval_ms", 10, "samples", 10, "fallback_reason",
			      "notes", "self_cpu_ms", 1, "self_maxrss_bytes", 1000,
			      "peak", "cgroup_bytes", rss, "tree_rss_bytes", rss, "max_process_hwm_bytes", rss,
			      "tree_pss_bytes",
			      "limits", "metric", "tree_rss", "limit_bytes", limit, "value_bytes", rss, "ok", rss <= limit,
			      "kill_above_bytes", "oom_kills", 0, "leftover_processes", 0, "processes", "series");
	assert_non_null(f);
	return f;
}

static json_t *report_of(const char *verdict, json_t *fixtures)
{
	return json_pack("{s:i, s:s, s:s, s:n, s:o}", "schema", 1, "memgate_version", "0.1.0", "verdict", verdict,
			 "interrupted_by", "fixtures", fixtures);
}

static void writes_summary_outputs_and_annotations(void **state)
{
	(void)state;
	char summary[64], output[64];
	temp_file(summary, sizeof summary, "previous step\n");
	temp_file(output, sizeof output, "x=1\n");
	json_t *rep = load_report("mixed");
	struct run r = github(rep, "build/memgate-report.json", summary, output);
	assert_int_equal(r.rc, 0);

	char *s = slurp(summary);
	assert_true(strncmp(s, "previous step\n\n**memgate: ERROR** — 4 of 6 fixtures failed, 2 could not be measured\n\n",
			    strlen("previous step\n\n**memgate: ERROR** — 4 of 6 fixtures failed, 2 could not be measured\n\n")) == 0);
	assert_contains(s, "### FAIL: grow-over\n");
	free(s);

	char *o = slurp(output);
	assert_true(strncmp(o, "x=1\nverdict=error\nreport<<ghadelimiter_memgate_", 46) == 0);
	char delim[80];
	assert_int_equal(sscanf(o + strlen("x=1\nverdict=error\nreport<<"), "%79s", delim), 1);
	assert_int_equal(strlen(delim), strlen("ghadelimiter_memgate_") + 32);
	char want[512];
	snprintf(want, sizeof want, "report<<%s\nbuild/memgate-report.json\n%s\n"
				    "peak_grow-over=102014976\npeak_proc-pss=28663808\npeak_crash=13955072\n"
				    "peak_exit-3=1155072\npeak_no-such-command=\npeak_spike=51449856\n", delim, delim);
	/* the keys a workflow may read stay as they were, first */
	assert_true(strncmp(o + strlen("x=1\nverdict=error\n"), want, strlen(want)) == 0);
	/* then every fixture's figures, in report order: not measured is empty */
	assert_contains(o, "\npeak_spike=51449856\ngrow-over-tree-rss=102014976\ngrow-over-cgroup=101105664\n"
			   "grow-over-cgroup-anon=\ngrow-over-max-process-hwm=102014976\ngrow-over-pss=\n"
			   "proc-pss-tree-rss=28663808\nproc-pss-cgroup=\n");
	assert_contains(o, "\nno-such-command-tree-rss=\nno-such-command-cgroup=\nno-such-command-cgroup-anon=\n"
			   "no-such-command-max-process-hwm=\nno-such-command-pss=\n");
	json_t *outs = parse_outputs(o + strlen("x=1\n"));
	assert_int_equal(json_object_size(outs), 1 + 1 + 6 + 6 * 5 + 1); /* verdict, report, peaks, figures */
	json_t *fig = json_loads(json_string_value(json_object_get(outs, "figures")), 0, NULL);
	assert_int_equal(json_object_size(fig), 6 * 5);
	assert_int_equal(json_integer_value(json_object_get(fig, "spike-max-process-hwm")), 51449856);
	assert_true(json_is_null(json_object_get(fig, "exit-3-pss")));
	json_decref(fig);
	json_decref(outs);
	free(o);

	/* errors first, then failures by how far over the limit, then report order */
	assert_string_equal(r.annotations,
			    "::error title=memgate%3A proc-pss::cgroup limit 100.0 MiB cannot be checked: not measured with proc\n"
			    "::error title=memgate%3A no-such-command::cannot execute \"/nonexistent/cmd\": command not found (check the command and PATH)\n"
			    "::error title=memgate%3A grow-over::tree_rss 97.3 MiB > limit 64.0 MiB\n"
			    "::error title=memgate%3A spike::max_process_hwm 49.1 MiB > limit 40.0 MiB\n"
			    "::error title=memgate%3A crash::killed by signal 11 (SIGSEGV)\n"
			    "::error title=memgate%3A exit-3::exited with code 3\n");
	free(r.annotations);
	json_decref(rep);
	unlink(summary);
	unlink(output);
}

/* A failing fixture with heap attribution says where to look: the heap's
 * largest site, heaptrack's largest leak; python_heap (the block's first
 * name) in an older report. The job summary has the whole heap. */
static void annotation_names_the_heap_site(void **state)
{
	(void)state;
	char summary[64];
	temp_file(summary, sizeof summary, "");
	json_t *rep = load_report("heaptrack");
	struct run r = github(rep, NULL, summary, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.annotations,
			    "::error title=memgate%3A native-leaky::tree_rss 48.6 MiB > limit 24.0 MiB; growth_per_request "
			    "68.7 KiB/request > limit 8.0 KiB/request; native heap (heaptrack): peak 47.0 MiB, leaked 47.0 "
			    "MiB, largest leak configs/lab/native_service.c:86 (31.3 MiB)\n");
	char *s = slurp(summary);
	assert_contains(s, "| configs/lab/native_service.c:86 (render_entry) | 31.3 MiB | 1000 | 31.3 MiB |\n");
	free(s);
	free(r.annotations);
	json_decref(rep);

	rep = load_report("python");
	r = github(rep, NULL, NULL, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.annotations,
			    "::error title=memgate%3A py-leak::tree_rss 93.4 MiB > limit 40.0 MiB; python_heap 46.4 MiB > "
			    "limit 30.0 MiB; python heap (tracemalloc): peak 46.4 MiB, largest site /tmp/py/leak.py:5 "
			    "(40.5 MiB)\n");
	free(r.annotations);
	json_decref(rep);
	unlink(summary);
}

static void passing_report_has_no_annotations(void **state)
{
	(void)state;
	char output[64];
	temp_file(output, sizeof output, "");
	json_t *rep = load_report("demo");
	struct run r = github(rep, NULL, NULL, output);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.len, 0);
	char *o = slurp(output);
	/* no report path given: no report output */
	const char before[] = "verdict=pass\npeak_hold-64MiB=68481024\npeak_workers-4x16MiB=71294976\n"
			      "peak_forked-shared-32MiB=137052160\nhold-64mib-tree-rss=68481024\n";
	assert_true(strncmp(o, before, strlen(before)) == 0);
	assert_contains(o, "\nforked-shared-32mib-pss=33997824\nfigures<<ghadelimiter_memgate_");
	free(o);
	free(r.annotations);
	json_decref(rep);
	unlink(output);
}

/* 15 not passing: 9 annotations, the 10th sums up the other 6. */
static void at_most_ten_errors(void **state)
{
	(void)state;
	json_t *a = json_array();
	for (int i = 0; i < 15; i++) {
		char name[16];
		snprintf(name, sizeof name, "f%02d", i);
		if (i % 5 == 4) {
			json_t *f = fixture(name, "error", 10 * MIB, 100 * MIB, "cannot measure");
			json_array_append_new(a, f);
		} else {
			/* further over the limit the later it comes */
			json_array_append_new(a, fixture(name, "fail", (json_int_t)(101 + i) * MIB, 100 * MIB, "over"));
		}
	}
	json_t *rep = report_of("error", a);
	struct run r = github(rep, "r.json", NULL, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(count(r.annotations, "::error "), 10);
	assert_int_equal(count(r.annotations, "\n"), 10);
	assert_string_equal(r.annotations,
			    "::error title=memgate%3A f04::cannot measure\n"
			    "::error title=memgate%3A f09::cannot measure\n"
			    "::error title=memgate%3A f14::cannot measure\n"
			    "::error title=memgate%3A f13::over\n"
			    "::error title=memgate%3A f12::over\n"
			    "::error title=memgate%3A f11::over\n"
			    "::error title=memgate%3A f10::over\n"
			    "::error title=memgate%3A f08::over\n"
			    "::error title=memgate%3A f07::over\n"
			    "::error title=memgate::\xE2\x80\xA6 and 6 more failing fixtures; see the job summary\n");
	free(r.annotations);
	json_decref(rep);

	/* exactly 10: all of them, no summary line */
	a = json_array();
	for (int i = 0; i < 10; i++) {
		char name[16];
		snprintf(name, sizeof name, "g%d", i);
		json_array_append_new(a, fixture(name, "fail", 200 * MIB, 100 * MIB, "over"));
	}
	rep = report_of("fail", a);
	r = github(rep, "r.json", NULL, NULL);
	assert_int_equal(count(r.annotations, "::error "), 10);
	assert_int_equal(count(r.annotations, "more failing"), 0);
	free(r.annotations);
	json_decref(rep);
}

/* A phase over a cgroup limit of 100 MiB, by `over` MiB. */
static json_t *failing_phase(const char *name, int over)
{
	json_int_t v = (100 + over) * MIB;
	json_t *p = json_pack("{s:s, s:i, s:i, s:b, s:{s:I, s:n, s:n, s:n, s:n}, s:[{s:s, s:I, s:I, s:b}], s:s}", "name",
			      name, "from_ms", 10, "to_ms", 30, "exact", 1, "peak", "cgroup_bytes", v, "tree_rss_bytes",
			      "max_process_hwm_bytes", "tree_pss_bytes", "cgroup_anon_bytes", "limits", "metric", "cgroup",
			      "limit_bytes", 100 * MIB, "value_bytes", v, "ok", 0, "verdict", "fail");
	assert_non_null(p);
	return p;
}

/* One annotation per failing fixture, then per failing phase (each
 * fixture's worst first) while there is room; the last line counts what
 * was left out, fixtures and phases. The summary has the phase table. */
static void phases_annotated(void **state)
{
	(void)state;
	json_t *a = json_array();
	for (int i = 0; i < 3; i++) {
		char name[16], pn[32];
		snprintf(name, sizeof name, "f%d", i);
		json_t *f = fixture(name, "fail", 10 * MIB, 100 * MIB, "phase over");
		json_t *ph = json_array();
		for (int k = 0; k < 5; k++) {
			snprintf(pn, sizeof pn, "t::p%d", k);
			json_array_append_new(ph, failing_phase(pn, 10 * i + k + 1));
		}
		json_object_set_new(f, "phases", ph);
		json_array_append_new(a, f);
	}
	json_t *rep = report_of("fail", a);
	char summary[64];
	temp_file(summary, sizeof summary, "");
	struct run r = github(rep, "r.json", summary, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.annotations,
			    "::error title=memgate%3A f0::phase over\n"
			    "::error title=memgate%3A f1::phase over\n"
			    "::error title=memgate%3A f2::phase over\n"
			    "::error title=memgate%3A f0 / t%3A%3Ap4::cgroup 105.0 MiB > limit 100.0 MiB (20 ms, exact)\n"
			    "::error title=memgate%3A f0 / t%3A%3Ap3::cgroup 104.0 MiB > limit 100.0 MiB (20 ms, exact)\n"
			    "::error title=memgate%3A f0 / t%3A%3Ap2::cgroup 103.0 MiB > limit 100.0 MiB (20 ms, exact)\n"
			    "::error title=memgate%3A f0 / t%3A%3Ap1::cgroup 102.0 MiB > limit 100.0 MiB (20 ms, exact)\n"
			    "::error title=memgate%3A f0 / t%3A%3Ap0::cgroup 101.0 MiB > limit 100.0 MiB (20 ms, exact)\n"
			    "::error title=memgate%3A f1 / t%3A%3Ap4::cgroup 115.0 MiB > limit 100.0 MiB (20 ms, exact)\n"
			    "::error title=memgate::\xE2\x80\xA6 and 9 more failing phases; see the job summary\n");
	char *sum = slurp(summary);
	assert_contains(sum, "**Phases:** 5, 5 failing.\n");
	free(sum);
	unlink(summary);
	free(r.annotations);
	json_decref(rep);
	/* 12 failing fixtures: no room for a phase, both counted */
	a = json_array();
	for (int i = 0; i < 12; i++) {
		char name[16];
		snprintf(name, sizeof name, "g%02d", i);
		json_t *f = fixture(name, "fail", 200 * MIB, 100 * MIB, "over");
		json_object_set_new(f, "phases", json_pack("[o]", failing_phase("x", 1)));
		json_array_append_new(a, f);
	}
	rep = report_of("fail", a);
	r = github(rep, "r.json", NULL, NULL);
	assert_int_equal(count(r.annotations, "::error "), 10);
	assert_contains(r.annotations, "\n::error title=memgate::\xE2\x80\xA6 and 3 more failing fixtures and 12 more "
				       "failing phases; see the job summary\n");
	free(r.annotations);
	json_decref(rep);
}

static void escapes_workflow_commands(void **state)
{
	(void)state;
	json_t *a = json_array();
	json_t *f = fixture("a:b,c%d", "fail", 200 * MIB, 100 * MIB, "x\ny\r%z, w: v");
	json_array_append_new(a, f);
	json_t *rep = report_of("fail", a);
	char output[64];
	temp_file(output, sizeof output, "");
	struct run r = github(rep, "odd\npath.json", NULL, output);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.annotations, "::error title=memgate%3A a%3Ab%2Cc%25d::x%0Ay%0D%25z, w: v\n");
	char *o = slurp(output);
	assert_non_null(strstr(o, "\nodd\npath.json\nghadelimiter_memgate_"));
	assert_non_null(strstr(o, "\npeak_a_b_c_d=209715200\n"));
	free(o);
	free(r.annotations);
	json_decref(rep);
	unlink(output);
}

/* Names are sanitised to [A-Za-z0-9_-]; collisions (case-insensitive, as
 * GitHub expressions are) get a suffix. */
static void output_names_are_unique(void **state)
{
	(void)state;
	const char *names[] = {"a.b", "a_b", "A.B", "\xC3\xBC", "a_b_2"};
	json_t *a = json_array();
	for (size_t i = 0; i < 5; i++)
		json_array_append_new(a, fixture(names[i], "pass", MIB, 2 * MIB, "x"));
	json_t *rep = report_of("pass", a);
	char output[64];
	temp_file(output, sizeof output, "");
	struct run r = github(rep, NULL, NULL, output);
	assert_int_equal(r.rc, 0);
	char *o = slurp(output);
	const char peaks[] = "verdict=pass\npeak_a_b=1048576\npeak_a_b_2=1048576\npeak_A_B_3=1048576\n"
			     "peak___=1048576\npeak_a_b_2_2=1048576\n";
	assert_true(strncmp(o, peaks, strlen(peaks)) == 0);
	free(o);
	free(r.annotations);
	json_decref(rep);
	unlink(output);
}

/* <prefix>-<figure> outputs: the mapping of names (lowercase, runs of
 * other characters one '-'), collisions numbered in report order, a
 * figure not measured empty (null in "figures"), never a name twice. */
static void figure_outputs_names_and_values(void **state)
{
	(void)state;
	const char *names[] = {"API v2 (cold)", "api-v2-cold", "API_V2_COLD", "!!!", "caf\xC3\xA9", "a.b", "a-b-2",
			       "a b", "-x-", "not-run"};
	const char *prefixes[] = {"api-v2-cold", "api-v2-cold-2", "api-v2-cold-3", "fixture", "caf", "a-b", "a-b-2",
				  "a-b-3", "x", "not-run"};
	json_t *a = json_array();
	for (size_t i = 0; i < 10; i++)
		json_array_append_new(a, fixture(names[i], "pass", (json_int_t)(i + 1) * MIB, 64 * MIB, "x"));
	/* the first: every figure measured; the last did not run */
	json_t *peak = json_object_get(json_array_get(a, 0), "peak");
	json_object_set_new(peak, "tree_pss_bytes", json_integer(3 * MIB));
	json_object_set_new(peak, "cgroup_anon_bytes", json_integer(2 * MIB));
	json_object_set_new(peak, "cgroup_file_bytes", json_integer(0));
	json_object_set_new(json_array_get(a, 9), "exit", json_null());
	json_t *rep = report_of("pass", a);
	char output[64];
	temp_file(output, sizeof output, "");
	struct run r = github(rep, "r.json", NULL, output);
	assert_int_equal(r.rc, 0);
	char *o = slurp(output);
	json_t *outs = parse_outputs(o);
	json_t *fig = json_loads(json_string_value(json_object_get(outs, "figures")), 0, NULL);
	assert_non_null(fig);
	assert_int_equal(json_object_size(fig), 10 * 5);
	assert_int_equal(json_object_size(outs), 3 + 10 + 10 * 5); /* verdict, report, figures; peaks; figures */
	static const char *const suffixes[] = {"tree-rss", "cgroup", "cgroup-anon", "max-process-hwm", "pss"};
	for (size_t i = 0; i < 10; i++)
		for (size_t k = 0; k < 5; k++) {
			char key[96];
			snprintf(key, sizeof key, "%s-%s", prefixes[i], suffixes[k]);
			const char *v = json_string_value(json_object_get(outs, key));
			json_t *jv = json_object_get(fig, key);
			if (!v || !jv)
				fail_msg("no output %s in %s", key, o);
			/* the same figure both ways */
			if (json_is_null(jv))
				assert_string_equal(v, "");
			else
				assert_int_equal(strtoll(v, NULL, 10), json_integer_value(jv));
		}
	assert_string_equal(json_string_value(json_object_get(outs, "api-v2-cold-tree-rss")), "1048576");
	assert_string_equal(json_string_value(json_object_get(outs, "api-v2-cold-pss")), "3145728");
	assert_string_equal(json_string_value(json_object_get(outs, "api-v2-cold-cgroup-anon")), "2097152");
	assert_string_equal(json_string_value(json_object_get(outs, "api-v2-cold-2-pss")), "");
	assert_string_equal(json_string_value(json_object_get(outs, "api-v2-cold-2-cgroup")), "2097152");
	assert_string_equal(json_string_value(json_object_get(outs, "a-b-3-max-process-hwm")), "8388608");
	assert_string_equal(json_string_value(json_object_get(outs, "not-run-tree-rss")), "");
	assert_true(json_is_null(json_object_get(fig, "not-run-cgroup")));
	/* the keys that were there before stay */
	assert_string_equal(json_string_value(json_object_get(outs, "peak_API_v2__cold_")), "1048576");
	assert_string_equal(json_string_value(json_object_get(outs, "report")), "r.json");
	json_decref(fig);
	json_decref(outs);
	free(o);
	free(r.annotations);
	json_decref(rep);
	unlink(output);
}

static void malformed_report_writes_nothing(void **state)
{
	(void)state;
	char summary[64], output[64];
	temp_file(summary, sizeof summary, "before\n");
	temp_file(output, sizeof output, "before\n");
	json_t *rep = load_report("mixed");
	json_object_set_new(json_array_get(json_object_get(rep, "fixtures"), 1), "limits", json_string("none"));
	struct run r = github(rep, "r.json", summary, output);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "fixtures[1].limits: expected an array, got a string");
	assert_int_equal(r.len, 0);
	char *s = slurp(summary), *o = slurp(output);
	assert_string_equal(s, "before\n");
	assert_string_equal(o, "before\n");
	free(s);
	free(o);
	free(r.annotations);
	json_decref(rep);
	unlink(summary);
	unlink(output);
}

/* A path that cannot be written is reported; the other outputs still go out. */
static void unwritable_path_is_reported(void **state)
{
	(void)state;
	json_t *rep = load_report("oom");
	struct run r = github(rep, "r.json", "/nonexistent-dir/summary.md", NULL);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "cannot write /nonexistent-dir/summary.md: ENOENT (No such file or directory)");
	assert_string_equal(r.annotations, "::error title=memgate%3A workload::OOM-killed: the tree reached kill_above 64.0 MiB\n");
	free(r.annotations);
	/* nothing asked for: nothing done */
	r = github(rep, "r.json", NULL, NULL);
	free(r.annotations);
	struct mg_github_env none = {NULL, NULL, NULL};
	char err[64];
	assert_int_equal(mg_render_github(rep, "r.json", &none, err, sizeof err), 0);
	json_decref(rep);
}

/* The measured program can see $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT and
 * put a FIFO there: fopen("a") waited for a reader for ever and the step
 * hung. Now refused at once, named; a device (/dev/null) still works. */
static void a_fifo_for_githubs_files_is_refused(void **state)
{
	(void)state;
	json_t *rep = load_report("oom");
	char fifo[64];
	snprintf(fifo, sizeof fifo, "/tmp/memgate-gh-fifo-%d", (int)getpid());
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid_t kid = fork(); /* the hang, if any, is the child's; it is killed after 10 s */
	assert_true(kid >= 0);
	if (kid == 0) {
		struct run r = github(rep, "r.json", fifo, NULL);
		bool ok = r.rc == -1 && strstr(r.err, fifo) && strstr(r.err, "not a regular file");
		r = github(rep, "r.json", NULL, fifo);
		ok = ok && r.rc == -1 && strstr(r.err, "not a regular file");
		r = github(rep, "r.json", "/dev/null", "/dev/null");
		_exit(ok && r.rc == 0 ? 0 : 1);
	}
	int st = 0;
	pid_t w = 0;
	for (int i = 0; i < 1000 && (w = waitpid(kid, &st, WNOHANG)) == 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (w == 0) {
		kill(kid, SIGKILL);
		waitpid(kid, &st, 0);
	}
	unlink(fifo);
	json_decref(rep);
	if (w == 0)
		fail_msg("rendering to a FIFO at $GITHUB_STEP_SUMMARY hung (killed after 10 s)");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The 1 MiB limit is per step: content already in the summary file counts. */
static void summary_budget_counts_what_is_there(void **state)
{
	(void)state;
	char summary[64];
	temp_file(summary, sizeof summary, "");
	FILE *f = fopen(summary, "w");
	for (int i = 0; i < 800; i++)
		fprintf(f, "%01023d\n", i); /* 800 KiB from earlier steps */
	fclose(f);
	json_t *a = json_array();
	for (int i = 0; i < 3000; i++) {
		char name[16];
		snprintf(name, sizeof name, "f%04d", i);
		json_array_append_new(a, fixture(name, "fail", 200 * MIB, 100 * MIB, "tree_rss over"));
	}
	json_t *rep = report_of("fail", a);
	struct run r = github(rep, "r.json", summary, NULL);
	assert_int_equal(r.rc, 0);
	struct stat sb;
	assert_int_equal(stat(summary, &sb), 0);
	assert_true((size_t)sb.st_size <= MG_MARKDOWN_BUDGET + 1);
	char *s = slurp(summary);
	assert_contains(s, "\n\n**memgate: FAIL** — 3000 of 3000 fixtures failed\n");
	assert_contains(s, "not listed in the overview");
	free(s);
	free(r.annotations);
	json_decref(rep);
	unlink(summary);
}

/* mg_render_github_env: GitHub's files from the environment, where an
 * empty variable is an unset one (a workflow step that clears it). */
static void environment_empty_is_unset(void **state)
{
	(void)state;
	char summary[64], output[64];
	temp_file(summary, sizeof summary, "");
	temp_file(output, sizeof output, "");
	json_t *rep = load_report("timeout");
	char err[256] = "";
	char *ann = NULL;
	size_t len = 0;

	setenv("GITHUB_STEP_SUMMARY", "", 1);
	setenv("GITHUB_OUTPUT", output, 1);
	FILE *f = open_memstream(&ann, &len);
	assert_int_equal(mg_render_github_env(rep, "r.json", f, err, sizeof err), 0);
	fclose(f);
	assert_string_equal(err, "");
	assert_string_equal(ann, "::error title=memgate%3A workload::timed out after 2.00 s: the tree was killed\n");
	free(ann);
	char *o = slurp(output);
	assert_true(strncmp(o, "verdict=fail\nreport<<", 21) == 0);
	free(o);

	setenv("GITHUB_STEP_SUMMARY", summary, 1);
	setenv("GITHUB_OUTPUT", "", 1);
	f = open_memstream(&ann, &len);
	assert_int_equal(mg_render_github_env(rep, "r.json", f, err, sizeof err), 0);
	fclose(f);
	free(ann);
	char *s = slurp(summary);
	assert_true(strncmp(s, "**memgate: FAIL** — 1 of 1 fixture failed\n", strlen("**memgate: FAIL** — 1 of 1 fixture failed\n")) == 0);
	free(s);

	unsetenv("GITHUB_STEP_SUMMARY");
	unsetenv("GITHUB_OUTPUT");
	f = open_memstream(&ann, &len);
	assert_int_equal(mg_render_github_env(rep, "r.json", f, err, sizeof err), 0);
	fclose(f);
	free(ann);
	json_decref(rep);
	unlink(summary);
	unlink(output);
}

/* `memgate run` under Actions writes its outputs the same way: an empty
 * GITHUB_STEP_SUMMARY is skipped, not a file "" it cannot write (which
 * made a passing run exit 3). */
static void run_under_actions_skips_an_empty_summary(void **state)
{
	(void)state;
	char output[64];
	temp_file(output, sizeof output, "");
	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_STEP_SUMMARY", "", 1);
	setenv("GITHUB_OUTPUT", output, 1);
	int status = mg_execute(NULL, 0, NULL, NULL, NULL, NULL); /* no fixtures: a pass */
	unsetenv("GITHUB_ACTIONS");
	unsetenv("GITHUB_STEP_SUMMARY");
	unsetenv("GITHUB_OUTPUT");
	assert_int_equal(status, 0);
	char *o = slurp(output);
	json_t *outs = parse_outputs(o);
	assert_int_equal(json_object_size(outs), 2);
	assert_string_equal(json_string_value(json_object_get(outs, "verdict")), "pass");
	assert_string_equal(json_string_value(json_object_get(outs, "figures")), "{}");
	json_decref(outs);
	free(o);
	unlink(output);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(figure_outputs_names_and_values),
		cmocka_unit_test(writes_summary_outputs_and_annotations),
		cmocka_unit_test(annotation_names_the_heap_site),
		cmocka_unit_test(passing_report_has_no_annotations),
		cmocka_unit_test(at_most_ten_errors),
		cmocka_unit_test(phases_annotated),
		cmocka_unit_test(escapes_workflow_commands),
		cmocka_unit_test(output_names_are_unique),
		cmocka_unit_test(malformed_report_writes_nothing),
		cmocka_unit_test(unwritable_path_is_reported),
		cmocka_unit_test(a_fifo_for_githubs_files_is_refused),
		cmocka_unit_test(summary_budget_counts_what_is_there),
		cmocka_unit_test(environment_empty_is_unset),
		cmocka_unit_test(run_under_actions_skips_an_empty_summary),
	};
	return cmocka_run_group_tests_name("render_github", tests, NULL, NULL);
}
