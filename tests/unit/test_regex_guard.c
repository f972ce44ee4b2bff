/* Unit tests for regex_guard.c: what a readiness pattern may be, what is
 * refused (and the message), totality on arbitrary bytes, and that the
 * guard sits in front of regcomp in the config loader and in supervise. */
#include "testutil.h"

#include <regex.h>

#include "config.h"
#include "regex_guard.h"
#include "result.h"
#include "measure/supervise.h"

/* Accepted, and regcomp agrees. */
static void ok(const char *pattern)
{
	char err[512] = "";
	if (mg_regex_check(pattern, err, sizeof err) != 0)
		fail_msg("\"%s\" refused: %s", pattern, err);
	regex_t re;
	int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0)
		fail_msg("\"%s\" passed the guard but regcomp says %d", pattern, rc);
	regfree(&re);
}

/* Refused, with want in the message. */
static void refused(const char *pattern, const char *want)
{
	char err[512] = "";
	if (mg_regex_check(pattern, err, sizeof err) != -1)
		fail_msg("\"%s\" accepted, expected \"%s\"", pattern, want);
	assert_contains(err, want);
	assert_null(strchr(err, '\n'));
}

static void test_readiness_patterns_pass(void **state)
{
	(void)state;
	ok("ready");
	ok("^Listening on .*:[0-9]+$");
	ok("Serving HTTP on [0-9.]+ port [0-9]+");
	ok("\\[INFO\\] (server|worker) started");
	ok("^r.*eady$");
	ok("started \\(pid [0-9]+\\)");
	ok("[]a-z]+ ready");
	ok("[^]x]?");
	ok("[[:alpha:]_][[:alnum:]_]* up");
	ok("x{3}y{2,}z{1,5}w{,4}");
	ok("(a|b|)c");
	ok("()");
	ok("\\w+ \\{literal\\} \\.");
	ok("a}b]c");
	ok("((((((((((a))))))))))");      /* 10 levels: the cap */
	ok("(.{250}){4}");                 /* 1000: at the cap */
	ok("(((a+)+)+)");                  /* 8: grouping a repetition is allowed */
}

static void test_stacked_quantifiers(void **state)
{
	(void)state;
	refused("^r++++++++++++++++++++eady$", "byte 4 (\"^r++\"): '+' directly follows another quantifier");
	refused("a**", "'*' directly follows another quantifier");
	refused("a*+", "'+' directly follows");
	refused("a+?", "'?' directly follows");
	refused("a{2}{3}", "'{' directly follows");
	refused("a?*", "'*' directly follows");
	refused("(ab)+*", "'*' directly follows");
}

static void test_nothing_to_repeat(void **state)
{
	(void)state;
	refused("*a", "byte 1 (\"*\"): '*' has nothing to repeat; escape it (\\*)");
	refused("a|+b", "'+' has nothing to repeat");
	refused("(?a)", "'?' has nothing to repeat");
	refused("^*", "'*' has nothing to repeat");
	refused("x$+", "'+' has nothing to repeat");
	refused("{2}", "'{' has nothing to repeat");
}

static void test_back_references(void **state)
{
	(void)state;
	refused("(a)\\1", "byte 4 (\"(a)\\\"): back-reference \\1");
	refused("(a*)*\\9b", "back-reference \\9");
	ok("\\0x"); /* not a back-reference */
}

static void test_intervals(void **state)
{
	(void)state;
	refused("a{256}", "a repetition bound above 255");
	refused("a{1,99999999999999999999999}", "a repetition bound above 255");
	refused("a{5,2}", "repetition {5,2} has its minimum above its maximum");
	refused("a{", "'{' does not start a repetition");
	refused("a{x}", "'{' does not start a repetition");
	refused("a{1", "'{' does not start a repetition");
	refused("a{,}", "'{' does not start a repetition");
	refused("on {port}", "escape it (\\{)");
	ok("a{255}");
	ok("a{0}b");
}

static void test_groups_and_brackets(void **state)
{
	(void)state;
	refused("(((((((((((a)))))))))))", "byte 11 (\"(((((((((((\"): groups nest deeper than 10 levels");
	refused("(ab", "byte 1 (\"(\"): '(' is never closed");
	refused("a(b(c)", "byte 2 (\"a(\"): '(' is never closed");
	refused("ab)", "')' closes no group; escape it (\\))");
	refused("[abc", "'[' starts a bracket expression that is never closed");
	refused("[[:alpha:]", "never closed with ']'");
	refused("[[:alpha]", "\"[:\" in a bracket expression is never closed with \":]\"");
	refused("x\\", "ends in a lone backslash");
	/* a bracket hides what would be syntax outside it */
	ok("[(+*{\\]");
}

static void test_expansion(void **state)
{
	(void)state;
	refused("(a{100}){100}", "byte 9 (\"(a{100}){\"): counted repetitions would unroll this pattern "
				 "to more than 1000 copies");
	refused("((a{20}){20}){20}", "more than 1000 copies");
	refused("(((((a{4}){4}){4}){4}){4})", "more than 1000 copies"); /* 4^5 */
	refused("(a|b|c|d){255}", "more than 1000 copies");
	refused("((((((((((a+)+)+)+)+)+)+)+)+)+)+", "more than 1000 copies"); /* 2^11 */
	ok("(a{100}){10}");
	ok("((((((((a+)+)+)+)+)+)+)+)+"); /* 2^9 */
	ok("(a|b|c){255}x{235}");
}

static void test_length(void **state)
{
	(void)state;
	char long_pat[MG_REGEX_MAX_LEN + 2];
	memset(long_pat, 'a', sizeof long_pat - 1);
	long_pat[sizeof long_pat - 1] = '\0';
	refused(long_pat, "longer than 512 bytes");
	long_pat[MG_REGEX_MAX_LEN] = '\0';
	/* 512 plain characters: at the cap, and 512 atoms */
	ok(long_pat);
	refused(NULL, "no pattern");
}

static void test_messages_are_safe(void **state)
{
	(void)state;
	char err[512];
	/* control and non-ASCII bytes never reach the message */
	assert_int_equal(mg_regex_check("\x01\xc3\xa9\n**", err, sizeof err), -1);
	for (const char *p = err; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	/* no buffer, or a tiny one: still an answer, never an overflow */
	assert_int_equal(mg_regex_check("a**", NULL, 0), -1);
	char tiny[8];
	assert_int_equal(mg_regex_check("a**", tiny, sizeof tiny), -1);
	assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

/* Total: every byte string (here, many pseudo-random ones over the
 * interesting alphabet and all bytes) gets an answer, and what passes
 * compiles. */
static void test_total_on_random_bytes(void **state)
{
	(void)state;
	static const char alphabet[] = "ab.^$*+?{}[]()|\\,0123456789:=-";
	uint32_t x = 12345;
	char pat[64], err[512];
	for (int n = 0; n < 200000; n++) {
		x = x * 1103515245u + 12345u;
		size_t len = (x >> 16) % (sizeof pat - 1);
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			unsigned char b = (unsigned char)(x >> 16);
			pat[i] = n % 4 == 3 ? (char)(b ? b : 1) : alphabet[b % (sizeof alphabet - 1)];
		}
		pat[len] = '\0';
		if (mg_regex_check(pat, err, sizeof err) == 0 && n % 64 == 0) {
			regex_t re;
			if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) == 0)
				regfree(&re);
		}
	}
}

/* The loader refuses before regcomp, naming the JSON path. */
static void test_config_refuses(void **state)
{
	(void)state;
	struct mg_config cfg;
	char err[1024];
	const char *text = "{\"version\":1,\"fixtures\":[{\"name\":\"s\",\"service\":{\"command\":[\"x\"],"
			   "\"ready\":{\"stdout\":\"^r++++++++++++++++++++eady$\"}},\"driver\":{\"command\":[\"y\"]}}]}";
	assert_int_equal(mg_config_load_string(text, "m.json", &cfg, err, sizeof err), -1);
	assert_contains(err, "m.json: fixtures[0].service.ready.stdout: byte 4 (\"^r++\"): '+' directly follows");
}

/* supervise checks again before its own regcomp: a fixture that did not
 * come through the loader is refused before anything starts. */
static void test_supervise_refuses(void **state)
{
	(void)state;
	struct mg_supervisor sv;
	char err[512];
	assert_int_equal(mg_supervisor_init(&sv, err, sizeof err), 0);
	struct mg_fixture f;
	mg_fixture_init(&f);
	char *argv[] = {strdup("/bin/sh"), strdup("-c"), strdup("echo ready; sleep 1"), NULL};
	char *drv[] = {strdup("/bin/true"), NULL};
	f.name = strdup("svc");
	f.argv = calloc(4, sizeof *f.argv);
	memcpy(f.argv, argv, sizeof argv);
	f.argc = 3;
	f.driver.argv = calloc(2, sizeof *f.driver.argv);
	memcpy(f.driver.argv, drv, sizeof drv);
	f.driver.argc = 1;
	f.has_service = true;
	f.measurement = MG_METHOD_PROC;
	f.service.ready = MG_READY_STDOUT;
	f.service.ready_target = strdup("^r++++++++++++++++++++eady$");
	f.service.ready_timeout_ms = 2000;
	struct mg_result r;
	mg_result_init(&r);
	mg_supervise(&sv, &f, &r);
	assert_contains(r.error, "service.ready.stdout: byte 4");
	assert_false(r.started);
	mg_result_free(&r);
	mg_fixture_free(&f);
	mg_supervisor_done(&sv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readiness_patterns_pass),
		cmocka_unit_test(test_stacked_quantifiers),
		cmocka_unit_test(test_nothing_to_repeat),
		cmocka_unit_test(test_back_references),
		cmocka_unit_test(test_intervals),
		cmocka_unit_test(test_groups_and_brackets),
		cmocka_unit_test(test_expansion),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_messages_are_safe),
		cmocka_unit_test(test_total_on_random_bytes),
		cmocka_unit_test(test_config_refuses),
		cmocka_unit_test(test_supervise_refuses),
	};
	return cmocka_run_group_tests_name("regex_guard", tests, NULL, NULL);
}
