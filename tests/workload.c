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
 *   maps N ROUNDS [KIB]      N separate KIB mappings (default 16), touched (about N
 *                            lines in /proc/PID/maps, printed as
 *                            "mappings=M"); then
 *                            ROUNDS of fixed work, each some arithmetic and a
 *                            256 KiB mmap, touch, munmap (page faults and
 *                            mmap_lock writes, as a runtime with a GC does)
 *   serve PORT LEAK_KIB      HTTP/1.0 on 127.0.0.1:PORT; every request leaks
 *                            LEAK_KIB (touched); prints "listening on ..."
 *   prefork PORT WORKERS WORKER_MIB LEAK_KIB
 *                            serve, and after the first request fork WORKERS
 *                            workers that each hold WORKER_MIB (a pre-fork
 *                            server's workers coming up after it is ready)
 *   drive PORT N [EVERY [LAG [PAUSE_US]]]
 *                            N sequential GETs; last line "requests=N", and
 *                            "requests=K" every EVERY requests before it;
 *                            with LAG, each line in the first half is read
 *                            late: the parent (memgate) is stopped while
 *                            LAG more requests are made; PAUSE_US between
 *                            requests (a client's think time)
 *   phased PORT START_MIB STEADY_MIB
 *                            a start-up spike of START_MIB, freed before it
 *                            serves, then STEADY_MIB held while it serves
 *   phases MIB MS            marks phases "before", "spike", "after" (MS each)
 *                            through $MEMGATE_MARK; in "spike" it touches MIB
 *                            and frees it at once, in its own process
 *   marks N ROUNDS           N marks "phase mN", each followed by ROUNDS of
 *                            fixed arithmetic; marks nothing without memgate
 *                            or with MARKS_OFF set (the benchmark's
 *                            baseline), through the FIFO with MARKS_ASYNC
 *                            set; prints "marks=N" and "elapsed_us=" (its
 *                            own wall time, marks and work)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
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

static int serve_workers(int port, long leak_kib, long workers, long worker_mib);

static int maps(long n, long rounds, long kib)
{
	/* one block, every page touched, then every other KIB region made
	 * read-only: neighbours differ in protection, so none merge */
	long page = sysconf(_SC_PAGESIZE), per = kib * 1024 / page > 0 ? kib * 1024 / page : 1;
	size_t region = (size_t)(per * page);
	char *base = mmap(NULL, region * (size_t)n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		die("mmap");
	for (size_t i = 0; i < region * (size_t)n; i += (size_t)page)
		base[i] = 1;
	for (long i = 1; i < n; i += 2)
		if (mprotect(base + region * (size_t)i, region, PROT_READ) < 0)
			die("mprotect");
	long lines = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	for (int c; f && (c = getc(f)) != EOF;)
		lines += c == '\n';
	if (f)
		fclose(f);
	printf("mappings=%ld\n", lines);
	fflush(stdout);
	volatile unsigned long x = 0;
	for (long k = 0; k < rounds; k++) {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i * (unsigned long)k;
		size_t len = 256 * 1024;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		for (size_t i = 0; i < len; i += (size_t)page)
			p[i] = (char)k;
		if (munmap(p, len) < 0)
			die("munmap");
	}
	return 0;
}

static int serve(int port, long leak_kib)
{
	return serve_workers(port, leak_kib, 0, 0);
}

static int serve_workers(int port, long leak_kib, long workers, long worker_mib)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0)
		die("listen");
	printf("listening on 127.0.0.1:%d\n", port);
	fflush(stdout);
	long page = sysconf(_SC_PAGESIZE);
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			continue;
		char req[1024];
		ssize_t n = recv(c, req, sizeof req, 0);
		(void)n;
		for (; workers > 0; workers--) { /* after the first request: the workers boot */
			pid_t w = fork();
			if (w < 0)
				die("fork");
			if (w == 0) {
				close(fd);
				close(c);
				touch(worker_mib);
				for (;;)
					pause();
			}
		}
		if (leak_kib > 0) { /* the leak: kept forever, every page touched */
			char *p = malloc((size_t)leak_kib * 1024);
			for (long i = 0; p && i < leak_kib * 1024; i += page)
				p[i] = 1;
		}
		const char *resp = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
		ssize_t w = send(c, resp, strlen(resp), MSG_NOSIGNAL);
		(void)w;
		close(c);
	}
	return 0; /* not reached: SIGTERM ends it */
}

/* A mark as any program writes one: with MEMGATE_MARK_SYNC a datagram and
 * memgate's answer (the boundary is then exactly here), else a line to the
 * FIFO MEMGATE_MARK (open, write, close); nothing without memgate.
 * MARKS_ASYNC=1 uses the FIFO even where the socket is offered. */
static void mark(const char *line)
{
	if (getenv("MARKS_OFF"))
		return;
	const char *sync = getenv("MARKS_ASYNC") ? NULL : getenv("MEMGATE_MARK_SYNC");
	const char *path = getenv("MEMGATE_MARK");
	if (sync && *sync) {
		struct sockaddr_un to = {.sun_family = AF_UNIX}, me = {.sun_family = AF_UNIX};
		snprintf(to.sun_path, sizeof to.sun_path, "%s", sync);
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct timeval tv = {1, 0};
		char ok[8];
		/* bind with no path: the kernel gives an address to answer to */
		if (fd >= 0 && bind(fd, (struct sockaddr *)&me, sizeof(sa_family_t)) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
		    sendto(fd, line, strlen(line), 0, (struct sockaddr *)&to, sizeof to) >= 0) {
			ssize_t n = recv(fd, ok, sizeof ok, 0);
			(void)n;
		}
		if (fd >= 0)
			close(fd);
		return;
	}
	if (!path || !*path)
		return;
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t w = write(fd, line, strlen(line));
	(void)w;
	close(fd);
}

static int phases(long mib, long ms)
{
	mark("phase before\n");
	sleep_ms(ms);
	mark("phase spike\n");
	char *p = touch(mib);
	if (p && munmap(p, (size_t)mib * MIB) < 0)
		die("munmap");
	sleep_ms(ms);
	mark("phase after\n");
	sleep_ms(ms);
	mark("end\n");
	return 0;
}

static int marks(long n, long rounds)
{
	volatile unsigned long x = 0;
	char line[64];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		snprintf(line, sizeof line, "phase m%ld\n", i);
		mark(line);
		for (long r = 0; r < rounds; r++)
			for (int k = 0; k < 1000; k++)
				x += (unsigned long)k * (unsigned long)r;
	}
	mark("end\n");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("marks=%ld\nelapsed_us=%lld\n", n,
	       (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
	return 0;
}

static int drive(int port, long n, long every, long lag, long pause_us)
{
	pid_t reader = getppid();
	long resume_at = -1;
	for (long i = 0; i < n; i++) {
		if (every > 0 && i > 0 && i % every == 0) {
			printf("requests=%ld\n", i); /* progress, as load generators print it */
			fflush(stdout);
			if (lag > 0 && i < n / 2 && kill(reader, SIGSTOP) == 0)
				resume_at = i + lag;
		}
		if (i == resume_at)
			kill(reader, SIGCONT);
		if (pause_us > 0 && i > 0)
			usleep((useconds_t)pause_us);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
			die("connect");
		const char *req = "GET /item HTTP/1.0\r\n\r\n";
		char buf[256];
		if (send(fd, req, strlen(req), 0) < 0 || recv(fd, buf, sizeof buf, 0) <= 0)
			die("request");
		close(fd);
	}
	if (resume_at >= n)
		kill(reader, SIGCONT);
	printf("requests=%ld\n", n);
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
	} else if (!strcmp(m, "maps")) {
		return maps(arg(argc, argv, 2), arg(argc, argv, 3), argc > 4 ? arg(argc, argv, 4) : 16);
	} else if (!strcmp(m, "serve")) {
		return serve((int)arg(argc, argv, 2), arg(argc, argv, 3));
	} else if (!strcmp(m, "prefork")) {
		return serve_workers((int)arg(argc, argv, 2), arg(argc, argv, 5), arg(argc, argv, 3), arg(argc, argv, 4));
	} else if (!strcmp(m, "phased")) {
		long start = arg(argc, argv, 3), steady = arg(argc, argv, 4);
		char *p = touch(start);
		if (p && munmap(p, (size_t)start * MIB) < 0)
			die("munmap");
		touch(steady);
		return serve((int)arg(argc, argv, 2), 0);
	} else if (!strcmp(m, "phases")) {
		return phases(arg(argc, argv, 2), arg(argc, argv, 3));
	} else if (!strcmp(m, "marks")) {
		return marks(arg(argc, argv, 2), arg(argc, argv, 3));
	} else if (!strcmp(m, "drive")) {
		return drive((int)arg(argc, argv, 2), arg(argc, argv, 3), argc > 4 ? arg(argc, argv, 4) : 0,
			     argc > 5 ? arg(argc, argv, 5) : 0, argc > 6 ? arg(argc, argv, 6) : 0);
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
