/* Growth: slope and R² of tree RSS over the steady window. */
#include "testutil.h"

#include <math.h>

#include "growth.h"

static void linear_climb(void **state)
{
	(void)state;
	struct mg_point p[101];
	for (int i = 0; i <= 100; i++)
		p[i] = (struct mg_point){i * 10, 50000000 + (int64_t)i * 10 * 2048}; /* 2 KiB per ms */
	struct mg_growth g;
	mg_growth_fit(p, 101, 0, 1000, 20, &g);
	assert_true(g.valid);
	assert_true(fabs(g.bytes_per_s - 2048000.0) < 1e-3);
	assert_true(fabs(g.r2 - 1.0) < 1e-9);
	assert_int_equal(g.from_ms, 200); /* the first 20% dropped */
	assert_int_equal(g.to_ms, 1000);
	assert_int_equal(g.points, 81);
}

static void flat_with_noise_has_near_zero_slope(void **state)
{
	(void)state;
	struct mg_point p[200];
	for (int i = 0; i < 200; i++)
		p[i] = (struct mg_point){i * 10, 80000000 + (i % 2 ? 4096 : -4096)};
	struct mg_growth g;
	mg_growth_fit(p, 200, 0, 2000, 20, &g);
	assert_true(g.valid);
	assert_true(fabs(g.bytes_per_s) < 100.0); /* < 100 B/s against 4 KiB of noise */
	assert_true(g.r2 < 0.05);
}

static void warmup_spike_is_ignored(void **state)
{
	(void)state;
	struct mg_point p[100];
	for (int i = 0; i < 100; i++) /* startup climbs to 100 MB in 10 samples, then flat */
		p[i] = (struct mg_point){i * 10, i < 10 ? i * 10000000 : 100000000};
	struct mg_growth g;
	mg_growth_fit(p, 100, 0, 990, 20, &g);
	assert_true(g.valid);
	assert_true(fabs(g.bytes_per_s) < 1e-6);
	assert_true(fabs(g.r2 - 1.0) < 1e-9); /* a flat line fits perfectly */
}

static void window_limits_points(void **state)
{
	(void)state;
	struct mg_point p[100];
	for (int i = 0; i < 100; i++) /* climbs only between 300 and 600 ms */
		p[i] = (struct mg_point){i * 10, i < 30 ? 0 : i > 60 ? 999999999 : (int64_t)(i - 30) * 1000};
	struct mg_growth g;
	mg_growth_fit(p, 100, 300, 600, 0, &g);
	assert_true(g.valid);
	assert_true(fabs(g.bytes_per_s - 100000.0) < 1e-3); /* 1000 B per 10 ms */
}

static void too_few_points(void **state)
{
	(void)state;
	struct mg_point p[3] = {{0, 1}, {10, 2}, {20, 3}};
	struct mg_growth g;
	mg_growth_fit(p, 3, 0, 100, 20, &g); /* 20% of 3 drops none: 3 points is enough */
	assert_true(g.valid);
	mg_growth_fit(p, 2, 0, 100, 0, &g);
	assert_false(g.valid);
	mg_growth_fit(p, 0, 0, 100, 0, &g);
	assert_false(g.valid);
	struct mg_point same_t[4] = {{5, 1}, {5, 2}, {5, 3}, {5, 4}};
	mg_growth_fit(same_t, 4, 0, 100, 0, &g);
	assert_false(g.valid); /* no time span: no slope */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(linear_climb),
		cmocka_unit_test(flat_with_noise_has_near_zero_slope),
		cmocka_unit_test(warmup_spike_is_ignored),
		cmocka_unit_test(window_limits_points),
		cmocka_unit_test(too_few_points),
	};
	return cmocka_run_group_tests_name("growth", tests, NULL, NULL);
}
