/* Unit tests for tune.c: statistics, the readable round-up rule, headroom,
 * runs needed, proposals per fixture and per phase, and the table and JSON
 * renderers. */
#include "testutil.h"

#include <math.h>

#include "tune.h"
#include "units.h"

#define KiB ((int64_t)1 << 10)
#define MiB ((int64_t)1 << 20)
#define GiB ((int64_t)1 << 30)

static void test_stats_odd(void **state)
{
	const int64_t v[] = { 5, 1, 3, 2, 4 };
	struct mg_stats st;

	(void)state;
	assert_int_equal(mg_stats_compute(v, 5, &st), 0);
	assert_int_equal(st.n, 5);
	assert_int_equal(st.min, 1);
	assert_int_equal(st.max, 5);
	assert_true(st.median == 3.0);
	assert_true(st.mean == 3.0);
	/* sample stddev: sqrt(10 / 4) */
	assert_true(fabs(st.stddev - sqrt(2.5)) < 1e-12);
	assert_true(fabs(st.cv - sqrt(2.5) / 3.0) < 1e-12);
	/* the input is not reordered */
	assert_int_equal(v[0], 5);
}

static void test_stats_even_single_bad(void **state)
{
	const int64_t even[] = { 40, 10, 30, 20 }, one[] = { 7 }, neg[] = { 1, -1 };
	struct mg_stats st;

	(void)state;
	assert_int_equal(mg_stats_compute(even, 4, &st), 0);
	assert_true(st.median == 25.0);
	assert_int_equal(mg_stats_compute(one, 1, &st), 0);
	assert_true(st.median == 7.0);
	assert_true(st.stddev == 0.0);
	assert_true(st.cv == 0.0);
	assert_int_equal(mg_stats_compute(one, 0, &st), -1);
	assert_int_equal(mg_stats_compute(NULL, 3, &st), -1);
	assert_int_equal(mg_stats_compute(neg, 2, &st), -1);
	/* all zero: no division by a zero mean */
	const int64_t zero[] = { 0, 0 };
	assert_int_equal(mg_stats_compute(zero, 2, &st), 0);
	assert_true(st.cv == 0.0);
}

/* round bytes up and expect text and the bytes it parses back to */
static void round_is(int64_t bytes, const char *text, int64_t want)
{
	char buf[32], perr[128];
	int64_t got = mg_round_up_readable(bytes, buf, sizeof buf), parsed = -1;

	if (strcmp(buf, text) != 0 || got != want)
		fail_msg("round_up(%lld) = \"%s\" %lld, expected \"%s\" %lld", (long long)bytes, buf,
			 (long long)got, text, (long long)want);
	assert_int_equal(mg_parse_size(buf, &parsed, perr, sizeof perr), 0);
	assert_int_equal(parsed, got);
}

static void test_round_up_examples(void **state)
{
	(void)state;
	/* the examples: 182.4 MiB x 1.1 = 200.64 MiB */
	round_is(200 * MiB + 64 * MiB / 100, "210MiB", 210 * MiB);
	round_is(1234 * GiB / 1000, "1.3GiB", (13 * GiB + 5) / 10);
	round_is(1357 * GiB / 1000, "1.4GiB", 1503238554);
	round_is(850 * KiB + 1, "860KiB", 860 * KiB);
	round_is(935 * KiB, "940KiB", 940 * KiB);
	/* already readable: unchanged */
	round_is(850 * KiB, "850KiB", 850 * KiB);
	round_is(200 * MiB, "200MiB", 200 * MiB);
	round_is(200 * MiB + 1, "210MiB", 210 * MiB);
	round_is(2 * GiB, "2GiB", 2 * GiB);
	round_is(2 * GiB + 1, "2.1GiB", (21 * GiB + 5) / 10);
}

static void test_round_up_edges(void **state)
{
	char buf[32];

	(void)state;
	round_is(0, "1KiB", KiB);
	round_is(1, "1KiB", KiB);
	round_is(KiB, "1KiB", KiB);
	round_is(KiB + 1, "1.1KiB", 1126); /* 1126.4 bytes, read back half up */
	round_is(9 * MiB + 95 * MiB / 100, "10MiB", 10 * MiB);
	round_is(10 * MiB, "10MiB", 10 * MiB);
	round_is(99 * MiB + 1, "100MiB", 100 * MiB);
	round_is(1000 * MiB, "1000MiB", 1000 * MiB);
	/* a mantissa past 1000 would round to 1100 >= 1024: one of the next unit */
	round_is(1000 * MiB + 1, "1GiB", GiB);
	round_is(1000 * KiB + 1, "1MiB", MiB);
	round_is(MiB - 1, "1MiB", MiB);
	round_is(MiB, "1MiB", MiB);
	round_is(MiB + 1, "1.1MiB", (11 * MiB + 5) / 10);
	/* GiB is the largest unit: its mantissa may pass 1024 */
	round_is(1500 * GiB, "1500GiB", 1500 * GiB);
	round_is(5001 * GiB, "5100GiB", 5100 * GiB);
	/* out of range */
	assert_int_equal(mg_round_up_readable(-1, buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	assert_int_equal(mg_round_up_readable(MG_READABLE_MAX_BYTES + 1, buf, sizeof buf), -1);
	assert_true(mg_round_up_readable(MG_READABLE_MAX_BYTES, buf, sizeof buf) >=
		    MG_READABLE_MAX_BYTES);
	assert_int_equal(mg_round_up_readable(5, NULL, 0), -1);
}

/* significant digits of the mantissa in "12.5MiB" */
static int sig_digits(const char *text)
{
	int n = 0, leading = 1;

	for (const char *p = text; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.')
			continue;
		if (*p != '0')
			leading = 0;
		n += !leading;
	}
	/* trailing zeros of a whole number are not significant */
	const char *end = text + strspn(text, "0123456789.");
	if (!memchr(text, '.', (size_t)(end - text)))
		while (end > text && end[-1] == '0' && n > 1)
			end--, n--;
	return n;
}

/* Over a sweep of sizes: never below the input, at most ~10% above, reads
 * back to what it returns, 2 significant figures, monotonic. (Rounding the returned
 * bytes again need not give the same text: "6.9MiB" reads back as
 * 7235174 bytes, 0.4 byte under 6.9 MiB, which is fine for a limit.) */
static void test_round_up_properties(void **state)
{
	char buf[32], again[32], perr[128];
	uint64_t x = 88172645463325252ULL;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int64_t b = (int64_t)(x % (uint64_t)(8 * GiB)) >> (x % 23);
		int64_t r = mg_round_up_readable(b, buf, sizeof buf), parsed;
		assert_true(r >= b);
		if (b > KiB && r * 10 > b * 11 + 10)
			fail_msg("%lld -> %s is more than 10%% up", (long long)b, buf);
		assert_int_equal(mg_parse_size(buf, &parsed, perr, sizeof perr), 0);
		assert_int_equal(parsed, r);
		if (sig_digits(buf) > 2)
			fail_msg("%lld -> %s has more than 2 significant figures", (long long)b, buf);
		/* monotonic: a bigger input never gets a smaller limit */
		assert_true(mg_round_up_readable(b + 1, again, sizeof again) >= r);
	}
}

static void test_headroom(void **state)
{
	(void)state;
	assert_int_equal(mg_apply_headroom(100, 1000), 110);
	assert_int_equal(mg_apply_headroom(101, 1000), 112); /* 111.1 up */
	assert_int_equal(mg_apply_headroom(100, 0), 100);
	assert_int_equal(mg_apply_headroom(100, 1250), 113); /* 112.5 up */
	assert_int_equal(mg_apply_headroom(100, MG_TUNE_MAX_HEADROOM_X100), 1100);
	assert_int_equal(mg_apply_headroom(MG_TUNE_MAX_BYTES, MG_TUNE_MAX_HEADROOM_X100),
			 11 * MG_TUNE_MAX_BYTES);
	assert_int_equal(mg_apply_headroom(MG_TUNE_MAX_BYTES + 1, 1000), -1);
	assert_int_equal(mg_apply_headroom(-1, 1000), -1);
	assert_int_equal(mg_apply_headroom(100, -1), -1);
	assert_int_equal(mg_apply_headroom(100, MG_TUNE_MAX_HEADROOM_X100 + 1), -1);
}

static void test_runs_needed(void **state)
{
	(void)state;
	assert_int_equal(mg_runs_needed(0.0), 2);
	assert_int_equal(mg_runs_needed(0.05), 4);  /* 1.96^2 = 3.84 */
	assert_int_equal(mg_runs_needed(0.10), 16); /* 15.37 */
	assert_int_equal(mg_runs_needed(0.20), 62); /* 61.47 */
	/* exactly 9 by the formula: float noise must not make it 10 */
	assert_int_equal(mg_runs_needed(3 * 0.05 / 1.96), 9);
	assert_int_equal(mg_runs_needed(1e12), 1000000000);
	assert_int_equal(mg_runs_needed(NAN), 1000000000);
}

static void test_propose(void **state)
{
	/* 182.4 MiB at most, tight: 210MiB, not noisy */
	const int64_t v[] = { 180 * MiB, 182 * MiB, 1824 * MiB / 10, 181 * MiB, 181 * MiB };
	/* 100, 110, 90 MiB: CV 10% -> noisy, 16 runs */
	const int64_t w[] = { 100 * MiB, 110 * MiB, 90 * MiB };
	struct mg_tune_metric m;
	char err[128];

	(void)state;
	assert_int_equal(mg_tune_propose(MG_METRIC_TREE_RSS, v, 5, 1000, &m, err, sizeof err), 0);
	assert_int_equal(m.metric, MG_METRIC_TREE_RSS);
	assert_int_equal(m.st.max, 1824 * MiB / 10);
	assert_true(m.st.median == 181.0 * MiB);
	assert_false(m.noisy);
	assert_int_equal(m.target_bytes, mg_apply_headroom(1824 * MiB / 10, 1000));
	assert_string_equal(m.proposed, "210MiB");
	assert_int_equal(m.proposed_bytes, 210 * MiB);

	assert_int_equal(mg_tune_propose(MG_METRIC_CGROUP, w, 3, 0, &m, err, sizeof err), 0);
	assert_true(fabs(m.st.cv - 0.10) < 1e-12);
	assert_true(m.noisy);
	assert_int_equal(m.runs_needed, 16);
	assert_string_equal(m.proposed, "110MiB"); /* headroom 0: the max itself */

	assert_int_equal(mg_tune_propose(MG_METRIC_CGROUP, w, 0, 0, &m, err, sizeof err), -1);
	assert_contains(err, "cgroup: no measured values");
	const int64_t huge[] = { MG_TUNE_MAX_BYTES + 1 };
	assert_int_equal(mg_tune_propose(MG_METRIC_PSS, huge, 1, 1000, &m, err, sizeof err), -1);
	assert_contains(err, "pss: 70368744177665 bytes is beyond");
}

static void fixture_with_limits(struct mg_fixture *f)
{
	mg_fixture_init(f);
	f->name = "api";
	f->limits[MG_METRIC_TREE_RSS] = 200 * MiB;
}

static void record(struct mg_tune_fixture *tf, int64_t rss, int64_t cg, int64_t hwm, int64_t pss)
{
	const int64_t v[MG_TUNE_NMETRICS] = { rss, cg, hwm, pss, cg }; /* cgroup_anon: measured when the cgroup is */
	mg_tune_record(tf, v);
}

static void test_fixture_flow(void **state)
{
	struct mg_fixture f;
	struct mg_tune_fixture tf;
	char err[128];

	(void)state;
	fixture_with_limits(&f);
	assert_int_equal(mg_tune_fixture_init(&tf, &f, 3, err, sizeof err), 0);
	assert_int_equal(tf.current[0], 200 * MiB);
	assert_int_equal(tf.current[1], MG_NO_LIMIT);
	record(&tf, 100 * MiB, 120 * MiB, 90 * MiB, MG_UNKNOWN);
	record(&tf, 101 * MiB, MG_UNKNOWN, 91 * MiB, MG_UNKNOWN);
	record(&tf, 102 * MiB, 121 * MiB, 92 * MiB, MG_UNKNOWN);
	record(&tf, 500 * MiB, 500 * MiB, 500 * MiB, 500 * MiB); /* past runs_planned: ignored */
	assert_int_equal(tf.runs_done, 3);
	mg_tune_finish(&tf, 1000);
	/* cgroup measured in 2 of 3 runs, pss never: proposals for the other two */
	assert_int_equal(tf.nmetrics, 2);
	assert_int_equal(tf.metrics[0].metric, MG_METRIC_TREE_RSS);
	assert_string_equal(tf.metrics[0].proposed, "120MiB"); /* 102 x 1.1 = 112.2 */
	assert_int_equal(tf.metrics[1].metric, MG_METRIC_MAX_PROCESS_HWM);
	assert_string_equal(tf.metrics[1].proposed, "110MiB"); /* 101.2 */
	assert_string_equal(tf.skipped[1], "cgroup measured in 2 of 3 runs: no proposal");
	assert_string_equal(tf.skipped[3], "");
	assert_non_null(mg_tune_find(&tf, MG_METRIC_TREE_RSS));
	assert_null(mg_tune_find(&tf, MG_METRIC_CGROUP));
	mg_tune_fixture_free(&tf);
	mg_tune_fixture_free(&tf); /* twice is harmless */
}

static void test_failed_fixture_proposes_nothing(void **state)
{
	struct mg_fixture f;
	struct mg_tune_fixture tf;
	char err[128];

	(void)state;
	fixture_with_limits(&f);
	assert_int_equal(mg_tune_fixture_init(&tf, &f, 5, err, sizeof err), 0);
	record(&tf, 100 * MiB, MG_UNKNOWN, MG_UNKNOWN, MG_UNKNOWN);
	mg_tune_fail(&tf, 2, "exited with code 3");
	mg_tune_fail(&tf, 3, "later failure"); /* the first one is kept */
	mg_tune_finish(&tf, 1000);
	assert_int_equal(tf.nmetrics, 0);
	assert_int_equal(tf.failed_run, 2);
	assert_string_equal(tf.error, "exited with code 3");
	mg_tune_fixture_free(&tf);

	assert_int_equal(mg_tune_fixture_init(&tf, &f, 0, err, sizeof err), -1);
	assert_string_equal(err, "runs must be between 1 and 1000, got 0");
	assert_int_equal(mg_tune_fixture_init(&tf, &f, 1001, err, sizeof err), -1);
	mg_tune_fixture_free(&tf);
}

static char *table_of(const struct mg_tune_fixture *tf, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	mg_tune_write_table(out, tf, n, 1000);
	assert_int_equal(fclose(out), 0);
	return buf;
}

static void test_table(void **state)
{
	struct mg_fixture f, g;
	struct mg_tune_fixture tf[2];
	char err[128];

	(void)state;
	fixture_with_limits(&f);
	mg_fixture_init(&g);
	g.name = "broken";
	assert_int_equal(mg_tune_fixture_init(&tf[0], &f, 3, err, sizeof err), 0);
	assert_int_equal(mg_tune_fixture_init(&tf[1], &g, 3, err, sizeof err), 0);
	record(&tf[0], 100 * MiB, MG_UNKNOWN, 80 * MiB, MG_UNKNOWN);
	record(&tf[0], 110 * MiB, MG_UNKNOWN, 80 * MiB, MG_UNKNOWN);
	record(&tf[0], 90 * MiB, MG_UNKNOWN, 80 * MiB, MG_UNKNOWN);
	mg_tune_fail(&tf[1], 1, "exited with code 3");
	mg_tune_finish(&tf[0], 1000);
	mg_tune_finish(&tf[1], 1000);
	char *t = table_of(tf, 2);
	assert_contains(t, "proposed limit = max x (1 + 10%), rounded up to 2 significant figures\n");
	assert_contains(t, "fixture  metric              runs         min      median         max"
			   "     stddev     cv       limit  proposed\n");
	assert_contains(t, "api      tree_rss             3/3    90.0 MiB   100.0 MiB   110.0 MiB"
			   "   10.0 MiB  10.0%   200.0 MiB    130MiB\n");
	assert_contains(t, "! tree_rss is noisy: CV 10.0% > 5%; n >= (1.96*CV/5%)^2 = 16 runs pin "
			   "its mean to +-5% at 95% (try --runs 16)\n");
	assert_contains(t, "         max_process_hwm      3/3    80.0 MiB    80.0 MiB    80.0 MiB"
			   "    0.0 MiB   0.0%           -     88MiB\n");
	assert_contains(t, "broken   FAILED on run 1 of 3: exited with code 3; no limit proposed\n");
	free(t);
	mg_tune_fixture_free(&tf[0]);
	mg_tune_fixture_free(&tf[1]);
}

static void test_json(void **state)
{
	struct mg_fixture f;
	struct mg_tune_fixture tf;
	char err[128];

	(void)state;
	fixture_with_limits(&f);
	assert_int_equal(mg_tune_fixture_init(&tf, &f, 2, err, sizeof err), 0);
	record(&tf, 100 * MiB, MG_UNKNOWN, MG_UNKNOWN, MG_UNKNOWN);
	record(&tf, 101 * MiB, MG_UNKNOWN, MG_UNKNOWN, MG_UNKNOWN);
	mg_tune_finish(&tf, 1000);
	json_t *j = mg_tune_json(&tf, 1, 2, 1000, SIGINT);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "tune")), 1);
	assert_true(json_real_value(json_object_get(j, "headroom_pct")) == 10.0);
	assert_string_equal(json_string_value(json_object_get(j, "interrupted_by")), "SIGINT");
	json_t *fx = json_array_get(json_object_get(j, "fixtures"), 0);
	assert_string_equal(json_string_value(json_object_get(fx, "name")), "api");
	assert_int_equal(json_integer_value(json_object_get(fx, "runs_done")), 2);
	assert_true(json_is_null(json_object_get(fx, "error")));
	json_t *m = json_array_get(json_object_get(fx, "metrics"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "metric")), "tree_rss");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(m, "values_bytes"), 1)),
			 101 * MiB);
	assert_int_equal(json_integer_value(json_object_get(m, "median_bytes")), 100 * MiB + MiB / 2);
	assert_int_equal(json_integer_value(json_object_get(m, "limit_bytes")), 200 * MiB);
	assert_string_equal(json_string_value(json_object_get(m, "proposed")), "120MiB");
	assert_int_equal(json_integer_value(json_object_get(m, "proposed_bytes")), 120 * MiB);
	/* 0.5 MiB over sqrt(2)... cv = 0.7071 MiB / 100.5 MiB = 0.70% */
	assert_true(json_real_value(json_object_get(m, "cv_pct")) == 0.7);
	json_decref(j);
	mg_tune_fixture_free(&tf);
}

/* ---------------------------------------------------------------- phases */

/* A phase with every per-phase figure `bytes` (MG_UNKNOWN: not measured). */
static struct mg_phase ph(const char *name, int64_t bytes, pid_t scope)
{
	struct mg_phase p;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	p.scope = scope;
	p.exact = true;
	p.cgroup_bytes = p.tree_rss_bytes = p.max_process_hwm_bytes = p.cgroup_anon_bytes = bytes;
	return p;
}

static void add_phase_limit(struct mg_fixture *f, const char *match, enum mg_metric m, int64_t limit)
{
	f->phase_limits = realloc(f->phase_limits, (f->nphase_limits + 1) * sizeof *f->phase_limits);
	assert_non_null(f->phase_limits);
	struct mg_phase_limits *pl = &f->phase_limits[f->nphase_limits++];
	pl->match = (char *)match;
	for (int i = 0; i < MG_METRIC_COUNT; i++)
		pl->limits[i] = MG_NO_LIMIT;
	pl->limits[m] = limit;
}

static const struct mg_tune_phase *key_of(const struct mg_tune_fixture *tf, const char *match)
{
	for (size_t i = 0; i < tf->nphases; i++)
		if (strcmp(tf->phases[i].match, match) == 0)
			return &tf->phases[i];
	return NULL;
}

static const char *proposed(const struct mg_tune_fixture *tf, const char *match, enum mg_metric m)
{
	const struct mg_tune_phase *k = key_of(tf, match);
	for (int i = 0; k && i < k->nmetrics; i++)
		if (k->metrics[i].metric == m)
			return k->metrics[i].proposed;
	return NULL;
}

/* One run: the fixture's figures (unused here) and its phases. */
static void run_with(struct mg_tune_fixture *tf, const struct mg_phase *p, size_t n)
{
	record(tf, 300 * MiB, 300 * MiB, 300 * MiB, MG_UNKNOWN);
	mg_tune_record_phases(tf, p, n);
	mg_tune_record_phases(tf, p, n); /* twice for one run: counted once */
}

/* Each phase_limits key gets a proposal for what it limits, from the
 * phases it governs (a glob not those whose own name limits that metric);
 * a phase no key matches gets its own, a test its module's glob; a name
 * that repeats counts its highest; seen in some runs only, or not
 * measured once: a note, no proposal. */
static void test_phase_proposals(void **state)
{
	struct mg_fixture f;
	struct mg_tune_fixture tf;
	char err[128];

	(void)state;
	mg_fixture_init(&f);
	f.name = "api";
	f.limits[MG_METRIC_CGROUP] = 400 * MiB; /* new keys are proposed cgroup limits */
	add_phase_limit(&f, "startup", MG_METRIC_CGROUP, 100 * MiB);
	add_phase_limit(&f, "t.py::*", MG_METRIC_CGROUP, 50 * MiB);
	add_phase_limit(&f, "t.py::big", MG_METRIC_CGROUP, 300 * MiB);
	assert_int_equal(mg_tune_fixture_init(&tf, &f, 3, err, sizeof err), 0);
	for (int r = 0; r < 3; r++) {
		struct mg_phase p[] = {
			ph("startup", (80 + r) * MiB, 0),  ph("load", 40 * MiB, 0),        ph("load", (60 + r) * MiB, 0),
			ph("t.py::a", 30 * MiB, 0),        ph("t.py::big", 250 * MiB, 0), ph("other.py::x[1]", 20 * MiB, 0),
			ph("other.py::y", 10 * MiB, 0),    ph("warmup", 5 * MiB, 0),
			ph("gap", r == 1 ? MG_UNKNOWN : 7 * MiB, 0),
		};
		run_with(&tf, p, r == 2 ? 8 : 9); /* no "gap" in run 3 */
	}
	mg_tune_finish(&tf, 1000);
	assert_string_equal(proposed(&tf, "startup", MG_METRIC_CGROUP), "91MiB");    /* 82 x 1.1 = 90.2 */
	assert_string_equal(proposed(&tf, "t.py::*", MG_METRIC_CGROUP), "33MiB");    /* t.py::a only: 33 */
	assert_string_equal(proposed(&tf, "t.py::big", MG_METRIC_CGROUP), "280MiB"); /* 275 */
	assert_string_equal(proposed(&tf, "load", MG_METRIC_CGROUP), "69MiB");       /* the higher load: 68.2 */
	assert_string_equal(proposed(&tf, "other.py::*", MG_METRIC_CGROUP), "22MiB"); /* the higher of its two */
	assert_string_equal(proposed(&tf, "warmup", MG_METRIC_CGROUP), "5.5MiB");
	assert_true(key_of(&tf, "startup")->exists);
	assert_false(key_of(&tf, "load")->exists);
	assert_null(proposed(&tf, "load", MG_METRIC_TREE_RSS)); /* the fixture limits cgroup */
	assert_string_equal(key_of(&tf, "gap")->note, "seen in 2 of 3 runs: no proposal");
	assert_int_equal(key_of(&tf, "gap")->nmetrics, 0);
	assert_int_equal(tf.nphases, 7);
	mg_tune_fixture_free(&tf);
	free(f.phase_limits);
}

/* Not measured in a run: a note; more than 20 new keys: one "*" over all
 * (a glob judges every phase it matches, those a config glob governs
 * too); the run's only whole-tree phase gets no key; a scoped phase's is
 * proposed on max_process_hwm. */
static void test_phase_keys_collapse_and_skip(void **state)
{
	struct mg_fixture f;
	struct mg_tune_fixture tf;
	char err[128], name[32];

	(void)state;
	mg_fixture_init(&f);
	f.name = "marks";
	add_phase_limit(&f, "m1*", MG_METRIC_TREE_RSS, 100 * MiB);
	assert_int_equal(mg_tune_fixture_init(&tf, &f, 2, err, sizeof err), 0);
	for (int r = 0; r < 2; r++) {
		struct mg_phase p[40]; /* 28 names "m1*" does not match, and gappy */
		for (int i = 0; i < 40; i++) {
			snprintf(name, sizeof name, "m%d", i);
			p[i] = ph(name, (i == 12 ? 90 : 10 + i) * MiB, 0); /* m12: governed by "m1*", the highest */
		}
		p[39] = ph("gappy", r == 1 ? MG_UNKNOWN : MiB, 0);
		run_with(&tf, p, 40);
	}
	mg_tune_finish(&tf, 1000);
	assert_true(tf.collapsed);
	assert_int_equal(tf.nphases, 2); /* "m1*" and "*" */
	assert_string_equal(proposed(&tf, "m1*", MG_METRIC_TREE_RSS), "99MiB");
	/* "*" holds m12 too (90 MiB), though "m1*" governs it; gappy was not
	 * measured in run 2 */
	assert_null(proposed(&tf, "*", MG_METRIC_TREE_RSS));
	assert_string_equal(key_of(&tf, "*")->note, "tree_rss not measured for it in every run: no proposal");
	mg_tune_fixture_free(&tf);
	assert_int_equal(mg_tune_fixture_init(&tf, &f, 1, err, sizeof err), 0);
	struct mg_phase q[39];
	for (int i = 0; i < 39; i++) {
		snprintf(name, sizeof name, "m%d", i);
		q[i] = ph(name, (i == 12 ? 90 : 10 + i) * MiB, 0);
	}
	run_with(&tf, q, 39);
	mg_tune_finish(&tf, 1000);
	assert_true(tf.collapsed);
	assert_string_equal(proposed(&tf, "*", MG_METRIC_TREE_RSS), "99MiB"); /* m12 is the highest */
	mg_tune_fixture_free(&tf);
	free(f.phase_limits);

	/* xdist: the whole run "run" beside each worker's tests */
	mg_fixture_init(&f);
	f.name = "xdist";
	assert_int_equal(mg_tune_fixture_init(&tf, &f, 1, err, sizeof err), 0);
	struct mg_phase x[] = {ph("run", 400 * MiB, 0), ph("t.py::a", 30 * MiB, 101), ph("t.py::b", 40 * MiB, 102)};
	x[1].tree_rss_bytes = x[2].tree_rss_bytes = MG_UNKNOWN;
	run_with(&tf, x, 3);
	mg_tune_finish(&tf, 1000);
	assert_int_equal(tf.nphases, 1);
	assert_string_equal(proposed(&tf, "t.py::*", MG_METRIC_MAX_PROCESS_HWM), "44MiB");
	assert_int_equal(key_of(&tf, "t.py::*")->nmetrics, 1);
	mg_tune_fixture_free(&tf);
	/* a plain command: one phase, the whole run: nothing */
	assert_int_equal(mg_tune_fixture_init(&tf, &f, 1, err, sizeof err), 0);
	run_with(&tf, x, 1);
	mg_tune_finish(&tf, 1000);
	assert_int_equal(tf.nphases, 0);
	mg_tune_fixture_free(&tf);
}

/* Phase keys in the table, under their fixture, and in the JSON. */
static void test_phase_table_and_json(void **state)
{
	struct mg_fixture f;
	struct mg_tune_fixture tf;
	char err[128];

	(void)state;
	fixture_with_limits(&f);
	add_phase_limit(&f, "startup", MG_METRIC_TREE_RSS, 120 * MiB);
	assert_int_equal(mg_tune_fixture_init(&tf, &f, 2, err, sizeof err), 0);
	struct mg_phase p[] = {ph("startup", 100 * MiB, 0), ph("load", 60 * MiB, 0)};
	run_with(&tf, p, 2);
	p[0].tree_rss_bytes = 102 * MiB;
	run_with(&tf, p, 1); /* no "load" in run 2 */
	mg_tune_finish(&tf, 1000);
	char *t = table_of(&tf, 1);
	assert_contains(t, "  startup  tree_rss             2/2   100.0 MiB   101.0 MiB   102.0 MiB"
			   "    1.4 MiB   1.4%   120.0 MiB    120MiB\n");
	assert_contains(t, "  load     seen in 1 of 2 runs: no proposal\n");
	free(t);
	json_t *j = mg_tune_json(&tf, 1, 2, 1000, 0);
	json_t *phs = json_object_get(json_array_get(json_object_get(j, "fixtures"), 0), "phases");
	assert_int_equal(json_array_size(phs), 2);
	json_t *s0 = json_array_get(phs, 0);
	assert_string_equal(json_string_value(json_object_get(s0, "phase")), "startup");
	assert_true(json_is_true(json_object_get(s0, "exists")));
	json_t *m = json_array_get(json_object_get(s0, "metrics"), 0);
	assert_int_equal(json_integer_value(json_object_get(m, "limit_bytes")), 120 * MiB);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(m, "values_bytes"), 1)), 102 * MiB);
	assert_string_equal(json_string_value(json_object_get(m, "proposed")), "120MiB");
	assert_string_equal(json_string_value(json_object_get(json_array_get(phs, 1), "note")),
			    "seen in 1 of 2 runs: no proposal");
	json_decref(j);
	mg_tune_fixture_free(&tf);
	free(f.phase_limits);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_odd),
		cmocka_unit_test(test_stats_even_single_bad),
		cmocka_unit_test(test_round_up_examples),
		cmocka_unit_test(test_round_up_edges),
		cmocka_unit_test(test_round_up_properties),
		cmocka_unit_test(test_headroom),
		cmocka_unit_test(test_runs_needed),
		cmocka_unit_test(test_propose),
		cmocka_unit_test(test_fixture_flow),
		cmocka_unit_test(test_failed_fixture_proposes_nothing),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_phase_proposals),
		cmocka_unit_test(test_phase_keys_collapse_and_skip),
		cmocka_unit_test(test_phase_table_and_json),
	};
	return cmocka_run_group_tests_name("tune", tests, NULL, NULL);
}
