/* doctor: what memgate will measure on this machine, before any run, and
 * the one-line fix for each "no": the kernel, cgroup v2 and v1 (mounted,
 * memgate's own cgroup, a child cgroup tried and removed), which backend
 * `auto` picks and whether its peak is exact, root and sudo (and whom the
 * fixtures run as), the heap tools, and what posting would use (names of
 * variables only, never a value). Exit 0 when exact measurement is
 * available, 1 when only /proc sampling is, 2 for a usage error. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "error.h"
#include "heap/tracemalloc.h"
#include "identity.h"
#include "measure/cgroup.h"
#include "measure/tool.h"
#include "outfile.h"

#define TOOL_TIMEOUT_MS 20000

struct check {
	const char *name;
	bool ok;
	char detail[640];
	char fix[320];
};

struct doctor {
	struct check checks[16];
	size_t n;
	enum mg_method backend;         /* what `auto` picks */
	bool exact;
	struct mg_identity as;          /* whom fixtures run as */
	char tmp[64];                   /* a private dir for the tools' output */
};

static struct check *add(struct doctor *d, const char *name, bool ok, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static struct check *add(struct doctor *d, const char *name, bool ok, const char *fix, const char *fmt, ...)
{
	struct check *c = &d->checks[d->n < 15 ? d->n++ : 15];
	c->name = name;
	c->ok = ok;
	snprintf(c->fix, sizeof c->fix, "%s", fix ? fix : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof c->detail, fmt, ap);
	va_end(ap);
	return c;
}

/* Try one cgroup kind the way a run would: make a child, read its peak,
 * remove it. 1 exact, 0 usable but without a peak file, -1 not usable. */
static int try_cgroup(struct doctor *d, enum mg_method kind)
{
	const char *label = kind == MG_METHOD_CGROUP_V2 ? "cgroup v2" : "cgroup v1";
	char mnt[PATH_MAX], own[PATH_MAX], reason[512], err[512];
	if (mg_cgroup_locate(kind, mnt, sizeof mnt, own, sizeof own, reason, sizeof reason) < 0) {
		add(d, label, false,
		    kind == MG_METHOD_CGROUP_V2 ? "boot with the unified hierarchy (systemd.unified_cgroup_hierarchy=1), or "
						  "use cgroup v1 if it is mounted"
						: "nothing to do if cgroup v2 works; else mount the v1 memory controller",
		    "%s", reason);
		return -1;
	}
	struct mg_cgroup cg;
	if (mg_cgroup_create(kind, NULL, &cg, reason, sizeof reason) < 0) {
		add(d, label, false,
		    "run through sudo, or pass --cgroup-root a cgroup you may write (e.g. systemd-run --user -p "
		    "Delegate=yes --scope memgate ...)",
		    "mounted at %s; memgate's cgroup %s; cannot make a child cgroup: %s", mnt, own, reason);
		return -1;
	}
	int64_t peak = 0;
	int rc = mg_cgroup_peak(&cg, &peak, err, sizeof err);
	char where[PATH_MAX];
	snprintf(where, sizeof where, "%s", cg.path);
	if (mg_cgroup_destroy(&cg, err, sizeof err) < 0)
		add(d, label, false, "remove it by hand (rmdir)", "the test cgroup %s could not be removed: %s", where, err);
	else if (rc == 0)
		add(d, label, true, NULL, "mounted at %s; a child cgroup can be made under %s (tried and removed); "
					   "its peak is exact", mnt, own);
	else
		add(d, label, false, "a kernel >= 5.19 has memory.peak",
		    "mounted at %s; a child cgroup can be made, but the kernel has no peak file (%s): sampled only", mnt,
		    rc == 1 ? "memory.peak, Linux < 5.19" : err);
	return rc == 0 ? 1 : 0;
}

/* The first line of a tool's output, as the fixtures' user. -1 when it
 * did not run or failed. */
static int tool_line(struct doctor *d, char *const *argv, char *line, size_t len)
{
	char log[128], err[256];
	snprintf(log, sizeof log, "%s/out", d->tmp);
	unlink(log);
	struct mg_tool t = {.argv = argv, .run_as = &d->as, .log = log, .timeout_ms = TOOL_TIMEOUT_MS, .what = argv[0]};
	int st = mg_run_tool(&t, err, sizeof err);
	line[0] = '\0';
	FILE *f = fopen(log, "r");
	if (f) {
		if (!fgets(line, (int)len, f))
			line[0] = '\0';
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
	}
	unlink(log);
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void heap_tools(struct doctor *d)
{
	char dir[PATH_MAX], line[256];
	if (mg_pyheap_helper_dir(dir, sizeof dir) == 0)
		add(d, "tracemalloc", true, NULL, "memgate's helper is in %s", dir);
	else
		add(d, "tracemalloc", false, "make install, or set MEMGATE_PYTHON_DIR to gate/heap/python",
		    "memgate's helper (sitecustomize.py) is not found next to memgate");
	char *const py[] = {"python3", "-c", "import sys; print(sys.version.split()[0])", NULL};
	if (tool_line(d, py, line, sizeof line) < 0) {
		add(d, "python3", false, "apt-get install python3 (only needed for Python heap attribution)",
		    "python3 is not on PATH for the fixtures' user");
	} else {
		add(d, "python3", true, NULL, "Python %s", line);
		char *const mr[] = {"python3", "-c", "import memray; print(memray.__version__)", NULL};
		if (tool_line(d, mr, line, sizeof line) == 0)
			add(d, "memray", true, NULL, "memray %s importable by python3", line);
		else
			add(d, "memray", false,
			    "python3 -m venv --system-site-packages .venv && .venv/bin/python -m pip install "
			    "memray==1.20.0, then start the fixture's command with .venv/bin/python (Debian 12 "
			    "refuses pip into the system python)",
			    "memray is not importable by python3 (needed for \"heap\": {\"tool\": \"memray\"})");
	}
	char *const ht[] = {"heaptrack", "--version", NULL};
	if (tool_line(d, ht, line, sizeof line) == 0)
		add(d, "heaptrack", true, NULL, "%s", line);
	else
		add(d, "heaptrack", false, "apt-get install heaptrack (only needed for \"heap\": {\"tool\": \"heaptrack\"})",
		    "heaptrack is not on PATH");
}

static bool set(const char *name)
{
	const char *v = getenv(name);
	return v && *v;
}

/* Which variables are there: names only, never a value. */
static void posting(struct doctor *d)
{
	static const char *const gh[] = {"GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_TOKEN"};
	static const char *const gl[] = {"CI_API_V4_URL", "CI_PROJECT_ID", "CI_COMMIT_SHA"};
	char missing[256] = "";
	bool github = set("GITHUB_ACTIONS"), gitlab = set("GITLAB_CI");
	if (!github && !gitlab) {
		add(d, "posting", true, NULL, "not in GitHub Actions or GitLab CI: `memgate post` needs --forge, the "
					      "repository, the commit and a token (memgate post --help)");
		return;
	}
	const char *const *names = github ? gh : gl;
	for (size_t i = 0; i < 3; i++)
		if (!set(names[i]))
			snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
				 missing[0] ? ", " : "", names[i]);
	if (gitlab && !set("GITLAB_TOKEN") && !set("CI_JOB_TOKEN"))
		snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%sGITLAB_TOKEN or CI_JOB_TOKEN",
			 missing[0] ? ", " : "");
	if (missing[0])
		add(d, "posting", false, "set them in the job, or pass --token-file",
		    "%s: not set: %s", github ? "GitHub Actions" : "GitLab CI", missing);
	else
		add(d, "posting", true, NULL, "%s: the repository, the commit and a token are set",
		    github ? "GitHub Actions" : "GitLab CI");
}

static void diagnose(struct doctor *d)
{
	struct utsname u;
	if (uname(&u) == 0)
		add(d, "kernel", true, NULL, "%s %s (%s)", u.sysname, u.release, u.machine);
	size_t at_v2 = d->n;
	int v2 = try_cgroup(d, MG_METHOD_CGROUP_V2);
	size_t at_v1 = d->n;
	int v1 = try_cgroup(d, MG_METHOD_CGROUP_V1);
	d->backend = v2 >= 0 ? MG_METHOD_CGROUP_V2 : v1 >= 0 ? MG_METHOD_CGROUP_V1 : MG_METHOD_PROC;
	d->exact = (d->backend == MG_METHOD_CGROUP_V2 && v2 == 1) || (d->backend == MG_METHOD_CGROUP_V1 && v1 == 1);
	/* one exact backend is all a run needs: the other one's "no" is no problem */
	struct check *other = d->exact ? &d->checks[d->backend == MG_METHOD_CGROUP_V2 ? at_v1 : at_v2] : NULL;
	if (other && !other->ok) {
		other->ok = true;
		other->fix[0] = '\0';
		size_t l = strlen(other->detail);
		snprintf(other->detail + l, sizeof other->detail - l, " (not needed: %s measures exactly)",
			 mg_method_name(d->backend));
	}
	if (d->exact)
		add(d, "measurement", true, NULL, "`auto` picks %s: exact peaks of the whole tree",
		    mg_method_name(d->backend));
	else
		add(d, "measurement", false, "see the cgroup lines above",
		    "`auto` picks %s: the tree's peak is sampled every interval, not exact (a process's own "
		    "high-water mark still is)",
		    mg_method_name(d->backend));
	if (geteuid() != 0)
		add(d, "user", true, NULL, "uid %d; fixtures run as you", (int)getuid());
	else if (d->as.drop)
		add(d, "user", true, NULL, "root through sudo: memgate keeps root for cgroups only; fixtures run as "
					   "%s (uid %d)", d->as.user[0] ? d->as.user : "?", (int)d->as.uid);
	else
		add(d, "user", true, NULL, "root: fixtures run as root (start memgate through sudo to run them as you)");
	heap_tools(d);
	posting(d);
}

static void print_text(const struct doctor *d, FILE *out)
{
	fprintf(out, "memgate doctor (memgate %s)\n", MG_VERSION);
	for (size_t i = 0; i < d->n; i++) {
		const struct check *c = &d->checks[i];
		fprintf(out, "  %-3s %-12s %s\n", c->ok ? "ok" : "no", c->name, c->detail);
		if (!c->ok && c->fix[0])
			fprintf(out, "      %-12s fix: %s\n", "", c->fix);
	}
	fprintf(out, "memgate doctor: %s (%s)\n",
		d->exact ? "exact measurement available" : "only sampled measurement available", mg_method_name(d->backend));
}

static int write_json(FILE *f, void *ctx, char *err, size_t len)
{
	const struct doctor *d = ctx;
	json_t *checks = json_array();
	for (size_t i = 0; i < d->n; i++) {
		const struct check *c = &d->checks[i];
		json_array_append_new(checks, json_pack("{s:s, s:b, s:s, s:o}", "name", c->name, "ok", c->ok,
							"detail", c->detail,
							"fix", c->fix[0] ? json_string(c->fix) : json_null()));
	}
	json_t *doc = json_pack("{s:i, s:s, s:b, s:s, s:o}", "schema", 1, "memgate_version", MG_VERSION, "exact",
				d->exact, "backend", mg_method_name(d->backend), "checks", checks);
	int rc = doc && json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : -1;
	if (rc < 0)
		snprintf(err, len, "cannot write the JSON (out of memory?)");
	else
		fputc('\n', f);
	json_decref(doc);
	return rc;
}

int mg_cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *json = NULL;
	int c;
	mg_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j') {
			json = optarg;
		} else if (c == 'h') {
			fputs("usage: memgate doctor [--json FILE]\n"
			      "What memgate will measure here, and how to get the exact peak.\n"
			      "Exit 0: exact measurement available; 1: only /proc sampling.\n",
			      stdout);
			return 0;
		} else {
			return mg_usage_error("%s", "doctor: bad option (memgate doctor [--json FILE])");
		}
	}
	if (optind < argc)
		return mg_usage_error("doctor: unexpected argument \"%s\"", argv[optind]);
	if (json && mg_check_outputs((const char *const[]){"--json"}, (const char *const[]){json}, 1) != 0)
		return EXIT_USAGE;
	struct doctor d = {0};
	char err[512];
	if (mg_identity_from_env(&d.as, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		return EXIT_ERROR;
	}
	snprintf(d.tmp, sizeof d.tmp, "/tmp/memgate-doctor-XXXXXX");
	if (!mkdtemp(d.tmp)) {
		fprintf(stderr, "memgate: doctor: cannot create a temp dir in /tmp: " MG_ERRNO_FMT "\n", MG_ERRNO(errno));
		return EXIT_ERROR;
	}
	diagnose(&d);
	rmdir(d.tmp);
	print_text(&d, stdout);
	if (json && mg_outfile_write(json, 0644, false, write_json, &d, err, sizeof err) < 0) {
		fprintf(stderr, "memgate: %s\n", err);
		return EXIT_ERROR;
	}
	return d.exact ? 0 : 1;
}
