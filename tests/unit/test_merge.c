/* Unit tests for merge.c and `memgate merge` (cmd_merge.c): verdicts,
 * interruptions, duplicates, schema and shard checks, exit statuses. */
#include "testutil.h"

#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/cmd.h"
#include "report/merge.h"

/* A schema 1 report with fixtures named in names (comma separated, may be
 * empty), all with the given verdict. */
static json_t *part(const char *verdict, const char *names, const char *interrupted)
{
	json_t *fixtures = json_array();
	char buf[256], *save = NULL;

	snprintf(buf, sizeof buf, "%s", names);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(fixtures, json_pack("{s:s, s:s, s:[], s:{s:i}}", "name", t,
							  "verdict", verdict, "reasons", "peak",
							  "tree_rss_bytes", 1048576));
	json_t *r = json_pack("{s:i, s:s, s:s, s:o, s:o}", "schema", 1, "memgate_version", "0.1.0",
			      "verdict", verdict, "interrupted_by",
			      interrupted ? json_string(interrupted) : json_null(), "fixtures", fixtures);
	assert_non_null(r);
	return r;
}

static json_t *shard(json_t *r, int k, int n)
{
	json_object_set_new(r, "shard", json_pack("{s:i, s:i}", "index", k, "count", n));
	return r;
}

static const char *const names3[] = { "A.json", "B.json", "C.json" };

static json_t *merge(json_t **parts, size_t n, char *err, size_t errlen)
{
	json_t *m = mg_merge_reports(parts, names3, n, err, errlen);
	for (size_t i = 0; i < n; i++)
		json_decref(parts[i]);
	return m;
}

static void test_pass_and_fail_fails(void **state)
{
	char err[256];
	json_t *parts[] = { part("pass", "api,worker", NULL), part("fail", "batch", NULL) };

	(void)state;
	json_t *m = merge(parts, 2, err, sizeof err);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "verdict")), "fail");
	assert_int_equal(json_integer_value(json_object_get(m, "schema")), 1);
	assert_string_equal(json_string_value(json_object_get(m, "memgate_version")), "0.1.0");
	assert_true(json_is_null(json_object_get(m, "interrupted_by")));
	json_t *fx = json_object_get(m, "fixtures");
	assert_int_equal(json_array_size(fx), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fx, 0), "name")), "api");
	assert_string_equal(json_string_value(json_object_get(json_array_get(fx, 1), "name")), "worker");
	assert_string_equal(json_string_value(json_object_get(json_array_get(fx, 2), "name")), "batch");
	json_decref(m);
}

static void test_worst_and_first_interrupt(void **state)
{
	char err[256];
	json_t *a[] = { part("pass", "a", NULL), part("error", "b", "SIGINT"), part("fail", "c", "SIGTERM") };
	json_t *b[] = { part("pass", "a", NULL), part("pass", "", NULL) };

	(void)state;
	json_t *m = merge(a, 3, err, sizeof err);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "verdict")), "error");
	assert_string_equal(json_string_value(json_object_get(m, "interrupted_by")), "SIGINT");
	json_decref(m);
	/* an empty shard merges and passes */
	m = merge(b, 2, err, sizeof err);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "verdict")), "pass");
	assert_int_equal(json_array_size(json_object_get(m, "fixtures")), 1);
	json_decref(m);
}

static void test_key_order_and_unknown_keys(void **state)
{
	char err[256];
	json_t *a = part("pass", "a", NULL), *b = part("pass", "b", NULL);

	(void)state;
	json_object_set_new(a, "git", json_string("abc123"));
	json_t *parts[] = { a, b };
	json_t *m = merge(parts, 2, err, sizeof err);
	assert_non_null(m);
	char *s = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(s, "{\"schema\":1,\"memgate_version\":\"0.1.0\",\"verdict\":\"pass\","
			       "\"interrupted_by\":null,\"git\":\"abc123\",\"fixtures\":["
			       "{\"name\":\"a\",\"verdict\":\"pass\",\"reasons\":[],\"peak\":"
			       "{\"tree_rss_bytes\":1048576}},"
			       "{\"name\":\"b\",\"verdict\":\"pass\",\"reasons\":[],\"peak\":"
			       "{\"tree_rss_bytes\":1048576}}]}");
	free(s);
	json_decref(m);
}

static void merge_err(json_t **parts, size_t n, const char *want)
{
	char err[512] = "";

	assert_null(merge(parts, n, err, sizeof err));
	assert_string_equal(err, want);
}

static void test_refusals(void **state)
{
	(void)state;
	json_t *dup[] = { part("pass", "api,x", NULL), part("fail", "y,api", NULL) };
	merge_err(dup, 2, "fixture \"api\" is in both A.json and B.json: the shards overlap (the "
			  "same --shard twice, or different configs?)");
	json_t *schema[] = { part("pass", "a", NULL), part("pass", "b", NULL) };
	json_object_set_new(schema[1], "schema", json_integer(2));
	merge_err(schema, 2, "B.json: not a memgate report: schema: expected 1, got 2 (this memgate "
			     "reads report schema 1)");
	json_t *tune[] = { json_pack("{s:i, s:[]}", "tune", 1, "fixtures") };
	merge_err(tune, 1, "A.json: not a memgate report: schema: missing (is this a memgate --json "
			   "report?)");
	json_t *verdict[] = { part("pass", "a", NULL), part("meh", "b", NULL) };
	merge_err(verdict, 2, "B.json: not a memgate report: verdict: expected \"pass\", \"fail\" or "
			      "\"error\", got \"meh\"");
	json_t *ib[] = { part("pass", "a", NULL) };
	json_object_set_new(ib[0], "interrupted_by", json_integer(2));
	merge_err(ib, 1, "A.json: not a memgate report: interrupted_by: expected a signal name like "
			 "\"SIGINT\" or null, got an integer");
	char err[64];
	assert_null(mg_merge_reports(NULL, NULL, 0, err, sizeof err));
	assert_string_equal(err, "no reports to merge");
}

/* Two parts of 40000 fixtures that overlap in one name, the last of each:
 * found, with both file names. One sorted index of every name, not a scan
 * of the earlier parts per fixture (which took 4.5 s for 2 x 10000). */
static void test_overlap_in_large_parts(void **state)
{
	(void)state;
	enum { N = 40000 };
	json_t *parts[2];
	char name[32], err[512] = "";
	for (int p = 0; p < 2; p++) {
		parts[p] = part("pass", "", NULL);
		json_t *fx = json_object_get(parts[p], "fixtures");
		for (int i = 0; i < N; i++) {
			snprintf(name, sizeof name, i == N - 1 ? "shared" : "p%d-%05d", p, i);
			json_array_append_new(fx, json_pack("{s:s, s:s}", "name", name, "verdict", "pass"));
		}
	}
	assert_null(merge(parts, 2, err, sizeof err));
	assert_string_equal(err, "fixture \"shared\" is in both A.json and B.json: the shards overlap (the "
				 "same --shard twice, or different configs?)");
}

static void test_shards(void **state)
{
	char err[512];

	(void)state;
	json_t *ok[] = { shard(part("pass", "a", NULL), 2, 3), shard(part("pass", "", NULL), 1, 3),
			 shard(part("fail", "b", NULL), 3, 3) };
	json_t *m = merge(ok, 3, err, sizeof err);
	assert_non_null(m);
	assert_null(json_object_get(m, "shard")); /* the merge is no shard */
	assert_string_equal(json_string_value(json_object_get(m, "verdict")), "fail");
	json_decref(m);
	json_t *missing[] = { shard(part("pass", "a", NULL), 1, 3), shard(part("pass", "b", NULL), 3, 3) };
	merge_err(missing, 2, "shard 2/3 is missing: every shard's report is needed (did its job "
			      "fail before writing it?)");
	json_t *twice[] = { shard(part("pass", "a", NULL), 1, 2), shard(part("pass", "", NULL), 1, 2) };
	merge_err(twice, 2, "shard 1/2 is given twice (B.json)");
	json_t *mixed[] = { shard(part("pass", "a", NULL), 1, 2), part("pass", "b", NULL) };
	merge_err(mixed, 2, "B.json is not a shard report (no \"shard\"), but A.json is shard 1/2: "
			    "merge the shards of one run");
	json_t *mixed2[] = { part("pass", "a", NULL), shard(part("pass", "b", NULL), 1, 2) };
	merge_err(mixed2, 2, "B.json is shard 1/2, but A.json is not a shard report (no \"shard\"): "
			     "merge the shards of one run");
	json_t *counts[] = { shard(part("pass", "a", NULL), 1, 2), shard(part("pass", "b", NULL), 2, 3) };
	merge_err(counts, 2, "B.json is shard 2/3, but A.json is shard 1/2: merge the shards of one run");
	json_t *bad[] = { shard(part("pass", "a", NULL), 3, 2) };
	merge_err(bad, 1, "A.json: shard: expected {\"index\": K, \"count\": N} with 1 <= K <= N <= 1000");
}

/* ------------------------------------------------------------ the command */

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/memgate-merge-%d-XXXXXX", (int)getpid());
	return mkdtemp(dir) ? 0 : -1;
}

static char *in_dir(const char *name)
{
	char *p = malloc(256);
	assert_non_null(p);
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static void dump(json_t *doc, const char *path)
{
	assert_int_equal(json_dump_file(doc, path, 0), 0);
	json_decref(doc);
}

static int remove_dir(void **state)
{
	static const char *const files[] = { "a.json", "b.json", "all.json", "broken.json" };

	(void)state;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *p = in_dir(files[i]);
		unlink(p);
		free(p);
	}
	return rmdir(dir);
}

static int cmd(const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[] = { "merge", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
	int argc = 1;

	while (argv[argc])
		argc++;
	return mg_cmd_merge(argc, argv);
}

static void test_command(void **state)
{
	char *a = in_dir("a.json"), *b = in_dir("b.json"), *all = in_dir("all.json");
	char *broken = in_dir("broken.json");
	json_error_t je;

	(void)state;
	dump(part("pass", "api", NULL), a);
	dump(part("fail", "batch", NULL), b);
	/* options after the reports work too (getopt permutes) */
	assert_int_equal(cmd(a, b, "-o", all), 1);
	json_t *m = json_load_file(all, 0, &je);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "verdict")), "fail");
	assert_int_equal(json_array_size(json_object_get(m, "fixtures")), 2);
	json_decref(m);
	unlink(all);
	assert_int_equal(cmd("-o", all, a, NULL), 0);
	/* duplicates: exit 2 and nothing written */
	unlink(all);
	assert_int_equal(cmd("-o", all, a, a), 2);
	assert_int_equal(access(all, F_OK), -1);
	FILE *f = fopen(broken, "w");
	assert_non_null(f);
	fputs("{\"schema\": 1,", f);
	fclose(f);
	assert_int_equal(cmd("-o", all, a, broken), 2);
	assert_int_equal(cmd("-o", all, NULL, NULL), 2); /* no reports */
	assert_int_equal(cmd("--bogus", a, NULL, NULL), 2);
	assert_int_equal(access(all, F_OK), -1);
	free(a), free(b), free(all), free(broken);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_and_fail_fails),
		cmocka_unit_test(test_worst_and_first_interrupt),
		cmocka_unit_test(test_key_order_and_unknown_keys),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_overlap_in_large_parts),
		cmocka_unit_test(test_shards),
		cmocka_unit_test_setup_teardown(test_command, make_dir, remove_dir),
	};
	return cmocka_run_group_tests_name("merge", tests, NULL, NULL);
}
