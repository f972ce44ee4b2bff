/* growth: is memory still climbing once the service is warm? A least-squares
 * line through tree RSS over the steady part of a run (after the warmup
 * share of its samples), with R² saying how line-like the climb is. */
#ifndef MG_GROWTH_H
#define MG_GROWTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "series.h"

#define MG_DEFAULT_WARMUP_PCT 20
/* A growth limit is judged on at least this many steady points (verdict.c);
 * fewer fit a line, but not one to gate on. */
#define MG_GROWTH_MIN_GATE_POINTS 10

struct mg_growth {
	bool valid;             /* enough steady points (>= 3, spanning > 0 ms) */
	double bytes_per_s;     /* slope */
	double r2;              /* 1 = a perfect line (also for a flat one) */
	int64_t from_ms, to_ms; /* the steady window fitted */
	size_t points;
};

/* Fit the points with from_ms <= ms <= to_ms, after dropping the first
 * warmup_pct percent of them. */
void mg_growth_fit(const struct mg_point *pts, size_t n, int64_t from_ms, int64_t to_ms, int warmup_pct,
		   struct mg_growth *g);
#endif
