#include "ci/forge.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/secret.h"
#include "ci/text.h"

/* %-encode a GitLab project path ("group/app" -> "group%2Fapp"). */
static char *url_escape(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *p = out;
	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c))
			*p++ = (char)c;
		else
			p += sprintf(p, "%%%02X", c);
	}
	*p = '\0';
	return out;
}

char *mg_forge_project_url(const struct mg_post_opts *o)
{
	if (o->forge == MG_FORGE_GITHUB)
		return mg_ci_printf("%s/repos/%s", o->api_url, o->repo);
	char *project = url_escape(o->repo);
	char *url = project ? mg_ci_printf("%s/projects/%s", o->api_url, project) : NULL;
	free(project);
	return url;
}

char *mg_post_status_url(const struct mg_post_opts *o)
{
	char *project = mg_forge_project_url(o);
	char *url = project ? mg_ci_printf("%s/statuses/%s", project, o->sha) : NULL;
	free(project);
	return url;
}

/* The headers of a request; auth holds the token and is wiped by headers_free. */
struct headers {
	char *auth;
	const char *list[8];
};

static int headers_init(struct headers *h, const struct mg_post_opts *o, bool has_body)
{
	static const char *const kinds[] = {"Authorization: Bearer", "PRIVATE-TOKEN:", "JOB-TOKEN:"};
	size_t n = 0;
	memset(h, 0, sizeof *h);
	if (o->token) {
		h->auth = mg_ci_printf("%s %s", kinds[o->token_kind], o->token);
		if (!h->auth)
			return -1;
		h->list[n++] = h->auth;
	}
	if (o->forge == MG_FORGE_GITHUB) {
		h->list[n++] = "Accept: application/vnd.github+json";
		h->list[n++] = "X-GitHub-Api-Version: 2022-11-28";
	} else {
		h->list[n++] = "Accept: application/json";
	}
	h->list[n++] = "User-Agent: memgate/" MG_VERSION;
	if (has_body)
		h->list[n++] = "Content-Type: application/json";
	h->list[n] = NULL;
	return 0;
}

static void headers_free(struct headers *h)
{
	mg_ci_wipe_free(h->auth);
	h->auth = NULL;
}

/* "Validation Failed: description is too long ...; state is invalid" */
static void append_api_messages(FILE *m, json_t *doc)
{
	json_t *msg = json_object_get(doc, "message"), *errs = json_object_get(doc, "errors");
	json_t *error = json_object_get(doc, "error");
	const char *sep = ": ";
	if (json_is_string(msg))
		fprintf(m, "%s%s", sep, json_string_value(msg));
	else if (msg) { /* GitLab: {"message": {"state": ["is invalid"]}} */
		char *s = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(m, "%s%s", sep, s ? s : "");
		free(s);
	}
	if (json_is_string(error))
		fprintf(m, "%s%s", msg ? "; " : sep, json_string_value(error));
	size_t i;
	json_t *e;
	json_array_foreach(errs, i, e) {
		json_t *em = json_object_get(e, "message");
		const char *field = json_string_value(json_object_get(e, "field"));
		const char *code = json_string_value(json_object_get(e, "code"));
		sep = i ? "; " : ": ";
		if (json_is_string(em))
			fprintf(m, "%s%s", sep, json_string_value(em));
		else if (json_is_string(e))
			fprintf(m, "%s%s", sep, json_string_value(e));
		else if (field || code)
			fprintf(m, "%s%s%s%s", sep, field ? field : "", field && code ? " " : "", code ? code : "");
	}
}

/* Control characters (newlines of an HTML page...) become spaces. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = ' ';
}

void mg_post_api_error(long status, const char *body, const char *token, char *err, size_t errlen)
{
	char *text = NULL, *safe = mg_ci_scrub(body ? strdup(body) : NULL, token);
	size_t tlen = 0;
	FILE *m = open_memstream(&text, &tlen);
	if (!m) {
		snprintf(err, errlen, "%ld %s", status, mg_http_reason(status));
		free(safe);
		return;
	}
	const char *reason = mg_http_reason(status);
	fprintf(m, "%ld%s%s", status, reason[0] ? " " : "", reason);
	json_t *doc = safe ? json_loads(safe, 0, NULL) : NULL;
	if (json_is_object(doc))
		append_api_messages(m, doc);
	else if (safe && safe[0]) {
		char *excerpt = mg_post_cut_bytes(safe, 200, "…");
		fprintf(m, ": %s", excerpt ? excerpt : "");
		free(excerpt);
	}
	json_decref(doc);
	fclose(m);
	if (text)
		one_line(text);
	mg_ci_set_err(err, errlen, text ? text : "", token);
	free(text);
	free(safe);
}

/* The one request every forge call makes; strict: a 2xx answer cut at the
 * cap is an error (the caller needs all of it). */
static int send_json(const struct mg_post_opts *o, const char *method, const char *url, json_t *body,
		     size_t max_body, bool strict, long *status, json_t **reply, char *err, size_t errlen)
{
	struct headers h;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (status)
		*status = 0;
	if (reply)
		*reply = NULL;
	if ((body && !text) || headers_init(&h, o, body != NULL) < 0) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct mg_http_request req = {.method = method, .url = url, .headers = h.list, .body = text};
	struct mg_http_response resp;
	struct mg_http_opts http = o->http;
	char herr[1024];
	if (max_body)
		http.max_body = max_body;
	int rc = mg_http_send(&req, &http, &resp, herr, sizeof herr);
	headers_free(&h);
	free(text);
	if (status && rc == 0)
		*status = resp.status;
	if (rc < 0)
		mg_ci_set_err(err, errlen, herr, o->token);
	else if (resp.status < 200 || resp.status > 299) {
		char aerr[1024];
		mg_post_api_error(resp.status, resp.body, o->token, aerr, sizeof aerr);
		char *full = mg_ci_printf("%s (%d attempt%s)", aerr, resp.attempts, resp.attempts == 1 ? "" : "s");
		mg_ci_set_err(err, errlen, full ? full : aerr, o->token);
		free(full);
		rc = -1;
	} else if (strict && resp.truncated) {
		snprintf(err, errlen, "%ld %s, but the answer is over %zu bytes: not read", resp.status,
			 mg_http_reason(resp.status), http.max_body);
		rc = -1;
	} else if (reply) {
		*reply = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
	}
	mg_http_response_free(&resp);
	return rc;
}

int mg_post_send_json(const struct mg_post_opts *o, const char *method, const char *url, json_t *body,
		      json_t **reply, char *err, size_t errlen)
{
	return send_json(o, method, url, body, 0, false, NULL, reply, err, errlen);
}

int mg_forge_request(const struct mg_post_opts *o, const char *method, const char *url, json_t *body,
		     size_t max_body, long *status, json_t **reply, char *err, size_t errlen)
{
	return send_json(o, method, url, body, max_body, true, status, reply, err, errlen);
}

int mg_post_status(const struct mg_post_opts *o, const char *context, const char *state,
		   const char *description, char *err, size_t errlen)
{
	char *url = mg_post_status_url(o);
	json_t *body = json_pack("{s:s, s:s, s:s}", "state", state,
				 o->forge == MG_FORGE_GITHUB ? "context" : "name", context,
				 "description", description ? description : "");
	if (body && o->target_url && json_object_set_new(body, "target_url", json_string(o->target_url)) < 0) {
		json_decref(body);
		body = NULL;
	}
	int rc = -1;
	if (!url || !body)
		snprintf(err, errlen, "out of memory (or a string that is not UTF-8)");
	else
		rc = mg_post_send_json(o, "POST", url, body, NULL, err, errlen);
	json_decref(body);
	free(url);
	return rc;
}
