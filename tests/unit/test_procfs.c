/* /proc parsers, on files captured from a real kernel (tests/data/proc). */
#include "testutil.h"

#include <errno.h>

#include "measure/procfs.h"

static void status_of_live_process(void **state)
{
	(void)state;
	char *text = tu_read_data("proc/status-sleep.txt");
	struct mg_proc_status st;
	char err[128];
	assert_int_equal(mg_parse_status(text, &st, err, sizeof err), 0);
	assert_string_equal(st.name, "bash");
	assert_int_equal(st.state, 'S');
	assert_true(st.has_vm);
	assert_int_equal(st.rss_bytes, 2324 * 1024);
	assert_int_equal(st.hwm_bytes, 2324 * 1024);
	free(text);
}

static void status_of_zombie_has_no_memory(void **state)
{
	(void)state;
	char *text = tu_read_data("proc/status-zombie.txt");
	struct mg_proc_status st;
	char err[128];
	assert_int_equal(mg_parse_status(text, &st, err, sizeof err), 0);
	assert_int_equal(st.state, 'Z');
	assert_false(st.has_vm);
	assert_int_equal(st.rss_bytes, 0);
	free(text);
}

static void status_malformed(void **state)
{
	(void)state;
	struct mg_proc_status st;
	char err[128];
	assert_int_equal(mg_parse_status("Name:\tx\n", &st, err, sizeof err), -1);
	assert_contains(err, "State");
	assert_int_equal(mg_parse_status("Name:\tx\nState:\tR (running)\nVmHWM:\t12 MB\nVmRSS:\t3 kB\n", &st, err,
					 sizeof err), -1);
	assert_contains(err, "VmHWM");
	assert_int_equal(mg_parse_status("Name:\tx\nState:\tR\nVmRSS:\t3 kB\n", &st, err, sizeof err), -1);
	assert_int_equal(mg_parse_status("Name:\tx\nState:\tR\nVmHWM:\t\nVmRSS:\t3 kB\n", &st, err, sizeof err), -1);
	assert_int_equal(mg_parse_status("", &st, err, sizeof err), -1);
}

static void status_key_must_start_a_line(void **state)
{
	(void)state;
	struct mg_proc_status st;
	char err[128];
	/* "RssVmRSS" must not be taken for VmRSS */
	assert_int_equal(mg_parse_status("Name:\tx\nState:\tS\nXVmRSS:\t9 kB\nVmHWM:\t5 kB\nVmRSS:\t4 kB\n", &st, err,
					 sizeof err), 0);
	assert_int_equal(st.rss_bytes, 4096);
	assert_int_equal(st.hwm_bytes, 5120);
}

static void smaps_rollup_pss(void **state)
{
	(void)state;
	char *text = tu_read_data("proc/smaps_rollup-sleep.txt");
	int64_t pss = 0;
	char err[128];
	assert_int_equal(mg_parse_smaps_rollup_pss(text, &pss, err, sizeof err), 0);
	assert_int_equal(pss, 635 * 1024); /* "Pss:", not "Pss_Anon:" or "SwapPss:" */
	free(text);
	assert_int_equal(mg_parse_smaps_rollup_pss("Rss: 4 kB\n", &pss, err, sizeof err), -1);
	assert_contains(err, "Pss");
}

static void stat_ppid_with_hostile_comm(void **state)
{
	(void)state;
	char *text = tu_read_data("proc/stat-sleep.txt");
	pid_t ppid = 0;
	assert_int_equal(mg_parse_stat_ppid(text, &ppid), 0);
	assert_true(ppid > 0);
	free(text);
	assert_int_equal(mg_parse_stat_ppid("42 (a) b) c) S 7 42 42 0", &ppid), 0);
	assert_int_equal(ppid, 7);
	assert_int_equal(mg_parse_stat_ppid("42 (x", &ppid), -1);
	assert_int_equal(mg_parse_stat_ppid("42 (x) S", &ppid), -1);
}

static void statm_rss(void **state)
{
	(void)state;
	int64_t rss = 0;
	assert_int_equal(mg_parse_statm_rss("1933 581 454 5 0 122 0\n", 4096, &rss), 0);
	assert_int_equal(rss, 581 * 4096);
	assert_int_equal(mg_parse_statm_rss("0 0 0 0 0 0 0\n", 4096, &rss), 0); /* zombie */
	assert_int_equal(rss, 0);
	assert_int_equal(mg_parse_statm_rss("1933\n", 4096, &rss), -1);
	assert_int_equal(mg_parse_statm_rss("", 4096, &rss), -1);
	assert_int_equal(mg_parse_statm_rss("1 x 3", 4096, &rss), -1);
}

static void pid_lists(void **state)
{
	(void)state;
	struct mg_pidset s = {0};
	char err[128];
	assert_int_equal(mg_parse_pid_list("12\n7\n12\n", 32768, &s, err, sizeof err), 0);
	assert_int_equal(s.n, 2); /* deduplicated */
	assert_int_equal(s.v[0], 12);
	assert_int_equal(s.v[1], 7);
	assert_true(mg_pidset_has(&s, 7) && mg_pidset_has(&s, 12) && !mg_pidset_has(&s, 1));
	assert_int_equal(mg_parse_pid_list("", 32768, &s, err, sizeof err), 0);
	assert_int_equal(s.n, 0);
	assert_false(mg_pidset_has(&s, 7)); /* cleared, index too */
	/* /proc/PID/task/TID/children separates with spaces */
	assert_int_equal(mg_parse_pid_list("301 302 303 ", 32768, &s, err, sizeof err), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(mg_parse_pid_list("32768\n", 32768, &s, err, sizeof err), 0);
	assert_int_equal(mg_parse_pid_list("12\nfoo\n", 32768, &s, err, sizeof err), -1);
	assert_contains(err, "foo");
	mg_pidset_free(&s);
}

/* Anything that is not a whole pid in 1..pid_max is refused, never turned
 * into a pid: 4294967295 used to become (pid_t)-1, and kill(-1, SIGKILL)
 * kills every process memgate may signal. */
static void pid_lists_refuse_what_is_not_a_pid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"4294967295\n", "-1\n", "0\n", "+5\n", "12a\n", "007\n", "32769\n", "99999999999999999999\n",
		"1\n-5\n", "12\t13\n", "1 2x", "2147483648\n", " -0 ",
	};
	struct mg_pidset s = {0};
	char err[128];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (mg_parse_pid_list(bad[i], 32768, &s, err, sizeof err) != -1)
			fail_msg("\"%s\" was taken as a pid list (%zu pids, first %d)", bad[i], s.n, s.n ? (int)s.v[0] : 0);
		assert_contains(err, "not a pid");
	}
	mg_pidset_free(&s);
}

/* A list of any length is read whole: a cut at a buffer's end used to turn
 * its last "12345" into "1". */
static void long_pid_lists_are_read_whole(void **state)
{
	(void)state;
	char path[] = "/tmp/memgate-test-pids-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	for (int pid = 10000; pid < 4000000; pid += 37) /* 107838 pids, about 800 KiB */
		fprintf(f, "%d\n", pid);
	assert_int_equal(fclose(f), 0);
	struct mg_buf b = {0};
	struct mg_pidset s = {0};
	char err[128];
	ssize_t n = mg_read_file_buf(path, &b, MG_PID_LIST_MAX);
	assert_true(n > 700 * 1024);
	assert_int_equal(strlen(b.p), (size_t)n);
	assert_int_equal(mg_parse_pid_list(b.p, 4194304, &s, err, sizeof err), 0);
	assert_int_equal(s.n, (4000000 - 10000 + 36) / 37);
	assert_int_equal(s.v[s.n - 1], 10000 + 37 * (int)(s.n - 1));
	for (size_t i = 0; i < s.n; i += 997)
		assert_true(mg_pidset_has(&s, s.v[i]));
	assert_false(mg_pidset_has(&s, 10001));
	/* over the cap: an error, never a silent cut */
	assert_int_equal(mg_read_file_buf(path, &b, 4096), -1);
	assert_int_equal(errno, EFBIG);
	unlink(path);
	mg_buf_free(&b);
	mg_pidset_free(&s);
}

static void pidset_truncate_reindexes(void **state)
{
	(void)state;
	struct mg_pidset s = {0};
	for (pid_t p = 1; p <= 1000; p++)
		assert_int_equal(mg_pidset_add(&s, p), 0);
	assert_int_equal(mg_pidset_add(&s, 0), -1); /* never a member */
	size_t kept = 0;
	for (size_t i = 0; i < s.n; i++)
		if (s.v[i] % 3 == 0)
			s.v[kept++] = s.v[i];
	mg_pidset_truncate(&s, kept);
	assert_int_equal(s.n, 333);
	assert_true(mg_pidset_has(&s, 999));
	assert_false(mg_pidset_has(&s, 998));
	mg_pidset_free(&s);
}

static void pid_max_is_read(void **state)
{
	(void)state;
	pid_t m = mg_pid_max();
	assert_true(m > 300 && m <= 4194304);
}

static void reads_this_process(void **state)
{
	(void)state;
	struct mg_proc_status st;
	char err[256];
	assert_int_equal(mg_read_status(getpid(), &st, err, sizeof err), 0);
	assert_true(st.rss_bytes > 0 && st.hwm_bytes >= st.rss_bytes);
	/* a pid that cannot exist reads as gone, not as an error */
	assert_int_equal(mg_read_status(0x7ffffff0, &st, err, sizeof err), 1);
}

static void finds_descendants(void **state)
{
	(void)state;
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pid_t grandchild = fork();
		if (grandchild == 0)
			pause();
		pause();
	}
	struct mg_pidset s = {0};
	char err[256];
	struct mg_tree_reader t;
	mg_tree_reader_init(&t);
	for (int tries = 0; tries < 200 && s.n < 2; tries++) { /* grandchild may not exist yet */
		assert_int_equal(mg_list_descendants(&t, getpid(), &s, err, sizeof err), 0);
		usleep(5000);
	}
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0], child);
	assert_int_equal(t.nroot_children, 1);
	assert_true(t.children_files == 0 || t.children_files == 1); /* learnt on the first call */
	t.children_files = !t.children_files; /* the other way: /proc scan or children files */
	assert_int_equal(mg_list_descendants(&t, getpid(), &s, err, sizeof err), 0);
	assert_int_equal(s.n, 2); /* the same answer whichever way it was found */
	assert_int_equal(t.nroot_children, 1);
	mg_tree_reader_free(&t);
	kill(s.v[1], SIGKILL);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	mg_pidset_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_of_live_process),
		cmocka_unit_test(status_of_zombie_has_no_memory),
		cmocka_unit_test(status_malformed),
		cmocka_unit_test(status_key_must_start_a_line),
		cmocka_unit_test(smaps_rollup_pss),
		cmocka_unit_test(stat_ppid_with_hostile_comm),
		cmocka_unit_test(statm_rss),
		cmocka_unit_test(pid_lists),
		cmocka_unit_test(pid_lists_refuse_what_is_not_a_pid),
		cmocka_unit_test(long_pid_lists_are_read_whole),
		cmocka_unit_test(pidset_truncate_reindexes),
		cmocka_unit_test(pid_max_is_read),
		cmocka_unit_test(reads_this_process),
		cmocka_unit_test(finds_descendants),
	};
	return cmocka_run_group_tests_name("procfs", tests, NULL, NULL);
}
