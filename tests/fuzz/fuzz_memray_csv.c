/* `memray transform csv` (gate/heap/memray_csv.c) on arbitrary bytes, added
 * twice (two captures of one run): the sites it keeps and their JSON form
 * hold what the headers promise. */
#include "pyheap_check.h"

#include "heap/memray_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mg_pyheap h;
	struct mg_memray_acc acc = {0};
	char err[512];
	int64_t peak1 = -1, peak2 = -1;

	memset(err, 'X', sizeof err);
	int native = size && (data[0] & 1); /* both ways of reading a stack */
	if (mg_memray_csv_add(&acc, (const char *)data, size, "fuzz.csv", native, &peak1, err, sizeof err) == 0) {
		FUZZ_CHECK(peak1 >= 0);
		FUZZ_CHECK(mg_memray_csv_add(&acc, (const char *)data, size, "fuzz.csv", native, &peak2, err,
					     sizeof err) == 0);
		FUZZ_CHECK(peak2 == peak1);
		mg_pyheap_init(&h, "memray");
		h.peak_bytes = peak1;
		mg_memray_acc_top(&acc, 10, &h);
		FUZZ_CHECK((size_t)h.ntop <= acc.n && h.ntop + (size_t)h.top_omitted == acc.n);
		for (int i = 1; i < h.ntop; i++)
			FUZZ_CHECK(h.top[i].size_bytes <= h.top[i - 1].size_bytes);
		for (int i = 0; i < h.ntop; i++)
			FUZZ_CHECK(memchr(h.top[i].native, '\0', sizeof h.top[i].native) != NULL);
		free(pyheap_check(&h));
	} else {
		fuzz_check_err(err, sizeof err);
	}
	mg_memray_acc_free(&acc);
	return 0;
}
