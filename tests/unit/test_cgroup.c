/* Finding memgate's cgroup: /proc/self/cgroup and mountinfo parsers, on a
 * captured v1 host, a v2 runner layout and a v1 container layout. */
#include "testutil.h"

#include "measure/cgroup.h"

static void v1_host(void **state)
{
	(void)state;
	char *cg = tu_read_data("proc/cgroup-v1-host.txt"), *mi = tu_read_data("proc/mountinfo-v1-host.txt");
	char path[256], mnt[256], root[256];
	assert_int_equal(mg_parse_proc_cgroup(cg, MG_METHOD_CGROUP_V1, path, sizeof path), 0);
	assert_true(strncmp(path, "/process_api/", 13) == 0);
	assert_int_equal(mg_parse_mountinfo(mi, MG_METHOD_CGROUP_V1, mnt, sizeof mnt, root, sizeof root), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup/memory");
	assert_string_equal(root, "/");
	/* this host also mounts cgroup2 (without memory) */
	assert_int_equal(mg_parse_mountinfo(mi, MG_METHOD_CGROUP_V2, mnt, sizeof mnt, root, sizeof root), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup/unified");
	assert_int_equal(mg_parse_proc_cgroup(cg, MG_METHOD_CGROUP_V2, path, sizeof path), 0);
	assert_string_equal(path, "/");
	free(cg);
	free(mi);
}

static void v2_runner(void **state)
{
	(void)state;
	char *cg = tu_read_data("proc/cgroup-v2-runner.txt"), *mi = tu_read_data("proc/mountinfo-v2-runner.txt");
	char path[256], mnt[256], root[256];
	assert_int_equal(mg_parse_proc_cgroup(cg, MG_METHOD_CGROUP_V2, path, sizeof path), 0);
	assert_string_equal(path, "/system.slice/hosted-compute-agent.service");
	assert_int_equal(mg_parse_proc_cgroup(cg, MG_METHOD_CGROUP_V1, path, sizeof path), -1);
	assert_int_equal(mg_parse_mountinfo(mi, MG_METHOD_CGROUP_V2, mnt, sizeof mnt, root, sizeof root), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup");
	assert_int_equal(mg_parse_mountinfo(mi, MG_METHOD_CGROUP_V1, mnt, sizeof mnt, root, sizeof root), -1);
	free(cg);
	free(mi);
}

static void v1_container(void **state)
{
	(void)state;
	char *cg = tu_read_data("proc/cgroup-v1-container.txt"), *mi = tu_read_data("proc/mountinfo-v1-container.txt");
	char path[256], mnt[256], root[256];
	assert_int_equal(mg_parse_proc_cgroup(cg, MG_METHOD_CGROUP_V1, path, sizeof path), 0);
	assert_string_equal(path, "/docker/abc123/app"); /* "cpu,cpuacct" is not memory */
	assert_int_equal(mg_parse_mountinfo(mi, MG_METHOD_CGROUP_V1, mnt, sizeof mnt, root, sizeof root), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup/memory");
	assert_string_equal(root, "/docker/abc123");
	free(cg);
	free(mi);
}

static void keyed_files(void **state)
{
	(void)state;
	int64_t v = -1;
	const char *oom_control = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
	assert_int_equal(mg_cg_keyed(oom_control, "oom_kill", &v), 0);
	assert_int_equal(v, 3); /* not oom_kill_disable */
	const char *events = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";
	assert_int_equal(mg_cg_keyed(events, "oom", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(mg_cg_keyed(events, "max", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(mg_cg_keyed("under_oom 0\n", "oom_kill", &v), -1);
}

static void kind_of_paths(void **state)
{
	(void)state;
	assert_int_equal(mg_cgroup_kind_of("/tmp"), -1);
	assert_int_equal(mg_cgroup_kind_of("/nonexistent/x"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(v1_host),
		cmocka_unit_test(v2_runner),
		cmocka_unit_test(v1_container),
		cmocka_unit_test(keyed_files),
		cmocka_unit_test(kind_of_paths),
	};
	return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
