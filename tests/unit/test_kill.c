/* kill.c: signals reach only processes verified to be ours, on real processes. */
#include "testutil.h"

#include <errno.h>
#include <time.h>

#include "measure/kill.h"

static void refuses_pids_that_are_never_a_fixture(void **state)
{
	(void)state;
	struct mg_pidref r;
	const pid_t never[] = {-1, 0, 1, getpid(), -getpid()};
	for (size_t i = 0; i < sizeof never / sizeof *never; i++) {
		assert_int_equal(mg_pidref_open(never[i], &r), -1);
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(mg_pidref_open(0x3ffffff, &r), 1); /* no such process: gone */
}

static void stat_ids(void **state)
{
	(void)state;
	char *text = tu_read_data("proc/stat-sleep.txt");
	pid_t ppid;
	uint64_t start;
	assert_int_equal(mg_parse_stat_ids(text, &ppid, &start), 0);
	assert_true(ppid > 0);
	assert_true(start > 0);
	free(text);
	/* a comm that imitates the fields after it */
	const char *hostile = "42 (x) 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20) S 7 42 42 0 -1 4194560 "
			      "1 0 0 0 0 0 0 0 20 0 1 0 123456 4096 100 18446744073709551615\n";
	assert_int_equal(mg_parse_stat_ids(hostile, &ppid, &start), 0);
	assert_int_equal(ppid, 7);
	assert_int_equal(start, 123456);
	assert_int_equal(mg_parse_stat_ids("42 (x) S 7 42", &ppid, &start), -1); /* cut short */
	assert_int_equal(mg_parse_stat_ids("42 (x) S 7 42 42 0 -1 0 1 0 0 0 0 0 0 0 20 0 1 0 -9 4096", &ppid, &start), -1);
}

static pid_t fork_sleeper(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

/* A process that is not our descendant: its parent exits at once, so it
 * is handed to init (or to a subreaper above us), not to us. */
static pid_t fork_bystander(void)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		pid_t by = fork();
		if (by == 0) {
			close(p[0]);
			close(p[1]);
			for (;;)
				pause();
		}
		ssize_t w = write(p[1], &by, sizeof by);
		_exit(w == (ssize_t)sizeof by ? 0 : 1);
	}
	close(p[1]);
	pid_t by = 0;
	assert_int_equal(read(p[0], &by, sizeof by), (ssize_t)sizeof by);
	close(p[0]);
	waitpid(mid, NULL, 0);
	return by;
}

static bool alive(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void kills_descendants_only(void **state)
{
	(void)state;
	pid_t bystander = fork_bystander();
	pid_t spared = fork_sleeper();
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pid_t grandchild = fork_sleeper();
		ssize_t w = write(p[1], &grandchild, sizeof grandchild);
		(void)w;
		pause();
		_exit(0);
	}
	pid_t grandchild = 0;
	assert_int_equal(read(p[0], &grandchild, sizeof grandchild), (ssize_t)sizeof grandchild);
	close(p[0]);
	close(p[1]);

	struct mg_tree_reader t;
	mg_tree_reader_init(&t);
	struct mg_pidset spare = {0};
	assert_int_equal(mg_pidset_add(&spare, spared), 0);
	size_t killed = 0;
	char err[256];
	assert_int_equal(mg_kill_descendants(&t, &spare, &killed, err, sizeof err), 0);
	assert_int_equal(killed, 2);
	int st;
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	for (int i = 0; i < 500 && alive(grandchild); i++)
		usleep(2000);
	assert_false(alive(grandchild));
	assert_true(alive(bystander)); /* never ours: untouched */
	assert_true(alive(spared));

	kill(spared, SIGKILL);
	waitpid(spared, NULL, 0);
	kill(bystander, SIGKILL); /* the test's own: it made it */
	mg_pidset_free(&spare);
	mg_tree_reader_free(&t);
}

static bool never(pid_t pid, void *ctx)
{
	(void)pid;
	(void)ctx;
	return false;
}

static bool always(pid_t pid, void *ctx)
{
	(void)pid;
	(void)ctx;
	return true;
}

static void signal_if_asks_first(void **state)
{
	(void)state;
	pid_t pid = fork_sleeper();
	assert_int_equal(mg_signal_if(pid, SIGKILL, never, NULL), 0);
	assert_true(alive(pid));
	assert_int_equal(mg_signal_if(pid, SIGKILL, always, NULL), 1);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	/* reaped: the pid names nothing of ours any more */
	assert_int_equal(mg_signal_if(pid, SIGKILL, always, NULL), 0);
}

/* The same pid is not the same process: a recorded identity with another
 * start time is never signalled. */
static void identities_are_checked_before_signalling(void **state)
{
	(void)state;
	pid_t pid = fork_sleeper();
	struct mg_proc_ids ids = {0};
	struct mg_proc_id id;
	assert_int_equal(mg_proc_id_read(pid, &id, NULL), 0);
	id.start += 1; /* as if the pid had been recycled */
	assert_int_equal(mg_proc_ids_add(&ids, id), 0);
	assert_int_equal(mg_signal_ids(&ids, SIGKILL), 0);
	assert_true(alive(pid));
	ids.v[0].start -= 1;
	assert_int_equal(mg_signal_ids(&ids, SIGKILL), 1);
	waitpid(pid, NULL, 0);
	mg_proc_ids_free(&ids);
}

/* The watchdog's way: seeded with a verified root, the walk finds its tree. */
static void collects_below_seeded_roots(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t root = fork();
	assert_true(root >= 0);
	if (root == 0) {
		pid_t a = fork_sleeper(), b = fork_sleeper();
		pid_t both[2] = {a, b};
		ssize_t w = write(p[1], both, sizeof both);
		(void)w;
		pause();
		_exit(0);
	}
	pid_t kids[2];
	size_t got = 0;
	while (got < sizeof kids) { /* two writes: they may arrive apart */
		ssize_t n = read(p[0], (char *)kids + got, sizeof kids - got);
		if (n <= 0)
			kill(root, SIGKILL); /* never leave it behind */
		assert_true(n > 0);
		got += (size_t)n;
	}
	struct mg_tree_reader t;
	mg_tree_reader_init(&t);
	struct mg_proc_ids ids = {0};
	struct mg_proc_id id;
	char err[256];
	assert_int_equal(mg_proc_id_read(root, &id, NULL), 0);
	assert_int_equal(mg_proc_ids_add(&ids, id), 0);
	assert_int_equal(mg_collect_tree(&t, NULL, NULL, &ids, 0, err, sizeof err), 0);
	assert_int_equal(ids.n, 3);
	assert_true(mg_pidset_has(&ids.seen, kids[0]) && mg_pidset_has(&ids.seen, kids[1]));
	assert_int_equal(mg_signal_ids(&ids, SIGKILL), 3);
	waitpid(root, NULL, 0);
	close(p[0]);
	close(p[1]);
	mg_proc_ids_free(&ids);
	mg_tree_reader_free(&t);
}

/* A wrapper (heaptrack's script) with two children: the program, started
 * with a marker variable, and a helper without it. Only the program gets
 * the signal; the wrapper and the helper live on. */
static void signals_the_marked_child_only(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t wrapper = fork();
	assert_true(wrapper >= 0);
	if (wrapper == 0) {
		pid_t kids[2];
		for (int i = 0; i < 2; i++) {
			kids[i] = fork();
			if (kids[i] == 0) {
				if (i == 1)
					execle("/bin/sleep", "sleep", "30", (char *)NULL,
					       (char *const[]){"MG_TEST_MARK=1", "OTHER=2", NULL});
				else
					execle("/bin/sleep", "sleep", "30", (char *)NULL,
					       (char *const[]){"MG_TEST_MARKX=1", "A=MG_TEST_MARK=1", NULL});
				_exit(127);
			}
		}
		ssize_t w = write(p[1], kids, sizeof kids);
		(void)w;
		int st;
		pid_t first = wait(&st); /* the program ends first */
		_exit(first == kids[1] && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM ? 0 : 1);
	}
	pid_t kids[2];
	assert_int_equal(read(p[0], kids, sizeof kids), (ssize_t)sizeof kids);
	close(p[0]);
	close(p[1]);
	for (int i = 0; i < 500 && !(mg_proc_has_env(kids[1], "MG_TEST_MARK")); i++)
		usleep(2000); /* until it has exec'd */
	assert_true(mg_proc_has_env(kids[1], "MG_TEST_MARK"));
	assert_false(mg_proc_has_env(kids[0], "MG_TEST_MARK")); /* a longer name, a value: not it */
	assert_false(mg_proc_has_env(wrapper, "MG_TEST_MARK"));

	struct mg_tree_reader t;
	mg_tree_reader_init(&t);
	char err[256];
	assert_int_equal(mg_signal_children_with_env(&t, wrapper, "MG_TEST_MARK", SIGTERM, err, sizeof err), 1);
	int st;
	assert_int_equal(waitpid(wrapper, &st, 0), wrapper);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* the program died of SIGTERM, first */
	assert_true(alive(kids[0]));
	kill(kids[0], SIGKILL); /* orphaned to us (a subreaper) or init: the test made it */
	waitpid(kids[0], NULL, WNOHANG);
	/* nothing marked: nothing signalled */
	assert_int_equal(mg_signal_children_with_env(&t, getpid(), "MG_TEST_NO_SUCH_MARK", SIGTERM, err, sizeof err), 0);
	mg_tree_reader_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refuses_pids_that_are_never_a_fixture),
		cmocka_unit_test(stat_ids),
		cmocka_unit_test(kills_descendants_only),
		cmocka_unit_test(signal_if_asks_first),
		cmocka_unit_test(identities_are_checked_before_signalling),
		cmocka_unit_test(collects_below_seeded_roots),
		cmocka_unit_test(signals_the_marked_child_only),
	};
	return cmocka_run_group_tests_name("kill", tests, NULL, NULL);
}
