/* report: render a saved JSON report as text, markdown, JUnit XML, SVG,
 * normalised JSON, or GitHub Actions outputs. */
#include "cmd/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/render.h"
#include "report/report_load.h"
#include "error.h"

#define FORMATS "text, markdown, junit, svg, json or github"

/* json: the report validated, then written back normalised. A failed
 * write leaves err empty: the caller names the file (or stdout). */
static int render_json(json_t *report, FILE *out, char *err, size_t errlen)
{
	if (mg_render_check(report, err, errlen) < 0)
		return -1;
	if (json_dumpf(report, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return -1;
	fputc('\n', out);
	return 0;
}

struct format {
	const char *name;
	mg_render_fn fn;   /* NULL: github, which writes where GitHub says */
};

static const struct format formats[] = {
	{"text", mg_render_text},
	{"markdown", mg_render_markdown},
	{"junit", mg_render_junit},
	{"svg", mg_render_svg},
	{"json", render_json},
	{"github", NULL},
};

static const struct format *find_format(const char *name)
{
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

/* The report, read and validated by the loader every command shares. */
static json_t *load(const char *path)
{
	char err[1024];
	json_t *j = mg_report_load(path, err, sizeof err);
	if (!j)
		fprintf(stderr, "memgate: %s\n", err);
	return j;
}

static int to_stdout(mg_render_fn fn, json_t *report, char *err, size_t errlen)
{
	err[0] = '\0';
	errno = 0;
	int rc = fn(report, stdout, err, errlen);
	if (rc < 0 && err[0])
		return -1; /* the renderer's message: the report is not valid */
	if (rc < 0 || fflush(stdout) != 0 || ferror(stdout))
		return mg_cannot(err, errlen, "write to", "stdout", errno ? errno : EIO);
	return 0;
}

struct args {
	const struct format *format;
	const char *report;
	const char *output;
};

/* 0, -1 when --help was shown, or EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	int c;
	a->format = find_format("text");
	mg_getopt_reset();
	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		if (c == 'f' && !(a->format = find_format(optarg)))
			return mg_usage_error("report: unknown format \"%s\" (" FORMATS ")", optarg);
		if (c == 'o')
			a->output = optarg;
		if (c == 'h') {
			fputs(mg_usage_text, stdout);
			return -1;
		}
		if (c == '?')
			return mg_usage_error("%s", "report: bad option");
	}
	if (optind != argc - 1)
		return mg_usage_error("%s", optind >= argc ? "report: no report given (memgate report [--format F] REPORT.json [-o FILE])"
							  : "report: one report at a time");
	a->report = argv[optind];
	if (!a->format->fn && a->output)
		return mg_usage_error("%s", "report: --format github writes to $GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT and stdout, not to -o");
	return 0;
}

int mg_cmd_report(int argc, char **argv)
{
	struct args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (a.output && (rc = mg_check_not_input((const char *const[]){"-o"}, (const char *const[]){a.output}, 1,
						 "the report read", a.report)) != 0)
		return rc;
	json_t *report = load(a.report);
	if (!report)
		return EXIT_USAGE;
	char err[1024];
	if (!a.format->fn)
		rc = mg_render_github_env(report, a.report, stdout, err, sizeof err);
	else if (a.output)
		rc = mg_render_to_file(report, a.format->fn, a.output, err, sizeof err);
	else
		rc = to_stdout(a.format->fn, report, err, sizeof err);
	json_decref(report);
	if (rc < 0) {
		fprintf(stderr, "memgate: %s: %s\n", a.report, err);
		return EXIT_USAGE;
	}
	return 0;
}
