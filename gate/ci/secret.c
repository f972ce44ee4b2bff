#include "ci/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/text.h"

/* The longest suffix of s[0, n) that is a prefix of secret, shorter than
 * secret (KMP over secret's failure function, which fail holds): linear in
 * n + k, whatever the text. */
static size_t prefix_at_end(const char *s, size_t n, const char *secret, size_t k, const size_t *fail)
{
	size_t q = 0;
	for (size_t i = 0; i < n; i++) {
		while (q > 0 && (q == k || secret[q] != s[i]))
			q = fail[q - 1];
		if (secret[q] == s[i])
			q++;
	}
	return q == k ? fail[k - 1] : q;
}

/* Linear: memmem for the occurrences, one KMP pass over the tail after the
 * last one. */
char *mg_ci_scrub(char *s, const char *secret)
{
	size_t k = secret ? strlen(secret) : 0;
	if (!s || !k)
		return s;
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1); /* "***" per byte at worst */
	size_t *fail = malloc(k * sizeof *fail);
	if (!out || !fail) {
		free(out);
		free(fail);
		memset(s, '*', n); /* never hand back the secret */
		return s;
	}
	fail[0] = 0;
	for (size_t i = 1, q = 0; i < k; i++) {
		while (q > 0 && secret[i] != secret[q])
			q = fail[q - 1];
		if (secret[i] == secret[q])
			q++;
		fail[i] = q;
	}
	size_t o = 0, at = 0;
	for (const char *hit; (hit = memmem(s + at, n - at, secret, k)); at = (size_t)(hit - s) + k) {
		memcpy(out + o, s + at, (size_t)(hit - s) - at);
		o += (size_t)(hit - s) - at;
		memcpy(out + o, "***", 3);
		o += 3;
	}
	size_t tail = prefix_at_end(s + at, n - at, secret, k, fail);
	if (tail < 4)
		tail = 0;
	memcpy(out + o, s + at, n - at - tail);
	o += n - at - tail;
	if (tail) {
		memcpy(out + o, "***", 3);
		o += 3;
	}
	out[o] = '\0';
	free(fail);
	free(s);
	return out;
}

void mg_ci_set_err(char *err, size_t errlen, const char *text, const char *token)
{
	char *copy = mg_ci_scrub(strdup(text), token);
	char *cut = copy ? mg_post_cut_bytes(copy, errlen ? errlen - 1 : 0, "…") : NULL;
	snprintf(err, errlen, "%s", cut ? cut : "out of memory");
	free(copy);
	free(cut);
}

void mg_ci_wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}
