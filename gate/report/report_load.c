/* report_load: read a report file within a size cap, parse it, and check
 * what every reader of a report relies on (see report_load.h). Messages
 * name the JSON path and say what was expected and what was found. */
#include "report/report_load.h"

#include "metric.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "error.h"

#define PATH_LEN 160

/* ------------------------------------------------------------ messages */

struct ctx {
	char *err;
	size_t len;
};

/* err is printed as one line: a key or value from the file must not break it */
static void one_line(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int bad(struct ctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct ctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->len)
		return -1;
	n = snprintf(c->err, c->len, "%s: ", path);
	if (n >= 0 && (size_t)n < c->len) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	one_line(c->err);
	return -1;
}

const char *mg_report_json_type(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

static void pathf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, PATH_LEN, fmt, ap);
	va_end(ap);
}

/* --------------------------------------------------------------- values */

#define VERDICTS "\"pass\", \"fail\" or \"error\""

static int check_verdict(struct ctx *c, const json_t *obj, const char *parent)
{
	const json_t *v = json_object_get(obj, "verdict");
	const char *s = json_string_value(v);
	char p[PATH_LEN];

	pathf(p, "%s%sverdict", parent, *parent ? "." : "");
	if (!v)
		return bad(c, p, "missing (expected " VERDICTS ")");
	if (!s)
		return bad(c, p, "expected " VERDICTS ", got %s", mg_report_json_type(v));
	if (mg_verdict_from_name(s, NULL) < 0)
		return bad(c, p, "expected " VERDICTS ", got \"%.40s\"", s);
	return 0;
}

/* what: "fixture" or "phase", for the message about length */
static int check_name(struct ctx *c, const json_t *fx, const char *parent, const char *what)
{
	const json_t *v = json_object_get(fx, "name");
	const char *s = json_string_value(v);
	char p[PATH_LEN];

	pathf(p, "%s.name", parent);
	if (!v)
		return bad(c, p, "missing (expected a non-empty string)");
	if (!s)
		return bad(c, p, "expected a non-empty string, got %s", mg_report_json_type(v));
	if (!*s)
		return bad(c, p, "expected a non-empty string");
	if (strlen(s) != json_string_length(v))
		return bad(c, p, "contains a NUL character");
	if (json_string_length(v) > MG_REPORT_NAME_MAX)
		return bad(c, p, "\"%.40s...\" is %zu bytes long; a %s name has at most %d",
			   s, json_string_length(v), what, MG_REPORT_NAME_MAX);
	return 0;
}

static int check_reasons(struct ctx *c, const json_t *fx, const char *parent)
{
	const json_t *a = json_object_get(fx, "reasons"), *r;
	char p[PATH_LEN];
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a)) {
		pathf(p, "%s.reasons", parent);
		return bad(c, p, "expected an array of strings, got %s", mg_report_json_type(a));
	}
	json_array_foreach(a, i, r) {
		if (!json_is_string(r)) {
			pathf(p, "%s.reasons[%zu]", parent, i);
			return bad(c, p, "expected a string, got %s", mg_report_json_type(r));
		}
	}
	return 0;
}

static int check_limits(struct ctx *c, const json_t *fx, const char *parent)
{
	const json_t *a = json_object_get(fx, "limits"), *e, *m;
	char p[PATH_LEN];
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a)) {
		pathf(p, "%s.limits", parent);
		return bad(c, p, "expected an array, got %s", mg_report_json_type(a));
	}
	json_array_foreach(a, i, e) {
		pathf(p, "%s.limits[%zu]", parent, i);
		if (!json_is_object(e))
			return bad(c, p, "expected an object, got %s", mg_report_json_type(e));
		pathf(p, "%s.limits[%zu].metric", parent, i);
		if (!(m = json_object_get(e, "metric")))
			return bad(c, p, "missing (expected a string)");
		if (!json_is_string(m))
			return bad(c, p, "expected a string, got %s", mg_report_json_type(m));
	}
	return 0;
}

static int check_peak(struct ctx *c, const json_t *fx, const char *parent)
{
	static const char *const keys[] = { "cgroup_bytes", "tree_rss_bytes", "max_process_hwm_bytes",
					    "tree_pss_bytes", "cgroup_anon_bytes", "cgroup_file_bytes" };
	const json_t *peak = json_object_get(fx, "peak");
	char p[PATH_LEN];

	if (!peak || json_is_null(peak))
		return 0;
	if (!json_is_object(peak)) {
		pathf(p, "%s.peak", parent);
		return bad(c, p, "expected an object or null, got %s", mg_report_json_type(peak));
	}
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		const json_t *v = json_object_get(peak, keys[k]);
		if (!v || json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= 0))
			continue;
		pathf(p, "%s.peak.%s", parent, keys[k]);
		if (json_is_integer(v))
			return bad(c, p, "expected a non-negative integer or null, got %lld",
				   (long long)json_integer_value(v));
		return bad(c, p, "expected a non-negative integer or null, got %s", mg_report_json_type(v));
	}
	return 0;
}

/* "phases" (optional): objects with a name (a baseline finds a phase by
 * it: not empty, no NUL, at most MG_REPORT_NAME_MAX bytes; names may
 * repeat), a verdict, and "limits" and "peak" typed like a fixture's. */
static int check_phases(struct ctx *c, const json_t *fx, const char *parent)
{
	const json_t *a = json_object_get(fx, "phases"), *ph;
	char p[PATH_LEN];
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a)) {
		pathf(p, "%s.phases", parent);
		return bad(c, p, "expected an array, got %s", mg_report_json_type(a));
	}
	json_array_foreach(a, i, ph) {
		pathf(p, "%s.phases[%zu]", parent, i);
		if (!json_is_object(ph))
			return bad(c, p, "expected an object, got %s", mg_report_json_type(ph));
		if (check_name(c, ph, p, "phase") || check_verdict(c, ph, p) || check_limits(c, ph, p) ||
		    check_peak(c, ph, p))
			return -1;
	}
	return 0;
}

static int check_fixture(struct ctx *c, const json_t *fx, size_t i)
{
	char p[PATH_LEN];

	pathf(p, "fixtures[%zu]", i);
	if (!json_is_object(fx))
		return bad(c, p, "expected an object, got %s", mg_report_json_type(fx));
	if (check_name(c, fx, p, "fixture") || check_verdict(c, fx, p) || check_reasons(c, fx, p) ||
	    check_limits(c, fx, p) || check_peak(c, fx, p) || check_phases(c, fx, p))
		return -1;
	return 0;
}

/* The report's verdict is the worst of its fixtures' (it may be worse: an
 * interrupted run is "error" over fixtures that passed). One that is better
 * would let merge exit 0 and a check run go green over a failing fixture. */
static int check_overall(struct ctx *c, const json_t *doc, const json_t *fixtures)
{
	enum mg_verdict overall = MG_VERDICT_ERROR, v;
	const json_t *fx;
	char p[PATH_LEN];
	size_t i;

	mg_verdict_from_name(json_string_value(json_object_get(doc, "verdict")), &overall);
	json_array_foreach(fixtures, i, fx) {
		v = MG_VERDICT_ERROR;
		mg_verdict_from_name(json_string_value(json_object_get(fx, "verdict")), &v);
		if (mg_verdict_worst(overall, v) != overall) {
			pathf(p, "fixtures[%zu]", i);
			return bad(c, "verdict",
				   "\"%s\", but %s (\"%.100s\") is \"%s\": a report's verdict is the worst of its "
				   "fixtures' (was the report edited?)",
				   mg_verdict_name(overall), p, json_string_value(json_object_get(fx, "name")),
				   mg_verdict_name(v));
		}
	}
	return 0;
}

/* A fixture is found by its name (baselines, merges, statuses): unique. */
static int check_unique(struct ctx *c, const json_t *fixtures)
{
	size_t n = json_array_size(fixtures);
	struct mg_name_ref *v = calloc(n ? n : 1, sizeof *v);
	const struct mg_name_ref *first, *second;
	char p[PATH_LEN];
	int rc = 0;

	if (!v)
		return bad(c, "fixtures", "out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = (struct mg_name_ref){ json_string_value(json_object_get(json_array_get(fixtures, i),
									       "name")), 0, i };
	mg_names_sort(v, n);
	if (mg_names_first_duplicate(v, n, &first, &second)) {
		pathf(p, "fixtures[%zu].name", second->index);
		rc = bad(c, p, "duplicate fixture \"%.100s\" (also fixtures[%zu])", second->name, first->index);
	}
	free(v);
	return rc;
}

int mg_report_validate(const json_t *doc, char *err, size_t len)
{
	struct ctx c = { err, len };
	const json_t *schema = json_object_get(doc, "schema"), *ib, *fixtures, *fx;
	size_t i;

	if (!json_is_object(doc))
		return bad(&c, "(top level)", "expected a JSON object, got %s (is this a memgate --json report?)",
			   doc ? mg_report_json_type(doc) : "nothing");
	if (!schema)
		return bad(&c, "schema", "missing (is this a memgate --json report?)");
	if (!json_is_integer(schema))
		return bad(&c, "schema", "expected the integer 1, got %s (this memgate reads report schema 1)",
			   mg_report_json_type(schema));
	if (json_integer_value(schema) != 1)
		return bad(&c, "schema", "expected 1, got %lld (this memgate reads report schema 1)",
			   (long long)json_integer_value(schema));
	if (check_verdict(&c, doc, ""))
		return -1;
	ib = json_object_get(doc, "interrupted_by");
	if (ib && !json_is_null(ib) && !json_is_string(ib))
		return bad(&c, "interrupted_by", "expected a signal name like \"SIGINT\" or null, got %s",
			   mg_report_json_type(ib));
	fixtures = json_object_get(doc, "fixtures");
	if (!fixtures)
		return bad(&c, "fixtures", "missing (expected an array)");
	if (!json_is_array(fixtures))
		return bad(&c, "fixtures", "expected an array, got %s", mg_report_json_type(fixtures));
	json_array_foreach(fixtures, i, fx)
		if (check_fixture(&c, fx, i))
			return -1;
	if (check_unique(&c, fixtures))
		return -1;
	return check_overall(&c, doc, fixtures);
}

/* ---------------------------------------------------------------- files */

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISCHR(m) || S_ISBLK(m) ? "a device" : S_ISSOCK(m) ? "a socket"
													: "not a regular file";
}

/* LEAD PATH: ... into err, on one line; -1 */
static int path_err(char *err, size_t len, const char *lead, const char *path, const char *fmt, va_list ap)
{
	if (!err || !len)
		return -1;
	int n = snprintf(err, len, "%s%s: ", lead, path);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(err + n, len - (size_t)n, fmt, ap);
	one_line(err);
	return -1;
}

/* "PATH: ..." into err; -1 */
static int file_err(char *err, size_t len, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int file_err(char *err, size_t len, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	path_err(err, len, "", path, fmt, ap);
	va_end(ap);
	return -1;
}

/* "cannot read PATH: ..." into err; -1 */
static int read_err(char *err, size_t len, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int read_err(char *err, size_t len, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	path_err(err, len, "cannot read ", path, fmt, ap);
	va_end(ap);
	return -1;
}

/* "cannot read PATH: ENOENT (No such file or directory)"; -1 */
static int read_errno(char *err, size_t len, const char *path, int e)
{
	char why[160];
	return read_err(err, len, path, "%s", mg_errno_text(e, why, sizeof why));
}

static int too_big(char *err, size_t len, const char *path)
{
	return read_err(err, len, path, "larger than %zu MiB; a memgate report is a few MiB at most "
					"(is this the right file?)", MG_REPORT_MAX_BYTES >> 20);
}

/* A regular file or a pipe (`<(...)`), nothing else: a device may never end
 * and a directory is a mistake. */
static int check_kind(const struct stat *st, const char *path, char *err, size_t len)
{
	if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
		return read_err(err, len, path, "%s, not a report file", file_kind(st->st_mode));
	if (S_ISREG(st->st_mode) && (uintmax_t)st->st_size > MG_REPORT_MAX_BYTES)
		return too_big(err, len, path);
	return 0;
}

/* All of fd, at most MG_REPORT_MAX_BYTES. */
static int read_capped(int fd, const struct stat *st, const char *path, char **out, size_t *outlen,
		       char *err, size_t len)
{
	size_t cap = S_ISREG(st->st_mode) ? (size_t)st->st_size + 1 : 65536, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return read_errno(err, len, path, ENOMEM);
	for (;;) {
		if (n == cap) {
			size_t ncap = cap * 2 > MG_REPORT_MAX_BYTES + 1 ? MG_REPORT_MAX_BYTES + 1 : cap * 2;
			char *nb = ncap > cap ? realloc(buf, ncap) : NULL;
			if (!nb) {
				free(buf);
				return ncap > cap ? read_errno(err, len, path, ENOMEM) : too_big(err, len, path);
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			free(buf);
			return read_errno(err, len, path, e);
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > MG_REPORT_MAX_BYTES) {
			free(buf);
			return too_big(err, len, path);
		}
	}
	*out = buf;
	*outlen = n;
	return 0;
}

json_t *mg_report_load(const char *path, char *err, size_t len)
{
	struct stat st;
	char *buf = NULL, why[512];
	size_t n = 0;
	json_error_t je;
	json_t *doc;
	int fd;

	if (!path) {
		file_err(err, len, "(no path)", "no report given");
		return NULL;
	}
	/* the type first: opening a device can have effects of its own */
	if (stat(path, &st) < 0) {
		read_errno(err, len, path, errno);
		return NULL;
	}
	if (check_kind(&st, path, err, len))
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		read_errno(err, len, path, errno);
		return NULL;
	}
	/* what was opened, not what was there a moment ago */
	if (fstat(fd, &st) < 0) {
		read_errno(err, len, path, errno);
		close(fd);
		return NULL;
	}
	if (check_kind(&st, path, err, len) || read_capped(fd, &st, path, &buf, &n, err, len)) {
		close(fd);
		return NULL;
	}
	close(fd);
	doc = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (!doc) {
		if (je.line > 0)
			snprintf(why, sizeof why, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		else
			snprintf(why, sizeof why, "%s: %s", path, je.text);
		one_line(why);
		if (err && len)
			snprintf(err, len, "%s", why);
		return NULL;
	}
	if (mg_report_validate(doc, why, sizeof why)) {
		file_err(err, len, path, "%s", why);
		json_decref(doc);
		return NULL;
	}
	return doc;
}
