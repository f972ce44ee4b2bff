/* measure: one fixture, measured. First the supervised run (supervise.c),
 * whose figures are the fixture's; then any attribution run the fixture
 * asks for: memray runs the command a second time, because it inflates RSS
 * (its buffers, the capture's page cache), so its heap sites are added to
 * the result and its RSS never replaces the first run's. Every process of
 * both runs starts through mg_spawn (spawn.h). */
#ifndef MG_MEASURE_H
#define MG_MEASURE_H

#include "config.h"
#include "measure/supervise.h"
#include "result.h"

/* Fill r (mg_result_init first). Never fails: problems end up in r->error. */
void mg_measure_fixture(struct mg_supervisor *sv, const struct mg_fixture *f, struct mg_result *r);

#endif
