/* The phase mark protocol: what a line means, and names made safe. */
#include "testutil.h"

#include "measure/mark.h"

static void marks_parse(void **state)
{
	(void)state;
	struct mg_mark m;
	assert_int_equal(mg_mark_parse("phase warmup", &m), 0);
	assert_false(m.end);
	assert_int_equal(m.pid, 0);
	assert_string_equal(m.name, "warmup");
	assert_int_equal(mg_mark_parse("phase tests/t.py::test_a[x y] pid=4242", &m), 0);
	assert_string_equal(m.name, "tests/t.py::test_a[x y]");
	assert_int_equal(m.pid, 4242);
	assert_int_equal(mg_mark_parse("end", &m), 0);
	assert_true(m.end);
	assert_int_equal(mg_mark_parse("end pid=12", &m), 0);
	assert_true(m.end);
	assert_int_equal(m.pid, 12);
	/* a pid= that is not a pid is part of the name */
	assert_int_equal(mg_mark_parse("phase a pid=x", &m), 0);
	assert_string_equal(m.name, "a pid=x");
	assert_int_equal(m.pid, 0);
	assert_int_equal(mg_mark_parse("phase a pid=1", &m), 0);
	assert_string_equal(m.name, "a pid=1");
	assert_int_equal(mg_mark_parse("phase a pid=99999999", &m), 0);
	assert_int_equal(m.pid, 0);
	/* not marks */
	const char *bad[] = {"", "phase", "phase ", "ph", "END", "end now", "phase\tx", "hello", "end pid=x"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (mg_mark_parse(bad[i], &m) == 0)
			fail_msg("\"%s\" parsed as a mark", bad[i]);
}

static void names_are_made_safe(void **state)
{
	(void)state;
	char out[MG_PHASE_NAME_MAX + 1];
	mg_phase_name_clean(out, "a\tb\x01" "c\x7f", 6);
	assert_string_equal(out, "a b c ");
	mg_phase_name_clean(out, "caf\xc3\xa9 \xff\xc3", 8);
	assert_string_equal(out, "caf\xc3\xa9 ??");
	mg_phase_name_clean(out, "\xed\xa0\x80", 3); /* a surrogate: not UTF-8 */
	assert_string_equal(out, "???");
	/* cut on a character, never inside one */
	char longer[MG_PHASE_NAME_MAX + 8];
	memset(longer, 'x', MG_PHASE_NAME_MAX - 1);
	memcpy(longer + MG_PHASE_NAME_MAX - 1, "\xc3\xa9\xc3\xa9", 4);
	mg_phase_name_clean(out, longer, MG_PHASE_NAME_MAX + 3);
	assert_int_equal(strlen(out), MG_PHASE_NAME_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(marks_parse),
		cmocka_unit_test(names_are_made_safe),
	};
	return cmocka_run_group_tests_name("mark", tests, NULL, NULL);
}
