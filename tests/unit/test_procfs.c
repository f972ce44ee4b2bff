/* /proc parsers, on files captured from a real kernel (tests/data/proc). */
#include "testutil.h"

#include "procfs.h"

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
	assert_int_equal(mg_parse_pid_list("12\n7\n12\n", &s, err, sizeof err), 0);
	assert_int_equal(s.n, 2); /* deduplicated */
	assert_int_equal(s.v[0], 12);
	assert_int_equal(s.v[1], 7);
	assert_int_equal(mg_parse_pid_list("", &s, err, sizeof err), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(mg_parse_pid_list("12\nfoo\n", &s, err, sizeof err), -1);
	assert_contains(err, "foo");
	mg_pidset_free(&s);
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
	int has_children = -1;
	for (int tries = 0; tries < 200 && s.n < 2; tries++) { /* grandchild may not exist yet */
		assert_int_equal(mg_list_descendants(getpid(), &has_children, &s, err, sizeof err), 0);
		usleep(5000);
	}
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0], child);
	assert_true(has_children == 0 || has_children == 1); /* learnt on the first call */
	int again = has_children;
	assert_int_equal(mg_list_descendants(getpid(), &again, &s, err, sizeof err), 0);
	assert_int_equal(s.n, 2); /* the same answer whichever way it was found */
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
		cmocka_unit_test(reads_this_process),
		cmocka_unit_test(finds_descendants),
	};
	return cmocka_run_group_tests_name("procfs", tests, NULL, NULL);
}
