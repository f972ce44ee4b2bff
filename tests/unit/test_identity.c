/* identity.c: under sudo, files are opened with the invoking user's rights;
 * root's only inside mg_fs_root_begin/end. Needs root to switch identities. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "identity.h"

/* In a child (the switch is process-wide): 0 when every expectation held. */
static int child_checks(const char *secret)
{
	struct mg_identity id = {.drop = true, .uid = 65534, .gid = 65534, .groups = {65534}, .ngroups = 1};
	char err[256];
	if (mg_fs_as_user(&id, err, sizeof err) < 0)
		return 10;
	if (mg_fs_is_root() || mg_fs_uid() != 65534)
		return 11;
	if (open(secret, O_RDONLY) >= 0 || errno != EACCES)
		return 12; /* the user may not read root's 0600 file */
	mg_fs_root_begin();
	mg_fs_root_begin(); /* nests */
	int fd = open(secret, O_RDONLY);
	mg_fs_root_end();
	if (fd < 0 || !mg_fs_is_root())
		return 13; /* a cgroup operation's root rights */
	close(fd);
	mg_fs_root_end();
	if (open(secret, O_RDONLY) >= 0 || mg_fs_is_root())
		return 14; /* and back to the user */
	return 0;
}

static void files_are_opened_as_the_user(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip_because("switching the file system identity needs root");
	char dir[] = "/tmp/memgate-identity-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char secret[128];
	snprintf(secret, sizeof secret, "%s/secret", dir);
	int fd = open(secret, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_checks(secret));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		fail_msg("identity check %d failed (see child_checks)", WEXITSTATUS(st));
	unlink(secret);
	rmdir(dir);
}

static void no_sudo_no_switch(void **state)
{
	(void)state;
	struct mg_identity id = {.drop = false};
	char err[64];
	assert_int_equal(mg_fs_as_user(&id, err, sizeof err), 0);
	assert_true(mg_fs_is_root());
	assert_int_equal(mg_fs_uid(), geteuid());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(files_are_opened_as_the_user),
		cmocka_unit_test(no_sudo_no_switch),
	};
	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
