/* tune: turn N measured runs of a fixture into proposed limits. Pure: no
 * I/O except the renderers at the end, which write what they are given.
 *
 * Per metric (the four byte peaks: tree_rss, cgroup, max_process_hwm, pss):
 * min, median, max, mean, sample standard deviation and coefficient of
 * variation (CV = stddev / mean). The proposal is
 *     limit = round_up_readable(max × (1 + headroom))
 * where round_up_readable gives the smallest size with 2 significant
 * figures in KiB, MiB or GiB that is >= its argument (see
 * mg_round_up_readable). A metric whose CV is above 5% is noisy; the runs
 * that would pin its mean to ±5% at 95% confidence are
 *     n >= (1.96 × CV / 0.05)²
 * (the normal approximation of the mean's confidence interval).
 *
 * Per phase ("phase_limits"), the same statistics and rule, over the
 * phase's peak in each run (a name that repeats in a run: its highest):
 *   - every phase_limits key of the fixture (a name or a glob) gets a
 *     proposal for each metric it limits, from the phases it governs (a
 *     glob not those whose exact name has a limit on that metric);
 *   - a phase no key matches gets a key of its own: its name, or for a
 *     pytest test ("tests/test_api.py::test_x[1]") one glob per module
 *     ("tests/test_api.py::*"), since 400 per-test limits would bury the
 *     config and --baseline already catches one test's creep, phase by
 *     phase; with more than MG_TUNE_MAX_NEW_PHASES such keys, one "*"
 *     for all. Its metrics: the fixture's own limits on figures measured
 *     per phase, else tree_rss (max_process_hwm for a process's scoped
 *     phases, pytest-xdist's, whose tree_rss is not measured);
 *   - the only whole-tree phase of a run ("run": the whole run, which the
 *     fixture's limits already gate) gets no key of its own;
 *   - a key seen in only some runs, or a figure of one of its phases not
 *     measured in a run, gets a note instead of a proposal. */
#ifndef MG_TUNE_H
#define MG_TUNE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "result.h" /* MG_UNKNOWN */

#define MG_TUNE_DEFAULT_RUNS 5
#define MG_TUNE_MAX_RUNS 1000
#define MG_TUNE_DEFAULT_HEADROOM_X100 1000 /* 10% */
#define MG_TUNE_MAX_HEADROOM_X100 100000   /* 1000% */
#define MG_TUNE_NOISY_CV 0.05              /* CV above this: noisy */
#define MG_TUNE_Z95 1.96                   /* two-sided 95% normal quantile */
#define MG_TUNE_REL_ERROR 0.05             /* runs_needed pins the mean to ±5% */
/* Largest measured value tuned: keeps max × (1 + 1000%) exact in int64_t. */
#define MG_TUNE_MAX_BYTES ((int64_t)1 << 46)  /* 64 TiB */
#define MG_READABLE_MAX_BYTES ((int64_t)1 << 50)

/* The metrics tune measures, in table order. */
#define MG_TUNE_NMETRICS 5
enum mg_metric mg_tune_metric_at(int i);

struct mg_stats {
	size_t n;
	int64_t min, max;
	double median;          /* the mean of the middle two for an even n */
	double mean;
	double stddev;          /* sample (n - 1); 0 for n < 2 */
	double cv;              /* stddev / mean; 0 when the mean is 0 */
};

/* 0, or -1 for n == 0 or a negative value. */
int mg_stats_compute(const int64_t *values, size_t n, struct mg_stats *st);

/* The smallest "readable" size >= bytes, written to text ("210MiB",
 * "1.4GiB", "860KiB") and returned as the bytes mg_parse_size reads back
 * from that text. The rule, exactly:
 *   - unit: GiB if bytes >= 1 GiB, else MiB if >= 1 MiB, else KiB;
 *   - mantissa x = bytes / unit, 10^k <= x < 10^(k+1): round x UP to a
 *     multiple of 10^(k-1) (2 significant figures: 1.2, 12, 120, 1200);
 *   - a KiB or MiB mantissa that rounds up to 1024 or more (x > 1000)
 *     becomes 1 of the next unit (1 GiB = 1024 MiB >= x MiB);
 *   - anything up to 1 KiB is "1KiB".
 * Whole mantissas print without decimals ("2GiB", not "2.0GiB").
 * Returns -1 (text "") for a negative value or one above
 * MG_READABLE_MAX_BYTES. */
int64_t mg_round_up_readable(int64_t bytes, char *text, size_t len);

/* bytes × (1 + headroom_x100 / 10000), rounded up to a whole byte; -1 when
 * bytes or the headroom is out of range (see the MAX constants). */
int64_t mg_apply_headroom(int64_t bytes, int64_t headroom_x100);

/* ceil((MG_TUNE_Z95 × cv / MG_TUNE_REL_ERROR)²), at least 2 (the fewest
 * runs that show any spread). */
int64_t mg_runs_needed(double cv);

struct mg_tune_metric {
	enum mg_metric metric;
	struct mg_stats st;
	bool noisy;             /* st.cv > MG_TUNE_NOISY_CV */
	int64_t runs_needed;
	int64_t target_bytes;   /* max × (1 + headroom) */
	int64_t proposed_bytes; /* target rounded up readably */
	char proposed[32];      /* "210MiB" */
};

/* Propose a limit from the values of one metric (every run measured it).
 * 0, or -1 with err. */
int mg_tune_propose(enum mg_metric m, const int64_t *values, size_t n, int64_t headroom_x100,
		    struct mg_tune_metric *out, char *err, size_t errlen);

#define MG_TUNE_MAX_NEW_PHASES 20

/* One phase_limits key: the phases it governs across the runs. */
struct mg_tune_phase {
	char *match;            /* a phase name or glob (malloc'd) */
	bool exists;            /* a key of the fixture's phase_limits already */
	bool want[MG_TUNE_NMETRICS];       /* proposed for (indexed like mg_tune_metric_at) */
	int64_t current[MG_TUNE_NMETRICS]; /* the config's limit, or MG_NO_LIMIT */
	/* per run: the highest of its phases; MG_UNKNOWN when one was not
	 * measured; MG_TUNE_UNSEEN when none fed it */
	int64_t *values[MG_TUNE_NMETRICS];
	unsigned char *seen;    /* per run: a phase of it ran */
	struct mg_tune_metric metrics[MG_TUNE_NMETRICS];
	int nmetrics;
	char note[160];         /* why some wanted metric has no proposal, or "" */
};
#define MG_TUNE_UNSEEN ((int64_t)-2)

/* Everything tune knows about one fixture. */
struct mg_tune_fixture {
	const char *name;       /* borrowed */
	const struct mg_fixture *fixture; /* borrowed: its limits and phase_limits */
	struct mg_tune_phase *phases;     /* phase_limits keys, in the order first seen */
	size_t nphases;
	bool collapsed;         /* new keys merged into one "*" */
	int phases_run;         /* runs whose phases are recorded */
	int64_t current[MG_TUNE_NMETRICS]; /* the config's limit, or MG_NO_LIMIT */
	int runs_planned;
	int runs_done;          /* measured runs recorded */
	int64_t *values[MG_TUNE_NMETRICS]; /* runs_planned each; MG_UNKNOWN: not measured */
	int failed_run;         /* 1-based run that failed, or 0 */
	char error[512];        /* why it failed: nothing is proposed then */
	struct mg_tune_metric metrics[MG_TUNE_NMETRICS];
	int nmetrics;           /* proposals made by mg_tune_finish */
	char skipped[MG_TUNE_NMETRICS][96]; /* why a measured-sometimes metric has none */
};

/* 0, or -1 (out of memory, runs out of range) with err. */
int mg_tune_fixture_init(struct mg_tune_fixture *tf, const struct mg_fixture *f, int runs,
			 char *err, size_t errlen);
void mg_tune_fixture_free(struct mg_tune_fixture *tf);
/* One measured run's figures, MG_UNKNOWN for a metric it did not measure
 * (indexed like mg_tune_metric_at). Ignored past runs_planned. */
void mg_tune_record(struct mg_tune_fixture *tf, const int64_t values[MG_TUNE_NMETRICS]);
/* The phases of the run just recorded (after mg_tune_record). */
void mg_tune_record_phases(struct mg_tune_fixture *tf, const struct mg_phase *phases, size_t n);
/* Run `run` (1-based) failed: no proposal will be made for this fixture. */
void mg_tune_fail(struct mg_tune_fixture *tf, int run, const char *why);
/* Propose for every metric measured in every recorded run (none after a
 * failure or without runs); a metric measured in only some runs, or out of
 * range, gets a line in skipped instead. The same for each phase key. */
void mg_tune_finish(struct mg_tune_fixture *tf, int64_t headroom_x100);
/* The proposal for metric m, or NULL. */
const struct mg_tune_metric *mg_tune_find(const struct mg_tune_fixture *tf, enum mg_metric m);

/* The table (stdout in `memgate tune`). */
void mg_tune_write_table(FILE *out, const struct mg_tune_fixture *tf, size_t n, int64_t headroom_x100);
/* The same numbers as JSON ("tune": 1 schema); NULL when out of memory.
 * interrupted_by: signal number or 0. */
json_t *mg_tune_json(const struct mg_tune_fixture *tf, size_t n, int runs, int64_t headroom_x100,
		     int interrupted_by);

#endif
