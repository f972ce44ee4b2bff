/* Start and stop a Prism mock server (tests/peer/node_modules/.bin/prism) on
 * 127.0.0.1 with a port the OS picks, for the tests of `memgate post`.
 * Shared by tests/integration/it_post_http.c and tests/integration/it_post.c;
 * paths are relative to the repo root (the suite runs from there). */
#ifndef MG_PEER_PRISM_H
#define MG_PEER_PRISM_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PEER_DIR "tests/peer"
#define PEER_PRISM PEER_DIR "/node_modules/.bin/prism"
#define PEER_START_MS 60000 /* first start after an install can be slow */

struct peer {
	pid_t pid;
	int port;
	char log[64];   /* Prism's stdout and stderr */
};

static inline long peer_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static inline void peer_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Install the pinned Prism unless node_modules already matches the lockfile
 * (tests/peer/ensure: npm ci, a no-op when up to date). 0 or -1, with what
 * to do printed. */
static inline int peer_ensure(void)
{
	int rc = system(PEER_DIR "/ensure");
	if (rc != 0 || access(PEER_PRISM, X_OK) != 0) {
		fprintf(stderr, "peer: cannot install Prism (status %d). Run `tests/peer/ensure` "
				"(npm ci in tests/peer; needs node >= 18.20.1, npm and the npm registry)\n", rc);
		return -1;
	}
	return 0;
}

/* make check runs offline (MG_TEST_OFFLINE=1): when Prism is not installed
 * already and cannot be, the tests that need it are skipped, with that
 * reason, instead of failing. make test (online) never skips them. */
static inline bool peer_missing_offline(void)
{
	const char *off = getenv("MG_TEST_OFFLINE");
	/* offline: never try npm (a build chroot may hang on it), only look */
	return off && *off && strcmp(off, "0") != 0 && access(PEER_PRISM, X_OK) != 0;
}

static void peer_skipped_offline(void **state)
{
	(void)state;
	printf("  skipped: offline, and Prism (the API peer) is not installed: run tests/peer/ensure once online\n");
	fflush(stdout);
	skip();
}

/* Every test of tests[] becomes that skip. */
static inline void peer_skip_all(struct CMUnitTest *tests, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){tests[i].name, peer_skipped_offline, NULL, NULL, NULL};
}

/* The port of Prism's "Prism is listening on http://127.0.0.1:PORT" line. */
static inline int peer_read_port(const char *log)
{
	FILE *f = fopen(log, "r");
	char line[1024];
	int port = 0;
	while (f && !port && fgets(line, sizeof line, f)) {
		const char *p = strstr(line, "listening on http://127.0.0.1:");
		if (p)
			port = atoi(p + strlen("listening on http://127.0.0.1:"));
	}
	if (f)
		fclose(f);
	return port;
}

static inline void peer_dump_log(const struct peer *p)
{
	FILE *f = fopen(p->log, "r");
	char line[1024];
	fprintf(stderr, "peer: Prism's output:\n");
	while (f && fgets(line, sizeof line, f))
		fprintf(stderr, "  %s", line);
	if (f)
		fclose(f);
}

static inline void peer_stop(struct peer *p)
{
	if (p->pid <= 0)
		return;
	kill(-p->pid, SIGTERM); /* its own process group: node and anything it forked */
	int st;
	long deadline = peer_now_ms() + 5000;
	while (waitpid(p->pid, &st, WNOHANG) == 0) {
		if (peer_now_ms() > deadline) {
			kill(-p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			break;
		}
		peer_sleep_ms(20);
	}
	p->pid = 0;
	unlink(p->log);
}

/* Serve spec (a file in tests/peer) on 127.0.0.1:0. 0 with p->port set, or
 * -1 (Prism's output printed). Prism dies with this process (PDEATHSIG). */
static inline int peer_start(struct peer *p, const char *spec)
{
	memset(p, 0, sizeof *p);
	snprintf(p->log, sizeof p->log, "/tmp/memgate-prism-%d-XXXXXX", (int)getpid());
	int fd = mkstemp(p->log);
	if (fd < 0)
		return -1;
	pid_t parent = getpid();
	p->pid = fork();
	if (p->pid < 0) {
		close(fd);
		return -1;
	}
	if (p->pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		int null = open("/dev/null", O_RDONLY);
		dup2(null, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (chdir(PEER_DIR) != 0)
			_exit(126);
		execl("node_modules/.bin/prism", "prism", "mock", spec, "-h", "127.0.0.1", "-p", "0", (char *)NULL);
		_exit(127);
	}
	close(fd);
	setpgid(p->pid, p->pid); /* also from here: no race with kill(-pid) */
	long deadline = peer_now_ms() + PEER_START_MS;
	int st;
	while (!(p->port = peer_read_port(p->log))) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid || peer_now_ms() > deadline) {
			fprintf(stderr, "peer: Prism did not start on %s\n", spec);
			peer_dump_log(p);
			if (waitpid(p->pid, &st, WNOHANG) == 0)
				peer_stop(p);
			p->pid = 0;
			unlink(p->log);
			return -1;
		}
		peer_sleep_ms(50);
	}
	return 0;
}

#endif
