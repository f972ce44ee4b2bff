/* pyheap: parsers of Python heap reports (memgate's tracemalloc helper,
 * `memray stats --json`), their JSON form, and memray's command lines and
 * exit statuses. See pyheap.h. */
#include "error.h"
#include "heap/pyheap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PATH_LEN 128

struct ctx {
	const char *origin;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail(const struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: %s: %s", c->origin, path, msg);
	return -1;
}

static const char *type_name(const json_t *v)
{
	if (!v)
		return "nothing";
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction or exponent";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* "parent.key", or "key" at the top level (paths here are short; a cut one still reads) */
static void key_path(char *buf, const char *parent, const char *key)
{
	int n = *parent ? snprintf(buf, PATH_LEN, "%s.%s", parent, key) : snprintf(buf, PATH_LEN, "%s", key);
	if (n < 0)
		buf[0] = '\0';
}

static void index_path(char *buf, const char *parent, size_t i)
{
	int n = snprintf(buf, PATH_LEN, "%s[%zu]", parent, i);
	if (n < 0)
		buf[0] = '\0';
}

/* obj[key] as an integer in [lo, hi]; *present false (and 0) when absent and !required */
static int get_int(const struct ctx *c, const json_t *obj, const char *parent, const char *key,
		   bool required, int64_t lo, int64_t hi, int64_t *v, bool *present)
{
	char p[PATH_LEN];
	key_path(p, parent, key);
	json_t *j = json_object_get(obj, key);
	if (present)
		*present = j != NULL;
	if (!j) {
		if (required)
			return fail(c, p, "missing (expected an integer)");
		return 0;
	}
	if (!json_is_integer(j))
		return fail(c, p, "expected an integer, got %s", type_name(j));
	json_int_t x = json_integer_value(j);
	if (x < lo)
		return fail(c, p, "expected an integer >= %" PRId64 ", got %lld", lo, (long long)x);
	if (x > hi)
		return fail(c, p, "expected an integer <= %" PRId64 ", got %lld", hi, (long long)x);
	*v = (int64_t)x;
	return 0;
}

static int get_string(const struct ctx *c, const json_t *obj, const char *parent, const char *key,
		      const char **s)
{
	char p[PATH_LEN];
	key_path(p, parent, key);
	json_t *j = json_object_get(obj, key);
	if (!j)
		return fail(c, p, "missing (expected a string)");
	if (!json_is_string(j))
		return fail(c, p, "expected a string, got %s", type_name(j));
	*s = json_string_value(j);
	return 0;
}

static int get_array(const struct ctx *c, const json_t *obj, const char *parent, const char *key,
		     bool required, json_t **a)
{
	char p[PATH_LEN];
	key_path(p, parent, key);
	*a = json_object_get(obj, key);
	if (!*a) {
		if (required)
			return fail(c, p, "missing (expected an array)");
		return 0;
	}
	if (!json_is_array(*a))
		return fail(c, p, "expected an array, got %s", type_name(*a));
	return 0;
}

static int only_keys(const struct ctx *c, const json_t *obj, const char *parent,
		     const char *const *keys, size_t nkeys)
{
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)obj, key, val) {
		bool known = false;
		for (size_t i = 0; i < nkeys && !known; i++)
			known = strcmp(key, keys[i]) == 0;
		if (!known) {
			char p[PATH_LEN];
			key_path(p, parent, key);
			return fail(c, p, "unknown key");
		}
	}
	return 0;
}

/* Copy a location; one too long keeps its tail ("...dir/file.py:12"). */
static void copy_location(char *dst, size_t cap, const char *src, size_t len)
{
	if (len < cap) {
		memcpy(dst, src, len);
		dst[len] = '\0';
		return;
	}
	size_t keep = cap - 4;
	while (keep && ((unsigned char)src[len - keep] & 0xC0) == 0x80)
		keep--; /* start on a whole UTF-8 character: JSON needs valid UTF-8 */
	memcpy(dst, "...", 3);
	memcpy(dst + 3, src + len - keep, keep);
	dst[3 + keep] = '\0';
}

static void copy_bounded(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap)
		for (len = cap - 1; len && ((unsigned char)src[len] & 0xC0) == 0x80; len--)
			; /* drop a UTF-8 character cut in two */
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void mg_pyheap_init(struct mg_pyheap *out, const char *tool)
{
	memset(out, 0, sizeof *out);
	snprintf(out->tool, sizeof out->tool, "%s", tool);
	out->peak_bytes = MG_PYHEAP_UNKNOWN;
	out->current_bytes = MG_PYHEAP_UNKNOWN;
	out->leaked_bytes = MG_PYHEAP_UNKNOWN;
}

static json_t *parse_text(const struct ctx *c, const char *text)
{
	json_error_t je;
	if (!text) {
		if (c->err && c->errlen)
			snprintf(c->err, c->errlen, "%s: no text", c->origin);
		return NULL;
	}
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!root && c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->origin, je.line, je.column, je.text);
	return root;
}

/* The file is in a directory the measured program may write to: it may
 * have put a FIFO there (an open for reading would wait for a writer that
 * never comes: memgate hung, deaf to SIGTERM), a device, or a link. Only a
 * regular file is read, opened without waiting and without following. */
static FILE *open_regular(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: " MG_ERRNO_FMT "%s", path, MG_ERRNO(errno),
			 errno == ELOOP ? " (a symlink: the helper writes a regular file)" : "");
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot stat %s: " MG_ERRNO_FMT, path, MG_ERRNO(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cannot read %s: not a regular file (the measured program put something else "
			 "in its place)", path);
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: " MG_ERRNO_FMT, path, MG_ERRNO(errno));
		close(fd);
	}
	return f;
}

static char *read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = open_regular(path, err, errlen);
	if (!f)
		return NULL;
	size_t cap = 8192, len = 0, n;
	char *buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			if (cap > ((size_t)64 << 20)) {
				snprintf(err, errlen, "%s: larger than 64 MiB", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		fclose(f);
		return NULL;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s (%s)", path, MG_ERRNO(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		snprintf(err, errlen, "%s: contains a NUL byte: not a JSON report", path);
		free(buf);
		return NULL;
	}
	return buf;
}

/* ------------------------------------------------------------ tracemalloc */

static const char *const tm_keys[] = { "tool", "peak_bytes", "current_bytes", "top", "domains" };
static const char *const tm_site_keys[] = { "location", "size_bytes", "count" };
static const char *const tm_domain_keys[] = { "domain", "size_bytes" };

static int tm_site(const struct ctx *c, const json_t *o, const char *p, struct mg_pyheap_site *s,
		   int64_t prev_size)
{
	const char *loc;
	if (!json_is_object(o))
		return fail(c, p, "expected an object like {\"location\": \"file:line\", \"size_bytes\": N, "
			    "\"count\": N}, got %s", type_name(o));
	if (only_keys(c, o, p, tm_site_keys, sizeof tm_site_keys / sizeof *tm_site_keys) < 0 ||
	    get_string(c, o, p, "location", &loc) < 0 ||
	    get_int(c, o, p, "size_bytes", true, 0, INT64_MAX, &s->size_bytes, NULL) < 0 ||
	    get_int(c, o, p, "count", true, 0, INT64_MAX, &s->count, NULL) < 0)
		return -1;
	if (!*loc) {
		char kp[PATH_LEN];
		key_path(kp, p, "location");
		return fail(c, kp, "expected a non-empty \"file:line\"");
	}
	if (prev_size >= 0 && s->size_bytes > prev_size) {
		char kp[PATH_LEN];
		key_path(kp, p, "size_bytes");
		return fail(c, kp, "%" PRId64 " is larger than the entry before it (%" PRId64
			    "): top must be largest first", s->size_bytes, prev_size);
	}
	copy_location(s->location, sizeof s->location, loc, strlen(loc));
	s->has_count = true;
	return 0;
}

enum { DOMAINS_MAX = 1024 };

static int tm_domains(const struct ctx *c, const json_t *root, struct mg_pyheap *out)
{
	json_t *a;
	if (get_array(c, root, "", "domains", true, &a) < 0)
		return -1;
	/* a handful in practice (Python's own, NumPy's); the duplicate check
	 * below is pairwise, so a forged report with millions would hang us */
	if (json_array_size(a) > DOMAINS_MAX)
		return fail(c, "domains", "%zu domains, more than the %d a tracemalloc report of memgate's helper "
			    "can have: the file is not its report (was it written by the measured program?)",
			    json_array_size(a), DOMAINS_MAX);
	for (size_t i = 0; i < json_array_size(a); i++) {
		char p[PATH_LEN];
		index_path(p, "domains", i);
		const json_t *o = json_array_get(a, i);
		int64_t dom = 0, size = 0;
		if (!json_is_object(o))
			return fail(c, p, "expected an object like {\"domain\": 0, \"size_bytes\": N}, got %s",
				    type_name(o));
		if (only_keys(c, o, p, tm_domain_keys, sizeof tm_domain_keys / sizeof *tm_domain_keys) < 0 ||
		    get_int(c, o, p, "domain", true, 0, UINT32_MAX, &dom, NULL) < 0 ||
		    get_int(c, o, p, "size_bytes", true, 0, INT64_MAX, &size, NULL) < 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			int64_t other;
			if (get_int(c, json_array_get(a, j), "", "domain", true, 0, UINT32_MAX, &other, NULL) == 0 &&
			    other == dom) {
				char kp[PATH_LEN];
				key_path(kp, p, "domain");
				return fail(c, kp, "domain %" PRId64 " is listed twice", dom);
			}
		}
		if (out->ndomains < MG_PYHEAP_MAX_DOMAINS) {
			out->domains[out->ndomains].domain = (uint32_t)dom;
			out->domains[out->ndomains].size_bytes = size;
			out->ndomains++;
		} else {
			out->domains_omitted++;
		}
	}
	return 0;
}

static int tracemalloc_doc(const struct ctx *c, const json_t *root, struct mg_pyheap *out)
{
	const char *tool;
	json_t *top;
	if (!json_is_object(root))
		return fail(c, "(root)", "expected an object (a memgate tracemalloc report), got %s",
			    type_name(root));
	if (only_keys(c, root, "", tm_keys, sizeof tm_keys / sizeof *tm_keys) < 0 ||
	    get_string(c, root, "", "tool", &tool) < 0)
		return -1;
	if (strcmp(tool, "tracemalloc") != 0)
		return fail(c, "tool", "expected \"tracemalloc\", got \"%.40s\"", tool);
	if (get_int(c, root, "", "peak_bytes", true, 0, INT64_MAX, &out->peak_bytes, NULL) < 0 ||
	    get_int(c, root, "", "current_bytes", true, 0, INT64_MAX, &out->current_bytes, NULL) < 0)
		return -1;
	if (out->peak_bytes < out->current_bytes)
		return fail(c, "peak_bytes", "%" PRId64 " is below current_bytes %" PRId64, out->peak_bytes,
			    out->current_bytes);
	if (get_array(c, root, "", "top", true, &top) < 0)
		return -1;
	int64_t prev = -1;
	for (size_t i = 0; i < json_array_size(top); i++) {
		char p[PATH_LEN];
		struct mg_pyheap_site s;
		memset(&s, 0, sizeof s);
		index_path(p, "top", i);
		if (tm_site(c, json_array_get(top, i), p, &s, prev) < 0)
			return -1;
		prev = s.size_bytes;
		if (out->ntop < MG_PYHEAP_MAX_TOP)
			out->top[out->ntop++] = s;
		else
			out->top_omitted++;
	}
	return tm_domains(c, root, out);
}

int mg_pyheap_parse_tracemalloc(const char *text, const char *origin, struct mg_pyheap *out,
				char *err, size_t errlen)
{
	const struct ctx c = { origin ? origin : "tracemalloc report", err, errlen };
	mg_pyheap_init(out, "tracemalloc");
	json_t *root = parse_text(&c, text);
	if (!root)
		return -1;
	int r = tracemalloc_doc(&c, root, out);
	json_decref(root);
	if (r < 0)
		mg_pyheap_init(out, "tracemalloc");
	return r;
}

int mg_pyheap_load_tracemalloc(const char *path, struct mg_pyheap *out, char *err, size_t errlen)
{
	mg_pyheap_init(out, "tracemalloc");
	char *text = read_file(path, err, errlen);
	if (!text)
		return -1;
	int r = mg_pyheap_parse_tracemalloc(text, path, out, err, errlen);
	free(text);
	return r;
}

/* ---------------------------------------------------------------- memray */

/* "function:file:line" -> function, "file:line"; anything else is kept whole
 * as the location (e.g. "<stack trace unavailable>"). */
static void split_memray_location(const char *loc, struct mg_pyheap_site *s)
{
	const char *first = strchr(loc, ':');
	const char *last = strrchr(loc, ':');
	bool digits = last && last[1] != '\0';
	for (const char *q = last ? last + 1 : loc; digits && *q; q++)
		digits = *q >= '0' && *q <= '9';
	if (!first || first == last || !digits || first == loc || first + 1 == last) {
		copy_location(s->location, sizeof s->location, loc, strlen(loc));
		s->function[0] = '\0';
		return;
	}
	copy_bounded(s->function, sizeof s->function, loc, (size_t)(first - loc));
	copy_location(s->location, sizeof s->location, first + 1, strlen(first + 1));
}

static int memray_counts(const struct ctx *c, const json_t *root, struct mg_pyheap *out)
{
	json_t *a;
	if (get_array(c, root, "", "top_allocations_by_count", false, &a) < 0)
		return -1;
	for (size_t i = 0; a && i < json_array_size(a); i++) {
		char p[PATH_LEN];
		const char *loc;
		int64_t count = 0;
		const json_t *o = json_array_get(a, i);
		index_path(p, "top_allocations_by_count", i);
		if (!json_is_object(o))
			return fail(c, p, "expected an object like {\"location\": \"f:file.py:1\", \"count\": N}, "
				    "got %s", type_name(o));
		if (get_string(c, o, p, "location", &loc) < 0 ||
		    get_int(c, o, p, "count", true, 0, INT64_MAX, &count, NULL) < 0)
			return -1;
		struct mg_pyheap_site key;
		split_memray_location(loc, &key);
		for (int k = 0; k < out->ntop; k++) {
			struct mg_pyheap_site *s = &out->top[k];
			if (!s->has_count && strcmp(s->location, key.location) == 0 &&
			    strcmp(s->function, key.function) == 0) {
				s->count = count;
				s->has_count = true;
			}
		}
	}
	return 0;
}

static int memray_doc(const struct ctx *c, const json_t *root, struct mg_pyheap *out)
{
	json_t *meta, *top;
	int64_t format = 0;
	bool has_format = false;
	if (!json_is_object(root))
		return fail(c, "(root)", "expected an object (memray stats --json output), got %s", type_name(root));
	meta = json_object_get(root, "metadata");
	if (!meta)
		return fail(c, "metadata", "missing (expected an object; is this `memray stats --json` output?)");
	if (!json_is_object(meta))
		return fail(c, "metadata", "expected an object, got %s", type_name(meta));
	if (get_int(c, meta, "metadata", "file_format", false, 0, INT32_MAX, &format, &has_format) < 0)
		return -1;
	if (has_format && format != 0)
		return fail(c, "metadata.file_format", "%" PRId64 " is not 0 (ALL_ALLOCATIONS): statistics of an "
			    "--aggregate capture cannot be computed", format);
	if (get_int(c, meta, "metadata", "peak_memory", true, 0, INT64_MAX, &out->peak_bytes, NULL) < 0 ||
	    get_array(c, root, "", "top_allocations_by_size", true, &top) < 0)
		return -1;
	int64_t prev = -1;
	for (size_t i = 0; i < json_array_size(top); i++) {
		char p[PATH_LEN];
		const char *loc;
		struct mg_pyheap_site s;
		memset(&s, 0, sizeof s);
		const json_t *o = json_array_get(top, i);
		index_path(p, "top_allocations_by_size", i);
		if (!json_is_object(o))
			return fail(c, p, "expected an object like {\"location\": \"f:file.py:1\", \"size\": N}, "
				    "got %s", type_name(o));
		if (get_string(c, o, p, "location", &loc) < 0 ||
		    get_int(c, o, p, "size", true, 0, INT64_MAX, &s.size_bytes, NULL) < 0)
			return -1;
		if (prev >= 0 && s.size_bytes > prev) {
			char kp[PATH_LEN];
			key_path(kp, p, "size");
			return fail(c, kp, "%" PRId64 " is larger than the entry before it (%" PRId64
				    "): expected largest first", s.size_bytes, prev);
		}
		prev = s.size_bytes;
		split_memray_location(loc, &s);
		if (out->ntop < MG_PYHEAP_MAX_TOP)
			out->top[out->ntop++] = s;
		else
			out->top_omitted++;
	}
	return memray_counts(c, root, out);
}

int mg_pyheap_parse_memray_stats(const char *text, const char *origin, struct mg_pyheap *out,
				 char *err, size_t errlen)
{
	const struct ctx c = { origin ? origin : "memray stats", err, errlen };
	mg_pyheap_init(out, "memray");
	json_t *root = parse_text(&c, text);
	if (!root)
		return -1;
	int r = memray_doc(&c, root, out);
	json_decref(root);
	if (r < 0)
		mg_pyheap_init(out, "memray");
	return r;
}

int mg_pyheap_load_memray_stats(const char *path, struct mg_pyheap *out, char *err, size_t errlen)
{
	mg_pyheap_init(out, "memray");
	char *text = read_file(path, err, errlen);
	if (!text)
		return -1;
	int r = mg_pyheap_parse_memray_stats(text, path, out, err, errlen);
	free(text);
	return r;
}

/* ------------------------------------------------------------------ JSON */

static json_t *bytes_or_null(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

/* A list of sites: [{"location", "size_bytes", "count" [, "function"] [, "native"]}] */
static json_t *sites_json(const struct mg_pyheap_site *v, int n)
{
	json_t *a = json_array();
	for (int i = 0; a && i < n; i++) {
		const struct mg_pyheap_site *s = &v[i];
		json_t *e = json_pack("{s:s, s:I, s:o}", "location", s->location,
				      "size_bytes", (json_int_t)s->size_bytes,
				      "count", s->has_count ? json_integer(s->count) : json_null());
		if (!e || (s->function[0] && json_object_set_new(e, "function", json_string(s->function)) < 0) ||
		    (s->native[0] && json_object_set_new(e, "native", json_string(s->native)) < 0) ||
		    json_array_append_new(a, e) < 0) {
			json_decref(e);
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *mg_pyheap_json(const struct mg_pyheap *h)
{
	json_t *top = sites_json(h->top, h->ntop), *domains = json_array();
	json_t *o = json_object();
	if (!top || !domains || !o)
		goto oom;
	for (int i = 0; i < h->ndomains; i++) {
		json_t *e = json_pack("{s:I, s:I}", "domain", (json_int_t)h->domains[i].domain,
				      "size_bytes", (json_int_t)h->domains[i].size_bytes);
		if (!e || json_array_append_new(domains, e) < 0)
			goto oom;
	}
	if (json_object_set_new(o, "tool", json_string(h->tool)) < 0 ||
	    json_object_set_new(o, "peak_bytes", bytes_or_null(h->peak_bytes)) < 0 ||
	    json_object_set_new(o, "current_bytes", bytes_or_null(h->current_bytes)) < 0)
		goto oom;
	json_object_set_new(o, "top", top);
	top = NULL;
	json_object_set_new(o, "domains", domains);
	domains = NULL;
	/* what only some tools give: absent otherwise (the helper's report reads back) */
	if (strcmp(h->tool, "heaptrack") == 0) {
		json_t *leaks = sites_json(h->leaks, h->nleaks);
		if (!leaks || json_object_set_new(o, "leaked_bytes", bytes_or_null(h->leaked_bytes)) < 0 ||
		    json_object_set_new(o, "leaks", leaks) < 0)
			goto oom;
	}
	if (h->nprocs > 0) {
		json_t *procs = json_array();
		for (int i = 0; procs && i < h->nprocs; i++) {
			json_t *e = json_pack("{s:o, s:b, s:I}", "pid", h->procs[i].pid > 0 ? json_integer(h->procs[i].pid)
											: json_null(),
					      "forked", h->procs[i].forked, "peak_bytes", (json_int_t)h->procs[i].peak_bytes);
			if (!e || json_array_append_new(procs, e) < 0) {
				json_decref(procs);
				procs = NULL;
			}
		}
		if (!procs || json_object_set_new(o, "processes", procs) < 0)
			goto oom;
	}
	if (h->flamegraph[0] && json_object_set_new(o, "flamegraph", json_string(h->flamegraph)) < 0)
		goto oom;
	return o;
oom:
	json_decref(top);
	json_decref(domains);
	json_decref(o);
	return NULL;
}

int64_t mg_pyheap_domain_bytes(const struct mg_pyheap *h, uint32_t domain)
{
	for (int i = 0; i < h->ndomains; i++)
		if (h->domains[i].domain == domain)
			return h->domains[i].size_bytes;
	return 0;
}
