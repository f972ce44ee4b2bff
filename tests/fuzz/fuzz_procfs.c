/* Every /proc file parser of gate/procfs.c and kill.c on the same text:
 * status, smaps_rollup, statm, stat (ppid, start time) and a pid list
 * (cgroup.procs, task/TID/children). */
#include "fuzz.h"

#include "measure/kill.h"
#include "measure/procfs.h"

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

	uint64_t start;
	if (mg_parse_stat_ids(text, &ppid, &start) == 0)
		FUZZ_CHECK(ppid >= 0);

	/* every pid taken is a whole number in 1..pid_max, written in the text,
	 * and found again through the set's index */
	struct mg_pidset set = {0};
	memset(err, 'X', sizeof err);
	if (mg_parse_pid_list(text, 32768, &set, err, sizeof err) == 0) {
		for (size_t i = 0; i < set.n; i++) {
			FUZZ_CHECK(set.v[i] > 0 && set.v[i] <= 32768);
			FUZZ_CHECK(mg_pidset_has(&set, set.v[i]));
		}
		for (const char *p = text; *p; p++)
			if (*p != '\n' && *p != ' ' && (p == text || p[-1] == '\n' || p[-1] == ' ')) {
				long long v = strtoll(p, NULL, 10);
				FUZZ_CHECK(v >= 1 && v <= 32768 && mg_pidset_has(&set, (pid_t)v));
			}
	} else {
		fuzz_check_err(err, sizeof err);
	}
	mg_pidset_free(&set);
	free(text);
	return 0;
}
