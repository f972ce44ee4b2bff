/* cgroup v1 memory controller backend (/sys/fs/cgroup/memory/...). */
#include "cgroup.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int v1_prepare_root(const char *root, char *reason, size_t len)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/memory.max_usage_in_bytes", root);
	if (access(path, R_OK) < 0) {
		snprintf(reason, len, "cgroup v1: %s is not a memory cgroup (%s)", root, strerrorname_np(errno));
		return -1;
	}
	return 0;
}

static int v1_set_limit(struct mg_cgroup *cg, int64_t bytes, char *err, size_t len)
{
	char v[32];
	snprintf(v, sizeof v, "%" PRId64, bytes);
	if (mg_cg_write(cg, "memory.limit_in_bytes", v) < 0) {
		snprintf(err, len, "cannot set %s/memory.limit_in_bytes: %s", cg->path, strerrorname_np(errno));
		return -1;
	}
	/* Without swap accounting the cap could push pages to swap instead of an
	 * OOM kill; cap memory+swap too when the kernel accounts it. */
	if (mg_cg_write(cg, "memory.memsw.limit_in_bytes", v) < 0 && errno != ENOENT) {
		snprintf(err, len, "cannot set %s/memory.memsw.limit_in_bytes: %s", cg->path, strerrorname_np(errno));
		return -1;
	}
	return 0;
}

static int read_int(struct mg_cgroup *cg, const char *file, int64_t *v, char *err, size_t len)
{
	char buf[64];
	if (mg_cg_read(cg, file, buf, sizeof buf) < 0) {
		snprintf(err, len, "cannot read %s/%s: %s", cg->path, file, strerrorname_np(errno));
		return -1;
	}
	char *end;
	errno = 0;
	long long x = strtoll(buf, &end, 10);
	if (errno || end == buf || x < 0) {
		snprintf(err, len, "%s/%s: not a number: \"%.20s\"", cg->path, file, buf);
		return -1;
	}
	*v = x;
	return 0;
}

static int v1_peak(struct mg_cgroup *cg, int64_t *bytes, char *err, size_t len)
{
	return read_int(cg, "memory.max_usage_in_bytes", bytes, err, len);
}

static int v1_oom_kills(struct mg_cgroup *cg, int64_t *count, char *err, size_t len)
{
	char buf[256];
	if (mg_cg_read(cg, "memory.oom_control", buf, sizeof buf) < 0) {
		snprintf(err, len, "cannot read %s/memory.oom_control: %s", cg->path, strerrorname_np(errno));
		return -1;
	}
	if (mg_cg_keyed(buf, "oom_kill", count) < 0)
		return 1; /* kernels before 4.13 do not count OOM kills */
	return 0;
}

static int v1_kill(struct mg_cgroup *cg, char *err, size_t len)
{
	struct mg_pidset s = {0};
	int rc = mg_cgroup_procs(cg, &s, err, len);
	for (size_t i = 0; rc == 0 && i < s.n; i++)
		if (kill(s.v[i], SIGKILL) < 0 && errno != ESRCH) {
			snprintf(err, len, "kill %d: %s", (int)s.v[i], strerrorname_np(errno));
			rc = -1;
		}
	mg_pidset_free(&s);
	return rc;
}

const struct mg_cgroup_ops mg_cgroup_v1_ops = {
	.prepare_root = v1_prepare_root,
	.set_limit = v1_set_limit,
	.peak = v1_peak,
	.oom_kills = v1_oom_kills,
	.kill = v1_kill,
};
