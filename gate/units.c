/* units: exact parsing of sizes and durations, and their human formatting.
 * Values are computed with integer arithmetic only, so "1.1MB" is exactly
 * 1100000 bytes and the rounding (half up) never depends on float error. */
#include "units.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct unit {
	const char *name;
	int64_t mult;
};

/* What differs between sizes and durations; the parser is shared. */
struct unit_kind {
	const char *noun;            /* "size" / "duration" */
	const struct unit *units;
	size_t nunits;
	const char *needs_unit;      /* list shown when the unit is missing */
	const char *all_units;       /* list shown for an unknown unit */
	const char *max_suffix;      /* unit word in the overflow message */
};

static const struct unit size_units[] = {
	{ "B", 1 },
	{ "kB", 1000 },
	{ "MB", 1000 * 1000 },
	{ "GB", (int64_t)1000 * 1000 * 1000 },
	{ "TB", (int64_t)1000 * 1000 * 1000 * 1000 },
	{ "KiB", (int64_t)1 << 10 },
	{ "MiB", (int64_t)1 << 20 },
	{ "GiB", (int64_t)1 << 30 },
	{ "TiB", (int64_t)1 << 40 },
};

static const struct unit duration_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "min", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
};

static const struct unit_kind size_kind = {
	"size", size_units, sizeof size_units / sizeof size_units[0],
	"B, kB, MB, GB, KiB, MiB or GiB",
	"B, kB, MB, GB, TB, KiB, MiB, GiB or TiB",
	"bytes",
};

static const struct unit_kind duration_kind = {
	"duration", duration_units, sizeof duration_units / sizeof duration_units[0],
	"ms, s, min or h",
	"ms, s, min or h",
	"ms",
};

/* Common wrong spellings and what they probably meant; matched ignoring
 * case, after the exact (case-sensitive) lookup failed. */
struct unit_hint {
	const char *spelling;
	const char *hint;
};

static const struct unit_hint size_hints[] = {
	{ "b", "did you mean \"B\"?" },
	{ "bytes", "did you mean \"B\"?" },
	{ "kb", "did you mean \"KiB\" (1024) or \"kB\" (1000)?" },
	{ "kib", "did you mean \"KiB\" (1024) or \"kB\" (1000)?" },
	{ "mb", "did you mean \"MiB\" (1048576) or \"MB\" (1000000)?" },
	{ "mib", "did you mean \"MiB\" (1048576) or \"MB\" (1000000)?" },
	{ "gb", "did you mean \"GiB\" (1073741824) or \"GB\" (1000000000)?" },
	{ "gib", "did you mean \"GiB\" (1073741824) or \"GB\" (1000000000)?" },
	{ "tb", "did you mean \"TiB\" (2^40) or \"TB\" (10^12)?" },
	{ "tib", "did you mean \"TiB\" (2^40) or \"TB\" (10^12)?" },
};

static const struct unit_hint duration_hints[] = {
	{ "m", "did you mean \"min\" (minutes) or \"ms\" (milliseconds)?" },
	{ "sec", "did you mean \"s\"?" },
	{ "secs", "did you mean \"s\"?" },
	{ "mins", "did you mean \"min\"?" },
	{ "hr", "did you mean \"h\"?" },
	{ "hrs", "did you mean \"h\"?" },
	{ "MS", "did you mean \"ms\"?" },
	{ "S", "did you mean \"s\"?" },
	{ "H", "did you mean \"h\"?" },
	{ "MIN", "did you mean \"min\"?" },
};

/* The user's text as shown in a message: at most 40 bytes, control
 * characters replaced, so a hostile input still gives one short line. */
static void echo(char *buf, size_t len, const char *s)
{
	size_t max = 40, i;

	for (i = 0; s[i] && i < max && i + 1 < len; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	if (s[i] && len > max + 4)
		strcpy(buf + i, "...");
}

static int fail(char *err, size_t errlen, const struct unit_kind *k, const char *s,
		const char *what)
{
	char shown[48];

	if (!err || !errlen)
		return -1;
	echo(shown, sizeof shown, s);
	snprintf(err, errlen, "%s \"%s\" %s", k->noun, shown, what);
	return -1;
}

/* "<digits>[.<digits>][ ]<unit>", split into its parts. */
struct number {
	const char *ip;   /* integer digits */
	size_t ilen;
	const char *fp;   /* fraction digits */
	size_t flen;
	const char *unit; /* rest of the string */
};

static size_t count_digits(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

static bool split_number(const char *s, struct number *n)
{
	memset(n, 0, sizeof *n);
	n->ip = s;
	n->ilen = count_digits(s);
	if (n->ilen == 0)
		return false;
	s += n->ilen;
	if (*s == '.') {
		n->fp = s + 1;
		n->flen = count_digits(n->fp);
		if (n->flen == 0)
			return false;
		s = n->fp + n->flen;
	}
	if (*s == ' ')
		s++;
	n->unit = s;
	return true;
}

/* round(0.<frac digits> * mult), half up, exactly: multiply the digit
 * string by mult from the right; the carry left is the integer part and
 * the last digit produced is the first fractional digit of the product. */
static int64_t fraction_times(const char *fp, size_t flen, int64_t mult)
{
	int64_t carry = 0, first = 0;

	for (size_t i = flen; i-- > 0;) {
		int64_t t = (fp[i] - '0') * mult + carry; /* < 10 * mult */
		first = t % 10;
		carry = t / 10;
	}
	return carry + (first >= 5);
}

/* integer digits * mult + frac, or -1 on overflow of int64_t */
static int64_t scale(const char *ip, size_t ilen, int64_t mult, int64_t frac)
{
	int64_t v = 0;

	for (size_t i = 0; i < ilen; i++) {
		int d = ip[i] - '0';
		if (v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v > (INT64_MAX - frac) / mult)
		return -1;
	return v * mult + frac;
}

static const struct unit *find_unit(const struct unit_kind *k, const char *name)
{
	for (size_t i = 0; i < k->nunits; i++)
		if (strcmp(k->units[i].name, name) == 0)
			return &k->units[i];
	return NULL;
}

static const char *find_hint(const struct unit_kind *k, const char *name)
{
	const struct unit_hint *h = k == &size_kind ? size_hints : duration_hints;
	size_t n = k == &size_kind ? sizeof size_hints / sizeof size_hints[0]
				   : sizeof duration_hints / sizeof duration_hints[0];

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(h[i].spelling, name) == 0)
			return h[i].hint;
	return NULL;
}

static int unknown_unit(char *err, size_t errlen, const struct unit_kind *k, const char *s,
			const char *unit)
{
	char what[256], shown[48];
	const char *hint = find_hint(k, unit);

	echo(shown, sizeof shown, unit);
	if (hint)
		snprintf(what, sizeof what, "has an unknown unit \"%s\": %s", shown, hint);
	else
		snprintf(what, sizeof what, "has an unknown unit \"%s\" (use %s)", shown,
			 k->all_units);
	return fail(err, errlen, k, s, what);
}

static int parse(const struct unit_kind *k, const char *s, int64_t *out, char *err,
		 size_t errlen)
{
	struct number n;
	char what[160];

	if (!s || !*s)
		return fail(err, errlen, k, "", "is empty");
	if (s[0] == '-' && (s[1] == '.' || (s[1] >= '0' && s[1] <= '9')))
		return fail(err, errlen, k, s, "is negative");
	if (!split_number(s, &n)) {
		snprintf(what, sizeof what, "is not a number followed by a unit, like %s",
			 k == &size_kind ? "\"200MiB\"" : "\"30s\"");
		return fail(err, errlen, k, s, what);
	}
	if (!*n.unit) {
		snprintf(what, sizeof what, "needs a unit: %s", k->needs_unit);
		return fail(err, errlen, k, s, what);
	}
	const struct unit *u = find_unit(k, n.unit);
	if (!u)
		return unknown_unit(err, errlen, k, s, n.unit);
	int64_t v = scale(n.ip, n.ilen, u->mult, fraction_times(n.fp, n.flen, u->mult));
	if (v < 0) {
		snprintf(what, sizeof what, "is too large (the maximum is %lld %s)",
			 (long long)INT64_MAX, k->max_suffix);
		return fail(err, errlen, k, s, what);
	}
	if (out)
		*out = v;
	return 0;
}

int mg_parse_size(const char *s, int64_t *bytes, char *err, size_t errlen)
{
	return parse(&size_kind, s, bytes, err, errlen);
}

int mg_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen)
{
	return parse(&duration_kind, s, ms, err, errlen);
}

int mg_parse_rate(const char *s, int64_t *per_s, char *err, size_t errlen)
{
	const char *slash = strrchr(s, '/');
	if (!slash) {
		snprintf(err, errlen, "rate \"%.40s\" needs a time unit: \"1MiB/s\" or \"30MiB/min\"", s);
		return -1;
	}
	int64_t div = strcmp(slash, "/s") == 0 ? 1 : strcmp(slash, "/min") == 0 ? 60 : 0;
	if (!div) {
		snprintf(err, errlen, "unknown rate unit \"%.20s\" (use /s or /min)", slash);
		return -1;
	}
	char size[64];
	int64_t bytes;
	if ((size_t)(slash - s) >= sizeof size) {
		snprintf(err, errlen, "rate \"%.40s...\" is too long", s);
		return -1;
	}
	memcpy(size, s, (size_t)(slash - s));
	size[slash - s] = '\0';
	if (mg_parse_size(size, &bytes, err, errlen) < 0)
		return -1;
	*per_s = bytes / div;
	return 0;
}

/* |v| without overflow, also for INT64_MIN */
static uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

void mg_format_mib(int64_t bytes, char *buf, size_t len)
{
	const uint64_t mib = 1048576;
	uint64_t m = magnitude(bytes);
	uint64_t whole = m / mib;
	/* tenths rounded half away from zero, so -x prints as -(x) */
	uint64_t tenths = (m % mib * 10 + mib / 2) / mib;

	if (!buf || !len)
		return;
	if (tenths == 10) {
		whole++;
		tenths = 0;
	}
	/* no "-0.0 MiB": a value that rounds to zero prints unsigned */
	bool neg = bytes < 0 && (whole || tenths);
	snprintf(buf, len, "%s%llu.%llu MiB", neg ? "-" : "", (unsigned long long)whole,
		 (unsigned long long)tenths);
}

void mg_format_duration(int64_t ms, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	if (ms < 1000) {
		snprintf(buf, len, "%lld ms", (long long)ms);
		return;
	}
	/* hundredths of a second, half up; written to avoid ms + 5 overflowing */
	int64_t cs = ms / 10 + (ms % 10 >= 5);
	snprintf(buf, len, "%lld.%02lld s", (long long)(cs / 100), (long long)(cs % 100));
}

int64_t mg_deadline_ms(int64_t now_ms, int64_t ms)
{
	if (ms > 0 && now_ms > INT64_MAX - ms)
		return INT64_MAX;
	return now_ms + ms;
}
