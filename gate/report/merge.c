/* merge: shard reports into one. Every check happens before anything is
 * built, so a refused merge leaves no half-merged output. */
#include "report/merge.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "report/report_load.h" /* mg_report_validate: "is this a schema 1 report" */
#include "shard.h"       /* MG_SHARD_MAX */

static const char *const own_keys[] = {
	"schema", "memgate_version", "verdict", "interrupted_by", "fixtures", "shard",
};
#define NOWN (sizeof own_keys / sizeof own_keys[0])

static int verdict_rank(const json_t *v)
{
	enum mg_verdict r;
	return mg_verdict_from_name(json_string_value(v), &r) == 0 ? (int)r : -1;
}

/* ------------------------------------------------------------- checking */

static int check_part(const json_t *r, const char *name, char *err, size_t errlen)
{
	char why[400];

	if (mg_report_validate(r, why, sizeof why)) {
		snprintf(err, errlen, "%s: not a memgate report: %s", name, why);
		return -1;
	}
	return 0;
}

/* A fixture name in two parts: the shards overlap. Every name of every
 * part in one sorted index (each part's names are unique already). */
static int check_duplicates(json_t *const *reports, const char *const *names, size_t n, char *err,
			    size_t errlen)
{
	size_t total = 0, k = 0;
	const struct mg_name_ref *first, *second;
	struct mg_name_ref *v;
	int rc = 0;

	for (size_t p = 0; p < n; p++)
		total += json_array_size(json_object_get(reports[p], "fixtures"));
	if (!(v = calloc(total ? total : 1, sizeof *v))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t p = 0; p < n; p++) {
		const json_t *fixtures = json_object_get(reports[p], "fixtures");
		for (size_t i = 0; i < json_array_size(fixtures); i++)
			v[k++] = (struct mg_name_ref){ json_string_value(json_object_get(json_array_get(fixtures, i),
										       "name")), p, i };
	}
	mg_names_sort(v, total);
	if (mg_names_first_duplicate(v, total, &first, &second)) {
		snprintf(err, errlen, "fixture \"%.100s\" is in both %s and %s: the shards overlap (the same "
				      "--shard twice, or different configs?)",
			 second->name, names[first->group], names[second->group]);
		rc = -1;
	}
	free(v);
	return rc;
}

/* "shard": {"index": K, "count": N} -> 0, or 1 when absent, -1 malformed */
static int shard_of(const json_t *r, json_int_t *k, json_int_t *count)
{
	const json_t *s = json_object_get(r, "shard");

	if (!s)
		return 1;
	*k = json_integer_value(json_object_get(s, "index"));
	*count = json_integer_value(json_object_get(s, "count"));
	if (!json_is_integer(json_object_get(s, "index")) || *count < 1 || *k < 1 || *k > *count)
		return -1;
	return 0;
}

/* "shard K/N" of a part, for messages */
static void shard_text(const json_t *r, char *buf, size_t len)
{
	json_int_t k = 0, c = 0;

	if (shard_of(r, &k, &c) == 0)
		snprintf(buf, len, "shard %lld/%lld", (long long)k, (long long)c);
	else
		snprintf(buf, len, "not a shard report (no \"shard\")");
}

static int check_one_shard(json_t *const *reports, const char *const *names, size_t i,
			   json_int_t count, char *seen, char *err, size_t errlen)
{
	json_int_t k = 0, c = 0;
	int rc = shard_of(reports[i], &k, &c);
	char a[64], b[64];

	if (rc < 0) {
		snprintf(err, errlen, "%s: shard: expected {\"index\": K, \"count\": N} with 1 <= K <= N <= %d",
			 names[i], MG_SHARD_MAX);
		return -1;
	}
	if (rc > 0 || c != count) {
		shard_text(reports[i], a, sizeof a);
		shard_text(reports[0], b, sizeof b);
		snprintf(err, errlen, "%s is %s, but %s is %s: merge the shards of one run", names[i], a,
			 names[0], b);
		return -1;
	}
	if (seen[k]) {
		snprintf(err, errlen, "shard %lld/%lld is given twice (%s)", (long long)k,
			 (long long)count, names[i]);
		return -1;
	}
	seen[k] = 1;
	return 0;
}

static int missing_shard(const char *seen, json_int_t count, char *err, size_t errlen)
{
	for (json_int_t k = 1; k <= count; k++) {
		if (!seen[k]) {
			snprintf(err, errlen, "shard %lld/%lld is missing: every shard's report is needed "
					      "(did its job fail before writing it?)",
				 (long long)k, (long long)count);
			return -1;
		}
	}
	return 0;
}

/* When the parts say which shard they are, the set must be complete. */
static int check_shards(json_t *const *reports, const char *const *names, size_t n, char *err,
			size_t errlen)
{
	json_int_t k0 = 0, count = 0;
	int rc = shard_of(reports[0], &k0, &count);
	char *seen;

	if (rc > 0) {
		for (size_t i = 1; i < n; i++) {
			if (json_object_get(reports[i], "shard")) {
				char a[64];
				shard_text(reports[i], a, sizeof a);
				snprintf(err, errlen, "%s is %s, but %s is not a shard report (no "
						      "\"shard\"): merge the shards of one run",
					 names[i], a, names[0]);
				return -1;
			}
		}
		return 0;
	}
	if (rc < 0 || count > MG_SHARD_MAX) {
		snprintf(err, errlen, "%s: shard: expected {\"index\": K, \"count\": N} with 1 <= K <= N <= %d",
			 names[0], MG_SHARD_MAX);
		return -1;
	}
	if (!(seen = calloc((size_t)count + 1, 1))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = check_one_shard(reports, names, i, count, seen, err, errlen);
	if (rc == 0)
		rc = missing_shard(seen, count, err, errlen);
	free(seen);
	return rc;
}

/* -------------------------------------------------------------- building */

static bool own_key(const char *key)
{
	for (size_t i = 0; i < NOWN; i++)
		if (strcmp(own_keys[i], key) == 0)
			return true;
	return false;
}

static json_t *worst_verdict(json_t *const *reports, size_t n)
{
	int worst = 0;

	for (size_t i = 0; i < n; i++) {
		int r = verdict_rank(json_object_get(reports[i], "verdict"));
		if (r > worst)
			worst = r;
	}
	return json_string(mg_verdict_name((enum mg_verdict)worst));
}

static json_t *first_interrupt(json_t *const *reports, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *ib = json_object_get(reports[i], "interrupted_by");
		if (json_is_string(ib))
			return json_incref(ib);
	}
	return json_null();
}

static json_t *all_fixtures(json_t *const *reports, size_t n)
{
	json_t *all = json_array();

	for (size_t i = 0; all && i < n; i++) {
		if (json_array_extend(all, json_object_get(reports[i], "fixtures")) < 0) {
			json_decref(all);
			return NULL;
		}
	}
	return all;
}

static json_t *build(json_t *const *reports, size_t n)
{
	json_t *out = json_object(), *v;
	const char *key;
	int rc = 0;

	if (!out)
		return NULL;
	rc |= json_object_set_new(out, "schema", json_integer(1));
	v = json_object_get(reports[0], "memgate_version");
	rc |= json_object_set_new(out, "memgate_version", v ? json_incref(v) : json_null());
	rc |= json_object_set_new(out, "verdict", worst_verdict(reports, n));
	rc |= json_object_set_new(out, "interrupted_by", first_interrupt(reports, n));
	/* keys this code does not know (newer memgates) come from the first part */
	json_object_foreach(reports[0], key, v)
		if (!own_key(key))
			rc |= json_object_set(out, key, v);
	rc |= json_object_set_new(out, "fixtures", all_fixtures(reports, n));
	if (rc) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *mg_merge_reports(json_t *const *reports, const char *const *names, size_t n, char *err,
			 size_t errlen)
{
	json_t *out;

	if (n == 0) {
		snprintf(err, errlen, "no reports to merge");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (check_part(reports[i], names[i], err, errlen))
			return NULL;
	/* shards first: "shard 2/3 is given twice" says more than the overlap it causes */
	if (check_shards(reports, names, n, err, errlen) ||
	    check_duplicates(reports, names, n, err, errlen))
		return NULL;
	if (!(out = build(reports, n)))
		snprintf(err, errlen, "out of memory");
	return out;
}
