/* series: a bounded time series of (ms, bytes). However long the run, it
 * holds at most `cap` points: when full, neighbouring points are merged and
 * each merged point keeps the larger value (and its time), so no peak is
 * ever averaged away. */
#ifndef MG_SERIES_H
#define MG_SERIES_H

#include <stddef.h>
#include <stdint.h>

#define MG_SERIES_DEFAULT_CAP 2000

struct mg_point {
	int64_t ms;
	int64_t value;
};

struct mg_series {
	struct mg_point *pts;
	size_t n, cap;          /* cap is even and >= 2 */
	int64_t stride;         /* raw samples per stored point */
	struct mg_point bucket; /* the point being filled */
	int64_t in_bucket;      /* raw samples in it so far */
	int64_t raw;            /* raw samples pushed in total */
};

int mg_series_init(struct mg_series *s, size_t cap);
int mg_series_push(struct mg_series *s, int64_t ms, int64_t value);
/* Store the partly filled bucket; call once before reading pts. */
void mg_series_finish(struct mg_series *s);
/* The value of the last point at or before ms (the first one when ms is
 * before them all); MG_SERIES_NONE when empty. */
#define MG_SERIES_NONE ((int64_t)-1)
int64_t mg_series_at(const struct mg_series *s, int64_t ms);
void mg_series_free(struct mg_series *s);

#endif
