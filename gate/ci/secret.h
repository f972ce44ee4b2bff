/* secret: the token never shows. Every text that may quote it (an API's
 * answer, a URL, an error) is scrubbed before it is printed or returned,
 * and a copy of it is wiped before it is freed. */
#ifndef MG_SECRET_H
#define MG_SECRET_H

#include <stddef.h>

/* Replace every occurrence of secret in s (a heap string, taken) by "***",
 * and a trailing prefix of it of 4 bytes or more too: a cut text may end in
 * the middle of it. Returns the scrubbed string (s itself, or a new one with
 * s freed); when memory runs out, s with every byte replaced by '*'. s and
 * secret may be NULL. Linear in the length of s and secret. */
char *mg_ci_scrub(char *s, const char *secret);

/* Write text into err, token scrubbed, cut on a UTF-8 boundary ("…").
 * text may be err itself. token may be NULL. */
void mg_ci_set_err(char *err, size_t errlen, const char *text, const char *token);

/* Overwrite s with zeros, then free it (NULL is fine). */
void mg_ci_wipe_free(char *s);

#endif
