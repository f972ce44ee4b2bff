/* run and validate: plan fixtures from a config, measure each, judge,
 * render the report (mg_execute, shared with cmd/measure.c). */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/baseline.h"
#include "cmd/cmd.h"
#include "ci/http.h"
#include "ci/publish.h"
#include "report/render.h"
#include "config.h"
#include "config_write.h"
#include "outfile.h"
#include "shard.h"
#include "report/report.h"
#include "report/report_load.h"
#include "error.h"
#include "result.h"
#include "measure/measure.h"
#include "units.h"
#include "verdict.h"

/* What `run` adds to a plain execution: --baseline and --shard. */
struct mg_run_extras {
	const json_t *baseline;         /* NULL: no --baseline */
	const struct mg_config *cfg;    /* tolerances ("regression"); NULL: defaults */
	unsigned shard_k, shard_n;      /* shard_n 0: no --shard */
	bool post;                      /* --post-status */
	struct mg_post_flags post_flags;
	const char *junit, *markdown, *svg; /* more renderings to write, or NULL */
};

/* Compare the report with the baseline (the JSON is updated in place, and
 * every rendering is made from it) and take its verdict for the exit
 * status. 0, or -1 (printed). */
static int apply_baseline(json_t *doc, const struct mg_run_extras *x, struct mg_report *rep)
{
	char err[512];

	if (mg_baseline_apply(doc, x->baseline, mg_tolerance_from_config, x->cfg, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: --baseline: %s\n", err);
		return -1;
	}
	rep->verdict = mg_baseline_verdict(doc);
	return 0;
}

/* run --post-status: one commit status per fixture; run --comment: the
 * pull-request comment (either or both). A failed post warns and leaves
 * the status alone unless --require-post. */
static int post_statuses(json_t *doc, const struct mg_run_extras *x, int status)
{
	char why[512];
	if (mg_http_global_init(why, sizeof why) < 0) {
		fprintf(stderr, "memgate: warning: cannot initialise libcurl: %s; %s not posted\n", why,
			x->post ? "statuses" : "comment");
		return x->post_flags.require_post && status == 0 ? EXIT_ERROR : status;
	}
	char *summary = x->post && x->post_flags.checks ? mg_post_summary_markdown(doc) : NULL;
	status = mg_post_publish(doc, &x->post_flags, summary, stderr, status);
	free(summary);
	mg_http_global_cleanup();
	return status;
}

/* One rendering into a file (--junit, --markdown, --svg). */
static int render_to(json_t *doc, mg_render_fn fn, const char *path)
{
	char err[1024];
	if (mg_render_to_file(doc, fn, path, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		return -1;
	}
	return 0;
}

/* Under GitHub Actions: job summary, step outputs, annotations. */
static int github_outputs(json_t *doc, const char *json_path)
{
	const char *ga = getenv("GITHUB_ACTIONS");
	if (!ga || strcmp(ga, "true") != 0)
		return 0;
	char err[512];
	if (mg_render_github_env(doc, json_path, stdout, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: GitHub outputs: %s\n", err);
		return -1;
	}
	return 0;
}

/* Every rendering of the judged report: text on stderr, the files asked
 * for, GitHub's outputs. -1 when one could not be written. */
static int render_all(json_t *doc, const struct mg_run_extras *x, const char *json_path)
{
	char err[512];
	int rc = 0;
	if (mg_render_text(doc, stderr, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		rc = -1;
	}
	if (x && x->junit && render_to(doc, mg_render_junit, x->junit) < 0)
		rc = -1;
	if (x && x->markdown && render_to(doc, mg_render_markdown, x->markdown) < 0)
		rc = -1;
	if (x && x->svg && render_to(doc, mg_render_svg, x->svg) < 0)
		rc = -1;
	if (github_outputs(doc, json_path) < 0)
		rc = -1;
	return rc;
}

/* --artifacts DIR: made (with its parents) when missing, as the user
 * (files are opened with the user's rights, identity.h); its absolute path
 * into abs, because the tools that write there run in each fixture's cwd.
 * 0, or EXIT_USAGE (printed). */
static int prepare_artifacts(const char *dir, char *abs, size_t len)
{
	char path[PATH_MAX];
	if (!*dir || strlen(dir) >= sizeof path) {
		fprintf(stderr, "memgate: --artifacts: expected a directory path of 1 to %d bytes\n", PATH_MAX - 1);
		return EXIT_USAGE;
	}
	snprintf(path, sizeof path, "%s", dir);
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "memgate: --artifacts: cannot create %s: " MG_ERRNO_FMT "\n", path, MG_ERRNO(errno));
			return EXIT_USAGE;
		}
		*p = c;
		if (!c)
			break;
	}
	struct stat st;
	if (!realpath(dir, path) || stat(path, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    faccessat(AT_FDCWD, path, W_OK | X_OK, AT_EACCESS) < 0) { /* as the user: access() asks as root under sudo */
		fprintf(stderr, "memgate: --artifacts: %s is not a writable directory: " MG_ERRNO_FMT "\n", dir,
			MG_ERRNO(errno ? errno : ENOTDIR));
		return EXIT_USAGE;
	}
	snprintf(abs, len, "%s", path);
	return 0;
}

/* Run the planned fixtures, judge them, render. Returns the exit status. */
int mg_execute(struct mg_fixture *fixtures, size_t n, const char *cgroup_root, const char *artifacts,
	       const char *json_path, const struct mg_run_extras *x)
{
	char err[512], artifacts_abs[PATH_MAX];
	if (artifacts && prepare_artifacts(artifacts, artifacts_abs, sizeof artifacts_abs) != 0)
		return EXIT_USAGE;
	struct mg_supervisor sv;
	if (mg_supervisor_init(&sv, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: cannot set up the supervisor: %s\n", err);
		return EXIT_ERROR;
	}
	sv.cgroup_root = cgroup_root;
	if (artifacts) {
		sv.artifacts_dir = artifacts_abs;
		sv.artifacts_shown = artifacts;
	}
	/* n + 1: an empty shard runs nothing, and calloc(0) may be NULL */
	struct mg_result *results = calloc(n + 1, sizeof *results);
	struct mg_judgement *judgements = calloc(n + 1, sizeof *judgements);
	struct mg_report_entry *entries = calloc(n + 1, sizeof *entries);
	if (!results || !judgements || !entries) {
		fprintf(stderr, "memgate: out of memory\n");
		free(results), free(judgements), free(entries);
		return EXIT_ERROR;
	}
	struct mg_report rep = {.entries = entries, .n = n, .verdict = MG_VERDICT_PASS};
	for (size_t i = 0; i < n; i++) {
		entries[i].fixture = &fixtures[i];
		entries[i].judgement = &judgements[i];
		if (sv.interrupted_by) {
			judgements[i].verdict = MG_VERDICT_ERROR;
			snprintf(judgements[i].reasons[0], sizeof judgements[i].reasons[0],
				 "not run: memgate was interrupted");
			judgements[i].nreasons = 1;
		} else {
			fprintf(stderr, "memgate: running %s\n", fixtures[i].name);
			mg_result_init(&results[i]);
			mg_measure_fixture(&sv, &fixtures[i], &results[i]);
			mg_judge(&fixtures[i], &results[i], &judgements[i]);
			entries[i].result = &results[i];
		}
		rep.verdict = mg_verdict_worst(rep.verdict, judgements[i].verdict);
	}
	rep.interrupted_by = sv.interrupted_by;
	mg_supervisor_done(&sv);

	json_t *doc = mg_report_json(&rep);
	int status = 0;
	if (!doc) {
		fprintf(stderr, "memgate: cannot build the JSON report: %s\n", mg_errno_text(ENOMEM, err, sizeof err));
		status = EXIT_ERROR;
	} else if (x && x->baseline && apply_baseline(doc, x, &rep) < 0) {
		status = EXIT_ERROR;
	}
	if (doc && x && x->shard_n)
		mg_shard_annotate(doc, x->shard_k, x->shard_n);
	if (status == 0)
		status = mg_exit_status(rep.verdict, rep.interrupted_by);
	if (doc && json_path &&
	    mg_json_write_atomic(json_path, doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		if (status == 0)
			status = EXIT_ERROR;
	}
	/* A report that cannot be shown is not a pass either. */
	if (doc && render_all(doc, x, json_path) < 0 && status == 0)
		status = EXIT_ERROR;
	if (doc && x && (x->post || x->post_flags.comment))
		status = post_statuses(doc, x, status);
	json_decref(doc);
	for (size_t i = 0; i < n; i++)
		if (entries[i].result)
			mg_result_free(&results[i]);
	free(results), free(judgements), free(entries);
	return status;
}

/* Every output path, checked before anything runs: a long run must not end
 * in "cannot write". 0, or EXIT_USAGE (printed). */
int mg_check_outputs(const char *const *opt, const char *const *path, size_t n)
{
	char err[1024];
	for (size_t i = 0; i < n; i++)
		if (path[i] && mg_outfile_check(path[i], err, sizeof err) < 0) {
			fprintf(stderr, "memgate: %s: %s\n", opt[i], err);
			return EXIT_USAGE;
		}
	/* one file for two outputs keeps only the last one written */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (path[i] && path[j] && mg_outfile_same(path[i], path[j]))
				return mg_usage_error("%s %s: the same file as %s %s; give each output its own file",
						      opt[j], path[j], opt[i], path[i]);
	return 0;
}

int mg_check_not_input(const char *const *opt, const char *const *path, size_t n, const char *what,
		       const char *in_path)
{
	for (size_t i = 0; i < n; i++)
		if (path[i] && mg_outfile_same(path[i], in_path))
			return mg_usage_error("%s %s: that is %s; writing there would replace it "
					      "(name another file)", opt[i], path[i], what);
	return 0;
}

static int load(const char *path, struct mg_config *cfg)
{
	char err[1024];
	if (mg_config_load_file(path, cfg, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

int mg_cmd_run(int argc, char **argv, bool validate_only)
{
	enum { O_ONLY = 256, O_JSON, O_ROOT, O_BASELINE, O_SHARD, O_POST, O_JUNIT, O_MARKDOWN, O_SVG, O_ARTIFACTS };
	static const struct option opts[] = {
		MG_POST_LONG_OPTIONS,
		{"post-status", no_argument, NULL, O_POST},
		{"junit", required_argument, NULL, O_JUNIT},
		{"markdown", required_argument, NULL, O_MARKDOWN},
		{"svg", required_argument, NULL, O_SVG},
		{"baseline", required_argument, NULL, O_BASELINE},
		{"shard", required_argument, NULL, O_SHARD},
		{"config", required_argument, NULL, 'c'},
		{"only", required_argument, NULL, O_ONLY},
		{"json", required_argument, NULL, O_JSON},
		{"cgroup-root", required_argument, NULL, O_ROOT},
		{"artifacts", required_argument, NULL, O_ARTIFACTS},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *path = "memgate.json", *json = NULL, *root = NULL, *baseline_path = NULL, *artifacts = NULL;
	struct mg_run_extras x = {0};
	char err[1024];
	char **only = calloc((size_t)argc + 1, sizeof *only);
	size_t nonly = 0;
	int c, rc = 0, pr;
	mg_getopt_reset();
	while (rc == 0 && only && (c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == O_ONLY && !validate_only)
			only[nonly++] = optarg;
		else if (c == O_JSON && !validate_only)
			json = optarg;
		else if (c == O_ROOT && !validate_only)
			root = optarg;
		else if (c == O_ARTIFACTS && !validate_only)
			artifacts = optarg;
		else if (c == O_BASELINE && !validate_only)
			baseline_path = optarg;
		else if (c == O_SHARD && !validate_only) {
			if (mg_shard_parse(optarg, &x.shard_k, &x.shard_n, err, sizeof err) < 0)
				rc = mg_usage_error("%s", err);
		} else if (c == O_POST && !validate_only) {
			x.post = true;
		} else if (c == O_JUNIT && !validate_only) {
			x.junit = optarg;
		} else if (c == O_MARKDOWN && !validate_only) {
			x.markdown = optarg;
		} else if (c == O_SVG && !validate_only) {
			x.svg = optarg;
		} else if (!validate_only && (pr = mg_post_flag(&x.post_flags, c, optarg, err, sizeof err)) != 0) {
			rc = pr == 1 ? 0 : mg_usage_error("%s", err);
		}
		else if (c == 'h') {
			fputs(mg_usage_text, stdout);
			free(only);
			return 0;
		} else
			rc = mg_usage_error("%s: bad option", validate_only ? "validate" : "run");
	}
	if (rc == 0 && optind < argc)
		rc = mg_usage_error("unexpected argument \"%s\"", argv[optind]);
	x.post_flags.config_path = path;
	x.post_flags.no_statuses = !x.post; /* --comment alone */
	struct mg_config cfg = {0};
	if (rc == 0 && !only)
		rc = EXIT_ERROR;
	if (rc == 0)
		rc = load(path, &cfg);
	json_t *baseline = NULL;
	if (rc == 0 && baseline_path && !(baseline = mg_report_load(baseline_path, err, sizeof err))) {
		fprintf(stderr, "memgate: --baseline: %s\n", err);
		rc = EXIT_USAGE;
	}
	if (rc == 0 && validate_only) {
		printf("%s: OK, %zu fixture%s:", path, cfg.nfixtures, cfg.nfixtures == 1 ? "" : "s");
		for (size_t i = 0; i < cfg.nfixtures; i++)
			printf(" %s", cfg.fixtures[i].name);
		putchar('\n');
	} else if (rc == 0) {
		if (mg_select_only(&cfg, only, nonly, err, sizeof err) < 0) {
			fprintf(stderr, "memgate: %s\n", err);
			rc = EXIT_USAGE;
		}
		size_t total = cfg.nfixtures;
		if (rc == 0 && x.shard_n && mg_select_shard(&cfg, x.shard_k, x.shard_n) < 0)
			rc = EXIT_ERROR;
		if (rc == 0 && x.shard_n)
			mg_shard_describe(stderr, x.shard_k, x.shard_n, &cfg, total);
		x.baseline = baseline;
		x.cfg = &cfg;
		if (rc == 0)
			rc = mg_check_outputs((const char *const[]){"--json", "--junit", "--markdown", "--svg"},
					   (const char *const[]){json, x.junit, x.markdown, x.svg}, 4);
		if (rc == 0)
			rc = mg_check_not_input((const char *const[]){"--json", "--junit", "--markdown", "--svg"},
						(const char *const[]){json, x.junit, x.markdown, x.svg}, 4,
						"the config (-c)", path);
		/* a missing token or repository said before the run, not after it */
		if (rc == 0 && (x.post || x.post_flags.comment) && mg_post_check_early(&x.post_flags) < 0)
			rc = EXIT_ERROR; /* what --require-post gives when it cannot post */
		if (rc == 0)
			rc = mg_execute(cfg.fixtures, cfg.nfixtures, root ? root : cfg.cgroup_root, artifacts, json, &x);
	}
	json_decref(baseline);
	mg_config_free(&cfg);
	free(only);
	return rc;
}

