/* procfs: read what the kernel says about one process (/proc/PID/status,
 * smaps_rollup, stat) and find the processes of a tree. Parsers take text so
 * they are tested on captured files; readers add the I/O. */
#ifndef MG_PROCFS_H
#define MG_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mg_proc_status {
	char name[64];          /* Name: (comm) */
	char state;             /* first letter of State: R S D Z T X ... */
	bool has_vm;            /* VmRSS/VmHWM present (absent for zombies and exiting tasks) */
	int64_t rss_bytes;      /* VmRSS */
	int64_t hwm_bytes;      /* VmHWM: the kernel's own RSS high-water mark */
	pid_t ppid;             /* PPid: (0 when absent or outside our pid namespace) */
};

/* 0 ok, -1 malformed (err names the missing/bad field). */
int mg_parse_status(const char *text, struct mg_proc_status *st, char *err, size_t errlen);
int mg_parse_smaps_rollup_pss(const char *text, int64_t *pss_bytes, char *err, size_t errlen);
/* resident pages from /proc/PID/statm (field 2), in bytes: a third of the
 * cost of reading status, used between full samples */
int mg_parse_statm_rss(const char *text, long page_size, int64_t *rss_bytes);
/* ppid from /proc/PID/stat; comm may hold spaces and ')' */
int mg_parse_stat_ppid(const char *text, pid_t *ppid);

/* Readers: 0 ok, 1 the process is gone (ENOENT/ESRCH), -1 error in err. */
int mg_read_status(pid_t pid, struct mg_proc_status *st, char *err, size_t errlen);
int mg_read_statm_rss(pid_t pid, long page_size, int64_t *rss_bytes, char *err, size_t errlen);
int mg_read_pss(pid_t pid, int64_t *pss_bytes, char *err, size_t errlen);
/* ppid from /proc/PID/stat: 0 ok, 1 gone, -1 unreadable or malformed. */
int mg_read_ppid(pid_t pid, pid_t *ppid);

/* Read a whole small file (procfs, cgroupfs) into buf, NUL-terminated.
 * Returns bytes read, or -1 with errno set. A file longer than cap-1 is
 * cut: use it only for files of known, bounded size (status, statm, stat). */
ssize_t mg_read_small_file(const char *path, char *buf, size_t cap);
/* The same from an fd kept open, from offset 0: /proc/PID files regenerate
 * on every read, and skipping open/close halves a sample's cost. (Not for
 * cgroup v1's cgroup.procs: it caches its pid list per open file.) */
ssize_t mg_pread_all(int fd, char *buf, size_t cap);
/* RSS from statm through an fd kept open (see mg_pread_all): 0 ok, 1 gone. */
int mg_pread_statm_rss(int fd, long page_size, int64_t *rss_bytes);

/* A read buffer that grows to fit, reused between reads. */
struct mg_buf {
	char *p;
	size_t cap;
};
void mg_buf_free(struct mg_buf *b);
/* Read a whole file of any length until EOF (procfs and cgroupfs files say
 * their size is 0, and a pid list has no bound) into b, NUL-terminated.
 * Returns its length, or -1 with errno (EFBIG beyond max bytes). Never cuts
 * a file short: a cut list would turn "12345" into "1". */
ssize_t mg_read_file_buf(const char *path, struct mg_buf *b, size_t max);
#define MG_PID_LIST_MAX (64u << 20) /* 4 million pids at 16 bytes each */

/* A set of pids: insertion order in v, a hash index for O(1) look-ups (a
 * tree of 11000 processes must not cost 11000^2 comparisons a sample). */
struct mg_pidset {
	pid_t *v;
	size_t n, cap;
	pid_t *slots;           /* open addressing; 0 is empty (no pid is 0) */
	size_t nslots;          /* a power of two, at least 2 * cap */
};
/* 0 added or already there, -1 out of memory */
int mg_pidset_add(struct mg_pidset *s, pid_t pid);
bool mg_pidset_has(const struct mg_pidset *s, pid_t pid);
void mg_pidset_clear(struct mg_pidset *s);
/* Keep the first n of v (the caller compacted them there) and re-index. */
void mg_pidset_truncate(struct mg_pidset *s, size_t n);
void mg_pidset_free(struct mg_pidset *s);

/* The kernel's pid_max (/proc/sys/kernel/pid_max), or PID_MAX_LIMIT
 * (4194304) when it cannot be read. */
pid_t mg_pid_max(void);
/* A pid list (cgroup.procs: one per line; task/TID/children: space
 * separated) into out, which is cleared first. Every entry must be a whole
 * decimal number in 1..pid_max: anything else (a sign, "0", junk, a number
 * past pid_max, e.g. 4294967295, which as a pid_t is -1: kill(-1)) is an
 * error, never a pid. */
int mg_parse_pid_list(const char *text, pid_t pid_max, struct mg_pidset *out, char *err, size_t errlen);

/* What listing a process tree keeps between calls. */
struct mg_tree_reader {
	struct mg_buf buf;      /* reused for every children/stat file */
	pid_t pid_max;
	int children_files;     /* -1 not known yet, 0 the kernel lacks
				 * /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN
				 * off), 1 it has them */
	size_t nroot_children;  /* after mg_list_descendants: how many of the
				 * first pids found are root's own children */
};
void mg_tree_reader_init(struct mg_tree_reader *t);
void mg_tree_reader_free(struct mg_tree_reader *t);

/* Children of one process (all its threads), appended to out. 0 ok (none
 * when it is gone), -1 error in err. */
int mg_list_children(struct mg_tree_reader *t, pid_t pid, struct mg_pidset *out, char *err, size_t errlen);
/* Every live descendant of root (not root itself) into out (cleared first),
 * via the children files when the kernel has them, else by scanning /proc.
 * A snapshot for measuring; signalling needs more (kill.h). */
int mg_list_descendants(struct mg_tree_reader *t, pid_t root, struct mg_pidset *out, char *err, size_t errlen);

#endif
