/* Python heap reports: the tracemalloc helper's JSON (captured from real runs of
 * configs/lab/ under gate/heap/python/sitecustomize.py, tests/data/pyheap/), memray
 * 1.20.0's `stats --json` (real files, tests/data/memray/), memray's command
 * lines and exit statuses. */
#include "testutil.h"

#include "heap/memray.h"
#include "heap/pyheap.h"

#define ERRLEN 512

static struct mg_pyheap *new_heap(void)
{
	struct mg_pyheap *h = malloc(sizeof *h);
	assert_non_null(h);
	return h;
}

static const struct mg_pyheap_site *find_site(const struct mg_pyheap *h, const char *location)
{
	for (int i = 0; i < h->ntop; i++)
		if (strcmp(h->top[i].location, location) == 0)
			return &h->top[i];
	return NULL;
}

/* ------------------------------------------------------------ tracemalloc */

static void tracemalloc_leaky_service(void **state)
{
	(void)state;
	char err[ERRLEN] = "";
	struct mg_pyheap *h = new_heap();
	assert_int_equal(mg_pyheap_load_tracemalloc("tests/data/pyheap/tracemalloc-leaky-service.json", h, err,
						    sizeof err), 0);
	assert_string_equal(err, "");
	assert_string_equal(h->tool, "tracemalloc");
	assert_int_equal(h->peak_bytes, 441247560);
	assert_int_equal(h->current_bytes, 441233775);
	assert_int_equal(h->ntop, 10);
	assert_int_equal(h->top_omitted, 0);
	/* the three leak lines of configs/lab/service.py, ~2200 x 64 KiB each */
	assert_string_equal(h->top[0].location, "configs/lab/service.py:93");
	assert_int_equal(h->top[0].size_bytes, 144430048);
	assert_int_equal(h->top[0].count, 8801);
	assert_true(h->top[0].has_count);
	assert_string_equal(h->top[0].function, "");
	assert_string_equal(h->top[1].location, "configs/lab/service.py:62");
	assert_string_equal(h->top[2].location, "configs/lab/service.py:72");
	for (int i = 0; i < 3; i++)
		assert_true(h->top[i].size_bytes > (int64_t)2000 * 65536);
	assert_true(h->top[3].size_bytes < 2 * 1024 * 1024);
	assert_string_equal(h->top[3].location, "<frozen importlib._bootstrap_external>:729");
	assert_int_equal(h->ndomains, 1);
	assert_int_equal(h->domains[0].domain, 0);
	assert_int_equal(mg_pyheap_domain_bytes(h, 0), 440712686);
	assert_int_equal(mg_pyheap_domain_bytes(h, MG_PYHEAP_NUMPY_DOMAIN), 0);
	free(h);
}

static void tracemalloc_numpy_domains(void **state)
{
	(void)state;
	char err[ERRLEN];
	struct mg_pyheap *h = new_heap();
	assert_int_equal(mg_pyheap_load_tracemalloc("tests/data/pyheap/tracemalloc-numpy.json", h, err, sizeof err),
			 0);
	assert_int_equal(h->ndomains, 2);
	int64_t numpy = mg_pyheap_domain_bytes(h, MG_PYHEAP_NUMPY_DOMAIN);
	int64_t python = mg_pyheap_domain_bytes(h, 0);
	assert_int_equal(numpy, 209716077);
	assert_int_equal(python, 14621820);
	assert_true(numpy * 10 > (numpy + python) * 9); /* > 90% of traced memory is NumPy's */
	assert_string_equal(h->top[0].location, "configs/lab/numpy_workload.py:39");
	assert_int_equal(h->peak_bytes, 224957437);
	free(h);
}

static void tracemalloc_more_sites_than_kept(void **state)
{
	(void)state;
	char err[ERRLEN];
	struct mg_pyheap *h = new_heap();
	assert_int_equal(mg_pyheap_load_tracemalloc("tests/data/pyheap/tracemalloc-fixed-service.json", h, err,
						    sizeof err), 0);
	assert_int_equal(h->ntop, MG_PYHEAP_MAX_TOP);
	assert_int_equal(h->top_omitted, 100 - MG_PYHEAP_MAX_TOP);
	assert_string_equal(h->top[MG_PYHEAP_MAX_TOP - 1].location, "/usr/lib/python3.11/threading.py:798");
	/* the fixed service's cache line holds its lru_cache bound: 16 x 64 KiB */
	const struct mg_pyheap_site *cache = find_site(h, "configs/lab/service_fixed.py:49");
	assert_non_null(cache);
	assert_int_equal(cache->count, 16);
	assert_true(cache->size_bytes < 2 * 1024 * 1024);
	free(h);
}

static void tracemalloc_exit3_from_text(void **state)
{
	(void)state;
	char err[ERRLEN];
	char *text = tu_read_data("pyheap/tracemalloc-exit3.json");
	struct mg_pyheap *h = new_heap();
	assert_int_equal(mg_pyheap_parse_tracemalloc(text, "exit3.json", h, err, sizeof err), 0);
	assert_int_equal(h->ntop, 5);
	assert_string_equal(h->top[0].location, "<string>:2");
	assert_int_equal(h->top[0].size_bytes, 8388665);
	free(text);
	free(h);
}

static void expect_same(const struct mg_pyheap *a, const struct mg_pyheap *b)
{
	assert_string_equal(a->tool, b->tool);
	assert_int_equal(a->peak_bytes, b->peak_bytes);
	assert_int_equal(a->current_bytes, b->current_bytes);
	assert_int_equal(a->ntop, b->ntop);
	for (int i = 0; i < a->ntop; i++) {
		assert_string_equal(a->top[i].location, b->top[i].location);
		assert_string_equal(a->top[i].function, b->top[i].function);
		assert_int_equal(a->top[i].size_bytes, b->top[i].size_bytes);
		assert_int_equal(a->top[i].has_count, b->top[i].has_count);
		if (a->top[i].has_count)
			assert_int_equal(a->top[i].count, b->top[i].count);
	}
	assert_int_equal(a->ndomains, b->ndomains);
	for (int i = 0; i < a->ndomains; i++) {
		assert_int_equal(a->domains[i].domain, b->domains[i].domain);
		assert_int_equal(a->domains[i].size_bytes, b->domains[i].size_bytes);
	}
}

static void tracemalloc_json_round_trip(void **state)
{
	(void)state;
	static const char *const files[] = {
		"tests/data/pyheap/tracemalloc-leaky-service.json", "tests/data/pyheap/tracemalloc-numpy.json",
		"tests/data/pyheap/tracemalloc-fixed-service.json", "tests/data/pyheap/tracemalloc-exit3.json",
	};
	char err[ERRLEN];
	struct mg_pyheap *a = new_heap(), *b = new_heap();
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		assert_int_equal(mg_pyheap_load_tracemalloc(files[i], a, err, sizeof err), 0);
		json_t *j = mg_pyheap_json(a);
		assert_non_null(j);
		char *text = json_dumps(j, JSON_COMPACT);
		assert_non_null(text);
		assert_int_equal(mg_pyheap_parse_tracemalloc(text, "round-trip", b, err, sizeof err), 0);
		expect_same(a, b);
		/* exactly the report's keys, no "function" for tracemalloc sites */
		assert_int_equal(json_object_size(j), 5);
		assert_int_equal(json_object_size(json_array_get(json_object_get(j, "top"), 0)), 3);
		free(text);
		json_decref(j);
	}
	free(a);
	free(b);
}

struct bad_case {
	const char *text;
	const char *expect; /* substring of err */
};

#define TM_HEAD "{\"tool\": \"tracemalloc\", \"peak_bytes\": 100, \"current_bytes\": 50, "
#define TM_TOP_OK "\"top\": [{\"location\": \"a.py:1\", \"size_bytes\": 10, \"count\": 1}], "
#define TM_DOM_OK "\"domains\": [{\"domain\": 0, \"size_bytes\": 40}]}"

static void tracemalloc_strict(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "[1, 2]", "t.json: (root): expected an object" },
		{ "{\"tool\": \"tracemalloc\",\n \"peak_bytes\": }", "t.json:2:" },
		{ TM_HEAD TM_TOP_OK TM_DOM_OK " x", "t.json:1:" },
		{ "{\"tool\": \"tracemalloc\", \"tool\": \"tracemalloc\"}", "duplicate object key" },
		{ "{\"tool\": \"memray\", \"peak_bytes\": 1, \"current_bytes\": 1, \"top\": [], \"domains\": []}",
		  "t.json: tool: expected \"tracemalloc\", got \"memray\"" },
		{ "{\"tool\": 1, \"peak_bytes\": 1, \"current_bytes\": 1, \"top\": [], \"domains\": []}",
		  "t.json: tool: expected a string, got an integer" },
		{ "{\"tool\": \"tracemalloc\", \"peak_bytes\": \"100\", \"current_bytes\": 50, " TM_TOP_OK TM_DOM_OK,
		  "t.json: peak_bytes: expected an integer, got a string" },
		{ "{\"tool\": \"tracemalloc\", \"peak_bytes\": 100.0, \"current_bytes\": 50, " TM_TOP_OK TM_DOM_OK,
		  "t.json: peak_bytes: expected an integer, got a number" },
		{ "{\"tool\": \"tracemalloc\", \"peak_bytes\": 100, " TM_TOP_OK TM_DOM_OK,
		  "t.json: current_bytes: missing" },
		{ "{\"tool\": \"tracemalloc\", \"peak_bytes\": 10, \"current_bytes\": 50, " TM_TOP_OK TM_DOM_OK,
		  "t.json: peak_bytes: 10 is below current_bytes 50" },
		{ "{\"tool\": \"tracemalloc\", \"peak_bytes\": -1, \"current_bytes\": -1, " TM_TOP_OK TM_DOM_OK,
		  "t.json: peak_bytes: expected an integer >= 0, got -1" },
		{ TM_HEAD "\"top\": {}, " TM_DOM_OK, "t.json: top: expected an array, got an object" },
		{ TM_HEAD TM_DOM_OK, "t.json: top: missing" },
		{ TM_HEAD "\"top\": [{\"location\": \"a.py:1\", \"size_bytes\": 10, \"count\": 1}, "
		  "{\"location\": \"b.py:2\", \"size_bytes\": \"9\", \"count\": 1}], " TM_DOM_OK,
		  "t.json: top[1].size_bytes: expected an integer, got a string" },
		{ TM_HEAD "\"top\": [{\"location\": \"a.py:1\", \"size_bytes\": 10, \"count\": null}], " TM_DOM_OK,
		  "t.json: top[0].count: expected an integer, got null" },
		{ TM_HEAD "\"top\": [{\"location\": \"a.py:1\", \"size_bytes\": 10, \"count\": -2}], " TM_DOM_OK,
		  "t.json: top[0].count: expected an integer >= 0" },
		{ TM_HEAD "\"top\": [{\"location\": 12, \"size_bytes\": 10, \"count\": 1}], " TM_DOM_OK,
		  "t.json: top[0].location: expected a string, got an integer" },
		{ TM_HEAD "\"top\": [{\"location\": \"\", \"size_bytes\": 10, \"count\": 1}], " TM_DOM_OK,
		  "t.json: top[0].location: expected a non-empty" },
		{ TM_HEAD "\"top\": [{\"location\": \"a.py:1\", \"size_bytes\": 10, \"count\": 1, \"file\": \"a\"}], "
		  TM_DOM_OK, "t.json: top[0].file: unknown key" },
		{ TM_HEAD "\"top\": [\"a.py:1\"], " TM_DOM_OK, "t.json: top[0]: expected an object" },
		{ TM_HEAD "\"top\": [{\"location\": \"a.py:1\", \"size_bytes\": 10, \"count\": 1}, "
		  "{\"location\": \"b.py:2\", \"size_bytes\": 11, \"count\": 1}], " TM_DOM_OK,
		  "t.json: top[1].size_bytes: 11 is larger than the entry before it (10)" },
		{ TM_HEAD TM_TOP_OK "\"domains\": [{\"domain\": 0, \"size_bytes\": 1}, {\"domain\": 0, "
		  "\"size_bytes\": 2}]}", "t.json: domains[1].domain: domain 0 is listed twice" },
		{ TM_HEAD TM_TOP_OK "\"domains\": [{\"domain\": 4294967296, \"size_bytes\": 1}]}",
		  "t.json: domains[0].domain: expected an integer <= 4294967295" },
		{ TM_HEAD TM_TOP_OK "\"domains\": [{\"domain\": \"389047\", \"size_bytes\": 1}]}",
		  "t.json: domains[0].domain: expected an integer, got a string" },
		{ TM_HEAD TM_TOP_OK "\"domains\": [{\"domain\": 0}]}", "t.json: domains[0].size_bytes: missing" },
		{ TM_HEAD TM_TOP_OK "\"domains\": null}", "t.json: domains: expected an array, got null" },
		{ TM_HEAD TM_TOP_OK TM_DOM_OK "", NULL }, /* the valid base: parses */
		{ "{\"tool\": \"tracemalloc\", \"peak_bytes\": 100, \"current_bytes\": 50, \"pid\": 1, "
		  TM_TOP_OK TM_DOM_OK, "t.json: pid: unknown key" },
	};
	struct mg_pyheap *h = new_heap();
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char err[ERRLEN] = "";
		int r = mg_pyheap_parse_tracemalloc(cases[i].text, "t.json", h, err, sizeof err);
		if (!cases[i].expect) {
			if (r != 0)
				fail_msg("case %zu: expected success, got \"%s\"", i, err);
			assert_int_equal(h->ntop, 1);
			assert_int_equal(h->ndomains, 1);
			continue;
		}
		if (r != -1)
			fail_msg("case %zu: expected an error containing \"%s\"", i, cases[i].expect);
		assert_contains(err, cases[i].expect);
		/* a failed parse leaves nothing half-filled */
		assert_int_equal(h->ntop, 0);
		assert_int_equal(h->ndomains, 0);
		assert_int_equal(h->peak_bytes, MG_PYHEAP_UNKNOWN);
	}
	free(h);
}

static void tracemalloc_missing_file(void **state)
{
	(void)state;
	char err[ERRLEN];
	struct mg_pyheap *h = new_heap();
	assert_int_equal(mg_pyheap_load_tracemalloc("tests/data/pyheap/no-such-report.json", h, err, sizeof err), -1);
	assert_string_equal(err, "tests/data/pyheap/no-such-report.json: cannot open: ENOENT (No such file or directory)");
	/* a memray stats file is not a tracemalloc report */
	assert_int_equal(mg_pyheap_load_tracemalloc("tests/data/memray/stats-ok.json", h, err, sizeof err), -1);
	assert_string_equal(err, "tests/data/memray/stats-ok.json: total_num_allocations: unknown key");
	free(h);
}

static void long_location_keeps_its_tail(void **state)
{
	(void)state;
	char text[2048], loc[400], err[ERRLEN];
	memset(loc, 'd', 300);
	strcpy(loc + 300, "/app.py:12");
	snprintf(text, sizeof text, TM_HEAD "\"top\": [{\"location\": \"%s\", \"size_bytes\": 10, \"count\": 1}], "
		 TM_DOM_OK, loc);
	struct mg_pyheap *h = new_heap();
	assert_int_equal(mg_pyheap_parse_tracemalloc(text, "t.json", h, err, sizeof err), 0);
	const char *l = h->top[0].location;
	assert_int_equal(strlen(l), MG_PYHEAP_LOCATION_MAX - 1);
	assert_memory_equal(l, "...ddd", 6);
	assert_string_equal(l + strlen(l) - 10, "/app.py:12");
	free(h);
}

/* A forged report with very many domains is refused, not checked for
 * duplicates pairwise (2 million took hours); 1024 still parse. */
static void too_many_domains_refused(void **state)
{
	(void)state;
	char err[ERRLEN];
	for (int n = 1024; n <= 1025; n++) {
		size_t cap = 64 + (size_t)n * 48, o = 0;
		char *text = malloc(cap);
		assert_non_null(text);
		o += (size_t)snprintf(text + o, cap - o, TM_HEAD TM_TOP_OK "\"domains\": [");
		for (int i = 0; i < n; i++)
			o += (size_t)snprintf(text + o, cap - o, "%s{\"domain\": %d, \"size_bytes\": 1}", i ? ", " : "", i);
		snprintf(text + o, cap - o, "]}");
		struct mg_pyheap *h = new_heap();
		int rc = mg_pyheap_parse_tracemalloc(text, "t.json", h, err, sizeof err);
		if (n == 1024) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			assert_contains(err, "1025 domains, more than the 1024");
		}
		free(h);
		free(text);
	}
}

/* Found by tests/fuzz/fuzz_tracemalloc: a cut through a multi-byte character
 * left invalid UTF-8, and mg_pyheap_json gave NULL (the report lost its
 * python_heap). The cut keeps whole characters only. */
static void long_location_cut_keeps_utf8_whole(void **state)
{
	(void)state;
	char text[2048], loc[600], fn[300], err[ERRLEN];
	size_t n = 0;
	for (int i = 0; i < 149; i++) /* "é" = C3 A9: the cut falls inside one */
		n += (size_t)sprintf(loc + n, "\xC3\xA9");
	strcpy(loc + n, "/x.py:1");
	snprintf(text, sizeof text, TM_HEAD "\"top\": [{\"location\": \"%s\", \"size_bytes\": 10, \"count\": 1}], "
		 TM_DOM_OK, loc);
	struct mg_pyheap *h = new_heap(), *back = new_heap();
	assert_int_equal(mg_pyheap_parse_tracemalloc(text, "t.json", h, err, sizeof err), 0);
	const char *l = h->top[0].location;
	assert_memory_equal(l, "...\xC3\xA9", 5);
	assert_string_equal(l + strlen(l) - 7, "/x.py:1");
	json_t *j = mg_pyheap_json(h);
	assert_non_null(j);
	char *dumped = json_dumps(j, JSON_COMPACT);
	assert_int_equal(mg_pyheap_parse_tracemalloc(dumped, "back", back, err, sizeof err), 0);
	assert_string_equal(back->top[0].location, l);
	free(dumped);
	json_decref(j);

	/* memray's function names are cut at the end, on a character too */
	n = (size_t)sprintf(fn, "fg"); /* the 128th byte is inside a character */
	for (int i = 0; i < 80; i++)
		n += (size_t)sprintf(fn + n, "\xC3\xA9");
	snprintf(text, sizeof text, "{\"metadata\": {\"peak_memory\": 10}, \"top_allocations_by_size\": "
		 "[{\"location\": \"%s:app.py:3\", \"size\": 10}]}", fn);
	assert_int_equal(mg_pyheap_parse_memray_stats(text, "m.json", h, err, sizeof err), 0);
	assert_int_equal(strlen(h->top[0].function), MG_PYHEAP_FUNCTION_MAX - 2);
	assert_string_equal(h->top[0].location, "app.py:3");
	j = mg_pyheap_json(h);
	assert_non_null(j);
	json_decref(j);
	free(h);
	free(back);
}

/* ---------------------------------------------------------------- memray */

static void memray_stats_ok(void **state)
{
	(void)state;
	char err[ERRLEN] = "";
	struct mg_pyheap *h = new_heap();
	assert_int_equal(mg_pyheap_load_memray_stats("tests/data/memray/stats-ok.json", h, err, sizeof err), 0);
	assert_string_equal(h->tool, "memray");
	assert_int_equal(h->peak_bytes, 73916894);
	assert_int_equal(h->current_bytes, MG_PYHEAP_UNKNOWN);
	assert_int_equal(h->ndomains, 0);
	assert_int_equal(h->ntop, 5);
	/* "<listcomp>:leaky.py:36": the closure lists of leaky.py */
	assert_string_equal(h->top[0].location, "leaky.py:36");
	assert_string_equal(h->top[0].function, "<listcomp>");
	assert_int_equal(h->top[0].size_bytes, 112030848);
	assert_true(h->top[0].has_count);
	assert_int_equal(h->top[0].count, 1092);
	assert_string_equal(h->top[1].location, "leaky.py:53");
	assert_string_equal(h->top[1].function, "__init__");
	assert_int_equal(h->top[1].count, 4000);
	assert_string_equal(h->top[2].location, "leaky.py:19");
	assert_string_equal(h->top[2].function, "cached_payload");
	assert_int_equal(h->top[2].count, 20011);
	/* not among top_allocations_by_count: count unknown */
	assert_string_equal(h->top[3].location, "leaky.py:26");
	assert_false(h->top[3].has_count);
	assert_string_equal(h->top[4].location, "<frozen runpy>:259");
	assert_string_equal(h->top[4].function, "_get_code_from_file");
	assert_int_equal(h->top[4].count, 139);
	free(h);
}

static void memray_other_captures(void **state)
{
	(void)state;
	char err[ERRLEN];
	struct mg_pyheap *h = new_heap();
	assert_int_equal(mg_pyheap_load_memray_stats("tests/data/memray/stats-fork-child.json", h, err, sizeof err),
			 0);
	assert_int_equal(h->ntop, 1);
	assert_int_equal(h->peak_bytes, 8523168);
	assert_string_equal(h->top[0].location, "leaky.py:84");
	assert_int_equal(h->top[0].count, 8037);

	assert_int_equal(mg_pyheap_load_memray_stats("tests/data/memray/stats-native.json", h, err, sizeof err), 0);
	assert_int_equal(h->top[3].size_bytes, h->top[4].size_bytes); /* equal sizes are in order */
	assert_string_equal(h->top[3].function, "make_cycles");

	assert_int_equal(mg_pyheap_load_memray_stats("tests/data/memray/stats-trace-python-allocators.json", h, err,
						     sizeof err), 0);
	assert_int_equal(h->peak_bytes, 65639157);
	assert_int_equal(h->top[0].count, 1996064);
	assert_string_equal(h->top[4].location, "leaky.py:25");
	assert_int_equal(h->top[4].count, 19749);
	free(h);
}

static void memray_json_form(void **state)
{
	(void)state;
	char err[ERRLEN];
	struct mg_pyheap *h = new_heap();
	assert_int_equal(mg_pyheap_load_memray_stats("tests/data/memray/stats-ok.json", h, err, sizeof err), 0);
	json_t *j = mg_pyheap_json(h);
	assert_non_null(j);
	char *text = json_dumps(j, 0);
	assert_non_null(text);
	assert_contains(text, "{\"tool\": \"memray\", \"peak_bytes\": 73916894, \"current_bytes\": null, \"top\": "
			      "[{\"location\": \"leaky.py:36\", \"size_bytes\": 112030848, \"count\": 1092, "
			      "\"function\": \"<listcomp>\"}");
	assert_contains(text, "{\"location\": \"leaky.py:26\", \"size_bytes\": 1048576, \"count\": null, "
			      "\"function\": \"fill_cache\"}");
	assert_contains(text, "\"domains\": []}");
	free(text);
	json_decref(j);
	free(h);
}

static void memray_location_forms(void **state)
{
	(void)state;
	char err[ERRLEN];
	struct mg_pyheap *h = new_heap();
	const char *text =
		"{\"metadata\": {\"peak_memory\": 10, \"file_format\": 0, \"new_in_2030\": true},"
		" \"top_allocations_by_size\": [{\"location\": \"<stack trace unavailable>\", \"size\": 9},"
		"  {\"location\": \"f:/srv/a:b.py:7\", \"size\": 8}, {\"location\": \"f:x.py:\", \"size\": 7},"
		"  {\"location\": \":x.py:3\", \"size\": 6}, {\"location\": \"f::3\", \"size\": 5}],"
		" \"top_allocations_by_count\": [{\"location\": \"<stack trace unavailable>\", \"count\": 5}],"
		" \"some_future_key\": [1]}";
	assert_int_equal(mg_pyheap_parse_memray_stats(text, "m.json", h, err, sizeof err), 0);
	assert_int_equal(h->ntop, 5);
	assert_string_equal(h->top[0].location, "<stack trace unavailable>");
	assert_string_equal(h->top[0].function, "");
	assert_int_equal(h->top[0].count, 5);
	assert_string_equal(h->top[1].location, "/srv/a:b.py:7"); /* a colon in the path */
	assert_string_equal(h->top[1].function, "f");
	assert_string_equal(h->top[2].location, "f:x.py:"); /* no line: kept whole */
	assert_string_equal(h->top[3].location, ":x.py:3"); /* no function: kept whole */
	assert_string_equal(h->top[4].location, "f::3");    /* no file: kept whole */
	assert_string_equal(h->top[4].function, "");
	free(h);
}

static void memray_strict(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "{\"top_allocations_by_size\": []}", "m.json: metadata: missing" },
		{ "{\"metadata\": [], \"top_allocations_by_size\": []}", "m.json: metadata: expected an object, got an array" },
		{ "{\"metadata\": {\"peak_memory\": \"1\"}, \"top_allocations_by_size\": []}",
		  "m.json: metadata.peak_memory: expected an integer, got a string" },
		{ "{\"metadata\": {}, \"top_allocations_by_size\": []}", "m.json: metadata.peak_memory: missing" },
		{ "{\"metadata\": {\"peak_memory\": 1, \"file_format\": 1}, \"top_allocations_by_size\": []}",
		  "m.json: metadata.file_format: 1 is not 0 (ALL_ALLOCATIONS): statistics of an --aggregate capture" },
		{ "{\"metadata\": {\"peak_memory\": 1}}", "m.json: top_allocations_by_size: missing" },
		{ "{\"metadata\": {\"peak_memory\": 1}, \"top_allocations_by_size\": [{\"location\": \"f:a.py:1\", "
		  "\"size\": 1.5}]}", "m.json: top_allocations_by_size[0].size: expected an integer, got a number" },
		{ "{\"metadata\": {\"peak_memory\": 1}, \"top_allocations_by_size\": [{\"size\": 1}]}",
		  "m.json: top_allocations_by_size[0].location: missing" },
		{ "{\"metadata\": {\"peak_memory\": 1}, \"top_allocations_by_size\": [{\"location\": \"f:a.py:1\", "
		  "\"size\": 1}, {\"location\": \"f:a.py:2\", \"size\": 2}]}",
		  "m.json: top_allocations_by_size[1].size: 2 is larger than the entry before it (1)" },
		{ "{\"metadata\": {\"peak_memory\": 1}, \"top_allocations_by_size\": [], "
		  "\"top_allocations_by_count\": [{\"location\": \"f:a.py:1\", \"count\": \"3\"}]}",
		  "m.json: top_allocations_by_count[0].count: expected an integer, got a string" },
		{ "{\"metadata\": {\"peak_memory\": 1}, \"top_allocations_by_size\": [], "
		  "\"top_allocations_by_count\": {}}", "m.json: top_allocations_by_count: expected an array" },
		{ "not json", "m.json:1:3: '[' or '{' expected" },
	};
	struct mg_pyheap *h = new_heap();
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char err[ERRLEN] = "";
		if (mg_pyheap_parse_memray_stats(cases[i].text, "m.json", h, err, sizeof err) != -1)
			fail_msg("case %zu: expected an error containing \"%s\"", i, cases[i].expect);
		assert_contains(err, cases[i].expect);
		assert_int_equal(h->ntop, 0);
	}
	/* the helper's report is not memray output */
	char err[ERRLEN];
	assert_int_equal(mg_pyheap_load_memray_stats("tests/data/pyheap/tracemalloc-exit3.json", h, err, sizeof err),
			 -1);
	assert_string_equal(err, "tests/data/pyheap/tracemalloc-exit3.json: metadata: missing (expected an object; "
				 "is this `memray stats --json` output?)");
	free(h);
}

/* -------------------------------------------------------- memray commands */

static void expect_argv(char **got, const char *const *want)
{
	size_t i = 0;
	for (; want[i]; i++) {
		if (!got[i])
			fail_msg("argv ends at %zu, expected \"%s\"", i, want[i]);
		if (strcmp(got[i], want[i]) != 0)
			fail_msg("argv[%zu] = \"%s\", expected \"%s\"", i, got[i], want[i]);
	}
	if (got[i])
		fail_msg("argv[%zu] = \"%s\", expected the end", i, got[i]);
}

static void run_cmds(char *const *argv, size_t argc, const struct mg_memray_opts *o, const char *const *want_run,
		     const char *const *want_probe)
{
	struct mg_memray_cmds c;
	char err[ERRLEN] = "";
	if (mg_memray_commands(argv, argc, o, &c, err, sizeof err) != 0)
		fail_msg("mg_memray_commands failed: %s", err);
	expect_argv(c.run, want_run);
	if (want_probe) /* the probe's code is argv[-3] */
		for (size_t k = 0; want_probe[k]; k++) {
			if (!c.probe[k])
				fail_msg("probe ends at %zu, expected \"%s\"", k, want_probe[k]);
			if (strcmp(want_probe[k], "CODE") == 0)
				assert_contains(c.probe[k], "import memray");
			else if (strcmp(c.probe[k], want_probe[k]) != 0)
				fail_msg("probe[%zu] = \"%s\", expected \"%s\"", k, c.probe[k], want_probe[k]);
			if (!want_probe[k + 1] && c.probe[k + 1])
				fail_msg("probe[%zu] = \"%s\", expected the end", k + 1, c.probe[k + 1]);
		}
	size_t n = 0;
	while (want_run[n])
		n++;
	assert_int_equal(c.nrun, n);
	mg_memray_cmds_free(&c);
	assert_null(c.run);
}

static void memray_command_lines(void **state)
{
	(void)state;
	struct mg_memray_opts o = { .capture = "/tmp/mg/cap.bin" };
	{
		char *argv[] = { "python3", "app.py", "--port", "8080" };
		const char *run[] = { "python3", "-m", "memray", "run", "-q", "-o", "/tmp/mg/cap.bin", "-f", "app.py",
				      "--port", "8080", NULL };
		const char *probe[] = { "python3", "-c", "CODE", "s", "app.py", NULL };
		run_cmds(argv, 4, &o, run, probe);
	}
	{ /* interpreter options stay in front; -m becomes memray run's -m */
		char *argv[] = { "/venv/bin/python", "-X", "dev", "-Wignore", "-m", "http.server", "-b", "127.0.0.1" };
		const char *run[] = { "/venv/bin/python", "-X", "dev", "-Wignore", "-m", "memray", "run", "-q", "-o",
				      "/tmp/mg/cap.bin", "-f", "-m", "http.server", "-b", "127.0.0.1", NULL };
		/* the probe sees the interpreter's options: -S, -I, -E change what imports */
		const char *probe[] = { "/venv/bin/python", "-X", "dev", "-Wignore", "-c", "CODE", "m", "http.server",
					NULL };
		run_cmds(argv, 8, &o, run, probe);
	}
	o.native = o.follow_fork = o.trace_python_allocators = true;
	{ /* a cluster ending in m, flags and all */
		char *argv[] = { "python3", "-uBm", "svc", "x" };
		const char *run[] = { "python3", "-uB", "-m", "memray", "run", "-q", "-o", "/tmp/mg/cap.bin", "-f",
				      "--native", "--follow-fork", "--trace-python-allocators", "-m", "svc", "x", NULL };
		const char *probe[] = { "python3", "-uB", "-c", "CODE", "m", "svc", NULL };
		run_cmds(argv, 4, &o, run, probe);
	}
	o.native = o.follow_fork = o.trace_python_allocators = false;
	{
		char *argv[] = { "python3", "-msvc" };
		const char *run[] = { "python3", "-m", "memray", "run", "-q", "-o", "/tmp/mg/cap.bin", "-f", "-m", "svc",
				      NULL };
		run_cmds(argv, 2, &o, run, NULL);
	}
	{
		char *argv[] = { "python3", "-I", "-c", "import sys; sys.exit(3)", "a1" };
		const char *run[] = { "python3", "-I", "-m", "memray", "run", "-q", "-o", "/tmp/mg/cap.bin", "-f", "-c",
				      "import sys; sys.exit(3)", "a1", NULL };
		const char *probe[] = { "python3", "-I", "-c", "CODE", "c", "import sys; sys.exit(3)", NULL };
		run_cmds(argv, 5, &o, run, probe);
	}
	{
		char *argv[] = { "python3", "--check-hash-based-pycs", "never", "--", "-odd.py", "-v" };
		const char *run[] = { "python3", "--check-hash-based-pycs", "never", "-m", "memray", "run", "-q", "-o",
				      "/tmp/mg/cap.bin", "-f", "--", "-odd.py", "-v", NULL };
		run_cmds(argv, 6, &o, run, NULL);
	}
	{
		char *argv[] = { "python3", "-Xfrozen_modules=off", "s.py" };
		const char *run[] = { "python3", "-Xfrozen_modules=off", "-m", "memray", "run", "-q", "-o",
				      "/tmp/mg/cap.bin", "-f", "s.py", NULL };
		run_cmds(argv, 3, &o, run, NULL);
	}
}

static void memray_command_errors(void **state)
{
	(void)state;
	static const struct {
		size_t argc;
		char *argv[4];
		bool aggregate;
		const char *expect;
	} cases[] = {
		{ 1, { "python3" }, false, "no script, -m MODULE or -c CODE" },
		{ 2, { "python3", "-u" }, false, "no script, -m MODULE or -c CODE" },
		{ 2, { "python3", "-" }, false, "read from stdin" },
		{ 2, { "python3", "-X" }, false, "option -X needs an argument" },
		{ 2, { "python3", "-um" }, false, "option -m needs an argument" },
		{ 2, { "python3", "--version" }, false, "interpreter option --version runs no program" },
		{ 2, { "python3", "--" }, false, "no script after \"--\"" },
		{ 0, { NULL }, false, "empty command" },
		{ 2, { "python3", "app.py" }, true, "Can't compute statistics using a pre-aggregated capture file." },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct mg_memray_opts o = { .capture = "c.bin", .aggregate = cases[i].aggregate };
		struct mg_memray_cmds c;
		char err[ERRLEN] = "";
		if (mg_memray_commands(cases[i].argv, cases[i].argc, &o, &c, err, sizeof err) != -1)
			fail_msg("case %zu: expected an error containing \"%s\"", i, cases[i].expect);
		assert_contains(err, cases[i].expect);
		assert_null(c.run);
		assert_null(c.probe);
	}
	struct mg_memray_opts none = { .capture = "" };
	struct mg_memray_cmds c;
	char err[ERRLEN];
	char *argv[] = { "python3", "a.py" };
	assert_int_equal(mg_memray_commands(argv, 2, &none, &c, err, sizeof err), -1);
	assert_contains(err, "a capture path is required");
}

/* ------------------------------------------------------ memray statuses */

/* A real wait status: a child that exits with code, or kills itself with sig. */
static int real_status(int code, int sig)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (sig) {
			signal(sig, SIG_DFL);
			raise(sig);
		}
		_exit(code);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void memray_run_statuses(void **state)
{
	(void)state;
	struct mg_memray_outcome o;
	char msg[256];
	/* leaky.py ok / raise / exit3: the program's status, capture written */
	mg_memray_interpret_run(real_status(0, 0), true, &o);
	assert_int_equal(o.end, MG_MEMRAY_PROGRAM_EXITED);
	assert_int_equal(o.code, 0);
	assert_true(o.capture_usable);
	mg_memray_interpret_run(real_status(1, 0), true, &o);
	assert_int_equal(o.end, MG_MEMRAY_PROGRAM_EXITED);
	assert_int_equal(o.code, 1);
	mg_memray_interpret_run(real_status(3, 0), true, &o);
	assert_int_equal(o.end, MG_MEMRAY_PROGRAM_EXITED);
	assert_int_equal(o.code, 3);
	mg_memray_describe(&o, NULL, msg, sizeof msg);
	assert_string_equal(msg, "program exited with status 3");
	/* output exists without --force, script not found: 1 and no (new) capture */
	mg_memray_interpret_run(real_status(1, 0), false, &o);
	assert_int_equal(o.end, MG_MEMRAY_TOOL_FAILED);
	assert_int_equal(o.code, 1);
	assert_false(o.capture_usable);
	mg_memray_describe(&o, NULL, msg, sizeof msg);
	assert_string_equal(msg, "memray failed (exit status 1) before running the program; it printed nothing");
	/* its last words, not memray's warnings (tests/data/memray-real/run-missing-script.log) */
	char *log = tu_read_data("memray-real/run-missing-script.log");
	mg_memray_describe(&o, log, msg, sizeof msg);
	free(log);
	assert_string_equal(msg, "memray failed (exit status 1) before running the program: "
				 "[Errno 2] No such file or directory: 'no_such_script.py'");
	mg_memray_interpret_run(real_status(2, 0), false, &o); /* argparse */
	assert_int_equal(o.end, MG_MEMRAY_TOOL_FAILED);
	assert_int_equal(o.code, 2);
	/* self-SIGTERM: 143 from a shell, a partial capture stays readable */
	mg_memray_interpret_run(real_status(0, SIGTERM), true, &o);
	assert_int_equal(o.end, MG_MEMRAY_PROGRAM_KILLED);
	assert_int_equal(o.signal, SIGTERM);
	assert_true(o.capture_usable);
	mg_memray_describe(&o, NULL, msg, sizeof msg);
	assert_string_equal(msg, "program killed by signal 15 (SIGTERM); the memray capture may be partial");
	mg_memray_interpret_run(real_status(0, SIGKILL), false, &o);
	assert_int_equal(o.end, MG_MEMRAY_PROGRAM_KILLED);
	assert_false(o.capture_usable);
}

/* The probe's statuses, from the real probe run by the real interpreter
 * (python3; memray itself is not needed: its absence is one of them). */
static void memray_probe_statuses(void **state)
{
	(void)state;
	if (system("python3 -c '' >/dev/null 2>&1") != 0)
		skip_because("python3 is not installed");
	assert_int_equal(mg_memray_interpret_probe(real_status(0, 0)), MG_MEMRAY_PROBE_OK);
	assert_int_equal(mg_memray_interpret_probe(real_status(10, 0)), MG_MEMRAY_PROBE_NO_MEMRAY);
	assert_int_equal(mg_memray_interpret_probe(real_status(13, 0)), MG_MEMRAY_PROBE_NO_MEMRAY_IN_VENV);
	assert_int_equal(mg_memray_interpret_probe(real_status(11, 0)), MG_MEMRAY_PROBE_NO_MODULE);
	assert_int_equal(mg_memray_interpret_probe(real_status(12, 0)), MG_MEMRAY_PROBE_NO_SCRIPT);
	assert_int_equal(mg_memray_interpret_probe(real_status(2, 0)), MG_MEMRAY_PROBE_FAILED);
	assert_int_equal(mg_memray_interpret_probe(real_status(0, SIGKILL)), MG_MEMRAY_PROBE_FAILED);
	assert_int_equal(mg_memray_child_capture_pid("capture.bin.13736", "capture.bin"), 13736);
	assert_int_equal(mg_memray_child_capture_pid("capture.bin", "capture.bin"), 0);
	assert_int_equal(mg_memray_child_capture_pid("capture.bin.", "capture.bin"), 0);
	assert_int_equal(mg_memray_child_capture_pid("capture.bin.12x", "capture.bin"), 0);
	assert_int_equal(mg_memray_child_capture_pid("capture.bin.1234567890", "capture.bin"), 0);
	assert_int_equal(mg_memray_child_capture_pid("other.bin.12", "capture.bin"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tracemalloc_leaky_service),
		cmocka_unit_test(tracemalloc_numpy_domains),
		cmocka_unit_test(too_many_domains_refused),
		cmocka_unit_test(tracemalloc_more_sites_than_kept),
		cmocka_unit_test(tracemalloc_exit3_from_text),
		cmocka_unit_test(tracemalloc_json_round_trip),
		cmocka_unit_test(tracemalloc_strict),
		cmocka_unit_test(tracemalloc_missing_file),
		cmocka_unit_test(long_location_keeps_its_tail),
		cmocka_unit_test(long_location_cut_keeps_utf8_whole),
		cmocka_unit_test(memray_stats_ok),
		cmocka_unit_test(memray_other_captures),
		cmocka_unit_test(memray_json_form),
		cmocka_unit_test(memray_location_forms),
		cmocka_unit_test(memray_strict),
		cmocka_unit_test(memray_command_lines),
		cmocka_unit_test(memray_command_errors),
		cmocka_unit_test(memray_run_statuses),
		cmocka_unit_test(memray_probe_statuses),
	};
	return cmocka_run_group_tests_name("pyheap", tests, NULL, NULL);
}
