/* memray: the command lines of a memray run and its stats, and what
 * memray's exit statuses mean (memray.h). Pure: no I/O. */
#include "heap/memray.h"
#include "heap/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

struct argv_buf {
	char **v;
	size_t n, cap;
	bool oom;
};

static void push(struct argv_buf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		char **nv = realloc(b->v, cap * sizeof *nv);
		if (!nv) {
			b->oom = true;
			return;
		}
		b->v = nv;
		b->cap = cap;
	}
	char *copy = strndup(s, len);
	if (!copy) {
		b->oom = true;
		return;
	}
	b->v[b->n++] = copy;
	b->v[b->n] = NULL;
}

static void push_s(struct argv_buf *b, const char *s)
{
	push(b, s, strlen(s));
}

static void free_argv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* The probe, run as PYTHON [OPTIONS] -c PROBE MODE TARGET: can this
 * interpreter import memray, and is the program there? Its status says
 * which, its one line of output why. */
enum { PROBE_NO_MEMRAY = 10, PROBE_NO_MODULE = 11, PROBE_NO_SCRIPT = 12, PROBE_NO_MEMRAY_VENV = 13 };
#define PROBE_CODE                                                                          \
	"import sys\n"                                                                      \
	"try:\n"                                                                            \
	"    import memray\n"                                                               \
	"except BaseException as e:\n"                                                      \
	"    print(e)\n"                                                                     \
	"    sys.exit(13 if sys.prefix != sys.base_prefix else 10)\n"                         \
	"mode, target = sys.argv[1], sys.argv[2]\n"                                         \
	"if mode == 'm':\n"                                                                 \
	"    import importlib.util\n"                                                       \
	"    try:\n"                                                                        \
	"        found = importlib.util.find_spec(target) is not None\n"                    \
	"    except BaseException as e:\n"                                                  \
	"        found = False\n"                                                           \
	"    if not found:\n"                                                               \
	"        print('No module named %s' % target); sys.exit(11)\n"                      \
	"elif mode == 's':\n"                                                               \
	"    import os\n"                                                                   \
	"    if not os.path.exists(target):\n"                                              \
	"        print('no such script: %s' % target); sys.exit(12)\n"

/* Python's options that take an argument (CPython 3.x getopt: "c:m:W:X:"). */
static bool takes_arg(char opt)
{
	return opt == 'c' || opt == 'm' || opt == 'W' || opt == 'X';
}

/* A Python command line, split: the interpreter and its options
 * (argv[0..opts_end)), the program (a script, -m MODULE or -c CODE, maybe
 * after flags clustered with it, as in "-um MODULE"), and its arguments
 * (argv[rest..argc)). */
struct py_command {
	size_t opts_end, rest;
	char mode;                  /* 'm', 'c' or 's' (script) */
	const char *target;         /* module, code or script */
	const char *cluster;        /* "-u" kept from a cluster like "-um", or NULL */
	size_t cluster_len;
};

static int split_python(char *const *argv, size_t argc, struct py_command *pc, char *err, size_t errlen)
{
	memset(pc, 0, sizeof *pc);
	size_t i = 1, opts_end = 1;
	char mode = 0;
	const char *target = NULL, *cluster = NULL;
	size_t cluster_len = 0;
	while (i < argc && !mode) {
		const char *a = argv[i];
		if (a[0] != '-') {
			mode = 's';
			opts_end = i;
			target = a;
			i++;
			break;
		}
		if (strcmp(a, "-") == 0) {
			snprintf(err, errlen, "memray: the program is read from stdin (\"-\"); memray needs a "
				 "script, -m MODULE or -c CODE");
			return -1;
		}
		if (strcmp(a, "--") == 0) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "memray: no script after \"--\"");
				return -1;
			}
			opts_end = i;
			mode = 's';
			target = argv[i + 1];
			i += 2;
			break;
		}
		if (a[1] == '-') { /* long options */
			if (strcmp(a, "--check-hash-based-pycs") == 0) {
				if (i + 1 >= argc) {
					snprintf(err, errlen, "memray: %s needs an argument", a);
					return -1;
				}
				i += 2;
				continue;
			}
			snprintf(err, errlen, "memray: interpreter option %s runs no program", a);
			return -1;
		}
		bool next_taken = false;
		for (size_t j = 1; a[j]; j++) {
			if (!takes_arg(a[j]))
				continue;
			const char *arg = a[j + 1] ? a + j + 1 : NULL;
			if (!arg) {
				if (i + 1 >= argc) {
					snprintf(err, errlen, "memray: option -%c needs an argument", a[j]);
					return -1;
				}
				arg = argv[i + 1];
				next_taken = true;
			}
			if (a[j] == 'c' || a[j] == 'm') {
				mode = a[j];
				opts_end = i;
				target = arg;
				if (j > 1) { /* flags before it in the same cluster */
					cluster = a;
					cluster_len = j;
				}
			}
			break; /* the rest of the cluster was the argument */
		}
		i += next_taken ? 2 : 1;
		if (!mode)
			opts_end = i;
	}
	if (!mode) {
		snprintf(err, errlen, "memray: no script, -m MODULE or -c CODE in the command");
		return -1;
	}

	*pc = (struct py_command){opts_end, i, mode, target, cluster, cluster_len};
	return 0;
}

int mg_memray_commands(char *const *argv, size_t argc, const struct mg_memray_opts *o,
		       struct mg_memray_cmds *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!argv || argc < 1 || !argv[0] || !*argv[0]) {
		snprintf(err, errlen, "memray: empty command (expected a Python interpreter and a script)");
		return -1;
	}
	if (!o || !o->capture || !*o->capture) {
		snprintf(err, errlen, "memray: a capture path is required");
		return -1;
	}
	if (o->aggregate) {
		snprintf(err, errlen, "memray: --aggregate captures cannot be summarised: `memray stats` fails on "
			 "them (NotImplementedError: Can't compute statistics using a pre-aggregated capture "
			 "file.); capture without --aggregate");
		return -1;
	}

	struct py_command pc;
	if (split_python(argv, argc, &pc, err, errlen) < 0)
		return -1;
	size_t i = pc.rest, opts_end = pc.opts_end;
	char mode = pc.mode;
	const char *target = pc.target, *cluster = pc.cluster;
	size_t target_len = strlen(pc.target), cluster_len = pc.cluster_len;

	struct argv_buf run = { 0 }, probe = { 0 };
	for (size_t k = 0; k < opts_end; k++) {
		push_s(&run, argv[k]);
		push_s(&probe, argv[k]);
	}
	if (cluster) {
		push(&run, cluster, cluster_len);
		push(&probe, cluster, cluster_len);
	}
	push_s(&probe, "-c");
	push_s(&probe, PROBE_CODE);
	push_s(&probe, mode == 'm' ? "m" : mode == 'c' ? "c" : "s");
	push(&probe, target, target_len);
	push_s(&run, "-m");
	push_s(&run, "memray");
	push_s(&run, "run");
	push_s(&run, "-q");
	push_s(&run, "-o");
	push_s(&run, o->capture);
	push_s(&run, "-f");
	if (o->native)
		push_s(&run, "--native");
	if (o->follow_fork)
		push_s(&run, "--follow-fork");
	if (o->trace_python_allocators)
		push_s(&run, "--trace-python-allocators");
	if (mode == 'm')
		push_s(&run, "-m");
	else if (mode == 'c')
		push_s(&run, "-c");
	else if (target[0] == '-')
		push_s(&run, "--"); /* a script whose name starts with "-" (after "--") */
	push(&run, target, target_len);
	for (; i < argc; i++)
		push_s(&run, argv[i]);

	if (run.oom || probe.oom) {
		free_argv(run.v);
		free_argv(probe.v);
		snprintf(err, errlen, "memray: out of memory");
		return -1;
	}
	out->run = run.v;
	out->nrun = run.n;
	out->probe = probe.v;
	return 0;
}

void mg_memray_cmds_free(struct mg_memray_cmds *c)
{
	if (!c)
		return;
	free_argv(c->run);
	free_argv(c->probe);
	memset(c, 0, sizeof *c);
}

enum mg_memray_probe mg_memray_interpret_probe(int wait_status)
{
	if (!WIFEXITED(wait_status))
		return MG_MEMRAY_PROBE_FAILED;
	switch (WEXITSTATUS(wait_status)) {
	case 0: return MG_MEMRAY_PROBE_OK;
	case PROBE_NO_MEMRAY: return MG_MEMRAY_PROBE_NO_MEMRAY;
	case PROBE_NO_MEMRAY_VENV: return MG_MEMRAY_PROBE_NO_MEMRAY_IN_VENV;
	case PROBE_NO_MODULE: return MG_MEMRAY_PROBE_NO_MODULE;
	case PROBE_NO_SCRIPT: return MG_MEMRAY_PROBE_NO_SCRIPT;
	default: return MG_MEMRAY_PROBE_FAILED;
	}
}

static char **tool_argv(const char *python, const char *cmd, const char *const *args)
{
	struct argv_buf b = { 0 };
	push_s(&b, python);
	push_s(&b, "-m");
	push_s(&b, "memray");
	push_s(&b, cmd);
	for (size_t i = 0; args[i]; i++)
		push_s(&b, args[i]);
	if (b.oom) {
		free_argv(b.v);
		return NULL;
	}
	return b.v;
}

char **mg_memray_csv_argv(const char *python, const char *capture, const char *out)
{
	return tool_argv(python, "transform", (const char *const[]){"csv", "-o", out, "-f", capture, NULL});
}

char **mg_memray_flamegraph_argv(const char *python, const char *capture, const char *out)
{
	return tool_argv(python, "flamegraph", (const char *const[]){"-o", out, "-f", capture, NULL});
}

void mg_memray_argv_free(char **argv)
{
	free_argv(argv);
}

int mg_memray_child_capture_pid(const char *name, const char *capture_base)
{
	size_t n = strlen(capture_base);
	if (strncmp(name, capture_base, n) != 0 || name[n] != '.' || !name[n + 1] || strlen(name + n + 1) > 9)
		return 0;
	int pid = 0;
	for (const char *p = name + n + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		pid = pid * 10 + (*p - '0');
	}
	return pid;
}

/* ---------------------------------------------------- memray exit status */

void mg_memray_interpret_run(int wait_status, bool capture_exists, struct mg_memray_outcome *out)
{
	memset(out, 0, sizeof *out);
	if (WIFSIGNALED(wait_status)) {
		out->end = MG_MEMRAY_PROGRAM_KILLED;
		out->signal = WTERMSIG(wait_status);
		out->capture_usable = capture_exists;
		return;
	}
	out->code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
	if (capture_exists && WIFEXITED(wait_status)) {
		out->end = MG_MEMRAY_PROGRAM_EXITED;
		out->capture_usable = true;
	} else {
		out->end = MG_MEMRAY_TOOL_FAILED;
	}
}

/* The last line of a tool's output that says something: not empty, not
 * one of memray's "Memray WARNING:" lines (printed on every run here). */
void mg_memray_last_line(const char *text, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = '\0';
	if (!text)
		return;
	const char *end = text + strlen(text);
	while (end > text) {
		while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
			end--;
		const char *start = end;
		while (start > text && start[-1] != '\n')
			start--;
		if (end > start && strncmp(start, "Memray WARNING:", 15) != 0) {
			mg_heap_copy_text(buf, len, start, (size_t)(end - start), false);
			return;
		}
		end = start;
	}
}

void mg_memray_describe(const struct mg_memray_outcome *o, const char *output, char *buf, size_t len)
{
	char line[200];
	switch (o->end) {
	case MG_MEMRAY_PROGRAM_EXITED:
		snprintf(buf, len, "program exited with status %d", o->code);
		break;
	case MG_MEMRAY_PROGRAM_KILLED:
		snprintf(buf, len, "program killed by signal %d (SIG%s)%s", o->signal,
			 sigabbrev_np(o->signal) ? sigabbrev_np(o->signal) : "?",
			 o->capture_usable ? "; the memray capture may be partial" : "; no memray capture");
		break;
	default:
		mg_memray_last_line(output, line, sizeof line);
		snprintf(buf, len, "memray failed (exit status %d) before running the program%s%s", o->code,
			 line[0] ? ": " : "; it printed nothing", line);
		break;
	}
}
