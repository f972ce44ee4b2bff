/* Unit tests for shard.c: K/N parsing, the documented hash (pinned values:
 * a change would reshuffle every CI matrix), coverage, stability, --only. */
#include "testutil.h"

#include "shard.h"

static void parse_err(const char *s, const char *want)
{
	char err[256] = "";
	unsigned k = 99, n = 99;

	assert_int_equal(mg_shard_parse(s, &k, &n, err, sizeof err), -1);
	assert_string_equal(err, want);
}

static void test_parse(void **state)
{
	char err[256];
	unsigned k = 0, n = 0;

	(void)state;
	assert_int_equal(mg_shard_parse("2/3", &k, &n, err, sizeof err), 0);
	assert_int_equal(k, 2);
	assert_int_equal(n, 3);
	assert_int_equal(mg_shard_parse("1/1", &k, &n, err, sizeof err), 0);
	assert_int_equal(mg_shard_parse("1000/1000", &k, &n, err, sizeof err), 0);
	assert_int_equal(mg_shard_parse("007/010", &k, &n, err, sizeof err), 0);
	assert_int_equal(k, 7);
	assert_int_equal(n, 10);
	parse_err("0/3", "--shard 0/3: K must be between 1 and N (3); shards count from 1");
	parse_err("4/3", "--shard 4/3: K must be between 1 and N (3); shards count from 1");
	parse_err("1/0", "--shard 1/0: N must be between 1 and 1000");
	parse_err("1/1001", "--shard 1/1001: N must be between 1 and 1000");
	parse_err("1/99999", "--shard \"1/99999\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err("2", "--shard \"2\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err("2/", "--shard \"2/\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err("/3", "--shard \"/3\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err("-1/3", "--shard \"-1/3\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err("+1/3", "--shard \"+1/3\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err(" 1/3", "--shard \" 1/3\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err("1/3 ", "--shard \"1/3 \": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err("1/3/4", "--shard \"1/3/4\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err("1 of 3", "--shard \"1 of 3\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err("", "--shard \"\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err("1/\n3", "--shard \"1/?3\": expected K/N, like 2/3 (shard K of N, K from 1)");
	parse_err(NULL, "--shard \"\": expected K/N, like 2/3 (shard K of N, K from 1)");
}

static void test_hash_pinned(void **state)
{
	(void)state;
	/* FNV-1a 64 reference vectors */
	assert_true(mg_fnv1a64("", 0, MG_FNV1A64_BASIS) == 0xcbf29ce484222325ULL);
	assert_true(mg_fnv1a64("a", 1, MG_FNV1A64_BASIS) == 0xaf63dc4c8601ec8cULL);
	assert_true(mg_fnv1a64("foobar", 6, MG_FNV1A64_BASIS) == 0x85944171f73967e8ULL);
	/* the weight and owners are an interface: these must never change */
	assert_true(mg_shard_weight("api", 1) == 0x71e497a295170fcaULL);
	assert_true(mg_shard_weight("hold-64MiB", 1) == 0x9e88615dda645a69ULL);
	const unsigned api[] = { 1, 2, 3, 4, 4 }, worker[] = { 1, 2, 3, 3, 3 };
	for (unsigned n = 1; n <= 5; n++) {
		assert_int_equal(mg_shard_of("api", n), api[n - 1]);
		assert_int_equal(mg_shard_of("worker", n), worker[n - 1]);
	}
	assert_int_equal(mg_shard_of("api", 0), 0);
}

/* A config with fixtures f0..f{n-1} (names "fixture-<i>"). */
static void make_config(struct mg_config *cfg, size_t n, const char *extra_name)
{
	size_t cap = 64 + (n + 1) * 64;
	char *json = malloc(cap), err[256];
	size_t used = 0;

	assert_non_null(json);
	used += (size_t)snprintf(json + used, cap - used, "{\"version\": 1, \"fixtures\": [");
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(json + used, cap - used,
					 "%s{\"name\": \"fixture-%zu\", \"command\": [\"true\"]}",
					 i ? ", " : "", i);
	if (extra_name)
		used += (size_t)snprintf(json + used, cap - used,
					 ", {\"name\": \"%s\", \"command\": [\"true\"]}", extra_name);
	snprintf(json + used, cap - used, "]}");
	if (mg_config_load_string(json, "test", cfg, err, sizeof err))
		fail_msg("%s", err);
	free(json);
}

static bool has(const struct mg_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nfixtures; i++)
		if (strcmp(cfg->fixtures[i].name, name) == 0)
			return true;
	return false;
}

/* For N = 1..5, the shards together hold every fixture exactly once, in
 * config order within each shard. */
static void test_cover_exactly_once(void **state)
{
	enum { NF = 40 };
	(void)state;
	for (unsigned n = 1; n <= 5; n++) {
		int seen[NF] = { 0 };
		for (unsigned k = 1; k <= n; k++) {
			struct mg_config cfg;
			make_config(&cfg, NF, NULL);
			assert_int_equal(mg_select_shard(&cfg, k, n), 0);
			size_t last = 0;
			for (size_t i = 0; i < cfg.nfixtures; i++) {
				size_t idx = strtoul(cfg.fixtures[i].name + 8, NULL, 10);
				assert_true(i == 0 || idx > last);
				last = idx;
				seen[idx]++;
				assert_int_equal(mg_shard_of(cfg.fixtures[i].name, n), k);
			}
			mg_config_free(&cfg);
		}
		for (int i = 0; i < NF; i++)
			if (seen[i] != 1)
				fail_msg("N=%u: fixture-%d is on %d shards", n, i, seen[i]);
	}
}

/* Adding a fixture moves no other; N -> N+1 only moves fixtures to the new
 * shard. */
static void test_stable(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= 5; n++) {
		for (unsigned k = 1; k <= n; k++) {
			struct mg_config before, after;
			make_config(&before, 30, NULL);
			make_config(&after, 30, "brand-new");
			assert_int_equal(mg_select_shard(&before, k, n), 0);
			assert_int_equal(mg_select_shard(&after, k, n), 0);
			size_t extra = has(&after, "brand-new");
			assert_int_equal(after.nfixtures, before.nfixtures + extra);
			for (size_t i = 0; i < before.nfixtures; i++)
				assert_string_equal(after.fixtures[i].name, before.fixtures[i].name);
			mg_config_free(&before);
			mg_config_free(&after);
		}
	}
	for (int i = 0; i < 500; i++) {
		char name[32];
		snprintf(name, sizeof name, "svc-%d", i);
		for (unsigned n = 1; n < 8; n++) {
			unsigned a = mg_shard_of(name, n), b = mg_shard_of(name, n + 1);
			assert_true(b == a || b == n + 1);
		}
	}
}

/* Roughly even: 2000 names over 4 shards, each within 20% of 500. */
static void test_balance(void **state)
{
	int count[5] = { 0 };

	(void)state;
	for (int i = 0; i < 2000; i++) {
		char name[32];
		snprintf(name, sizeof name, "t%d", i);
		count[mg_shard_of(name, 4)]++;
	}
	assert_int_equal(count[0], 0);
	for (int k = 1; k <= 4; k++)
		if (count[k] < 400 || count[k] > 600)
			fail_msg("shard %d of 4 has %d of 2000 names", k, count[k]);
}

static char *describe(unsigned k, unsigned n, const struct mg_config *cfg, size_t total)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	mg_shard_describe(out, k, n, cfg, total);
	assert_int_equal(fclose(out), 0);
	return buf;
}

static void test_empty_shard_and_describe(void **state)
{
	struct mg_config cfg;
	char *text;

	(void)state;
	/* "api" is on shard 3 of 3, so shards 1 and 2 are empty */
	assert_int_equal(mg_config_load_string("{\"version\": 1, \"fixtures\": [{\"name\": \"api\", "
					       "\"command\": [\"true\"]}]}", "t", &cfg, NULL, 0), 0);
	assert_int_equal(mg_select_shard(&cfg, 1, 3), 0);
	assert_int_equal(cfg.nfixtures, 0);
	text = describe(1, 3, &cfg, 1);
	assert_string_equal(text, "memgate: shard 1/3: no fixtures (the config's 1 is on other "
				  "shards); nothing to run\n");
	free(text);
	mg_config_free(&cfg);

	make_config(&cfg, 4, NULL);
	assert_int_equal(mg_select_shard(&cfg, 2, 2), 0);
	text = describe(2, 2, &cfg, 4);
	/* fixture-0..3 over 2 shards, pinned */
	assert_string_equal(text, "memgate: shard 2/2: 1 of 4 fixtures (fixture-2)\n");
	free(text);
	mg_config_free(&cfg);
}

static void test_select_only(void **state)
{
	struct mg_config cfg;
	char err[256] = "";
	char *only[] = { "fixture-3", "fixture-1" }, *bad[] = { "fixture-1", "nope" };

	(void)state;
	make_config(&cfg, 4, NULL);
	assert_int_equal(mg_select_only(&cfg, only, 0, err, sizeof err), 0);
	assert_int_equal(cfg.nfixtures, 4);
	assert_int_equal(mg_select_only(&cfg, bad, 2, err, sizeof err), -1);
	assert_string_equal(err, "--only nope: no such fixture; the config has: fixture-0 fixture-1 "
				 "fixture-2 fixture-3");
	assert_int_equal(cfg.nfixtures, 4); /* unchanged on error */
	assert_int_equal(mg_select_only(&cfg, only, 2, err, sizeof err), 0);
	/* config order, not --only order */
	assert_int_equal(cfg.nfixtures, 2);
	assert_string_equal(cfg.fixtures[0].name, "fixture-1");
	assert_string_equal(cfg.fixtures[1].name, "fixture-3");
	mg_config_free(&cfg);
}

static void test_annotate(void **state)
{
	json_t *rep = json_object();

	(void)state;
	assert_int_equal(mg_shard_annotate(rep, 2, 3), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(rep, "shard"), "index")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(rep, "shard"), "count")), 3);
	json_decref(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_hash_pinned),
		cmocka_unit_test(test_cover_exactly_once),
		cmocka_unit_test(test_stable),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_empty_shard_and_describe),
		cmocka_unit_test(test_select_only),
		cmocka_unit_test(test_annotate),
	};
	return cmocka_run_group_tests_name("shard", tests, NULL, NULL);
}
