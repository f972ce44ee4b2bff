#include "error.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity.h"

/* Names that are a process's own descriptors (/dev/stdout is a link to
 * /proc/self/fd/1): written through, never replaced, whatever they are. */
static bool names_a_descriptor(const char *path)
{
	return strncmp(path, "/dev/fd/", 8) == 0 || strcmp(path, "/dev/stdout") == 0 ||
	       strcmp(path, "/dev/stderr") == 0 || strncmp(path, "/proc/", 6) == 0;
}

static void dir_of(const char *path, char *dir, size_t len)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof copy, "%s", path);
	snprintf(dir, len, "%s", dirname(copy));
}

/* May the user write in dir (create, rename)? With AT_EACCESS the kernel
 * checks the file system identity: the invoking user's under sudo. */
static int dir_writable(const char *path, char *err, size_t len)
{
	char dir[PATH_MAX];
	struct stat st;
	dir_of(path, dir, sizeof dir);
	if (stat(dir, &st) < 0) {
		if (errno == ENOENT)
			snprintf(err, len, "%s: the directory %s does not exist (create it first)", path, dir);
		else
			snprintf(err, len, "%s: cannot stat the directory %s: " MG_ERRNO_FMT, path, dir, MG_ERRNO(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, len, "%s: %s is not a directory", path, dir);
		return -1;
	}
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
		snprintf(err, len, "%s: you (uid %d) cannot create files in %s: %s (%s)", path, (int)mg_fs_uid(), dir, MG_ERRNO(errno));
		return -1;
	}
	return 0;
}

/* Is ent, the entry named path (lstat'ed), someone else's in a sticky
 * directory anyone may write to? Then -1 with err. */
static int foreign(const char *path, const char *shown, const struct stat *ent, char *err, size_t len)
{
	char pdir[PATH_MAX];
	struct stat parent;
	uid_t me = mg_fs_uid();
	dir_of(path, pdir, sizeof pdir);
	if (stat(pdir, &parent) == 0 && (parent.st_mode & S_ISVTX) && (parent.st_mode & S_IWOTH) && ent->st_uid != me &&
	    ent->st_uid != parent.st_uid) {
		const char *kind = S_ISLNK(ent->st_mode) ? "symlink" : S_ISFIFO(ent->st_mode) ? "FIFO"
				   : S_ISREG(ent->st_mode) ? "file" : "special file";
		snprintf(err, len,
			 "cannot write %s: %s is a %s of uid %d in %s, a directory anyone may write to, and not yours "
			 "(uid %d): someone else may have planted it; remove it or write the output elsewhere",
			 shown, path, kind, (int)ent->st_uid, pdir, (int)me);
		return -1;
	}
	return 0;
}

/* Planted by someone else? The kernel's fs.protected_symlinks rule, kept
 * whatever the sysctl says (it is often 0 in containers and on CI images),
 * and kept for every kind of entry, not only links: in a sticky directory
 * anyone may write to (/tmp), an entry is used only if it belongs to the
 * user memgate writes as (the file system uid: the invoking user under
 * sudo) or to the directory's owner. Else a link that another user put at
 * /tmp/report.json leads root's write to /etc/passwd or to a disk's
 * device node, a FIFO of theirs reads the report, and a file of theirs
 * would be replaced by one they own again. Checked for the last component
 * of path and for every link on the way to it (/tmp/out -> /etc): 0, or -1
 * with err naming the entry and the fix. */
static int planted(const char *path, char *err, size_t len)
{
	char buf[PATH_MAX];
	if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf) {
		snprintf(err, len, "cannot write %s: path too long", path);
		return -1;
	}
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	/* each component in turn: buf[0..end) names it */
	for (size_t end = 1; end <= n; end++) {
		if (end < n && buf[end] != '/')
			continue;
		if (buf[end - 1] == '/')
			continue; /* "//", or the root itself */
		char saved = buf[end];
		buf[end] = '\0';
		struct stat ent;
		int rc = lstat(buf, &ent);
		bool last = end == n;
		if (rc == 0 && (last ? !S_ISDIR(ent.st_mode) : S_ISLNK(ent.st_mode)) && foreign(buf, path, &ent, err, len) < 0)
			return -1;
		buf[end] = saved;
		if (rc < 0)
			break; /* nothing further exists */
	}
	return 0;
}

static int file_writable(const char *path, char *err, size_t len)
{
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0) {
		snprintf(err, len, "%s: you may not write this file: %s (%s)", path, MG_ERRNO(errno));
		return -1;
	}
	return 0;
}

/* Run fn into f and close it; -1 with err when fn or the write fails. */
static int finish(FILE *f, const char *path, mg_outfile_fn fn, void *ctx, bool sync, char *err, size_t len)
{
	err[0] = '\0';
	errno = 0;
	int rc = fn(f, ctx, err, len);
	if (rc < 0 && !err[0]) /* fn said nothing: it was the write */
		snprintf(err, len, "cannot write %s: %s (%s)", path, MG_ERRNO(errno ? errno : EIO));
	if (rc == 0 && (fflush(f) != 0 || ferror(f))) {
		snprintf(err, len, "cannot write %s: %s (%s)", path, MG_ERRNO(errno ? errno : EIO));
		rc = -1;
	}
	/* devices refuse fsync (EINVAL), pipes too: only files are synced */
	if (rc == 0 && sync && fsync(fileno(f)) < 0) {
		snprintf(err, len, "cannot write %s: %s (%s)", path, MG_ERRNO(errno));
		rc = -1;
	}
	if (fclose(f) != 0 && rc == 0) {
		snprintf(err, len, "cannot write %s: %s (%s)", path, MG_ERRNO(errno));
		rc = -1;
	}
	return rc;
}

/* Write in place: an existing device, FIFO, or a descriptor's file. */
static int in_place(int fd, const char *path, mg_outfile_fn fn, void *ctx, char *err, size_t len)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		snprintf(err, len, "cannot write %s: %s (%s)", path, MG_ERRNO(errno));
		close(fd);
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, len, "cannot write %s: %s (%s)", path, MG_ERRNO(errno));
		close(fd);
		return -1;
	}
	return finish(f, path, fn, ctx, false, err, len);
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) < 0) {
			/* some file systems refuse fsync on directories: the rename stands */
		}
		close(fd);
	}
}

/* A temporary file beside target, then renamed over it. old: the file it
 * replaces, or NULL for a new one. */
static int replace(const char *target, const struct stat *old, mode_t mode, bool force_mode, mg_outfile_fn fn,
		   void *ctx, char *err, size_t len)
{
	char dir[PATH_MAX], base[PATH_MAX], copy[PATH_MAX], tmp[PATH_MAX + 16];
	dir_of(target, dir, sizeof dir);
	snprintf(copy, sizeof copy, "%s", target);
	snprintf(base, sizeof base, "%s", basename(copy));
	if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, base) >= sizeof tmp) {
		snprintf(err, len, "cannot write %s: path too long", target);
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC); /* O_EXCL: a symlink there is never followed */
	if (fd < 0) {
		int e = errno;
		char why[PATH_MAX + 128];
		if (dir_writable(target, why, sizeof why) == 0) /* else why says what is wrong with dir */
			snprintf(why, sizeof why, "cannot create a temporary file in %s: %s (%s)", dir, MG_ERRNO(e));
		snprintf(err, len, "cannot write %s", why);
		return -1;
	}
	mode_t mask = umask(0);
	umask(mask);
	mode_t want = old && !force_mode ? old->st_mode & 07777 : mode & ~mask;
	if (fchmod(fd, want) < 0) {
		/* mkstemp's 0600 stays: safe, if less open than asked */
	}
	/* root (no sudo) replacing someone's file: it stays theirs */
	if (old && geteuid() == 0 && mg_fs_is_root() && fchown(fd, old->st_uid, old->st_gid) < 0) {
		/* a root-owned copy still works */
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, len, "cannot write %s: %s (%s)", target, MG_ERRNO(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	int rc = finish(f, target, fn, ctx, true, err, len);
	if (rc == 0 && rename(tmp, target) < 0) {
		snprintf(err, len, "cannot replace %s: %s (%s)", target, MG_ERRNO(errno));
		rc = -1;
	}
	if (rc < 0)
		unlink(tmp);
	else
		sync_dir(dir);
	return rc;
}

int mg_outfile_write(const char *path, mode_t mode, bool force_mode, mg_outfile_fn fn, void *ctx, char *err,
		     size_t len)
{
	struct stat lst, st;
	if (!path || !*path) {
		snprintf(err, len, "an empty output path");
		return -1;
	}
	if (planted(path, err, len) < 0)
		return -1;
	if (lstat(path, &lst) < 0) {
		if (errno != ENOENT) {
			snprintf(err, len, "cannot write %s: %s (%s)", path, MG_ERRNO(errno));
			return -1;
		}
		return replace(path, NULL, mode, force_mode, fn, ctx, err, len);
	}
	if (S_ISDIR(lst.st_mode)) {
		snprintf(err, len, "cannot write %s: it is a directory (name a file in it)", path);
		return -1;
	}
	/* again on what is acted on: an entry made since planted() looked */
	if (foreign(path, path, &lst, err, len) < 0)
		return -1;
	if (S_ISREG(lst.st_mode)) {
		if (file_writable(path, err, len) < 0)
			return -1;
		return replace(path, &lst, mode, force_mode, fn, ctx, err, len);
	}
	/* a symlink, device, FIFO or socket: open what it names, as the user */
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (S_ISLNK(lst.st_mode) && errno == ENOENT) /* dangling: the link is replaced, */
			return replace(path, NULL, mode, force_mode, fn, ctx, err, len); /* nothing made where it points */
		if (errno == ENXIO)
			snprintf(err, len, "cannot write %s: it is a FIFO that nobody reads", path);
		else
			snprintf(err, len, "cannot write %s: " MG_ERRNO_FMT, path, MG_ERRNO(errno));
		return -1;
	}
	bool dir = false;
	if (fstat(fd, &st) < 0 || (dir = S_ISDIR(st.st_mode))) { /* st is read only once fstat filled it */
		if (dir)
			snprintf(err, len, "cannot write %s: it is a directory", path);
		else
			snprintf(err, len, "cannot write %s: " MG_ERRNO_FMT, path, MG_ERRNO(errno));
		close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode) && !names_a_descriptor(path)) {
		/* a symlink to a regular file: replace the file, keep the link */
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		close(fd);
		if (n <= 0 || (size_t)n >= sizeof target - 1 || target[0] != '/') {
			snprintf(err, len, "cannot write %s: cannot resolve the file it links to", path);
			return -1;
		}
		target[n] = '\0';
		if (planted(target, err, len) < 0) /* where the link leads is checked too */
			return -1;
		return replace(target, &st, mode, force_mode, fn, ctx, err, len);
	}
	return in_place(fd, path, fn, ctx, err, len);
}

static int put_text(FILE *f, void *ctx, char *err, size_t len)
{
	(void)err;
	(void)len;
	return fputs(ctx, f) < 0 ? -1 : 0;
}

int mg_outfile_write_text(const char *path, mode_t mode, bool force_mode, const char *text, char *err, size_t len)
{
	return mg_outfile_write(path, mode, force_mode, put_text, (void *)text, err, len);
}

int mg_outfile_check(const char *path, char *err, size_t len)
{
	struct stat lst, st;
	if (!path || !*path) {
		snprintf(err, len, "an empty output path");
		return -1;
	}
	if (planted(path, err, len) < 0)
		return -1;
	if (lstat(path, &lst) < 0) {
		if (errno != ENOENT) {
			snprintf(err, len, "%s: %s (%s)", path, MG_ERRNO(errno));
			return -1;
		}
		return dir_writable(path, err, len);
	}
	if (S_ISDIR(lst.st_mode)) {
		snprintf(err, len, "%s is a directory (name a file in it)", path);
		return -1;
	}
	if (S_ISREG(lst.st_mode))
		return file_writable(path, err, len) < 0 ? -1 : dir_writable(path, err, len);
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENXIO)
			return 0; /* a FIFO: its reader may come */
		if (S_ISLNK(lst.st_mode) && errno == ENOENT)
			return dir_writable(path, err, len);
		snprintf(err, len, "%s: %s (%s)", path, MG_ERRNO(errno));
		return -1;
	}
	int rc = 0;
	bool dir = false;
	if (fstat(fd, &st) < 0 || (dir = S_ISDIR(st.st_mode))) { /* st is read only once fstat filled it */
		if (dir)
			snprintf(err, len, "%s: it is a directory", path);
		else
			snprintf(err, len, "cannot stat %s: " MG_ERRNO_FMT, path, MG_ERRNO(errno));
		rc = -1;
	} else if (S_ISREG(st.st_mode) && !names_a_descriptor(path)) {
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		target[n > 0 && (size_t)n < sizeof target ? n : 0] = '\0';
		rc = target[0] == '/' ? dir_writable(target, err, len) : 0;
	}
	close(fd);
	return rc;
}

/* The directory's real path and the base name: where a file that does not
 * exist yet would be made. false when the directory cannot be resolved. */
static bool new_file_key(const char *path, char *key, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX], copy[PATH_MAX];
	dir_of(path, dir, sizeof dir);
	if (!realpath(dir, real))
		return false;
	snprintf(copy, sizeof copy, "%s", path);
	return (size_t)snprintf(key, len, "%s/%s", real, basename(copy)) < len;
}

bool mg_outfile_same(const char *a, const char *b)
{
	struct stat sa, sb;
	if (!a || !b || !*a || !*b || names_a_descriptor(a) || names_a_descriptor(b))
		return false;
	bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
	if (ea && eb)
		return S_ISREG(sa.st_mode) && S_ISREG(sb.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	if (ea || eb)
		return false;
	char ka[PATH_MAX + NAME_MAX + 2], kb[PATH_MAX + NAME_MAX + 2];
	if (!new_file_key(a, ka, sizeof ka) || !new_file_key(b, kb, sizeof kb))
		return strcmp(a, b) == 0;
	return strcmp(ka, kb) == 0;
}
