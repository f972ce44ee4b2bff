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

/* ---------------------------------------------------------------- phases */

#define PHASE_REASONS 10   /* the worst phase regressions are reasons; the rest counted */
#define NOTE_NAMES 3       /* names listed in a note about phases */

/* A phase regression, kept to word the worst ones. */
struct phase_regression {
	const char *phase;
	const char *metric;
	int64_t value, base;
	bool exact;
	double over;       /* delta / base; +inf over a base of 0 */
};

static int by_over(const void *a, const void *b)
{
	const struct phase_regression *x = a, *y = b;
	return (y->over > x->over) - (y->over < x->over);
}

/* Compare one phase metric (the entry goes in the phase, as a fixture's
 * does); true when it regressed. */
static bool compare_phase_metric(json_t *ph, const char *metric, int64_t value, int64_t base,
				 struct mg_regression tol)
{
	json_t *e = entry_for(ph, metric, value);
	bool bad_metric = regressed(value, base, tol);

	json_object_set_new(e, "baseline_bytes", json_integer(base));
	json_object_set_new(e, "delta_bytes", json_integer(value - base));
	json_object_set_new(e, "delta_pct", delta_pct(value - base, base));
	json_object_set_new(e, "allowed_pct", json_real((double)tol.max_increase_pct_x100 / 100.0));
	json_object_set_new(e, "allowed_bytes", json_integer(tol.min_increase_bytes));
	json_object_set_new(e, "baseline_ok", json_boolean(!bad_metric));
	return bad_metric;
}

/* "baseline: 2 phases not in the baseline (new?), not compared: a, b" */
static void phase_note(json_t *fx, const char *what, const struct mg_name_ref *v, size_t n, const bool *hit,
		       size_t nhit)
{
	char text[640];
	size_t missing = n - nhit, listed = 0;
	int used;

	if (!missing)
		return;
	used = snprintf(text, sizeof text, "baseline: %zu phase%s %s: ", missing, missing == 1 ? "" : "s", what);
	for (size_t i = 0; i < n && listed < NOTE_NAMES && used > 0 && (size_t)used < sizeof text; i++) {
		if (hit[v[i].index] || (i > 0 && strcmp(v[i].name, v[i - 1].name) == 0 && !hit[v[i - 1].index]))
			continue; /* compared, or a name already listed */
		used += snprintf(text + used, sizeof text - (size_t)used, "%s%.100s", listed ? ", " : "", v[i].name);
		listed++;
	}
	if (used > 0 && (size_t)used < sizeof text && missing > listed)
		snprintf(text + used, sizeof text - (size_t)used, ", +%zu more", missing - listed);
	note(fx, text);
}

static struct mg_name_ref *phase_index(const json_t *phases)
{
	size_t n = json_array_size(phases);
	struct mg_name_ref *v = calloc(n ? n : 1, sizeof *v);

	for (size_t i = 0; v && i < n; i++)
		v[i] = (struct mg_name_ref){ json_string_value(json_object_get(json_array_get(phases, i), "name")), 0, i };
	if (v)
		mg_names_sort(v, n);
	return v;
}

/* Add the regressions as reasons, the worst first, at most PHASE_REASONS. */
static void phase_reasons(json_t *fx, struct phase_regression *r, size_t n, struct mg_regression tol)
{
	char v[32], b[32], d[40], pct[32], allowed[32], floor[32], text[400];

	qsort(r, n, sizeof *r, by_over);
	mg_format_percent(tol.max_increase_pct_x100, allowed, sizeof allowed);
	mg_format_mib(tol.min_increase_bytes, floor, sizeof floor);
	for (size_t i = 0; i < n && i < PHASE_REASONS; i++) {
		mg_format_mib(r[i].value, v, sizeof v);
		mg_format_mib(r[i].base, b, sizeof b);
		signed_mib(r[i].value - r[i].base, d, sizeof d);
		if (r[i].base > 0)
			snprintf(pct, sizeof pct, ", %+.1f%%", r[i].over * 100.0);
		else
			pct[0] = '\0';
		snprintf(text, sizeof text, "phase %.100s: %s %s is %s%s over the baseline %s (allowed +%s, +%s)%s",
			 r[i].phase, r[i].metric, v, d, pct, b, allowed, floor, r[i].exact ? "" : " (sampled)");
		json_array_append_new(array_member(fx, "reasons"), json_string(text));
	}
	if (n > PHASE_REASONS) {
		snprintf(text, sizeof text, "... and %zu more phase metrics over the baseline (the report's \"phases\" "
					    "lists all)", n - PHASE_REASONS);
		json_array_append_new(array_member(fx, "reasons"), json_string(text));
	}
}

/* Phase by phase: the k-th phase of a name against the baseline's k-th of
 * that name (a name may repeat: a program's loop marks it each round).
 * Each figure measured in both is compared as a fixture's is; a phase only
 * in one report is a note. Returns how many figures regressed. */
static size_t compare_phases(json_t *fx, const json_t *bfx, struct mg_regression tol)
{
	json_t *phases = json_object_get(fx, "phases");
	const json_t *bphases = json_object_get(bfx, "phases");
	size_t n = json_array_size(phases), nb = json_array_size(bphases), hits = 0, nreg = 0, cap = 0;
	struct mg_name_ref *v, *bv;
	bool *hit, *bhit;
	struct phase_regression *reg = NULL;

	if (!n)
		return 0;
	if (!json_is_array(bphases)) {
		note(fx, "baseline: the baseline has no phases (an older memgate?): phases not compared");
		return 0;
	}
	v = phase_index(phases);
	bv = phase_index(bphases);
	hit = calloc(n, sizeof *hit);
	bhit = calloc(nb ? nb : 1, sizeof *bhit);
	if (!v || !bv || !hit || !bhit)
		goto out; /* out of memory: phases not compared, the fixture still is */
	for (size_t i = 0, k = 0; i < n; i++) {
		k = i > 0 && strcmp(v[i].name, v[i - 1].name) == 0 ? k + 1 : 0; /* its occurrence */
		const struct mg_name_ref *first = mg_names_find(bv, nb, v[i].name);
		size_t at = first ? (size_t)(first - bv) + k : nb;
		if (at >= nb || strcmp(bv[at].name, v[i].name) != 0)
			continue;
		json_t *ph = json_array_get(phases, v[i].index);
		const json_t *peak = json_object_get(ph, "peak"), *bpeak = json_object_get(json_array_get(bphases,
												  bv[at].index), "peak");
		int64_t val, base;
		bool worse = false;
		hit[v[i].index] = bhit[bv[at].index] = true;
		hits++;
		for (size_t m = 0; m < NPEAKS; m++) {
			if (!measured(peak, peaks[m].key, &val) || !measured(bpeak, peaks[m].key, &base) ||
			    !compare_phase_metric(ph, peaks[m].metric, val, base, tol))
				continue;
			worse = true;
			if (nreg == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				struct phase_regression *nr = realloc(reg, ncap * sizeof *nr);
				if (!nr)
					continue; /* the phase still fails; only its reason is lost */
				reg = nr, cap = ncap;
			}
			reg[nreg++] = (struct phase_regression){
				v[i].name, peaks[m].metric, val, base, json_is_true(json_object_get(ph, "exact")),
				base > 0 ? (double)(val - base) / (double)base : HUGE_VAL};
		}
		if (worse)
			worsen(ph, MG_VERDICT_FAIL);
	}
	phase_note(fx, "not in the baseline (new?), not compared", v, n, hit, hits);
	size_t bhits = 0;
	for (size_t i = 0; i < nb; i++)
		bhits += bhit[i];
	phase_note(fx, "of the baseline not in this run", bv, nb, bhit, bhits);
	if (nreg)
		phase_reasons(fx, reg, nreg, tol);
out:
	free(v);
	free(bv);
	free(hit);
	free(bhit);
	free(reg);
	return nreg;
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
	worse += (int)(compare_phases(fx, bfx, tol) > 0);
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
