/* curl_dl: libcurl, loaded with dlopen at its first use instead of linked.
 *
 * Why not link it: a linked libcurl and the ~30 libraries it pulls in
 * (OpenSSL, GSSAPI, LDAP, SSH, ...) are mapped into memgate's image at
 * start. That image is what every forked child carries until it execs the
 * fixture, so it raises the child's pre-exec RSS and with it the ru_maxrss
 * (max_process_hwm) of short fixtures; and it costs memgate's own RSS
 * 6 MiB and ~150 mmaps before it measures anything. Only `post` and
 * --post-status need libcurl.
 *
 * memgate calls libcurl only through the table mg_curl() returns; it never
 * defines libcurl's own names (curl_easy_init, ...), which would clash with
 * a real libcurl loaded into the same process. */
#ifndef MG_CURL_DL_H
#define MG_CURL_DL_H

#include <curl/curl.h>
#include <stddef.h>

/* The libcurl functions memgate uses, with libcurl's own signatures. */
struct mg_curl {
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	/* variadic as in libcurl: one argument of the type the option's number
	 * says (long, pointer, function pointer or curl_off_t) */
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
	void (*free)(void *p);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *u);
	CURLUcode (*url_get)(CURLU *u, CURLUPart what, char **part, unsigned int flags);
	CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part, unsigned int flags);
};

/* libcurl's functions, loading libcurl at the first call (later calls
 * return the same table at once). NULL when it cannot be loaded, with why
 * and the package to install in err (may be NULL): "libcurl could not be
 * loaded (...); install libcurl4 (Debian: apt-get install libcurl4)". Not
 * thread-safe at the first call, like curl_global_init. */
const struct mg_curl *mg_curl(char *err, size_t errlen);

#endif
