/* tune: run each fixture N times under the supervisor, then propose limits
 * (tune.c), print them, and with --write put them in the config
 * (config_write.c). Runs are supervised exactly as `memgate run` does. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "config.h"
#include "config_write.h"
#include "result.h"
#include "shard.h"
#include "measure/measure.h"
#include "tune.h"
#include "units.h"
#include "verdict.h"

struct tune_opts {
	const char *config;
	const char *json;
	const char *cgroup_root;
	int runs;
	int64_t headroom_x100;
	bool write;
	char **only;
	size_t nonly;
};

/* ---------------------------------------------------------------- options */

static int parse_runs(const char *s, int *runs)
{
	size_t len = strlen(s);
	int v = len && len <= 4 && strspn(s, "0123456789") == len ? atoi(s) : 0;

	if (v < 1 || v > MG_TUNE_MAX_RUNS)
		return mg_usage_error("--runs %s: expected a whole number of runs from 1 to 1000", s);
	*runs = v;
	return 0;
}

static int parse_headroom(const char *s, int64_t *x100)
{
	char err[256];

	if (mg_parse_percent(s, true, x100, err, sizeof err) < 0)
		return mg_usage_error("--headroom: %s", err);
	if (*x100 > MG_TUNE_MAX_HEADROOM_X100)
		return mg_usage_error("--headroom %s: must be between 0%% and 1000%%", s);
	return 0;
}

/* 0 to go on, -1 when --help was printed, else an exit status. */
static int parse_opts(int argc, char **argv, struct tune_opts *o)
{
	enum { O_RUNS = 256, O_HEADROOM, O_ONLY, O_WRITE, O_JSON, O_ROOT };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "runs", required_argument, NULL, O_RUNS },
		{ "headroom", required_argument, NULL, O_HEADROOM },
		{ "only", required_argument, NULL, O_ONLY },
		{ "write", no_argument, NULL, O_WRITE },
		{ "json", required_argument, NULL, O_JSON },
		{ "cgroup-root", required_argument, NULL, O_ROOT },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c, rc = 0;

	mg_getopt_reset();
	while (rc == 0 && (c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case O_RUNS: rc = parse_runs(optarg, &o->runs); break;
		case O_HEADROOM: rc = parse_headroom(optarg, &o->headroom_x100); break;
		case O_ONLY: o->only[o->nonly++] = optarg; break;
		case O_WRITE: o->write = true; break;
		case O_JSON: o->json = optarg; break;
		case O_ROOT: o->cgroup_root = optarg; break;
		case 'h': fputs(mg_usage_text, stdout); return -1;
		default: rc = mg_usage_error("%s", "tune: bad option");
		}
	}
	if (rc == 0 && optind < argc)
		rc = mg_usage_error("tune: unexpected argument \"%s\"", argv[optind]);
	return rc;
}

/* --------------------------------------------------------------- progress */

struct progress {
	bool tty;               /* stderr is a terminal: one line rewritten with \r */
};

/* A terminal sees which run is going on; a log only gets finished runs. */
static void progress_start(const struct progress *p, const char *name, int run, int runs)
{
	if (!p->tty)
		return;
	fprintf(stderr, "\rtune: %s %d/%d\033[K", name, run, runs);
	fflush(stderr);
}

/* The line for a finished run; on a terminal it replaces the last one and
 * stays (newline) after the fixture's last run. */
static void progress_done(const struct progress *p, const char *name, int run, int runs,
			  const char *what, bool last)
{
	if (p->tty)
		fprintf(stderr, "\rtune: %s %d/%d  %s\033[K%s", name, run, runs, what, last ? "\n" : "");
	else
		fprintf(stderr, "tune: %s %d/%d  %s\n", name, run, runs, what);
	fflush(stderr);
}

/* "tree_rss 182.4 MiB" for the first tuned metric the run measured */
static void run_summary(const int64_t v[MG_TUNE_NMETRICS], char *buf, size_t len)
{
	char m[32];

	for (int i = 0; i < MG_TUNE_NMETRICS; i++) {
		if (v[i] >= 0) {
			mg_format_mib(v[i], m, sizeof m);
			snprintf(buf, len, "%s %s", mg_metric_name(mg_tune_metric_at(i)), m);
			return;
		}
	}
	snprintf(buf, len, "nothing measured");
}

/* ------------------------------------------------------------------ runs */

/* Did the run fail to run cleanly? Judged like `memgate run` with the
 * limits and phase limits taken away: tuning is about finding them, but
 * an error, a non-zero exit, a signal, a timeout or an OOM kill is never
 * a sample. */
static bool run_failed(const struct mg_fixture *f, const struct mg_result *r, char *why, size_t len)
{
	struct mg_fixture nolimits = *f; /* shallow: only read by mg_judge */
	struct mg_judgement j;

	for (int m = 0; m < MG_METRIC_COUNT; m++)
		nolimits.limits[m] = MG_NO_LIMIT;
	nolimits.nphase_limits = 0; /* a phase over its limit is a sample too */
	mg_judge(&nolimits, r, &j);
	if (j.verdict == MG_VERDICT_PASS)
		return false;
	snprintf(why, len, "%s", j.nreasons ? j.reasons[0] : mg_verdict_name(j.verdict));
	return true;
}

/* Once per fixture, on a line of its own (the terminal's progress line is
 * cleared first and redrawn by the next update). */
static void warn_fallback(const struct progress *p, const struct mg_fixture *f,
			  const struct mg_result *r, bool *warned)
{
	if (*warned || r->method != MG_METHOD_PROC || !r->fallback_reason[0] || r->error[0])
		return;
	fprintf(stderr, "%smemgate: warning: no cgroup for %s, measured from /proc only (%s); "
			"cgroup limits get no proposal\n", p->tty ? "\r\033[K" : "", f->name,
		r->fallback_reason);
	*warned = true;
}

/* One run; false when the fixture is done (failed or interrupted). */
static bool one_run(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_tune_fixture *tf,
		    int run, const struct progress *p, bool *warned)
{
	struct mg_result r;
	int64_t v[MG_TUNE_NMETRICS];
	char why[320], what[64];
	bool go_on = true;

	progress_start(p, f->name, run, tf->runs_planned);
	mg_result_init(&r);
	mg_measure_fixture(sv, f, &r);
	if (r.interrupted_by || sv->interrupted_by) {
		go_on = false; /* an interrupted run is no sample and no failure */
	} else if (run_failed(f, &r, why, sizeof why)) {
		mg_tune_fail(tf, run, why);
		progress_done(p, f->name, run, tf->runs_planned, "FAILED", true);
		fprintf(stderr, "memgate: tune: %s failed on run %d: %s\n", f->name, run, why);
		go_on = false;
	} else {
		warn_fallback(p, f, &r, warned);
		for (int i = 0; i < MG_TUNE_NMETRICS; i++)
			v[i] = mg_metric_value(&r, mg_tune_metric_at(i));
		mg_tune_record(tf, v);
		mg_tune_record_phases(tf, r.phases, r.nphases);
		run_summary(v, what, sizeof what);
		progress_done(p, f->name, run, tf->runs_planned, what, run == tf->runs_planned);
	}
	mg_result_free(&r);
	return go_on;
}

static void tune_fixture(struct mg_supervisor *sv, const struct mg_fixture *f,
			 struct mg_tune_fixture *tf, const struct progress *p)
{
	bool warned = false;

	for (int run = 1; run <= tf->runs_planned && !sv->interrupted_by; run++)
		if (!one_run(sv, f, tf, run, p, &warned))
			break;
	if (p->tty && sv->interrupted_by)
		fputc('\n', stderr);
}

/* Run every fixture; -1 (printed) when the supervisor cannot be set up. */
static int run_all(const struct mg_config *cfg, const struct tune_opts *o,
		   struct mg_tune_fixture *tf, int *interrupted_by)
{
	struct mg_supervisor sv;
	struct progress p = { isatty(STDERR_FILENO) == 1 };
	char err[512];

	if (mg_supervisor_init(&sv, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: cannot set up the supervisor: %s\n", err);
		return -1;
	}
	sv.cgroup_root = o->cgroup_root ? o->cgroup_root : cfg->cgroup_root;
	for (size_t i = 0; i < cfg->nfixtures && !sv.interrupted_by; i++)
		tune_fixture(&sv, &cfg->fixtures[i], &tf[i], &p);
	*interrupted_by = sv.interrupted_by;
	mg_supervisor_done(&sv);
	return 0;
}

/* ---------------------------------------------------------------- --write */

/* The metrics a fixture is checked against get the proposal; a fixture
 * checked against none of the tuned metrics gets tree_rss, so tuning a
 * config without limits gives it a gate. Every phase proposal is written
 * to phase_limits (tune.h says which phases get one). */
static size_t updates_for(const struct mg_tune_fixture *tf, struct mg_limit_update *u)
{
	size_t n = 0;
	bool any_limit = false;

	for (int i = 0; i < MG_TUNE_NMETRICS; i++) {
		const struct mg_tune_metric *m = mg_tune_find(tf, mg_tune_metric_at(i));
		any_limit |= tf->current[i] != MG_NO_LIMIT;
		if (m && tf->current[i] != MG_NO_LIMIT)
			u[n++] = (struct mg_limit_update){ tf->name, m->metric, m->proposed, m->proposed_bytes, NULL };
		else if (!m && tf->current[i] != MG_NO_LIMIT && !tf->failed_run)
			fprintf(stderr, "memgate: tune: %s: %s has a limit but no proposal (not measured "
					"in every run); left as it is\n", tf->name,
				mg_metric_name(mg_tune_metric_at(i)));
	}
	const struct mg_tune_metric *rss = mg_tune_find(tf, MG_METRIC_TREE_RSS);
	if (!any_limit && rss)
		u[n++] = (struct mg_limit_update){ tf->name, rss->metric, rss->proposed, rss->proposed_bytes, NULL };
	/* each phase key: what tune.c proposed (the metrics its entry limits,
	 * or a new key's) into phase_limits */
	for (size_t k = 0; k < tf->nphases; k++)
		for (int i = 0; i < tf->phases[k].nmetrics; i++) {
			const struct mg_tune_metric *m = &tf->phases[k].metrics[i];
			u[n++] = (struct mg_limit_update){ tf->name, m->metric, m->proposed, m->proposed_bytes,
							   tf->phases[k].match };
		}
	return n;
}

static int write_limits(const char *path, const struct mg_tune_fixture *tf, size_t nf)
{
	size_t room = nf * MG_TUNE_NMETRICS + 1, n = 0;
	for (size_t i = 0; i < nf; i++)
		room += tf[i].nphases * MG_TUNE_NMETRICS;
	struct mg_limit_update *u = calloc(room, sizeof *u);
	char err[1024];
	int changed;

	if (!u) {
		fprintf(stderr, "memgate: out of memory\n");
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < nf; i++)
		n += updates_for(&tf[i], u + n);
	printf("\n");
	if (n == 0) {
		free(u);
		printf("no limit to write: %s is unchanged\n", path);
		return 0;
	}
	changed = mg_config_write_limits(path, u, n, stdout, err, sizeof err);
	free(u);
	if (changed < 0) {
		fprintf(stderr, "memgate: tune --write: %s\n", err);
		return EXIT_ERROR;
	}
	if (changed == 0)
		printf("%s already has these limits: unchanged\n", path);
	else
		printf("%s: %d limit%s updated\n", path, changed, changed == 1 ? "" : "s");
	return 0;
}

/* ------------------------------------------------------------------ output */

static int write_json(const char *path, const struct mg_tune_fixture *tf, size_t n,
		      const struct tune_opts *o, int interrupted_by)
{
	json_t *doc = mg_tune_json(tf, n, o->runs, o->headroom_x100, interrupted_by);
	char err[1024];
	int rc = 0;

	if (!doc) {
		fprintf(stderr, "memgate: tune: cannot build the JSON (out of memory)\n");
		return EXIT_ERROR;
	}
	if (mg_json_write_atomic(path, doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: tune: %s\n", err);
		rc = EXIT_ERROR;
	}
	json_decref(doc);
	return rc;
}

static bool any_failed(const struct mg_tune_fixture *tf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tf[i].failed_run)
			return true;
	return false;
}

/* Table, JSON, --write; the exit status. */
static int report(const struct mg_config *cfg, const struct tune_opts *o, struct mg_tune_fixture *tf,
		  int interrupted_by)
{
	int rc = 0, io = 0;

	for (size_t i = 0; i < cfg->nfixtures; i++)
		mg_tune_finish(&tf[i], o->headroom_x100);
	mg_tune_write_table(stdout, tf, cfg->nfixtures, o->headroom_x100);
	if (o->json)
		io = write_json(o->json, tf, cfg->nfixtures, o, interrupted_by);
	if (o->write && interrupted_by) {
		fprintf(stderr, "memgate: tune: interrupted, so --write was skipped: %s is unchanged\n",
			o->config);
	} else if (o->write) {
		int w = write_limits(o->config, tf, cfg->nfixtures);
		io = io ? io : w;
	}
	fflush(stdout);
	if (interrupted_by)
		return mg_exit_status(MG_VERDICT_ERROR, interrupted_by);
	if (any_failed(tf, cfg->nfixtures)) {
		fprintf(stderr, "memgate: tune: a fixture failed to run; no limit was proposed for it\n");
		rc = 1;
	}
	return io ? io : rc;
}

/* ------------------------------------------------------------------ main */

static int tune_config(struct mg_config *cfg, const struct tune_opts *o)
{
	struct mg_tune_fixture *tf = calloc(cfg->nfixtures + 1, sizeof *tf);
	char err[256];
	int interrupted_by = 0, rc = 0;

	if (!tf) {
		fprintf(stderr, "memgate: out of memory\n");
		return EXIT_ERROR;
	}
	for (size_t i = 0; rc == 0 && i < cfg->nfixtures; i++)
		if (mg_tune_fixture_init(&tf[i], &cfg->fixtures[i], o->runs, err, sizeof err) < 0) {
			fprintf(stderr, "memgate: tune: %s\n", err);
			rc = EXIT_ERROR;
		}
	if (rc == 0)
		rc = run_all(cfg, o, tf, &interrupted_by) < 0 ? EXIT_ERROR
							       : report(cfg, o, tf, interrupted_by);
	for (size_t i = 0; i < cfg->nfixtures; i++)
		mg_tune_fixture_free(&tf[i]);
	free(tf);
	return rc;
}

int mg_cmd_tune(int argc, char **argv)
{
	struct tune_opts o = { "memgate.json", NULL, NULL, MG_TUNE_DEFAULT_RUNS,
			       MG_TUNE_DEFAULT_HEADROOM_X100, false, NULL, 0 };
	struct mg_config cfg = { 0 };
	char err[1024];
	int rc;

	if (!(o.only = calloc((size_t)argc + 1, sizeof *o.only))) {
		fprintf(stderr, "memgate: out of memory\n");
		return EXIT_ERROR;
	}
	rc = parse_opts(argc, argv, &o);
	if (rc == 0 && mg_config_load_file(o.config, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		rc = EXIT_USAGE;
	} else if (rc == 0 && mg_select_only(&cfg, o.only, o.nonly, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		rc = EXIT_USAGE;
	} else if (rc == 0 && o.json &&
		   ((rc = mg_check_outputs((const char *const[]){"--json"}, (const char *const[]){o.json}, 1)) != 0 ||
		    (rc = mg_check_not_input((const char *const[]){"--json"}, (const char *const[]){o.json}, 1,
					     "the config (-c)", o.config)) != 0)) {
		/* said; checked before N runs, not after them */
	} else if (rc == 0) {
		rc = tune_config(&cfg, &o);
	}
	mg_config_free(&cfg);
	free(o.only);
	return rc < 0 ? 0 : rc;
}
