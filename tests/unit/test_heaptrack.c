/* heaptrack_print's text (gate/heap/heaptrack.c) on real outputs of
 * heaptrack 1.4.0 (tests/data/heaptrack/, NOTES.md there says how each was
 * made), then on those outputs cut short, garbled and grown. */
#include "testutil.h"

#include "heap/heaptrack.h"
#include "heap/pyheap.h"

#define ERRLEN 512

static struct mg_heaptrack *load(const char *name)
{
	char path[128], err[ERRLEN] = "x";
	snprintf(path, sizeof path, "heaptrack/%s", name);
	char *text = tu_read_data(path);
	struct mg_heaptrack *h = malloc(sizeof *h);
	assert_non_null(h);
	if (mg_heaptrack_parse(text, h, err, sizeof err) != 0)
		fail_msg("%s: %s", name, err);
	assert_string_equal(err, "");
	free(text);
	return h;
}

/* parse text that must fail; returns the message (static) */
static const char *parse_error(const char *text)
{
	static char err[ERRLEN];
	static struct mg_heaptrack h;
	memset(err, 'X', sizeof err);
	assert_int_equal(mg_heaptrack_parse(text, &h, err, sizeof err), -1);
	assert_non_null(memchr(err, '\0', sizeof err));
	assert_null(strchr(err, '\n'));
	assert_string_equal(h.command, ""); /* reset on failure */
	assert_int_equal(h.npeaks + h.nleaks, 0);
	return err;
}

static bool within(const struct mg_heaptrack_bytes *b, int64_t exact)
{
	return b->bytes - b->slack <= exact && exact <= b->bytes + b->slack;
}

/* The exact bytes of the backtrace ending in `function` in a flamegraph
 * stacks file of the same data ("...;render_entry (native_service.c); 32848000"). */
static int64_t exact_bytes(const char *stacks_file, const char *function)
{
	char *text = tu_read_data(stacks_file);
	char needle[128];
	snprintf(needle, sizeof needle, ";%s (", function);
	char *hit = strstr(text, needle);
	assert_non_null(hit);
	char *eol = strchr(hit, '\n');
	assert_non_null(eol);
	*eol = '\0';
	char *sp = strrchr(hit, ' ');
	assert_non_null(sp);
	int64_t v = strtoll(sp + 1, NULL, 10);
	free(text);
	return v;
}

static const struct mg_heaptrack_site *find(const struct mg_heaptrack_site *sites, int n, const char *location)
{
	for (int i = 0; i < n; i++)
		if (strcmp(sites[i].frames[0].location, location) == 0)
			return &sites[i];
	return NULL;
}

/* ---- real outputs -------------------------------------------------------- */

static void leaky_lab(void **state)
{
	(void)state;
	struct mg_heaptrack *h = load("print-leaky.txt");
	assert_string_equal(h->command, "build/native_service 0");
	assert_int_equal(h->allocations, 2002);
	assert_int_equal(h->temporary, 0);
	assert_int_equal(h->runtime_ms, 530);
	assert_int_equal(h->peak_heap.bytes, 49310000);
	assert_int_equal(h->peak_heap.slack, 5000);
	assert_int_equal(h->leaked.bytes, 49240000);
	assert_int_equal(h->peak_rss.bytes, 53240000);
	assert_int_equal(h->suppressed.bytes, 0);
	assert_true(h->has_peaks && h->has_leaks);
	assert_int_equal(h->npeaks, 4);
	assert_int_equal(h->nleaks, 3);
	assert_int_equal(h->peaks_omitted + h->leaks_omitted, 0);

	/* the two leaks of configs/lab/native_service.c, largest first */
	const struct mg_heaptrack_site *cache = &h->leaks[0], *buffer = &h->leaks[1];
	assert_string_equal(cache->frames[0].function, "render_entry");
	assert_string_equal(cache->frames[0].location, "configs/lab/native_service.c:86");
	assert_string_equal(cache->module, "<repo>/build/native_service");
	assert_int_equal(cache->calls, 1000);
	assert_int_equal(cache->size.bytes, 32850000);
	assert_int_equal(cache->nframes, 4); /* site, cache_insert, serve, main */
	assert_string_equal(cache->frames[1].function, "cache_insert");
	assert_string_equal(cache->frames[1].location, "configs/lab/native_service.c:105");
	assert_string_equal(cache->frames[3].function, "main");
	assert_string_equal(buffer->frames[0].function, "format_response");
	assert_string_equal(buffer->frames[0].location, "configs/lab/native_service.c:124");
	assert_int_equal(buffer->calls, 1000);
	assert_int_equal(buffer->size.bytes, 16380000);
	/* stdout's buffer, in libc */
	assert_string_equal(h->leaks[2].frames[0].function, "__GI__IO_file_doallocate");
	assert_string_equal(h->leaks[2].module, "/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(h->leaks[2].size.bytes, 4100);
	assert_int_equal(h->leaks[2].size.slack, 5);
	assert_int_equal(h->leaks[2].nframes, 10); /* the site and 9 callers, down to main */

	/* the rounded figures hold the exact ones (flamegraph stacks of the same data) */
	assert_true(within(&cache->size, exact_bytes("heaptrack/flamegraph-stacks-leaked.txt", "render_entry")));
	assert_true(within(&buffer->size, exact_bytes("heaptrack/flamegraph-stacks-leaked.txt", "format_response")));
	assert_true(within(&h->peaks[0].size, exact_bytes("heaptrack/flamegraph-stacks-peak.txt", "render_entry")));
	/* and the parts add up to the total, within the rounding */
	int64_t sum = 0, slack = h->leaked.slack;
	for (int i = 0; i < h->nleaks; i++) {
		sum += h->leaks[i].size.bytes;
		slack += h->leaks[i].size.slack;
	}
	assert_true(sum - h->leaked.bytes <= slack && h->leaked.bytes - sum <= slack);

	/* peaks: the same two sites, then libstdc++'s pool (an address, no file) */
	assert_string_equal(h->peaks[0].frames[0].location, "configs/lab/native_service.c:86");
	assert_string_equal(h->peaks[1].frames[0].location, "configs/lab/native_service.c:124");
	assert_string_equal(h->peaks[2].frames[0].function, "0x7f5fa5aa57b9");
	assert_string_equal(h->peaks[2].frames[0].location, "");
	assert_string_equal(h->peaks[2].module, "/lib/x86_64-linux-gnu/libstdc++.so.6");
	assert_int_equal(h->peaks[2].size.bytes, 72700);

	/* which line: the lab's own, not libc's */
	assert_ptr_equal(mg_heaptrack_own_frame(cache), &cache->frames[0]);
	const struct mg_heaptrack_frame *own = mg_heaptrack_own_frame(&h->leaks[2]);
	assert_non_null(own); /* the printf in main that made stdout's buffer */
	assert_string_equal(own->function, "main");
	assert_string_equal(own->location, "configs/lab/native_service.c:301");
	assert_null(mg_heaptrack_own_frame(&h->peaks[2]));
	assert_null(mg_heaptrack_own_frame(NULL));
	free(h);
}

static void fixed_lab_leaks_nothing_of_its_own(void **state)
{
	(void)state;
	struct mg_heaptrack *h = load("print-fixed.txt");
	struct mg_heaptrack *leaky = load("print-leaky.txt");
	assert_string_equal(h->command, "build/native_service 0 --fixed");
	assert_int_equal(h->leaked.bytes, 4100);
	assert_int_equal(h->nleaks, 1);
	assert_null(find(h->leaks, h->nleaks, "configs/lab/native_service.c:86"));
	assert_null(find(h->leaks, h->nleaks, "configs/lab/native_service.c:124"));
	assert_int_equal(h->temporary, 1937);
	/* the ring holds 64 entries of 32 KiB: its peak, not 1000 of them */
	const struct mg_heaptrack_site *ring = find(h->peaks, h->npeaks, "configs/lab/native_service.c:86");
	assert_non_null(ring);
	assert_int_equal(ring->size.bytes, 2140000);
	assert_true(leaky->peak_heap.bytes > 20 * h->peak_heap.bytes);
	assert_true(leaky->leaked.bytes > 10000 * h->leaked.bytes);
	free(leaky);
	free(h);
}

/* The same data printed in other ways gives the same sites. */
static void same_sites(const struct mg_heaptrack_site *a, int na, const struct mg_heaptrack_site *b, int nb)
{
	assert_int_equal(na, nb);
	for (int i = 0; i < na; i++) {
		assert_int_equal(a[i].size.bytes, b[i].size.bytes);
		assert_int_equal(a[i].calls, b[i].calls);
		assert_string_equal(a[i].module, b[i].module);
		assert_int_equal(a[i].nframes, b[i].nframes);
		for (int k = 0; k < a[i].nframes; k++) {
			assert_string_equal(a[i].frames[k].function, b[i].frames[k].function);
			assert_string_equal(a[i].frames[k].location, b[i].frames[k].location);
		}
	}
}

static void other_print_options(void **state)
{
	(void)state;
	struct mg_heaptrack *ref = load("print-leaky.txt");

	struct mg_heaptrack *h = load("print-leaky-unmerged.txt"); /* -m 0 */
	same_sites(ref->peaks, ref->npeaks, h->peaks, h->npeaks);
	same_sites(ref->leaks, ref->nleaks, h->leaks, h->nleaks);
	free(h);

	h = load("print-leaky-everything.txt"); /* all four sections */
	same_sites(ref->peaks, ref->npeaks, h->peaks, h->npeaks);
	same_sites(ref->leaks, ref->nleaks, h->leaks, h->nleaks);
	free(h);

	h = load("print-leaky-default.txt"); /* no --print-leaks */
	assert_true(h->has_peaks);
	assert_false(h->has_leaks);
	assert_int_equal(h->nleaks, 0);
	same_sites(ref->peaks, ref->npeaks, h->peaks, h->npeaks);
	assert_int_equal(h->leaked.bytes, ref->leaked.bytes);
	free(h);

	h = load("print-leaky-n1.txt"); /* -n 1 -s 1 */
	assert_int_equal(h->npeaks, 1);
	assert_int_equal(h->nleaks, 1);
	same_sites(ref->leaks, 1, h->leaks, 1);
	free(h);

	h = load("print-leaky-summary-only.txt");
	assert_false(h->has_peaks || h->has_leaks);
	assert_int_equal(h->runtime_ms, 526); /* "0.526000s.": six decimals when no size came before */
	assert_int_equal(h->peak_heap.bytes, ref->peak_heap.bytes);
	free(h);
	free(ref);
}

static void no_debug_info(void **state)
{
	(void)state;
	struct mg_heaptrack *h = load("print-nodebug.txt");
	/* both lab sites merged into one unnamed address */
	assert_int_equal(h->leaks[0].calls, 2000);
	assert_int_equal(h->leaks[0].size.bytes, 49230000);
	assert_string_equal(h->leaks[0].frames[0].function, "0x55e17f1604cc");
	assert_string_equal(h->leaks[0].frames[0].location, "");
	assert_string_equal(h->leaks[0].module, "<repo>/build/native_service_nodebug");
	assert_string_equal(h->leaks[0].frames[4].function, "__libc_start_call_main");
	assert_null(mg_heaptrack_own_frame(&h->leaks[0]));
	free(h);

	h = load("print-nodebug-s1.txt"); /* "  and 16.38M from 1 other places" */
	assert_int_equal(h->nleaks, 1);
	assert_false(h->has_peaks);
	assert_int_equal(h->leaks[0].calls, 2000);
	free(h);
}

static void cxx_inlined_frames(void **state)
{
	(void)state;
	struct mg_heaptrack *h = load("print-cxx.txt");
	assert_int_equal(h->temporary, 100);
	assert_int_equal(h->runtime_ms, 0);
	const struct mg_heaptrack_site *v = &h->leaks[0];
	assert_string_equal(v->frames[0].function, "std::__new_allocator<>::allocate(unsigned long, void const*)");
	assert_string_equal(v->frames[0].location, "/usr/include/c++/12/bits/new_allocator.h:137");
	/* inlined into (no "in" line), then the caller */
	assert_string_equal(v->frames[3].function, "std::vector<>::_M_default_append(unsigned long)");
	assert_string_equal(v->frames[4].function, "std::vector<>::resize(unsigned long)");
	assert_string_equal(v->module, "<repo>/build/cxx_probe");
	/* which line: cxx_probe.cpp:15, where the registry grows */
	const struct mg_heaptrack_frame *own = mg_heaptrack_own_frame(v);
	assert_non_null(own);
	assert_string_equal(own->location, "tests/data/heaptrack/cxx_probe.cpp:15");
	assert_string_equal(own->function, "lab::Registry<>::add(std::__cxx11::basic_string<> const&, unsigned long)");
	/* the map's nodes: 6 inlined frames before the first caller */
	const struct mg_heaptrack_site *m = &h->leaks[1];
	assert_int_equal(m->calls, 200);
	own = mg_heaptrack_own_frame(m);
	assert_non_null(own);
	assert_string_equal(own->location, "tests/data/heaptrack/cxx_probe.cpp:15");
	/* 48 B: no rounding */
	assert_int_equal(h->leaks[3].size.bytes, 48);
	assert_int_equal(h->leaks[3].size.slack, 0);
	assert_string_equal(h->leaks[3].frames[0].location, "tests/data/heaptrack/cxx_probe.cpp:22");
	free(h);
}

static void fork_sigkill_and_script_stop(void **state)
{
	(void)state;
	struct mg_heaptrack *h = load("print-fork.txt");
	/* the parent only: two 1 MiB calls (lines 28 and 47); the child's 2 MiB is not recorded */
	assert_int_equal(h->allocations, 4);
	assert_int_equal(h->leaks[0].calls, 2);
	assert_string_equal(h->leaks[0].frames[0].location, "tests/data/heaptrack/fork_probe.c:19");
	assert_string_equal(h->leaks[0].frames[1].location, "tests/data/heaptrack/fork_probe.c:28");
	assert_int_equal(h->leaks[0].nframes, 2); /* callers from the first backtrace only (line 47 is the second) */
	assert_int_equal(h->leaks[0].size.bytes, 2100000);
	free(h);

	h = load("print-sigkill.txt"); /* partial: 486 of 500 requests */
	assert_int_equal(h->leaks[0].calls, 486);
	assert_int_equal(h->allocations, 974);
	free(h);

	h = load("print-script-stop.txt");
	assert_int_equal(h->leaks[0].calls, 200);
	free(h);
}

/* ---- no data, cut short -------------------------------------------------- */

static void no_data_is_an_error(void **state)
{
	(void)state;
	char *text = tu_read_data("heaptrack/print-empty.txt");
	const char *err = parse_error(text);
	assert_contains(err, "no \"Debuggee command was:\" line");
	assert_contains(err, "heaptrack_print read no data");
	assert_contains(err, "not to the heaptrack script");
	free(text);

	text = tu_read_data("heaptrack/print-missing.stderr.txt");
	assert_contains(parse_error(text), "Debuggee command was:");
	free(text);

	assert_contains(parse_error(""), "Debuggee command was:");
	static struct mg_heaptrack h;
	char err2[64];
	assert_int_equal(mg_heaptrack_parse(NULL, &h, err2, sizeof err2), -1);
	assert_int_equal(mg_heaptrack_parse("garbage", &h, NULL, 0), -1);
}

/* Every prefix of a real output: success exactly when it holds the last
 * summary line whole, else an error (never a crash, never garbage). */
static void every_prefix(void **state)
{
	(void)state;
	char *text = tu_read_data("heaptrack/print-leaky.txt");
	size_t n = strlen(text);
	const char *last = strstr(text, "total memory leaked: 49.24M");
	assert_non_null(last);
	size_t complete = (size_t)(last - text) + strlen("total memory leaked: 49.24M");
	static struct mg_heaptrack h;
	char err[ERRLEN];
	for (size_t k = 0; k <= n; k++) {
		char *cut = malloc(k + 1);
		assert_non_null(cut);
		memcpy(cut, text, k);
		cut[k] = '\0';
		int rc = mg_heaptrack_parse(cut, &h, err, sizeof err);
		if (k >= complete) {
			if (rc != 0)
				fail_msg("prefix of %zu bytes: %s", k, err);
			assert_int_equal(h.nleaks, 3);
		} else {
			if (rc != -1)
				fail_msg("prefix of %zu bytes (of %zu) parsed", k, n);
			assert_non_null(memchr(err, '\0', sizeof err));
		}
		free(cut);
	}
	/* and the message says what is missing */
	char *cut = strstr(text, "peak heap memory");
	assert_non_null(cut);
	*cut = '\0';
	assert_contains(parse_error(text), "no \"peak heap memory consumption:\" line: the text ends before");
	free(text);
}

/* ---- garbled ------------------------------------------------------------- */

/* text with the first occurrence of `from` replaced by `to` (heap copy) */
static char *edit(const char *name, const char *from, const char *to)
{
	char path[128];
	snprintf(path, sizeof path, "heaptrack/%s", name);
	char *text = tu_read_data(path);
	char *at = strstr(text, from);
	assert_non_null(at);
	size_t nt = strlen(text), nf = strlen(from), nto = strlen(to);
	char *out = malloc(nt - nf + nto + 1);
	assert_non_null(out);
	memcpy(out, text, (size_t)(at - text));
	memcpy(out + (at - text), to, nto);
	strcpy(out + (at - text) + nto, at + nf);
	free(text);
	return out;
}

static void expect_error(const char *name, const char *from, const char *to, const char *want1, const char *want2)
{
	char *text = edit(name, from, to);
	const char *err = parse_error(text);
	assert_contains(err, want1);
	if (want2)
		assert_contains(err, want2);
	free(text);
}

static void garbled_lines_are_errors(void **state)
{
	(void)state;
	/* a label that does not parse: the line, its number, what was expected */
	expect_error("print-leaky.txt", "32.85M leaked over 1000 calls from\n", "32.85Q leaked over 1000 calls from\n",
		     "heaptrack_print output, line ", "expected \"SIZE leaked over N calls from\"");
	expect_error("print-leaky.txt", "32.85M leaked over 1000 calls from\n", "32.85M leaked over lots calls from\n",
		     "(\"32.85M leaked over lots calls from\")", "heaptrack_print 1.4");
	expect_error("print-leaky.txt", "32.85M peak memory consumed over 1000 calls from\n",
		     "32.85M peak memory consumed over 99999999999999999999 calls from\n", "out of range", NULL);
	expect_error("print-leaky.txt", "32.85M leaked over 1000 calls from\n",
		     "99999999999.00T leaked over 1000 calls from\n", "out of range", NULL);
	expect_error("print-leaky.txt", "32.85M leaked over 1000 calls from\n", "32.85M leaked over 1000 calls from\n\n",
		     "expected the allocation site", "blank line");
	expect_error("print-leaky.txt", "total memory leaked: 49.24M", "total memory leaked: lots",
		     "expected \"total memory leaked: SIZE\"", NULL);
	expect_error("print-leaky.txt", "total runtime: 0.53s.", "total runtime: soon", "0.53s.", NULL);
	expect_error("print-leaky.txt", "calls to allocation functions: 2002 (3806/s)",
		     "calls to allocation functions: 2002 (fast)", "N (R/s)", NULL);
	expect_error("print-leaky.txt", "calls to allocation functions: 2002",
		     "calls to allocation functions: 9223372036854775808", "out of range", NULL);
	/* inside an entry: a line at column 0 in a backtrace */
	expect_error("print-leaky.txt", "    cache_insert\n", "cache_insert\n", "expected a backtrace's first line",
		     NULL);
	/* an entry section's first line is not an entry */
	expect_error("print-leaky.txt", "MEMORY LEAKS\n", "MEMORY LEAKS\n  stray\n", "expected an entry like", NULL);
	/* twice */
	expect_error("print-leaky.txt", "total memory leaked: 49.24M", "total memory leaked: 49.24M\ntotal memory leaked: 1B",
		     "a second \"total memory leaked:\" line", "run it once per data file");
	expect_error("print-leaky.txt", "MEMORY LEAKS\n", "MEMORY LEAKS\n\nMEMORY LEAKS\n", "a second \"MEMORY LEAKS\" section",
		     NULL);
	expect_error("print-leaky.txt", "finished reading file", "Debuggee command was: again\nfinished reading file",
		     "a second \"Debuggee command was:\" line", NULL);
	expect_error("print-leaky.txt", "total memory leaked: 49.24M", "total memory leaked: 49.24M\nMEMORY LEAKS",
		     "a section after the summary", NULL);
	/* two outputs one after the other */
	char *one = tu_read_data("heaptrack/print-leaky.txt");
	char *two = malloc(2 * strlen(one) + 2);
	assert_non_null(two);
	sprintf(two, "%s\n%s", one, one);
	assert_contains(parse_error(two), "a second");
	free(two);
	free(one);
}

static void line_forms_that_parse(void **state)
{
	(void)state;
	/* CRLF line ends */
	char *text = tu_read_data("heaptrack/print-leaky.txt");
	char *crlf = malloc(2 * strlen(text) + 1);
	assert_non_null(crlf);
	size_t o = 0;
	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			crlf[o++] = '\r';
		crlf[o++] = *p;
	}
	crlf[o] = '\0';
	static struct mg_heaptrack h;
	char err[ERRLEN];
	assert_int_equal(mg_heaptrack_parse(crlf, &h, err, sizeof err), 0);
	assert_string_equal(h.leaks[0].frames[0].location, "configs/lab/native_service.c:86");
	assert_string_equal(h.command, "build/native_service 0");
	free(crlf);
	free(text);

	/* sizes: negative (runtime attach), two-letter units, more decimals, T */
	const char *doc = "Debuggee command was: ./a.out\n"
			  "MEMORY LEAKS\n"
			  "-4.10K leaked over 3 calls from\n"
			  "f\n"
			  "  in ??\n"
			  "1.5KB leaked over 1 calls from\n"
			  "g\n"
			  "  at a.c:1\n"
			  "\n"
			  "total runtime: 1.234567s.\n"
			  "calls to allocation functions: 4\n"
			  "peak heap memory consumption: 1000B\n"
			  "total memory leaked: 1.000001M\n"
			  "suppressed leaks: 12.50T\n";
	assert_int_equal(mg_heaptrack_parse(doc, &h, err, sizeof err), 0);
	assert_int_equal(h.nleaks, 2);
	assert_int_equal(h.leaks[0].size.bytes, -4100);
	assert_int_equal(h.leaks[0].size.slack, 5);
	assert_string_equal(h.leaks[0].module, "");
	assert_string_equal(h.leaks[1].frames[0].location, "a.c:1");
	assert_int_equal(h.leaks[1].size.bytes, 1500);
	assert_int_equal(h.leaks[1].size.slack, 50);
	assert_int_equal(h.runtime_ms, 1235);
	assert_int_equal(h.temporary, MG_HEAPTRACK_UNKNOWN);
	assert_int_equal(h.peak_rss.bytes, MG_HEAPTRACK_UNKNOWN);
	assert_int_equal(h.peak_heap.bytes, 1000);
	assert_int_equal(h.peak_heap.slack, 0);
	assert_int_equal(h.leaked.bytes, 1000001);
	assert_int_equal(h.leaked.slack, 0);
	assert_int_equal(h.suppressed.bytes, INT64_C(12500000000000));
	assert_int_equal(h.suppressed.slack, INT64_C(5000000000));
	assert_false(h.has_peaks);
	assert_true(h.has_leaks);
}

static void long_and_odd_strings(void **state)
{
	(void)state;
	char fn[700], loc[700], doc[2400];
	memset(fn, 'f', sizeof fn - 1);
	fn[sizeof fn - 1] = '\0';
	fn[10] = '\x01';                  /* a control character */
	memcpy(fn + 20, "\xff\xfe", 2);   /* not UTF-8 */
	memcpy(fn + 30, "\xc3\xa9", 2);   /* é, kept */
	memcpy(fn + 187, "\xe2\x82\xac", 3); /* € across the cut */
	memset(loc, 'd', sizeof loc - 1);
	loc[sizeof loc - 1] = '\0';
	memcpy(loc + sizeof loc - 9, "/x.c:123", 8);
	snprintf(doc, sizeof doc,
		 "Debuggee command was: x\nPEAK MEMORY CONSUMERS\n1B peak memory consumed over 1 calls from\n%s\n"
		 "  at %s\n\ncalls to allocation functions: 1\npeak heap memory consumption: 1B\n"
		 "total memory leaked: 0B\n",
		 fn, loc);
	static struct mg_heaptrack h;
	char err[ERRLEN];
	assert_int_equal(mg_heaptrack_parse(doc, &h, err, sizeof err), 0);
	const char *f = h.peaks[0].frames[0].function;
	const char *l = h.peaks[0].frames[0].location;
	/* head, then "...": one byte short of the field, as the € did not fit whole */
	assert_int_equal(strlen(f), MG_HEAPTRACK_FUNCTION_MAX - 2);
	assert_int_equal(f[10], '?');
	assert_int_equal(f[20], '?');
	assert_int_equal(f[21], '?');
	assert_memory_equal(f + 22, "ffffffff\xc3\xa9", 10);
	assert_string_equal(f + strlen(f) - 3, "...");
	assert_int_equal(strlen(l), MG_HEAPTRACK_LOCATION_MAX - 1);
	assert_memory_equal(l, "...", 3);
	assert_string_equal(l + strlen(l) - 8, "/x.c:123");
}

static void more_sites_than_kept(void **state)
{
	(void)state;
	char doc[8192];
	size_t o = (size_t)snprintf(doc, sizeof doc, "Debuggee command was: x\nMEMORY LEAKS\n");
	for (int i = 0; i < MG_HEAPTRACK_MAX_SITES + 4; i++)
		o += (size_t)snprintf(doc + o, sizeof doc - o, "%dB leaked over 1 calls from\nf%d\n  at a.c:%d\n\n", 900 - i,
				      i, i + 1);
	snprintf(doc + o, sizeof doc - o, "calls to allocation functions: 20\npeak heap memory consumption: 1K\n"
					  "total memory leaked: 1K\n");
	static struct mg_heaptrack h;
	char err[ERRLEN];
	assert_int_equal(mg_heaptrack_parse(doc, &h, err, sizeof err), 0);
	assert_int_equal(h.nleaks, MG_HEAPTRACK_MAX_SITES);
	assert_int_equal(h.leaks_omitted, 4);
	assert_string_equal(h.leaks[MG_HEAPTRACK_MAX_SITES - 1].frames[0].function, "f15");
}

/* Random damage to a real output: 0 or -1, never a crash; on -1 one line of
 * message; on 0 only terminated strings. Deterministic (a fixed LCG). */
static void random_damage(void **state)
{
	(void)state;
	char *text = tu_read_data("heaptrack/print-cxx.txt");
	size_t n = strlen(text);
	char *buf = malloc(n + 1);
	assert_non_null(buf);
	static struct mg_heaptrack h;
	char err[ERRLEN];
	uint64_t x = 12345;
	int ok = 0, failed = 0;
	for (int round = 0; round < 3000; round++) {
		memcpy(buf, text, n + 1);
		int edits = 1 + round % 8;
		for (int e = 0; e < edits; e++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t at = (size_t)(x >> 33) % n;
			static const char bytes[] = "0123456789.KMGTB \n:-x\xff";
			buf[at] = bytes[(x >> 17) % (sizeof bytes - 1)];
		}
		int rc = mg_heaptrack_parse(buf, &h, err, sizeof err);
		assert_true(rc == 0 || rc == -1);
		if (rc == 0) {
			ok++;
			assert_true(h.npeaks <= MG_HEAPTRACK_MAX_SITES && h.nleaks <= MG_HEAPTRACK_MAX_SITES);
			for (int i = 0; i < h.nleaks; i++) {
				assert_true(h.leaks[i].nframes >= 1 && h.leaks[i].nframes <= MG_HEAPTRACK_MAX_FRAMES);
				assert_true(h.leaks[i].size.slack >= 0 && h.leaks[i].calls >= 0);
				assert_non_null(memchr(h.leaks[i].frames[0].function, '\0', MG_HEAPTRACK_FUNCTION_MAX));
			}
		} else {
			failed++;
			assert_null(strchr(err, '\n'));
		}
	}
	assert_true(ok > 0 && failed > 0); /* both outcomes were exercised */
	free(buf);
	free(text);
}

/* The report's shape: peak heap, leaked bytes, the peak consumers and the
 * leaks as "file:line" and function, calls as counts. */
static void report_shape(void **state)
{
	(void)state;
	struct mg_heaptrack *h = load("print-leaky.txt");
	struct mg_pyheap *r = calloc(1, sizeof *r);
	assert_non_null(r);
	mg_heaptrack_to_heap(h, 1, r);
	assert_string_equal(r->tool, "heaptrack");
	assert_int_equal(r->peak_bytes, h->peak_heap.bytes);
	assert_int_equal(r->leaked_bytes, 49240000);
	assert_int_equal(r->current_bytes, MG_PYHEAP_UNKNOWN);
	assert_int_equal(r->ntop, 1);
	assert_int_equal(r->top_omitted, h->npeaks - 1 + h->peaks_omitted);
	assert_string_equal(r->top[0].location, "configs/lab/native_service.c:86");
	assert_string_equal(r->top[0].function, "render_entry");
	assert_int_equal(r->top[0].size_bytes, 32850000);
	assert_int_equal(r->top[0].count, 1000);
	assert_int_equal(r->nleaks, 1);
	assert_string_equal(r->leaks[0].location, "configs/lab/native_service.c:86");
	json_t *j = mg_pyheap_json(r);
	char *text = json_dumps(j, JSON_COMPACT);
	assert_contains(text, "\"leaked_bytes\":49240000,\"leaks\":[{\"location\":\"configs/lab/native_service.c:86\"");
	free(text);
	json_decref(j);
	mg_heaptrack_to_heap(h, 10, r);
	assert_int_equal(r->nleaks, 3); /* the two of the lab, and stdout's buffer (4.10K) */
	assert_string_equal(r->leaks[1].location, "configs/lab/native_service.c:124");
	assert_string_equal(r->leaks[1].function, "format_response");
	free(r);
	free(h);
	/* a stripped binary: no line, the module instead */
	h = load("print-nodebug.txt");
	r = calloc(1, sizeof *r);
	mg_heaptrack_to_heap(h, 10, r);
	assert_contains(r->top[0].location, "native_service_nodebug");
	assert_int_equal(strncmp(r->top[0].function, "0x", 2), 0);
	free(r);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(leaky_lab),
		cmocka_unit_test(report_shape),
		cmocka_unit_test(fixed_lab_leaks_nothing_of_its_own),
		cmocka_unit_test(other_print_options),
		cmocka_unit_test(no_debug_info),
		cmocka_unit_test(cxx_inlined_frames),
		cmocka_unit_test(fork_sigkill_and_script_stop),
		cmocka_unit_test(no_data_is_an_error),
		cmocka_unit_test(every_prefix),
		cmocka_unit_test(garbled_lines_are_errors),
		cmocka_unit_test(line_forms_that_parse),
		cmocka_unit_test(long_and_odd_strings),
		cmocka_unit_test(more_sites_than_kept),
		cmocka_unit_test(random_damage),
	};
	return cmocka_run_group_tests_name("heaptrack", tests, NULL, NULL);
}
