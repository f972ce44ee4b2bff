/* config_write: in-place limit updates and atomic JSON writes. The config
 * is validated by the real loader before and after the change, so --write
 * can never leave a config that memgate itself would refuse. */
#include "error.h"
#include "config_write.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "units.h"

/* ------------------------------------------------------------ atomic write */

struct json_out {
	const json_t *doc;
	size_t flags;
};

static int dump_json(FILE *f, void *ctx, char *err, size_t errlen)
{
	const struct json_out *j = ctx;
	if (json_dumpf(j->doc, f, j->flags) < 0 || fputc('\n', f) == EOF) {
		snprintf(err, errlen, "cannot serialise the JSON: %s (%s)", MG_ERRNO(errno ? errno : ENOMEM));
		return -1;
	}
	return 0;
}

int mg_json_write_atomic(const char *path, const json_t *doc, size_t flags, char *err, size_t errlen)
{
	struct json_out j = {doc, flags};
	return mg_outfile_write(path, 0644, false, dump_json, &j, err, errlen);
}

/* -------------------------------------------------------- limit updates */

static json_t *find_fixture(json_t *root, const char *name, size_t *index)
{
	json_t *fixtures = json_object_get(root, "fixtures"), *f;
	size_t i;

	json_array_foreach(fixtures, i, f) {
		if (json_is_object(f) && json_is_string(json_object_get(f, "name")) &&
		    strcmp(json_string_value(json_object_get(f, "name")), name) == 0) {
			*index = i;
			return f;
		}
	}
	return NULL;
}

/* The fixture's own "limits", created (last key) when missing. */
static json_t *own_limits(json_t *fixture, const char *path, char *err, size_t errlen)
{
	json_t *limits = json_object_get(fixture, "limits");

	if (limits && !json_is_object(limits)) {
		snprintf(err, errlen, "%s.limits: expected an object", path);
		return NULL;
	}
	if (!limits && json_object_set_new(fixture, "limits", limits = json_object()) < 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return limits;
}

/* The fixture's own phase_limits[phase], created (last keys) when missing. */
static json_t *own_phase_limits(json_t *fixture, const char *phase, const char *path, char *err, size_t errlen)
{
	json_t *all = json_object_get(fixture, "phase_limits"), *entry;

	if (all && !json_is_object(all)) {
		snprintf(err, errlen, "%s.phase_limits: expected an object", path);
		return NULL;
	}
	if (!all && json_object_set_new(fixture, "phase_limits", all = json_object()) < 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	entry = json_object_get(all, phase);
	if (entry && !json_is_object(entry)) {
		snprintf(err, errlen, "%s.phase_limits[\"%.100s\"]: expected an object", path, phase);
		return NULL;
	}
	if (!entry && json_object_set_new(all, phase, entry = json_object()) < 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return entry;
}

/* The value shown on the left of a diff line. */
static void old_text(const json_t *own, const json_t *root, const char *phase, const char *metric, char *buf,
		     size_t len)
{
	const json_t *defaults = json_object_get(root, "defaults");
	const json_t *def = phase ? json_object_get(json_object_get(json_object_get(defaults, "phase_limits"), phase),
						    metric)
				  : json_object_get(json_object_get(defaults, "limits"), metric);

	if (json_is_string(own))
		snprintf(buf, len, "\"%s\"", json_string_value(own));
	else if (json_is_string(def))
		snprintf(buf, len, "(defaults \"%s\")", json_string_value(def));
	else
		snprintf(buf, len, "(none)");
}

/* Same bytes already: no change, however it is spelt ("200MiB" vs "209715200B"). */
static int same_value(const json_t *own, int64_t bytes)
{
	int64_t have;

	return json_is_string(own) && mg_parse_size(json_string_value(own), &have, NULL, 0) == 0 &&
	       have == bytes;
}

static int apply_one(json_t *root, const struct mg_limit_update *u, FILE *diff, char *err,
		     size_t errlen)
{
	const char *metric = mg_metric_name(u->metric);
	char path[160], old[160];
	size_t index = 0;
	json_t *fixture = find_fixture(root, u->fixture, &index), *limits;

	if (!fixture) {
		snprintf(err, errlen, "fixture \"%.100s\" is not in the config any more "
				      "(renamed or removed while tuning?)", u->fixture);
		return -1;
	}
	snprintf(path, sizeof path, "fixtures[%zu]", index);
	limits = u->phase ? own_phase_limits(fixture, u->phase, path, err, errlen)
			  : own_limits(fixture, path, err, errlen);
	if (!limits)
		return -1;
	if (same_value(json_object_get(limits, metric), u->bytes))
		return 0;
	old_text(json_object_get(limits, metric), root, u->phase, metric, old, sizeof old);
	if (json_object_set_new(limits, metric, json_string(u->text)) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (diff && u->phase)
		fprintf(diff, "%s.phase_limits[\"%s\"].%s: %s -> \"%s\"\n", path, u->phase, metric, old, u->text);
	else if (diff)
		fprintf(diff, "%s.limits.%s: %s -> \"%s\"\n", path, metric, old, u->text);
	return 1;
}

int mg_config_update_limits(json_t *root, const struct mg_limit_update *u, size_t n, FILE *diff,
			    char *err, size_t errlen)
{
	int changed = 0;

	if (!json_is_object(root) || !json_is_array(json_object_get(root, "fixtures"))) {
		snprintf(err, errlen, "not a memgate config (no \"fixtures\" array)");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = apply_one(root, &u[i], diff, err, errlen);
		if (rc < 0)
			return -1;
		changed += rc;
	}
	return changed;
}

/* ------------------------------------------------------------ the file */

/* The updated tree must still be a config memgate accepts. */
static int still_loads(const json_t *root, const char *path, char *err, size_t errlen)
{
	char *text = json_dumps(root, MG_CONFIG_DUMP_FLAGS), lerr[512];
	struct mg_config cfg;
	int rc;

	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rc = mg_config_load_string(text, path, &cfg, lerr, sizeof lerr);
	free(text);
	if (rc != 0) {
		snprintf(err, errlen, "the updated config would not load (%s); %s is unchanged", lerr,
			 path);
		return -1;
	}
	mg_config_free(&cfg);
	return 0;
}

static json_t *load_tree(const char *path, char *err, size_t errlen)
{
	struct mg_config cfg;
	json_error_t je;
	json_t *root;

	/* the real loader first: its messages are the ones users know */
	if (mg_config_load_file(path, &cfg, err, errlen) != 0)
		return NULL;
	mg_config_free(&cfg);
	if (!(root = json_load_file(path, JSON_REJECT_DUPLICATES, &je)))
		snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	return root;
}

int mg_config_write_limits(const char *path, const struct mg_limit_update *u, size_t n, FILE *diff,
			   char *err, size_t errlen)
{
	json_t *root = load_tree(path, err, errlen);
	int changed = -1;
	char uerr[512];

	if (!root)
		return -1;
	/* the diff is printed only once the file is written */
	char *buf = NULL;
	size_t len = 0;
	FILE *pending = open_memstream(&buf, &len);
	if (!pending) {
		snprintf(err, errlen, "%s: out of memory", path);
	} else if ((changed = mg_config_update_limits(root, u, n, pending, uerr, sizeof uerr)) < 0) {
		snprintf(err, errlen, "%s: %s; nothing written", path, uerr);
	} else if (changed > 0 && (still_loads(root, path, err, errlen) ||
				   mg_json_write_atomic(path, root, MG_CONFIG_DUMP_FLAGS, err, errlen))) {
		changed = -1;
	}
	if (pending && fclose(pending) == 0 && changed > 0 && diff)
		fputs(buf, diff);
	free(buf);
	json_decref(root);
	return changed;
}
