/* cgroup v1 memory controller backend (/sys/fs/cgroup/memory/...). */
#include "error.h"
#include "measure/cgroup.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int v1_prepare_root(const char *root, bool may_enable, char *reason, size_t len)
{
	(void)may_enable; /* v1: every cgroup of the memory hierarchy accounts memory */
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/memory.max_usage_in_bytes", root);
	if (access(path, R_OK) < 0) {
		snprintf(reason, len, "cgroup v1: %s is not a memory cgroup (%s (%s))", root, MG_ERRNO(errno));
		return -1;
	}
	return 0;
}

static int v1_set_limit(struct mg_cgroup *cg, int64_t bytes, char *err, size_t len)
{
	char v[32];
	snprintf(v, sizeof v, "%" PRId64, bytes);
	if (mg_cg_write(cg, "memory.limit_in_bytes", v) < 0) {
		snprintf(err, len, "cannot set %s/memory.limit_in_bytes: %s (%s)", cg->path, MG_ERRNO(errno));
		return -1;
	}
	/* Without swap accounting the cap could push pages to swap instead of an
	 * OOM kill; cap memory+swap too when the kernel accounts it. */
	if (mg_cg_write(cg, "memory.memsw.limit_in_bytes", v) < 0 && errno != ENOENT) {
		snprintf(err, len, "cannot set %s/memory.memsw.limit_in_bytes: %s (%s)", cg->path, MG_ERRNO(errno));
		return -1;
	}
	return 0;
}

/* memory.max_usage_in_bytes: the peak since the cgroup was created */
static int v1_peak(struct mg_cgroup *cg, int64_t *bytes, char *err, size_t len)
{
	int rc = mg_cg_read_bytes(cg, "memory.max_usage_in_bytes", bytes, err, len);
	if (rc == 1) {
		snprintf(err, len, "%s/memory.max_usage_in_bytes is missing", cg->path);
		return -1;
	}
	return rc;
}

static int v1_oom_kills(struct mg_cgroup *cg, int64_t *count, char *err, size_t len)
{
	char buf[256];
	if (mg_cg_read(cg, "memory.oom_control", buf, sizeof buf) < 0) {
		snprintf(err, len, "cannot read %s/memory.oom_control: %s (%s)", cg->path, MG_ERRNO(errno));
		return -1;
	}
	if (mg_cg_keyed(buf, "oom_kill", count) < 0)
		return 1; /* kernels before 4.13 do not count OOM kills */
	return 0;
}

const struct mg_cgroup_ops mg_cgroup_v1_ops = {
	.prepare_root = v1_prepare_root,
	.set_limit = v1_set_limit,
	.peak = v1_peak,
	.oom_kills = v1_oom_kills,
	.kill = mg_cg_kill_listed,
};
