/* render: the report renderers. Each one takes a parsed JSON report
 * (schema 1, the shape report_json.c writes), so `memgate report` renders a
 * saved report and `memgate run` the one it has just built. Renderers never
 * measure. The report is validated in full before anything is written: a
 * malformed report (or one from another tool) gives -1 and a message naming
 * the JSON path, e.g. "fixtures[2].peak.tree_rss_bytes: expected an integer
 * or null", and no partial output. Every function returns 0, or -1 with err. */
#ifndef MG_RENDER_H
#define MG_RENDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* GitHub's job summary limit is 1 MiB per step; stay well under it. */
#define MG_MARKDOWN_BUDGET ((size_t)900 * 1024)

/* Where mg_render_github writes; a NULL member skips that output. */
struct mg_github_env {
	const char *step_summary_path; /* $GITHUB_STEP_SUMMARY: markdown appended */
	const char *output_path;       /* $GITHUB_OUTPUT: step outputs appended */
	FILE *annotations;             /* workflow commands (::error ...), normally stdout */
};

/* A renderer: the report into out; 0, or -1 with err. */
typedef int (*mg_render_fn)(json_t *report, FILE *out, char *err, size_t errlen);

/* fn's rendering of report into the file at path, through the one writer
 * of files a user names (outfile.h): never half a file, never a device
 * replaced. 0, or -1 with err: fn's message (an invalid report), "cannot
 * write PATH: ENOSPC (No space left on device)" (error.h), or what
 * outfile.h says went wrong with path. A renderer that fails to write
 * returns -1 and leaves err empty: the file is named here. */
int mg_render_to_file(json_t *report, mg_render_fn fn, const char *path, char *err, size_t errlen);

/* Only validate (what every renderer does first). */
int mg_render_check(json_t *report, char *err, size_t errlen);

/* The human summary (the format of `memgate run` on stderr). A metric
 * compared with a baseline (--baseline) has its delta on its line:
 * "   vs baseline 199.7 MiB: +12.3 MiB, +6.8%", "  OVER BASELINE" past the
 * tolerance; without baseline keys the output is unchanged. A surprising
 * figure gets a line under it ("          ^ shared pages counted once per
 * process: ..."), a lost cgroup one line under the verdict. A fixture with
 * more than one phase, or a phase limit, gets "        phases: 21, 6
 * failing; ..." and at most 10 phase lines (mg_rv_phase_order). Heap
 * attribution ("heap", or "python_heap" in older reports) is labelled by
 * its tool ("python heap (memray)", "native heap (heaptrack)") with the
 * figures the tool has, its sites when the fixture is not passing
 * (mg_rv_heap_text). */
int mg_render_text(json_t *report, FILE *out, char *err, size_t errlen);
/* GitHub-flavoured markdown, at most MG_MARKDOWN_BUDGET bytes; a
 * "vs baseline" column in a fixture's metrics table when any of its
 * metrics (limited or not) was compared with a baseline; a phase table
 * (at most 10 rows) where the text has its phase lines. */
int mg_render_markdown(json_t *report, FILE *out, char *err, size_t errlen);
/* The same within `budget` bytes: charts, then per-fixture details, then
 * overview rows are dropped (each replaced by a one-line note) to fit. */
int mg_render_markdown_budget(json_t *report, FILE *out, size_t budget, char *err, size_t errlen);
/* A pull-request comment: the verdict line, then one table, worst fixture
 * first, with a row per metric that has a limit or was compared with a
 * baseline (tree RSS alone when neither): "| api | FAIL | tree_rss |
 * 312.4 MiB | 200.0 MiB (over) | +12.3 MiB, +4.1% |". A fixture that did
 * not pass and has no row showing why gets its first reason in the verdict
 * cell. At most budget bytes: past it, the last fixtures' rows are left out
 * whole and one line says how many and where the full report is:
 * full_report_url as a link (when it is a plain http(s) URL), else the JSON
 * report. The verdict line, and that line, always go out. When nothing was
 * left out, the last line links full_report_url (when it can). */
int mg_render_markdown_comment(json_t *report, FILE *out, size_t budget, const char *full_report_url, char *err,
			       size_t errlen);
/* JUnit XML: one testsuite, a testcase per fixture x limit plus one "run"
 * testcase per fixture, plus one per metric without a limit compared with
 * a baseline, plus one "fixture/phase" per phase with a limit (or over its
 * baseline), failing with the figure against the limit. A metric over its baseline fails with type="baseline"; the
 * delta is in the failure message and in <system-out>. The heap, as the
 * text says it, follows the figures in the run testcase's <system-out>. */
int mg_render_junit(json_t *report, FILE *out, char *err, size_t errlen);
/* A self-contained SVG: one panel per fixture, over time the series of
 * the metric that failed it (tree RSS unless a cgroup or cgroup_anon limit
 * did), its limit, the growth fit when growth failed, and how the run
 * ended; with a baseline, a "vs baseline: tree_rss +12.3 MiB (+6.8%)" line
 * under the panel title; with phases shown, lanes of labelled phase bands
 * over the time axis (at most 24 bands: the failing, then the highest). */
int mg_render_svg(json_t *report, FILE *out, char *err, size_t errlen);
/* GitHub Actions: markdown to the step summary, outputs to the output
 * file, ::error annotations (at most 10; a fixture's ends with its heap's
 * largest site when it has heap attribution). The outputs: verdict, report (its
 * path, when given), peak_<name> (tree RSS; the name with every character
 * outside [A-Za-z0-9_-] as '_'), and per fixture <prefix>-tree-rss,
 * -cgroup, -cgroup-anon, -max-process-hwm and -pss in bytes (empty when not
 * measured), where <prefix> is the name lowercased with every run of
 * characters other than a-z and 0-9 as one '-' and none at either end
 * ("fixture" if nothing is left), "-2", "-3"... on a prefix already taken;
 * and "figures": those per-fixture outputs as one JSON object (null when
 * not measured), which a composite action can pass on. */
int mg_render_github(json_t *report, const char *report_path, const struct mg_github_env *env,
		     char *err, size_t errlen);
/* The same where GitHub Actions says: $GITHUB_STEP_SUMMARY and
 * $GITHUB_OUTPUT (unset or empty: that output is skipped), workflow
 * commands to annotations (stdout, where the runner reads them). What
 * `memgate run` writes under Actions and `memgate report --format github`. */
int mg_render_github_env(json_t *report, const char *report_path, FILE *annotations, char *err, size_t errlen);

#endif
