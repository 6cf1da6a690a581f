/* bench/svg.c — weft-bench's picture, written by hand (no dependencies):
 * for each workload and unit a grouped bar chart (one group per case and
 * placement, weft beside its baseline), then the timeline of a split run
 * (one row per place, one box per chunk, labelled with its range). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define W 1000.0
#define FONT "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""
#define C_WEFT "#2f6db5"
#define C_BASE "#b0b0b0"
#define C_FAIL "#d64541"

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* s cut to at most max characters, with "..." when cut. */
static const char *fit(const char *s, size_t max, char *buf, size_t cap)
{
    size_t n = strlen(s);
    if (n <= max || max < 4) snprintf(buf, cap, "%s", s);
    else snprintf(buf, cap, "%.*s...", (int)(max - 3), s);
    return buf;
}

static void text(FILE *f, double x, double y, double size, const char *anchor, const char *extra, const char *s)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" text-anchor=\"%s\"%s%s>", x, y, size, anchor,
            extra ? " " : "", extra ? extra : "");
    esc(f, s);
    fputs("</text>\n", f);
}

/* A step of 1, 2 or 5 x 10^k giving about `ticks` ticks over [0, max]. */
static double nice_step(double max, int ticks)
{
    if (!(max > 0)) return 1.0;
    double raw = max / ticks, mag = pow(10.0, floor(log10(raw))), norm = raw / mag;
    return (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * mag;
}

static void fmt_tick(double v, double step, char *buf, size_t cap)
{
    if (step >= 1000.0) {
        bench_fmt_si(v, buf, cap);
        return;
    }
    int dec = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, cap, "%.*f", dec, v);
}

/* ---- bar charts --------------------------------------------------------- */

static int is_coexec(const bench_record *r) { return !strcmp(r->variant, "coexec"); }

/* Records of one panel: same workload and unit; co-execution apart. */
static int same_panel(const bench_record *a, const bench_record *b)
{
    return !strcmp(a->workload, b->workload) && !strcmp(a->unit, b->unit) && is_coexec(a) == is_coexec(b);
}

static double draw_panel(FILE *f, const bench_ctx *b, size_t first, double top)
{
    const bench_record *r0 = &b->records[first];
    size_t idx[256], n = 0;
    for (size_t i = first; i < b->nrecords && n < 256; i++)
        if (same_panel(&b->records[i], r0)) idx[n++] = i;

    const double ph = 330, left = 90, right = W - 30, ptop = top + 58, pbot = top + ph - 70;
    double max = 0;
    for (size_t i = 0; i < n; i++) {
        const bench_record *r = &b->records[idx[i]];
        if (isfinite(r->throughput) && r->throughput > max) max = r->throughput;
        if (isfinite(r->base_throughput) && r->base_throughput > max) max = r->base_throughput;
    }
    double step = nice_step(max * 1.08, 5), ymax = step * ceil(max * 1.08 / step);
    if (!(ymax > 0)) ymax = 1, step = 0.2;

    /* Title and legend. */
    char title[160], baselines[96] = "";
    for (size_t i = 0; i < n; i++) {
        const char *bn = b->records[idx[i]].baseline;
        if (!strstr(baselines, bn) && strlen(baselines) + strlen(bn) + 3 < sizeof baselines)
            snprintf(baselines + strlen(baselines), sizeof baselines - strlen(baselines), "%s%s",
                     baselines[0] ? ", " : "", bn);
    }
    int one_size = 1;
    for (size_t i = 0; i < n; i++) one_size &= b->records[idx[i]].size == r0->size;
    if (is_coexec(r0))
        snprintf(title, sizeof title, "%s co-execution, size %zu: split vs the places' sum alone (%s; eff = ratio)",
                 r0->workload, r0->size, r0->unit);
    else if (one_size)
        snprintf(title, sizeof title, "%s, size %zu: throughput per placement (%s, higher is better)", r0->workload,
                 r0->size, r0->unit);
    else
        snprintf(title, sizeof title, "%s: throughput per placement (%s, higher is better)", r0->workload, r0->unit);
    text(f, left, top + 24, 17, "start", "font-weight=\"bold\"", title);
    double lx = right - 250, ly = top + 38;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", lx, ly - 10, C_WEFT);
    text(f, lx + 17, ly, 12, "start", NULL, "weft");
    char bl[128];
    snprintf(bl, sizeof bl, "baseline: %s", baselines);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", lx + 70, ly - 10, C_BASE);
    text(f, lx + 87, ly, 12, "start", NULL, bl);

    /* Axes, grid, ticks. */
    for (double v = 0; v <= ymax * (1 + 1e-9); v += step) {
        double y = pbot - (pbot - ptop) * v / ymax;
        char t[32];
        fmt_tick(v, step, t, sizeof t);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n", left, y, right, y);
        text(f, left - 6, y + 4, 11, "end", NULL, t);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", left, ptop, left, pbot);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", left, pbot, right, pbot);
    char ylab[64];
    snprintf(ylab, sizeof ylab, "throughput (%s)", r0->unit);
    char rot[96];
    snprintf(rot, sizeof rot, "transform=\"rotate(-90 %.1f %.1f)\"", left - 58, (ptop + pbot) / 2);
    text(f, left - 58, (ptop + pbot) / 2, 13, "middle", rot, ylab);
    text(f, (left + right) / 2, pbot + 68, 12, "middle", "fill=\"#333\"",
         is_coexec(r0) ? "policy and efficiency; the places; below: split throughput / sum alone"
                       : "case (and policy); where weft ran it; below: ratio = baseline time / weft time (above 1: weft faster)");

    /* Co-execution: where the goal (0.9 of the places' sum) lies, per group. */
    if (is_coexec(r0))
        text(f, right, ptop - 6, 11, "end", "fill=\"#b03030\"",
             "dashed: 0.9 x the sum alone (the goal for guided and adaptive)");

    /* Groups: weft bar and baseline bar side by side. */
    double gw = (right - left) / (double)n, bw = fmin(70.0, gw * 0.32);
    size_t maxc = (size_t)(gw / 6.6);
    for (size_t i = 0; i < n; i++) {
        const bench_record *r = &b->records[idx[i]];
        double cx = left + gw * ((double)i + 0.5);
        double vals[2] = {r->throughput, r->base_throughput};
        int ok[2] = {r->subject.verified, r->base.verified};
        const char *cols[2] = {C_WEFT, C_BASE};
        const char *who[2] = {"weft", r->baseline};
        for (int k = 0; k < 2; k++) {
            double x = cx + (k ? 2.0 : -2.0 - bw);
            char v[32], tip[256];
            if (!ok[k] || !isfinite(vals[k])) {
                text(f, x + bw / 2, pbot - 6, 11, "middle", "fill=\"" C_FAIL "\"", "FAILED");
                continue;
            }
            double h = (pbot - ptop) * vals[k] / ymax;
            snprintf(tip, sizeof tip, "%s %s on %s: %s %s", r->workload, r->variant, r->placement,
                     bench_fmt_si(vals[k], v, sizeof v), r->unit);
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x,
                    pbot - h, bw, h, cols[k]);
            esc(f, tip);
            fputs("</title></rect>\n", f);
            text(f, x + bw / 2, pbot - h - 4, 11, "middle", NULL, bench_fmt_si(vals[k], v, sizeof v));
            text(f, x + bw / 2, pbot + 13, 10, "middle", "fill=\"#555\"", who[k]);
        }
        if (is_coexec(r) && isfinite(r->base_throughput)) {
            double gy = pbot - (pbot - ptop) * 0.9 * r->base_throughput / ymax;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#b03030\" "
                       "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
                    cx - bw - 8, gy, cx + bw + 8, gy);
        }
        char lab[160], buf[160], rat[64];
        if (is_coexec(r)) snprintf(lab, sizeof lab, "%s: eff %.2f", r->policy, r->efficiency);
        else if (strcmp(r->policy, "-") && !strcmp(r->variant, "split")) snprintf(lab, sizeof lab, "split, %s", r->policy);
        else if (one_size) snprintf(lab, sizeof lab, "%s", r->variant);
        else snprintf(lab, sizeof lab, "%s (size %zu)", r->variant, r->size);
        text(f, cx, pbot + 29, 12, "middle", "font-weight=\"bold\"", fit(lab, maxc, buf, sizeof buf));
        text(f, cx, pbot + 43, 11, "middle", NULL, fit(r->placement, maxc, buf, sizeof buf));
        if (isfinite(r->ratio)) {
            /* Green when the goal is met, red when missed; grey without a goal. */
            const char *col = r->goal > 0 ? (r->ratio >= r->goal ? "fill=\"#2a7a3a\" font-weight=\"bold\""
                                                                  : "fill=\"#b03030\" font-weight=\"bold\"")
                                          : "fill=\"#555\"";
            if (r->goal > 0) snprintf(rat, sizeof rat, "%.2fx (goal >= %.2fx)", r->ratio, r->goal);
            else snprintf(rat, sizeof rat, "%.2fx", r->ratio);
            text(f, cx, pbot + 56, 11, "middle", col, fit(rat, maxc, buf, sizeof buf));
        }
    }
    return top + ph;
}

/* ---- the targets, met or missed, first ------------------------------------ */

static double draw_targets(FILE *f, const bench_ctx *b, double top)
{
    size_t met = 0, n = 0;
    for (size_t i = 0; i < b->nrecords; i++) {
        const bench_record *r = &b->records[i];
        if (!(r->goal > 0)) continue;
        n++;
        met += isfinite(r->ratio) && r->ratio >= r->goal;
    }
    char head[128];
    snprintf(head, sizeof head, "Targets: %zu of %zu met%s", met, n,
             b->opt->smoke ? " (a smoke run: times mean nothing)" : "");
    text(f, 20, top + 24, 17, "start", "font-weight=\"bold\"", head);
    double y = top + 44;
    for (size_t i = 0; i < b->nrecords; i++) {
        const bench_record *r = &b->records[i];
        if (!(r->goal > 0)) continue;
        int ok = isfinite(r->ratio) && r->ratio >= r->goal;
        char what[160], val[96];
        if (r->target[0]) snprintf(what, sizeof what, "%s", r->target);
        else snprintf(what, sizeof what, "%s %s vs %s", r->workload, r->variant, r->baseline);
        if (!isfinite(r->ratio)) snprintf(val, sizeof val, "not measured");
        else if (r->goal_kind == 'e') snprintf(val, sizeof val, "efficiency %.2f (goal %.2f)", r->ratio, r->goal);
        else if (r->goal_kind == 'x') snprintf(val, sizeof val, "%.2fx (goal %.2gx)", r->ratio, r->goal);
        else snprintf(val, sizeof val, "weft/baseline time %.2f (goal <= %.2f)", 1.0 / r->ratio, 1.0 / r->goal);
        text(f, 20, y, 12, "start", ok ? "fill=\"#2a7a3a\" font-weight=\"bold\"" : "fill=\"#b03030\" font-weight=\"bold\"",
             ok ? "met" : "MISSED");
        text(f, 80, y, 12, "start", NULL, what);
        char v2[128];
        snprintf(v2, sizeof v2, "%s%s", val, isfinite(r->eff_cores) && bench_busy_machine(b->machine, r->eff_cores)
                                                ? " [machine busy]" : "");
        text(f, 640, y, 12, "start", "fill=\"#333\"", v2);
        y += 17;
    }
    return y + 10;
}

/* ---- timeline ----------------------------------------------------------- */

static const char *const row_colors[] = {"#e8964a", "#2f6db5", "#3c9d5d", "#8e5ab5", "#c9a227", "#3aa7b8"};

#define TL_HEAD 34.0   /* the timelines' heading */
#define TL_SUB 24.0    /* one timeline's title */
#define TL_ROW 40.0    /* one place */
#define TL_AXIS 40.0   /* ticks and axis label under one timeline */

static double timeline_height(const bench_timeline *tl) { return TL_SUB + TL_ROW * tl->nplaces + TL_AXIS; }

/* One timeline, its time axis running to tmax ms (shared by all). */
static double draw_timeline(FILE *f, const bench_timeline *tl, double top, double tmax)
{
    const double left = 250, right = W - 30, row_h = TL_ROW, ptop = top + TL_SUB;
    double pbot = ptop + row_h * tl->nplaces;
    double step = nice_step(tmax, 8);
    tmax = step * ceil(tmax / step - 1e-9);
    double scale = (right - left) / tmax;

    text(f, 20, top + 16, 13, "start", "font-weight=\"bold\"", tl->title);

    for (double t = 0; t <= tmax * (1 + 1e-9); t += step) {
        double x = left + t * scale;
        char lab[32];
        fmt_tick(t, step, lab, sizeof lab);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n", x, ptop, x, pbot);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x, pbot, x, pbot + 5);
        text(f, x, pbot + 17, 11, "middle", NULL, lab);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", left, pbot, right, pbot);
    text(f, right, pbot + 32, 11, "end", "fill=\"#555\"", "ms since the first chunk started");

    for (int r = 0; r < tl->nplaces; r++) {
        double y = ptop + row_h * r;
        const char *col = row_colors[(size_t)tl->place_id[r] % (sizeof row_colors / sizeof row_colors[0])];
        size_t items = 0, chunks = 0;
        for (size_t i = 0; i < tl->nspans; i++)
            if (tl->spans[i].place == tl->place_id[r]) {
                items += tl->spans[i].end - tl->spans[i].begin;
                chunks++;
            }
        char buf[160], sub[96], si[32];
        if (r % 2) fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f6f6f6\"/>\n",
                           left, y, right - left, row_h);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" font-weight=\"bold\"><title>",
                left - 8, y + 19);
        esc(f, tl->place_name[r]);
        fputs("</title>", f);
        esc(f, fit(tl->place_name[r], 32, buf, sizeof buf));
        fputs("</text>\n", f);
        if (items < 100000) snprintf(si, sizeof si, "%zu", items);
        else bench_fmt_si((double)items, si, sizeof si);
        snprintf(sub, sizeof sub, "%zu chunk%s, %s rows (%.0f%%)", chunks, chunks == 1 ? "" : "s", si,
                 tl->n ? 100.0 * (double)items / (double)tl->n : 0.0);
        text(f, left - 8, y + 32, 11, "end", "fill=\"#555\"", sub);

        /* Lanes, should chunks of one place overlap in time. */
        double lane_end[8] = {0};
        int lanes = 1;
        int *lane = calloc(tl->nspans ? tl->nspans : 1, sizeof *lane);
        for (size_t i = 0; lane && i < tl->nspans; i++) {
            const bench_span *s = &tl->spans[i];
            if (s->place != tl->place_id[r]) continue;
            int l = 0;
            while (l < 8 && l < lanes && lane_end[l] > s->t0_ms + 1e-6) l++;
            if (l == 8) l = 7;
            if (l == lanes) lanes++;
            lane[i] = l;
            lane_end[l] = s->t1_ms;
        }
        double lh = (row_h - 8) / lanes;
        for (size_t i = 0; i < tl->nspans; i++) {
            const bench_span *s = &tl->spans[i];
            if (s->place != tl->place_id[r]) continue;
            double x0 = left + s->t0_ms * scale, w = fmax((s->t1_ms - s->t0_ms) * scale, 1.0);
            double yy = y + 4 + lh * (lane ? lane[i] : 0);
            char tip[192], lab[64];
            snprintf(tip, sizeof tip, "%s [%zu, %zu): %zu items, %.3f to %.3f ms%s", tl->place_name[r], s->begin, s->end,
                     s->end - s->begin, s->t0_ms, s->t1_ms, s->failed ? ", FAILED" : "");
            fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\" stroke=\"#fff\" "
                       "stroke-width=\"1\"><title>",
                    x0, yy, w, lh, s->failed ? C_FAIL : col);
            esc(f, tip);
            fputs("</title></rect>\n", f);
            /* The range, if it fits; else its size; else nothing (hover shows it). */
            snprintf(lab, sizeof lab, "[%zu, %zu)", s->begin, s->end);
            if (strlen(lab) * 5.6 + 6 > w) snprintf(lab, sizeof lab, "%zu", s->end - s->begin);
            if (strlen(lab) * 5.6 + 6 <= w && lh >= 11)
                text(f, x0 + w / 2, yy + lh / 2 + 3.5, 10, "middle", "fill=\"#fff\"", lab);
        }
        free(lane);
    }
    return pbot + TL_AXIS;
}

int bench_write_svg(const char *path, const bench_ctx *b, const bench_timeline *tls, int ntl)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    /* Height first: panels, then the timeline. */
    size_t npanels = 0;
    for (size_t i = 0; i < b->nrecords; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++) seen |= same_panel(&b->records[j], &b->records[i]);
        npanels += !seen;
    }
    double tl_h = 0, tmax = 0;
    int has_tl = 0;
    for (int i = 0; tls && i < ntl; i++) {
        if (!tls[i].nspans) continue;
        has_tl++;
        tl_h += timeline_height(&tls[i]);
        if (tls[i].end_ms > tmax) tmax = tls[i].end_ms;
    }
    if (has_tl) tl_h += TL_HEAD + 10;
    size_t ngoals = 0;
    for (size_t i = 0; i < b->nrecords; i++) ngoals += b->records[i].goal > 0;
    double targets_h = ngoals ? 40 + 17.0 * (double)ngoals + 10 : 0;
    double h = 70 + targets_h + 330.0 * (double)npanels + tl_h + 10;
    if (!npanels && !has_tl) h += 40;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" " FONT ">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
            W, h, W, h);
    const bench_machine *m = b->machine;
    char head[768];
    snprintf(head, sizeof head, "weft-bench %s (weft %s) on %s, %s, %d CPU workers, %d device%s", 
             b->opt->smoke ? "smoke run" : b->opt->quick ? "quick run" : "run", m->weft_version, m->hostname,
             m->cpu_model, m->workers, m->ndevices, m->ndevices == 1 ? "" : "s");
    text(f, 20, 28, 18, "start", "font-weight=\"bold\"", head);
    int nmin = 0, nmax = 0;
    for (size_t i = 0; i < b->nrecords; i++) {
        int n = b->records[i].subject.s.n;
        if (n > 0 && (!nmin || n < nmin)) nmin = n;
        if (n > nmax) nmax = n;
    }
    char blocks[48];
    if (nmin == nmax) snprintf(blocks, sizeof blocks, "%d", nmax);
    else snprintf(blocks, sizeof blocks, "%d to %d", nmin, nmax);
    snprintf(head, sizeof head, "per-op medians of %s timed blocks per case; effective cores %.2f at start, %.2f at end%s", blocks,
             m->eff_cores_start, m->eff_cores_end,
             bench_busy_machine(m, m->eff_cores_start) || bench_busy_machine(m, m->eff_cores_end)
                 ? " (machine busy: ratios unreliable)" : "");
    text(f, 20, 48, 12, "start", "fill=\"#555\"", head);
    double y = 60;
    if (ngoals) y = draw_targets(f, b, y);
    for (size_t i = 0; i < b->nrecords; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++) seen |= same_panel(&b->records[j], &b->records[i]);
        if (!seen) y = draw_panel(f, b, i, y);
    }
    if (!npanels) {
        text(f, 20, y + 24, 13, "start", NULL, "no measurements");
        y += 40;
    }
    if (has_tl) {
        y += 10;
        text(f, 20, y + 22, 17, "start", "font-weight=\"bold\"",
             "Split run timelines: which place ran which rows when, one run per policy (same time scale)");
        y += TL_HEAD;
        for (int i = 0; i < ntl; i++)
            if (tls[i].nspans) y = draw_timeline(f, &tls[i], y, tmax > 0 ? tmax : 1.0);
    }
    fputs("</svg>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}
