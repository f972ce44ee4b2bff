#include "report/report.h"

#include "heap/pyheap.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static json_t *bytes_or_null(int64_t v)
{
	return v == MG_UNKNOWN ? json_null() : json_integer(v);
}

static json_t *string_array(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *signal_name(int sig)
{
	const char *abbrev = sig ? sigabbrev_np(sig) : NULL;
	if (!abbrev)
		return json_null();
	char name[32];
	snprintf(name, sizeof name, "SIG%s", abbrev);
	return json_string(name);
}

static json_t *exit_json(const struct mg_result *r)
{
	return json_pack("{s:o, s:o, s:o, s:b, s:b}",
			 "code", r->exited ? json_integer(r->exit_code) : json_null(),
			 "signal", r->signal ? json_integer(r->signal) : json_null(),
			 "signal_name", signal_name(r->signal),
			 "timed_out", r->timed_out,
			 "oom_killed", r->oom_killed);
}

/* {"median": ms, "max": ms}, or null when it never happened twice */
static json_t *cadence_json(const struct mg_cadence *c)
{
	if (c->median_ms < 0)
		return json_null();
	return json_pack("{s:f, s:f, s:I}", "median", c->median_ms, "max", c->max_ms, "count", (json_int_t)c->count);
}

static json_t *measurement_json(const struct mg_result *r)
{
	json_t *notes = json_array();
	for (int i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_t *m = json_pack("{s:s, s:I, s:I, s:o, s:o, s:I, s:o}",
			      "method", mg_method_name(r->method),
			      "interval_ms", (json_int_t)r->interval_ms,
			      "samples", (json_int_t)r->samples,
			      "fallback_reason", r->fallback_reason[0] ? json_string(r->fallback_reason) : json_null(),
			      "notes", notes,
			      "self_cpu_ms", (json_int_t)r->self_cpu_ms,
			      "self_maxrss_bytes", bytes_or_null(r->self_maxrss_bytes));
	/* how often each kind of read actually happened */
	json_object_set_new(m, "achieved_interval_ms", cadence_json(&r->achieved));
	json_object_set_new(m, "per_process_interval_ms", cadence_json(&r->per_process));
	json_object_set_new(m, "pss_interval_ms", cadence_json(&r->pss_sweeps));
	json_object_set_new(m, "cpu_budget_pct", json_real((double)r->cpu_budget_x100 / 100.0));
	return m;
}

static json_t *peak_json(const struct mg_result *r)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
			 "cgroup_bytes", bytes_or_null(r->cgroup_bytes),
			 "tree_rss_bytes", bytes_or_null(r->tree_rss_bytes),
			 "max_process_hwm_bytes", bytes_or_null(r->max_process_hwm_bytes),
			 "tree_pss_bytes", bytes_or_null(r->tree_pss_bytes),
			 "cgroup_anon_bytes", bytes_or_null(r->cgroup_anon_bytes),
			 "cgroup_file_bytes", bytes_or_null(r->cgroup_file_bytes));
}

static json_t *limits_json(const struct mg_judgement *j)
{
	json_t *a = json_array();
	for (int i = 0; i < j->nchecks; i++) {
		const struct mg_check *c = &j->checks[i];
		/* growth limits are rates: the same keys, with their unit named */
		const char *unit = c->metric == MG_METRIC_GROWTH ? "bytes/s"
				   : c->metric == MG_METRIC_GROWTH_PER_REQUEST ? "bytes/request" : "bytes";
		json_array_append_new(a, json_pack("{s:s, s:I, s:o, s:b, s:s}",
						   "metric", mg_metric_name(c->metric),
						   "limit_bytes", (json_int_t)c->limit_bytes,
						   "value_bytes", bytes_or_null(c->value_bytes),
						   "ok", c->ok,
						   "unit", unit));
	}
	return a;
}

static json_t *processes_json(const struct mg_result *r)
{
	json_t *a = json_array();
	for (int i = 0; i < r->nprocs; i++) {
		const struct mg_proc_figure *p = &r->procs[i];
		json_array_append_new(a, json_pack("{s:i, s:s, s:I, s:I}",
						   "pid", (int)p->pid, "name", p->name,
						   "hwm_bytes", (json_int_t)p->hwm_bytes,
						   "rss_peak_bytes", (json_int_t)p->rss_peak_bytes));
	}
	return a;
}

/* [ms, usage, anon] per point: the cgroup's series, sampled at the same
 * ticks (null without a cgroup) */
static json_t *cgroup_series_json(const struct mg_series *usage, const struct mg_series *anon)
{
	if (!usage->pts || usage->n == 0)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; i < usage->n; i++)
		json_array_append_new(a, json_pack("[I, I, o]", (json_int_t)usage->pts[i].ms,
						   (json_int_t)usage->pts[i].value,
						   anon->n == usage->n ? json_integer(anon->pts[i].value) : json_null()));
	return a;
}

static json_t *series_json(const struct mg_series *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, json_pack("[I, I]", (json_int_t)s->pts[i].ms, (json_int_t)s->pts[i].value));
	return a;
}

static json_t *growth_json(const struct mg_result *r)
{
	if (!r->growth.valid)
		return json_null();
	json_t *g = json_pack("{s:f, s:f, s:I, s:I, s:I, s:o}",
			 "bytes_per_s", r->growth.bytes_per_s,
			 "r2", r->growth.r2,
			 "from_ms", (json_int_t)r->growth.from_ms,
			 "to_ms", (json_int_t)r->growth.to_ms,
			 "points", (json_int_t)r->growth.points,
			 "bytes_per_request", bytes_or_null(r->growth_per_request_bytes));
	if (g && r->growth_per_request_bytes != MG_UNKNOWN)
		json_object_set_new(g, "per_request_from",
				    json_string(r->growth_per_request_from_progress ? "progress" : "rate"));
	return g;
}

static const char *outcome_name(enum mg_service_outcome o)
{
	static const char *const names[] = {"ok", "died_before_ready", "not_ready", "died_early", "driver_failed",
					    "driver_timeout"};
	return (size_t)o < sizeof names / sizeof *names ? names[o] : "unknown";
}

static json_t *text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *service_json(const struct mg_service_result *s)
{
	if (!s->used)
		return json_null();
	json_t *driver = json_pack("{s:b, s:o, s:o, s:o, s:I, s:I, s:o, s:o}",
				   "started", s->driver.started,
				   "code", s->driver.exited ? json_integer(s->driver.exit_code) : json_null(),
				   "signal", s->driver.signal ? json_integer(s->driver.signal) : json_null(),
				   "signal_name", signal_name(s->driver.signal),
				   "start_ms", (json_int_t)s->driver.start_ms,
				   "end_ms", (json_int_t)s->driver.end_ms,
				   "requests", s->driver.requests >= 0 ? json_integer(s->driver.requests) : json_null(),
				   "error", s->driver.error[0] ? json_string(s->driver.error) : json_null());
	json_t *output = json_pack("{s:o, s:o, s:o, s:o}",
				   "service_stdout", text_or_null(s->service_stdout),
				   "service_stderr", text_or_null(s->service_stderr),
				   "driver_stdout", text_or_null(s->driver_stdout),
				   "driver_stderr", text_or_null(s->driver_stderr));
	return json_pack("{s:i, s:s, s:o, s:o, s:o, s:b, s:b, s:o, s:o}",
			 "port", s->port,
			 "outcome", outcome_name(s->outcome),
			 "ready_ms", s->ready_ms >= 0 ? json_integer(s->ready_ms) : json_null(),
			 "rss_at_ready_bytes", s->ready_ms >= 0 ? json_integer(s->rss_at_ready_bytes) : json_null(),
			 "rss_after_driver_bytes",
			 s->rss_after_driver_bytes > 0 ? json_integer(s->rss_after_driver_bytes) : json_null(),
			 "stopped", s->stopped,
			 "killed_after_grace", s->killed_after_grace,
			 "driver", driver,
			 "output", output);
}

/* Each phase: its window, whether its peaks are the kernel's own since its
 * start, its peak (the fixture's keys), its limits and verdict. */
static json_t *phases_json(const struct mg_fixture *f, const struct mg_result *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->nphases; i++) {
		const struct mg_phase *p = &r->phases[i];
		struct mg_check checks[MG_METRIC_COUNT];
		int n;
		enum mg_verdict v = mg_judge_phase(f, p, checks, &n);
		json_t *limits = json_array();
		for (int c = 0; c < n; c++)
			json_array_append_new(limits, json_pack("{s:s, s:I, s:o, s:b, s:s}", "metric",
								mg_metric_name(checks[c].metric), "limit_bytes",
								(json_int_t)checks[c].limit_bytes, "value_bytes",
								bytes_or_null(checks[c].value_bytes), "ok", checks[c].ok,
								"unit", "bytes"));
		json_t *peak = json_pack("{s:o, s:o, s:o, s:o, s:o}",
					 "cgroup_bytes", bytes_or_null(p->cgroup_bytes),
					 "tree_rss_bytes", bytes_or_null(p->tree_rss_bytes),
					 "max_process_hwm_bytes", bytes_or_null(p->max_process_hwm_bytes),
					 "tree_pss_bytes", json_null(),
					 "cgroup_anon_bytes", bytes_or_null(p->cgroup_anon_bytes));
		json_t *o = json_pack("{s:s, s:I, s:I, s:b, s:o, s:o, s:s}", "name", p->name, "from_ms",
				      (json_int_t)p->from_ms, "to_ms", (json_int_t)p->to_ms, "exact", p->exact, "peak",
				      peak, "limits", limits, "verdict", mg_verdict_name(v));
		/* which of its figures are the kernel's own, reset at its start */
		json_t *ex = json_array();
		if (p->cgroup_exact)
			json_array_append_new(ex, json_string("cgroup_bytes"));
		if (p->hwm_exact)
			json_array_append_new(ex, json_string("max_process_hwm_bytes"));
		if (o)
			json_object_set_new(o, "exact_figures", ex);
		else
			json_decref(ex);
		if (o && p->scope)
			json_object_set_new(o, "pid", json_integer(p->scope));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *fixture_json(const struct mg_report_entry *e)
{
	const struct mg_fixture *f = e->fixture;
	const struct mg_result *r = e->result;
	const struct mg_judgement *j = e->judgement;
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(f->name));
	json_object_set_new(o, "verdict", json_string(mg_verdict_name(j->verdict)));
	json_t *reasons = json_array();
	for (int i = 0; i < j->nreasons; i++)
		json_array_append_new(reasons, json_string(j->reasons[i]));
	json_object_set_new(o, "reasons", reasons);
	json_object_set_new(o, "command", string_array(f->argv, f->argc));
	if (!r) {
		json_object_set_new(o, "exit", json_null());
		json_object_set_new(o, "limits", limits_json(j));
		return o;
	}
	json_object_set_new(o, "exit", exit_json(r));
	json_object_set_new(o, "wall_ms", json_integer(r->wall_ms));
	json_object_set_new(o, "measurement", measurement_json(r));
	json_object_set_new(o, "peak", peak_json(r));
	json_object_set_new(o, "limits", limits_json(j));
	json_object_set_new(o, "kill_above_bytes", bytes_or_null(f->kill_above == MG_NO_LIMIT ? MG_UNKNOWN : f->kill_above));
	json_object_set_new(o, "oom_kills", json_integer(r->oom_kills));
	json_object_set_new(o, "leftover_processes", json_integer(r->leftover_processes));
	json_object_set_new(o, "processes", processes_json(r));
	json_object_set_new(o, "growth", growth_json(r));
	/* "heap" names the block for what it is (tracemalloc, memray or
	 * heaptrack); "python_heap", its first name, stays for the readers of it */
	json_t *heap = r->python_heap ? mg_pyheap_json(r->python_heap) : json_null();
	json_object_set_new(o, "heap", heap);
	json_object_set_new(o, "python_heap", json_incref(heap)); /* the same object twice */
	json_object_set_new(o, "service", service_json(&r->service));
	json_object_set_new(o, "phases", phases_json(f, r));
	json_object_set_new(o, "series", series_json(&r->series));
	json_object_set_new(o, "series_cgroup", cgroup_series_json(&r->series_cgroup, &r->series_anon));
	return o;
}

json_t *mg_report_json(const struct mg_report *rep)
{
	json_t *fixtures = json_array();
	for (size_t i = 0; i < rep->n; i++)
		json_array_append_new(fixtures, fixture_json(&rep->entries[i]));
	return json_pack("{s:i, s:s, s:s, s:o, s:o}",
			 "schema", 1,
			 "memgate_version", MG_VERSION,
			 "verdict", mg_verdict_name(rep->verdict),
			 "interrupted_by", signal_name(rep->interrupted_by),
			 "fixtures", fixtures);
}
