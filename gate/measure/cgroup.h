/* cgroup: a fresh memory cgroup per fixture, on cgroup v2 or v1. It holds
 * the fixture's processes (all of them, however they fork or daemonize),
 * caps them (kill_above), and gives the kernel's exact peak and OOM count.
 * The backends are cgroup_v2.c and cgroup_v1.c; this file finds where to put
 * the cgroup and dispatches. */
#ifndef MG_CGROUP_H
#define MG_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "measure/procfs.h"

struct mg_cgroup {
	enum mg_method kind;    /* MG_METHOD_CGROUP_V2 or MG_METHOD_CGROUP_V1 */
	char path[PATH_MAX];    /* the fixture's cgroup directory */
	char proc_path[PATH_MAX]; /* the same as /proc/PID/cgroup names it for a member */
	int dirfd;              /* open on path (v2: CLONE_INTO_CGROUP), or -1 */
	/* v2, when memgate had to step into a leaf of its own cgroup to enable
	 * the memory controller there (see mg_cgroup_ops.enter_leaf): */
	char self_leaf[PATH_MAX]; /* "" when not */
	char self_home[PATH_MAX]; /* memgate's own cgroup, to return to */
	bool enabled_memory;    /* memgate turned +memory on in self_home */
};

/* Create a fresh cgroup of the given kind under root (NULL: memgate's own
 * cgroup of that kind; for v2, else the nearest ancestor that delegates the
 * memory controller and is writable). 0, or -1 with a reason such as
 * "cgroup v2 root not writable: EACCES" that the report shows. */
int mg_cgroup_create(enum mg_method kind, const char *root, struct mg_cgroup *cg,
		     char *reason, size_t len);
/* Another fresh cgroup beside of (same root, same kind), for what must be
 * contained but not measured (the driver). 0, or -1 with reason. */
int mg_cgroup_create_sibling(const struct mg_cgroup *of, struct mg_cgroup *sib, char *reason, size_t len);
/* Hard cap: v2 memory.max (+ swap 0), v1 memory.limit_in_bytes (+ memsw). */
int mg_cgroup_set_limit(struct mg_cgroup *cg, int64_t bytes, char *err, size_t len);
/* Move a process in (v1 always; v2 when clone3 was not available). */
int mg_cgroup_attach(struct mg_cgroup *cg, pid_t pid, char *err, size_t len);
/* Every pid in cgroup.procs, however many (read to EOF, each validated). */
int mg_cgroup_procs(struct mg_cgroup *cg, struct mg_tree_reader *t, struct mg_pidset *out, char *err, size_t len);
/* Peak usage in bytes; 1 when the kernel has no such file (v2 before 5.19). */
int mg_cgroup_peak(struct mg_cgroup *cg, int64_t *bytes, char *err, size_t len);
int mg_cgroup_oom_kills(struct mg_cgroup *cg, int64_t *count, char *err, size_t len);
/* SIGKILL every process inside, once: v2 cgroup.kill when present, else
 * each listed pid that is a member when it is signalled (kill.h). */
int mg_cgroup_kill(struct mg_cgroup *cg, struct mg_tree_reader *t, char *err, size_t len);
/* rmdir; the caller has emptied it. Retries briefly on EBUSY. */
int mg_cgroup_destroy(struct mg_cgroup *cg, char *err, size_t len);

/* Where kind's hierarchy is mounted (mnt) and memgate's own cgroup in it
 * (own, a directory under mnt). 0, or -1 with reason. */
int mg_cgroup_locate(enum mg_method kind, char *mnt, size_t mntlen, char *own, size_t ownlen, char *reason,
		     size_t rlen);
/* Which kind a directory is (statfs magic): V1, V2, or -1 if not a cgroup fs. */
int mg_cgroup_kind_of(const char *dir);
/* The path /proc/PID/cgroup shows for members of dir (the mount's root
 * prefixed, the mount point removed). 0, or -1 with err. */
int mg_cgroup_proc_path(enum mg_method kind, const char *dir, char *out, size_t len, char *err, size_t errlen);
/* Is pid, now, in the cgroup proc_path or below it? (/proc/PID/cgroup) */
bool mg_cgroup_has_member(enum mg_method kind, const char *proc_path, pid_t pid);
/* Kill what a stale memgate left: every memgate-PID-* directory directly
 * under root whose PID is not a live memgate (a process whose comm starts
 * with "memgate") has its processes killed and is removed. Each directory
 * swept is described in report (a line each, for stderr). 0, or -1 with
 * err when one could not be removed. */
int mg_cgroup_sweep(enum mg_method kind, const char *root, struct mg_tree_reader *t, char *report, size_t rlen,
		    char *err, size_t len);

/* Parsers, tested on captured files. */
/* From /proc/self/cgroup text: the path of the v2 entry ("0::/x") or of the
 * v1 hierarchy that has the memory controller. 0 ok, -1 none. */
int mg_parse_proc_cgroup(const char *text, enum mg_method kind, char *path, size_t len);
/* From /proc/self/mountinfo text: mount point and mount root of the cgroup2
 * fs, or of the v1 cgroup fs with the memory controller. */
int mg_parse_mountinfo(const char *text, enum mg_method kind, char *mnt, size_t mntlen,
		       char *root, size_t rootlen);

/* Shared by the backends (cgroup.c). */
int mg_write_file(const char *path, const char *value);
int mg_cg_write(const struct mg_cgroup *cg, const char *file, const char *value);
int mg_cg_read(const struct mg_cgroup *cg, const char *file, char *buf, size_t cap);
/* SIGKILL every pid in cgroup.procs that is a member when signalled (v1,
 * and v2 before cgroup.kill) */
int mg_cg_kill_listed(struct mg_cgroup *cg, struct mg_tree_reader *t, char *err, size_t len);
/* A file holding one byte count: 0 ok, 1 no such file, -1 error. */
int mg_cg_read_bytes(struct mg_cgroup *cg, const char *file, int64_t *v, char *err, size_t len);
/* "key value" lines (memory.events, memory.oom_control) */
int mg_cg_keyed(const char *text, const char *key, int64_t *value);

struct mg_cgroup_ops {
	/* check root can hold a memory-accounted child; may_enable: allowed to
	 * turn the memory controller on in root (only in memgate's own or a
	 * named cgroup, never in an ancestor) */
	int (*prepare_root)(const char *root, bool may_enable, char *reason, size_t len);
	int (*set_limit)(struct mg_cgroup *cg, int64_t bytes, char *err, size_t len);
	int (*peak)(struct mg_cgroup *cg, int64_t *bytes, char *err, size_t len);
	int (*oom_kills)(struct mg_cgroup *cg, int64_t *count, char *err, size_t len);
	int (*kill)(struct mg_cgroup *cg, struct mg_tree_reader *t, char *err, size_t len);
	/* v2 only (NULL for v1), the no-internal-processes rule: when memgate
	 * is the only process of its (delegated) cgroup R, it moves itself into
	 * a leaf R/memgate-PID-self, enables the memory controller in R and
	 * makes the fixture's cgroup in R. leave_leaf undoes all of it (memory
	 * off again if we turned it on, memgate back in R, the leaf removed).
	 * 0, or -1 with reason; on failure R is as before. */
	int (*enter_leaf)(const char *own, struct mg_cgroup *cg, char *reason, size_t len);
	int (*leave_leaf)(struct mg_cgroup *cg, char *err, size_t len);
};
/* Is memgate the only process listed in dir/cgroup.procs? */
bool mg_cgroup_only_process(const char *dir, pid_t pid);
/* mkdir a fresh memgate-PID-N under a prepared root and open it (cgroup.c) */
int mg_cgroup_make_child(enum mg_method kind, const char *root, struct mg_cgroup *cg, char *reason, size_t len);

extern const struct mg_cgroup_ops mg_cgroup_v1_ops;
extern const struct mg_cgroup_ops mg_cgroup_v2_ops;

#endif
