/* shard: fixture selection by name (--only) and by stable hashing
 * (--shard K/N). See shard.h for the hash, which is part of the interface:
 * changing it would reshuffle every CI matrix. */
#include "shard.h"

#include <stdlib.h>
#include <string.h>

#define FNV_PRIME 0x100000001b3ULL

uint64_t mg_fnv1a64(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

static uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

uint64_t mg_shard_weight(const char *name, unsigned shard)
{
	char idx[16];
	int len = snprintf(idx, sizeof idx, "%u", shard);
	uint64_t h = mg_fnv1a64(name, strlen(name) + 1, MG_FNV1A64_BASIS); /* with its NUL */

	return fmix64(mg_fnv1a64(idx, (size_t)len, h));
}

unsigned mg_shard_of(const char *name, unsigned n)
{
	unsigned best = 0;
	uint64_t best_w = 0;

	for (unsigned i = 1; i <= n; i++) {
		uint64_t w = mg_shard_weight(name, i);
		if (best == 0 || w > best_w) {
			best = i;
			best_w = w;
		}
	}
	return best;
}

/* A decimal number of at most 4 digits, no sign; the end in *end. */
static int small_number(const char *s, unsigned *v, const char **end)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 4)
		return -1;
	*v = (unsigned)strtoul(s, NULL, 10);
	*end = s + n;
	return 0;
}

int mg_shard_parse(const char *s, unsigned *k, unsigned *n, char *err, size_t errlen)
{
	const char *p = NULL, *q = NULL;
	char shown[48];

	snprintf(shown, sizeof shown, "%.40s", s ? s : "");
	for (char *c = shown; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = '?';
	if (!s || small_number(s, k, &p) || *p != '/' || small_number(p + 1, n, &q) || *q) {
		snprintf(err, errlen, "--shard \"%s\": expected K/N, like 2/3 (shard K of N, K from 1)",
			 shown);
		return -1;
	}
	if (*n < 1 || *n > MG_SHARD_MAX) {
		snprintf(err, errlen, "--shard %s: N must be between 1 and %d", shown, MG_SHARD_MAX);
		return -1;
	}
	if (*k < 1 || *k > *n) {
		snprintf(err, errlen, "--shard %s: K must be between 1 and N (%u); shards count from 1",
			 shown, *n);
		return -1;
	}
	return 0;
}

void mg_config_keep(struct mg_config *cfg, const bool *keep)
{
	size_t kept = 0;

	for (size_t i = 0; i < cfg->nfixtures; i++) {
		if (!keep[i]) {
			mg_fixture_free(&cfg->fixtures[i]);
			continue;
		}
		/* moved, not copied: the fixture's strings go with it */
		if (kept != i)
			cfg->fixtures[kept] = cfg->fixtures[i];
		kept++;
	}
	cfg->nfixtures = kept;
}

int mg_select_shard(struct mg_config *cfg, unsigned k, unsigned n)
{
	bool *keep = calloc(cfg->nfixtures + 1, sizeof *keep);

	if (!keep)
		return -1;
	for (size_t i = 0; i < cfg->nfixtures; i++)
		keep[i] = mg_shard_of(cfg->fixtures[i].name, n) == k;
	mg_config_keep(cfg, keep);
	free(keep);
	return 0;
}

static bool named(const char *name, char *const *only, size_t nonly)
{
	for (size_t k = 0; k < nonly; k++)
		if (strcmp(name, only[k]) == 0)
			return true;
	return false;
}

static void unknown_only(const struct mg_config *cfg, const char *name, char *err, size_t errlen)
{
	size_t used = (size_t)snprintf(err, errlen, "--only %.100s: no such fixture; the config has:",
				       name);

	for (size_t i = 0; i < cfg->nfixtures && used < errlen; i++)
		used += (size_t)snprintf(err + used, errlen - used, " %s", cfg->fixtures[i].name);
}

int mg_select_only(struct mg_config *cfg, char *const *only, size_t nonly, char *err, size_t errlen)
{
	bool *keep;

	if (nonly == 0)
		return 0;
	for (size_t k = 0; k < nonly; k++) {
		bool found = false;
		for (size_t i = 0; i < cfg->nfixtures; i++)
			found |= strcmp(cfg->fixtures[i].name, only[k]) == 0;
		if (!found) {
			unknown_only(cfg, only[k], err, errlen);
			return -1;
		}
	}
	if (!(keep = calloc(cfg->nfixtures + 1, sizeof *keep))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cfg->nfixtures; i++)
		keep[i] = named(cfg->fixtures[i].name, only, nonly);
	mg_config_keep(cfg, keep);
	free(keep);
	return 0;
}

void mg_shard_describe(FILE *out, unsigned k, unsigned n, const struct mg_config *kept, size_t total)
{
	if (kept->nfixtures == 0) {
		fprintf(out, "memgate: shard %u/%u: no fixtures (the config's %zu %s on other shards); "
			     "nothing to run\n", k, n, total, total == 1 ? "is" : "are");
		return;
	}
	fprintf(out, "memgate: shard %u/%u: %zu of %zu fixture%s (", k, n, kept->nfixtures, total,
		total == 1 ? "" : "s");
	for (size_t i = 0; i < kept->nfixtures; i++)
		fprintf(out, "%s%s", i ? ", " : "", kept->fixtures[i].name);
	fprintf(out, ")\n");
}

int mg_shard_annotate(json_t *report, unsigned k, unsigned n)
{
	json_t *s = json_pack("{s:I, s:I}", "index", (json_int_t)k, "count", (json_int_t)n);

	if (!s || json_object_set_new(report, "shard", s) < 0)
		return -1;
	return 0;
}
