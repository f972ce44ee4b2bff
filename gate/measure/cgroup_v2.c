/* cgroup v2 backend, written against Documentation/admin-guide/cgroup-v2.rst:
 * memory.peak (5.19+), memory.events oom_kill, memory.max, cgroup.kill (5.14+). */
#include "error.h"
#include "measure/cgroup.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += wl)
		if ((p == list || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\n' || p[wl] == '\0'))
			return true;
	return false;
}

static int v2_prepare_root(const char *root, bool may_enable, char *reason, size_t len)
{
	char path[PATH_MAX + 32], buf[512];
	snprintf(path, sizeof path, "%s/cgroup.controllers", root);
	if (mg_read_small_file(path, buf, sizeof buf) < 0) {
		snprintf(reason, len, "cgroup v2: cannot read %s: %s (%s)", path, MG_ERRNO(errno));
		return -1;
	}
	if (!has_word(buf, "memory")) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(reason, len, "cgroup v2: memory controller not available in %s (controllers: %s)", root,
			 buf[0] ? buf : "none");
		return -1;
	}
	snprintf(path, sizeof path, "%s/cgroup.subtree_control", root);
	if (mg_read_small_file(path, buf, sizeof buf) < 0) {
		snprintf(reason, len, "cgroup v2: cannot read %s: %s (%s)", path, MG_ERRNO(errno));
		return -1;
	}
	if (has_word(buf, "memory"))
		return 0;
	if (!may_enable) {
		snprintf(reason, len, "cgroup v2: %s does not delegate the memory controller", root);
		return -1;
	}
	/* Our child cgroup only gets memory.* files if the parent delegates the controller. */
	if (mg_write_file(path, "+memory") < 0) {
		int e = errno;
		if (e == EBUSY) /* errno stays EBUSY for the caller: a leaf may help */
			snprintf(reason, len,
				 "cgroup v2: cannot enable the memory controller in %s: it holds processes "
				 "(no-internal-processes rule, EBUSY); pass --cgroup-root an empty delegated cgroup",
				 root);
		else
			snprintf(reason, len, "cgroup v2 root not writable: %s (%s) writing %s", MG_ERRNO(e), path);
		errno = e;
		return -1;
	}
	return 0;
}

static int move_pid(const char *dir, pid_t pid)
{
	char path[PATH_MAX + 32], v[32];
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	snprintf(v, sizeof v, "%d", (int)pid);
	return mg_write_file(path, v);
}

static int set_memory(const char *dir, bool on)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/cgroup.subtree_control", dir);
	return mg_write_file(path, on ? "+memory" : "-memory");
}

static int v2_leaf_leave(struct mg_cgroup *cg, char *err, size_t len);

static int v2_leaf_enter(const char *own, struct mg_cgroup *cg, char *reason, size_t len)
{
	char leaf[PATH_MAX];
	if ((size_t)snprintf(leaf, sizeof leaf, "%s/memgate-%d-self", own, (int)getpid()) >= sizeof leaf) {
		snprintf(reason, len, "cgroup v2: path too long");
		return -1;
	}
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST) {
		snprintf(reason, len, "cgroup v2: cannot create the leaf %s: %s (%s)", leaf, MG_ERRNO(errno));
		return -1;
	}
	if (move_pid(leaf, getpid()) < 0) {
		snprintf(reason, len, "cgroup v2: cannot move memgate into %s: %s (%s)", leaf, MG_ERRNO(errno));
		rmdir(leaf);
		return -1;
	}
	snprintf(cg->self_leaf, sizeof cg->self_leaf, "%s", leaf);
	snprintf(cg->self_home, sizeof cg->self_home, "%s", own);
	if (set_memory(own, true) < 0) {
		snprintf(reason, len, "cgroup v2: cannot enable memory in %s even from a leaf: %s (%s)", own, MG_ERRNO(errno));
		char err[128];
		v2_leaf_leave(cg, err, sizeof err);
		return -1;
	}
	cg->enabled_memory = true;
	if (mg_cgroup_make_child(MG_METHOD_CGROUP_V2, own, cg, reason, len) < 0) {
		char err[128];
		v2_leaf_leave(cg, err, sizeof err);
		return -1;
	}
	return 0;
}

static int v2_leaf_leave(struct mg_cgroup *cg, char *err, size_t len)
{
	int rc = 0;
	/* Controllers off first: a cgroup that delegates them may hold no process. */
	if (cg->enabled_memory && set_memory(cg->self_home, false) < 0) {
		snprintf(err, len, "cannot disable memory in %s: %s (%s)", cg->self_home, MG_ERRNO(errno));
		rc = -1;
	}
	cg->enabled_memory = false;
	if (rc == 0 && move_pid(cg->self_home, getpid()) < 0) {
		snprintf(err, len, "cannot move memgate back to %s: %s (%s)", cg->self_home, MG_ERRNO(errno));
		rc = -1;
	}
	if (rc == 0 && rmdir(cg->self_leaf) < 0 && errno != ENOENT) {
		snprintf(err, len, "cannot remove %s: %s (%s)", cg->self_leaf, MG_ERRNO(errno));
		rc = -1;
	}
	cg->self_leaf[0] = '\0';
	return rc;
}

static int v2_set_limit(struct mg_cgroup *cg, int64_t bytes, char *err, size_t len)
{
	char v[32];
	snprintf(v, sizeof v, "%" PRId64, bytes);
	if (mg_cg_write(cg, "memory.max", v) < 0) {
		snprintf(err, len, "cannot set %s/memory.max: %s (%s)", cg->path, MG_ERRNO(errno));
		return -1;
	}
	/* The cap must end in an OOM kill, not in swapping. */
	if (mg_cg_write(cg, "memory.swap.max", "0") < 0 && errno != ENOENT) {
		snprintf(err, len, "cannot set %s/memory.swap.max: %s (%s)", cg->path, MG_ERRNO(errno));
		return -1;
	}
	return 0;
}

/* memory.peak: 1 when the kernel predates it (5.19) */
static int v2_peak(struct mg_cgroup *cg, int64_t *bytes, char *err, size_t len)
{
	return mg_cg_read_bytes(cg, "memory.peak", bytes, err, len);
}

static int v2_oom_kills(struct mg_cgroup *cg, int64_t *count, char *err, size_t len)
{
	char buf[512];
	if (mg_cg_read(cg, "memory.events", buf, sizeof buf) < 0) {
		snprintf(err, len, "cannot read %s/memory.events: %s (%s)", cg->path, MG_ERRNO(errno));
		return -1;
	}
	if (mg_cg_keyed(buf, "oom_kill", count) < 0)
		return 1;
	return 0;
}

static int v2_kill(struct mg_cgroup *cg, struct mg_tree_reader *t, char *err, size_t len)
{
	if (mg_cg_write(cg, "cgroup.kill", "1") == 0)
		return 0;
	if (errno != ENOENT) {
		snprintf(err, len, "cannot write %s/cgroup.kill: %s (%s)", cg->path, MG_ERRNO(errno));
		return -1;
	}
	/* Before 5.14: kill what is listed; the caller repeats until empty. */
	return mg_cg_kill_listed(cg, t, err, len);
}

const struct mg_cgroup_ops mg_cgroup_v2_ops = {
	.prepare_root = v2_prepare_root,
	.set_limit = v2_set_limit,
	.peak = v2_peak,
	.oom_kills = v2_oom_kills,
	.kill = v2_kill,
	.enter_leaf = v2_leaf_enter,
	.leave_leaf = v2_leaf_leave,
};
