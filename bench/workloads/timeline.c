/* bench/workloads/timeline.c — the timelines: the bundled Mandelbrot split
 * across the CPU workers and every device, once per policy, each run traced
 * (weft_trace_start) and its chunks read back with weft_trace_chunks(), for
 * the report and the JSON file (bench/plot.py draws them). Mandelbrot,
 * because its rows cost unevenly: a timeline shows how each policy hands
 * out chunks and where places wait. */
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

static int traced_run(bench_ctx *b, bench_op *w, int policy_kind, bench_timeline *tl)
{
    const bench_op_def *d = w->def;
    weft_policy_t pol = bench_policy(policy_kind, 1, weft_device_mask(b->rt, 0));
    const char *pname = bench_policy_name(policy_kind);
    char who[64], why[256] = "", desc[96];
    snprintf(who, sizeof who, "timeline %s", pname);
    /* Twice untraced, checked, so that the traced run shows neither the
     * program build nor the first sight of a chunk shape (PoCL compiles a
     * work-group function per new launch shape), and the adaptive policy has
     * its model. Then once traced, in memory only (a NULL path): the
     * chunks come from weft_trace_chunks. */
    for (int i = 0; i < 3; i++) {
        if (i == 2 && weft_trace_start(b->rt, NULL)) {
            bench_progress("timeline: weft_trace_start: %s", weft_last_error_message());
            return -1;
        }
        double t0 = bench_now();
        if (bench_op_run_weft(w, NULL, b->rt, &pol, who)) return -1;
        tl->wall_ms = (bench_now() - t0) * 1e3;
        if (d->check(w, 1, why, sizeof why)) {
            bench_progress("timeline: %s: WRONG RESULT: %s", pname, why);
            b->failures++;
            return -1;
        }
    }
    size_t n = 0;
    if (weft_trace_chunks(b->rt, NULL, 0, &n) || !(tl->chunks = calloc(n ? n : 1, sizeof *tl->chunks)) ||
        weft_trace_chunks(b->rt, tl->chunks, n, &tl->nchunks)) {
        bench_progress("timeline: weft_trace_chunks: %s", weft_last_error_message());
        return -1;
    }
    if (tl->nchunks > n) tl->nchunks = n;
    const weft_k_args_t *a = &w->args;
    int ndev = weft_device_count(b->rt);
    tl->n = a->range.size[a->range.dims - 1]; /* split indices: rows */
    snprintf(tl->policy, sizeof tl->policy, "%s", pname);
    d->describe(w, desc, sizeof desc);
    snprintf(tl->title, sizeof tl->title, "%s: weft_k_mandelbrot %s, CPU (%d workers) + %d device%s: %.1f ms", pname,
             desc, b->workers, ndev, ndev == 1 ? "" : "s", tl->wall_ms);
    return 0;
}

int bench_timelines_run(bench_ctx *b)
{
    if (weft_device_count(b->rt) == 0) {
        bench_progress("timelines: no OpenCL device opened: no split run to trace");
        return 0;
    }
    bench_progress("timelines: a traced weft_k_mandelbrot across the CPU and every device, per policy");
    /* Its own size (--size belongs to the workloads): several chunks per
     * place, short enough for a quick run. */
    const bench_op_def *d = &bench_op_mandelbrot;
    const bench_options *o = b->opt;
    bench_op *w = bench_op_new(d, o->smoke ? d->size_smoke : o->quick ? d->size_quick : d->size_full, b);
    if (!w) return -1;
    int status = 0;
    for (int p = 0; p < BENCH_NPOLICIES; p++) {
        bench_timeline *tl = &b->timelines[b->ntimelines];
        memset(tl, 0, sizeof *tl);
        if (traced_run(b, w, bench_policies[p], tl) == 0) b->ntimelines++;
        else {
            free(tl->chunks);
            status = -1;
        }
    }
    bench_op_free(w);
    return status;
}

void bench_timelines_free(bench_ctx *b)
{
    for (int i = 0; i < b->ntimelines; i++) free(b->timelines[i].chunks);
    b->ntimelines = 0;
}
