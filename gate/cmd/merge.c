/* merge: read shard reports, merge them (merge.c), write one report. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "config_write.h"
#include "report/merge.h"
#include "report/report_load.h"
#include "verdict.h"

#define REPORT_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

/* Load every path; -1 after printing the first failure. */
static int load_all(char **paths, size_t n, json_t **docs)
{
	char err[1024];

	for (size_t i = 0; i < n; i++) {
		if (!(docs[i] = mg_report_load(paths[i], err, sizeof err))) {
			fprintf(stderr, "memgate: merge: %s\n", err);
			return -1;
		}
	}
	return 0;
}

static int write_out(const json_t *merged, const char *out)
{
	char err[1024];

	if (!out) {
		if (json_dumpf(merged, stdout, REPORT_FLAGS) != 0 || fputc('\n', stdout) == EOF ||
		    fflush(stdout) != 0) {
			fprintf(stderr, "memgate: merge: cannot write to stdout\n");
			return -1;
		}
		return 0;
	}
	if (mg_json_write_atomic(out, merged, REPORT_FLAGS, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: merge: %s\n", err);
		return -1;
	}
	return 0;
}

static enum mg_verdict verdict_of(const json_t *report)
{
	const char *v = json_string_value(json_object_get(report, "verdict"));

	return v[0] == 'p' ? MG_VERDICT_PASS : v[0] == 'f' ? MG_VERDICT_FAIL : MG_VERDICT_ERROR;
}

/* Merge the loaded docs, write, say what happened; the exit status. */
static int merge_docs(json_t **docs, char **paths, size_t n, const char *out)
{
	char err[1024];
	json_t *merged = mg_merge_reports(docs, (const char *const *)paths, n, err, sizeof err);
	int status;

	if (!merged) {
		fprintf(stderr, "memgate: merge: %s\n", err);
		return EXIT_USAGE;
	}
	if (write_out(merged, out) < 0) {
		json_decref(merged);
		return EXIT_ERROR;
	}
	status = mg_exit_status(verdict_of(merged), 0);
	fprintf(stderr, "memgate: merged %zu report%s, %zu fixture%s: %s%s%s\n", n, n == 1 ? "" : "s",
		json_array_size(json_object_get(merged, "fixtures")),
		json_array_size(json_object_get(merged, "fixtures")) == 1 ? "" : "s",
		mg_verdict_name(verdict_of(merged)), out ? " -> " : "", out ? out : "");
	json_decref(merged);
	return status;
}

int mg_cmd_merge(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *out = NULL;
	int c, rc = 0;

	mg_getopt_reset();
	while (rc == 0 && (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'h') {
			fputs(mg_usage_text, stdout);
			return 0;
		} else
			rc = mg_usage_error("%s", "merge: bad option (memgate merge [-o FILE] REPORT.json...)");
	}
	if (rc == 0 && optind >= argc)
		rc = mg_usage_error("%s", "merge: no reports given (memgate merge [-o FILE] "
					  "REPORT.json...)");
	if (rc)
		return rc;
	size_t n = (size_t)(argc - optind);
	json_t **docs = calloc(n, sizeof *docs);
	if (!docs) {
		fprintf(stderr, "memgate: out of memory\n");
		return EXIT_ERROR;
	}
	rc = load_all(argv + optind, n, docs) < 0 ? EXIT_USAGE
						   : merge_docs(docs, argv + optind, n, out);
	for (size_t i = 0; i < n; i++)
		json_decref(docs[i]);
	free(docs);
	return rc;
}
