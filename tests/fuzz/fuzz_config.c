/* The config loader (gate/config.c) on arbitrary bytes: JSON syntax, every
 * key, size, rate, duration and percentage it reads. A config that loads
 * must free cleanly; one that does not must leave one terminated line. */
#include "fuzz.h"

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct mg_config cfg;
	char err[512];

	memset(err, 'X', sizeof err);
	if (mg_config_load_string(text, "fuzz.json", &cfg, err, sizeof err) == 0) {
		FUZZ_CHECK(cfg.nfixtures >= 1);
		for (size_t i = 0; i < cfg.nfixtures; i++) {
			const struct mg_fixture *f = &cfg.fixtures[i];
			FUZZ_CHECK(f->name && f->argc >= 1 && f->argv && f->argv[f->argc] == NULL);
			FUZZ_CHECK(f->timeout_ms > 0 && f->interval_ms >= 1);
		}
		mg_config_free(&cfg);
	} else {
		fuzz_check_err(err, sizeof err);
		/* the same input with a tiny error buffer, and with none */
		char small[8];
		struct mg_config c2;
		FUZZ_CHECK(mg_config_load_string(text, "fuzz.json", &c2, small, sizeof small) == -1);
		fuzz_check_err(small, sizeof small);
		FUZZ_CHECK(mg_config_load_string(text, NULL, &c2, NULL, 0) == -1);
	}
	free(text);
	return 0;
}
