/* Integration tests of `memgate tune` on the real binary and real processes
 * of known size (build/workload): proposals within the rounding of the
 * truth, --write round trips, configs that do not load stay byte-identical,
 * failing fixtures get no proposal, SIGINT stops and reports. Skipped (with
 * a message) while this memgate does not know the tune command yet. */
#include "itutil.h"

struct out {
	int status;
	char out[32768];
	char err[32768];
};

static char dir[64];

/* dir/name; the same name always gets the same buffer, so a path stays
 * valid however many others are made after it. */
static char *in_dir(const char *name)
{
	static char names[16][32], paths[16][256];
	int i = 0;

	while (i < 16 && names[i][0] && strcmp(names[i], name) != 0)
		i++;
	assert_true(i < 16);
	snprintf(names[i], sizeof names[i], "%s", name);
	snprintf(paths[i], sizeof paths[i], "%s/%s", dir, name);
	return paths[i];
}

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Start memgate with args (NULL-terminated, without the program name),
 * stdout and stderr to files in dir. */
static pid_t start(const char *const *args)
{
	const char *argv[64];
	size_t n = 0;

	argv[n++] = it_memgate_path();
	for (size_t i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		int o = open(in_dir("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(in_dir("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(null, STDIN_FILENO);
		dup2(o, STDOUT_FILENO);
		dup2(e, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void finish(pid_t pid, struct out *o)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	slurp(in_dir("stdout"), o->out, sizeof o->out);
	slurp(in_dir("stderr"), o->err, sizeof o->err);
}

static void run(struct out *o, const char *const *args)
{
	finish(start(args), o);
}

static bool tune_known(void)
{
	static int known = -1;
	struct out o;

	if (known < 0) {
		run(&o, (const char *const[]){ "tune", "--help", NULL });
		known = !strstr(o.err, "unknown command");
	}
	return known;
}

#define NEED_TUNE()                                                                          \
	do {                                                                                 \
		if (!tune_known())                                                           \
			fail_msg("%s: `memgate tune` is not a command of this build", __func__); \
	} while (0)

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
	static char buf[4][16384];
	static int next;
	char *b = buf[next++ % 4];
	slurp(path, b, sizeof buf[0]);
	return b;
}

static const char *config(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *config(const char *name, const char *fmt, ...)
{
	char text[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	write_text(in_dir(name), text);
	return in_dir(name);
}

static json_t *load(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		fail_msg("%s: %s", path, je.text);
	return j;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/memgate-it-tune-%d-XXXXXX", (int)getpid());
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const files[] = { "stdout", "stderr", "t.json", "c.json", "bad.json",
					     "orig.json", "w.json", "f.json", "i.json" };
	(void)state;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(in_dir(files[i]));
	return rmdir(dir);
}

/* `hold 64`: tree RSS is 64 MiB plus the workload's libc (well under 4 MiB).
 * The proposal is max x 1.1 rounded up to 2 significant figures: between
 * 71 MiB (64 x 1.1 = 70.4 up) and 75 MiB (68 x 1.1 = 74.8 up), a whole
 * number of MiB, at least max x 1.1 and less than 1 MiB above it. */
static void proposes_within_rounding(void **state)
{
	struct out o;
	const char *w = it_workload_path();

	(void)state;
	NEED_TUNE();
	const char *c = config("c.json", "{\"version\": 1, \"fixtures\": [{\"name\": \"hold-64\", "
				 "\"command\": [\"%s\", \"hold\", \"64\", \"200\"], \"timeout\": \"30s\"}]}", w);
	run(&o, (const char *const[]){ "tune", "-c", c, "--runs", "3", "--json", in_dir("t.json"), NULL });
	if (o.status != 0)
		fail_msg("exit %d: %s", o.status, o.err);
	json_t *t = load(in_dir("t.json"));
	assert_int_equal(it_int(t, "runs"), 3);
	assert_int_equal(it_int(t, "fixtures.0.runs_done"), 3);
	assert_string_equal(it_str(t, "fixtures.0.metrics.0.metric"), "tree_rss");
	assert_int_equal(json_array_size(it_get(t, "fixtures.0.metrics.0.values_bytes")), 3);
	long long max = it_int(t, "fixtures.0.metrics.0.max_bytes");
	long long proposed = it_int(t, "fixtures.0.metrics.0.proposed_bytes");
	assert_between(max, 64 * MiB, 68 * MiB);
	assert_between(it_int(t, "fixtures.0.metrics.0.min_bytes"), 64 * MiB, max);
	assert_between(proposed, 71 * MiB, 75 * MiB);
	assert_int_equal(proposed % MiB, 0);
	assert_true(proposed * 10 >= max * 11);
	assert_true(proposed * 10 < max * 11 + 10 * MiB);
	char text[32];
	snprintf(text, sizeof text, "%lldMiB", proposed / MiB);
	assert_string_equal(it_str(t, "fixtures.0.metrics.0.proposed"), text);
	/* the table says the same */
	assert_contains(o.out, "hold-64  tree_rss             3/3");
	assert_contains(o.out, text);
	/* plain progress lines (stderr is a file here) */
	assert_contains(o.err, "tune: hold-64 1/3  tree_rss ");
	assert_contains(o.err, "tune: hold-64 3/3  tree_rss ");
	json_decref(t);
}

/* Custom key order, extra keys, a limit from defaults: --write changes the
 * one value and nothing else. */
static void write_round_trips(void **state)
{
	struct out o;
	const char *w = it_workload_path();

	(void)state;
	NEED_TUNE();
	const char *c = config("w.json",
		"{\n  \"$schema\": \"https://example.invalid/memgate.schema.json\",\n"
		"  \"fixtures\": [\n"
		"    {\"command\": [\"%s\", \"hold\", \"16\", \"100\"], \"env\": {\"Z\": \"1\", \"A\": \"2\"},\n"
		"     \"limits\": {\"tree_rss\": \"500MiB\"}, \"name\": \"small\", \"timeout\": \"30s\"}\n"
		"  ],\n"
		"  \"defaults\": {\"interval\": \"20ms\", \"limits\": {\"tree_rss\": \"1GiB\"},\n"
		"               \"regression\": {\"max_increase\": \"5%%\"}},\n"
		"  \"version\": 1\n}\n", w);
	json_t *before = load(c);
	run(&o, (const char *const[]){ "tune", "-c", c, "--runs", "2", "--write", "--json",
				       in_dir("t.json"), NULL });
	if (o.status != 0)
		fail_msg("exit %d: %s", o.status, o.err);
	json_t *t = load(in_dir("t.json")), *after = load(c);
	const char *proposed = it_str(t, "fixtures.0.metrics.0.proposed");
	char diff[128];
	snprintf(diff, sizeof diff, "fixtures[0].limits.tree_rss: \"500MiB\" -> \"%s\"\n", proposed);
	assert_contains(o.out, diff);
	/* the expected file: the original with that one value replaced */
	json_object_set_new(json_object_get(json_array_get(json_object_get(before, "fixtures"), 0),
					    "limits"), "tree_rss", json_string(proposed));
	char *want = json_dumps(before, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char got[16384];
	snprintf(got, sizeof got, "%s", read_text(c));
	assert_non_null(want);
	size_t wl = strlen(want);
	assert_int_equal(strncmp(got, want, wl), 0);
	assert_string_equal(got + wl, "\n");
	free(want);
	/* and it loads */
	run(&o, (const char *const[]){ "validate", "-c", c, NULL });
	assert_int_equal(o.status, 0);
	json_decref(t);
	json_decref(before);
	json_decref(after);
}

/* The JSON's phase key "match" of fixture 0, or NULL. */
static json_t *phase_key(json_t *t, const char *match)
{
	json_t *a = it_get(t, "fixtures.0.phases"), *k;
	size_t i;
	json_array_foreach(a, i, k)
		if (!strcmp(json_string_value(json_object_get(k, "phase")), match))
			return k;
	return NULL;
}

/* A program that marks its phases (workload phases: before, a 120 MiB
 * spike, after), its spike over the phase limit it has: that is no failed
 * run for tune. Its limit gets a proposal above the spike, each other
 * phase a key of its own, on the fixture's metric (max_process_hwm: its
 * VmHWM is reset at each mark, so each phase's is exact, not sampled);
 * --write puts them in phase_limits, and then the config passes
 * `memgate run`. */
static void phases_proposed_and_written(void **state)
{
	struct out o;
	char ms[32];

	(void)state;
	NEED_TUNE();
	const char *c = config("w.json", "{\"version\": 1, \"fixtures\": [{\"name\": \"marked\", \"command\": [\"%s\", "
				 "\"phases\", \"120\", \"%s\"], \"limits\": {\"max_process_hwm\": \"500MiB\"}, "
				 "\"phase_limits\": {\"spike\": {\"max_process_hwm\": \"50MiB\"}}, \"timeout\": \"30s\"}]}",
				 it_workload_path(), it_ms_arg(ms, sizeof ms, 60));
	run(&o, (const char *const[]){ "run", "-c", c, NULL });
	assert_int_equal(o.status, 1); /* the spike is over 50MiB */
	run(&o, (const char *const[]){ "tune", "-c", c, "--runs", "2", "--write", "--json", in_dir("t.json"), NULL });
	if (o.status != 0)
		fail_msg("exit %d: %s", o.status, o.err);
	json_t *t = load(in_dir("t.json")), *k = phase_key(t, "spike");
	assert_non_null(k);
	assert_true(json_is_true(json_object_get(k, "exists")));
	json_t *m = json_array_get(json_object_get(k, "metrics"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "metric")), "max_process_hwm");
	assert_int_equal(json_integer_value(json_object_get(m, "limit_bytes")), 50 * MiB);
	assert_between(json_integer_value(json_object_get(m, "proposed_bytes")), 132 * MiB, 150 * MiB);
	for (const char *const *name = (const char *const[]){ "before", "after", NULL }; *name; name++) {
		k = phase_key(t, *name);
		if (!k)
			fail_msg("no phase key \"%s\" in the tune JSON", *name);
		assert_false(json_is_true(json_object_get(k, "exists")));
		m = json_array_get(json_object_get(k, "metrics"), 0);
		assert_between(json_integer_value(json_object_get(m, "proposed_bytes")), 1, 8 * MiB);
	}
	char diff[160];
	snprintf(diff, sizeof diff, "fixtures[0].phase_limits[\"spike\"].max_process_hwm: \"50MiB\" -> \"%s\"\n",
		 json_string_value(json_object_get(json_array_get(json_object_get(phase_key(t, "spike"), "metrics"), 0),
						   "proposed")));
	assert_contains(o.out, diff);
	assert_contains(o.out, "fixtures[0].phase_limits[\"before\"].max_process_hwm: (none) -> ");
	assert_contains(o.out, "  spike ");
	json_t *after = load(c);
	assert_non_null(json_object_get(json_object_get(json_array_get(json_object_get(after, "fixtures"), 0),
							"phase_limits"), "after"));
	run(&o, (const char *const[]){ "run", "-c", c, NULL });
	if (o.status != 0)
		fail_msg("the tuned config does not pass: exit %d: %s", o.status, o.err);
	json_decref(after);
	json_decref(t);
}

/* A config that does not load: exit 2, the reason, the file byte-identical. */
static void bad_config_untouched(void **state)
{
	static const char bad[] = "{\"version\": 1, \"fixtures\": [{\"name\": \"a\", "
				  "\"command\": [\"true\"], \"limts\": {\"tree_rss\": \"1MiB\"}}]}\n";
	struct out o;

	(void)state;
	NEED_TUNE();
	write_text(in_dir("bad.json"), bad);
	run(&o, (const char *const[]){ "tune", "-c", in_dir("bad.json"), "--write", NULL });
	assert_int_equal(o.status, 2);
	assert_contains(o.err, "fixtures[0].limts: unknown key (did you mean \"limits\"?)");
	assert_string_equal(read_text(in_dir("bad.json")), bad);
	assert_string_equal(o.out, "");
}

/* A fixture that fails to run gets no proposal and exit 1; the others are
 * still tuned and written. */
static void failing_fixture_proposes_nothing(void **state)
{
	struct out o;
	const char *w = it_workload_path();

	(void)state;
	NEED_TUNE();
	const char *c = config("f.json", "{\"version\": 1, \"defaults\": {\"limits\": {\"tree_rss\": \"300MiB\"}},"
				 " \"fixtures\": [{\"name\": \"broken\", \"command\": [\"%s\", \"exit\", \"3\"]},"
				 " {\"name\": \"fine\", \"command\": [\"%s\", \"hold\", \"8\", \"50\"]}]}", w, w);
	run(&o, (const char *const[]){ "tune", "-c", c, "--runs", "2", "--write", "--json",
				       in_dir("t.json"), NULL });
	assert_int_equal(o.status, 1);
	json_t *t = load(in_dir("t.json"));
	assert_string_equal(it_str(t, "fixtures.0.error"), "exited with code 3");
	assert_int_equal(it_int(t, "fixtures.0.failed_run"), 1);
	assert_int_equal(json_array_size(it_get(t, "fixtures.0.metrics")), 0);
	assert_int_equal(it_int(t, "fixtures.1.runs_done"), 2);
	assert_contains(o.out, "broken   FAILED on run 1 of 2: exited with code 3; no limit proposed");
	assert_contains(o.err, "memgate: tune: broken failed on run 1: exited with code 3");
	json_t *after = load(c);
	/* broken keeps the defaults' limit: no "limits" of its own appeared */
	assert_null(json_object_get(json_array_get(json_object_get(after, "fixtures"), 0), "limits"));
	assert_string_equal(it_str(after, "fixtures.1.limits.tree_rss"), it_str(t, "fixtures.1.metrics.0.proposed"));
	json_decref(t);
	json_decref(after);
}

/* SIGINT after the first run: exit 130, the measured run reported, no write. */
static void sigint_reports_and_skips_write(void **state)
{
	struct out o;
	const char *w = it_workload_path();

	(void)state;
	NEED_TUNE();
	const char *c = config("i.json", "{\"version\": 1, \"fixtures\": [{\"name\": \"slow\", "
				 "\"command\": [\"%s\", \"hold\", \"8\", \"800\"], \"limits\": "
				 "{\"tree_rss\": \"1GiB\"}}]}", w);
	char orig[4096];
	snprintf(orig, sizeof orig, "%s", read_text(c));
	pid_t pid = start((const char *const[]){ "tune", "-c", c, "--runs", "4", "--write", "--json",
						 in_dir("t.json"), NULL });
	char err[4096] = "";
	for (int i = 0; i < 200 && !strstr(err, "tune: slow 1/4  tree_rss"); i++) {
		it_sleep_ms(50);
		slurp(in_dir("stderr"), err, sizeof err);
	}
	assert_contains(err, "tune: slow 1/4  tree_rss");
	assert_int_equal(kill(pid, SIGINT), 0);
	finish(pid, &o);
	assert_int_equal(o.status, 130);
	assert_contains(o.err, "interrupted, so --write was skipped");
	assert_string_equal(read_text(c), orig);
	json_t *t = load(in_dir("t.json"));
	assert_string_equal(it_str(t, "interrupted_by"), "SIGINT");
	assert_between(it_int(t, "fixtures.0.runs_done"), 1, 2);
	assert_contains(o.out, "slow     tree_rss ");
	json_decref(t);
}

static void usage_errors(void **state)
{
	struct out o;

	(void)state;
	NEED_TUNE();
	run(&o, (const char *const[]){ "tune", "-c", "/nonexistent/memgate.json", NULL });
	assert_int_equal(o.status, 2);
	assert_contains(o.err, "/nonexistent/memgate.json: cannot read: ENOENT (No such file or directory)");
	run(&o, (const char *const[]){ "tune", "--runs", "0", NULL });
	assert_int_equal(o.status, 2);
	assert_contains(o.err, "--runs 0: expected a whole number of runs from 1 to 1000");
	run(&o, (const char *const[]){ "tune", "--headroom", "5x", NULL });
	assert_int_equal(o.status, 2);
	assert_contains(o.err, "--headroom: percentage \"5x\" is not a number followed by '%'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proposes_within_rounding),
		cmocka_unit_test(write_round_trips),
		cmocka_unit_test(phases_proposed_and_written),
		cmocka_unit_test(bad_config_untouched),
		cmocka_unit_test(failing_fixture_proposes_nothing),
		cmocka_unit_test(sigint_reports_and_skips_write),
		cmocka_unit_test(usage_errors),
	};
	return cmocka_run_group_tests_name("it_tune", tests, setup, teardown);
}
