/* The one report loader (gate/report_load.c) on arbitrary bytes, read from
 * a file as every command reads a report: a document it returns passes
 * validation again; a refusal leaves one terminated line. */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "report/report_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("report", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	char path[64], err[512];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	memset(err, 'X', sizeof err);
	json_t *doc = mg_report_load(path, err, sizeof err);
	if (doc) {
		char again[512];
		FUZZ_CHECK(mg_report_validate(doc, again, sizeof again) == 0);
		json_decref(doc);
	} else {
		fuzz_check_err(err, sizeof err);
	}
	close(fd);
	return 0;
}
