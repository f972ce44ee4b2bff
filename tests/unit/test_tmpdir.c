/* memgate's temp dirs: made private, removed by descriptor, never through
 * a symlink a fixture put in their place. */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdir.h"

static char base[64];

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof base, "/tmp/memgate-test-tmpdir-%d", (int)getpid());
	if (mkdir(base, 0700) < 0)
		return -1;
	setenv("TMPDIR", base, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", base);
	unsetenv("TMPDIR");
	return system(cmd) == 0 ? 0 : -1;
}

static void touch_in(const char *dir, const char *name)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void made_private_and_removed(void **state)
{
	(void)state;
	struct mg_tmpdir t;
	char err[256];
	assert_int_equal(mg_tmpdir_make(&t, "memgate-x", err, sizeof err), 0);
	assert_non_null(strstr(t.path, base));
	struct stat st;
	assert_int_equal(stat(t.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	touch_in(t.path, "a");
	assert_int_equal(mkfifoat(t.fd, "mark", 0600), 0);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", t.path);
	mg_tmpdir_remove(&t);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(t.fd, -1);
	mg_tmpdir_remove(&t); /* twice: nothing */
	int null = open("/dev/null", O_RDONLY);
	assert_true(null >= 0 && dup2(null, 0) == 0); /* fd 0 open, whatever the runner gave */
	close(null);
	struct mg_tmpdir zero;
	memset(&zero, 0, sizeof zero);
	mg_tmpdir_remove(&zero); /* a zeroed one: fd 0 is not its descriptor */
	assert_true(fcntl(0, F_GETFD) >= 0); /* stdin still open */
}

/* A fixture made a directory tree in the mark directory: memgate left
 * /tmp/memgate-mark-XXXXXX behind (unlinkat of a directory fails). A
 * symlink inside is removed, not followed. */
static void subdirectories_are_removed_too(void **state)
{
	(void)state;
	struct mg_tmpdir t;
	char err[256], p[PATH_MAX + 32], victim[128];
	assert_int_equal(mg_tmpdir_make(&t, "memgate-x", err, sizeof err), 0);
	snprintf(victim, sizeof victim, "%s/victim2", base);
	assert_int_equal(mkdir(victim, 0700), 0);
	touch_in(victim, "keep");
	snprintf(p, sizeof p, "%s/sub", t.path);
	assert_int_equal(mkdir(p, 0700), 0);
	touch_in(p, "f");
	snprintf(p, sizeof p, "%s/sub/deeper", t.path);
	assert_int_equal(mkdir(p, 0700), 0);
	touch_in(t.path, "sub/deeper/f");
	snprintf(p, sizeof p, "%s/sub/deeper", t.path);
	assert_int_equal(chmod(p, 0500), 0); /* not writable: emptied all the same (as its owner) */
	snprintf(p, sizeof p, "%s/sub/link", t.path);
	assert_int_equal(symlink(victim, p), 0);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", t.path);
	mg_tmpdir_remove(&t);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(p, sizeof p, "%s/keep", victim);
	assert_int_equal(access(p, F_OK), 0); /* not followed */
}

/* The fixture renames the dir away and puts a symlink to a directory of
 * someone else's in its place: removal touches neither that directory nor
 * the symlink. */
static void a_symlink_in_its_place_is_not_followed(void **state)
{
	(void)state;
	struct mg_tmpdir t;
	char err[256], victim[128], moved[128];
	assert_int_equal(mg_tmpdir_make(&t, "memgate-x", err, sizeof err), 0);
	touch_in(t.path, "mark");
	snprintf(victim, sizeof victim, "%s/victim", base);
	assert_int_equal(mkdir(victim, 0700), 0);
	touch_in(victim, "mark");
	snprintf(moved, sizeof moved, "%s/moved", base);
	assert_int_equal(rename(t.path, moved), 0);
	char link[PATH_MAX];
	snprintf(link, sizeof link, "%s", t.path);
	assert_int_equal(symlink(victim, link), 0);
	mg_tmpdir_remove(&t);
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/mark", victim);
	assert_int_equal(access(p, F_OK), 0); /* untouched */
	struct stat st;
	assert_int_equal(lstat(link, &st), 0); /* the symlink stays */
	assert_true(S_ISLNK(st.st_mode));
	/* memgate's own file went (removed through the dir's descriptor); the
	 * moved dir stays, since the name no longer leads to it */
	snprintf(p, sizeof p, "%s/mark", moved);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(access(moved, F_OK), 0);
}

/* A TMPDIR longer than PATH_MAX is refused with a reason (the old trim
 * indexed parent[n - 1] with n the whole length, past the buffer, before
 * the length was checked). */
static void a_tmpdir_too_long_is_refused(void **state)
{
	(void)state;
	static char longdir[PATH_MAX + 200];
	memset(longdir, 'd', sizeof longdir - 2);
	longdir[0] = '/';
	longdir[sizeof longdir - 2] = '/';
	setenv("TMPDIR", longdir, 1);
	struct mg_tmpdir t;
	char err[256];
	assert_int_equal(mg_tmpdir_make(&t, "memgate-test", err, sizeof err), -1);
	assert_contains(err, "too long a path for a temp dir");
	unsetenv("TMPDIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(made_private_and_removed),
		cmocka_unit_test(a_symlink_in_its_place_is_not_followed),
		cmocka_unit_test(subdirectories_are_removed_too),
		cmocka_unit_test(a_tmpdir_too_long_is_refused),
	};
	return cmocka_run_group_tests_name("tmpdir", tests, setup, teardown);
}
