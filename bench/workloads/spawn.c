/* bench/workloads/spawn.c — workload "spawn": the cost of spawn + join of an
 * empty task.
 *
 *   loop:  spawn one task, join it, repeat (one task in flight)
 *   batch: spawn N tasks, then join them all; reported per task
 *
 * Baselines, each the same two ways, in one interleaved set with weft:
 *   pthread_create + pthread_join of an empty thread;
 *   oneTBB: tbb::task_group run + wait (tbb_baseline.cpp), in an arena as
 *     wide as the CPU threads weft uses;
 *   OpenMP tasks: `omp task` + `taskwait` inside a `single` region of as
 *     many threads.
 * Every task returns (or stores) its argument; the sum is checked after
 * every round. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tbb_baseline.h"
#include "workloads.h"

#define SPAWN_GOAL 20.0          /* weft spawn+join aims to be >= 20x cheaper than a thread */
#define TBB_BATCH_GOAL 1.0       /* ... no slower than oneTBB in batches */
#define TBB_LOOP_GOAL (1.0 / 1.5) /* ... within 1.5x of oneTBB one at a time */
#define DEFAULT_BATCH 1000

enum { WEFT, PTHREAD, TBB, OMP, NKINDS };
static const char *const kind_names[NKINDS] = {"weft", "pthread", "tbb task_group", "omp task"};

static void *empty_task(void *arg) { return arg; }

struct spawn_ctx {
    int kind;
    weft_runtime_t *rt;
    size_t batch;            /* tasks in flight at once */
    int threads;             /* OMP: the region's threads */
    bench_tbb *tbb;
    weft_handle_t **handles; /* WEFT */
    pthread_t *pthreads;     /* PTHREAD */
    uintptr_t *results;      /* OMP: each task's result */
};

static uint64_t want_sum(size_t batch) { return (uint64_t)batch * (batch + 1) / 2; }

/* weft and pthreads: start a batch, join it, check the sum. */
static int spawn_join(void *p, uint64_t iters)
{
    struct spawn_ctx *c = p;
    int weft = c->kind == WEFT;
    for (uint64_t it = 0; it < iters; it++) {
        size_t started = 0;
        uint64_t sum = 0;
        for (; started < c->batch; started++) {
            void *arg = (void *)(uintptr_t)(started + 1);
            if (weft ? weft_spawn(c->rt, empty_task, arg, &c->handles[started])
                     : pthread_create(&c->pthreads[started], NULL, empty_task, arg))
                break;
        }
        int rc = started == c->batch ? 0 : -1;
        for (size_t i = 0; i < started; i++) {
            void *r = NULL;
            if (weft ? weft_join(c->handles[i], &r, NULL) : pthread_join(c->pthreads[i], &r)) rc = -1;
            sum += (uintptr_t)r;
        }
        if (rc || sum != want_sum(c->batch)) return -1;
    }
    return 0;
}

/* OpenMP: one region per block (as the weft pool and the oneTBB arena stay
 * up between rounds); one thread spawns each round's tasks, then waits. */
static int omp_tasks(void *p, uint64_t iters)
{
    struct spawn_ctx *c = p;
    uintptr_t *out = c->results;
    const size_t batch = c->batch;
    int bad = 0;
#pragma omp parallel num_threads(c->threads)
#pragma omp single
    for (uint64_t it = 0; it < iters && !bad; it++) {
        for (size_t i = 0; i < batch; i++) {
#pragma omp task firstprivate(i)
            out[i] = (uintptr_t)empty_task((void *)(uintptr_t)(i + 1));
        }
#pragma omp taskwait
        uint64_t sum = 0;
        for (size_t i = 0; i < batch; i++) {
            sum += out[i];
            out[i] = 0; /* a task that did not run cannot pass the next round */
        }
        bad = sum != want_sum(batch);
    }
    return bad ? -1 : 0;
}

static int tbb_tasks(void *p, uint64_t iters)
{
    struct spawn_ctx *c = p;
    return bench_tbb_spawn_join(c->tbb, c->batch, iters);
}

static const bench_body_fn bodies[NKINDS] = {spawn_join, spawn_join, tbb_tasks, omp_tasks};

/* The record of weft (m[WEFT]) against baseline k; aim: its target, NULL for none. */
static bench_record *add(bench_ctx *b, const char *variant, size_t batch, const bench_measure *m, int k, double goal,
                         const char *aim)
{
    bench_record *r =
        bench_add_record(b, "spawn", variant, batch, b->threads, &m[WEFT], "tasks/s", kind_names[k], &m[k], goal);
    if (!r) return NULL;
    if (k != PTHREAD && !m[WEFT].verified) b->failures--; /* weft counts once, in the pthread row */
    if (aim && batch == 1) snprintf(r->target, sizeof r->target, "spawn+join %s (one at a time)", aim);
    else if (aim) snprintf(r->target, sizeof r->target, "spawn+join %s (batch of %zu)", aim, batch);
    return r;
}

/* One interleaved set of weft and every baseline, in one shape. */
static void measure(bench_ctx *b, const char *variant, struct spawn_ctx ctx[NKINDS], const char *tbb_about)
{
    char label[32];
    snprintf(label, sizeof label, "spawn/%s", variant);
    size_t batch = ctx[WEFT].batch;
    bench_case cs[NKINDS];
    int n = 0, at[NKINDS];
    for (int k = 0; k < NKINDS; k++) {
        if (k == TBB && !ctx[TBB].tbb) continue;
        at[k] = n;
        cs[n++] = (bench_case){kind_names[k], bodies[k], &ctx[k], (double)batch, NULL};
    }
    bench_measure got[NKINDS], m[NKINDS];
    bench_measure_set(b, label, cs, n, got);
    for (int k = 0; k < NKINDS; k++) m[k] = k == TBB && !ctx[TBB].tbb ? bench_missing_measure() : got[at[k]];

    add(b, variant, batch, m, PTHREAD, SPAWN_GOAL, ">= 20x cheaper than pthread_create+join");
    bench_record *r = batch == 1 ? add(b, variant, batch, m, TBB, TBB_LOOP_GOAL, "within 1.5x of oneTBB task_group")
                                 : add(b, variant, batch, m, TBB, TBB_BATCH_GOAL, "no slower than oneTBB task_group");
    if (r) {
        r->goal_kind = 't';
        r->switches_goal = BENCH_SWITCHES_GOAL;
        snprintf(r->note, sizeof r->note, "%s%s",
                 ctx[TBB].tbb ? "tbb::task_group run + wait inside task_arena::execute: " : "", tbb_about);
    }
    r = add(b, variant, batch, m, OMP, 0, NULL);
    if (r)
        snprintf(r->note, sizeof r->note,
                 "omp task + taskwait inside omp single, in a parallel region of %d threads entered once per block",
                 b->threads);
}

static int run_spawn(bench_ctx *b)
{
    size_t batch = b->opt->size ? b->opt->size : b->opt->smoke ? 16 : DEFAULT_BATCH;
    weft_handle_t **handles = calloc(batch, sizeof *handles);
    pthread_t *pthreads = calloc(batch, sizeof *pthreads);
    uintptr_t *results = calloc(batch, sizeof *results);
    char tbb_about[256];
    bench_tbb *tbb = bench_tbb_new(b->threads, tbb_about, sizeof tbb_about);
    if (!tbb) bench_progress("spawn: no oneTBB baseline: %s", tbb_about);
    int ok = handles && pthreads && results;
    if (ok) {
        struct spawn_ctx ctx[NKINDS];
        for (int k = 0; k < NKINDS; k++)
            ctx[k] = (struct spawn_ctx){.kind = k, .rt = b->rt, .batch = 1, .threads = b->threads, .tbb = tbb,
                                        .handles = handles, .pthreads = pthreads, .results = results};
        measure(b, "loop", ctx, tbb_about);
        for (int k = 0; k < NKINDS; k++) ctx[k].batch = batch;
        measure(b, "batch", ctx, tbb_about);
    } else {
        bench_progress("spawn: out of memory for a batch of %zu", batch);
    }
    bench_tbb_free(tbb);
    free(handles);
    free(pthreads);
    free(results);
    return ok ? 0 : -1;
}

const bench_workload bench_workload_spawn = {
    .name = "spawn",
    .description = "spawn+join of an empty task (loop, and batch then join all) vs pthread_create+join, "
                   "oneTBB task_group and OpenMP tasks",
    .size_help = "tasks per batch (default 1000)",
    .run = run_spawn,
};
