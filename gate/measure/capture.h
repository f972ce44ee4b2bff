/* capture: the service's and the driver's stdout and stderr, read as they
 * come (non-blocking pipes) into bounded tails, for readiness by a stdout
 * line, the driver's "requests=N" line, and the failure report. */
#ifndef MG_CAPTURE_H
#define MG_CAPTURE_H

#include "measure/run.h"

/* Read whatever the pipes hold now. */
void mg_drain_all(struct run *run);
/* At the end: the rest of the output, the pipes closed, the tails copied
 * into the result. */
void mg_finish_streams(struct run *run);

#endif
