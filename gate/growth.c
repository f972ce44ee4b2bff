#include "growth.h"

#include <string.h>

void mg_growth_fit(const struct mg_point *pts, size_t n, int64_t from_ms, int64_t to_ms, int warmup_pct,
		   struct mg_growth *g)
{
	memset(g, 0, sizeof *g);
	size_t first = 0, last = n; /* [first, last) inside the window */
	while (first < n && pts[first].ms < from_ms)
		first++;
	while (last > first && pts[last - 1].ms > to_ms)
		last--;
	size_t in = last - first;
	first += in * (size_t)(warmup_pct < 0 ? 0 : warmup_pct > 90 ? 90 : warmup_pct) / 100;
	if (last < first + 3 || pts[last - 1].ms <= pts[first].ms)
		return;
	/* Centre time and value first: byte counts squared overflow precision. */
	double n_ = (double)(last - first), mt = 0, mv = 0;
	for (size_t i = first; i < last; i++) {
		mt += (double)pts[i].ms;
		mv += (double)pts[i].value;
	}
	mt /= n_;
	mv /= n_;
	double stt = 0, stv = 0, svv = 0;
	for (size_t i = first; i < last; i++) {
		double dt = (double)pts[i].ms - mt, dv = (double)pts[i].value - mv;
		stt += dt * dt;
		stv += dt * dv;
		svv += dv * dv;
	}
	double slope = stv / stt; /* bytes per ms */
	double ss_res = svv - slope * stv;
	g->valid = true;
	g->bytes_per_s = slope * 1000.0;
	g->r2 = svv > 0 ? 1.0 - (ss_res < 0 ? 0 : ss_res) / svv : 1.0;
	g->from_ms = pts[first].ms;
	g->to_ms = pts[last - 1].ms;
	g->points = last - first;
}
