/* Every /proc file parser of gate/procfs.c on the same text: status,
 * smaps_rollup, statm, stat and a cgroup.procs pid list. */
#include "fuzz.h"

#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	char err[160];
	struct mg_proc_status st;
	int64_t bytes;
	pid_t ppid;

	memset(err, 'X', sizeof err);
	if (mg_parse_status(text, &st, err, sizeof err) == 0) {
		FUZZ_CHECK(memchr(st.name, '\0', sizeof st.name) != NULL);
		FUZZ_CHECK(!st.has_vm || (st.rss_bytes >= 0 && st.hwm_bytes >= 0));
	} else {
		fuzz_check_err(err, sizeof err);
	}

	memset(err, 'X', sizeof err);
	if (mg_parse_smaps_rollup_pss(text, &bytes, err, sizeof err) == 0)
		FUZZ_CHECK(bytes >= 0);
	else
		fuzz_check_err(err, sizeof err);

	if (mg_parse_statm_rss(text, 4096, &bytes) == 0)
		FUZZ_CHECK(bytes >= 0);
	if (mg_parse_statm_rss(text, 65536, &bytes) == 0)
		FUZZ_CHECK(bytes >= 0);

	/* a pid the text does not hold (wrapped into pid_t) would be signalled */
	if (mg_parse_stat_ppid(text, &ppid) == 0) {
		const char *p = strrchr(text, ')');
		FUZZ_CHECK(ppid >= 0 && p && strtoll(p + 4, NULL, 10) == (long long)ppid);
	}

	struct mg_pidset set = {0};
	memset(err, 'X', sizeof err);
	if (mg_parse_pid_list(text, &set, err, sizeof err) == 0) {
		for (size_t i = 0; i < set.n; i++)
			FUZZ_CHECK(set.v[i] > 0);
		for (const char *p = text; *p; p++) /* every pid as written */
			if (*p != '\n' && (p == text || p[-1] == '\n'))
				FUZZ_CHECK(strtoll(p, NULL, 10) == (long long)(pid_t)strtoll(p, NULL, 10));
	} else {
		fuzz_check_err(err, sizeof err);
	}
	mg_pidset_free(&set);
	free(text);
	return 0;
}
