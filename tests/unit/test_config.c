/* Unit tests for config.c: the loader, defaults, and every error rule.
 * JSON is written with single quotes for readability; sq() turns them into
 * double quotes (no test JSON needs a literal apostrophe). */
#include "testutil.h"

#include <errno.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "config.h"

#define ORIGIN "memgate.json"

/* s with ' replaced by ", malloc'd */
static char *sq(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static void assert_zeroed(const struct mg_config *cfg)
{
	assert_int_equal(cfg->version, 0);
	assert_null(cfg->cgroup_root);
	assert_null(cfg->fixtures);
	assert_int_equal(cfg->nfixtures, 0);
}

static void load_ok(const char *json, struct mg_config *cfg)
{
	char err[512] = "";
	char *text = sq(json);
	int rc = mg_config_load_string(text, ORIGIN, cfg, err, sizeof err);

	free(text);
	if (rc != 0)
		fail_msg("load failed: %s", err);
}

/* The load must fail with want in the message and leave the output zeroed. */
static void load_err(const char *json, const char *want)
{
	char err[512] = "";
	char *text = sq(json);
	struct mg_config cfg;

	memset(&cfg, 0xab, sizeof cfg); /* garbage in: must come out zeroed */
	assert_int_equal(mg_config_load_string(text, ORIGIN, &cfg, err, sizeof err), -1);
	free(text);
	assert_contains(err, want);
	assert_null(strchr(err, '\n'));
	assert_zeroed(&cfg);
}

/* One fixture {'name': 'a', 'command': ['x'], <extra>} must fail with want. */
static void fixture_err(const char *extra, const char *want)
{
	char json[1024];

	snprintf(json, sizeof json,
		 "{'version': 1, 'fixtures': [{'name': 'a', 'command': ['x'], %s}]}", extra);
	load_err(json, want);
}

/* Same, but the keys go in "defaults". */
static void defaults_err(const char *defaults, const char *want)
{
	char json[1024];

	snprintf(json, sizeof json,
		 "{'version': 1, 'defaults': {%s}, 'fixtures': [{'name': 'a', 'command': ['x']}]}",
		 defaults);
	load_err(json, want);
}

/* Load one fixture with extra keys; the caller frees cfg. */
static void fixture_ok(const char *extra, struct mg_config *cfg)
{
	char json[1024];

	snprintf(json, sizeof json,
		 "{'version': 1, 'fixtures': [{'name': 'a', 'command': ['x'], %s}]}", extra);
	load_ok(json, cfg);
	assert_int_equal(cfg->nfixtures, 1);
}

static const char good_config[] =
	"{\n"
	"  '$schema': 'https://example.invalid/memgate.schema.json',\n"
	"  'version': 1,\n"
	"  'cgroup_root': '/sys/fs/cgroup/memgate',\n"
	"  'defaults': {\n"
	"    'cwd': 'build',\n"
	"    'env': {'LANG': 'C', 'MODE': 'default'},\n"
	"    'stdin': 'inherit',\n"
	"    'timeout': '30s',\n"
	"    'interval': '20ms',\n"
	"    'measurement': 'proc',\n"
	"    'limits': {'tree_rss': '200MiB', 'cgroup': '1GiB'},\n"
	"    'kill_above': '512MiB',\n"
	"    'pss': false\n"
	"  },\n"
	"  'fixtures': [\n"
	"    {'name': 'api', 'command': ['./api', '--port', ''],\n"
	"     'env': {'MODE': 'fixture', 'EXTRA': 'a=b'},\n"
	"     'limits': {'tree_rss': '300MiB', 'pss': '100MB'},\n"
	"     'timeout': '1.5min'},\n"
	"    {'name': 'cli.v2_x-Y', 'command': ['cli'], 'cwd': '/tmp',\n"
	"     'stdin': 'tests/data/input.txt', 'interval': '1s',\n"
	"     'measurement': 'cgroup-v2', 'kill_above': '1GiB', 'pss': true,\n"
	"     'limits': {'max_process_hwm': '64MiB'}}\n"
	"  ]\n"
	"}\n";

static void test_good_config_fixture0(void **state)
{
	struct mg_config cfg;
	const struct mg_fixture *f;

	(void)state;
	load_ok(good_config, &cfg);
	assert_int_equal(cfg.version, 1);
	assert_string_equal(cfg.cgroup_root, "/sys/fs/cgroup/memgate");
	assert_int_equal(cfg.nfixtures, 2);
	f = &cfg.fixtures[0];
	assert_string_equal(f->name, "api");
	assert_int_equal(f->argc, 3);
	assert_string_equal(f->argv[0], "./api");
	assert_string_equal(f->argv[1], "--port");
	assert_string_equal(f->argv[2], ""); /* only the program must be non-empty */
	assert_null(f->argv[3]);
	assert_string_equal(f->cwd, "build");
	/* env merges: defaults first, the fixture wins on MODE, EXTRA added */
	assert_int_equal(f->envc, 3);
	assert_string_equal(f->env[0], "LANG=C");
	assert_string_equal(f->env[1], "MODE=fixture");
	assert_string_equal(f->env[2], "EXTRA=a=b");
	assert_null(f->env[3]);
	assert_int_equal(f->stdin_mode, MG_STDIN_INHERIT);
	assert_null(f->stdin_path);
	assert_int_equal(f->timeout_ms, 90000);
	assert_int_equal(f->interval_ms, 20);
	assert_int_equal(f->measurement, MG_METHOD_PROC);
	/* limits cascade per metric */
	assert_int_equal(f->limits[MG_METRIC_TREE_RSS], 300LL << 20);
	assert_int_equal(f->limits[MG_METRIC_CGROUP], 1LL << 30);
	assert_int_equal(f->limits[MG_METRIC_MAX_PROCESS_HWM], MG_NO_LIMIT);
	assert_int_equal(f->limits[MG_METRIC_PSS], 100000000);
	assert_int_equal(f->kill_above, 512LL << 20);
	/* defaults say pss false, but a pss limit turns it on */
	assert_true(f->pss);
	mg_config_free(&cfg);
	assert_zeroed(&cfg);
}

static void test_good_config_fixture1(void **state)
{
	struct mg_config cfg;
	const struct mg_fixture *f;

	(void)state;
	load_ok(good_config, &cfg);
	f = &cfg.fixtures[1];
	assert_string_equal(f->name, "cli.v2_x-Y");
	assert_int_equal(f->argc, 1);
	assert_string_equal(f->argv[0], "cli");
	assert_null(f->argv[1]);
	assert_string_equal(f->cwd, "/tmp");
	assert_int_equal(f->envc, 2);
	assert_string_equal(f->env[0], "LANG=C");
	assert_string_equal(f->env[1], "MODE=default");
	assert_null(f->env[2]);
	assert_int_equal(f->stdin_mode, MG_STDIN_FILE);
	assert_string_equal(f->stdin_path, "tests/data/input.txt");
	assert_int_equal(f->timeout_ms, 30000);
	assert_int_equal(f->interval_ms, 1000);
	assert_int_equal(f->measurement, MG_METHOD_CGROUP_V2);
	assert_int_equal(f->limits[MG_METRIC_TREE_RSS], 200LL << 20);
	assert_int_equal(f->limits[MG_METRIC_CGROUP], 1LL << 30);
	assert_int_equal(f->limits[MG_METRIC_MAX_PROCESS_HWM], 64LL << 20);
	assert_int_equal(f->limits[MG_METRIC_PSS], MG_NO_LIMIT);
	assert_int_equal(f->kill_above, 1LL << 30);
	assert_true(f->pss);
	/* the copies are the fixture's own, not shared with fixture 0 */
	assert_ptr_not_equal(f->cwd, cfg.fixtures[0].cwd);
	assert_ptr_not_equal(f->env[0], cfg.fixtures[0].env[0]);
	mg_config_free(&cfg);
}

static void test_builtin_defaults(void **state)
{
	struct mg_config cfg;
	const struct mg_fixture *f;

	(void)state;
	load_ok("{'version': 1, 'fixtures': [{'name': 'a', 'command': ['true']}]}", &cfg);
	assert_null(cfg.cgroup_root);
	f = &cfg.fixtures[0];
	assert_string_equal(f->name, "a");
	assert_null(f->cwd);
	assert_null(f->env);
	assert_int_equal(f->envc, 0);
	assert_int_equal(f->stdin_mode, MG_STDIN_NULL);
	assert_null(f->stdin_path);
	assert_int_equal(f->timeout_ms, MG_DEFAULT_TIMEOUT_MS);
	assert_int_equal(f->interval_ms, MG_DEFAULT_INTERVAL_MS);
	assert_int_equal(f->measurement, MG_METHOD_AUTO);
	for (int m = 0; m < MG_METRIC_COUNT; m++)
		assert_int_equal(f->limits[m], MG_NO_LIMIT);
	assert_int_equal(f->kill_above, MG_NO_LIMIT);
	assert_false(f->pss);
	mg_config_free(&cfg);
}

static void test_fixture_overrides_defaults(void **state)
{
	struct mg_config cfg;
	const struct mg_fixture *f;

	(void)state;
	load_ok("{'version': 1, 'defaults': {'stdin': 'input.txt', 'pss': true,"
		" 'measurement': 'cgroup-v1', 'env': {'A': '1'}},"
		" 'fixtures': [{'name': 'a', 'command': ['x'], 'stdin': 'null', 'pss': false,"
		" 'measurement': 'auto', 'env': {}}]}",
		&cfg);
	f = &cfg.fixtures[0];
	assert_int_equal(f->stdin_mode, MG_STDIN_NULL);
	assert_null(f->stdin_path);
	assert_false(f->pss);
	assert_int_equal(f->measurement, MG_METHOD_AUTO);
	assert_int_equal(f->envc, 1); /* an empty env object keeps the defaults */
	assert_string_equal(f->env[0], "A=1");
	mg_config_free(&cfg);
}

/* phase_limits: per name or glob, memory metrics only, merged with the
 * defaults' per name and metric. */
static void test_phase_limits(void **state)
{
	(void)state;
	struct mg_config cfg;
	load_ok("{'version': 1, 'defaults': {'phase_limits': {'startup': {'tree_rss': '120MiB', 'cgroup': '1GiB'}}},"
		" 'fixtures': [{'name': 'a', 'command': ['x'], 'phase_limits': {'startup': {'cgroup': '200MiB'},"
		" 'tests/test_api.py::*': {'max_process_hwm': '64MiB'}}}]}",
		&cfg);
	const struct mg_fixture *f = &cfg.fixtures[0];
	assert_int_equal(f->nphase_limits, 2);
	assert_string_equal(f->phase_limits[0].match, "startup");
	assert_int_equal(f->phase_limits[0].limits[MG_METRIC_TREE_RSS], 120LL << 20);
	assert_int_equal(f->phase_limits[0].limits[MG_METRIC_CGROUP], 200LL << 20);
	assert_int_equal(f->phase_limits[0].limits[MG_METRIC_MAX_PROCESS_HWM], MG_NO_LIMIT);
	assert_string_equal(f->phase_limits[1].match, "tests/test_api.py::*");
	assert_int_equal(f->phase_limits[1].limits[MG_METRIC_MAX_PROCESS_HWM], 64LL << 20);
	mg_config_free(&cfg);

	fixture_err("'phase_limits': ['startup']", "fixtures[0].phase_limits: expected an object");
	fixture_err("'phase_limits': {'startup': '1GiB'}", "fixtures[0].phase_limits.startup: expected an object");
	fixture_err("'phase_limits': {'startup': {'rss': '1GiB'}}", "fixtures[0].phase_limits.startup.rss");
	fixture_err("'phase_limits': {'startup': {'growth': '1MiB'}}", "not measured per phase");
	fixture_err("'phase_limits': {'startup': {'pss': '1MiB'}}", "not measured per phase");
	fixture_err("'phase_limits': {'startup': {'cgroup': '12 apples'}}", "fixtures[0].phase_limits.startup.cgroup");
	fixture_err("'phase_limits': {'startup': {'cgroup': '0B'}}", "can never pass");
	fixture_err("'phase_limits': {'': {'cgroup': '1MiB'}}", "1 to 200 characters");
	defaults_err("'phase_limits': {'x': {'tree_rss': -1}}", "defaults.phase_limits.x.tree_rss");
}

/* "heap" limits the heap tool's peak whatever the tool; "python_heap", its
 * first name, stays; both may be set. Neither is measured per phase. */
static void test_heap_limits(void **state)
{
	(void)state;
	struct mg_config cfg;
	load_ok("{'version': 1, 'defaults': {'limits': {'heap': '64MiB'}},"
		" 'fixtures': [{'name': 'a', 'command': ['x'], 'heap': {'tool': 'heaptrack'}},"
		" {'name': 'b', 'command': ['x'], 'limits': {'heap': '8MiB', 'python_heap': '16MiB'}}]}",
		&cfg);
	assert_int_equal(cfg.fixtures[0].limits[MG_METRIC_HEAP], 64LL << 20);
	assert_int_equal(cfg.fixtures[0].limits[MG_METRIC_PYTHON_HEAP], MG_NO_LIMIT);
	assert_int_equal(cfg.fixtures[1].limits[MG_METRIC_HEAP], 8LL << 20);
	assert_int_equal(cfg.fixtures[1].limits[MG_METRIC_PYTHON_HEAP], 16LL << 20);
	mg_config_free(&cfg);
	fixture_err("'limits': {'heap': '0B'}", "fixtures[0].limits.heap: a limit of 0 bytes can never pass");
	fixture_err("'limits': {'heap': '1MiB/s'}", "fixtures[0].limits.heap");
	fixture_err("'phase_limits': {'startup': {'heap': '1MiB'}}",
		    "fixtures[0].phase_limits.startup.heap: heap is not measured per phase");
	fixture_err("'phase_limits': {'startup': {'python_heap': '1MiB'}}", "not measured per phase");
}

static void test_pss_limit_turns_pss_on(void **state)
{
	struct mg_config cfg;

	(void)state;
	/* the limit from defaults, pss explicitly false in the fixture */
	load_ok("{'version': 1, 'defaults': {'limits': {'pss': '1GiB'}},"
		" 'fixtures': [{'name': 'a', 'command': ['x'], 'pss': false}]}",
		&cfg);
	assert_true(cfg.fixtures[0].pss);
	assert_int_equal(cfg.fixtures[0].limits[MG_METRIC_PSS], 1LL << 30);
	mg_config_free(&cfg);
}

static void test_boundaries_accepted(void **state)
{
	struct mg_config cfg;

	(void)state;
	fixture_ok("'interval': '10s', 'timeout': '1ms', 'kill_above': '1MiB',"
		   " 'limits': {'tree_rss': '1B'}",
		   &cfg);
	assert_int_equal(cfg.fixtures[0].interval_ms, 10000);
	assert_int_equal(cfg.fixtures[0].timeout_ms, 1);
	assert_int_equal(cfg.fixtures[0].kill_above, 1 << 20);
	assert_int_equal(cfg.fixtures[0].limits[MG_METRIC_TREE_RSS], 1);
	mg_config_free(&cfg);
	fixture_ok("'interval': '1ms'", &cfg);
	assert_int_equal(cfg.fixtures[0].interval_ms, 1);
	mg_config_free(&cfg);
}

static void test_malformed_json(void **state)
{
	(void)state;
	/* jansson's column is that of the last character of the bad token */
	load_err("{\n  'version': 1,\n  'fixtures': [\n    {'name': 'a' 'command': ['x']}\n  ]\n}",
		 ORIGIN ":4:26: '}' expected near '\"command\"'");
	load_err("{'version': 1, 'version': 1}", ORIGIN ":1:24: duplicate object key near '\"version\"'");
	load_err("", ORIGIN ":1:0: '[' or '{' expected near end of file");
	load_err("{'version': 1,}", ORIGIN ":1:15: string or '}' expected near '}'");
}

static void test_top_level(void **state)
{
	(void)state;
	load_err("[1]", ORIGIN ": the top level must be an object, got an array");
	load_err("{'fixtures': [{'name': 'a', 'command': ['x']}]}",
		 ORIGIN ": version: missing; this memgate reads version 1");
	load_err("{'version': 2, 'fixtures': []}",
		 ORIGIN ": version: unsupported version 2; this memgate supports version 1");
	load_err("{'version': '1', 'fixtures': []}",
		 ORIGIN ": version: expected the integer 1, got a string");
	load_err("{'version': 1.0, 'fixtures': []}",
		 ORIGIN ": version: expected the integer 1, got a number");
	load_err("{'version': 1}", ORIGIN ": fixtures: missing; add an array of fixtures");
	load_err("{'version': 1, 'fixtures': []}",
		 ORIGIN ": fixtures: empty; add at least one fixture");
	load_err("{'version': 1, 'fixtures': {}}",
		 ORIGIN ": fixtures: expected an array of fixtures, got an object");
	load_err("{'version': 1, 'fixtures': [{'name': 'a', 'command': ['x']}, 'b']}",
		 ORIGIN ": fixtures[1]: expected an object, got a string");
	load_err("{'version': 1, 'defaults': [], 'fixtures': [{'name': 'a', 'command': ['x']}]}",
		 ORIGIN ": defaults: expected an object, got an array");
	load_err("{'version': 1, 'cgroup_root': 'rel/dir', 'fixtures': []}",
		 ORIGIN ": cgroup_root: must be an absolute path, got \"rel/dir\"");
	load_err("{'version': 1, 'cgroup_root': 5, 'fixtures': []}",
		 ORIGIN ": cgroup_root: expected a string, got a number");
	load_err("{'$schema': null, 'version': 1, 'fixtures': []}",
		 ORIGIN ": $schema: expected a string, got null");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	load_err("{'version': 1, 'fixtures': [{'name': 'a', 'command': ['x']},"
		 " {'name': 'b', 'command': ['x'], 'limts': {}}]}",
		 ORIGIN ": fixtures[1].limts: unknown key (did you mean \"limits\"?)");
	/* a misspelt required key is reported as a typo, not as missing */
	load_err("{'verison': 1, 'fixtures': []}",
		 ORIGIN ": verison: unknown key (did you mean \"version\"?)");
	load_err("{'version': 1, 'schema': 'x', 'fixtures': []}",
		 ORIGIN ": schema: unknown key (did you mean \"$schema\"?)");
	load_err("{'version': 1, 'plugins': [], 'fixtures': []}",
		 ORIGIN ": plugins: unknown key; valid keys: version, cgroup_root, defaults, "
			"fixtures, $schema");
	defaults_err("'timout': '1s'", ORIGIN ": defaults.timout: unknown key (did you mean \"timeout\"?)");
	fixture_err("'frobnicate': 1",
		    ORIGIN ": fixtures[0].frobnicate: unknown key; valid keys: name, command, cwd, "
			   "env, stdin, timeout, interval, measurement, limits, kill_above, pss");
	defaults_err("'frobnicate': 1",
		     ORIGIN ": defaults.frobnicate: unknown key; valid keys: cwd, env, stdin, "
			    "timeout, interval, measurement, limits, kill_above, pss");
	fixture_err("'limits': {'tree_rs': '1MiB'}",
		    ORIGIN ": fixtures[0].limits.tree_rs: unknown key (did you mean \"tree_rss\"?)");
	fixture_err("'limits': {'max_proc_hwm': '1MiB'}",
		    ORIGIN ": fixtures[0].limits.max_proc_hwm: unknown key (did you mean "
			   "\"max_process_hwm\"?)");
	fixture_err("'limits': {'frobs': '1MiB'}",
		    ORIGIN ": fixtures[0].limits.frobs: unknown key; valid keys: tree_rss, cgroup, "
			   "max_process_hwm, pss, cgroup_anon, python_heap, growth, growth_per_request, heap");
	fixture_err("'limits': {'heep': '1MiB'}", ORIGIN ": fixtures[0].limits.heep: unknown key (did you mean \"heap\"?)");
	defaults_err("'limits': {'rss': '1MiB'}",
		     ORIGIN ": defaults.limits.rss: unknown key (did you mean \"pss\"?)");
	defaults_err("'name': 'a'", ORIGIN ": defaults.name: belongs in each fixture, not in defaults");
	defaults_err("'command': ['x']",
		     ORIGIN ": defaults.command: belongs in each fixture, not in defaults");
}

/* Heap attribution: "heap": {"tool": ...} for every tool, and the older
 * "python": {"heap": ...} still read the same; both in one object is an
 * error naming the place. */
static void test_heap_keys(void **state)
{
	(void)state;
	struct mg_config cfg;
	fixture_ok("'heap': {'tool': 'heaptrack', 'top': 7}", &cfg);
	assert_int_equal(cfg.fixtures[0].heap.tool, MG_HEAP_HEAPTRACK);
	assert_int_equal(cfg.fixtures[0].heap.top, 7);
	assert_false(cfg.fixtures[0].heap.optional);
	mg_config_free(&cfg);
	fixture_ok("'heap': {'tool': 'memray', 'native': true, 'follow_fork': true, 'optional': true}", &cfg);
	assert_int_equal(cfg.fixtures[0].heap.tool, MG_HEAP_MEMRAY);
	assert_true(cfg.fixtures[0].heap.native && cfg.fixtures[0].heap.follow_fork && cfg.fixtures[0].heap.optional);
	assert_int_equal(cfg.fixtures[0].heap.top, 10);
	mg_config_free(&cfg);
	fixture_ok("'python': {'heap': 'memray', 'top': 5, 'optional': true}", &cfg);
	assert_int_equal(cfg.fixtures[0].heap.tool, MG_HEAP_MEMRAY);
	assert_int_equal(cfg.fixtures[0].heap.top, 5);
	assert_true(cfg.fixtures[0].heap.optional);
	mg_config_free(&cfg);
	/* a fixture's "heap" over the defaults' "python": per key, the fixture's wins */
	load_ok("{'version': 1, 'defaults': {'python': {'heap': 'tracemalloc', 'top': 3}},"
		" 'fixtures': [{'name': 'a', 'command': ['x'], 'heap': {'tool': 'heaptrack'}}, {'name': 'b', 'command': ['x']}]}",
		&cfg);
	assert_int_equal(cfg.fixtures[0].heap.tool, MG_HEAP_HEAPTRACK);
	assert_int_equal(cfg.fixtures[0].heap.top, 3);
	assert_int_equal(cfg.fixtures[1].heap.tool, MG_HEAP_TRACEMALLOC);
	mg_config_free(&cfg);

	fixture_err("'heap': {'tool': 'memray'}, 'python': {'heap': 'memray'}",
		    ORIGIN ": fixtures[0].heap: both \"heap\" and \"python\" say how to attribute the heap; keep "
			   "\"heap\"");
	defaults_err("'python': {'heap': 'memray'}, 'heap': {'tool': 'memray'}",
		     ORIGIN ": defaults.heap: both \"heap\" and \"python\"");
	fixture_err("'heap': {'tool': 'valgrind'}",
		    ORIGIN ": fixtures[0].heap.tool: expected \"tracemalloc\", \"memray\" or \"heaptrack\"");
	fixture_err("'heap': {'tol': 'memray'}", ORIGIN ": fixtures[0].heap.tol: unknown key (did you mean \"tool\"?)");
	fixture_err("'heap': 'memray'", ORIGIN ": fixtures[0].heap: expected an object like {\"tool\": ");
	fixture_err("'heap': {'tool': 'memray', 'top': 0}", ORIGIN ": fixtures[0].heap.top: expected an integer from 1 to 100");
	fixture_err("'heap': {'tool': 'memray', 'native': 1}",
		    ORIGIN ": fixtures[0].heap.native: expected true or false, got a number");
	fixture_err("'heap': {'tool': 'heaptrack', 'native': true}",
		    ORIGIN ": fixtures[0].heap.native: only memray has this option (set \"tool\": \"memray\", or remove "
			   "it: heaptrack always records native code)");
	fixture_err("'heap': {'tool': 'tracemalloc', 'follow_fork': true}",
		    ORIGIN ": fixtures[0].heap.follow_fork: only memray has this option");
	fixture_err("'python': {'heap': 'heaptrack'}",
		    ORIGIN ": fixtures[0].python.heap: heaptrack is not a Python tool; write \"heap\": {\"tool\": "
			   "\"heaptrack\"}");
	fixture_err("'python': {'native': true}", ORIGIN ": fixtures[0].python.native: unknown key");
}

static void test_wrong_types(void **state)
{
	(void)state;
	fixture_err("'timeout': 30",
		    ORIGIN ": fixtures[0].timeout: expected a duration string like \"30s\", got a number");
	defaults_err("'interval': true",
		     ORIGIN ": defaults.interval: expected a duration string like \"30s\", got a boolean");
	fixture_err("'limits': {'tree_rss': 209715200}",
		    ORIGIN ": fixtures[0].limits.tree_rss: expected a size string like \"200MiB\", "
			   "got a number (a size needs a unit: B, kB, MB, GB, KiB, MiB or GiB)");
	fixture_err("'kill_above': null",
		    ORIGIN ": fixtures[0].kill_above: expected a size string like \"200MiB\", got null");
	fixture_err("'limits': ['1MiB']",
		    ORIGIN ": fixtures[0].limits: expected an object like {\"tree_rss\": \"200MiB\"}, "
			   "got an array");
	fixture_err("'pss': 'yes'", ORIGIN ": fixtures[0].pss: expected true or false, got a string");
	fixture_err("'cwd': 1", ORIGIN ": fixtures[0].cwd: expected a string, got a number");
	fixture_err("'cwd': ''", ORIGIN ": fixtures[0].cwd: must not be empty");
	fixture_err("'env': ['A=1']",
		    ORIGIN ": fixtures[0].env: expected an object of strings like {\"KEY\": \"value\"}, "
			   "got an array");
	fixture_err("'env': {'N': 1}", ORIGIN ": fixtures[0].env.N: expected a string, got a number");
	fixture_err("'stdin': false",
		    ORIGIN ": fixtures[0].stdin: expected \"null\", \"inherit\" or a file path, got a boolean");
	fixture_err("'stdin': ''",
		    ORIGIN ": fixtures[0].stdin: expected \"null\", \"inherit\" or a file path, got an "
			   "empty string");
	fixture_err("'measurement': 2", ORIGIN ": fixtures[0].measurement: expected a string, got a number");
}

static void test_bad_values(void **state)
{
	(void)state;
	fixture_err("'limits': {'tree_rss': '-5MiB'}",
		    ORIGIN ": fixtures[0].limits.tree_rss: size \"-5MiB\" is negative");
	fixture_err("'limits': {'cgroup': '200'}",
		    ORIGIN ": fixtures[0].limits.cgroup: size \"200\" needs a unit: B, kB, MB, GB, KiB, "
			   "MiB or GiB");
	fixture_err("'limits': {'pss': '5KB'}",
		    ORIGIN ": fixtures[0].limits.pss: size \"5KB\" has an unknown unit \"KB\": did you "
			   "mean \"KiB\" (1024) or \"kB\" (1000)?");
	fixture_err("'limits': {'tree_rss': '0B'}",
		    ORIGIN ": fixtures[0].limits.tree_rss: a limit of 0 bytes can never pass");
	defaults_err("'limits': {'cgroup': '0.0001B'}",
		     ORIGIN ": defaults.limits.cgroup: a limit of 0 bytes can never pass");
	fixture_err("'kill_above': '512kB'",
		    ORIGIN ": fixtures[0].kill_above: must be at least 1MiB, got \"512kB\"");
	fixture_err("'kill_above': '1048575B'", ORIGIN ": fixtures[0].kill_above: must be at least 1MiB");
	defaults_err("'timeout': '30'",
		     ORIGIN ": defaults.timeout: duration \"30\" needs a unit: ms, s, min or h");
	fixture_err("'timeout': '0s'", ORIGIN ": fixtures[0].timeout: must be greater than 0");
	fixture_err("'timeout': '-1s'", ORIGIN ": fixtures[0].timeout: duration \"-1s\" is negative");
	fixture_err("'interval': '0ms'",
		    ORIGIN ": fixtures[0].interval: must be between 1ms and 10s, got \"0ms\"");
	fixture_err("'interval': '10.001s'",
		    ORIGIN ": fixtures[0].interval: must be between 1ms and 10s, got \"10.001s\"");
	fixture_err("'measurement': 'cgroupv2'",
		    ORIGIN ": fixtures[0].measurement: unknown method \"cgroupv2\" (did you mean "
			   "\"cgroup-v2\"?)");
	fixture_err("'measurement': 'ebpf'",
		    ORIGIN ": fixtures[0].measurement: unknown method \"ebpf\"; expected \"auto\", "
			   "\"cgroup-v2\", \"cgroup-v1\" or \"proc\"");
	fixture_err("'env': {'A=B': 'c'}",
		    ORIGIN ": fixtures[0].env.A=B: a variable name must not contain '='");
	fixture_err("'env': {'': 'c'}", ORIGIN ": fixtures[0].env: a variable name must not be empty");
}

static void test_names(void **state)
{
	(void)state;
	load_err("{'version': 1, 'fixtures': [{'command': ['x']}]}",
		 ORIGIN ": fixtures[0]: missing required key \"name\"");
	load_err("{'version': 1, 'fixtures': [{'name': '', 'command': ['x']}]}",
		 ORIGIN ": fixtures[0].name: must not be empty");
	load_err("{'version': 1, 'fixtures': [{'name': 7, 'command': ['x']}]}",
		 ORIGIN ": fixtures[0].name: expected a string, got a number");
	load_err("{'version': 1, 'fixtures': [{'name': 'a b', 'command': ['x']}]}",
		 ORIGIN ": fixtures[0].name: \"a b\" may only contain letters, digits, '.', '_' "
			"and '-' (it is used as a file name)");
	load_err("{'version': 1, 'fixtures': [{'name': 'x/../y', 'command': ['x']}]}",
		 ORIGIN ": fixtures[0].name: \"x/../y\" may only contain");
	load_err("{'version': 1, 'fixtures': [{'name': '..', 'command': ['x']}]}",
		 ORIGIN ": fixtures[0].name: \"..\" cannot be used as a file name");
	load_err("{'version': 1, 'fixtures': [{'name': 'api', 'command': ['x']},"
		 " {'name': 'web', 'command': ['x']}, {'name': 'api', 'command': ['x']}]}",
		 ORIGIN ": fixtures[2].name: duplicate fixture name \"api\" (also fixtures[0])");
}

/* Names are checked for duplicates in O(n log n), like a report's: a
 * pairwise scan of 200000 fixtures (a generated config) took minutes. The
 * first duplicate met front to back is the one named, as before, and an
 * earlier fixture's own error still comes first. */
static void many_fixtures(void **state)
{
	(void)state;
	enum { N = 200000 };
	size_t cap = (size_t)N * 48 + 64, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len, "{\"version\": 1, \"fixtures\": [");
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s{\"name\": \"f%07d\", \"command\": [\"x\"]}",
					i ? ", " : "", (i * 7919) % N);
	snprintf(text + len, cap - len, "]}");
	struct mg_config cfg;
	char err[512] = "";
	if (mg_config_load_string(text, ORIGIN, &cfg, err, sizeof err) != 0)
		fail_msg("load failed: %s", err);
	assert_int_equal(cfg.nfixtures, N);
	mg_config_free(&cfg);
	snprintf(text + len, cap - len, ", {\"name\": \"f0007919\", \"command\": [\"x\"]}]}");
	assert_int_equal(mg_config_load_string(text, ORIGIN, &cfg, err, sizeof err), -1);
	assert_string_equal(err, ORIGIN ": fixtures[200000].name: duplicate fixture name \"f0007919\" (also fixtures[1])");
	free(text);
	load_err("{'version': 1, 'fixtures': [{'name': 'a', 'command': ['x']}, {'name': 'b', 'command': 7},"
		 " {'name': 'a', 'command': ['x']}]}", ORIGIN ": fixtures[1].command: expected an array");
	load_err("{'version': 1, 'fixtures': [{'name': 'a', 'command': ['x']}, {'name': 'a', 'command': ['x']},"
		 " {'name': 'b', 'command': ['x']}, {'name': 'b', 'command': 7}]}",
		 ORIGIN ": fixtures[1].name: duplicate fixture name \"a\" (also fixtures[0])");
}

static void test_long_name(void **state)
{
	char json[512], name[102];

	(void)state;
	memset(name, 'n', 101);
	name[101] = '\0';
	snprintf(json, sizeof json, "{'version': 1, 'fixtures': [{'name': '%s', 'command': ['x']}]}",
		 name);
	load_err(json, "fixtures[0].name: \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...\" is longer "
		       "than 100 characters");
	name[100] = '\0'; /* exactly 100 is fine */
	snprintf(json, sizeof json, "{'version': 1, 'fixtures': [{'name': '%s', 'command': ['x']}]}",
		 name);
	struct mg_config cfg;
	load_ok(json, &cfg);
	assert_int_equal(strlen(cfg.fixtures[0].name), 100);
	mg_config_free(&cfg);
}

static void test_commands(void **state)
{
	(void)state;
	load_err("{'version': 1, 'fixtures': [{'name': 'a'}]}",
		 ORIGIN ": fixtures[0]: missing required key \"command\"");
	load_err("{'version': 1, 'fixtures': [{'name': 'a', 'command': []}]}",
		 ORIGIN ": fixtures[0].command: empty command; give at least the program to run");
	load_err("{'version': 1, 'fixtures': [{'name': 'a', 'command': ['', 'x']}]}",
		 ORIGIN ": fixtures[0].command[0]: the program name must not be empty");
	load_err("{'version': 1, 'fixtures': [{'name': 'a', 'command': ['x', 'y', 3]}]}",
		 ORIGIN ": fixtures[0].command[2]: expected a string, got a number");
	load_err("{'version': 1, 'fixtures': [{'name': 'a', 'command': 'prog arg'}]}",
		 ORIGIN ": fixtures[0].command: expected an array of strings like [\"prog\", \"arg\"], "
			"got a string");
}

/* Errors after allocations (second fixture, env merged, argv built) must
 * free everything: the sanitizer build checks for leaks. */
static void test_error_after_allocations(void **state)
{
	(void)state;
	load_err("{'version': 1, 'cgroup_root': '/cg', 'defaults': {'cwd': 'd', 'env': {'A': '1'},"
		 " 'stdin': 'in.txt'}, 'fixtures': [{'name': 'a', 'command': ['x', 'y']},"
		 " {'name': 'b', 'command': ['x', 'y', {}], 'env': {'B': '2'}}]}",
		 ORIGIN ": fixtures[1].command[2]: expected a string, got an object");
}

static void test_origin_and_null_args(void **state)
{
	struct mg_config cfg;
	char err[256] = "";

	(void)state;
	assert_int_equal(mg_config_load_string("[]", NULL, &cfg, err, sizeof err), -1);
	assert_string_equal(err, "<string>: the top level must be an object, got an array");
	assert_int_equal(mg_config_load_string(NULL, "x.json", &cfg, err, sizeof err), -1);
	assert_string_equal(err, "x.json: no config text");
	assert_zeroed(&cfg);
	/* no error buffer: still fails cleanly */
	assert_int_equal(mg_config_load_string("{", "x.json", &cfg, NULL, 0), -1);
	assert_int_equal(mg_config_load_string("[]", "x.json", &cfg, NULL, 0), -1);
	/* a short buffer is truncated, not overrun */
	assert_int_equal(mg_config_load_string("[]", "x.json", &cfg, err, 8), -1);
	assert_string_equal(err, "x.json:");
	mg_config_free(NULL);
}

static void test_control_chars_stay_on_one_line(void **state)
{
	(void)state;
	/* a key with an escaped newline: echoed, but never as a line break */
	load_err("{'version': 1, 'bad\\nkey': 1, 'fixtures': []}", ORIGIN ": bad?key: unknown key");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/memgate-test-config-XXXXXX";
	char err[512] = "";
	struct mg_config cfg;
	char *text = sq(good_config);
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, text);
	free(text);
	assert_int_equal(mg_config_load_file(path, &cfg, err, sizeof err), 0);
	assert_int_equal(cfg.nfixtures, 2);
	assert_string_equal(cfg.fixtures[1].name, "cli.v2_x-Y");
	mg_config_free(&cfg);

	/* syntax errors are reported against the path given */
	write_file(path, "{\n  \"version\": 1,\n  oops\n}\n");
	assert_int_equal(mg_config_load_file(path, &cfg, err, sizeof err), -1);
	char want[128];
	snprintf(want, sizeof want, "%s:3:6: string or '}' expected near 'oops'", path);
	assert_string_equal(err, want);
	assert_zeroed(&cfg);

	/* and semantic errors too */
	write_file(path, "{\"version\": 3, \"fixtures\": []}");
	assert_int_equal(mg_config_load_file(path, &cfg, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: version: unsupported version 3", path);
	assert_contains(err, want);
	assert_int_equal(unlink(path), 0);
}

static void test_load_file_unreadable(void **state)
{
	char err[512] = "";
	struct mg_config cfg;

	(void)state;
	assert_int_equal(mg_config_load_file("/nonexistent/memgate.json", &cfg, err, sizeof err), -1);
	assert_string_equal(err, "/nonexistent/memgate.json: cannot read: ENOENT (No such file or directory)");
	assert_zeroed(&cfg);
	assert_int_equal(mg_config_load_file("/tmp", &cfg, err, sizeof err), -1);
	assert_string_equal(err, "/tmp: cannot read: EISDIR (Is a directory)");
	assert_int_equal(mg_config_load_file(NULL, &cfg, err, sizeof err), -1);
	assert_contains(err, "no config path");
}

static void test_names_tables(void **state)
{
	enum mg_metric m;
	enum mg_method me;

	(void)state;
	assert_string_equal(mg_metric_name(MG_METRIC_TREE_RSS), "tree_rss");
	assert_string_equal(mg_metric_name(MG_METRIC_CGROUP), "cgroup");
	assert_string_equal(mg_metric_name(MG_METRIC_MAX_PROCESS_HWM), "max_process_hwm");
	assert_string_equal(mg_metric_name(MG_METRIC_PSS), "pss");
	assert_string_equal(mg_metric_name(MG_METRIC_PYTHON_HEAP), "python_heap");
	assert_string_equal(mg_metric_name(MG_METRIC_HEAP), "heap");
	assert_string_equal(mg_metric_name(MG_METRIC_COUNT), "unknown");
	for (int i = 0; i < MG_METRIC_COUNT; i++) {
		assert_int_equal(mg_metric_from_name(mg_metric_name((enum mg_metric)i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_int_equal(mg_metric_from_name("rss", &m), -1);
	assert_int_equal(mg_metric_from_name(NULL, &m), -1);

	assert_string_equal(mg_method_name(MG_METHOD_AUTO), "auto");
	assert_string_equal(mg_method_name(MG_METHOD_CGROUP_V2), "cgroup-v2");
	assert_string_equal(mg_method_name(MG_METHOD_CGROUP_V1), "cgroup-v1");
	assert_string_equal(mg_method_name(MG_METHOD_PROC), "proc");
	assert_int_equal(mg_method_from_name("cgroup-v1", &me), 0);
	assert_int_equal(me, MG_METHOD_CGROUP_V1);
	assert_int_equal(mg_method_from_name("proc", &me), 0);
	assert_int_equal(me, MG_METHOD_PROC);
	assert_int_equal(mg_method_from_name("Proc", &me), -1);
}

/* Every name of the metric table is in README's Config section; heap and
 * python_heap in the man page's and --help's --limit too. */
static void test_metric_names_documented(void **state)
{
	(void)state;
	char *readme = tu_read_data("../../README.md");
	char *man = tu_read_data("../../memgate.1");
	char *config = strstr(readme, "\n## Config");
	assert_non_null(config);
	char *end = strstr(config + 4, "\n## ");
	if (end)
		*end = '\0';
	for (int i = 0; i < MG_METRIC_COUNT; i++) {
		char quoted[64];
		snprintf(quoted, sizeof quoted, "`%s`", mg_metric_names[i]);
		assert_contains(config, quoted);
	}
	const char *limit_man = strstr(man, "\\-\\-limit");
	const char *limit_help = strstr(mg_usage_text, "--limit METRIC");
	assert_non_null(limit_man);
	assert_non_null(limit_help);
	assert_contains(limit_man, "heap (the");
	assert_contains(limit_man, "python_heap");
	assert_contains(limit_help, "heap (the");
	assert_contains(limit_help, "python_heap");
	free(readme);
	free(man);
}

static void test_fixture_init_free(void **state)
{
	struct mg_fixture f;

	(void)state;
	memset(&f, 0xab, sizeof f);
	mg_fixture_init(&f);
	assert_null(f.name);
	assert_null(f.argv);
	assert_int_equal(f.argc, 0);
	assert_null(f.cwd);
	assert_null(f.env);
	assert_int_equal(f.envc, 0);
	assert_int_equal(f.stdin_mode, MG_STDIN_NULL);
	assert_null(f.stdin_path);
	assert_int_equal(f.timeout_ms, MG_DEFAULT_TIMEOUT_MS);
	assert_int_equal(f.interval_ms, MG_DEFAULT_INTERVAL_MS);
	assert_int_equal(f.measurement, MG_METHOD_AUTO);
	for (int m = 0; m < MG_METRIC_COUNT; m++)
		assert_int_equal(f.limits[m], MG_NO_LIMIT);
	assert_int_equal(f.kill_above, MG_NO_LIMIT);
	assert_false(f.pss);
	/* free owns every string */
	f.name = strdup("n");
	f.cwd = strdup("c");
	f.stdin_path = strdup("p");
	f.argv = calloc(2, sizeof *f.argv);
	assert_non_null(f.argv);
	f.argv[0] = strdup("prog");
	f.argc = 1;
	mg_fixture_free(&f);
	assert_null(f.name);
	assert_null(f.argv);
	assert_null(f.cwd);
	mg_fixture_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_config_fixture0),
		cmocka_unit_test(test_good_config_fixture1),
		cmocka_unit_test(test_builtin_defaults),
		cmocka_unit_test(test_fixture_overrides_defaults),
		cmocka_unit_test(test_pss_limit_turns_pss_on),
		cmocka_unit_test(test_phase_limits),
		cmocka_unit_test(test_heap_limits),
		cmocka_unit_test(test_boundaries_accepted),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_heap_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_names),
		cmocka_unit_test(many_fixtures),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_error_after_allocations),
		cmocka_unit_test(test_origin_and_null_args),
		cmocka_unit_test(test_control_chars_stay_on_one_line),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_file_unreadable),
		cmocka_unit_test(test_names_tables),
		cmocka_unit_test(test_metric_names_documented),
		cmocka_unit_test(test_fixture_init_free),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
