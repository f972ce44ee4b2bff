/* Native heap attribution end to end with the real heaptrack 1.4: the
 * native lab service (configs/lab-native.json: build/native_service, leaky
 * and --fixed) in service mode, a command that exits 3, and heaptrack
 * missing. Without heaptrack the tests fail with the install command
 * (offline, make check: skipped, saying so). */
#include "itutil.h"

#define NATIVE "configs/lab/native_service.c"

static void need_native_service(void)
{
	if (access("build/native_service", X_OK) != 0)
		fail_msg("build/native_service is missing: run make build/native_service");
}

/* The site at location in fixtures.F.heap.LIST, or NULL. */
static json_t *site_at(json_t *report, int fixture, const char *list, const char *location)
{
	char path[64];
	snprintf(path, sizeof path, "fixtures.%d.heap.%s", fixture, list);
	json_t *a = it_get(report, path);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *s = json_array_get(a, i);
		if (strcmp(json_string_value(json_object_get(s, "location")), location) == 0)
			return s;
	}
	return NULL;
}

/* configs/lab-native.json as shipped: the gate fails the leaky service,
 * heaptrack names its two leaking lines (a 32 KiB cache entry and a 16 KiB
 * buffer per request, 1000 requests), and passes the fixed one, which
 * leaks neither. The service is stopped through heaptrack's script, whose
 * data is written only when the program, not the script, gets the signal:
 * sent to the script (as before), heaptrack recorded nothing. */
static void native_lab(void **state)
{
	(void)state;
	it_need_heaptrack();
	need_native_service();
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", "configs/lab-native.json", NULL});
	if (!r.report)
		fail_msg("no report; exit %d; stderr:\n%s", r.status, r.err);
	if (r.status != 1)
		fail_msg("expected 1 (the leaky one fails), got %d:\n%s", r.status, r.err);
	assert_string_equal(it_str(r.report, "fixtures.0.verdict"), "fail");
	assert_string_equal(it_str(r.report, "fixtures.1.verdict"), "pass");
	assert_string_equal(it_str(r.report, "fixtures.0.heap.tool"), "heaptrack");
	char cache[64], buffer[64];
	snprintf(cache, sizeof cache, NATIVE ":%d", it_marker_line(NATIVE, "/* site: cache */"));
	snprintf(buffer, sizeof buffer, NATIVE ":%d", it_marker_line(NATIVE, "/* site: buffer */"));
	json_t *c = site_at(r.report, 0, "leaks", cache), *b = site_at(r.report, 0, "leaks", buffer);
	if (!c || !b)
		fail_msg("the leaks do not name %s and %s:\n%s", cache, buffer, r.err);
	assert_string_equal(json_string_value(json_object_get(c, "function")), "render_entry");
	assert_string_equal(json_string_value(json_object_get(b, "function")), "format_response");
	assert_between(json_integer_value(json_object_get(c, "size_bytes")), 32000 * 1000, 34000 * 1000);
	assert_between(json_integer_value(json_object_get(b, "size_bytes")), 16000 * 1000, 17000 * 1000);
	assert_int_equal(json_integer_value(json_object_get(c, "count")), 1000);
	assert_between(it_int(r.report, "fixtures.0.heap.leaked_bytes"), 48 * 1000 * 1000, 50 * 1000 * 1000);
	assert_string_equal(it_str(r.report, "fixtures.0.heap.top.0.location"), cache); /* the peak's largest */
	assert_true(json_equal(it_get(r.report, "fixtures.0.heap"), it_get(r.report, "fixtures.0.python_heap")));
	/* RSS is the run without heaptrack's: its interpreter alone is ~100 MB */
	assert_between(it_int(r.report, "fixtures.0.peak.tree_rss_bytes"), 40 * MiB, 80 * MiB);
	assert_contains(r.err, cache); /* the failing fixture names the line */
	/* fixed: a bounded ring, the buffer freed: neither line leaks */
	assert_null(site_at(r.report, 1, "leaks", cache));
	assert_null(site_at(r.report, 1, "leaks", buffer));
	assert_between(it_int(r.report, "fixtures.1.heap.leaked_bytes"), 0, 64 * 1024);
	assert_between(it_int(r.report, "fixtures.1.heap.peak_bytes"), 0, 4 * 1000 * 1000);
	it_free(&r);
}

/* A command under heaptrack: the script passes the program's status
 * through; the fixture fails for it and still has its heap (the 8 MiB
 * buffer, in libpython without debug info: a module, not a line). */
static void command_exit3(void **state)
{
	(void)state;
	it_need_heaptrack();
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"c\", \"command\": [\"/usr/bin/python3\", \"-c\", "
		  "\"import sys; x = bytearray(8 << 20); sys.exit(3)\"], \"heap\": {\"tool\": \"heaptrack\"}}]}\n");
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	if (!r.report)
		fail_msg("no report; exit %d; stderr:\n%s", r.status, r.err);
	assert_int_equal(r.status, 1);
	assert_int_equal(it_int(r.report, "fixtures.0.exit.code"), 3);
	assert_string_equal(it_str(r.report, "fixtures.0.heap.tool"), "heaptrack");
	assert_between(it_int(r.report, "fixtures.0.heap.peak_bytes"), 8 * MiB, 64 * MiB);
	json_t *notes = it_get(r.report, "fixtures.0.measurement.notes");
	bool noted = false;
	for (size_t i = 0; i < json_array_size(notes); i++)
		noted |= strstr(json_string_value(json_array_get(notes, i)), "under heaptrack, the program exited with "
										 "status 3") != NULL;
	assert_true(noted);
	it_free(&r);
}

/* The program, run under heaptrack, finds the scratch dir in its parent's
 * command line (heaptrack -o DIR/data) and puts a FIFO where memgate has
 * heaptrack_print write: the child's open of its output waited for a
 * reader, memgate waited for the child, and the tool's timeout had not
 * started: memgate hung for ever. Now an error naming the file, at once. */
static void a_fifo_planted_for_a_tool_does_not_hang(void **state)
{
	(void)state;
	it_need_heaptrack();
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"c\", \"heap\": {\"tool\": \"heaptrack\"}, "
		  "\"command\": [\"sh\", \"-c\", \"for a in $(tr '\\\\0' ' ' < /proc/$PPID/cmdline); do case $a in "
		  "*/data) mkfifo \\\"${a%%/data}/print.txt\\\";; esac; done; true\"]}]}\n");
	struct it_run r;
	it_start(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	if (!it_wait_at_most(&r, it_ms(30000)))
		fail_msg("memgate hung on a FIFO planted at the tool's output (killed after 30 s)");
	assert_int_equal(r.status, 3);
	assert_contains(r.err, "print.txt");
	it_free(&r);
}

/* heaptrack's peak is the figure of the heap limit, and of python_heap
 * (its first name, which a heaptrack fixture used to find "not
 * measured"): both judged, one over, one within. */
static void heap_limits(void **state)
{
	(void)state;
	it_need_heaptrack();
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"c\", \"command\": [\"/usr/bin/python3\", \"-c\", "
		  "\"x = bytearray(8 << 20)\"], \"heap\": {\"tool\": \"heaptrack\"}, "
		  "\"limits\": {\"heap\": \"4MiB\", \"python_heap\": \"1GiB\"}}]}\n");
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	if (!r.report)
		fail_msg("no report; exit %d; stderr:\n%s", r.status, r.err);
	if (r.status != 1)
		fail_msg("expected 1 (over the heap limit), got %d:\n%s", r.status, r.err);
	int64_t peak = it_int(r.report, "fixtures.0.heap.peak_bytes");
	assert_between(peak, 8 * MiB, 64 * MiB);
	/* limits in the table's order: python_heap, then heap */
	assert_string_equal(it_str(r.report, "fixtures.0.limits.0.metric"), "python_heap");
	assert_int_equal(it_int(r.report, "fixtures.0.limits.0.value_bytes"), peak);
	assert_true(it_bool(r.report, "fixtures.0.limits.0.ok"));
	assert_string_equal(it_str(r.report, "fixtures.0.limits.1.metric"), "heap");
	assert_int_equal(it_int(r.report, "fixtures.0.limits.1.value_bytes"), peak);
	assert_false(it_bool(r.report, "fixtures.0.limits.1.ok"));
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "heap ");
	assert_contains(it_str(r.report, "fixtures.0.reasons.0"), "> limit 4.0 MiB");
	it_free(&r);
}

/* heaptrack not on the PATH the fixture runs with: an error (exit 3) with
 * the install command, or a note with "optional": true. */
static void heaptrack_missing(void **state)
{
	(void)state;
	static const char cfg[] = "{\"version\": 1, \"fixtures\": [{\"name\": \"c\", \"command\": [\"/bin/true\"], "
				  "\"env\": {\"PATH\": \"/nonexistent\"}, \"heap\": {\"tool\": \"heaptrack\"%s}}]}\n";
	it_config(cfg, "");
	struct it_run r;
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	assert_int_equal(r.status, 3);
	const char *why = it_str(r.report, "fixtures.0.reasons.0");
	assert_contains(why, "heaptrack is not installed");
	assert_contains(why, "apt-get install heaptrack");
	it_free(&r);
	it_config(cfg, ", \"optional\": true");
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	assert_int_equal(r.status, 0);
	assert_contains(it_str(r.report, "fixtures.0.measurement.notes.0"), "skipped (\"optional\": true)");
	assert_true(json_is_null(it_get(r.report, "fixtures.0.heap")));
	it_free(&r);
	/* skipped, a heap limit cannot be checked: the note says why */
	it_config("{\"version\": 1, \"fixtures\": [{\"name\": \"c\", \"command\": [\"/bin/true\"], "
		  "\"env\": {\"PATH\": \"/nonexistent\"}, \"heap\": {\"tool\": \"heaptrack\", \"optional\": true}, "
		  "\"limits\": {\"heap\": \"1MiB\"}}]}\n");
	it_memgate(&r, (const char *const[]){"run", "-c", it_cfg_path(), NULL});
	assert_int_equal(r.status, 3);
	assert_string_equal(it_str(r.report, "fixtures.0.reasons.0"),
			    "heap limit 1.0 MiB cannot be checked: the heap tool gave no figure (the notes say why)");
	it_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(native_lab),
		cmocka_unit_test(command_exit3),
		cmocka_unit_test(a_fifo_planted_for_a_tool_does_not_hang),
		cmocka_unit_test(heap_limits),
		cmocka_unit_test(heaptrack_missing),
	};
	return cmocka_run_group_tests_name("heaptrack (integration)", tests, NULL, it_config_cleanup);
}
