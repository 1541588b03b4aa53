/*
 * load_svg.c - keyflow load --plot: the run as one self-contained SVG file
 * (no scripts, fonts or style sheets from elsewhere) that any browser
 * opens.
 *
 * Two charts, one above the other, each a <g> with an id so tools can find
 * them: "throughput", backup (and restore) MB/s over the seconds of the
 * run, from the time series; and "latency", the distribution of backup
 * job latencies as a histogram (bars, job counts on the left axis) with
 * the cumulative distribution over it (a line, percent on the right axis)
 * and the p50, p95 and p99 marked.  Axes have ticks at round values and
 * say their unit.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "load.h"

#define W		900	/* whole picture */
#define H		760
#define ML		80	/* plot margins inside a chart */
#define MR		80
#define MT		50
#define MB		60
#define CH		360	/* chart height */
#define BINS		30	/* histogram bars */

#define C_BACKUP	"#1f77b4"
#define C_RESTORE	"#ff7f0e"
#define C_BAR		"#9ecae1"
#define C_CDF		"#d62728"
#define C_AXIS		"#333333"
#define C_GRID		"#dddddd"

/* One plot area: where it is and what it shows. */
struct area {
	double	x0, y0;		/* top left of the plot, pixels */
	double	w, h;		/* size of the plot, pixels */
	double	xmax;		/* x value at the right edge (from 0) */
	double	ymax;		/* y value at the top (from 0) */
};

/* A round tick step so that max spans about n ticks: 1, 2 or 5 x 10^k. */
static double
nice_step(double max, int n)
{
	double	raw, mag = 1, f;

	if (!(max > 0) || max > 1e15)
		return 1;
	raw = max / n;
	/* mag = 10^floor(log10(raw)), without libm. */
	while (mag > raw)
		mag /= 10;
	while (mag * 10 <= raw)
		mag *= 10;
	f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* The axis end: max rounded up to a whole number of steps. */
static double
nice_max(double max, int n)
{
	double	s = nice_step(max, n), k;

	if (!(max > 0) || max > 1e15)
		return 1;
	k = (double)(uint64_t)(max / s);	/* ceil(max / s) */
	if (k * s < max)
		k++;
	return k * s;
}

static double
px_x(const struct area *a, double v)
{
	return a->x0 + (a->xmax > 0 ? v / a->xmax : 0) * a->w;
}

static double
px_y(const struct area *a, double v, double ymax)
{
	return a->y0 + a->h - (ymax > 0 ? v / ymax : 0) * a->h;
}

static void
text(FILE *f, double x, double y, const char *anchor, int size,
    const char *extra, const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
	    "font-family=\"sans-serif\" font-size=\"%d\" fill=\"%s\"%s%s>",
	    x, y, anchor, size, C_AXIS, extra ? " " : "", extra ? extra : "");
	for (; *s != '\0'; s++)
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		default:
			fputc(*s, f);
		}
	fputs("</text>\n", f);
}

/* Frame, grid, ticks and labels; right_max > 0 adds a percent axis. */
static void
axes(FILE *f, const struct area *a, const char *xlabel, const char *ylabel,
    double right_max, const char *rlabel)
{
	char	buf[32];
	double	v, s;

	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
	    "height=\"%.1f\" fill=\"none\" stroke=\"%s\"/>\n", a->x0, a->y0,
	    a->w, a->h, C_AXIS);
	s = nice_step(a->xmax, 10);
	for (v = 0; v <= a->xmax * (1 + 1e-9); v += s) {
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"%s\"/>\n", px_x(a, v), a->y0,
		    px_x(a, v), a->y0 + a->h, C_GRID);
		snprintf(buf, sizeof(buf), "%g", v);
		text(f, px_x(a, v), a->y0 + a->h + 18, "middle", 12, NULL,
		    buf);
	}
	s = nice_step(a->ymax, 6);
	for (v = 0; v <= a->ymax * (1 + 1e-9); v += s) {
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"%s\"/>\n", a->x0, px_y(a, v, a->ymax),
		    a->x0 + a->w, px_y(a, v, a->ymax), C_GRID);
		snprintf(buf, sizeof(buf), "%g", v);
		text(f, a->x0 - 8, px_y(a, v, a->ymax) + 4, "end", 12, NULL,
		    buf);
	}
	text(f, a->x0 + a->w / 2, a->y0 + a->h + 42, "middle", 13, NULL,
	    xlabel);
	snprintf(buf, sizeof(buf), "rotate(-90 %.1f %.1f)", a->x0 - 55,
	    a->y0 + a->h / 2);
	fprintf(f, "<g transform=\"%s\">\n", buf);
	text(f, a->x0 - 55, a->y0 + a->h / 2, "middle", 13, NULL, ylabel);
	fputs("</g>\n", f);
	if (right_max <= 0)
		return;
	for (v = 0; v <= right_max; v += right_max / 4) {
		snprintf(buf, sizeof(buf), "%g%%", v);
		text(f, a->x0 + a->w + 8, px_y(a, v, right_max) + 4, "start",
		    12, NULL, buf);
	}
	snprintf(buf, sizeof(buf), "rotate(90 %.1f %.1f)", a->x0 + a->w + 55,
	    a->y0 + a->h / 2);
	fprintf(f, "<g transform=\"%s\">\n", buf);
	text(f, a->x0 + a->w + 55, a->y0 + a->h / 2, "middle", 13, NULL,
	    rlabel);
	fputs("</g>\n", f);
}

static void
legend(FILE *f, double x, double y, const char *color, const char *label)
{
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"%s\" stroke-width=\"3\"/>\n", x, y - 4, x + 24, y - 4,
	    color);
	text(f, x + 30, y, "start", 12, NULL, label);
}

static void
line_series(FILE *f, const struct area *a, const struct load_result *r,
    int restore, const char *color)
{
	const struct load_sample	*s;
	size_t				 i;

	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
	    "points=\"%.1f,%.1f", color, px_x(a, 0), px_y(a, 0, a->ymax));
	for (i = 0; i < r->nsamples; i++) {
		s = &r->samples[i];
		fprintf(f, " %.1f,%.1f", px_x(a, s->t_s), px_y(a, restore ?
		    s->restore_mbs : s->backup_mbs, a->ymax));
	}
	fputs("\"/>\n", f);
}

static void
chart_throughput(FILE *f, const struct load_result *r, double top)
{
	struct area	a;
	double		ymax = 0, xmax = 0;
	size_t		i;
	int		restores = r->conf != NULL && r->conf->restore;

	for (i = 0; i < r->nsamples; i++) {
		if (r->samples[i].backup_mbs > ymax)
			ymax = r->samples[i].backup_mbs;
		if (restores && r->samples[i].restore_mbs > ymax)
			ymax = r->samples[i].restore_mbs;
		if (r->samples[i].t_s > xmax)
			xmax = r->samples[i].t_s;
	}
	a.x0 = ML;
	a.y0 = top + MT;
	a.w = W - ML - MR;
	a.h = CH - MT - MB;
	a.xmax = nice_max(xmax, 10);
	a.ymax = nice_max(ymax, 6);
	fputs("<g id=\"throughput\">\n", f);
	text(f, W / 2.0, top + 28, "middle", 16, "font-weight=\"bold\"",
	    "Throughput over time");
	axes(f, &a, "time since start (s)", "throughput (MB/s)", 0, NULL);
	if (r->nsamples == 0)
		text(f, W / 2.0, a.y0 + a.h / 2, "middle", 14, NULL,
		    "no samples");
	else {
		line_series(f, &a, r, 0, C_BACKUP);
		legend(f, a.x0 + 10, top + 44, C_BACKUP, "backup MB/s");
		if (restores) {
			line_series(f, &a, r, 1, C_RESTORE);
			legend(f, a.x0 + 150, top + 44, C_RESTORE,
			    "restore MB/s");
		}
	}
	fputs("</g>\n", f);
}

/* A dashed line at ms, labelled on row (0, 1, 2) so labels never overlap. */
static void
pct_marker(FILE *f, const struct area *a, double ms, const char *label,
    int row)
{
	double	x = px_x(a, ms);
	int	left = x > a->x0 + a->w * 0.75;	/* label left of the line */

	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"%s\" stroke-dasharray=\"4 3\"/>\n", x, a->y0, x,
	    a->y0 + a->h, C_AXIS);
	text(f, left ? x - 3 : x + 3, a->y0 + 14 + 14 * row,
	    left ? "end" : "start", 11, NULL, label);
}

static void
chart_latency(FILE *f, struct load_result *r, double top)
{
	struct load_vals	*v = &r->lat_b;
	struct area		 a;
	unsigned		 hist[BINS];
	double			 maxms, binw, cmax = 0, x;
	char			 buf[64];
	size_t			 i;
	int			 b;

	memset(hist, 0, sizeof(hist));
	a.x0 = ML;
	a.y0 = top + MT;
	a.w = W - ML - MR;
	a.h = CH - MT - MB;
	maxms = v->n > 0 ? load_vals_max(v) / 1000 : 0;
	a.xmax = nice_max(maxms, 10);
	binw = a.xmax / BINS;
	for (i = 0; i < v->n; i++) {
		b = (int)(v->v[i] / 1000 / binw);
		hist[b >= BINS ? BINS - 1 : (b < 0 ? 0 : b)]++;
	}
	for (b = 0; b < BINS; b++)
		if (hist[b] > cmax)
			cmax = hist[b];
	a.ymax = nice_max(cmax, 6);
	fputs("<g id=\"latency\">\n", f);
	text(f, W / 2.0, top + 28, "middle", 16, "font-weight=\"bold\"",
	    "Backup job latency distribution");
	axes(f, &a, "job latency (ms)", "jobs", 100, "cumulative (%)");
	if (v->n == 0) {
		text(f, W / 2.0, a.y0 + a.h / 2, "middle", 14, NULL,
		    "no completed backups");
		fputs("</g>\n", f);
		return;
	}
	for (b = 0; b < BINS; b++) {
		if (hist[b] == 0)
			continue;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\" fill=\"%s\" stroke=\"white\"/>\n",
		    px_x(&a, b * binw), px_y(&a, hist[b], a.ymax),
		    a.w / BINS, a.y0 + a.h - px_y(&a, hist[b], a.ymax), C_BAR);
	}
	/* v is sorted now (load_vals_max sorted it). */
	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
	    "points=\"%.1f,%.1f", C_CDF, px_x(&a, 0), px_y(&a, 0, 100));
	for (i = 0; i < v->n; i++) {
		x = px_x(&a, v->v[i] / 1000);
		fprintf(f, " %.1f,%.1f %.1f,%.1f", x, px_y(&a,
		    100.0 * (double)i / (double)v->n, 100), x, px_y(&a,
		    100.0 * (double)(i + 1) / (double)v->n, 100));
	}
	fputs("\"/>\n", f);
	snprintf(buf, sizeof(buf), "p50 %.1f ms", load_vals_pct(v, 50) / 1000);
	pct_marker(f, &a, load_vals_pct(v, 50) / 1000, buf, 0);
	snprintf(buf, sizeof(buf), "p95 %.1f ms", load_vals_pct(v, 95) / 1000);
	pct_marker(f, &a, load_vals_pct(v, 95) / 1000, buf, 1);
	snprintf(buf, sizeof(buf), "p99 %.1f ms", load_vals_pct(v, 99) / 1000);
	pct_marker(f, &a, load_vals_pct(v, 99) / 1000, buf, 2);
	legend(f, a.x0 + 10, top + 44, C_CDF, "cumulative share of jobs");
	fputs("</g>\n", f);
}

int
load_svg(FILE *f, struct load_result *r)
{
	char	title[160];

	if (r->conf != NULL)
		snprintf(title, sizeof(title), "keyflow load: %u clients, "
		    "%llu backups completed in %.1f s", r->conf->clients,
		    (unsigned long long)r->b_completed, r->wall_us / 1e6);
	else
		snprintf(title, sizeof(title), "keyflow load");
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\">\n", W, H, W, H);
	fprintf(f, "<title>%s</title>\n", title);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W,
	    H);
	text(f, W / 2.0, 22, "middle", 14, NULL, title);
	chart_throughput(f, r, 20);
	chart_latency(f, r, 20 + CH + 10);
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}
