/* Unit tests for report_load.c (the one report reader and validator) and
 * names.c (the sorted index behind its duplicate check): every refusal and
 * its message, the size and name caps, files, pipes and devices, and
 * reports with many fixtures. */
#include "testutil.h"

#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>

#include "names.h"
#include "report/report_load.h"

/* {"schema": 1, "verdict": "pass", "fixtures": [{"name": NAME, "verdict": "pass"}, ...]} */
static json_t *report_of(const char *const *names, size_t n)
{
	json_t *fx = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(fx, json_pack("{s:s, s:s}", "name", names[i], "verdict", "pass"));
	json_t *r = json_pack("{s:i, s:s, s:n, s:o}", "schema", 1, "verdict", "pass", "interrupted_by", "fixtures", fx);
	assert_non_null(r);
	return r;
}

static void refused(json_t *doc, const char *want)
{
	char err[512] = "";
	assert_int_equal(mg_report_validate(doc, err, sizeof err), -1);
	assert_string_equal(err, want);
	json_decref(doc);
}

static json_t *one(void)
{
	return report_of((const char *const[]){ "api" }, 1);
}

static json_t *fixture0(json_t *r)
{
	return json_array_get(json_object_get(r, "fixtures"), 0);
}

static void top_level(void **state)
{
	(void)state;
	json_t *r = one();
	char err[256];
	assert_int_equal(mg_report_validate(r, err, sizeof err), 0);
	json_decref(r);
	refused(json_pack("[]"), "(top level): expected a JSON object, got an array (is this a memgate --json report?)");
	refused(NULL, "(top level): expected a JSON object, got nothing (is this a memgate --json report?)");
	r = one();
	json_object_del(r, "schema");
	refused(r, "schema: missing (is this a memgate --json report?)");
	r = one();
	json_object_set_new(r, "schema", json_integer(2));
	refused(r, "schema: expected 1, got 2 (this memgate reads report schema 1)");
	r = one();
	json_object_set_new(r, "schema", json_string("1"));
	refused(r, "schema: expected the integer 1, got a string (this memgate reads report schema 1)");
	r = one();
	json_object_set_new(r, "schema", json_real(1.0));
	refused(r, "schema: expected the integer 1, got a number with a fraction (this memgate reads report schema 1)");
	r = one();
	json_object_set_new(r, "schema", json_true());
	refused(r, "schema: expected the integer 1, got a boolean (this memgate reads report schema 1)");
	r = one();
	json_object_del(r, "verdict");
	refused(r, "verdict: missing (expected \"pass\", \"fail\" or \"error\")");
	r = one();
	json_object_set_new(r, "verdict", json_string("PASS\nforged line"));
	refused(r, "verdict: expected \"pass\", \"fail\" or \"error\", got \"PASS?forged line\"");
	r = one();
	json_object_set_new(r, "verdict", json_integer(0));
	refused(r, "verdict: expected \"pass\", \"fail\" or \"error\", got an integer");
	r = one();
	json_object_set_new(r, "interrupted_by", json_integer(2));
	refused(r, "interrupted_by: expected a signal name like \"SIGINT\" or null, got an integer");
	r = one();
	json_object_del(r, "interrupted_by"); /* absent is fine */
	assert_int_equal(mg_report_validate(r, err, sizeof err), 0);
	json_object_del(r, "fixtures");
	refused(r, "fixtures: missing (expected an array)");
	r = one();
	json_object_set_new(r, "fixtures", json_object());
	refused(r, "fixtures: expected an array, got an object");
}

/* The report's verdict is the worst of its fixtures': a report that says
 * "pass" over a failing fixture (hand-edited, or put together by a script)
 * would make merge exit 0 and post a green check run. Worse is fine (an
 * interrupted run is "error" over fixtures that passed). */
static void verdict_not_better_than_fixtures(void **state)
{
	(void)state;
	json_t *r = report_of((const char *const[]){ "api", "db" }, 2);
	json_object_set_new(json_array_get(json_object_get(r, "fixtures"), 1), "verdict", json_string("fail"));
	refused(r, "verdict: \"pass\", but fixtures[1] (\"db\") is \"fail\": a report's verdict is the worst of "
		   "its fixtures' (was the report edited?)");
	r = one();
	json_object_set_new(fixture0(r), "verdict", json_string("error"));
	json_object_set_new(r, "verdict", json_string("fail"));
	refused(r, "verdict: \"fail\", but fixtures[0] (\"api\") is \"error\": a report's verdict is the worst of "
		   "its fixtures' (was the report edited?)");
	char err[256];
	r = one();
	json_object_set_new(r, "verdict", json_string("error")); /* interrupted: worse than its fixtures */
	assert_int_equal(mg_report_validate(r, err, sizeof err), 0);
	json_object_set_new(fixture0(r), "verdict", json_string("fail"));
	assert_int_equal(mg_report_validate(r, err, sizeof err), 0);
	json_decref(r);
}

static void fixtures(void **state)
{
	(void)state;
	json_t *r = one();
	json_array_append_new(json_object_get(r, "fixtures"), json_integer(3));
	refused(r, "fixtures[1]: expected an object, got an integer");
	r = one();
	json_object_del(fixture0(r), "name");
	refused(r, "fixtures[0].name: missing (expected a non-empty string)");
	r = one();
	json_object_set_new(fixture0(r), "name", json_integer(7));
	refused(r, "fixtures[0].name: expected a non-empty string, got an integer");
	r = one();
	json_object_set_new(fixture0(r), "name", json_string(""));
	refused(r, "fixtures[0].name: expected a non-empty string");
	r = one();
	json_object_set_new(fixture0(r), "name", json_stringn("a\0b", 3));
	refused(r, "fixtures[0].name: contains a NUL character");
	r = one();
	json_object_set_new(fixture0(r), "verdict", json_string("ok"));
	refused(r, "fixtures[0].verdict: expected \"pass\", \"fail\" or \"error\", got \"ok\"");
	r = one();
	json_object_del(fixture0(r), "verdict");
	refused(r, "fixtures[0].verdict: missing (expected \"pass\", \"fail\" or \"error\")");
	r = one();
	json_object_set_new(fixture0(r), "reasons", json_string("x"));
	refused(r, "fixtures[0].reasons: expected an array of strings, got a string");
	r = one();
	json_object_set_new(fixture0(r), "reasons", json_pack("[s, n]", "x"));
	refused(r, "fixtures[0].reasons[1]: expected a string, got null");
	r = one();
	json_object_set_new(fixture0(r), "limits", json_pack("{}"));
	refused(r, "fixtures[0].limits: expected an array, got an object");
	r = one();
	json_object_set_new(fixture0(r), "limits", json_pack("[{s:s}, s]", "metric", "tree_rss", "x"));
	refused(r, "fixtures[0].limits[1]: expected an object, got a string");
	r = one();
	json_object_set_new(fixture0(r), "limits", json_pack("[{}]"));
	refused(r, "fixtures[0].limits[0].metric: missing (expected a string)");
	r = one();
	json_object_set_new(fixture0(r), "peak", json_pack("[]"));
	refused(r, "fixtures[0].peak: expected an object or null, got an array");
	r = one();
	json_object_set_new(fixture0(r), "peak", json_pack("{s:n, s:f}", "cgroup_bytes", "tree_rss_bytes", 1.5));
	refused(r, "fixtures[0].peak.tree_rss_bytes: expected a non-negative integer or null, got a number with a fraction");
	r = one();
	json_object_set_new(fixture0(r), "peak", json_pack("{s:i}", "tree_pss_bytes", -1));
	refused(r, "fixtures[0].peak.tree_pss_bytes: expected a non-negative integer or null, got -1");
	/* null peak and unknown keys are fine (a fixture that did not run; newer memgates) */
	r = one();
	json_object_set_new(fixture0(r), "peak", json_null());
	json_object_set_new(fixture0(r), "future_key", json_true());
	char err[256];
	assert_int_equal(mg_report_validate(r, err, sizeof err), 0);
	json_decref(r);
}

static void name_cap(void **state)
{
	(void)state;
	char name[MG_REPORT_NAME_MAX + 2];
	memset(name, 'x', sizeof name - 1);
	name[MG_REPORT_NAME_MAX] = '\0';
	json_t *r = report_of((const char *const[]){ name }, 1);
	char err[512];
	assert_int_equal(mg_report_validate(r, err, sizeof err), 0); /* exactly 256 */
	json_decref(r);
	name[MG_REPORT_NAME_MAX] = 'x';
	name[MG_REPORT_NAME_MAX + 1] = '\0';
	refused(report_of((const char *const[]){ "ok", name }, 2),
		"fixtures[1].name: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" is 257 bytes long; a fixture name "
		"has at most 256");
}

/* A fixture with one phase {"name": "load", "verdict": "pass"}. */
static json_t *with_phase(void)
{
	json_t *r = one();
	json_object_set_new(fixture0(r), "phases", json_pack("[{s:s, s:s}]", "name", "load", "verdict", "pass"));
	return r;
}

static json_t *phase0(json_t *r)
{
	return json_array_get(json_object_get(fixture0(r), "phases"), 0);
}

/* "phases" is optional; when there, its entries are typed as a fixture's
 * (a baseline finds them by name), but a name may repeat. */
static void phases(void **state)
{
	(void)state;
	char err[512];
	json_t *r = with_phase();
	json_array_append_new(json_object_get(fixture0(r), "phases"),
			      json_pack("{s:s, s:s}", "name", "load", "verdict", "fail")); /* a name again */
	assert_int_equal(mg_report_validate(r, err, sizeof err), 0);
	json_decref(r);
	r = one();
	json_object_set_new(fixture0(r), "phases", json_object());
	refused(r, "fixtures[0].phases: expected an array, got an object");
	r = with_phase();
	json_array_append_new(json_object_get(fixture0(r), "phases"), json_string("load"));
	refused(r, "fixtures[0].phases[1]: expected an object, got a string");
	r = with_phase();
	json_object_del(phase0(r), "name");
	refused(r, "fixtures[0].phases[0].name: missing (expected a non-empty string)");
	r = with_phase();
	json_object_set_new(phase0(r), "name", json_string(""));
	refused(r, "fixtures[0].phases[0].name: expected a non-empty string");
	r = with_phase();
	json_object_set_new(phase0(r), "name", json_stringn("lo\0ad", 5));
	refused(r, "fixtures[0].phases[0].name: contains a NUL character");
	char name[MG_REPORT_NAME_MAX + 2];
	memset(name, 'p', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	r = with_phase();
	json_object_set_new(phase0(r), "name", json_string(name));
	refused(r, "fixtures[0].phases[0].name: \"pppppppppppppppppppppppppppppppppppppppp...\" is 257 bytes long; "
		   "a phase name has at most 256");
	r = with_phase();
	json_object_set_new(phase0(r), "verdict", json_string("ok"));
	refused(r, "fixtures[0].phases[0].verdict: expected \"pass\", \"fail\" or \"error\", got \"ok\"");
	r = with_phase();
	json_object_set_new(phase0(r), "limits", json_pack("[{s:i}]", "metric", 3));
	refused(r, "fixtures[0].phases[0].limits[0].metric: expected a string, got an integer");
	r = with_phase();
	json_object_set_new(phase0(r), "peak", json_pack("{s:i}", "cgroup_bytes", -1));
	refused(r, "fixtures[0].phases[0].peak.cgroup_bytes: expected a non-negative integer or null, got -1");
}

/* The first duplicate in array order, as a front-to-back scan finds it. */
static void duplicates(void **state)
{
	(void)state;
	refused(report_of((const char *const[]){ "a", "b", "a", "b" }, 4),
		"fixtures[2].name: duplicate fixture \"a\" (also fixtures[0])");
	refused(report_of((const char *const[]){ "b", "a", "c", "a", "b" }, 5),
		"fixtures[3].name: duplicate fixture \"a\" (also fixtures[1])");
	refused(report_of((const char *const[]){ "z", "y", "x", "x", "x" }, 5),
		"fixtures[3].name: duplicate fixture \"x\" (also fixtures[2])");
	json_t *r = report_of((const char *const[]){ "a", "A", "a.", "b" }, 4); /* all different */
	char err[256];
	assert_int_equal(mg_report_validate(r, err, sizeof err), 0);
	json_decref(r);
}

/* 200000 fixtures, the last one repeating the first: found, and the whole
 * check is n log n (pairwise, this was 2e10 comparisons). */
static void many_fixtures(void **state)
{
	(void)state;
	enum { N = 200000 };
	json_t *fx = json_array();
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "f%07d", (i * 7919) % N);
		json_array_append_new(fx, json_pack("{s:s, s:s}", "name", name, "verdict", "pass"));
	}
	json_t *r = json_pack("{s:i, s:s, s:o}", "schema", 1, "verdict", "pass", "fixtures", fx);
	char err[256];
	assert_int_equal(mg_report_validate(r, err, sizeof err), 0);
	json_array_append_new(fx, json_pack("{s:s, s:s}", "name", "f0007919", "verdict", "pass"));
	refused(r, "fixtures[200000].name: duplicate fixture \"f0007919\" (also fixtures[1])");
}

static void names_index(void **state)
{
	(void)state;
	struct mg_name_ref v[] = { { "b", 0, 1 }, { "a", 1, 0 }, { "a", 0, 3 }, { "c", 0, 0 } };
	mg_names_sort(v, 4);
	assert_string_equal(v[0].name, "a");
	assert_int_equal(v[0].group, 0);
	assert_int_equal(v[0].index, 3);
	const struct mg_name_ref *f = mg_names_find(v, 4, "a");
	assert_non_null(f);
	assert_int_equal(f->index, 3);
	assert_null(mg_names_find(v, 4, "d"));
	assert_null(mg_names_find(v, 4, ""));
	assert_null(mg_names_find(v, 0, "a"));
	const struct mg_name_ref *first, *second;
	assert_true(mg_names_first_duplicate(v, 4, &first, &second));
	assert_int_equal(first->group, 0);
	assert_int_equal(second->group, 1);
	assert_false(mg_names_first_duplicate(v + 2, 2, &first, &second));
	assert_false(mg_names_first_duplicate(v, 0, &first, &second));
}

/* --------------------------------------------------------------- files */

static char path[64];

static const char *write_file(const char *text)
{
	snprintf(path, sizeof path, "/tmp/memgate-rl-%d.json", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

#define GOOD "{\"schema\": 1, \"verdict\": \"pass\", \"fixtures\": [{\"name\": \"a\", \"verdict\": \"pass\"}]}"

static void load_errors(void **state)
{
	(void)state;
	char err[512], want[512];
	json_t *doc = mg_report_load(write_file(GOOD), err, sizeof err);
	assert_non_null(doc);
	json_decref(doc);

	assert_null(mg_report_load(write_file("{\"schema\": 1,\n \"fixtures\": [}"), err, sizeof err));
	snprintf(want, sizeof want, "%s:2:15: unexpected token near '}'", path);
	assert_string_equal(err, want);
	assert_null(mg_report_load(write_file("{\"schema\": 1, \"schema\": 1}"), err, sizeof err));
	snprintf(want, sizeof want, "%s:1:22: duplicate object key near '\"schema\"'", path);
	assert_string_equal(err, want);
	assert_null(mg_report_load(write_file(""), err, sizeof err));
	assert_contains(err, path);
	assert_null(mg_report_load(write_file("{\"schema\": 2, \"verdict\": \"pass\", \"fixtures\": []}"), err, sizeof err));
	snprintf(want, sizeof want, "%s: schema: expected 1, got 2 (this memgate reads report schema 1)", path);
	assert_string_equal(err, want);
	unlink(path);
	assert_null(mg_report_load(path, err, sizeof err));
	snprintf(want, sizeof want, "cannot read %s: ENOENT (No such file or directory)", path);
	assert_string_equal(err, want);
	assert_null(mg_report_load("/tmp", err, sizeof err));
	assert_string_equal(err, "cannot read /tmp: a directory, not a report file");
	assert_null(mg_report_load("/dev/zero", err, sizeof err)); /* would never end */
	assert_string_equal(err, "cannot read /dev/zero: a device, not a report file");
	assert_null(mg_report_load(NULL, err, sizeof err));
	assert_null(mg_report_load("/tmp", NULL, 0));
}

/* Over the cap: refused by its size, without being read (a sparse file). */
static void size_cap_file(void **state)
{
	(void)state;
	char err[512], want[512];
	write_file("");
	assert_int_equal(truncate(path, (off_t)MG_REPORT_MAX_BYTES + 1), 0);
	assert_null(mg_report_load(path, err, sizeof err));
	snprintf(want, sizeof want, "cannot read %s: larger than 64 MiB; a memgate report is a few MiB at most "
				    "(is this the right file?)", path);
	assert_string_equal(err, want);
	/* at the cap exactly: read (and then refused as JSON: it is all NULs) */
	assert_int_equal(truncate(path, (off_t)MG_REPORT_MAX_BYTES), 0);
	assert_null(mg_report_load(path, err, sizeof err));
	assert_null(strstr(err, "larger than"));
	unlink(path);
}

/* A pipe (`memgate report <(cat r.json)`): read; an endless one stops at the cap. */
static void pipes(void **state)
{
	(void)state;
	char fifo[64], err[512];
	snprintf(fifo, sizeof fifo, "/tmp/memgate-rl-fifo-%d", (int)getpid());
	for (int endless = 0; endless < 2; endless++) {
		unlink(fifo);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			signal(SIGPIPE, SIG_DFL);
			int fd = open(fifo, O_WRONLY);
			static char spaces[1 << 16];
			memset(spaces, ' ', sizeof spaces);
			if (write(fd, GOOD, strlen(GOOD)) < 0)
				_exit(1);
			while (endless && write(fd, spaces, sizeof spaces) > 0)
				;
			_exit(0);
		}
		json_t *doc = mg_report_load(fifo, err, sizeof err);
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (endless) {
			assert_null(doc);
			assert_contains(err, "larger than 64 MiB");
		} else {
			assert_non_null(doc);
			json_decref(doc);
		}
	}
	unlink(fifo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(top_level),
		cmocka_unit_test(fixtures),
		cmocka_unit_test(verdict_not_better_than_fixtures),
		cmocka_unit_test(name_cap),
		cmocka_unit_test(phases),
		cmocka_unit_test(duplicates),
		cmocka_unit_test(many_fixtures),
		cmocka_unit_test(names_index),
		cmocka_unit_test(load_errors),
		cmocka_unit_test(size_cap_file),
		cmocka_unit_test(pipes),
	};
	return cmocka_run_group_tests_name("report_load", tests, NULL, NULL);
}
