/* Every command that reads a report (report, post, merge, run --baseline)
 * refuses the same bad reports with the same message and exit 2: one
 * loader. The cases: schemas other than the integer 1, a file over the
 * 64 MiB cap, a fixture name over 256 bytes, duplicate names, a directory,
 * broken JSON. A good report is read by all four. */
#include "itutil.h"

struct cmd {
	const char *what;
	int good_status; /* exit status on the good report */
};

static const struct cmd cmds[] = {
	{ "report", 0 }, { "post", 0 }, { "merge", 0 }, { "run --baseline", 0 },
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static char dir[64];

static const char *in_dir(const char *name)
{
	static char path[4][128];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
	return path[k];
}

/* tests/data/reports/demo.json, changed by edit (may be NULL), into dir/name */
static const char *report_file(const char *name, void (*edit)(json_t *))
{
	json_error_t je;
	json_t *r = json_load_file("tests/data/reports/demo.json", 0, &je);
	assert_non_null(r);
	if (edit)
		edit(r);
	const char *path = in_dir(name);
	assert_int_equal(json_dump_file(r, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER), 0);
	json_decref(r);
	return path;
}

static void run_cmd(const struct cmd *c, const char *report, struct it_run *r)
{
	if (!strcmp(c->what, "report")) {
		it_memgate(r, (const char *const[]){ "report", "-f", "json", "-o", in_dir("out.json"), report, NULL });
	} else if (!strcmp(c->what, "post")) {
		it_memgate(r, (const char *const[]){ "post", report, NULL });
	} else if (!strcmp(c->what, "merge")) {
		it_memgate(r, (const char *const[]){ "merge", "-o", in_dir("merged.json"), report, NULL });
	} else {
		const char *cfg = it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"hold-64MiB\", "
					    "\"command\": [\"%s\", \"exit\", \"0\"]}]}", it_workload_path());
		it_memgate(r, (const char *const[]){ "run", "-c", cfg, "--baseline", report, NULL });
	}
}

/* Every command: exit 2 and full on stderr. */
static void refused(const char *report, const char *full)
{
	for (size_t i = 0; i < NCMDS; i++) {
		struct it_run r;
		run_cmd(&cmds[i], report, &r);
		if (r.status != 2 || !strstr(r.err, full))
			fail_msg("%s %s: status %d, expected 2 and \"%s\" in:\n%s", cmds[i].what, report, r.status,
				 full, r.err);
		it_free(&r);
	}
}

/* "REPORT: WANT": a report that was read and is not valid */
static void refused_by_all(const char *report, const char *want)
{
	char full[1024];
	snprintf(full, sizeof full, "%s: %s", report, want);
	refused(report, full);
}

/* "cannot read REPORT: WHY": a report that could not be read */
static void refused_to_read(const char *report, const char *why)
{
	char full[1024];
	snprintf(full, sizeof full, "cannot read %s: %s", report, why);
	refused(report, full);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/memgate-it-rl-%d", (int)getpid());
	/* post must not find a forge in the test's own environment */
	unsetenv("GITHUB_ACTIONS");
	unsetenv("GITLAB_CI");
	return mkdir(dir, 0700);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	unlink(it_cfg_path());
	return system(cmd) == 0 ? 0 : -1;
}

static void good_report_is_read_by_all(void **state)
{
	(void)state;
	const char *good = report_file("good.json", NULL);
	for (size_t i = 0; i < NCMDS; i++) {
		struct it_run r;
		run_cmd(&cmds[i], good, &r);
		if (r.status != cmds[i].good_status)
			fail_msg("%s: status %d, expected %d:\n%s", cmds[i].what, r.status, cmds[i].good_status, r.err);
		it_free(&r);
	}
}

static void schema_2(json_t *r) { json_object_set_new(r, "schema", json_integer(2)); }
static void schema_string(json_t *r) { json_object_set_new(r, "schema", json_string("1")); }
static void schema_real(json_t *r) { json_object_set_new(r, "schema", json_real(1.0)); }
static void schema_none(json_t *r) { json_object_del(r, "schema"); }

static void only_schema_1(void **state)
{
	(void)state;
	refused_by_all(report_file("s2.json", schema_2), "schema: expected 1, got 2 (this memgate reads report schema 1)");
	refused_by_all(report_file("s-string.json", schema_string),
		       "schema: expected the integer 1, got a string (this memgate reads report schema 1)");
	refused_by_all(report_file("s-real.json", schema_real),
		       "schema: expected the integer 1, got a number with a fraction");
	refused_by_all(report_file("s-none.json", schema_none), "schema: missing (is this a memgate --json report?)");
}

static void long_name(json_t *r)
{
	char name[301];
	memset(name, 'n', 300);
	name[300] = '\0';
	json_object_set_new(json_array_get(json_object_get(r, "fixtures"), 0), "name", json_string(name));
}

static void duplicate_name(json_t *r)
{
	json_t *fx = json_object_get(r, "fixtures");
	json_object_set(json_array_get(fx, 1), "name", json_object_get(json_array_get(fx, 0), "name"));
}

static void names_capped_and_unique(void **state)
{
	(void)state;
	refused_by_all(report_file("long-name.json", long_name),
		       "fixtures[0].name: \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...\" is 300 bytes long; a fixture "
		       "name has at most 256");
	refused_by_all(report_file("dup.json", duplicate_name), "fixtures[1].name: duplicate fixture \"");
}

/* Valid JSON, then whitespace past 64 MiB: refused for its size alone. */
static void size_capped(void **state)
{
	(void)state;
	const char *big = report_file("big.json", NULL);
	FILE *f = fopen(big, "a");
	assert_non_null(f);
	static char spaces[1 << 20];
	memset(spaces, ' ', sizeof spaces);
	for (int i = 0; i < 64; i++)
		assert_int_equal(fwrite(spaces, 1, sizeof spaces, f), sizeof spaces);
	assert_int_equal(fclose(f), 0);
	refused_to_read(big, "larger than 64 MiB");
	unlink(big);
}

static void not_a_file_or_not_json(void **state)
{
	(void)state;
	refused_to_read(dir, "a directory, not a report file");
	const char *broken = in_dir("broken.json");
	FILE *f = fopen(broken, "w");
	assert_non_null(f);
	fputs("{\"schema\": 1,\n \"fixtures\": [}\n", f);
	assert_int_equal(fclose(f), 0);
	char where[128];
	snprintf(where, sizeof where, ":2:15: ");
	for (size_t i = 0; i < NCMDS; i++) {
		struct it_run r;
		run_cmd(&cmds[i], broken, &r);
		char full[256];
		snprintf(full, sizeof full, "%s%s", broken, where);
		if (r.status != 2 || !strstr(r.err, full))
			fail_msg("%s: status %d, expected 2 and \"%s\" in:\n%s", cmds[i].what, r.status, full, r.err);
		it_free(&r);
	}
	refused_to_read(in_dir("missing.json"), "ENOENT (No such file or directory)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_report_is_read_by_all),
		cmocka_unit_test(only_schema_1),
		cmocka_unit_test(names_capped_and_unique),
		cmocka_unit_test(size_capped),
		cmocka_unit_test(not_a_file_or_not_json),
	};
	return cmocka_run_group_tests_name("report loading (integration)", tests, setup, teardown);
}
