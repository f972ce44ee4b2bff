/* shard: which fixtures a run takes: --only NAME... and --shard K/N.
 *
 * --shard uses rendezvous (highest-random-weight) hashing: fixture NAME
 * belongs to the shard i in 1..N with the largest
 *     weight(NAME, i) = fmix64(FNV-1a-64(NAME bytes, one 0x00 byte,
 *                                        i in decimal ASCII))
 * (FNV-1a 64: offset basis 0xcbf29ce484222325, prime 0x100000001b3;
 * fmix64: MurmurHash3's 64-bit finalizer, because FNV-1a alone mixes
 * similar short names poorly). Ties go to the lower i. So a fixture's shard
 * depends on its name and N only: adding or removing a fixture moves no
 * other one, and going from N to N+1 shards moves only the fixtures that
 * the new shard wins (about 1 in N+1). */
#ifndef MG_SHARD_H
#define MG_SHARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

#define MG_SHARD_MAX 1000

/* "K/N" with 1 <= K <= N <= MG_SHARD_MAX, plain decimal digits. 0, or -1
 * with a one-line reason in err (e.g. "--shard 4/3: K must be between 1
 * and N (3)"). */
int mg_shard_parse(const char *s, unsigned *k, unsigned *n, char *err, size_t errlen);

uint64_t mg_fnv1a64(const void *data, size_t len, uint64_t h);
#define MG_FNV1A64_BASIS 0xcbf29ce484222325ULL
uint64_t mg_shard_weight(const char *name, unsigned shard);
/* The shard (1..n) that owns name; 0 for n == 0. */
unsigned mg_shard_of(const char *name, unsigned n);

/* Keep the fixtures with keep[i] (config order stays), free the others. */
void mg_config_keep(struct mg_config *cfg, const bool *keep);
/* Keep the fixtures shard k of n owns (cfg->nfixtures may become 0).
 * 0, or -1 when out of memory (cfg unchanged). */
int mg_select_shard(struct mg_config *cfg, unsigned k, unsigned n);
/* Keep the fixtures named in only (nonly == 0: keep all). A name that is not
 * in the config is an error listing the names it has. 0, or -1 with err. */
int mg_select_only(struct mg_config *cfg, char *const *only, size_t nonly, char *err, size_t errlen);

/* One line on out saying what this shard runs, e.g.
 * "memgate: shard 2/3: 1 of 4 fixtures (api)" or
 * "memgate: shard 3/3: no fixtures (the config's 4 are on other shards); nothing to run". */
void mg_shard_describe(FILE *out, unsigned k, unsigned n, const struct mg_config *kept, size_t total);

/* Record "shard": {"index": k, "count": n} in a report, so `memgate merge`
 * can tell when a shard is missing. 0, or -1 (out of memory). */
int mg_shard_annotate(json_t *report, unsigned k, unsigned n);

#endif
