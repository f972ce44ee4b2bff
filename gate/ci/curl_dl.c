/* curl_dl: libcurl, loaded at the first HTTP request instead of at start.
 * Linked normally, libcurl and the ~30 libraries it pulls in (OpenSSL,
 * GSSAPI, LDAP, SSH, ...) cost every memgate run 6 MiB of RSS and ~150
 * mmaps before it measures anything, for what only `post` and
 * --post-status use. The functions below stand in for the libcurl entry
 * points memgate calls and forward to the real ones once loaded. */
#define CURL_DISABLE_TYPECHECK /* we define curl_easy_setopt ourselves */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The loaded library: process-wide by nature, like libcurl's own global
 * state. Filled once by load() and never changed after. */
static struct {
	int tried;
	void *lib;
	char error[256];
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	void (*free_)(void *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
} curl_lib;

#define SYM(field, name)                                                          \
	do {                                                                      \
		*(void **)&curl_lib.field = dlsym(curl_lib.lib, name);            \
		if (!curl_lib.field) {                                            \
			snprintf(curl_lib.error, sizeof curl_lib.error,           \
				 "libcurl lacks %s: %s", name, dlerror());        \
			return 0;                                                 \
		}                                                                 \
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
	SYM(free_, "curl_free");
	SYM(url, "curl_url");
	SYM(url_cleanup, "curl_url_cleanup");
	SYM(url_get, "curl_url_get");
	SYM(url_set, "curl_url_set");
	return 1;
}

/* 1 when libcurl is usable; the reason is kept for curl_easy_strerror. */
static int loaded(void)
{
	if (curl_lib.tried)
		return curl_lib.lib != NULL;
	curl_lib.tried = 1;
	const char *names[] = {"libcurl.so.4", "libcurl.so"};
	for (size_t i = 0; i < 2 && !curl_lib.lib; i++)
		curl_lib.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!curl_lib.lib) {
		snprintf(curl_lib.error, sizeof curl_lib.error,
			 "libcurl could not be loaded (%s); install libcurl4 (Debian: apt-get install libcurl4)",
			 dlerror());
		return 0;
	}
	if (!resolve()) {
		dlclose(curl_lib.lib);
		curl_lib.lib = NULL;
		return 0;
	}
	return 1;
}

CURLcode curl_global_init(long flags)
{
	return loaded() ? curl_lib.global_init(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	if (loaded())
		curl_lib.global_cleanup();
}

CURL *curl_easy_init(void)
{
	return loaded() ? curl_lib.easy_init() : NULL;
}

typedef void (*any_fn)(void);

/* curl's own rule: an option's number says the type of its one argument. */
CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	if (!loaded())
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, opt);
	CURLcode rc;
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = curl_lib.easy_setopt(h, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		rc = curl_lib.easy_setopt(h, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = curl_lib.easy_setopt(h, opt, va_arg(ap, any_fn));
	else if (opt < CURLOPTTYPE_BLOB)
		rc = curl_lib.easy_setopt(h, opt, va_arg(ap, curl_off_t));
	else
		rc = curl_lib.easy_setopt(h, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *h)
{
	return loaded() ? curl_lib.easy_perform(h) : CURLE_FAILED_INIT;
}

/* every CURLINFO takes one pointer to where the answer goes */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	if (!loaded())
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, info);
	CURLcode rc = curl_lib.easy_getinfo(h, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

void curl_easy_cleanup(CURL *h)
{
	if (loaded())
		curl_lib.easy_cleanup(h);
}

const char *curl_easy_strerror(CURLcode code)
{
	return loaded() ? curl_lib.easy_strerror(code) : curl_lib.error;
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
	return loaded() ? curl_lib.slist_append(list, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (loaded())
		curl_lib.slist_free_all(list);
}

void curl_free(void *p)
{
	if (loaded())
		curl_lib.free_(p);
}

CURLU *curl_url(void)
{
	return loaded() ? curl_lib.url() : NULL;
}

void curl_url_cleanup(CURLU *u)
{
	if (loaded())
		curl_lib.url_cleanup(u);
}

CURLUcode curl_url_get(CURLU *u, CURLUPart what, char **part, unsigned int flags)
{
	return loaded() ? curl_lib.url_get(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags)
{
	return loaded() ? curl_lib.url_set(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}
