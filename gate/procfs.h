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

/* Read a whole small file (procfs, cgroupfs) into buf, NUL-terminated.
 * Returns bytes read, or -1 with errno set. */
ssize_t mg_read_small_file(const char *path, char *buf, size_t cap);
/* The same from an fd kept open, from offset 0: /proc/PID files regenerate
 * on every read, and skipping open/close halves a sample's cost. (Not for
 * cgroup v1's cgroup.procs: it caches its pid list per open file.) */
ssize_t mg_pread_all(int fd, char *buf, size_t cap);
/* RSS from statm through an fd kept open (see mg_pread_all): 0 ok, 1 gone. */
int mg_pread_statm_rss(int fd, long page_size, int64_t *rss_bytes);

struct mg_pidset {
	pid_t *v;
	size_t n, cap;
};
int mg_pidset_add(struct mg_pidset *s, pid_t pid);
void mg_pidset_free(struct mg_pidset *s);
/* cgroup.procs text: one pid per line */
int mg_parse_pid_list(const char *text, struct mg_pidset *out, char *err, size_t errlen);

/* Every live descendant of root (not root itself), via
 * /proc/PID/task/TID/children when the kernel has it, else by scanning /proc.
 * *has_children_files remembers which between calls: -1 not known yet,
 * 0 the kernel lacks them (CONFIG_PROC_CHILDREN off), 1 it has them. */
int mg_list_descendants(pid_t root, int *has_children_files, struct mg_pidset *out, char *err, size_t errlen);

#endif
