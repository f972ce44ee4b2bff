/* faulthelp: the small programs tests/fault/run needs.
 *
 *   faulthelp tree N HOLD_MS READYFILE
 *       fork N children that only pause(); when all are forked, write N to
 *       READYFILE (atomically), hold HOLD_MS, then exit 0 and leave the
 *       children to whoever reaps orphans (memgate is a child subreaper)
 *   faulthelp bystand N PIDFILE
 *       fork N children that only pause(); write every pid, own first, one
 *       a line, to PIDFILE (atomically), then pause forever
 *   faulthelp run PIDFILE STATUSFILE CMD [ARG...]
 *       run CMD; write its pid to PIDFILE (atomically) at once, and when it
 *       ends "exit CODE" or "signal SIGNO" to STATUSFILE, so a test tells
 *       "exited 129" from "killed by SIGHUP"; exits with CODE, or 128+SIGNO
 *
 * Children of tree and bystand own no memory beyond the forked image, so
 * thousands of them are cheap. Exit status 100 on a setup error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void put_file(const char *path, const char *text)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.part", path);
	FILE *f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "faulthelp: %s: %s\n", path, strerror(errno));
		exit(100);
	}
}

/* fork n children that pause; on failure kill those forked and exit 100 */
static pid_t *fork_pausers(long n)
{
	pid_t *pids = calloc((size_t)n + 1, sizeof *pids);
	if (!pids)
		exit(100);
	for (long i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0) {
			fprintf(stderr, "faulthelp: fork %ld of %ld: %s\n", i + 1, n, strerror(errno));
			for (long j = 0; j < i; j++) /* never leave half a tree */
				kill(pids[j], SIGKILL);
			exit(100);
		}
		if (p == 0)
			for (;;)
				pause();
		pids[i] = p;
	}
	return pids;
}

static int run(const char *pidfile, const char *statusfile, char **argv)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("faulthelp: fork");
		return 100;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "faulthelp: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	char text[64];
	snprintf(text, sizeof text, "%d\n", (int)pid);
	put_file(pidfile, text);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			perror("faulthelp: waitpid");
			return 100;
		}
	if (WIFSIGNALED(st)) {
		snprintf(text, sizeof text, "signal %d\n", WTERMSIG(st));
		put_file(statusfile, text);
		return 128 + WTERMSIG(st);
	}
	snprintf(text, sizeof text, "exit %d\n", WEXITSTATUS(st));
	put_file(statusfile, text);
	return WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "run"))
		return run(argv[2], argv[3], argv + 4);
	if (argc == 5 && !strcmp(argv[1], "tree")) {
		long n = atol(argv[2]), ms = atol(argv[3]);
		fork_pausers(n);
		char text[32];
		snprintf(text, sizeof text, "%ld\n", n);
		put_file(argv[4], text);
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "bystand")) {
		long n = atol(argv[2]);
		pid_t *pids = fork_pausers(n);
		size_t cap = (size_t)(n + 1) * 12 + 1, len = 0;
		char *text = malloc(cap);
		if (!text)
			return 100;
		len += (size_t)snprintf(text + len, cap - len, "%d\n", (int)getpid());
		for (long i = 0; i < n; i++)
			len += (size_t)snprintf(text + len, cap - len, "%d\n", (int)pids[i]);
		put_file(argv[3], text);
		for (;;)
			pause();
	}
	fprintf(stderr, "usage: faulthelp tree N HOLD_MS READYFILE | bystand N PIDFILE |"
			" run PIDFILE STATUSFILE CMD [ARG...]\n");
	return 2;
}
