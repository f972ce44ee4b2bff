/* config: strict loader for memgate's JSON config. Every error names the
 * origin and the JSON path of the offending value, so a CI log line is
 * enough to fix the file. Defaults are resolved here, once: the rest of
 * memgate only ever sees complete fixtures. */
#include "error.h"
#include "config.h"
#include "names.h"

#include "regex_guard.h"
#include "units.h"

#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 256
#define MAX_NAME_LEN 100
#define MAX_FILE_SIZE ((size_t)16 << 20)
#define MIN_KILL_ABOVE ((int64_t)1 << 20)
#define MAX_INTERVAL_MS ((int64_t)10 * 1000)

/* --------------------------------------------------------------- fixtures */

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void mg_fixture_init(struct mg_fixture *f)
{
	memset(f, 0, sizeof *f);
	f->stdin_mode = MG_STDIN_NULL;
	f->timeout_ms = MG_DEFAULT_TIMEOUT_MS;
	f->interval_ms = MG_DEFAULT_INTERVAL_MS;
	f->measurement = MG_METHOD_AUTO;
	for (int i = 0; i < MG_METRIC_COUNT; i++)
		f->limits[i] = MG_NO_LIMIT;
	f->kill_above = MG_NO_LIMIT;
	f->pss = false;
	f->regression.max_increase_pct_x100 = MG_NO_LIMIT;
	f->regression.min_increase_bytes = MG_NO_LIMIT;
	f->service.ready_timeout_ms = MG_DEFAULT_READY_TIMEOUT_MS;
	f->service.stop_signal = SIGTERM;
	f->service.stop_grace_ms = MG_DEFAULT_STOP_GRACE_MS;
	f->driver.timeout_ms = MG_DEFAULT_DRIVER_TIMEOUT_MS;
	f->heap.top = 10;
	f->warmup_pct = 20;
	f->cpu_budget_x100 = MG_DEFAULT_CPU_BUDGET_X100;
}

void mg_fixture_free(struct mg_fixture *f)
{
	if (!f)
		return;
	free(f->name);
	free_strv(f->argv);
	free(f->cwd);
	free_strv(f->env);
	free(f->stdin_path);
	free_strv(f->driver.argv);
	free(f->service.ready_target);
	for (size_t i = 0; i < f->nphase_limits; i++)
		free(f->phase_limits[i].match);
	free(f->phase_limits);
	memset(f, 0, sizeof *f);
}

void mg_config_free(struct mg_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nfixtures; i++)
		mg_fixture_free(&cfg->fixtures[i]);
	free(cfg->fixtures);
	free(cfg->cgroup_root);
	memset(cfg, 0, sizeof *cfg);
}

/* ----------------------------------------------------------------- errors */

struct ctx {
	const char *origin;
	char *err;
	size_t errlen;
};

/* The caller prints err as one line: never let a key or value from the
 * file break it. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* "ORIGIN: PATH: message" (or "ORIGIN: message" without a path); returns -1 */
__attribute__((format(printf, 3, 4)))
static int fail(const struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!c->err || !c->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (path && *path)
		snprintf(c->err, c->errlen, "%s: %s: %s", c->origin, path, msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->origin, msg);
	one_line(c->err);
	return -1;
}

static int oom(const struct ctx *c, const char *path)
{
	return fail(c, path, "out of memory");
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* "parent.key", or just "key" at the top level */
static void key_path(char *buf, const char *parent, const char *key)
{
	int n = *parent ? snprintf(buf, PATH_LEN, "%s.%s", parent, key)
			: snprintf(buf, PATH_LEN, "%s", key);
	if (n < 0)
		buf[0] = '\0';
}

static void index_path(char *buf, const char *parent, size_t i)
{
	if (snprintf(buf, PATH_LEN, "%s[%zu]", parent, i) < 0)
		buf[0] = '\0';
}

/* --------------------------------------------------------- did you mean */

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

/* Levenshtein distance; keys are short, longer words are never "close". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			row[j] = min3(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1]));
			diag = up;
		}
	}
	return row[lb];
}

/* The closest candidate within 2 edits (or a third of its length), or NULL.
 * A candidate must keep at least one of its characters to count as close. */
static const char *suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]), len = strlen(cands[i]);
		if (d < bestd && d < len && (d <= 2 || d <= len / 3)) {
			best = cands[i];
			bestd = d;
		}
	}
	return best;
}

static void join(char *buf, size_t len, const char *const *words, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", words[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static int unknown_key(const struct ctx *c, const char *path, const char *key,
		       const char *const *valid, size_t n)
{
	const char *close = suggest(key, valid, n);
	char list[256];

	if (close)
		return fail(c, path, "unknown key (did you mean \"%s\"?)", close);
	join(list, sizeof list, valid, n);
	return fail(c, path, "unknown key; valid keys: %s", list);
}

/* ------------------------------------------------------------ value types */

static int want_string(const struct ctx *c, const char *path, const json_t *v,
		       const char **s)
{
	if (!json_is_string(v))
		return fail(c, path, "expected a string, got %s", type_name(v));
	*s = json_string_value(v);
	return 0;
}

static int want_nonempty(const struct ctx *c, const char *path, const json_t *v,
			 const char **s)
{
	if (want_string(c, path, v, s))
		return -1;
	if (!**s)
		return fail(c, path, "must not be empty");
	return 0;
}

/* Replace *dst with a copy of s. */
static int set_string(const struct ctx *c, const char *path, char **dst, const char *s)
{
	char *d = strdup(s);

	if (!d)
		return oom(c, path);
	free(*dst);
	*dst = d;
	return 0;
}

static int get_size(const struct ctx *c, const char *path, const json_t *v, int64_t *out)
{
	char uerr[256];

	if (json_is_number(v))
		return fail(c, path, "expected a size string like \"200MiB\", got a number "
				     "(a size needs a unit: B, kB, MB, GB, KiB, MiB or GiB)");
	if (!json_is_string(v))
		return fail(c, path, "expected a size string like \"200MiB\", got %s",
			    type_name(v));
	if (mg_parse_size(json_string_value(v), out, uerr, sizeof uerr))
		return fail(c, path, "%s", uerr);
	return 0;
}

static int get_duration(const struct ctx *c, const char *path, const json_t *v,
			int64_t *out)
{
	char uerr[256];

	if (json_is_number(v))
		return fail(c, path, "expected a duration string like \"30s\", got a number "
				     "(a duration needs a unit: ms, s, min or h)");
	if (!json_is_string(v))
		return fail(c, path, "expected a duration string like \"30s\", got %s",
			    type_name(v));
	if (mg_parse_duration(json_string_value(v), out, uerr, sizeof uerr))
		return fail(c, path, "%s", uerr);
	return 0;
}

/* ------------------------------------------------------------ environment */

/* Append entry ("K=V", owned) to f->env, keeping it NULL-terminated. */
static int env_append(const struct ctx *c, const char *path, struct mg_fixture *f,
		      char *entry)
{
	char **env = realloc(f->env, (f->envc + 2) * sizeof *env);

	if (!env) {
		free(entry);
		return oom(c, path);
	}
	env[f->envc++] = entry;
	env[f->envc] = NULL;
	f->env = env;
	return 0;
}

/* Set KEY=VALUE, replacing an earlier value of KEY (a fixture overrides
 * the same variable from defaults). */
static int env_set(const struct ctx *c, const char *path, struct mg_fixture *f,
		   const char *key, const char *value)
{
	size_t klen = strlen(key);
	char *entry = malloc(klen + strlen(value) + 2);

	if (!entry)
		return oom(c, path);
	sprintf(entry, "%s=%s", key, value);
	for (size_t i = 0; i < f->envc; i++) {
		if (strncmp(f->env[i], entry, klen + 1) == 0) {
			free(f->env[i]);
			f->env[i] = entry;
			return 0;
		}
	}
	return env_append(c, path, f, entry);
}

/* -------------------------------------------------------- fixture fields */

/* The name becomes a status context and a file name: keep it to a
 * portable file-name alphabet. */
static int check_name(const struct ctx *c, const char *path, const char *name)
{
	size_t len = strlen(name);

	if (len > MAX_NAME_LEN)
		return fail(c, path, "\"%.40s...\" is longer than %d characters", name,
			    MAX_NAME_LEN);
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._-") != len)
		return fail(c, path, "\"%s\" may only contain letters, digits, '.', '_' and '-' "
				     "(it is used as a file name)", name);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return fail(c, path, "\"%s\" cannot be used as a file name", name);
	return 0;
}

int mg_heap_tool_from_name(const char *name, enum mg_heap_tool *out)
{
	static const struct {
		const char *name;
		enum mg_heap_tool tool;
	} tools[] = {{"tracemalloc", MG_HEAP_TRACEMALLOC}, {"memray", MG_HEAP_MEMRAY}, {"heaptrack", MG_HEAP_HEAPTRACK}};
	for (size_t i = 0; name && i < sizeof tools / sizeof *tools; i++)
		if (strcmp(name, tools[i].name) == 0) {
			*out = tools[i].tool;
			return 0;
		}
	return -1;
}

static int apply_name(const struct ctx *c, const char *path, const json_t *v,
		      struct mg_fixture *f)
{
	const char *s = NULL;

	if (want_nonempty(c, path, v, &s) || check_name(c, path, s))
		return -1;
	return set_string(c, path, &f->name, s);
}

static int command_arg(const struct ctx *c, const char *path, const json_t *v,
		       size_t i, char **argv, size_t *argc)
{
	char p[PATH_LEN];
	const char *s = NULL;

	index_path(p, path, i);
	if (!json_is_string(v))
		return fail(c, p, "expected a string, got %s", type_name(v));
	s = json_string_value(v);
	if (i == 0 && !*s)
		return fail(c, p, "the program name must not be empty");
	if (!(argv[i] = strdup(s)))
		return oom(c, p);
	*argc = i + 1;
	return 0;
}

/* A command array into *argv (NULL-terminated), replacing what was there. */
static int get_argv(const struct ctx *c, const char *path, const json_t *v, char ***argv, size_t *argc)
{
	size_t n = json_array_size(v);

	if (!json_is_array(v))
		return fail(c, path, "expected an array of strings like [\"prog\", \"arg\"], "
				     "got %s", type_name(v));
	if (n == 0)
		return fail(c, path, "empty command; give at least the program to run");
	free_strv(*argv);
	*argc = 0;
	/* stored before it is filled, so a failure half way is freed with f */
	if (!(*argv = calloc(n + 1, sizeof **argv)))
		return oom(c, path);
	for (size_t i = 0; i < n; i++)
		if (command_arg(c, path, json_array_get(v, i), i, *argv, argc))
			return -1;
	return 0;
}

static int apply_command(const struct ctx *c, const char *path, const json_t *v,
			 struct mg_fixture *f)
{
	return get_argv(c, path, v, &f->argv, &f->argc);
}

static int apply_cwd(const struct ctx *c, const char *path, const json_t *v,
		     struct mg_fixture *f)
{
	const char *s = NULL;

	if (want_nonempty(c, path, v, &s))
		return -1;
	return set_string(c, path, &f->cwd, s);
}

static int apply_env(const struct ctx *c, const char *path, const json_t *v,
		     struct mg_fixture *f)
{
	const char *key;
	json_t *val;
	char p[PATH_LEN];

	if (!json_is_object(v))
		return fail(c, path, "expected an object of strings like {\"KEY\": \"value\"}, "
				     "got %s", type_name(v));
	json_object_foreach((json_t *)v, key, val) {
		key_path(p, path, key);
		if (!*key)
			return fail(c, path, "a variable name must not be empty");
		if (strchr(key, '='))
			return fail(c, p, "a variable name must not contain '='");
		if (!json_is_string(val))
			return fail(c, p, "expected a string, got %s", type_name(val));
		if (env_set(c, p, f, key, json_string_value(val)))
			return -1;
	}
	return 0;
}

static int apply_stdin(const struct ctx *c, const char *path, const json_t *v,
		       struct mg_fixture *f)
{
	const char *s = json_string_value(v);

	if (!s || !*s)
		return fail(c, path, "expected \"null\", \"inherit\" or a file path, got %s",
			    s ? "an empty string" : type_name(v));
	free(f->stdin_path);
	f->stdin_path = NULL;
	if (strcmp(s, "null") == 0)
		f->stdin_mode = MG_STDIN_NULL;
	else if (strcmp(s, "inherit") == 0)
		f->stdin_mode = MG_STDIN_INHERIT;
	else
		f->stdin_mode = MG_STDIN_FILE;
	return f->stdin_mode == MG_STDIN_FILE ? set_string(c, path, &f->stdin_path, s) : 0;
}

static int apply_timeout(const struct ctx *c, const char *path, const json_t *v,
			 struct mg_fixture *f)
{
	int64_t ms;

	if (get_duration(c, path, v, &ms))
		return -1;
	if (ms <= 0)
		return fail(c, path, "must be greater than 0");
	f->timeout_ms = ms;
	return 0;
}

static int apply_interval(const struct ctx *c, const char *path, const json_t *v,
			  struct mg_fixture *f)
{
	int64_t ms;

	if (get_duration(c, path, v, &ms))
		return -1;
	if (ms < 1 || ms > MAX_INTERVAL_MS)
		return fail(c, path, "must be between 1ms and 10s, got \"%.40s\"",
			    json_string_value(v));
	f->interval_ms = ms;
	return 0;
}

static int apply_measurement(const struct ctx *c, const char *path, const json_t *v,
			     struct mg_fixture *f)
{
	const char *s = NULL, *close;

	if (want_string(c, path, v, &s))
		return -1;
	if (mg_method_from_name(s, &f->measurement) == 0)
		return 0;
	if ((close = suggest(s, mg_method_names, MG_METHOD_COUNT)))
		return fail(c, path, "unknown method \"%.40s\" (did you mean \"%s\"?)", s, close);
	return fail(c, path, "unknown method \"%.40s\"; expected \"auto\", \"cgroup-v2\", "
			     "\"cgroup-v1\" or \"proc\"", s);
}

/* "1MiB/s", "30MiB/min" (units.h) */
static int get_rate(const struct ctx *c, const char *path, const json_t *v, int64_t *per_s)
{
	char uerr[256];
	if (!json_is_string(v))
		return fail(c, path, "expected a rate like \"1MiB/s\" or \"30MiB/min\", got %s", type_name(v));
	if (mg_parse_rate(json_string_value(v), per_s, uerr, sizeof uerr) < 0)
		return fail(c, path, "%s", uerr);
	return 0;
}

static int apply_limits(const struct ctx *c, const char *path, const json_t *v,
			struct mg_fixture *f)
{
	const char *key;
	json_t *val;
	char p[PATH_LEN];
	enum mg_metric m;
	int64_t bytes;

	if (!json_is_object(v))
		return fail(c, path, "expected an object like {\"tree_rss\": \"200MiB\"}, got %s",
			    type_name(v));
	/* only the metrics named here change: the others keep the default */
	json_object_foreach((json_t *)v, key, val) {
		key_path(p, path, key);
		if (mg_metric_from_name(key, &m))
			return unknown_key(c, p, key, mg_metric_names, MG_METRIC_COUNT);
		if (m == MG_METRIC_GROWTH ? get_rate(c, p, val, &bytes) : get_size(c, p, val, &bytes))
			return -1;
		if (bytes == 0)
			return fail(c, p, "a limit of 0 bytes can never pass");
		f->limits[m] = bytes;
	}
	return 0;
}

static int apply_kill_above(const struct ctx *c, const char *path, const json_t *v,
			    struct mg_fixture *f)
{
	int64_t bytes;

	if (get_size(c, path, v, &bytes))
		return -1;
	if (bytes < MIN_KILL_ABOVE)
		return fail(c, path, "must be at least 1MiB, got \"%.40s\"", json_string_value(v));
	f->kill_above = bytes;
	return 0;
}

static int apply_pss(const struct ctx *c, const char *path, const json_t *v,
		     struct mg_fixture *f)
{
	if (!json_is_boolean(v))
		return fail(c, path, "expected true or false, got %s", type_name(v));
	f->pss = json_is_true(v);
	return 0;
}

/* ------------------------------------------------------------- regression */

/* Exact decimal: "12.34" -> 1234, never through a float. */
static int percent_digits(const char *s, int64_t *x100, const char **rest)
{
	int64_t v = 0;
	int decimals = -1;

	if (*s < '0' || *s > '9')
		return -1;
	for (; (*s >= '0' && *s <= '9') || (*s == '.' && decimals < 0); s++) {
		if (*s == '.') {
			decimals = 0;
			continue;
		}
		if (decimals >= 2 || v > 100000000)
			return -2;
		v = v * 10 + (*s - '0');
		decimals += decimals >= 0;
	}
	if (decimals == 0)
		return -1; /* "10.%" */
	for (int d = decimals < 0 ? 0 : decimals; d < 2; d++)
		v *= 10;
	*x100 = v;
	*rest = s;
	return 0;
}

int mg_parse_percent(const char *s, bool percent_optional, int64_t *x100, char *err, size_t errlen)
{
	const char *rest = NULL;
	int64_t v = 0;
	int rc = s ? percent_digits(s, &v, &rest) : -1;

	if (rc == 0 && *rest == ' ')
		rest++;
	if (rc == 0 && *rest == '%')
		rest++;
	else if (rc == 0 && !*rest && !percent_optional)
		rc = -3;
	if (rc == 0 && *rest)
		rc = -1;
	if (rc == 0 && v > 100000000)
		rc = -2;
	if (rc == 0) {
		*x100 = v;
		return 0;
	}
	if (err && errlen) {
		char shown[48];
		snprintf(shown, sizeof shown, "%.40s", s ? s : "");
		one_line(shown);
		snprintf(err, errlen, "percentage \"%s\" %s", shown,
			 rc == -2 ? "has more than 2 decimals or is above 1000000%"
			 : rc == -3 ? "needs a '%' sign, like \"10%\""
			 : "is not a number followed by '%', like \"10%\" or \"2.5%\"");
	}
	return -1;
}

void mg_format_percent(int64_t x100, char *buf, size_t len)
{
	int64_t whole = x100 / 100, frac = x100 % 100;

	if (!buf || !len)
		return;
	if (x100 < 0)
		snprintf(buf, len, "-");
	else if (frac == 0)
		snprintf(buf, len, "%lld%%", (long long)whole);
	else if (frac % 10 == 0)
		snprintf(buf, len, "%lld.%lld%%", (long long)whole, (long long)(frac / 10));
	else
		snprintf(buf, len, "%lld.%02lld%%", (long long)whole, (long long)frac);
}

static int get_percent(const struct ctx *c, const char *path, const json_t *v, int64_t *out)
{
	char perr[256];

	if (!json_is_string(v))
		return fail(c, path, "expected a percentage string like \"10%%\", got %s",
			    type_name(v));
	if (mg_parse_percent(json_string_value(v), false, out, perr, sizeof perr))
		return fail(c, path, "%s", perr);
	return 0;
}

static const char *const regression_keys[] = { "max_increase", "min_increase" };
#define NREGRESSION (sizeof regression_keys / sizeof regression_keys[0])

/* Like limits, only the keys named here change: a fixture may tighten the
 * percentage and keep the floor from defaults. */
static int apply_regression(const struct ctx *c, const char *path, const json_t *v,
			    struct mg_fixture *f)
{
	const char *key;
	json_t *val;
	char p[PATH_LEN];

	if (!json_is_object(v))
		return fail(c, path, "expected an object like {\"max_increase\": \"10%%\", "
				     "\"min_increase\": \"4MiB\"}, got %s", type_name(v));
	json_object_foreach((json_t *)v, key, val) {
		key_path(p, path, key);
		if (strcmp(key, "max_increase") == 0) {
			if (get_percent(c, p, val, &f->regression.max_increase_pct_x100))
				return -1;
		} else if (strcmp(key, "min_increase") == 0) {
			if (get_size(c, p, val, &f->regression.min_increase_bytes))
				return -1;
		} else {
			return unknown_key(c, p, key, regression_keys, NREGRESSION);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ service mode */

static const char *const ready_keys[] = { "tcp", "http", "stdout" };
static const char *const service_keys[] = { "command", "ready", "ready_timeout", "stop_signal", "stop_grace" };
static const char *const driver_keys[] = { "command", "timeout" };
static const char *const python_keys[] = { "heap", "top", "optional" };
static const char *const heap_keys[] = { "tool", "top", "optional", "native", "follow_fork" };
#define NKEYS(a) (sizeof a / sizeof a[0])

/* {"tcp": "127.0.0.1:{port}"} | {"http": "http://…"} | {"stdout": "REGEX"}: exactly one */
static int apply_ready(const struct ctx *c, const char *path, const json_t *v, struct mg_service *s)
{
	if (!json_is_object(v) || json_object_size(v) != 1)
		return fail(c, path, "expected one of {\"tcp\": \"127.0.0.1:{port}\"}, "
				     "{\"http\": \"http://127.0.0.1:{port}/health\"} or {\"stdout\": \"REGEX\"}");
	const char *key = json_object_iter_key(json_object_iter((json_t *)v));
	const json_t *val = json_object_get(v, key);
	char p[PATH_LEN];
	key_path(p, path, key);
	size_t k = 0;
	while (k < NKEYS(ready_keys) && strcmp(key, ready_keys[k]) != 0)
		k++;
	if (k == NKEYS(ready_keys))
		return unknown_key(c, p, key, ready_keys, NKEYS(ready_keys));
	const char *t;
	if (want_nonempty(c, p, val, &t))
		return -1;
	if (k == 1 && strncmp(t, "http://", 7) != 0)
		return fail(c, p, "expected an http:// URL on loopback, like \"http://127.0.0.1:{port}/health\"");
	if (k == 2) { /* catch a bad regex now, not after the service started */
		regex_t re;
		char why[400];
		/* bounded first: some short patterns take regcomp seconds and GiBs */
		if (mg_regex_check(t, why, sizeof why))
			return fail(c, p, "%s", why);
		int rc = regcomp(&re, t, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &re, why, sizeof why);
			return fail(c, p, "bad regular expression: %s", why);
		}
		regfree(&re);
	}
	s->ready = k == 0 ? MG_READY_TCP : k == 1 ? MG_READY_HTTP : MG_READY_STDOUT;
	return set_string(c, p, &s->ready_target, t);
}

static int get_signal(const struct ctx *c, const char *path, const json_t *v, int *sig)
{
	const char *s;
	if (want_nonempty(c, path, v, &s))
		return -1;
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (int i = 1; i < 32; i++) {
		const char *n = sigabbrev_np(i);
		if (n && strcmp(n, s) == 0) {
			*sig = i;
			return 0;
		}
	}
	return fail(c, path, "unknown signal \"%.20s\" (e.g. TERM, INT, QUIT, USR1, KILL)", s);
}

static int apply_service(const struct ctx *c, const char *path, const json_t *v, struct mg_fixture *f)
{
	const char *key;
	json_t *val;
	char p[PATH_LEN];
	if (!json_is_object(v))
		return fail(c, path, "expected an object like {\"command\": [...], \"ready\": {...}}, got %s",
			    type_name(v));
	f->has_service = true;
	json_object_foreach((json_t *)v, key, val) {
		key_path(p, path, key);
		int rc;
		if (strcmp(key, "command") == 0)
			rc = get_argv(c, p, val, &f->argv, &f->argc);
		else if (strcmp(key, "ready") == 0)
			rc = apply_ready(c, p, val, &f->service);
		else if (strcmp(key, "ready_timeout") == 0)
			rc = get_duration(c, p, val, &f->service.ready_timeout_ms);
		else if (strcmp(key, "stop_signal") == 0)
			rc = get_signal(c, p, val, &f->service.stop_signal);
		else if (strcmp(key, "stop_grace") == 0)
			rc = get_duration(c, p, val, &f->service.stop_grace_ms);
		else
			return unknown_key(c, p, key, service_keys, NKEYS(service_keys));
		if (rc)
			return -1;
	}
	if (!f->argv)
		return fail(c, path, "missing required key \"command\"");
	if (f->service.ready_timeout_ms <= 0)
		return fail(c, path, "ready_timeout must be greater than 0");
	return 0;
}

static int apply_driver(const struct ctx *c, const char *path, const json_t *v, struct mg_fixture *f)
{
	const char *key;
	json_t *val;
	char p[PATH_LEN];
	if (!json_is_object(v))
		return fail(c, path, "expected an object like {\"command\": [...], \"timeout\": \"60s\"}, got %s",
			    type_name(v));
	json_object_foreach((json_t *)v, key, val) {
		key_path(p, path, key);
		int rc;
		if (strcmp(key, "command") == 0)
			rc = get_argv(c, p, val, &f->driver.argv, &f->driver.argc);
		else if (strcmp(key, "timeout") == 0)
			rc = get_duration(c, p, val, &f->driver.timeout_ms);
		else
			return unknown_key(c, p, key, driver_keys, NKEYS(driver_keys));
		if (rc)
			return -1;
	}
	if (!f->driver.argv)
		return fail(c, path, "missing required key \"command\"");
	if (f->driver.timeout_ms <= 0)
		return fail(c, path, "timeout must be greater than 0");
	return 0;
}

/* "top" and "optional", shared by "heap" and "python" */
static int apply_heap_common(const struct ctx *c, const char *p, const char *key, const json_t *val,
			     struct mg_heap_cfg *h)
{
	if (strcmp(key, "top") == 0) {
		if (!json_is_integer(val) || json_integer_value(val) < 1 || json_integer_value(val) > 100)
			return fail(c, p, "expected an integer from 1 to 100");
		h->top = (int)json_integer_value(val);
		return 0;
	}
	if (!json_is_boolean(val))
		return fail(c, p, "expected true or false, got %s", type_name(val));
	if (strcmp(key, "optional") == 0)
		h->optional = json_is_true(val);
	else if (strcmp(key, "native") == 0)
		h->native = json_is_true(val);
	else
		h->follow_fork = json_is_true(val);
	return 0;
}

/* The older form: "python": {"heap": "tracemalloc"|"memray", "top", "optional"}. */
static int apply_python(const struct ctx *c, const char *path, const json_t *v, struct mg_fixture *f)
{
	const char *key;
	json_t *val;
	char p[PATH_LEN];
	if (!json_is_object(v))
		return fail(c, path, "expected an object like {\"heap\": \"tracemalloc\", \"top\": 10}, got %s",
			    type_name(v));
	json_object_foreach((json_t *)v, key, val) {
		key_path(p, path, key);
		if (strcmp(key, "heap") == 0) {
			enum mg_heap_tool t;
			if (mg_heap_tool_from_name(json_string_value(val), &t) < 0)
				return fail(c, p, "expected \"tracemalloc\" or \"memray\"");
			if (t == MG_HEAP_HEAPTRACK)
				return fail(c, p, "heaptrack is not a Python tool; write \"heap\": {\"tool\": "
						  "\"heaptrack\"} instead of \"python\"");
			f->heap.tool = t;
		} else if (strcmp(key, "top") == 0 || strcmp(key, "optional") == 0) {
			if (apply_heap_common(c, p, key, val, &f->heap))
				return -1;
		} else {
			return unknown_key(c, p, key, python_keys, NKEYS(python_keys));
		}
	}
	return 0;
}

/* "heap": {"tool": "tracemalloc"|"memray"|"heaptrack", "top", "optional",
 * "native", "follow_fork"} */
static int apply_heap(const struct ctx *c, const char *path, const json_t *v, struct mg_fixture *f)
{
	const char *key;
	json_t *val;
	char p[PATH_LEN];
	if (!json_is_object(v))
		return fail(c, path, "expected an object like {\"tool\": \"heaptrack\", \"top\": 10}, got %s",
			    type_name(v));
	json_object_foreach((json_t *)v, key, val) {
		key_path(p, path, key);
		if (strcmp(key, "tool") == 0) {
			if (mg_heap_tool_from_name(json_string_value(val), &f->heap.tool) < 0)
				return fail(c, p, "expected \"tracemalloc\", \"memray\" or \"heaptrack\"");
		} else if (strcmp(key, "top") == 0 || strcmp(key, "optional") == 0 || strcmp(key, "native") == 0 ||
			   strcmp(key, "follow_fork") == 0) {
			if (apply_heap_common(c, p, key, val, &f->heap))
				return -1;
		} else {
			return unknown_key(c, p, key, heap_keys, NKEYS(heap_keys));
		}
	}
	return 0;
}

static int apply_warmup(const struct ctx *c, const char *path, const json_t *v, struct mg_fixture *f)
{
	int64_t x100;
	if (get_percent(c, path, v, &x100))
		return -1;
	if (x100 > 9000)
		return fail(c, path, "at most 90%%: the growth fit needs the rest of the run");
	f->warmup_pct = (int)((x100 + 50) / 100);
	return 0;
}

/* "cpu_budget": "1%": the share of one core the per-process reads may use. */
static int apply_cpu_budget(const struct ctx *c, const char *path, const json_t *v, struct mg_fixture *f)
{
	int64_t x100;
	if (get_percent(c, path, v, &x100))
		return -1;
	if (x100 < 1 || x100 > 10000)
		return fail(c, path, "expected from 0.01%% to 100%% of a core, e.g. \"1%%\"");
	f->cpu_budget_x100 = x100;
	return 0;
}

/* The entry of f for match, made (with no limits) when there is none. */
static struct mg_phase_limits *phase_limits_slot(const struct ctx *c, const char *path, struct mg_fixture *f,
						 const char *match)
{
	for (size_t i = 0; i < f->nphase_limits; i++)
		if (strcmp(f->phase_limits[i].match, match) == 0)
			return &f->phase_limits[i];
	struct mg_phase_limits *v = realloc(f->phase_limits, (f->nphase_limits + 1) * sizeof *v);
	char *m = strdup(match);
	if (!v || !m) {
		free(m);
		if (v)
			f->phase_limits = v;
		oom(c, path);
		return NULL;
	}
	f->phase_limits = v;
	struct mg_phase_limits *pl = &v[f->nphase_limits++];
	pl->match = m;
	for (int i = 0; i < MG_METRIC_COUNT; i++)
		pl->limits[i] = MG_NO_LIMIT;
	return pl;
}

/* "phase_limits": {"startup": {"tree_rss": "120MiB"}, "tests/test_api.py::*":
 * {"cgroup": "200MiB"}}: per phase name or glob, memory limits; merged per
 * name with defaults, and per metric within one. */
static int apply_phase_limits(const struct ctx *c, const char *path, const json_t *v, struct mg_fixture *f)
{
	const char *match, *key;
	json_t *lims, *val;
	char p[PATH_LEN], q[PATH_LEN];
	if (!json_is_object(v))
		return fail(c, path, "expected an object like {\"startup\": {\"tree_rss\": \"120MiB\"}}, got %s",
			    type_name(v));
	json_object_foreach((json_t *)v, match, lims) {
		key_path(p, path, match);
		if (!*match || strlen(match) > 200)
			return fail(c, p, "a phase name or glob of 1 to 200 characters");
		if (!json_is_object(lims))
			return fail(c, p, "expected an object like {\"tree_rss\": \"120MiB\"}, got %s", type_name(lims));
		struct mg_phase_limits *pl = phase_limits_slot(c, p, f, match);
		if (!pl)
			return -1;
		json_object_foreach(lims, key, val) {
			enum mg_metric m;
			int64_t bytes;
			key_path(q, p, key);
			if (mg_metric_from_name(key, &m))
				return unknown_key(c, q, key, mg_metric_names, MG_METRIC_COUNT);
			if (m == MG_METRIC_GROWTH || m == MG_METRIC_GROWTH_PER_REQUEST || m == MG_METRIC_PYTHON_HEAP ||
			    m == MG_METRIC_HEAP || m == MG_METRIC_PSS)
				return fail(c, q, "%s is not measured per phase: put it in \"limits\"", key);
			if (get_size(c, q, val, &bytes))
				return -1;
			if (bytes == 0)
				return fail(c, q, "a limit of 0 bytes can never pass");
			pl->limits[m] = bytes;
		}
	}
	return 0;
}

typedef int (*apply_fn)(const struct ctx *, const char *, const json_t *, struct mg_fixture *);

static const struct field {
	const char *key;
	apply_fn apply;
	bool fixture_only; /* not allowed in "defaults" */
} fields[] = {
	{ "name", apply_name, true },
	{ "command", apply_command, true },
	{ "cwd", apply_cwd, false },
	{ "env", apply_env, false },
	{ "stdin", apply_stdin, false },
	{ "timeout", apply_timeout, false },
	{ "interval", apply_interval, false },
	{ "measurement", apply_measurement, false },
	{ "limits", apply_limits, false },
	{ "kill_above", apply_kill_above, false },
	{ "pss", apply_pss, false },
	{ "regression", apply_regression, false },
	{ "service", apply_service, true },
	{ "driver", apply_driver, true },
	{ "heap", apply_heap, false },
	{ "python", apply_python, false },
	{ "warmup", apply_warmup, false },
	{ "cpu_budget", apply_cpu_budget, false },
	{ "phase_limits", apply_phase_limits, false },
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static const struct field *find_field(const char *key)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].key, key) == 0)
			return &fields[i];
	return NULL;
}

/* The keys valid in a fixture, or in defaults (no name or command). */
static size_t field_keys(bool in_defaults, const char **keys)
{
	size_t n = 0;

	for (size_t i = 0; i < NFIELDS; i++)
		if (!(in_defaults && fields[i].fixture_only))
			keys[n++] = fields[i].key;
	return n;
}

/* Apply every key of obj (a fixture or "defaults") on top of f. */
static int apply_object(const struct ctx *c, const char *path, const json_t *obj,
			struct mg_fixture *f, bool in_defaults)
{
	const char *key, *keys[NFIELDS];
	json_t *v;
	char p[PATH_LEN];

	if (json_object_get(obj, "heap") && json_object_get(obj, "python")) {
		key_path(p, path, "heap");
		return fail(c, p, "both \"heap\" and \"python\" say how to attribute the heap; keep \"heap\" "
				  "(\"python\": {\"heap\": ...} is its older form)");
	}
	json_object_foreach((json_t *)obj, key, v) {
		const struct field *fd = find_field(key);
		key_path(p, path, key);
		if (fd && in_defaults && fd->fixture_only)
			return fail(c, p, "belongs in each fixture, not in defaults");
		if (!fd)
			return unknown_key(c, p, key, keys, field_keys(in_defaults, keys));
		if (fd->apply(c, p, v, f))
			return -1;
	}
	return 0;
}

/* dst (freshly initialised) becomes a deep copy of the defaults src. */
static int fixture_copy(const struct ctx *c, const char *path, struct mg_fixture *dst,
			const struct mg_fixture *src)
{
	*dst = *src;
	dst->name = dst->cwd = dst->stdin_path = NULL;
	dst->argv = dst->env = NULL;
	dst->argc = dst->envc = 0;
	dst->driver.argv = NULL; /* service and driver are fixture-only: never in defaults */
	dst->driver.argc = 0;
	dst->service.ready_target = NULL;
	dst->phase_limits = NULL;
	dst->nphase_limits = 0;
	for (size_t i = 0; i < src->nphase_limits; i++) {
		struct mg_phase_limits *pl = phase_limits_slot(c, path, dst, src->phase_limits[i].match);
		if (!pl)
			return -1;
		memcpy(pl->limits, src->phase_limits[i].limits, sizeof pl->limits);
	}
	if (src->cwd && set_string(c, path, &dst->cwd, src->cwd))
		return -1;
	if (src->stdin_path && set_string(c, path, &dst->stdin_path, src->stdin_path))
		return -1;
	for (size_t i = 0; i < src->envc; i++) {
		char *e = strdup(src->env[i]);
		if (!e)
			return oom(c, path);
		if (env_append(c, path, dst, e))
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- top level */

static const char *const top_keys[] = { "version", "cgroup_root", "defaults", "fixtures",
					"$schema" };
#define NTOP (sizeof top_keys / sizeof top_keys[0])

static int check_top_keys(const struct ctx *c, const json_t *root)
{
	const char *key;
	json_t *v;
	char p[PATH_LEN];

	json_object_foreach((json_t *)root, key, v) {
		size_t i = 0;
		while (i < NTOP && strcmp(top_keys[i], key) != 0)
			i++;
		key_path(p, "", key);
		if (i == NTOP)
			return unknown_key(c, p, key, top_keys, NTOP);
		if (strcmp(key, "$schema") == 0 && !json_is_string(v))
			return fail(c, p, "expected a string, got %s", type_name(v));
	}
	return 0;
}

static int load_version(const struct ctx *c, const json_t *root, struct mg_config *cfg)
{
	const json_t *v = json_object_get(root, "version");

	if (!v)
		return fail(c, "version", "missing; this memgate reads version 1 "
					  "(add \"version\": 1)");
	if (!json_is_integer(v))
		return fail(c, "version", "expected the integer 1, got %s", type_name(v));
	if (json_integer_value(v) != 1)
		return fail(c, "version", "unsupported version %lld; this memgate supports "
					  "version 1", (long long)json_integer_value(v));
	cfg->version = 1;
	return 0;
}

static int load_cgroup_root(const struct ctx *c, const json_t *root, struct mg_config *cfg)
{
	const json_t *v = json_object_get(root, "cgroup_root");
	const char *s = NULL;

	if (!v)
		return 0;
	if (want_nonempty(c, "cgroup_root", v, &s))
		return -1;
	if (s[0] != '/')
		return fail(c, "cgroup_root", "must be an absolute path, got \"%.60s\"", s);
	return set_string(c, "cgroup_root", &cfg->cgroup_root, s);
}

static int load_defaults(const struct ctx *c, const json_t *root, struct mg_fixture *def)
{
	const json_t *v = json_object_get(root, "defaults");

	if (!v)
		return 0;
	if (!json_is_object(v))
		return fail(c, "defaults", "expected an object, got %s", type_name(v));
	return apply_object(c, "defaults", v, def, true);
}

/* The duplicate name a front-to-back scan would meet first, found from the
 * JSON before the fixtures are loaded, in O(n log n): a pairwise scan of
 * 40000 fixtures took seconds (names.h). *dup = the fixture with a name an
 * earlier one has, *first that one; *dup = n when every name is unique. */
static int find_duplicate(const struct ctx *c, const json_t *fixtures, size_t *dup, size_t *first)
{
	size_t n = json_array_size(fixtures), k = 0;
	struct mg_name_ref *v = calloc(n ? n : 1, sizeof *v);
	const struct mg_name_ref *a, *b;

	*dup = *first = n;
	if (!v)
		return oom(c, "fixtures");
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_object_get(json_array_get(fixtures, i), "name"));
		if (name) /* anything else is refused when its fixture is loaded */
			v[k++] = (struct mg_name_ref){ name, 0, i };
	}
	mg_names_sort(v, k);
	if (mg_names_first_duplicate(v, k, &a, &b)) {
		*dup = b->index;
		*first = a->index;
	}
	free(v);
	return 0;
}

static int check_unique_name(const struct ctx *c, const char *path, const struct mg_config *cfg, size_t i,
			     size_t dup, size_t first)
{
	char p[PATH_LEN];

	if (i != dup)
		return 0;
	key_path(p, path, "name");
	return fail(c, p, "duplicate fixture name \"%s\" (also fixtures[%zu])", cfg->fixtures[i].name, first);
}

static int load_fixture(const struct ctx *c, const json_t *obj, size_t i, const struct mg_fixture *def,
			struct mg_config *cfg, size_t dup, size_t first)
{
	struct mg_fixture *f = &cfg->fixtures[i];
	char p[PATH_LEN];

	index_path(p, "fixtures", i);
	if (!json_is_object(obj))
		return fail(c, p, "expected an object, got %s", type_name(obj));
	if (fixture_copy(c, p, f, def) || apply_object(c, p, obj, f, false))
		return -1;
	if (!f->name)
		return fail(c, p, "missing required key \"name\"");
	if (f->has_service && json_object_get(obj, "command"))
		return fail(c, p, "has both \"command\" and \"service\"; a service fixture's command goes "
				  "in \"service\"");
	if (!f->argv)
		return fail(c, p, "missing required key \"command\" (or \"service\" with \"driver\")");
	if (f->has_service != (f->driver.argv != NULL))
		return fail(c, p, f->has_service ? "a \"service\" needs a \"driver\" to drive it"
						 : "a \"driver\" needs a \"service\" to drive");
	/* A pss limit cannot be checked without sampling pss, so asking for
	 * one turns sampling on (even over "pss": false) instead of failing. */
	if (f->limits[MG_METRIC_PSS] != MG_NO_LIMIT)
		f->pss = true;
	if (f->heap.tool != MG_HEAP_MEMRAY && (f->heap.native || f->heap.follow_fork)) {
		char hp[PATH_LEN];
		key_path(hp, p, f->heap.native ? "heap.native" : "heap.follow_fork");
		return fail(c, hp, "only memray has this option (set \"tool\": \"memray\", or remove it%s)",
			    f->heap.tool == MG_HEAP_HEAPTRACK && f->heap.native
				    ? ": heaptrack always records native code" : "");
	}
	return check_unique_name(c, p, cfg, i, dup, first);
}

static int load_fixtures(const struct ctx *c, const json_t *root,
			 const struct mg_fixture *def, struct mg_config *cfg)
{
	const json_t *v = json_object_get(root, "fixtures");
	size_t n = json_array_size(v);

	if (!v)
		return fail(c, "fixtures", "missing; add an array of fixtures");
	if (!json_is_array(v))
		return fail(c, "fixtures", "expected an array of fixtures, got %s", type_name(v));
	if (n == 0)
		return fail(c, "fixtures", "empty; add at least one fixture");
	if (!(cfg->fixtures = calloc(n, sizeof *cfg->fixtures)))
		return oom(c, "fixtures");
	/* all initialised up front, so mg_config_free can free any of them */
	for (size_t i = 0; i < n; i++)
		mg_fixture_init(&cfg->fixtures[i]);
	cfg->nfixtures = n;
	size_t dup, first;
	if (find_duplicate(c, v, &dup, &first))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (load_fixture(c, json_array_get(v, i), i, def, cfg, dup, first))
			return -1;
	return 0;
}

static int load_root(const struct ctx *c, const json_t *root, struct mg_config *cfg)
{
	struct mg_fixture def;
	int rc;

	if (!json_is_object(root))
		return fail(c, NULL, "the top level must be an object, got %s", type_name(root));
	/* unknown keys first: a misspelt "version" is better reported as such */
	if (check_top_keys(c, root) || load_version(c, root, cfg) ||
	    load_cgroup_root(c, root, cfg))
		return -1;
	mg_fixture_init(&def);
	rc = load_defaults(c, root, &def);
	if (rc == 0)
		rc = load_fixtures(c, root, &def, cfg);
	mg_fixture_free(&def);
	return rc;
}

/* ---------------------------------------------------------------- loaders */

static int load_buffer(const struct ctx *c, const char *buf, size_t len,
		       struct mg_config *out)
{
	json_error_t je;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	struct mg_config cfg = { 0 };
	int rc;

	if (!root) {
		if (je.line < 1)
			return fail(c, NULL, "%s", je.text);
		if (c->err && c->errlen) {
			snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->origin, je.line,
				 je.column, je.text);
			one_line(c->err);
		}
		return -1;
	}
	rc = load_root(c, root, &cfg);
	json_decref(root);
	if (rc) {
		mg_config_free(&cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int mg_config_load_string(const char *text, const char *origin, struct mg_config *out,
			  char *err, size_t errlen)
{
	struct ctx c = { origin ? origin : "<string>", err, errlen };

	if (!out)
		return fail(&c, NULL, "no place to store the config");
	memset(out, 0, sizeof *out);
	if (!text)
		return fail(&c, NULL, "no config text");
	return load_buffer(&c, text, strlen(text), out);
}

/* Make room for 64 KiB more; a config is never anywhere near 16 MiB, so a
 * bigger file (or an endless one like /dev/zero) is refused. */
static int grow(char **b, size_t *cap)
{
	char *nb;

	if (*cap >= MAX_FILE_SIZE) {
		errno = EFBIG;
		return -1;
	}
	if (!(nb = realloc(*b, *cap + 65536))) {
		errno = ENOMEM;
		return -1;
	}
	*b = nb;
	*cap += 65536;
	return 0;
}

/* Read all of path into a malloc'd buffer; -1 with errno set on failure. */
static int read_all(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, n = 0, got;
	char *b = NULL;
	int e;

	if (!f)
		return -1;
	do {
		if (n == cap && grow(&b, &cap))
			break;
		got = fread(b + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	e = errno;
	if (n < cap && !ferror(f)) {
		fclose(f);
		*buf = b;
		*len = n;
		return 0;
	}
	fclose(f);
	free(b);
	errno = e;
	return -1;
}

int mg_config_load_file(const char *path, struct mg_config *out, char *err, size_t errlen)
{
	struct ctx c = { path ? path : "<no path>", err, errlen };
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!out)
		return fail(&c, NULL, "no place to store the config");
	memset(out, 0, sizeof *out);
	if (!path)
		return fail(&c, NULL, "no config path");
	if (read_all(path, &buf, &len))
		return fail(&c, NULL, "cannot read: %s (%s)", MG_ERRNO(errno));
	rc = load_buffer(&c, buf, len, out);
	free(buf);
	return rc;
}
