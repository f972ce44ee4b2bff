/* render_github: GitHub Actions integration. The markdown summary is
 * appended to $GITHUB_STEP_SUMMARY, step outputs to $GITHUB_OUTPUT (verdict,
 * report, peak_<name>, <prefix>-<figure> per fixture and all of those
 * figures as one JSON object, "figures"), and
 * ::error workflow commands (at most 10, GitHub shows no more per step) to
 * the annotations stream: one per failing fixture (its reasons, then its
 * heap's largest site when it has heap attribution), then one per failing
 * phase while there is room, the rest counted in a last one. The report is validated before anything is
 * written; then every output is attempted and the first failure reported. */
#include "report/render.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/render_common.h"
#include "error.h"
#include "units.h"

#define MAX_ANNOTATIONS 10
#define OUTPUT_NAME_LEN 128

/* The first error wins; later steps still run. */
struct status {
	int rc;
	char *err;
	size_t errlen;
};

/* "cannot write PATH: ENAME (text)"; what is a path, or "the annotations". */
static void failed(struct status *st, const char *what)
{
	if (st->rc == 0)
		mg_cannot(st->err, st->errlen, "write", what, errno ? errno : EIO);
	st->rc = -1;
}

/* GitHub's file, opened to append: a regular file (or a device, such as
 * /dev/null). The measured program sees these paths in its environment and
 * may write where they point: a FIFO it left there would block fopen's
 * open for ever (no reader comes), so the open does not wait, and a FIFO
 * or socket is refused. NULL with errno, or with *not_file set. */
static FILE *open_append(const char *path, bool *not_file)
{
	*not_file = false;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0644);
	struct stat st;
	if (fd < 0) {
		*not_file = errno == ENXIO; /* a FIFO nobody reads */
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		*not_file = true;
		close(fd);
		return NULL;
	}
	int fl = fcntl(fd, F_GETFL);
	FILE *f = fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ? NULL : fdopen(fd, "a");
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

/* The open failed: say why. */
static void open_failed(struct status *st, const char *path, bool not_file)
{
	if (not_file && st->rc == 0)
		snprintf(st->err, st->errlen, "cannot write %s: not a regular file (a FIFO or socket); GitHub's "
			 "runner makes it a file", path);
	else
		failed(st, path);
	st->rc = -1;
}

/* ------------------------------------------------------ job summary */

static void step_summary(const struct mg_view *v, const char *path, struct status *st)
{
	bool not_file;
	FILE *f = open_append(path, &not_file);
	struct stat sb;
	if (!f) {
		open_failed(st, path, not_file);
		return;
	}
	/* the 1 MiB limit is per step: leave room for what is already there */
	size_t have = fstat(fileno(f), &sb) == 0 && sb.st_size > 0 ? (size_t)sb.st_size : 0;
	size_t budget = have < MG_MARKDOWN_BUDGET ? MG_MARKDOWN_BUDGET - have : 0;
	char err[256];
	if (have)
		fputc('\n', f); /* a paragraph break after the previous content */
	if (mg_markdown_view(v, f, budget, err, sizeof err) < 0 && st->rc == 0) {
		snprintf(st->err, st->errlen, "%s", err);
		st->rc = -1;
	}
	if (ferror(f) | (fclose(f) != 0)) /* | not ||: fclose must run */
		failed(st, path);
}

/* ---------------------------------------------------------- outputs */

/* A heredoc delimiter nobody can guess, so a value cannot end it early. */
static int delimiter(char *buf, size_t len, const char *value)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		unsigned char r[16];
		if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
			return -1;
		int n = snprintf(buf, len, "ghadelimiter_memgate_");
		for (size_t i = 0; i < sizeof r && (size_t)n + 3 <= len; i++)
			n += snprintf(buf + n, len - (size_t)n, "%02x", r[i]);
		if (!strstr(value, buf))
			return 0;
	}
	return -1;
}

/* name<<DELIM / value / DELIM: safe for any value, newlines included. */
static int heredoc(FILE *f, const char *name, const char *value)
{
	char delim[64];
	if (delimiter(delim, sizeof delim, value) < 0)
		return -1;
	fprintf(f, "%s<<%s\n%s\n%s\n", name, delim, value, delim);
	return 0;
}

/* "peak_" + the name with everything outside [A-Za-z0-9_-] as '_'. */
static void output_name(const char *fixture, char *buf, size_t len)
{
	size_t k = (size_t)snprintf(buf, len, "peak_");
	for (const char *s = fixture; *s && k + 1 < len; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			  c == '-';
		buf[k++] = ok ? c : '_';
	}
	buf[k] = '\0';
}

/* Output names are case-insensitive in expressions: "a.b" and "A_b"
 * would both be peak_a_b, so later ones get _2, _3, ... */
static bool taken(char (*names)[OUTPUT_NAME_LEN], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(names[i], name) == 0)
			return true;
	return false;
}

static void unique_name(char (*names)[OUTPUT_NAME_LEN], size_t n, const char *fixture)
{
	char base[OUTPUT_NAME_LEN - 12];
	output_name(fixture, base, sizeof base);
	snprintf(names[n], OUTPUT_NAME_LEN, "%s", base);
	for (unsigned k = 2; taken(names, n, names[n]); k++)
		snprintf(names[n], OUTPUT_NAME_LEN, "%s_%u", base, k);
}

static int peak_outputs(FILE *f, const struct mg_view *v)
{
	char (*names)[OUTPUT_NAME_LEN] = calloc(v->n ? v->n : 1, sizeof *names);
	if (!names)
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		const struct mg_rv_fixture *fx = &v->fixtures[i];
		unique_name(names, i, fx->name);
		/* a number (or nothing when not measured): no heredoc needed */
		if (fx->ran && fx->tree_rss_bytes != MG_NULL_FIG)
			fprintf(f, "%s=%lld\n", names[i], (long long)fx->tree_rss_bytes);
		else
			fprintf(f, "%s=\n", names[i]);
	}
	free(names);
	return 0;
}

/* ------------------------------------------- per-fixture figure outputs */

/* The figures of each fixture, named "<prefix>-<figure>" (bytes, empty
 * when not measured). */
static const char *const figure_names[] = {"tree-rss", "cgroup", "cgroup-anon", "max-process-hwm", "pss"};
#define NFIGURES (sizeof figure_names / sizeof figure_names[0])
#define PREFIX_LEN 300 /* a name's 256 bytes, a "-N" suffix */

static void figures_of(const struct mg_rv_fixture *f, int64_t out[NFIGURES])
{
	const int64_t all[NFIGURES] = {f->tree_rss_bytes, f->cgroup_bytes, f->cgroup_anon_bytes,
				       f->max_process_hwm_bytes, f->tree_pss_bytes};
	for (size_t i = 0; i < NFIGURES; i++)
		out[i] = f->ran && all[i] != MG_NULL_FIG && all[i] >= 0 ? all[i] : MG_NULL_FIG;
}

/* The prefix of a fixture's figure outputs: ASCII letters lowercased, every
 * run of other characters than a-z and 0-9 one '-', none at either end;
 * "fixture" when nothing is left. ("API v2 (cold)" -> "api-v2-cold") */
static void figure_prefix(const char *fixture, char *buf, size_t len)
{
	size_t k = 0;
	bool dash = false;
	for (const unsigned char *s = (const unsigned char *)fixture; *s && k + 2 < len; s++) {
		unsigned char c = *s >= 'A' && *s <= 'Z' ? (unsigned char)(*s - 'A' + 'a') : *s;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && k)
				buf[k++] = '-';
			buf[k++] = (char)c;
			dash = false;
		} else {
			dash = true;
		}
	}
	buf[k] = '\0';
	if (!k)
		snprintf(buf, len, "fixture");
}

/* The prefixes taken so far: a set by hash (FNV-1a, open addressing), so
 * a merged report of thousands of fixtures is not quadratic in strcmp. */
struct prefixes {
	char (*names)[PREFIX_LEN];
	size_t n;
	size_t *slot; /* index + 1 into names, 0 free */
	size_t cap;   /* a power of two, over twice n */
};

static size_t fnv1a(const char *s)
{
	size_t h = (size_t)14695981039346656037ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
	return h;
}

static bool prefix_taken(const struct prefixes *p, const char *name, size_t *at)
{
	size_t i = fnv1a(name) & (p->cap - 1);
	for (; p->slot[i]; i = (i + 1) & (p->cap - 1))
		if (strcmp(p->names[p->slot[i] - 1], name) == 0)
			return true;
	*at = i;
	return false;
}

/* Store fixture's prefix, unique: the second "a-b" is "a-b-2", and so on. */
static const char *prefix_add(struct prefixes *p, const char *fixture)
{
	char base[PREFIX_LEN - 24];
	size_t at = 0;
	figure_prefix(fixture, base, sizeof base);
	snprintf(p->names[p->n], PREFIX_LEN, "%s", base);
	for (unsigned k = 2; prefix_taken(p, p->names[p->n], &at); k++)
		snprintf(p->names[p->n], PREFIX_LEN, "%s-%u", base, k);
	p->slot[at] = ++p->n;
	return p->names[p->n - 1];
}

/* "<prefix>-tree-rss=68481024" ... per fixture, then the same as one JSON
 * object, "figures", for a composite action (which can only pass on
 * outputs it names in advance). -1 on a failure (errno set). */
static int figure_outputs(FILE *f, const struct mg_view *v)
{
	struct prefixes p = {0};
	p.cap = 16;
	while (p.cap < 2 * v->n + 2)
		p.cap *= 2;
	p.names = calloc(v->n ? v->n : 1, sizeof *p.names);
	p.slot = calloc(p.cap, sizeof *p.slot);
	json_t *all = json_object();
	int rc = p.names && p.slot && all ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < v->n; i++) {
		const char *prefix = prefix_add(&p, v->fixtures[i].name);
		int64_t fig[NFIGURES];
		figures_of(&v->fixtures[i], fig);
		for (size_t k = 0; rc == 0 && k < NFIGURES; k++) {
			char key[PREFIX_LEN + 24];
			snprintf(key, sizeof key, "%s-%s", prefix, figure_names[k]);
			if (fig[k] == MG_NULL_FIG)
				fprintf(f, "%s=\n", key);
			else
				fprintf(f, "%s=%lld\n", key, (long long)fig[k]);
			if (json_object_set_new(all, key, fig[k] == MG_NULL_FIG ? json_null()
										: json_integer((json_int_t)fig[k])) < 0)
				rc = -1;
		}
	}
	char *text = rc == 0 ? json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (rc == 0 && !text)
		rc = -1;
	if (rc < 0)
		errno = ENOMEM;
	else
		rc = heredoc(f, "figures", text);
	free(text);
	json_decref(all);
	free(p.names);
	free(p.slot);
	return rc;
}

static void outputs(const struct mg_view *v, const char *report_path, const char *path, struct status *st)
{
	bool not_file;
	FILE *f = open_append(path, &not_file);
	if (!f) {
		open_failed(st, path, not_file);
		return;
	}
	errno = 0; /* set again only by a failure below (a write, getrandom, calloc) */
	fprintf(f, "verdict=%s\n", mg_verdict_name(v->verdict));
	int rc = report_path ? heredoc(f, "report", report_path) : 0;
	if (rc == 0)
		rc = peak_outputs(f, v);
	if (rc == 0)
		rc = figure_outputs(f, v);
	if (rc < 0 && errno) {
		failed(st, path);
	} else if (rc < 0 && st->rc == 0) {
		snprintf(st->err, st->errlen, "cannot write %s: no heredoc delimiter that the value does not hold", path);
		st->rc = -1;
	}
	if (ferror(f) | (fclose(f) != 0)) /* | not ||: fclose must run */
		failed(st, path);
}

/* ------------------------------------------------------ annotations */

/* Workflow command escaping: data needs % CR LF escaped, properties also
 * ':' and ','. */
static void gh_escape(FILE *out, const char *s, bool property)
{
	for (; *s; s++) {
		switch (*s) {
		case '%': fputs("%25", out); break;
		case '\r': fputs("%0D", out); break;
		case '\n': fputs("%0A", out); break;
		case ':': fputs(property ? "%3A" : ":", out); break;
		case ',': fputs(property ? "%2C" : ",", out); break;
		default: fputc(*s, out);
		}
	}
}

static void annotate(FILE *out, const struct mg_rv_fixture *f)
{
	fputs("::error title=", out);
	gh_escape(out, "memgate: ", true);
	gh_escape(out, f->name, true);
	fputs("::", out);
	for (size_t i = 0; i < f->reasons.n; i++) {
		gh_escape(out, i ? "; " : "", false);
		gh_escape(out, f->reasons.v[i], false);
	}
	if (!f->reasons.n)
		fputs(f->verdict == MG_VERDICT_ERROR ? "could not be measured" : "failed", out);
	if (f->heap) { /* where to look: the heap's largest site (heaptrack: its largest leak) */
		char heap[MG_RV_HEAP_BRIEF];
		mg_rv_heap_brief(f->heap, heap, sizeof heap);
		gh_escape(out, "; ", false);
		gh_escape(out, heap, false);
	}
	fputc('\n', out);
}

/* "::error title=memgate: api / startup::cgroup 301.0 MiB > limit 256.0
 * MiB (160 ms, exact)" */
static void annotate_phase(FILE *out, const struct mg_rv_fixture *f, const struct mg_rv_phase *p)
{
	char why[400], t[32];
	struct mg_rv_phase_row row;
	mg_rv_phase_row(f, p, &row);
	mg_rv_phase_failure(p, why, sizeof why);
	mg_format_duration(p->to_ms - p->from_ms, t, sizeof t);
	fputs("::error title=", out);
	gh_escape(out, "memgate: ", true);
	gh_escape(out, f->name, true);
	gh_escape(out, " / ", true);
	gh_escape(out, p->name, true);
	fputs("::", out);
	gh_escape(out, *why ? why : p->verdict == MG_VERDICT_ERROR ? "could not be measured" : "failed", false);
	fprintf(out, " (%s, %s)\n", t, row.exact ? "exact" : "sampled");
}

static size_t bad_phases(const struct mg_view *v)
{
	size_t n = 0, k;
	for (size_t i = 0; i < v->n; i++) {
		mg_rv_phase_order(&v->fixtures[i], NULL, 0, &k);
		n += k;
	}
	return n;
}

/* "… and 3 more failing fixtures and 12 more failing phases" */
static void more(FILE *out, size_t fixtures, size_t phases)
{
	fputs("::error title=memgate::\xE2\x80\xA6 and ", out);
	if (fixtures)
		fprintf(out, "%zu more failing fixture%s", fixtures, fixtures == 1 ? "" : "s");
	if (fixtures && phases)
		fputs(" and ", out);
	if (phases)
		fprintf(out, "%zu more failing phase%s", phases, phases == 1 ? "" : "s");
	fputs("; see the job summary\n", out);
}

/* Most severe first: errors, then failures by how far over the limit;
 * then, while there is room, one per failing phase, each fixture's worst
 * first (a fixture's own annotation already lists its reasons). */
static void annotations(const struct mg_view *v, FILE *out, struct status *st)
{
	size_t bad = v->nfail + v->nerror, nphases = bad_phases(v);
	size_t *order = mg_rv_severity_order(v);
	if (!order) {
		failed(st, "the annotations");
		return;
	}
	size_t total = bad + nphases, room = total <= MAX_ANNOTATIONS ? total : MAX_ANNOTATIONS - 1;
	size_t shown = bad < room ? bad : room, shown_phases = 0;
	for (size_t k = 0; k < shown; k++)
		annotate(out, &v->fixtures[order[k]]);
	for (size_t k = 0; k < v->n && shown + shown_phases < room; k++) {
		const struct mg_rv_fixture *f = &v->fixtures[order[k]];
		size_t idx[MAX_ANNOTATIONS], nbad;
		size_t got = mg_rv_phase_order(f, idx, MAX_ANNOTATIONS, &nbad);
		for (size_t i = 0; i < got && i < nbad && shown + shown_phases < room; i++, shown_phases++)
			annotate_phase(out, f, &f->phases[idx[i]]);
	}
	if (shown + shown_phases < total)
		more(out, bad - shown, nphases - shown_phases);
	free(order);
	if (fflush(out) != 0 || ferror(out))
		failed(st, "the annotations");
}

int mg_render_github(json_t *report, const char *report_path, const struct mg_github_env *env,
		     char *err, size_t errlen)
{
	struct mg_view v;
	struct status st = {0, err, errlen};
	if (mg_view_load(report, &v, err, errlen) < 0)
		return -1;
	errno = 0;
	if (env->step_summary_path)
		step_summary(&v, env->step_summary_path, &st);
	if (env->output_path)
		outputs(&v, report_path, env->output_path, &st);
	if (env->annotations)
		annotations(&v, env->annotations, &st);
	mg_view_free(&v);
	return st.rc;
}

/* A path from the environment; empty is unset (a workflow that clears a
 * variable sets it to ""). */
static const char *env_path(const char *name)
{
	const char *s = getenv(name);
	return s && *s ? s : NULL;
}

int mg_render_github_env(json_t *report, const char *report_path, FILE *annotations, char *err, size_t errlen)
{
	struct mg_github_env env = {
		.step_summary_path = env_path("GITHUB_STEP_SUMMARY"),
		.output_path = env_path("GITHUB_OUTPUT"),
		.annotations = annotations,
	};
	return mg_render_github(report, report_path, &env, err, errlen);
}
