/* exit: memgate's exit statuses (README, "Exit status"), for every layer
 * that decides one: the commands, and the poster under --require-post. */
#ifndef MG_EXIT_H
#define MG_EXIT_H

#define EXIT_PASS 0       /* every fixture measured and within its limits */
#define EXIT_FAIL 1       /* a fixture failed */
#define EXIT_USAGE 2      /* usage or config error */
#define EXIT_ERROR 3      /* could not measure: never a pass */
/* interrupted by a signal: 128 + the signal (mg_exit_status, verdict.h) */

#endif
