/* comment: the pull-request comment, found by its marker and edited in
 * place (see comment.h). */
#include "ci/comment.h"

#include <stdlib.h>
#include <string.h>

#include "ci/forge.h"
#include "ci/secret.h"
#include "ci/text.h"
#include "report/render.h"

#define DEFAULT_CONFIG "memgate.json"

/* ---- the marker --------------------------------------------------------------- */

char *mg_comment_marker(const char *config)
{
	static const char prefix[] = "<!-- memgate:comment config=", suffix[] = " -->";
	const char *c = config && *config ? config : DEFAULT_CONFIG;
	while (c[0] == '.' && c[1] == '/')
		c += 2;
	char *out = malloc(sizeof prefix + strlen(c) * 3 + sizeof suffix), *p = out;
	if (!out)
		return NULL;
	p += sprintf(p, "%s", prefix);
	for (; *c; c++) {
		unsigned char b = (unsigned char)*c;
		bool plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
			     strchr("._/~+=:@,-", b);
		p += plain ? sprintf(p, "%c", b) : sprintf(p, "%%%02X", b);
	}
	strcpy(p, suffix);
	return out;
}

bool mg_comment_is_ours(const char *body, const char *marker)
{
	size_t n = strlen(marker);
	if (!body || strncmp(body, marker, n) != 0)
		return false;
	const char *p = body + n;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return *p == '\n' || *p == '\0';
}

/* ---- the body ------------------------------------------------------------------- */

char *mg_comment_body(json_t *report, const struct mg_post_opts *o, size_t max, char *err, size_t errlen)
{
	if (!max)
		max = o->forge == MG_FORGE_GITLAB ? MG_COMMENT_MAX_GITLAB : MG_COMMENT_MAX_GITHUB;
	char *marker = mg_comment_marker(o->config_path);
	char footer[160] = "";
	if (o->sha)
		snprintf(footer, sizeof footer, "\n<sub>memgate %s, commit %.12s</sub>\n", MG_VERSION, o->sha);
	char *text = NULL;
	size_t len = 0;
	FILE *m = marker ? open_memstream(&text, &len) : NULL;
	if (!m) {
		free(marker);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	size_t fixed = strlen(marker) + 1 + strlen(footer);
	fprintf(m, "%s\n", marker);
	int rc = mg_render_markdown_comment(report, m, max > fixed ? max - fixed : 0, o->target_url, err, errlen);
	fputs(footer, m);
	if ((fclose(m) != 0 || !text) && rc == 0) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	free(marker);
	if (rc < 0) {
		free(text);
		return NULL;
	}
	if (len <= max)
		return text;
	/* only a budget too small for the verdict line gets here: cut, whole characters */
	char *cut = mg_post_cut_bytes(text, max, "");
	free(text);
	if (!cut)
		snprintf(err, errlen, "out of memory");
	return cut;
}

/* ---- errors ---------------------------------------------------------------------- */

const char *mg_comment_hint(enum mg_forge forge, long status)
{
	if (forge == MG_FORGE_GITLAB) {
		switch (status) {
		case 401:
			return "the token is missing, expired or wrong: set GITLAB_TOKEN (or --token-file) to an access "
			       "token with the api scope; a CI_JOB_TOKEN cannot write merge request notes";
		case 403:
			return "the token may not write merge request notes: it needs the api scope and at least the "
			       "Reporter role; a CI_JOB_TOKEN cannot write them";
		case 404:
			return "no such project or merge request, or the token cannot see it (CI_PROJECT_ID, --pr)";
		default:
			break;
		}
	} else {
		switch (status) {
		case 401:
			return "the token is missing, expired or wrong (GITHUB_TOKEN, or --token-file)";
		case 403:
			return "the token needs issues: write and pull-requests: write (`permissions:` in the "
			       "workflow); on a pull request from a fork GITHUB_TOKEN is read-only";
		case 404:
			return "no such repository or pull request, or the token cannot see it (GITHUB_REPOSITORY, --pr)";
		case 410:
			return "issues are disabled on this repository";
		default:
			break;
		}
	}
	if (status == 422)
		return "the API refused the comment; the body is kept under its size limit, so say so in an issue";
	if (status == 429 || (status >= 500 && status <= 599))
		return "the API kept failing after the retries (MEMGATE_HTTP_RETRIES); the next run posts the comment";
	return "";
}

/* "METHOD /path: what went wrong; hint" into err, the path relative to the
 * API (the transport's own errors already name the whole URL). */
static void request_failed(const struct mg_post_opts *o, const char *method, const char *url, long status,
			   const char *what, char *err, size_t errlen)
{
	size_t api = strlen(o->api_url);
	const char *path = strncmp(url, o->api_url, api) == 0 ? url + api : url;
	const char *hint = mg_comment_hint(o->forge, status);
	char *msg = status ? mg_ci_printf("%s %s: %s%s%s", method, path, what, *hint ? "; " : "", hint)
			   : mg_ci_printf("%s%s%s", what, *hint ? "; " : "", hint);
	mg_ci_set_err(err, errlen, msg ? msg : what, o->token);
	free(msg);
}

/* ---- finding it -------------------------------------------------------------------- */

/* Where the thread's comments (notes) are: ".../issues/7/comments" or
 * ".../merge_requests/7/notes". NULL on OOM. */
static char *thread_url(const struct mg_post_opts *o)
{
	char *project = mg_forge_project_url(o);
	char *url = !project ? NULL
		    : o->forge == MG_FORGE_GITLAB ? mg_ci_printf("%s/merge_requests/%lld/notes", project, o->pr)
						  : mg_ci_printf("%s/issues/%lld/comments", project, o->pr);
	free(project);
	return url;
}

/* One page of comments: the id of the first that is ours (> 0), 0 when
 * none is, with *full when the page was full (there may be more); -1 with
 * err. */
static long long find_on_page(const struct mg_post_opts *o, const char *base, int page, const char *marker,
			      bool *full, char *err, size_t errlen)
{
	char *url = o->forge == MG_FORGE_GITLAB
			    ? mg_ci_printf("%s?sort=asc&order_by=created_at&per_page=%d&page=%d", base,
					   MG_COMMENT_PER_PAGE, page)
			    : mg_ci_printf("%s?per_page=%d&page=%d", base, MG_COMMENT_PER_PAGE, page);
	json_t *list = NULL;
	long status = 0;
	char why[1024];
	long long id = -1;
	if (!url) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (mg_forge_request(o, "GET", url, NULL, MG_COMMENT_PAGE_BYTES, &status, &list, why, sizeof why) < 0) {
		request_failed(o, "GET", url, status, why, err, errlen);
	} else if (!json_is_array(list)) {
		snprintf(why, sizeof why, "%ld %s, but the answer is not a JSON array of comments", status,
			 mg_http_reason(status));
		request_failed(o, "GET", url, status, why, err, errlen);
	} else {
		size_t i;
		json_t *c;
		id = 0;
		json_array_foreach(list, i, c) {
			json_t *jid = json_object_get(c, "id");
			if (json_is_true(json_object_get(c, "system")))
				continue; /* GitLab's own notes ("added 1 commit") */
			if (json_is_integer(jid) && json_integer_value(jid) > 0 &&
			    mg_comment_is_ours(json_string_value(json_object_get(c, "body")), marker)) {
				id = json_integer_value(jid);
				break;
			}
		}
		*full = json_array_size(list) >= MG_COMMENT_PER_PAGE;
	}
	json_decref(list);
	free(url);
	return id;
}

/* The id of memgate's comment (> 0), 0 when there is none yet, -1 with err. */
static long long find_comment(const struct mg_post_opts *o, const char *base, const char *marker, char *err,
			      size_t errlen)
{
	for (int page = 1; page <= MG_COMMENT_MAX_PAGES; page++) {
		bool full = false;
		long long id = find_on_page(o, base, page, marker, &full, err, errlen);
		if (id != 0 || !full)
			return id;
	}
	snprintf(err, errlen, "more than %d comments on %s %lld, and none of the first %d is memgate's: not "
		 "adding another one (delete old comments, or post without --comment)",
		 MG_COMMENT_MAX_PAGES * MG_COMMENT_PER_PAGE,
		 o->forge == MG_FORGE_GITLAB ? "merge request" : "pull request", o->pr,
		 MG_COMMENT_MAX_PAGES * MG_COMMENT_PER_PAGE);
	return -1;
}

/* ---- posting ------------------------------------------------------------------------ */

int mg_post_comment(json_t *report, const struct mg_post_opts *o, FILE *out, char *err, size_t errlen)
{
	if (o->pr <= 0)
		return 1;
	bool gitlab = o->forge == MG_FORGE_GITLAB;
	char *text = mg_comment_body(report, o, 0, err, errlen);
	if (!text)
		return -1;
	char *marker = mg_comment_marker(o->config_path);
	char *base = thread_url(o);
	json_t *body = json_pack("{s:s}", "body", text);
	free(text);
	if (!marker || !base || !body) {
		snprintf(err, errlen, "out of memory (or a body that is not UTF-8)");
		free(marker), free(base), json_decref(body);
		return -1;
	}
	long long id = find_comment(o, base, marker, err, errlen);
	int rc = -1;
	/* at most twice: an edit answered 404 (the comment was deleted after
	 * the list was read) makes a new one */
	for (int attempt = 0; id >= 0 && attempt < 2; attempt++) {
		/* found: GitLab's note is under the thread, GitHub's comment is not */
		const char *method = id ? (gitlab ? "PUT" : "PATCH") : "POST";
		char *project = gitlab ? NULL : mg_forge_project_url(o);
		char *url = !id ? strdup(base)
			    : gitlab ? mg_ci_printf("%s/%lld", base, id)
			    : project ? mg_ci_printf("%s/issues/comments/%lld", project, id) : NULL;
		free(project);
		long status = 0;
		json_t *reply = NULL;
		char why[1024];
		if (!url) {
			snprintf(err, errlen, "out of memory");
		} else if (mg_forge_request(o, method, url, body, 0, &status, &reply, why, sizeof why) < 0) {
			if (id > 0 && status == 404 && attempt == 0) {
				json_decref(reply);
				free(url);
				id = 0; /* gone since the list: create it again */
				continue;
			}
			request_failed(o, method, url, status, why, err, errlen);
		} else {
			json_t *got = json_object_get(reply, "id");
			long long shown = id ? id : json_is_integer(got) ? json_integer_value(got) : 0;
			if (out && shown)
				fprintf(out, "commented on %s %s%lld: %s %s %lld\n", gitlab ? "merge request" : "pull request",
					gitlab ? "!" : "#", o->pr, id ? "updated" : "created", gitlab ? "note" : "comment",
					shown);
			else if (out)
				fprintf(out, "commented on %s %s%lld: %s\n", gitlab ? "merge request" : "pull request",
					gitlab ? "!" : "#", o->pr, id ? "updated" : "created");
			rc = 0;
		}
		json_decref(reply);
		free(url);
		break;
	}
	json_decref(body);
	free(marker);
	free(base);
	return rc;
}
