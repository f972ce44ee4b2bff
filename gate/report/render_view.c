/* render_view: the report view builder. mg_view_load first has
 * mg_report_validate (report_load.c) check what every reader of a report
 * relies on: schema, verdicts, interrupted_by's type, fixtures, names,
 * reasons, limits[].metric and the peak figures. It checks each of those
 * once, there; here the builder trusts their types, requires the keys that
 * the renderers need and report_load leaves optional (interrupted_by,
 * reasons, limits, and peak with its four figures once a fixture ran;
 * the figures added later, cgroup_anon_bytes and cgroup_file_bytes, may
 * be absent; so may "phases", but a phase has its window, "exact", a
 * "peak" object and "limits"),
 * checks everything else the renderers draw, and fills the typed view
 * (render_view.h). */
#include "report/render_view.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report/render.h"
#include "report/report_load.h"

#define PATH_LEN 160

/* Type expectations of one value. */
enum {
	T_NULLABLE = 1 << 0, /* null is allowed (stored as MG_NULL_FIG / NULL) */
	T_OPTIONAL = 1 << 1, /* the key may be absent (treated like null) */
	T_NONNEG = 1 << 2,   /* integers: >= 0 */
};

struct ctx {
	char *err;
	size_t errlen;
};

static int bad(struct ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct ctx *c, const char *path, const char *fmt, ...)
{
	if (!c->err || !c->errlen)
		return -1;
	int n = snprintf(c->err, c->errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= c->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* JSON paths for messages, cut at PATH_LEN (far more than any memgate
 * report needs; a cut message is still a message). */
static void pathf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, PATH_LEN, fmt, ap);
	va_end(ap);
}

static void join(char *buf, const char *parent, const char *key)
{
	pathf(buf, "%s%s%s", parent, *parent ? "." : "", key);
}

static void join_index(char *buf, const char *parent, size_t i)
{
	pathf(buf, "%s[%zu]", parent, i);
}

/* The value at parent.key: 1 found, 0 absent or null (when allowed), -1 error. */
static int lookup(struct ctx *c, json_t *obj, const char *parent, const char *key, int flags,
		  const char *expected, json_t **out)
{
	char path[PATH_LEN];
	json_t *j = json_object_get(obj, key);
	join(path, parent, key);
	if (!j && !(flags & T_OPTIONAL))
		return bad(c, path, "missing (expected %s)", expected);
	if (!j || (json_is_null(j) && (flags & T_NULLABLE)))
		return 0;
	*out = j;
	return 1;
}

static int wrong(struct ctx *c, const char *parent, const char *key, const char *expected,
		 int flags, const json_t *got)
{
	char path[PATH_LEN];
	join(path, parent, key);
	return bad(c, path, "expected %s%s, got %s", expected, (flags & T_NULLABLE) ? " or null" : "",
		   mg_report_json_type(got));
}

static int get_string(struct ctx *c, json_t *obj, const char *parent, const char *key, int flags,
		      const char **out)
{
	json_t *j = NULL;
	int r = lookup(c, obj, parent, key, flags, (flags & T_NULLABLE) ? "a string or null" : "a string", &j);
	*out = NULL;
	if (r <= 0)
		return r;
	if (!json_is_string(j))
		return wrong(c, parent, key, "a string", flags, j);
	*out = json_string_value(j);
	return 0;
}

static int get_int(struct ctx *c, json_t *obj, const char *parent, const char *key, int flags,
		   int64_t *out)
{
	const char *what = (flags & T_NONNEG) ? "a non-negative integer" : "an integer";
	char expected[64];
	snprintf(expected, sizeof expected, "%s%s", what, (flags & T_NULLABLE) ? " or null" : "");
	json_t *j = NULL;
	int r = lookup(c, obj, parent, key, flags, expected, &j);
	*out = MG_NULL_FIG;
	if (r <= 0)
		return r;
	if (!json_is_integer(j))
		return wrong(c, parent, key, what, flags, j);
	int64_t v = (int64_t)json_integer_value(j);
	if ((flags & T_NONNEG) && v < 0) {
		char path[PATH_LEN];
		join(path, parent, key);
		return bad(c, path, "expected %s, got %lld", expected, (long long)v);
	}
	*out = v;
	return 0;
}

static int get_bool(struct ctx *c, json_t *obj, const char *parent, const char *key, bool *out)
{
	json_t *j = NULL;
	int r = lookup(c, obj, parent, key, 0, "true or false", &j);
	if (r < 0)
		return r;
	if (!json_is_boolean(j))
		return wrong(c, parent, key, "true or false", 0, j);
	*out = json_is_true(j);
	return 0;
}

/* An object or array at parent.key: 1 found, 0 null/absent when allowed. */
static int get_typed(struct ctx *c, json_t *obj, const char *parent, const char *key, int flags,
		     json_type type, json_t **out)
{
	const char *what = type == JSON_OBJECT ? "an object" : "an array";
	char expected[48];
	snprintf(expected, sizeof expected, "%s%s", what, (flags & T_NULLABLE) ? " or null" : "");
	*out = NULL;
	int r = lookup(c, obj, parent, key, flags, expected, out);
	if (r <= 0)
		return r;
	if (json_typeof(*out) != type)
		return wrong(c, parent, key, what, flags, *out);
	return 1;
}

/* A key that mg_report_validate has typed when present, and that the view
 * needs: only its presence is checked here. 0 and *out, or -1. */
static int need(struct ctx *c, json_t *obj, const char *parent, const char *key, const char *expected,
		json_t **out)
{
	*out = NULL;
	return lookup(c, obj, parent, key, 0, expected, out) < 0 ? -1 : 0;
}

/* The strings of an array whose items are known to be strings. */
static int copy_strings(struct ctx *c, json_t *a, const char *path, struct mg_rv_strings *out)
{
	out->n = json_array_size(a);
	out->v = calloc(out->n ? out->n : 1, sizeof *out->v);
	if (!out->v)
		return bad(c, path, "out of memory");
	for (size_t i = 0; i < out->n; i++)
		out->v[i] = json_string_value(json_array_get(a, i));
	return 0;
}

/* An array of strings that only the view checks. */
static int get_strings(struct ctx *c, json_t *obj, const char *parent, const char *key,
		       struct mg_rv_strings *out)
{
	json_t *a;
	char path[PATH_LEN], item[PATH_LEN];
	if (get_typed(c, obj, parent, key, 0, JSON_ARRAY, &a) < 0)
		return -1;
	join(path, parent, key);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *s = json_array_get(a, i);
		if (!json_is_string(s)) {
			join_index(item, path, i);
			return bad(c, item, "expected a string, got %s", mg_report_json_type(s));
		}
	}
	return copy_strings(c, a, path, out);
}

/* --------------------------------------------------------------- parts */

/* An optional boolean: absent leaves *out as it is. */
static int get_opt_bool(struct ctx *c, json_t *obj, const char *parent, const char *key, bool *out)
{
	json_t *j = json_object_get(obj, key);
	if (!j)
		return 0;
	if (!json_is_boolean(j))
		return wrong(c, parent, key, "true or false", 0, j);
	*out = json_is_true(j);
	return 0;
}

/* A number (integer or real) at parent.key; null only when nullable.
 * *has: present and not null. */
static int get_number(struct ctx *c, json_t *obj, const char *parent, const char *key, int flags,
		      bool *has, double *out)
{
	json_t *j = NULL;
	int r = lookup(c, obj, parent, key, flags, (flags & T_NULLABLE) ? "a number or null" : "a number", &j);
	*has = false;
	*out = 0.0;
	if (r <= 0)
		return r;
	if (!json_is_number(j))
		return wrong(c, parent, key, "a number", flags, j);
	*has = true;
	*out = json_number_value(j);
	return 0;
}

/* The tolerance and outcome of a comparison (optional keys). */
static int parse_tolerance(struct ctx *c, json_t *o, const char *path, struct mg_rv_metric *m)
{
	m->baseline_ok = true;
	if (get_number(c, o, path, "allowed_pct", T_OPTIONAL, &m->has_allowed_pct, &m->allowed_pct) < 0 ||
	    get_int(c, o, path, "allowed_bytes", T_OPTIONAL | T_NONNEG, &m->allowed_bytes) < 0 ||
	    get_opt_bool(c, o, path, "baseline_ok", &m->baseline_ok) < 0)
		return -1;
	return 0;
}

/* A limit's optional comparison with a baseline. */
static int parse_delta(struct ctx *c, json_t *o, const char *path, struct mg_rv_metric *l)
{
	const int opt = T_OPTIONAL | T_NULLABLE;
	if (get_int(c, o, path, "baseline_bytes", opt | T_NONNEG, &l->baseline_bytes) < 0 ||
	    get_int(c, o, path, "delta_bytes", opt, &l->delta_bytes) < 0 ||
	    get_number(c, o, path, "delta_pct", opt, &l->has_delta_pct, &l->delta_pct) < 0)
		return -1;
	/* delta_bytes may legitimately be MG_NULL_FIG (-1 byte): presence decides */
	l->has_delta = json_is_integer(json_object_get(o, "delta_bytes"));
	return parse_tolerance(c, o, path, l);
}

/* One entry of the fixture-level "baseline" array: a comparison, always. */
static int parse_baseline_entry(struct ctx *c, json_t *o, const char *path, struct mg_rv_metric *b)
{
	if (!json_is_object(o))
		return bad(c, path, "expected an object, got %s", mg_report_json_type(o));
	if (get_string(c, o, path, "metric", 0, &b->metric) < 0 ||
	    get_int(c, o, path, "value_bytes", T_NULLABLE, &b->value_bytes) < 0 ||
	    get_int(c, o, path, "baseline_bytes", T_NONNEG, &b->baseline_bytes) < 0 ||
	    get_int(c, o, path, "delta_bytes", 0, &b->delta_bytes) < 0 ||
	    get_number(c, o, path, "delta_pct", T_OPTIONAL | T_NULLABLE, &b->has_delta_pct, &b->delta_pct) < 0)
		return -1;
	b->has_value = json_is_integer(json_object_get(o, "value_bytes"));
	b->has_delta = true;
	return parse_tolerance(c, o, path, b);
}

/* The optional "baseline" array (absent: no metric without a limit was
 * compared with a baseline). */
static int parse_baseline(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *a;
	char path[PATH_LEN], item[PATH_LEN];
	int r = get_typed(c, fo, parent, "baseline", T_OPTIONAL, JSON_ARRAY, &a);
	if (r <= 0)
		return r;
	join(path, parent, "baseline");
	f->nbaseline = json_array_size(a);
	f->baseline = calloc(f->nbaseline ? f->nbaseline : 1, sizeof *f->baseline);
	if (!f->baseline)
		return bad(c, path, "out of memory");
	for (size_t i = 0; i < f->nbaseline; i++) {
		join_index(item, path, i);
		if (parse_baseline_entry(c, json_array_get(a, i), item, &f->baseline[i]) < 0)
			return -1;
	}
	return 0;
}

/* o is an object with a "metric" string (mg_report_validate). */
static int parse_limit(struct ctx *c, json_t *o, const char *path, struct mg_rv_metric *l)
{
	l->metric = json_string_value(json_object_get(o, "metric"));
	if (get_string(c, o, path, "unit", T_OPTIONAL, &l->unit) < 0 ||
	    get_int(c, o, path, "limit_bytes", T_NONNEG, &l->limit_bytes) < 0 ||
	    /* not T_NONNEG: a growth rate can be negative (a shrinking service) */
	    get_int(c, o, path, "value_bytes", T_NULLABLE, &l->value_bytes) < 0 ||
	    get_bool(c, o, path, "ok", &l->ok) < 0)
		return -1;
	/* any integer is a value, -1 included: null is told apart by type */
	l->has_value = json_is_integer(json_object_get(o, "value_bytes"));
	return parse_delta(c, o, path, l);
}

static int parse_limits(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *a;
	char path[PATH_LEN], item[PATH_LEN];
	if (need(c, fo, parent, "limits", "an array", &a) < 0)
		return -1;
	join(path, parent, "limits");
	f->nlimits = json_array_size(a);
	f->limits = calloc(f->nlimits ? f->nlimits : 1, sizeof *f->limits);
	if (!f->limits)
		return bad(c, path, "out of memory");
	for (size_t i = 0; i < f->nlimits; i++) {
		join_index(item, path, i);
		if (parse_limit(c, json_array_get(a, i), item, &f->limits[i]) < 0)
			return -1;
	}
	return 0;
}

static int parse_exit(struct ctx *c, json_t *e, const char *path, struct mg_rv_exit *x)
{
	if (get_int(c, e, path, "code", T_NULLABLE, &x->code) < 0 ||
	    get_int(c, e, path, "signal", T_NULLABLE | T_NONNEG, &x->signal) < 0 ||
	    get_string(c, e, path, "signal_name", T_NULLABLE, &x->signal_name) < 0 ||
	    get_bool(c, e, path, "timed_out", &x->timed_out) < 0 ||
	    get_bool(c, e, path, "oom_killed", &x->oom_killed) < 0)
		return -1;
	/* code may be any integer, so null is told apart by type, not value */
	x->has_code = json_is_integer(json_object_get(e, "code"));
	x->has_signal = json_is_integer(json_object_get(e, "signal"));
	return 0;
}

/* A non-negative, finite number of milliseconds (jansson reads no NaN). */
static int get_ms(struct ctx *c, json_t *obj, const char *parent, const char *key, double *out)
{
	bool has;
	if (get_number(c, obj, parent, key, 0, &has, out) < 0)
		return -1;
	if (*out < 0) {
		char path[PATH_LEN];
		join(path, parent, key);
		return bad(c, path, "expected a non-negative number, got %g", *out);
	}
	return 0;
}

/* An optional {median, max, count} (null or absent: has stays false). */
static int parse_cadence(struct ctx *c, json_t *m, const char *parent, const char *key, struct mg_rv_cadence *out)
{
	json_t *o;
	char path[PATH_LEN];
	int r = get_typed(c, m, parent, key, T_OPTIONAL | T_NULLABLE, JSON_OBJECT, &o);
	if (r <= 0)
		return r;
	join(path, parent, key);
	if (get_ms(c, o, path, "median", &out->median_ms) < 0 || get_ms(c, o, path, "max", &out->max_ms) < 0 ||
	    get_int(c, o, path, "count", T_NONNEG, &out->count) < 0)
		return -1;
	out->has = true;
	return 0;
}

static int parse_measurement(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *m;
	char path[PATH_LEN];
	if (get_typed(c, fo, parent, "measurement", 0, JSON_OBJECT, &m) < 0)
		return -1;
	join(path, parent, "measurement");
	if (get_string(c, m, path, "method", 0, &f->method) < 0 ||
	    get_int(c, m, path, "interval_ms", T_NONNEG, &f->interval_ms) < 0 ||
	    get_int(c, m, path, "samples", T_NONNEG, &f->samples) < 0 ||
	    get_string(c, m, path, "fallback_reason", T_NULLABLE, &f->fallback_reason) < 0 ||
	    get_strings(c, m, path, "notes", &f->notes) < 0 ||
	    parse_cadence(c, m, path, "achieved_interval_ms", &f->achieved) < 0 ||
	    parse_cadence(c, m, path, "per_process_interval_ms", &f->per_process) < 0 ||
	    parse_cadence(c, m, path, "pss_interval_ms", &f->pss_sweeps) < 0 ||
	    get_number(c, m, path, "cpu_budget_pct", T_OPTIONAL, &f->has_cpu_budget, &f->cpu_budget_pct) < 0)
		return -1;
	return 0;
}

/* One of the peak figures, typed by mg_report_validate (a non-negative
 * integer or null): present, or -1. */
static int peak_figure(struct ctx *c, json_t *p, const char *path, const char *key, int64_t *out)
{
	json_t *v;
	if (need(c, p, path, key, "a non-negative integer or null", &v) < 0)
		return -1;
	*out = json_is_integer(v) ? (int64_t)json_integer_value(v) : MG_NULL_FIG;
	return 0;
}

/* mg_report_validate allows a null or absent "peak"; a fixture that ran has one. */
static int parse_peak(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *p;
	char path[PATH_LEN];
	if (need(c, fo, parent, "peak", "an object", &p) < 0)
		return -1;
	if (!json_is_object(p))
		return wrong(c, parent, "peak", "an object", 0, p);
	join(path, parent, "peak");
	if (peak_figure(c, p, path, "cgroup_bytes", &f->cgroup_bytes) < 0 ||
	    peak_figure(c, p, path, "tree_rss_bytes", &f->tree_rss_bytes) < 0 ||
	    peak_figure(c, p, path, "max_process_hwm_bytes", &f->max_process_hwm_bytes) < 0 ||
	    peak_figure(c, p, path, "tree_pss_bytes", &f->tree_pss_bytes) < 0)
		return -1;
	/* newer figures, absent from older reports (typed by mg_report_validate) */
	json_t *anon = json_object_get(p, "cgroup_anon_bytes"), *file = json_object_get(p, "cgroup_file_bytes");
	f->cgroup_anon_bytes = json_is_integer(anon) ? (int64_t)json_integer_value(anon) : MG_NULL_FIG;
	f->cgroup_file_bytes = json_is_integer(file) ? (int64_t)json_integer_value(file) : MG_NULL_FIG;
	f->anon_known = anon != NULL;
	return 0;
}

/* One [ms, bytes] pair. */
static int parse_point(struct ctx *c, json_t *pt, const char *path, struct mg_rv_point *out)
{
	json_t *ms = json_array_get(pt, 0), *b = json_array_get(pt, 1);
	if (!json_is_array(pt) || json_array_size(pt) != 2)
		return bad(c, path, "expected [ms, bytes], got %s", json_is_array(pt) ? "another array" : mg_report_json_type(pt));
	if (!json_is_integer(ms) || !json_is_integer(b) || json_integer_value(ms) < 0 ||
	    json_integer_value(b) < 0)
		return bad(c, path, "expected [ms, bytes] as two non-negative integers");
	out->ms = (int64_t)json_integer_value(ms);
	out->bytes = (int64_t)json_integer_value(b);
	return 0;
}

static int parse_series(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *a;
	char path[PATH_LEN], item[PATH_LEN];
	if (get_typed(c, fo, parent, "series", 0, JSON_ARRAY, &a) < 0)
		return -1;
	join(path, parent, "series");
	f->nseries = json_array_size(a);
	f->series = calloc(f->nseries ? f->nseries : 1, sizeof *f->series);
	if (!f->series)
		return bad(c, path, "out of memory");
	for (size_t i = 0; i < f->nseries; i++) {
		join_index(item, path, i);
		if (parse_point(c, json_array_get(a, i), item, &f->series[i]) < 0)
			return -1;
	}
	return 0;
}

/* One [ms, usage, anon] triple of "series_cgroup"; anon may be null. */
static int parse_cgroup_point(struct ctx *c, json_t *pt, const char *path, struct mg_rv_fixture *f)
{
	json_t *ms = json_array_get(pt, 0), *u = json_array_get(pt, 1), *a = json_array_get(pt, 2);
	if (!json_is_array(pt) || json_array_size(pt) != 3)
		return bad(c, path, "expected [ms, usage, anon], got %s",
			   json_is_array(pt) ? "another array" : mg_report_json_type(pt));
	if (!json_is_integer(ms) || !json_is_integer(u) || json_integer_value(ms) < 0 || json_integer_value(u) < 0 ||
	    !(json_is_null(a) || (json_is_integer(a) && json_integer_value(a) >= 0)))
		return bad(c, path, "expected [ms, usage, anon] as non-negative integers (anon may be null)");
	int64_t t = (int64_t)json_integer_value(ms);
	f->series_cgroup[f->nseries_cgroup++] = (struct mg_rv_point){t, (int64_t)json_integer_value(u)};
	if (json_is_integer(a))
		f->series_anon[f->nseries_anon++] = (struct mg_rv_point){t, (int64_t)json_integer_value(a)};
	return 0;
}

/* The optional "series_cgroup" (null without a cgroup, absent in older reports). */
static int parse_series_cgroup(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *a;
	char path[PATH_LEN], item[PATH_LEN];
	int r = get_typed(c, fo, parent, "series_cgroup", T_OPTIONAL | T_NULLABLE, JSON_ARRAY, &a);
	if (r <= 0)
		return r;
	join(path, parent, "series_cgroup");
	size_t n = json_array_size(a);
	f->series_cgroup = calloc(n ? n : 1, sizeof *f->series_cgroup);
	f->series_anon = calloc(n ? n : 1, sizeof *f->series_anon);
	if (!f->series_cgroup || !f->series_anon)
		return bad(c, path, "out of memory");
	for (size_t i = 0; i < n; i++) {
		join_index(item, path, i);
		if (parse_cgroup_point(c, json_array_get(a, i), item, f) < 0)
			return -1;
	}
	return 0;
}

/* The optional "growth" object: what the growth fit line needs. */
static int parse_growth(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *g;
	char path[PATH_LEN];
	bool has;
	int r = get_typed(c, fo, parent, "growth", T_OPTIONAL | T_NULLABLE, JSON_OBJECT, &g);
	if (r <= 0)
		return r;
	join(path, parent, "growth");
	if (get_number(c, g, path, "bytes_per_s", 0, &has, &f->growth.bytes_per_s) < 0 ||
	    get_number(c, g, path, "r2", 0, &has, &f->growth.r2) < 0 ||
	    get_int(c, g, path, "from_ms", T_NONNEG, &f->growth.from_ms) < 0 ||
	    get_int(c, g, path, "to_ms", T_NONNEG, &f->growth.to_ms) < 0)
		return -1;
	f->growth.has = true;
	return 0;
}

/* "processes": only how many there are is shown. */
static int parse_processes(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *a;
	int r = get_typed(c, fo, parent, "processes", T_OPTIONAL, JSON_ARRAY, &a);
	if (r <= 0)
		return r;
	f->nprocesses = json_array_size(a);
	return 0;
}

static int parse_site(struct ctx *c, json_t *o, const char *path, struct mg_rv_site *s)
{
	if (!json_is_object(o))
		return bad(c, path, "expected an object, got %s", mg_report_json_type(o));
	if (get_string(c, o, path, "location", 0, &s->location) < 0 ||
	    get_string(c, o, path, "function", T_OPTIONAL, &s->function) < 0 ||
	    get_string(c, o, path, "native", T_OPTIONAL, &s->native) < 0 ||
	    get_int(c, o, path, "size_bytes", T_NONNEG, &s->size_bytes) < 0 ||
	    get_int(c, o, path, "count", T_NULLABLE | T_NONNEG, &s->count) < 0)
		return -1;
	return 0;
}

/* A list of sites at h.key ("top", required; "leaks", optional). */
static int parse_sites(struct ctx *c, json_t *h, const char *path, const char *key, int flags,
		       struct mg_rv_site **out, size_t *n)
{
	json_t *a;
	char spath[PATH_LEN], item[PATH_LEN];
	int r = get_typed(c, h, path, key, flags, JSON_ARRAY, &a);
	if (r <= 0)
		return r;
	join(spath, path, key);
	*n = json_array_size(a);
	*out = calloc(*n ? *n : 1, sizeof **out);
	if (!*out)
		return bad(c, spath, "out of memory");
	for (size_t i = 0; i < *n; i++) {
		join_index(item, spath, i);
		if (parse_site(c, json_array_get(a, i), item, &(*out)[i]) < 0)
			return -1;
	}
	return 0;
}

/* memray's optional "processes": [{"pid": N or null, "forked", "peak_bytes"}]. */
static int parse_heap_procs(struct ctx *c, json_t *h, const char *path, struct mg_rv_heap *hp)
{
	json_t *a;
	char ppath[PATH_LEN], item[PATH_LEN];
	int r = get_typed(c, h, path, "processes", T_OPTIONAL, JSON_ARRAY, &a);
	if (r <= 0)
		return r;
	join(ppath, path, "processes");
	hp->nprocs = json_array_size(a);
	hp->procs = calloc(hp->nprocs ? hp->nprocs : 1, sizeof *hp->procs);
	if (!hp->procs)
		return bad(c, ppath, "out of memory");
	for (size_t i = 0; i < hp->nprocs; i++) {
		json_t *o = json_array_get(a, i);
		struct mg_rv_heap_proc *p = &hp->procs[i];
		join_index(item, ppath, i);
		if (!json_is_object(o))
			return bad(c, item, "expected an object, got %s", mg_report_json_type(o));
		if (get_int(c, o, item, "pid", T_NULLABLE | T_NONNEG, &p->pid) < 0 ||
		    get_bool(c, o, item, "forked", &p->forked) < 0 ||
		    get_int(c, o, item, "peak_bytes", T_NONNEG, &p->peak_bytes) < 0)
			return -1;
	}
	return 0;
}

static int parse_domains(struct ctx *c, json_t *h, const char *path, struct mg_rv_heap *hp)
{
	json_t *a;
	char dpath[PATH_LEN], item[PATH_LEN];
	int r = get_typed(c, h, path, "domains", T_OPTIONAL, JSON_ARRAY, &a);
	if (r <= 0)
		return r; /* absent (memray has none), or wrong */
	join(dpath, path, "domains");
	hp->ndomains = json_array_size(a);
	hp->domains = calloc(hp->ndomains ? hp->ndomains : 1, sizeof *hp->domains);
	if (!hp->domains)
		return bad(c, dpath, "out of memory");
	for (size_t i = 0; i < hp->ndomains; i++) {
		json_t *o = json_array_get(a, i);
		join_index(item, dpath, i);
		if (!json_is_object(o))
			return bad(c, item, "expected an object, got %s", mg_report_json_type(o));
		if (get_int(c, o, item, "domain", T_NONNEG, &hp->domains[i].domain) < 0 ||
		    get_int(c, o, item, "size_bytes", T_NONNEG, &hp->domains[i].size_bytes) < 0)
			return -1;
	}
	return 0;
}

/* The optional "heap" object, else (a report written before "heap") the
 * same object under its first name, "python_heap"; absent or null: no
 * heap figures. */
static int parse_heap(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *h;
	char path[PATH_LEN];
	const char *key = json_object_get(fo, "heap") ? "heap" : "python_heap";
	int r = get_typed(c, fo, parent, key, T_OPTIONAL | T_NULLABLE, JSON_OBJECT, &h);
	if (r <= 0)
		return r;
	join(path, parent, key);
	f->heap = calloc(1, sizeof *f->heap);
	if (!f->heap)
		return bad(c, path, "out of memory");
	struct mg_rv_heap *hp = f->heap;
	hp->key = key;
	if (get_string(c, h, path, "tool", 0, &hp->tool) < 0 ||
	    get_int(c, h, path, "peak_bytes", T_NULLABLE | T_NONNEG, &hp->peak_bytes) < 0 ||
	    get_int(c, h, path, "current_bytes", T_NULLABLE | T_NONNEG, &hp->current_bytes) < 0 ||
	    get_int(c, h, path, "leaked_bytes", T_OPTIONAL | T_NULLABLE | T_NONNEG, &hp->leaked_bytes) < 0 ||
	    get_string(c, h, path, "flamegraph", T_OPTIONAL, &hp->flamegraph) < 0 ||
	    parse_sites(c, h, path, "top", 0, &hp->top, &hp->ntop) < 0 ||
	    parse_sites(c, h, path, "leaks", T_OPTIONAL, &hp->leaks, &hp->nleaks) < 0 ||
	    parse_heap_procs(c, h, path, hp) < 0)
		return -1;
	return parse_domains(c, h, path, hp);
}

/* The optional "service" object: only what the renderers show. */
static int parse_service(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *s, *out;
	char path[PATH_LEN], opath[PATH_LEN];
	int r = get_typed(c, fo, parent, "service", T_OPTIONAL | T_NULLABLE, JSON_OBJECT, &s);
	if (r <= 0)
		return r;
	join(path, parent, "service");
	f->service = calloc(1, sizeof *f->service);
	if (!f->service)
		return bad(c, path, "out of memory");
	struct mg_rv_service *sv = f->service;
	if (get_string(c, s, path, "outcome", 0, &sv->outcome) < 0 || get_bool(c, s, path, "stopped", &sv->stopped) < 0 ||
	    get_typed(c, s, path, "output", 0, JSON_OBJECT, &out) < 0)
		return -1;
	join(opath, path, "output");
	if (get_string(c, out, opath, "service_stdout", T_NULLABLE, &sv->service_stdout) < 0 ||
	    get_string(c, out, opath, "service_stderr", T_NULLABLE, &sv->service_stderr) < 0 ||
	    get_string(c, out, opath, "driver_stderr", T_NULLABLE, &sv->driver_stderr) < 0)
		return -1;
	return 0;
}

/* A phase's figure: absent or null is MG_NULL_FIG (mg_report_validate
 * typed it when present). */
static int64_t phase_figure(json_t *peak, const char *key)
{
	json_t *v = json_object_get(peak, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : MG_NULL_FIG;
}

/* One entry of "phases": ph is an object with a name, a verdict, and
 * limits and peak typed when present (mg_report_validate). */
static int parse_phase(struct ctx *c, json_t *ph, const char *path, struct mg_rv_phase *p)
{
	json_t *peak, *limits, *base;
	char sub[PATH_LEN], item[PATH_LEN];
	p->name = json_string_value(json_object_get(ph, "name"));
	p->verdict = MG_VERDICT_ERROR;
	mg_verdict_from_name(json_string_value(json_object_get(ph, "verdict")), &p->verdict);
	if (get_int(c, ph, path, "from_ms", T_NONNEG, &p->from_ms) < 0 ||
	    get_int(c, ph, path, "to_ms", T_NONNEG, &p->to_ms) < 0 || get_bool(c, ph, path, "exact", &p->exact) < 0 ||
	    get_int(c, ph, path, "pid", T_OPTIONAL | T_NONNEG, &p->pid) < 0 ||
	    get_typed(c, ph, path, "peak", 0, JSON_OBJECT, &peak) < 0 ||
	    get_typed(c, ph, path, "limits", 0, JSON_ARRAY, &limits) < 0 ||
	    get_typed(c, ph, path, "baseline", T_OPTIONAL, JSON_ARRAY, &base) < 0)
		return -1;
	if (p->to_ms < p->from_ms) {
		join(sub, path, "to_ms");
		return bad(c, sub, "expected at least from_ms (%lld), got %lld", (long long)p->from_ms,
			   (long long)p->to_ms);
	}
	if (p->pid == MG_NULL_FIG)
		p->pid = 0;
	json_t *ex = json_object_get(ph, "exact_figures"), *e;
	if (ex && !json_is_array(ex)) {
		join(sub, path, "exact_figures");
		return bad(c, sub, "expected an array of peak keys, got %s", mg_report_json_type(ex));
	}
	p->has_exact_figures = ex != NULL;
	size_t k;
	json_array_foreach(ex, k, e) {
		const char *key = json_string_value(e);
		p->cgroup_exact |= key && !strcmp(key, "cgroup_bytes");
		p->hwm_exact |= key && !strcmp(key, "max_process_hwm_bytes");
	}
	p->cgroup_bytes = phase_figure(peak, "cgroup_bytes");
	p->tree_rss_bytes = phase_figure(peak, "tree_rss_bytes");
	p->max_process_hwm_bytes = phase_figure(peak, "max_process_hwm_bytes");
	p->tree_pss_bytes = phase_figure(peak, "tree_pss_bytes");
	p->cgroup_anon_bytes = phase_figure(peak, "cgroup_anon_bytes");
	join(sub, path, "limits");
	p->nlimits = json_array_size(limits);
	p->limits = calloc(p->nlimits ? p->nlimits : 1, sizeof *p->limits);
	if (!p->limits)
		return bad(c, sub, "out of memory");
	for (size_t i = 0; i < p->nlimits; i++) {
		join_index(item, sub, i);
		if (parse_limit(c, json_array_get(limits, i), item, &p->limits[i]) < 0)
			return -1;
	}
	if (!base)
		return 0;
	join(sub, path, "baseline");
	p->nbaseline = json_array_size(base);
	p->baseline = calloc(p->nbaseline ? p->nbaseline : 1, sizeof *p->baseline);
	if (!p->baseline)
		return bad(c, sub, "out of memory");
	for (size_t i = 0; i < p->nbaseline; i++) {
		join_index(item, sub, i);
		if (parse_baseline_entry(c, json_array_get(base, i), item, &p->baseline[i]) < 0)
			return -1;
	}
	return 0;
}

/* The optional "phases" array (absent in reports before phases). */
static int parse_phases(struct ctx *c, json_t *fo, const char *parent, struct mg_rv_fixture *f)
{
	json_t *a;
	char path[PATH_LEN], item[PATH_LEN];
	int r = get_typed(c, fo, parent, "phases", T_OPTIONAL, JSON_ARRAY, &a);
	if (r <= 0)
		return r;
	join(path, parent, "phases");
	size_t n = json_array_size(a);
	f->phases = calloc(n ? n : 1, sizeof *f->phases);
	if (!f->phases)
		return bad(c, path, "out of memory");
	for (size_t i = 0; i < n; i++) {
		join_index(item, path, i);
		f->nphases = i + 1; /* freed by mg_view_free, parsed or not */
		if (parse_phase(c, json_array_get(a, i), item, &f->phases[i]) < 0)
			return -1;
	}
	return 0;
}

/* What only a fixture that ran has ("exit" not null). */
static int parse_run(struct ctx *c, json_t *fo, const char *path, struct mg_rv_fixture *f)
{
	json_t *e;
	char epath[PATH_LEN];
	int r = get_typed(c, fo, path, "exit", T_NULLABLE, JSON_OBJECT, &e);
	if (r <= 0)
		return r;
	f->ran = true;
	join(epath, path, "exit");
	if (parse_exit(c, e, epath, &f->exit) < 0 ||
	    get_int(c, fo, path, "wall_ms", T_NONNEG, &f->wall_ms) < 0 ||
	    parse_measurement(c, fo, path, f) < 0 || parse_peak(c, fo, path, f) < 0 ||
	    get_int(c, fo, path, "kill_above_bytes", T_NULLABLE | T_NONNEG, &f->kill_above_bytes) < 0 ||
	    get_int(c, fo, path, "leftover_processes", T_NONNEG, &f->leftover_processes) < 0 ||
	    parse_series(c, fo, path, f) < 0 || parse_heap(c, fo, path, f) < 0 ||
	    parse_service(c, fo, path, f) < 0 || parse_series_cgroup(c, fo, path, f) < 0 ||
	    parse_growth(c, fo, path, f) < 0 || parse_processes(c, fo, path, f) < 0 ||
	    parse_phases(c, fo, path, f) < 0)
		return -1;
	return 0;
}

/* A verdict that mg_report_validate has checked. */
static enum mg_verdict verdict_of(json_t *obj)
{
	enum mg_verdict v = MG_VERDICT_ERROR;
	mg_verdict_from_name(json_string_value(json_object_get(obj, "verdict")), &v);
	return v;
}

/* fo has passed mg_report_validate: an object with a name, a verdict, and
 * reasons and limits typed when present. */
static int parse_fixture(struct ctx *c, json_t *fo, const char *path, struct mg_rv_fixture *f)
{
	json_t *reasons;
	char rpath[PATH_LEN];
	f->name = json_string_value(json_object_get(fo, "name"));
	f->verdict = verdict_of(fo);
	join(rpath, path, "reasons");
	if (need(c, fo, path, "reasons", "an array", &reasons) < 0 || copy_strings(c, reasons, rpath, &f->reasons) < 0 ||
	    get_strings(c, fo, path, "command", &f->command) < 0 || parse_limits(c, fo, path, f) < 0 ||
	    parse_baseline(c, fo, path, f) < 0)
		return -1;
	return parse_run(c, fo, path, f);
}

/* What every reader of a report checks (schema 1, verdicts, unique names
 * ...) is report_load.c's; the view adds what the renderers draw. */
static int parse_top(struct ctx *c, json_t *rep, struct mg_view *v)
{
	json_t *ib;
	if (mg_report_validate(rep, c->err, c->errlen) < 0)
		return -1;
	v->verdict = verdict_of(rep);
	/* a string or null (mg_report_validate), and the view wants the key */
	if (need(c, rep, "", "interrupted_by", "a string or null", &ib) < 0)
		return -1;
	v->interrupted_by = json_string_value(ib);
	return 0;
}

int mg_view_load(json_t *report, struct mg_view *v, char *err, size_t errlen)
{
	struct ctx c = {err, errlen};
	json_t *fx;
	char path[PATH_LEN];
	memset(v, 0, sizeof *v);
	if (parse_top(&c, report, v) < 0)
		return -1;
	fx = json_object_get(report, "fixtures"); /* an array of objects (mg_report_validate) */
	v->n = json_array_size(fx);
	v->fixtures = calloc(v->n ? v->n : 1, sizeof *v->fixtures);
	if (!v->fixtures)
		return bad(&c, "fixtures", "out of memory");
	for (size_t i = 0; i < v->n; i++) {
		struct mg_rv_fixture *f = &v->fixtures[i];
		join_index(path, "fixtures", i);
		if (parse_fixture(&c, json_array_get(fx, i), path, f) < 0) {
			mg_view_free(v);
			return -1;
		}
		v->nfail += f->verdict == MG_VERDICT_FAIL;
		v->nerror += f->verdict == MG_VERDICT_ERROR;
	}
	return 0;
}

void mg_view_free(struct mg_view *v)
{
	for (size_t i = 0; v->fixtures && i < v->n; i++) {
		struct mg_rv_fixture *f = &v->fixtures[i];
		free(f->reasons.v);
		free(f->command.v);
		free(f->notes.v);
		free(f->limits);
		free(f->baseline);
		free(f->series);
		free(f->series_cgroup);
		free(f->series_anon);
		if (f->heap) {
			free(f->heap->top);
			free(f->heap->leaks);
			free(f->heap->procs);
			free(f->heap->domains);
		}
		free(f->heap);
		free(f->service);
		for (size_t k = 0; f->phases && k < f->nphases; k++) {
			free(f->phases[k].limits);
			free(f->phases[k].baseline);
		}
		free(f->phases);
	}
	free(v->fixtures);
	memset(v, 0, sizeof *v);
}

int mg_render_check(json_t *report, char *err, size_t errlen)
{
	struct mg_view v;
	if (mg_view_load(report, &v, err, errlen) < 0)
		return -1;
	mg_view_free(&v);
	return 0;
}
