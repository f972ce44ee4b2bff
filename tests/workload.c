/* workload: processes with known memory, for memgate's integration tests
 * and benchmark. Every MiB it claims is touched page by page, so RSS and the
 * cgroup see exactly that much on top of the libc baseline.
 *
 *   hold MIB MS              hold MIB for MS, exit 0
 *   tree K MIB MS            K children hold MIB each, all at once, for MS
 *   spike MIB AFTER_MS       touch MIB, free it at once, idle AFTER_MS
 *   daemon MIB PIDFILE       double-fork a daemon holding MIB; exit when it holds
 *   shared MIB K MS          touch MIB, fork K children sharing it, hold MS
 *   grow STEP_MIB MAX_MIB MS grow by STEP_MIB every MS up to MAX_MIB, then hold
 *   crash MIB                hold MIB, then die of SIGSEGV
 *   hang                     sleep forever
 *   exit CODE                exit with CODE
 *   busy MS                  spin the CPU for MS (benchmark baseline)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024L * 1024L)

static void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	exit(100);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* mmap + write every page: exactly mib MiB resident, nothing lazily shared */
static char *touch(long mib)
{
	size_t len = (size_t)mib * MIB;
	if (len == 0)
		return NULL;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	long page = sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < len; i += (size_t)page)
		p[i] = 1;
	return p;
}

static long arg(int argc, char **argv, int i)
{
	if (i >= argc) {
		fprintf(stderr, "workload: missing argument %d for %s\n", i, argv[1]);
		exit(100);
	}
	return strtol(argv[i], NULL, 10);
}

static int tree(long k, long mib, long ms)
{
	int ready[2], release[2];
	if (pipe(ready) < 0 || pipe(release) < 0)
		die("pipe");
	for (long i = 0; i < k; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(ready[0]);
			close(release[1]);
			touch(mib);
			if (write(ready[1], "r", 1) != 1)
				die("write");
			char c;
			while (read(release[0], &c, 1) > 0) /* EOF: parent released us */
				;
			_exit(0);
		}
	}
	close(ready[1]);
	close(release[0]);
	char c;
	for (long got = 0; got < k;) /* all K hold their memory at once now */
		if (read(ready[0], &c, 1) == 1)
			got++;
		else
			die("read");
	sleep_ms(ms);
	close(release[1]);
	while (wait(NULL) > 0)
		;
	return 0;
}

static int daemonize(long mib, const char *pidfile)
{
	int ready[2];
	if (pipe(ready) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		setsid();
		pid_t d = fork();
		if (d < 0)
			die("fork");
		if (d > 0)
			_exit(0); /* the daemon is orphaned */
		touch(mib);
		FILE *f = fopen(pidfile, "w");
		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0)
			die(pidfile);
		if (write(ready[1], "r", 1) != 1)
			die("write");
		for (;;)
			sleep_ms(1000);
	}
	close(ready[1]);
	char c;
	if (read(ready[0], &c, 1) != 1)
		die("daemon did not start");
	waitpid(pid, NULL, 0);
	return 0;
}

static int shared(long mib, long k, long ms)
{
	touch(mib);
	for (long i = 0; i < k; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			sleep_ms(ms);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: workload MODE ARGS (see the source)\n");
		return 100;
	}
	const char *m = argv[1];
	if (!strcmp(m, "hold")) {
		touch(arg(argc, argv, 2));
		sleep_ms(arg(argc, argv, 3));
	} else if (!strcmp(m, "tree")) {
		return tree(arg(argc, argv, 2), arg(argc, argv, 3), arg(argc, argv, 4));
	} else if (!strcmp(m, "spike")) {
		long mib = arg(argc, argv, 2);
		char *p = touch(mib);
		if (p && munmap(p, (size_t)mib * MIB) < 0)
			die("munmap");
		sleep_ms(arg(argc, argv, 3));
	} else if (!strcmp(m, "daemon")) {
		if (argc < 4)
			return 100;
		return daemonize(arg(argc, argv, 2), argv[3]);
	} else if (!strcmp(m, "shared")) {
		return shared(arg(argc, argv, 2), arg(argc, argv, 3), arg(argc, argv, 4));
	} else if (!strcmp(m, "grow")) {
		long step = arg(argc, argv, 2), max = arg(argc, argv, 3), ms = arg(argc, argv, 4);
		for (long have = 0; have < max; have += step) {
			touch(step);
			sleep_ms(ms);
		}
		sleep_ms(ms * 10);
	} else if (!strcmp(m, "crash")) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		touch(arg(argc, argv, 2));
		sleep_ms(50);
		kill(getpid(), SIGSEGV);
		sleep_ms(1000);
		return 99;
	} else if (!strcmp(m, "hang")) {
		for (;;)
			pause();
	} else if (!strcmp(m, "exit")) {
		return (int)arg(argc, argv, 2);
	} else if (!strcmp(m, "busy")) {
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		long ms = arg(argc, argv, 2);
		volatile unsigned long x = 0;
		do {
			for (int i = 0; i < 100000; i++)
				x += (unsigned long)i;
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
	} else {
		fprintf(stderr, "workload: unknown mode %s\n", m);
		return 100;
	}
	return 0;
}
