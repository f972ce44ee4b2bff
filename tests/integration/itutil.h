/* Helpers for integration tests: run the real memgate binary on real
 * processes (build/workload) and read its JSON report. */
#ifndef MG_ITUTIL_H
#define MG_ITUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define MiB (1024LL * 1024LL)

static inline const char *it_memgate_path(void)
{
	const char *p = getenv("MEMGATE");
	return p ? p : "build/memgate";
}

static inline const char *it_workload_path(void)
{
	const char *p = getenv("WORKLOAD");
	return p ? p : "build/workload";
}

struct it_run {
	int status;          /* memgate's exit status, or 128+signal */
	pid_t pid;           /* memgate's pid (cgroups are named after it) */
	json_t *report;      /* parsed --json output, or NULL */
	char err[32768];     /* memgate's stderr */
	char json_path[64];
	char err_path[64];
};

/* MG_IT_SLOW=N (1 when unset) scales the tests' sleeps, the durations they
 * give the workload and their upper bounds on wall time, for machines N times
 * slower than a normal host (tests/vm runs the suite under qemu's emulation).
 * With N=1 every figure is the one written in the test. */
static inline long it_slow(void)
{
	const char *s = getenv("MG_IT_SLOW");
	if (!s || !*s)
		return 1;
	char *end;
	long n = strtol(s, &end, 10);
	if (*end || n < 1 || n > 100) {
		fprintf(stderr, "MG_IT_SLOW=%s: expected an integer from 1 to 100\n", s);
		exit(2);
	}
	return n;
}

/* ms scaled by MG_IT_SLOW */
static inline long it_ms(long ms)
{
	return ms * it_slow();
}

/* it_ms(ms) as a decimal string in buf, for a workload argument */
static inline const char *it_ms_arg(char *buf, size_t len, long ms)
{
	snprintf(buf, len, "%ld", it_ms(ms));
	return buf;
}

static inline void it_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Start memgate with argv (NULL-terminated, without the program name). Its
 * stdout goes to /dev/null, stderr to a file read by it_wait. */
static inline void it_start(struct it_run *r, const char *const *args)
{
	memset(r, 0, sizeof *r);
	snprintf(r->json_path, sizeof r->json_path, "/tmp/memgate-it-%d-XXXXXX", (int)getpid());
	int jfd = mkstemp(r->json_path);
	assert_true(jfd >= 0);
	close(jfd);
	unlink(r->json_path); /* memgate must create it */
	snprintf(r->err_path, sizeof r->err_path, "/tmp/memgate-it-err-%d-XXXXXX", (int)getpid());
	int efd = mkstemp(r->err_path);
	assert_true(efd >= 0);
	const char *argv[64];
	size_t n = 0;
	argv[n++] = it_memgate_path();
	argv[n++] = args[0]; /* the subcommand, then --json before the rest */
	if (!strcmp(args[0], "measure") || !strcmp(args[0], "run")) {
		argv[n++] = "--json";
		argv[n++] = r->json_path;
	}
	for (size_t i = 1; args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(efd);
	r->pid = pid;
}

static inline void it_wait(struct it_run *r)
{
	int st;
	assert_int_equal(waitpid(r->pid, &st, 0), r->pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	FILE *f = fopen(r->err_path, "r");
	if (f) {
		size_t n = fread(r->err, 1, sizeof r->err - 1, f);
		r->err[n] = '\0';
		fclose(f);
	}
	unlink(r->err_path);
	json_error_t je;
	r->report = json_load_file(r->json_path, 0, &je);
	unlink(r->json_path);
}

/* it_wait, but at most ms: past it memgate is SIGKILLed (its watchdog
 * cleans up) and false is returned, so a hang fails the test instead of
 * stalling the suite. */
static inline bool it_wait_at_most(struct it_run *r, long ms)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)r->pid);
	bool ended = false;
	for (long waited = 0; !ended && waited < ms; waited += 10) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = '\0';
		const char *p = strrchr(buf, ')');
		ended = !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X'; /* exited, not yet reaped */
		if (!ended) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	if (!ended)
		kill(r->pid, SIGKILL);
	it_wait(r);
	return ended;
}

/* The one config file a test process writes (/tmp/memgate-it-cfg-PID.json). */
static inline const char *it_cfg_path(void)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof path, "/tmp/memgate-it-cfg-%d.json", (int)getpid());
	return path;
}

/* Write it from a printf format; returns its path. */
static inline const char *it_config(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *it_config(const char *fmt, ...)
{
	FILE *f = fopen(it_cfg_path(), "w");
	assert_non_null(f);
	va_list ap;
	va_start(ap, fmt);
	assert_true(vfprintf(f, fmt, ap) >= 0);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
	return it_cfg_path();
}

/* A group teardown that removes it. */
static inline int it_config_cleanup(void **state)
{
	(void)state;
	unlink(it_cfg_path());
	return 0;
}

static inline void it_memgate(struct it_run *r, const char *const *args)
{
	it_start(r, args);
	it_wait(r);
}

static inline void it_free(struct it_run *r)
{
	json_decref(r->report);
	r->report = NULL;
}

/* Walk "a.b.0.c" through objects and arrays; fails the test when missing. */
static inline json_t *it_get(json_t *root, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	json_t *cur = root;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(cur))
			cur = json_array_get(cur, (size_t)strtoul(tok, NULL, 10));
		else
			cur = json_object_get(cur, tok);
		if (!cur)
			fail_msg("report has no %s", path);
	}
	return cur;
}

/* Integer at path; -1 for JSON null. */
static inline long long it_int(json_t *root, const char *path)
{
	json_t *v = it_get(root, path);
	if (json_is_null(v))
		return -1;
	if (!json_is_integer(v))
		fail_msg("%s is not an integer", path);
	return json_integer_value(v);
}

static inline const char *it_str(json_t *root, const char *path)
{
	json_t *v = it_get(root, path);
	if (!json_is_string(v))
		fail_msg("%s is not a string", path);
	return json_string_value(v);
}

static inline bool it_bool(json_t *root, const char *path)
{
	json_t *v = it_get(root, path);
	if (!json_is_boolean(v))
		fail_msg("%s is not a boolean", path);
	return json_is_true(v);
}

#define assert_between(v, lo, hi)                                                              \
	do {                                                                                   \
		long long v_ = (v), lo_ = (lo), hi_ = (hi);                                    \
		if (v_ < lo_ || v_ > hi_)                                                      \
			fail_msg("%s = %lld (%.2f MiB), expected [%lld, %lld] ([%.2f, %.2f] MiB)", \
				 #v, v_, v_ / 1048576.0, lo_, hi_, lo_ / 1048576.0, hi_ / 1048576.0); \
	} while (0)

#define assert_contains(haystack, needle)                                              \
	do {                                                                           \
		const char *h_ = (haystack), *n_ = (needle);                           \
		if (!h_ || !strstr(h_, n_))                                            \
			fail_msg("expected \"%s\" in \"%s\"", n_, h_ ? h_ : "(null)"); \
	} while (0)

/* The cgroup this test process (and so memgate) lives in: v1 memory
 * hierarchy or v2 unified one. Paths as mounted on the usual places. */
static inline bool it_cgroup_dir(bool v2, char *dir, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return false;
	char line[1024];
	bool ok = false;
	while (fgets(line, sizeof line, f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		c2[strcspn(c2, "\n")] = '\0';
		const char *rel = strcmp(c2 + 1, "/") ? c2 + 1 : "";
		if (!v2 && strncmp(c1 + 1, "memory:", 7) == 0) {
			snprintf(dir, len, "/sys/fs/cgroup/memory%s", rel);
			ok = true;
		} else if (v2 && strncmp(line, "0::", 3) == 0) {
			/* hybrid hosts mount v2 at /sys/fs/cgroup/unified */
			const char *mnt = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0
						  ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
			snprintf(dir, len, "%s%s", mnt, rel);
			ok = true;
		}
	}
	fclose(f);
	return ok;
}

static inline bool it_v1_dir(char *dir, size_t len)
{
	return it_cgroup_dir(false, dir, len);
}

/* Can this host give memgate a cgroup v1 memory controller to measure with? */
static inline bool it_have_v1(void)
{
	char dir[PATH_MAX], probe[PATH_MAX + 32];
	if (geteuid() != 0 || !it_v1_dir(dir, sizeof dir))
		return false;
	snprintf(probe, sizeof probe, "%s/memory.max_usage_in_bytes", dir);
	return access(probe, R_OK) == 0 && access(dir, W_OK) == 0;
}

/* cgroup v2 with the memory controller available to our cgroup? */
static inline bool it_have_v2(void)
{
	char dir[PATH_MAX], probe[PATH_MAX + 32], line[512] = "";
	if (!it_cgroup_dir(true, dir, sizeof dir))
		return false;
	snprintf(probe, sizeof probe, "%s/cgroup.controllers", dir);
	FILE *f = fopen(probe, "r");
	if (!f)
		return false;
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	return strstr(line, "memory") != NULL && access(dir, W_OK) == 0;
}

/* No cgroup directory of this memgate run may be left behind (v1 or v2). */
static inline void it_assert_no_cgroup_left(pid_t memgate_pid)
{
	for (int v2 = 0; v2 < 2; v2++) {
		char dir[PATH_MAX], pattern[PATH_MAX + 64];
		if (!it_cgroup_dir(v2, dir, sizeof dir))
			continue;
		snprintf(pattern, sizeof pattern, "%s/memgate-%d-*", dir, (int)memgate_pid);
		glob_t g;
		int rc = glob(pattern, 0, NULL, &g);
		if (rc == 0 && g.gl_pathc)
			fail_msg("cgroup left behind: %s", g.gl_pathv[0]);
		if (rc == 0)
			globfree(&g);
	}
}

static inline bool it_pid_alive(pid_t pid)
{
	if (kill(pid, 0) == 0) {
		/* a zombie is not alive; our tests never parent these */
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (!f)
			return false;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = '\0';
		fclose(f);
		char *p = strrchr(buf, ')');
		return !(p && p[1] == ' ' && p[2] == 'Z');
	}
	return errno != ESRCH;
}

/* Can uid read (and, for a directory, enter) path? As root, from a child
 * that becomes uid: a tree in a directory only root may enter cannot run
 * a fixture as another user. */
static inline bool it_uid_can_reach(uid_t uid, const char *path)
{
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0)
		_exit(setgid(uid) == 0 && setuid(uid) == 0 && access(path, R_OK) == 0 ? 0 : 1);
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Skip this test and say why: tests/run-suite counts skips and prints
 * their reasons; a skip is never counted as a pass. */
#define skip_because(...)                                      \
	do {                                                   \
		printf("  skipped: " __VA_ARGS__);             \
		printf("\n");                                  \
		fflush(stdout);                                \
		skip();                                        \
	} while (0)

/* make check runs offline (MG_TEST_OFFLINE=1): what cannot be installed
 * there is a skip with its reason; anywhere else it is a failure. */
static inline bool it_offline(void)
{
	const char *off = getenv("MG_TEST_OFFLINE");
	return off && *off && strcmp(off, "0") != 0;
}

/* The venv's python, with the real memray (tests/venv makes build/venv once
 * per machine from tests/requirements.txt and prints its python). Cannot be
 * had: the test fails with tests/venv's own words (the exact command to
 * run), or, offline, is skipped saying so. Never a silent skip. */
static inline void it_venv_python(char *py, size_t len)
{
	char log[64], cmd[160];
	snprintf(log, sizeof log, "/tmp/memgate-it-venv-%d.log", (int)getpid());
	snprintf(cmd, sizeof cmd, "tests/venv 2>%s", log);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	py[0] = '\0';
	if (!fgets(py, (int)len, p))
		py[0] = '\0';
	int st = pclose(p);
	py[strcspn(py, "\n")] = '\0';
	char why[4096] = "";
	FILE *f = fopen(log, "r");
	if (f) {
		size_t n = fread(why, 1, sizeof why - 1, f);
		why[n] = '\0';
		fclose(f);
	}
	unlink(log);
	if (st == 0 && py[0] == '/' && access(py, X_OK) == 0)
		return;
	if (it_offline())
		skip_because("offline, and build/venv with memray==1.20.0 is not made: run tests/venv once online");
	fail_msg("this test needs the real memray, and tests/venv could not provide it:\n%s", why);
}

/* heaptrack and heaptrack_print on PATH, or the test fails with the install
 * command (offline: skipped, saying so). */
static inline void it_need_heaptrack(void)
{
	if (system("heaptrack --version >/dev/null 2>&1 && heaptrack_print --version >/dev/null 2>&1") == 0)
		return;
	if (it_offline())
		skip_because("offline, and heaptrack is not installed: run apt-get install -y heaptrack once online");
	fail_msg("this test needs heaptrack 1.4, which is not installed: run: %sapt-get install -y heaptrack "
		 "(tests/install-deps does it)", geteuid() == 0 ? "" : "sudo ");
}

/* The line number of the first line of path holding marker; fails the test
 * when there is none (tests find lines by markers, never by numbers). */
static inline int it_marker_line(const char *path, const char *marker)
{
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	char line[512];
	for (int n = 1; fgets(line, sizeof line, f); n++)
		if (strstr(line, marker)) {
			fclose(f);
			return n;
		}
	fclose(f);
	fail_msg("no \"%s\" marker in %s", marker, path);
	return 0;
}

#endif
