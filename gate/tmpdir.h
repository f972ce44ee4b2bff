/* tmpdir: memgate's private temporary directories (the phase mark channel,
 * the tracemalloc helper's report), made and removed through descriptors.
 *
 * A fixture may rename such a directory and put a symlink in its place;
 * removal by path (as root: the watchdog) would then follow it. Here every
 * entry is removed with unlinkat() on the directory's own descriptor, and
 * the directory with unlinkat(AT_REMOVEDIR) on its parent's, which refuses
 * a symlink: nothing outside the directory memgate made can be touched. */
#ifndef MG_TMPDIR_H
#define MG_TMPDIR_H

#include <limits.h>
#include <stddef.h>

struct mg_tmpdir {
	char path[PATH_MAX];    /* "" when there is none */
	char name[NAME_MAX + 1];/* its last component */
	int fd, parent_fd;      /* O_DIRECTORY descriptors, -1 when closed */
};

#define MG_TMPDIR_NONE {.path = "", .name = "", .fd = -1, .parent_fd = -1}

/* A fresh 0700 directory $TMPDIR/PREFIX-XXXXXX (/tmp without TMPDIR). 0, or
 * -1 with err (naming the directory and the errno). */
int mg_tmpdir_make(struct mg_tmpdir *t, const char *prefix, char *err, size_t len);
/* Remove what it holds (files, FIFOs, sockets, and subdirectories a fixture
 * made there, 16 levels deep) and the directory itself; close the descriptors. Does nothing when path is ""
 * (MG_TMPDIR_NONE, a zeroed struct, or removed already).
 * Only async-signal-safe calls: the watchdog may call it after a fork. */
void mg_tmpdir_remove(struct mg_tmpdir *t);

#endif
