#include "ci/post.h"

#include <stdlib.h>

#include "ci/checks.h"
#include "ci/forge.h"
#include "ci/secret.h"
#include "ci/status.h"
#include "ci/text.h"
#include "exit.h"
#include "report/report_load.h"

int mg_post_report(json_t *report, const struct mg_post_opts *o, const char *summary_markdown, FILE *out,
		   char *err, size_t errlen)
{
	if (mg_report_validate(report, err, errlen) < 0)
		return -1;
	json_t *fixtures = json_object_get(report, "fixtures"), *f;
	size_t i, n = json_array_size(fixtures);
	json_array_foreach(fixtures, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *state = mg_post_state(o->forge, mg_post_fixture_verdict(f));
		char *context = mg_post_context(o->context_prefix, name);
		char *desc = mg_post_description(f);
		char perr[1024] = "out of memory";
		int rc = context && desc ? mg_post_status(o, context, state, desc, perr, sizeof perr) : -1;
		if (rc == 0 && out)
			fprintf(out, "posted %s: %s (%s)\n", context, state, desc);
		else if (rc < 0) {
			char *msg = mg_ci_printf("%s%s: %s (%zu of %zu statuses not posted)", o->context_prefix, name,
						 perr, n - i, n);
			mg_ci_set_err(err, errlen, msg ? msg : perr, o->token);
			free(msg);
		}
		free(context);
		free(desc);
		if (rc < 0)
			return -1; /* the next ones would most likely fail the same way */
	}
	return o->checks ? mg_post_checks(fixtures, o, summary_markdown, out, err, errlen) : 0;
}

int mg_post_exit_status(int status, bool posted, bool require_post)
{
	if (posted || !require_post || status != 0)
		return status;
	return EXIT_ERROR;
}
