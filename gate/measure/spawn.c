#include "error.h"
#include "measure/spawn.h"
#include "units.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define NOT_FOUND ": command not found"

bool mg_spawn_not_found(const char *err)
{
	return err && strstr(err, NOT_FOUND " (check the command and PATH)") != NULL;
}

/* What the child reports through a close-on-exec pipe when it cannot exec. */
enum child_stage { STAGE_HOLD = 1, STAGE_IDENTITY, STAGE_STDIN, STAGE_OUTPUT, STAGE_CWD, STAGE_ENV, STAGE_EXEC,
		   STAGE_PARENT };
struct child_failure {
	int stage;
	int err;
};

struct mg_clone_args { /* struct clone_args of <linux/sched.h>, CLONE_ARGS_SIZE_VER2 */
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/* Start the child already inside the cgroup: no early allocation escapes. */
static pid_t clone_into_cgroup(int cgfd)
{
#ifdef SYS_clone3
	struct mg_clone_args a;
	memset(&a, 0, sizeof a);
	a.flags = CLONE_INTO_CGROUP;
	a.exit_signal = SIGCHLD;
	a.cgroup = (uint64_t)cgfd;
	return (pid_t)syscall(SYS_clone3, &a, sizeof a);
#else
	(void)cgfd;
	errno = ENOSYS;
	return -1;
#endif
}

static void child_fail(int fd, int stage, int err)
{
	struct child_failure cf = {stage, err};
	ssize_t w = write(fd, &cf, sizeof cf);
	(void)w; /* nothing more a failing child can do */
	_exit(127);
}

/* memgate's own credentials go; then the fixture's env may set any of them */
static void strip_env(int status_fd)
{
	static const char *const names[] = MG_STRIPPED_ENV;
	for (size_t i = 0; names[i]; i++)
		if (unsetenv(names[i]) != 0)
			child_fail(status_fd, STAGE_ENV, errno);
}

static void put_env(char *const *env, int status_fd)
{
	for (size_t i = 0; env && env[i]; i++)
		if (putenv(env[i]) != 0) /* the strings outlive the child's exec */
			child_fail(status_fd, STAGE_ENV, errno);
}

/* In the child, between fork and exec: wait until the parent has placed us
 * in the cgroup, become the right user, set up stdio, cwd and env, exec. */
static void child_main(const struct mg_spawn *sp, pid_t parent, int hold_fd, int status_fd, const int out[2],
		       const int errp[2])
{
	/* memgate's end of the watchdog's pipe is close-on-exec, but until exec
	 * (which a FIFO as stdin can hold off) this copy would keep the pipe
	 * open after memgate died, and the watchdog would never act */
	if (sp->watchdog && sp->watchdog->fd >= 0)
		close(sp->watchdog->fd);
	sigprocmask(SIG_SETMASK, sp->child_mask, NULL);
	char go;
	ssize_t n;
	do
		n = read(hold_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		child_fail(status_fd, STAGE_HOLD, n < 0 ? errno : EPIPE);
	/* Drop root first: stdin and cwd are then opened as the user would. */
	if (sp->run_as && mg_identity_apply(sp->run_as) < 0)
		child_fail(status_fd, STAGE_IDENTITY, errno);
	/* after the uid change, which clears it */
	if (sp->die_with_memgate && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent))
		child_fail(status_fd, STAGE_PARENT, errno);
	if (sp->stdin_mode != MG_STDIN_INHERIT) {
		/* a FIFO waits here for its writer: the fixture's timeout bounds
		 * the start (run.c), so one nobody writes is an error, not a hang */
		const char *in = sp->stdin_mode == MG_STDIN_FILE ? sp->stdin_path : "/dev/null";
		int fd = open(in, O_RDONLY);
		if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
			child_fail(status_fd, STAGE_STDIN, errno);
		if (fd != STDIN_FILENO)
			close(fd);
	}
	/* dup2 clears close-on-exec on the new descriptors */
	if (sp->capture && (dup2(out[1], STDOUT_FILENO) < 0 || dup2(errp[1], STDERR_FILENO) < 0))
		child_fail(status_fd, STAGE_OUTPUT, errno);
	if (!sp->capture && sp->output_path) {
		/* the tools' logs are in a directory the measured program can
		 * write to: a FIFO it put there would block this open (and memgate,
		 * waiting for this child) for ever; O_NONBLOCK makes it ENXIO */
		int fd = open(sp->output_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0)
			child_fail(status_fd, STAGE_OUTPUT, errno);
		if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
			child_fail(status_fd, STAGE_OUTPUT, ESPIPE);
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
		    dup2(fd, STDERR_FILENO) < 0)
			child_fail(status_fd, STAGE_OUTPUT, errno);
		close(fd);
	}
	if (sp->cwd && chdir(sp->cwd) < 0)
		child_fail(status_fd, STAGE_CWD, errno);
	strip_env(status_fd);
	put_env(sp->env, status_fd);
	put_env(sp->extra_env, status_fd);
	execvp(sp->argv[0], sp->argv);
	child_fail(status_fd, STAGE_EXEC, errno);
}

static void describe(const struct mg_spawn *sp, struct child_failure cf, char *err, size_t len)
{
	const char *w = sp->what ? sp->what : "command";
	switch (cf.stage) {
	case STAGE_EXEC:
		if (cf.err == ENOENT)
			snprintf(err, len, "cannot execute %s \"%s\"" NOT_FOUND " (check the command and PATH)", w,
				 sp->argv[0]);
		else if (cf.err == EACCES)
			snprintf(err, len, "cannot execute %s \"%s\": permission denied (is it executable?)", w,
				 sp->argv[0]);
		else
			snprintf(err, len, "cannot execute %s \"%s\": " MG_ERRNO_FMT, w, sp->argv[0], MG_ERRNO(cf.err));
		break;
	case STAGE_IDENTITY:
		snprintf(err, len, "cannot switch to uid %d (from SUDO_UID) for the %s: %s (%s)",
			 sp->run_as ? (int)sp->run_as->uid : -1, w, MG_ERRNO(cf.err));
		break;
	case STAGE_CWD:
		snprintf(err, len, "cannot change to cwd \"%s\" for the %s: %s (%s)", sp->cwd, w, MG_ERRNO(cf.err));
		break;
	case STAGE_OUTPUT:
		snprintf(err, len, "cannot set up the output of the %s%s%s: " MG_ERRNO_FMT, w,
			 sp->output_path ? " into " : "", sp->output_path ? sp->output_path : "", MG_ERRNO(cf.err));
		break;
	case STAGE_STDIN:
		snprintf(err, len, "cannot open stdin \"%s\" for the %s: " MG_ERRNO_FMT,
			 sp->stdin_mode == MG_STDIN_FILE ? sp->stdin_path : "/dev/null", w, MG_ERRNO(cf.err));
		break;
	default:
		snprintf(err, len, "%s setup failed (stage %d): %s (%s)", w, cf.stage, MG_ERRNO(cf.err));
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mg_pending_interrupt(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	sigset_t pend;
	if (sigpending(&pend) < 0)
		return 0;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigismember(&pend, sigs[i]) == 1)
			return sigs[i];
	return 0;
}

#define START_CHECK_MS 50 /* how often a blocked start looks for an interrupt */

/* Until the child has exec'ed or failed (fd, its close-on-exec status pipe,
 * is readable), within sp->start_timeout_ms, and while memgate is not
 * interrupted (the signal stays pending for the supervisor). Otherwise the
 * child, still ours and not reaped (its pid cannot be reused), is killed:
 * 0, or -1 with err. */
static int wait_for_exec(const struct mg_spawn *sp, pid_t pid, int fd, char *err, size_t len)
{
	if (sp->start_timeout_ms <= 0)
		return 0;
	int64_t deadline = mg_deadline_ms(now_ms(), sp->start_timeout_ms);
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd p = {fd, POLLIN, 0};
		int sig = 0, rc = left > 0 ? poll(&p, 1, left > START_CHECK_MS ? START_CHECK_MS : (int)left) : 0;
		if (rc > 0)
			return 0;
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0 && left > START_CHECK_MS && !(sig = mg_pending_interrupt()))
			continue;
		if (sig) {
			snprintf(err, len, "interrupted by SIG%s before the %s started (it was blocked before exec%s%s%s)",
				 sigabbrev_np(sig), sp->what ? sp->what : "command",
				 sp->stdin_mode == MG_STDIN_FILE ? ", opening stdin \"" : "",
				 sp->stdin_mode == MG_STDIN_FILE ? sp->stdin_path : "",
				 sp->stdin_mode == MG_STDIN_FILE ? "\"" : "");
		} else if (rc < 0) {
			snprintf(err, len, "cannot learn whether the %s started: poll: " MG_ERRNO_FMT,
				 sp->what ? sp->what : "command", MG_ERRNO(errno));
		} else {
			char d[32];
			mg_format_duration(sp->start_timeout_ms, d, sizeof d);
			snprintf(err, len, "the %s did not start within %s (its timeout): it was still being set up, "
				 "blocked before exec%s%s%s", sp->what ? sp->what : "command", d,
				 sp->stdin_mode == MG_STDIN_FILE ? " (opening stdin \"" : "",
				 sp->stdin_mode == MG_STDIN_FILE ? sp->stdin_path : "",
				 sp->stdin_mode == MG_STDIN_FILE ? "\": a FIFO that nobody writes?)" : "");
		}
		if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
			snprintf(err, len, "cannot stop the %s, blocked before exec: " MG_ERRNO_FMT,
				 sp->what ? sp->what : "command", MG_ERRNO(errno));
		return -1;
	}
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

int mg_spawn(const struct mg_spawn *sp, struct mg_spawned *out, char *err, size_t len)
{
	int hold[2] = {-1, -1}, status[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1};
	out->pid = -1;
	out->out_fd = out->err_fd = -1;
	if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0 ||
	    (sp->capture && (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0))) {
		snprintf(err, len, "pipe: %s (%s)", MG_ERRNO(errno));
		close_pair(hold), close_pair(status), close_pair(o), close_pair(e);
		return -1;
	}
	bool in_cgroup = false;
	pid_t pid = -1, parent = getpid();
	if (sp->cg && sp->cg->kind == MG_METHOD_CGROUP_V2) {
		/* entering the cgroup is checked against root's file rights */
		mg_fs_root_begin();
		pid = clone_into_cgroup(sp->cg->dirfd);
		if (pid != 0)
			mg_fs_root_end();
		in_cgroup = pid >= 0; /* old kernels (< 5.7): fork and move it below */
	}
	if (pid < 0)
		pid = fork();
	if (pid == 0) {
		close(hold[1]);
		close(status[0]);
		child_main(sp, parent, hold[0], status[1], o, e);
	}
	int fork_errno = errno;
	close(hold[0]);
	close(status[1]);
	if (sp->capture) { /* the child's ends */
		close(o[1]);
		close(e[1]);
		out->out_fd = o[0];
		out->err_fd = e[0];
	}
	if (pid < 0) {
		close(hold[1]);
		close(status[0]);
		snprintf(err, len, "fork: %s (%s)", MG_ERRNO(fork_errno));
		return -1;
	}
	out->pid = pid;
	/* Ours become non-blocking for poll (the child's ends stay blocking). */
	if (sp->capture && (fcntl(o[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(e[0], F_SETFL, O_NONBLOCK) < 0)) {
		snprintf(err, len, "fcntl(O_NONBLOCK): %s (%s)", MG_ERRNO(errno));
		close(hold[1]); /* the child sees EOF and exits without exec */
		close(status[0]);
		return -1;
	}
	if (sp->cg && !in_cgroup && mg_cgroup_attach(sp->cg, pid, err, len) < 0) {
		close(hold[1]); /* the child sees EOF and exits without exec */
		close(status[0]);
		return -1;
	}
	/* before it may exec: should memgate die from here on, the watchdog
	 * knows what to kill */
	if (sp->watchdog && mg_watchdog_watch(sp->watchdog, pid) < 0) {
		snprintf(err, len, "the watchdog is gone: not starting the %s unguarded",
			 sp->what ? sp->what : "command");
		close(hold[1]);
		close(status[0]);
		return -1;
	}
	ssize_t n;
	do
		n = write(hold[1], "g", 1);
	while (n < 0 && errno == EINTR);
	close(hold[1]);
	struct child_failure cf;
	if (wait_for_exec(sp, pid, status[0], err, len) < 0) {
		close(status[0]);
		return -1;
	}
	do
		n = read(status[0], &cf, sizeof cf);
	while (n < 0 && errno == EINTR);
	close(status[0]);
	if (n == (ssize_t)sizeof cf) {
		describe(sp, cf, err, len);
		return -1;
	}
	if (n != 0) {
		if (n < 0)
			snprintf(err, len, "cannot learn whether the %s started: " MG_ERRNO_FMT,
				 sp->what ? sp->what : "command", MG_ERRNO(errno));
		else
			snprintf(err, len, "cannot learn whether the %s started: a short read", sp->what ? sp->what : "command");
		return -1;
	}
	return 0;
}
