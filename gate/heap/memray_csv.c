/* memray_csv: the sites live at memray's high-water mark, summed over
 * captures (memray_csv.h). */
#include "heap/memray_csv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap/text.h"

struct mg_memray_acc_site {
	char location[MG_PYHEAP_LOCATION_MAX];
	char function[MG_PYHEAP_FUNCTION_MAX];
	char native[MG_PYHEAP_FUNCTION_MAX];
	int64_t native_from;  /* the size of the row native was taken from: the largest wins */
	int64_t size, count;
};

struct parse {
	const char *origin;
	char *err;
	size_t errlen;
	size_t line;
};

__attribute__((format(printf, 2, 3)))
static int fail(const struct parse *P, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (P->err && P->errlen)
		snprintf(P->err, P->errlen, "%s:%zu: %s", P->origin, P->line, msg);
	return -1;
}

/* ---- CSV records (RFC 4180: quoted fields, "" inside quotes) ------------- */

#define MAX_FIELDS 16

struct record {
	char *buf;              /* the fields, unquoted, each NUL-terminated */
	size_t len, cap;
	size_t off[MAX_FIELDS];
	size_t flen[MAX_FIELDS];
	int n;
};

static int put(struct record *r, char c)
{
	if (r->len + 1 >= r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		char *nb = realloc(r->buf, cap);
		if (!nb)
			return -1;
		r->buf = nb;
		r->cap = cap;
	}
	r->buf[r->len++] = c;
	return 0;
}

/* Read the record at *pos (not at the end). 0, or -1 with err. */
static int next_record(struct parse *P, const char *t, size_t len, size_t *pos, struct record *r)
{
	size_t i = *pos;
	r->len = 0;
	r->n = 0;
	for (;;) {
		if (r->n == MAX_FIELDS)
			return fail(P, "more than %d fields: not memray's CSV", MAX_FIELDS);
		r->off[r->n] = r->len;
		if (i < len && t[i] == '"') {
			size_t start_line = P->line;
			for (i++;; i++) {
				if (i >= len) {
					P->line = start_line;
					return fail(P, "a quoted field is not closed");
				}
				if (t[i] == '"') {
					if (i + 1 < len && t[i + 1] == '"') {
						i++;
					} else {
						i++;
						break;
					}
				}
				if (t[i] == '\n')
					P->line++;
				if (put(r, t[i]) < 0)
					return fail(P, "out of memory");
			}
			if (i < len && t[i] != ',' && t[i] != '\n' && t[i] != '\r')
				return fail(P, "text after a closing quote");
		} else {
			for (; i < len && t[i] != ',' && t[i] != '\n' && t[i] != '\r'; i++) {
				if (t[i] == '"')
					return fail(P, "a quote inside an unquoted field");
				if (put(r, t[i]) < 0)
					return fail(P, "out of memory");
			}
		}
		r->flen[r->n] = r->len - r->off[r->n];
		if (put(r, '\0') < 0)
			return fail(P, "out of memory");
		r->n++;
		if (i < len && t[i] == ',') {
			i++;
			continue;
		}
		if (i < len && t[i] == '\r')
			i++;
		if (i < len && t[i] == '\n')
			i++;
		else if (i < len)
			return fail(P, "a carriage return without a line feed");
		*pos = i;
		return 0;
	}
}

static const char *field(const struct record *r, int k)
{
	return r->buf + r->off[k];
}

/* A whole non-negative decimal number. */
static int number(const struct parse *P, const struct record *r, int k, const char *name, int64_t *v)
{
	const char *s = field(r, k);
	if (r->flen[k] == 0 || r->flen[k] > 19)
		return fail(P, "%s: expected a whole number of at most 19 digits, got \"%.40s\"", name, s);
	int64_t x = 0;
	for (size_t i = 0; i < r->flen[k]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return fail(P, "%s: expected a whole number, got \"%.40s\"", name, s);
		if (x > (INT64_MAX - (s[i] - '0')) / 10)
			return fail(P, "%s: %.40s is too large", name, s);
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

/* ---- stacks -------------------------------------------------------------- */

struct frame {
	const char *func, *file, *line; /* pointers into the record, not terminated */
	size_t nfunc, nfile, nline;
};

/* "function;file;line": the function before the first ';', the line after
 * the last; a frame without two ';' is malformed. */
static int split_frame(const char *s, size_t n, struct frame *f)
{
	const char *first = memchr(s, ';', n), *last = NULL;
	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == ';') {
			last = s + i - 1;
			break;
		}
	if (!first || first == last)
		return -1;
	*f = (struct frame){s, first + 1, last + 1, (size_t)(first - s), (size_t)(last - first - 1),
			    (size_t)(s + n - last - 1)};
	for (size_t i = 0; i < f->nline; i++)
		if (f->line[i] < '0' || f->line[i] > '9')
			return -1;
	return f->nline ? 0 : -1;
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

/* A Python frame (in a --native stack, the others are native). */
static bool python_frame(const struct frame *f)
{
	return ends_with(f->file, f->nfile, ".py") || ends_with(f->file, f->nfile, ".pyw") ||
	       starts_with(f->file, f->nfile, "<frozen ") || (f->nfile == 8 && memcmp(f->file, "<string>", 8) == 0) ||
	       (f->nfile == 7 && memcmp(f->file, "<stdin>", 7) == 0);
}

static bool named(const struct frame *f)
{
	return f->nfunc && !(f->nfunc == 9 && memcmp(f->func, "<unknown>", 9) == 0);
}

/* The site of one stack and, with native frames, the innermost named one
 * under it. */
struct site_key {
	char location[MG_PYHEAP_LOCATION_MAX];
	char function[MG_PYHEAP_FUNCTION_MAX];
	char native[MG_PYHEAP_FUNCTION_MAX];
};

static int stack_site(const struct parse *P, const char *st, size_t n, bool native, struct site_key *k)
{
	memset(k, 0, sizeof *k);
	if (n == 0) {
		snprintf(k->location, sizeof k->location, "<stack trace unavailable>");
		return 0;
	}
	struct frame site = {0}, f;
	bool have_first = false, have_native = false;
	for (size_t i = 0; i <= n;) {
		size_t e = i;
		while (e < n && st[e] != '|')
			e++;
		if (split_frame(st + i, e - i, &f) < 0)
			return fail(P, "stack_trace: frame \"%.60s\" is not \"function;file;line\"", st + i);
		if (!have_first) {
			site = f; /* without a Python frame, the innermost is the site */
			have_first = true;
		}
		if (!native || python_frame(&f)) {
			site = f;
			break;
		}
		if (!have_native && named(&f)) {
			mg_heap_copy_text(k->native, sizeof k->native, f.func, f.nfunc, false);
			have_native = true;
		}
		i = e + 1;
	}
	char loc[MG_PYHEAP_LOCATION_MAX * 2];
	size_t nf = site.nfile < MG_PYHEAP_LOCATION_MAX * 2 - 24 ? site.nfile : MG_PYHEAP_LOCATION_MAX * 2 - 24;
	/* the tail of a long path matters: keep it */
	const char *file = site.file + (site.nfile - nf);
	int len = snprintf(loc, sizeof loc, "%.*s:%.*s", (int)nf, file, (int)(site.nline < 20 ? site.nline : 20),
			   site.line);
	mg_heap_copy_text(k->location, sizeof k->location, loc, (size_t)(len > 0 ? len : 0), true);
	mg_heap_copy_text(k->function, sizeof k->function, site.func, site.nfunc, false);
	return 0;
}

/* ---- the accumulator ----------------------------------------------------- */

/* FNV-1a of the location and the function */
static uint32_t hash_key(const char *location, const char *function)
{
	uint32_t h = 2166136261u;
	for (const char *s = location; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	for (const char *s = function; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int grow(struct mg_memray_acc *a)
{
	size_t cap = a->cap ? a->cap * 2 : 256;
	uint32_t *slots = calloc(cap * 2, sizeof *slots);
	struct mg_memray_acc_site *nv = slots ? realloc(a->v, cap * sizeof *nv) : NULL;
	if (!nv) {
		free(slots);
		return -1;
	}
	a->v = nv;
	a->cap = cap;
	free(a->slots);
	a->slots = slots;
	a->nslots = cap * 2;
	for (size_t i = 0; i < a->n; i++) {
		size_t s = hash_key(a->v[i].location, a->v[i].function) & (a->nslots - 1);
		while (a->slots[s])
			s = (s + 1) & (a->nslots - 1);
		a->slots[s] = (uint32_t)i + 1;
	}
	return 0;
}

static int add_site(struct mg_memray_acc *a, const struct site_key *k, int64_t size, int64_t count)
{
	if (a->n == a->cap && (a->cap >= UINT32_MAX / 4 || grow(a) < 0))
		return -1;
	size_t s = hash_key(k->location, k->function) & (a->nslots - 1);
	struct mg_memray_acc_site *e = NULL;
	for (; a->slots[s]; s = (s + 1) & (a->nslots - 1)) {
		struct mg_memray_acc_site *c = &a->v[a->slots[s] - 1];
		if (strcmp(c->location, k->location) == 0 && strcmp(c->function, k->function) == 0) {
			e = c;
			break;
		}
	}
	if (!e) {
		e = &a->v[a->n];
		memset(e, 0, sizeof *e);
		memcpy(e->location, k->location, sizeof e->location);
		memcpy(e->function, k->function, sizeof e->function);
		a->slots[s] = (uint32_t)++a->n;
	}
	e->size = e->size > INT64_MAX - size ? INT64_MAX : e->size + size;
	e->count = e->count > INT64_MAX - count ? INT64_MAX : e->count + count;
	if (k->native[0] && size >= e->native_from) {
		memcpy(e->native, k->native, sizeof e->native);
		e->native_from = size;
	}
	return 0;
}

int mg_memray_csv_add(struct mg_memray_acc *a, const char *text, size_t len, const char *origin, bool native,
		      int64_t *peak, char *err, size_t errlen)
{
	struct parse P = {origin, err, errlen, 1};
	struct record r = {0};
	int rc = -1, c_count = -1, c_size = -1, c_stack = -1;
	size_t pos = 0;
	*peak = 0;
	if (memchr(text, '\0', len)) {
		fail(&P, "contains a NUL byte: not memray's CSV");
		goto out;
	}
	if (len == 0 || next_record(&P, text, len, &pos, &r) < 0) {
		if (len == 0)
			fail(&P, "empty: expected memray's header \"allocator,num_allocations,size,tid,thread_name,"
				 "stack_trace\"");
		goto out;
	}
	for (int k = 0; k < r.n; k++) {
		int *col = strcmp(field(&r, k), "num_allocations") == 0 ? &c_count
			 : strcmp(field(&r, k), "size") == 0	       ? &c_size
			 : strcmp(field(&r, k), "stack_trace") == 0    ? &c_stack
								       : NULL;
		if (col && *col >= 0) {
			fail(&P, "column \"%s\" twice in the header", field(&r, k));
			goto out;
		}
		if (col)
			*col = k;
	}
	if (c_count < 0 || c_size < 0 || c_stack < 0) {
		fail(&P, "the header has no \"%s\" column (is this `memray transform csv` output?)",
		     c_count < 0 ? "num_allocations" : c_size < 0 ? "size" : "stack_trace");
		goto out;
	}
	int ncols = r.n;
	while (pos < len) {
		P.line++;
		size_t line = P.line;
		if (next_record(&P, text, len, &pos, &r) < 0)
			goto out;
		if (r.n == 1 && r.flen[0] == 0)
			continue; /* a blank line */
		if (r.n != ncols) {
			P.line = line;
			fail(&P, "%d fields, the header has %d", r.n, ncols);
			goto out;
		}
		int64_t size, count;
		struct site_key k;
		if (number(&P, &r, c_size, "size", &size) < 0 || number(&P, &r, c_count, "num_allocations", &count) < 0 ||
		    stack_site(&P, field(&r, c_stack), r.flen[c_stack], native, &k) < 0)
			goto out;
		if (*peak > INT64_MAX - size) {
			fail(&P, "the sizes add up to more than 2^63 bytes");
			goto out;
		}
		*peak += size;
		if (add_site(a, &k, size, count) < 0) {
			fail(&P, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(r.buf);
	return rc;
}

/* largest first; ties by location, then function: the same order every run */
static int by_size(const void *x, const void *y)
{
	const struct mg_memray_acc_site *a = *(const struct mg_memray_acc_site *const *)x;
	const struct mg_memray_acc_site *b = *(const struct mg_memray_acc_site *const *)y;
	if (a->size != b->size)
		return a->size < b->size ? 1 : -1;
	int c = strcmp(a->location, b->location);
	return c ? c : strcmp(a->function, b->function);
}

void mg_memray_acc_top(const struct mg_memray_acc *a, int top, struct mg_pyheap *out)
{
	out->ntop = 0;
	out->top_omitted = 0;
	if (top > MG_PYHEAP_MAX_TOP)
		top = MG_PYHEAP_MAX_TOP;
	if (top < 0)
		top = 0;
	const struct mg_memray_acc_site **order = a->n ? malloc(a->n * sizeof *order) : NULL;
	size_t keep = 0;
	if (order) {
		for (size_t i = 0; i < a->n; i++)
			order[i] = &a->v[i];
		qsort(order, a->n, sizeof *order, by_size);
		keep = a->n < (size_t)top ? a->n : (size_t)top;
	}
	for (size_t i = 0; i < keep; i++) {
		struct mg_pyheap_site *s = &out->top[out->ntop++];
		memset(s, 0, sizeof *s);
		memcpy(s->location, order[i]->location, sizeof s->location);
		memcpy(s->function, order[i]->function, sizeof s->function);
		memcpy(s->native, order[i]->native, sizeof s->native);
		s->size_bytes = order[i]->size;
		s->count = order[i]->count;
		s->has_count = true;
	}
	out->top_omitted = (int)(a->n - keep > INT32_MAX ? INT32_MAX : a->n - keep);
	free(order);
}

void mg_memray_acc_free(struct mg_memray_acc *a)
{
	free(a->v);
	free(a->slots);
	memset(a, 0, sizeof *a);
}
