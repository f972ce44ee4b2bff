#include "error.h"
#include "measure/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "identity.h"
#include "measure/kill.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* What the watchdog was given when it was forked. */
struct guard {
	const struct mg_cgroup *cg[MG_WATCHDOG_MAX_CGROUPS];
	size_t ncg;
	pid_t memgate;
	struct mg_proc_ids roots;       /* memgate's direct children it was told */
	struct mg_tmpdir dirs[MG_WATCHDOG_MAX_DIRS]; /* copies: their descriptors move in close_others */
	size_t ndirs;
};

/* Everything but the pipe (to fd 3), the temp dirs' descriptors (4 on)
 * and stderr (for its one message) is closed: it must hold nothing of
 * memgate's, least of all a write end of the pipe. */
static void close_others(struct guard *g, int pipe_fd)
{
	int *fds[1 + 2 * MG_WATCHDOG_MAX_DIRS], nfds = 0, pfd = pipe_fd;
	fds[nfds++] = &pfd;
	for (size_t i = 0; i < g->ndirs; i++) {
		fds[nfds++] = &g->dirs[i].fd;
		fds[nfds++] = &g->dirs[i].parent_fd;
	}
	/* out of the way first (above anything open), then into place */
	for (int i = 0; i < nfds; i++)
		if ((*fds[i] = fcntl(*fds[i], F_DUPFD, 64)) < 0)
			_exit(1);
	for (int i = 0; i < nfds; i++) {
		if (dup2(*fds[i], 3 + i) < 0)
			_exit(1);
		*fds[i] = 3 + i;
	}
	if (syscall(SYS_close_range, 3 + nfds, ~0U, 0) == 0)
		return;
	for (int fd = 3 + nfds; fd < 65536; fd++) /* before Linux 5.9 */
		close(fd);
}

/* A pid memgate told: believed only while memgate is its parent. */
static void add_root(struct guard *g, pid_t pid)
{
	struct mg_proc_id id;
	pid_t ppid;
	if (pid > 1 && mg_proc_id_read(pid, &id, &ppid) == 0 && ppid == g->memgate &&
	    !mg_pidset_has(&g->roots.seen, pid))
		mg_proc_ids_add(&g->roots, id); /* out of memory: one tree less, nothing wrong hit */
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The trees below the roots: freeze them until no new process appears
 * (a stopped process cannot fork), then kill them all. */
static size_t kill_trees(struct guard *g, struct mg_tree_reader *t)
{
	char err[256];
	size_t before;
	int rounds = 0;
	do {
		before = g->roots.n;
		mg_collect_tree(t, NULL, NULL, &g->roots, 0, err, sizeof err);
		mg_signal_ids(&g->roots, SIGSTOP);
	} while (g->roots.n != before && ++rounds < 1000);
	return mg_signal_ids(&g->roots, SIGKILL);
}

static void clean_up(struct guard *g)
{
	struct mg_tree_reader t;
	char err[512];
	mg_tree_reader_init(&t);
	size_t killed = kill_trees(g, &t);
	/* root for the cgroups only: the temp dirs below are the user's, and
	 * the fixture may have moved anything into them */
	mg_fs_root_begin();
	for (size_t i = 0; i < g->ncg; i++) {
		struct mg_cgroup cg = *g->cg[i];
		/* until it is empty: then it can be removed */
		for (int tries = 0; tries < 400; tries++) {
			struct mg_pidset left = {0};
			int rc = mg_cgroup_procs(&cg, &t, &left, err, sizeof err);
			size_t n = left.n;
			for (size_t k = 0; tries == 0 && k < left.n; k++)
				killed += !mg_pidset_has(&g->roots.seen, left.v[k]); /* not counted above */
			mg_pidset_free(&left);
			if (rc < 0 || n == 0)
				break;
			mg_cgroup_kill(&cg, &t, err, sizeof err);
			sleep_ms(5);
		}
		cg.dirfd = -1;
		if (mg_cgroup_destroy(&cg, err, sizeof err) < 0)
			fprintf(stderr, "memgate: watchdog: %s\n", err);
	}
	mg_fs_root_end();
	for (size_t i = 0; i < g->ndirs; i++)
		mg_tmpdir_remove(&g->dirs[i]);
	fprintf(stderr,
		"memgate: watchdog: memgate (pid %d) ended without cleaning up; killed %zu process(es) of its "
		"fixture%s%s\n",
		(int)g->memgate, killed, g->ncg ? " and removed its cgroup" : "", g->ndirs ? " and temp files" : "");
	mg_tree_reader_free(&t);
}

static void watchdog_main(struct guard *g, int fd)
{
	prctl(PR_SET_NAME, "memgate-watch");
	/* Ctrl-C, a hangup or a TERM to the process group is memgate's to
	 * handle: the watchdog outlives them and acts only on the pipe. */
	int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};
	for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
		signal(ignored[i], SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close_others(g, fd);
	for (;;) {
		int32_t pid;
		ssize_t n = read(3, &pid, sizeof pid);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == (ssize_t)sizeof pid && pid > 0) {
			add_root(g, pid);
			continue;
		}
		if (n == (ssize_t)sizeof pid && pid == 0)
			_exit(0); /* memgate ended normally and cleaned up itself */
		break;    /* EOF: memgate is gone */
	}
	clean_up(g);
	_exit(0);
}

int mg_watchdog_start(struct mg_watchdog *w, const struct mg_cgroup *const *cgs, size_t ncg,
		      const struct mg_tmpdir *const *dirs, size_t ndirs, char *err, size_t len)
{
	struct guard g = {.memgate = getpid()};
	for (size_t i = 0; i < ncg && g.ncg < MG_WATCHDOG_MAX_CGROUPS; i++)
		if (cgs[i] && cgs[i]->path[0])
			g.cg[g.ncg++] = cgs[i];
	for (size_t i = 0; i < ndirs && g.ndirs < MG_WATCHDOG_MAX_DIRS; i++)
		if (dirs[i] && dirs[i]->path[0])
			g.dirs[g.ndirs++] = *dirs[i];
	int p[2];
	w->pid = -1;
	w->fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, len, "watchdog: pipe: %s (%s)", MG_ERRNO(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, len, "watchdog: fork: %s (%s)", MG_ERRNO(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		watchdog_main(&g, p[0]);
	}
	close(p[0]);
	w->pid = pid;
	w->fd = p[1];
	return 0;
}

int mg_watchdog_watch(struct mg_watchdog *w, pid_t pid)
{
	int32_t v = (int32_t)pid;
	if (w->fd < 0)
		return -1;
	ssize_t n;
	do
		n = write(w->fd, &v, sizeof v);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof v ? 0 : -1;
}

bool mg_watchdog_is(const struct mg_watchdog *w, pid_t pid)
{
	return w->pid > 0 && pid == w->pid;
}

void mg_watchdog_stop(struct mg_watchdog *w)
{
	if (w->fd >= 0) {
		int32_t done = 0;
		ssize_t n;
		do
			n = write(w->fd, &done, sizeof done);
		while (n < 0 && errno == EINTR);
		close(w->fd);
		w->fd = -1;
	}
	if (w->pid > 0) {
		/* it exits at once on "done" (or on EOF, having found nothing) */
		while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
			;
		w->pid = -1;
	}
}
