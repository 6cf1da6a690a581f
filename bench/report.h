/* bench/report.h — the picture weft-bench draws (--svg FILE): bars of
 * throughput per placement for each workload, and the timeline of one
 * weft_parallel_for split across the CPU workers and every device, read back
 * from the Chrome trace weft writes (one per policy). */
#ifndef WEFT_BENCH_REPORT_H
#define WEFT_BENCH_REPORT_H

#include <stddef.h>

#include "harness.h"

/* One chunk of the split run, as the trace recorded it. */
typedef struct bench_span {
    int place;                    /* trace "tid": 0 CPU, 1 + i device i */
    size_t begin, end;            /* args.begin, args.end */
    double t0_ms, t1_ms;          /* from the first chunk's start */
    int failed;
} bench_span;

#define BENCH_MAX_PLACES 65

typedef struct bench_timeline {
    char title[256];
    char kernel[64];
    char policy[16];
    size_t n;                     /* split indices (rows) of the run */
    double wall_ms;               /* weft_parallel_run start to return */
    int nplaces;                  /* rows, in tid order */
    int place_id[BENCH_MAX_PLACES];
    char place_name[BENCH_MAX_PLACES][128];
    bench_span *spans;
    size_t nspans;
    double end_ms;                /* end of the last chunk */
    int verified;
    char trace_path[64];          /* the trace file: remove it after the runtime is destroyed */
} bench_timeline;

/* The timelines drawn: Mandelbrot split across every place, one per policy. */
#define BENCH_TIMELINES 4

/* Run the split Mandelbrot under policy_kind with a trace on, check its
 * result, and read the trace into tl. 0, or -1 with the reason on stderr
 * (tl is then empty). */
int bench_timeline_run(bench_ctx *b, bench_timeline *tl, int policy_kind);
/* Remove the trace file (call after weft_runtime_destroy, which writes it again). */
void bench_timeline_cleanup(bench_timeline *tl);
/* Parse a Chrome trace written by weft_trace_flush into tl (spans and place
 * names; title, kernel and n untouched). 0, or -1 when it cannot be read. */
int bench_trace_parse(const char *path, bench_timeline *tl);
void bench_timeline_free(bench_timeline *tl);
/* Print one line per place: chunks, items, busy time. */
void bench_timeline_print(FILE *f, const bench_timeline *tl);

/* Write the SVG: one bar chart per workload and unit, then the ntl timelines
 * that have spans, on one time scale. 0, or -1 (errno set) when it cannot be
 * written. */
int bench_write_svg(const char *path, const bench_ctx *b, const bench_timeline *tl, int ntl);

#endif
