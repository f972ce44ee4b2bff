/* The HTTP error-body parser mg_post_api_error (gate/ci/forge.c) on arbitrary
 * bodies (GitHub / GitLab JSON, HTML pages, anything), and the UTF-8 cutters
 * it uses (gate/ci/text.c). Properties from forge.h and text.h: one line,
 * never the token, never past errlen, never a split UTF-8 character. */
#include "fuzz.h"

#include "ci/forge.h"
#include "ci/status.h"
#include "ci/text.h"

#define TOKEN "ghp_S3cr3tT0ken0123456789abcdefABCDEF"

static void check_line(const char *err, size_t errlen)
{
	fuzz_check_err(err, errlen);
	for (const char *p = err; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= ' ' && *p != 0x7f);
	FUZZ_CHECK(strstr(err, TOKEN) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_cstr(data, size);
	char err[1024], small[40];

	mg_post_api_error(422, body, TOKEN, err, sizeof err);
	check_line(err, sizeof err);
	mg_post_api_error(500, body, TOKEN, small, sizeof small);
	check_line(small, sizeof small);
	mg_post_api_error(400, body, NULL, err, sizeof err);
	fuzz_check_err(err, sizeof err);

	char *cut = mg_post_cut_chars(body, MG_POST_DESCRIPTION_MAX);
	FUZZ_CHECK(cut != NULL);
	free(cut);
	cut = mg_post_cut_bytes(body, 200, "…");
	FUZZ_CHECK(cut != NULL && strlen(cut) <= 200);
	free(cut);
	free(body);
	return 0;
}
