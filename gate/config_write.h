/* config_write: update limits in a config file in place (`memgate tune
 * --write`), and write JSON files atomically.
 *
 * Only the limit values named change; every other key, fixture and the key
 * order stay as they are. The file is re-serialised by jansson with a
 * 2-space indent (JSON_PRESERVE_ORDER), so formatting other than that (an
 * array on one line, say) is normalised. A config that does not load is
 * never touched. */
#ifndef MG_CONFIG_WRITE_H
#define MG_CONFIG_WRITE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

#define MG_CONFIG_DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

/* Set fixture NAME's limits.METRIC to text ("210MiB", which reads as
 * bytes); with phase, its phase_limits[phase].METRIC instead. */
struct mg_limit_update {
	const char *fixture;
	enum mg_metric metric;
	const char *text;
	int64_t bytes;
	const char *phase;      /* a phase_limits key (a name or glob), or NULL */
};

/* Write doc (json_dumps flags, then a newline) to path through the one
 * writer of user-named files (outfile.h: atomic rename for files, in place
 * for devices and FIFOs, with the user's rights). 0, or -1 with err (path
 * is untouched then). */
int mg_json_write_atomic(const char *path, const json_t *doc, size_t flags, char *err, size_t errlen);

/* Apply updates to a parsed config (the tree, not struct mg_config). The
 * value goes into the fixture's own "limits" (created at the end of the
 * fixture when it has none), also when the old limit came from defaults:
 * defaults are shared with fixtures that were not tuned. A phase's goes
 * into the fixture's own "phase_limits" likewise (the object and the
 * phase's entry created at the end when missing). An update whose bytes
 * equal the present value is skipped. One line per change to diff (may be
 * NULL), e.g.
 *   fixtures[0].limits.tree_rss: "200MiB" -> "210MiB"
 *   fixtures[1].limits.cgroup: (defaults "1GiB") -> "610MiB"
 *   fixtures[2].limits.tree_rss: (none) -> "72MiB"
 *   fixtures[0].phase_limits["load"].cgroup: (none) -> "64MiB"
 * Returns the number of values changed, or -1 with err (a fixture that is
 * not in the config, a malformed tree). */
int mg_config_update_limits(json_t *root, const struct mg_limit_update *u, size_t n, FILE *diff,
			    char *err, size_t errlen);

/* The whole of `tune --write`: the file must load with mg_config_load_file
 * (else -1 and the file is left byte-identical), the updates are applied,
 * the result must load again, then it is written atomically (not at all
 * when nothing changed). Returns the number of values changed, or -1 with
 * err. */
int mg_config_write_limits(const char *path, const struct mg_limit_update *u, size_t n, FILE *diff,
			   char *err, size_t errlen);

#endif
