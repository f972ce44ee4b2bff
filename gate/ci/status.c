#include "ci/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/text.h"
#include "units.h"

enum mg_verdict mg_post_fixture_verdict(json_t *fixture)
{
	enum mg_verdict v = MG_VERDICT_ERROR;
	mg_verdict_from_name(json_string_value(json_object_get(fixture, "verdict")), &v);
	return v;
}

const char *mg_post_state(enum mg_forge forge, enum mg_verdict v)
{
	if (forge == MG_FORGE_GITLAB)
		return v == MG_VERDICT_PASS ? "success" : "failed";
	return v == MG_VERDICT_PASS ? "success" : v == MG_VERDICT_FAIL ? "failure" : "error";
}

char *mg_post_context(const char *prefix, const char *name)
{
	return mg_ci_printf("%s%s", prefix, name);
}

/* The reasons joined by sep, or fallback when there are none. */
static char *join_reasons(json_t *fixture, const char *sep, const char *fallback)
{
	json_t *reasons = json_object_get(fixture, "reasons");
	size_t len = 1, i;
	json_t *r;
	json_array_foreach(reasons, i, r)
		len += json_string_length(r) + strlen(sep);
	char *out = malloc(len + strlen(fallback));
	size_t used = 0, seplen = strlen(sep);
	if (!out)
		return NULL;
	/* appended at a running offset: strcat would rescan the text per reason */
	json_array_foreach(reasons, i, r) {
		if (i) {
			memcpy(out + used, sep, seplen);
			used += seplen;
		}
		memcpy(out + used, json_string_value(r) ? json_string_value(r) : "", json_string_length(r));
		used += json_string_length(r);
	}
	out[used] = '\0';
	if (!used)
		strcpy(out, fallback);
	return out;
}

char *mg_post_reasons(json_t *fixture, const char *sep)
{
	enum mg_verdict v = mg_post_fixture_verdict(fixture);
	return join_reasons(fixture, sep, v == MG_VERDICT_PASS   ? ""
					  : v == MG_VERDICT_FAIL ? "failed"
								 : "could not measure");
}

char *mg_post_full_description(json_t *fixture)
{
	if (mg_post_fixture_verdict(fixture) != MG_VERDICT_PASS)
		return mg_post_reasons(fixture, "; ");
	json_t *peak = json_object_get(json_object_get(fixture, "peak"), "tree_rss_bytes");
	if (!json_is_integer(peak))
		return strdup("within limits");
	char mib[32], buf[64];
	mg_format_mib(json_integer_value(peak), mib, sizeof mib);
	snprintf(buf, sizeof buf, "peak %s, within limits", mib);
	return strdup(buf);
}

char *mg_post_description(json_t *fixture)
{
	char *full = mg_post_full_description(fixture);
	char *cut = full ? mg_post_cut_chars(full, MG_POST_DESCRIPTION_MAX) : NULL;
	free(full);
	return cut;
}
