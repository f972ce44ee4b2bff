/* Unit tests for config_write.c: in-place limit updates keep every other
 * key and the key order, diffs, atomic writes, and a config that does not
 * load is left byte-identical. */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>

#include "config_write.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/memgate-cw-%d-XXXXXX", (int)getpid());
	return mkdtemp(dir) ? 0 : -1;
}

/* Remove every file left in dir, then dir. */
static int remove_dir(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	(void)state;
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	return rmdir(dir);
}

static char *path_of(const char *name)
{
	static char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 16);
	assert_non_null(f);
	assert_non_null(buf);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Only the files in dir other than "." and ".."; catches stray temp files. */
static int count_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Custom key order everywhere (limits before name, $schema last), every
 * kind of key, already in jansson's 2-space layout so the output can be
 * compared byte for byte. */
static const char config_text[] =
	"{\n"
	"  \"fixtures\": [\n"
	"    {\n"
	"      \"limits\": {\n"
	"        \"cgroup\": \"1GiB\",\n"
	"        \"tree_rss\": \"200MiB\"\n"
	"      },\n"
	"      \"name\": \"api\",\n"
	"      \"env\": {\n"
	"        \"Z\": \"1\",\n"
	"        \"A\": \"2\"\n"
	"      },\n"
	"      \"command\": [\n"
	"        \"./api\",\n"
	"        \"--selftest\"\n"
	"      ],\n"
	"      \"timeout\": \"30s\"\n"
	"    },\n"
	"    {\n"
	"      \"command\": [\n"
	"        \"worker\"\n"
	"      ],\n"
	"      \"name\": \"worker\",\n"
	"      \"pss\": true\n"
	"    }\n"
	"  ],\n"
	"  \"defaults\": {\n"
	"    \"limits\": {\n"
	"      \"cgroup\": \"2GiB\"\n"
	"    },\n"
	"    \"regression\": {\n"
	"      \"max_increase\": \"5%\"\n"
	"    },\n"
	"    \"interval\": \"20ms\"\n"
	"  },\n"
	"  \"version\": 1,\n"
	"  \"$schema\": \"https://example.invalid/memgate.schema.json\"\n"
	"}\n";

/* What config_text becomes: two values replaced, one limits object added
 * at the end of "worker", nothing else moved. */
static const char updated_text[] =
	"{\n"
	"  \"fixtures\": [\n"
	"    {\n"
	"      \"limits\": {\n"
	"        \"cgroup\": \"1GiB\",\n"
	"        \"tree_rss\": \"210MiB\"\n"
	"      },\n"
	"      \"name\": \"api\",\n"
	"      \"env\": {\n"
	"        \"Z\": \"1\",\n"
	"        \"A\": \"2\"\n"
	"      },\n"
	"      \"command\": [\n"
	"        \"./api\",\n"
	"        \"--selftest\"\n"
	"      ],\n"
	"      \"timeout\": \"30s\"\n"
	"    },\n"
	"    {\n"
	"      \"command\": [\n"
	"        \"worker\"\n"
	"      ],\n"
	"      \"name\": \"worker\",\n"
	"      \"pss\": true,\n"
	"      \"limits\": {\n"
	"        \"cgroup\": \"610MiB\",\n"
	"        \"tree_rss\": \"72MiB\"\n"
	"      }\n"
	"    }\n"
	"  ],\n"
	"  \"defaults\": {\n"
	"    \"limits\": {\n"
	"      \"cgroup\": \"2GiB\"\n"
	"    },\n"
	"    \"regression\": {\n"
	"      \"max_increase\": \"5%\"\n"
	"    },\n"
	"    \"interval\": \"20ms\"\n"
	"  },\n"
	"  \"version\": 1,\n"
	"  \"$schema\": \"https://example.invalid/memgate.schema.json\"\n"
	"}\n";

#define MiB ((int64_t)1 << 20)
#define GiB ((int64_t)1 << 30)

static const struct mg_limit_update updates[] = {
	{ "api", MG_METRIC_TREE_RSS, "210MiB", 210 * MiB, NULL },
	{ "api", MG_METRIC_CGROUP, "1GiB", GiB, NULL },          /* same value: no change */
	{ "worker", MG_METRIC_CGROUP, "610MiB", 610 * MiB, NULL }, /* was from defaults */
	{ "worker", MG_METRIC_TREE_RSS, "72MiB", 72 * MiB, NULL }, /* was none */
};

static char *capture_write(const char *path, const struct mg_limit_update *u, size_t n, int *rc,
			   char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	*rc = mg_config_write_limits(path, u, n, out, err, errlen);
	assert_int_equal(fclose(out), 0);
	return buf;
}

static void test_round_trip_keeps_everything_else(void **state)
{
	char *p = path_of("memgate.json"), err[512] = "";
	int rc;

	(void)state;
	write_file(p, config_text);
	assert_int_equal(chmod(p, 0640), 0);
	char *diff = capture_write(p, updates, 4, &rc, err, sizeof err);
	if (rc != 3)
		fail_msg("rc %d: %s", rc, err);
	assert_string_equal(diff, "fixtures[0].limits.tree_rss: \"200MiB\" -> \"210MiB\"\n"
				  "fixtures[1].limits.cgroup: (defaults \"2GiB\") -> \"610MiB\"\n"
				  "fixtures[1].limits.tree_rss: (none) -> \"72MiB\"\n");
	free(diff);
	char *now = read_file(p);
	assert_string_equal(now, updated_text);
	free(now);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(count_files(), 1); /* no temporary file left */
	/* and memgate loads it with the new limits */
	struct mg_config cfg;
	assert_int_equal(mg_config_load_file(p, &cfg, err, sizeof err), 0);
	assert_int_equal(cfg.fixtures[0].limits[MG_METRIC_TREE_RSS], 210 * MiB);
	assert_int_equal(cfg.fixtures[1].limits[MG_METRIC_CGROUP], 610 * MiB);
	mg_config_free(&cfg);
	unlink(p);
}

static void test_no_change_no_write(void **state)
{
	char *p = path_of("same.json"), err[512] = "";
	struct stat before, after;
	int rc;

	(void)state;
	write_file(p, config_text);
	assert_int_equal(stat(p, &before), 0);
	/* "209715200B" is 200MiB too */
	const struct mg_limit_update same[] = { { "api", MG_METRIC_TREE_RSS, "209715200B", 200 * MiB, NULL } };
	char *diff = capture_write(p, same, 1, &rc, err, sizeof err);
	assert_int_equal(rc, 0);
	assert_string_equal(diff, "");
	free(diff);
	assert_int_equal(stat(p, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino); /* not even rewritten */
	char *now = read_file(p);
	assert_string_equal(now, config_text);
	free(now);
	unlink(p);
}

/* Phase limits: an existing entry updated, one from defaults copied into
 * the fixture's own, a new entry (and "phase_limits" itself) made at the
 * end; every other key where it was; the result loads with them. */
static void test_phase_limits_written(void **state)
{
	static const char text[] =
		"{\n"
		"  \"version\": 1,\n"
		"  \"defaults\": {\n"
		"    \"phase_limits\": {\n"
		"      \"startup\": {\n"
		"        \"tree_rss\": \"100MiB\"\n"
		"      }\n"
		"    }\n"
		"  },\n"
		"  \"fixtures\": [\n"
		"    {\n"
		"      \"name\": \"api\",\n"
		"      \"phase_limits\": {\n"
		"        \"tests/t.py::*\": {\n"
		"          \"cgroup\": \"200MiB\"\n"
		"        }\n"
		"      },\n"
		"      \"command\": [\n"
		"        \"./api\"\n"
		"      ]\n"
		"    },\n"
		"    {\n"
		"      \"name\": \"worker\",\n"
		"      \"command\": [\n"
		"        \"worker\"\n"
		"      ]\n"
		"    }\n"
		"  ]\n"
		"}\n";
	const struct mg_limit_update u[] = {
		{ "api", MG_METRIC_CGROUP, "150MiB", 150 * MiB, "tests/t.py::*" },
		{ "api", MG_METRIC_TREE_RSS, "90MiB", 90 * MiB, "startup" },
		{ "api", MG_METRIC_TREE_RSS, "1.2GiB", 1288490189, "load" },
		{ "worker", MG_METRIC_MAX_PROCESS_HWM, "64MiB", 64 * MiB, "t.py::test_x[1]" },
		{ "api", MG_METRIC_TREE_RSS, "300MiB", 300 * MiB, NULL },
	};
	char *p = path_of("phases.json"), err[512] = "";
	int rc;

	(void)state;
	write_file(p, text);
	char *diff = capture_write(p, u, 5, &rc, err, sizeof err);
	if (rc != 5)
		fail_msg("rc %d: %s", rc, err);
	assert_string_equal(diff, "fixtures[0].phase_limits[\"tests/t.py::*\"].cgroup: \"200MiB\" -> \"150MiB\"\n"
				  "fixtures[0].phase_limits[\"startup\"].tree_rss: (defaults \"100MiB\") -> \"90MiB\"\n"
				  "fixtures[0].phase_limits[\"load\"].tree_rss: (none) -> \"1.2GiB\"\n"
				  "fixtures[1].phase_limits[\"t.py::test_x[1]\"].max_process_hwm: (none) -> \"64MiB\"\n"
				  "fixtures[0].limits.tree_rss: (none) -> \"300MiB\"\n");
	free(diff);
	char *now = read_file(p);
	assert_contains(now, "      \"name\": \"api\",\n"
			     "      \"phase_limits\": {\n"
			     "        \"tests/t.py::*\": {\n"
			     "          \"cgroup\": \"150MiB\"\n"
			     "        },\n"
			     "        \"startup\": {\n"
			     "          \"tree_rss\": \"90MiB\"\n"
			     "        },\n"
			     "        \"load\": {\n"
			     "          \"tree_rss\": \"1.2GiB\"\n"
			     "        }\n"
			     "      },\n"
			     "      \"command\": [\n");
	assert_contains(now, "      \"name\": \"worker\",\n"
			     "      \"command\": [\n"
			     "        \"worker\"\n"
			     "      ],\n"
			     "      \"phase_limits\": {\n"
			     "        \"t.py::test_x[1]\": {\n");
	assert_contains(now, "    \"phase_limits\": {\n      \"startup\": {\n        \"tree_rss\": \"100MiB\""); /* defaults kept */
	free(now);
	struct mg_config cfg;
	assert_int_equal(mg_config_load_file(p, &cfg, err, sizeof err), 0);
	assert_int_equal(cfg.fixtures[0].nphase_limits, 3);
	assert_int_equal(cfg.fixtures[1].nphase_limits, 2); /* its own and the defaults' */
	mg_config_free(&cfg);
	/* written again: nothing changes */
	diff = capture_write(p, u, 5, &rc, err, sizeof err);
	assert_int_equal(rc, 0);
	free(diff);
	/* a phase_limits that is not an object: refused, file untouched */
	json_t *root = json_pack("{s:[{s:s, s:i}]}", "fixtures", "name", "api", "phase_limits", 3);
	assert_int_equal(mg_config_update_limits(root, u, 1, NULL, err, sizeof err), -1);
	assert_string_equal(err, "fixtures[0].phase_limits: expected an object");
	json_decref(root);
	unlink(p);
}

/* A config that does not load is never written, whatever is wrong with it. */
static void test_bad_config_left_identical(void **state)
{
	static const char *const bad[] = {
		"{\"version\": 1, \"fixtures\": [{\"name\": \"api\", \"command\": [\"x\"], \"limts\": {}}]}\n",
		"{\"version\": 1, \"fixtures\": [{\"name\": \"api\", \"command\": [\"x\"],}\n",
		"{\"version\": 2, \"fixtures\": [{\"name\": \"api\", \"command\": [\"x\"]}]}\n",
		"",
		"\xff\xfe garbage",
	};
	static const char *const want[] = {
		"fixtures[0].limts: unknown key (did you mean \"limits\"?)",
		":1:",
		"unsupported version 2",
		":1:0: '[' or '{' expected near end of file",
		":1:0: unable to decode byte 0xff",
	};
	char *p = path_of("bad.json"), err[512];
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(p, bad[i]);
		err[0] = '\0';
		char *diff = capture_write(p, updates, 1, &rc, err, sizeof err);
		assert_int_equal(rc, -1);
		assert_string_equal(diff, "");
		free(diff);
		assert_contains(err, p);
		assert_contains(err, want[i]);
		char *now = read_file(p);
		assert_string_equal(now, bad[i]);
		free(now);
		assert_int_equal(count_files(), 1);
	}
	/* missing file */
	unlink(p);
	assert_int_equal(mg_config_write_limits(p, updates, 1, NULL, err, sizeof err), -1);
	assert_contains(err, "cannot read: ENOENT (No such file or directory)");
	assert_int_equal(count_files(), 0);
}

static void test_unknown_fixture(void **state)
{
	char *p = path_of("gone.json"), err[512];
	const struct mg_limit_update gone[] = {
		{ "api", MG_METRIC_TREE_RSS, "210MiB", 210 * MiB, NULL },
		{ "renamed", MG_METRIC_TREE_RSS, "72MiB", 72 * MiB, NULL },
	};
	int rc;

	(void)state;
	write_file(p, config_text);
	char *diff = capture_write(p, gone, 2, &rc, err, sizeof err);
	assert_int_equal(rc, -1);
	assert_string_equal(diff, ""); /* nothing half-applied is reported */
	free(diff);
	assert_contains(err, "gone.json: fixture \"renamed\" is not in the config any more "
			     "(renamed or removed while tuning?); nothing written");
	char *now = read_file(p);
	assert_string_equal(now, config_text);
	free(now);
	unlink(p);
}

static void test_update_tree_errors(void **state)
{
	char err[256];
	json_t *arr = json_array(), *nolimits;

	(void)state;
	assert_int_equal(mg_config_update_limits(arr, updates, 1, NULL, err, sizeof err), -1);
	assert_string_equal(err, "not a memgate config (no \"fixtures\" array)");
	json_decref(arr);
	nolimits = json_loads("{\"fixtures\": [{\"name\": \"api\", \"limits\": 3}]}", 0, NULL);
	assert_non_null(nolimits);
	assert_int_equal(mg_config_update_limits(nolimits, updates, 1, NULL, err, sizeof err), -1);
	assert_string_equal(err, "fixtures[0].limits: expected an object");
	json_decref(nolimits);
}

static void test_symlink_followed(void **state)
{
	char target[256], link[256], err[512];
	int rc;

	(void)state;
	snprintf(target, sizeof target, "%s", path_of("real.json"));
	snprintf(link, sizeof link, "%s", path_of("link.json"));
	write_file(target, config_text);
	assert_int_equal(symlink("real.json", link), 0);
	char *diff = capture_write(link, updates, 1, &rc, err, sizeof err);
	assert_int_equal(rc, 1);
	free(diff);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	char *now = read_file(target);
	assert_contains(now, "\"tree_rss\": \"210MiB\"");
	free(now);
	unlink(link);
	unlink(target);
}

static void test_atomic_write(void **state)
{
	char err[512];
	json_t *doc = json_pack("{s:i, s:[s]}", "b", 1, "a", "x");

	(void)state;
	assert_int_equal(mg_json_write_atomic(path_of("out.json"), doc, MG_CONFIG_DUMP_FLAGS, err,
					      sizeof err), 0);
	char *now = read_file(path_of("out.json"));
	assert_string_equal(now, "{\n  \"b\": 1,\n  \"a\": [\n    \"x\"\n  ]\n}\n");
	free(now);
	struct stat st;
	assert_int_equal(stat(path_of("out.json"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	unlink(path_of("out.json"));
	assert_int_equal(mg_json_write_atomic("/nonexistent-dir-memgate/x.json", doc, 0, err,
					      sizeof err), -1);
	assert_string_equal(err, "cannot write /nonexistent-dir-memgate/x.json: the directory "
				 "/nonexistent-dir-memgate does not exist (create it first)");
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_keeps_everything_else),
		cmocka_unit_test(test_no_change_no_write),
		cmocka_unit_test(test_phase_limits_written),
		cmocka_unit_test(test_bad_config_left_identical),
		cmocka_unit_test(test_unknown_fixture),
		cmocka_unit_test(test_update_tree_errors),
		cmocka_unit_test(test_symlink_followed),
		cmocka_unit_test(test_atomic_write),
	};
	return cmocka_run_group_tests_name("config_write", tests, make_dir, remove_dir);
}
