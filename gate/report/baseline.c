/* baseline: regression check of one report against another, done on the
 * JSON so it works the same for a report just built and one read back.
 * The tolerance test is exact integer arithmetic: "exactly at" the
 * percentage or the floor must pass, one byte over must fail. */
#include "report/baseline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "report/report_load.h"
#include "units.h"

struct peak_key {
	const char *metric;
	const char *key;        /* in a report's "peak" */
};

static const struct peak_key peaks[] = {
	{ "tree_rss", "tree_rss_bytes" },
	{ "cgroup", "cgroup_bytes" },
	{ "max_process_hwm", "max_process_hwm_bytes" },
	{ "pss", "tree_pss_bytes" },
	{ "cgroup_anon", "cgroup_anon_bytes" },
};
#define NPEAKS (sizeof peaks / sizeof peaks[0])

/* ------------------------------------------------------------ tolerance */

static struct mg_regression with_defaults(struct mg_regression r)
{
	if (r.max_increase_pct_x100 < 0)
		r.max_increase_pct_x100 = MG_BASELINE_DEFAULT_PCT_X100;
	if (r.min_increase_bytes < 0)
		r.min_increase_bytes = MG_BASELINE_DEFAULT_MIN_BYTES;
	return r;
}

struct mg_regression mg_tolerance_from_config(const char *name, const void *ctx)
{
	const struct mg_config *cfg = ctx;
	struct mg_regression none = { MG_NO_LIMIT, MG_NO_LIMIT };

	for (size_t i = 0; cfg && name && i < cfg->nfixtures; i++)
		if (strcmp(cfg->fixtures[i].name, name) == 0)
			return with_defaults(cfg->fixtures[i].regression);
	return with_defaults(none);
}

/* delta > min AND delta > pct% of base, exactly (128-bit products). */
static bool regressed(int64_t value, int64_t base, struct mg_regression tol)
{
	int64_t delta = value - base;

	if (delta <= tol.min_increase_bytes)
		return false;
	return (__int128)delta * 10000 > (__int128)base * tol.max_increase_pct_x100;
}

/* --------------------------------------------------------------- verdicts */

static enum mg_verdict verdict_of(const json_t *v)
{
	const char *s = json_string_value(v);

	if (s && strcmp(s, "pass") == 0)
		return MG_VERDICT_PASS;
	if (s && strcmp(s, "fail") == 0)
		return MG_VERDICT_FAIL;
	return MG_VERDICT_ERROR;
}

enum mg_verdict mg_baseline_verdict(const json_t *report)
{
	return verdict_of(json_object_get(report, "verdict"));
}

static void worsen(json_t *obj, enum mg_verdict v)
{
	enum mg_verdict now = verdict_of(json_object_get(obj, "verdict"));

	json_object_set_new(obj, "verdict", json_string(mg_verdict_name(mg_verdict_worst(now, v))));
}

/* ------------------------------------------------------------ comparison */

static json_t *array_member(json_t *obj, const char *key)
{
	json_t *a = json_object_get(obj, key);

	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(obj, key, a);
	}
	return a;
}

/* The fixture's "limits" entry for metric, else a new "baseline" entry. */
static json_t *entry_for(json_t *fx, const char *metric, int64_t value)
{
	json_t *limits = json_object_get(fx, "limits"), *e;
	size_t i;

	json_array_foreach(limits, i, e)
		if (strcmp(json_string_value(json_object_get(e, "metric")), metric) == 0)
			return e;
	e = json_pack("{s:s, s:I}", "metric", metric, "value_bytes", (json_int_t)value);
	json_array_append_new(array_member(fx, "baseline"), e);
	return e;
}

static json_t *delta_pct(int64_t delta, int64_t base)
{
	if (base == 0)
		return json_null();
	return json_real(round((double)delta * 10000.0 / (double)base) / 100.0);
}

/* "+12.3 MiB" / "-1.0 MiB" */
static void signed_mib(int64_t v, char *buf, size_t len)
{
	char m[32];

	mg_format_mib(v, m, sizeof m);
	snprintf(buf, len, "%s%s", v >= 0 ? "+" : "", m);
}

static void add_reason(json_t *fx, const char *metric, int64_t value, int64_t base,
		       struct mg_regression tol)
{
	char v[32], b[32], d[40], pct[32], allowed[32], floor[32], text[320];

	mg_format_mib(value, v, sizeof v);
	mg_format_mib(base, b, sizeof b);
	signed_mib(value - base, d, sizeof d);
	mg_format_percent(tol.max_increase_pct_x100, allowed, sizeof allowed);
	mg_format_mib(tol.min_increase_bytes, floor, sizeof floor);
	if (base > 0)
		snprintf(pct, sizeof pct, ", %+.1f%%", (double)(value - base) * 100.0 / (double)base);
	else
		pct[0] = '\0';
	snprintf(text, sizeof text, "%s %s is %s%s over the baseline %s (allowed +%s, +%s)", metric,
		 v, d, pct, b, allowed, floor);
	json_array_append_new(array_member(fx, "reasons"), json_string(text));
}

/* Compare one metric; true when it regressed. */
static bool compare_metric(json_t *fx, const char *metric, int64_t value, int64_t base,
			   struct mg_regression tol)
{
	json_t *e = entry_for(fx, metric, value);
	bool bad_metric = regressed(value, base, tol);

	json_object_set_new(e, "baseline_bytes", json_integer(base));
	json_object_set_new(e, "delta_bytes", json_integer(value - base));
	json_object_set_new(e, "delta_pct", delta_pct(value - base, base));
	json_object_set_new(e, "allowed_pct", json_real((double)tol.max_increase_pct_x100 / 100.0));
	json_object_set_new(e, "allowed_bytes", json_integer(tol.min_increase_bytes));
	json_object_set_new(e, "baseline_ok", json_boolean(!bad_metric));
	if (bad_metric)
		add_reason(fx, metric, value, base, tol);
	return bad_metric;
}

static void note(json_t *fx, const char *text)
{
	json_t *m = json_object_get(fx, "measurement");

	if (json_is_object(m))
		json_array_append_new(array_member(m, "notes"), json_string(text));
}

static bool measured(const json_t *peak, const char *key, int64_t *v)
{
	const json_t *x = json_object_get(peak, key);

	if (!json_is_integer(x))
		return false;
	*v = json_integer_value(x);
	return true;
}

static void compare_fixture(json_t *fx, const json_t *bfx, struct mg_regression tol)
{
	const json_t *peak = json_object_get(fx, "peak"), *bpeak = json_object_get(bfx, "peak");
	int compared = 0, worse = 0;
	int64_t v, b;

	if (!json_is_object(peak))
		return; /* not run: nothing to compare, and the verdict already says why */
	for (size_t i = 0; i < NPEAKS; i++) {
		if (!measured(peak, peaks[i].key, &v) || !measured(bpeak, peaks[i].key, &b))
			continue;
		compared++;
		worse += compare_metric(fx, peaks[i].metric, v, b, tol);
	}
	if (worse)
		worsen(fx, MG_VERDICT_FAIL);
	if (!compared)
		note(fx, "baseline: no metric measured in both this run and the baseline: not compared");
}

/* The baseline's fixtures by name: looked up once per fixture of the
 * report, so sorted, not scanned (reports can hold thousands). */
static struct mg_name_ref *index_by_name(const json_t *fixtures)
{
	size_t n = json_array_size(fixtures);
	struct mg_name_ref *v = calloc(n ? n : 1, sizeof *v);

	for (size_t i = 0; v && i < n; i++)
		v[i] = (struct mg_name_ref){ json_string_value(json_object_get(json_array_get(fixtures, i),
									       "name")), 0, i };
	if (v)
		mg_names_sort(v, n);
	return v;
}

int mg_baseline_apply(json_t *report, const json_t *baseline, mg_tolerance_fn tol, const void *ctx,
		      char *err, size_t errlen)
{
	char why[400];
	json_t *fixtures, *fx;
	const json_t *bfixtures = json_object_get(baseline, "fixtures");
	struct mg_name_ref *byname;
	size_t i, nb = json_array_size(bfixtures);

	if (mg_report_validate(report, why, sizeof why)) {
		snprintf(err, errlen, "the report is not a memgate report: %s", why);
		return -1;
	}
	if (mg_report_validate(baseline, why, sizeof why)) {
		snprintf(err, errlen, "the baseline is not a memgate report: %s", why);
		return -1;
	}
	if (!(byname = index_by_name(bfixtures))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fixtures = json_object_get(report, "fixtures");
	json_array_foreach(fixtures, i, fx) {
		const char *name = json_string_value(json_object_get(fx, "name"));
		const struct mg_name_ref *found = mg_names_find(byname, nb, name);
		struct mg_regression none = { MG_NO_LIMIT, MG_NO_LIMIT };
		if (!found) {
			note(fx, "baseline: this fixture is not in the baseline (new?): not compared");
			continue;
		}
		compare_fixture(fx, json_array_get(bfixtures, found->index), with_defaults(tol ? tol(name, ctx) : none));
		worsen(report, verdict_of(json_object_get(fx, "verdict")));
	}
	free(byname);
	return 0;
}
