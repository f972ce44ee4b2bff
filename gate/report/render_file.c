/* render_file: a rendering into a file that a user named (--junit,
 * --markdown, --svg, report -o), through outfile.h. */
#include "report/render.h"

#include "outfile.h"

struct rendering {
	json_t *report;
	mg_render_fn fn;
};

static int render_into(FILE *f, void *ctx, char *err, size_t errlen)
{
	const struct rendering *r = ctx;
	return r->fn(r->report, f, err, errlen);
}

int mg_render_to_file(json_t *report, mg_render_fn fn, const char *path, char *err, size_t errlen)
{
	struct rendering r = {report, fn};
	return mg_outfile_write(path, 0644, false, render_into, &r, err, errlen);
}
