/* render_file: a rendering into a file that a user named (--junit,
 * --markdown, --svg, report -o), through outfile.h. */
#include "report/render.h"

#include <errno.h>

#include "outfile.h"
#include "error.h"

struct rendering {
	json_t *report;
	mg_render_fn fn;
	const char *path;
};

/* The rendering, flushed: a full disk is found here, and named. */
static int render_into(FILE *f, void *ctx, char *err, size_t errlen)
{
	const struct rendering *r = ctx;
	err[0] = '\0';
	errno = 0;
	if (r->fn(r->report, f, err, errlen) < 0) {
		if (!err[0]) /* the renderer said nothing: it was the write */
			mg_cannot(err, errlen, "write", r->path, errno ? errno : EIO);
		return -1;
	}
	if (fflush(f) != 0 || ferror(f))
		return mg_cannot(err, errlen, "write", r->path, errno ? errno : EIO);
	return 0;
}

int mg_render_to_file(json_t *report, mg_render_fn fn, const char *path, char *err, size_t errlen)
{
	struct rendering r = {report, fn, path};
	return mg_outfile_write(path, 0644, false, render_into, &r, err, errlen);
}
