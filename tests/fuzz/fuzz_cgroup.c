/* The cgroup file parsers of gate/cgroup.c: /proc/self/cgroup,
 * /proc/self/mountinfo (both for v2 and v1) and the "key value" files
 * (memory.events, memory.oom_control). */
#include "fuzz.h"

#include <limits.h>

#include "measure/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	static const enum mg_method kinds[] = {MG_METHOD_CGROUP_V2, MG_METHOD_CGROUP_V1};
	char path[PATH_MAX], mnt[PATH_MAX], root[PATH_MAX], small[8];

	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		if (mg_parse_proc_cgroup(text, kinds[k], path, sizeof path) == 0)
			FUZZ_CHECK(memchr(path, '\0', sizeof path) != NULL);
		if (mg_parse_proc_cgroup(text, kinds[k], small, sizeof small) == 0)
			FUZZ_CHECK(memchr(small, '\0', sizeof small) != NULL);
		if (mg_parse_mountinfo(text, kinds[k], mnt, sizeof mnt, root, sizeof root) == 0)
			FUZZ_CHECK(memchr(mnt, '\0', sizeof mnt) && memchr(root, '\0', sizeof root));
		char smnt[8], sroot[8];
		if (mg_parse_mountinfo(text, kinds[k], smnt, sizeof smnt, sroot, sizeof sroot) == 0)
			FUZZ_CHECK(memchr(smnt, '\0', sizeof smnt) && memchr(sroot, '\0', sizeof sroot));
	}

	int64_t v;
	(void)mg_cg_keyed(text, "oom_kill", &v);
	(void)mg_cg_keyed(text, "oom", &v);
	(void)mg_cg_keyed(text, "max", &v);
	free(text);
	return 0;
}
