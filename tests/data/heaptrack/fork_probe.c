/* What heaptrack does with a program that forks (tests/data/heaptrack/NOTES.md).
 *
 *     fork_probe [exec]
 *
 * The parent leaks 1 MiB (site: parent), forks; the child leaks 2 MiB (site:
 * child) and leaves with exit(0) (or, with "exec", execs /bin/true after
 * leaking); the parent waits for it, leaks 1 MiB more (site: after) and
 * exits 0. Build: cc -std=c11 -g -O1 -o fork_probe fork_probe.c
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static __attribute__((noinline)) void *leak(size_t n)
{
	void *p = malloc(n);
	if (p)
		memset(p, 1, n);
	return p;
}

int main(int argc, char **argv)
{
	int use_exec = argc > 1 && strcmp(argv[1], "exec") == 0;
	leak(1 << 20); /* site: parent */
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		leak(2 << 20); /* site: child */
		printf("child %d leaked 2 MiB\n", (int)getpid());
		fflush(stdout);
		if (use_exec) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	leak(1 << 20); /* site: after */
	printf("parent %d: child exit %d\n", (int)getpid(), WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
