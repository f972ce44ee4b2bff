/* names: a sorted array of name references (see names.h). */
#include "names.h"

#include <stdlib.h>
#include <string.h>

static int before(const struct mg_name_ref *a, const struct mg_name_ref *b)
{
	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int by_name(const void *x, const void *y)
{
	const struct mg_name_ref *a = x, *b = y;
	int c = strcmp(a->name, b->name);
	return c ? c : before(a, b);
}

void mg_names_sort(struct mg_name_ref *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof *v, by_name);
}

const struct mg_name_ref *mg_names_find(const struct mg_name_ref *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n; /* the first entry whose name is >= name */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(v[lo].name, name) == 0 ? &v[lo] : NULL;
}

bool mg_names_first_duplicate(const struct mg_name_ref *v, size_t n, const struct mg_name_ref **first,
			      const struct mg_name_ref **second)
{
	const struct mg_name_ref *best = NULL, *best_first = NULL;

	for (size_t i = 0; i + 1 < n;) {
		size_t j = i + 1;
		if (strcmp(v[i].name, v[j].name) == 0) {
			/* within a run of one name, v[i] is the earliest, v[j] the next */
			if (!best || before(&v[j], best) < 0) {
				best = &v[j];
				best_first = &v[i];
			}
			while (j < n && strcmp(v[i].name, v[j].name) == 0)
				j++;
		}
		i = j;
	}
	if (best) {
		*first = best_first;
		*second = best;
	}
	return best != NULL;
}
