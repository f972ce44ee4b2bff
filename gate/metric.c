#include "metric.h"

#include <stddef.h>
#include <string.h>

const char *const mg_metric_names[MG_METRIC_COUNT] = {
	"tree_rss", "cgroup", "max_process_hwm", "pss", "cgroup_anon", "python_heap", "growth", "growth_per_request",
	"heap",
};
const char *const mg_method_names[MG_METHOD_COUNT] = {"auto", "cgroup-v2", "cgroup-v1", "proc"};
static const char *const verdict_names[] = {"pass", "fail", "error"};
static const char *const verdict_upper[] = {"PASS", "FAIL", "ERROR"};
#define N(a) (sizeof a / sizeof a[0])

static int find(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *mg_metric_name(enum mg_metric m)
{
	return (size_t)m < MG_METRIC_COUNT ? mg_metric_names[m] : "unknown";
}

int mg_metric_from_name(const char *name, enum mg_metric *m)
{
	int i = find(mg_metric_names, MG_METRIC_COUNT, name);
	if (i >= 0 && m)
		*m = (enum mg_metric)i;
	return i >= 0 ? 0 : -1;
}

const char *mg_method_name(enum mg_method m)
{
	return (size_t)m < N(mg_method_names) ? mg_method_names[m] : "unknown";
}

int mg_method_from_name(const char *name, enum mg_method *m)
{
	int i = find(mg_method_names, N(mg_method_names), name);
	if (i >= 0 && m)
		*m = (enum mg_method)i;
	return i >= 0 ? 0 : -1;
}

const char *mg_verdict_name(enum mg_verdict v)
{
	return (size_t)v < N(verdict_names) ? verdict_names[v] : "error";
}

const char *mg_verdict_upper(enum mg_verdict v)
{
	return (size_t)v < N(verdict_upper) ? verdict_upper[v] : "ERROR";
}

int mg_verdict_from_name(const char *name, enum mg_verdict *v)
{
	int i = find(verdict_names, N(verdict_names), name);
	if (i >= 0 && v)
		*v = (enum mg_verdict)i;
	return i >= 0 ? 0 : -1;
}

enum mg_verdict mg_verdict_worst(enum mg_verdict a, enum mg_verdict b)
{
	return a > b ? a : b;
}
