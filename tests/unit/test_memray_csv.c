/* memray_csv: the sites live at memray's peak, from real `memray transform
 * csv` outputs of memray 1.20.0 (tests/data/memray-real/sites-*.csv, made
 * from the same workloads as NOTES.md describes), summed over captures. */
#include "testutil.h"

#include "heap/memray_csv.h"
#include "heap/pyheap.h"

#define ERRLEN 512

static int64_t add_file(struct mg_memray_acc *a, const char *name, bool native)
{
	char *text = tu_read_data(name);
	char err[ERRLEN] = "";
	int64_t peak = -1;
	if (mg_memray_csv_add(a, text, strlen(text), name, native, &peak, err, sizeof err) != 0)
		fail_msg("%s: %s", name, err);
	free(text);
	return peak;
}

/* workload.py ok: a dict cache (line 19) and 48 x 64 KiB buffers (line 24)
 * are what is live at the peak; the sizes add up to memray's own peak_memory
 * (stats-ok.json of the same run said 8769657). */
static void held_at_the_peak(void **state)
{
	(void)state;
	struct mg_memray_acc a = {0};
	struct mg_pyheap *h = calloc(1, sizeof *h);
	assert_non_null(h);
	assert_int_equal(add_file(&a, "memray-real/sites-ok.csv", false), 8769657);
	mg_pyheap_init(h, "memray");
	mg_memray_acc_top(&a, 3, h);
	assert_int_equal(h->ntop, 3);
	assert_string_equal(h->top[0].location, "workload.py:19");
	assert_string_equal(h->top[0].function, "fill_cache");
	assert_int_equal(h->top[0].size_bytes, 5537808);
	assert_true(h->top[0].has_count);
	assert_string_equal(h->top[1].location, "workload.py:24");
	assert_string_equal(h->top[1].function, "hold_buffers");
	assert_int_equal(h->top[1].size_bytes, 3145776);
	assert_int_equal(h->top[1].count, 48);
	assert_string_equal(h->top[0].native, ""); /* not a --native capture */
	assert_true(h->top_omitted > 10);
	mg_memray_acc_free(&a);
	free(h);
}

/* --native: the site is the innermost Python line, the native function
 * named under it when memray could name one (numpy_workload.py, 4 MiB per
 * array; NumPy's own frames are <unknown> without debug symbols). */
static void native_frames(void **state)
{
	(void)state;
	struct mg_memray_acc a = {0};
	struct mg_pyheap *h = calloc(1, sizeof *h);
	assert_non_null(h);
	add_file(&a, "memray-real/sites-numpy-native-top30.csv", true);
	mg_pyheap_init(h, "memray");
	mg_memray_acc_top(&a, 10, h);
	bool line40 = false;
	for (int i = 0; i < h->ntop; i++) {
		const struct mg_pyheap_site *s = &h->top[i];
		assert_null(strstr(s->location, "<unknown>")); /* never a native frame as the site */
		if (strcmp(s->location, "numpy_workload.py:40") == 0) {
			line40 = true;
			assert_string_equal(s->function, "main");
			assert_int_equal(s->size_bytes, 4194304);
			assert_string_equal(s->native, "_PyObject_MakeTpCall");
		}
	}
	assert_true(line40);
	/* read without --native, the innermost frame is the site: a native one */
	struct mg_memray_acc b = {0};
	add_file(&b, "memray-real/sites-numpy-native-top30.csv", false);
	mg_memray_acc_top(&b, 1, h);
	assert_string_equal(h->top[0].location, "<unknown>:0");
	mg_memray_acc_free(&a);
	mg_memray_acc_free(&b);
	free(h);
}

/* --follow-fork: a child's capture adds its sites to the parent's. */
static void captures_summed(void **state)
{
	(void)state;
	struct mg_memray_acc a = {0};
	struct mg_pyheap *h = calloc(1, sizeof *h);
	assert_non_null(h);
	int64_t p1 = add_file(&a, "memray-real/sites-pool-child.csv", false);
	int64_t p2 = add_file(&a, "memray-real/sites-pool-child.csv", false);
	assert_int_equal(p1, 5333818);
	assert_int_equal(p2, p1);
	mg_pyheap_init(h, "memray");
	mg_memray_acc_top(&a, 1, h);
	assert_string_equal(h->top[0].location, "workload.py:28");
	assert_string_equal(h->top[0].function, "<listcomp>");
	assert_int_equal(h->top[0].size_bytes, 2 * 5319168);
	mg_memray_acc_free(&a);
	free(h);
}

/* Quoted fields, an empty stack, ties in a stable order. */
static void csv_forms(void **state)
{
	(void)state;
	static const char text[] = "allocator,num_allocations,size,tid,thread_name,stack_trace\r\n"
				   "MALLOC,2,100,1,0x1,\"f;dir, with comma/a.py;3|g;b.py;1\"\r\n"
				   "MALLOC,1,100,1,0x1,\"h;\"\"q\"\".py;7\"\r\n"
				   "MMAP,1,5,2,worker,\r\n"
				   "\r\n";
	struct mg_memray_acc a = {0};
	struct mg_pyheap *h = calloc(1, sizeof *h);
	char err[ERRLEN];
	int64_t peak;
	assert_int_equal(mg_memray_csv_add(&a, text, strlen(text), "t.csv", false, &peak, err, sizeof err), 0);
	assert_int_equal(peak, 205);
	mg_pyheap_init(h, "memray");
	mg_memray_acc_top(&a, 10, h);
	assert_int_equal(h->ntop, 3);
	assert_string_equal(h->top[0].location, "\"q\".py:7"); /* 100 each: by location */
	assert_string_equal(h->top[1].location, "dir, with comma/a.py:3");
	assert_int_equal(h->top[1].count, 2);
	assert_string_equal(h->top[2].location, "<stack trace unavailable>");
	mg_memray_acc_free(&a);
	free(h);
}

/* What is not memray's CSV is an error naming the line, never a site. */
static void csv_strict(void **state)
{
	(void)state;
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{ "", "t.csv:1: empty" },
		{ "allocator,size,stack_trace\n", "t.csv:1: the header has no \"num_allocations\" column" },
		{ "{\"metadata\": {}}\n", "t.csv:1: a quote inside an unquoted field" },
		{ "num_allocations,size,stack_trace\n1,2\n", "t.csv:2: 2 fields, the header has 3" },
		{ "num_allocations,size,stack_trace\n1,-2,f;a.py;1\n", "t.csv:2: size: expected a whole number" },
		{ "num_allocations,size,stack_trace\n1,99999999999999999999,f;a.py;1\n", "at most 19 digits" },
		{ "num_allocations,size,stack_trace\n1,9223372036854775807,f;a.py;1\n1,1,f;a.py;1\n",
		  "t.csv:3: the sizes add up to more than 2^63 bytes" },
		{ "num_allocations,size,stack_trace\n1,2,f:a.py:1\n", "t.csv:2: stack_trace: frame \"f:a.py:1\"" },
		{ "num_allocations,size,stack_trace\n1,2,f;a.py;x\n", "is not \"function;file;line\"" },
		{ "num_allocations,size,stack_trace\n1,2,\"f;a.py;1\n", "t.csv:2: a quoted field is not closed" },
		{ "num_allocations,size,stack_trace\n1,2,\"f;a.py;1\"x\n", "text after a closing quote" },
		{ "num_allocations,size,stack_trace\n1,2,f;a\"b.py;1\n", "a quote inside an unquoted field" },
		{ "num_allocations,size,size,stack_trace\n", "column \"size\" twice" },
		{ "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n", "more than 16 fields" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct mg_memray_acc a = {0};
		char err[ERRLEN] = "";
		int64_t peak;
		if (mg_memray_csv_add(&a, cases[i].text, strlen(cases[i].text), "t.csv", false, &peak, err, sizeof err) !=
		    -1)
			fail_msg("case %zu: expected an error containing \"%s\"", i, cases[i].expect);
		assert_contains(err, cases[i].expect);
		mg_memray_acc_free(&a);
	}
	struct mg_memray_acc a = {0};
	char err[ERRLEN];
	int64_t peak;
	assert_int_equal(mg_memray_csv_add(&a, "num_allocations,size,stack_trace\n\0", 34, "t.csv", false, &peak, err,
					   sizeof err), -1);
	assert_contains(err, "NUL byte");
	mg_memray_acc_free(&a);
}

/* Many distinct sites (the table grows), and a path longer than a location
 * keeps its tail; bytes that are not UTF-8 are replaced. */
static void many_sites(void **state)
{
	(void)state;
	size_t cap = 4000 * 64 + 1024, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len, "num_allocations,size,stack_trace\n");
	for (int i = 0; i < 3000; i++)
		len += (size_t)snprintf(text + len, cap - len, "1,%d,f%d;m%d.py;%d\n", i + 1, i % 7, i, i);
	len += (size_t)snprintf(text + len, cap - len, "1,999999,g;/");
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(text + len, cap - len, "very/long/dir%02d/", i);
	len += (size_t)snprintf(text + len, cap - len, "\xff.py;12\n");
	struct mg_memray_acc a = {0};
	struct mg_pyheap *h = calloc(1, sizeof *h);
	char err[ERRLEN];
	int64_t peak;
	assert_int_equal(mg_memray_csv_add(&a, text, len, "t.csv", false, &peak, err, sizeof err), 0);
	assert_int_equal(a.n, 3001);
	mg_pyheap_init(h, "memray");
	mg_memray_acc_top(&a, 200, h);
	assert_int_equal(h->ntop, MG_PYHEAP_MAX_TOP);
	assert_int_equal(h->top_omitted, 3001 - MG_PYHEAP_MAX_TOP);
	assert_int_equal(strncmp(h->top[0].location, "...", 3), 0);
	assert_contains(h->top[0].location, "dir39/?.py:12");
	assert_string_equal(h->top[1].location, "m2999.py:2999");
	free(text);
	mg_memray_acc_free(&a);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(held_at_the_peak),
		cmocka_unit_test(native_frames),
		cmocka_unit_test(captures_summed),
		cmocka_unit_test(csv_forms),
		cmocka_unit_test(csv_strict),
		cmocka_unit_test(many_sites),
	};
	return cmocka_run_group_tests_name("memray_csv", tests, NULL, NULL);
}
