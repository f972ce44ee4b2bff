#include "ci/checks.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/forge.h"
#include "ci/status.h"
#include "ci/text.h"
#include "names.h"
#include "verdict.h"

#define TRUNCATED_NOTE "\n\n… truncated"

/* Check run conclusion: an error is a failure too. "neutral" would count as
 * passing for a required check, and memgate never passes what it did not
 * measure. */
static const char *conclusion(enum mg_verdict v)
{
	return v == MG_VERDICT_PASS ? "success" : "failure";
}

/* ---- the check run ------------------------------------------------------------------ */

/* {title, summary (cut), annotations[from, from+50)} */
static json_t *check_output(const char *title, const char *summary, json_t *annotations, size_t from)
{
	char *cut = mg_post_cut_bytes(summary ? summary : "", MG_POST_SUMMARY_MAX, TRUNCATED_NOTE);
	json_t *batch = json_array();
	size_t n = json_array_size(annotations);
	for (size_t i = from; i < n && i < from + MG_POST_ANNOTATIONS_MAX; i++)
		json_array_append(batch, json_array_get(annotations, i));
	json_t *out = cut && batch
			      ? json_pack("{s:s, s:s, s:O}", "title", title, "summary", cut, "annotations", batch)
			      : NULL;
	free(cut);
	json_decref(batch);
	return out;
}

#define MG_CHECK_REPLY_BYTES (1024 * 1024)

long long mg_post_check_run(const struct mg_post_opts *o, const char *conclusion_name, const char *title,
			    const char *summary, json_t *annotations, char *err, size_t errlen)
{
	char *url = mg_ci_printf("%s/repos/%s/check-runs", o->api_url, o->repo);
	json_t *output = check_output(title, summary, annotations, 0);
	json_t *body = output ? json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", "memgate", "head_sha", o->sha,
					  "status", "completed", "conclusion", conclusion_name, "output", output)
			      : NULL;
	if (body && o->target_url && json_object_set_new(body, "details_url", json_string(o->target_url)) < 0) {
		json_decref(body);
		body = NULL;
	}
	json_t *reply = NULL;
	long long id = -1;
	if (!url || !body)
		snprintf(err, errlen, "out of memory (or a string that is not UTF-8)");
	/* GitHub echoes the whole check run back, summary (up to 65535
	 * characters) included: room for it, or the id would not be read */
	else if (mg_forge_request(o, "POST", url, body, MG_CHECK_REPLY_BYTES, NULL, &reply, err, errlen) == 0) {
		json_t *jid = json_object_get(reply, "id");
		if (json_is_integer(jid))
			id = json_integer_value(jid);
		else
			snprintf(err, errlen, "POST %s: the response has no check run id", url);
	}
	json_decref(reply);
	json_decref(body);
	free(url);
	/* GitHub takes 50 annotations per request: PATCH appends the rest */
	for (size_t from = MG_POST_ANNOTATIONS_MAX; id >= 0 && from < json_array_size(annotations);
	     from += MG_POST_ANNOTATIONS_MAX) {
		char *purl = mg_ci_printf("%s/repos/%s/check-runs/%lld", o->api_url, o->repo, id);
		json_t *pout = check_output(title, summary, annotations, from);
		json_t *pbody = pout ? json_pack("{s:o}", "output", pout) : NULL;
		if (!purl || !pbody) {
			snprintf(err, errlen, "out of memory");
			id = -1;
		} else if (mg_post_send_json(o, "PATCH", purl, pbody, NULL, err, errlen) < 0)
			id = -1;
		json_decref(pbody);
		free(purl);
	}
	return id;
}

/* ---- the config's "name" lines (an index: a config scan per fixture was
 * quadratic) ---------------------------------------------------------------- */

#define CONFIG_LINES_MAX_BYTES ((size_t)16 << 20) /* config.c's own cap */

static char *read_small_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "r");
	char *buf = f ? malloc(max + 1) : NULL;
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	bool ok = buf && !ferror(f) && n <= max;
	if (f)
		fclose(f);
	if (!ok) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Index the quoted strings of one "name" line starting at line (NUL-terminated). */
static int index_line(struct mg_post_config_lines *cl, size_t *cap, char *line, size_t lineno)
{
	char *q = strchr(line, '"');
	while (q) {
		char *next = strchr(q + 1, '"');
		if (!next)
			break;
		if (cl->n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			struct mg_name_ref *nv = realloc(cl->v, ncap * sizeof *nv);
			if (!nv)
				return -1;
			cl->v = nv;
			*cap = ncap;
		}
		cl->v[cl->n++] = (struct mg_name_ref){q + 1, lineno, 0};
		q = next;
	}
	/* cut the strings apart only now: each quote ends one and starts the next */
	for (q = strchr(line, '"'); q; q = strchr(q + 1, '"'))
		*q = '\0';
	return 0;
}

void mg_post_config_lines_load(const char *path, struct mg_post_config_lines *cl)
{
	size_t cap = 0, lineno = 1;
	memset(cl, 0, sizeof *cl);
	if (!(cl->text = read_small_file(path, CONFIG_LINES_MAX_BYTES)))
		return; /* no config at hand: every annotation points at line 1 */
	for (char *line = cl->text; line; lineno++) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strstr(line, "\"name\"") && index_line(cl, &cap, line, lineno) < 0)
			cl->n = 0; /* out of memory: line 1 for all */
		line = nl ? nl + 1 : NULL;
	}
	mg_names_sort(cl->v, cl->n);
}

void mg_post_config_lines_free(struct mg_post_config_lines *cl)
{
	free(cl->text);
	free(cl->v);
	memset(cl, 0, sizeof *cl);
}

int mg_post_config_line(const struct mg_post_config_lines *cl, const char *name)
{
	const struct mg_name_ref *r = mg_names_find(cl->v, cl->n, name);
	return r && r->group <= (size_t)INT_MAX ? (int)r->group : 1;
}

/* One annotation per fixture, at its line of the config: a notice when it
 * passed, a failure otherwise (error included: see conclusion()). */
static json_t *annotation(const struct mg_post_opts *o, const struct mg_post_config_lines *cl, json_t *fixture)
{
	const char *name = json_string_value(json_object_get(fixture, "name"));
	enum mg_verdict v = mg_post_fixture_verdict(fixture);
	bool pass = v == MG_VERDICT_PASS;
	char *message = pass ? mg_post_full_description(fixture) : mg_post_reasons(fixture, "\n");
	char title[300];
	snprintf(title, sizeof title, "%s%s: %s", o->context_prefix, name, mg_verdict_name(v));
	int line = mg_post_config_line(cl, name);
	json_t *a = message ? json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "path", o->config_path,
					"start_line", line, "end_line", line,
					"annotation_level", pass ? "notice" : "failure",
					"title", title, "message", message)
			    : NULL;
	free(message);
	return a;
}

/* "- `api`: **fail**: tree_rss ..." per fixture: the summary when the
 * caller has no markdown of its own. */
static char *plain_summary(json_t *fixtures)
{
	char *text = NULL;
	size_t len = 0, i;
	json_t *f;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return NULL;
	json_array_foreach(fixtures, i, f) {
		char *d = mg_post_full_description(f);
		fprintf(m, "- `%s`: **%s**: %s\n", json_string_value(json_object_get(f, "name")),
			json_string_value(json_object_get(f, "verdict")), d ? d : "");
		free(d);
	}
	if (fclose(m) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int mg_post_checks(json_t *fixtures, const struct mg_post_opts *o, const char *markdown, FILE *out,
		   char *err, size_t errlen)
{
	size_t i, counts[3] = {0};
	json_t *f, *annotations = json_array();
	enum mg_verdict worst = MG_VERDICT_PASS;
	bool oom = !annotations;
	struct mg_post_config_lines cl;
	mg_post_config_lines_load(o->config_path, &cl);
	json_array_foreach(fixtures, i, f) {
		enum mg_verdict v = mg_post_fixture_verdict(f);
		counts[v]++;
		worst = v > worst ? v : worst; /* as mg_verdict_worst: pass < fail < error */
		oom |= json_array_append_new(annotations, annotation(o, &cl, f)) < 0;
	}
	mg_post_config_lines_free(&cl);
	char title[160];
	snprintf(title, sizeof title, "%zu passed, %zu failed, %zu not measured", counts[0], counts[1], counts[2]);
	char *plain = markdown ? NULL : plain_summary(fixtures);
	long long id = -1;
	if (oom || (!markdown && !plain))
		snprintf(err, errlen, "out of memory");
	else
		id = mg_post_check_run(o, conclusion(worst), title, markdown ? markdown : plain, annotations, err, errlen);
	if (id >= 0 && out)
		fprintf(out, "posted check run memgate: %s (%s, id %lld)\n", conclusion(worst), title, id);
	free(plain);
	json_decref(annotations);
	return id >= 0 ? 0 : -1;
}
