/* capture: the service's and the driver's output (capture.h). */
#include "measure/capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/sampler.h"


/* ---- captured output ---------------------------------------------------- */

static void drain(struct run *run, struct stream *st, const regex_t *ready)
{
	char buf[4096];
	while (st->fd >= 0) {
		ssize_t n = read(st->fd, buf, sizeof buf);
		if (n > 0) {
			mg_tail_append(st->tail, buf, (size_t)n, ready);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close(st->fd); /* EOF, or an error we cannot recover from */
		st->fd = -1;
		mg_tail_eof(st->tail, ready);
	}
	(void)run;
}

/* The driver's "requests=N" progress: each new N with the time it came,
 * for growth per request over the steady part (supervise.c). When full,
 * every other point goes, so the whole run stays covered. */
static void note_progress(struct run *run)
{
	struct mg_service_result *s = &run->r->service;
	const struct mg_tail *t = run->out[DRV_OUT].tail;
	int64_t n = t && t->last_line[0] ? mg_parse_requests_line(t->last_line) : -1;
	if (n <= 0 || (s->driver.nprogress && s->driver.progress[s->driver.nprogress - 1].n >= n))
		return;
	int max = (int)(sizeof s->driver.progress / sizeof s->driver.progress[0]);
	if (s->driver.nprogress == max) {
		for (int i = 0; i < max / 2; i++)
			s->driver.progress[i] = s->driver.progress[2 * i + 1];
		s->driver.nprogress = max / 2;
	}
	struct mg_progress *p = &s->driver.progress[s->driver.nprogress++];
	p->ms = mg_run_now_ms() - run->t0;
	p->n = n;
	/* the RSS at this count, read now: the last tick's may be older than
	 * the requests it is set against (a fast driver, a loaded machine). A
	 * driver that prints more than once a millisecond is not read again
	 * each time: those counts get no RSS rather than an older one */
	bool fresh = s->driver.nprogress < 2 || p->ms - p[-1].ms >= 1;
	p->rss = fresh && mg_sample(run, true) == 0 ? mg_sample_tree_rss(run) : MG_UNKNOWN;
}

void mg_drain_all(struct run *run)
{
	for (int i = 0; i < 4; i++)
		drain(run, &run->out[i], i == SVC_OUT && run->have_re ? &run->ready_re : NULL);
	if (run->r->service.used)
		note_progress(run);
}

static char *tail_copy(struct mg_tail *t)
{
	return t && t->len ? strdup(mg_tail_text(t)) : NULL;
}

void mg_finish_streams(struct run *run)
{
	struct mg_service_result *s = &run->r->service;
	mg_drain_all(run);
	for (int i = 0; i < 4; i++)
		if (run->out[i].fd >= 0)
			close(run->out[i].fd);
	if (!s->used)
		return;
	if (run->out[DRV_OUT].tail && run->out[DRV_OUT].tail->last_line[0])
		s->driver.requests = mg_parse_requests_line(run->out[DRV_OUT].tail->last_line);
	s->service_stdout = tail_copy(run->out[SVC_OUT].tail);
	s->service_stderr = tail_copy(run->out[SVC_ERR].tail);
	s->driver_stdout = tail_copy(run->out[DRV_OUT].tail);
	s->driver_stderr = tail_copy(run->out[DRV_ERR].tail);
}
