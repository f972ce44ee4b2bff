/* Unit tests for baseline.c (pass/fail exactly at and one byte over both
 * tolerances, the report keys, notes, bad baselines) and for the config's
 * "regression" key and percentage parsing in config.c. */
#include "testutil.h"

#include "report/baseline.h"
#include "report/report_load.h"

#define MiB ((int64_t)1 << 20)

/* A schema 1 report with one fixture, shaped like report_json.c's. A
 * negative figure is null; limit < 0: no tree_rss limit. */
static json_t *report1(const char *name, int64_t rss, int64_t cgroup, int64_t limit)
{
	json_t *limits = json_array();

	if (limit >= 0)
		json_array_append_new(limits, json_pack("{s:s, s:I, s:I, s:b}", "metric", "tree_rss",
							"limit_bytes", (json_int_t)limit,
							"value_bytes", (json_int_t)rss, "ok", rss <= limit));
	json_t *fx = json_pack(
		"{s:s, s:s, s:[], s:[s], s:{s:i}, s:i, s:{s:s, s:[]}, s:{s:o, s:o, s:o, s:n}, s:o}",
		"name", name, "verdict", "pass", "reasons", "command", "x", "exit", "code", 0,
		"wall_ms", 5, "measurement", "method", "cgroup-v2", "notes",
		"peak", "cgroup_bytes", cgroup < 0 ? json_null() : json_integer(cgroup),
		"tree_rss_bytes", rss < 0 ? json_null() : json_integer(rss),
		"max_process_hwm_bytes", json_null(), "tree_pss_bytes", "limits", limits);
	assert_non_null(fx);
	json_t *r = json_pack("{s:i, s:s, s:s, s:n, s:[o]}", "schema", 1, "memgate_version", "0.1.0",
			      "verdict", "pass", "interrupted_by", "fixtures", fx);
	assert_non_null(r);
	return r;
}

static json_t *fixture0(json_t *report)
{
	return json_array_get(json_object_get(report, "fixtures"), 0);
}

static struct mg_regression tol_ctx(const char *name, const void *ctx)
{
	(void)name;
	return *(const struct mg_regression *)ctx;
}

/* Apply a baseline of rss `base` to a run of rss `value` (tree_rss limited
 * at 1 GiB) and return the fixture's verdict. */
static const char *verdict_for(int64_t value, int64_t base, const struct mg_regression *tol)
{
	static char v[16];
	char err[256];
	json_t *rep = report1("api", value, -1, 1024 * MiB), *bl = report1("api", base, -1, -1);

	assert_int_equal(mg_baseline_apply(rep, bl, tol ? tol_ctx : NULL, tol, err, sizeof err), 0);
	snprintf(v, sizeof v, "%s", json_string_value(json_object_get(fixture0(rep), "verdict")));
	/* the overall verdict follows */
	assert_string_equal(json_string_value(json_object_get(rep, "verdict")), v);
	json_decref(rep);
	json_decref(bl);
	return v;
}

/* Defaults 10% and 4 MiB: both must be exceeded. */
static void test_edges_of_both_tolerances(void **state)
{
	(void)state;
	/* 100 MiB: 10% (10 MiB) is the larger bound */
	assert_string_equal(verdict_for(110 * MiB, 100 * MiB, NULL), "pass");
	assert_string_equal(verdict_for(110 * MiB + 1, 100 * MiB, NULL), "fail");
	/* 20 MiB: the 4 MiB floor is the larger bound (10% is 2 MiB) */
	assert_string_equal(verdict_for(24 * MiB, 20 * MiB, NULL), "pass");
	assert_string_equal(verdict_for(24 * MiB + 1, 20 * MiB, NULL), "fail");
	assert_string_equal(verdict_for(23 * MiB, 20 * MiB, NULL), "pass"); /* +15%, under the floor */
	/* 40 MiB: both bounds are 4 MiB */
	assert_string_equal(verdict_for(44 * MiB, 40 * MiB, NULL), "pass");
	assert_string_equal(verdict_for(44 * MiB + 1, 40 * MiB, NULL), "fail");
	/* smaller is always fine */
	assert_string_equal(verdict_for(10 * MiB, 100 * MiB, NULL), "pass");
	/* exact percentages on sizes 10000 does not divide */
	const struct mg_regression pct_only = { 1000, 0 }, odd = { 333, 0 };
	assert_string_equal(verdict_for(1100, 1000, &pct_only), "pass");
	assert_string_equal(verdict_for(1101, 1000, &pct_only), "fail");
	assert_string_equal(verdict_for(1033, 1000, &odd), "pass"); /* 33 <= 33.3 */
	assert_string_equal(verdict_for(1034, 1000, &odd), "fail");
	assert_string_equal(verdict_for(10333, 10000, &odd), "pass");
	assert_string_equal(verdict_for(10334, 10000, &odd), "fail");
	/* 0%: any growth beyond the floor fails */
	const struct mg_regression zero = { 0, 5 };
	assert_string_equal(verdict_for(1005, 1000, &zero), "pass");
	assert_string_equal(verdict_for(1006, 1000, &zero), "fail");
	/* a baseline of 0 bytes: only the floor counts */
	assert_string_equal(verdict_for(4 * MiB, 0, NULL), "pass");
	assert_string_equal(verdict_for(4 * MiB + 1, 0, NULL), "fail");
	/* huge values do not overflow the comparison */
	const struct mg_regression big = { 100000000, 0 };
	assert_string_equal(verdict_for(INT64_MAX, INT64_MAX / 2, &big), "pass");
}

static void test_keys_and_reason(void **state)
{
	char err[256];
	json_t *rep = report1("api", 200 * MiB, 50 * MiB, 1024 * MiB);
	json_t *bl = report1("api", 180 * MiB, 60 * MiB, -1);

	(void)state;
	assert_int_equal(mg_baseline_apply(rep, bl, NULL, NULL, err, sizeof err), 0);
	json_t *fx = fixture0(rep);
	assert_string_equal(json_string_value(json_object_get(fx, "verdict")), "fail");
	assert_string_equal(json_string_value(json_array_get(json_object_get(fx, "reasons"), 0)),
			    "tree_rss 200.0 MiB is +20.0 MiB, +11.1% over the baseline 180.0 MiB "
			    "(allowed +10%, +4.0 MiB)");
	assert_int_equal(json_array_size(json_object_get(fx, "reasons")), 1);
	/* the limited metric: keys added to its limits entry, ok untouched */
	json_t *l = json_array_get(json_object_get(fx, "limits"), 0);
	assert_int_equal(json_integer_value(json_object_get(l, "baseline_bytes")), 180 * MiB);
	assert_int_equal(json_integer_value(json_object_get(l, "delta_bytes")), 20 * MiB);
	assert_true(json_real_value(json_object_get(l, "delta_pct")) == 11.11);
	assert_true(json_real_value(json_object_get(l, "allowed_pct")) == 10.0);
	assert_int_equal(json_integer_value(json_object_get(l, "allowed_bytes")), 4 * MiB);
	assert_true(json_is_false(json_object_get(l, "baseline_ok")));
	assert_true(json_is_true(json_object_get(l, "ok")));
	/* the unlimited one (cgroup, smaller now): a new "baseline" entry */
	json_t *b = json_object_get(fx, "baseline");
	assert_int_equal(json_array_size(b), 1);
	json_t *c = json_array_get(b, 0);
	assert_string_equal(json_string_value(json_object_get(c, "metric")), "cgroup");
	assert_int_equal(json_integer_value(json_object_get(c, "value_bytes")), 50 * MiB);
	assert_int_equal(json_integer_value(json_object_get(c, "baseline_bytes")), 60 * MiB);
	assert_int_equal(json_integer_value(json_object_get(c, "delta_bytes")), -10 * MiB);
	assert_true(json_real_value(json_object_get(c, "delta_pct")) == -16.67);
	assert_true(json_is_true(json_object_get(c, "baseline_ok")));
	/* max_process_hwm and pss are null on both sides: not compared */
	assert_string_equal(json_string_value(json_object_get(rep, "verdict")), "fail");
	json_decref(rep);
	json_decref(bl);
}

static void test_missing_fixture_is_a_note(void **state)
{
	char err[256];
	json_t *rep = report1("new-one", 500 * MiB, -1, -1), *bl = report1("api", 1 * MiB, -1, -1);

	(void)state;
	assert_int_equal(mg_baseline_apply(rep, bl, NULL, NULL, err, sizeof err), 0);
	json_t *fx = fixture0(rep);
	assert_string_equal(json_string_value(json_object_get(fx, "verdict")), "pass");
	assert_string_equal(json_string_value(json_object_get(rep, "verdict")), "pass");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
				    json_object_get(fx, "measurement"), "notes"), 0)),
			    "baseline: this fixture is not in the baseline (new?): not compared");
	assert_null(json_object_get(fx, "baseline"));
	json_decref(rep);
	json_decref(bl);
	/* nothing measured in common: a note too */
	rep = report1("api", 5 * MiB, -1, -1);
	bl = report1("api", -1, 5 * MiB, -1);
	assert_int_equal(mg_baseline_apply(rep, bl, NULL, NULL, err, sizeof err), 0);
	assert_contains(json_string_value(json_array_get(json_object_get(json_object_get(
				fixture0(rep), "measurement"), "notes"), 0)),
			"baseline: no metric measured in both");
	json_decref(rep);
	json_decref(bl);
}

static void test_error_stays_error(void **state)
{
	char err[256];
	json_t *rep = report1("api", 200 * MiB, -1, -1), *bl = report1("api", 100 * MiB, -1, -1);

	(void)state;
	json_object_set_new(fixture0(rep), "verdict", json_string("error"));
	json_object_set_new(rep, "verdict", json_string("error"));
	assert_int_equal(mg_baseline_apply(rep, bl, NULL, NULL, err, sizeof err), 0);
	assert_string_equal(json_string_value(json_object_get(fixture0(rep), "verdict")), "error");
	assert_int_equal(mg_baseline_verdict(rep), MG_VERDICT_ERROR);
	json_decref(rep);
	json_decref(bl);
}

/* ---------------------------------------------------------------- phases */

/* A phase with a cgroup figure (and a cgroup limit when limit > 0). */
static json_t *phase(const char *name, int64_t cgroup, int64_t limit, bool exact)
{
	json_t *limits = json_array();
	if (limit > 0)
		json_array_append_new(limits, json_pack("{s:s, s:I, s:I, s:b, s:s}", "metric", "cgroup", "limit_bytes",
							(json_int_t)limit, "value_bytes", (json_int_t)cgroup, "ok",
							cgroup <= limit, "unit", "bytes"));
	json_t *p = json_pack("{s:s, s:i, s:i, s:b, s:{s:I, s:n, s:n, s:n, s:n}, s:o, s:s}", "name", name, "from_ms", 0,
			      "to_ms", 10, "exact", exact, "peak", "cgroup_bytes", (json_int_t)cgroup, "tree_rss_bytes",
			      "max_process_hwm_bytes", "tree_pss_bytes", "cgroup_anon_bytes", "limits", limits, "verdict",
			      "pass");
	assert_non_null(p);
	return p;
}

static json_t *phase_i(json_t *rep, size_t i)
{
	return json_array_get(json_object_get(fixture0(rep), "phases"), i);
}

static const char *reason_i(json_t *rep, size_t i)
{
	return json_string_value(json_array_get(json_object_get(fixture0(rep), "reasons"), i));
}

static const char *note_i(json_t *rep, size_t i)
{
	return json_string_value(json_array_get(json_object_get(json_object_get(fixture0(rep), "measurement"), "notes"), i));
}

/* Phase by phase, by name and occurrence: a regression fails the phase
 * and the fixture, named; within the tolerance passes; a phase only in
 * one of the reports is a note. */
static void test_phases_compared_by_name(void **state)
{
	char err[256];
	json_t *rep = report1("api", 100 * MiB, -1, -1), *bl = report1("api", 100 * MiB, -1, -1);

	(void)state;
	json_object_set_new(fixture0(rep), "phases",
			    json_pack("[o, o, o, o, o]", phase("startup", 100 * MiB, 200 * MiB, true),
				      phase("load", 60 * MiB, 0, true), phase("load", 74 * MiB, 0, true),
				      phase("warmup", 500 * MiB, 0, true), phase("load", 5 * MiB, 0, true)));
	json_object_set_new(fixture0(bl), "phases",
			    json_pack("[o, o, o, o]", phase("load", 50 * MiB, 0, true), phase("startup", 90 * MiB, 0, true),
				      phase("load", 70 * MiB, 0, true), phase("shutdown", 1 * MiB, 0, true)));
	assert_int_equal(mg_baseline_apply(rep, bl, NULL, NULL, err, sizeof err), 0);
	assert_string_equal(json_string_value(json_object_get(fixture0(rep), "verdict")), "fail");
	assert_string_equal(json_string_value(json_object_get(rep, "verdict")), "fail");
	/* the first "load" against the baseline's first: +10 MiB, +20% */
	assert_string_equal(reason_i(rep, 0), "phase load: cgroup 60.0 MiB is +10.0 MiB, +20.0% over the baseline "
					      "50.0 MiB (allowed +10%, +4.0 MiB)");
	/* then startup: +10 MiB, +11.1%, the worse first */
	assert_string_equal(reason_i(rep, 1), "phase startup: cgroup 100.0 MiB is +10.0 MiB, +11.1% over the baseline "
					      "90.0 MiB (allowed +10%, +4.0 MiB)");
	assert_null(reason_i(rep, 2));
	assert_string_equal(json_string_value(json_object_get(phase_i(rep, 1), "verdict")), "fail");
	json_t *b = json_array_get(json_object_get(phase_i(rep, 1), "baseline"), 0);
	assert_string_equal(json_string_value(json_object_get(b, "metric")), "cgroup");
	assert_int_equal(json_integer_value(json_object_get(b, "baseline_bytes")), 50 * MiB);
	assert_true(json_is_false(json_object_get(b, "baseline_ok")));
	/* the second "load": +4 MiB, exactly the floor, passes */
	assert_string_equal(json_string_value(json_object_get(phase_i(rep, 2), "verdict")), "pass");
	b = json_array_get(json_object_get(phase_i(rep, 2), "baseline"), 0);
	assert_int_equal(json_integer_value(json_object_get(b, "delta_bytes")), 4 * MiB);
	assert_true(json_is_true(json_object_get(b, "baseline_ok")));
	/* startup has a limit: the keys go in its entry, ok untouched */
	json_t *l = json_array_get(json_object_get(phase_i(rep, 0), "limits"), 0);
	assert_int_equal(json_integer_value(json_object_get(l, "baseline_bytes")), 90 * MiB);
	assert_true(json_is_false(json_object_get(l, "baseline_ok")));
	assert_true(json_is_true(json_object_get(l, "ok")));
	assert_string_equal(json_string_value(json_object_get(phase_i(rep, 0), "verdict")), "fail");
	assert_null(json_object_get(phase_i(rep, 0), "baseline"));
	/* the third "load" and "warmup" are new; "shutdown" is gone: notes */
	assert_null(json_object_get(phase_i(rep, 3), "baseline"));
	assert_string_equal(json_string_value(json_object_get(phase_i(rep, 3), "verdict")), "pass");
	assert_string_equal(note_i(rep, 0), "baseline: 2 phases not in the baseline (new?), not compared: load, warmup");
	assert_string_equal(note_i(rep, 1), "baseline: 1 phase of the baseline not in this run: shutdown");
	json_decref(rep);
	json_decref(bl);
}

/* Which phase regressions are reasons: the 10 worst by how far over, the
 * rest counted; a sampled phase says so. A baseline without phases is a
 * note. */
static void test_phase_reasons_capped(void **state)
{
	char err[256], name[32];
	json_t *rep = report1("t", 100 * MiB, -1, -1), *bl = report1("t", 100 * MiB, -1, -1);
	json_t *ph = json_array(), *bph = json_array();

	(void)state;
	for (int i = 0; i < 14; i++) {
		snprintf(name, sizeof name, "t::test_%02d", i);
		json_array_append_new(ph, phase(name, (100 + 10 + i) * MiB, 0, i != 13));
		json_array_append_new(bph, phase(name, 100 * MiB, 0, true));
	}
	json_object_set_new(fixture0(rep), "phases", ph);
	json_object_set_new(fixture0(bl), "phases", bph);
	assert_int_equal(mg_baseline_apply(rep, bl, NULL, NULL, err, sizeof err), 0);
	/* test_00 is +10 MiB, +10%: exactly at the percentage, passes */
	assert_string_equal(reason_i(rep, 0), "phase t::test_13: cgroup 123.0 MiB is +23.0 MiB, +23.0% over the baseline "
					      "100.0 MiB (allowed +10%, +4.0 MiB) (sampled)");
	assert_string_equal(reason_i(rep, 9), "phase t::test_04: cgroup 114.0 MiB is +14.0 MiB, +14.0% over the baseline "
					      "100.0 MiB (allowed +10%, +4.0 MiB)");
	assert_string_equal(reason_i(rep, 10), "... and 3 more phase metrics over the baseline (the report's \"phases\" "
					       "lists all)");
	assert_null(reason_i(rep, 11));
	assert_string_equal(json_string_value(json_object_get(phase_i(rep, 0), "verdict")), "pass");
	assert_null(note_i(rep, 0));
	json_decref(rep);
	json_decref(bl);

	rep = report1("t", 100 * MiB, -1, -1);
	bl = report1("t", 100 * MiB, -1, -1);
	json_object_set_new(fixture0(rep), "phases", json_pack("[o]", phase("load", 900 * MiB, 0, true)));
	assert_int_equal(mg_baseline_apply(rep, bl, NULL, NULL, err, sizeof err), 0);
	assert_string_equal(json_string_value(json_object_get(fixture0(rep), "verdict")), "pass");
	assert_string_equal(note_i(rep, 0), "baseline: the baseline has no phases (an older memgate?): phases not compared");
	json_decref(rep);
	json_decref(bl);
}

/* A broken baseline: -1, the reason, the report unchanged. */
static void bad_baseline(json_t *bl, const char *want)
{
	char err[256] = "";
	json_t *rep = report1("api", 5 * MiB, -1, -1), *copy = json_deep_copy(rep);

	assert_int_equal(mg_baseline_apply(rep, bl, NULL, NULL, err, sizeof err), -1);
	assert_string_equal(err, want);
	assert_true(json_equal(rep, copy));
	json_decref(rep);
	json_decref(copy);
	json_decref(bl);
}

static void test_bad_baselines(void **state)
{
	json_t *bl;

	(void)state;
	bad_baseline(json_array(), "the baseline is not a memgate report: (top level): expected a JSON object, "
				   "got an array (is this a memgate --json report?)");
	bad_baseline(json_pack("{s:[]}", "fixtures"),
		     "the baseline is not a memgate report: schema: missing (is this a memgate "
		     "--json report?)");
	bad_baseline(json_pack("{s:i, s:[]}", "schema", 2, "fixtures"),
		     "the baseline is not a memgate report: schema: expected 1, got 2 (this memgate "
		     "reads report schema 1)");
	bad_baseline(json_pack("{s:s, s:[]}", "schema", "1", "fixtures"),
		     "the baseline is not a memgate report: schema: expected the integer 1, got a "
		     "string (this memgate reads report schema 1)");
	bad_baseline(json_pack("{s:i, s:[]}", "schema", 1, "fixtures"),
		     "the baseline is not a memgate report: verdict: missing (expected \"pass\", \"fail\" "
		     "or \"error\")");
	bad_baseline(json_pack("{s:i, s:s, s:{}}", "schema", 1, "verdict", "pass", "fixtures"),
		     "the baseline is not a memgate report: fixtures: expected an array, got an object");
	bad_baseline(json_pack("{s:i, s:s, s:[i]}", "schema", 1, "verdict", "pass", "fixtures", 3),
		     "the baseline is not a memgate report: fixtures[0]: expected an object, got an integer");
	bad_baseline(json_pack("{s:i, s:s, s:[{s:s}]}", "schema", 1, "verdict", "pass", "fixtures", "name", ""),
		     "the baseline is not a memgate report: fixtures[0].name: expected a non-empty string");
	bl = report1("api", 5 * MiB, -1, -1);
	json_object_set_new(json_object_get(fixture0(bl), "peak"), "tree_rss_bytes", json_string("5MiB"));
	bad_baseline(bl, "the baseline is not a memgate report: fixtures[0].peak.tree_rss_bytes: "
			 "expected a non-negative integer or null, got a string");
	bl = report1("api", 5 * MiB, -1, -1);
	json_object_set_new(json_object_get(fixture0(bl), "peak"), "cgroup_bytes", json_integer(-5));
	bad_baseline(bl, "the baseline is not a memgate report: fixtures[0].peak.cgroup_bytes: "
			 "expected a non-negative integer or null, got -5");
	bl = report1("api", 5 * MiB, -1, -1);
	json_array_append(json_object_get(bl, "fixtures"), fixture0(bl));
	bad_baseline(bl, "the baseline is not a memgate report: fixtures[1].name: duplicate "
			 "fixture \"api\" (also fixtures[0])");
	bl = report1("api", 5 * MiB, -1, -1);
	json_object_set_new(fixture0(bl), "limits", json_pack("[{s:i}]", "metric", 1));
	bad_baseline(bl, "the baseline is not a memgate report: fixtures[0].limits[0].metric: "
			 "expected a string, got an integer");
}

static char tmp[64];

static const char *write_tmp(const char *text)
{
	snprintf(tmp, sizeof tmp, "/tmp/memgate-bl-%d.json", (int)getpid());
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return tmp;
}

static void test_load(void **state)
{
	char err[512], want[512];
	json_t *doc;

	(void)state;
	assert_null(mg_report_load(write_tmp("{\"schema\": 1,\n \"fixtures\": [}"), err, sizeof err));
	snprintf(want, sizeof want, "%s:2:15: unexpected token near '}'", tmp);
	assert_string_equal(err, want);
	assert_null(mg_report_load(write_tmp("{\"tune\": 1, \"fixtures\": []}"), err, sizeof err));
	snprintf(want, sizeof want, "%s: schema: missing (is this a memgate --json report?)", tmp);
	assert_string_equal(err, want);
	doc = mg_report_load(write_tmp("{\"schema\": 1, \"verdict\": \"pass\", \"fixtures\": []}"), err, sizeof err);
	assert_non_null(doc);
	json_decref(doc);
	unlink(tmp);
	assert_null(mg_report_load(tmp, err, sizeof err));
	snprintf(want, sizeof want, "cannot read %s: ENOENT (No such file or directory)", tmp);
	assert_string_equal(err, want);
}

/* A regression fails the fixture and the report, with a reason. */
static void test_report_verdict(void **state)
{
	char err[256];
	json_t *rep = report1("api", 200 * MiB, 50 * MiB, 1024 * MiB);
	json_t *bl = report1("api", 180 * MiB, 60 * MiB, -1);

	(void)state;
	assert_int_equal(mg_baseline_verdict(rep), MG_VERDICT_PASS);
	assert_int_equal(mg_baseline_apply(rep, bl, NULL, NULL, err, sizeof err), 0);
	assert_string_equal(json_string_value(json_object_get(fixture0(rep), "verdict")), "fail");
	json_t *reasons = json_object_get(fixture0(rep), "reasons");
	assert_int_equal(json_array_size(reasons), 1);
	assert_contains(json_string_value(json_array_get(reasons, 0)), "tree_rss 200.0 MiB is +20.0 MiB");
	assert_int_equal(mg_baseline_verdict(rep), MG_VERDICT_FAIL);
	json_decref(rep);
	json_decref(bl);
}

/* ------------------------------------------------ config "regression" */

static void load_ok(const char *json, struct mg_config *cfg)
{
	char err[512] = "";
	if (mg_config_load_string(json, "memgate.json", cfg, err, sizeof err))
		fail_msg("load failed: %s", err);
}

static void load_err(const char *json, const char *want)
{
	char err[512] = "";
	struct mg_config cfg;

	assert_int_equal(mg_config_load_string(json, "memgate.json", &cfg, err, sizeof err), -1);
	assert_string_equal(err, want);
}

static void test_config_regression_cascades(void **state)
{
	struct mg_config cfg;

	(void)state;
	load_ok("{\"version\": 1, \"defaults\": {\"regression\": {\"max_increase\": \"5%\"}},"
		" \"fixtures\": [{\"name\": \"a\", \"command\": [\"x\"]},"
		" {\"name\": \"b\", \"command\": [\"x\"], \"regression\": {\"min_increase\": \"1MiB\"}},"
		" {\"name\": \"c\", \"command\": [\"x\"], \"regression\": {\"max_increase\": \"2.5 %\","
		" \"min_increase\": \"0B\"}}]}", &cfg);
	assert_int_equal(cfg.fixtures[0].regression.max_increase_pct_x100, 500);
	assert_int_equal(cfg.fixtures[0].regression.min_increase_bytes, MG_NO_LIMIT);
	assert_int_equal(cfg.fixtures[1].regression.max_increase_pct_x100, 500);
	assert_int_equal(cfg.fixtures[1].regression.min_increase_bytes, MiB);
	assert_int_equal(cfg.fixtures[2].regression.max_increase_pct_x100, 250);
	assert_int_equal(cfg.fixtures[2].regression.min_increase_bytes, 0);
	struct mg_regression t = mg_tolerance_from_config("a", &cfg);
	assert_int_equal(t.max_increase_pct_x100, 500);
	assert_int_equal(t.min_increase_bytes, 4 * MiB); /* the default fills the gap */
	t = mg_tolerance_from_config("b", &cfg);
	assert_int_equal(t.max_increase_pct_x100, 500);
	assert_int_equal(t.min_increase_bytes, MiB);
	t = mg_tolerance_from_config("not-there", &cfg);
	assert_int_equal(t.max_increase_pct_x100, 1000);
	assert_int_equal(t.min_increase_bytes, 4 * MiB);
	t = mg_tolerance_from_config("a", NULL);
	assert_int_equal(t.max_increase_pct_x100, 1000);
	mg_config_free(&cfg);
	/* unset everywhere: left for --baseline's defaults */
	load_ok("{\"version\": 1, \"fixtures\": [{\"name\": \"a\", \"command\": [\"x\"]}]}", &cfg);
	assert_int_equal(cfg.fixtures[0].regression.max_increase_pct_x100, MG_NO_LIMIT);
	assert_int_equal(cfg.fixtures[0].regression.min_increase_bytes, MG_NO_LIMIT);
	mg_config_free(&cfg);
}

static void test_config_regression_errors(void **state)
{
	(void)state;
#define FX(extra) "{\"version\": 1, \"fixtures\": [{\"name\": \"a\", \"command\": [\"x\"], " extra "}]}"
	load_err(FX("\"regression\": \"10%\""),
		 "memgate.json: fixtures[0].regression: expected an object like {\"max_increase\": "
		 "\"10%\", \"min_increase\": \"4MiB\"}, got a string");
	load_err(FX("\"regression\": {\"max_increase\": 10}"),
		 "memgate.json: fixtures[0].regression.max_increase: expected a percentage string "
		 "like \"10%\", got a number");
	load_err(FX("\"regression\": {\"max_increase\": \"10\"}"),
		 "memgate.json: fixtures[0].regression.max_increase: percentage \"10\" needs a '%' "
		 "sign, like \"10%\"");
	load_err(FX("\"regression\": {\"max_increase\": \"1.234%\"}"),
		 "memgate.json: fixtures[0].regression.max_increase: percentage \"1.234%\" has more "
		 "than 2 decimals or is above 1000000%");
	load_err(FX("\"regression\": {\"max_increase\": \"-1%\"}"),
		 "memgate.json: fixtures[0].regression.max_increase: percentage \"-1%\" is not a "
		 "number followed by '%', like \"10%\" or \"2.5%\"");
	load_err(FX("\"regression\": {\"min_increase\": \"4\"}"),
		 "memgate.json: fixtures[0].regression.min_increase: size \"4\" needs a unit: B, kB, "
		 "MB, GB, KiB, MiB or GiB");
	load_err(FX("\"regression\": {\"max_increse\": \"4%\"}"),
		 "memgate.json: fixtures[0].regression.max_increse: unknown key (did you mean "
		 "\"max_increase\"?)");
	load_err(FX("\"regression\": {\"noise\": \"4%\"}"),
		 "memgate.json: fixtures[0].regression.noise: unknown key; valid keys: max_increase, "
		 "min_increase");
	load_err(FX("\"regresion\": {}"),
		 "memgate.json: fixtures[0].regresion: unknown key (did you mean \"regression\"?)");
	load_err("{\"version\": 1, \"defaults\": {\"regression\": {\"min_increase\": true}}, "
		 "\"fixtures\": [{\"name\": \"a\", \"command\": [\"x\"]}]}",
		 "memgate.json: defaults.regression.min_increase: expected a size string like "
		 "\"200MiB\", got a boolean");
#undef FX
}

static void percent_is(const char *s, bool optional, int64_t want)
{
	int64_t v = -7;
	char err[256] = "";

	if (mg_parse_percent(s, optional, &v, err, sizeof err) != 0)
		fail_msg("\"%s\": %s", s, err);
	assert_int_equal(v, want);
}

static void percent_err(const char *s, bool optional, const char *want)
{
	int64_t v = -7;
	char err[256] = "";

	assert_int_equal(mg_parse_percent(s, optional, &v, err, sizeof err), -1);
	assert_int_equal(v, -7);
	assert_string_equal(err, want);
}

static void test_parse_and_format_percent(void **state)
{
	char buf[32];

	(void)state;
	percent_is("10%", false, 1000);
	percent_is("2.5%", false, 250);
	percent_is("0.25%", false, 25);
	percent_is("10 %", false, 1000);
	percent_is("0%", false, 0);
	percent_is("007%", false, 700);
	percent_is("1000000%", false, 100000000);
	percent_is("12.5", true, 1250);
	percent_is("10%", true, 1000);
	percent_err("10", false, "percentage \"10\" needs a '%' sign, like \"10%\"");
	percent_err("1000000.01%", false,
		    "percentage \"1000000.01%\" has more than 2 decimals or is above 1000000%");
	percent_err("99999999999999999999%", false,
		    "percentage \"99999999999999999999%\" has more than 2 decimals or is above 1000000%");
	static const char *const junk[] = { "10.%", ".5%", "-1%", "1e2%", "", "%", "10%%",
					    "10.5.3%", "ten%", " 10%", "10%x" };
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		char want[128];
		snprintf(want, sizeof want, "percentage \"%s\" is not a number followed by '%%', like "
					    "\"10%%\" or \"2.5%%\"", junk[i]);
		percent_err(junk[i], true, want);
	}
	percent_err(NULL, true, "percentage \"\" is not a number followed by '%', like \"10%\" or \"2.5%\"");
	percent_err("1\n0%", true, "percentage \"1?0%\" is not a number followed by '%', like "
				   "\"10%\" or \"2.5%\"");
	mg_format_percent(1000, buf, sizeof buf);
	assert_string_equal(buf, "10%");
	mg_format_percent(250, buf, sizeof buf);
	assert_string_equal(buf, "2.5%");
	mg_format_percent(25, buf, sizeof buf);
	assert_string_equal(buf, "0.25%");
	mg_format_percent(1205, buf, sizeof buf);
	assert_string_equal(buf, "12.05%");
	mg_format_percent(0, buf, sizeof buf);
	assert_string_equal(buf, "0%");
	mg_format_percent(-1, buf, sizeof buf);
	assert_string_equal(buf, "-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges_of_both_tolerances),
		cmocka_unit_test(test_keys_and_reason),
		cmocka_unit_test(test_missing_fixture_is_a_note),
		cmocka_unit_test(test_error_stays_error),
		cmocka_unit_test(test_phases_compared_by_name),
		cmocka_unit_test(test_phase_reasons_capped),
		cmocka_unit_test(test_bad_baselines),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_report_verdict),
		cmocka_unit_test(test_config_regression_cascades),
		cmocka_unit_test(test_config_regression_errors),
		cmocka_unit_test(test_parse_and_format_percent),
	};
	return cmocka_run_group_tests_name("baseline", tests, NULL, NULL);
}
