/* service_run: service mode's phases. The service starts (STARTING) and
 * is probed until it is ready; the driver then runs outside the measured
 * cgroup (DRIVING); then the service gets its stop signal and a grace
 * period (STOPPING). Growth per request is sampled at ready and at the
 * driver's exit. */
#ifndef MG_SERVICE_RUN_H
#define MG_SERVICE_RUN_H

#include <stdint.h>

#include "measure/run.h"

/* Pick the port, substitute it, prepare the readiness check and the output
 * tails. 0, or -1 (run's error set). */
int mg_prepare_service(struct run *run);
/* Advance the phases at time now; returns the time it next needs to act. */
int64_t mg_step_service(struct run *run, int64_t now);
/* The driver was reaped with this wait status. */
void mg_driver_exited(struct run *run, int status);
void mg_free_argv(char **v);

#endif
