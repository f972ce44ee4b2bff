/* render_junit: JUnit XML for CI test reporters. One <testsuite>; per
 * fixture one "run" testcase (so a fixture without limits still appears)
 * and one testcase per limit (classname = fixture, name = metric), plus
 * one per metric without a limit that was compared with a baseline. A
 * metric over its baseline's tolerance fails with type="baseline" (or,
 * over its limit too, type="limit" with both in the message); the delta
 * ("+12.3 MiB, +6.8%") is in the message and in <system-out>.
 * Each phase with a limit (or over its baseline) has its own testcase,
 * name "fixture/phase", its time the phase's: failing as the phase's
 * checks say, the worst in the message, every check in the body.
 *
 * A fixture that is not passing always has at least one non-passing
 * testcase, so the suite's counts agree with the report's verdict.
 *
 * Which testcase fails, and as what, is decided from the report's
 * structured data alone, never from the wording of its reasons: a limit
 * from limits[].ok and value_bytes (null: type="not-measured"), a
 * comparison from baseline_ok, the run from the verdict, exit (code,
 * signal, timed_out, oom_killed) and service (outcome, stopped); see
 * run_case.
 *
 * A surprising figure (mg_rv_surprises) is explained in one line on its
 * metric's testcase: in the failure's body when it failed, else in its
 * <system-out>; on the run testcase when the metric has none. */
#include "report/render.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/render_common.h"
#include "error.h"
#include "units.h"

enum status { ST_PASS, ST_FAILURE, ST_ERROR };

/* One testcase, fully decided before anything is written. */
struct testcase {
	const char *classname;
	const char *name;
	int64_t time_ms;
	enum status status;
	const char *type;        /* failure/error type attribute */
	char message[512];
	const struct mg_rv_strings *details; /* body lines, or NULL */
	char *body;              /* the body when not details (malloc'd), or NULL */
	char out[256];           /* <system-out>, or "" */
	char *heap;              /* the run's: the heap's lines after it (malloc'd), or NULL */
	const char *why[MG_RV_MAX_SURPRISES]; /* surprising figures explained */
	size_t nwhy;
};

/* ----------------------------------------------------- limit testcases */

/* Appends ", vs baseline 53.3 MiB: +12.1 MiB, +22.7%" to buf. */
static void vs_baseline(char *buf, size_t len, const struct mg_rv_metric *c)
{
	char b[48] = "", d[112];
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	mg_rv_format_delta(c, d, sizeof d);
	if (c->baseline_bytes != MG_NULL_FIG) {
		b[0] = ' ';
		mg_format_mib(c->baseline_bytes, b + 1, sizeof b - 1);
	}
	snprintf(buf + used, len - used, ", vs baseline%s: %s", b, d);
}

static void limit_case(const struct mg_rv_fixture *f, const struct mg_rv_metric *l, struct testcase *tc)
{
	char v[48], lim[48];
	tc->name = l->metric;
	mg_rv_format_value(l, l->limit_bytes, lim, sizeof lim);
	if (!l->has_value) {
		tc->status = ST_ERROR;
		tc->type = "not-measured";
		snprintf(tc->message, sizeof tc->message, "%s limit %s cannot be checked: not measured", l->metric, lim);
		return;
	}
	mg_rv_format_value(l, l->value_bytes, v, sizeof v);
	snprintf(tc->out, sizeof tc->out, "%s %s, limit %s", l->metric, v, lim);
	/* the comparison shown for this metric (the first limit of a name) */
	bool cmp = mg_rv_comparison_of(f, l->metric) == l;
	if (cmp)
		vs_baseline(tc->out, sizeof tc->out, l);
	bool over_baseline = cmp && !l->baseline_ok;
	if (l->ok && !over_baseline)
		return;
	tc->status = ST_FAILURE;
	if (l->ok) { /* within the limit, over the baseline */
		tc->type = "baseline";
		mg_rv_baseline_text(l, tc->message, sizeof tc->message);
		return;
	}
	if (l->value_bytes <= l->limit_bytes) { /* not ok, yet under: a sampled figure's pass not proven */
		tc->status = ST_ERROR;
		tc->type = "not-measured";
		snprintf(tc->message, sizeof tc->message, "%s %s, limit %s: the pass cannot be proven (the fixture's "
			 "reasons say why)", l->metric, v, lim);
		return;
	}
	tc->type = "limit";
	int n = snprintf(tc->message, sizeof tc->message, "%s %s %s limit %s", l->metric, v,
			 l->value_bytes > l->limit_bytes ? ">" : "does not meet", lim);
	if (over_baseline && n > 0 && (size_t)n + 2 < sizeof tc->message) {
		memcpy(tc->message + n, "; ", 3);
		mg_rv_baseline_text(l, tc->message + n + 2, sizeof tc->message - (size_t)n - 2);
	}
}

/* A metric without a limit compared with the baseline: its own testcase,
 * failing when the metric grew past the tolerance. */
static void baseline_case(const struct mg_rv_metric *b, struct testcase *tc)
{
	char v[48] = "n/a";
	tc->name = b->metric;
	if (b->has_value)
		mg_format_mib(b->value_bytes, v, sizeof v);
	snprintf(tc->out, sizeof tc->out, "%s %s", b->metric, v);
	vs_baseline(tc->out, sizeof tc->out, b);
	if (b->baseline_ok)
		return;
	tc->status = ST_FAILURE;
	tc->type = "baseline";
	mg_rv_baseline_text(b, tc->message, sizeof tc->message);
}

/* ------------------------------------------------------ phase testcases */

/* A phase gets a testcase when it has a limit, or a comparison with a
 * baseline that it failed. */
static bool phase_case_wanted(const struct mg_rv_phase *p)
{
	return p->nlimits > 0 || mg_rv_phase_regression(p);
}

static size_t phase_cases(const struct mg_rv_fixture *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->nphases; i++)
		n += phase_case_wanted(&f->phases[i]);
	return n;
}

/* "cgroup 301.0 MiB > limit 256.0 MiB", "cgroup 51.2 MiB, limit 64.0 MiB",
 * "tree_rss limit 80.0 MiB cannot be checked: not measured for this phase" */
static void phase_check_text(const struct mg_rv_metric *l, char *buf, size_t len)
{
	char v[48], lim[48];
	mg_format_mib(l->limit_bytes, lim, sizeof lim);
	if (!l->has_value) {
		snprintf(buf, len, "%s limit %s cannot be checked: not measured for this phase", l->metric, lim);
		return;
	}
	mg_format_mib(l->value_bytes, v, sizeof v);
	snprintf(buf, len, l->ok ? "%s %s, limit %s" : "%s %s > limit %s", l->metric, v, lim);
}

/* Appends to a malloc'd body, one line per call. */
static void body_line(char **body, const char *line)
{
	size_t have = *body ? strlen(*body) : 0, add = strlen(line);
	char *b = realloc(*body, have + add + 2);
	if (!b)
		return; /* the message still says the worst */
	if (have)
		b[have++] = '\n';
	memcpy(b + have, line, add + 1);
	*body = b;
}

/* "fixture/phase": one testcase per phase with a limit; it fails as the
 * phase's verdict says (not measured: an error), or over its baseline.
 * The message is the worst check, the body every check and comparison. */
static void phase_case(const struct mg_rv_fixture *f, const struct mg_rv_phase *p, char *name, size_t namelen,
		       struct testcase *tc)
{
	struct mg_rv_phase_row row;
	char line[320], t[32];
	mg_rv_phase_row(f, p, &row);
	snprintf(name, namelen, "%s/%s", f->name, p->name);
	tc->name = name;
	tc->time_ms = p->to_ms - p->from_ms;
	mg_format_duration(tc->time_ms, t, sizeof t);
	for (size_t i = 0; i < p->nlimits; i++) {
		phase_check_text(&p->limits[i], line, sizeof line);
		if (p->limits[i].has_delta)
			vs_baseline(line, sizeof line, &p->limits[i]);
		body_line(&tc->body, line);
	}
	for (size_t i = 0; i < p->nbaseline; i++) {
		char v[48] = "n/a";
		if (p->baseline[i].has_value)
			mg_format_mib(p->baseline[i].value_bytes, v, sizeof v);
		snprintf(line, sizeof line, "%s %s", p->baseline[i].metric, v);
		vs_baseline(line, sizeof line, &p->baseline[i]);
		body_line(&tc->body, line);
	}
	if (row.limit) {
		phase_check_text(row.limit, line, sizeof line);
		snprintf(tc->out, sizeof tc->out, "%.160s; %s, %s", line, t, row.exact ? "exact" : "sampled");
	} else {
		snprintf(tc->out, sizeof tc->out, "%s, %s", t, row.exact ? "exact" : "sampled");
	}
	if (row.cmp)
		vs_baseline(tc->out, sizeof tc->out, row.cmp);
	mg_rv_phase_failure(p, line, sizeof line);
	if (row.limit && !row.limit->has_value) {
		tc->status = ST_ERROR;
		tc->type = "not-measured";
		snprintf(tc->message, sizeof tc->message, "%s", line);
	} else if (*line) {
		tc->status = ST_FAILURE;
		tc->type = row.limit && !row.limit->ok ? "limit" : "baseline";
		snprintf(tc->message, sizeof tc->message, "phase %.160s: %.300s%s", p->name, line,
			 row.limit && !row.limit->ok && !row.exact ? " (sampled)" : "");
	}
}

/* ------------------------------------------------------- run testcase */

/* How the run went is read from the structured data (exit, service,
 * verdict, limits[].ok), never from a reason's wording. */

static bool any_limit(size_t n, enum status st, const struct testcase *limits)
{
	for (size_t i = 0; i < n; i++)
		if (limits[i].status == st)
			return true;
	return false;
}

/* The service (or its driver) did not go as planned: service.outcome. */
static bool service_failed(const struct mg_rv_fixture *f)
{
	return f->service && strcmp(f->service->outcome, "ok") != 0;
}

/* memgate stopped the service itself: the signal (or code) it ended
 * with is the stop's, not a failure of the command. */
static bool stopped_by_memgate(const struct mg_rv_fixture *f)
{
	return f->service && f->service->stopped;
}

/* The run went as planned: the command started and exited 0, or was a
 * service that memgate stopped after an "ok" outcome. */
static bool run_ok(const struct mg_rv_fixture *f)
{
	return mg_rv_started(f) && (mg_rv_clean_exit(f) || (stopped_by_memgate(f) && !service_failed(f)));
}

/* The exit failed the run: timed out, OOM-killed, or a signal or a
 * non-zero code that memgate's stop of a service does not explain. */
static bool exit_failed(const struct mg_rv_fixture *f)
{
	const struct mg_rv_exit *x = &f->exit;
	return mg_rv_started(f) &&
	       (x->timed_out || x->oom_killed || (!stopped_by_memgate(f) && !mg_rv_clean_exit(f)));
}

/* The run testcase's message: for a failure that the exit explains, the
 * exit's words; otherwise the first reason, which is the run's own
 * whenever the run went wrong (verdict.c writes a measurement error, then
 * the service's trouble, then the exit's, and only then a limit's):
 * "cannot execute ...", "not run: memgate was interrupted", "driver failed
 * with code 2". */
static void run_message(const struct mg_rv_fixture *f, char *buf, size_t len)
{
	buf[0] = '\0';
	if (f->verdict == MG_VERDICT_FAIL && exit_failed(f) && !service_failed(f))
		mg_rv_exit_text(f, buf, len);
	else if (f->reasons.n)
		snprintf(buf, len, "%s", f->reasons.v[0]);
	else
		mg_rv_exit_text(f, buf, len);
	if (!*buf)
		snprintf(buf, len, "%s", mg_verdict_upper(f->verdict));
}

/* The run's own status. An error verdict lands here unless the only
 * trouble is a limit that could not be checked on an otherwise good run;
 * a fail verdict lands here when the run went wrong or no limit failed.
 * Every reason is in the body. */
static void run_case(const struct mg_rv_fixture *f, const struct testcase *limits, size_t nlimits,
		     struct testcase *tc)
{
	bool ok = run_ok(f);
	tc->name = "run";
	tc->time_ms = f->ran ? f->wall_ms : 0;
	tc->details = &f->reasons;
	if (f->verdict == MG_VERDICT_ERROR && (!ok || !any_limit(nlimits, ST_ERROR, limits))) {
		tc->status = ST_ERROR;
		tc->type = f->ran ? "error" : "not-run";
	} else if (f->verdict == MG_VERDICT_FAIL && (!ok || !any_limit(nlimits, ST_FAILURE, limits))) {
		tc->status = ST_FAILURE;
		tc->type = f->service ? "service" : "exit";
	}
	if (tc->status != ST_PASS)
		run_message(f, tc->message, sizeof tc->message);
	if (f->ran && mg_rv_started(f)) {
		char peak[32], wall[32], anon[48] = "";
		mg_format_mib(f->tree_rss_bytes == MG_NULL_FIG ? 0 : f->tree_rss_bytes, peak, sizeof peak);
		mg_format_duration(f->wall_ms, wall, sizeof wall);
		if (f->cgroup_anon_bytes != MG_NULL_FIG) {
			memcpy(anon, ", cgroup_anon ", 15);
			mg_format_mib(f->cgroup_anon_bytes, anon + 14, sizeof anon - 14);
		}
		snprintf(tc->out, sizeof tc->out, "peak tree RSS %s%s in %s, measured with %.64s (%lld samples)", peak,
			 anon, wall, f->method, (long long)f->samples);
	}
	if (f->heap) { /* as the text says it: the sites only where something is to be fixed */
		size_t len;
		FILE *m = open_memstream(&tc->heap, &len);
		if (m) {
			mg_rv_heap_text(m, f->heap, f->verdict != MG_VERDICT_PASS, "");
			if (fclose(m) != 0) {
				free(tc->heap);
				tc->heap = NULL;
			}
		}
	}
}

/* Text lines, each escaped, "\n" between them (not a character reference):
 * after what came before when more. */
static void escaped_lines(FILE *out, const char *text, bool more)
{
	for (const char *b = text; b && *b;) {
		size_t len = strcspn(b, "\n");
		char *line = strndup(b, len);
		if (more)
			fputc('\n', out);
		if (line)
			mg_xml_escape(out, line);
		free(line);
		more = true;
		b += len + (b[len] == '\n');
	}
}

/* Each surprising figure on its metric's testcase (the first of that
 * name), else on the run's (tc[0]). */
static void place_surprises(const struct mg_rv_surprise *s, size_t ns, struct testcase *tc, size_t n)
{
	for (size_t k = 0; k < ns; k++) {
		size_t at = 0;
		for (size_t i = 1; i <= n && !at; i++)
			if (strcmp(tc[i].name, s[k].metric) == 0)
				at = i;
		tc[at].why[tc[at].nwhy++] = s[k].text;
	}
}

/* ------------------------------------------------------------- output */

static void attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	mg_xml_escape(out, value);
	fputc('"', out);
}

static void write_case(FILE *out, const struct testcase *tc)
{
	fputs("  <testcase", out);
	attr(out, "classname", tc->classname);
	attr(out, "name", tc->name);
	fprintf(out, " time=\"%.3f\">\n", (double)tc->time_ms / 1000.0);
	if (tc->status != ST_PASS) {
		const char *el = tc->status == ST_FAILURE ? "failure" : "error";
		fprintf(out, "    <%s", el);
		attr(out, "message", tc->message);
		attr(out, "type", tc->type);
		fputc('>', out);
		for (size_t i = 0; tc->details && i < tc->details->n; i++) {
			mg_xml_escape(out, tc->details->v[i]);
			fputs(i + 1 < tc->details->n ? "\n" : "", out);
		}
		escaped_lines(out, tc->body, false); /* its lines, as the details' */
		if (!tc->body && !tc->details)
			mg_xml_escape(out, tc->message);
		for (size_t i = 0; i < tc->nwhy; i++) {
			fputc('\n', out);
			mg_xml_escape(out, tc->why[i]);
		}
		fprintf(out, "</%s>\n", el);
	}
	size_t nwhy = tc->status == ST_PASS ? tc->nwhy : 0; /* else in the body */
	if (*tc->out || nwhy || (tc->heap && *tc->heap)) {
		fputs("    <system-out>", out);
		mg_xml_escape(out, tc->out);
		for (size_t i = 0; i < nwhy; i++) {
			fputs(i || *tc->out ? "\n" : "", out);
			mg_xml_escape(out, tc->why[i]);
		}
		escaped_lines(out, tc->heap, *tc->out || nwhy);
		fputs("</system-out>\n", out);
	}
	fputs("  </testcase>\n", out);
}

struct totals {
	size_t tests, failures, errors;
	int64_t ms;
};

/* All testcases of one fixture, decided and counted; written when out. */
#define CASE_NAME_LEN (2 * 256 + 2) /* "fixture/phase", both at most 256 bytes in a valid report */

static int fixture_cases(FILE *out, const struct mg_rv_fixture *f, struct totals *t)
{
	size_t nmetric = f->nlimits + f->nbaseline, n = nmetric + phase_cases(f);
	struct testcase *tc = calloc(n + 1, sizeof *tc);
	char (*names)[CASE_NAME_LEN] = calloc(n - nmetric + 1, sizeof *names);
	if (!tc || !names) {
		free(tc);
		free(names);
		return -1;
	}
	for (size_t i = 0; i < f->nlimits; i++) {
		tc[i + 1].classname = f->name;
		limit_case(f, &f->limits[i], &tc[i + 1]);
	}
	for (size_t i = 0; i < f->nbaseline; i++) {
		tc[f->nlimits + i + 1].classname = f->name;
		baseline_case(&f->baseline[i], &tc[f->nlimits + i + 1]);
	}
	for (size_t i = 0, k = 0; i < f->nphases; i++) {
		if (!phase_case_wanted(&f->phases[i]))
			continue;
		tc[nmetric + k + 1].classname = f->name;
		phase_case(f, &f->phases[i], names[k], sizeof names[k], &tc[nmetric + k + 1]);
		k++;
	}
	tc[0].classname = f->name;
	run_case(f, tc + 1, n, &tc[0]);
	struct mg_rv_surprise s[MG_RV_MAX_SURPRISES];
	place_surprises(s, mg_rv_surprises(f, s), tc, n);
	for (size_t i = 0; i <= n; i++) {
		t->tests++;
		t->failures += tc[i].status == ST_FAILURE;
		t->errors += tc[i].status == ST_ERROR;
		if (out)
			write_case(out, &tc[i]);
	}
	t->ms = mg_rv_add(t->ms, tc[0].time_ms); /* wall_ms may be anything up to INT64_MAX */
	for (size_t i = 0; i <= n; i++) {
		free(tc[i].body);
		free(tc[i].heap);
	}
	free(tc);
	free(names);
	return 0;
}

static int count_all(const struct mg_view *v, struct totals *t)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < v->n; i++)
		if (fixture_cases(NULL, &v->fixtures[i], t) < 0)
			return -1;
	return 0;
}

int mg_render_junit(json_t *report, FILE *out, char *err, size_t errlen)
{
	struct mg_view v;
	struct totals t, again;
	if (mg_view_load(report, &v, err, errlen) < 0)
		return -1;
	int rc = count_all(&v, &t); /* the counts go in the opening tag */
	if (rc == 0) {
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
		fprintf(out, "<testsuite name=\"memgate\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.3f\">\n",
			t.tests, t.failures, t.errors, (double)t.ms / 1000.0);
		memset(&again, 0, sizeof again);
		for (size_t i = 0; rc == 0 && i < v.n; i++)
			rc = fixture_cases(out, &v.fixtures[i], &again);
		fputs("</testsuite>\n", out);
	}
	if (rc < 0)
		mg_cannot(err, errlen, "render", "JUnit XML", ENOMEM);
	mg_view_free(&v);
	return rc;
}
