/* config: load a memgate JSON config into a plan (a list of fixtures with
 * every default applied). Strict: unknown keys, wrong types, bad sizes are
 * errors naming the JSON path. */
#ifndef MG_CONFIG_H
#define MG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mg_metric {
	MG_METRIC_TREE_RSS,
	MG_METRIC_CGROUP,
	MG_METRIC_MAX_PROCESS_HWM,
	MG_METRIC_PSS,
	MG_METRIC_COUNT
};
/* "tree_rss", "cgroup", "max_process_hwm", "pss" */
const char *mg_metric_name(enum mg_metric m);
/* 0 on success, -1 for an unknown name */
int mg_metric_from_name(const char *name, enum mg_metric *m);

enum mg_method {
	MG_METHOD_AUTO,
	MG_METHOD_CGROUP_V2,
	MG_METHOD_CGROUP_V1,
	MG_METHOD_PROC
};
/* "auto", "cgroup-v2", "cgroup-v1", "proc" */
const char *mg_method_name(enum mg_method m);
int mg_method_from_name(const char *name, enum mg_method *m);

enum mg_stdin_mode { MG_STDIN_NULL, MG_STDIN_INHERIT, MG_STDIN_FILE };

#define MG_NO_LIMIT ((int64_t)-1)
#define MG_DEFAULT_TIMEOUT_MS ((int64_t)10 * 60 * 1000)
#define MG_DEFAULT_INTERVAL_MS ((int64_t)10)

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
	int64_t kill_above;     /* bytes, or MG_NO_LIMIT */
	bool pss;
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

/* A fixture with every default (no name, no command); used by `memgate measure`. */
void mg_fixture_init(struct mg_fixture *f);
void mg_fixture_free(struct mg_fixture *f);

#endif
