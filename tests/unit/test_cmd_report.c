/* `memgate report`: formats, -o (atomic), and its errors (exit 2). */
#include "testutil.h"

#include <fcntl.h>
#include <stdio_ext.h>
#include <stdbool.h>
#include <jansson.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "report/render.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static bool exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* What mg_cmd_report wrote to stdout and stderr, and its status. */
struct result {
	int status;
	char *out;
	char *err;
};

static char *end_capture(int fd, int saved, const char *path)
{
	dup2(saved, fd);
	close(saved);
	char *text = slurp(path);
	unlink(path);
	assert_non_null(text);
	return text;
}

static int begin_capture(int fd, char *path)
{
	strcpy(path, "/tmp/memgate-cap-XXXXXX");
	int tmp = mkstemp(path);
	assert_true(tmp >= 0);
	int saved = dup(fd);
	dup2(tmp, fd);
	close(tmp);
	return saved;
}

static struct result report_cmd(int argc, char **argv)
{
	char out_path[32], err_path[32];
	fflush(stdout);
	fflush(stderr);
	int so = begin_capture(STDOUT_FILENO, out_path), se = begin_capture(STDERR_FILENO, err_path);
	struct result r;
	r.status = mg_cmd_report(argc, argv);
	fflush(stdout);
	fflush(stderr);
	r.out = end_capture(STDOUT_FILENO, so, out_path);
	r.err = end_capture(STDERR_FILENO, se, err_path);
	return r;
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
#define RUN(...) report_cmd(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void text_is_the_default(void **state)
{
	(void)state;
	struct result r = RUN("report", "tests/data/reports/mixed.json");
	char *want = tu_read_data("reports/mixed.txt");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, want);
	assert_string_equal(r.err, "");
	free(want);
	result_free(&r);
}

static void output_file_is_written_atomically(void **state)
{
	(void)state;
	const char *out = "/tmp/memgate-report-test.md";
	unlink(out);
	struct result r = RUN("report", "--format", "markdown", "tests/data/reports/oom.json", "-o", (char *)out);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_false(exists("/tmp/memgate-report-test.md.tmp"));
	char *got = slurp(out);
	assert_non_null(got);
	assert_true(strncmp(got, "**memgate: FAIL** — 1 of 1 fixture failed\n", strlen("**memgate: FAIL** — 1 of 1 fixture failed\n")) == 0);
	assert_contains(got, "**Exit:** OOM-killed (kill_above 64.0 MiB); killed by signal 9 (SIGKILL)\n");
	free(got);
	result_free(&r);

	/* the other formats, options in any order */
	r = RUN("report", "tests/data/reports/oom.json", "-o", (char *)out, "-f", "svg");
	assert_int_equal(r.status, 0);
	got = slurp(out);
	assert_true(strncmp(got, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
	free(got);
	result_free(&r);
	r = RUN("report", "--format=junit", "tests/data/reports/oom.json");
	assert_contains(r.out, "<testsuite name=\"memgate\" tests=\"1\" failures=\"1\" errors=\"0\"");
	result_free(&r);
	unlink(out);
}

static void json_format_validates_and_keeps_the_report(void **state)
{
	(void)state;
	struct result r = RUN("report", "--format", "json", "tests/data/reports/demo.json");
	assert_int_equal(r.status, 0);
	json_t *got = json_loads(r.out, 0, NULL), *want = json_load_file("tests/data/reports/demo.json", 0, NULL);
	assert_non_null(got);
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	result_free(&r);
}

static void broken_json_says_where(void **state)
{
	(void)state;
	const char *path = "/tmp/memgate-report-broken.json";
	FILE *f = fopen(path, "w");
	fputs("{\n  \"schema\": 1,\n  oops\n}\n", f);
	fclose(f);
	struct result r = RUN("report", (char *)path);
	assert_int_equal(r.status, 2);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "memgate: /tmp/memgate-report-broken.json:3:6: string or '}' expected near 'oops'\n");
	result_free(&r);
	unlink(path);

	r = RUN("report", "/tmp/memgate-no-such-report.json");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "memgate: cannot read /tmp/memgate-no-such-report.json: ENOENT (No such file or directory)\n");
	result_free(&r);
}

static void invalid_report_leaves_no_file(void **state)
{
	(void)state;
	const char *path = "/tmp/memgate-report-schema.json", *out = "/tmp/memgate-report-schema.out";
	FILE *f = fopen(path, "w");
	fputs("{\"schema\": 9, \"verdict\": \"pass\"}\n", f);
	fclose(f);
	unlink(out);
	struct result r = RUN("report", "-f", "markdown", (char *)path, "-o", (char *)out);
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "memgate: /tmp/memgate-report-schema.json: schema: expected 1, got 9 "
				   "(this memgate reads report schema 1)\n");
	assert_false(exists(out));
	assert_false(exists("/tmp/memgate-report-schema.out.tmp"));
	result_free(&r);
	unlink(path);
}

static void usage_errors(void **state)
{
	(void)state;
	struct result r = RUN("report", "--format", "pdf", "tests/data/reports/demo.json");
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "memgate: report: unknown format \"pdf\" (text, markdown, junit, svg, json or github)\n");
	result_free(&r);
	r = RUN("report");
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "memgate: report: no report given");
	result_free(&r);
	r = RUN("report", "a.json", "b.json");
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "memgate: report: one report at a time\n");
	result_free(&r);
	r = RUN("report", "--format", "github", "-o", "x", "tests/data/reports/demo.json");
	assert_int_equal(r.status, 2);
	assert_contains(r.err, "--format github writes to $GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT and stdout, not to -o");
	result_free(&r);
	r = RUN("report", "-o", "/nonexistent-dir/x.md", "tests/data/reports/demo.json");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "memgate: tests/data/reports/demo.json: cannot write /nonexistent-dir/x.md: "
				   "the directory /nonexistent-dir does not exist (create it first)\n");
	result_free(&r);
}

static void github_format_uses_the_environment(void **state)
{
	(void)state;
	char output[] = "/tmp/memgate-report-out-XXXXXX";
	int fd = mkstemp(output);
	assert_true(fd >= 0);
	close(fd);
	setenv("GITHUB_OUTPUT", output, 1);
	setenv("GITHUB_STEP_SUMMARY", "", 1); /* empty: skipped */
	struct result r = RUN("report", "--format", "github", "tests/data/reports/timeout.json");
	unsetenv("GITHUB_OUTPUT");
	unsetenv("GITHUB_STEP_SUMMARY");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "::error title=memgate%3A workload::timed out after 2.00 s: the tree was killed\n");
	char *o = slurp(output);
	assert_true(strncmp(o, "verdict=fail\nreport<<ghadelimiter_memgate_", 42) == 0);
	assert_contains(o, "\ntests/data/reports/timeout.json\nghadelimiter_memgate_");
	free(o);
	result_free(&r);
	unlink(output);
}

/* A write that fails is named: "cannot write PATH: ENAME (text)", the
 * renderer's own words for the report. /dev/full fails every write with
 * ENOSPC; it is written in place (outfile.h), so the rendering meets it. */
static void a_full_disk_is_named(void **state)
{
	(void)state;
	if (access("/dev/full", W_OK) != 0)
		skip_because("no writable /dev/full here");
	const char *formats[] = {"markdown", "json", "junit", "svg", "text"};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		struct result r = RUN("report", "-f", (char *)formats[i], "tests/data/reports/mixed.json", "-o", "/dev/full");
		assert_int_equal(r.status, 2);
		assert_string_equal(r.err, "memgate: tests/data/reports/mixed.json: cannot write /dev/full: "
					   "ENOSPC (No space left on device)\n");
		result_free(&r);
	}

	/* the same on stdout */
	char err_path[32];
	fflush(stdout);
	fflush(stderr);
	int se = begin_capture(STDERR_FILENO, err_path);
	int full = open("/dev/full", O_WRONLY), so = dup(STDOUT_FILENO);
	assert_true(full >= 0);
	dup2(full, STDOUT_FILENO);
	close(full);
	int status = mg_cmd_report(3, (char *[]){"report", "-fjson", "tests/data/reports/mixed.json", NULL});
	__fpurge(stdout); /* what could not be written */
	dup2(so, STDOUT_FILENO);
	close(so);
	fflush(stderr);
	char *err = end_capture(STDERR_FILENO, se, err_path);
	assert_int_equal(status, 2);
	assert_string_equal(err, "memgate: tests/data/reports/mixed.json: cannot write to stdout: "
				 "ENOSPC (No space left on device)\n");
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_is_the_default),
		cmocka_unit_test(output_file_is_written_atomically),
		cmocka_unit_test(json_format_validates_and_keeps_the_report),
		cmocka_unit_test(broken_json_says_where),
		cmocka_unit_test(invalid_report_leaves_no_file),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(github_format_uses_the_environment),
		cmocka_unit_test(a_full_disk_is_named),
	};
	return cmocka_run_group_tests_name("cmd_report", tests, NULL, NULL);
}
