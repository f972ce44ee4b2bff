/* Unit tests for measure/tool.c: a helper program run to completion, within
 * its time limit, and stopped at once when memgate is interrupted. */
#include "testutil.h"

#include <signal.h>
#include <time.h>

#include "measure/tool.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void exit_status_is_returned(void **state)
{
	(void)state;
	char *const argv[] = {"sh", "-c", "exit 7", NULL};
	struct mg_tool t = {.argv = argv, .timeout_ms = 10000, .what = "sh"};
	char err[256] = "";
	int st = mg_run_tool(&t, err, sizeof err);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
}

static void time_limit_kills(void **state)
{
	(void)state;
	char *const argv[] = {"sleep", "30", NULL};
	struct mg_tool t = {.argv = argv, .timeout_ms = 300, .what = "sleep"};
	char err[256] = "";
	int64_t t0 = now_ms();
	assert_int_equal(mg_run_tool(&t, err, sizeof err), -1);
	assert_true(now_ms() - t0 < 10000);
	assert_contains(err, "sleep did not finish in 0 s: killed");
}

/* Ctrl-C while memray transforms a capture waited out the tool's 120 s
 * limit for each step; the signal is left pending for the supervisor. */
static void an_interrupt_stops_it_at_once(void **state)
{
	(void)state;
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	assert_int_equal(sigprocmask(SIG_BLOCK, &term, &old), 0);
	assert_int_equal(kill(getpid(), SIGTERM), 0); /* pending, as memgate's signals are */
	char *const argv[] = {"sleep", "30", NULL};
	struct mg_tool t = {.argv = argv, .timeout_ms = 60000, .what = "sleep", .child_mask = &old};
	char err[256] = "";
	int64_t t0 = now_ms();
	assert_int_equal(mg_run_tool(&t, err, sizeof err), -1);
	assert_true(now_ms() - t0 < 10000);
	assert_contains(err, "sleep stopped: memgate was interrupted (SIGTERM)");
	sigset_t pend;
	assert_int_equal(sigpending(&pend), 0);
	assert_int_equal(sigismember(&pend, SIGTERM), 1); /* still the supervisor's to read */
	int got;
	assert_int_equal(sigwait(&term, &got), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exit_status_is_returned),
		cmocka_unit_test(time_limit_kills),
		cmocka_unit_test(an_interrupt_stops_it_at_once),
	};
	return cmocka_run_group_tests_name("tool", tests, NULL, NULL);
}
