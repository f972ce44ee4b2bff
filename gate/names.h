/* names: find duplicates and look names up in O(n log n) instead of
 * comparing every pair. The lists come from files (reports, configs) of
 * any length: a pairwise scan of 20000 fixtures took seconds. Names are
 * not copied; they must outlive the index. */
#ifndef MG_NAMES_H
#define MG_NAMES_H

#include <stdbool.h>
#include <stddef.h>

struct mg_name_ref {
	const char *name;
	size_t group;   /* e.g. which report, or a line number */
	size_t index;   /* e.g. the position in that report's fixtures */
};

/* Sort by name, then group, then index. */
void mg_names_sort(struct mg_name_ref *v, size_t n);

/* In a sorted index: the first entry (lowest group, then index) with this
 * name, or NULL. */
const struct mg_name_ref *mg_names_find(const struct mg_name_ref *v, size_t n, const char *name);

/* In a sorted index: the duplicate a front-to-back scan would meet first,
 * i.e. of all second occurrences the earliest in (group, index) order.
 * true with *second that entry and *first the earliest entry of the same
 * name; false when every name is unique. */
bool mg_names_first_duplicate(const struct mg_name_ref *v, size_t n, const struct mg_name_ref **first,
			      const struct mg_name_ref **second);

#endif
