/* tune: statistics over repeated runs, readable round-up sizes, and the
 * proposal table. Sizes are computed with integers so a proposal is exactly
 * what the config will read back. */
#include "tune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "verdict.h"

#define KiB ((int64_t)1 << 10)
#define MiB ((int64_t)1 << 20)
#define GiB ((int64_t)1 << 30)

static const enum mg_metric tune_metrics[MG_TUNE_NMETRICS] = {
	MG_METRIC_TREE_RSS, MG_METRIC_CGROUP, MG_METRIC_MAX_PROCESS_HWM, MG_METRIC_PSS, MG_METRIC_CGROUP_ANON,
};

enum mg_metric mg_tune_metric_at(int i)
{
	return tune_metrics[i];
}

static int index_of(enum mg_metric m);

/* ------------------------------------------------------------- statistics */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double median_sorted(const int64_t *s, size_t n)
{
	if (n % 2)
		return (double)s[n / 2];
	return ((double)s[n / 2 - 1] + (double)s[n / 2]) / 2.0;
}

/* Two passes (mean, then squared deviations): stable for values that are
 * all close to each other, which is the usual case here. */
static void spread(const int64_t *v, size_t n, struct mg_stats *st)
{
	long double sum = 0, sq = 0;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	st->mean = (double)(sum / n);
	for (size_t i = 0; i < n; i++) {
		long double d = (long double)v[i] - st->mean;
		sq += d * d;
	}
	st->stddev = n < 2 ? 0.0 : sqrt((double)(sq / (n - 1)));
	st->cv = st->mean > 0 ? st->stddev / st->mean : 0.0;
}

int mg_stats_compute(const int64_t *values, size_t n, struct mg_stats *st)
{
	int64_t *sorted;

	memset(st, 0, sizeof *st);
	if (!values || n == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (values[i] < 0)
			return -1;
	if (!(sorted = malloc(n * sizeof *sorted)))
		return -1;
	memcpy(sorted, values, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, cmp_i64);
	st->n = n;
	st->min = sorted[0];
	st->max = sorted[n - 1];
	st->median = median_sorted(sorted, n);
	free(sorted);
	spread(values, n, st);
	return 0;
}

/* --------------------------------------------------------------- rounding */

static int64_t unit_for(int64_t bytes, const char **name)
{
	if (bytes >= GiB) {
		*name = "GiB";
		return GiB;
	}
	if (bytes >= MiB) {
		*name = "MiB";
		return MiB;
	}
	*name = "KiB";
	return KiB;
}

/* "T/10 unit", without a ".0" */
static void write_tenths(char *text, size_t len, int64_t tenths, const char *unit)
{
	if (tenths % 10 == 0)
		snprintf(text, len, "%lld%s", (long long)(tenths / 10), unit);
	else
		snprintf(text, len, "%lld.%lld%s", (long long)(tenths / 10), (long long)(tenths % 10),
			 unit);
}

int64_t mg_round_up_readable(int64_t bytes, char *text, size_t len)
{
	const char *name;
	int64_t unit, step = 1, tenths;

	if (text && len)
		text[0] = '\0';
	if (bytes < 0 || bytes > MG_READABLE_MAX_BYTES || !text || !len)
		return -1;
	if (bytes <= KiB) {
		snprintf(text, len, "1KiB");
		return KiB;
	}
	unit = unit_for(bytes, &name);
	/* step: 10^k tenths of a unit for a mantissa in [10^k, 10^(k+1)) */
	while (bytes >= 10 * step * unit)
		step *= 10;
	/* ceil(mantissa in tenths / step) steps */
	tenths = (bytes * 10 + step * unit - 1) / (step * unit) * step;
	if (unit < GiB && tenths >= 10240) {
		snprintf(text, len, "1%s", unit == KiB ? "MiB" : "GiB");
		return unit * 1024;
	}
	write_tenths(text, len, tenths, name);
	/* mg_parse_size rounds the decimal half up to a byte */
	return (tenths * unit + 5) / 10;
}

int64_t mg_apply_headroom(int64_t bytes, int64_t headroom_x100)
{
	if (bytes < 0 || bytes > MG_TUNE_MAX_BYTES || headroom_x100 < 0 ||
	    headroom_x100 > MG_TUNE_MAX_HEADROOM_X100)
		return -1;
	/* both bounded so that the product stays below 2^63 */
	return bytes + (bytes * headroom_x100 + 9999) / 10000;
}

int64_t mg_runs_needed(double cv)
{
	double n = MG_TUNE_Z95 * cv / MG_TUNE_REL_ERROR;

	n *= n;
	if (!(n < 1e9)) /* also NaN */
		return 1000000000;
	/* a hair below an integer is that integer: float noise, not a run */
	n = ceil(n - 1e-9);
	return n < 2 ? 2 : (int64_t)n;
}

int mg_tune_propose(enum mg_metric m, const int64_t *values, size_t n, int64_t headroom_x100,
		    struct mg_tune_metric *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->metric = m;
	if (mg_stats_compute(values, n, &out->st) < 0) {
		snprintf(err, errlen, "%s: no measured values", mg_metric_name(m));
		return -1;
	}
	out->noisy = out->st.cv > MG_TUNE_NOISY_CV;
	out->runs_needed = mg_runs_needed(out->st.cv);
	out->target_bytes = mg_apply_headroom(out->st.max, headroom_x100);
	if (out->target_bytes < 0) {
		snprintf(err, errlen, "%s: %lld bytes is beyond what tune proposes for (64 TiB)",
			 mg_metric_name(m), (long long)out->st.max);
		return -1;
	}
	out->proposed_bytes = mg_round_up_readable(out->target_bytes, out->proposed,
						   sizeof out->proposed);
	return 0;
}

/* ---------------------------------------------------------- per fixture */

int mg_tune_fixture_init(struct mg_tune_fixture *tf, const struct mg_fixture *f, int runs,
			 char *err, size_t errlen)
{
	memset(tf, 0, sizeof *tf);
	tf->name = f->name;
	tf->fixture = f;
	if (runs < 1 || runs > MG_TUNE_MAX_RUNS) {
		snprintf(err, errlen, "runs must be between 1 and %d, got %d", MG_TUNE_MAX_RUNS, runs);
		return -1;
	}
	tf->runs_planned = runs;
	for (int i = 0; i < MG_TUNE_NMETRICS; i++) {
		tf->current[i] = f->limits[tune_metrics[i]];
		if (!(tf->values[i] = calloc((size_t)runs, sizeof *tf->values[i]))) {
			mg_tune_fixture_free(tf);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static void phase_free(struct mg_tune_phase *k)
{
	free(k->match);
	for (int i = 0; i < MG_TUNE_NMETRICS; i++)
		free(k->values[i]);
	free(k->seen);
	memset(k, 0, sizeof *k);
}

void mg_tune_fixture_free(struct mg_tune_fixture *tf)
{
	for (int i = 0; i < MG_TUNE_NMETRICS; i++) {
		free(tf->values[i]);
		tf->values[i] = NULL;
	}
	for (size_t i = 0; i < tf->nphases; i++)
		phase_free(&tf->phases[i]);
	free(tf->phases);
	tf->phases = NULL;
	tf->nphases = 0;
}

void mg_tune_record(struct mg_tune_fixture *tf, const int64_t values[MG_TUNE_NMETRICS])
{
	if (tf->runs_done >= tf->runs_planned)
		return;
	for (int i = 0; i < MG_TUNE_NMETRICS; i++)
		tf->values[i][tf->runs_done] = values[i] < 0 ? MG_UNKNOWN : values[i];
	tf->runs_done++;
}

/* ------------------------------------------------------------- phases */

/* The figures measured per phase (not pss). */
static bool per_phase(int i)
{
	return tune_metrics[i] != MG_METRIC_PSS;
}

static const struct mg_phase_limits *config_key(const struct mg_fixture *f, const char *match)
{
	for (size_t k = 0; f && k < f->nphase_limits; k++)
		if (strcmp(f->phase_limits[k].match, match) == 0)
			return &f->phase_limits[k];
	return NULL;
}

/* The key for match, made when there is none (NULL: out of memory, the
 * phase is left out). Pointers into tf->phases move when one is made. */
static struct mg_tune_phase *phase_key(struct mg_tune_fixture *tf, const char *match)
{
	for (size_t i = 0; i < tf->nphases; i++)
		if (strcmp(tf->phases[i].match, match) == 0)
			return &tf->phases[i];
	struct mg_tune_phase *v = realloc(tf->phases, (tf->nphases + 1) * sizeof *v);
	if (!v)
		return NULL;
	tf->phases = v;
	struct mg_tune_phase *k = &v[tf->nphases];
	const struct mg_phase_limits *pl = config_key(tf->fixture, match);
	memset(k, 0, sizeof *k);
	k->match = strdup(match);
	k->seen = calloc((size_t)tf->runs_planned, 1);
	bool ok = k->match && k->seen;
	for (int i = 0; i < MG_TUNE_NMETRICS; i++) {
		k->current[i] = pl ? pl->limits[tune_metrics[i]] : MG_NO_LIMIT;
		k->want[i] = k->current[i] != MG_NO_LIMIT;
		k->values[i] = malloc((size_t)tf->runs_planned * sizeof *k->values[i]);
		ok = ok && k->values[i];
		for (int r = 0; k->values[i] && r < tf->runs_planned; r++)
			k->values[i][r] = MG_TUNE_UNSEEN;
	}
	if (!ok) {
		phase_free(k);
		return NULL;
	}
	k->exists = pl != NULL;
	tf->nphases++;
	return k;
}

/* One figure of a phase (or of a merged key) into a key's run: the
 * highest; not measured once is not measured for the run. */
static void take(int64_t *slot, int64_t v)
{
	if (v == MG_TUNE_UNSEEN)
		return;
	if (v < 0 || *slot == MG_UNKNOWN)
		*slot = MG_UNKNOWN;
	else if (*slot == MG_TUNE_UNSEEN || v > *slot)
		*slot = v;
}

/* Does a key naming exactly this phase limit metric i? Then a glob does
 * not govern it for that metric (mg_judge_phase: the exact name wins). */
static bool exact_limit(const struct mg_fixture *f, const char *name, int i)
{
	const struct mg_phase_limits *pl = config_key(f, name);
	return pl && pl->limits[tune_metrics[i]] != MG_NO_LIMIT;
}

/* The metrics a new key is proposed for: the fixture's limits on figures
 * measured per phase, else tree_rss (a process's own max_process_hwm for
 * a scoped phase: its tree_rss is not measured). */
static void default_wants(const struct mg_fixture *f, const struct mg_phase *p, bool *want)
{
	bool any = false;
	for (int i = 0; i < MG_TUNE_NMETRICS; i++)
		if (per_phase(i) && f->limits[tune_metrics[i]] != MG_NO_LIMIT)
			want[i] = any = true;
	if (!any)
		want[index_of(p->scope ? MG_METRIC_MAX_PROCESS_HWM : MG_METRIC_TREE_RSS)] = true;
}

/* "tests/test_api.py::test_x[1]" -> "tests/test_api.py::*" (a pytest
 * node id: one key per module); any other name is its own key. */
static void new_key_name(const char *name, char *buf, size_t len)
{
	const char *sep = strstr(name, "::");
	if (sep && sep > name)
		snprintf(buf, len, "%.*s::*", (int)(sep - name), name);
	else
		snprintf(buf, len, "%s", name);
}

static size_t new_keys(const struct mg_tune_fixture *tf)
{
	size_t n = 0;
	for (size_t i = 0; i < tf->nphases; i++)
		n += !tf->phases[i].exists;
	return n;
}

/* Too many new keys: one "*" for all of them, run by run. */
static void collapse(struct mg_tune_fixture *tf)
{
	if (!phase_key(tf, "*"))
		return;
	size_t star = 0, keep = 0;
	while (strcmp(tf->phases[star].match, "*") != 0)
		star++;
	struct mg_tune_phase *st = &tf->phases[star];
	for (size_t i = 0; i < tf->nphases; i++) {
		struct mg_tune_phase *k = &tf->phases[i];
		if (i == star || k->exists)
			continue;
		for (int r = 0; r < tf->runs_planned; r++) {
			st->seen[r] |= k->seen[r];
			for (int m = 0; m < MG_TUNE_NMETRICS; m++)
				take(&st->values[m][r], k->values[m][r]);
		}
		for (int m = 0; m < MG_TUNE_NMETRICS; m++)
			st->want[m] |= k->want[m];
	}
	for (size_t i = 0; i < tf->nphases; i++) {
		if (i != star && !tf->phases[i].exists) {
			phase_free(&tf->phases[i]);
			continue;
		}
		tf->phases[keep++] = tf->phases[i];
	}
	tf->nphases = keep;
	tf->collapsed = true;
}

static void feed(struct mg_tune_phase *k, int run, const struct mg_phase *p, int i)
{
	take(&k->values[i][run], mg_phase_value(p, tune_metrics[i]));
}

/* A phase into every config key that governs it; a phase none governs
 * (but the run's only whole-tree phase) makes sure a new key for it
 * exists. */
static void record_phase(struct mg_tune_fixture *tf, int run, const struct mg_phase *p, bool whole_run)
{
	const struct mg_fixture *f = tf->fixture;
	bool matched = false;
	for (size_t e = 0; e < f->nphase_limits; e++) {
		int hit = mg_phase_match(f->phase_limits[e].match, p->name);
		struct mg_tune_phase *k = hit ? phase_key(tf, f->phase_limits[e].match) : NULL;
		matched |= hit != 0;
		if (!k)
			continue;
		k->seen[run] = 1;
		for (int i = 0; i < MG_TUNE_NMETRICS; i++)
			if (per_phase(i) && !(hit == 1 && exact_limit(f, p->name, i)))
				feed(k, run, p, i);
	}
	if (matched || whole_run)
		return;
	char name[MG_PHASE_NAME_MAX + 8];
	new_key_name(p->name, name, sizeof name);
	bool known = false;
	for (size_t i = 0; i < tf->nphases && !known; i++)
		known = strcmp(tf->phases[i].match, name) == 0;
	if (!tf->collapsed && !known && new_keys(tf) >= MG_TUNE_MAX_NEW_PHASES)
		collapse(tf);
	struct mg_tune_phase *k = phase_key(tf, tf->collapsed ? "*" : name);
	if (k)
		default_wants(f, p, k->want);
}

/* A new key, once written, judges every phase it matches (a glob: the
 * module's tests, "*" all; a name with [ ] * ? is a glob too), but for
 * the metrics a phase's own exact name limits: all of them go into it,
 * so its proposal holds for each. */
static void feed_new_key(struct mg_tune_fixture *tf, int run, struct mg_tune_phase *k, const struct mg_phase *phases,
			 size_t n)
{
	for (size_t j = 0; j < n; j++) {
		int hit = mg_phase_match(k->match, phases[j].name);
		if (!hit)
			continue;
		k->seen[run] = 1;
		for (int i = 0; i < MG_TUNE_NMETRICS; i++)
			if (per_phase(i) && !(hit == 1 && exact_limit(tf->fixture, phases[j].name, i)))
				feed(k, run, &phases[j], i);
	}
}

void mg_tune_record_phases(struct mg_tune_fixture *tf, const struct mg_phase *phases, size_t n)
{
	int run = tf->runs_done - 1;
	size_t whole = 0;
	if (run < 0 || run < tf->phases_run || !tf->fixture)
		return; /* before any run, or that run's phases are in already */
	tf->phases_run = run + 1;
	for (size_t i = 0; i < n; i++)
		whole += phases[i].scope == 0;
	for (size_t i = 0; i < n; i++)
		record_phase(tf, run, &phases[i], phases[i].scope == 0 && whole == 1);
	for (size_t k = 0; k < tf->nphases; k++)
		if (!tf->phases[k].exists)
			feed_new_key(tf, run, &tf->phases[k], phases, n);
}

static void note_add(struct mg_tune_phase *k, const char *fmt, const char *what)
{
	size_t used = strlen(k->note);
	snprintf(k->note + used, sizeof k->note - used, "%s", used ? "; " : "");
	used = strlen(k->note);
	snprintf(k->note + used, sizeof k->note - used, fmt, what);
}

static void finish_phase(struct mg_tune_fixture *tf, struct mg_tune_phase *k, int64_t headroom_x100)
{
	int seen = 0;
	char err[96];
	k->nmetrics = 0;
	k->note[0] = '\0';
	for (int r = 0; r < tf->runs_done; r++)
		seen += k->seen[r];
	if (seen < tf->runs_done) {
		snprintf(k->note, sizeof k->note, "seen in %d of %d runs: no proposal", seen, tf->runs_done);
		return;
	}
	for (int i = 0; i < MG_TUNE_NMETRICS; i++) {
		bool measured = true;
		if (!k->want[i])
			continue;
		for (int r = 0; r < tf->runs_done; r++)
			measured = measured && k->values[i][r] >= 0;
		if (!measured)
			note_add(k, "%s not measured for it in every run: no proposal", mg_metric_name(tune_metrics[i]));
		else if (mg_tune_propose(tune_metrics[i], k->values[i], (size_t)tf->runs_done, headroom_x100,
					 &k->metrics[k->nmetrics], err, sizeof err) < 0)
			note_add(k, "%s", err);
		else
			k->nmetrics++;
	}
}

void mg_tune_fail(struct mg_tune_fixture *tf, int run, const char *why)
{
	if (tf->failed_run)
		return; /* the first failure is the one worth reading */
	tf->failed_run = run;
	snprintf(tf->error, sizeof tf->error, "%s", why && *why ? why : "failed");
}

static int measured_runs(const struct mg_tune_fixture *tf, int i)
{
	int k = 0;

	for (int r = 0; r < tf->runs_done; r++)
		k += tf->values[i][r] != MG_UNKNOWN;
	return k;
}

static void finish_metric(struct mg_tune_fixture *tf, int i, int64_t headroom_x100)
{
	int k = measured_runs(tf, i);
	char err[96];

	if (k == 0)
		return; /* never measured (no cgroup, pss off): nothing to say */
	if (k < tf->runs_done) {
		snprintf(tf->skipped[i], sizeof tf->skipped[i],
			 "%s measured in %d of %d runs: no proposal", mg_metric_name(tune_metrics[i]),
			 k, tf->runs_done);
		return;
	}
	if (mg_tune_propose(tune_metrics[i], tf->values[i], (size_t)k, headroom_x100,
			    &tf->metrics[tf->nmetrics], err, sizeof err) < 0) {
		snprintf(tf->skipped[i], sizeof tf->skipped[i], "%s", err);
		return;
	}
	tf->nmetrics++;
}

void mg_tune_finish(struct mg_tune_fixture *tf, int64_t headroom_x100)
{
	tf->nmetrics = 0;
	memset(tf->skipped, 0, sizeof tf->skipped);
	if (tf->failed_run)
		return; /* never propose from a fixture that did not run cleanly */
	for (int i = 0; i < MG_TUNE_NMETRICS; i++)
		finish_metric(tf, i, headroom_x100);
	for (size_t i = 0; tf->runs_done && i < tf->nphases; i++)
		finish_phase(tf, &tf->phases[i], headroom_x100);
}

const struct mg_tune_metric *mg_tune_find(const struct mg_tune_fixture *tf, enum mg_metric m)
{
	for (int i = 0; i < tf->nmetrics; i++)
		if (tf->metrics[i].metric == m)
			return &tf->metrics[i];
	return NULL;
}

static int index_of(enum mg_metric m)
{
	for (int i = 0; i < MG_TUNE_NMETRICS; i++)
		if (tune_metrics[i] == m)
			return i;
	return 0;
}

static int64_t current_limit(const struct mg_tune_fixture *tf, enum mg_metric m)
{
	return tf->current[index_of(m)];
}

/* ------------------------------------------------------------------ table */

static void mib(int64_t bytes, char *buf, size_t len)
{
	if (bytes < 0)
		snprintf(buf, len, "-");
	else
		mg_format_mib(bytes, buf, len);
}

static int name_width(const struct mg_tune_fixture *tf, size_t n)
{
	size_t w = strlen("fixture");

	for (size_t i = 0; i < n; i++) {
		if (tf[i].name && strlen(tf[i].name) > w)
			w = strlen(tf[i].name);
		for (size_t k = 0; k < tf[i].nphases; k++)
			if (strlen(tf[i].phases[k].match) + 2 > w)
				w = strlen(tf[i].phases[k].match) + 2;
	}
	return w > 40 ? 40 : (int)w;
}

static void noisy_row(FILE *out, int w, const struct mg_tune_fixture *tf, const struct mg_tune_metric *m);

static void metric_row_of(FILE *out, int w, const char *name, int64_t current, int runs_planned,
			  const struct mg_tune_metric *m)
{
	char lo[32], med[32], hi[32], sd[32], cv[16], lim[32], runs[24];
	bool spread_known = m->st.n >= 2;

	mib(m->st.min, lo, sizeof lo);
	mib(llround(m->st.median), med, sizeof med);
	mib(m->st.max, hi, sizeof hi);
	mib(spread_known ? llround(m->st.stddev) : -1, sd, sizeof sd);
	snprintf(cv, sizeof cv, spread_known ? "%.1f%%" : "-", 100.0 * m->st.cv);
	mib(current, lim, sizeof lim);
	snprintf(runs, sizeof runs, "%zu/%d", m->st.n, runs_planned);
	fprintf(out, "%-*s  %-16s %7s %11s %11s %11s %10s %6s %11s %9s\n", w, name,
		mg_metric_name(m->metric), runs, lo, med, hi, sd, cv, lim, m->proposed);
}

static void metric_row(FILE *out, int w, const char *name, const struct mg_tune_fixture *tf,
		       const struct mg_tune_metric *m)
{
	metric_row_of(out, w, name, current_limit(tf, m->metric), tf->runs_planned, m);
}

/* "  startup" under its fixture: a row per proposal, its note, the noisy */
static void phase_rows(FILE *out, int w, const struct mg_tune_fixture *tf, const struct mg_tune_phase *k)
{
	char name[MG_PHASE_NAME_MAX + 8];
	snprintf(name, sizeof name, "  %s", k->match);
	if ((int)strlen(name) > w && w > 5)
		snprintf(name + w - 3, sizeof name - (size_t)w + 3, "...");
	for (int i = 0; i < k->nmetrics; i++) {
		metric_row_of(out, w, name, k->current[index_of(k->metrics[i].metric)], tf->runs_planned, &k->metrics[i]);
		if (k->metrics[i].noisy)
			noisy_row(out, w, tf, &k->metrics[i]);
		name[0] = '\0';
	}
	if (k->note[0])
		fprintf(out, "%-*s  %s\n", w, k->nmetrics ? "" : name, k->note);
}

static void noisy_row(FILE *out, int w, const struct mg_tune_fixture *tf, const struct mg_tune_metric *m)
{
	fprintf(out, "%-*s  ! %s is noisy: CV %.1f%% > %.0f%%; n >= (%.2f*CV/%.0f%%)^2 = %lld runs "
		     "pin its mean to +-%.0f%% at 95%%", w, "", mg_metric_name(m->metric),
		100.0 * m->st.cv, 100.0 * MG_TUNE_NOISY_CV, MG_TUNE_Z95, 100.0 * MG_TUNE_REL_ERROR,
		(long long)m->runs_needed, 100.0 * MG_TUNE_REL_ERROR);
	if (m->runs_needed > tf->runs_done)
		fprintf(out, " (try --runs %lld)", (long long)m->runs_needed);
	fputc('\n', out);
}

static void fixture_rows(FILE *out, int w, const struct mg_tune_fixture *tf)
{
	const char *name = tf->name;

	if (tf->failed_run) {
		fprintf(out, "%-*s  FAILED on run %d of %d: %s; no limit proposed\n", w, name,
			tf->failed_run, tf->runs_planned, tf->error);
		return;
	}
	if (tf->runs_done == 0) {
		fprintf(out, "%-*s  not run\n", w, name);
		return;
	}
	for (int i = 0; i < tf->nmetrics; i++) {
		metric_row(out, w, name, tf, &tf->metrics[i]);
		if (tf->metrics[i].noisy)
			noisy_row(out, w, tf, &tf->metrics[i]);
		name = "";
	}
	for (int i = 0; i < MG_TUNE_NMETRICS; i++)
		if (tf->skipped[i][0])
			fprintf(out, "%-*s  %s\n", w, tf->nmetrics ? "" : tf->name, tf->skipped[i]);
	if (tf->nmetrics == 0 && !tf->skipped[0][0] && !tf->skipped[1][0] &&
	    !tf->skipped[2][0] && !tf->skipped[3][0])
		fprintf(out, "%-*s  nothing measured: no limit proposed\n", w, tf->name);
	for (size_t i = 0; i < tf->nphases; i++)
		phase_rows(out, w, tf, &tf->phases[i]);
}

void mg_tune_write_table(FILE *out, const struct mg_tune_fixture *tf, size_t n, int64_t headroom_x100)
{
	int w = name_width(tf, n);
	char h[16];

	mg_format_percent(headroom_x100, h, sizeof h);
	fprintf(out, "proposed limit = max x (1 + %s), rounded up to 2 significant figures\n", h);
	fprintf(out, "%-*s  %-16s %7s %11s %11s %11s %10s %6s %11s %9s\n", w, "fixture", "metric",
		"runs", "min", "median", "max", "stddev", "cv", "limit", "proposed");
	for (size_t i = 0; i < n; i++)
		fixture_rows(out, w, &tf[i]);
}

/* ------------------------------------------------------------------- JSON */

static json_t *values_json(const int64_t *values, int runs)
{
	json_t *a = json_array();

	for (int r = 0; a && r < runs; r++)
		json_array_append_new(a, values[r] < 0 ? json_null() : json_integer(values[r]));
	return a;
}

static json_t *limit_or_null(int64_t v)
{
	return v == MG_NO_LIMIT ? json_null() : json_integer(v);
}

static json_t *metric_json_of(const int64_t *values, int runs, int64_t current, const struct mg_tune_metric *m)
{
	return json_pack("{s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:f, s:b, s:I, s:o, s:s, s:I}",
			 "metric", mg_metric_name(m->metric),
			 "values_bytes", values_json(values, runs),
			 "min_bytes", (json_int_t)m->st.min,
			 "median_bytes", (json_int_t)llround(m->st.median),
			 "max_bytes", (json_int_t)m->st.max,
			 "mean_bytes", (json_int_t)llround(m->st.mean),
			 "stddev_bytes", (json_int_t)llround(m->st.stddev),
			 "cv_pct", round(m->st.cv * 10000.0) / 100.0,
			 "noisy", m->noisy,
			 "runs_needed", (json_int_t)m->runs_needed,
			 "limit_bytes", limit_or_null(current),
			 "proposed", m->proposed,
			 "proposed_bytes", (json_int_t)m->proposed_bytes);
}

static json_t *metric_json(const struct mg_tune_fixture *tf, const struct mg_tune_metric *m)
{
	int i = index_of(m->metric);

	return metric_json_of(tf->values[i], tf->runs_done, tf->current[i], m);
}

/* {"phase": "startup", "exists": true, "metrics": [...], "note": null} */
static json_t *phases_json(const struct mg_tune_fixture *tf)
{
	json_t *a = json_array();

	for (size_t k = 0; a && k < tf->nphases; k++) {
		const struct mg_tune_phase *p = &tf->phases[k];
		json_t *metrics = json_array();
		for (int i = 0; metrics && i < p->nmetrics; i++) {
			int at = index_of(p->metrics[i].metric);
			json_array_append_new(metrics, metric_json_of(p->values[at], tf->runs_done, p->current[at],
								      &p->metrics[i]));
		}
		json_array_append_new(a, json_pack("{s:s, s:b, s:o, s:o}", "phase", p->match, "exists", p->exists,
						   "metrics", metrics,
						   "note", p->note[0] ? json_string(p->note) : json_null()));
	}
	return a;
}

static json_t *skipped_json(const struct mg_tune_fixture *tf)
{
	json_t *a = json_array();

	for (int i = 0; a && i < MG_TUNE_NMETRICS; i++)
		if (tf->skipped[i][0])
			json_array_append_new(a, json_string(tf->skipped[i]));
	return a;
}

static json_t *fixture_json(const struct mg_tune_fixture *tf)
{
	json_t *metrics = json_array();

	for (int i = 0; metrics && i < tf->nmetrics; i++)
		json_array_append_new(metrics, metric_json(tf, &tf->metrics[i]));
	return json_pack("{s:s, s:i, s:i, s:o, s:o, s:o, s:o, s:o}",
			 "name", tf->name,
			 "runs", tf->runs_planned,
			 "runs_done", tf->runs_done,
			 "failed_run", tf->failed_run ? json_integer(tf->failed_run) : json_null(),
			 "error", tf->failed_run ? json_string(tf->error) : json_null(),
			 "metrics", metrics,
			 "notes", skipped_json(tf),
			 "phases", phases_json(tf));
}

json_t *mg_tune_json(const struct mg_tune_fixture *tf, size_t n, int runs, int64_t headroom_x100,
		     int interrupted_by)
{
	json_t *fixtures = json_array();
	char sig[32] = "";

	for (size_t i = 0; fixtures && i < n; i++)
		json_array_append_new(fixtures, fixture_json(&tf[i]));
	if (interrupted_by && sigabbrev_np(interrupted_by))
		snprintf(sig, sizeof sig, "SIG%s", sigabbrev_np(interrupted_by));
	return json_pack("{s:i, s:s, s:i, s:f, s:f, s:f, s:o, s:o}",
			 "tune", 1,
			 "memgate_version", MG_VERSION,
			 "runs", runs,
			 "headroom_pct", (double)headroom_x100 / 100.0,
			 "noisy_cv_pct", 100.0 * MG_TUNE_NOISY_CV,
			 "runs_needed_error_pct", 100.0 * MG_TUNE_REL_ERROR,
			 "interrupted_by", sig[0] ? json_string(sig) : json_null(),
			 "fixtures", fixtures);
}
