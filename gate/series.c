#include "series.h"

#include <stdlib.h>
#include <string.h>

int mg_series_init(struct mg_series *s, size_t cap)
{
	memset(s, 0, sizeof *s);
	if (cap < 2)
		cap = 2;
	cap += cap % 2;
	s->pts = malloc(cap * sizeof *s->pts);
	if (!s->pts)
		return -1;
	s->cap = cap;
	s->stride = 1;
	return 0;
}

static struct mg_point max_point(struct mg_point a, struct mg_point b)
{
	return b.value > a.value ? b : a;
}

/* Halve the stored points pairwise: keeps every maximum, doubles the stride. */
static void compact(struct mg_series *s)
{
	size_t j = 0;
	for (size_t i = 0; i + 1 < s->n; i += 2)
		s->pts[j++] = max_point(s->pts[i], s->pts[i + 1]);
	if (s->n % 2)
		s->pts[j++] = s->pts[s->n - 1];
	s->n = j;
	s->stride *= 2;
}

int mg_series_push(struct mg_series *s, int64_t ms, int64_t value)
{
	if (!s->pts)
		return -1;
	struct mg_point p = {ms, value};
	s->bucket = s->in_bucket ? max_point(s->bucket, p) : p;
	s->in_bucket++;
	s->raw++;
	if (s->in_bucket < s->stride)
		return 0;
	if (s->n == s->cap)
		compact(s);
	s->pts[s->n++] = s->bucket;
	s->in_bucket = 0;
	return 0;
}

void mg_series_finish(struct mg_series *s)
{
	if (!s->pts || !s->in_bucket)
		return;
	if (s->n == s->cap)
		compact(s);
	s->pts[s->n++] = s->bucket;
	s->in_bucket = 0;
}

void mg_series_free(struct mg_series *s)
{
	free(s->pts);
	memset(s, 0, sizeof *s);
}

int64_t mg_series_at(const struct mg_series *s, int64_t ms)
{
	if (!s->pts || !s->n)
		return s->in_bucket ? s->bucket.value : MG_SERIES_NONE;
	size_t i = 0;
	while (i + 1 < s->n && s->pts[i + 1].ms <= ms)
		i++;
	return s->pts[i].value;
}
