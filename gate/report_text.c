#include "report.h"

#include <signal.h>
#include <string.h>

#include "pyheap.h"
#include "units.h"

static const char *upper(enum mg_verdict v)
{
	return v == MG_VERDICT_PASS ? "PASS" : v == MG_VERDICT_FAIL ? "FAIL" : "ERROR";
}

static int64_t limit_of(const struct mg_judgement *j, enum mg_metric m)
{
	for (int i = 0; i < j->nchecks; i++)
		if (j->checks[i].metric == m)
			return j->checks[i].limit_bytes;
	return MG_NO_LIMIT;
}

/* "  tree_rss          64.9 MiB   limit 80.0 MiB   headroom 18.9%" */
static void metric_line(FILE *out, const char *name, int64_t value, int64_t limit)
{
	char v[32], l[32];
	if (value == MG_UNKNOWN)
		snprintf(v, sizeof v, "n/a");
	else
		mg_format_mib(value, v, sizeof v);
	fprintf(out, "        %-16s %12s", name, v);
	if (limit != MG_NO_LIMIT) {
		mg_format_mib(limit, l, sizeof l);
		fprintf(out, "   limit %12s", l);
		if (value != MG_UNKNOWN)
			fprintf(out, "   headroom %5.1f%%%s", 100.0 * (double)(limit - value) / (double)limit,
				value > limit ? "  OVER" : "");
	}
	fputc('\n', out);
}

/* The last lines of a captured stream, indented. */
static void tail_lines(FILE *out, const char *label, const char *text, int max_lines)
{
	if (!text || !*text)
		return;
	const char *start = text + strlen(text);
	if (start > text && start[-1] == '\n')
		start--; /* the final newline ends the last line, it starts none */
	for (int lines = 0; start > text; start--)
		if (start[-1] == '\n' && ++lines == max_lines)
			break;
	fprintf(out, "        %s%s:\n", label, start > text ? " (last lines)" : "");
	for (const char *p = start; *p;) {
		size_t l = strcspn(p, "\n");
		fprintf(out, "          | %.*s\n", (int)l, p);
		p += l + (p[l] == '\n');
	}
}

/* Python heap attribution: where the growth was allocated, and how much of
 * the traced memory NumPy's buffers hold. */
static void python_heap_text(FILE *out, const struct mg_pyheap *h, bool sites)
{
	char peak[32], v[32];
	mg_format_mib(h->peak_bytes, peak, sizeof peak);
	fprintf(out, "        python heap (%s): peak %s\n", h->tool, peak);
	int64_t numpy = mg_pyheap_domain_bytes(h, MG_PYHEAP_NUMPY_DOMAIN), traced = 0;
	for (int i = 0; i < h->ndomains; i++)
		traced += h->domains[i].size_bytes;
	if (numpy > 0 && traced > 0) {
		mg_format_mib(numpy, v, sizeof v);
		mg_format_mib(traced, peak, sizeof peak);
		fprintf(out, "        NumPy buffers %s of %s traced (%.1f%%): not Python objects\n", v, peak,
			100.0 * (double)numpy / (double)traced);
	}
	for (int i = 0; sites && i < h->ntop; i++) {
		mg_format_mib(h->top[i].size_bytes, v, sizeof v);
		fprintf(out, "          %12s  %s", v, h->top[i].location);
		if (h->top[i].has_count)
			fprintf(out, "  (%lld blocks)", (long long)h->top[i].count);
		fputc('\n', out);
	}
}

static void fixture_text(FILE *out, const struct mg_report_entry *e)
{
	const struct mg_result *r = e->result;
	const struct mg_judgement *j = e->judgement;
	if (!r) {
		fprintf(out, "  %-5s %s  (not run)\n", upper(j->verdict), e->fixture->name);
		return;
	}
	char wall[32];
	mg_format_duration(r->wall_ms, wall, sizeof wall);
	fprintf(out, "  %-5s %s  (%s, %s, %lld samples", upper(j->verdict), e->fixture->name,
		mg_method_name(r->method), wall, (long long)r->samples);
	if (r->leftover_processes)
		fprintf(out, ", %d leftover process%s killed", r->leftover_processes,
			r->leftover_processes == 1 ? "" : "es");
	fprintf(out, ")\n");
	for (int i = 0; i < j->nreasons; i++)
		fprintf(out, "        ! %s\n", j->reasons[i]);
	if (r->started) {
		metric_line(out, "tree_rss", r->tree_rss_bytes, limit_of(j, MG_METRIC_TREE_RSS));
		metric_line(out, "cgroup", r->cgroup_bytes, limit_of(j, MG_METRIC_CGROUP));
		metric_line(out, "max_process_hwm", r->max_process_hwm_bytes, limit_of(j, MG_METRIC_MAX_PROCESS_HWM));
		if (r->tree_pss_bytes != MG_UNKNOWN || limit_of(j, MG_METRIC_PSS) != MG_NO_LIMIT)
			metric_line(out, "pss", r->tree_pss_bytes, limit_of(j, MG_METRIC_PSS));
	}
	/* Falling back from v2 to v1 loses nothing; losing the cgroup does. */
	if (r->fallback_reason[0] && r->method == MG_METHOD_PROC)
		fprintf(out, "        no cgroup, /proc sampling only: %s\n", r->fallback_reason);
	for (int i = 0; i < r->nnotes; i++)
		fprintf(out, "        note: %s\n", r->notes[i]);
	if (r->python_heap) /* the sites only where something is to be fixed */
		python_heap_text(out, r->python_heap, j->verdict != MG_VERDICT_PASS);
	if (r->service.used && j->verdict != MG_VERDICT_PASS) { /* the output explains most failures */
		tail_lines(out, "service stderr", r->service.service_stderr, 12);
		tail_lines(out, "service stdout", r->service.service_stdout, 6);
		tail_lines(out, "driver stderr", r->service.driver_stderr, 12);
	}
}

void mg_report_write_text(const struct mg_report *rep, FILE *out)
{
	size_t bad = 0;
	for (size_t i = 0; i < rep->n; i++)
		bad += rep->entries[i].judgement->verdict != MG_VERDICT_PASS;
	fprintf(out, "memgate: %s", upper(rep->verdict));
	if (rep->interrupted_by)
		fprintf(out, " (interrupted by SIG%s)", sigabbrev_np(rep->interrupted_by));
	else if (bad)
		fprintf(out, " (%zu of %zu fixture%s not passing)", bad, rep->n, rep->n == 1 ? "" : "s");
	else
		fprintf(out, " (%zu fixture%s within limits)", rep->n, rep->n == 1 ? "" : "s");
	fputc('\n', out);
	for (size_t i = 0; i < rep->n; i++)
		fixture_text(out, &rep->entries[i]);
}
