/* The report renderers (gate/render_*.c) on a parsed JSON report, as
 * `memgate report` loads one: mg_render_check, then text, markdown (at the
 * default budget and a small one), JUnit, SVG and the GitHub outputs.
 * Output goes to a sink that only counts bytes. */
#include "fuzz.h"

#include <stdbool.h>
#include <sys/types.h>

#include "render.h"

static size_t sink_bytes;

static ssize_t sink_write(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	(void)buf;
	sink_bytes += len;
	return (ssize_t)len;
}

static FILE *sink(void)
{
	static FILE *f;
	if (!f) {
		cookie_io_functions_t io = {.write = sink_write};
		f = fopencookie(NULL, "w", io);
		if (!f)
			abort();
	}
	fflush(f);
	sink_bytes = 0;
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *report = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!report)
		return 0;
	char err[512];
	bool valid = mg_render_check(report, err, sizeof err) == 0;
	if (!valid)
		fuzz_check_err(err, sizeof err);

	/* Every renderer validates first: an invalid report gives -1 and no
	 * output at all, a valid one renders. */
	FILE *out = sink();
	FUZZ_CHECK((mg_render_text(report, out, err, sizeof err) == 0) == valid);
	fflush(out);
	FUZZ_CHECK(valid || sink_bytes == 0);

	out = sink();
	FUZZ_CHECK((mg_render_markdown(report, out, err, sizeof err) == 0) == valid);
	fflush(out);
	FUZZ_CHECK(valid || sink_bytes == 0);
	FUZZ_CHECK(sink_bytes <= MG_MARKDOWN_BUDGET); /* GitHub's summary limit */

	if (!valid) {
		json_decref(report);
		return 0;
	}

	out = sink();
	/* a budget that drops charts, details and rows */
	FUZZ_CHECK(mg_render_markdown_budget(report, out, 1024 + size / 4, err, sizeof err) == 0);
	out = sink();
	FUZZ_CHECK(mg_render_junit(report, out, err, sizeof err) == 0);
	out = sink();
	FUZZ_CHECK(mg_render_svg(report, out, err, sizeof err) == 0);
	out = sink();
	struct mg_github_env env = {"/dev/null", "/dev/null", out};
	FUZZ_CHECK(mg_render_github(report, "build/report.json", &env, err, sizeof err) == 0);
	fflush(out);
	json_decref(report);
	return 0;
}
