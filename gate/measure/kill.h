/* kill: every signal memgate sends to a process that is not its own direct,
 * unreaped child goes through here, and only after checking, at that moment,
 * that the process is the fixture's.
 *
 * A process is named by its identity (pid, start time): two processes can
 * share a pid, never a pid and a start tick. While it is checked and
 * signalled it is held by a pidfd (Linux >= 5.3), and the check is only
 * believed if the pidfd's process still exists after it: then the pid named
 * that process throughout, and the signal goes to it through the pidfd, so a
 * recycled pid is never hit. Kernels without pidfds get the same checks
 * followed at once by kill(2). */
#ifndef MG_KILL_H
#define MG_KILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "measure/procfs.h"

struct mg_pidref {
	pid_t pid;
	int fd;                 /* pidfd, or -1 on kernels without them */
};

/* 0 held, 1 gone, -1 error (errno set) */
int mg_pidref_open(pid_t pid, struct mg_pidref *r);
/* Not reaped yet (a zombie counts): its pid still names it. */
bool mg_pidref_exists(const struct mg_pidref *r);
/* 0 sent (or it is gone), -1 error (errno set) */
int mg_pidref_signal(const struct mg_pidref *r, int sig);
void mg_pidref_close(struct mg_pidref *r);

struct mg_proc_id {
	pid_t pid;
	uint64_t start;         /* /proc/PID/stat starttime, clock ticks since boot */
};
/* pid's identity now, and its parent: 0, 1 gone, -1 malformed stat */
int mg_proc_id_read(pid_t pid, struct mg_proc_id *id, pid_t *ppid);

/* "pid (comm) S ppid ... starttime(22) ..." */
int mg_parse_stat_ids(const char *text, pid_t *ppid, uint64_t *start);

/* Processes verified to be descendants, in the order found. */
struct mg_proc_ids {
	struct mg_proc_id *v;
	size_t n, cap;
	struct mg_pidset seen;  /* pids of v, for O(1) "already found" */
};
int mg_proc_ids_add(struct mg_proc_ids *s, struct mg_proc_id id);
void mg_proc_ids_clear(struct mg_proc_ids *s);
void mg_proc_ids_free(struct mg_proc_ids *s);

/* Append to out every process that is, when looked at, the child of a
 * process verified before it: breadth-first, each link checked under
 * pidfds. The walk starts below root (memgate itself when root->pid is
 * getpid(); root is not added) and then below out->v[from], out->v[from+1]
 * ... as they are found, so a caller may seed out with verified roots and
 * pass root NULL. Pids in spare (memgate's watchdog) are left out with their
 * subtrees. 0, or -1 with err. */
int mg_collect_tree(struct mg_tree_reader *t, const struct mg_proc_id *root, const struct mg_pidset *spare,
		    struct mg_proc_ids *out, size_t from, char *err, size_t len);

/* Send sig to each process of ids that is still the same process (same pid
 * and start time). Returns how many were signalled. */
size_t mg_signal_ids(const struct mg_proc_ids *ids, int sig);

/* Send sig to pid if belongs(pid, ctx) holds while pid is held: 1 sent,
 * 0 not (gone, or not the fixture's), -1 error (errno set). */
typedef bool (*mg_belongs_fn)(pid_t pid, void *ctx);
int mg_signal_if(pid_t pid, int sig, mg_belongs_fn belongs, void *ctx);

/* Does the environment (/proc/PID/environ, as the process was started)
 * hold the variable name? false when it cannot be read. */
bool mg_proc_has_env(pid_t pid, const char *name);

/* Send sig to each child of parent (memgate's own child, not reaped) whose
 * environment holds the variable name, each checked while held as above
 * (still parent's child, still has it). For a wrapper that runs the
 * program as its child and must outlive it: heaptrack's script (which
 * loses its data when it is signalled itself) starts the program with
 * DUMP_HEAPTRACK_OUTPUT set, and only the program. Returns how many were
 * signalled, or -1 with err. */
int mg_signal_children_with_env(struct mg_tree_reader *t, pid_t parent, const char *name, int sig, char *err,
				size_t len);

/* SIGKILL every descendant of memgate but spare (and their subtrees), each
 * verified as above. *killed: how many were signalled. 0, or -1 with err. */
int mg_kill_descendants(struct mg_tree_reader *t, const struct mg_pidset *spare, size_t *killed,
			char *err, size_t len);

#endif
