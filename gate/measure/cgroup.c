#include "error.h"
#include "measure/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "identity.h"
#include "measure/kill.h"

static const char *kind_label(enum mg_method kind)
{
	return kind == MG_METHOD_CGROUP_V2 ? "cgroup v2" : "cgroup v1";
}

static const struct mg_cgroup_ops *ops_of(enum mg_method kind)
{
	return kind == MG_METHOD_CGROUP_V2 ? &mg_cgroup_v2_ops : &mg_cgroup_v1_ops;
}

int mg_parse_proc_cgroup(const char *text, enum mg_method kind, char *path, size_t len)
{
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', l);
		const char *c2 = c1 ? memchr(c1 + 1, ':', l - (size_t)(c1 + 1 - line)) : NULL;
		if (c2) {
			bool match = false;
			if (kind == MG_METHOD_CGROUP_V2)
				match = strncmp(line, "0::", 3) == 0;
			else /* controllers are a comma list: "4:memory:/x", "3:cpu,memory:/x" */
				for (const char *t = c1 + 1; t < c2;) {
					const char *comma = memchr(t, ',', (size_t)(c2 - t));
					size_t tl = comma ? (size_t)(comma - t) : (size_t)(c2 - t);
					if (tl == 6 && strncmp(t, "memory", 6) == 0)
						match = true;
					t += tl + 1;
				}
			size_t plen = l - (size_t)(c2 + 1 - line);
			if (match && plen > 0 && plen < len) {
				memcpy(path, c2 + 1, plen);
				path[plen] = '\0';
				return 0;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return -1;
}

static bool has_option(char *opts, const char *want)
{
	char *save = NULL;
	for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save))
		if (strcmp(o, want) == 0)
			return true;
	return false;
}

/* mountinfo line: id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
int mg_parse_mountinfo(const char *text, enum mg_method kind, char *mnt, size_t mntlen,
		       char *root, size_t rootlen)
{
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		char buf[4096], *f[32];
		int nf = 0, dash = -1;
		if (l < sizeof buf) {
			memcpy(buf, line, l);
			buf[l] = '\0';
			char *save = NULL;
			for (char *t = strtok_r(buf, " ", &save); t && nf < 32; t = strtok_r(NULL, " ", &save)) {
				if (dash < 0 && nf >= 6 && strcmp(t, "-") == 0)
					dash = nf;
				f[nf++] = t;
			}
		}
		if (dash > 0 && dash + 3 < nf) {
			const char *fstype = f[dash + 1];
			bool match = kind == MG_METHOD_CGROUP_V2
					     ? strcmp(fstype, "cgroup2") == 0
					     : strcmp(fstype, "cgroup") == 0 && has_option(f[dash + 3], "memory");
			if (match && strlen(f[4]) < mntlen && strlen(f[3]) < rootlen) {
				strcpy(mnt, f[4]);
				strcpy(root, f[3]);
				return 0;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return -1;
}

int mg_cgroup_kind_of(const char *dir)
{
	struct statfs sf;
	if (statfs(dir, &sf) < 0)
		return -1;
	if (sf.f_type == CGROUP2_SUPER_MAGIC)
		return MG_METHOD_CGROUP_V2;
	if (sf.f_type == CGROUP_SUPER_MAGIC)
		return MG_METHOD_CGROUP_V1;
	return -1;
}

/* The mount of kind's hierarchy: mount point and the mount's root. */
static int find_mount(enum mg_method kind, char *mnt, size_t mntlen, char *mroot, size_t mrootlen, char *reason,
		      size_t rlen)
{
	struct mg_buf mi = {0};
	int rc = 0;
	if (mg_read_file_buf("/proc/self/mountinfo", &mi, 64u << 20) < 0) {
		snprintf(reason, rlen, "%s: cannot read /proc/self/mountinfo: %s (%s)", kind_label(kind), MG_ERRNO(errno));
		rc = -1;
	} else if (mg_parse_mountinfo(mi.p, kind, mnt, mntlen, mroot, mrootlen) < 0) {
		snprintf(reason, rlen, "%s: no %s mounted", kind_label(kind),
			 kind == MG_METHOD_CGROUP_V2 ? "cgroup2 filesystem" : "memory controller hierarchy");
		rc = -1;
	}
	mg_buf_free(&mi);
	return rc;
}

/* memgate's own cgroup directory of the given kind. */
static int own_cgroup(enum mg_method kind, char *dir, size_t len, char *mnt, size_t mntlen, char *reason,
		      size_t rlen)
{
	char cg[16384], mroot[PATH_MAX], path[PATH_MAX];
	if (find_mount(kind, mnt, mntlen, mroot, sizeof mroot, reason, rlen) < 0)
		return -1;
	if (mg_read_small_file("/proc/self/cgroup", cg, sizeof cg) < 0) {
		snprintf(reason, rlen, "%s: cannot read /proc/self/cgroup: %s (%s)", kind_label(kind), MG_ERRNO(errno));
		return -1;
	}
	if (mg_parse_proc_cgroup(cg, kind, path, sizeof path) < 0) {
		snprintf(reason, rlen, "%s: memgate's cgroup not listed in /proc/self/cgroup", kind_label(kind));
		return -1;
	}
	/* The mount may show a subtree (containers): strip its root from our path. */
	const char *rel = path;
	size_t rl = strlen(mroot);
	if (strcmp(mroot, "/") != 0) {
		if (strncmp(path, mroot, rl) != 0 || (path[rl] != '/' && path[rl] != '\0')) {
			snprintf(reason, rlen, "%s: memgate's cgroup %s is outside the mounted tree %s",
				 kind_label(kind), path, mroot);
			return -1;
		}
		rel = path + rl;
	}
	if (strcmp(rel, "/") == 0)
		rel = "";
	if ((size_t)snprintf(dir, len, "%s%s", mnt, rel) >= len) {
		snprintf(reason, rlen, "%s: cgroup path too long", kind_label(kind));
		return -1;
	}
	return 0;
}

int mg_cgroup_locate(enum mg_method kind, char *mnt, size_t mntlen, char *own, size_t ownlen, char *reason,
		     size_t rlen)
{
	return own_cgroup(kind, own, ownlen, mnt, mntlen, reason, rlen);
}

int mg_cgroup_proc_path(enum mg_method kind, const char *dir, char *out, size_t len, char *err, size_t errlen)
{
	char mnt[PATH_MAX], mroot[PATH_MAX];
	if (find_mount(kind, mnt, sizeof mnt, mroot, sizeof mroot, err, errlen) < 0)
		return -1;
	size_t ml = strlen(mnt);
	if (strncmp(dir, mnt, ml) != 0 || (dir[ml] != '/' && dir[ml] != '\0')) {
		snprintf(err, errlen, "%s: %s is not under the mount %s", kind_label(kind), dir, mnt);
		return -1;
	}
	const char *rel = dir + ml;
	const char *prefix = strcmp(mroot, "/") == 0 ? "" : mroot;
	int n = snprintf(out, len, "%s%s", prefix, rel);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "%s: cgroup path too long", kind_label(kind));
		return -1;
	}
	if (!out[0])
		snprintf(out, len, "/");
	return 0;
}

bool mg_cgroup_has_member(enum mg_method kind, const char *proc_path, pid_t pid)
{
	char path[64], buf[16384], now[PATH_MAX];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	ssize_t n = mg_read_small_file(path, buf, sizeof buf);
	/* unreadable, or possibly cut: not known to be a member, so not one */
	if (n <= 0 || (size_t)n >= sizeof buf - 1 || mg_parse_proc_cgroup(buf, kind, now, sizeof now) < 0)
		return false;
	size_t pl = strlen(proc_path);
	if (strcmp(proc_path, "/") == 0)
		return false; /* a hierarchy's root is never a fixture's cgroup */
	return strncmp(now, proc_path, pl) == 0 && (now[pl] == '\0' || now[pl] == '/');
}

/* mkdir a fresh memgate-PID-N under root (prepared already) and open it. */
int mg_cgroup_make_child(enum mg_method kind, const char *root, struct mg_cgroup *cg, char *reason, size_t len)
{
	for (int seq = 0; seq < 1000; seq++) {
		if ((size_t)snprintf(cg->path, sizeof cg->path, "%s/memgate-%d-%d", root, (int)getpid(), seq) >=
		    sizeof cg->path) {
			snprintf(reason, len, "%s: cgroup root path too long", kind_label(kind));
			cg->path[0] = '\0';
			return -1;
		}
		if (mkdir(cg->path, 0755) == 0)
			break;
		if (errno == EEXIST)
			continue;
		snprintf(reason, len, "%s root not writable: %s (%s) for mkdir %s", kind_label(kind), MG_ERRNO(errno),
			 cg->path);
		cg->path[0] = '\0';
		return -1;
	}
	cg->dirfd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->dirfd < 0 || mg_cgroup_proc_path(kind, cg->path, cg->proc_path, sizeof cg->proc_path, reason, len) < 0) {
		if (cg->dirfd < 0)
			snprintf(reason, len, "%s: cannot open %s: %s (%s)", kind_label(kind), cg->path, MG_ERRNO(errno));
		else
			close(cg->dirfd);
		cg->dirfd = -1;
		rmdir(cg->path);
		cg->path[0] = '\0';
		return -1;
	}
	return 0;
}

static int try_root(enum mg_method kind, const char *root, bool may_enable, struct mg_cgroup *cg,
		    char *reason, size_t len)
{
	int actual = mg_cgroup_kind_of(root);
	if (actual != (int)kind) {
		snprintf(reason, len, "%s: %s is not a %s directory", kind_label(kind), root,
			 actual < 0 ? "cgroup" : kind_label(kind));
		return -1;
	}
	if (ops_of(kind)->prepare_root(root, may_enable, reason, len) < 0)
		return -1;
	return mg_cgroup_make_child(kind, root, cg, reason, len);
}

static int create(enum mg_method kind, const char *root, struct mg_cgroup *cg, char *reason, size_t len);

int mg_cgroup_create(enum mg_method kind, const char *root, struct mg_cgroup *cg,
		     char *reason, size_t len)
{
	mg_fs_root_begin();
	int rc = create(kind, root, cg, reason, len);
	mg_fs_root_end();
	return rc;
}

static int create(enum mg_method kind, const char *root, struct mg_cgroup *cg, char *reason, size_t len)
{
	memset(cg, 0, sizeof *cg);
	cg->dirfd = -1;
	cg->kind = kind;
	if (root)
		return try_root(kind, root, true, cg, reason, len);
	char dir[PATH_MAX], mnt[PATH_MAX], why[512];
	if (own_cgroup(kind, dir, sizeof dir, mnt, sizeof mnt, reason, len) < 0)
		return -1;
	const struct mg_cgroup_ops *ops = ops_of(kind);
	if (try_root(kind, dir, true, cg, reason, len) == 0 || !ops->enter_leaf)
		return cg->path[0] ? 0 : -1;
	/* Alone in a delegated cgroup (systemd-run -p Delegate=yes, a rootless
	 * container's unit): step into a leaf so the controller can be enabled. */
	if (errno == EBUSY && mg_cgroup_only_process(dir, getpid()) && ops->enter_leaf(dir, cg, why, sizeof why) == 0)
		return 0;
	/* cgroup v2: our own cgroup holds processes, so the memory controller
	 * cannot be enabled below it. The nearest ancestor that already delegates
	 * memory and lets us mkdir (a user's app.slice, or system.slice as root)
	 * holds the fixture instead. The reason kept is our own cgroup's. */
	size_t mlen = strlen(mnt);
	for (char *slash; strlen(dir) > mlen && (slash = strrchr(dir, '/')) && slash >= dir + mlen;) {
		*slash = '\0';
		const char *up = dir[0] ? dir : "/";
		if (try_root(kind, up, false, cg, why, sizeof why) == 0)
			return 0;
	}
	return -1;
}

int mg_cgroup_create_sibling(const struct mg_cgroup *of, struct mg_cgroup *sib, char *reason, size_t len)
{
	char root[PATH_MAX];
	snprintf(root, sizeof root, "%s", of->path);
	char *slash = strrchr(root, '/');
	memset(sib, 0, sizeof *sib);
	sib->dirfd = -1;
	sib->kind = of->kind;
	if (!slash || slash == root) {
		snprintf(reason, len, "%s: %s has no parent", kind_label(of->kind), of->path);
		return -1;
	}
	*slash = '\0';
	mg_fs_root_begin();
	int rc = mg_cgroup_make_child(of->kind, root, sib, reason, len);
	mg_fs_root_end();
	return rc;
}

int mg_write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = strlen(value);
	ssize_t w;
	do
		w = write(fd, value, n);
	while (w < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (w != (ssize_t)n) {
		errno = w < 0 ? e : EIO;
		return -1;
	}
	return 0;
}

int mg_cg_write(const struct mg_cgroup *cg, const char *file, const char *value)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", cg->path, file);
	return mg_write_file(path, value);
}

int mg_cg_read(const struct mg_cgroup *cg, const char *file, char *buf, size_t cap)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", cg->path, file);
	return mg_read_small_file(path, buf, cap) < 0 ? -1 : 0;
}

int mg_cg_keyed(const char *text, const char *key, int64_t *value)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			char *end;
			errno = 0;
			long long v = strtoll(p + kl + 1, &end, 10);
			if (errno || end == p + kl + 1)
				return -1;
			*value = v;
			return 0;
		}
	return -1;
}

struct member_of {
	enum mg_method kind;
	const char *proc_path;
};

static bool is_member(pid_t pid, void *ctx)
{
	const struct member_of *m = ctx;
	return mg_cgroup_has_member(m->kind, m->proc_path, pid);
}

/* SIGKILL each pid listed in dir/cgroup.procs that is a member of proc_path
 * when signalled. *killed counts them. */
static int kill_listed(enum mg_method kind, const char *dir, const char *proc_path, struct mg_tree_reader *t,
		       size_t *killed, char *err, size_t len)
{
	char path[PATH_MAX + 32], why[128];
	struct mg_pidset s = {0};
	struct member_of m = {kind, proc_path};
	int rc = 0;
	*killed = 0;
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	if (mg_read_file_buf(path, &t->buf, MG_PID_LIST_MAX) < 0) {
		snprintf(err, len, "cannot read %s: %s (%s)", path, MG_ERRNO(errno));
		return -1;
	}
	if (mg_parse_pid_list(t->buf.p, t->pid_max, &s, why, sizeof why) < 0) {
		snprintf(err, len, "%s: %s", path, why);
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < s.n; i++) {
		int k = mg_signal_if(s.v[i], SIGKILL, is_member, &m);
		if (k < 0) {
			snprintf(err, len, "kill %d: %s (%s)", (int)s.v[i], MG_ERRNO(errno));
			rc = -1;
		}
		*killed += k > 0;
	}
	mg_pidset_free(&s);
	return rc;
}

int mg_cg_kill_listed(struct mg_cgroup *cg, struct mg_tree_reader *t, char *err, size_t len)
{
	size_t killed;
	return kill_listed(cg->kind, cg->path, cg->proc_path, t, &killed, err, len);
}

int mg_cg_read_bytes(struct mg_cgroup *cg, const char *file, int64_t *v, char *err, size_t len)
{
	char buf[64];
	if (mg_cg_read(cg, file, buf, sizeof buf) < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, len, "cannot read %s/%s: %s (%s)", cg->path, file, MG_ERRNO(errno));
		return -1;
	}
	char *end;
	errno = 0;
	long long x = strtoll(buf, &end, 10);
	if (errno || end == buf || x < 0) {
		snprintf(err, len, "%s/%s: not a byte count: \"%.20s\"", cg->path, file, buf);
		return -1;
	}
	*v = x;
	return 0;
}

int mg_cgroup_set_limit(struct mg_cgroup *cg, int64_t bytes, char *err, size_t len)
{
	mg_fs_root_begin();
	int rc = ops_of(cg->kind)->set_limit(cg, bytes, err, len);
	mg_fs_root_end();
	return rc;
}

int mg_cgroup_attach(struct mg_cgroup *cg, pid_t pid, char *err, size_t len)
{
	char v[32];
	snprintf(v, sizeof v, "%d\n", (int)pid);
	mg_fs_root_begin();
	int rc = mg_cg_write(cg, "cgroup.procs", v);
	mg_fs_root_end();
	if (rc < 0) {
		snprintf(err, len, "%s: cannot move pid %d into %s: %s (%s)", kind_label(cg->kind), (int)pid,
			 cg->path, MG_ERRNO(errno));
		return -1;
	}
	return 0;
}

int mg_cgroup_procs(struct mg_cgroup *cg, struct mg_tree_reader *t, struct mg_pidset *out, char *err, size_t len)
{
	char path[PATH_MAX + 32], why[128];
	/* opened afresh each time: v1 caches a pid list per open file, so a
	 * kept fd would keep answering with the processes of its first read */
	snprintf(path, sizeof path, "%s/cgroup.procs", cg->path);
	if (mg_read_file_buf(path, &t->buf, MG_PID_LIST_MAX) < 0) {
		snprintf(err, len, "cannot read %s: %s (%s)", path, MG_ERRNO(errno));
		return -1;
	}
	if (mg_parse_pid_list(t->buf.p, t->pid_max, out, why, sizeof why) < 0) {
		snprintf(err, len, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

int mg_cgroup_peak(struct mg_cgroup *cg, int64_t *bytes, char *err, size_t len)
{
	return ops_of(cg->kind)->peak(cg, bytes, err, len);
}

int mg_cgroup_oom_kills(struct mg_cgroup *cg, int64_t *count, char *err, size_t len)
{
	return ops_of(cg->kind)->oom_kills(cg, count, err, len);
}

int mg_cgroup_kill(struct mg_cgroup *cg, struct mg_tree_reader *t, char *err, size_t len)
{
	mg_fs_root_begin();
	int rc = ops_of(cg->kind)->kill(cg, t, err, len);
	mg_fs_root_end();
	return rc;
}

bool mg_cgroup_only_process(const char *dir, pid_t pid)
{
	char path[PATH_MAX + 32], why[64];
	struct mg_buf b = {0};
	struct mg_pidset s = {0};
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	bool only = mg_read_file_buf(path, &b, MG_PID_LIST_MAX) >= 0 &&
		    mg_parse_pid_list(b.p, mg_pid_max(), &s, why, sizeof why) == 0 && s.n == 1 && s.v[0] == pid;
	mg_pidset_free(&s);
	mg_buf_free(&b);
	return only;
}

static int destroy(struct mg_cgroup *cg, char *err, size_t len);

int mg_cgroup_destroy(struct mg_cgroup *cg, char *err, size_t len)
{
	mg_fs_root_begin();
	int rc = destroy(cg, err, len);
	mg_fs_root_end();
	return rc;
}

static int destroy(struct mg_cgroup *cg, char *err, size_t len)
{
	if (cg->dirfd >= 0) {
		close(cg->dirfd);
		cg->dirfd = -1;
	}
	if (!cg->path[0])
		return 0;
	/* The last tasks may still be exiting: retry EBUSY for up to 2 s. */
	for (int i = 0; i < 400; i++) {
		if (rmdir(cg->path) == 0 || errno == ENOENT) {
			cg->path[0] = '\0';
			return cg->self_leaf[0] ? ops_of(cg->kind)->leave_leaf(cg, err, len) : 0;
		}
		if (errno != EBUSY)
			break;
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	snprintf(err, len, "cannot remove %s: %s (%s)", cg->path, MG_ERRNO(errno));
	return -1;
}

/* ---- stale cgroups --------------------------------------------------------- */

/* Did the process now called pid start after `when` (wall clock)? Then it
 * cannot be the memgate that made a cgroup at `when`: the pid was reused. */
static bool started_after(pid_t pid, time_t when)
{
	struct mg_proc_id id;
	struct timespec real, boot;
	if (mg_proc_id_read(pid, &id, NULL) != 0 || clock_gettime(CLOCK_REALTIME, &real) < 0 ||
	    clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
		return false;
	long hz = sysconf(_SC_CLK_TCK);
	double started = (double)(real.tv_sec - boot.tv_sec) + (real.tv_nsec - boot.tv_nsec) / 1e9 +
			 (double)id.start / (double)(hz > 0 ? hz : 100);
	return started > (double)when + 1.0; /* a second's slack for clock rounding */
}

/* memgate-PID-... : PID, or 0 when name is not one of ours */
static pid_t owner_of(const char *name, pid_t pid_max)
{
	if (strncmp(name, "memgate-", 8) != 0)
		return 0;
	long long v = 0;
	const char *p = name + 8;
	while (*p >= '0' && *p <= '9' && v <= pid_max)
		v = v * 10 + (*p++ - '0');
	return *p == '-' && p > name + 8 && name[8] != '0' && v >= 1 && v <= pid_max ? (pid_t)v : 0;
}

/* Kill everything in dir (and below), then remove it, deepest first. */
static int remove_tree(enum mg_method kind, const char *dir, struct mg_tree_reader *t, size_t *killed, int depth,
		       char *err, size_t len)
{
	char sub[PATH_MAX], proc_path[PATH_MAX];
	if (depth > 16) {
		snprintf(err, len, "%s: nested too deep", dir);
		return -1;
	}
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : (snprintf(err, len, "cannot open %s: %s (%s)", dir, MG_ERRNO(errno)), -1);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)))
		if (de->d_type == DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    (size_t)snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) < sizeof sub)
			rc = remove_tree(kind, sub, t, killed, depth + 1, err, len);
	closedir(d);
	if (rc < 0 || mg_cgroup_proc_path(kind, dir, proc_path, sizeof proc_path, err, len) < 0)
		return -1;
	struct mg_cgroup cg = {.kind = kind, .dirfd = -1};
	snprintf(cg.path, sizeof cg.path, "%s", dir);
	snprintf(cg.proc_path, sizeof cg.proc_path, "%s", proc_path);
	/* v2 kills all at once; elsewhere, listed members until none is left */
	for (int i = 0; i < 400; i++) {
		size_t n = 0;
		if (kind == MG_METHOD_CGROUP_V2 && mg_cg_write(&cg, "cgroup.kill", "1") == 0)
			n = 0;
		else if (kill_listed(kind, dir, proc_path, t, &n, err, len) < 0)
			return errno == ENOENT ? 0 : -1;
		*killed += n;
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY) {
			snprintf(err, len, "cannot remove %s: %s (%s)", dir, MG_ERRNO(errno));
			return -1;
		}
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	snprintf(err, len, "cannot remove %s: its processes do not die (EBUSY after 2 s)", dir);
	return -1;
}

/* Is pid's command name "memgate" (which memgate sets for itself, whatever
 * its binary is called)? */
static bool is_memgate(pid_t pid)
{
	char path[64], comm[32];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	ssize_t n = mg_read_small_file(path, comm, sizeof comm);
	return n > 0 && strcmp(comm, "memgate\n") == 0;
}

/* Does a memgate run above pid (its fixture)? A fixture's processes stay
 * below their memgate, the subreaper, as long as it lives. */
static bool under_a_memgate(pid_t pid)
{
	for (int depth = 0; pid > 1 && depth < 4096; depth++) {
		pid_t ppid;
		if (is_memgate(pid))
			return true;
		if (mg_read_ppid(pid, &ppid) != 0)
			return false;
		pid = ppid;
	}
	return false;
}

/* Is the memgate that made dir (at st->st_ctime) gone? The name's pid is
 * only a hint (another pid namespace may share this cgroup tree): the
 * processes inside decide. A cgroup with a live memgate above one of its
 * processes, or whose named memgate lives, is never touched; an empty one
 * is left for a minute, as it may have just been made. */
static bool stale(const char *dir, const struct stat *st, pid_t owner, struct mg_tree_reader *t)
{
	char path[PATH_MAX + 32], why[128];
	bool alive = kill(owner, 0) == 0 || errno == EPERM;
	if (alive && is_memgate(owner) && !started_after(owner, st->st_ctime))
		return false;
	struct mg_pidset members = {0};
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	bool gone = mg_read_file_buf(path, &t->buf, MG_PID_LIST_MAX) >= 0 &&
		    /* pids of another namespace read as 0 (v2): not ours to judge */
		    mg_parse_pid_list(t->buf.p, t->pid_max, &members, why, sizeof why) == 0;
	for (size_t i = 0; gone && i < members.n; i++)
		gone = !under_a_memgate(members.v[i]);
	if (gone && members.n == 0)
		gone = time(NULL) - st->st_ctime > 60;
	mg_pidset_free(&members);
	return gone;
}

static int sweep(enum mg_method kind, const char *root, struct mg_tree_reader *t, char *report, size_t rlen,
		 char *err, size_t len)
{
	DIR *d = opendir(root);
	if (!d)
		return 0; /* nothing to sweep where nothing can be listed */
	struct dirent *de;
	int rc = 0;
	char dir[PATH_MAX], why[256];
	while ((de = readdir(d))) {
		pid_t owner = owner_of(de->d_name, t->pid_max);
		struct stat st;
		if (!owner || owner == getpid() || (size_t)snprintf(dir, sizeof dir, "%s/%s", root, de->d_name) >= sizeof dir ||
		    stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || !stale(dir, &st, owner, t))
			continue;
		size_t killed = 0;
		if (remove_tree(kind, dir, t, &killed, 0, why, sizeof why) < 0) {
			if (rc == 0)
				snprintf(err, len, "stale cgroup %s: %s", dir, why);
			rc = -1;
			continue;
		}
		size_t used = strlen(report);
		snprintf(report + used, rlen - used,
			 "%sremoved the stale cgroup %s of memgate pid %d, which is no longer running; killed %zu "
			 "process(es) left in it",
			 used ? "\n" : "", dir, (int)owner, killed);
	}
	closedir(d);
	return rc;
}

int mg_cgroup_sweep(enum mg_method kind, const char *root, struct mg_tree_reader *t, char *report, size_t rlen,
		    char *err, size_t len)
{
	report[0] = '\0';
	mg_fs_root_begin();
	int rc = sweep(kind, root, t, report, rlen, err, len);
	mg_fs_root_end();
	return rc;
}
