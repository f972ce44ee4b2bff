/* mark: a phase boundary from a shell script, exactly where it is written.
 *
 *   memgate mark NAME        start phase NAME (ends the one before)
 *   memgate mark --end       end the running phase
 *   --pid N                  scope the phase to process N and its descendants
 *
 * Run by a program that memgate measures: it sends the mark to
 * $MEMGATE_MARK_SYNC and waits (a second at most) for memgate's answer, so
 * what follows is in the new phase (measure/phases.h). Without memgate it
 * does nothing, and it never fails the program: exit 0 whatever happens,
 * a warning on stderr when memgate did not answer. */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "error.h"

/* One datagram to path and memgate's answer. 0, or -1 with err. */
static int send_mark(const char *path, const char *line, char *err, size_t len)
{
	struct sockaddr_un to = {.sun_family = AF_UNIX}, me = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof to.sun_path) {
		snprintf(err, len, "MEMGATE_MARK_SYNC=%s: too long for a unix socket path", path);
		return -1;
	}
	memcpy(to.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, len, "socket: " MG_ERRNO_FMT, MG_ERRNO(errno));
		return -1;
	}
	struct timeval tv = {1, 0};
	char ok[8];
	int rc = -1;
	/* bound with no path: the kernel picks an address memgate answers to */
	if (bind(fd, (struct sockaddr *)&me, sizeof(sa_family_t)) < 0)
		snprintf(err, len, "bind: " MG_ERRNO_FMT, MG_ERRNO(errno));
	else if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
		snprintf(err, len, "setsockopt: " MG_ERRNO_FMT, MG_ERRNO(errno));
	else if (sendto(fd, line, strlen(line), 0, (struct sockaddr *)&to, sizeof to) < 0)
		snprintf(err, len, "%s: " MG_ERRNO_FMT, path, MG_ERRNO(errno));
	else if (recv(fd, ok, sizeof ok, 0) < 0)
		snprintf(err, len, "%s: no answer from memgate: " MG_ERRNO_FMT, path, MG_ERRNO(errno));
	else
		rc = 0;
	close(fd);
	return rc;
}

int mg_cmd_mark(int argc, char **argv)
{
	static const struct option opts[] = {
		{"end", no_argument, NULL, 'e'},
		{"pid", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	bool end = false;
	long pid = 0;
	int c;
	mg_getopt_reset();
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			end = true;
			break;
		case 'p': {
			char *e;
			errno = 0;
			pid = strtol(optarg, &e, 10);
			if (errno || *e || pid < 2 || pid > 4194304)
				return mg_usage_error("mark: --pid %s: expected a process id", optarg);
			break;
		}
		case 'h':
			fputs("usage: memgate mark NAME | memgate mark --end   [--pid N]\n", stdout);
			return 0;
		default:
			return mg_usage_error("mark: bad option");
		}
	}
	if (end == (optind < argc) || argc - optind > 1)
		return mg_usage_error("mark: give one phase NAME, or --end");
	const char *name = end ? NULL : argv[optind];
	if (name && (!*name || strpbrk(name, "\n\r")))
		return mg_usage_error("mark: a phase name is one non-empty line");
	char line[1024];
	int n = snprintf(line, sizeof line, "%s%s%s", name ? "phase " : "end", name ? name : "", "");
	if (n < 0 || (size_t)n >= sizeof line - 24)
		return mg_usage_error("mark: the phase name is too long (memgate keeps 200 bytes of it)");
	if (pid)
		snprintf(line + n, sizeof line - (size_t)n, " pid=%ld\n", pid);
	else
		snprintf(line + n, sizeof line - (size_t)n, "\n");
	const char *sync = getenv("MEMGATE_MARK_SYNC");
	if (!sync || !*sync)
		return 0; /* not under memgate: a mark means nothing */
	char err[PATH_MAX + 128];
	if (send_mark(sync, line, err, sizeof err) < 0)
		fprintf(stderr, "memgate mark: %s (the program goes on; the phase boundary may be late)\n", err);
	return 0;
}
