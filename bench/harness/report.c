/* bench/harness/report.c — the report on standard output: the table of
 * records with their notes, the targets met or missed, the timelines'
 * summaries. */
#include <math.h>
#include <string.h>

#include "harness.h"

/* The goal as the table shows it: ">=20x", "<=1.20t" (weft time over the
 * baseline's), ">=0.90e" (efficiency). */
static void fmt_goal(const bench_record *r, char *buf, size_t cap)
{
    if (!(r->goal > 0)) snprintf(buf, cap, "-");
    else if (r->goal_kind == 'e') snprintf(buf, cap, "eff>=%.2f", r->goal);
    else if (r->goal_kind == 'x') snprintf(buf, cap, ">=%.3gx", r->goal);
    else snprintf(buf, cap, "t<=%.2fx", 1.0 / r->goal);
}

void bench_print_table(FILE *f, const bench_ctx *b)
{
    fprintf(f, "%-10s %-6s %-8s %9s %4s %10s %10s %10s %7s  %-18s %10s %7s %7s  %-9s %-6s  %-17s %s\n", "workload",
            "case", "policy", "size", "thr", "weft", "min", "max", "csw/op", "baseline", "baseline", "csw/op", "ratio",
            "goal", "", "weft throughput", "placement");
    for (size_t i = 0; i < b->nrecords; i++) {
        const bench_record *r = &b->records[i];
        char med[32] = "FAILED", mn[32] = "-", mx[32] = "-", bmed[32] = "FAILED", ratio[32] = "-", goal[32],
             thr[32] = "-", tp[64] = "-", si[32], sw[32], bsw[32];
        if (r->subject.verified) {
            bench_fmt_time(r->subject.s.median, med, sizeof med);
            bench_fmt_time(r->subject.s.min, mn, sizeof mn);
            bench_fmt_time(r->subject.s.max, mx, sizeof mx);
            snprintf(tp, sizeof tp, "%s %s", bench_fmt_si(r->throughput, si, sizeof si), r->unit);
        }
        if (r->base.verified) bench_fmt_time(r->base.s.median, bmed, sizeof bmed);
        else if (r->base.missing) snprintf(bmed, sizeof bmed, "missing");
        if (isfinite(r->ratio)) snprintf(ratio, sizeof ratio, "%.2fx", r->ratio);
        if (r->threads > 0) snprintf(thr, sizeof thr, "%d", r->threads);
        fmt_goal(r, goal, sizeof goal);
        const char *verdict = r->goal > 0 && isfinite(r->ratio) ? bench_goal_met(r) ? "met" : "MISSED" : "";
        fprintf(f, "%-10s %-6s %-8s %9zu %4s %10s %10s %10s %7s  %-18s %10s %7s %7s  %-9s %-6s  %-17s %s%s\n",
                r->workload, r->variant, r->policy, r->size, thr, med, mn, mx,
                bench_fmt_switches(&r->subject, sw, sizeof sw), r->baseline, bmed,
                bench_fmt_switches(&r->base, bsw, sizeof bsw), ratio, goal, verdict, tp, r->placement,
                bench_record_busy(b, r) ? "  [BUSY]" : "");
    }
    fprintf(f, "(weft, min, max: weft's time per op, median of the timed blocks, and their extremes; baseline: the "
               "baseline's median; thr: CPU threads (weft's workers + the calling thread, and as many for the CPU "
               "baseline), or compute units; csw/op: voluntary context switches of the whole process per op over the "
               "timed blocks (getrusage), weft's and the baseline's; ratio = baseline / weft: above 1 weft is faster; "
               "for coexec rows the ratio is the co-execution efficiency; baseline \"missing\": not built in (the note "
               "says why); [BUSY]: fewer effective cores than the machine has, measured just before or "
               "after the workload: other processes ran, trust that row less)\n");
    /* Notes: each text once, with every workload and case it belongs to. */
    int notes = 0;
    for (size_t i = 0; i < b->nrecords; i++) {
        const bench_record *r = &b->records[i];
        if (!r->note[0]) continue;
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++) dup = !strcmp(b->records[j].note, r->note);
        if (dup) continue;
        char who[512] = "";
        for (size_t j = i; j < b->nrecords; j++) {
            const bench_record *q = &b->records[j];
            if (strcmp(q->note, r->note)) continue;
            char one[96];
            snprintf(one, sizeof one, "%s %s", q->workload, q->variant);
            if (strstr(who, one)) continue;
            size_t len = strlen(who);
            snprintf(who + len, sizeof who - len, "%s%s", len ? ", " : "", one);
        }
        fprintf(f, "%s  %s: %s\n", notes++ ? "" : "\nnotes:\n", who, r->note);
    }
    fflush(f);
}

/* The target's name, then its verdict and the figures it was judged on. */
static void print_target(FILE *f, const char *what, int ok, const char *val, int busy)
{
    fprintf(f, "  %-84s %-6s %s%s\n", what, ok ? "met" : "MISSED", val, busy ? " [machine BUSY]" : "");
}

/* The ratio goal of r: 1 when met. */
static int ratio_target(FILE *f, const bench_ctx *b, const bench_record *r)
{
    char what[160], val[256], wt[32], bt[32];
    if (r->target[0]) snprintf(what, sizeof what, "%s", r->target);
    else snprintf(what, sizeof what, "%s %s vs %s", r->workload, r->variant, r->baseline);
    if (!isfinite(r->ratio)) {
        fprintf(f, "  %-84s not measured (%s)\n", what,
                r->base.missing ? "the baseline is not built in: see the notes" : "a check failed");
        return 0;
    }
    bench_fmt_time(r->subject.s.median, wt, sizeof wt);
    bench_fmt_time(r->base.s.median, bt, sizeof bt);
    if (r->goal_kind == 'e')
        snprintf(val, sizeof val, "efficiency %.2f (goal >= %.2f)", r->ratio, r->goal);
    else if (r->goal_kind == 'x' && r->goal >= 1.0)
        snprintf(val, sizeof val, "%.1fx (goal >= %.0fx): %s vs %s %s", r->ratio, r->goal, wt, r->baseline, bt);
    else if (r->goal_kind == 'x')
        snprintf(val, sizeof val, "%.2fx the baseline (goal >= %.2fx): %s vs %s %s", r->ratio, r->goal, wt,
                 r->baseline, bt);
    else
        snprintf(val, sizeof val, "weft/%s time %.3f (goal <= %.2f): %s vs %s", r->baseline, 1.0 / r->ratio,
                 1.0 / r->goal, wt, bt);
    int ok = bench_goal_met(r);
    print_target(f, what, ok, val, bench_record_busy(b, r));
    return ok;
}

/* The context-switch goal of r (weft's side): 1 when met. */
static int switches_target(FILE *f, const bench_ctx *b, const bench_record *r)
{
    char what[160], val[128], sw[32];
    snprintf(what, sizeof what, "voluntary context switches < %.2g per op: %s %s%s%s", r->switches_goal, r->workload,
             r->variant, strcmp(r->policy, "-") ? " " : "", strcmp(r->policy, "-") ? r->policy : "");
    if (!r->subject.verified || !isfinite(r->subject.switches_per_op)) {
        fprintf(f, "  %-84s not measured (a check failed)\n", what);
        return 0;
    }
    snprintf(val, sizeof val, "%s per op (goal < %.2g)", bench_fmt_switches(&r->subject, sw, sizeof sw),
             r->switches_goal);
    int ok = bench_switches_goal_met(r);
    print_target(f, what, ok, val, bench_record_busy(b, r));
    return ok;
}

void bench_print_targets(FILE *f, const bench_ctx *b)
{
    int n = 0, met = 0;
    for (size_t i = 0; i < b->nrecords; i++) {
        const bench_record *r = &b->records[i];
        int ratio = r->goal > 0, switches = r->switches_goal > 0;
        if ((ratio || switches) && !n)
            fprintf(f, "\ntargets (each at the medians of this run)%s:\n",
                    b->opt->smoke ? " — a smoke run checks results only: its times mean nothing" : "");
        n += ratio + switches;
        if (ratio) met += ratio_target(f, b, r);
        if (switches) met += switches_target(f, b, r);
    }
    if (n) fprintf(f, "  %d of %d met\n", met, n);
    fflush(f);
}

void bench_print_timeline(FILE *f, const bench_timeline *tl)
{
    fprintf(f, "\ntimeline %s\n", tl->title);
    for (int id = 0; id <= BENCH_MAX_PLACE_ID; id++) {
        size_t chunks = 0, items = 0;
        double busy = 0;
        const char *name = NULL;
        for (size_t i = 0; i < tl->nchunks; i++) {
            const weft_trace_chunk_t *c = &tl->chunks[i];
            if (c->place_id != id) continue;
            name = c->place;
            chunks++;
            items += c->end - c->begin;
            busy += (double)(c->end_ns - c->start_ns) / 1e6;
        }
        if (name)
            fprintf(f, "  %-40.40s %3zu chunks, %6zu rows (%5.1f%%), busy %.2f ms\n", name, chunks, items,
                    tl->n ? 100.0 * (double)items / (double)tl->n : 0.0, busy);
    }
    fflush(f);
}
