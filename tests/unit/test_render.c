/* The report renderers: validation of the JSON report, text, markdown,
 * JUnit and SVG, on real reports (tests/data/reports/, written by
 * `memgate run/measure`) and on hand-made edge cases. */
#include "testutil.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <time.h>

#include "report/render.h"
#include "report/render_common.h"
#include "report/report_load.h"
#include "error.h"

#define MIB ((json_int_t)1 << 20)

/* ------------------------------------------------------------ helpers */

static json_t *load_report(const char *name)
{
	char path[128];
	snprintf(path, sizeof path, "reports/%s.json", name);
	char *text = tu_read_data(path);
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("%s:%d:%d: %s", path, je.line, je.column, je.text);
	free(text);
	return j;
}

typedef int (*render_fn)(json_t *, FILE *, char *, size_t);

struct rendered {
	int rc;
	char *out;        /* what was written (always a string) */
	size_t len;
	char err[512];
};

static struct rendered render(render_fn fn, json_t *report)
{
	struct rendered r = {0};
	FILE *f = open_memstream(&r.out, &r.len);
	assert_non_null(f);
	r.rc = fn(report, f, r.err, sizeof r.err);
	fclose(f);
	return r;
}

static struct rendered render_md_budget(json_t *report, size_t budget)
{
	struct rendered r = {0};
	FILE *f = open_memstream(&r.out, &r.len);
	assert_non_null(f);
	r.rc = mg_render_markdown_budget(report, f, budget, r.err, sizeof r.err);
	fclose(f);
	return r;
}

#define assert_starts(s, prefix)                                                        \
	do {                                                                            \
		const char *s_ = (s), *p_ = (prefix);                                   \
		if (strncmp(s_, p_, strlen(p_)) != 0)                                   \
			fail_msg("expected to start with \"%s\", got \"%.200s\"", p_, s_); \
	} while (0)

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* A complete fixture as report_json.c writes it, with a tree_rss limit
 * (limit 0: none) and a short series; tests then change what they need. */
static json_t *fixture(const char *name, const char *verdict, json_int_t rss, json_int_t limit)
{
	json_t *limits = json_array();
	if (limit)
		json_array_append_new(limits, json_pack("{s:s, s:I, s:I, s:b}", "metric", "tree_rss", "limit_bytes", limit,
							"value_bytes", rss, "ok", rss <= limit));
	json_t *f = json_pack("{s:s, s:s, s:[], s:[s], s:{s:i, s:n, s:n, s:b, s:b}, s:i,"
			      " s:{s:s, s:i, s:i, s:n, s:[], s:i, s:i},"
			      " s:{s:I, s:I, s:I, s:n}, s:o, s:n, s:i, s:i, s:[],"
			      " s:[[i, I], [i, I], [i, I]]}",
			      "name", name, "verdict", verdict, "reasons", "command", "true",
			      "exit", "code", 0, "signal", "signal_name", "timed_out", 0, "oom_killed", 0,
			      "wall_ms", 1500,
			      "measurement", "method", "cgroup-v2", "interval_ms", 10, "samples", 150,
			      "fallback_reason", "notes", "self_cpu_ms", 3, "self_maxrss_bytes", 2000000,
			      "peak", "cgroup_bytes", rss, "tree_rss_bytes", rss, "max_process_hwm_bytes", rss,
			      "tree_pss_bytes",
			      "limits", limits, "kill_above_bytes", "oom_kills", 0, "leftover_processes", 0,
			      "processes",
			      "series", 0, rss / 4, 700, rss, 1500, rss / 2);
	assert_non_null(f);
	return f;
}

static void add_reason(json_t *f, const char *reason)
{
	json_array_append_new(json_object_get(f, "reasons"), json_string(reason));
}

static json_t *report_of(const char *verdict, json_t *fixtures)
{
	json_t *r = json_pack("{s:i, s:s, s:s, s:n, s:o}", "schema", 1, "memgate_version", "0.1.0", "verdict", verdict,
			      "interrupted_by", "fixtures", fixtures);
	assert_non_null(r);
	return r;
}

static json_t *one(json_t *fixture_obj, const char *verdict)
{
	json_t *a = json_array();
	json_array_append_new(a, fixture_obj);
	return report_of(verdict, a);
}

/* xmllint --noout on text; skipped (once said) when xmllint is missing. */
static void assert_well_formed_xml(const char *text)
{
	if (system("command -v xmllint >/dev/null 2>&1") != 0)
		skip_because("xmllint is not installed (apt-get install libxml2-utils)");
	char path[] = "/tmp/memgate-xml-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "xmllint --noout %s", path);
	int rc = system(cmd);
	unlink(path);
	assert_int_equal(rc, 0);
}

/* demo..timeout: written by memgate before service mode; service and
 * python: by the current one (growth, service, python_heap, limit units);
 * baseline: `memgate run -c configs/demo.json --baseline B` against an
 * edited copy of an earlier run (hold-64MiB's tree_rss lowered 12 MiB and
 * its cgroup set to 0, workers' cgroup raised 5 MiB, forked-shared's
 * cgroup lowered 10 MiB). pool..procpool: by a memgate that measures
 * cgroup_anon, the page cache and the cadences, one report per case of
 * figures_golden below. phased..xdist: with phases, one report per case
 * of phases_golden below. tracemalloc..heaptrack: one per heap tool, see
 * heap_golden below. */
static const char *const real_reports[] = {"demo", "fallback", "interrupted", "long", "mixed",
					   "oom", "timeout", "service", "python", "baseline",
					   "pool", "filecache", "anon", "growth", "oomcg", "timeoutcg",
					   "cadence", "procpool", "phased", "marked", "pytest", "xdist", "phasebase",
					   "tracemalloc", "memray", "memrayfork", "heaptrack"};
#define NREAL (sizeof real_reports / sizeof real_reports[0])

static const render_fn all_renderers[] = {mg_render_text, mg_render_markdown, mg_render_junit, mg_render_svg};
#define NRENDERERS (sizeof all_renderers / sizeof all_renderers[0])

/* Every renderer refuses the report with exactly this message, and writes
 * nothing at all. */
static void assert_rejected(json_t *report, const char *message)
{
	for (size_t i = 0; i < NRENDERERS; i++) {
		struct rendered r = render(all_renderers[i], report);
		assert_int_equal(r.rc, -1);
		assert_string_equal(r.err, message);
		assert_int_equal(r.len, 0);
		free(r.out);
	}
	char err[512];
	assert_int_equal(mg_render_check(report, err, sizeof err), -1);
	assert_string_equal(err, message);
}

/* --------------------------------------------------------- validation */

static void wrong_type_names_the_path(void **state)
{
	(void)state;
	json_t *rep = load_report("mixed");
	json_t *peak = json_object_get(json_array_get(json_object_get(rep, "fixtures"), 2), "peak");
	json_object_set_new(peak, "tree_rss_bytes", json_string("big"));
	assert_rejected(rep, "fixtures[2].peak.tree_rss_bytes: expected a non-negative integer or null, got a string");
	json_object_set_new(peak, "tree_rss_bytes", json_integer(-5));
	assert_rejected(rep, "fixtures[2].peak.tree_rss_bytes: expected a non-negative integer or null, got -5");
	json_decref(rep);
}

static void missing_key_names_the_path(void **state)
{
	(void)state;
	json_t *rep = load_report("demo");
	json_t *m = json_object_get(json_array_get(json_object_get(rep, "fixtures"), 1), "measurement");
	json_object_del(m, "samples");
	assert_rejected(rep, "fixtures[1].measurement.samples: missing (expected a non-negative integer)");
	json_decref(rep);
}

static void not_a_memgate_report(void **state)
{
	(void)state;
	json_t *j = json_pack("[i, i]", 1, 2);
	assert_rejected(j, "(top level): expected a JSON object, got an array (is this a memgate --json report?)");
	json_decref(j);
	j = json_pack("{s:s}", "name", "eslint");
	assert_rejected(j, "schema: missing (is this a memgate --json report?)");
	json_decref(j);
	j = load_report("oom");
	json_object_set_new(j, "schema", json_integer(2));
	assert_rejected(j, "schema: expected 1, got 2 (this memgate reads report schema 1)");
	json_object_set_new(j, "schema", json_string("1"));
	assert_rejected(j, "schema: expected the integer 1, got a string (this memgate reads report schema 1)");
	json_decref(j);
}

static void bad_values_deep_inside(void **state)
{
	(void)state;
	json_t *rep = load_report("mixed");
	json_t *fx = json_object_get(rep, "fixtures");
	json_t *f0 = json_array_get(fx, 0);

	json_object_set_new(f0, "verdict", json_string("maybe"));
	assert_rejected(rep, "fixtures[0].verdict: expected \"pass\", \"fail\" or \"error\", got \"maybe\"");
	json_object_set_new(f0, "verdict", json_string("fail"));

	json_t *series = json_object_get(f0, "series");
	json_array_set_new(series, 3, json_pack("[i, i, i]", 1, 2, 3));
	assert_rejected(rep, "fixtures[0].series[3]: expected [ms, bytes], got another array");
	json_array_set_new(series, 3, json_pack("[i, f]", 1, 2.5));
	assert_rejected(rep, "fixtures[0].series[3]: expected [ms, bytes] as two non-negative integers");
	json_array_set_new(series, 3, json_pack("[i, i]", 30, 1024));

	json_array_set_new(json_object_get(f0, "limits"), 1, json_string("cgroup"));
	assert_rejected(rep, "fixtures[0].limits[1]: expected an object, got a string");
	json_array_set_new(json_object_get(f0, "limits"), 1,
			   json_pack("{s:s, s:I, s:n, s:s}", "metric", "cgroup", "limit_bytes", MIB, "value_bytes", "ok", "yes"));
	assert_rejected(rep, "fixtures[0].limits[1].ok: expected true or false, got a string");
	json_array_remove(json_object_get(f0, "limits"), 1);

	json_t *reasons = json_object_get(json_array_get(fx, 4), "reasons");
	json_array_append_new(reasons, json_integer(7));
	assert_rejected(rep, "fixtures[4].reasons[1]: expected a string, got an integer");
	json_array_remove(reasons, 1);

	json_t *exit = json_object_get(json_array_get(fx, 3), "exit");
	json_object_set_new(exit, "timed_out", json_null());
	assert_rejected(rep, "fixtures[3].exit.timed_out: expected true or false, got null");
	json_object_set_new(exit, "timed_out", json_false());

	json_object_set_new(json_array_get(fx, 5), "name", json_string(""));
	assert_rejected(rep, "fixtures[5].name: expected a non-empty string");
	json_object_set_new(json_array_get(fx, 5), "name", json_string("spike"));

	/* repaired: accepted again */
	char err[256];
	assert_int_equal(mg_render_check(rep, err, sizeof err), 0);
	json_decref(rep);
}

/* report_load checks whole reports and leaves reasons, limits, peak and
 * interrupted_by optional; the renderers need them. A wrong type is
 * report_load's to say (once, in its words); a missing key the view's. */
static void keys_the_renderers_need(void **state)
{
	(void)state;
	json_t *rep = one(fixture("a", "pass", MIB, 2 * MIB), "pass");
	json_t *f = json_array_get(json_object_get(rep, "fixtures"), 0);
	char err[256];

	json_object_del(rep, "interrupted_by");
	assert_int_equal(mg_report_validate(rep, err, sizeof err), 0);
	assert_rejected(rep, "interrupted_by: missing (expected a string or null)");
	json_object_set_new(rep, "interrupted_by", json_integer(2));
	assert_rejected(rep, "interrupted_by: expected a signal name like \"SIGINT\" or null, got an integer");
	json_object_set_new(rep, "interrupted_by", json_null());

	json_t *keep = json_incref(json_object_get(f, "reasons"));
	json_object_del(f, "reasons");
	assert_rejected(rep, "fixtures[0].reasons: missing (expected an array)");
	json_object_set_new(f, "reasons", json_string("x"));
	assert_rejected(rep, "fixtures[0].reasons: expected an array of strings, got a string");
	json_object_set_new(f, "reasons", keep);

	keep = json_incref(json_object_get(f, "limits"));
	json_object_del(f, "limits");
	assert_rejected(rep, "fixtures[0].limits: missing (expected an array)");
	json_object_set_new(f, "limits", json_pack("[{s:i}]", "metric", 1));
	assert_rejected(rep, "fixtures[0].limits[0].metric: expected a string, got an integer");
	json_object_set_new(f, "limits", keep);

	json_t *peak = json_incref(json_object_get(f, "peak"));
	json_object_set_new(f, "peak", json_null()); /* fine for report_load, not for a fixture that ran */
	assert_int_equal(mg_report_validate(rep, err, sizeof err), 0);
	assert_rejected(rep, "fixtures[0].peak: expected an object, got null");
	json_object_del(f, "peak");
	assert_rejected(rep, "fixtures[0].peak: missing (expected an object)");
	json_object_set_new(f, "peak", peak);
	json_object_del(peak, "tree_pss_bytes");
	assert_rejected(rep, "fixtures[0].peak.tree_pss_bytes: missing (expected a non-negative integer or null)");
	json_object_set_new(peak, "tree_pss_bytes", json_true());
	assert_rejected(rep, "fixtures[0].peak.tree_pss_bytes: expected a non-negative integer or null, got a boolean");
	json_object_set_new(peak, "tree_pss_bytes", json_null());

	assert_int_equal(mg_render_check(rep, err, sizeof err), 0);
	json_decref(rep);
}

static void optional_keys_are_checked_when_present(void **state)
{
	(void)state;
	json_t *f = fixture("svc", "pass", 10 * MIB, 20 * MIB);
	json_object_set_new(f, "python_heap", json_pack("{s:s, s:I, s:n, s:[{s:s, s:s, s:i}]}", "tool", "tracemalloc",
							"peak_bytes", 5 * MIB, "current_bytes", "top", "location", "a.py:1",
							"size_bytes", "many", "count", 1));
	json_t *rep = one(f, "pass");
	assert_rejected(rep, "fixtures[0].python_heap.top[0].size_bytes: expected a non-negative integer, got a string");
	json_t *lim = json_array_get(json_object_get(f, "limits"), 0);
	json_object_del(f, "python_heap");
	json_object_set_new(lim, "delta_bytes", json_integer(5));
	json_object_set_new(lim, "delta_pct", json_string("5%"));
	assert_rejected(rep, "fixtures[0].limits[0].delta_pct: expected a number or null, got a string");
	json_decref(rep);
}

/* A fixture that was not run has only name, verdict, reasons, command,
 * exit (null) and limits: that is valid. */
static void not_run_fixture_is_valid(void **state)
{
	(void)state;
	json_t *rep = load_report("interrupted");
	char err[256];
	assert_int_equal(mg_render_check(rep, err, sizeof err), 0);
	json_decref(rep);
}

/* --------------------------------------------------------------- text */

/* The .txt next to each real report is what memgate printed on stderr
 * for that run: rendering the JSON must give the same bytes. (Exceptions,
 * on purpose: service.txt has '?' where the service printed ESC, since a
 * report must not drive the terminal; baseline.txt has the deltas, which
 * were printed later; fallback.txt says the lost cgroup once, under the
 * verdict, and mixed.txt has "(did not start)" for the command that did
 * not, both as the renderer has said them since.) */
static void text_matches_report_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < NREAL; i++) {
		char path[128];
		snprintf(path, sizeof path, "reports/%s.txt", real_reports[i]);
		char *want = tu_read_data(path);
		json_t *rep = load_report(real_reports[i]);
		struct rendered r = render(mg_render_text, rep);
		assert_int_equal(r.rc, 0);
		if (strcmp(r.out, want) != 0)
			fail_msg("%s: got\n%s\nwant\n%s", real_reports[i], r.out, want);
		free(r.out);
		free(want);
		json_decref(rep);
	}
}

static void text_hand_made(void **state)
{
	(void)state;
	json_t *f = fixture("evil\x1b[31m", "fail", 30 * MIB, 20 * MIB);
	add_reason(f, "tree_rss 30.0 MiB > limit 20.0 MiB\nsecond line");
	json_array_append_new(json_object_get(f, "limits"),
			      json_pack("{s:s, s:I, s:I, s:b}", "metric", "growth", "limit_bytes", MIB, "value_bytes", MIB / 2,
					"ok", 1));
	json_object_set_new(f, "leftover_processes", json_integer(2));
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_text, rep);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out,
			    "memgate: FAIL (1 of 1 fixture not passing)\n"
			    "  FAIL  evil?[31m  (cgroup-v2, 1.50 s, 150 samples, 2 leftover processes killed)\n"
			    "        ! tree_rss 30.0 MiB > limit 20.0 MiB?second line\n"
			    "        tree_rss             30.0 MiB   limit     20.0 MiB   headroom -50.0%  OVER\n"
			    "        cgroup               30.0 MiB\n"
			    "        max_process_hwm      30.0 MiB\n"); /* like report_text.c: no line for growth */
	free(r.out);
	json_decref(rep);
}

/* The figures reports have had since cgroup_anon: a fixture as
 * fixture() makes it, with them added. */
static json_t *newer_fixture(const char *name, const char *verdict, json_int_t rss, json_int_t limit)
{
	json_t *f = fixture(name, verdict, rss, limit);
	json_t *peak = json_object_get(f, "peak");
	json_object_set_new(peak, "cgroup_anon_bytes", json_integer(rss));
	json_object_set_new(peak, "cgroup_file_bytes", json_integer(0));
	return f;
}

static void set_peak(json_t *f, const char *key, json_int_t v)
{
	json_object_set_new(json_object_get(f, "peak"), key, v < 0 ? json_null() : json_integer(v));
}

/* n processes in the "processes" list */
static void set_processes(json_t *f, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:i, s:s, s:I, s:I}", "pid", 100 + i, "name", "worker", "hwm_bytes",
						   MIB, "rss_peak_bytes", MIB));
	json_object_set_new(f, "processes", a);
}

/* The text of a report of f alone (f's reference is taken). */
static char *text_of(json_t *f)
{
	json_t *rep = one(f, json_string_value(json_object_get(f, "verdict")));
	struct rendered r = render(mg_render_text, rep);
	assert_int_equal(r.rc, 0);
	json_decref(rep);
	return r.out;
}

/* tree_rss far above the figures that count a shared page once, with more
 * than one process: one line under tree_rss, where it is gated. */
static void surprise_shared_pages(void **state)
{
	(void)state;
	json_t *f = newer_fixture("pool", "fail", 160 * MIB, 96 * MIB);
	set_peak(f, "cgroup_bytes", 34 * MIB);
	set_peak(f, "cgroup_anon_bytes", 32 * MIB);
	set_peak(f, "tree_pss_bytes", 33 * MIB);
	set_processes(f, 5);
	char *out = text_of(json_incref(f));
	assert_contains(out, "        tree_rss            160.0 MiB   limit     96.0 MiB   headroom -66.7%  OVER\n"
			     "          ^ shared pages counted once per process: 5 processes share about 128.0 MiB;"
			     " gate on pss or cgroup_anon\n"
			     "        cgroup               34.0 MiB\n"
			     "        cgroup_anon          32.0 MiB\n"
			     "        max_process_hwm     160.0 MiB\n"
			     "        pss                  33.0 MiB\n");
	free(out);

	/* one process: nothing is shared between processes */
	set_processes(f, 1);
	out = text_of(json_incref(f));
	assert_int_equal(count(out, "^ "), 0);
	free(out);
	/* a full list may stand for more processes */
	set_processes(f, 64);
	out = text_of(json_incref(f));
	assert_contains(out, "64+ processes share about 128.0 MiB");
	free(out);

	/* 1.5x exactly is not "well above"; nor is a gap under 4 MiB */
	set_processes(f, 3);
	set_peak(f, "tree_rss_bytes", 48 * MIB);
	out = text_of(json_incref(f));
	assert_int_equal(count(out, "^ "), 0);
	free(out);
	set_peak(f, "tree_rss_bytes", 6 * MIB);
	set_peak(f, "cgroup_bytes", 3 * MIB);
	set_peak(f, "cgroup_anon_bytes", 3 * MIB);
	set_peak(f, "tree_pss_bytes", -1);
	out = text_of(json_incref(f));
	assert_int_equal(count(out, "^ "), 0);
	free(out);

	/* without a cgroup, the advice is the figure there is */
	set_peak(f, "tree_rss_bytes", 160 * MIB);
	set_peak(f, "cgroup_bytes", -1);
	set_peak(f, "cgroup_anon_bytes", -1);
	set_peak(f, "tree_pss_bytes", 33 * MIB);
	out = text_of(json_incref(f));
	assert_contains(out, "          ^ shared pages counted once per process: 3 processes share about 127.0 MiB; gate on pss\n");
	free(out);
	/* ... and none of them at all: nothing to compare with */
	set_peak(f, "tree_pss_bytes", -1);
	out = text_of(json_incref(f));
	assert_int_equal(count(out, "^ "), 0);
	free(out);

	/* gated on something else: not where it matters */
	set_peak(f, "tree_pss_bytes", 33 * MIB);
	json_object_set_new(json_array_get(json_object_get(f, "limits"), 0), "metric", json_string("pss"));
	out = text_of(json_incref(f));
	assert_int_equal(count(out, "^ "), 0);
	free(out);
	/* ... but nothing gated at all: the figures are all a reader has */
	json_array_clear(json_object_get(f, "limits"));
	out = text_of(json_incref(f));
	assert_int_equal(count(out, "^ shared pages"), 1);
	free(out);

	/* a report from before cgroup_anon renders as it did */
	json_object_del(json_object_get(f, "peak"), "cgroup_anon_bytes");
	json_object_del(json_object_get(f, "peak"), "cgroup_file_bytes");
	out = text_of(json_incref(f));
	assert_int_equal(count(out, "^ "), 0);
	assert_int_equal(count(out, "cgroup_anon"), 0);
	free(out);
	json_decref(f);
}

/* cgroup far above the tree, the page cache most of the difference: one
 * line under cgroup. */
static void surprise_page_cache(void **state)
{
	(void)state;
	json_t *f = newer_fixture("dd", "fail", 19 * MIB, 0);
	json_array_append_new(json_object_get(f, "limits"), json_pack("{s:s, s:I, s:I, s:b}", "metric", "cgroup",
								       "limit_bytes", 128 * MIB, "value_bytes",
								       181 * MIB, "ok", 0));
	set_peak(f, "cgroup_bytes", 181 * MIB);
	set_peak(f, "cgroup_anon_bytes", 16 * MIB);
	set_peak(f, "cgroup_file_bytes", 160 * MIB);
	set_processes(f, 3);
	char *out = text_of(json_incref(f));
	assert_contains(out, "        cgroup              181.0 MiB   limit    128.0 MiB   headroom -41.4%  OVER\n"
			     "          ^ 160.0 MiB of it is page cache from files read or written;"
			     " gate on cgroup_anon to exclude it\n"
			     "        cgroup_anon          16.0 MiB\n");
	assert_int_equal(count(out, "^ "), 1);
	free(out);
	/* what is over the tree is not page cache: no explanation to give */
	set_peak(f, "cgroup_file_bytes", 20 * MIB);
	out = text_of(json_incref(f));
	assert_int_equal(count(out, "^ "), 0);
	free(out);
	/* a DB mapping its files: cgroup near the tree, but mostly page cache */
	set_peak(f, "tree_rss_bytes", 100 * MIB);
	set_peak(f, "max_process_hwm_bytes", 100 * MIB);
	set_peak(f, "cgroup_bytes", 110 * MIB);
	set_peak(f, "cgroup_file_bytes", 80 * MIB);
	out = text_of(json_incref(f));
	assert_contains(out, "          ^ 80.0 MiB of it is page cache from files read or written;");
	free(out);
	/* a few MiB of cache are not worth a line */
	set_peak(f, "tree_rss_bytes", 2 * MIB);
	set_peak(f, "cgroup_bytes", 6 * MIB);
	set_peak(f, "cgroup_file_bytes", 3 * MIB);
	out = text_of(json_incref(f));
	assert_int_equal(count(out, "^ "), 0);
	free(out);

	/* both at once (a forked pool writing files), each under its figure */
	set_peak(f, "tree_rss_bytes", 200 * MIB);
	set_peak(f, "max_process_hwm_bytes", 40 * MIB);
	set_peak(f, "cgroup_bytes", 400 * MIB);
	set_peak(f, "cgroup_anon_bytes", 40 * MIB);
	set_peak(f, "cgroup_file_bytes", 360 * MIB);
	json_array_clear(json_object_get(f, "limits"));
	out = text_of(json_incref(f));
	const char *shared = strstr(out, "^ shared pages"), *cache = strstr(out, "^ 360.0 MiB of it");
	assert_non_null(shared);
	assert_non_null(cache);
	assert_true(strstr(out, "        tree_rss ") < shared && shared < strstr(out, "        cgroup ") &&
		    strstr(out, "        cgroup ") < cache && cache < strstr(out, "        cgroup_anon "));
	free(out);
	json_decref(f);
}

/* The summary gives the reason short: no parenthesised errno text, no
 * "for mkdir PATH" with memgate's internal cgroup path (the report keeps
 * the whole reason). */
static void inexact_reason_is_brief(void **state)
{
	(void)state;
	const char *why = "cgroup v2: memory controller not available in /sys/fs/cgroup/unified (controllers: hugetlb); "
			  "cgroup v1 root not writable: EACCES (Permission denied) for mkdir "
			  "/sys/fs/cgroup/memory/process_api/d213a698dc90bdbaefd76a8265cd8d2c/memgate-2949-0";
	json_t *f = fixture("p", "pass", MIB, 0);
	json_t *m = json_object_get(f, "measurement");
	json_object_set_new(m, "method", json_string("proc"));
	json_object_set_new(m, "fallback_reason", json_string(why));
	json_t *rep = one(f, "pass");
	struct rendered r = render(mg_render_text, rep);
	assert_contains(r.out, "no cgroup memgate may use (cgroup v2: memory controller not available in "
			       "/sys/fs/cgroup/unified; cgroup v1 root not writable: EACCES); run through sudo");
	assert_int_equal(count(r.out, "memgate-2949-0"), 0);
	assert_int_equal(count(r.out, "Permission denied"), 0);
	free(r.out);
	json_decref(rep);
}

/* The cgroup lost is said once per run, under the verdict, naming the
 * fixtures when not all of them; a v2 -> v1 fallback (exact) never. */
static void inexact_backend_once(void **state)
{
	(void)state;
	const char *why = "cgroup v2: /x is not a cgroup directory";
	json_t *a = json_array(), *m;
	for (int i = 0; i < 3; i++) {
		char name[8];
		snprintf(name, sizeof name, "p%d", i);
		json_t *f = fixture(name, "pass", MIB, 0);
		m = json_object_get(f, "measurement");
		json_object_set_new(m, "method", json_string("proc"));
		json_object_set_new(m, "fallback_reason", json_string(why));
		json_array_append_new(a, f);
	}
	json_t *rep = report_of("pass", a);
	struct rendered r = render(mg_render_text, rep);
	assert_starts(r.out, "memgate: PASS (3 fixtures within limits)\n"
			     "  /proc sampling only, not the exact peak: no cgroup memgate may use (cgroup v2: /x is not a cgroup directory); run through sudo, or pass --cgroup-root a writable cgroup (memgate doctor says more)\n"
			     "  PASS  p0  (proc, 1.50 s, 150 samples)\n");
	assert_int_equal(count(r.out, why), 1);
	free(r.out);
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "**memgate: PASS** — 3 fixtures within limits\n\n**/proc sampling only**, not the exact "
			       "peak: no cgroup memgate may use (cgroup v2: /x is not a cgroup directory); run through sudo, or pass `--cgroup-root` a writable cgroup (`memgate doctor` says more)\n\n| fixture |");
	assert_int_equal(count(r.out, why), 1);
	free(r.out);

	/* one fixture with a cgroup (after an exact fallback), one asking for proc */
	m = json_object_get(json_array_get(a, 1), "measurement");
	json_object_set_new(m, "method", json_string("cgroup-v1"));
	json_object_set_new(m, "fallback_reason", json_string("cgroup v2: memory controller not available"));
	json_object_set_new(json_object_get(json_array_get(a, 2), "measurement"), "fallback_reason", json_null());
	r = render(mg_render_text, rep);
	assert_contains(r.out, "\n  /proc sampling only for p0, not the exact peak: no cgroup memgate may use (cgroup v2: /x is not a cgroup directory); run through sudo, or pass --cgroup-root a writable cgroup (memgate doctor says more)\n");
	assert_int_equal(count(r.out, "memory controller"), 0);
	assert_int_equal(count(r.out, "sampling only"), 1);
	free(r.out);
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "**/proc sampling only** for p0, not the exact peak");
	assert_int_equal(count(r.out, "memory controller"), 0);
	free(r.out);
	/* two reasons: a line each */
	m = json_object_get(json_array_get(a, 2), "measurement");
	json_object_set_new(m, "fallback_reason", json_string("cgroup v2: EACCES"));
	r = render(mg_render_text, rep);
	assert_contains(r.out, "  /proc sampling only for p0, not the exact peak: no cgroup memgate may use (cgroup v2: /x is not a cgroup directory); run through sudo, or pass --cgroup-root a writable cgroup (memgate doctor says more)\n"
			       "  /proc sampling only for p2, not the exact peak: no cgroup memgate may use (cgroup v2: EACCES); run through sudo, or pass --cgroup-root a writable cgroup (memgate doctor says more)\n");
	free(r.out);
	json_decref(rep);

	/* many fixtures: the first three named, the rest counted */
	a = json_array();
	for (int i = 0; i < 6; i++) {
		char name[8];
		snprintf(name, sizeof name, "q%d", i);
		json_t *f = fixture(name, "pass", MIB, 0);
		m = json_object_get(f, "measurement");
		json_object_set_new(m, "method", json_string(i < 5 ? "proc" : "cgroup-v2"));
		json_object_set_new(m, "fallback_reason", i < 5 ? json_string(why) : json_null());
		json_array_append_new(a, f);
	}
	rep = report_of("pass", a);
	r = render(mg_render_text, rep);
	assert_contains(r.out, "  /proc sampling only for q0, q1, q2, +2 more, not the exact peak");
	free(r.out);
	json_decref(rep);

	/* a reason each (a merged report may hold many): three, then counted,
	 * and found by sorting, not by comparing every pair */
	a = json_array();
	for (int i = 0; i < 20000; i++) {
		char name[16], reason[48];
		snprintf(name, sizeof name, "r%d", i);
		snprintf(reason, sizeof reason, "cgroup v2: reason %d", i);
		json_t *f = fixture(name, "pass", MIB, 0);
		m = json_object_get(f, "measurement");
		json_object_set_new(m, "method", json_string("proc"));
		json_object_set_new(m, "fallback_reason", json_string(reason));
		json_array_append_new(a, f);
	}
	rep = report_of("pass", a);
	r = render(mg_render_text, rep);
	assert_contains(r.out, "within limits)\n"
			       "  /proc sampling only for r0, not the exact peak: no cgroup memgate may use (cgroup v2: reason 0); run through sudo, or pass --cgroup-root a writable cgroup (memgate doctor says more)\n"
			       "  /proc sampling only for r1, not the exact peak: no cgroup memgate may use (cgroup v2: reason 1); run through sudo, or pass --cgroup-root a writable cgroup (memgate doctor says more)\n"
			       "  /proc sampling only for r2, not the exact peak: no cgroup memgate may use (cgroup v2: reason 2); run through sudo, or pass --cgroup-root a writable cgroup (memgate doctor says more)\n"
			       "  ... and 19997 more reasons for /proc sampling only (see the JSON report)\n"
			       "  PASS  r0  ");
	free(r.out);
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "…and 19997 more reasons for /proc sampling only (see the JSON report).\n\n");
	free(r.out);
	json_decref(rep);
}

/* A command that never started has no time, no samples and no method
 * worth a word. */
static void not_started_measured_nothing(void **state)
{
	(void)state;
	json_t *rep = load_report("mixed");
	struct rendered r = render(mg_render_text, rep);
	assert_contains(r.out, "  ERROR no-such-command  (did not start)\n"
			       "        ! cannot execute \"/nonexistent/cmd\"");
	assert_int_equal(count(r.out, "0 samples"), 0);
	free(r.out);
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "No figures: the command did not start.\n\n### FAIL: grow-over");
	assert_int_equal(count(r.out, "0 samples"), 0);
	free(r.out);
	json_decref(rep);
}

/* ----------------------------------------------------------- markdown */

static void markdown_real_report(void **state)
{
	(void)state;
	json_t *rep = load_report("mixed");
	struct rendered r = render(mg_render_markdown, rep);
	assert_int_equal(r.rc, 0);
	/* verdict first */
	assert_starts(r.out, "**memgate: ERROR** — 4 of 6 fixtures failed, 2 could not be measured\n\n");
	assert_contains(r.out, "| fixture | verdict | tree RSS | limit | reason |\n|---|---|---:|---:|---|\n"
			       "| proc-pss | ERROR | 27.3 MiB | 64.0 MiB | cgroup limit 100.0 MiB cannot be checked: not measured with proc |\n"
			       "| no-such-command | ERROR | n/a | 10.0 MiB | cannot execute \"/nonexistent/cmd\": command not found (check the command and PATH) |\n"
			       "| grow-over | FAIL | 97.3 MiB | 64.0 MiB | tree_rss 97.3 MiB \\> limit 64.0 MiB |\n");
	assert_contains(r.out, "### FAIL: grow-over\n\n- tree_rss 97.3 MiB \\> limit 64.0 MiB\n\n"
			       "| metric | value | limit | headroom |\n|---|---:|---:|---:|\n"
			       "| tree_rss | 97.3 MiB | 64.0 MiB | -52.0% (over) |\n"
			       "| cgroup | 96.4 MiB | 200.0 MiB | 51.8% |\n"
			       "| max_process_hwm | 97.3 MiB | — | — |\n\n");
	assert_contains(r.out, "**Exit:** killed by signal 11 (SIGSEGV)\n");
	assert_contains(r.out, "**Exit:** exited with code 3\n");
	assert_contains(r.out, "**Measured with** proc: 32 samples every 10 ms over 307 ms.\n");
	assert_contains(r.out, "**Measured with** cgroup-v1: 101 samples every 10 ms over 993 ms.\n");
	/* cgroup v1 is exact: how v2 was missed is no concern of the reader's */
	assert_int_equal(count(r.out, "memory controller not available"), 0);
	assert_contains(r.out, "### ERROR: no-such-command\n\n- cannot execute \"/nonexistent/cmd\": command not found"
			       " (check the command and PATH)\n\nNo figures: the command did not start.\n\n");
	assert_contains(r.out, "```mermaid\nxychart-beta\n    title \"tree RSS over time (flat line: tree_rss limit 64.0 MiB)\"\n"
			       "    x-axis \"time (s)\" 0 --> 0.99\n    y-axis \"tree RSS (MiB)\" 0 --> 120\n    line [0.2, 9.3, ");
	/* most severe first: errors, then the failure furthest over its limit */
	const char *order[] = {"### ERROR: proc-pss", "### ERROR: no-such-command", "### FAIL: grow-over",
			       "### FAIL: spike", "### FAIL: crash", "### FAIL: exit-3"};
	for (size_t i = 1; i < 6; i++)
		assert_true(strstr(r.out, order[i - 1]) < strstr(r.out, order[i]));
	/* no chart for no-such-command (never started) nor exit-3 (one instant) */
	assert_int_equal(count(r.out, "```mermaid"), 4);
	free(r.out);
	json_decref(rep);
}

static void markdown_pass_and_not_run(void **state)
{
	(void)state;
	json_t *rep = load_report("demo");
	struct rendered r = render(mg_render_markdown, rep);
	assert_starts(r.out, "**memgate: PASS** — 3 fixtures within limits\n\n");
	assert_int_equal(count(r.out, "**Exit:**"), 0);
	assert_contains(r.out, "| pss | 32.4 MiB | 48.0 MiB | 32.5% |\n");
	free(r.out);
	json_decref(rep);

	rep = load_report("interrupted");
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "**memgate: ERROR** — 3 of 3 fixtures could not be measured (interrupted by SIGINT)\n");
	assert_contains(r.out, "### ERROR: workers-4x16MiB\n\n- not run: memgate was interrupted\n\nNot run.\n\n");
	assert_contains(r.out, "| hold-64MiB | ERROR | 65.3 MiB | 80.0 MiB | interrupted by SIGINT: the tree was killed (+1 more) |\n");
	free(r.out);
	json_decref(rep);
}

/* The "Measured with" line tells how often it really was: the achieved
 * median interval, the one asked for when they differ by over 20%, and a
 * round over the processes when it took much longer than a tick. */
static void markdown_measured_how_often(void **state)
{
	(void)state;
	json_t *f = newer_fixture("svc", "pass", 30 * MIB, 0);
	json_t *m = json_object_get(f, "measurement");
	json_t *rep = one(f, "pass");
	struct rendered r = render(mg_render_markdown, rep);
	/* a report without the cadences says what it always said */
	assert_contains(r.out, "**Measured with** cgroup-v2: 150 samples every 10 ms over 1.50 s.\n");
	free(r.out);

	json_object_set_new(m, "achieved_interval_ms", json_pack("{s:f, s:f, s:i}", "median", 10.4, "max", 30.0, "count", 150));
	json_object_set_new(m, "per_process_interval_ms", json_pack("{s:f, s:f, s:i}", "median", 15.0, "max", 40.0, "count", 90));
	json_object_set_new(m, "pss_interval_ms", json_null());
	json_object_set_new(m, "cpu_budget_pct", json_real(1.0));
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "**Measured with** cgroup-v2: 150 samples over 1.50 s, a median 10 ms apart.\n");
	free(r.out);

	/* slower than asked, and each process read far less often */
	json_object_set_new(m, "achieved_interval_ms", json_pack("{s:f, s:f, s:i}", "median", 31.2, "max", 90.0, "count", 48));
	json_object_set_new(m, "per_process_interval_ms", json_pack("{s:f, s:f, s:i}", "median", 250.0, "max", 400.0, "count", 6));
	json_object_set_new(m, "cpu_budget_pct", json_real(0.5));
	json_object_set_new(f, "leftover_processes", json_integer(1));
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "**Measured with** cgroup-v2: 150 samples over 1.50 s, a median 31 ms apart (10 ms asked); "
			       "each process was read every 250 ms (median, within cpu_budget 0.5% of a core); "
			       "1 leftover process killed.\n");
	free(r.out);
	/* a fast tick: a decimal; faster than asked counts too */
	json_object_set_new(m, "interval_ms", json_integer(2));
	json_object_set_new(m, "achieved_interval_ms", json_pack("{s:f, s:f, s:i}", "median", 1.5, "max", 9.0, "count", 600));
	json_object_del(m, "cpu_budget_pct");
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "a median 1.5 ms apart (2 ms asked); each process was read every 250 ms (median); 1 leftover");
	free(r.out);

	/* checked when present */
	json_object_set_new(m, "achieved_interval_ms", json_pack("{s:s, s:f, s:i}", "median", "fast", "max", 9.0, "count", 6));
	assert_rejected(rep, "fixtures[0].measurement.achieved_interval_ms.median: expected a number, got a string");
	json_object_set_new(m, "achieved_interval_ms", json_pack("{s:f, s:f}", "median", 1.0, "max", 9.0));
	assert_rejected(rep, "fixtures[0].measurement.achieved_interval_ms.count: missing (expected a non-negative integer)");
	json_object_set_new(m, "achieved_interval_ms", json_pack("{s:f, s:f, s:i}", "median", -1.0, "max", 9.0, "count", 6));
	assert_rejected(rep, "fixtures[0].measurement.achieved_interval_ms.median: expected a non-negative number, got -1");
	json_object_set_new(m, "achieved_interval_ms", json_integer(3));
	assert_rejected(rep, "fixtures[0].measurement.achieved_interval_ms: expected an object or null, got an integer");
	json_object_set_new(m, "achieved_interval_ms", json_null());
	json_object_set_new(m, "cpu_budget_pct", json_string("1%"));
	assert_rejected(rep, "fixtures[0].measurement.cpu_budget_pct: expected a number, got a string");
	json_decref(rep);
}

/* cgroup_anon is a row of its own (when the report has it); a surprising
 * figure is explained in a line under the table. */
static void markdown_anon_and_surprises(void **state)
{
	(void)state;
	json_t *f = newer_fixture("pool", "fail", 160 * MIB, 96 * MIB);
	set_peak(f, "cgroup_bytes", 34 * MIB);
	set_peak(f, "cgroup_anon_bytes", 32 * MIB);
	set_processes(f, 5);
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_markdown, rep);
	assert_contains(r.out, "| tree_rss | 160.0 MiB | 96.0 MiB | -66.7% (over) |\n"
			       "| cgroup | 34.0 MiB | — | — |\n"
			       "| cgroup_anon | 32.0 MiB | — | — |\n"
			       "| max_process_hwm | 160.0 MiB | — | — |\n\n"
			       "**tree_rss:** shared pages counted once per process: 5 processes share about 128.0 MiB; "
			       "gate on pss or cgroup_anon\n\n**Measured with**");
	free(r.out);
	/* a cgroup_anon limit: its row has it, and no second row */
	json_array_append_new(json_object_get(f, "limits"), json_pack("{s:s, s:I, s:I, s:b}", "metric", "cgroup_anon",
								       "limit_bytes", 48 * MIB, "value_bytes", 32 * MIB,
								       "ok", 1));
	set_peak(f, "cgroup_file_bytes", 200 * MIB);
	set_peak(f, "cgroup_bytes", 234 * MIB);
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "| cgroup_anon | 32.0 MiB | 48.0 MiB | 33.3% |\n");
	assert_int_equal(count(r.out, "| cgroup_anon |"), 1);
	/* the cgroup is not gated: its page cache is not this fixture's concern */
	assert_int_equal(count(r.out, "page cache"), 0);
	free(r.out);
	/* null (no cgroup) but limited: a row saying so */
	set_peak(f, "cgroup_anon_bytes", -1);
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "| cgroup_anon | n/a | 48.0 MiB | — |\n");
	free(r.out);
	json_decref(rep);
}

static void markdown_escapes_cells(void **state)
{
	(void)state;
	json_t *f = fixture("a|b`c*d_e f_", "fail", 30 * MIB, 20 * MIB);
	add_reason(f, "1. x | y\nz <b>&amp; [link](u) #3 ~~s~~");
	add_reason(f, "- looks like a list");
	add_reason(f, "ping @octocat and @org/team");
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_markdown, rep);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "| a\\|b\\`c\\*d_e f\\_ | FAIL | 30.0 MiB | 20.0 MiB | "
			       "1\\. x \\| y z \\<b\\>\\&amp; \\[link\\](u) \\#3 \\~\\~s\\~\\~ (+2 more) |\n");
	assert_contains(r.out, "### FAIL: a\\|b\\`c\\*d_e f\\_\n");
	assert_contains(r.out, "- 1\\. x \\| y z \\<b\\>");
	assert_contains(r.out, "- \\- looks like a list\n");
	/* a name from the measured program never mentions anyone in a PR comment */
	assert_null(strstr(r.out, "@octo"));
	assert_contains(r.out, "ping @\xe2\x80\x8boctocat and @\xe2\x80\x8borg/team");
	/* one table row per line: no raw newline leaked from the reason */
	assert_int_equal(count(r.out, "\nz "), 0);
	free(r.out);
	json_decref(rep);
}

static void markdown_chart_is_downsampled_keeping_peaks(void **state)
{
	(void)state;
	json_t *rep = load_report("long"); /* 1100 points */
	json_t *f = json_array_get(json_object_get(rep, "fixtures"), 0);
	json_t *series = json_object_get(f, "series");
	assert_true(json_array_size(series) > 1000);
	json_int_t max = 0, last_ms = 0;
	for (size_t i = 0; i < json_array_size(series); i++) {
		json_int_t b = json_integer_value(json_array_get(json_array_get(series, i), 1));
		max = b > max ? b : max;
		last_ms = json_integer_value(json_array_get(json_array_get(series, i), 0));
	}
	struct rendered r = render(mg_render_markdown, rep);
	char axis[64], peak[32];
	snprintf(axis, sizeof axis, "x-axis \"time (s)\" 0 --> %.2f\n", (double)last_ms / 1000.0);
	snprintf(peak, sizeof peak, "%.1f", (double)max / 1048576.0);
	assert_contains(r.out, axis);
	const char *line = strstr(r.out, "    line [");
	assert_non_null(line);
	const char *end = strchr(line, ']');
	size_t commas = 0;
	for (const char *p = line; p < end; p++)
		commas += *p == ',';
	assert_int_equal(commas + 1, 100);
	char *values = strndup(line, (size_t)(end - line));
	assert_contains(values, peak); /* the peak survives downsampling */
	free(values);
	assert_contains(r.out, "    line [100.0, 100.0, ");
	free(r.out);
	json_decref(rep);
}

static void downsample_keeps_maxima(void **state)
{
	(void)state;
	struct mg_rv_point pts[1000];
	for (int i = 0; i < 1000; i++)
		pts[i] = (struct mg_rv_point){i, i == 555 ? 50 * MIB : MIB};
	double out[10];
	int64_t span;
	assert_int_equal(mg_rv_downsample(pts, 1000, 10, out, &span), 10);
	assert_int_equal(span, 999);
	assert_true(out[5] == 50.0); /* 555 falls in bucket 5 of 10 */
	assert_true(out[4] == 1.0 && out[6] == 1.0);
	/* a gap in time: the empty buckets hold the value before them */
	struct mg_rv_point gap[] = {{0, 2 * MIB}, {10, 3 * MIB}, {1000, 4 * MIB}};
	assert_int_equal(mg_rv_downsample(gap, 3, 3, out, &span), 3);
	assert_true(out[0] == 3.0 && out[1] == 3.0 && out[2] == 4.0);
	assert_int_equal(mg_rv_downsample(gap, 0, 3, out, &span), 0);
}

static void nice_ticks(void **state)
{
	(void)state;
	struct mg_ticks t;
	mg_nice_ticks(102.0, 6, &t);
	assert_true(t.step == 20.0 && t.top == 120.0 && t.count == 7 && t.decimals == 0);
	mg_nice_ticks(2.01, 10, &t);
	assert_true(t.step == 0.5 && t.top == 2.5 && t.decimals == 1);
	mg_nice_ticks(0.023, 10, &t);
	assert_true(t.step == 0.005 && fabs(t.top - 0.025) < 1e-12 && t.count == 6 && t.decimals == 3);
	mg_nice_ticks(0.122, 10, &t);
	assert_true(t.step == 0.02 && fabs(t.top - 0.14) < 1e-12 && t.decimals == 2);
	mg_nice_ticks(0.0, 5, &t); /* nothing to show still gives an axis */
	assert_true(t.top == 1.0 && t.count == 6);
}

static void markdown_baseline_delta_and_heap(void **state)
{
	(void)state;
	json_t *f = fixture("api", "fail", 200 * MIB, 190 * MIB);
	json_t *lim = json_array_get(json_object_get(f, "limits"), 0);
	json_object_set_new(lim, "baseline_bytes", json_integer(180 * MIB));
	json_object_set_new(lim, "delta_bytes", json_integer(20 * MIB + MIB * 3 / 10));
	json_object_set_new(lim, "delta_pct", json_real(6.8));
	json_array_append_new(json_object_get(f, "limits"),
			      json_pack("{s:s, s:I, s:I, s:b, s:I, s:I, s:f}", "metric", "cgroup", "limit_bytes", 300 * MIB,
					"value_bytes", 200 * MIB, "ok", 1, "baseline_bytes", 205 * MIB, "delta_bytes", -5 * MIB,
					"delta_pct", -2.44));
	json_object_set_new(f, "python_heap",
			    json_pack("{s:s, s:I, s:I, s:[{s:s, s:I, s:i}, {s:s, s:I, s:i}]}", "tool", "tracemalloc",
				      "peak_bytes", 45 * MIB, "current_bytes", 12 * MIB, "top",
				      "location", "app/models.py:42", "size_bytes", 12 * MIB, "count", 1024,
				      "location", "lib|x.py:7", "size_bytes", MIB / 2, "count", 3));
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_markdown, rep);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "| metric | value | limit | headroom | vs baseline |\n|---|---:|---:|---:|---:|\n"
			       "| tree_rss | 200.0 MiB | 190.0 MiB | -5.3% (over) | +20.3 MiB, +6.8% |\n"
			       "| cgroup | 200.0 MiB | 300.0 MiB | 33.3% | -5.0 MiB, -2.4% |\n"
			       "| max_process_hwm | 200.0 MiB | — | — | — |\n");
	assert_contains(r.out, "**Python heap** (tracemalloc): peak 45.0 MiB, current 12.0 MiB\n\n"
			       "| allocation site | size | count |\n|---|---:|---:|\n"
			       "| app/models.py:42 | 12.0 MiB | 1024 |\n"
			       "| lib\\|x.py:7 | 0.5 MiB | 3 |\n");
	free(r.out);
	json_decref(rep);

	/* without the optional keys: no such column, no such section */
	rep = load_report("demo");
	r = render(mg_render_markdown, rep);
	assert_int_equal(count(r.out, "vs baseline"), 0);
	assert_int_equal(count(r.out, "Python heap"), 0);
	free(r.out);
	json_decref(rep);
}

/* n fixtures, every one failing, each with a series of npoints. */
static json_t *many_fixtures(size_t n, size_t npoints)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof name, "fixture-%05zu", i);
		json_t *f = fixture(name, "fail", (json_int_t)(30 + i % 7) * MIB, 20 * MIB);
		add_reason(f, "tree_rss 30.0 MiB > limit 20.0 MiB");
		json_t *s = json_array();
		for (size_t k = 0; k < npoints; k++)
			json_array_append_new(s, json_pack("[I, I]", (json_int_t)k * 10, (json_int_t)(k % 13) * MIB));
		json_object_set_new(f, "series", s);
		json_array_append_new(a, f);
	}
	return report_of("fail", a);
}

static void markdown_stays_under_the_summary_limit(void **state)
{
	(void)state;
	/* 5000 fixtures: the details cannot all fit, the overview can */
	json_t *rep = many_fixtures(5000, 20);
	struct rendered r = render(mg_render_markdown, rep);
	assert_int_equal(r.rc, 0);
	assert_true(r.len <= MG_MARKDOWN_BUDGET);
	assert_starts(r.out, "**memgate: FAIL** — 5000 of 5000 fixtures failed\n\n| fixture |");
	assert_int_equal(count(r.out, "| FAIL |"), 5000);
	assert_int_equal(count(r.out, "```mermaid"), 0);
	size_t shown = count(r.out, "### FAIL: ");
	assert_true(shown > 100 && shown < 5000);
	char note[160];
	snprintf(note, sizeof note, "_Details of %zu fixtures omitted to stay under GitHub's 1 MiB job-summary limit; "
				    "see the JSON report._\n", 5000 - shown);
	assert_contains(r.out, note);
	assert_contains(r.out, "_Charts omitted to stay under GitHub's 1 MiB job-summary limit._\n");
	free(r.out);
	json_decref(rep);

	/* 600 fixtures with long series: dropping the charts is enough */
	rep = many_fixtures(600, 500);
	r = render(mg_render_markdown, rep);
	assert_true(r.len <= MG_MARKDOWN_BUDGET);
	assert_int_equal(count(r.out, "### FAIL: "), 600);
	assert_int_equal(count(r.out, "```mermaid"), 0);
	assert_contains(r.out, "_Charts omitted to stay under GitHub's 1 MiB job-summary limit._\n");
	assert_int_equal(count(r.out, "_Details of"), 0);
	free(r.out);
	json_decref(rep);

	/* a few: everything, charts included, no note */
	rep = many_fixtures(20, 500);
	r = render(mg_render_markdown, rep);
	assert_int_equal(count(r.out, "```mermaid"), 20);
	assert_int_equal(count(r.out, "omitted"), 0);
	free(r.out);
	json_decref(rep);
}

static void markdown_tiny_budget_drops_overview_rows(void **state)
{
	(void)state;
	json_t *rep = many_fixtures(200, 3);
	struct rendered r = render_md_budget(rep, 4096);
	assert_int_equal(r.rc, 0);
	assert_true(r.len <= 4096);
	size_t rows = count(r.out, "| FAIL |");
	assert_true(rows > 5 && rows < 200);
	char note[160];
	snprintf(note, sizeof note, "_%zu fixtures not listed in the overview to stay under GitHub's 1 MiB "
				    "job-summary limit; see the JSON report._\n", 200 - rows);
	assert_contains(r.out, note);
	assert_contains(r.out, "_Details of 200 fixtures omitted");
	free(r.out);
	/* no room at all: still the verdict */
	r = render_md_budget(rep, 0);
	assert_starts(r.out, "**memgate: FAIL** — 200 of 200 fixtures failed\n\n_Details of 200");
	free(r.out);
	json_decref(rep);
}

/* ------------------------------------------------------------ errno */

static void errno_is_named_and_told(void **state)
{
	(void)state;
	char buf[160], err[64];
	assert_string_equal(mg_errno_text(ENOSPC, buf, sizeof buf), "ENOSPC (No space left on device)");
	assert_string_equal(mg_errno_text(4242, buf, sizeof buf), "errno 4242 (Unknown error 4242)");
	assert_int_equal(mg_cannot(err, sizeof err, "write", "/x/r.md", EACCES), -1);
	assert_string_equal(err, "cannot write /x/r.md: EACCES (Permission denied)");
	assert_int_equal(mg_cannot(NULL, 0, "write", "/x/r.md", EACCES), -1);
	/* cut, never overrun */
	assert_int_equal(mg_cannot(err, 16, "write", "/x/r.md", EACCES), -1);
	assert_string_equal(err, "cannot write /x");
}

/* -------------------------------------------------------------- junit */

static void junit_real_report(void **state)
{
	(void)state;
	json_t *rep = load_report("mixed");
	struct rendered r = render(mg_render_junit, rep);
	assert_int_equal(r.rc, 0);
	assert_well_formed_xml(r.out);
	/* 6 run testcases + 7 limits; failures: tree_rss, hwm, crash, exit-3;
	 * errors: proc-pss cgroup, no-such-command run + tree_rss */
	assert_contains(r.out, "<testsuite name=\"memgate\" tests=\"13\" failures=\"4\" errors=\"3\" skipped=\"0\" time=\"1.570\">\n");
	assert_contains(r.out, "  <testcase classname=\"grow-over\" name=\"tree_rss\" time=\"0.000\">\n"
			       "    <failure message=\"tree_rss 97.3 MiB &gt; limit 64.0 MiB\" type=\"limit\">");
	assert_contains(r.out, "  <testcase classname=\"crash\" name=\"run\" time=\"0.051\">\n"
			       "    <failure message=\"killed by signal 11 (SIGSEGV)\" type=\"exit\">");
	assert_contains(r.out, "  <testcase classname=\"no-such-command\" name=\"run\" time=\"0.000\">\n"
			       "    <error message=\"cannot execute &quot;/nonexistent/cmd&quot;: command not found (check the command and PATH)\" type=\"error\">");
	assert_contains(r.out, "  <testcase classname=\"proc-pss\" name=\"cgroup\" time=\"0.000\">\n"
			       "    <error message=\"cgroup limit 100.0 MiB cannot be checked: not measured\" type=\"not-measured\">");
	/* the proc-pss run itself was fine: its error is the unmeasured limit */
	assert_contains(r.out, "  <testcase classname=\"proc-pss\" name=\"run\" time=\"0.307\">\n    <system-out>");
	/* a fixture without limits still appears */
	assert_int_equal(count(r.out, "classname=\"crash\""), 1);
	free(r.out);
	json_decref(rep);
}

/* Whatever the report, a fixture that did not pass has a testcase that
 * did not pass, and the counts add up. */
static void junit_counts_agree_with_verdicts(void **state)
{
	(void)state;
	for (size_t i = 0; i < NREAL; i++) {
		json_t *rep = load_report(real_reports[i]);
		struct rendered r = render(mg_render_junit, rep);
		assert_int_equal(r.rc, 0);
		assert_well_formed_xml(r.out);
		json_t *fx = json_object_get(rep, "fixtures");
		size_t tests = 0;
		for (size_t k = 0; k < json_array_size(fx); k++) {
			json_t *f = json_array_get(fx, k);
			tests += 1 + json_array_size(json_object_get(f, "limits")) +
				 json_array_size(json_object_get(f, "baseline"));
			json_t *ph = json_object_get(f, "phases"), *pk;
			size_t pi;
			json_array_foreach(ph, pi, pk) { /* with a limit, or over its baseline: a testcase */
				json_t *b, *bl = json_object_get(pk, "baseline");
				size_t bi;
				bool over = false;
				json_array_foreach(bl, bi, b)
					over |= json_is_false(json_object_get(b, "baseline_ok"));
				tests += json_array_size(json_object_get(pk, "limits")) > 0 || over;
			}
			if (strcmp(json_string_value(json_object_get(f, "verdict")), "pass") == 0)
				continue;
			/* the failure/error is inside this fixture's testcases */
			char cls[160];
			snprintf(cls, sizeof cls, "classname=\"%s\"", json_string_value(json_object_get(f, "name")));
			const char *p = strstr(r.out, cls);
			bool found = false;
			for (; p && !found; p = strstr(p + 1, cls)) {
				const char *close = strstr(p, "</testcase>");
				const char *fail = strstr(p, "<failure"), *err = strstr(p, "<error");
				found = (fail && fail < close) || (err && err < close);
			}
			if (!found)
				fail_msg("%s: %s has no failing testcase", real_reports[i], cls);
		}
		char want[64];
		snprintf(want, sizeof want, " tests=\"%zu\"", tests);
		assert_contains(r.out, want);
		size_t failures = count(r.out, "<failure "), errors = count(r.out, "<error ");
		snprintf(want, sizeof want, " failures=\"%zu\" errors=\"%zu\"", failures, errors);
		assert_contains(r.out, want);
		free(r.out);
		json_decref(rep);
	}
}

static void junit_escapes_everything(void **state)
{
	(void)state;
	json_t *f = fixture("a&b<c>d\"e'f", "error", 30 * MIB, 0);
	/* control characters XML 1.0 forbids, U+FFFF, and tab/newline kept */
	add_reason(f, "bad\x01" "byte\x1f and \xEF\xBF\xBF then\ttab\nline & <x>");
	json_object_set_new(f, "exit", json_pack("{s:n, s:i, s:s, s:b, s:b}", "code", "signal", 9, "signal_name",
						 "SIGKILL", "timed_out", 0, "oom_killed", 0));
	json_t *rep = one(f, "error");
	struct rendered r = render(mg_render_junit, rep);
	assert_int_equal(r.rc, 0);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, "classname=\"a&amp;b&lt;c&gt;d&quot;e&apos;f\" name=\"run\"");
	assert_contains(r.out, "<error message=\"bad\xEF\xBF\xBD" "byte\xEF\xBF\xBD and \xEF\xBF\xBD then&#9;tab&#10;line &amp; &lt;x&gt;\" type=\"error\">");
	assert_contains(r.out, "tests=\"1\" failures=\"0\" errors=\"1\"");
	free(r.out);
	json_decref(rep);
}

/* The testcase of a failure is found from the structured data (limits[].ok,
 * exit, service, verdict); the reasons' wording plays no part. Each case
 * words its reasons unlike verdict.c, or starts a run's reason with a
 * metric's name: a classifier that read the words would get them wrong. */
static void junit_classifies_by_structure_not_wording(void **state)
{
	(void)state;
	/* exit 3 and over the tree_rss limit: the run fails by its exit, the
	 * limit by its figures, whatever the reasons say */
	json_t *f = fixture("both", "fail", 80 * MIB, 64 * MIB);
	json_object_set_new(json_object_get(f, "exit"), "code", json_integer(3));
	add_reason(f, "the command returned 3");
	add_reason(f, "limit exceeded: tree_rss at 80 MiB");
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_junit, rep);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "tests=\"2\" failures=\"2\" errors=\"0\"");
	assert_contains(r.out, "<testcase classname=\"both\" name=\"run\" time=\"1.500\">\n"
			       "    <failure message=\"exited with code 3\" type=\"exit\">the command returned 3\n"
			       "limit exceeded: tree_rss at 80 MiB</failure>");
	assert_contains(r.out, "<testcase classname=\"both\" name=\"tree_rss\" time=\"0.000\">\n"
			       "    <failure message=\"tree_rss 80.0 MiB &gt; limit 64.0 MiB\" type=\"limit\">");
	free(r.out);
	json_decref(rep);

	/* the same limit failure on a clean exit: the run passes */
	f = fixture("over", "fail", 80 * MIB, 64 * MIB);
	add_reason(f, "exited with code 3"); /* words about an exit that did not happen */
	rep = one(f, "fail");
	r = render(mg_render_junit, rep);
	assert_contains(r.out, "tests=\"2\" failures=\"1\" errors=\"0\"");
	assert_contains(r.out, "<testcase classname=\"over\" name=\"run\" time=\"1.500\">\n    <system-out>");
	free(r.out);
	json_decref(rep);

	/* a measurement error whose words begin with a limit's metric name
	 * ("cgroup v2: ..."), then the kill it caused: the run's message is
	 * the error, the first reason */
	f = fixture("err", "error", 10 * MIB, 0);
	json_array_append_new(json_object_get(f, "limits"),
			      json_pack("{s:s, s:I, s:n, s:b}", "metric", "cgroup", "limit_bytes", 64 * MIB, "value_bytes", "ok", 0));
	json_object_set_new(f, "exit", json_pack("{s:n, s:i, s:s, s:b, s:b}", "code", "signal", 9, "signal_name", "SIGKILL",
						 "timed_out", 0, "oom_killed", 0));
	add_reason(f, "cgroup v2: cannot read memory.peak: ENOENT (No such file or directory)");
	add_reason(f, "killed by signal 9 (SIGKILL)");
	rep = one(f, "error");
	r = render(mg_render_junit, rep);
	assert_contains(r.out, "tests=\"2\" failures=\"0\" errors=\"2\"");
	assert_contains(r.out, "<error message=\"cgroup v2: cannot read memory.peak: ENOENT (No such file or directory)\" "
			       "type=\"error\">");
	assert_contains(r.out, "<error message=\"cgroup limit 64.0 MiB cannot be checked: not measured\" type=\"not-measured\">");
	free(r.out);
	json_decref(rep);

	/* a service memgate stopped (SIGTERM) whose driver failed: the stop
	 * is no failure; the service is, with the run's reason */
	f = fixture("svc", "fail", 10 * MIB, 0);
	json_object_set_new(f, "exit", json_pack("{s:n, s:i, s:s, s:b, s:b}", "code", "signal", 15, "signal_name", "SIGTERM",
						 "timed_out", 0, "oom_killed", 0));
	json_object_set_new(f, "service", json_pack("{s:s, s:b, s:{s:n, s:n, s:n}}", "outcome", "driver_failed", "stopped", 1,
						    "output", "service_stdout", "service_stderr", "driver_stderr"));
	add_reason(f, "load driver gave up (status 2)");
	rep = one(f, "fail");
	r = render(mg_render_junit, rep);
	assert_string_equal(r.err, "");
	assert_contains(r.out, "<failure message=\"load driver gave up (status 2)\" type=\"service\">");
	assert_int_equal(count(r.out, "SIGTERM"), 0);
	free(r.out);
	/* the same service with an "ok" outcome: nothing failed */
	json_object_set_new(json_object_get(f, "service"), "outcome", json_string("ok"));
	json_object_set_new(f, "verdict", json_string("pass"));
	json_object_set_new(rep, "verdict", json_string("pass"));
	r = render(mg_render_junit, rep);
	assert_contains(r.out, "tests=\"1\" failures=\"0\" errors=\"0\"");
	free(r.out);
	json_decref(rep);

	/* timeouts and OOM kills say so from exit.timed_out and oom_killed */
	rep = load_report("timeout");
	json_array_set_new(json_object_get(json_array_get(json_object_get(rep, "fixtures"), 0), "reasons"), 0,
			   json_string("watchdog fired"));
	r = render(mg_render_junit, rep);
	assert_contains(r.out, "<failure message=\"timed out (the tree was killed)\" type=\"exit\">watchdog fired</failure>");
	free(r.out);
	json_decref(rep);
	rep = load_report("oom");
	r = render(mg_render_junit, rep);
	assert_contains(r.out, "<failure message=\"OOM-killed (kill_above 64.0 MiB)\" type=\"exit\">"
			       "OOM-killed: the tree reached kill_above 64.0 MiB</failure>");
	free(r.out);
	json_decref(rep);
}

/* cgroup_anon next to tree RSS on the run; a surprising figure on its
 * metric's testcase: in the failure's body, in <system-out> when it
 * passed, on the run when the metric has no testcase. */
static void junit_surprises_where_they_matter(void **state)
{
	(void)state;
	json_t *f = newer_fixture("pool", "fail", 160 * MIB, 96 * MIB);
	set_peak(f, "cgroup_bytes", 34 * MIB);
	set_peak(f, "cgroup_anon_bytes", 32 * MIB);
	set_processes(f, 5);
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_junit, rep);
	assert_int_equal(r.rc, 0);
	assert_well_formed_xml(r.out);
	const char *why = "shared pages counted once per process: 5 processes share about 128.0 MiB; gate on pss or cgroup_anon";
	assert_contains(r.out, "<system-out>peak tree RSS 160.0 MiB, cgroup_anon 32.0 MiB in 1.50 s, measured with cgroup-v2 "
			       "(150 samples)</system-out>");
	assert_contains(r.out, "<failure message=\"tree_rss 160.0 MiB &gt; limit 96.0 MiB\" type=\"limit\">tree_rss 160.0 MiB "
			       "&gt; limit 96.0 MiB\nshared pages counted once per process: 5 processes share about 128.0 MiB;"
			       " gate on pss or cgroup_anon</failure>\n"
			       "    <system-out>tree_rss 160.0 MiB, limit 96.0 MiB</system-out>\n");
	assert_int_equal(count(r.out, why), 1);
	free(r.out);

	/* within the limit: in its <system-out> */
	json_t *lim = json_array_get(json_object_get(f, "limits"), 0);
	json_object_set_new(lim, "limit_bytes", json_integer(200 * MIB));
	json_object_set_new(lim, "ok", json_true());
	json_object_set_new(f, "verdict", json_string("pass"));
	json_object_set_new(rep, "verdict", json_string("pass"));
	r = render(mg_render_junit, rep);
	assert_contains(r.out, "    <system-out>tree_rss 160.0 MiB, limit 200.0 MiB\nshared pages counted once per process:");
	assert_contains(r.out, "failures=\"0\" errors=\"0\"");
	free(r.out);

	/* no limit at all: on the run, both explanations */
	json_array_clear(json_object_get(f, "limits"));
	set_peak(f, "cgroup_bytes", 400 * MIB);
	set_peak(f, "cgroup_file_bytes", 360 * MIB);
	r = render(mg_render_junit, rep);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, "(150 samples)\nshared pages counted once per process: 5 processes share about 128.0 MiB; gate on pss or "
			       "cgroup_anon\n360.0 MiB of it is page cache from files read or written; gate on cgroup_anon to "
			       "exclude it</system-out>");
	free(r.out);
	json_decref(rep);
}

static void junit_invalid_utf8_is_replaced(void **state)
{
	(void)state;
	/* jansson rejects invalid UTF-8 when parsing, but a report built in
	 * memory can hold anything */
	json_t *f = fixture("ok", "pass", MIB, 0);
	json_object_set_new(f, "name", json_stringn_nocheck("x\xC3(\xF0\x9F\x98", 6));
	json_t *rep = one(f, "pass");
	struct rendered r = render(mg_render_junit, rep);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, "classname=\"x\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
	free(r.out);
	json_decref(rep);
}

/* ---------------------------------------------------------------- svg */

static void assert_self_contained(const char *svg)
{
	assert_int_equal(count(svg, "<script"), 0);
	assert_int_equal(count(svg, "href"), 0);
	assert_int_equal(count(svg, "url("), 0);
	assert_int_equal(count(svg, "@import"), 0);
	assert_int_equal(count(svg, "http"), 1); /* the namespace only */
}

static void svg_real_reports(void **state)
{
	(void)state;
	for (size_t i = 0; i < NREAL; i++) {
		json_t *rep = load_report(real_reports[i]);
		struct rendered r = render(mg_render_svg, rep);
		assert_int_equal(r.rc, 0);
		assert_well_formed_xml(r.out);
		assert_self_contained(r.out);
		free(r.out);
		json_decref(rep);
	}
}

static void svg_oom_timeout_and_limit(void **state)
{
	(void)state;
	json_t *rep = load_report("oom");
	struct rendered r = render(mg_render_svg, rep);
	assert_contains(r.out, "<title>memgate: FAIL</title>");
	assert_contains(r.out, "<circle cx=");            /* the OOM symbol */
	assert_contains(r.out, ">OOM kill (kill_above 64.0 MiB)</text>");
	assert_int_equal(count(r.out, "stroke-dasharray"), 0); /* no tree_rss limit */
	assert_int_equal(count(r.out, "<polyline"), 1);
	assert_contains(r.out, ">workload<tspan dx=\"8\" fill=\"#d62728\">— FAIL</tspan>");
	free(r.out);
	json_decref(rep);

	rep = load_report("timeout");
	r = render(mg_render_svg, rep);
	assert_contains(r.out, ">timeout</text>");
	assert_contains(r.out, "fill=\"#e67e00\" stroke=\"#ffffff\"/>"); /* the diamond */
	assert_contains(r.out, ">time (s)</text>");
	assert_contains(r.out, ">tree RSS (MiB)</text>");
	free(r.out);
	json_decref(rep);

	rep = load_report("long");
	r = render(mg_render_svg, rep);
	assert_contains(r.out, "stroke-dasharray=\"7 4\"/>");
	assert_contains(r.out, ">limit 100.0 MiB</text>");
	/* nice ticks: 0 to 5 s by 0.5, 0 to 150 MiB by 50 */
	assert_contains(r.out, ">4.5</text>");
	assert_contains(r.out, ">5.0</text>");
	assert_contains(r.out, ">150</text>");
	assert_int_equal(count(r.out, ">5.5</text>"), 0);
	free(r.out);
	json_decref(rep);
}

static void svg_edge_cases(void **state)
{
	(void)state;
	json_t *a = json_array();
	json_t *f = fixture("<script>&", "pass", 5 * MIB, 0);
	json_object_set_new(f, "series", json_array()); /* no samples */
	json_array_append_new(a, f);
	f = fixture("dot", "pass", 5 * MIB, 0);
	json_object_set_new(f, "series", json_pack("[[i, I]]", 0, 5 * MIB)); /* one sample */
	json_array_append_new(a, f);
	json_array_append_new(a, json_pack("{s:s, s:s, s:[s], s:[s], s:n, s:[]}", "name", "later", "verdict", "error",
					   "reasons", "not run: memgate was interrupted", "command", "x", "exit", "limits"));
	json_t *rep = report_of("error", a);
	json_object_set_new(rep, "interrupted_by", json_string("SIGTERM"));
	struct rendered r = render(mg_render_svg, rep);
	assert_int_equal(r.rc, 0);
	assert_well_formed_xml(r.out);
	assert_self_contained(r.out);
	assert_contains(r.out, ">&lt;script&gt;&amp;<tspan");
	assert_contains(r.out, ">no samples</text>");
	assert_contains(r.out, "<circle cx=\"72.0\"");
	assert_contains(r.out, ">not run: memgate was interrupted</text>");
	assert_contains(r.out, "1 of 3 fixtures could not be measured (interrupted by SIGTERM)</tspan>");
	free(r.out);
	json_decref(rep);
}


/* ------------------------------------------------------------ charts */

/* series_cgroup of n points 100 ms apart: usage climbs by step, anon is
 * half of it (null at the first point). */
static json_t *cgroup_series(int n, json_int_t step)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_pack("[i, I, o]", i * 100, step * (i + 1),
						   i ? json_integer(step * (i + 1) / 2) : json_null()));
	return a;
}

static char *mermaid_of(const char *md)
{
	const char *start = strstr(md, "```mermaid\n"), *end = start ? strstr(start + 3, "```\n") : NULL;
	assert_non_null(end);
	return strndup(start, (size_t)(end - start));
}

/* The picture shows the metric that failed: its series and its limit. */
static void chart_plots_the_failed_metric(void **state)
{
	(void)state;
	json_t *f = newer_fixture("dd", "fail", 20 * MIB, 0);
	json_array_append_new(json_object_get(f, "limits"), json_pack("{s:s, s:I, s:I, s:b}", "metric", "cgroup",
								       "limit_bytes", 128 * MIB, "value_bytes",
								       200 * MIB, "ok", 0));
	set_peak(f, "cgroup_bytes", 200 * MIB);
	json_object_set_new(f, "series_cgroup", cgroup_series(10, 20 * MIB));
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_markdown, rep);
	char *chart = mermaid_of(r.out);
	assert_string_equal(chart, "```mermaid\nxychart-beta\n"
				   "    title \"cgroup usage over time (flat line: cgroup limit 128.0 MiB)\"\n"
				   "    x-axis \"time (s)\" 0 --> 0.90\n"
				   "    y-axis \"cgroup usage (MiB)\" 0 --> 250\n"
				   "    line [20.0, 40.0, 60.0, 80.0, 100.0, 120.0, 140.0, 160.0, 180.0, 200.0]\n"
				   "    line [128.0, 128.0, 128.0, 128.0, 128.0, 128.0, 128.0, 128.0, 128.0, 128.0]\n");
	free(chart);
	free(r.out);
	r = render(mg_render_svg, rep);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, ">peak cgroup usage 200.0 MiB (cgroup limit 128.0 MiB) · tree RSS 20.0 MiB · cgroup-v2 · ");
	assert_contains(r.out, ">cgroup usage (MiB)</text>");
	assert_contains(r.out, ">cgroup limit 128.0 MiB</text>");
	assert_int_equal(count(r.out, "<polyline"), 2); /* tree RSS behind it, in grey */
	assert_contains(r.out, "<polyline fill=\"none\" stroke=\"#aaaaaa\"");
	assert_contains(r.out, ">tree RSS</text>"); /* the legend */
	free(r.out);

	/* cgroup_anon: the anon series, its null points left out */
	json_object_set_new(json_array_get(json_object_get(f, "limits"), 0), "metric", json_string("cgroup_anon"));
	set_peak(f, "cgroup_anon_bytes", 100 * MIB);
	r = render(mg_render_markdown, rep);
	chart = mermaid_of(r.out);
	assert_contains(chart, "    title \"cgroup anon + shmem over time (flat line: cgroup_anon limit 128.0 MiB)\"\n"
			       "    x-axis \"time (s)\" 0 --> 0.90\n");
	assert_contains(chart, "    line [20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]\n");
	free(chart);
	free(r.out);

	/* a report without series_cgroup (older, or no cgroup): tree RSS as before */
	json_object_del(f, "series_cgroup");
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "    title \"tree RSS over time\"\n");
	free(r.out);
	r = render(mg_render_svg, rep);
	assert_contains(r.out, ">tree RSS (MiB)</text>");
	assert_int_equal(count(r.out, "<polyline"), 1);
	assert_int_equal(count(r.out, "stroke-dasharray"), 0);
	free(r.out);
	json_decref(rep);
}

/* A failed growth limit: the fit drawn over its window, through the
 * window's mean point with the report's slope. */
static void chart_growth_fit(void **state)
{
	(void)state;
	json_t *f = newer_fixture("leak", "fail", 20 * MIB, 0);
	json_t *series = json_array();
	for (int i = 0; i <= 10; i++) /* 10 MiB + 1 MiB every 100 ms */
		json_array_append_new(series, json_pack("[i, I]", i * 100, 10 * MIB + i * MIB));
	json_object_set_new(f, "series", series);
	json_object_set_new(f, "growth", json_pack("{s:f, s:f, s:i, s:i, s:i, s:n}", "bytes_per_s", 10.0 * MIB, "r2", 1.0,
						   "from_ms", 200, "to_ms", 1000, "points", 9, "bytes_per_request"));
	json_array_append_new(json_object_get(f, "limits"), json_pack("{s:s, s:I, s:I, s:b, s:s}", "metric", "growth",
								       "limit_bytes", MIB, "value_bytes", 10 * MIB,
								       "ok", 0, "unit", "bytes/s"));
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_markdown, rep);
	char *chart = mermaid_of(r.out);
	assert_contains(chart, "    title \"tree RSS over time (sloped line: growth fit 10.0 MiB/s)\"\n");
	/* drawn across the chart: on the series, which is a perfect line */
	assert_contains(chart, "    line [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0]\n"
			       "    line [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0]\n");
	free(chart);
	free(r.out);
	r = render(mg_render_svg, rep);
	assert_well_formed_xml(r.out);
	/* from (0.2 s, 12 MiB) to (1.0 s, 20 MiB): x 72 + s/1.6*720 (wall 1.5 s),
	 * y 48+58 + 140 - MiB/25*140 */
	assert_contains(r.out, "<line x1=\"162.0\" y1=\"178.8\" x2=\"522.0\" y2=\"134.0\" stroke=\"#ff7f0e\"");
	assert_contains(r.out, ">growth 10.0 MiB/s (limit 1.0 MiB/s)</text>");
	free(r.out);

	/* within its limit: no fit */
	json_object_set_new(json_array_get(json_object_get(f, "limits"), 0), "ok", json_true());
	r = render(mg_render_svg, rep);
	assert_int_equal(count(r.out, "#ff7f0e"), 0);
	free(r.out);
	r = render(mg_render_markdown, rep);
	assert_int_equal(count(r.out, "growth fit"), 0);
	free(r.out);

	/* checked when present */
	json_object_del(json_object_get(f, "growth"), "from_ms");
	assert_rejected(rep, "fixtures[0].growth.from_ms: missing (expected a non-negative integer)");
	json_object_set_new(f, "growth", json_array());
	assert_rejected(rep, "fixtures[0].growth: expected an object or null, got an array");
	json_decref(rep);
}

/* How the run ended is marked: an OOM kill under kill_above plots the
 * cgroup's usage against kill_above; a timeout says so. */
static void chart_marks_the_end(void **state)
{
	(void)state;
	json_t *f = newer_fixture("oom", "fail", 60 * MIB, 0);
	json_object_set_new(f, "exit", json_pack("{s:n, s:i, s:s, s:b, s:b}", "code", "signal", 9, "signal_name", "SIGKILL",
						 "timed_out", 0, "oom_killed", 1));
	json_object_set_new(f, "kill_above_bytes", json_integer(64 * MIB));
	json_t *sc = cgroup_series(4, 16 * MIB);
	json_array_append_new(sc, json_pack("[i, i, i]", 400, 100000, 0)); /* drained after the kill */
	json_object_set_new(f, "series_cgroup", sc);
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_markdown, rep);
	assert_contains(r.out, "    title \"cgroup usage over time (flat line: kill_above 64.0 MiB; ended by an OOM kill)\"\n");
	free(r.out);
	r = render(mg_render_svg, rep);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, ">kill_above 64.0 MiB</text>");
	assert_contains(r.out, ">OOM kill (kill_above 64.0 MiB)</text>");
	/* the marker where the fall began: (0.3 s, 64 MiB), not on the drained tail */
	assert_contains(r.out, "<circle cx=\"207.0\" cy=\"");
	free(r.out);

	json_object_set_new(f, "exit", json_pack("{s:n, s:i, s:s, s:b, s:b}", "code", "signal", 9, "signal_name", "SIGKILL",
						 "timed_out", 1, "oom_killed", 0));
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "    title \"tree RSS over time (ended by the timeout)\"\n");
	free(r.out);

	/* series_cgroup is checked when present */
	json_array_set_new(sc, 1, json_pack("[i, i]", 100, 5));
	assert_rejected(rep, "fixtures[0].series_cgroup[1]: expected [ms, usage, anon], got another array");
	json_array_set_new(sc, 1, json_pack("[i, i, i]", 100, 5, -2));
	assert_rejected(rep, "fixtures[0].series_cgroup[1]: expected [ms, usage, anon] as non-negative integers (anon may be null)");
	json_array_set_new(sc, 1, json_pack("[i, i, n]", 100, 5));
	json_object_set_new(f, "processes", json_string("many"));
	assert_rejected(rep, "fixtures[0].processes: expected an array, got a string");
	json_decref(rep);
}

/* One report per case the explanations and charts are for, each a fixture
 * of one real `memgate run` (cgroup v1, 10 ms), with the markdown, SVG
 * (and, where a figure is explained, JUnit) it renders to:
 *   pool       workload shared 32 4 500, pss, tree_rss limit 96MiB: shared pages
 *   filecache  dd 160 MiB to a file, cat it, workload hold 16 300; cgroup 128MiB: page cache
 *   anon       workload tree 3 24 400, cgroup_anon 48MiB: the anon series
 *   growth     workload grow 2 100 20, growth 20MiB/s: the fit line
 *   oomcg      workload grow 8 200 10, kill_above 64MiB: usage against kill_above
 *   timeoutcg  workload grow 4 40 30, timeout 600ms: the timeout marked
 *   cadence    workload tree 48 2 600, interval 2ms, cpu_budget 0.2%: slow rounds
 *   procpool   --cgroup-root /tmp/notcg: pool as above, and a fixture asking for proc
 * Regenerate one with `build/memgate report -f svg tests/data/reports/X.json
 * -o tests/data/reports/X.svg` (md, junit likewise) and look at it. */
static void figures_golden(void **state)
{
	(void)state;
	static const char *const names[] = {"pool", "filecache", "anon", "growth", "oomcg", "timeoutcg", "cadence", "procpool"};
	static const struct {
		const char *ext;
		render_fn fn;
	} outs[] = {{"md", mg_render_markdown}, {"svg", mg_render_svg}, {"junit.xml", mg_render_junit}};
	for (size_t n = 0; n < sizeof names / sizeof names[0]; n++)
		for (size_t k = 0; k < sizeof outs / sizeof outs[0]; k++) {
			char path[128], full[160];
			snprintf(path, sizeof path, "reports/%s.%s", names[n], outs[k].ext);
			snprintf(full, sizeof full, "tests/data/%s", path);
			if (k == 2 && access(full, F_OK) != 0)
				continue; /* JUnit only where a figure is explained */
			char *want = tu_read_data(path);
			json_t *rep = load_report(names[n]);
			struct rendered r = render(outs[k].fn, rep);
			assert_int_equal(r.rc, 0);
			if (strcmp(r.out, want) != 0)
				fail_msg("%s: differs; got\n%s", path, r.out);
			free(r.out);
			free(want);
			json_decref(rep);
		}
}

/* ------------------------------------------------- service and python */

/* A section of the markdown: from its heading to the next one. */
static char *section(const char *md, const char *heading)
{
	const char *start = strstr(md, heading);
	assert_non_null(start);
	const char *end = strstr(start + 1, "\n### ");
	return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

static void markdown_service_report(void **state)
{
	(void)state;
	json_t *rep = load_report("service");
	struct rendered r = render(mg_render_markdown, rep);
	assert_int_equal(r.rc, 0);
	char *leaky = section(r.out, "### FAIL: leaky"), *crashy = section(r.out, "### FAIL: crashy");
	char *fixed = section(r.out, "### PASS: fixed");
	assert_contains(leaky, "| growth_per_request | 256.6 KiB/request | 100.0 KiB/request | -156.6% (over) |\n");
	/* memgate stopped the service with SIGTERM: not an exit worth reporting */
	assert_int_equal(count(leaky, "**Exit:**"), 0);
	assert_contains(leaky, "<details><summary>service stdout</summary>\n\n```text\nlistening on 127.0.0.1:56785\n```\n\n</details>\n");
	assert_contains(crashy, "**Exit:** exited with code 3\n");
	assert_contains(crashy, "<details><summary>service stderr</summary>\n\n```text\nboom: no config\na\tb ?[31mred?[0m\n```\n");
	assert_contains(crashy, "    x-axis \"time (s)\" 0 --> 0.001\n");
	/* a shrinking rate: no headroom to speak of */
	assert_contains(fixed, "| growth | -53.9 MiB/s | 1.0 MiB/s | — |\n");
	assert_int_equal(count(fixed, "<details>"), 0); /* output only on failure */
	free(leaky);
	free(crashy);
	free(fixed);
	free(r.out);
	json_decref(rep);
}

static void markdown_output_tail_cannot_break_out(void **state)
{
	(void)state;
	json_t *f = fixture("svc", "fail", 30 * MIB, 0);
	add_reason(f, "driver failed with code 1");
	char err[2048] = "";
	for (int i = 1; i <= 20; i++)
		snprintf(err + strlen(err), sizeof err - strlen(err), "line %d\n", i);
	strcat(err, "```\n# not a heading\n");
	json_object_set_new(f, "service", json_pack("{s:s, s:b, s:{s:n, s:s, s:n}}", "outcome", "driver_failed", "stopped", 1,
						    "output", "service_stdout", "service_stderr", err, "driver_stderr"));
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_markdown, rep);
	assert_contains(r.out, "<details><summary>service stderr (last lines)</summary>\n\n````text\nline 11\n");
	assert_contains(r.out, "line 20\n```\n# not a heading\n````\n\n</details>\n");
	assert_int_equal(count(r.out, "line 10\n"), 0);
	free(r.out);
	json_decref(rep);
}

static void markdown_python_heap_report(void **state)
{
	(void)state;
	json_t *rep = load_report("python");
	struct rendered r = render(mg_render_markdown, rep);
	assert_contains(r.out, "| python_heap | 46.4 MiB | 30.0 MiB | -54.6% (over) |\n");
	assert_contains(r.out, "**Python heap** (tracemalloc): peak 46.4 MiB, current 46.4 MiB\n\n"
			       "| allocation site | size | count |\n|---|---:|---:|\n"
			       "| /tmp/py/leak.py:5 | 40.5 MiB | 40001 |\n"
			       "| /tmp/py/leak.py:7 | 5.3 MiB | 59696 |\n"
			       "| \\<frozen importlib.\\_bootstrap\\>:241 | 0.0 MiB | 59 |\n");
	free(r.out);
	json_decref(rep);

	/* memray: a function, no count, no current; NumPy's share from the domains */
	json_t *f = fixture("np", "pass", 30 * MIB, 0);
	json_object_set_new(f, "python_heap",
			    json_pack("{s:s, s:I, s:n, s:[{s:s, s:s, s:I, s:n}], s:[{s:i, s:I}, {s:i, s:I}]}", "tool", "memray",
				      "peak_bytes", 20 * MIB, "current_bytes", "top", "location", "app.py:3", "function", "load",
				      "size_bytes", 8 * MIB, "count", "domains", "domain", 0, "size_bytes", 4 * MIB,
				      "domain", 389047, "size_bytes", 12 * MIB));
	rep = one(f, "pass");
	r = render(mg_render_markdown, rep);
	/* no current figure: none said, not "current n/a" */
	assert_contains(r.out, "**Python heap** (memray): peak 20.0 MiB; NumPy buffers 12.0 MiB of 16.0 MiB "
			       "traced (75.0%): not Python objects\n\n");
	assert_contains(r.out, "| allocation site | size | allocations |\n");
	assert_contains(r.out, "| app.py:3 (load) | 8.0 MiB | — |\n");
	free(r.out);
	r = render(mg_render_text, rep);
	assert_contains(r.out, "        python heap (memray): peak 20.0 MiB\n"
			       "        NumPy buffers 12.0 MiB of 16.0 MiB traced (75.0%): not Python objects\n");
	assert_int_equal(count(r.out, "app.py"), 0); /* sites only when failing */
	free(r.out);
	json_decref(rep);
}

static void junit_service_report(void **state)
{
	(void)state;
	json_t *rep = load_report("service");
	struct rendered r = render(mg_render_junit, rep);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "<testcase classname=\"bad-driver\" name=\"run\" time=\"0.001\">\n"
			       "    <failure message=\"driver failed with code 2\" type=\"service\">");
	/* leaky's run went as planned; its limits failed */
	assert_contains(r.out, "<testcase classname=\"leaky\" name=\"run\" time=\"0.065\">\n    <system-out>");
	assert_contains(r.out, "<failure message=\"growth_per_request 256.6 KiB/request &gt; limit 100.0 KiB/request\" type=\"limit\">");
	assert_contains(r.out, "<system-out>growth -53.9 MiB/s, limit 1.0 MiB/s</system-out>");
	free(r.out);
	r = render(mg_render_svg, rep);
	assert_int_equal(count(r.out, "killed by SIGTERM"), 0); /* memgate's own stop */
	free(r.out);
	json_decref(rep);
}

/* ------------------------------------------------- anything can be wrong */

struct swap_ctx {
	json_t *report;
	size_t renders, rejected;
};

/* Every renderer either renders or refuses with a message that names
 * a JSON path under fixtures[0]; a refusal writes nothing. */
static void render_all_or_refuse(struct swap_ctx *c, const char *where)
{
	for (size_t i = 0; i < NRENDERERS; i++) {
		struct rendered r = render(all_renderers[i], c->report);
		c->renders++;
		if (r.rc != 0) {
			assert_int_equal(r.rc, -1);
			if (strncmp(r.err, "fixtures[0]", 11) != 0 || r.len != 0)
				fail_msg("%s: err \"%s\", %zu bytes written", where, r.err, r.len);
			c->rejected++;
		}
		free(r.out);
	}
}

/* Replace parent[key] (or parent[index]) by each wrong kind in turn, and
 * a key by nothing; render each time; put the original back. */
static void swap_value(struct swap_ctx *c, json_t *parent, const char *key, size_t index, const char *where)
{
	json_t *kinds[] = {json_string("x\n|<&>"), json_integer(-7), json_null(), json_array(), json_object(),
			   json_real(1.5), json_true(), json_pack("[i, i, i]", 1, 2, 3)};
	json_t *orig = json_incref(key ? json_object_get(parent, key) : json_array_get(parent, index));
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		if (key)
			json_object_set_new(parent, key, kinds[k]);
		else
			json_array_set_new(parent, index, kinds[k]);
		render_all_or_refuse(c, where);
	}
	if (key) { /* and the key missing altogether */
		json_object_del(parent, key);
		render_all_or_refuse(c, where);
		json_object_set_new(parent, key, orig);
	} else {
		json_array_set_new(parent, index, orig);
	}
}

static void swap_all(struct swap_ctx *c, json_t *node, const char *where)
{
	char path[256];
	if (json_is_object(node)) {
		/* the keys first: swapping deletes and re-adds them */
		size_t n = json_object_size(node), k = 0;
		char **keys = calloc(n ? n : 1, sizeof *keys);
		const char *key;
		json_t *v;
		json_object_foreach(node, key, v)
			keys[k++] = strdup(key);
		for (k = 0; k < n; k++) {
			snprintf(path, sizeof path, "%s.%s", where, keys[k]);
			swap_all(c, json_object_get(node, keys[k]), path);
			swap_value(c, node, keys[k], 0, path);
			free(keys[k]);
		}
		free(keys);
	} else if (json_is_array(node)) {
		for (size_t i = 0; i < json_array_size(node) && i < 2; i++) {
			snprintf(path, sizeof path, "%s[%zu]", where, i);
			swap_all(c, json_array_get(node, i), path);
			swap_value(c, node, NULL, i, path);
		}
	}
}

/* Figures near INT64_MAX (valid JSON, valid types) must not overflow a
 * sum: JUnit's suite time adds every fixture's wall_ms, text and markdown
 * add the heap's tracemalloc domains. Sums saturate at INT64_MAX. */
static void huge_figures_saturate(void **state)
{
	(void)state;
	json_t *rep = load_report("mixed");
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(rep, "fixtures"), i, f)
		if (json_is_integer(json_object_get(f, "wall_ms")))
			json_object_set_new(f, "wall_ms", json_integer(INT64_MAX));
	struct rendered r = render(mg_render_junit, rep);
	assert_int_equal(r.rc, 0);
	assert_null(strstr(r.out, "time=\"-"));
	const char *suite = strstr(r.out, "<testsuite ");
	assert_non_null(suite);
	assert_contains(suite, " time=\"9223372036854776.000\">\n");
	free(r.out);
	json_decref(rep);

	rep = load_report("python");
	json_array_foreach(json_object_get(rep, "fixtures"), i, f) {
		json_t *h = json_object_get(f, "python_heap");
		if (json_is_object(h))
			json_object_set_new(h, "domains", json_pack("[{s:i, s:I}, {s:i, s:I}]", "domain", 0, "size_bytes",
								    (json_int_t)INT64_MAX, "domain", 389047,
								    "size_bytes", (json_int_t)INT64_MAX));
	}
	render_fn fns[] = {mg_render_text, mg_render_markdown};
	for (size_t k = 0; k < 2; k++) {
		r = render(fns[k], rep);
		assert_int_equal(r.rc, 0);
		assert_contains(r.out, "traced (100.0%)");
		free(r.out);
	}
	json_decref(rep);
}

static void any_value_of_any_type(void **state)
{
	(void)state;
	const char *reports[] = {"mixed", "service", "python", "filecache"};
	for (size_t r = 0; r < 4; r++) {
		struct swap_ctx c = {load_report(reports[r]), 0, 0};
		swap_all(&c, json_array_get(json_object_get(c.report, "fixtures"), 0), "fixtures[0]");
		/* most swaps are refused, some are harmless (an unknown key, a
		 * nullable figure set to null) */
		assert_true(c.rejected > c.renders / 2 && c.rejected < c.renders);
		json_decref(c.report);
	}
}

/* ----------------------------------------------------------- baseline */

/* The fixture of the hand-made baseline tests: tree_rss within its limit
 * but over the baseline, cgroup (no limit) below it, max_process_hwm (no
 * limit) against a baseline of 0 (delta_pct null). */
static json_t *baseline_fixture(void)
{
	json_t *f = fixture("api", "fail", 212 * MIB, 250 * MIB);
	json_t *lim = json_array_get(json_object_get(f, "limits"), 0);
	json_t *keys = json_pack("{s:I, s:I, s:f, s:f, s:I, s:b}", "baseline_bytes", (json_int_t)209401037,
				 "delta_bytes", (json_int_t)12897485, "delta_pct", 6.8, "allowed_pct", 5.0,
				 "allowed_bytes", 4 * MIB, "baseline_ok", 0);
	json_object_update(lim, keys); /* copies: keys is still ours */
	json_decref(keys);
	json_object_set_new(f, "baseline",
			    json_pack("[{s:s, s:I, s:I, s:I, s:f, s:f, s:I, s:b},"
				      " {s:s, s:I, s:I, s:I, s:n, s:f, s:I, s:b}]",
				      "metric", "cgroup", "value_bytes", 212 * MIB, "baseline_bytes", 213 * MIB,
				      "delta_bytes", -MIB, "delta_pct", -2.0, "allowed_pct", 5.0, "allowed_bytes", 4 * MIB,
				      "baseline_ok", 1,
				      "metric", "max_process_hwm", "value_bytes", 212 * MIB, "baseline_bytes", (json_int_t)0,
				      "delta_bytes", 212 * MIB, "delta_pct", "allowed_pct", 5.0, "allowed_bytes", 4 * MIB,
				      "baseline_ok", 0));
	add_reason(f, "tree_rss 212.0 MiB is +12.3 MiB, +6.2% over the baseline 199.7 MiB (allowed +5%, +4.0 MiB)");
	add_reason(f, "max_process_hwm 212.0 MiB is +212.0 MiB over the baseline 0.0 MiB (allowed +5%, +4.0 MiB)");
	return f;
}

static void delta_formats(void **state)
{
	(void)state;
	char buf[128];
	struct mg_rv_metric c = {.metric = "tree_rss", .delta_bytes = 12897485, .has_delta_pct = true, .delta_pct = 6.8};
	mg_rv_format_delta(&c, buf, sizeof buf);
	assert_string_equal(buf, "+12.3 MiB, +6.8%");
	c.delta_bytes = -MIB;
	c.delta_pct = -2.0;
	mg_rv_format_delta(&c, buf, sizeof buf);
	assert_string_equal(buf, "-1.0 MiB, -2.0%");
	c.has_delta_pct = false; /* null: a baseline of 0 */
	mg_rv_format_delta(&c, buf, sizeof buf);
	assert_string_equal(buf, "-1.0 MiB");
	c.delta_bytes = 0;
	c.has_delta_pct = true;
	c.delta_pct = 0.0;
	mg_rv_format_delta(&c, buf, sizeof buf);
	assert_string_equal(buf, "+0.0 MiB, +0.0%");
	c.delta_bytes = -1000; /* rounds to zero: no "-0.0" */
	c.delta_pct = -0.04;
	mg_rv_format_delta(&c, buf, sizeof buf);
	assert_string_equal(buf, "0.0 MiB, +0.0%");
	c.baseline_bytes = 53 * MIB;
	c.has_value = true;
	c.value_bytes = 65 * MIB;
	c.delta_bytes = 12 * MIB;
	c.delta_pct = 22.64;
	c.has_allowed_pct = true;
	c.allowed_pct = 2.5;
	c.allowed_bytes = 4 * MIB;
	mg_rv_baseline_text(&c, buf, sizeof buf);
	assert_string_equal(buf, "tree_rss 65.0 MiB is +12.0 MiB, +22.6% over the baseline 53.0 MiB (allowed +2.5%, +4.0 MiB)");
}

static void baseline_text_real_report(void **state)
{
	(void)state;
	json_t *rep = load_report("baseline");
	struct rendered r = render(mg_render_text, rep);
	assert_int_equal(r.rc, 0);
	/* a limited metric over the baseline */
	assert_contains(r.out, "        tree_rss             65.4 MiB   limit     80.0 MiB   headroom  18.3%"
			       "   vs baseline 53.3 MiB: +12.1 MiB, +22.7%  OVER BASELINE\n");
	/* metrics without a limit ("baseline" array): null pct, negative, tiny */
	assert_contains(r.out, "        cgroup               64.5 MiB   vs baseline 0.0 MiB: +64.5 MiB  OVER BASELINE\n");
	assert_contains(r.out, "        cgroup               65.0 MiB   vs baseline 70.0 MiB: -5.0 MiB, -7.1%\n");
	assert_contains(r.out, "        cgroup               33.0 MiB   vs baseline 23.0 MiB: +10.0 MiB, +43.5%  OVER BASELINE\n");
	assert_contains(r.out, "        pss                  32.5 MiB   limit     48.0 MiB   headroom  32.3%"
			       "   vs baseline 32.5 MiB: 0.0 MiB, -0.1%\n");
	assert_int_equal(count(r.out, "vs baseline"), 10);
	assert_int_equal(count(r.out, "OVER BASELINE"), 3);
	free(r.out);
	json_decref(rep);
}

static void baseline_text_hand_made(void **state)
{
	(void)state;
	json_t *rep = one(baseline_fixture(), "fail");
	struct rendered r = render(mg_render_text, rep);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out,
			"        tree_rss            212.0 MiB   limit    250.0 MiB   headroom  15.2%"
			"   vs baseline 199.7 MiB: +12.3 MiB, +6.8%  OVER BASELINE\n"
			"        cgroup              212.0 MiB   vs baseline 213.0 MiB: -1.0 MiB, -2.0%\n"
			"        max_process_hwm     212.0 MiB   vs baseline 0.0 MiB: +212.0 MiB  OVER BASELINE\n");
	free(r.out);
	json_decref(rep);
}

/* Remove every key baseline.c adds: what the report was before --baseline
 * (apart from the reasons and verdicts it also changed). */
static void strip_baseline(json_t *rep)
{
	static const char *const keys[] = {"baseline_bytes", "delta_bytes", "delta_pct", "allowed_pct",
					   "allowed_bytes", "baseline_ok"};
	json_t *fx = json_object_get(rep, "fixtures");
	for (size_t i = 0; i < json_array_size(fx); i++) {
		json_t *f = json_array_get(fx, i), *limits = json_object_get(f, "limits");
		json_object_del(f, "baseline");
		for (size_t k = 0; k < json_array_size(limits); k++)
			for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
				json_object_del(json_array_get(limits, k), keys[j]);
	}
}

/* Without the baseline keys, the output is what it was before deltas
 * were shown: baseline.txt less its "   vs baseline ..." tails, and the
 * markdown, JUnit and SVG of mixed and python byte for byte as the
 * renderers wrote them before (tests/data/reports/{mixed,python}.{md,junit.xml,svg};
 * the markdown has since lost the v2 -> v1 fallback reasons and the
 * "Measured with" line of a command that did not start, and python's
 * JUnit gained its heap in the run testcase's <system-out>, on purpose). */
static void no_baseline_keys_render_as_before(void **state)
{
	(void)state;
	json_t *rep = load_report("baseline");
	strip_baseline(rep);
	char *want = tu_read_data("reports/baseline.txt");
	for (char *p = strstr(want, "   vs baseline"); p; p = strstr(p, "   vs baseline")) {
		char *eol = strchr(p, '\n');
		memmove(p, eol, strlen(eol) + 1);
	}
	struct rendered r = render(mg_render_text, rep);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, want);
	free(r.out);
	free(want);
	for (size_t i = 0; i < NRENDERERS; i++) {
		r = render(all_renderers[i], rep);
		assert_int_equal(r.rc, 0);
		assert_int_equal(count(r.out, "vs baseline"), 0);
		free(r.out);
	}
	json_decref(rep);

	static const char *const names[] = {"mixed", "python"};
	static const struct {
		const char *ext;
		render_fn fn;
	} outs[] = {{"md", mg_render_markdown}, {"junit.xml", mg_render_junit}, {"svg", mg_render_svg}};
	for (size_t n = 0; n < 2; n++)
		for (size_t k = 0; k < 3; k++) {
			char path[128];
			snprintf(path, sizeof path, "reports/%s.%s", names[n], outs[k].ext);
			want = tu_read_data(path);
			rep = load_report(names[n]);
			r = render(outs[k].fn, rep);
			assert_int_equal(r.rc, 0);
			if (strcmp(r.out, want) != 0)
				fail_msg("%s: differs from before", path);
			free(r.out);
			free(want);
			json_decref(rep);
		}
}

static void baseline_markdown(void **state)
{
	(void)state;
	json_t *rep = load_report("baseline");
	struct rendered r = render(mg_render_markdown, rep);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "| metric | value | limit | headroom | vs baseline |\n|---|---:|---:|---:|---:|\n"
			       "| tree_rss | 65.4 MiB | 80.0 MiB | 18.3% | +12.1 MiB, +22.7% (over baseline) |\n"
			       "| cgroup | 64.5 MiB | — | — | +64.5 MiB (over baseline) |\n"
			       "| max_process_hwm | 65.4 MiB | — | — | +0.1 MiB, +0.1% |\n\n");
	assert_contains(r.out, "| tree_rss | 130.5 MiB | — | — | -0.1 MiB, -0.1% |\n"
			       "| cgroup | 33.0 MiB | — | — | +10.0 MiB, +43.5% (over baseline) |\n"
			       "| max_process_hwm | 33.3 MiB | — | — | -0.1 MiB, -0.3% |\n"
			       "| pss | 32.5 MiB | 48.0 MiB | 32.3% | 0.0 MiB, -0.1% |\n\n");
	assert_contains(r.out, "| cgroup | 65.0 MiB | — | — | -5.0 MiB, -7.1% |\n");
	free(r.out);
	json_decref(rep);

	rep = one(baseline_fixture(), "fail");
	r = render(mg_render_markdown, rep);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "| tree_rss | 212.0 MiB | 250.0 MiB | 15.2% | +12.3 MiB, +6.8% (over baseline) |\n"
			       "| cgroup | 212.0 MiB | — | — | -1.0 MiB, -2.0% |\n"
			       "| max_process_hwm | 212.0 MiB | — | — | +212.0 MiB (over baseline) |\n\n");
	free(r.out);
	/* a compared metric that is none of the four sizes gets a row too */
	json_array_append_new(json_object_get(json_array_get(json_object_get(rep, "fixtures"), 0), "baseline"),
			      json_pack("{s:s, s:I, s:I, s:I, s:f}", "metric", "heap", "value_bytes", 3 * MIB,
					"baseline_bytes", 2 * MIB, "delta_bytes", MIB, "delta_pct", 50.0));
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "| max_process_hwm | 212.0 MiB | — | — | +212.0 MiB (over baseline) |\n"
			       "| heap | 3.0 MiB | — | — | +1.0 MiB, +50.0% |\n\n");
	free(r.out);
	r = render(mg_render_text, rep);
	assert_contains(r.out, "        heap                  3.0 MiB   vs baseline 2.0 MiB: +1.0 MiB, +50.0%\n");
	free(r.out);
	json_decref(rep);
}

static void baseline_junit(void **state)
{
	(void)state;
	json_t *rep = load_report("baseline");
	struct rendered r = render(mg_render_junit, rep);
	assert_int_equal(r.rc, 0);
	assert_well_formed_xml(r.out);
	/* 3 runs + 4 limits + 6 compared metrics without a limit */
	assert_contains(r.out, "<testsuite name=\"memgate\" tests=\"13\" failures=\"3\" errors=\"0\" skipped=\"0\"");
	assert_contains(r.out, "  <testcase classname=\"hold-64MiB\" name=\"run\" time=\"0.521\">\n    <system-out>");
	assert_contains(r.out,
			"  <testcase classname=\"hold-64MiB\" name=\"tree_rss\" time=\"0.000\">\n"
			"    <failure message=\"tree_rss 65.4 MiB is +12.1 MiB, +22.7% over the baseline 53.3 MiB (allowed +10%, +4.0 MiB)\" type=\"baseline\">"
			"tree_rss 65.4 MiB is +12.1 MiB, +22.7% over the baseline 53.3 MiB (allowed +10%, +4.0 MiB)</failure>\n"
			"    <system-out>tree_rss 65.4 MiB, limit 80.0 MiB, vs baseline 53.3 MiB: +12.1 MiB, +22.7%</system-out>\n");
	assert_contains(r.out,
			"  <testcase classname=\"hold-64MiB\" name=\"cgroup\" time=\"0.000\">\n"
			"    <failure message=\"cgroup 64.5 MiB is +64.5 MiB over the baseline 0.0 MiB (allowed +10%, +4.0 MiB)\" type=\"baseline\">");
	assert_contains(r.out,
			"  <testcase classname=\"workers-4x16MiB\" name=\"cgroup\" time=\"0.000\">\n"
			"    <system-out>cgroup 65.0 MiB, vs baseline 70.0 MiB: -5.0 MiB, -7.1%</system-out>\n  </testcase>\n");
	assert_contains(r.out,
			"    <system-out>tree_rss 68.0 MiB, limit 90.0 MiB, vs baseline 67.8 MiB: +0.2 MiB, +0.2%</system-out>\n");
	assert_int_equal(count(r.out, "type=\"baseline\""), 3);
	free(r.out);
	json_decref(rep);

	rep = one(baseline_fixture(), "fail");
	r = render(mg_render_junit, rep);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, "tests=\"4\" failures=\"2\" errors=\"0\"");
	assert_contains(r.out, "<failure message=\"tree_rss 212.0 MiB is +12.3 MiB, +6.8% over the baseline 199.7 MiB "
			       "(allowed +5%, +4.0 MiB)\" type=\"baseline\">");
	assert_contains(r.out, "<failure message=\"max_process_hwm 212.0 MiB is +212.0 MiB over the baseline 0.0 MiB "
			       "(allowed +5%, +4.0 MiB)\" type=\"baseline\">");
	assert_contains(r.out, "<system-out>cgroup 212.0 MiB, vs baseline 213.0 MiB: -1.0 MiB, -2.0%</system-out>");
	free(r.out);
	/* over the limit and the baseline: a limit failure that says both */
	json_t *lim = json_array_get(json_object_get(json_array_get(json_object_get(rep, "fixtures"), 0), "limits"), 0);
	json_object_set_new(lim, "limit_bytes", json_integer(200 * MIB));
	json_object_set_new(lim, "ok", json_false());
	r = render(mg_render_junit, rep);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, "<failure message=\"tree_rss 212.0 MiB &gt; limit 200.0 MiB; tree_rss 212.0 MiB is +12.3 MiB, "
			       "+6.8% over the baseline 199.7 MiB (allowed +5%, +4.0 MiB)\" type=\"limit\">");
	free(r.out);
	json_decref(rep);
}

static void baseline_svg(void **state)
{
	(void)state;
	json_t *rep = load_report("baseline");
	struct rendered r = render(mg_render_svg, rep);
	assert_int_equal(r.rc, 0);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, "fill=\"#666666\">vs baseline: <tspan font-weight=\"bold\" fill=\"#d62728\">tree_rss +12.1 MiB "
			       "(+22.7%) over</tspan>, <tspan font-weight=\"bold\" fill=\"#d62728\">cgroup +64.5 MiB over</tspan>, "
			       "max_process_hwm +0.1 MiB (+0.1%)</text>\n");
	assert_contains(r.out, ">vs baseline: tree_rss +0.2 MiB (+0.2%), max_process_hwm +0.0 MiB (+0.2%), "
			       "cgroup -5.0 MiB (-7.1%)</text>\n");
	free(r.out);
	json_decref(rep);

	/* what does not fit is counted */
	json_t *f = baseline_fixture();
	json_array_append_new(json_object_get(f, "baseline"),
			      json_pack("{s:s, s:I, s:I, s:I, s:f}", "metric", "a-rather-long-metric-name-of-some-sort",
					"value_bytes", MIB, "baseline_bytes", MIB, "delta_bytes", (json_int_t)0,
					"delta_pct", 0.0));
	rep = one(f, "fail");
	r = render(mg_render_svg, rep);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, ">vs baseline: <tspan font-weight=\"bold\" fill=\"#d62728\">tree_rss +12.3 MiB (+6.8%) over</tspan>, "
			       "<tspan font-weight=\"bold\" fill=\"#d62728\">max_process_hwm +212.0 MiB over</tspan>, "
			       "cgroup -1.0 MiB (-2.0%), +1 more</text>\n");
	free(r.out);
	json_decref(rep);

	/* escaped and cut; a fixture without a limit has the line too */
	f = fixture("x", "pass", MIB, 0);
	json_object_set_new(f, "baseline", json_pack("[{s:s, s:I, s:I, s:I, s:f}]", "metric",
						     "a<b>&\"c\"-very-long-metric-name-x", "value_bytes", MIB,
						     "baseline_bytes", MIB, "delta_bytes", (json_int_t)0, "delta_pct", 0.0));
	rep = one(f, "pass");
	r = render(mg_render_svg, rep);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, ">vs baseline: a&lt;b&gt;&amp;&quot;c&quot;-very-long-metric-name\xE2\x80\xA6 +0.0 MiB (+0.0%)</text>\n");
	free(r.out);
	json_decref(rep);
}

static void baseline_keys_are_checked(void **state)
{
	(void)state;
	json_t *f = baseline_fixture();
	json_t *rep = one(f, "fail");
	json_t *lim = json_array_get(json_object_get(f, "limits"), 0);
	json_t *b0 = json_array_get(json_object_get(f, "baseline"), 0);
	char err[256];
	assert_int_equal(mg_render_check(rep, err, sizeof err), 0);

	json_object_set_new(lim, "baseline_ok", json_string("no"));
	assert_rejected(rep, "fixtures[0].limits[0].baseline_ok: expected true or false, got a string");
	json_object_set_new(lim, "baseline_ok", json_true());
	json_object_set_new(lim, "allowed_pct", json_string("5%"));
	assert_rejected(rep, "fixtures[0].limits[0].allowed_pct: expected a number, got a string");
	json_object_set_new(lim, "allowed_pct", json_integer(5)); /* an integer is a number */
	json_object_set_new(lim, "allowed_bytes", json_integer(-1));
	assert_rejected(rep, "fixtures[0].limits[0].allowed_bytes: expected a non-negative integer, got -1");
	json_object_set_new(lim, "allowed_bytes", json_integer(0));
	json_object_set_new(lim, "baseline_bytes", json_real(1.5));
	assert_rejected(rep, "fixtures[0].limits[0].baseline_bytes: expected a non-negative integer or null, got a number with a fraction");
	json_object_set_new(lim, "baseline_bytes", json_integer(MIB));

	json_object_set_new(b0, "delta_pct", json_string("-2%"));
	assert_rejected(rep, "fixtures[0].baseline[0].delta_pct: expected a number or null, got a string");
	json_object_set_new(b0, "delta_pct", json_null());
	json_object_del(b0, "delta_bytes");
	assert_rejected(rep, "fixtures[0].baseline[0].delta_bytes: missing (expected an integer)");
	json_object_set_new(b0, "delta_bytes", json_integer(-MIB));
	json_object_set_new(b0, "metric", json_integer(3));
	assert_rejected(rep, "fixtures[0].baseline[0].metric: expected a string, got an integer");
	json_object_set_new(b0, "metric", json_string("cgroup"));
	json_object_set_new(b0, "baseline_ok", json_null());
	assert_rejected(rep, "fixtures[0].baseline[0].baseline_ok: expected true or false, got null");
	json_object_set_new(b0, "baseline_ok", json_true());
	json_array_append_new(json_object_get(f, "baseline"), json_string("pss"));
	assert_rejected(rep, "fixtures[0].baseline[2]: expected an object, got a string");
	json_object_set_new(f, "baseline", json_object());
	assert_rejected(rep, "fixtures[0].baseline: expected an array, got an object");
	json_object_set_new(f, "baseline", json_array()); /* empty: valid, nothing compared */
	assert_int_equal(mg_render_check(rep, err, sizeof err), 0);
	json_decref(rep);
}

/* ------------------------------------------------------------- phases */

/* fixtures[0].phases[i] of a report */
static json_t *phase_at(json_t *rep, size_t i)
{
	return json_array_get(json_object_get(json_array_get(json_object_get(rep, "fixtures"), 0), "phases"), i);
}

/* What report_load leaves to the view, checked there, each message naming
 * the path: the window, "exact", "pid", "peak" and the limits' keys. */
static void phases_are_checked(void **state)
{
	(void)state;
	json_t *rep = load_report("phased");
	json_t *p = phase_at(rep, 1);
	char err[256];
	assert_int_equal(mg_render_check(rep, err, sizeof err), 0);
	json_object_set_new(p, "from_ms", json_string("160"));
	assert_rejected(rep, "fixtures[0].phases[1].from_ms: expected a non-negative integer, got a string");
	json_object_set_new(p, "from_ms", json_integer(400));
	assert_rejected(rep, "fixtures[0].phases[1].to_ms: expected at least from_ms (400), got 328");
	json_object_set_new(p, "from_ms", json_integer(160));
	json_object_del(p, "exact");
	assert_rejected(rep, "fixtures[0].phases[1].exact: missing (expected true or false)");
	json_object_set_new(p, "exact", json_integer(1));
	assert_rejected(rep, "fixtures[0].phases[1].exact: expected true or false, got an integer");
	json_object_set_new(p, "exact", json_false());
	json_object_set_new(p, "pid", json_integer(-3));
	assert_rejected(rep, "fixtures[0].phases[1].pid: expected a non-negative integer, got -3");
	json_object_set_new(p, "pid", json_integer(4242));
	json_t *peak = json_incref(json_object_get(p, "peak"));
	json_object_del(p, "peak");
	assert_rejected(rep, "fixtures[0].phases[1].peak: missing (expected an object)");
	json_object_set_new(p, "peak", json_null());
	assert_rejected(rep, "fixtures[0].phases[1].peak: expected an object, got null");
	json_object_set_new(p, "peak", peak);
	json_t *l1 = json_array_get(json_object_get(p, "limits"), 1);
	json_object_del(l1, "ok");
	assert_rejected(rep, "fixtures[0].phases[1].limits[1].ok: missing (expected true or false)");
	json_object_set_new(l1, "ok", json_true());
	json_object_set_new(l1, "delta_bytes", json_real(0.5));
	assert_rejected(rep, "fixtures[0].phases[1].limits[1].delta_bytes: expected an integer or null, got a number "
			     "with a fraction");
	json_object_del(l1, "delta_bytes");
	json_object_set_new(p, "baseline", json_pack("[{s:s}]", "metric", "tree_rss"));
	assert_rejected(rep, "fixtures[0].phases[1].baseline[0].value_bytes: missing (expected an integer or null)");
	json_object_set_new(p, "baseline", json_string("none"));
	assert_rejected(rep, "fixtures[0].phases[1].baseline: expected an array, got a string");
	json_object_del(p, "baseline");
	json_object_del(p, "limits");
	assert_rejected(rep, "fixtures[0].phases[1].limits: missing (expected an array)");
	json_object_set_new(p, "limits", json_array());
	/* the newer figures may be absent; a phase of another fixture is
	 * checked the same way */
	json_object_del(peak, "cgroup_anon_bytes");
	json_object_del(peak, "tree_pss_bytes");
	assert_int_equal(mg_render_check(rep, err, sizeof err), 0);
	json_object_set_new(json_array_get(json_object_get(rep, "fixtures"), 0), "phases", json_integer(3));
	assert_rejected(rep, "fixtures[0].phases: expected an array, got an integer");
	json_decref(rep);
}

/* A phase as report_json.c writes it: cgroup `bytes` over [from, to],
 * with a cgroup limit `limit` (0: none). */
static json_t *phase_obj(const char *name, json_int_t from, json_int_t to, json_int_t bytes, json_int_t limit)
{
	json_t *limits = json_array();
	if (limit)
		json_array_append_new(limits, json_pack("{s:s, s:I, s:I, s:b, s:s}", "metric", "cgroup", "limit_bytes", limit,
							"value_bytes", bytes, "ok", bytes <= limit, "unit", "bytes"));
	json_t *p = json_pack("{s:s, s:I, s:I, s:b, s:{s:I, s:I, s:I, s:n, s:I}, s:o, s:s}", "name", name, "from_ms",
			      from, "to_ms", to, "exact", 1, "peak", "cgroup_bytes", bytes, "tree_rss_bytes", bytes,
			      "max_process_hwm_bytes", bytes, "tree_pss_bytes", "cgroup_anon_bytes", bytes, "limits", limits,
			      "verdict", limit && bytes > limit ? "fail" : "pass");
	assert_non_null(p);
	return p;
}

/* A report without "phases" and the same report with one phase "run"
 * and no phase limit (a plain command, as memgate writes it now) render
 * the same, in every format: that one phase is the whole run. */
static void one_phase_renders_as_before(void **state)
{
	(void)state;
	static const char *const names[] = {"demo", "mixed", "pool", "growth"};
	for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
		json_t *rep = load_report(names[n]);
		struct rendered before[NRENDERERS];
		for (size_t k = 0; k < NRENDERERS; k++)
			before[k] = render(all_renderers[k], rep);
		json_t *fx = json_object_get(rep, "fixtures"), *f;
		size_t i;
		json_array_foreach(fx, i, f) {
			json_t *ph = json_array();
			json_array_append_new(ph, phase_obj("run", 0, 500, 30 * MIB, 0));
			json_object_set_new(f, "phases", ph);
		}
		for (size_t k = 0; k < NRENDERERS; k++) {
			struct rendered after = render(all_renderers[k], rep);
			assert_int_equal(after.rc, 0);
			if (strcmp(after.out, before[k].out) != 0)
				fail_msg("%s, renderer %zu: one phase changed the output:\n%s", names[n], k, after.out);
			free(after.out);
			free(before[k].out);
		}
		json_decref(rep);
	}
}

/* 400 phases (a pytest run), 3 over their limit: a few lines in text and
 * markdown, the worst first by how far over, then the highest; the rest
 * counted. A phase whose limit could not be checked comes first of all. */
static void many_phases_few_lines(void **state)
{
	(void)state;
	json_t *f = fixture("tests", "fail", 300 * MIB, 0), *ph = json_array();
	char name[64];
	for (int i = 0; i < 400; i++) {
		snprintf(name, sizeof name, "tests/test_api.py::test_%03d", i);
		json_int_t bytes = (json_int_t)(40 + i % 97) * MIB; /* test_096 is the highest passing: 136 MiB */
		if (i == 7)
			bytes = 150 * MIB; /* 7% over */
		if (i == 123)
			bytes = 200 * MIB; /* the worst: 43% over */
		if (i == 321)
			bytes = 141 * MIB; /* barely over */
		json_array_append_new(ph, phase_obj(name, (json_int_t)i * 10, (json_int_t)i * 10 + 9, bytes, 140 * MIB));
	}
	json_object_set_new(f, "phases", ph);
	json_t *rep = one(f, "fail");
	struct rendered t = render(mg_render_text, rep);
	assert_int_equal(t.rc, 0);
	const char *tp = strstr(t.out, "        phases: ");
	assert_non_null(tp);
	assert_string_equal(tp,
			    "        phases: 400, 3 failing; failing first, then the highest, 10 shown\n"
			    "          tests/test_api.py::test_123       9 ms  exact    cgroup            200.0 MiB   limit   140.0 MiB   headroom  -42.9%  OVER\n"
			    "          tests/test_api.py::test_007       9 ms  exact    cgroup            150.0 MiB   limit   140.0 MiB   headroom   -7.1%  OVER\n"
			    "          tests/test_api.py::test_321       9 ms  exact    cgroup            141.0 MiB   limit   140.0 MiB   headroom   -0.7%  OVER\n"
			    "          tests/test_api.py::test_096       9 ms  exact    cgroup            136.0 MiB   limit   140.0 MiB   headroom    2.9%\n"
			    "          tests/test_api.py::test_193       9 ms  exact    cgroup            136.0 MiB   limit   140.0 MiB   headroom    2.9%\n"
			    "          tests/test_api.py::test_290       9 ms  exact    cgroup            136.0 MiB   limit   140.0 MiB   headroom    2.9%\n"
			    "          tests/test_api.py::test_387       9 ms  exact    cgroup            136.0 MiB   limit   140.0 MiB   headroom    2.9%\n"
			    "          tests/test_api.py::test_095       9 ms  exact    cgroup            135.0 MiB   limit   140.0 MiB   headroom    3.6%\n"
			    "          tests/test_api.py::test_192       9 ms  exact    cgroup            135.0 MiB   limit   140.0 MiB   headroom    3.6%\n"
			    "          tests/test_api.py::test_289       9 ms  exact    cgroup            135.0 MiB   limit   140.0 MiB   headroom    3.6%\n"
			    "          ... and 390 more in the JSON report\n");
	free(t.out);
	struct rendered m = render(mg_render_markdown, rep);
	assert_int_equal(m.rc, 0);
	assert_contains(m.out, "**Phases:** 400, 3 failing; failing first, then the highest, 10 shown.\n\n"
			       "| phase | time | measured | metric | peak | limit | headroom |\n"
			       "|---|---:|---|---|---:|---:|---:|\n"
			       "| tests/test_api.py::test_123 | 9 ms | exact | cgroup | 200.0 MiB | 140.0 MiB | -42.9% (over) |\n");
	assert_contains(m.out, "…and 390 more phases in the JSON report.\n");
	assert_int_equal(count(m.out, "| tests/test"), 10);
	free(m.out);
	/* one limit that cannot be checked (xdist: tree_rss per test is null) */
	json_t *p200 = json_array_get(ph, 200), *l = json_array_get(json_object_get(p200, "limits"), 0);
	json_object_set_new(l, "metric", json_string("tree_rss"));
	json_object_set_new(l, "value_bytes", json_null());
	json_object_set_new(l, "ok", json_false());
	json_object_set_new(p200, "verdict", json_string("error"));
	t = render(mg_render_text, rep);
	assert_contains(t.out, "        phases: 400, 4 failing; failing first, then the highest, 10 shown\n"
			       "          tests/test_api.py::test_200       9 ms  exact    tree_rss                n/a   limit   140.0 MiB   not measured\n"
			       "          tests/test_api.py::test_123 ");
	free(t.out);
	json_decref(rep);
}

/* No phase fails and all fit: in the order they ran (startup, load,
 * shutdown), whatever their peaks; one phase with a limit is shown. */
static void few_phases_in_order(void **state)
{
	(void)state;
	json_t *f = fixture("svc", "pass", 300 * MIB, 0), *ph = json_array();
	json_array_append_new(ph, phase_obj("startup", 0, 100, 10 * MIB, 0));
	json_array_append_new(ph, phase_obj("load", 100, 1400, 300 * MIB, 0));
	json_array_append_new(ph, phase_obj("shutdown", 1400, 1500, 20 * MIB, 0));
	json_object_set_new(f, "phases", ph);
	json_t *rep = one(f, "pass");
	struct rendered t = render(mg_render_text, rep);
	assert_contains(t.out, "        phases: 3\n"
			       "          startup      100 ms  exact    cgroup             10.0 MiB\n"
			       "          load         1.30 s  exact    cgroup            300.0 MiB\n"
			       "          shutdown     100 ms  exact    cgroup             20.0 MiB\n");
	free(t.out);
	json_array_remove(ph, 2);
	json_array_remove(ph, 1);
	t = render(mg_render_text, rep);
	assert_null(strstr(t.out, "phases:")); /* one phase, no limit: the whole run */
	free(t.out);
	json_array_set_new(ph, 0, phase_obj("startup", 0, 100, 10 * MIB, 64 * MIB));
	t = render(mg_render_text, rep);
	assert_contains(t.out, "        phases: 1\n"
			       "          startup     100 ms  exact    cgroup             10.0 MiB   limit    64.0 MiB   headroom   84.4%\n");
	free(t.out);
	json_decref(rep);
}

/* "exact" is per figure where the report has exact_figures: a pytest-xdist
 * test's max_process_hwm is the kernel's, its cgroup figure sampled, and
 * tree_rss always sampled; without the key, the phase's own flag. */
static void phase_exactness_per_figure(void **state)
{
	(void)state;
	json_t *f = fixture("t", "pass", 300 * MIB, 0), *ph = json_array();
	json_t *a = phase_obj("t.py::a", 0, 100, 10 * MIB, 64 * MIB); /* the row shows its cgroup limit */
	json_object_set_new(a, "exact", json_true());
	json_object_set_new(a, "exact_figures", json_pack("[s]", "max_process_hwm_bytes"));
	json_array_append_new(ph, a);
	json_t *b = phase_obj("t.py::b", 100, 200, 20 * MIB, 0);
	json_object_set_new(b, "exact_figures", json_pack("[s, s]", "cgroup_bytes", "max_process_hwm_bytes"));
	json_array_append_new(ph, b);
	json_object_set_new(f, "phases", ph);
	json_t *rep = one(f, "pass");
	struct rendered t = render(mg_render_text, rep);
	assert_contains(t.out, "          t.py::a     100 ms  sampled  cgroup             10.0 MiB   limit    64.0 MiB");
	/* no limit: the fixture's figure for phases, here cgroup, exact for b */
	assert_contains(t.out, "          t.py::b     100 ms  exact    cgroup             20.0 MiB\n");
	free(t.out);
	json_object_del(a, "exact_figures"); /* an older report: the phase's flag */
	t = render(mg_render_text, rep);
	assert_contains(t.out, "          t.py::a     100 ms  exact    cgroup             10.0 MiB");
	free(t.out);
	json_object_set_new(a, "exact_figures", json_string("cgroup_bytes"));
	assert_rejected(rep, "fixtures[0].phases[0].exact_figures: expected an array of peak keys, got a string");
	json_decref(rep);
}

/* 400 phases: 24 bands drawn, the failing among them, the rest said
 * under the plot; scoped phases of 6 processes: 4 lanes at most; names
 * escaped; a name that does not fit is not drawn, its test's own name
 * (after "::") is when that fits. */
static void svg_phase_bands(void **state)
{
	(void)state;
	json_t *f = fixture("tests", "fail", 300 * MIB, 0), *ph = json_array();
	char name[64];
	for (int i = 0; i < 400; i++) {
		snprintf(name, sizeof name, "tests/test_api.py::t%03d", i);
		json_array_append_new(ph, phase_obj(name, (json_int_t)i * 3, (json_int_t)i * 3 + 3,
						    (json_int_t)(i == 77 ? 150 : 40 + i % 90) * MIB, 140 * MIB));
	}
	json_object_set_new(f, "phases", ph);
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_svg, rep);
	assert_int_equal(r.rc, 0);
	assert_well_formed_xml(r.out);
	assert_int_equal(count(r.out, "</rect>"), 24);
	assert_int_equal(count(r.out, "stroke=\"#d62728\" stroke-width=\"0.8\""), 1); /* t077, failing */
	assert_contains(r.out, "<title>tests/test_api.py::t077: cgroup 150.0 MiB, limit 140.0 MiB (over), 3 ms, exact</title>");
	assert_contains(r.out, ">24 of 400 phases drawn (the failing, then the highest)</text>");
	assert_int_equal(count(r.out, ">phases</text>"), 1);
	free(r.out);
	/* 6 processes' scoped phases, one wide phase with markup in its name */
	json_array_clear(ph);
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof name, "m.py::w%d", i);
		json_t *p = phase_obj(name, (json_int_t)i * 100, (json_int_t)i * 100 + 90, 30 * MIB, 0);
		json_object_set_new(p, "pid", json_integer(1000 + i % 6));
		json_array_append_new(ph, p);
	}
	json_array_append_new(ph, phase_obj("a<b>&\"c\"", 0, 1500, 10 * MIB, 0));
	r = render(mg_render_svg, rep);
	assert_well_formed_xml(r.out);
	assert_int_equal(count(r.out, ">pid 10"), 3); /* lanes: the whole tree, 1000, 1001, 1002 */
	assert_int_equal(count(r.out, "</rect>"), 1 + 6);
	assert_contains(r.out, ">a&lt;b&gt;&amp;&quot;c&quot;</text>");
	assert_contains(r.out, ">w0</text>"); /* 90 ms is ~44 px: "m.py::w0" is too wide */
	free(r.out);
	json_decref(rep);
}

/* A phase with a limit is a testcase "fixture/phase" that fails as the
 * phase does, and then the run testcase does not fail too; a limit that
 * could not be checked is an error; a phase over its baseline without a
 * limit gets a testcase too. */
static void junit_phase_testcases(void **state)
{
	(void)state;
	json_t *f = fixture("svc", "fail", 60 * MIB, 0), *ph = json_array();
	json_array_append_new(ph, phase_obj("startup", 0, 250, 80 * MIB, 64 * MIB));
	json_array_append_new(ph, phase_obj("load", 250, 1400, 50 * MIB, 0));
	json_array_append_new(ph, phase_obj("shutdown", 1400, 1500, 20 * MIB, 64 * MIB));
	json_object_set_new(f, "phases", ph);
	add_reason(f, "phase startup: cgroup 80.0 MiB > limit 64.0 MiB");
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_junit, rep);
	assert_int_equal(r.rc, 0);
	assert_well_formed_xml(r.out);
	assert_contains(r.out, "<testsuite name=\"memgate\" tests=\"3\" failures=\"1\" errors=\"0\"");
	assert_contains(r.out, "  <testcase classname=\"svc\" name=\"svc/startup\" time=\"0.250\">\n"
			       "    <failure message=\"phase startup: cgroup 80.0 MiB &gt; limit 64.0 MiB\" type=\"limit\">"
			       "cgroup 80.0 MiB &gt; limit 64.0 MiB</failure>\n"
			       "    <system-out>cgroup 80.0 MiB &gt; limit 64.0 MiB; 250 ms, exact</system-out>\n");
	assert_contains(r.out, "  <testcase classname=\"svc\" name=\"svc/shutdown\" time=\"0.100\">\n"
			       "    <system-out>cgroup 20.0 MiB, limit 64.0 MiB; 100 ms, exact</system-out>\n");
	assert_null(strstr(r.out, "svc/load")); /* no limit */
	free(r.out);
	/* not measured: an error, on the phase's testcase only */
	json_t *sd = json_array_get(ph, 2), *l = json_array_get(json_object_get(sd, "limits"), 0);
	json_object_set_new(l, "value_bytes", json_null());
	json_object_set_new(l, "ok", json_false());
	json_object_set_new(sd, "verdict", json_string("error"));
	json_array_set_new(ph, 0, phase_obj("startup", 0, 250, 60 * MIB, 64 * MIB));
	json_array_clear(json_object_get(f, "reasons"));
	add_reason(f, "phase shutdown: cgroup limit 64.0 MiB cannot be checked: not measured for this phase");
	json_object_set_new(f, "verdict", json_string("error"));
	json_object_set_new(rep, "verdict", json_string("error")); /* the worst of its fixtures' */
	r = render(mg_render_junit, rep);
	assert_contains(r.out, "tests=\"3\" failures=\"0\" errors=\"1\"");
	assert_contains(r.out, "<error message=\"cgroup limit 64.0 MiB cannot be checked: not measured for this phase\" "
			       "type=\"not-measured\">");
	free(r.out);
	/* over its baseline, without a limit */
	json_array_set_new(ph, 2, phase_obj("shutdown", 1400, 1500, 20 * MIB, 64 * MIB));
	json_t *load = json_array_get(ph, 1);
	json_object_set_new(load, "baseline", json_pack("[{s:s, s:I, s:I, s:I, s:f, s:f, s:I, s:b}]", "metric", "cgroup",
							"value_bytes", 50 * MIB, "baseline_bytes", 30 * MIB, "delta_bytes",
							20 * MIB, "delta_pct", 66.67, "allowed_pct", 10.0, "allowed_bytes",
							4 * MIB, "baseline_ok", 0));
	json_object_set_new(load, "verdict", json_string("fail"));
	json_object_set_new(f, "verdict", json_string("fail"));
	r = render(mg_render_junit, rep);
	assert_contains(r.out, "tests=\"4\" failures=\"1\" errors=\"0\"");
	assert_contains(r.out, "  <testcase classname=\"svc\" name=\"svc/load\" time=\"1.150\">\n"
			       "    <failure message=\"phase load: cgroup 50.0 MiB is +20.0 MiB, +66.7% over the baseline "
			       "30.0 MiB (allowed +10%, +4.0 MiB)\" type=\"baseline\">cgroup 50.0 MiB, vs baseline 30.0 MiB: "
			       "+20.0 MiB, +66.7%</failure>\n"
			       "    <system-out>1.15 s, exact, vs baseline 30.0 MiB: +20.0 MiB, +66.7%</system-out>\n");
	free(r.out);
	json_decref(rep);
}

/* One report per case the phase tables, bands and testcases are for, each
 * of one real run on this host (cgroup v1, 10 ms), with the markdown it
 * renders to, markdown, SVG and JUnit (its .txt is checked with the other
 * real reports):
 *   phased   service: workload phased {port} 300 50, driver drive 3000;
 *            startup over its cgroup limit, load and shutdown within
 *   marked   measure -- workload phases 200 80: a program's own marks
 *   pytest   pytest -p memgate_pytest on tests/data/pytest-phases, a glob
 *            limit and one test's own: 6 of 20 tests over
 *   xdist    the same with -n 2: scoped, overlapping phases, 8 over
 *   phasebase  phased's config again, --baseline an edited copy of phased
 *            (load's figures 12 MiB lower, a phase "warmup" added): load
 *            over its baseline, warmup a note
 * Regenerate one with `build/memgate report -f markdown
 * tests/data/reports/X.json -o tests/data/reports/X.md` (svg likewise)
 * and look at it. */
static void phases_golden(void **state)
{
	(void)state;
	static const char *const names[] = {"phased", "marked", "pytest", "xdist", "phasebase"};
	static const struct {
		const char *ext;
		render_fn fn;
	} outs[] = {{"md", mg_render_markdown}, {"svg", mg_render_svg}, {"junit.xml", mg_render_junit}};
	for (size_t n = 0; n < sizeof names / sizeof names[0]; n++)
		for (size_t k = 0; k < sizeof outs / sizeof outs[0]; k++) {
			char path[128];
			snprintf(path, sizeof path, "reports/%s.%s", names[n], outs[k].ext);
			char *want = tu_read_data(path);
			json_t *rep = load_report(names[n]);
			struct rendered r = render(outs[k].fn, rep);
			assert_int_equal(r.rc, 0);
			if (strcmp(r.out, want) != 0)
				fail_msg("%s: differs; got\n%s", path, r.out);
			free(r.out);
			free(want);
			json_decref(rep);
		}
}

/* ------------------------------------------- pull-request comment table */

static struct rendered render_comment(json_t *report, size_t budget, const char *url)
{
	struct rendered r = {0};
	FILE *f = open_memstream(&r.out, &r.len);
	assert_non_null(f);
	r.rc = mg_render_markdown_comment(report, f, budget, url, r.err, sizeof r.err);
	fclose(f);
	return r;
}

#define COMMENT_HEAD "| fixture | verdict | metric | value | limit | vs baseline |\n|---|---|---|---:|---:|---:|\n"

/* A row per limited or compared metric, worst fixture first, the figures
 * formatted as the other renderers do; no cut note when all fit. */
static void comment_table_baseline(void **state)
{
	(void)state;
	json_t *rep = load_report("baseline");
	struct rendered r = render_comment(rep, 65536, "https://github.com/o/r/actions/runs/42");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out,
		"**memgate: FAIL** — 2 of 3 fixtures failed\n\n" COMMENT_HEAD
		"| hold-64MiB | FAIL | tree_rss | 65.4 MiB | 80.0 MiB | +12.1 MiB, +22.7% (over baseline) |\n"
		"| | | cgroup | 64.5 MiB | — | +64.5 MiB (over baseline) |\n"
		"| | | max_process_hwm | 65.4 MiB | — | +0.1 MiB, +0.1% |\n"
		"| forked-shared-32MiB | FAIL | pss | 32.5 MiB | 48.0 MiB | 0.0 MiB, -0.1% |\n"
		"| | | tree_rss | 130.5 MiB | — | -0.1 MiB, -0.1% |\n"
		"| | | cgroup | 33.0 MiB | — | +10.0 MiB, +43.5% (over baseline) |\n"
		"| | | max_process_hwm | 33.3 MiB | — | -0.1 MiB, -0.3% |\n"
		"| workers-4x16MiB | PASS | tree_rss | 68.0 MiB | 90.0 MiB | +0.2 MiB, +0.2% |\n"
		"| | | max_process_hwm | 16.7 MiB | 24.0 MiB | +0.0 MiB, +0.2% |\n"
		"| | | cgroup | 65.0 MiB | — | -5.0 MiB, -7.1% |\n\n"
		"_The full report is in [the CI run](https://github.com/o/r/actions/runs/42)._\n");
	free(r.out);
	json_decref(rep);
}

/* Over a limit, a limit that could not be checked, a fixture that did not
 * start, one that failed for no figure: each says why in its row. */
static void comment_table_says_why(void **state)
{
	(void)state;
	json_t *rep = load_report("mixed");
	struct rendered r = render_comment(rep, 65536, NULL);
	assert_int_equal(r.rc, 0);
	assert_starts(r.out, "**memgate: ERROR** — 4 of 6 fixtures failed, 2 could not be measured\n\n" COMMENT_HEAD
			     "| proc-pss | ERROR: cgroup limit 100.0 MiB cannot be checked: not measured with proc | "
			     "tree_rss | 27.3 MiB | 64.0 MiB | — |\n"
			     "| | | cgroup | n/a | 100.0 MiB (not measured) | — |\n");
	assert_contains(r.out, "| no-such-command | ERROR: cannot execute \"/nonexistent/cmd\": command not found "
			       "(check the command and PATH) | — | did not start | — | — |\n");
	assert_contains(r.out, "| grow-over | FAIL | tree_rss | 97.3 MiB | 64.0 MiB (over) | — |\n"
			       "| | | cgroup | 96.4 MiB | 200.0 MiB | — |\n");
	assert_contains(r.out, "| crash | FAIL: killed by signal 11 (SIGSEGV) | tree_rss | 13.3 MiB | — | — |\n");
	assert_contains(r.out, "| exit-3 | FAIL: exited with code 3 | tree_rss | 1.1 MiB | 10.0 MiB | — |\n");
	assert_true(strstr(r.out, "left out") == NULL && strstr(r.out, "full report") == NULL);
	free(r.out);
	json_decref(rep);

	/* a name that would break the table is escaped; a fixture that was
	 * not run says so */
	json_t *f = fixture("a|b `c`", "error", 0, 0);
	json_object_set_new(f, "exit", json_null());
	add_reason(f, "not run: memgate was interrupted");
	rep = one(f, "error");
	r = render_comment(rep, 65536, NULL);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "| a\\|b \\`c\\` | ERROR: not run: memgate was interrupted | — | not run | — | — |\n");
	free(r.out);
	json_decref(rep);
}

/* Past the budget whole fixtures are left out, the worst kept, and one
 * line says how many and where the full report is. */
static void comment_table_cut_at_a_fixture(void **state)
{
	(void)state;
	json_t *a = json_array();
	for (size_t i = 0; i < 3000; i++) {
		char name[32];
		snprintf(name, sizeof name, "fixture-%05zu", i);
		bool bad = i % 1000 == 999; /* three failures, last in report order */
		json_t *f = fixture(name, bad ? "fail" : "pass", (bad ? 30 : 10) * MIB, 20 * MIB);
		if (bad)
			add_reason(f, "tree_rss 30.0 MiB > limit 20.0 MiB");
		json_t *more = json_pack("{s:s, s:I, s:I, s:b}", "metric", "cgroup", "limit_bytes", 40 * MIB,
					 "value_bytes", (bad ? 30 : 10) * MIB, "ok", 1);
		json_array_append_new(json_object_get(f, "limits"), more);
		json_array_append_new(a, f);
	}
	json_t *rep = report_of("fail", a);
	const char *url = "https://github.com/o/r/actions/runs/42";
	struct rendered r = render_comment(rep, 65536, url);
	assert_int_equal(r.rc, 0);
	assert_true(r.len <= 65536);
	assert_true(r.len > 60000); /* filled, not cut early */
	assert_starts(r.out, "**memgate: FAIL** — 3 of 3000 fixtures failed\n\n" COMMENT_HEAD
			     "| fixture-00999 | FAIL | tree_rss | 30.0 MiB | 20.0 MiB (over) | — |\n"
			     "| | | cgroup | 30.0 MiB | 40.0 MiB | — |\n"
			     "| fixture-01999 | FAIL |");
	size_t shown = count(r.out, "| fixture-");
	assert_true(shown > 100 && shown < 3000);
	/* every fixture shown has both its rows: the last row is a cgroup row */
	assert_int_equal(count(r.out, "| | | cgroup |"), shown);
	char note[256];
	snprintf(note, sizeof note, "|\n\n_%zu of 3000 fixtures left out to stay under the comment size limit; "
				    "the full report is in [the CI run](%s)._\n", 3000 - shown, url);
	assert_true(r.len > strlen(note) && strcmp(r.out + r.len - strlen(note), note) == 0);
	free(r.out);

	/* a URL that could break the link is not made one */
	r = render_comment(rep, 4096, "https://x/a)(b");
	assert_int_equal(r.rc, 0);
	assert_true(r.len <= 4096);
	assert_contains(r.out, "fixtures left out to stay under the comment size limit; the full report is in "
			       "the JSON report._\n");
	free(r.out);
	/* no room for any row: the verdict and the note still */
	r = render_comment(rep, 0, NULL);
	assert_string_equal(r.out, "**memgate: FAIL** — 3 of 3000 fixtures failed\n\n_3000 of 3000 fixtures left out "
				   "to stay under the comment size limit; the full report is in the JSON report._\n");
	free(r.out);
	json_decref(rep);
}


/* One real report per heap tool, each run on this host (cgroup v1, 10 ms)
 * with the markdown and JUnit it renders to (its .txt is checked with the
 * other real reports):
 *   tracemalloc  `memgate run -c configs/lab.json`: the leaky lab service
 *                fails, its sites in blocks; NumPy's share of the traced
 *                heap. Its series thinned to every 4th point (the first,
 *                the last and each largest kept), the figures untouched.
 *   memray       `memgate run -c configs/lab-memray.json --artifacts
 *                build/heap-artifacts`: sites in allocations with their
 *                functions, no current figure, the flame graph's path
 *   memrayfork   tests/data/memray-real/workload.py pool under the venv's
 *                python, "heap": {"tool": "memray", "follow_fork": true,
 *                "native": true, "top": 5}, limits tree_rss 200MiB and
 *                heap 16MiB, --artifacts: over the heap limit, each
 *                process's peak, native frames
 *   heaptrack    `memgate run -c configs/lab-native.json`: native heap in
 *                calls, leaked bytes, the leaking sites marked
 * Regenerate one with `build/memgate report -f markdown
 * tests/data/reports/X.json -o tests/data/reports/X.md` (junit likewise)
 * and look at it. */
static void heap_golden(void **state)
{
	(void)state;
	static const char *const names[] = {"tracemalloc", "memray", "memrayfork", "heaptrack"};
	static const struct {
		const char *ext;
		render_fn fn;
	} outs[] = {{"md", mg_render_markdown}, {"junit.xml", mg_render_junit}};
	for (size_t n = 0; n < sizeof names / sizeof names[0]; n++)
		for (size_t k = 0; k < sizeof outs / sizeof outs[0]; k++) {
			char path[128];
			snprintf(path, sizeof path, "reports/%s.%s", names[n], outs[k].ext);
			char *want = tu_read_data(path);
			json_t *rep = load_report(names[n]);
			struct rendered r = render(outs[k].fn, rep);
			assert_int_equal(r.rc, 0);
			if (k == 1)
				assert_well_formed_xml(r.out);
			if (strcmp(r.out, want) != 0)
				fail_msg("%s: differs; got\n%s", path, r.out);
			free(r.out);
			free(want);
			json_decref(rep);
		}
}

/* The heap block under its first name, "python_heap", is read when the
 * report has no "heap" (python.json); with both, "heap" alone is read, and
 * a wrong value in it is named by that key. */
static void heap_key_and_its_first_name(void **state)
{
	(void)state;
	json_t *rep = load_report("heaptrack");
	json_t *f = json_array_get(json_object_get(rep, "fixtures"), 0);
	json_object_set_new(f, "python_heap", json_pack("{s:s, s:I, s:n, s:[]}", "tool", "tracemalloc", "peak_bytes",
							 MIB, "current_bytes", "top"));
	struct rendered r = render(mg_render_text, rep);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "        native heap (heaptrack): peak 47.0 MiB, leaked 47.0 MiB\n");
	assert_int_equal(count(r.out, "tracemalloc"), 0);
	free(r.out);
	json_t *h = json_object_get(f, "heap");
	json_object_set_new(json_array_get(json_object_get(h, "leaks"), 1), "size_bytes", json_integer(-1));
	assert_rejected(rep, "fixtures[0].heap.leaks[1].size_bytes: expected a non-negative integer, got -1");
	json_object_set_new(json_array_get(json_object_get(h, "leaks"), 1), "size_bytes", json_integer(1));
	json_object_set_new(h, "processes", json_pack("[{s:i, s:s, s:i}]", "pid", 1, "forked", "yes", "peak_bytes", 1));
	assert_rejected(rep, "fixtures[0].heap.processes[0].forked: expected true or false, got a string");
	json_object_set_new(h, "processes", json_array());
	json_object_set_new(h, "flamegraph", json_integer(3));
	assert_rejected(rep, "fixtures[0].heap.flamegraph: expected a string, got an integer");
	json_object_del(h, "flamegraph");
	json_object_set_new(h, "leaked_bytes", json_string("lots"));
	assert_rejected(rep, "fixtures[0].heap.leaked_bytes: expected a non-negative integer or null, got a string");
	/* "heap": null is no heap, whatever python_heap holds */
	json_object_set_new(f, "heap", json_null());
	r = render(mg_render_text, rep);
	assert_int_equal(r.rc, 0);
	assert_int_equal(count(r.out, " heap ("), 1); /* native-fixed's */
	assert_int_equal(count(r.out, "tracemalloc"), 0);
	free(r.out);
	json_decref(rep);
}

/* What each tool adds, at its edges: memray's processes past the few
 * named (the largest first, a pid that is null), heaptrack's leaks past
 * the few named and a leak only partly held at the peak, a count of one. */
static void heap_edges(void **state)
{
	(void)state;
	json_t *f = fixture("svc", "fail", 30 * MIB, 20 * MIB);
	add_reason(f, "tree_rss 30.0 MiB > limit 20.0 MiB");
	json_t *procs = json_array();
	json_array_append_new(procs, json_pack("{s:i, s:b, s:I}", "pid", 10, "forked", 0, "peak_bytes", 2 * MIB));
	json_array_append_new(procs, json_pack("{s:n, s:b, s:I}", "pid", "forked", 1, "peak_bytes", 5 * MIB));
	for (int i = 0; i < 4; i++)
		json_array_append_new(procs, json_pack("{s:i, s:b, s:I}", "pid", 20 + i, "forked", 1, "peak_bytes",
						       (json_int_t)(i + 1) * MIB / 2));
	json_object_set_new(f, "heap", json_pack("{s:s, s:I, s:n, s:[{s:s, s:I, s:i, s:s, s:s}], s:[], s:o}", "tool",
						 "memray", "peak_bytes", 11 * MIB, "current_bytes", "top", "location",
						 "w.py:3", "size_bytes", 4 * MIB, "count", 1, "function", "work", "native",
						 "PyList_Append", "domains", "processes", procs));
	json_t *rep = one(f, "fail");
	struct rendered r = render(mg_render_text, rep);
	assert_contains(r.out, "        python heap (memray): peak 11.0 MiB, summed over 6 processes' own peaks\n"
			       "          per process: pid ? (forked) 5.0 MiB, pid 10 2.0 MiB, pid 23 (forked) 2.0 MiB, "
			       "and 3 more\n"
			       "               4.0 MiB  w.py:3  work  native: PyList_Append  (1 allocation)\n");
	free(r.out);
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "Per process: pid ? (forked) 5.0 MiB, pid 10 2.0 MiB, pid 23 (forked) 2.0 MiB, … and 3 "
			       "more.\n\n");
	assert_contains(r.out, "| w.py:3 (work; native: PyList_Append) | 4.0 MiB | 1 |\n");
	free(r.out);
	json_decref(rep);

	/* heaptrack: five leaks, one partly at the peak, four elsewhere */
	f = fixture("nat", "fail", 30 * MIB, 20 * MIB);
	add_reason(f, "tree_rss 30.0 MiB > limit 20.0 MiB");
	json_t *leaks = json_array();
	json_array_append_new(leaks, json_pack("{s:s, s:I, s:i, s:s}", "location", "a.c:1", "size_bytes", 3 * MIB, "count",
					       10, "function", "f"));
	for (int i = 0; i < 4; i++)
		json_array_append_new(leaks, json_pack("{s:s, s:I, s:i, s:s}", "location", i ? "b.c:2" : "c.c:3",
						       "size_bytes", (json_int_t)(4 - i) * MIB / 4, "count", 1, "function",
						       i ? "g" : "h"));
	json_object_set_new(f, "heap", json_pack("{s:s, s:I, s:n, s:I, s:[{s:s, s:I, s:i, s:s}], s:o, s:[]}", "tool",
						 "heaptrack", "peak_bytes", 8 * MIB, "current_bytes", "leaked_bytes",
						 5 * MIB, "top", "location", "a.c:1", "size_bytes", 6 * MIB, "count", 20,
						 "function", "f", "leaks", leaks, "domains"));
	rep = one(f, "fail");
	r = render(mg_render_text, rep);
	assert_contains(r.out, "        native heap (heaptrack): peak 8.0 MiB, leaked 5.0 MiB\n"
			       "               6.0 MiB  a.c:1  f  (20 calls, 3.0 MiB leaked)\n"
			       "          leaked, not held at the peak:\n"
			       "               1.0 MiB  c.c:3  h  (1 call)\n"
			       "               0.8 MiB  b.c:2  g  (1 call)\n"
			       "               0.5 MiB  b.c:2  g  (1 call)\n"
			       "          ... and 1 more leaking sites in the JSON report\n");
	free(r.out);
	r = render(mg_render_markdown, rep);
	assert_contains(r.out, "**Native heap** (heaptrack): peak 8.0 MiB, leaked 5.0 MiB\n\n"
			       "| allocation site | size | calls | leaked |\n|---|---:|---:|---:|\n"
			       "| a.c:1 (f) | 6.0 MiB | 20 | 3.0 MiB |\n\n"
			       "| leaked, not held at the peak | size | calls |\n|---|---:|---:|\n"
			       "| c.c:3 (h) | 1.0 MiB | 1 |\n");
	assert_int_equal(count(r.out, "current"), 0);
	free(r.out);
	/* passing: the figures, no sites */
	json_object_set_new(f, "verdict", json_string("pass"));
	json_array_clear(json_object_get(f, "reasons"));
	r = render(mg_render_text, rep);
	assert_contains(r.out, "        native heap (heaptrack): peak 8.0 MiB, leaked 5.0 MiB\n");
	assert_int_equal(count(r.out, "a.c:1"), 0);
	free(r.out);
	json_decref(rep);
}

/* A report from elsewhere may list any number of sites and leaks (memgate
 * writes at most 64 of each): matching them costs linear time, not the
 * cube of the lists' length. 2000 of each, no leak where a site is: well
 * under a second (compared in full, about 8e9 comparisons). */
static void heap_long_lists_render_fast(void **state)
{
	(void)state;
	json_t *f = fixture("nat", "fail", 30 * MIB, 20 * MIB);
	add_reason(f, "tree_rss 30.0 MiB > limit 20.0 MiB");
	json_t *top = json_array(), *leaks = json_array();
	for (int i = 0; i < 2000; i++) {
		json_array_append_new(top, json_pack("{s:s, s:i, s:i, s:s}", "location", "a.c:1", "size_bytes", 2000 - i,
						     "count", 1, "function", "f"));
		json_array_append_new(leaks, json_pack("{s:s, s:i, s:i, s:s}", "location", "b.c:1", "size_bytes",
						       2000 - i, "count", 1, "function", "f"));
	}
	json_object_set_new(f, "heap", json_pack("{s:s, s:I, s:n, s:I, s:o, s:o, s:[]}", "tool", "heaptrack",
						 "peak_bytes", 8 * MIB, "current_bytes", "leaked_bytes", 5 * MIB, "top",
						 top, "leaks", leaks, "domains"));
	json_t *rep = one(f, "fail");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	render_fn fns[] = {mg_render_text, mg_render_markdown, mg_render_junit};
	for (size_t k = 0; k < 3; k++) {
		struct rendered r = render(fns[k], rep);
		assert_int_equal(r.rc, 0);
		free(r.out);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (s > 2.0)
		fail_msg("rendering 2000 sites and leaks took %.1f s", s);
	json_decref(rep);
}

/* A sampled figure under its limit whose pass could not be proven
 * (verdict.c: "ok": false, value <= limit) is an error, never "over". */
static void unproven_pass_is_an_error(void **state)
{
	(void)state;
	json_t *f = fixture("short", "error", 10 * MIB, 20 * MIB);
	json_object_set_new(json_array_get(json_object_get(f, "limits"), 0), "ok", json_false());
	add_reason(f, "pss limit 20.0 MiB cannot be checked: tree_rss, its ceiling, went over it");
	json_t *rep = one(f, "error");
	struct rendered r = render(mg_render_junit, rep);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "type=\"not-measured\"");
	assert_contains(r.out, "the pass cannot be proven");
	assert_null(strstr(r.out, "does not meet"));
	free(r.out);
	r = render_comment(rep, 65536, NULL);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "(not proven)");
	assert_null(strstr(r.out, "(over)"));
	free(r.out);
	json_decref(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wrong_type_names_the_path),
		cmocka_unit_test(missing_key_names_the_path),
		cmocka_unit_test(not_a_memgate_report),
		cmocka_unit_test(bad_values_deep_inside),
		cmocka_unit_test(keys_the_renderers_need),
		cmocka_unit_test(optional_keys_are_checked_when_present),
		cmocka_unit_test(not_run_fixture_is_valid),
		cmocka_unit_test(text_matches_report_text),
		cmocka_unit_test(text_hand_made),
		cmocka_unit_test(surprise_shared_pages),
		cmocka_unit_test(surprise_page_cache),
		cmocka_unit_test(inexact_backend_once),
		cmocka_unit_test(inexact_reason_is_brief),
		cmocka_unit_test(not_started_measured_nothing),
		cmocka_unit_test(markdown_real_report),
		cmocka_unit_test(markdown_pass_and_not_run),
		cmocka_unit_test(markdown_escapes_cells),
		cmocka_unit_test(markdown_measured_how_often),
		cmocka_unit_test(markdown_anon_and_surprises),
		cmocka_unit_test(markdown_chart_is_downsampled_keeping_peaks),
		cmocka_unit_test(downsample_keeps_maxima),
		cmocka_unit_test(nice_ticks),
		cmocka_unit_test(markdown_baseline_delta_and_heap),
		cmocka_unit_test(markdown_stays_under_the_summary_limit),
		cmocka_unit_test(markdown_tiny_budget_drops_overview_rows),
		cmocka_unit_test(errno_is_named_and_told),
		cmocka_unit_test(junit_real_report),
		cmocka_unit_test(junit_counts_agree_with_verdicts),
		cmocka_unit_test(junit_escapes_everything),
		cmocka_unit_test(unproven_pass_is_an_error),
		cmocka_unit_test(junit_classifies_by_structure_not_wording),
		cmocka_unit_test(junit_invalid_utf8_is_replaced),
		cmocka_unit_test(junit_surprises_where_they_matter),
		cmocka_unit_test(svg_real_reports),
		cmocka_unit_test(svg_oom_timeout_and_limit),
		cmocka_unit_test(svg_edge_cases),
		cmocka_unit_test(chart_plots_the_failed_metric),
		cmocka_unit_test(chart_growth_fit),
		cmocka_unit_test(chart_marks_the_end),
		cmocka_unit_test(figures_golden),
		cmocka_unit_test(markdown_service_report),
		cmocka_unit_test(markdown_output_tail_cannot_break_out),
		cmocka_unit_test(markdown_python_heap_report),
		cmocka_unit_test(junit_service_report),
		cmocka_unit_test(huge_figures_saturate),
		cmocka_unit_test(any_value_of_any_type),
		cmocka_unit_test(delta_formats),
		cmocka_unit_test(baseline_text_real_report),
		cmocka_unit_test(baseline_text_hand_made),
		cmocka_unit_test(no_baseline_keys_render_as_before),
		cmocka_unit_test(baseline_markdown),
		cmocka_unit_test(baseline_junit),
		cmocka_unit_test(baseline_svg),
		cmocka_unit_test(baseline_keys_are_checked),
		cmocka_unit_test(phases_are_checked),
		cmocka_unit_test(one_phase_renders_as_before),
		cmocka_unit_test(many_phases_few_lines),
		cmocka_unit_test(few_phases_in_order),
		cmocka_unit_test(phase_exactness_per_figure),
		cmocka_unit_test(svg_phase_bands),
		cmocka_unit_test(junit_phase_testcases),
		cmocka_unit_test(phases_golden),
		cmocka_unit_test(heap_golden),
		cmocka_unit_test(heap_key_and_its_first_name),
		cmocka_unit_test(heap_edges),
		cmocka_unit_test(heap_long_lists_render_fast),
		cmocka_unit_test(comment_table_baseline),
		cmocka_unit_test(comment_table_says_why),
		cmocka_unit_test(comment_table_cut_at_a_fixture),
	};
	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
