/* tracemalloc: memgate's helper (gate/heap/python/sitecustomize.py) is
 * injected into the measured run itself through PYTHONPATH, and its report
 * is read after the run (the parser is in pyheap.c). memray's second run is
 * measure/measure.c's, as it is a run. */
#ifndef MG_TRACEMALLOC_H
#define MG_TRACEMALLOC_H

#include <limits.h>

#include "config.h"
#include "tmpdir.h"
#include "result.h"

struct mg_pyheap_prep {
	struct mg_tmpdir dir;   /* private temp dir for the report; path "" when unused */
	char out[PATH_MAX + 32];
	char *env[4];           /* NULL-terminated "K=V" to add to the run's environment */
};

/* Set up tracemalloc injection for f (a no-op unless heap.tool is
 * tracemalloc). 0, or -1 with err. */
int mg_pyheap_prepare(const struct mg_fixture *f, struct mg_pyheap_prep *p, char *err, size_t len);
/* Read the helper's report into r->python_heap, or say why there is none. */
void mg_pyheap_collect(const struct mg_fixture *f, struct mg_pyheap_prep *p, struct mg_result *r);
void mg_pyheap_release(struct mg_pyheap_prep *p);

/* Where the helper lives: $MEMGATE_PYTHON_DIR, else next to the binary
 * (PREFIX/share/memgate/heap/python, or gate/heap/python in a source tree). */
int mg_pyheap_helper_dir(char *dir, size_t len);

#endif
