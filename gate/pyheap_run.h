/* pyheap_run: Python heap attribution around a fixture's run.
 * tracemalloc: memgate's helper (gate/python/sitecustomize.py) is injected
 * into the measured run itself through PYTHONPATH, and its report is read
 * after the run. memray: a second run under `python -m memray run`, after
 * the measured one, because memray inflates RSS (its buffers, the capture's
 * page cache); then `memray stats --json`. The parsers are in pyheap.c. */
#ifndef MG_PYHEAP_RUN_H
#define MG_PYHEAP_RUN_H

#include <limits.h>

#include "config.h"
#include "result.h"

struct mg_supervisor;

struct mg_pyheap_prep {
	char dir[PATH_MAX];     /* private temp dir for the report; "" when unused */
	char out[PATH_MAX + 32];
	char *env[4];           /* NULL-terminated "K=V" to add to the run's environment */
};

/* Set up tracemalloc injection for f (a no-op unless python.heap is
 * tracemalloc). 0, or -1 with err. */
int mg_pyheap_prepare(const struct mg_fixture *f, struct mg_pyheap_prep *p, char *err, size_t len);
/* Read the helper's report into r->python_heap, or say why there is none. */
void mg_pyheap_collect(const struct mg_fixture *f, struct mg_pyheap_prep *p, struct mg_result *r);
void mg_pyheap_release(struct mg_pyheap_prep *p);

/* The memray run (a no-op unless python.heap is memray). */
void mg_pyheap_memray(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r);

/* Where the helper lives: $MEMGATE_PYTHON_DIR, else next to the binary
 * (PREFIX/share/memgate/python, or gate/python in a source tree). */
int mg_pyheap_helper_dir(char *dir, size_t len);

#endif
