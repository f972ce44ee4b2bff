#include "error.h"
#include "measure/procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t mg_read_small_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return (ssize_t)len;
}

ssize_t mg_pread_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	while (len + 1 < cap) {
		ssize_t n = pread(fd, buf + len, cap - 1 - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
		/* procfs and kernfs files are seq_files: a read short of what was
		 * asked is the end, and asking again past it would make the
		 * kernel generate the whole file a second time */
		if ((size_t)n < cap - 1 - (len - (size_t)n))
			break;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Find "Key:" at the start of a line; return the text after the colon. */
static const char *field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			return p + klen + 1;
	}
	return NULL;
}

/* "   1784 kB" -> bytes. The kernel always prints kB for these fields. */
static int parse_kb(const char *v, int64_t *bytes)
{
	while (*v == ' ' || *v == '\t')
		v++;
	if (!isdigit((unsigned char)*v))
		return -1;
	char *end;
	errno = 0;
	unsigned long long kb = strtoull(v, &end, 10);
	if (errno || kb > (unsigned long long)(INT64_MAX / 1024))
		return -1;
	while (*end == ' ')
		end++;
	if (strncmp(end, "kB", 2) != 0)
		return -1;
	*bytes = (int64_t)kb * 1024;
	return 0;
}

int mg_parse_status(const char *text, struct mg_proc_status *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof *st);
	const char *name = field(text, "Name");
	const char *state = field(text, "State");
	if (!name || !state) {
		snprintf(err, errlen, "no %s line", name ? "State:" : "Name:");
		return -1;
	}
	while (*name == '\t' || *name == ' ')
		name++;
	size_t n = strcspn(name, "\n");
	if (n >= sizeof st->name)
		n = sizeof st->name - 1;
	memcpy(st->name, name, n);
	while (*state == '\t' || *state == ' ')
		state++;
	st->state = *state;
	const char *ppid = field(text, "PPid");
	if (ppid) {
		char *end;
		errno = 0;
		long v = strtol(ppid, &end, 10);
		if (!errno && end != ppid && v > 0 && v <= 4194304)
			st->ppid = (pid_t)v;
	}

	const char *rss = field(text, "VmRSS"), *hwm = field(text, "VmHWM");
	if (!rss && !hwm)
		return 0; /* no mm: a zombie, or a task inside exit() after exit_mm */
	if (!rss || !hwm || parse_kb(rss, &st->rss_bytes) < 0 || parse_kb(hwm, &st->hwm_bytes) < 0) {
		snprintf(err, errlen, "malformed %s line", !rss || (rss && parse_kb(rss, &st->rss_bytes) < 0) ? "VmRSS" : "VmHWM");
		return -1;
	}
	st->has_vm = true;
	return 0;
}

int mg_parse_smaps_rollup_pss(const char *text, int64_t *pss_bytes, char *err, size_t errlen)
{
	const char *pss = field(text, "Pss");
	if (!pss) {
		snprintf(err, errlen, "no Pss: line");
		return -1;
	}
	if (parse_kb(pss, pss_bytes) < 0) {
		snprintf(err, errlen, "malformed Pss: line");
		return -1;
	}
	return 0;
}

int mg_parse_statm_rss(const char *text, long page_size, int64_t *rss_bytes)
{
	char *end;
	errno = 0;
	strtoull(text, &end, 10);
	if (errno || end == text || *end != ' ')
		return -1;
	const char *p = end + 1;
	unsigned long long pages = strtoull(p, &end, 10);
	if (errno || end == p || (*end != ' ' && *end != '\n') || pages > (unsigned long long)(INT64_MAX / page_size))
		return -1;
	*rss_bytes = (int64_t)pages * page_size;
	return 0;
}

int mg_parse_stat_ppid(const char *text, pid_t *ppid)
{
	/* "pid (comm) S ppid ..." — comm may contain ") ", so use the last ')'. */
	const char *p = strrchr(text, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -1;
	char *end;
	errno = 0;
	long v = strtol(p + 4, &end, 10);
	if (errno || end == p + 4 || v < 0 || v > 4194304) /* 0: the parent is outside our pid namespace */
		return -1;
	*ppid = (pid_t)v;
	return 0;
}

static int gone(int e)
{
	return e == ENOENT || e == ESRCH;
}

int mg_read_status(pid_t pid, struct mg_proc_status *st, char *err, size_t errlen)
{
	char path[64], buf[8192], why[160];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (mg_read_small_file(path, buf, sizeof buf) < 0) {
		if (gone(errno))
			return 1;
		snprintf(err, errlen, "cannot read %s: %s (%s)", path, MG_ERRNO(errno));
		return -1;
	}
	if (mg_parse_status(buf, st, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s (unexpected format; please report with your kernel version)", path, why);
		return -1;
	}
	return 0;
}

int mg_read_statm_rss(pid_t pid, long page_size, int64_t *rss_bytes, char *err, size_t errlen)
{
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
	if (mg_read_small_file(path, buf, sizeof buf) < 0) {
		if (gone(errno))
			return 1;
		snprintf(err, errlen, "cannot read %s: %s (%s)", path, MG_ERRNO(errno));
		return -1;
	}
	if (mg_parse_statm_rss(buf, page_size, rss_bytes) < 0) {
		snprintf(err, errlen, "%s: malformed (\"%.40s\")", path, buf);
		return -1;
	}
	return 0;
}

int mg_pread_statm_rss(int fd, long page_size, int64_t *rss_bytes)
{
	char buf[256];
	/* a process that is gone reads as an error (ESRCH) or as nothing */
	if (mg_pread_all(fd, buf, sizeof buf) <= 0 || mg_parse_statm_rss(buf, page_size, rss_bytes) < 0)
		return 1;
	return 0;
}

int mg_read_pss(pid_t pid, int64_t *pss_bytes, char *err, size_t errlen)
{
	char path[64], buf[4096], why[160];
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
	ssize_t n = mg_read_small_file(path, buf, sizeof buf);
	if (n < 0) {
		if (gone(errno))
			return 1;
		snprintf(err, errlen, "cannot read %s: %s (%s) (PSS needs Linux >= 4.14)", path, MG_ERRNO(errno));
		return -1;
	}
	if (n == 0) { /* a zombie's smaps_rollup is empty */
		*pss_bytes = 0;
		return 0;
	}
	if (mg_parse_smaps_rollup_pss(buf, pss_bytes, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

int mg_read_ppid(pid_t pid, pid_t *ppid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (mg_read_small_file(path, buf, sizeof buf) < 0)
		return gone(errno) ? 1 : -1;
	return mg_parse_stat_ppid(buf, ppid) < 0 ? -1 : 0;
}

void mg_buf_free(struct mg_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}

ssize_t mg_read_file_buf(const char *path, struct mg_buf *b, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	for (;;) {
		if (len + 1 >= b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 4096;
			char *p = cap > max + 1 ? NULL : realloc(b->p, cap);
			if (!p) {
				close(fd);
				errno = cap > max + 1 ? EFBIG : ENOMEM;
				return -1;
			}
			b->p = p;
			b->cap = cap;
		}
		ssize_t n = read(fd, b->p + len, b->cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
	}
	close(fd);
	b->p[len] = '\0';
	return (ssize_t)len;
}

/* ---- pid sets ------------------------------------------------------------ */

static size_t slot_of(const struct mg_pidset *s, pid_t pid)
{
	return ((uint32_t)pid * 2654435761u) & (s->nslots - 1);
}

static void index_put(struct mg_pidset *s, pid_t pid)
{
	size_t i = slot_of(s, pid);
	while (s->slots[i] && s->slots[i] != pid)
		i = (i + 1) & (s->nslots - 1);
	s->slots[i] = pid;
}

bool mg_pidset_has(const struct mg_pidset *s, pid_t pid)
{
	if (!s->nslots || pid <= 0)
		return false;
	for (size_t i = slot_of(s, pid); s->slots[i]; i = (i + 1) & (s->nslots - 1))
		if (s->slots[i] == pid)
			return true;
	return false;
}

int mg_pidset_add(struct mg_pidset *s, pid_t pid)
{
	if (pid <= 0)
		return -1; /* never a member: callers validate first */
	if (mg_pidset_has(s, pid))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64, nslots = cap * 2;
		pid_t *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		pid_t *slots = calloc(nslots, sizeof *slots);
		if (!slots)
			return -1;
		free(s->slots);
		s->slots = slots;
		s->nslots = nslots;
		s->cap = cap;
		for (size_t i = 0; i < s->n; i++)
			index_put(s, s->v[i]);
	}
	s->v[s->n++] = pid;
	index_put(s, pid);
	return 0;
}

void mg_pidset_clear(struct mg_pidset *s)
{
	if (s->n && s->slots)
		memset(s->slots, 0, s->nslots * sizeof *s->slots);
	s->n = 0;
}

void mg_pidset_truncate(struct mg_pidset *s, size_t n)
{
	if (n >= s->n)
		return;
	memset(s->slots, 0, s->nslots * sizeof *s->slots);
	s->n = n;
	for (size_t i = 0; i < n; i++)
		index_put(s, s->v[i]);
}

void mg_pidset_free(struct mg_pidset *s)
{
	free(s->v);
	free(s->slots);
	memset(s, 0, sizeof *s);
}

pid_t mg_pid_max(void)
{
	char buf[32];
	if (mg_read_small_file("/proc/sys/kernel/pid_max", buf, sizeof buf) > 0) {
		char *end;
		errno = 0;
		long v = strtol(buf, &end, 10);
		if (!errno && end != buf && (*end == '\n' || *end == '\0') && v > 1 && v <= 4194304)
			return (pid_t)v;
	}
	return 4194304; /* PID_MAX_LIMIT on 64-bit kernels: nothing is above it */
}

/* Append the pids of text to out; see mg_parse_pid_list. */
static int append_pids(const char *text, pid_t pid_max, struct mg_pidset *out, char *err, size_t errlen)
{
	for (const char *p = text; *p;) {
		if (*p == ' ' || *p == '\n') {
			p++;
			continue;
		}
		const char *tok = p;
		long long v = 0;
		while (*p >= '0' && *p <= '9' && v <= pid_max)
			v = v * 10 + (*p++ - '0');
		bool whole = p > tok && (*p == ' ' || *p == '\n' || *p == '\0');
		if (!whole || *tok == '0' || v < 1 || v > pid_max) {
			snprintf(err, errlen, "not a pid list: \"%.20s\" is not a pid in 1..%d", tok, (int)pid_max);
			return -1;
		}
		if (mg_pidset_add(out, (pid_t)v) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

int mg_parse_pid_list(const char *text, pid_t pid_max, struct mg_pidset *out, char *err, size_t errlen)
{
	mg_pidset_clear(out);
	return append_pids(text, pid_max, out, err, errlen);
}

void mg_tree_reader_init(struct mg_tree_reader *t)
{
	memset(t, 0, sizeof *t);
	t->pid_max = mg_pid_max();
	t->children_files = -1;
}

void mg_tree_reader_free(struct mg_tree_reader *t)
{
	mg_buf_free(&t->buf);
}

/* Does this kernel have /proc/PID/task/TID/children at all? */
static bool have_children_files(void)
{
	char self[64];
	snprintf(self, sizeof self, "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
	return access(self, F_OK) == 0;
}

int mg_list_children(struct mg_tree_reader *t, pid_t pid, struct mg_pidset *out, char *err, size_t errlen)
{
	char path[320], why[128];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d) {
		if (gone(errno))
			return 0;
		snprintf(err, errlen, "cannot open %s: %s (%s)", path, MG_ERRNO(errno));
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%s/children", (int)pid, de->d_name);
		if (mg_read_file_buf(path, &t->buf, MG_PID_LIST_MAX) < 0) {
			if (gone(errno))
				continue; /* the thread or the process went away */
			snprintf(err, errlen, "cannot read %s: %s (%s)", path, MG_ERRNO(errno));
			rc = -1;
			break;
		}
		if (append_pids(t->buf.p, t->pid_max, out, why, sizeof why) < 0) {
			snprintf(err, errlen, "%s: %s", path, why);
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

/* Fallback: one pass over /proc collecting (pid, ppid), then a walk down from root. */
static int scan_descendants(struct mg_tree_reader *t, pid_t root, struct mg_pidset *out, char *err, size_t errlen)
{
	DIR *d = opendir("/proc");
	if (!d) {
		snprintf(err, errlen, "cannot open /proc: %s (%s)", MG_ERRNO(errno));
		return -1;
	}
	struct pair { pid_t pid, ppid; } *pairs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char why[128];
	struct mg_pidset one = {0};
	int rc = 0;
	while ((de = readdir(d))) {
		pid_t ppid;
		/* a /proc entry that is not a valid pid is not a process */
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    mg_parse_pid_list(de->d_name, t->pid_max, &one, why, sizeof why) < 0 || one.n != 1)
			continue;
		if (mg_read_ppid(one.v[0], &ppid) != 0)
			continue; /* gone between readdir and read */
		if (n == cap) {
			cap = cap ? cap * 2 : 512;
			struct pair *np = realloc(pairs, cap * sizeof *np);
			if (!np) {
				rc = -1;
				snprintf(err, errlen, "out of memory");
				break;
			}
			pairs = np;
		}
		pairs[n].pid = one.v[0];
		pairs[n].ppid = ppid;
		n++;
	}
	closedir(d);
	mg_pidset_free(&one);
	/* out grows as we find children; each found pid is itself a parent to look for. */
	for (size_t i = 0; rc == 0 && i <= out->n; i++) {
		if (i == 1)
			t->nroot_children = out->n;
		pid_t parent = i == 0 ? root : out->v[i - 1];
		for (size_t j = 0; j < n; j++)
			if (pairs[j].ppid == parent && mg_pidset_add(out, pairs[j].pid) < 0) {
				rc = -1;
				snprintf(err, errlen, "out of memory");
				break;
			}
	}
	free(pairs);
	return rc;
}

int mg_list_descendants(struct mg_tree_reader *t, pid_t root, struct mg_pidset *out, char *err, size_t errlen)
{
	mg_pidset_clear(out);
	t->nroot_children = 0;
	if (t->children_files < 0)
		t->children_files = have_children_files();
	if (t->children_files == 0) /* known missing: don't probe every sample */
		return scan_descendants(t, root, out, err, errlen);
	/* Breadth-first: out->v[i] are found pids; i walks them as parents. */
	int rc = mg_list_children(t, root, out, err, errlen);
	t->nroot_children = out->n;
	for (size_t i = 0; rc == 0 && i < out->n; i++)
		rc = mg_list_children(t, out->v[i], out, err, errlen);
	return rc;
}
