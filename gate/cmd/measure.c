/* measure: one command from the command line, measured and judged like a
 * config's fixture (mg_execute, cmd/run.c). */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config.h"
#include "report/report_load.h"
#include "units.h"

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		fprintf(stderr, "memgate: out of memory\n");
		exit(EXIT_ERROR);
	}
	return d;
}

/* "tree_rss, cgroup, ...": every metric a limit may name, from the one table */
static void metric_list(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < MG_METRIC_COUNT && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", mg_metric_names[i]);
		used += n > 0 ? (size_t)n : 0;
	}
}

int mg_cmd_measure(int argc, char **argv)
{
	enum { O_JSON = 256, O_LIMIT, O_TIMEOUT, O_INTERVAL, O_MEAS, O_KILL, O_PSS, O_NAME, O_ROOT, O_HEAP, O_ARTIFACTS };
	static const struct option opts[] = {
		{"json", required_argument, NULL, O_JSON},
		{"limit", required_argument, NULL, O_LIMIT},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"interval", required_argument, NULL, O_INTERVAL},
		{"measurement", required_argument, NULL, O_MEAS},
		{"kill-above", required_argument, NULL, O_KILL},
		{"pss", no_argument, NULL, O_PSS},
		{"name", required_argument, NULL, O_NAME},
		{"cgroup-root", required_argument, NULL, O_ROOT},
		{"heap", required_argument, NULL, O_HEAP},
		{"artifacts", required_argument, NULL, O_ARTIFACTS},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct mg_fixture f;
	mg_fixture_init(&f);
	const char *json = NULL, *name = NULL, *root = NULL, *artifacts = NULL;
	char err[256];
	int c, rc = 0;
	mg_getopt_reset();
	while (rc == 0 && (c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case O_JSON:
			json = optarg;
			break;
		case O_LIMIT: {
			char *eq = strchr(optarg, '=');
			enum mg_metric m;
			if (!eq) {
				rc = mg_usage_error("--limit %s: expected METRIC=SIZE, e.g. tree_rss=200MiB", optarg);
				break;
			}
			*eq = '\0';
			if (mg_metric_from_name(optarg, &m) < 0) {
				char names[256];
				metric_list(names, sizeof names);
				rc = mg_usage_error("--limit: unknown metric \"%s\" (%s)", optarg, names);
				break;
			}
			if (f.limits[m] != MG_NO_LIMIT) { /* as a config's duplicate key: never the last silently */
				rc = mg_usage_error("--limit %s: given twice; give each metric one limit", optarg);
				break;
			}
			/* growth is a rate, as in the config: "1MiB" alone was taken as per second */
			if ((m == MG_METRIC_GROWTH ? mg_parse_rate(eq + 1, &f.limits[m], err, sizeof err)
						   : mg_parse_size(eq + 1, &f.limits[m], err, sizeof err)) < 0 ||
			    f.limits[m] == 0) {
				rc = mg_usage_error("--limit: %s", f.limits[m] == 0 ? "a limit of 0 bytes can never pass" : err);
				break;
			}
			if (m == MG_METRIC_PSS)
				f.pss = true;
			break;
		}
		case O_TIMEOUT:
			if (mg_parse_duration(optarg, &f.timeout_ms, err, sizeof err) < 0 || f.timeout_ms <= 0)
				rc = mg_usage_error("--timeout: %s", f.timeout_ms <= 0 ? "must be above 0" : err);
			break;
		case O_INTERVAL:
			if (mg_parse_duration(optarg, &f.interval_ms, err, sizeof err) < 0 || f.interval_ms < 1 ||
			    f.interval_ms > 10000)
				rc = mg_usage_error("--interval: %s", f.interval_ms < 1 || f.interval_ms > 10000
									 ? "must be between 1ms and 10s" : err);
			break;
		case O_MEAS:
			if (mg_method_from_name(optarg, &f.measurement) < 0)
				rc = mg_usage_error("--measurement \"%s\": expected auto, cgroup-v2, cgroup-v1 or proc", optarg);
			break;
		case O_KILL:
			if (mg_parse_size(optarg, &f.kill_above, err, sizeof err) < 0)
				rc = mg_usage_error("--kill-above: %s", err);
			else if (f.kill_above < 1024 * 1024)
				rc = mg_usage_error("--kill-above %s: must be at least 1MiB", optarg);
			break;
		case O_PSS:
			f.pss = true;
			break;
		case O_NAME:
			name = optarg;
			/* what the report holds must read back (report_load.h) */
			if (!*name || strlen(name) > MG_REPORT_NAME_MAX) {
				snprintf(err, sizeof err, "--name: a fixture name has 1 to %d bytes, got %zu",
					 MG_REPORT_NAME_MAX, strlen(name));
				rc = mg_usage_error("%s", err);
			}
			break;
		case O_ROOT:
			root = optarg;
			break;
		case O_HEAP:
			if (mg_heap_tool_from_name(optarg, &f.heap.tool) < 0)
				rc = mg_usage_error("--heap \"%s\": expected tracemalloc, memray or heaptrack", optarg);
			break;
		case O_ARTIFACTS:
			artifacts = optarg;
			break;
		case 'h':
			fputs(mg_usage_text, stdout);
			mg_fixture_free(&f);
			return 0;
		default:
			rc = mg_usage_error("%s", "measure: bad option");
		}
	}
	if (rc == 0 && optind >= argc)
		rc = mg_usage_error("%s", "measure: no command given (memgate measure [options] -- CMD [ARG...])");
	/* the flame graph is DIR/NAME.html: "../x" or "a/b" would land outside DIR */
	if (rc == 0 && artifacts && name && strchr(name, '/'))
		rc = mg_usage_error("--name \"%.80s\": with --artifacts the name is a file name (DIR/NAME.html), "
				    "without '/'", name);
	if (rc == 0)
		rc = mg_check_outputs((const char *const[]){"--json"}, (const char *const[]){json}, 1);
	if (rc != 0) {
		mg_fixture_free(&f);
		return rc;
	}
	f.argc = (size_t)(argc - optind);
	f.argv = calloc(f.argc + 1, sizeof *f.argv);
	if (!f.argv) {
		mg_fixture_free(&f);
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < f.argc; i++)
		f.argv[i] = xstrdup(argv[optind + (int)i]);
	if (name) {
		f.name = xstrdup(name);
	} else {
		char *copy = xstrdup(f.argv[0]);
		f.name = xstrdup(basename(copy));
		free(copy);
	}
	rc = mg_execute(&f, 1, root, artifacts, json, NULL);
	mg_fixture_free(&f);
	return rc;
}
