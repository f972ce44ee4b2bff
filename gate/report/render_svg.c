/* render_svg: a self-contained SVG chart (no fonts, scripts or styles
 * from elsewhere), one panel per fixture stacked vertically, showing why
 * it failed (mg_rv_chart_of): the series of the metric that failed (tree
 * RSS, or the cgroup's usage or anon + shmem, with tree RSS behind it in
 * grey), its limit as a dashed line, the growth fit when a growth limit
 * failed, and a marker where the run ended badly (OOM kill, timeout,
 * signal). A fixture compared with a baseline gets a "vs baseline: ..."
 * line under its title (and its panel grows by that line); one with
 * phases shown (mg_rv_phases_shown) gets lanes of phase bands over the
 * plot's time axis, the whole tree's phases also as pale stripes behind
 * the series (and its panel grows by the lanes). */
#include "report/render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/render_common.h"
#include "units.h"

#define WIDTH 820
#define HEADER_H 48
#define PANEL_H 250
#define SHORT_PANEL_H 64    /* a fixture with nothing to plot */
#define PLOT_LEFT 72
#define PLOT_TOP 58
#define PLOT_W (WIDTH - PLOT_LEFT - 28)
#define PLOT_H 140
#define MAX_POINTS 2000        /* more than this: downsampled, keeping maxima */
#define NAME_CHARS 60          /* longer names are cut with an ellipsis */
#define BASELINE_H 16          /* the "vs baseline" line, when there is one */
#define BASELINE_CHARS 120     /* that line's items stop here (~6.3 px a character) */

#define LANE_H 14              /* one lane of phase bands, above the plot */
#define LANE_GAP 4             /* between the lanes and the plot */
#define MAX_LANES 4            /* the whole tree's phases, and 3 processes' */
#define MAX_BANDS 24           /* more phases: the failing and the highest are drawn */
#define BAND_CHAR_W 6.0        /* ~ px a character of a 10 px label */

#define C_LINE "#1f77b4"
#define C_CONTEXT "#aaaaaa"    /* tree RSS behind another metric's series */
#define C_FIT "#ff7f0e"        /* the growth fit */
#define C_LIMIT "#d62728"
#define C_GRID "#e6e6e6"
#define C_TEXT "#222222"
#define C_MUTED "#666666"
/* a white outline behind labels that may cross the line */
#define HALO "stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\" "

/* Where one panel's plot maps data to pixels. */
struct plot {
	double y0;              /* panel's top in the document */
	struct mg_ticks xt;     /* seconds */
	struct mg_ticks yt;     /* MiB */
};

static double px_x(const struct plot *p, double s)
{
	return PLOT_LEFT + s / p->xt.top * PLOT_W;
}

static double px_y(const struct plot *p, double mib)
{
	return p->y0 + PLOT_TOP + PLOT_H - mib / p->yt.top * PLOT_H;
}

static const char *verdict_colour(enum mg_verdict v)
{
	return v == MG_VERDICT_PASS ? "#2ca02c" : v == MG_VERDICT_FAIL ? "#d62728" : "#e67e00";
}

static double to_mib(int64_t bytes)
{
	return (double)bytes / 1048576.0;
}

/* ---------------------------------------------------------------- text */

static void text_open(FILE *out, double x, double y, const char *anchor, const char *extra)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\"%s%s%s %s>", x, y, anchor ? " text-anchor=\"" : "",
		anchor ? anchor : "", anchor ? "\"" : "", extra ? extra : "");
}

static void label(FILE *out, double x, double y, const char *anchor, const char *extra, const char *s)
{
	text_open(out, x, y, anchor, extra);
	mg_xml_escape(out, s);
	fputs("</text>\n", out);
}

static void header(FILE *out, const struct mg_view *v)
{
	char sum[160];
	mg_rv_summary(v, sum, sizeof sum);
	/* one <text>: the summary flows after the verdict, whatever its width;
	 * dx, not a space: renderers drop white space at the start of a tspan */
	fprintf(out, "<text x=\"16\" y=\"30\" font-size=\"18\" font-weight=\"bold\" fill=\"%s\">memgate: %s"
		     "<tspan dx=\"8\" font-size=\"14\" font-weight=\"normal\" fill=\"" C_MUTED "\">\xE2\x80\x94 ",
		verdict_colour(v->verdict), mg_verdict_upper(v->verdict));
	mg_xml_escape(out, sum);
	if (v->interrupted_by) {
		fputs(" (interrupted by ", out);
		mg_xml_escape(out, v->interrupted_by);
		fputc(')', out);
	}
	fputs("</tspan></text>\n", out);
}

/* "grow-over — FAIL" and a line of figures under it. */
static void panel_title(FILE *out, const struct mg_rv_fixture *f, double y0)
{
	text_open(out, 16, y0 + 22, NULL, "font-size=\"15\" font-weight=\"bold\"");
	mg_xml_escape_n(out, f->name, NAME_CHARS);
	/* dx, not a space: renderers drop white space at the start of a tspan */
	fprintf(out, "<tspan dx=\"8\" fill=\"%s\">\xE2\x80\x94 %s</tspan></text>\n", verdict_colour(f->verdict),
		mg_verdict_upper(f->verdict));
	if (!f->ran || !mg_rv_started(f))
		return;
	char peak[32], wall[32], lim[64] = "", tree[48] = "";
	struct mg_rv_chart c;
	mg_rv_chart_of(f, &c);
	bool is_tree = strcmp(c.metric, "tree_rss") == 0;
	mg_format_mib(c.peak == MG_NULL_FIG ? 0 : c.peak, peak, sizeof peak);
	mg_format_duration(f->wall_ms, wall, sizeof wall);
	if (c.has_limit) {
		char a[32];
		mg_format_mib(c.limit_bytes, a, sizeof a);
		/* "(limit 64.0 MiB)" for tree RSS, as it always read */
		snprintf(lim, sizeof lim, " (%s %s)", is_tree ? "limit" : c.limit_name, a);
	}
	if (!is_tree && f->tree_rss_bytes != MG_NULL_FIG) {
		char a[32];
		mg_format_mib(f->tree_rss_bytes, a, sizeof a);
		snprintf(tree, sizeof tree, " \xC2\xB7 tree RSS %s", a);
	}
	text_open(out, 16, y0 + 40, NULL, "fill=\"" C_MUTED "\"");
	fprintf(out, "peak %s %s%s%s \xC2\xB7 ", c.label, peak, lim, tree);
	mg_xml_escape_n(out, f->method, 20);
	fprintf(out, " \xC2\xB7 %s \xC2\xB7 %lld samples</text>\n", wall, (long long)f->samples);
}

/* ---------------------------------------------------------------- axes */

static void tick_label(char *buf, size_t len, double v, int decimals)
{
	snprintf(buf, len, "%.*f", decimals, v);
}

static void axes(FILE *out, const struct plot *p, const char *what)
{
	char b[32];
	double base = p->y0 + PLOT_TOP + PLOT_H;
	fprintf(out, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#fbfbfb\" stroke=\"#bbbbbb\"/>\n",
		PLOT_LEFT, p->y0 + PLOT_TOP, PLOT_W, PLOT_H);
	for (int i = 0; i < p->yt.count; i++) {
		double v = p->yt.step * i, y = px_y(p, v);
		if (i > 0 && i < p->yt.count - 1)
			fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"" C_GRID "\"/>\n",
				PLOT_LEFT, y, PLOT_LEFT + PLOT_W, y);
		tick_label(b, sizeof b, v, p->yt.decimals);
		label(out, PLOT_LEFT - 6, y + 4, "end", "font-size=\"11\"", b);
	}
	for (int i = 0; i < p->xt.count; i++) {
		double s = p->xt.step * i, x = px_x(p, s);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbbbbb\"/>\n", x, base, x,
			base + 4);
		tick_label(b, sizeof b, s, p->xt.decimals);
		label(out, x, base + 17, "middle", "font-size=\"11\"", b);
	}
	label(out, PLOT_LEFT + PLOT_W / 2.0, base + 34, "middle", "font-size=\"11\" fill=\"" C_MUTED "\"", "time (s)");
	double mid = p->y0 + PLOT_TOP + PLOT_H / 2.0;
	fprintf(out, "<text x=\"20\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"" C_MUTED
		     "\" transform=\"rotate(-90 20 %.1f)\">%s (MiB)</text>\n", mid, mid, what);
}

/* -------------------------------------------------------------- series */

static void polyline_open(FILE *out, const char *colour, double width)
{
	fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-linejoin=\"round\" points=\"",
		colour, width);
}

/* The highest sample, drawn as a dot when the series has no time span. */
static void dot(FILE *out, const struct plot *p, const struct mg_rv_point *pts, size_t n, const char *colour)
{
	const struct mg_rv_point *top = &pts[0];
	for (size_t i = 1; i < n; i++)
		if (pts[i].bytes > top->bytes)
			top = &pts[i];
	fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px_x(p, top->ms / 1000.0),
		px_y(p, to_mib(top->bytes)), colour);
}

static bool one_instant(const struct mg_rv_point *pts, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (pts[i].ms != pts[0].ms)
			return false;
	return true;
}

static void series_line(FILE *out, const struct plot *p, const struct mg_rv_point *pts, size_t n,
			const char *colour, double width)
{
	if (one_instant(pts, n)) { /* a line needs two times */
		dot(out, p, pts, n, colour);
		return;
	}
	polyline_open(out, colour, width);
	if (n <= MAX_POINTS) {
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s%.1f,%.1f", i ? " " : "", px_x(p, pts[i].ms / 1000.0), px_y(p, to_mib(pts[i].bytes)));
	} else {
		double *v = malloc(MAX_POINTS * sizeof *v);
		int64_t span;
		size_t k = v ? mg_rv_downsample(pts, n, MAX_POINTS, v, &span) : 0;
		for (size_t i = 0; i < k; i++)
			fprintf(out, "%s%.1f,%.1f", i ? " " : "", px_x(p, (double)span / 1000.0 * (double)i / (double)(k - 1)),
				px_y(p, v[i]));
		free(v);
	}
	fputs("\"/>\n", out);
}

/* The dashed limit line; its label sits at the left, above the line, or
 * below it when the line is at the top of the plot. */
static void limit_line(FILE *out, const struct plot *p, const struct mg_rv_chart *c)
{
	char lim[32], text[64];
	double y = px_y(p, to_mib(c->limit_bytes));
	mg_format_mib(c->limit_bytes, lim, sizeof lim);
	/* tree RSS's reads "limit 64.0 MiB", as it always did */
	snprintf(text, sizeof text, "%s %s", strcmp(c->metric, "tree_rss") == 0 ? "limit" : c->limit_name, lim);
	fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"" C_LIMIT
		     "\" stroke-width=\"1.4\" stroke-dasharray=\"7 4\"/>\n", PLOT_LEFT, y, PLOT_LEFT + PLOT_W, y);
	double ty = y - p->y0 - PLOT_TOP < 16 ? y + 14 : y - 5;
	label(out, PLOT_LEFT + 6, ty, NULL, HALO "font-size=\"11\" fill=\"" C_LIMIT "\"", text);
}

/* ------------------------------------------------------------- markers */

/* How the run ended badly, if it did: symbol and label. */
enum marker { M_NONE, M_OOM, M_TIMEOUT, M_SIGNAL };

static enum marker marker_of(const struct mg_rv_fixture *f)
{
	if (f->exit.oom_killed)
		return M_OOM;
	if (f->exit.timed_out)
		return M_TIMEOUT;
	/* a signal matters when it failed the run, not when memgate stopped a service */
	if (f->exit.has_signal && f->verdict != MG_VERDICT_PASS && !(f->service && f->service->stopped))
		return M_SIGNAL;
	return M_NONE;
}

static void marker_symbol(FILE *out, enum marker m, double x, double y)
{
	if (m == M_OOM) /* a red cross in a circle */
		fprintf(out, "<g stroke=\"#c00000\" stroke-width=\"2\" fill=\"#ffffff\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\"/>"
			     "<path d=\"M%.1f %.1fl7 7m0 -7l-7 7\"/></g>\n", x, y, x - 3.5, y - 3.5);
	else if (m == M_TIMEOUT) /* an orange diamond */
		fprintf(out, "<path d=\"M%.1f %.1fl6 6l-6 6l-6 -6z\" fill=\"#e67e00\" stroke=\"#ffffff\"/>\n", x, y - 6);
	else /* a purple triangle */
		fprintf(out, "<path d=\"M%.1f %.1fl6 10h-12z\" fill=\"#7b2cbf\" stroke=\"#ffffff\"/>\n", x, y - 6);
}

static void marker_text(const struct mg_rv_fixture *f, enum marker m, char *buf, size_t len)
{
	char a[32];
	if (m == M_OOM && f->kill_above_bytes != MG_NULL_FIG) {
		mg_format_mib(f->kill_above_bytes, a, sizeof a);
		snprintf(buf, len, "OOM kill (kill_above %s)", a);
	} else if (m == M_OOM) {
		snprintf(buf, len, "OOM kill");
	} else if (m == M_TIMEOUT) {
		snprintf(buf, len, "timeout");
	} else {
		snprintf(buf, len, "killed by %.20s", f->exit.signal_name ? f->exit.signal_name : "a signal");
	}
}

/* Label baseline above the marker, or below it when that is nearer the
 * top of the plot or would sit on the limit line. */
static double marker_label_y(const struct plot *p, double y, double limit_y)
{
	double above = y - 10, below = y + 20;
	if (above - 12 < p->y0 + PLOT_TOP)
		return below;
	if (limit_y >= 0 && fabs(above - 4 - limit_y) < 10 && below < p->y0 + PLOT_TOP + PLOT_H)
		return below;
	return above;
}

/* At the end of the plotted series, on the line: the last sample, or the
 * one where the fall after the kill began (the last samples are often
 * taken after the kill and read 0, or what is left draining). limit_y:
 * the limit line, or -1. */
static void end_marker(FILE *out, const struct plot *p, const struct mg_rv_fixture *f, const struct mg_rv_chart *c,
		       double limit_y)
{
	enum marker m = marker_of(f);
	if (m == M_NONE || c->n == 0)
		return;
	/* back over the readings taken after the end: zeros (the tree gone),
	 * then a short fall (a cgroup drains over a sample or two) */
	const struct mg_rv_point *at = &c->pts[c->n - 1];
	while (at > c->pts && at->bytes == 0 && at[-1].bytes == 0)
		at--;
	for (int back = 0; back < 3 && at > c->pts && at[-1].bytes > at->bytes; back++)
		at--;
	double x = px_x(p, at->ms / 1000.0), y = px_y(p, to_mib(at->bytes));
	char text[64];
	marker_symbol(out, m, x, y);
	marker_text(f, m, text, sizeof text);
	bool left = x > PLOT_LEFT + PLOT_W / 2.0; /* the label goes where there is room */
	double ty = marker_label_y(p, y, limit_y), tx = left ? x - 10 : x + 10;
	/* a pale box under the label, so the line it may cross does not
	 * strike it through (width estimated: ~7.3 px a character, bold 12) */
	double w = 7.3 * (double)strlen(text) + 6;
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" rx=\"3\" fill=\"#fbfbfb\" fill-opacity=\"0.9\"/>\n",
		left ? tx - w + 3 : tx - 3, ty - 12, w);
	label(out, tx, ty, left ? "end" : "start", "font-size=\"12\" font-weight=\"bold\" fill=\"#333333\"", text);
}

/* --------------------------------------------------------------- panel */

/* Nothing to plot: a short panel saying why (the first reason says it
 * best; "not run: memgate was interrupted"). */
static void short_panel_text(FILE *out, const struct mg_rv_fixture *f, double y0)
{
	text_open(out, 16, y0 + 42, NULL, "fill=\"" C_MUTED "\"");
	if (f->ran)
		fputs(f->reasons.n ? "the command did not start: " : "the command did not start", out);
	if (f->reasons.n)
		mg_xml_escape_n(out, f->reasons.v[0], 110);
	else if (!f->ran)
		fputs("not run", out);
	fputs("</text>\n", out);
}

static bool plottable(const struct mg_rv_fixture *f)
{
	return f->ran && mg_rv_started(f);
}

/* ------------------------------------------------------------- phases */

/* The phases drawn (at most MAX_BANDS, mg_rv_phase_order) and their lanes:
 * lane 0 the whole tree's phases, one lane per process for scoped ones
 * (pytest-xdist's workers), lowest pid first, at most MAX_LANES. */
struct bands {
	size_t idx[MAX_BANDS];
	int lane[MAX_BANDS];     /* -1: no lane left for its process: not drawn */
	size_t n, drawn;
	int64_t pid[MAX_LANES];  /* lane's process, 0 the whole tree */
	int nlanes;
};

static int lane_of(struct bands *b, int64_t pid)
{
	for (int i = 0; i < b->nlanes; i++)
		if (b->pid[i] == pid)
			return i;
	return -1;
}

static int cmp_i64(const void *a, const void *c)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)c;
	return (x > y) - (x < y);
}

static void bands_of(const struct mg_rv_fixture *f, struct bands *b)
{
	memset(b, 0, sizeof *b);
	if (!mg_rv_phases_shown(f))
		return;
	b->n = mg_rv_phase_order(f, b->idx, MAX_BANDS, NULL);
	int64_t pids[MAX_BANDS];
	size_t np = 0;
	for (size_t i = 0; i < b->n; i++)
		pids[np++] = f->phases[b->idx[i]].pid;
	qsort(pids, np, sizeof pids[0], cmp_i64);
	for (size_t i = 0; i < np; i++)
		if ((i == 0 || pids[i] != pids[i - 1]) && b->nlanes < MAX_LANES)
			b->pid[b->nlanes++] = pids[i];
	for (size_t i = 0; i < b->n; i++) {
		b->lane[i] = lane_of(b, f->phases[b->idx[i]].pid);
		b->drawn += b->lane[i] >= 0;
	}
}

/* The room the phase lanes take (0 without phases shown: as before). */
static double phase_room(const struct mg_rv_fixture *f)
{
	struct bands b;
	bands_of(f, &b);
	return b.nlanes ? b.nlanes * LANE_H + LANE_GAP : 0;
}

static const char *band_fill(const struct mg_rv_phase *p, size_t index)
{
	if (p->verdict != MG_VERDICT_PASS)
		return "#f6d2d2";
	return index % 2 ? "#d9e4f2" : "#e9eff7";
}

/* "startup: cgroup 301.0 MiB, limit 256.0 MiB (over), 160 ms, exact" */
static void band_title(FILE *out, const struct mg_rv_fixture *f, const struct mg_rv_phase *p)
{
	struct mg_rv_phase_row row;
	char v[32] = "n/a", l[32], t[32];
	mg_rv_phase_row(f, p, &row);
	if (row.value != MG_NULL_FIG)
		mg_format_mib(row.value, v, sizeof v);
	mg_format_duration(p->to_ms - p->from_ms, t, sizeof t);
	fputs("<title>", out);
	mg_xml_escape(out, p->name);
	fprintf(out, ": %s %s", row.metric, v);
	if (row.limit) {
		mg_format_mib(row.limit->limit_bytes, l, sizeof l);
		fprintf(out, ", limit %s%s", l, row.limit->ok ? "" : " (over)");
	}
	fprintf(out, ", %s, %s</title>", t, row.exact ? "exact" : "sampled");
}

/* One band in its lane above the plot, labelled when the name fits, and
 * for the whole tree's phases a pale stripe behind the series. */
static void band(FILE *out, const struct plot *p, const struct mg_rv_fixture *f, size_t i, int lane, double top)
{
	const struct mg_rv_phase *ph = &f->phases[i];
	double x0 = px_x(p, (double)ph->from_ms / 1000.0), x1 = px_x(p, (double)ph->to_ms / 1000.0);
	double w = x1 - x0 < 1 ? 1 : x1 - x0, y = top + lane * LANE_H;
	bool bad = ph->verdict != MG_VERDICT_PASS;
	if (lane == 0 && f->phases[i].pid == 0)
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"0.45\"/>\n", x0,
			p->y0 + PLOT_TOP, w, PLOT_H, band_fill(ph, i));
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"%s>", x0, y + 1, w, LANE_H - 2,
		band_fill(ph, i), bad ? " stroke=\"" C_LIMIT "\" stroke-width=\"0.8\"" : "");
	band_title(out, f, ph);
	fputs("</rect>\n", out);
	/* the name, else what follows its last "::" (a test's own name), if it fits */
	const char *name = ph->name, *tail = NULL;
	for (const char *q = strstr(name, "::"); q; q = strstr(q + 2, "::"))
		tail = q + 2;
	if ((double)strlen(name) * BAND_CHAR_W + 4 > w && tail && *tail)
		name = tail;
	if ((double)strlen(name) * BAND_CHAR_W + 4 <= w)
		label(out, x0 + 2, y + LANE_H - 3.5, NULL, bad ? "font-size=\"10\" fill=\"" C_LIMIT "\"" : "font-size=\"10\"",
		      name);
}

/* The lanes of phase bands over the plot's time axis: the drawn phases,
 * each lane named at its left; how many were left out, under the plot. */
static void phase_bands(FILE *out, const struct plot *p, const struct mg_rv_fixture *f)
{
	struct bands b;
	bands_of(f, &b);
	if (!b.nlanes)
		return;
	double top = p->y0 + PLOT_TOP - b.nlanes * LANE_H - LANE_GAP;
	for (int l = 0; l < b.nlanes; l++) {
		char name[40];
		if (b.pid[l])
			snprintf(name, sizeof name, "pid %lld", (long long)b.pid[l]);
		else
			snprintf(name, sizeof name, "phases");
		label(out, PLOT_LEFT - 6, top + l * LANE_H + LANE_H - 3.5, "end", "font-size=\"10\" fill=\"" C_MUTED "\"", name);
	}
	for (size_t k = 0; k < b.n; k++)
		if (b.lane[k] >= 0)
			band(out, p, f, b.idx[k], b.lane[k], top);
	if (b.drawn < f->nphases) {
		char note[96];
		snprintf(note, sizeof note, "%zu of %zu phases drawn (the failing, then the highest)", b.drawn, f->nphases);
		label(out, PLOT_LEFT + PLOT_W, p->y0 + PLOT_TOP + PLOT_H + 34, "end", "font-size=\"10\" fill=\"" C_MUTED "\"",
		      note);
	}
}

/* The room the "vs baseline" line takes (0 without comparisons, so a
 * report without a baseline draws as it always did). */
static double baseline_room(const struct mg_rv_fixture *f)
{
	return mg_rv_comparisons(f, NULL, 0) ? BASELINE_H : 0;
}

static double panel_height(const struct mg_rv_fixture *f)
{
	return (plottable(f) ? PANEL_H + phase_room(f) : SHORT_PANEL_H) + baseline_room(f);
}

static void empty_plot(FILE *out, double y0, const char *why)
{
	fprintf(out, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#fbfbfb\" stroke=\"#bbbbbb\"/>\n",
		PLOT_LEFT, y0 + PLOT_TOP, PLOT_W, PLOT_H);
	label(out, PLOT_LEFT + PLOT_W / 2.0, y0 + PLOT_TOP + PLOT_H / 2.0 + 5, "middle",
	      "font-size=\"13\" fill=\"" C_MUTED "\"", why);
}

/* Tree RSS drawn in grey behind another metric's series, for scale. */
static bool with_context(const struct mg_rv_fixture *f, const struct mg_rv_chart *c)
{
	return strcmp(c->metric, "tree_rss") != 0 && f->nseries > 0;
}

static void extend(const struct mg_rv_point *pts, size_t n, int64_t *ms, int64_t *top)
{
	for (size_t i = 0; i < n; i++) {
		if (pts[i].ms > *ms)
			*ms = pts[i].ms;
		if (pts[i].bytes > *top)
			*top = pts[i].bytes;
	}
}

/* Axis ranges: every sample drawn, the peak figure, the limit and the fit
 * must fit. */
static void scale(const struct mg_rv_fixture *f, const struct mg_rv_chart *c, struct plot *p)
{
	int64_t ms = f->wall_ms, top = c->peak > 0 ? c->peak : 0;
	extend(c->pts, c->n, &ms, &top);
	if (with_context(f, c)) {
		extend(f->series, f->nseries, &ms, &top);
		if (f->tree_rss_bytes > top)
			top = f->tree_rss_bytes;
	}
	if (c->has_limit && c->limit_bytes > top)
		top = c->limit_bytes;
	if (c->fit) {
		double v = c->fit_v0 > c->fit_v1 ? c->fit_v0 : c->fit_v1;
		if (v > (double)top && v < 9e18)
			top = (int64_t)v;
	}
	mg_nice_ticks(ms < 10 ? 0.01 : ms / 1000.0, 10, &p->xt);
	mg_nice_ticks(to_mib(top) * 1.08, 5, &p->yt);
}

/* The growth fit, dashed, over its window (cut where it would go below
 * 0), labelled with its slope and limit by its end. */
static void fit_line(FILE *out, const struct plot *p, const struct mg_rv_fixture *f, const struct mg_rv_chart *c)
{
	double t0 = c->fit_t0, v0 = c->fit_v0, t1 = c->fit_t1, v1 = c->fit_v1;
	if (v0 < 0 && v1 < 0)
		return;
	if (v0 < 0) { /* cut at the line's own zero */
		t0 += (t1 - t0) * (-v0) / (v1 - v0);
		v0 = 0;
	} else if (v1 < 0) {
		t1 = t0 + (t1 - t0) * v0 / (v0 - v1);
		v1 = 0;
	}
	double x0 = px_x(p, t0 / 1000.0), y0 = px_y(p, v0 / 1048576.0);
	double x1 = px_x(p, t1 / 1000.0), y1 = px_y(p, v1 / 1048576.0);
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_FIT
		     "\" stroke-width=\"2\" stroke-dasharray=\"3 3\"/>\n", x0, y0, x1, y1);
	const struct mg_rv_metric *l = mg_rv_limit_of(f, "growth");
	const struct mg_rv_metric g = {.metric = "growth", .unit = "bytes/s"};
	char rate[48], lim[48], text[128];
	mg_rv_format_value(&g, (int64_t)llround(f->growth.bytes_per_s), rate, sizeof rate);
	mg_rv_format_value(l, l->limit_bytes, lim, sizeof lim);
	snprintf(text, sizeof text, "growth %s (limit %s)", rate, lim);
	/* by the fit's end, inside the plot: left of it when it ends on the right */
	bool left = x1 > PLOT_LEFT + PLOT_W * 0.6;
	double ty = y1 - 8 < p->y0 + PLOT_TOP + 12 ? y1 + 16 : y1 - 8;
	label(out, left ? x1 - 4 : x1 + 4, ty, left ? "end" : "start",
	      HALO "font-size=\"11\" font-weight=\"bold\" fill=\"" C_FIT "\"", text);
}

/* Which line is which, when there is more than one series: at the top
 * right of the plot, on a pale box so no line strikes it through. */
static void legend(FILE *out, const struct plot *p, const struct mg_rv_fixture *f, const struct mg_rv_chart *c)
{
	if (!with_context(f, c))
		return;
	const char *names[] = {c->label, "tree RSS"};
	const char *colours[] = {C_LINE, C_CONTEXT};
	size_t longest = strlen(names[0]) > strlen(names[1]) ? strlen(names[0]) : strlen(names[1]);
	/* generous: ~7 px a character at 11 px, so the text never runs out */
	double w = 7.0 * (double)longest, x = PLOT_LEFT + PLOT_W - 8 - w, y = p->y0 + PLOT_TOP + 16;
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"36\" rx=\"3\" fill=\"#fbfbfb\" fill-opacity=\"0.9\"/>\n",
		x - 30, y - 13, w + 34);
	for (int i = 0; i < 2; i++, y += 15) {
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n",
			x - 24, y - 4, x - 6, y - 4, colours[i]);
		label(out, x, y, NULL, "font-size=\"11\"", names[i]);
	}
}

/* One item: "tree_rss +12.3 MiB (+6.8%)"; a metric over its baseline's
 * tolerance in bold red with " over". Returns its length in characters
 * (about: the metric's bytes); with out NULL only measures. */
static size_t baseline_item(FILE *out, const struct mg_rv_metric *c)
{
	char d[56], p[40];
	mg_rv_format_delta_bytes(c, d, sizeof d);
	mg_rv_format_delta_pct(c, p, sizeof p);
	size_t m = strlen(c->metric);
	size_t w = (m > 30 ? 31 : m) + 1 + strlen(d) + (*p ? strlen(p) + 3 : 0) + (c->baseline_ok ? 0 : 5);
	if (!out)
		return w;
	if (!c->baseline_ok)
		fputs("<tspan font-weight=\"bold\" fill=\"" C_LIMIT "\">", out);
	mg_xml_escape_n(out, c->metric, 30);
	fprintf(out, " %s%s%s%s", d, *p ? " (" : "", p, *p ? ")" : "");
	if (!c->baseline_ok)
		fputs(" over</tspan>", out);
	return w;
}

/* "vs baseline: tree_rss +12.3 MiB (+6.8%), cgroup -1.0 MiB (-2.0%)": the
 * metrics over the tolerance first, then the others while they fit. */
static void baseline_line(FILE *out, const struct mg_rv_fixture *f, double y)
{
	size_t n = mg_rv_comparisons(f, NULL, 0), shown = 0, chars = 13;
	const struct mg_rv_metric **c = n ? calloc(n, sizeof *c) : NULL;
	if (!c)
		return;
	mg_rv_comparisons(f, c, n);
	text_open(out, 16, y, NULL, "font-size=\"11\" fill=\"" C_MUTED "\"");
	fputs("vs baseline:", out);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			if (c[i]->baseline_ok != (pass == 1))
				continue;
			size_t w = baseline_item(NULL, c[i]) + 2;
			if (shown && chars + w > BASELINE_CHARS)
				continue;
			fputs(shown ? ", " : " ", out);
			baseline_item(out, c[i]);
			chars += w;
			shown++;
		}
	if (shown < n)
		fprintf(out, ", +%zu more", n - shown);
	fputs("</text>\n", out);
	free(c);
}

static void panel(FILE *out, const struct mg_rv_fixture *f, double y0)
{
	double extra = baseline_room(f);
	struct plot p = {.y0 = y0 + extra};
	panel_title(out, f, y0);
	if (extra)
		baseline_line(out, f, y0 + (plottable(f) ? 40 : 42) + BASELINE_H - 2);
	if (!plottable(f)) {
		short_panel_text(out, f, y0);
		return;
	}
	struct mg_rv_chart c;
	mg_rv_chart_of(f, &c);
	p.y0 += phase_room(f);
	scale(f, &c, &p);
	axes(out, &p, c.label);
	phase_bands(out, &p, f);
	if (c.n == 0) {
		empty_plot(out, p.y0, "no samples");
		return;
	}
	if (with_context(f, &c))
		series_line(out, &p, f->series, f->nseries, C_CONTEXT, 1.2);
	series_line(out, &p, c.pts, c.n, C_LINE, 1.6);
	if (c.fit)
		fit_line(out, &p, f, &c);
	if (c.has_limit)
		limit_line(out, &p, &c);
	legend(out, &p, f, &c);
	end_marker(out, &p, f, &c, c.has_limit ? px_y(&p, to_mib(c.limit_bytes)) : -1.0);
}

int mg_render_svg(json_t *report, FILE *out, char *err, size_t errlen)
{
	struct mg_view v;
	if (mg_view_load(report, &v, err, errlen) < 0)
		return -1;
	double height = HEADER_H + 10, y = HEADER_H;
	for (size_t i = 0; i < v.n; i++)
		height += panel_height(&v.fixtures[i]);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
		     "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" font-size=\"12\" fill=\"" C_TEXT "\">\n",
		WIDTH, height, WIDTH, height);
	fprintf(out, "<title>memgate: %s</title>\n", mg_verdict_upper(v.verdict));
	fputs("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n", out);
	header(out, &v);
	for (size_t i = 0; i < v.n; i++) {
		fputs("<g>\n", out);
		panel(out, &v.fixtures[i], y);
		fputs("</g>\n", out);
		y += panel_height(&v.fixtures[i]);
	}
	fputs("</svg>\n", out);
	mg_view_free(&v);
	return 0;
}
