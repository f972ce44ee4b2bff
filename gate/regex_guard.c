/* regex_guard: one linear pass over a POSIX ERE that keeps, per open
 * group, the estimated size of its finished alternatives and of the
 * current one, and the size of the last item so a quantifier can multiply
 * it. See regex_guard.h for what is refused and why. */
#include "regex_guard.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum last { L_NONE, L_ANCHOR, L_ITEM, L_QUANTIFIED };

struct frame {
	uint64_t done;   /* finished alternatives */
	uint64_t branch; /* the current alternative */
	size_t open;     /* offset of its '(' */
};

struct guard {
	const char *p;
	char *err;
	size_t len;
	struct frame stack[MG_REGEX_MAX_DEPTH + 1]; /* [0]: the whole pattern */
	int depth;
	uint64_t last;   /* size of the last item, for a quantifier */
	enum last kind;
};

/* "...r++" around offset at (ASCII only, so the message stays one valid line) */
static void excerpt(const char *p, size_t at, char *buf, size_t len)
{
	size_t from = at > 10 ? at - 10 : 0, n = 0;
	for (size_t i = from; i <= at && p[i] && n + 1 < len; i++) {
		unsigned char c = (unsigned char)p[i];
		buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[n] = '\0';
}

static int refuse(struct guard *g, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(struct guard *g, size_t at, const char *fmt, ...)
{
	char what[320], near[16];
	va_list ap;

	if (!g->err || !g->len)
		return -1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (at == (size_t)-1) {
		snprintf(g->err, g->len, "%s", what);
		return -1;
	}
	excerpt(g->p, at, near, sizeof near);
	snprintf(g->err, g->len, "byte %zu (\"%s\"): %s", at + 1, near, what);
	return -1;
}

/* The estimate so far: everything open, as if closed now. Each group adds
 * at least its own size to its parent, so this only grows. */
static int check_size(struct guard *g, size_t at)
{
	uint64_t sum = 0;
	for (int d = 0; d <= g->depth; d++)
		sum += g->stack[d].done + g->stack[d].branch;
	if (sum <= MG_REGEX_MAX_EXPANSION)
		return 0;
	return refuse(g, at, "counted repetitions would unroll this pattern to more than %d copies of its "
			     "atoms (glibc copies a group once per repetition: (a{100}){100} is 10000); "
			     "use smaller counts, or * / + instead of large {m,n}", MG_REGEX_MAX_EXPANSION);
}

static int item(struct guard *g, size_t at, uint64_t size)
{
	g->stack[g->depth].branch += size;
	g->last = size;
	g->kind = L_ITEM;
	return check_size(g, at);
}

static int quantify(struct guard *g, size_t at, uint64_t factor)
{
	char q = g->p[at];

	if (g->kind == L_NONE || g->kind == L_ANCHOR)
		return refuse(g, at, "'%c' has nothing to repeat; escape it (\\%c) to match it literally", q, q);
	if (g->kind == L_QUANTIFIED)
		return refuse(g, at, "'%c' directly follows another quantifier, which multiplies the work "
				     "of the regex engine; use a single quantifier (x+ already means one or more)",
			      q);
	/* g->last <= MG_REGEX_MAX_EXPANSION and factor <= MG_REGEX_MAX_REPEAT + 1: no overflow */
	g->stack[g->depth].branch += g->last * (factor - 1);
	g->last *= factor;
	g->kind = L_QUANTIFIED;
	return check_size(g, at);
}

/* Digits at *i (none: *has false); the value saturates just above the cap. */
static uint64_t number(const char *p, size_t *i, bool *has)
{
	uint64_t v = 0;
	*has = false;
	while (p[*i] >= '0' && p[*i] <= '9') {
		*has = true;
		if (v <= MG_REGEX_MAX_REPEAT)
			v = v * 10 + (uint64_t)(p[*i] - '0');
		(*i)++;
	}
	return v;
}

/* "{m}", "{m,}", "{m,n}" or "{,n}" at *i; *i ends on the '}'. */
static int interval(struct guard *g, size_t *i)
{
	size_t at = *i, j = at + 1;
	bool has_m, has_n = false, comma = false;
	uint64_t m = number(g->p, &j, &has_m), n = 0;

	if (g->p[j] == ',') {
		comma = true;
		j++;
		n = number(g->p, &j, &has_n);
	}
	if (g->p[j] != '}' || (!has_m && !has_n))
		return refuse(g, at, "'{' does not start a repetition {m}, {m,} or {m,n}; escape it (\\{) "
				     "to match a literal brace");
	if (m > MG_REGEX_MAX_REPEAT || n > MG_REGEX_MAX_REPEAT)
		return refuse(g, at, "a repetition bound above %d; use a smaller count, or * / + for "
				     "any number", MG_REGEX_MAX_REPEAT);
	if (has_n && m > n)
		return refuse(g, at, "repetition {%llu,%llu} has its minimum above its maximum",
			      (unsigned long long)m, (unsigned long long)n);
	*i = j;
	/* glibc: m copies, then n - m optional ones, or one starred copy for {m,} */
	uint64_t factor = has_n ? n : comma ? m + 1 : m;
	return quantify(g, at, factor ? factor : 1);
}

/* A bracket expression from the '[' at *i; *i ends on its ']'. */
static int bracket(struct guard *g, size_t *i)
{
	const char *p = g->p;
	size_t at = *i, j = at + 1;

	if (p[j] == '^')
		j++;
	if (p[j] == ']')
		j++; /* a leading ']' is a member */
	for (;;) {
		if (!p[j])
			return refuse(g, at, "'[' starts a bracket expression that is never closed with ']'; "
					     "escape it (\\[) to match a literal bracket");
		if (p[j] == ']')
			break;
		if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
			char kind = p[j + 1];
			size_t k = j + 2;
			while (p[k] && !(p[k] == kind && p[k + 1] == ']'))
				k++;
			if (!p[k])
				return refuse(g, j, "\"[%c\" in a bracket expression is never closed with \"%c]\"",
					      kind, kind);
			j = k + 2;
			continue;
		}
		j++;
	}
	*i = j;
	return item(g, at, 1);
}

static int escape(struct guard *g, size_t *i)
{
	size_t at = *i;
	char c = g->p[at + 1];

	if (!c)
		return refuse(g, at, "the pattern ends in a lone backslash; write \\\\ to match one");
	if (c >= '1' && c <= '9')
		return refuse(g, at, "back-reference \\%c: back-references make matching exponential and "
				     "are not allowed; match the text itself instead", c);
	*i = at + 1;
	return item(g, at, 1);
}

static int open_group(struct guard *g, size_t at)
{
	if (g->depth == MG_REGEX_MAX_DEPTH)
		return refuse(g, at, "groups nest deeper than %d levels; flatten the pattern",
			      MG_REGEX_MAX_DEPTH);
	g->depth++;
	g->stack[g->depth] = (struct frame){ 0, 0, at };
	g->kind = L_NONE;
	return 0;
}

static int close_group(struct guard *g, size_t at)
{
	if (g->depth == 0)
		return refuse(g, at, "')' closes no group; escape it (\\)) to match a literal parenthesis");
	uint64_t size = g->stack[g->depth].done + g->stack[g->depth].branch;
	g->depth--;
	return item(g, at, size ? size : 1);
}

int mg_regex_check(const char *pattern, char *err, size_t len)
{
	struct guard g = { .p = pattern, .err = err, .len = len, .kind = L_NONE };
	size_t n;

	if (!pattern)
		return refuse(&g, (size_t)-1, "no pattern");
	n = strnlen(pattern, MG_REGEX_MAX_LEN + 1);
	if (n > MG_REGEX_MAX_LEN)
		return refuse(&g, (size_t)-1, "the pattern is longer than %d bytes; a readiness pattern "
					      "only has to recognise one line, e.g. \"^listening on \"",
			      MG_REGEX_MAX_LEN);
	for (size_t i = 0; i < n; i++) {
		int rc = 0;
		switch (pattern[i]) {
		case '\\': rc = escape(&g, &i); break;
		case '[': rc = bracket(&g, &i); break;
		case '(': rc = open_group(&g, i); break;
		case ')': rc = close_group(&g, i); break;
		case '|':
			g.stack[g.depth].done += g.stack[g.depth].branch;
			g.stack[g.depth].branch = 0;
			g.kind = L_NONE;
			break;
		case '^':
		case '$': g.kind = L_ANCHOR; break;
		case '*':
		case '?': rc = quantify(&g, i, 1); break;
		case '+': rc = quantify(&g, i, 2); break; /* glibc: x+ is xx* */
		case '{': rc = interval(&g, &i); break;
		default: rc = item(&g, i, 1); break;
		}
		if (rc)
			return -1;
	}
	if (g.depth > 0)
		return refuse(&g, g.stack[g.depth].open, "'(' is never closed; add ')' or escape it (\\() "
							 "to match a literal parenthesis");
	return 0;
}
