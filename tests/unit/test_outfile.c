/* outfile.c: the one writer of user-named files, on a real file system. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "outfile.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/memgate-outfile-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *at(const char *name)
{
	static char path[4][PATH_MAX];
	static int i;
	i = (i + 1) % 4;
	snprintf(path[i], sizeof path[i], "%s/%s", dir, name);
	return path[i];
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char buf[4096];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Entries of dir but "." and "..": no temporary file is ever left behind. */
static int entries(void)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void clean(void)
{
	remove_dir(NULL);
	assert_int_equal(make_dir(NULL), 0);
}

static void new_and_replaced_files(void **state)
{
	(void)state;
	clean();
	char err[512];
	mode_t mask = umask(022);
	assert_int_equal(mg_outfile_write_text(at("r.json"), 0644, false, "one\n", err, sizeof err), 0);
	assert_string_equal(slurp(at("r.json")), "one\n");
	struct stat st;
	assert_int_equal(stat(at("r.json"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(chmod(at("r.json"), 0600), 0);
	assert_int_equal(mg_outfile_write_text(at("r.json"), 0644, false, "two\n", err, sizeof err), 0);
	assert_string_equal(slurp(at("r.json")), "two\n");
	assert_int_equal(stat(at("r.json"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600); /* kept */
	assert_int_equal(mg_outfile_write_text(at("r.json"), 0755, true, "three\n", err, sizeof err), 0);
	assert_int_equal(stat(at("r.json"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755); /* forced: the hook */
	assert_int_equal(entries(), 1);
	umask(mask);
}

/* The old writer wrote PATH.tmp with fopen, which follows a link planted
 * there: the victim was overwritten. */
static void planted_links_are_never_followed(void **state)
{
	(void)state;
	clean();
	char err[512];
	FILE *v = fopen(at("victim"), "w");
	assert_non_null(v);
	fputs("precious\n", v);
	fclose(v);
	assert_int_equal(symlink(at("victim"), at("out.json.tmp")), 0);
	assert_int_equal(mg_outfile_write_text(at("out.json"), 0644, false, "report\n", err, sizeof err), 0);
	assert_string_equal(slurp(at("victim")), "precious\n");
	assert_string_equal(slurp(at("out.json")), "report\n");
	/* a dangling link is replaced by the file: nothing is made where it points */
	assert_int_equal(symlink(at("nowhere"), at("dangling.json")), 0);
	assert_int_equal(mg_outfile_write_text(at("dangling.json"), 0644, false, "x\n", err, sizeof err), 0);
	struct stat st;
	assert_int_equal(lstat(at("dangling.json"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(access(at("nowhere"), F_OK), -1);
}

/* Root (no sudo, fs.protected_symlinks=0, as on many CI images) wrote
 * --json /tmp/r.json through a link another user had put there: the file
 * it named (here "victim", in /root or /etc in real life) was replaced. In
 * a sticky world-writable directory an entry of someone else's is refused,
 * as the last component or as a link on the way. */
static void entries_planted_by_others_are_refused(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip_because("planting an entry as another user needs root (lchown)");
	clean();
	char err[512];
	assert_int_equal(mkdir(at("shared"), 0777), 0);
	assert_int_equal(chmod(at("shared"), 01777), 0);
	assert_int_equal(mkdir(at("private"), 0755), 0);
	FILE *v = fopen(at("private/victim"), "w");
	assert_non_null(v);
	fputs("precious\n", v);
	fclose(v);
	const uid_t other = 4242;
	/* a link to a file */
	assert_int_equal(symlink(at("private/victim"), at("shared/r.json")), 0);
	assert_int_equal(lchown(at("shared/r.json"), other, other), 0);
	assert_int_equal(mg_outfile_check(at("shared/r.json"), err, sizeof err), -1);
	assert_non_null(strstr(err, at("shared/r.json")));
	assert_non_null(strstr(err, "uid 4242"));
	assert_int_equal(mg_outfile_write_text(at("shared/r.json"), 0644, false, "report\n", err, sizeof err), -1);
	assert_non_null(strstr(err, "planted"));
	assert_string_equal(slurp(at("private/victim")), "precious\n");
	/* a link to a directory on the way */
	assert_int_equal(symlink(at("private"), at("shared/out")), 0);
	assert_int_equal(lchown(at("shared/out"), other, other), 0);
	assert_int_equal(mg_outfile_write_text(at("shared/out/victim"), 0644, false, "report\n", err, sizeof err), -1);
	assert_non_null(strstr(err, at("shared/out")));
	assert_string_equal(slurp(at("private/victim")), "precious\n");
	/* a FIFO of theirs would read the report; a file of theirs is not replaced */
	assert_int_equal(mkfifo(at("shared/fifo"), 0666), 0);
	assert_int_equal(chown(at("shared/fifo"), other, other), 0);
	assert_int_equal(mg_outfile_write_text(at("shared/fifo"), 0644, false, "report\n", err, sizeof err), -1);
	v = fopen(at("shared/theirs.json"), "w");
	assert_non_null(v);
	fclose(v);
	assert_int_equal(chown(at("shared/theirs.json"), other, other), 0);
	assert_int_equal(mg_outfile_write_text(at("shared/theirs.json"), 0644, false, "report\n", err, sizeof err), -1);
	struct stat st;
	assert_int_equal(stat(at("shared/theirs.json"), &st), 0);
	assert_int_equal(st.st_uid, other);
	/* one's own link there is followed, and a new file is made */
	assert_int_equal(symlink(at("private/victim"), at("shared/mine.json")), 0);
	assert_int_equal(mg_outfile_write_text(at("shared/mine.json"), 0644, false, "mine\n", err, sizeof err), 0);
	assert_string_equal(slurp(at("private/victim")), "mine\n");
	assert_int_equal(mg_outfile_write_text(at("shared/new.json"), 0644, false, "new\n", err, sizeof err), 0);
	assert_string_equal(slurp(at("shared/new.json")), "new\n");
	/* the same directory without the sticky bit: not a shared one */
	assert_int_equal(chmod(at("shared"), 0777), 0);
	assert_int_equal(mg_outfile_write_text(at("shared/theirs.json"), 0644, false, "report\n", err, sizeof err), 0);
}

static void links_to_files_stay_links(void **state)
{
	(void)state;
	clean();
	char err[512];
	assert_int_equal(mkdir(at("real"), 0755), 0);
	assert_int_equal(mg_outfile_write_text(at("real/r.json"), 0644, false, "old\n", err, sizeof err), 0);
	assert_int_equal(symlink(at("real/r.json"), at("link.json")), 0);
	assert_int_equal(mg_outfile_write_text(at("link.json"), 0644, false, "new\n", err, sizeof err), 0);
	struct stat st;
	assert_int_equal(lstat(at("link.json"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_string_equal(slurp(at("real/r.json")), "new\n");
}

static void directories_are_refused(void **state)
{
	(void)state;
	clean();
	char err[512];
	assert_int_equal(mg_outfile_write_text(dir, 0644, false, "x", err, sizeof err), -1);
	assert_contains(err, "directory");
	assert_int_equal(mg_outfile_check(dir, err, sizeof err), -1);
	assert_contains(err, "directory");
	assert_int_equal(mg_outfile_check("/nonexistent-memgate/dir/r.json", err, sizeof err), -1);
	assert_contains(err, "/nonexistent-memgate/dir does not exist");
	assert_int_equal(mg_outfile_check(at("fresh.json"), err, sizeof err), 0);
	assert_int_equal(access(at("fresh.json"), F_OK), -1); /* a check writes nothing */
	assert_int_equal(mg_outfile_write_text("", 0644, false, "x", err, sizeof err), -1);
}

static int failing(FILE *f, void *ctx, char *err, size_t len)
{
	(void)ctx;
	fputs("half", f);
	snprintf(err, len, "the renderer failed");
	return -1;
}

static void a_failed_write_leaves_the_old_file(void **state)
{
	(void)state;
	clean();
	char err[512];
	assert_int_equal(mg_outfile_write_text(at("r.json"), 0644, false, "whole\n", err, sizeof err), 0);
	assert_int_equal(mg_outfile_write(at("r.json"), 0644, false, failing, NULL, err, sizeof err), -1);
	assert_string_equal(err, "the renderer failed");
	assert_string_equal(slurp(at("r.json")), "whole\n");
	assert_int_equal(entries(), 1);
}

/* The old writer renamed PATH.tmp over /dev/null: a regular file where the
 * device was. Device nodes are made here, in a temp dir, never in /dev. */
static void devices_are_written_in_place(void **state)
{
	(void)state;
	clean();
	char err[512];
	if (mknod(at("null"), S_IFCHR | 0666, makedev(1, 3)) < 0 || mknod(at("full"), S_IFCHR | 0666, makedev(1, 7)) < 0)
		skip_because("not root: cannot make device nodes (the fault matrix covers /dev as root)");
	int fd = open(at("null"), O_WRONLY);
	if (fd < 0)
		skip_because("%s is on a nodev file system", dir);
	close(fd);
	struct stat st;
	assert_int_equal(mg_outfile_write_text(at("null"), 0644, false, "report\n", err, sizeof err), 0);
	assert_int_equal(lstat(at("null"), &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(mg_outfile_check(at("null"), err, sizeof err), 0);
	/* /dev/full: the write fails, and says so; the device stays */
	char big[70000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(mg_outfile_write_text(at("full"), 0644, false, big, err, sizeof err), -1);
	assert_contains(err, "No space");
	assert_int_equal(lstat(at("full"), &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

static void fifos_are_written_in_place(void **state)
{
	(void)state;
	clean();
	char err[512];
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	/* nobody reads it: an error at once, never a hang */
	assert_int_equal(mg_outfile_write_text(at("fifo"), 0644, false, "x\n", err, sizeof err), -1);
	assert_contains(err, "FIFO");
	assert_int_equal(mg_outfile_check(at("fifo"), err, sizeof err), 0); /* a reader may come */
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t reader = fork();
	assert_true(reader >= 0);
	if (reader == 0) {
		int fd = open(at("fifo"), O_RDONLY);
		char buf[64];
		ssize_t n = read(fd, buf, sizeof buf);
		ssize_t w = write(p[1], buf, n > 0 ? (size_t)n : 0);
		_exit(w == n ? 0 : 1);
	}
	close(p[1]);
	int rc = -1;
	for (int i = 0; i < 200 && rc < 0; i++) { /* until the reader has opened it */
		rc = mg_outfile_write_text(at("fifo"), 0644, false, "through\n", err, sizeof err);
		if (rc < 0)
			usleep(5000);
	}
	assert_int_equal(rc, 0);
	char got[64] = "";
	ssize_t n = read(p[0], got, sizeof got - 1);
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, "through\n");
	waitpid(reader, NULL, 0);
	close(p[0]);
	struct stat st;
	assert_int_equal(lstat(at("fifo"), &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
}

/* Concurrent writers of one path: each gets its own temporary file. */
static void concurrent_writers_never_collide(void **state)
{
	(void)state;
	clean();
	enum { N = 24 };
	pid_t kids[N];
	for (int i = 0; i < N; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			char err[512], text[64];
			snprintf(text, sizeof text, "{\"writer\": %d}\n", i);
			int ok = 0;
			for (int k = 0; k < 20; k++)
				ok += mg_outfile_write_text(at("same.json"), 0644, false, text, err, sizeof err) == 0;
			_exit(ok == 20 ? 0 : 1);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;
		assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_non_null(strstr(slurp(at("same.json")), "\"writer\": "));
	assert_int_equal(entries(), 1);
}

/* /dev/stdout (a link to /proc/self/fd/1) is written through, whatever it is */
static void descriptor_paths_are_written_through(void **state)
{
	(void)state;
	clean();
	char err[512];
	int saved = dup(STDOUT_FILENO);
	int fd = open(at("captured"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	int rc = mg_outfile_write_text("/dev/stdout", 0644, false, "to stdout\n", err, sizeof err);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(rc, 0);
	assert_string_equal(slurp(at("captured")), "to stdout\n");
	struct stat st;
	assert_int_equal(lstat("/dev/stdout", &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

/* Two names for one file that would be replaced: the same path spelled
 * twice, a link and its file, a new name through "./"; devices and
 * descriptors are written in place and may be shared. */
static void same_file(void **state)
{
	(void)state;
	clean();
	char err[512], dot[PATH_MAX];
	assert_int_equal(mg_outfile_write_text(at("a.json"), 0644, false, "a\n", err, sizeof err), 0);
	assert_int_equal(symlink(at("a.json"), at("l.json")), 0);
	assert_true(mg_outfile_same(at("a.json"), at("a.json")));
	assert_true(mg_outfile_same(at("l.json"), at("a.json")));
	assert_false(mg_outfile_same(at("a.json"), at("b.json")));
	snprintf(dot, sizeof dot, "%s/./new.md", dir);
	assert_true(mg_outfile_same(at("new.md"), dot));
	assert_false(mg_outfile_same(at("new.md"), at("new.svg")));
	assert_false(mg_outfile_same("/dev/null", "/dev/null"));
	assert_false(mg_outfile_same("/dev/stdout", "/dev/stdout"));
	assert_false(mg_outfile_same(NULL, at("a.json")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_and_replaced_files),
		cmocka_unit_test(planted_links_are_never_followed),
		cmocka_unit_test(links_to_files_stay_links),
		cmocka_unit_test(entries_planted_by_others_are_refused),
		cmocka_unit_test(directories_are_refused),
		cmocka_unit_test(a_failed_write_leaves_the_old_file),
		cmocka_unit_test(devices_are_written_in_place),
		cmocka_unit_test(fifos_are_written_in_place),
		cmocka_unit_test(concurrent_writers_never_collide),
		cmocka_unit_test(descriptor_paths_are_written_through),
		cmocka_unit_test(same_file),
	};
	return cmocka_run_group_tests_name("outfile", tests, make_dir, remove_dir);
}
