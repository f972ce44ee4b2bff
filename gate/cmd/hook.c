/* hook: install memgate as a git pre-push hook, or remove it. The hook runs
 * `memgate run` on a config and blocks the push when a fixture fails, with
 * a short message that says how to skip it once (git push --no-verify). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "cmd/cmd.h"
#include "config.h"
#include "identity.h"
#include "outfile.h"

#define MARKER "# memgate-hook v1"

/* `git rev-parse --git-path hooks/pre-push`: honours core.hooksPath and worktrees. */
static int hook_path(char *path, size_t len)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* under sudo, git runs as the invoking user, like everything memgate starts */
		struct mg_identity id;
		char why[256];
		if (mg_identity_from_env(&id, why, sizeof why) < 0 || mg_identity_apply(&id) < 0)
			_exit(127);
		dup2(p[1], STDOUT_FILENO);
		execlp("git", "git", "rev-parse", "--git-path", "hooks/pre-push", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t got = 0;
	ssize_t n;
	while (got < len - 1 && (n = read(p[0], path + got, len - 1 - got)) > 0)
		got += (size_t)n;
	close(p[0]);
	path[got] = '\0';
	path[strcspn(path, "\n")] = '\0';
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !path[0])
		return -1;
	return 0;
}

/* 1: a hook memgate wrote; 0: someone else's; -1: none. */
static int ours(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[256];
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		found = strncmp(line, MARKER, strlen(MARKER)) == 0;
	fclose(f);
	return found;
}

/* Single-quote for sh: ' becomes '\'' */
static void sh_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

struct hook_text {
	const char *memgate, *config;
};

static int hook_body(FILE *f, void *ctx, char *err, size_t len)
{
	const struct hook_text *h = ctx;
	(void)err;
	(void)len;
	fprintf(f, "#!/bin/sh\n" MARKER "\n"
		   "# Installed by `memgate hook install`; remove with `memgate hook uninstall`.\n"
		   "# Runs the memory gate before every push and blocks the push when it fails.\n"
		   "MEMGATE=");
	sh_quote(f, h->memgate);
	fprintf(f, "\nCONFIG=");
	sh_quote(f, h->config);
	fprintf(f, "\n"
		   "\"$MEMGATE\" run -c \"$CONFIG\" </dev/null\n"
		   "status=$?\n"
		   "case $status in\n"
		   "0) exit 0 ;;\n"
		   "1) why=\"a fixture is over its memory limit or failed\" ;;\n"
		   "2) why=\"the config $CONFIG has an error\" ;;\n"
		   "3) why=\"memgate could not measure\" ;;\n"
		   "*) why=\"memgate was interrupted (exit $status)\" ;;\n"
		   "esac\n"
		   "echo >&2\n"
		   "echo \"memgate: push blocked: $why (see above).\" >&2\n"
		   "echo \"memgate: fix it and push again, or skip this check once: git push --no-verify\" >&2\n"
		   "exit 1\n");
	return ferror(f) ? -1 : 0;
}

/* Through the one writer (outfile.h), executable whatever was there. */
static int write_hook(const char *path, const char *memgate, const char *config, char *err, size_t len)
{
	struct hook_text h = {memgate, config};
	return mg_outfile_write(path, 0755, true, hook_body, &h, err, len);
}

static int install(const char *config, bool force)
{
	char path[PATH_MAX], memgate[PATH_MAX], cfg_abs[PATH_MAX], err[512];
	struct mg_config cfg = {0};
	if (mg_config_load_file(config, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n(not installing a hook that would block every push)\n", err);
		return EXIT_USAGE;
	}
	mg_config_free(&cfg);
	if (hook_path(path, sizeof path) < 0) {
		fprintf(stderr, "memgate: hook: not inside a git repository (git rev-parse failed)\n");
		return EXIT_USAGE;
	}
	int who = ours(path);
	if (who == 0 && !force) {
		fprintf(stderr, "memgate: %s exists and was not written by memgate; not overwriting it "
				"(use --force to replace it)\n", path);
		return EXIT_USAGE;
	}
	ssize_t n = readlink("/proc/self/exe", memgate, sizeof memgate - 1);
	if (n <= 0 || !realpath(config, cfg_abs)) {
		fprintf(stderr, "memgate: hook: cannot resolve %s: " MG_ERRNO_FMT "\n", n <= 0 ? "/proc/self/exe" : config,
			MG_ERRNO(errno));
		return EXIT_ERROR;
	}
	memgate[n] = '\0';
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		mkdir(dir, 0755); /* hooks/ may not exist (core.hooksPath); EEXIST is fine */
	}
	if (write_hook(path, memgate, cfg_abs, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		return EXIT_ERROR;
	}
	printf("memgate: installed %s (runs %s run -c %s before every push)\n", path, memgate, cfg_abs);
	return 0;
}

static int uninstall(void)
{
	char path[PATH_MAX];
	if (hook_path(path, sizeof path) < 0) {
		fprintf(stderr, "memgate: hook: not inside a git repository (git rev-parse failed)\n");
		return EXIT_USAGE;
	}
	int who = ours(path);
	if (who < 0) {
		printf("memgate: no pre-push hook installed\n");
		return 0;
	}
	if (who == 0) {
		fprintf(stderr, "memgate: %s was not written by memgate; leaving it alone\n", path);
		return EXIT_USAGE;
	}
	if (unlink(path) < 0) {
		fprintf(stderr, "memgate: cannot remove %s: %s (%s)\n", path, MG_ERRNO(errno));
		return EXIT_ERROR;
	}
	printf("memgate: removed %s\n", path);
	return 0;
}

int mg_cmd_hook(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	if (argc < 2 || (strcmp(argv[1], "install") && strcmp(argv[1], "uninstall")))
		return mg_usage_error("%s", "hook: expected \"hook install [-c FILE] [--force]\" or \"hook uninstall\"");
	bool is_install = !strcmp(argv[1], "install"), force = false;
	const char *config = "memgate.json";
	int c;
	/* options after the subcommand: parse argv[1..] as if it were the command line */
	argc--;
	argv++;
	mg_getopt_reset();
	while ((c = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'f')
			force = true;
		else if (c == 'h') {
			fputs(mg_usage_text, stdout);
			return 0;
		} else
			return mg_usage_error("%s", "hook: bad option");
	}
	if (optind < argc)
		return mg_usage_error("hook: unexpected argument \"%s\"", argv[optind]);
	return is_install ? install(config, force) : uninstall();
}
