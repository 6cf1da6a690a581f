/* bench/harness/measure.c — the clock, medians, and timed blocks of a set
 * of cases in interleaved rounds (see harness.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "harness.h"

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bench_sleep(double s)
{
    if (s <= 0) return;
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

void bench_progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("weft-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- statistics -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, min and max of n samples (reordered). */
static bench_stats bench_stats_of(double *samples, int n)
{
    bench_stats s = {NAN, NAN, NAN, n};
    if (n <= 0) return s;
    qsort(samples, (size_t)n, sizeof *samples, cmp_double);
    s.min = samples[0];
    s.max = samples[n - 1];
    s.median = (n % 2) ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
    return s;
}

/* ---- measuring --------------------------------------------------------- */

/* Voluntary context switches of every thread of the process so far: a
 * thread that blocks (parks, waits on a futex, sleeps) adds one. */
static long vol_switches(void)
{
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_nvcsw : 0;
}

/* *switches (may be NULL) gets the voluntary context switches of the timed
 * span after its first iteration, and *counted the iterations they cover.
 * The first iteration of a block wakes the threads that slept while the
 * other cases ran and the harness settled; in a hot loop no such gap comes
 * between two operations, so that wake-up is not counted (for weft and its
 * baseline alike). The block is still timed whole: the getrusage call in
 * between costs about a microsecond of a block of milliseconds. */
static int time_block(const bench_case *c, uint64_t iters, double *secs, long *switches, uint64_t *counted)
{
    double t0 = bench_now();
    int rc = 0;
    long v0 = 0;
    uint64_t first = 0;
    if (switches) {
        first = iters > 1 ? 1 : 0;
        if (first) rc = c->body(c->ctx, first);
        v0 = vol_switches();
        *counted = iters - first;
    }
    if (rc == 0) rc = c->body(c->ctx, iters - first);
    *secs = bench_now() - t0;
    if (switches) *switches = vol_switches() - v0;
    /* A costly check runs after the clock stopped. */
    if (c->check && c->check(c->ctx, iters)) rc = -1;
    return rc;
}

/* Find how many iterations make one block last about target seconds. */
static int calibrate(const bench_case *c, double target, uint64_t *out)
{
    uint64_t iters = 1;
    double t0;
    /* One untimed iteration first: one-time costs (a device compiling the
     * kernel at its first launch, first touch of pages) are not the op's,
     * and would make the block one iteration long. */
    if (time_block(c, 1, &t0, NULL, NULL)) return -1;
    for (;;) {
        double t;
        if (time_block(c, iters, &t, NULL, NULL)) return -1;
        if (t >= 0.5 * target || iters >= (UINT64_C(1) << 40)) {
            double scaled = t > 0 ? (double)iters * target / t : (double)iters;
            *out = scaled < 1.0 ? 1 : (uint64_t)scaled;
            return 0;
        }
        double grow = t > 0 ? fmin(fmax(1.5 * target / t, 2.0), 16.0) : 16.0;
        iters = (uint64_t)((double)iters * grow);
    }
}

/* One timed block; a failed check marks the case unverified for good.
 * switches, counted: as time_block's. */
static int one_block(const char *label, const bench_case *c, bench_measure *m, const char *when, double *t,
                     long *switches, uint64_t *counted)
{
    if (!m->verified) return -1;
    if (time_block(c, m->iters, t, switches, counted) == 0) return 0;
    bench_progress("%s: %s: result check FAILED%s", label, c->name, when);
    m->verified = 0;
    return -1;
}

void bench_measure_set(bench_ctx *b, const char *label, const bench_case *cases, int n, bench_measure *out)
{
    const bench_options *o = b->opt;
    int reps = o->reps > 0 ? o->reps : 1;
    if (b->min_reps > reps) reps = b->min_reps;
    if (b->max_reps > 0 && reps > b->max_reps) reps = b->max_reps > b->min_reps ? b->max_reps : b->min_reps;
    double *samples = calloc((size_t)reps * (size_t)(n > 0 ? n : 1), sizeof(double));
    int *cnt = calloc((size_t)(n > 0 ? n : 1), sizeof(int));
    long *switches = calloc((size_t)(n > 0 ? n : 1), sizeof(long)); /* over the timed blocks */
    double *counted = calloc((size_t)(n > 0 ? n : 1), sizeof(double)); /* the operations they cover */

    for (int k = 0; k < n; k++) {
        memset(&out[k], 0, sizeof out[k]);
        out[k].verified = samples != NULL && cnt != NULL && switches != NULL && counted != NULL;
        out[k].s = bench_stats_of(NULL, 0);
        out[k].switches_per_op = NAN;
    }
    for (int k = 0; k < n; k++) {
        if (!out[k].verified) continue;
        bench_progress("%s: sizing blocks for %s", label, cases[k].name);
        if (calibrate(&cases[k], o->block_s, &out[k].iters)) {
            bench_progress("%s: %s: result check FAILED while sizing", label, cases[k].name);
            out[k].verified = 0;
        }
        bench_sleep(o->settle_s);
    }
    for (int w = 0; w < o->warmup; w++)
        for (int k = 0; k < n; k++) {
            double t;
            if (one_block(label, &cases[k], &out[k], " in warm-up", &t, NULL, NULL) == 0) bench_sleep(o->settle_s);
        }
    bench_progress("%s: timing %d blocks of each of %d cases", label, reps, n);
    for (int r = 0; r < reps; r++)
        for (int j = 0; j < n; j++) {
            int k = (j + r) % n; /* rotate which case goes first (for two: alternate) */
            double t;
            long sw;
            uint64_t its;
            if (one_block(label, &cases[k], &out[k], "", &t, &sw, &its)) continue;
            samples[(size_t)k * (size_t)reps + (size_t)cnt[k]++] = t / ((double)out[k].iters * cases[k].ops_per_iter);
            switches[k] += sw;
            counted[k] += (double)its * cases[k].ops_per_iter;
            bench_sleep(o->settle_s);
        }
    for (int k = 0; k < n; k++) {
        if (!out[k].verified) continue;
        out[k].s = bench_stats_of(samples + (size_t)k * (size_t)reps, cnt[k]);
        if (counted[k] > 0) out[k].switches_per_op = (double)switches[k] / counted[k];
    }
    free(samples);
    free(cnt);
    free(switches);
    free(counted);
}
