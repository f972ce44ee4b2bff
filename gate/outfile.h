/* outfile: the one way memgate writes a file that a user named: --json,
 * --junit, --markdown, --svg, report -o, merge -o, tune --write, the
 * pre-push hook.
 *
 * - A target that exists and is not a regular file (a device such as
 *   /dev/null, a FIFO, the pipe or tty behind /dev/stdout or /dev/fd/N) is
 *   written in place: replacing it would leave a regular file where a
 *   device was.
 * - Otherwise the text goes to a new temporary file beside the target
 *   (mkstemp: a fresh name, created exclusively, so a planted symlink is
 *   never followed and concurrent runs never collide), is fsync'ed, and is
 *   renamed over the target: a reader sees the old file or the new one,
 *   never half of one. A symlink to a regular file keeps pointing to it:
 *   the file it names is replaced, in that file's directory.
 * - Under sudo all of it happens with the invoking user's rights
 *   (identity.h): a file the user may not write is refused, never
 *   replaced as root. */
#ifndef MG_OUTFILE_H
#define MG_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Writes the contents to f; 0, or -1 with err. */
typedef int (*mg_outfile_fn)(FILE *f, void *ctx, char *err, size_t len);

/* Write path through fn. A new file gets mode & ~umask; a replaced one keeps
 * its mode unless force_mode (the hook must stay executable). 0, or -1 with
 * err naming path and what went wrong. */
int mg_outfile_write(const char *path, mode_t mode, bool force_mode, mg_outfile_fn fn, void *ctx, char *err,
		     size_t len);
/* The same for a string. */
int mg_outfile_write_text(const char *path, mode_t mode, bool force_mode, const char *text, char *err, size_t len);

/* Could path be written? Checked before anything runs, so a run of many
 * minutes never ends in "cannot write": 0, or -1 with err saying why and
 * how to fix it (a missing directory, a directory given as the file, no
 * write permission for the user). Writes nothing. */
int mg_outfile_check(const char *path, char *err, size_t len);

/* Do a and b name one file that would be replaced: the same regular file
 * (through links too), or the same new name in the same directory? Two
 * outputs there leave only the last one written, and an output there that
 * is also an input (the config) destroys it. Devices, FIFOs and
 * descriptors (/dev/stdout twice) are written in place and may be shared:
 * false. */
bool mg_outfile_same(const char *a, const char *b);

#endif
