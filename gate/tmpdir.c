/* tmpdir: private temporary directories, removed by descriptor (tmpdir.h). */
#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"

int mg_tmpdir_make(struct mg_tmpdir *t, const char *prefix, char *err, size_t len)
{
	*t = (struct mg_tmpdir)MG_TMPDIR_NONE;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	char parent[PATH_MAX];
	int n = snprintf(parent, sizeof parent, "%s", tmp);
	if (n < 0 || (size_t)n >= sizeof parent) { /* n is the whole length: never index past the buffer */
		snprintf(err, len, "TMPDIR=%.64s...: too long a path for a temp dir (set TMPDIR to a shorter one)", tmp);
		return -1;
	}
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	if ((size_t)n + strlen(prefix) + 9 >= sizeof t->path) {
		snprintf(err, len, "TMPDIR=%s: too long a path for a temp dir", tmp);
		return -1;
	}
	if (snprintf(t->path, sizeof t->path, "%s/%s-XXXXXX", parent, prefix) >= (int)sizeof t->path) {
		snprintf(err, len, "TMPDIR=%s: too long a path for a temp dir", tmp);
		t->path[0] = '\0';
		return -1;
	}
	if (!mkdtemp(t->path)) {
		snprintf(err, len, "cannot create a temp dir in %s: " MG_ERRNO_FMT " (set TMPDIR to a writable directory)",
			 parent, MG_ERRNO(errno));
		t->path[0] = '\0';
		return -1;
	}
	snprintf(t->name, sizeof t->name, "%s", strrchr(t->path, '/') + 1);
	t->parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->fd = t->parent_fd < 0 ? -1 : openat(t->parent_fd, t->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;
		snprintf(err, len, "cannot open the temp dir %s: " MG_ERRNO_FMT, t->path, MG_ERRNO(e));
		rmdir(t->path); /* just made, empty: by path is fine (no one had it yet) */
		if (t->parent_fd >= 0)
			close(t->parent_fd);
		*t = (struct mg_tmpdir)MG_TMPDIR_NONE;
		return -1;
	}
	return 0;
}

/* struct linux_dirent64, read with getdents64: opendir() allocates, which
 * a forked child of a threaded parent must not (the watchdog's case). */
struct dent64 {
	unsigned long long ino;
	long long off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Everything in the directory open at fd, subdirectories too (a fixture
 * may make them in the mark directory: they kept it from being removed).
 * Only through descriptors: a subdirectory is entered with O_NOFOLLOW, so a
 * symlink a fixture swaps in is removed, never followed. depth bounds the
 * recursion (and the stack: one buffer a level). */
static void empty_dir(int fd, int depth)
{
	char buf[4096];
	for (int round = 0; round < 64; round++) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			break;
		long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (n <= 0)
			break;
		int removed = 0;
		for (long off = 0; off < n;) {
			struct dent64 *d = (struct dent64 *)(buf + off);
			off += d->reclen;
			if (!strcmp(d->name, ".") || !strcmp(d->name, ".."))
				continue;
			if (unlinkat(fd, d->name, 0) == 0) {
				removed++;
				continue;
			}
			if ((errno != EISDIR && errno != EPERM) || depth >= 16)
				continue;
			int sub = openat(fd, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			/* a 0500 one would keep its entries from us (under sudo we
			 * are its owner, not root): ours, so it may be opened up */
			if (fchmod(sub, 0700) < 0) {
				/* not ours: what root's rights allow is removed */
			}
			empty_dir(sub, depth + 1);
			close(sub);
			if (unlinkat(fd, d->name, AT_REMOVEDIR) == 0)
				removed++;
		}
		if (!removed)
			break;
	}
}

void mg_tmpdir_remove(struct mg_tmpdir *t)
{
	if (!t->path[0])
		return; /* none made (a zeroed struct's 0s are not its descriptors) */
	/* the name still ours? (renamed away, replaced, or removed already: leave it) */
	struct stat mine, named;
	bool same = t->fd >= 0 && t->parent_fd >= 0 && fstat(t->fd, &mine) == 0 &&
		    fstatat(t->parent_fd, t->name, &named, AT_SYMLINK_NOFOLLOW) == 0 && mine.st_dev == named.st_dev &&
		    mine.st_ino == named.st_ino;
	if (t->fd >= 0) {
		empty_dir(t->fd, 0);
		close(t->fd);
		t->fd = -1;
	}
	if (t->parent_fd >= 0) {
		if (same)
			unlinkat(t->parent_fd, t->name, AT_REMOVEDIR);
		close(t->parent_fd);
		t->parent_fd = -1;
	}
	t->path[0] = '\0';
}
