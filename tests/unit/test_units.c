/* Unit tests for units.c: parsing of sizes and durations, formatting. */
#include "testutil.h"

#include "units.h"

/* Parse s as a size that must succeed and return the byte count. */
static int64_t size_ok(const char *s)
{
	char err[256] = "";
	int64_t v = -42;

	if (mg_parse_size(s, &v, err, sizeof err) != 0)
		fail_msg("mg_parse_size(\"%s\") failed: %s", s, err);
	return v;
}

/* Parse s as a size that must fail; assert the message contains want and
 * the output was not touched. */
static void size_bad(const char *s, const char *want)
{
	char err[256] = "";
	int64_t v = -42;

	assert_int_equal(mg_parse_size(s, &v, err, sizeof err), -1);
	assert_contains(err, want);
	assert_int_equal(v, -42);
}

static int64_t dur_ok(const char *s)
{
	char err[256] = "";
	int64_t v = -42;

	if (mg_parse_duration(s, &v, err, sizeof err) != 0)
		fail_msg("mg_parse_duration(\"%s\") failed: %s", s, err);
	return v;
}

static void dur_bad(const char *s, const char *want)
{
	char err[256] = "";
	int64_t v = -42;

	assert_int_equal(mg_parse_duration(s, &v, err, sizeof err), -1);
	assert_contains(err, want);
	assert_int_equal(v, -42);
}

static void test_size_units(void **state)
{
	(void)state;
	assert_int_equal(size_ok("0B"), 0);
	assert_int_equal(size_ok("1B"), 1);
	assert_int_equal(size_ok("1kB"), 1000);
	assert_int_equal(size_ok("1MB"), 1000000);
	assert_int_equal(size_ok("1GB"), 1000000000);
	assert_int_equal(size_ok("1TB"), 1000000000000LL);
	assert_int_equal(size_ok("1KiB"), 1024);
	assert_int_equal(size_ok("1MiB"), 1048576);
	assert_int_equal(size_ok("1GiB"), 1073741824LL);
	assert_int_equal(size_ok("1TiB"), 1099511627776LL);
	assert_int_equal(size_ok("200MiB"), 200LL * 1048576);
	assert_int_equal(size_ok("007kB"), 7000);
}

static void test_size_space(void **state)
{
	(void)state;
	assert_int_equal(size_ok("64 MiB"), 64LL * 1048576);
	assert_int_equal(size_ok("1.5 kB"), 1500);
	/* only one space is accepted, and none in front */
	size_bad("64  MiB", "unknown unit \" MiB\"");
	size_bad(" 64MiB", "is not a number followed by a unit");
}

static void test_size_decimals(void **state)
{
	(void)state;
	assert_int_equal(size_ok("1.5GiB"), 1610612736LL);
	assert_int_equal(size_ok("0.5MiB"), 524288);
	assert_int_equal(size_ok("1.1MB"), 1100000); /* exact, no float error */
	assert_int_equal(size_ok("2.3GB"), 2300000000LL);
	assert_int_equal(size_ok("0.001kB"), 1);
	assert_int_equal(size_ok("1.000000000000000000000000MiB"), 1048576);
	assert_int_equal(size_ok("0.1TiB"), 109951162778LL); /* 109951162777.6 */
}

static void test_size_rounding(void **state)
{
	(void)state;
	/* half up */
	assert_int_equal(size_ok("0.5B"), 1);
	assert_int_equal(size_ok("1.5B"), 2);
	assert_int_equal(size_ok("0.49B"), 0);
	assert_int_equal(size_ok("0.0005kB"), 1);   /* 0.5 B */
	assert_int_equal(size_ok("0.0004kB"), 0);   /* 0.4 B */
	assert_int_equal(size_ok("0.0009765625KiB"), 1); /* exactly 1 B */
	/* 1/2048 KiB is exactly half a byte: rounds up */
	assert_int_equal(size_ok("0.00048828125KiB"), 1);
	/* just below half a byte, in the 40th decimal: still exact */
	assert_int_equal(size_ok("0.4999999999999999999999999999999999999999B"), 0);
	assert_int_equal(size_ok("0.5000000000000000000000000000000000000001B"), 1);
	/* (2^41 - 1) / 2^41 TiB = 2^40 - 0.5 bytes: half up to 2^40 */
	assert_int_equal(size_ok("0.99999999999954525264911353588104248046875TiB"),
			 1099511627776LL);
	/* the same minus 10^-41 TiB is just below the half: rounds down */
	assert_int_equal(size_ok("0.99999999999954525264911353588104248046874TiB"),
			 1099511627775LL);
}

static void test_size_overflow(void **state)
{
	(void)state;
	assert_int_equal(size_ok("9223372036854775807B"), INT64_MAX);
	size_bad("9223372036854775808B", "is too large (the maximum is 9223372036854775807 bytes)");
	size_bad("8589934592GiB", "is too large");                /* exactly 2^63 */
	size_bad("8589934591.9999999999GiB", "is too large");     /* rounds to 2^63 */
	assert_int_equal(size_ok("8589934591.99999999GiB"), INT64_MAX - 10); /* 2^63 - 10.7 */
	size_bad("99999999999999999999999999999999999999TiB", "is too large");
	size_bad("9223372036854775807.5B", "is too large");
	size_bad("17179869184GiB", "is too large");   /* 2^64: would wrap to 0 */
	size_bad("18446744073709551617B", "is too large");
}

static void test_size_errors(void **state)
{
	(void)state;
	size_bad("200", "size \"200\" needs a unit: B, kB, MB, GB, KiB, MiB or GiB");
	size_bad("1.5", "size \"1.5\" needs a unit");
	size_bad("-5MiB", "size \"-5MiB\" is negative");
	size_bad("-0.5kB", "is negative");
	size_bad("", "size \"\" is empty");
	size_bad(NULL, "is empty");
	size_bad("5XB", "size \"5XB\" has an unknown unit \"XB\" (use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)");
	size_bad("12MiBx", "unknown unit \"MiBx\"");
	size_bad("12MiB ", "unknown unit \"MiB \"");
	size_bad("MiB", "size \"MiB\" is not a number followed by a unit, like \"200MiB\"");
	size_bad("1..2MiB", "is not a number followed by a unit");
	size_bad(".5MiB", "is not a number followed by a unit");
	size_bad("5.MiB", "is not a number followed by a unit");
	size_bad("+5MiB", "is not a number followed by a unit");
	size_bad("5s", "unknown unit \"s\"");
}

static void test_size_hints(void **state)
{
	(void)state;
	size_bad("5KB", "unknown unit \"KB\": did you mean \"KiB\" (1024) or \"kB\" (1000)?");
	size_bad("5Kb", "did you mean \"KiB\" (1024) or \"kB\" (1000)?");
	size_bad("5kb", "did you mean \"KiB\" (1024) or \"kB\" (1000)?");
	size_bad("5kib", "did you mean \"KiB\" (1024) or \"kB\" (1000)?");
	size_bad("5mb", "did you mean \"MiB\" (1048576) or \"MB\" (1000000)?");
	size_bad("5Mb", "did you mean \"MiB\" (1048576) or \"MB\" (1000000)?");
	size_bad("5MIB", "did you mean \"MiB\" (1048576) or \"MB\" (1000000)?");
	size_bad("5gb", "did you mean \"GiB\" (1073741824) or \"GB\" (1000000000)?");
	size_bad("5tb", "did you mean \"TiB\"");
	size_bad("5b", "did you mean \"B\"?");
}

static void test_size_hostile_input(void **state)
{
	size_t n = 100000;
	char *s = malloc(n + 4);
	char err[256] = "";
	int64_t v = 0;

	(void)state;
	assert_non_null(s);
	/* a huge number is rejected and echoed only in part */
	memset(s, '9', n);
	strcpy(s + n, "MiB");
	assert_int_equal(mg_parse_size(s, &v, err, sizeof err), -1);
	assert_contains(err, "is too large");
	assert_contains(err, "...");
	assert_true(strlen(err) < 200);
	/* a huge fraction is fine: 0.999... B rounds to 1 */
	s[0] = '0';
	s[1] = '.';
	strcpy(s + n, "B");
	assert_int_equal(size_ok(s), 1);
	free(s);
	/* control characters never reach the message */
	size_bad("5\nMiB", "unknown unit \"?MiB\"");
	/* a tiny or missing error buffer is not written past */
	assert_int_equal(mg_parse_size("5XB", &v, err, 4), -1);
	assert_string_equal(err, "siz");
	assert_int_equal(mg_parse_size("5XB", &v, NULL, 0), -1);
	/* a NULL output pointer is allowed */
	assert_int_equal(mg_parse_size("5B", NULL, NULL, 0), 0);
}

static void test_duration_units(void **state)
{
	(void)state;
	assert_int_equal(dur_ok("0ms"), 0);
	assert_int_equal(dur_ok("250ms"), 250);
	assert_int_equal(dur_ok("30s"), 30000);
	assert_int_equal(dur_ok("2min"), 120000);
	assert_int_equal(dur_ok("1h"), 3600000);
	assert_int_equal(dur_ok("10 s"), 10000);
}

static void test_duration_decimals(void **state)
{
	(void)state;
	assert_int_equal(dur_ok("1.5s"), 1500);
	assert_int_equal(dur_ok("0.5min"), 30000);
	assert_int_equal(dur_ok("0.1h"), 360000);
	assert_int_equal(dur_ok("0.0005s"), 1);   /* half a ms rounds up */
	assert_int_equal(dur_ok("0.0004s"), 0);
	assert_int_equal(dur_ok("1.4ms"), 1);
	assert_int_equal(dur_ok("1.5ms"), 2);
	assert_int_equal(dur_ok("0.33333333333333333333min"), 20000);
}

static void test_duration_errors(void **state)
{
	(void)state;
	dur_bad("30", "duration \"30\" needs a unit: ms, s, min or h");
	dur_bad("-1s", "duration \"-1s\" is negative");
	dur_bad("", "duration \"\" is empty");
	dur_bad(NULL, "is empty");
	dur_bad("5d", "duration \"5d\" has an unknown unit \"d\" (use ms, s, min or h)");
	dur_bad("5m", "did you mean \"min\" (minutes) or \"ms\" (milliseconds)?");
	dur_bad("5sec", "did you mean \"s\"?");
	dur_bad("5MiB", "unknown unit \"MiB\"");
	dur_bad("s", "is not a number followed by a unit, like \"30s\"");
	dur_bad("9223372036854775808ms", "is too large (the maximum is 9223372036854775807 ms)");
	dur_bad("2562047788016h", "is too large");
	assert_int_equal(dur_ok("9223372036854775807ms"), INT64_MAX);
}

/* Format with mg_format_mib and compare. */
static void mib_is(int64_t bytes, const char *want)
{
	char buf[64];

	memset(buf, 'x', sizeof buf);
	mg_format_mib(bytes, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void test_format_mib(void **state)
{
	(void)state;
	mib_is(0, "0.0 MiB");
	mib_is(64LL * 1048576, "64.0 MiB");
	mib_is(524288, "0.5 MiB");
	mib_is(-1572864, "-1.5 MiB");
	mib_is(1048576 + 104857, "1.1 MiB");       /* 1.09999 */
	mib_is(1048576 + 52428, "1.0 MiB");        /* 1.04999...: rounds down */
	mib_is(1048576 + 52429, "1.1 MiB");        /* 1.05000...: rounds up */
	mib_is(1048576 - 1, "1.0 MiB");            /* carries into the whole part */
	mib_is(10LL * 1048576 - 1, "10.0 MiB");
	mib_is(-52429, "-0.1 MiB");
	mib_is(-1, "0.0 MiB");                     /* no "-0.0" */
	mib_is(INT64_MAX, "8796093022208.0 MiB");
	mib_is(INT64_MIN, "-8796093022208.0 MiB");
}

static void test_format_mib_small_buffer(void **state)
{
	char buf[5];

	(void)state;
	mg_format_mib(64LL * 1048576, buf, sizeof buf);
	assert_string_equal(buf, "64.0");
	mg_format_mib(1, NULL, 0); /* must not crash */
}

static void dur_fmt_is(int64_t ms, const char *want)
{
	char buf[64];

	mg_format_duration(ms, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void test_format_duration(void **state)
{
	(void)state;
	dur_fmt_is(0, "0 ms");
	dur_fmt_is(250, "250 ms");
	dur_fmt_is(999, "999 ms");
	dur_fmt_is(1000, "1.00 s");
	dur_fmt_is(1500, "1.50 s");
	dur_fmt_is(1234, "1.23 s");
	dur_fmt_is(1235, "1.24 s");   /* half up */
	dur_fmt_is(1999, "2.00 s");
	dur_fmt_is(61000, "61.00 s");
	dur_fmt_is(INT64_MAX, "9223372036854775.81 s");
}

/* The growth limit's rate, shared by the config and measure --limit (which
 * once took "1MiB" as per second and refused "1MiB/s"). */
static void test_rate(void **state)
{
	(void)state;
	char err[256] = "";
	int64_t v = -42;
	assert_int_equal(mg_parse_rate("1MiB/s", &v, err, sizeof err), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(mg_parse_rate("30MiB/min", &v, err, sizeof err), 0);
	assert_int_equal(v, 524288);
	v = -42;
	assert_int_equal(mg_parse_rate("1MiB", &v, err, sizeof err), -1);
	assert_contains(err, "needs a time unit");
	assert_int_equal(mg_parse_rate("1MiB/h", &v, err, sizeof err), -1);
	assert_contains(err, "unknown rate unit \"/h\"");
	assert_int_equal(mg_parse_rate("1/s", &v, err, sizeof err), -1);
	assert_contains(err, "needs a unit");
	assert_int_equal(mg_parse_rate("/s", &v, err, sizeof err), -1);
	char longer[200];
	memset(longer, '9', sizeof longer - 3);
	strcpy(longer + sizeof longer - 3, "/s");
	assert_int_equal(mg_parse_rate(longer, &v, err, sizeof err), -1);
	assert_contains(err, "too long");
	assert_int_equal(v, -42);
}

/* A deadline from any duration the parser accepts, never past INT64_MAX */
static void test_deadline(void **state)
{
	(void)state;
	assert_int_equal(mg_deadline_ms(1000, 250), 1250);
	assert_int_equal(mg_deadline_ms(1000, 0), 1000);
	assert_int_equal(mg_deadline_ms(1000, INT64_MAX), INT64_MAX);
	assert_int_equal(mg_deadline_ms(INT64_MAX - 5, 5), INT64_MAX);
	assert_int_equal(mg_deadline_ms(INT64_MAX - 5, 6), INT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_units),
		cmocka_unit_test(test_size_space),
		cmocka_unit_test(test_size_decimals),
		cmocka_unit_test(test_size_rounding),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_size_errors),
		cmocka_unit_test(test_size_hints),
		cmocka_unit_test(test_size_hostile_input),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_decimals),
		cmocka_unit_test(test_duration_errors),
		cmocka_unit_test(test_format_mib),
		cmocka_unit_test(test_format_mib_small_buffer),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_deadline),
	};
	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
