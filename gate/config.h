/* config: load a memgate JSON config into a plan (a list of fixtures with
 * every default applied). Strict: unknown keys, wrong types, bad sizes are
 * errors naming the JSON path. */
#ifndef MG_CONFIG_H
#define MG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metric.h"

enum mg_stdin_mode { MG_STDIN_NULL, MG_STDIN_INHERIT, MG_STDIN_FILE };

/* Service mode: a service started inside the measured cgroup, readied,
 * driven by a driver that runs outside it, then stopped. */
enum mg_ready_kind { MG_READY_NONE, MG_READY_TCP, MG_READY_HTTP, MG_READY_STDOUT };
struct mg_service {          /* its command is the fixture's argv ("{port}" substituted at run time) */
	enum mg_ready_kind ready;
	char *ready_target;     /* "127.0.0.1:{port}", "http://127.0.0.1:{port}/health" or an ERE */
	int64_t ready_timeout_ms;
	int stop_signal;        /* default SIGTERM */
	int64_t stop_grace_ms;  /* then SIGKILL */
};
struct mg_driver {
	char **argv;            /* NULL-terminated; "{port}" substituted */
	size_t argc;
	int64_t timeout_ms;
};
/* Heap attribution: which tool names the lines that hold the memory.
 * "heap": {"tool": ...}, or its older form "python": {"heap": ...}
 * (tracemalloc and memray only). */
enum mg_heap_tool { MG_HEAP_NONE, MG_HEAP_TRACEMALLOC, MG_HEAP_MEMRAY, MG_HEAP_HEAPTRACK };
/* "tracemalloc", "memray", "heaptrack" (NULL: none): 0, or -1 */
int mg_heap_tool_from_name(const char *name, enum mg_heap_tool *out);
struct mg_heap_cfg {
	enum mg_heap_tool tool;
	int top;                /* sites kept, default 10 */
	bool optional;          /* the tool missing: a note instead of an error */
	bool native;            /* memray --native: native frames too */
	bool follow_fork;       /* memray --follow-fork: forked children too */
};
#define MG_DEFAULT_READY_TIMEOUT_MS ((int64_t)10 * 1000)
#define MG_DEFAULT_STOP_GRACE_MS ((int64_t)5 * 1000)
#define MG_DEFAULT_DRIVER_TIMEOUT_MS ((int64_t)60 * 1000)

#define MG_NO_LIMIT ((int64_t)-1)
#define MG_DEFAULT_TIMEOUT_MS ((int64_t)10 * 60 * 1000)
#define MG_DEFAULT_INTERVAL_MS ((int64_t)10)
#define MG_DEFAULT_CPU_BUDGET_X100 ((int64_t)100) /* 1% of a core */

/* "regression": how far a metric may rise over a --baseline report before
 * the fixture fails. A member left at MG_NO_LIMIT was not configured (in the
 * fixture or in defaults): the --baseline default applies (baseline.h). */
struct mg_regression {
	int64_t max_increase_pct_x100; /* "10%" -> 1000 (hundredths of a percent) */
	int64_t min_increase_bytes;    /* "4MiB" -> 4194304 */
};

/* "phase_limits": limits for the phases whose name matches (a name, or a
 * glob such as "tests/test_api.py::*"); only memory figures, not rates. */
struct mg_phase_limits {
	char *match;
	int64_t limits[MG_METRIC_COUNT]; /* bytes, or MG_NO_LIMIT */
};

struct mg_fixture {
	char *name;
	char **argv;            /* NULL-terminated, argc >= 1 */
	size_t argc;
	char *cwd;              /* NULL: inherit memgate's */
	char **env;             /* NULL-terminated "KEY=VALUE" set on top of the inherited environment; may be NULL */
	size_t envc;
	enum mg_stdin_mode stdin_mode;
	char *stdin_path;       /* MG_STDIN_FILE only */
	int64_t timeout_ms;     /* > 0 */
	int64_t interval_ms;    /* >= 1 */
	enum mg_method measurement;
	int64_t limits[MG_METRIC_COUNT]; /* bytes, or MG_NO_LIMIT */
	struct mg_regression regression;
	int64_t kill_above;     /* bytes, or MG_NO_LIMIT */
	bool pss;
	bool has_service;       /* service + driver instead of command (argv is the service's) */
	struct mg_service service;
	struct mg_driver driver;
	struct mg_heap_cfg heap;
	int warmup_pct;         /* growth fit skips this share of samples; default 20 */
	int64_t cpu_budget_x100; /* per-process reads' CPU, hundredths of % of a core; default 100 (1%) */
	struct mg_phase_limits *phase_limits;
	size_t nphase_limits;
};

struct mg_config {
	int version;            /* 1 */
	char *cgroup_root;      /* NULL: memgate picks */
	struct mg_fixture *fixtures;
	size_t nfixtures;
};

/* Every loader returns 0, or -1 with one line in err of the form
 * "ORIGIN:LINE:COL: message" (JSON syntax) or "ORIGIN: PATH: message"
 * (e.g. "memgate.json: fixtures[1].limts: unknown key (did you mean \"limits\"?)"). */
int mg_config_load_file(const char *path, struct mg_config *out, char *err, size_t errlen);
int mg_config_load_string(const char *text, const char *origin, struct mg_config *out,
			  char *err, size_t errlen);
void mg_config_free(struct mg_config *cfg);

/* "10%", "2.5 %", "0.25%" -> hundredths of a percent (1000, 250, 25); at
 * most 2 decimals, at most 1000000%. With percent_optional "10" is also
 * read (a command-line value). 0, or -1 with a one-line reason in err. */
int mg_parse_percent(const char *s, bool percent_optional, int64_t *x100, char *err, size_t errlen);
/* The reverse: 1000 -> "10%", 250 -> "2.5%", 25 -> "0.25%". */
void mg_format_percent(int64_t x100, char *buf, size_t len);

/* A fixture with every default (no name, no command); used by `memgate measure`. */
void mg_fixture_init(struct mg_fixture *f);
void mg_fixture_free(struct mg_fixture *f);

#endif
