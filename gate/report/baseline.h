/* baseline: compare a report with an earlier one (--baseline BASE.json) and
 * fail fixtures whose memory grew by more than their tolerance.
 *
 * Compared: every byte peak that has a value in both reports (tree_rss,
 * cgroup, max_process_hwm, pss), limited or not: a limit is a ceiling set
 * loosely, the baseline catches creep below it, and a metric nobody put a
 * limit on can regress too. A metric fails when
 *     delta > min_increase  AND  delta > max_increase% of the baseline
 * (both, so noise on small numbers never fails a build; exactly at either
 * bound passes). Tolerances come from the config's "regression" (per
 * fixture, cascading from defaults), else 10% and 4 MiB.
 *
 * The report (schema 1 JSON) is updated in place: each compared metric's
 * entry in the fixture's "limits" array, or for a metric without a limit a
 * new entry in the fixture's "baseline" array, gets
 *     "baseline_bytes", "delta_bytes", "delta_pct" (null for a baseline of
 *     0), "allowed_pct", "allowed_bytes", "baseline_ok"
 * (a "baseline" entry also has "metric" and "value_bytes"). A regression
 * adds a reason and makes the fixture (and the report) "fail". A fixture
 * the baseline does not have gets a note in measurement.notes, never a
 * failure.
 *
 * Phases are compared phase by phase, by name: the k-th phase of a name
 * with the baseline's k-th of that name (a name may repeat). Each figure
 * measured in both is compared with the fixture's tolerance, its keys put
 * in the phase's "limits" entry or "baseline" array as above; a regression
 * makes the phase and the fixture "fail", with a reason "phase load:
 * cgroup 60.0 MiB is +10.0 MiB, +20.0% over the baseline 50.0 MiB
 * (allowed +10%, +4.0 MiB)" (the 10 worst by how far over; the rest
 * counted in one more reason). A phase only in this report, or only in
 * the baseline, is a note (one per kind, naming up to 3), never a
 * failure; so is a baseline without phases at all. */
#ifndef MG_BASELINE_H
#define MG_BASELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "verdict.h"

#define MG_BASELINE_DEFAULT_PCT_X100 1000                 /* 10% */
#define MG_BASELINE_DEFAULT_MIN_BYTES ((int64_t)4 << 20)  /* 4 MiB */

/* The tolerance of fixture `name`; members left MG_NO_LIMIT get the
 * defaults above. */
typedef struct mg_regression (*mg_tolerance_fn)(const char *name, const void *ctx);
/* ctx is a const struct mg_config *: the fixture's "regression". */
struct mg_regression mg_tolerance_from_config(const char *name, const void *ctx);

/* A baseline file is read with mg_report_load (report_load.h), like every
 * report. */

/* Compare report with baseline and update report (see above). tol may be
 * NULL (defaults for every fixture). 0, or -1 with err when either is not
 * a memgate report (mg_report_validate; report is unchanged then). */
int mg_baseline_apply(json_t *report, const json_t *baseline, mg_tolerance_fn tol, const void *ctx,
		      char *err, size_t errlen);

/* The report's overall verdict ("pass"/"fail"/anything else: error). */
enum mg_verdict mg_baseline_verdict(const json_t *report);


#endif
