/* heaptrack: heaptrack_print's text as data. See heaptrack.h; the format is
 * described, with real samples, in tests/data/heaptrack/NOTES.md.
 *
 * One pass over the lines, a small state machine per section entry:
 *   LABEL    expects "32.85M leaked over 1000 calls from" (a new entry)
 *   SITE     expects the site's function: column 0 (merged) or 2 (-m 0)
 *   DETAIL   merged: "  at F:L", "  in M", inlined functions at column 0,
 *            until a sub-label "... calls from:" starts a backtrace
 *   SUB      merged backtraces: frames at column 4, "at"/"in" at column 6,
 *            "  and B from K other places"; only the first one is kept
 *   UNMERGED the whole backtrace at column 2, "at"/"in" at column 4
 * A blank line ends an entry. Every line costs time linear in its length. */
#include "heap/heaptrack.h"
#include "heap/pyheap.h"
#include "heap/text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum section { SEC_NONE, SEC_OTHER, SEC_PEAKS, SEC_LEAKS, SEC_SUMMARY };
enum state { ST_LABEL, ST_SITE, ST_DETAIL, ST_SUB, ST_UNMERGED };

struct cur {
	const char *p, *e;
};

struct parser {
	struct mg_heaptrack *out;
	char *err;
	size_t errlen;
	size_t lineno;
	const char *line; /* the current line, without its end of line */
	size_t len;
	enum section sec;
	enum state st;
	struct mg_heaptrack_site *site; /* the entry being read; NULL when beyond capacity */
	struct mg_heaptrack_frame *frame; /* where the next "at" goes; NULL: nowhere */
	int subs;                         /* backtraces seen in the entry */
	bool seen_command, seen_calls, seen_temporary, seen_runtime, seen_peak, seen_rss, seen_leaked,
		seen_suppressed, seen_allocators, seen_temporary_section;
};

/* ---- text helpers -------------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *P, const char *fmt, ...)
{
	if (!P->err || !P->errlen)
		return -1;
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!P->lineno) {
		snprintf(P->err, P->errlen, "heaptrack_print output: %s", msg);
		return -1;
	}
	char quote[72];
	size_t q = 0;
	for (size_t i = 0; i < P->len && q < 60; i++) {
		unsigned char c = (unsigned char)P->line[i];
		quote[q++] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
	}
	if (P->len > 60)
		memcpy(quote + q, "...", 3), q += 3;
	quote[q] = '\0';
	snprintf(P->err, P->errlen, "heaptrack_print output, line %zu (\"%s\"): %s", P->lineno, quote, msg);
	return -1;
}

static bool lit(struct cur *c, const char *s)
{
	size_t n = strlen(s);
	if ((size_t)(c->e - c->p) < n || memcmp(c->p, s, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool is_digit(const struct cur *c)
{
	return c->p < c->e && *c->p >= '0' && *c->p <= '9';
}

/* digits into *v: 1, 0 when there are none, -1 when above INT64_MAX */
static int num(struct cur *c, int64_t *v, int *ndigits)
{
	int64_t x = 0;
	int nd = 0;
	while (is_digit(c)) {
		int d = *c->p - '0';
		if (x > (INT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
		nd++;
		c->p++;
	}
	*v = x;
	if (ndigits)
		*ndigits = nd;
	return nd ? 1 : 0;
}

/* an optional '.' and 1..9 digits: the fraction and its number of digits */
static int fraction(struct cur *c, int64_t *frac, int *nf)
{
	*frac = 0;
	*nf = 0;
	if (c->p >= c->e || *c->p != '.')
		return 1;
	c->p++;
	while (is_digit(c)) {
		if (*nf == 9)
			return 0; /* heaptrack prints 2 or 6 */
		*frac = *frac * 10 + (*c->p - '0');
		(*nf)++;
		c->p++;
	}
	return *nf ? 1 : 0;
}

static int64_t pow10i(int n)
{
	int64_t p = 1;
	while (n-- > 0)
		p *= 10;
	return p;
}

/* A size as heaptrack_print writes it: "-"? digits ("." digits)? unit, the
 * unit B, K, M, G or T (1000-based), K..T maybe followed by B. 1, 0 when it
 * is not one, -1 when out of range. */
static int size(struct cur *c, struct mg_heaptrack_bytes *b)
{
	struct cur t = *c;
	bool neg = false;
	if (t.p < t.e && *t.p == '-') {
		neg = true;
		t.p++;
	}
	int64_t whole, frac;
	int nf, r = num(&t, &whole, NULL);
	if (r <= 0)
		return r;
	if ((r = fraction(&t, &frac, &nf)) <= 0)
		return r;
	if (t.p >= t.e)
		return 0;
	int64_t unit;
	switch (*t.p) {
	case 'B': unit = 1; break;
	case 'K': unit = INT64_C(1000); break;
	case 'M': unit = INT64_C(1000000); break;
	case 'G': unit = INT64_C(1000000000); break;
	case 'T': unit = INT64_C(1000000000000); break;
	default: return 0;
	}
	t.p++;
	if (unit > 1 && t.p < t.e && *t.p == 'B')
		t.p++;
	int64_t p10 = pow10i(nf), step, fb;
	if (whole > INT64_MAX / unit)
		return -1;
	if (unit >= p10) { /* both powers of ten: exact */
		step = unit / p10;
		fb = frac * step; /* < unit */
	} else {                /* more decimals than the unit has bytes */
		step = 1;
		fb = (frac * unit + p10 / 2) / p10; /* frac * unit < 1e9 * 1e6 */
	}
	if (whole * unit > INT64_MAX - fb)
		return -1;
	b->bytes = whole * unit + fb;
	if (neg)
		b->bytes = -b->bytes;
	b->slack = step / 2;
	*c = t;
	return 1;
}

/* "0.53" seconds into milliseconds, rounded */
static int seconds_ms(struct cur *c, int64_t *ms)
{
	int64_t whole, frac;
	int nf, r = num(c, &whole, NULL);
	if (r <= 0)
		return r;
	if ((r = fraction(c, &frac, &nf)) <= 0)
		return r;
	if (whole > INT64_MAX / 1000)
		return -1;
	int64_t f = nf <= 3 ? frac * pow10i(3 - nf) : (frac + pow10i(nf - 3) / 2) / pow10i(nf - 3);
	if (whole * 1000 > INT64_MAX - f)
		return -1;
	*ms = whole * 1000 + f;
	return 1;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(s, prefix, k) == 0;
}

static bool equals(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

#define RANGE_MSG "a number out of range (at most 9223372036854775807 bytes or calls)"

/* ---- the summary --------------------------------------------------------- */

static int summary_count(struct parser *P, struct cur *c, int64_t *v, const char *shape)
{
	int r = num(c, v, NULL);
	if (r < 0)
		return fail(P, RANGE_MSG);
	if (r == 0)
		return fail(P, "expected \"%s\"; is this heaptrack_print 1.4's output?", shape);
	if (c->p == c->e)
		return 0;
	int64_t rate;
	if (!lit(c, " (") || (r = num(c, &rate, NULL)) == 0 || !lit(c, "/s)") || c->p != c->e)
		return fail(P, "expected \"%s\"; is this heaptrack_print 1.4's output?", shape);
	if (r < 0)
		return fail(P, RANGE_MSG);
	return 0;
}

static int summary_size(struct parser *P, struct cur *c, struct mg_heaptrack_bytes *b, const char *shape)
{
	int r = size(c, b);
	if (r < 0)
		return fail(P, RANGE_MSG);
	if (r == 0 || c->p != c->e)
		return fail(P, "expected \"%s\" with a size like 72B, 4.10K or 32.85M; is this heaptrack_print "
			    "1.4's output?", shape);
	return 0;
}

static int twice(struct parser *P, bool *seen, const char *what)
{
	if (*seen)
		return fail(P, "a second \"%s\" line: expected the output of one heaptrack_print run; run it once "
			    "per data file", what);
	*seen = true;
	return 0;
}

/* 1 when the line is a summary line (then parsed: 0 or -1 in *rc), else 0 */
static int summary_line(struct parser *P, int *rc)
{
	struct cur c = {P->line, P->line + P->len};
	struct mg_heaptrack *o = P->out;
	*rc = 0;
	if (lit(&c, "total runtime: ")) {
		int r;
		if ((*rc = twice(P, &P->seen_runtime, "total runtime:")) == 0) {
			r = seconds_ms(&c, &o->runtime_ms);
			if (r < 0)
				*rc = fail(P, RANGE_MSG);
			else if (r == 0 || !lit(&c, "s") || (c.p != c.e && !(lit(&c, ".") && c.p == c.e)))
				*rc = fail(P, "expected \"total runtime: 0.53s.\"; is this heaptrack_print 1.4's output?");
		}
	} else if (lit(&c, "calls to allocation functions: ")) {
		if ((*rc = twice(P, &P->seen_calls, "calls to allocation functions:")) == 0)
			*rc = summary_count(P, &c, &o->allocations, "calls to allocation functions: N (R/s)");
	} else if (lit(&c, "temporary memory allocations: ")) {
		if ((*rc = twice(P, &P->seen_temporary, "temporary memory allocations:")) == 0)
			*rc = summary_count(P, &c, &o->temporary, "temporary memory allocations: N (R/s)");
	} else if (lit(&c, "peak heap memory consumption: ")) {
		if ((*rc = twice(P, &P->seen_peak, "peak heap memory consumption:")) == 0)
			*rc = summary_size(P, &c, &o->peak_heap, "peak heap memory consumption: SIZE");
	} else if (lit(&c, "peak RSS (including heaptrack overhead): ")) {
		if ((*rc = twice(P, &P->seen_rss, "peak RSS (including heaptrack overhead):")) == 0)
			*rc = summary_size(P, &c, &o->peak_rss, "peak RSS (including heaptrack overhead): SIZE");
	} else if (lit(&c, "total memory leaked: ")) {
		if ((*rc = twice(P, &P->seen_leaked, "total memory leaked:")) == 0)
			*rc = summary_size(P, &c, &o->leaked, "total memory leaked: SIZE");
	} else if (lit(&c, "suppressed leaks: ")) {
		if ((*rc = twice(P, &P->seen_suppressed, "suppressed leaks:")) == 0)
			*rc = summary_size(P, &c, &o->suppressed, "suppressed leaks: SIZE");
	} else {
		return 0;
	}
	P->sec = SEC_SUMMARY;
	return 1;
}

/* ---- entries ------------------------------------------------------------- */

/* An entry's first line (sub == false) or a backtrace's ("... from:").
 * 1 parsed, 0 not that shape, -1 error (with err set). */
static int label(struct parser *P, const char *s, size_t n, bool sub, struct mg_heaptrack_bytes *b,
		 int64_t *calls)
{
	const char *tail = sub ? " calls from:" : " calls from";
	if (!ends_with(s, n, tail))
		return 0;
	const char *mid = P->sec == SEC_LEAKS ? " leaked over " : sub ? " consumed over " : " peak memory consumed over ";
	const char *shape = P->sec == SEC_LEAKS ? (sub ? "SIZE leaked over N calls from:" : "SIZE leaked over N calls from")
				  : (sub ? "SIZE consumed over N calls from:" : "SIZE peak memory consumed over N calls from");
	struct cur c = {s, s + n};
	int r = size(&c, b), r2 = 0;
	if (r > 0 && lit(&c, mid))
		r2 = num(&c, calls, NULL);
	if (r < 0 || r2 < 0)
		return fail(P, RANGE_MSG);
	if (r == 0 || r2 == 0 || !lit(&c, tail) || c.p != c.e)
		return fail(P, "expected \"%s\" (a size like 72B, 4.10K or 32.85M); is this heaptrack_print 1.4's "
			    "output?", shape);
	return 1;
}

static struct mg_heaptrack_frame *add_frame(struct parser *P, const char *s, size_t n)
{
	struct mg_heaptrack_site *site = P->site;
	if (!site || site->nframes >= MG_HEAPTRACK_MAX_FRAMES)
		return NULL;
	struct mg_heaptrack_frame *f = &site->frames[site->nframes++];
	mg_heap_copy_text(f->function, sizeof f->function, s, n, false);
	f->location[0] = '\0';
	return f;
}

/* "at FILE:LINE" / "in MODULE" under the frame just read (rest: without indent) */
static void frame_detail(struct parser *P, const char *rest, size_t n)
{
	if (!P->frame)
		return;
	if (starts_with(rest, n, "at ")) {
		if (!P->frame->location[0])
			mg_heap_copy_text(P->frame->location, sizeof P->frame->location, rest + 3, n - 3, true);
	} else if (starts_with(rest, n, "in ") && P->site && P->frame == &P->site->frames[0]) {
		if (equals(rest, n, "in ??"))
			P->site->module[0] = '\0';
		else
			mg_heap_copy_text(P->site->module, sizeof P->site->module, rest + 3, n - 3, true);
	}
}

static void start_entry(struct parser *P, const struct mg_heaptrack_bytes *b, int64_t calls)
{
	struct mg_heaptrack *o = P->out;
	bool leaks = P->sec == SEC_LEAKS;
	int *n = leaks ? &o->nleaks : &o->npeaks;
	P->site = NULL;
	if (*n < MG_HEAPTRACK_MAX_SITES) {
		P->site = leaks ? &o->leaks[*n] : &o->peaks[*n];
		(*n)++;
		memset(P->site, 0, sizeof *P->site);
		P->site->size = *b;
		P->site->calls = calls;
	} else if (leaks) {
		o->leaks_omitted++;
	} else {
		o->peaks_omitted++;
	}
	P->frame = NULL;
	P->subs = 0;
	P->st = ST_SITE;
}

/* A column-0 line that may begin the next entry (after a site without a
 * backtrace, heaptrack_print writes no blank line). 1 it did, 0 it is not a
 * label, -1 error. */
static int next_entry(struct parser *P)
{
	struct mg_heaptrack_bytes b = {0, 0};
	int64_t calls = 0;
	int r = label(P, P->line, P->len, false, &b, &calls);
	if (r > 0)
		start_entry(P, &b, calls);
	return r;
}

static int entry_line(struct parser *P)
{
	size_t ind = 0;
	while (ind < P->len && P->line[ind] == ' ')
		ind++;
	const char *rest = P->line + ind;
	size_t n = P->len - ind;
	struct mg_heaptrack_bytes b = {0, 0};
	int64_t calls = 0;
	int r;

	switch (P->st) {
	case ST_LABEL:
		if (ind == 0 && (r = next_entry(P)) != 0)
			return r < 0 ? -1 : 0;
		return fail(P, "expected an entry like \"%s\"; is this heaptrack_print 1.4's output?",
			    P->sec == SEC_LEAKS ? "49.24M leaked over 2000 calls from"
						: "49.24M peak memory consumed over 2000 calls from");
	case ST_SITE:
		if (ind == 0 || ind == 2) {
			P->frame = add_frame(P, rest, n);
			P->st = ind == 0 ? ST_DETAIL : ST_UNMERGED;
			return 0;
		}
		return fail(P, "expected the allocation site (a function name, or an address) after the entry's "
			    "first line; is this heaptrack_print 1.4's output?");
	case ST_DETAIL:
		if (ind == 0) {
			if ((r = label(P, rest, n, true, &b, &calls)) != 0) {
				if (r < 0)
					return -1;
				P->subs++;
				P->frame = NULL;
				P->st = ST_SUB;
				return 0;
			}
			if ((r = next_entry(P)) != 0)
				return r < 0 ? -1 : 0;
			P->frame = add_frame(P, rest, n); /* a function the site was inlined into */
		} else if (ind == 2) {
			frame_detail(P, rest, n);
		}
		return 0;
	case ST_SUB:
		if (ind == 0) {
			if ((r = label(P, rest, n, true, &b, &calls)) != 0) {
				if (r < 0)
					return -1;
				P->subs++;
				P->frame = NULL;
				return 0;
			}
			if ((r = next_entry(P)) != 0)
				return r < 0 ? -1 : 0;
			return fail(P, "expected a backtrace's first line, like \"%s\", or a frame indented by 4",
				    P->sec == SEC_LEAKS ? "32.85M leaked over 1000 calls from:"
							: "32.85M consumed over 1000 calls from:");
		}
		if (ind == 2 && starts_with(rest, n, "and ")) {
			struct cur c = {rest + 4, rest + n};
			int64_t places;
			int r1 = size(&c, &b), r2 = 0;
			if (r1 > 0 && lit(&c, " from "))
				r2 = num(&c, &places, NULL);
			if (r1 < 0 || r2 < 0)
				return fail(P, RANGE_MSG);
			if (r1 == 0 || r2 == 0 || !lit(&c, " other places") || c.p != c.e)
				return fail(P, "expected \"  and SIZE from N other places\"; is this heaptrack_print "
					    "1.4's output?");
			P->frame = NULL;
			return 0;
		}
		if (ind == 4 && P->subs == 1)
			P->frame = add_frame(P, rest, n); /* a caller, on the largest backtrace */
		else if (ind == 6 && P->subs == 1)
			frame_detail(P, rest, n);
		return 0;
	case ST_UNMERGED:
		if (ind == 0) {
			if ((r = next_entry(P)) != 0)
				return r < 0 ? -1 : 0;
			return fail(P, "expected a frame indented by 2, or a blank line (this entry was printed "
				    "unmerged, -m 0)");
		}
		if (ind == 2)
			P->frame = add_frame(P, rest, n);
		else if (ind == 4)
			frame_detail(P, rest, n);
		return 0;
	}
	return 0;
}

/* ---- lines --------------------------------------------------------------- */

static int section(struct parser *P, enum section sec, bool *seen, const char *name)
{
	if (P->sec == SEC_SUMMARY)
		return fail(P, "a section after the summary: expected the output of one heaptrack_print run");
	if (*seen)
		return fail(P, "a second \"%s\" section: expected the output of one heaptrack_print run; run it "
			    "once per data file", name);
	*seen = true;
	P->sec = sec;
	P->st = ST_LABEL;
	P->site = NULL;
	P->frame = NULL;
	return 0;
}

static bool in_entries(const struct parser *P)
{
	return P->sec == SEC_PEAKS || P->sec == SEC_LEAKS;
}

static const char *const summary_prefixes[] = {
	"total runtime: ", "calls to allocation functions: ", "temporary memory allocations: ",
	"peak heap memory consumption: ", "peak RSS (including heaptrack overhead): ", "total memory leaked: ",
	"suppressed leaks: ",
};

static bool is_summary(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof summary_prefixes / sizeof *summary_prefixes; i++)
		if (starts_with(s, n, summary_prefixes[i]))
			return true;
	return false;
}

static int no_site(struct parser *P, const char *got)
{
	return fail(P, "expected the allocation site (a function name, or an address) after the entry's first "
		    "line, got %s; is this heaptrack_print 1.4's output?", got);
}

static int one_line(struct parser *P)
{
	const char *s = P->line;
	size_t n = P->len;
	int rc;
	bool awaiting_site = in_entries(P) && P->st == ST_SITE;
	if (n == 0) {
		if (awaiting_site)
			return no_site(P, "a blank line");
		P->st = ST_LABEL;
		P->site = NULL;
		P->frame = NULL;
		return 0;
	}
	if (starts_with(s, n, "Debuggee command was: ")) {
		if (awaiting_site)
			return no_site(P, "the header");
		if (twice(P, &P->seen_command, "Debuggee command was:") < 0)
			return -1;
		mg_heap_copy_text(P->out->command, sizeof P->out->command, s + 22, n - 22, false);
		return 0;
	}
	static const struct {
		const char *name;
		enum section sec;
	} headers[] = {
		{"PEAK MEMORY CONSUMERS", SEC_PEAKS},
		{"MEMORY LEAKS", SEC_LEAKS},
		{"MOST CALLS TO ALLOCATION FUNCTIONS", SEC_OTHER},
		{"MOST TEMPORARY ALLOCATIONS", SEC_OTHER},
	};
	bool *seen[] = {&P->out->has_peaks, &P->out->has_leaks, &P->seen_allocators, &P->seen_temporary_section};
	for (size_t i = 0; i < sizeof headers / sizeof *headers; i++)
		if (equals(s, n, headers[i].name)) {
			if (awaiting_site)
				return no_site(P, "a section header");
			return section(P, headers[i].sec, seen[i], headers[i].name);
		}
	if (is_summary(s, n)) {
		if (awaiting_site)
			return no_site(P, "a summary line");
		summary_line(P, &rc);
		return rc;
	}
	if (in_entries(P))
		return entry_line(P);
	return 0; /* the banner, other sections, the suppressions table */
}

static void init(struct mg_heaptrack *out)
{
	memset(out, 0, sizeof *out);
	out->temporary = MG_HEAPTRACK_UNKNOWN;
	out->runtime_ms = MG_HEAPTRACK_UNKNOWN;
	out->peak_rss.bytes = MG_HEAPTRACK_UNKNOWN;
}

int mg_heaptrack_parse(const char *text, struct mg_heaptrack *out, char *err, size_t len)
{
	struct parser P;
	memset(&P, 0, sizeof P);
	P.out = out;
	P.err = err;
	P.errlen = len;
	if (err && len)
		err[0] = '\0';
	init(out);
	if (!text) {
		fail(&P, "no text (expected the standard output of heaptrack_print)");
		return -1;
	}
	int rc = 0;
	for (const char *p = text; *p && rc == 0;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		P.lineno++;
		P.line = p;
		P.len = n && p[n - 1] == '\r' ? n - 1 : n;
		rc = one_line(&P);
		p += n + (nl ? 1 : 0);
	}
	if (rc == 0) {
		P.lineno = 0;
		if (!P.seen_command)
			rc = fail(&P, "no \"Debuggee command was:\" line: heaptrack_print read no data from its file (it "
				  "exits 0 on an empty, cut or foreign data file); check that heaptrack wrote it: the "
				  "program must end by itself or by a signal to the program, not to the heaptrack script");
		else if (!P.seen_calls || !P.seen_peak || !P.seen_leaked)
			rc = fail(&P, "no \"%s\" line: the text ends before heaptrack_print's summary; pass its whole "
				  "standard output (heaptrack_print -f FILE --print-leaks 1 --print-peaks 1 ...)",
				  !P.seen_calls ? "calls to allocation functions:"
				  : !P.seen_peak ? "peak heap memory consumption:" : "total memory leaked:");
	}
	if (rc != 0) {
		init(out);
		return -1;
	}
	return 0;
}

/* ---- use ----------------------------------------------------------------- */

static bool system_location(const char *loc)
{
	return !loc[0] || strncmp(loc, "/usr/", 5) == 0 || strncmp(loc, "./", 2) == 0 || strncmp(loc, "../", 3) == 0 ||
	       strncmp(loc, "/build/", 7) == 0;
}

const struct mg_heaptrack_frame *mg_heaptrack_own_frame(const struct mg_heaptrack_site *s)
{
	if (!s)
		return NULL;
	int n = s->nframes < MG_HEAPTRACK_MAX_FRAMES ? s->nframes : MG_HEAPTRACK_MAX_FRAMES;
	for (int i = 0; i < n; i++)
		if (!system_location(s->frames[i].location))
			return &s->frames[i];
	return NULL;
}

/* ---- the report's shape --------------------------------------------------- */

static void to_sites(const struct mg_heaptrack_site *in, int n, int omitted, int top, struct mg_pyheap_site *out,
		     int *nout, int *nomitted)
{
	int keep = n < top ? n : top;
	*nout = keep;
	*nomitted = omitted + (n - keep);
	for (int i = 0; i < keep; i++) {
		const struct mg_heaptrack_site *s = &in[i];
		const struct mg_heaptrack_frame *fr = mg_heaptrack_own_frame(s);
		if (!fr)
			fr = &s->frames[0];
		struct mg_pyheap_site *o = &out[i];
		memset(o, 0, sizeof *o);
		const char *loc = fr->location[0] ? fr->location : s->module[0] ? s->module : "??";
		mg_heap_copy_text(o->location, sizeof o->location, loc, strlen(loc), true);
		mg_heap_copy_text(o->function, sizeof o->function, fr->function, strlen(fr->function), false);
		o->size_bytes = s->size.bytes > 0 ? s->size.bytes : 0;
		o->count = s->calls;
		o->has_count = true;
	}
}

void mg_heaptrack_to_heap(const struct mg_heaptrack *h, int top, struct mg_pyheap *out)
{
	mg_pyheap_init(out, "heaptrack");
	if (top > MG_PYHEAP_MAX_TOP)
		top = MG_PYHEAP_MAX_TOP;
	if (top < 0)
		top = 0;
	out->peak_bytes = h->peak_heap.bytes > 0 ? h->peak_heap.bytes : 0;
	out->leaked_bytes = h->leaked.bytes > 0 ? h->leaked.bytes : 0;
	to_sites(h->peaks, h->npeaks, h->peaks_omitted, top, out->top, &out->ntop, &out->top_omitted);
	to_sites(h->leaks, h->nleaks, h->leaks_omitted, top, out->leaks, &out->nleaks, &out->leaks_omitted);
}
