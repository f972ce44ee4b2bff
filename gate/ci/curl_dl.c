/* curl_dl: libcurl loaded lazily with dlopen; why, in curl_dl.h. */
#include "ci/curl_dl.h"

#include <dlfcn.h>
#include <stdio.h>

/* The loaded library: process-wide by nature, like libcurl's own global
 * state. Filled once by load() and never changed after. */
static struct {
	int tried;
	void *lib;
	char error[256];
	struct mg_curl fn;
} loaded;

#define SYM(field, name)                                                                  \
	do {                                                                              \
		*(void **)&loaded.fn.field = dlsym(loaded.lib, name);                     \
		if (!loaded.fn.field) {                                                   \
			const char *why_ = dlerror();                                     \
			snprintf(loaded.error, sizeof loaded.error,                       \
				 "libcurl lacks %s (%s); install libcurl4 "                \
				 "(Debian: apt-get install libcurl4)", name,              \
				 why_ ? why_ : "a null symbol");                          \
			return -1;                                                        \
		}                                                                         \
	} while (0)

static int resolve(void)
{
	SYM(global_init, "curl_global_init");
	SYM(global_cleanup, "curl_global_cleanup");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	SYM(free, "curl_free");
	SYM(url, "curl_url");
	SYM(url_cleanup, "curl_url_cleanup");
	SYM(url_get, "curl_url_get");
	SYM(url_set, "curl_url_set");
	return 0;
}

static void load(void)
{
	static const char *const names[] = {"libcurl.so.4", "libcurl.so"};
	loaded.tried = 1;
	for (size_t i = 0; i < sizeof names / sizeof names[0] && !loaded.lib; i++)
		loaded.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!loaded.lib) {
		snprintf(loaded.error, sizeof loaded.error,
			 "libcurl could not be loaded (%s); install libcurl4 (Debian: apt-get install libcurl4)",
			 dlerror());
		return;
	}
	if (resolve() < 0) {
		dlclose(loaded.lib);
		loaded.lib = NULL;
	}
}

const struct mg_curl *mg_curl(char *err, size_t errlen)
{
	if (!loaded.tried)
		load();
	if (loaded.lib)
		return &loaded.fn;
	if (err && errlen)
		snprintf(err, errlen, "%s", loaded.error);
	return NULL;
}
