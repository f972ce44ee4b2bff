/* The bounded time series: never more than cap points, never a lost peak. */
#include "testutil.h"

#include "series.h"

static void keeps_every_point_under_cap(void **state)
{
	(void)state;
	struct mg_series s;
	assert_int_equal(mg_series_init(&s, 8), 0);
	for (int i = 0; i < 8; i++)
		mg_series_push(&s, i * 10, 100 + i);
	mg_series_finish(&s);
	assert_int_equal(s.n, 8);
	assert_int_equal(s.pts[3].ms, 30);
	assert_int_equal(s.pts[3].value, 103);
	mg_series_free(&s);
}

static void bounded_and_keeps_maxima(void **state)
{
	(void)state;
	struct mg_series s;
	assert_int_equal(mg_series_init(&s, 100), 0);
	/* a long run: 1,000,003 samples, one spike of 1 sample */
	for (int64_t i = 0; i < 1000003; i++)
		mg_series_push(&s, i, i == 777777 ? 5000 : (i % 7));
	mg_series_finish(&s);
	assert_true(s.n <= 100);
	assert_true(s.n >= 50); /* compaction halves, never collapses */
	int64_t max = 0, at = -1;
	for (size_t i = 0; i < s.n; i++)
		if (s.pts[i].value > max) {
			max = s.pts[i].value;
			at = s.pts[i].ms;
		}
	assert_int_equal(max, 5000);
	assert_int_equal(at, 777777); /* the spike keeps its own time */
	for (size_t i = 1; i < s.n; i++)
		assert_true(s.pts[i].ms > s.pts[i - 1].ms);
	assert_int_equal(s.raw, 1000003);
	mg_series_free(&s);
}

static void last_partial_bucket_is_kept(void **state)
{
	(void)state;
	struct mg_series s;
	assert_int_equal(mg_series_init(&s, 4), 0);
	for (int i = 0; i < 9; i++) /* 4 points fill it, then stride 2 */
		mg_series_push(&s, i, i == 8 ? 99 : 1);
	mg_series_finish(&s);
	assert_int_equal(s.pts[s.n - 1].value, 99);
	assert_int_equal(s.pts[s.n - 1].ms, 8);
	assert_true(s.n <= 4);
	mg_series_free(&s);
}

static void odd_cap_and_tiny_cap(void **state)
{
	(void)state;
	struct mg_series s;
	assert_int_equal(mg_series_init(&s, 1), 0);
	assert_true(s.cap >= 2 && s.cap % 2 == 0);
	for (int i = 0; i < 1000; i++)
		mg_series_push(&s, i, i);
	mg_series_finish(&s);
	assert_true(s.n <= s.cap);
	assert_int_equal(s.pts[s.n - 1].value, 999);
	mg_series_free(&s);
	assert_int_equal(mg_series_push(&s, 1, 1), -1); /* freed: refuses, no crash */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_every_point_under_cap),
		cmocka_unit_test(bounded_and_keeps_maxima),
		cmocka_unit_test(last_partial_bucket_is_kept),
		cmocka_unit_test(odd_cap_and_tiny_cap),
	};
	return cmocka_run_group_tests_name("series", tests, NULL, NULL);
}
